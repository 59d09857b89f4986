//! Which HubSpot contact properties a Didomi row may be written to (pure functions).
//!
//! The rules (seed: "any type under Choosing options that includes true or false options";
//! hubspot-api.md §2.1–§2.4; peers-and-practice.md §1d):
//!
//! - **Boolean rows** (purposes, preference values) need a property that holds `true`/`false`:
//!   - a single checkbox `bool`/`booleancheckbox` (HubSpot's own booleans; when it lists options
//!     they must include the values `true` and `false`);
//!   - an `enumeration` with field type `booleancheckbox`, `radio`, `select` **or `checkbox`**
//!     whose option **values** include both `true` and `false` (labels do not matter: "Yes"/"No"
//!     labels on `true`/`false` values qualify; only `true` does not).
//!     Multiple checkboxes (`checkbox`) are accepted because the seed says *any* "Choosing
//!     options" type with true/false options qualifies: the app writes exactly one value (`true`
//!     or `false`), which replaces the set; when reading back (bidirectional), anything other
//!     than exactly `true` or `false` (e.g. both ticked) is not a boolean and is reported, never
//!     guessed.
//! - **Text rows** (preferences) need single-line text `string`/`text` or multi-line text
//!   `string`/`textarea`.
//! - **Never offered**, whatever the type: read-only values (`modificationMetadata.readOnlyValue`),
//!   calculated properties (`calculated` or field type `calculation_equation`), archived, hidden,
//!   sensitive (`dataSensitivity` other than `non_sensitive`), `email`, record ids
//!   (`hs_object_id`, any `hasUniqueValue` property) and the "Didomi Changed" property.

use crate::hubspot::models::Property;
use crate::mapping::model::ItemKind;

/// Why a property is never offered for any row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// `modificationMetadata.readOnlyValue`.
    ReadOnly,
    /// Calculated by HubSpot (`calculated` or `calculation_equation`).
    Calculated,
    /// Archived (deleted).
    Archived,
    /// Hidden.
    Hidden,
    /// `dataSensitivity` is `sensitive` or `highly_sensitive`.
    Sensitive,
    /// The `email` property: the matching key, never a target.
    Email,
    /// A record id: `hs_object_id` or any unique-value property.
    RecordId,
    /// The bidirectional "Didomi Changed" counter.
    DidomiChanged,
}

impl Exclusion {
    /// A short reason for people.
    pub fn describe(self) -> &'static str {
        match self {
            Exclusion::ReadOnly => "its values are read-only",
            Exclusion::Calculated => "HubSpot calculates it",
            Exclusion::Archived => "it is archived",
            Exclusion::Hidden => "it is hidden",
            Exclusion::Sensitive => "it holds sensitive data",
            Exclusion::Email => "it is the email used to match contacts",
            Exclusion::RecordId => "it is a record id (unique value)",
            Exclusion::DidomiChanged => {
                "it is the \"Didomi Changed\" counter of the bidirectional flow"
            }
        }
    }
}

/// Why a property cannot take values of some row kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incompatible {
    /// Never offered at all.
    Excluded(Exclusion),
    /// The type/field type or the options do not fit the row kind.
    WrongType {
        /// What the row needs, in words.
        needs: &'static str,
        /// What the property is, in words.
        found: String,
    },
}

impl std::fmt::Display for Incompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Incompatible::Excluded(e) => f.write_str(e.describe()),
            Incompatible::WrongType { needs, found } => {
                write!(f, "it is {found}, but the row needs {needs}")
            }
        }
    }
}

/// What a boolean row needs, in words.
pub const NEEDS_BOOLEAN: &str =
    "a \"Choosing options\" property with the option values true and false (single checkbox, dropdown, radio or checkboxes)";
/// What a text row needs, in words.
pub const NEEDS_TEXT: &str = "a single-line or multi-line text property";

