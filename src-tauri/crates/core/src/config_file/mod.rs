//! Export and import of the options and the mapping as a versioned JSON file ([`mod@format`]).
//!
//! Import never applies part of a file. [`parse`] reads it with errors that carry the JSON path
//! and line/column (`serde_path_to_error` over serde_json's deserializer), refusing another
//! format, a newer version, and unknown fields; a v0 draft is migrated. [`validate`] checks
//! every entry against the live Didomi configuration and HubSpot properties (unknown id,
//! missing property, incompatible type, duplicate target, ambiguous labels), checks the
//! options, warns about another portal or organization and about drift (labels or types that
//! changed since the export), and [`diff`] tells what applying would change. The facade
//! (`Configuration::config_*`) reads files with a size cap ([`MAX_BYTES`]) and applies only a preview the
//! user confirmed (same content hash).

pub mod format;

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use ts_rs::TS;

use crate::hubspot::models::Property;
use crate::mapping::check::{check_draft, item_name, rows_by_item};
use crate::mapping::names::is_valid_name;
use crate::mapping::{DidomiItem, DidomiRow, Mapping, MappingEntry};
use crate::settings::SyncOptions;
use crate::text::quote;

pub use format::{
    ConfigFile, ExportEntry, ExportOptions, FORMAT, SCHEMA_FILE, SCHEMA_URL, VERSION,
};

/// Largest file read (bytes); nothing beyond is read.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// A configuration file read by [`read_capped`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capped {
    /// The whole file (at most [`MAX_BYTES`]).
    Whole(Vec<u8>),
    /// The file is larger than [`MAX_BYTES`]: its first `MAX_BYTES + 1` bytes, nothing more.
    TooLarge(Vec<u8>),
}

/// What a path is when it is not a regular file, in words.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Reads a configuration file the one way every reader uses (`config import`, the app's import,
/// `sync push --config`): only a regular file (a symlink to one is fine) is opened — a named
/// pipe would block the open or the read forever and a device such as `/dev/zero` never ends —
/// and at most [`MAX_BYTES`] + 1 bytes are read.
///
/// The kind is checked before opening (opening a FIFO blocks until a writer comes) and again
/// on the opened file (in case the path was replaced in between).
///
/// # Errors
/// A message naming the path, what is wrong and what to do.
pub fn read_capped(path: &std::path::Path) -> Result<Capped, String> {
    use std::io::Read;
    let not_regular = |meta: &std::fs::Metadata| {
        format!(
            "{} is {}, not a regular file. Pick the JSON file made by Export",
            path.display(),
            file_kind(meta)
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        format!(
            "The file {} cannot be opened: {e}. Check the path and its permissions",
            path.display()
        )
    })?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let file = std::fs::File::open(path).map_err(|e| {
        format!(
            "The file {} cannot be opened: {e}. Check the path and its permissions",
            path.display()
        )
    })?;
    let meta =
        file.metadata().map_err(|e| format!("The file {} cannot be read: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("The file {} cannot be read: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Ok(Capped::TooLarge(bytes));
    }
    Ok(Capped::Whole(bytes))
}

/// The message of a file over [`MAX_BYTES`].
pub fn too_large_message() -> String {
    format!(
        "The file is larger than {} MB, far more than any configuration export; it was not read further. Pick the file made by Export",
        MAX_BYTES / (1024 * 1024)
    )
}

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
        message: format!("{}. Fix the file or export it again", quote_message(&inner.to_string())),
    }
}

/// A parser's message, which may quote the file (`unknown field `…``, `invalid type: string
/// "…"`): control and bidirectional characters escaped, and at most a few quoted lengths.
fn quote_message(m: &str) -> String {
    let mut out = String::new();
    let mut rest = m;
    // `quote` shortens to 80 characters; a message holds a few quoted parts at most.
    while !rest.is_empty() && out.chars().count() < 240 {
        let take: String = rest.chars().take(80).collect();
        rest = &rest[take.len()..];
        out.push_str(quote(&take).trim_end_matches('…'));
    }
    if !rest.is_empty() {
        out.push('…');
    }
    out
}

