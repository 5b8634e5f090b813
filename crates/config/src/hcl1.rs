//! Consul's HCL (HCL1) read through hcl-rs (HCL2), with a textual pre-pass for the one
//! HCL1 idiom HCL2 rejects: quoted attribute names inside a block body
//! (`meta { "foo.bar" = "x" }`). A quoted name that is a valid identifier becomes a bare
//! name; otherwise the enclosing unlabelled block is rewritten as an object expression
//! (`meta = { "foo.bar" = "x" }`). Block braces also get line breaks, because HCL1 accepts
//! one-line blocks (`consul { coordinate { update_period = "100ms" } }`) and HCL2 does not.
//! Shape differences (block vs. object vs. array of
//! objects) are left to [`crate::normalize`].

use serde_json::Value;

/// Parses HCL text into JSON, applying the quoted-key pre-pass first.
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    let fixed = prepass(text);
    hcl::from_str::<Value>(&fixed).map_err(|e| e.to_string())
}

/// One `{` on the brace stack.
struct Frame {
    /// True for a block body, false for an object expression (`= {`, `[{`, `,{`).
    block: bool,
    /// Byte offset of the `{`.
    open: usize,
    /// True when the block has no labels (`name {`), so it may become `name = {`.
    unlabelled: bool,
}

/// Rewrites quoted attribute names inside block bodies (see the module docs).
fn prepass(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    // (offset, bytes to delete, text to insert)
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut to_object: Vec<usize> = Vec::new();
    let mut line_start = true; // only whitespace since the last newline or `{`
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |p| p + 2);
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                i = skip_heredoc(text, i);
                line_start = true;
            }
            b'"' => {
                let end = skip_string(bytes, i);
                let in_block = stack.last().is_none_or(|f| f.block);
                if line_start && in_block && followed_by_assign(bytes, end) {
                    let key = &text[i + 1..end.saturating_sub(1)];
                    if is_identifier(key) {
                        edits.push((i, end - i, key.to_string()));
                    } else if let Some(f) = stack.last()
                        && f.unlabelled
                        && !to_object.contains(&f.open)
                    {
                        to_object.push(f.open);
                    }
                }
                line_start = false;
                i = end;
            }
            b'{' => {
                let prev = prev_significant(bytes, i);
                let block = matches!(prev, Some(p) if bytes[p].is_ascii_alphanumeric()
                    || bytes[p] == b'_' || bytes[p] == b'-' || bytes[p] == b'"');
                let unlabelled = block && prev.is_some_and(|p| bytes[p] != b'"');
                let parent_is_object = stack.last().is_some_and(|f| !f.block);
                let block = block && !parent_is_object;
                if block {
                    edits.push((i + 1, 0, "\n".to_string()));
                }
                stack.push(Frame {
                    block,
                    open: i,
                    unlabelled,
                });
                line_start = true;
                i += 1;
            }
            b'}' => {
                if stack.pop().is_some_and(|f| f.block) {
                    edits.push((i, 0, "\n".to_string()));
                    edits.push((i + 1, 0, "\n".to_string()));
                }
                line_start = false;
                i += 1;
            }
            _ => {
                line_start = false;
                i += 1;
            }
        }
    }
    for open in to_object {
        edits.push((open, 0, "= ".to_string()));
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (at, del, ins) in edits {
        out.replace_range(at..at + del, &ins);
    }
    out
}

