//! The seeded property set of a portal: HubSpot's standard contact properties (about 200, from
//! `standard_properties.psv`) and a custom group with one property of every field type, so later
//! features can test their property-compatibility rules against realistic definitions.
//!
//! Table format (`standard_properties.psv`), one property per line:
//! `name|label|type|fieldType|group|flags|options` where flags are `f` (form field),
//! `u` (unique value), `r` (read-only value), `c` (calculated), `h` (hidden) and options are
//! `;`-separated values (labels derived from them).

use super::iso;
use super::properties::{ModificationMetadata, PropOption, Property, PropertyGroup, PropertyStore};

const TABLE: &str = include_str!("standard_properties.psv");

/// Name of the custom group holding the simulator's custom properties.
pub const CUSTOM_GROUP: &str = "sim_custom_fields";

/// Standard groups: (name, label).
const GROUPS: &[(&str, &str)] = &[
    ("contactinformation", "Contact information"),
    ("emailinformation", "Email information"),
    ("analyticsinformation", "Web analytics history"),
    ("conversioninformation", "Conversion information"),
    ("sales_properties", "Sales properties"),
    ("social_media_information", "Social media information"),
    ("contact_activity", "Contact activity"),
    ("deal_information", "Deal information"),
    (CUSTOM_GROUP, "Custom fields (simulator)"),
];

fn label_of(value: &str) -> String {
    match value {
        "true" => "Yes".into(),
        "false" => "No".into(),
        v => {
            let v = v.replace('_', " ").to_lowercase();
            let mut c = v.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        }
    }
}

fn options(spec: &str) -> Vec<PropOption> {
    spec.split(';')
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, v)| PropOption {
            label: label_of(v),
            value: v.to_string(),
            hidden: false,
            display_order: i as i32,
            description: None,
        })
        .collect()
}

fn base(name: &str, label: &str, type_: &str, field_type: &str, group: &str) -> Property {
    Property {
        name: name.into(),
        label: label.into(),
        type_: type_.into(),
        field_type: field_type.into(),
        group_name: group.into(),
        description: String::new(),
        options: Vec::new(),
        display_order: -1,
        hidden: false,
        form_field: false,
        has_unique_value: false,
        calculated: false,
        external_options: false,
        hubspot_defined: false,
        archived: false,
        number_display_hint: (type_ == "number").then(|| "unformatted".into()),
        text_display_hint: None,
        date_display_hint: None,
        calculation_formula: None,
        referenced_object_type: None,
        data_sensitivity: "non_sensitive".into(),
        sensitive_data_categories: None,
        modification_metadata: ModificationMetadata {
            archivable: true,
            read_only_definition: false,
            read_only_value: false,
            read_only_options: false,
        },
        created_at: None,
        updated_at: None,
        created_user_id: None,
        updated_user_id: None,
        archived_at: None,
    }
}

/// HubSpot's standard contact properties.
pub fn standard() -> Vec<Property> {
    // Standard properties carry a fixed creation time like HubSpot's do (account creation).
    let created = iso(1_577_836_800_000);
    TABLE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split('|').collect();
            let (name, label, type_, field_type, group, flags) =
                (f[0], f[1], f[2], f[3], f[4], f[5]);
            let mut p = base(name, label, type_, field_type, group);
            p.hubspot_defined = true;
            p.display_order = i as i32;
            p.form_field = flags.contains('f');
            p.has_unique_value = flags.contains('u');
            p.calculated = flags.contains('c');
            p.hidden = flags.contains('h');
            p.modification_metadata = ModificationMetadata {
                archivable: false,
                read_only_definition: true,
                read_only_value: flags.contains('r'),
                read_only_options: type_ == "enumeration" && flags.contains('r'),
            };
            p.options = options(f.get(6).copied().unwrap_or(""));
            if type_ == "bool" && p.options.is_empty() {
                p.options = options("true;false");
            }
            if name == "hubspot_owner_id" {
                p.referenced_object_type = Some("OWNER".into());
                p.external_options = true;
            }
            if type_ == "string" {
                p.text_display_hint = Some(match (name, field_type) {
                    ("email" | "work_email", _) => "email".into(),
                    (_, "phonenumber") => "phone_number".into(),
                    (_, "textarea") => "multi_line".into(),
                    ("website", _) => "domain_name".into(),
                    _ => "unformatted_single_line".into(),
                });
            }
            if matches!(type_, "date" | "datetime") {
                p.date_display_hint = Some("absolute".into());
            }
            p.created_at = Some(created.clone());
            p.updated_at = Some(created.clone());
            p
        })
        .collect()
}