fn deserialize<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ImportProblem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| serde_problem(&e))?;
    de.end().map_err(|e| ImportProblem {
        path: ".".into(),
        line: u32::try_from(e.line()).ok(),
        column: u32::try_from(e.column()).ok(),
        message: format!("{}. Remove what follows the JSON object", quote_message(&e.to_string())),
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
            ImportProblem::at(
                "version",
                format!("\"version\" must be a whole number, found {}", quote(&v.to_string())),
            )
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
                format!("The file's format is \"{}\", not \"{FORMAT}\". Pick a file made by this app's Export", quote(other)),
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
    let mut warnings = origin_warnings(file, live);
    let mut errors = option_errors(&file.options);
    let options = imported_options(&file.options, live, current);
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
    errors.extend(mapping_errors(file, &mapping, live));
    warnings.extend(drift_warnings(file, live));
    Validated { mapping, options, warnings, errors }
}

/// The file comes from another HubSpot account or Didomi organization (not blocking: rows and
/// properties are matched by id and internal name).
fn origin_warnings(file: &ConfigFile, live: &Live<'_>) -> Vec<String> {
    let mut warnings = Vec::new();
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
                "The file was exported from Didomi organization \"{}\"; this app is connected to \"{ours}\". Rows are matched by id",
                quote(theirs)
            ));
        }
    }
    warnings
}

/// Options HubSpot would refuse: a batch size out of 1–100, names that are not internal names.
fn option_errors(o: &ExportOptions) -> Vec<ImportProblem> {
    let mut errors = Vec::new();
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
                format!("\"{}\" is not a valid HubSpot internal name (lowercase letters, digits and _, starting with a letter)", quote(name)),
            ));
        }
    }
    errors
}

/// The options the import applies: the file's, except what belongs to this machine or account.
fn imported_options(o: &ExportOptions, live: &Live<'_>, current: &SyncOptions) -> SyncOptions {
    SyncOptions {
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
    }
}

/// Rows whose `kind` contradicts their item, and every issue the Mapping screen's own check
/// finds against the live schemas, each at its path in the file.
fn mapping_errors(file: &ConfigFile, mapping: &Mapping, live: &Live<'_>) -> Vec<ImportProblem> {
    let mut errors = Vec::new();
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
    let issues = check_draft(
        mapping,
        live.config,
        live.rows,
        live.language,
        live.properties,
        &file.options.didomi_changed_property,
    );
    for issue in issues {
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
    errors
}

/// Drift: what changed since the export, for people (not blocking). File text is quoted.
fn drift_warnings(file: &ConfigFile, live: &Live<'_>) -> Vec<String> {
    let mut warnings = Vec::new();
    let props_by_name: HashMap<&str, &Property> =
        live.properties.iter().map(|p| (p.name.as_str(), p)).collect();
    let by_item = rows_by_item(live.rows);
    for (i, e) in file.mappings.iter().enumerate() {
        if let Some(p) = props_by_name.get(e.property.as_str()) {
            if !e.property_type.is_empty()
                && (p.type_ != e.property_type || p.field_type != e.property_field_type)
            {
                warnings.push(format!(
                    "mappings[{i}]: \"{}\" was {}/{} at export and is {}/{} now",
                    quote(&e.property),
                    quote(&e.property_type),
                    quote(&e.property_field_type),
                    p.type_,
                    p.field_type
                ));
            }
        }
        if let Some(r) = by_item.get(&e.item) {
            if !e.didomi_label.is_empty() && r.path != e.didomi_label {
                warnings.push(format!(
                    "mappings[{i}]: the Didomi row \"{}\" is now called \"{}\"",
                    quote(&e.didomi_label),
                    r.path
                ));
            }
        }
    }
    warnings
}

fn item_word(item: &DidomiItem) -> &'static str {
    match item {
        DidomiItem::Purpose { .. } => "purpose",
        DidomiItem::Preference { .. } => "preference",
        DidomiItem::Value { .. } => "value",
    }
}

/// Rows and properties indexed for [`diff`]'s views.
struct Index<'a> {
    rows: HashMap<&'a DidomiItem, &'a DidomiRow>,
    properties: HashMap<&'a str, &'a Property>,
}

