//! Export / import operations of the facade (the shell picks the paths with
//! tauri-plugin-dialog; the core reads and writes the files). See [`crate::config_file`].

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::mapping::{in_row_order, Schemas};
use super::{now_rfc3339, Configuration};
use crate::config_file::format::json_schema;
use crate::config_file::{
    diff, parse, read_capped, too_large_message, validate, Capped, ConfigFile, ExportEntry,
    ExportOptions, ExportSummary, ImportDiff, ImportPreview, ImportProblem, Live, Validated,
    FORMAT, SCHEMA_FILE, SCHEMA_URL, VERSION,
};
use crate::error::{Error, ErrorCode};
use crate::settings::Settings;

/// A file read within the cap: its bytes and hash, or why not.
enum Content {
    Ok(Vec<u8>, String),
    TooLarge(String),
}

fn hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads `path` with [`read_capped`] (regular files only, within the size cap).
fn read_file(path: &Path) -> Result<Content, Error> {
    match read_capped(path).map_err(|m| Error::new(ErrorCode::ImportInvalid, m))? {
        Capped::Whole(bytes) => {
            let h = hash(&bytes);
            Ok(Content::Ok(bytes, h))
        }
        Capped::TooLarge(bytes) => Ok(Content::TooLarge(hash(&bytes))),
    }
}

fn too_large_problem() -> ImportProblem {
    ImportProblem { path: ".".into(), line: None, column: None, message: too_large_message() }
}

/// Everything the preview and the apply compute.
struct Checked {
    token: String,
    file_version: Option<u32>,
    exported_at: Option<String>,
    entries: u32,
    validated: Option<Validated>,
    parse_error: Option<ImportProblem>,
}

impl Configuration {
    /// Writes the options and the mapping to `path` as JSON (format name and version,
    /// `$schema`, export time, app version, portal and organization ids, every mapping by
    /// stable ids with labels and types). No secret is ever written. The file is written
    /// next to `path` then renamed, so a failure leaves no half file. The JSON Schema is
    /// written beside it ([`SCHEMA_FILE`]), where the export's relative `$schema` points, so
    /// an editor checks and completes the file.
    ///
    /// # Errors
    /// `InvalidInput` when the file cannot be written.
    pub async fn config_export(&self, path: PathBuf) -> Result<ExportSummary, Error> {
        let settings = self.shared.settings();
        // Labels are for people: without a connection the ids are exported alone.
        let schemas = self.mapping_schemas(false).await.ok();
        let file = export_file(&settings, schemas.as_deref());
        let mut text = serde_json::to_string_pretty(&file).map_err(|e| {
            Error::new(ErrorCode::Internal, format!("The export could not be built: {e}"))
        })?;
        text.push('\n');
        let schema_path = path.with_file_name(SCHEMA_FILE);
        for (target, text) in [(&path, text), (&schema_path, json_schema())] {
            let tmp = target.with_extension("json.part");
            let write = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, target));
            if let Err(e) = write {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::invalid_input(format!(
                    "The export could not be written to {}: {e}. Pick a folder you can write to",
                    target.display()
                )));
            }
        }
        tracing::info!(entries = file.mappings.len(), "configuration exported");
        Ok(ExportSummary {
            path: path.display().to_string(),
            entries: u32::try_from(file.mappings.len()).unwrap_or(u32::MAX),
        })
    }

    /// Reads and checks an import file without applying anything: errors (with JSON path and
    /// line/column), warnings (another portal or organization, drift) and the diff against the
    /// current settings. `token` (the content hash) must be given back to apply.
    ///
    /// # Errors
    /// `ImportInvalid` when the file cannot be opened; connection and API errors of the live
    /// check. Problems of the content are in the preview, not errors.
    pub async fn config_import_preview(&self, path: PathBuf) -> Result<ImportPreview, Error> {
        let checked = self.check_import(&path, false).await?;
        let settings = self.shared.settings();
        let (warnings, mut errors, diff_) = match (&checked.validated, &checked.parse_error) {
            (Some(v), _) => {
                let schemas = self.mapping_schemas(false).await?;
                let d = diff(
                    &settings.mapping,
                    &settings.options,
                    &in_row_order(v.mapping.clone(), &schemas.rows),
                    &v.options,
                    &schemas.rows,
                    &schemas.properties,
                );
                (v.warnings.clone(), v.errors.clone(), d)
            }
            (None, Some(p)) => (Vec::new(), vec![p.clone()], ImportDiff::default()),
            (None, None) => (Vec::new(), Vec::new(), ImportDiff::default()),
        };
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(ImportPreview {
            token: checked.token,
            file_version: checked.file_version,
            exported_at: checked.exported_at,
            entries: checked.entries,
            warnings,
            can_apply: errors.is_empty(),
            errors,
            diff: diff_,
        })
    }

    /// Applies an import the user confirmed: re-reads and re-checks the file against freshly
    /// read schemas; refuses when its content changed since the preview (`ImportChanged`) or
    /// it has any error (`ImportInvalid` / `ImportIncompatible`, nothing applied). When the file
    /// turns the bidirectional flow on, its HubSpot setup runs first (idempotent). Then the
    /// options and the mapping replace the current ones in one settings save.
    ///
    /// # Errors
    /// See above, plus the errors of the bidirectional setup and `SettingsInvalid`.
    pub async fn config_import_apply(
        &self,
        path: PathBuf,
        token: String,
    ) -> Result<Settings, Error> {
        let checked = self.check_import(&path, true).await?;
        if checked.token != token {
            return Err(Error::new(
                ErrorCode::ImportChanged,
                "The file changed since it was previewed. Preview it again, check the changes, then apply",
            ));
        }
        if let Some(p) = checked.parse_error {
            return Err(Error::new(
                ErrorCode::ImportInvalid,
                format!("Nothing was imported: {}", describe(&p)),
            ));
        }
        let Some(v) = checked.validated else {
            return Err(Error::new(
                ErrorCode::Internal,
                "The import was not checked. Preview it again",
            ));
        };
        if !v.errors.is_empty() {
            let list: Vec<String> = v.errors.iter().map(describe).collect();
            return Err(Error::new(
                ErrorCode::ImportIncompatible,
                format!("Nothing was imported: {}", list.join(" · ")),
            ));
        }
        let schemas = self.mapping_schemas(false).await?;
        let current = self.shared.settings().options;
        if v.options.bidirectional && !current.bidirectional {
            let portal = self.shared.settings().hubspot.portal_id.unwrap_or_default();
            // Same group and property name as the file asks for: set them, run the setup, and
            // restore them if it fails (nothing of the file applied).
            self.shared.update_settings(|s| {
                s.options.property_group = v.options.property_group.clone();
                s.options.didomi_changed_property = v.options.didomi_changed_property.clone();
            })?;
            if let Err(e) = self.options_enable_bidirectional(portal.to_string()).await {
                self.shared.update_settings(|s| s.options = current.clone())?;
                return Err(e);
            }
        }
        let mapping = in_row_order(v.mapping, &schemas.rows);
        self.shared.update_settings(|s| {
            s.options = v.options.clone();
            s.mapping = mapping.clone();
        })?;
        tracing::info!(entries = mapping.entries.len(), "configuration imported");
        Ok(self.shared.settings())
    }

    async fn check_import(&self, path: &Path, fresh: bool) -> Result<Checked, Error> {
        let (bytes, token) = match read_file(path)? {
            Content::TooLarge(token) => {
                return Ok(Checked {
                    token,
                    file_version: None,
                    exported_at: None,
                    entries: 0,
                    validated: None,
                    parse_error: Some(too_large_problem()),
                })
            }
            Content::Ok(b, t) => (b, t),
        };
        let (file, version) = match parse(&bytes) {
            Ok(x) => x,
            Err(p) => {
                return Ok(Checked {
                    token,
                    file_version: None,
                    exported_at: None,
                    entries: 0,
                    validated: None,
                    parse_error: Some(p),
                })
            }
        };
        let schemas = self.mapping_schemas(fresh).await?;
        let settings = self.shared.settings();
        let live = Live {
            config: &schemas.config,
            rows: &schemas.rows,
            language: &schemas.language,
            properties: &schemas.properties,
            portal_id: settings.hubspot.portal_id,
            organization_id: settings.didomi.organization_id.as_deref(),
        };
        let validated = validate(&file, &live, &settings.options);
        Ok(Checked {
            token,
            file_version: Some(version),
            exported_at: Some(file.exported_at.clone()).filter(|s| !s.is_empty()),
            entries: u32::try_from(file.mappings.len()).unwrap_or(u32::MAX),
            validated: Some(validated),
            parse_error: None,
        })
    }
}

