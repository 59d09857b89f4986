//! A preference written to a text property: the selected values joined with `;`, as value
//! labels ([`ValueEncoding::Labels`], the default) or value ids ([`ValueEncoding::Ids`]), in the
//! preference's value order. It must parse back unambiguously for the bidirectional flow, so
//! [`ambiguity`] refuses `Labels` for a preference whose labels contain `;`, are empty, or
//! repeat (compared trimmed and case-insensitively, as [`decode_preference`] matches them).
//!
//! Decoding trims each token, ignores empty ones (`""` = nothing selected; `"a;;b"` and a
//! trailing `;` are tolerated) and matches labels exactly, then case-insensitively; ids match
//! exactly. Any other token is an error: never guessed.

use crate::mapping::model::ValueEncoding;
use crate::mapping::rows::ValueLabel;

/// The separator between values.
pub const SEPARATOR: char = ';';

/// Why a preference could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// A token of the text matches no value of the preference (decode), or a selected value id
    /// is not a value of the preference (encode).
    #[error("\"{token}\" is not a value of this preference")]
    UnknownToken {
        /// The token (decode) or value id (encode).
        token: String,
    },
    /// The encoding cannot round-trip for this preference.
    #[error("{0}")]
    Ambiguous(String),
}

/// Why `encoding` cannot round-trip for a preference with these values, if it cannot.
pub fn ambiguity(values: &[ValueLabel], encoding: ValueEncoding) -> Option<String> {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for v in values {
        let (raw, what) = match encoding {
            ValueEncoding::Labels => (v.label.as_str(), "label"),
            ValueEncoding::Ids => (v.id.as_str(), "id"),
        };
        if raw.contains(SEPARATOR) {
            return Some(format!(
                "the value {what} \"{raw}\" contains \";\", the separator, so the text could not be read back. {}",
                advice(encoding)
            ));
        }
        let key = raw.trim().to_lowercase();
        if key.is_empty() {
            return Some(format!(
                "a value has an empty {what} (id \"{}\"). {}",
                v.id,
                advice(encoding)
            ));
        }
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == key) {
            return Some(format!(
                "two values share the {what} \"{}\" (\"{other}\" and \"{raw}\"), so the text could not be read back. {}",
                raw.trim(),
                advice(encoding)
            ));
        }
        seen.push((key, raw));
    }
    None
}

fn advice(encoding: ValueEncoding) -> &'static str {
    match encoding {
        ValueEncoding::Labels => {
            "Write value ids for this preference, or rename the values in Didomi"
        }
        ValueEncoding::Ids => "Rename the value ids in Didomi",
    }
}

/// The text written for the `selected` value ids of a preference whose values are `values`.
/// Values are written in the preference's order, once each; nothing selected gives `""`.
///
/// # Errors
/// [`CodecError::Ambiguous`] when the encoding cannot round-trip for these values;
/// [`CodecError::UnknownToken`] for a selected id that is not one of `values`.
pub fn encode_preference(
    selected: &[String],
    encoding: ValueEncoding,
    values: &[ValueLabel],
) -> Result<String, CodecError> {
    if let Some(why) = ambiguity(values, encoding) {
        return Err(CodecError::Ambiguous(why));
    }
    if let Some(unknown) = selected.iter().find(|id| !values.iter().any(|v| &v.id == *id)) {
        return Err(CodecError::UnknownToken { token: unknown.clone() });
    }
    let parts: Vec<&str> = values
        .iter()
        .filter(|v| selected.contains(&v.id))
        .map(|v| match encoding {
            ValueEncoding::Labels => v.label.trim(),
            ValueEncoding::Ids => v.id.trim(),
        })
        .collect();
    Ok(parts.join(";"))
}

