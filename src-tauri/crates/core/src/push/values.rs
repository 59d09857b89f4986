//! The HubSpot property values a Didomi user maps to, the email rule, and the fingerprint of
//! the values kept in the state database.
//!
//! Semantics (issue 5):
//! - purpose → `"true"` / `"false"` from `enabled`; `null` (or no choice) writes nothing;
//! - preference → the selected values joined with `;` (labels or ids as the entry says); a
//!   preference never answered writes nothing; an emptied one (`""`) writes `""`;
//! - value → `"true"` if selected, `"false"` if the preference is answered without it, nothing
//!   if unanswered.
//!
//! The preference encoding is written here because the mapping module's `encode_preference`
//! had not landed when the engine was written; it is the same rule.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::didomi::consents::ConsentUser;
use crate::didomi::models::Preference;
use crate::mapping::{DidomiItem, Mapping, ValueEncoding};

/// Property name → value to write. Properties with nothing to write are absent.
pub type Values = BTreeMap<String, String>;

/// Preference value labels: `(preference id, value id)` → label.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// `(preference id, value id)` → (label, position in the library's value list).
    map: HashMap<(String, String), (String, usize)>,
}

impl Labels {
    /// Labels from the preferences library in `lang` (English, else any language).
    pub fn from_preferences(prefs: &[Preference], lang: &str) -> Self {
        let mut map = HashMap::new();
        for p in prefs {
            for (i, v) in p.values.iter().enumerate() {
                map.insert((p.id.clone(), v.id.clone()), (v.name.text(lang), i));
            }
        }
        Self { map }
    }

    /// Adds one label, after the others of its preference (tests).
    pub fn insert(&mut self, preference_id: &str, value_id: &str, label: &str) {
        let next = self.map.keys().filter(|(p, _)| p == preference_id).count();
        self.map.insert((preference_id.to_owned(), value_id.to_owned()), (label.to_owned(), next));
    }

    /// Where a value stands in the library's list (unknown values last).
    fn position(&self, preference_id: &str, value_id: &str) -> usize {
        self.map
            .get(&(preference_id.to_owned(), value_id.to_owned()))
            .map_or(usize::MAX, |(_, i)| *i)
    }

    /// The label of a value; the id when the library does not know it.
    pub fn label<'a>(&'a self, preference_id: &str, value_id: &'a str) -> &'a str {
        self.map
            .get(&(preference_id.to_owned(), value_id.to_owned()))
            .map(|(l, _)| l.as_str())
            .unwrap_or(value_id)
    }
}

/// The values `user` maps to under `mapping`.
pub fn compute(user: &ConsentUser, mapping: &Mapping, labels: &Labels) -> Values {
    let mut out = Values::new();
    for entry in &mapping.entries {
        let value = match &entry.item {
            DidomiItem::Purpose { purpose_id } => {
                user.purpose(purpose_id).and_then(|p| p.enabled).map(|b| b.to_string())
            }
            DidomiItem::Preference { purpose_id, preference_id } => {
                user.purpose(purpose_id).and_then(|p| p.values.get(preference_id)).map(|choice| {
                    // The library's order, whatever order Didomi stored the choice in: the
                    // same selection always writes the same text.
                    let mut ids: Vec<&str> = choice.ids().collect();
                    ids.sort_by_key(|id| labels.position(preference_id, id));
                    let parts: Vec<&str> = ids
                        .into_iter()
                        .map(|id| match entry.encoding {
                            ValueEncoding::Ids => id,
                            ValueEncoding::Labels => labels.label(preference_id, id),
                        })
                        .collect();
                    parts.join(";")
                })
            }
            DidomiItem::Value { purpose_id, preference_id, value_id } => user
                .purpose(purpose_id)
                .and_then(|p| p.values.get(preference_id))
                .map(|choice| choice.ids().any(|id| id == value_id).to_string()),
        };
        if let Some(v) = value {
            out.insert(entry.property.clone(), v);
        }
    }
    out
}

