//! Mapping screen operations of the facade: load (both schemas, the rows, the compatible
//! properties, the saved mapping and its stale entries), check, save, create a property,
//! suggest, and [`Configuration::mapping_ready`] that a sync calls before it runs.
//!
//! The live schemas are read once and cached per `Core` ([`Schemas`]); `mapping_load(true)`
//! ("Refresh") and `mapping_ready` re-read them.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use super::{lock, Configuration};
use crate::error::{Error, ErrorCode};
use crate::hubspot::models::Property;
use crate::mapping::check::{check_draft, check_stale, property_options, row_name};
use crate::mapping::names::{self, next_free};
use crate::mapping::{
    DidomiConfig, DidomiItem, DidomiRow, HubSpotPropertyOption, IssueKind, Mapping, MappingIssue,
    StaleEntry, Suggestion,
};

/// The live schemas of both systems, as last read.
#[derive(Debug, Clone)]
pub struct Schemas {
    /// The Didomi configuration.
    pub config: DidomiConfig,
    /// The language of the names ([`DidomiConfig::language`]).
    pub language: String,
    /// The rows in tree order.
    pub rows: Vec<DidomiRow>,
    /// Live (non-archived, non-sensitive) contact properties.
    pub properties: Vec<Property>,
    /// Archived contact properties.
    pub archived: Vec<Property>,
    /// HubSpot portal id (for export/import warnings).
    pub portal_id: Option<u64>,
    /// Didomi organization id.
    pub organization_id: Option<String>,
}

impl Schemas {
    /// Live and archived properties together (what [`check_stale`] wants).
    pub fn all_properties(&self) -> Vec<Property> {
        self.properties.iter().chain(self.archived.iter()).cloned().collect()
    }
}

/// Everything the mapping screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MappingView {
    /// Language of the Didomi names.
    pub language: String,
    /// Didomi rows in tree order.
    pub rows: Vec<DidomiRow>,
    /// Properties compatible with at least one row kind; custom first.
    pub properties: Vec<HubSpotPropertyOption>,
    /// The saved mapping.
    pub saved: Mapping,
    /// Saved entries that no longer hold (a sync refuses to run while any is left).
    pub stale: Vec<StaleEntry>,
}

/// What a sync gets from [`Configuration::mapping_ready`].
#[derive(Debug, Clone)]
pub struct MappingReady {
    /// The saved mapping (non-empty, nothing stale).
    pub mapping: Mapping,
    /// The schemas it was checked against (fresh).
    pub schemas: Arc<Schemas>,
}

impl Configuration {
    pub(super) fn cached_schemas(&self) -> Option<Arc<Schemas>> {
        lock(&self.schemas).clone()
    }

    fn store_schemas(&self, schemas: Arc<Schemas>) {
        *lock(&self.schemas) = Some(schemas);
    }

    /// The live schemas: cached unless `refresh` (or none cached yet).
    ///
    /// # Errors
    /// `HubSpotNotConnected` / `DidomiNotConnected` and the API errors of both systems.
    pub async fn mapping_schemas(&self, refresh: bool) -> Result<Arc<Schemas>, Error> {
        if !refresh {
            if let Some(s) = self.cached_schemas() {
                return Ok(s);
            }
        }
        let hubspot = self.conn.hubspot().await?;
        let didomi = self.conn.didomi().await?;
        let (props, archived, config) = tokio::join!(
            hubspot.list_contact_properties(),
            hubspot.list_archived_contact_properties(),
            DidomiConfig::read(&didomi),
        );
        let config = config?;
        let language = config.language();
        let settings = self.shared.settings();
        let schemas = Arc::new(Schemas {
            rows: config.rows(&language),
            config,
            language,
            properties: props?,
            archived: archived?,
            portal_id: settings.hubspot.portal_id,
            organization_id: settings.didomi.organization_id,
        });
        self.store_schemas(schemas.clone());
        Ok(schemas)
    }

