//! Quoting text that came from outside (an import file, an API) inside a message for people.

/// Most characters of outside text quoted in a message.
pub const QUOTE_MAX_CHARS: usize = 80;

/// `s` made safe to show inside a message: at most [`QUOTE_MAX_CHARS`] characters (then `…`),
/// and every control, invisible or bidirectional formatting character written as `\u{…}`, so
/// that what is shown is what the text holds (a right-to-left override cannot reorder the
/// message, a newline cannot fake a second line, a 4 MB label is not echoed whole).
pub fn quote(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == QUOTE_MAX_CHARS {
            out.push('…');
            break;
        }
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Control characters and the invisible or bidirectional formatting characters.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_shortened_and_controls_are_escaped() {
        assert_eq!(quote("Newsletter"), "Newsletter", "ordinary text unchanged");
        assert_eq!(quote("évènements 日本"), "évènements 日本", "letters of any script kept");
        let long = "x".repeat(4 * 1024 * 1024);
        let q = quote(&long);
        assert_eq!(q.chars().count(), QUOTE_MAX_CHARS + 1, "80 characters and an ellipsis");
        assert!(q.ends_with('…'), "ellipsis: {q}");
        assert_eq!(quote("a\u{202E}b"), "a\\u{202e}b", "right-to-left override escaped");
        assert_eq!(quote("a\u{2066}b\u{2069}"), "a\\u{2066}b\\u{2069}", "isolates escaped");
        assert_eq!(quote("line\nfake"), "line\\u{000a}fake", "newline escaped");
        assert_eq!(quote("nul\0"), "nul\\u{0000}", "NUL escaped");
        assert_eq!(quote("zw\u{200B}sp"), "zw\\u{200b}sp", "zero width escaped");
    }
}
