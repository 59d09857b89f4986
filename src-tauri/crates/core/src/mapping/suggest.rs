//! "Suggest": proposes a HubSpot property for each unmapped row by name similarity (never
//! applied by the core; the screen shows the proposals for the admin to accept).
//!
//! Both the property's label and internal name are compared with the row's label and with its
//! path (`Topics Sports` for a value), after transliteration to lowercase ASCII words
//! (`didomi_` prefixes dropped), with Jaro–Winkler similarity from `strsim`. Only properties
//! compatible with the row's kind and not used by the draft are candidates; each property is
//! proposed once, best pairs first; pairs under [`THRESHOLD`] are not proposed.

use serde::Serialize;
use ts_rs::TS;

use crate::hubspot::models::Property;
use crate::mapping::compat;
use crate::mapping::model::{DidomiItem, Mapping};
use crate::mapping::rows::DidomiRow;

/// Minimum similarity (0..1) of a proposal.
pub const THRESHOLD: f64 = 0.85;

/// One proposal.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Suggestion {
    /// The unmapped row.
    pub item: DidomiItem,
    /// The proposed property's internal name.
    pub property: String,
    /// Its label.
    pub property_label: String,
    /// Similarity, 0..1 (1 = same words).
    pub score: f64,
}

/// Lowercase ASCII words joined by one space, without the `didomi` prefix word.
pub fn normalize(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_lowercase();
    let words: Vec<&str> =
        ascii.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let words = match words.split_first() {
        Some((first, rest)) if *first == "didomi" && !rest.is_empty() => rest.to_vec(),
        _ => words,
    };
    words.join(" ")
}

/// Similarity of a property to a row.
pub fn score(row: &DidomiRow, property: &Property) -> f64 {
    let row_names = [normalize(&row.label), normalize(&row.path)];
    let prop_names = [normalize(&property.label), normalize(&property.name)];
    let mut best: f64 = 0.0;
    for r in &row_names {
        for p in &prop_names {
            if !r.is_empty() && !p.is_empty() {
                best = best.max(strsim::jaro_winkler(r, p));
            }
        }
    }
    best
}

/// Proposals for the rows `draft` leaves unmapped.
pub fn suggest(
    draft: &Mapping,
    rows: &[DidomiRow],
    properties: &[Property],
    didomi_changed: &str,
) -> Vec<Suggestion> {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (ri, row) in rows.iter().enumerate() {
        if draft.entry(&row.item).is_some() {
            continue;
        }
        for (pi, p) in properties.iter().enumerate() {
            if draft.entry_for_property(&p.name).is_some()
                || compat::check(p, row.kind, didomi_changed).is_err()
            {
                continue;
            }
            let s = score(row, p);
            if s >= THRESHOLD {
                pairs.push((s, ri, pi));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_rows = vec![false; rows.len()];
    let mut used_props = vec![false; properties.len()];
    let mut out = Vec::new();
    for (s, ri, pi) in pairs {
        if used_rows[ri] || used_props[pi] {
            continue;
        }
        used_rows[ri] = true;
        used_props[pi] = true;
        out.push(Suggestion {
            item: rows[ri].item.clone(),
            property: properties[pi].name.clone(),
            property_label: properties[pi].label.clone(),
            score: (s * 1000.0).round() / 1000.0,
        });
    }
    out.sort_by_key(|s| rows.iter().position(|r| r.item == s.item));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hubspot::models::property::PropertyOption;
    use crate::mapping::model::{MappingEntry, ValueEncoding};
    use crate::mapping::rows::tests::sample;

    fn boolean(name: &str, label: &str) -> Property {
        Property {
            name: name.into(),
            label: label.into(),
            type_: "bool".into(),
            field_type: "booleancheckbox".into(),
            options: ["true", "false"]
                .iter()
                .map(|v| PropertyOption {
                    label: (*v).into(),
                    value: (*v).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn text(name: &str, label: &str) -> Property {
        Property {
            name: name.into(),
            label: label.into(),
            type_: "string".into(),
            field_type: "text".into(),
            ..Default::default()
        }
    }

    #[test]
    fn proposes_similar_compatible_unused_properties() {
        let rows = sample().rows("en");
        let props = vec![
            boolean("didomi_newsletter", "Newsletter consent"),
            text("newsletter_text", "Newsletter"),
            text("topics", "Topics of interest"),
            boolean("sports_ok", "Topics: Sports"),
            boolean("analytics", "Analytics"),
            boolean("unrelated", "Zebra crossing"),
        ];
        let got = suggest(&Mapping::default(), &rows, &props, "didomi_changed");
        let pairs: Vec<(String, &str)> = got
            .iter()
            .map(|s| {
                (rows.iter().find(|r| r.item == s.item).unwrap().path.clone(), s.property.as_str())
            })
            .collect();
        assert!(
            pairs.contains(&("Newsletter".into(), "didomi_newsletter")),
            "purpose ↔ boolean by name: {pairs:?}"
        );
        assert!(
            pairs.contains(&("Newsletter › Topics".into(), "topics")),
            "preference ↔ text: {pairs:?}"
        );
        assert!(
            pairs.contains(&("Newsletter › Topics › Sports".into(), "sports_ok")),
            "value by path: {pairs:?}"
        );
        assert!(pairs.contains(&("Analytics".into(), "analytics")), "exact label: {pairs:?}");
        assert!(
            !pairs.contains(&("Newsletter".into(), "newsletter_text")),
            "a text property is never proposed for a boolean row, however similar: {pairs:?}"
        );
        assert!(!pairs.iter().any(|(_, p)| *p == "unrelated"), "dissimilar names not proposed");
        for s in &got {
            let row = rows.iter().find(|r| r.item == s.item).unwrap();
            let p = props.iter().find(|p| p.name == s.property).unwrap();
            assert!(compat::check(p, row.kind, "didomi_changed").is_ok(), "only compatible: {s:?}");
            assert!(s.score >= THRESHOLD && s.score <= 1.0, "score in range: {s:?}");
        }
        let mut props_seen: Vec<&str> = got.iter().map(|s| s.property.as_str()).collect();
        props_seen.sort();
        props_seen.dedup();
        assert_eq!(props_seen.len(), got.len(), "each property proposed once");

        let draft = Mapping {
            entries: vec![MappingEntry {
                item: rows[0].item.clone(),
                property: "analytics".into(),
                encoding: ValueEncoding::Labels,
            }],
        };
        let again = suggest(&draft, &rows, &props, "didomi_changed");
        assert!(again.iter().all(|s| s.item != rows[0].item), "mapped rows get no proposal");
        assert!(again.iter().all(|s| s.property != "analytics"), "used properties not proposed");
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize("didomi_email_frequency"), "email frequency", "prefix dropped");
        assert_eq!(normalize("Fréquence  des e-mails"), "frequence des e mails", "ascii words");
        assert_eq!(normalize("didomi"), "didomi", "a lone didomi stays");
    }
}