/// The value ids a text written by [`encode_preference`] (or typed by a person) stands for,
/// in the text's order, once each.
///
/// # Errors
/// [`CodecError::UnknownToken`] naming the first token that matches no value;
/// [`CodecError::Ambiguous`] when the encoding cannot round-trip for these values.
pub fn decode_preference(
    text: &str,
    encoding: ValueEncoding,
    values: &[ValueLabel],
) -> Result<Vec<String>, CodecError> {
    if let Some(why) = ambiguity(values, encoding) {
        return Err(CodecError::Ambiguous(why));
    }
    let mut out: Vec<String> = Vec::new();
    for token in text.split(SEPARATOR).map(str::trim).filter(|t| !t.is_empty()) {
        let found = match encoding {
            ValueEncoding::Ids => values.iter().find(|v| v.id.trim() == token),
            ValueEncoding::Labels => {
                values.iter().find(|v| v.label.trim() == token).or_else(|| {
                    values.iter().find(|v| v.label.trim().to_lowercase() == token.to_lowercase())
                })
            }
        };
        let Some(v) = found else {
            return Err(CodecError::UnknownToken { token: token.to_owned() });
        };
        if !out.contains(&v.id) {
            out.push(v.id.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, &str)]) -> Vec<ValueLabel> {
        pairs
            .iter()
            .map(|(id, label)| ValueLabel { id: (*id).into(), label: (*label).into() })
            .collect()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn round_trips_in_both_encodings() {
        let v = vals(&[("sports-1", "Sports"), ("travel-2", "Travel"), ("news-3", "Product news")]);
        for enc in [ValueEncoding::Labels, ValueEncoding::Ids] {
            for sel in [
                vec![],
                ids(&["travel-2"]),
                ids(&["news-3", "sports-1"]),
                ids(&["sports-1", "travel-2", "news-3"]),
            ] {
                let text = encode_preference(&sel, enc, &v).expect("encodes");
                let mut back = decode_preference(&text, enc, &v).expect("decodes");
                back.sort();
                let mut want = sel.clone();
                want.sort();
                assert_eq!(back, want, "{enc:?} round trip of {sel:?} via {text:?}");
            }
        }
        assert_eq!(
            encode_preference(&ids(&["news-3", "sports-1"]), ValueEncoding::Labels, &v).unwrap(),
            "Sports;Product news",
            "labels in the preference's order, no spaces"
        );
        assert_eq!(
            encode_preference(&ids(&["travel-2"]), ValueEncoding::Ids, &v).unwrap(),
            "travel-2",
            "ids"
        );
        assert_eq!(
            encode_preference(&[], ValueEncoding::Labels, &v).unwrap(),
            "",
            "nothing selected"
        );
    }

    #[test]
    fn decoding_tolerates_spacing_and_case_but_not_strangers() {
        let v = vals(&[("a", "Sports"), ("b", "Travel")]);
        assert_eq!(
            decode_preference(" travel ; Sports;;", ValueEncoding::Labels, &v).unwrap(),
            ids(&["b", "a"]),
            "trimmed, case-insensitive, empty tokens ignored"
        );
        assert_eq!(
            decode_preference("Sports;Sports", ValueEncoding::Labels, &v).unwrap(),
            ids(&["a"]),
            "a repeated token counts once"
        );
        assert_eq!(
            decode_preference("Sports;Golf", ValueEncoding::Labels, &v),
            Err(CodecError::UnknownToken { token: "Golf".into() }),
            "unknown label named"
        );
        assert_eq!(
            decode_preference("A", ValueEncoding::Ids, &v),
            Err(CodecError::UnknownToken { token: "A".into() }),
            "ids match exactly"
        );
        assert_eq!(
            encode_preference(&ids(&["zzz"]), ValueEncoding::Ids, &v),
            Err(CodecError::UnknownToken { token: "zzz".into() }),
            "an unknown selected id is refused"
        );
    }

    #[test]
    fn ambiguous_labels_are_refused_for_labels_only() {
        let semicolon = vals(&[("a", "Sports; outdoor"), ("b", "Travel")]);
        let dup = vals(&[("a", "News"), ("b", " news ")]);
        let empty = vals(&[("a", " "), ("b", "x")]);
        for v in [&semicolon, &dup, &empty] {
            let why = ambiguity(v, ValueEncoding::Labels).expect("ambiguous");
            assert!(why.contains("value ids"), "message says what to do: {why}");
            assert!(
                matches!(
                    encode_preference(&ids(&["a"]), ValueEncoding::Labels, v),
                    Err(CodecError::Ambiguous(_))
                ),
                "encode refuses {v:?}"
            );
            assert!(
                matches!(
                    decode_preference("x", ValueEncoding::Labels, v),
                    Err(CodecError::Ambiguous(_))
                ),
                "decode refuses {v:?}"
            );
            assert!(ambiguity(v, ValueEncoding::Ids).is_none(), "ids still work for {v:?}");
        }
        assert!(
            ambiguity(&semicolon, ValueEncoding::Labels).unwrap().contains("\"Sports; outdoor\""),
            "the label is named"
        );
        let bad_ids = vals(&[("a;b", "A")]);
        assert!(ambiguity(&bad_ids, ValueEncoding::Ids).is_some(), "ids with ; are refused too");
    }
}
