//! The properties "New HubSpot property…" creates: their spec ([`property_spec`]: type, field
//! type, options, label, group) and their internal names, derived from the Didomi label,
//! lowercase `[a-z0-9_]`, starting with a letter, prefixed with [`PREFIX`], made unique against
//! the names that exist (hubspot-api.md §2.5: the rules are not documented, so the strict
//! pattern is used).

use std::collections::HashSet;

use crate::hubspot::models::property::PropertyOption;
use crate::hubspot::models::PropertyCreate;
use crate::mapping::{DidomiItem, DidomiRow, ItemKind};

/// Prefix of every property the app creates.
pub const PREFIX: &str = "didomi_";
/// Longest name produced (HubSpot does not document a limit; stay well under any).
pub const MAX_LEN: usize = 100;

/// `didomi_` + the label transliterated to ASCII (`Fréquence` → `frequence`), lowercase, every
/// run of other characters turned into one `_`, trimmed, cut at [`MAX_LEN`].
pub fn derive_name(label: &str) -> String {
    let ascii = deunicode::deunicode(label).to_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_');
    let slug = if slug.is_empty() { "property" } else { slug };
    let mut name = format!("{PREFIX}{slug}");
    name.truncate(MAX_LEN);
    name.trim_end_matches('_').to_owned()
}

/// [`derive_name`] made unique against `taken`: `name`, then `name_2`, `name_3`…
pub fn unique_name(label: &str, taken: &HashSet<String>) -> String {
    let base = derive_name(label);
    next_free(&base, taken)
}

/// `base` if free, else the first free `base_N` (N ≥ 2), cut to stay within [`MAX_LEN`].
pub fn next_free(base: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_owned();
    }
    (2u32..)
        .map(|n| {
            let suffix = format!("_{n}");
            let mut stem = base.to_owned();
            stem.truncate(MAX_LEN - suffix.len());
            format!("{stem}{suffix}")
        })
        .find(|c| !taken.contains(c))
        .unwrap_or_else(|| base.to_owned())
}

/// `true` when `name` follows the pattern the app uses: `[a-z][a-z0-9_]*`, at most
/// [`MAX_LEN`] characters.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= MAX_LEN
}

/// The label a new property's name is derived from: the row's label, with the preference's
/// label in front for a preference value.
pub fn base_label(row: &DidomiRow) -> String {
    match &row.item {
        DidomiItem::Purpose { .. } | DidomiItem::Preference { .. } => row.label.clone(),
        DidomiItem::Value { .. } => {
            format!("{} {}", row.preference_label.clone().unwrap_or_default(), row.label)
        }
    }
}

/// The HubSpot property created for `row` in `group` (its `name` left empty for the caller to
/// pick): `bool`/`booleancheckbox` with options true/false for purposes and values,
/// `string`/`text` for single preferences (`textarea` for multi), labelled with the row's path.
pub fn property_spec(row: &DidomiRow, group: &str) -> PropertyCreate {
    let mut create = PropertyCreate {
        name: String::new(),
        label: row.path.clone(),
        group_name: group.to_owned(),
        description: Some(format!("Didomi: {} (written by the Didomi ⇄ HubSpot sync)", row.path)),
        form_field: Some(true),
        ..Default::default()
    };
    match row.kind {
        ItemKind::Boolean => {
            create.type_ = "bool".into();
            create.field_type = "booleancheckbox".into();
            let option = |label: &str, value: &str, order| PropertyOption {
                label: label.into(),
                value: value.into(),
                display_order: Some(order),
                ..Default::default()
            };
            create.options = vec![option("Yes", "true", 0), option("No", "false", 1)];
        }
        ItemKind::Text => {
            create.type_ = "string".into();
            let multi = row.preference_type.as_deref() == Some("multi");
            create.field_type = if multi { "textarea" } else { "text" }.into();
        }
    }
    create
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_ascii_prefixed() {
        let cases = [
            ("Newsletter", "didomi_newsletter"),
            ("Email frequency", "didomi_email_frequency"),
            ("Fréquence des e-mails", "didomi_frequence_des_e_mails"),
            ("  Topics › Sports!! ", "didomi_topics_sports"),
            ("2024 offers", "didomi_2024_offers"),
            ("", "didomi_property"),
            ("***", "didomi_property"),
            ("日本", "didomi_ri_ben"),
        ];
        for (label, want) in cases {
            let got = derive_name(label);
            assert_eq!(got, want, "name of {label:?}");
            assert!(is_valid_name(&got), "{got} follows the pattern");
        }
        let long = derive_name(&"a".repeat(500));
        assert!(long.len() <= MAX_LEN && is_valid_name(&long), "long labels are cut: {long}");
        assert!(
            !is_valid_name("1abc") && !is_valid_name("Abc") && !is_valid_name("a-b"),
            "pattern"
        );
    }

    #[test]
    fn unique_against_existing_names() {
        let mut taken: HashSet<String> = HashSet::new();
        assert_eq!(unique_name("Newsletter", &taken), "didomi_newsletter", "free name kept");
        taken.insert("didomi_newsletter".into());
        assert_eq!(unique_name("Newsletter", &taken), "didomi_newsletter_2", "suffix 2");
        taken.insert("didomi_newsletter_2".into());
        assert_eq!(unique_name("Newsletter", &taken), "didomi_newsletter_3", "suffix 3");
        let long = derive_name(&"b".repeat(200));
        taken.insert(long.clone());
        let next = unique_name(&"b".repeat(200), &taken);
        assert!(next.ends_with("_2") && next.len() <= MAX_LEN, "suffix fits the cap: {next}");
    }
}