    /// Loads the mapping screen: the Didomi rows, the compatible HubSpot properties, the saved
    /// mapping and its stale entries. `refresh` re-reads both schemas ("Refresh").
    ///
    /// # Errors
    /// `HubSpotNotConnected`, `DidomiNotConnected` and API errors.
    pub async fn mapping_load(&self, refresh: bool) -> Result<MappingView, Error> {
        let schemas = self.mapping_schemas(refresh).await?;
        let settings = self.shared.settings();
        let changed = &settings.options.didomi_changed_property;
        let stale = check_stale(
            &settings.mapping,
            &schemas.config,
            &schemas.all_properties(),
            &schemas.language,
            changed,
        );
        Ok(MappingView {
            language: schemas.language.clone(),
            rows: schemas.rows.clone(),
            properties: property_options(&schemas.properties, changed),
            saved: settings.mapping,
            stale,
        })
    }

    /// The problems of a draft against the schemas last loaded (loaded now if none): duplicate
    /// targets (naming the row holding the property), items mapped twice, unknown items or
    /// properties, incompatible properties, ambiguous labels. Empty = it can be saved.
    ///
    /// # Errors
    /// Loading errors only.
    pub async fn mapping_check(&self, draft: Mapping) -> Result<Vec<MappingIssue>, Error> {
        let schemas = self.mapping_schemas(false).await?;
        Ok(self.issues_of(&draft, &schemas))
    }

    pub(super) fn issues_of(&self, draft: &Mapping, schemas: &Schemas) -> Vec<MappingIssue> {
        check_draft(
            draft,
            &schemas.config,
            &schemas.rows,
            &schemas.language,
            &schemas.properties,
            &self.shared.settings().options.didomi_changed_property,
        )
    }

    /// Saves `draft` with the settings after checking it (any issue refuses the whole draft:
    /// `MappingDuplicateTarget` when a property is chosen twice, else `MappingInvalid`; nothing is
    /// saved). Entries are stored in the rows' order. Returns the saved mapping.
    ///
    /// # Errors
    /// See above, plus loading errors and `SettingsInvalid`.
    pub async fn mapping_save(&self, draft: Mapping) -> Result<Mapping, Error> {
        let schemas = self.mapping_schemas(false).await?;
        let issues = self.issues_of(&draft, &schemas);
        if !issues.is_empty() {
            return Err(issues_error(&issues));
        }
        let mapping = in_row_order(draft, &schemas.rows);
        self.shared.update_settings(|s| s.mapping = mapping.clone())?;
        tracing::info!(entries = mapping.entries.len(), "mapping saved");
        Ok(mapping)
    }

    /// "New HubSpot property…": creates a property compatible with `item` in the Didomi
    /// property group (created if missing): `bool`/`booleancheckbox` with options true/false for
    /// purposes and values, `string`/`text` for single preferences (`textarea` for multi). The
    /// name comes from the Didomi label (`didomi_…`), made unique against existing and archived
    /// names (a 409 picks the next). Nothing is mapped: the screen selects it in the row.
    ///
    /// # Errors
    /// `InvalidInput` for an item not in the configuration, loading and HubSpot errors.
    pub async fn mapping_create_property(
        &self,
        item: DidomiItem,
    ) -> Result<HubSpotPropertyOption, Error> {
        let schemas = self.mapping_schemas(false).await?;
        let row = schemas.rows.iter().find(|r| r.item == item).cloned().ok_or_else(|| {
            Error::invalid_input(format!(
                "{} is not in the Didomi configuration. Click Refresh and pick a listed row",
                row_name(&item, &schemas.rows)
            ))
        })?;
        let client = self.conn.hubspot().await?;
        let options = self.shared.settings().options;
        self.ensure_property_group(&client, &options.property_group).await?;
        let mut taken: HashSet<String> = schemas
            .properties
            .iter()
            .chain(schemas.archived.iter())
            .map(|p| p.name.clone())
            .collect();
        let base = crate::mapping::names::derive_name(&names::base_label(&row));
        let mut create = names::property_spec(&row, &options.property_group);
        let mut last_error = None;
        for _ in 0..5 {
            create.name = next_free(&base, &taken);
            let created = match client.create_contact_property(&create).await {
                // A 409 right after a dropped answer is often our own create, retried: the
                // property is exactly the one asked for, so it is used rather than a `_2` twin.
                Err(e) if e.status() == Some(409) => {
                    match client.get_contact_property(&create.name).await? {
                        Some(p) if same_spec(&p, &create) => Ok(p),
                        _ => Err(e),
                    }
                }
                other => other,
            };
            match created {
                Ok(p) => {
                    let view =
                        HubSpotPropertyOption::from_property(&p, &options.didomi_changed_property);
                    let mut updated = (*schemas).clone();
                    updated.properties.push(p);
                    self.store_schemas(Arc::new(updated));
                    tracing::info!(property = %create.name, "HubSpot property created for a mapping row");
                    return Ok(view);
                }
                Err(e) if e.status() == Some(409) => {
                    taken.insert(create.name.clone());
                    last_error = Some(e);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(last_error.map(Error::from).unwrap_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                "No free property name was found. Click Refresh and try again",
            )
        }))
    }