fn describe(p: &ImportProblem) -> String {
    match (p.line, p.column) {
        (Some(l), Some(c)) => format!("{} (line {l}, column {c}): {}", p.path, p.message),
        _ => format!("{}: {}", p.path, p.message),
    }
}

/// The export of `settings` (labels and types from `schemas` when known).
pub(super) fn export_file(settings: &Settings, schemas: Option<&Schemas>) -> ConfigFile {
    let o = &settings.options;
    ConfigFile {
        schema: Some(SCHEMA_URL.into()),
        format: FORMAT.into(),
        version: VERSION,
        exported_at: now_rfc3339(),
        app_version: env!("CARGO_PKG_VERSION").into(),
        hubspot_portal_id: settings.hubspot.portal_id,
        didomi_organization_id: settings.didomi.organization_id.clone(),
        options: ExportOptions {
            upsert: o.upsert,
            bidirectional: o.bidirectional,
            hubspot_account_id: o.hubspot_account_id,
            property_group: o.property_group.clone(),
            batch_size: o.batch_size,
            didomi_changed_property: o.didomi_changed_property.clone(),
            conflict_winner: o.conflict_winner,
            forward_to_integrations: o.forward_to_integrations,
        },
        mappings: settings
            .mapping
            .entries
            .iter()
            .map(|e| {
                let row = schemas.and_then(|s| s.rows.iter().find(|r| r.item == e.item));
                let prop = schemas.and_then(|s| {
                    s.properties.iter().chain(s.archived.iter()).find(|p| p.name == e.property)
                });
                ExportEntry {
                    item: e.item.clone(),
                    kind: e.item.kind(),
                    property: e.property.clone(),
                    encoding: e.encoding,
                    didomi_label: row.map(|r| r.path.clone()).unwrap_or_default(),
                    property_label: prop.as_ref().map(|p| p.label.clone()).unwrap_or_default(),
                    property_type: prop.as_ref().map(|p| p.type_.clone()).unwrap_or_default(),
                    property_field_type: prop
                        .as_ref()
                        .map(|p| p.field_type.clone())
                        .unwrap_or_default(),
                }
            })
            .collect(),
    }
}
