//! Export and import of the options and the mapping as a versioned JSON file ([`format`]).
//!
//! Import never applies part of a file. [`parse`] reads it with errors that carry the JSON path
//! and line/column (`serde_path_to_error` over serde_json's deserializer), refusing another
//! format, a newer version, and unknown fields; a v0 draft is migrated. [`validate`] checks
//! every entry against the live Didomi configuration and HubSpot properties (unknown id,
//! missing property, incompatible type, duplicate target, ambiguous labels), checks the
//! options, warns about another portal or organization and about drift (labels or types that
//! changed since the export), and [`diff`] tells what applying would change. The facade
//! (`Core::config_*`) reads files with a size cap ([`MAX_BYTES`]) and applies only a preview the
//! user confirmed (same content hash).

pub mod format;

use serde::Serialize;
use ts_rs::TS;

use crate::hubspot::models::Property;
use crate::mapping::check::{check_draft, row_name};
use crate::mapping::names::is_valid_name;
use crate::mapping::{DidomiItem, DidomiRow, Mapping, MappingEntry};
use crate::settings::SyncOptions;

pub use format::{
    ConfigFile, ExportEntry, ExportOptions, FORMAT, SCHEMA_FILE, SCHEMA_URL, VERSION,
};

/// Largest file read (bytes); nothing beyond is read.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// One problem of an import file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportProblem {
    /// JSON path (`mappings[2].property`; `.` = the whole file).
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// What is wrong and what to do.
    pub message: String,
}

impl ImportProblem {
    fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), line: None, column: None, message: message.into() }
    }
}

/// A mapping entry as the import preview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MappingEntryView {
    /// The entry.
    pub entry: MappingEntry,
    /// The row's path (or its ids when unknown).
    pub row: String,
    /// The property's label (its name when unknown).
    pub property_label: String,
}

/// An entry whose target or encoding changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChangedEntry {
    /// Now.
    pub before: MappingEntryView,
    /// After applying.
    pub after: MappingEntryView,
}

/// One option that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OptionChange {
    /// Option name (`upsert`, `bidirectional`, `batchSize`...).
    pub name: String,
    /// Now.
    pub before: String,
    /// After applying.
    pub after: String,
}

/// What applying would change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportDiff {
    /// Rows mapped by the file and not now.
    pub added: Vec<MappingEntryView>,
    /// Rows mapped differently.
    pub changed: Vec<ChangedEntry>,
    /// Rows mapped now and not by the file.
    pub removed: Vec<MappingEntryView>,
    /// Options that change.
    pub options: Vec<OptionChange>,
}

/// The preview of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportPreview {
    /// Hash of the file content; give it back to apply exactly this content.
    pub token: String,
    /// Format version of the file (0 = migrated draft); `None` when unreadable.
    pub file_version: Option<u32>,
    /// When the file was exported.
    pub exported_at: Option<String>,
    /// Mappings in the file.
    pub entries: u32,
    /// Things to know (another portal or organization, drift); they do not block.
    pub warnings: Vec<String>,
    /// Problems; any blocks the import.
    pub errors: Vec<ImportProblem>,
    /// What applying would change.
    pub diff: ImportDiff,
    /// `true` when there is no error.
    pub can_apply: bool,
}

/// Returned by an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ExportSummary {
    /// Where the file was written.
    pub path: String,
    /// Mappings written.
    pub entries: u32,
}

fn serde_problem(e: &serde_path_to_error::Error<serde_json::Error>) -> ImportProblem {
    let inner = e.inner();
    // serde_path_to_error writes `?` for a segment it could not name (e.g. where the JSON
    // ended); keep the named part.
    let mut path = e.path().to_string();
    while let Some(stripped) = path.strip_suffix(".?") {
        path = stripped.to_owned();
    }
    let line = u32::try_from(inner.line()).ok().filter(|l| *l > 0);
    ImportProblem {
        path: if path.is_empty() || path == "?" { ".".into() } else { path },
        line,
        // serde_json gives column 0 at the start of a line (e.g. at the end of the input).
        column: line.and(u32::try_from(inner.column()).ok().map(|c| c.max(1))),
        message: format!("{inner}. Fix the file or export it again"),
    }
}

fn deserialize<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ImportProblem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| serde_problem(&e))?;
    de.end().map_err(|e| ImportProblem {
        path: ".".into(),
        line: u32::try_from(e.line()).ok(),
        column: u32::try_from(e.column()).ok(),
        message: format!("{e}. Remove what follows the JSON object"),
    })?;
    Ok(value)
}