    /// Proposals for the rows `draft` leaves unmapped, by name similarity; only compatible,
    /// unused properties; nothing is applied.
    ///
    /// # Errors
    /// Loading errors.
    pub async fn mapping_suggest(&self, draft: Mapping) -> Result<Vec<Suggestion>, Error> {
        let schemas = self.mapping_schemas(false).await?;
        Ok(crate::mapping::suggest::suggest(
            &draft,
            &schemas.rows,
            &schemas.properties,
            &self.shared.settings().options.didomi_changed_property,
        ))
    }

    /// What a sync calls before it runs: both systems connected, the saved mapping non-empty
    /// (`MappingEmpty`) and nothing stale against freshly read schemas (`MappingStale`, naming
    /// every stale entry).
    ///
    /// # Errors
    /// See above, plus `HubSpotNotConnected`, `DidomiNotConnected` and API errors.
    pub async fn mapping_ready(&self) -> Result<MappingReady, Error> {
        let schemas = self.mapping_schemas(true).await?;
        let settings = self.shared.settings();
        if settings.mapping.is_empty() {
            return Err(Error::new(
                ErrorCode::MappingEmpty,
                "Nothing is mapped yet. Map at least one Didomi purpose, preference or value to a HubSpot property on the Mapping screen, then sync",
            ));
        }
        let stale = check_stale(
            &settings.mapping,
            &schemas.config,
            &schemas.all_properties(),
            &schemas.language,
            &settings.options.didomi_changed_property,
        );
        if !stale.is_empty() {
            let list: Vec<&str> = stale.iter().map(|s| s.message.as_str()).collect();
            return Err(Error::new(
                ErrorCode::MappingStale,
                format!(
                    "The sync cannot run: {} mapping(s) no longer hold. Fix them on the Mapping screen. {}",
                    stale.len(),
                    list.join(" · ")
                ),
            ));
        }
        Ok(MappingReady { mapping: settings.mapping, schemas })
    }
}

/// The error refusing a draft with `issues` (all of them in the message).
pub(super) fn issues_error(issues: &[MappingIssue]) -> Error {
    let code = if issues.iter().all(|i| i.kind == IssueKind::DuplicateTarget) {
        ErrorCode::MappingDuplicateTarget
    } else {
        ErrorCode::MappingInvalid
    };
    let list: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
    Error::new(code, format!("The mapping was not saved. {}", list.join(" · ")))
}

/// `mapping` with its entries in the rows' order (unknown items last, in their order).
pub(super) fn in_row_order(mut mapping: Mapping, rows: &[DidomiRow]) -> Mapping {
    let mut position = std::collections::HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        position.entry(&r.item).or_insert(i);
    }
    mapping.entries.sort_by_key(|e| position.get(&e.item).copied().unwrap_or(usize::MAX));
    mapping
}

/// `existing` is the property `asked` would create (name, label, types, group and options).
fn same_spec(existing: &Property, asked: &crate::hubspot::models::PropertyCreate) -> bool {
    let options = |o: &[crate::hubspot::models::PropertyOption]| -> Vec<(String, String)> {
        o.iter().map(|o| (o.value.clone(), o.label.clone())).collect()
    };
    existing.name == asked.name
        && existing.label == asked.label
        && existing.type_ == asked.type_
        && existing.field_type == asked.field_type
        && existing.group_name == asked.group_name
        && options(&existing.options) == options(&asked.options)
}
