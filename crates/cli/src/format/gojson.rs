//! JSON text as Go's `encoding/json` writes it: `MarshalIndent` layout with a chosen indent,
//! and HTML-sensitive characters (`<`, `>`, `&`, U+2028, U+2029) escaped as `\u003c` etc.

use serde::Serialize;
use serde_json::Serializer;
use serde_json::ser::PrettyFormatter;

/// Serializes `value` like `json.MarshalIndent(value, "", indent)`.
pub(crate) fn marshal_indent<T: Serialize + ?Sized>(value: &T, indent: &str) -> String {
    let mut buf = Vec::new();
    let formatter = PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = Serializer::with_formatter(&mut buf, formatter);
    if value.serialize(&mut ser).is_err() {
        return "null".to_string();
    }
    escape_html(&String::from_utf8_lossy(&buf))
}

/// Serializes `value` compactly like `json.Marshal` (no trailing newline).
pub(crate) fn marshal<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value)
        .map(|s| escape_html(&s))
        .unwrap_or_else(|_| "null".to_string())
}

/// Escapes the characters Go escapes inside JSON strings. They can only occur inside strings
/// in valid JSON text, so a plain replacement is exact.
pub(crate) fn escape_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indents_like_go() {
        let v = json!({"a": [1, 2], "b": {}, "c": []});
        assert_eq!(
            marshal_indent(&v, "\t"),
            "{\n\t\"a\": [\n\t\t1,\n\t\t2\n\t],\n\t\"b\": {},\n\t\"c\": []\n}"
        );
    }

    #[test]
    fn escapes_html_characters() {
        assert_eq!(marshal(&json!("<a&b>")), "\"\\u003ca\\u0026b\\u003e\"");
    }
}