/// Why `property` is never offered, if it is not (`didomi_changed` = internal name of the
/// "Didomi Changed" property).
pub fn exclusion(property: &Property, didomi_changed: &str) -> Option<Exclusion> {
    let meta_read_only = property.modification_metadata.as_ref().is_some_and(|m| m.read_only_value);
    if property.name == didomi_changed {
        Some(Exclusion::DidomiChanged)
    } else if property.name == "email" {
        Some(Exclusion::Email)
    } else if property.name == "hs_object_id" || property.has_unique_value {
        Some(Exclusion::RecordId)
    } else if property.archived {
        Some(Exclusion::Archived)
    } else if property.calculated || property.field_type == "calculation_equation" {
        Some(Exclusion::Calculated)
    } else if meta_read_only {
        Some(Exclusion::ReadOnly)
    } else if property.hidden {
        Some(Exclusion::Hidden)
    } else if property.data_sensitivity.as_deref().is_some_and(|s| s != "non_sensitive") {
        Some(Exclusion::Sensitive)
    } else {
        None
    }
}

fn has_option(property: &Property, value: &str) -> bool {
    property.options.iter().any(|o| o.value == value)
}

/// `true` when the property's type can hold `true`/`false` (exclusions aside).
pub fn holds_boolean(property: &Property) -> bool {
    let both = has_option(property, "true") && has_option(property, "false");
    match (property.type_.as_str(), property.field_type.as_str()) {
        ("bool", "booleancheckbox") => property.options.is_empty() || both,
        ("enumeration", "booleancheckbox" | "radio" | "select" | "checkbox") => both,
        _ => false,
    }
}

/// `true` when the property is single-line or multi-line text (exclusions aside).
pub fn holds_text(property: &Property) -> bool {
    property.type_ == "string" && matches!(property.field_type.as_str(), "text" | "textarea")
}

/// The property's type in words (`bool/booleancheckbox (Single checkbox)`).
pub fn describe_type(property: &Property) -> String {
    let ui = match (property.type_.as_str(), property.field_type.as_str()) {
        (_, "calculation_equation") => "Calculation",
        ("bool", "booleancheckbox") | ("enumeration", "booleancheckbox") => "Single checkbox",
        ("enumeration", "checkbox") => "Multiple checkboxes",
        ("enumeration", "select") => "Dropdown select",
        ("enumeration", "radio") => "Radio select",
        ("enumeration", "hubspot_user") => "HubSpot user",
        ("string", "text") => "Single-line text",
        ("string", "textarea") => "Multi-line text",
        ("string", "html") => "Rich text",
        ("string", "phonenumber") => "Phone number",
        ("string", "file") => "File",
        ("number", _) => "Number",
        ("date" | "datetime", _) => "Date picker",
        _ => "Other",
    };
    format!("{}/{} ({ui})", property.type_, property.field_type)
}

/// Whether rows of `kind` may be written to `property`; the reason when not.
///
/// # Errors
/// [`Incompatible`] naming the exclusion or the type mismatch.
pub fn check(
    property: &Property,
    kind: ItemKind,
    didomi_changed: &str,
) -> Result<(), Incompatible> {
    if let Some(e) = exclusion(property, didomi_changed) {
        return Err(Incompatible::Excluded(e));
    }
    let (ok, needs) = match kind {
        ItemKind::Boolean => (holds_boolean(property), NEEDS_BOOLEAN),
        ItemKind::Text => (holds_text(property), NEEDS_TEXT),
    };
    if ok {
        return Ok(());
    }
    let mut found = describe_type(property);
    if kind == ItemKind::Boolean && property.type_ == "enumeration" {
        let values: Vec<&str> = property.options.iter().map(|o| o.value.as_str()).collect();
        found.push_str(&format!(" with option values [{}]", values.join(", ")));
    }
    Err(Incompatible::WrongType { needs, found })
}