/// Reads a file's content: the v1 shape, or a v0 draft migrated to it. Returns the file and the
/// version it had.
///
/// # Errors
/// The problem (with line/column and JSON path where serde_json knows them).
pub fn parse(bytes: &[u8]) -> Result<(ConfigFile, u32), ImportProblem> {
    let value: serde_json::Value = deserialize(bytes).map_err(|p| ImportProblem {
        message: format!("The file is not valid JSON: {}", p.message),
        ..p
    })?;
    let Some(obj) = value.as_object() else {
        return Err(ImportProblem::at(
            ".",
            "The file is JSON but not a configuration export (expected an object). Pick a file made by Export",
        ));
    };
    let version = match obj.get("version") {
        None => {
            return Err(ImportProblem::at(
                "version",
                "The file has no \"version\": it is not a configuration export. Pick a file made by Export",
            ))
        }
        Some(v) => v.as_u64().ok_or_else(|| {
            ImportProblem::at("version", format!("\"version\" must be a whole number, found {v}"))
        })?,
    };
    if version > u64::from(VERSION) {
        return Err(ImportProblem::at(
            "version",
            format!("The file has format version {version}; this app reads up to {VERSION}. Update the app, or export again from this version"),
        ));
    }
    if version == 0 {
        let v0: format::ConfigFileV0 = deserialize(bytes)?;
        let file = v0.migrate().map_err(|(i, m)| ImportProblem::at(format!("rows[{i}]"), m))?;
        return Ok((file, 0));
    }
    match obj.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(ImportProblem::at(
                "format",
                format!("The file's format is \"{other}\", not \"{FORMAT}\". Pick a file made by this app's Export"),
            ))
        }
        None => {
            return Err(ImportProblem::at(
                "format",
                format!("The file has no \"format\" (expected \"{FORMAT}\"). Pick a file made by this app's Export"),
            ))
        }
    }
    let file: ConfigFile = deserialize(bytes)?;
    Ok((file, u32::try_from(version).unwrap_or(VERSION)))
}

/// The live context an import is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    /// The Didomi configuration.
    pub config: &'a crate::mapping::DidomiConfig,
    /// Rows of the configuration.
    pub rows: &'a [DidomiRow],
    /// Language of the rows.
    pub language: &'a str,
    /// Live HubSpot contact properties.
    pub properties: &'a [Property],
    /// Connected HubSpot portal.
    pub portal_id: Option<u64>,
    /// Connected Didomi organization.
    pub organization_id: Option<&'a str>,
}

/// What a valid file would set.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The mapping (in the file's order).
    pub mapping: Mapping,
    /// The options (`hubspotAccountId` follows the connected portal when bidirectional).
    pub options: SyncOptions,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Errors (any blocks).
    pub errors: Vec<ImportProblem>,
}

/// Checks `file` against the live schemas and turns it into settings (`current` gives what the
/// file does not carry).
pub fn validate(file: &ConfigFile, live: &Live<'_>, current: &SyncOptions) -> Validated {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    if let (Some(theirs), Some(ours)) = (file.hubspot_portal_id, live.portal_id) {
        if theirs != ours {
            warnings.push(format!(
                "The file was exported from HubSpot account {theirs}; this app is connected to {ours}. Properties are matched by internal name"
            ));
        }
    }
    if let (Some(theirs), Some(ours)) =
        (file.didomi_organization_id.as_deref(), live.organization_id)
    {
        if theirs != ours {
            warnings.push(format!(
                "The file was exported from Didomi organization \"{theirs}\"; this app is connected to \"{ours}\". Rows are matched by id"
            ));
        }
    }
    let o = &file.options;
    if !(1..=100).contains(&o.batch_size) {
        errors.push(ImportProblem::at(
            "options.batchSize",
            format!(
                "batchSize must be between 1 and 100 (HubSpot's batch limit), found {}",
                o.batch_size
            ),
        ));
    }
    for (path, name) in [
        ("options.propertyGroup", &o.property_group),
        ("options.didomiChangedProperty", &o.didomi_changed_property),
    ] {
        if !is_valid_name(name) {
            errors.push(ImportProblem::at(
                path,
                format!("\"{name}\" is not a valid HubSpot internal name (lowercase letters, digits and _, starting with a letter)"),
            ));
        }
    }
    let options = SyncOptions {
        property_group: o.property_group.clone(),
        batch_size: o.batch_size,
        upsert: o.upsert,
        bidirectional: o.bidirectional,
        hubspot_account_id: if o.bidirectional {
            live.portal_id.or(o.hubspot_account_id)
        } else {
            current.hubspot_account_id
        },
        didomi_changed_property: o.didomi_changed_property.clone(),
        conflict_winner: o.conflict_winner,
        forward_to_integrations: o.forward_to_integrations,
        // This machine's choice, not the configuration's.
        auto_sync_minutes: current.auto_sync_minutes,
    };
    let mapping = Mapping {
        entries: file
            .mappings
            .iter()
            .map(|e| MappingEntry {
                item: e.item.clone(),
                property: e.property.clone(),
                encoding: e.encoding,
            })
            .collect(),
    };
    for (i, e) in file.mappings.iter().enumerate() {
        if e.kind != e.item.kind() {
            errors.push(ImportProblem::at(
                format!("mappings[{i}].kind"),
                format!(
                    "\"kind\" says {:?} but a {} row is {:?}. Fix the kind or the item",
                    e.kind,
                    item_word(&e.item),
                    e.item.kind()
                ),
            ));
        }
    }
    for issue in check_draft(
        &mapping,
        live.config,
        live.rows,
        live.language,
        live.properties,
        &o.didomi_changed_property,
    ) {
        let i = issue.index as usize;
        let field = match issue.kind {
            crate::mapping::IssueKind::UnknownItem | crate::mapping::IssueKind::DuplicateItem => {
                "item"
            }
            crate::mapping::IssueKind::AmbiguousLabels => "encoding",
            _ => "property",
        };
        errors.push(ImportProblem::at(format!("mappings[{i}].{field}"), issue.message));
    }
    // Drift: what changed since the export, for people (not blocking).
    for (i, e) in file.mappings.iter().enumerate() {
        if let Some(p) = live.properties.iter().find(|p| p.name == e.property) {
            if !e.property_type.is_empty()
                && (p.type_ != e.property_type || p.field_type != e.property_field_type)
            {
                warnings.push(format!(
                    "mappings[{i}]: \"{}\" was {}/{} at export and is {}/{} now",
                    e.property, e.property_type, e.property_field_type, p.type_, p.field_type
                ));
            }
        }
        if let Some(r) = live.rows.iter().find(|r| r.item == e.item) {
            if !e.didomi_label.is_empty() && r.path != e.didomi_label {
                warnings.push(format!(
                    "mappings[{i}]: the Didomi row \"{}\" is now called \"{}\"",
                    e.didomi_label, r.path
                ));
            }
        }
    }
    Validated { mapping, options, warnings, errors }
}