impl Index<'_> {
    fn view(&self, e: &MappingEntry) -> MappingEntryView {
        let row = self.rows.get(&e.item).copied();
        MappingEntryView {
            entry: e.clone(),
            row: row.map(|r| r.path.clone()).unwrap_or_else(|| item_name(&e.item, None)),
            property_label: self
                .properties
                .get(e.property.as_str())
                .map(|p| p.label.clone())
                .unwrap_or_else(|| e.property.clone()),
        }
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
    let index = Index {
        rows: rows_by_item(rows),
        properties: properties.iter().map(|p| (p.name.as_str(), p)).collect(),
    };
    let current: HashMap<&DidomiItem, &MappingEntry> =
        current_mapping.entries.iter().rev().map(|e| (&e.item, e)).collect();
    let next: HashSet<&DidomiItem> = mapping.entries.iter().map(|e| &e.item).collect();
    let mut d = ImportDiff::default();
    for e in &mapping.entries {
        match current.get(&e.item) {
            None => d.added.push(index.view(e)),
            Some(before) if *before != e => {
                d.changed.push(ChangedEntry { before: index.view(before), after: index.view(e) })
            }
            Some(_) => {}
        }
    }
    for e in &current_mapping.entries {
        if !next.contains(&e.item) {
            d.removed.push(index.view(e));
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

    fn prop(name: &str) -> Property {
        Property {
            name: name.into(),
            label: name.to_uppercase(),
            type_: "bool".into(),
            field_type: "booleancheckbox".into(),
            options: ["true", "false"]
                .iter()
                .map(|v| crate::hubspot::models::property::PropertyOption {
                    label: (*v).into(),
                    value: (*v).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn live<'a>(
        config: &'a crate::mapping::DidomiConfig,
        rows: &'a [DidomiRow],
        properties: &'a [Property],
        organization_id: Option<&'a str>,
    ) -> Live<'a> {
        Live { config, rows, language: "en", properties, portal_id: None, organization_id }
    }

    /// A v1 file with `n` mappings: distinct purposes (two of them real), targets cycling over
    /// `props` properties, every entry with labels and types that drifted.
    fn big_file(n: usize, props: usize, label: &str) -> String {
        let mut m = Vec::with_capacity(n);
        for i in 0..n {
            let purpose = match i {
                0 => "newsletter".to_owned(),
                1 => "analytics".to_owned(),
                _ => format!("p{i}"),
            };
            m.push(serde_json::json!({
                "item": {"kind": "purpose", "purposeId": purpose}, "kind": "boolean",
                "property": format!("prop_{}", i % props), "didomiLabel": label,
                "propertyLabel": "x", "propertyType": "string", "propertyFieldType": "text"
            }));
        }
        v1(&serde_json::Value::Array(m).to_string())
    }

    /// Issue 10: 40,000 mappings took 19.6 s per preview (quadratic look-ups in `check_draft`,
    /// the drift warnings and the diff).
    #[test]
    fn forty_thousand_mappings_are_checked_in_linear_time() {
        let config = crate::mapping::rows::tests::sample();
        let rows = config.rows("en");
        let properties: Vec<Property> = (0..5_000).map(|i| prop(&format!("prop_{i}"))).collect();
        let text = big_file(40_000, 5_000, "Newsletter");
        let live = live(&config, &rows, &properties, None);
        let started = std::time::Instant::now();
        let (file, _) = parse(text.as_bytes()).expect("parses");
        let v = validate(&file, &live, &SyncOptions::default());
        let d = diff(&Mapping::default(), &v.options, &v.mapping, &v.options, &rows, &properties);
        let took = started.elapsed();
        eprintln!("40,000 mappings: parse + validate + diff in {took:?}");
        assert_eq!(v.errors.len(), 40_000 - 2, "every unknown purpose is an error");
        assert_eq!(d.added.len(), 40_000, "every entry is new");
        assert!(v.warnings.len() >= 40_000, "every entry drifted: {}", v.warnings.len());
        // Before issue 10 this took 29.9 s in a debug build; now about 2 s.
        assert!(took < std::time::Duration::from_secs(8), "linear time: took {took:?}");
    }

    /// Issue 10: a 4 MB label was echoed whole in a warning; bidi controls were shown raw.
    #[test]
    fn warnings_and_errors_quote_the_file_shortened_and_escaped() {
        let config = crate::mapping::rows::tests::sample();
        let rows = config.rows("en");
        let properties = vec![prop("prop_0"), prop("prop_1")];
        let label = format!("\u{202E}{}", "L".repeat(4 * 1024 * 1024));
        let live = live(&config, &rows, &properties, Some("acme"));
        let mut text = big_file(3, 2, &label);
        text = text.replace(
            r#""version": 1,"#,
            &format!(r#""version": 1, "didomiOrganizationId": "evil\u202e{}","#, "o".repeat(500)),
        );
        let (mut file, _) = parse(text.as_bytes()).expect("parses");
        file.mappings[0].property = format!("bad\u{2066}{}", "p".repeat(10_000));
        let v = validate(&file, &live, &SyncOptions::default());
        let all: Vec<&String> =
            v.warnings.iter().chain(v.errors.iter().map(|e| &e.message)).collect();
        assert!(all.len() >= 4, "warnings and errors: {all:?}");
        for m in &all {
            assert!(m.len() < 600, "shortened: {} bytes: {}…", m.len(), &m[..200.min(m.len())]);
            assert!(!m.chars().any(crate::text::needs_escape), "no raw control in {m:?}");
        }
        assert!(
            all.iter().any(|m| m.contains("\\u{202e}LLLL") && m.contains('…')),
            "the label quoted, escaped and cut: {all:?}"
        );
        assert!(
            all.iter().any(|m| m.contains("evil\\u{202e}ooo")),
            "the organization quoted: {all:?}"
        );
        assert!(all.iter().any(|m| m.contains("bad\\u{2066}ppp")), "the property: {all:?}");
        let bad = v1(&format!(
            r#"[{{"item": {{"kind": "purpose", "purposeId": "p"}}, "kind": "boolean", "property": "x", "x{}": 1}}]"#,
            "\\u202e".repeat(2)
        ));
        let e = parse(bad.as_bytes()).unwrap_err();
        assert!(e.message.contains("x\\u{202e}\\u{202e}"), "the field, escaped: {e:?}");
        assert!(!e.message.chars().any(crate::text::needs_escape), "parser message: {e:?}");
        let huge = v1(&format!(
            r#"[{{"item": {{"kind": "purpose", "purposeId": "p"}}, "kind": "boolean", "propertee{}": 1}}]"#,
            "z".repeat(100_000)
        ));
        let e = parse(huge.as_bytes()).unwrap_err();
        assert!(e.message.len() < 600, "a long unknown field is cut: {} bytes", e.message.len());
    }

    #[test]
    fn only_regular_files_are_read_and_never_beyond_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = dir.path().join("ok.json");
        std::fs::write(&ok, b"{}").expect("write");
        assert_eq!(read_capped(&ok), Ok(Capped::Whole(b"{}".to_vec())), "a regular file");
        let link = dir.path().join("link.json");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&ok, &link).expect("symlink");
            assert_eq!(read_capped(&link), Ok(Capped::Whole(b"{}".to_vec())), "a symlink to one");
        }
        let big = dir.path().join("big.json");
        let f = std::fs::File::create(&big).expect("create");
        f.set_len(MAX_BYTES * 3).expect("sparse file");
        match read_capped(&big) {
            Ok(Capped::TooLarge(b)) => assert_eq!(b.len() as u64, MAX_BYTES + 1, "cap + 1 read"),
            other => panic!("too large expected, got {:?}", other.map(|_| ())),
        }
        let e = read_capped(dir.path()).expect_err("a folder");
        assert!(e.contains("is a folder") && e.contains("Export"), "{e}");
        let e = read_capped(&dir.path().join("missing.json")).expect_err("missing");
        assert!(e.contains("cannot be opened") && e.contains("missing.json"), "{e}");
    }

    /// Issue 10: a FIFO hung `config import` and `sync push --config`; `/dev/zero` was read
    /// until memory ran out.
    #[cfg(unix)]
    #[test]
    fn a_fifo_and_a_device_are_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success(), "mkfifo");
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(read_capped(&path));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("a FIFO must not block the reader");
        let e = got.expect_err("a FIFO is refused");
        assert!(e.contains("named pipe") && e.contains("pipe.json"), "{e}");
        let e = read_capped(std::path::Path::new("/dev/zero")).expect_err("a device");
        assert!(e.contains("/dev/zero is a device"), "{e}");
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