/// The push's rule for properties the winner has no answer for: every mapped property an
/// earlier push wrote on the contact (`written`) that `values` leaves out is cleared (`""`), so
/// a consent of another user, or a withdrawn one, never stays in HubSpot.
pub fn clear_unanswered(
    values: &mut Values,
    written: Option<&Values>,
    mapped: &std::collections::HashSet<String>,
) {
    for p in written.into_iter().flat_map(|w| w.keys()) {
        if mapped.contains(p) && !values.contains_key(p) {
            values.insert(p.clone(), String::new());
        }
    }
}

/// A stable fingerprint of `values` (first 8 bytes of SHA-256 over a canonical encoding).
pub fn fingerprint(values: &Values) -> i64 {
    let mut h = Sha256::new();
    for (k, v) in values {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([1]);
    }
    let d = h.finalize();
    i64::from_be_bytes(d[..8].try_into().expect("32-byte digest"))
}

/// A person's values while they wait to be written, packed: each property as its position in
/// the run's sorted property list, every value in one string. About 0.2 KB for 25 properties,
/// where the [`Values`] map of owned names and values is about 3 KB; the push keeps thousands
/// of people ready ahead of HubSpot's windows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packed {
    /// The values, one after another.
    text: String,
    /// Per property, in name order: its position in the names, and where its value ends.
    ends: Vec<(u16, u32)>,
}

impl Packed {
    /// Packs `values`, whose every name is in `names` (sorted, without repeats); the error names
    /// a property that is not.
    pub fn pack<'a>(values: &'a Values, names: &[String]) -> Result<Self, &'a str> {
        let mut packed = Packed {
            text: String::with_capacity(values.values().map(String::len).sum()),
            ends: Vec::with_capacity(values.len()),
        };
        for (name, value) in values {
            let at = names
                .binary_search(name)
                .ok()
                .and_then(|i| u16::try_from(i).ok())
                .ok_or(name.as_str())?;
            packed.text.push_str(value);
            let end = u32::try_from(packed.text.len()).map_err(|_| name.as_str())?;
            packed.ends.push((at, end));
        }
        Ok(packed)
    }

    /// The (name, value) pairs, in name order, as [`Values`] iterates them.
    pub fn iter<'a>(&'a self, names: &'a [String]) -> impl Iterator<Item = (&'a str, &'a str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end as usize));
        self.ends.iter().zip(starts).map(|(&(at, end), start)| {
            (names[at as usize].as_str(), &self.text[start..end as usize])
        })
    }

    /// The values as a map again.
    pub fn unpack(&self, names: &[String]) -> Values {
        self.iter(names).map(|(n, v)| (n.to_owned(), v.to_owned())).collect()
    }

    /// No value at all.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The values as a map to serialize, without unpacking them.
    pub fn as_map<'a>(&'a self, names: &'a [String]) -> PackedMap<'a> {
        PackedMap { packed: self, names }
    }
}

/// [`Packed`] values seen as the map of names to values they stand for (see [`Packed::as_map`]):
/// serializes exactly as [`Packed::unpack`]'s map does.
#[derive(Debug, Clone, Copy)]
pub struct PackedMap<'a> {
    packed: &'a Packed,
    names: &'a [String],
}

impl serde::Serialize for PackedMap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.packed.iter(self.names))
    }
}