fn item_word(item: &DidomiItem) -> &'static str {
    match item {
        DidomiItem::Purpose { .. } => "purpose",
        DidomiItem::Preference { .. } => "preference",
        DidomiItem::Value { .. } => "value",
    }
}

fn view(e: &MappingEntry, rows: &[DidomiRow], properties: &[Property]) -> MappingEntryView {
    MappingEntryView {
        entry: e.clone(),
        row: rows
            .iter()
            .find(|r| r.item == e.item)
            .map(|r| r.path.clone())
            .unwrap_or_else(|| row_name(&e.item, rows)),
        property_label: properties
            .iter()
            .find(|p| p.name == e.property)
            .map(|p| p.label.clone())
            .unwrap_or_else(|| e.property.clone()),
    }
}

/// What replacing (`current_mapping`, `current_options`) with (`mapping`, `options`) changes.
pub fn diff(
    current_mapping: &Mapping,
    current_options: &SyncOptions,
    mapping: &Mapping,
    options: &SyncOptions,
    rows: &[DidomiRow],
    properties: &[Property],
) -> ImportDiff {
    let mut d = ImportDiff::default();
    for e in &mapping.entries {
        match current_mapping.entry(&e.item) {
            None => d.added.push(view(e, rows, properties)),
            Some(before) if before != e => d.changed.push(ChangedEntry {
                before: view(before, rows, properties),
                after: view(e, rows, properties),
            }),
            Some(_) => {}
        }
    }
    for e in &current_mapping.entries {
        if mapping.entry(&e.item).is_none() {
            d.removed.push(view(e, rows, properties));
        }
    }
    let opt = |x: &Option<u64>| x.map_or_else(|| "none".to_owned(), |v| v.to_string());
    let pairs = [
        ("upsert", current_options.upsert.to_string(), options.upsert.to_string()),
        (
            "bidirectional",
            current_options.bidirectional.to_string(),
            options.bidirectional.to_string(),
        ),
        (
            "hubspotAccountId",
            opt(&current_options.hubspot_account_id),
            opt(&options.hubspot_account_id),
        ),
        ("propertyGroup", current_options.property_group.clone(), options.property_group.clone()),
        ("batchSize", current_options.batch_size.to_string(), options.batch_size.to_string()),
        (
            "didomiChangedProperty",
            current_options.didomi_changed_property.clone(),
            options.didomi_changed_property.clone(),
        ),
        (
            "conflictWinner",
            format!("{:?}", current_options.conflict_winner).to_lowercase(),
            format!("{:?}", options.conflict_winner).to_lowercase(),
        ),
        (
            "forwardToIntegrations",
            current_options.forward_to_integrations.to_string(),
            options.forward_to_integrations.to_string(),
        ),
    ];
    for (name, before, after) in pairs {
        if before != after {
            d.options.push(OptionChange { name: name.into(), before, after });
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::ValueEncoding;

    fn v1(mappings: &str) -> String {
        format!(
            r#"{{"format": "{FORMAT}", "version": 1, "exportedAt": "x", "appVersion": "0.1.0",
  "options": {{"upsert": true, "bidirectional": false, "propertyGroup": "didomi", "batchSize": 50, "didomiChangedProperty": "didomi_changed"}},
  "mappings": {mappings} }}"#
        )
    }

    #[test]
    fn parses_v1_and_reports_shape_errors_with_position() {
        let ok = v1(
            r#"[{"item": {"kind": "purpose", "purposeId": "p"}, "kind": "boolean", "property": "x"}]"#,
        );
        let (file, version) = parse(ok.as_bytes()).expect("valid file");
        assert_eq!(version, 1, "version");
        assert_eq!(file.mappings[0].encoding, ValueEncoding::Labels, "encoding defaults");
        let bad = v1(
            r#"[{"item": {"kind": "purpose", "purposeId": "p"}, "kind": "boolean", "property": 7}]"#,
        );
        let e = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.path, "mappings[0].property", "JSON path of the bad field");
        assert_eq!(e.line, Some(3), "line of the bad field: {e:?}");
        assert!(e.column.is_some_and(|c| c > 1), "column known: {e:?}");
        let typo = v1(
            r#"[{"item": {"kind": "purpose", "purposeId": "p"}, "kind": "boolean", "propertee": "x"}]"#,
        );
        let e = parse(typo.as_bytes()).unwrap_err();
        assert!(e.message.contains("propertee"), "unknown field named: {e:?}");
    }

    #[test]
    fn refuses_other_files_clearly() {
        let cases: [(&str, &str, &str); 6] = [
            ("{ not json", ".", "not valid JSON"),
            ("[1, 2]", ".", "expected an object"),
            (r#"{"hello": 1}"#, "version", "no \"version\""),
            (r#"{"version": 9, "format": "x"}"#, "version", "reads up to 1"),
            (r#"{"version": 1, "format": "other"}"#, "format", "\"other\""),
            (r#"{"version": "1"}"#, "version", "whole number"),
        ];
        for (text, path, needle) in cases {
            let e = parse(text.as_bytes()).expect_err(text);
            assert_eq!(e.path, path, "path for {text}");
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
        let e = parse(b"{\"version\": 1} trailing").unwrap_err();
        assert!(e.line.is_some(), "syntax errors carry a line: {e:?}");
    }

    #[test]
    fn migrates_v0_drafts() {
        let text = r#"{"version": 0, "portalId": 5, "organizationId": "acme", "upsert": true, "bidirectional": true,
            "rows": [ {"purpose": "p", "hubspotProperty": "a"},
                      {"purpose": "p", "preference": "f", "hubspotProperty": "b", "useIds": true},
                      {"purpose": "p", "preference": "f", "value": "v", "hubspotProperty": "c"} ] }"#;
        let (file, version) = parse(text.as_bytes()).expect("v0 reads");
        assert_eq!(version, 0, "file version reported");
        assert_eq!(file.version, VERSION, "migrated to current");
        let kinds: Vec<&str> = file.mappings.iter().map(|m| item_word(&m.item)).collect();
        assert_eq!(kinds, vec!["purpose", "preference", "value"], "rows by shape");
        assert_eq!(file.mappings[1].encoding, ValueEncoding::Ids, "useIds kept");
        assert_eq!(file.options.hubspot_account_id, Some(5), "account from the portal");
        assert_eq!(file.options.batch_size, 100, "defaults for missing options");
        let bad =
            r#"{"version": 0, "rows": [{"purpose": "p", "value": "v", "hubspotProperty": "c"}]}"#;
        let e = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.path, "rows[0]", "migration error points at the row");
        let typo = r#"{"version": 0, "rows": [{"purpose": "p", "hubspot_property": "c"}]}"#;
        assert!(
            parse(typo.as_bytes()).unwrap_err().path.starts_with("rows[0]"),
            "v0 shape errors have paths"
        );
    }

    #[test]
    fn committed_json_schema_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schema/mapping-config.schema.json");
        let generated = format::json_schema();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
            std::fs::write(&path, &generated).expect("write schema");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date: run `UPDATE_SCHEMA=1 cargo test -p dhs-core committed_json_schema` and commit it",
            path.display()
        );
        let v: serde_json::Value = serde_json::from_str(&committed).expect("schema is JSON");
        assert!(v["properties"]["mappings"].is_object(), "schema describes mappings");
    }
}