fn skip_line(bytes: &[u8], i: usize) -> usize {
    find(bytes, i, b"\n").unwrap_or(bytes.len())
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Returns the offset just past the closing quote of the string starting at `i`.
fn skip_string(bytes: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            b'\n' => return j,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// Skips a `<<EOF` / `<<-EOF` heredoc, returning the offset after its closing marker line.
fn skip_heredoc(text: &str, i: usize) -> usize {
    let rest = &text[i + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let Some(nl) = text[i..].find('\n').map(|p| p + i + 1) else {
        return text.len();
    };
    if marker.is_empty() {
        return nl;
    }
    let mut pos = nl;
    for line in text[nl..].split_inclusive('\n') {
        pos += line.len();
        if line.trim() == marker {
            return pos;
        }
    }
    text.len()
}

fn followed_by_assign(bytes: &[u8], mut j: usize) -> bool {
    while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
        j += 1;
    }
    bytes.get(j) == Some(&b'=') && bytes.get(j + 1) != Some(&b'=')
}

fn prev_significant(bytes: &[u8], i: usize) -> Option<usize> {
    (0..i).rev().find(|&p| !bytes[p].is_ascii_whitespace())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quoted_identifier_key_becomes_bare() {
        let v = parse("acl {\n  \"enabled\" = true\n}\n").unwrap();
        assert_eq!(v, json!({"acl": {"enabled": true}}));
    }

    #[test]
    fn quoted_non_identifier_key_makes_object_expression() {
        let v = parse("node_meta {\n  \"foo.bar\" = \"x\"\n  plain = \"y\"\n}\n").unwrap();
        assert_eq!(v, json!({"node_meta": {"foo.bar": "x", "plain": "y"}}));
    }

    #[test]
    fn nested_block_with_quoted_key() {
        let text = "service {\n  name = \"web\"\n  meta {\n    \"a.b\" = \"1\"\n  }\n}\n";
        let v = parse(text).unwrap();
        assert_eq!(v, json!({"service": {"name": "web", "meta": {"a.b": "1"}}}));
    }

    #[test]
    fn object_expressions_untouched() {
        let text = "meta = {\n  \"a.b\" = \"1\"\n}\nx = \"{ \\\"q\\\" = 1 }\"\n";
        let v = parse(text).unwrap();
        assert_eq!(v, json!({"meta": {"a.b": "1"}, "x": "{ \"q\" = 1 }"}));
    }

    #[test]
    fn comments_and_heredocs_skipped() {
        let text =
            "# \"x\" = 1 {\n// {\n/* { */\nh = <<EOF\n\"k\" = {\nEOF\nports {\n  http = 1\n}\n";
        let v = parse(text).unwrap();
        assert_eq!(v, json!({"h": "\"k\" = {\n", "ports": {"http": 1}}));
    }

    #[test]
    fn repeated_blocks_become_array() {
        let v = parse("services {\n name = \"a\"\n}\nservices {\n name = \"b\"\n}\n").unwrap();
        assert_eq!(v, json!({"services": [{"name": "a"}, {"name": "b"}]}));
    }

    proptest::proptest! {
        #[test]
        fn prepass_never_panics(text in "[ -~\\n\\tµ]{0,80}") {
            let _ = parse(&text);
        }

        #[test]
        fn quoted_meta_keys_round_trip(
            keys in proptest::collection::btree_map("[a-z][a-z0-9.:/-]{0,8}", "[a-z0-9 ]{0,6}", 1..5),
        ) {
            let body: String = keys.iter().map(|(k, v)| format!("  \"{k}\" = \"{v}\"\n")).collect();
            let v = parse(&format!("node_meta {{\n{body}}}\n")).unwrap();
            let expected: serde_json::Map<String, Value> =
                keys.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            proptest::prop_assert_eq!(v, json!({"node_meta": expected}));
        }
    }

    #[test]
    fn one_line_nested_blocks() {
        let v = parse(r#"consul { coordinate { update_period = "100ms" } }"#).unwrap();
        assert_eq!(v["consul"]["coordinate"]["update_period"], "100ms");
        let v = parse(r#"ports { dns = -1 } node_name = "a""#).unwrap();
        assert_eq!(v["ports"]["dns"], -1);
        assert_eq!(v["node_name"], "a");
    }

    #[test]
    fn syntax_error_reported() {
        assert!(parse("acl {").is_err());
    }
}