/// Normalizes an `organization_user_id` into an email, or says why it is not one.
///
/// The rule (also in the README's push section):
/// 1. surrounding whitespace is trimmed and the address is lowercased;
/// 2. at most 254 characters, exactly one `@`, a local part of 1 to 64 characters and a
///    domain of dot-separated labels (at least two, none empty, at most 63 characters each,
///    none starting or ending with `-`); the local part neither starts nor ends with a dot
///    and has no two dots in a row; domain labels hold only letters (of any script), digits
///    and `-`;
/// 3. no character that could hide, reorder or split what is shown or written: no control
///    character (NUL, tab, CR, LF...), no invisible or bidirectional formatting character
///    (U+200B–U+200F, U+2028–U+202E, U+2060–U+206F, U+FEFF, U+061C, U+00AD, U+180E,
///    U+FFF9–U+FFFB: [`crate::text::needs_escape`]), no
///    whitespace, and none of `" ( ) , : ; < > [ \ ]` (quoted local parts and address lists
///    are not accepted).
///
/// Letters outside ASCII (`josé@exemple.fr`, `用户@例子.中国`) are accepted.
pub fn normalize_email(ouid: Option<&str>) -> Result<String, &'static str> {
    let Some(raw) = ouid else {
        return Err("the Didomi user has no organization_user_id");
    };
    let e = raw.trim().to_lowercase();
    if e.is_empty() {
        return Err("the organization_user_id is empty");
    }
    if let Some(why) = e.chars().find_map(forbidden) {
        return Err(why);
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Err("the organization_user_id is not an email (no @)");
    };
    if domain.contains('@') {
        return Err("the organization_user_id is not a valid email: it has more than one @");
    }
    if e.chars().count() > 254 {
        return Err("the organization_user_id is not a valid email: longer than 254 characters");
    }
    let local_ok = (1..=64).contains(&local.chars().count())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return Err("the organization_user_id is not a valid email: the part before @ is empty, too long or has misplaced dots");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.chars().count())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err("the organization_user_id is not a valid email: the domain after @ is not a valid domain name");
    }
    Ok(e)
}