/// The custom properties of [`CUSTOM_GROUP`]: one of every field type, with the tricky cases
/// (bool checkbox, enumerations whose options are true/false or only true, Yes/No labels on
/// true/false values, multi-checkbox, sensitive, hidden, archived, calculated, unique).
pub fn custom(now_ms: i64, user_id: u64) -> Vec<Property> {
    let g = CUSTOM_GROUP;
    let mut out = Vec::new();
    let mut add = |name: &str, label: &str, type_: &str, field_type: &str, opts: &str| {
        let mut p = base(name, label, type_, field_type, g);
        p.options = options(opts);
        p.description = format!("Simulator custom property ({type_}/{field_type})");
        p.form_field = true;
        p.created_at = Some(iso(now_ms));
        p.updated_at = Some(iso(now_ms));
        p.created_user_id = Some(user_id.to_string());
        p.updated_user_id = Some(user_id.to_string());
        out.push(p);
    };
    add("sim_bool_checkbox", "Single checkbox (bool)", "bool", "booleancheckbox", "true;false");
    add(
        "sim_enum_checkbox_bool",
        "Single checkbox (enumeration)",
        "enumeration",
        "booleancheckbox",
        "true;false",
    );
    add(
        "sim_enum_true_only",
        "Enumeration with only true",
        "enumeration",
        "booleancheckbox",
        "true",
    );
    add(
        "sim_yes_no_select",
        "Yes/No dropdown (values true/false)",
        "enumeration",
        "select",
        "true;false",
    );
    add(
        "sim_yes_no_radio",
        "Yes/No radio (values true/false)",
        "enumeration",
        "radio",
        "true;false",
    );
    add(
        "sim_select_true_false_unknown",
        "Dropdown true/false/unknown",
        "enumeration",
        "select",
        "true;false;unknown",
    );
    add("sim_radio", "Radio select", "enumeration", "radio", "gold;silver;bronze");
    add("sim_select", "Dropdown select", "enumeration", "select", "small;medium;large");
    add(
        "sim_multi_checkbox",
        "Multiple checkboxes",
        "enumeration",
        "checkbox",
        "email;sms;phone;post",
    );
    add("sim_text", "Single-line text", "string", "text", "");
    add("sim_textarea", "Multi-line text", "string", "textarea", "");
    add("sim_html", "Rich text", "string", "html", "");
    add("sim_phone", "Phone number", "string", "phonenumber", "");
    add("sim_file", "File", "string", "file", "");
    add("sim_number", "Number", "number", "number", "");
    add("sim_date", "Date picker", "date", "date", "");
    add("sim_datetime", "Date and time", "datetime", "date", "");
    add("sim_calculated", "Calculated number", "number", "calculation_equation", "");
    add("sim_unique_id", "External unique id", "string", "text", "");
    add("sim_sensitive_note", "Sensitive note", "string", "textarea", "");
    add("sim_hidden", "Hidden text", "string", "text", "");
    add("sim_archived", "Archived text", "string", "text", "");
    // Labels for the Yes/No cases are already Yes/No via label_of; the "only true" one is "Yes".
    for p in &mut out {
        match p.name.as_str() {
            "sim_calculated" => {
                p.calculated = true;
                p.calculation_formula = Some("sim_number * 2".into());
                p.modification_metadata.read_only_value = true;
            }
            "sim_unique_id" => p.has_unique_value = true,
            "sim_sensitive_note" => {
                p.data_sensitivity = "sensitive".into();
                p.sensitive_data_categories = Some(vec!["HEALTH".into()]);
            }
            "sim_hidden" => p.hidden = true,
            "sim_archived" => {
                p.archived = true;
                p.archived_at = Some(iso(now_ms));
            }
            _ => {}
        }
        if p.type_ == "string" {
            p.text_display_hint = Some(match p.field_type.as_str() {
                "textarea" => "multi_line".into(),
                "phonenumber" => "phone_number".into(),
                _ => "unformatted_single_line".into(),
            });
        }
    }
    out
}

/// A property store seeded with the standard and custom properties and their groups.
pub fn seeded_store(now_ms: i64, user_id: u64) -> PropertyStore {
    let mut store = PropertyStore::default();
    for (i, (name, label)) in GROUPS.iter().enumerate() {
        store.insert_group(PropertyGroup {
            name: (*name).into(),
            label: (*label).into(),
            display_order: i as i32,
            archived: false,
        });
    }
    for p in standard().into_iter().chain(custom(now_ms, user_id)) {
        store.insert(p);
    }
    store
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hubspot::properties::check_type_pair;

    #[test]
    fn standard_set_is_large_and_consistent() {
        let std = standard();
        assert!(std.len() >= 150, "at least 150 standard properties, got {}", std.len());
        for p in std.iter().chain(custom(0, 1).iter()) {
            assert!(
                check_type_pair(&p.type_, &p.field_type).is_ok(),
                "{} has an invalid type/fieldType pair {}/{}",
                p.name,
                p.type_,
                p.field_type
            );
        }
        for name in
            ["hs_object_id", "createdate", "lastmodifieddate", "hs_email_domain", "num_notes"]
        {
            let p = std.iter().find(|p| p.name == name).expect("standard property present");
            assert!(p.read_only_value(), "{name} must be read-only");
        }
        let email = std.iter().find(|p| p.name == "email").expect("email present");
        assert!(!email.read_only_value() && email.has_unique_value, "email is writable and unique");
    }
}