/// The row kinds that may use `property` (empty = never offered).
pub fn compatible_kinds(property: &Property, didomi_changed: &str) -> Vec<ItemKind> {
    [ItemKind::Boolean, ItemKind::Text]
        .into_iter()
        .filter(|k| check(property, *k, didomi_changed).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hubspot::models::property::{ModificationMetadata, PropertyOption};

    /// Every type/fieldType pair of the reference matrix (§2.2) plus the ones seen in the wild.
    const MATRIX: &[(&str, &str)] = &[
        ("bool", "booleancheckbox"),
        ("bool", "calculation_equation"),
        ("enumeration", "booleancheckbox"),
        ("enumeration", "checkbox"),
        ("enumeration", "radio"),
        ("enumeration", "select"),
        ("enumeration", "calculation_equation"),
        ("enumeration", "hubspot_user"),
        ("date", "date"),
        ("datetime", "date"),
        ("string", "text"),
        ("string", "textarea"),
        ("string", "html"),
        ("string", "phonenumber"),
        ("string", "file"),
        ("string", "calculation_equation"),
        ("number", "number"),
        ("number", "calculation_equation"),
        ("object_coordinates", "text"),
        ("json", "text"),
        ("phone_number", "phonenumber"),
    ];

    /// Option sets: none, true+false, Yes/No labels on true/false, only true, only false,
    /// true/false/unknown, unrelated values, labels true/false on other values.
    fn option_sets() -> Vec<(&'static str, Vec<PropertyOption>)> {
        let o = |label: &str, value: &str| PropertyOption {
            label: label.into(),
            value: value.into(),
            ..Default::default()
        };
        vec![
            ("none", vec![]),
            ("true+false", vec![o("true", "true"), o("false", "false")]),
            ("Yes/No", vec![o("Yes", "true"), o("No", "false")]),
            ("only true", vec![o("Yes", "true")]),
            ("only false", vec![o("No", "false")]),
            ("true/false/unknown", vec![o("Yes", "true"), o("No", "false"), o("?", "unknown")]),
            ("other values", vec![o("Gold", "gold"), o("Silver", "silver")]),
            ("labels only", vec![o("true", "yes"), o("false", "no")]),
        ]
    }

    fn prop(type_: &str, field_type: &str, options: Vec<PropertyOption>) -> Property {
        Property {
            name: "custom_prop".into(),
            label: "Custom".into(),
            type_: type_.into(),
            field_type: field_type.into(),
            options,
            data_sensitivity: Some("non_sensitive".into()),
            ..Default::default()
        }
    }

    /// The expected answer, written independently of the implementation as a table.
    fn expected(type_: &str, field_type: &str, set: &str) -> (bool, bool) {
        let both = matches!(set, "true+false" | "Yes/No" | "true/false/unknown");
        let boolean = match (type_, field_type) {
            ("bool", "booleancheckbox") => set == "none" || both,
            ("enumeration", "booleancheckbox" | "checkbox" | "radio" | "select") => both,
            _ => false,
        };
        let text = type_ == "string" && (field_type == "text" || field_type == "textarea");
        (boolean, text)
    }

    #[test]
    fn every_matrix_pair_and_option_set() {
        let mut checked = 0;
        for (t, f) in MATRIX {
            for (set, options) in option_sets() {
                let p = prop(t, f, options);
                let (boolean, text) = expected(t, f, set);
                assert_eq!(
                    check(&p, ItemKind::Boolean, "didomi_changed").is_ok(),
                    boolean,
                    "boolean row on {t}/{f} with options {set}"
                );
                assert_eq!(
                    check(&p, ItemKind::Text, "didomi_changed").is_ok(),
                    text,
                    "text row on {t}/{f} with options {set}"
                );
                let kinds = compatible_kinds(&p, "didomi_changed");
                assert_eq!(kinds.contains(&ItemKind::Boolean), boolean, "kinds {t}/{f} {set}");
                assert_eq!(kinds.contains(&ItemKind::Text), text, "kinds {t}/{f} {set}");
                checked += 1;
            }
        }
        assert_eq!(checked, MATRIX.len() * 8, "every combination was checked");
    }

    fn yes_no() -> Vec<PropertyOption> {
        vec![
            PropertyOption { label: "Yes".into(), value: "true".into(), ..Default::default() },
            PropertyOption { label: "No".into(), value: "false".into(), ..Default::default() },
        ]
    }

    #[test]
    fn exclusions_win_over_a_fitting_type() {
        let good_bool = || prop("bool", "booleancheckbox", yes_no());
        let good_text = || prop("string", "text", vec![]);
        let cases: Vec<(Property, Exclusion)> = vec![
            (
                Property {
                    modification_metadata: Some(ModificationMetadata {
                        read_only_value: true,
                        ..Default::default()
                    }),
                    ..good_bool()
                },
                Exclusion::ReadOnly,
            ),
            (Property { calculated: true, ..good_text() }, Exclusion::Calculated),
            (prop("bool", "calculation_equation", yes_no()), Exclusion::Calculated),
            (Property { archived: true, ..good_bool() }, Exclusion::Archived),
            (Property { hidden: true, ..good_text() }, Exclusion::Hidden),
            (
                Property { data_sensitivity: Some("sensitive".into()), ..good_text() },
                Exclusion::Sensitive,
            ),
            (
                Property { data_sensitivity: Some("highly_sensitive".into()), ..good_bool() },
                Exclusion::Sensitive,
            ),
            (Property { name: "email".into(), ..good_text() }, Exclusion::Email),
            (Property { name: "hs_object_id".into(), ..good_text() }, Exclusion::RecordId),
            (Property { has_unique_value: true, ..good_text() }, Exclusion::RecordId),
            (Property { name: "didomi_changed".into(), ..good_text() }, Exclusion::DidomiChanged),
        ];
        for (p, why) in cases {
            assert_eq!(exclusion(&p, "didomi_changed"), Some(why), "{why:?} detected");
            assert!(compatible_kinds(&p, "didomi_changed").is_empty(), "{why:?} is never offered");
            let e = check(&p, p.kind_hint(), "didomi_changed").unwrap_err();
            assert_eq!(e, Incompatible::Excluded(why), "check names the exclusion");
            assert!(!e.to_string().is_empty(), "the reason reads as text");
        }
        assert_eq!(exclusion(&good_text(), "didomi_changed"), None, "a plain text is fine");
        let renamed = Property { name: "didomi_changed".into(), ..good_text() };
        assert_eq!(exclusion(&renamed, "my_counter"), None, "the configured name decides");
    }

    #[test]
    fn edge_cases_named_in_the_issue() {
        let only_true = prop(
            "enumeration",
            "booleancheckbox",
            vec![PropertyOption {
                label: "Yes".into(),
                value: "true".into(),
                ..Default::default()
            }],
        );
        let e = check(&only_true, ItemKind::Boolean, "didomi_changed").unwrap_err();
        assert!(e.to_string().contains("[true]"), "message lists the option values: {e}");
        let yes_no_select = prop("enumeration", "select", yes_no());
        assert!(check(&yes_no_select, ItemKind::Boolean, "x").is_ok(), "Yes/No labels qualify");
        let multi = prop("enumeration", "checkbox", yes_no());
        assert!(check(&multi, ItemKind::Boolean, "x").is_ok(), "multi-checkbox with true/false");
        assert!(check(&multi, ItemKind::Text, "x").is_err(), "an enumeration is never text");
        let upper = prop(
            "enumeration",
            "select",
            vec![
                PropertyOption { label: "T".into(), value: "TRUE".into(), ..Default::default() },
                PropertyOption { label: "F".into(), value: "FALSE".into(), ..Default::default() },
            ],
        );
        assert!(
            check(&upper, ItemKind::Boolean, "x").is_err(),
            "option values must be exactly true/false: HubSpot matches values exactly"
        );
    }

    impl Property {
        fn kind_hint(&self) -> ItemKind {
            if self.type_ == "string" {
                ItemKind::Text
            } else {
                ItemKind::Boolean
            }
        }
    }
}