/// Why `c` may not appear in an email, if it may not.
fn forbidden(c: char) -> Option<&'static str> {
    if c.is_control() {
        return Some(
            "the organization_user_id is not a valid email: it contains a control character",
        );
    }
    if crate::text::needs_escape(c) {
        return Some("the organization_user_id is not a valid email: it contains an invisible or bidirectional formatting character");
    }
    if c.is_whitespace() {
        return Some("the organization_user_id is not a valid email: it contains a space");
    }
    if matches!(c, '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']') {
        return Some("the organization_user_id is not a valid email: it contains one of \" ( ) , : ; < > [ \\ ]");
    }
    None
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// Packing keeps every name and value, in the map's order, whatever the text (empty
        /// values, multi-byte characters, separators).
        #[test]
        fn packed_values_unpack_to_the_same_map(
            names in proptest::collection::btree_set("[a-z_]{1,12}", 1..40),
            picks in proptest::collection::vec((proptest::bool::ANY, "[ -~éß;,]{0,16}"), 40),
        ) {
            let names: Vec<String> = names.into_iter().collect();
            let values: super::Values = names
                .iter()
                .zip(&picks)
                .filter(|(_, (keep, _))| *keep)
                .map(|(n, (_, v))| (n.clone(), v.clone()))
                .collect();
            let packed = super::Packed::pack(&values, &names).expect("every name is known");
            proptest::prop_assert_eq!(packed.is_empty(), values.is_empty());
            let pairs: Vec<(&str, &str)> = packed.iter(&names).collect();
            let expected: Vec<(&str, &str)> =
                values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            proptest::prop_assert_eq!(pairs, expected);
            proptest::prop_assert_eq!(packed.unpack(&names), values.clone());
            // What HubSpot receives: the body written from the packed form is the map's.
            let sent = serde_json::to_string(&packed.as_map(&names)).expect("serializes");
            proptest::prop_assert_eq!(sent, serde_json::to_string(&values).expect("serializes"));
        }
    }

    #[test]
    fn packing_names_a_property_outside_the_list() {
        let names = vec!["a".to_owned(), "c".to_owned()];
        let values: super::Values =
            [("a", "true"), ("b", "false")].map(|(n, v)| (n.to_owned(), v.to_owned())).into();
        assert_eq!(super::Packed::pack(&values, &names), Err("b"));
    }

    use super::*;
    use crate::mapping::MappingEntry;

    fn user(json: serde_json::Value) -> ConsentUser {
        serde_json::from_value(json).expect("user parses")
    }

    fn entry(item: DidomiItem, property: &str, encoding: ValueEncoding) -> MappingEntry {
        MappingEntry { item, property: property.into(), encoding }
    }

    fn mapping() -> Mapping {
        Mapping {
            entries: vec![
                entry(
                    DidomiItem::Purpose { purpose_id: "news".into() },
                    "p_news",
                    ValueEncoding::Labels,
                ),
                entry(
                    DidomiItem::Purpose { purpose_id: "sms".into() },
                    "p_sms",
                    ValueEncoding::Labels,
                ),
                entry(
                    DidomiItem::Preference {
                        purpose_id: "news".into(),
                        preference_id: "topics".into(),
                    },
                    "topics_labels",
                    ValueEncoding::Labels,
                ),
                entry(
                    DidomiItem::Preference {
                        purpose_id: "news".into(),
                        preference_id: "freq".into(),
                    },
                    "freq_ids",
                    ValueEncoding::Ids,
                ),
                entry(
                    DidomiItem::Value {
                        purpose_id: "news".into(),
                        preference_id: "topics".into(),
                        value_id: "sports".into(),
                    },
                    "v_sports",
                    ValueEncoding::Labels,
                ),
                entry(
                    DidomiItem::Value {
                        purpose_id: "news".into(),
                        preference_id: "freq".into(),
                        value_id: "daily".into(),
                    },
                    "v_daily",
                    ValueEncoding::Labels,
                ),
            ],
        }
    }

    #[test]
    fn purposes_preferences_and_values_follow_the_rules() {
        let mut labels = Labels::default();
        labels.insert("topics", "sports", "Sports");
        labels.insert("topics", "travel", "Travel");
        let u = user(serde_json::json!({"id": "u", "consents": {"purposes": [
            {"id": "news", "enabled": true, "values": {"topics": {"value": "sports,travel"}, "freq": {"value": ""}}},
            {"id": "sms", "enabled": null}
        ]}}));
        let v = compute(&u, &mapping(), &labels);
        assert_eq!(v.get("p_news").map(String::as_str), Some("true"), "enabled → true");
        assert_eq!(v.get("p_sms"), None, "null writes nothing");
        assert_eq!(
            v.get("topics_labels").map(String::as_str),
            Some("Sports;Travel"),
            "labels joined"
        );
        assert_eq!(
            v.get("freq_ids").map(String::as_str),
            Some(""),
            "emptied preference writes \"\""
        );
        assert_eq!(v.get("v_sports").map(String::as_str), Some("true"), "selected value");
        assert_eq!(v.get("v_daily").map(String::as_str), Some("false"), "answered without it");
    }

    #[test]
    fn a_selection_is_written_in_the_library_order_whatever_didomi_stored() {
        let mut labels = Labels::default();
        labels.insert("topics", "sports", "Sports");
        labels.insert("topics", "travel", "Travel");
        let with = |v: &str| {
            let u = user(serde_json::json!({"id": "u", "consents": {"purposes": [
                {"id": "news", "enabled": true, "values": {"topics": {"value": v}}}
            ]}}));
            compute(&u, &mapping(), &labels)["topics_labels"].clone()
        };
        assert_eq!(with("travel,sports"), "Sports;Travel", "library order");
        assert_eq!(with("sports,travel"), with("travel,sports"), "one selection, one text");
        assert_eq!(with("zzz,travel,aaa"), "Travel;zzz;aaa", "unknown ids last, as stored");
    }

    #[test]
    fn unanswered_preferences_and_absent_purposes_write_nothing() {
        let u = user(serde_json::json!({"id": "u", "consents": {"purposes": [
            {"id": "news", "enabled": false}
        ]}}));
        let v = compute(&u, &mapping(), &Labels::default());
        assert_eq!(v.len(), 1, "only the purpose is written: {v:?}");
        assert_eq!(v["p_news"], "false", "disabled → false");
        let none = compute(&user(serde_json::json!({"id": "x"})), &mapping(), &Labels::default());
        assert!(none.is_empty(), "no consents: nothing to write");
    }

    #[test]
    fn ids_encoding_and_unknown_labels_fall_back_to_ids() {
        let u = user(serde_json::json!({"id": "u", "consents": {"purposes": [
            {"id": "news", "enabled": true, "values": {"topics": {"value": "music"}, "freq": {"value": "weekly"}}}
        ]}}));
        let v = compute(&u, &mapping(), &Labels::default());
        assert_eq!(v["freq_ids"], "weekly", "ids encoding");
        assert_eq!(v["topics_labels"], "music", "unknown label falls back to the id");
    }

    #[test]
    fn fingerprint_is_stable_and_sensitive() {
        let a = Values::from([("a".to_owned(), "1".to_owned()), ("b".to_owned(), "".to_owned())]);
        let mut b = a.clone();
        assert_eq!(fingerprint(&a), fingerprint(&b), "same values, same fingerprint");
        b.insert("b".into(), "x".into());
        assert_ne!(fingerprint(&a), fingerprint(&b), "a changed value changes it");
        let c = Values::from([("a".to_owned(), "1".to_owned())]);
        assert_ne!(fingerprint(&a), fingerprint(&c), "a removed property changes it");
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize_email(Some("  Jane.Doe@Example.COM ")),
            Ok("jane.doe@example.com".into()),
            "normalized"
        );
        for bad in
            ["jane at example.com", "jane@", "@x.com", "a b@x.com", "a@nodot", "a@@x.com", ""]
        {
            assert!(normalize_email(Some(bad)).is_err(), "{bad:?} is not an email");
        }
        assert!(normalize_email(None).is_err(), "missing ouid");
    }

    /// The addresses issue 10 found pushed as contact emails, and their neighbours.
    #[test]
    fn control_bidi_quote_comma_and_space_are_refused() {
        let cases = [
            ("nul\0@example.com", "control character"),
            ("a\u{7}b@example.com", "control character"),
            ("line\r\nbreak@example.com", "control character"),
            ("tab\tin@example.com", "control character"),
            ("moc.elpmaxe@\u{202E}evil.com", "bidirectional"),
            ("a\u{2066}b@example.com", "bidirectional"),
            ("zero\u{200B}width@example.com", "bidirectional"),
            ("bom\u{FEFF}@example.com", "bidirectional"),
            ("\"quoted\"@example.com", "one of"),
            ("\"a b\"@example.com", "one of"),
            ("a b@example.com", "space"),
            ("a,b@example.com", "one of"),
            ("a@example.com,b@example.com", "one of"),
            ("Jane <jane@example.com>", "space"),
            ("<jane@example.com>", "one of"),
            ("a;b@example.com", "one of"),
            ("a\\b@example.com", "one of"),
            ("a@[127.0.0.1]", "one of"),
            ("a\u{A0}b@example.com", "space"),
            ("a\u{3000}b@example.com", "space"),
            (".a@example.com", "misplaced dots"),
            ("a.@example.com", "misplaced dots"),
            ("a..b@example.com", "misplaced dots"),
            ("a@example..com", "domain"),
            ("a@-example.com", "domain"),
            ("a@example-.com", "domain"),
            ("a@.example.com", "domain"),
            ("a@example.com.", "domain"),
            ("a@ex!ample.com", "domain"),
            ("a@ex_ample.com", "domain"),
            ("a@exa'mple.com", "domain"),
            // Shrunk by the property tests below from the rule before issue 10.
            ("_\u{7f}@a.a", "control character"),
            (":@!.a", "one of"),
            ("\u{11280}@:.\u{1F300}", "one of"),
        ];
        for (bad, why) in cases {
            let e = normalize_email(Some(bad)).expect_err(bad);
            assert!(e.contains(why), "{bad:?}: expected a reason with {why:?}, got {e:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(normalize_email(Some(&long_local)).is_err(), "local part over 64");
        let long = format!("a@{}.com", "b".repeat(250));
        assert!(normalize_email(Some(&long)).is_err(), "over 254 characters");
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert!(normalize_email(Some(&long_label)).is_err(), "a label over 63");
    }

    #[test]
    fn ordinary_and_international_addresses_pass() {
        for ok in [
            "first.last+tag@example.co.uk",
            "o'brien@example.ie",
            "x_y-z%1@sub-domain.example.com",
            "josé@exemple.fr",
            "用户@例子.中国",
            "a@b.c",
        ] {
            assert_eq!(normalize_email(Some(ok)), Ok(ok.to_lowercase()), "{ok:?} is an email");
        }
    }

    /// What the rule promises of every accepted address, checked independently.
    fn acceptable(e: &str) -> bool {
        e.matches('@').count() == 1
            && e == e.trim()
            && e == e.to_lowercase()
            && !e.chars().any(|c| {
                c.is_control()
                    || c.is_whitespace()
                    || "\"(),:;<>[\\]".contains(c)
                    || ('\u{200B}'..='\u{200F}').contains(&c)
                    || ('\u{202A}'..='\u{202E}').contains(&c)
                    || ('\u{2060}'..='\u{206F}').contains(&c)
                    || c == '\u{FEFF}'
            })
            && e.split_once('@').is_some_and(|(_, d)| {
                d.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.')
            })
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn label() -> impl Strategy<Value = String> {
            "[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?"
        }

        fn email() -> impl Strategy<Value = String> {
            let local = "[a-zA-Z0-9_%+'-]{1,8}(\\.[a-zA-Z0-9_%+'-]{1,8}){0,2}";
            let domain = proptest::collection::vec(label(), 2..4).prop_map(|l| l.join("."));
            (local, domain).prop_map(|(l, d)| format!("{l}@{d}"))
        }

        fn nasty() -> impl Strategy<Value = char> {
            prop_oneof![
                Just('\0'),
                Just('\t'),
                Just('\r'),
                Just('\n'),
                Just('\u{7f}'),
                Just('\u{202E}'),
                Just('\u{202A}'),
                Just('\u{2067}'),
                Just('\u{200F}'),
                Just('\u{200B}'),
                Just('\u{FEFF}'),
                Just('\u{061C}'),
                Just('"'),
                Just(','),
                Just(' '),
                Just('<'),
                Just('>'),
                Just(';'),
                Just('\\'),
                Just('\u{A0}'),
            ]
        }

        proptest! {
            #[test]
            fn valid_addresses_normalize_to_their_trimmed_lowercase(
                e in email(),
                pad_l in "[ \t]{0,3}",
                pad_r in "[ \t\r\n]{0,3}",
            ) {
                let got = normalize_email(Some(&format!("{pad_l}{e}{pad_r}")));
                let want = e.to_lowercase();
                prop_assert_eq!(got.as_deref(), Ok(want.as_str()));
                let again = normalize_email(got.as_deref().ok());
                prop_assert_eq!(again, got, "idempotent");
            }

            #[test]
            fn a_forbidden_character_anywhere_inside_is_refused(
                e in email(),
                c in nasty(),
                at in 0usize..64,
            ) {
                let chars: Vec<char> = e.chars().collect();
                let i = 1 + at % (chars.len() - 1);
                let mut s: String = chars[..i].iter().collect();
                s.push(c);
                s.extend(&chars[i..]);
                prop_assert!(normalize_email(Some(&s)).is_err(), "{:?} accepted", s);
            }

            #[test]
            fn whatever_is_accepted_keeps_the_promise(s in "\\PC{0,12}@?\\PC{0,12}(\\.[a-z]{1,3})?") {
                if let Ok(e) = normalize_email(Some(&s)) {
                    prop_assert!(acceptable(&e), "{:?} → {:?}", s, e);
                }
            }

            #[test]
            fn arbitrary_text_never_panics_and_keeps_the_promise(s in any::<String>()) {
                if let Ok(e) = normalize_email(Some(&s)) {
                    prop_assert!(acceptable(&e), "{:?} → {:?}", s, e);
                }
            }
        }
    }
}
