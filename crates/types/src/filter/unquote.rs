//! Go's `strconv.Unquote` for the two string forms a filter allows: `"…"` with Go escape
//! sequences and `` `…` `` raw strings. Errors carry Go's text, `invalid syntax`.

/// Go's `strconv.ErrSyntax` message.
pub(crate) const INVALID_SYNTAX: &str = "invalid syntax";

/// Unquotes a complete literal including its delimiters.
pub(crate) fn unquote(lit: &str) -> Result<String, &'static str> {
    if let Some(body) = lit.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        if lit.len() < 2 || body.contains('`') {
            return Err(INVALID_SYNTAX);
        }
        // Go drops carriage returns from raw strings.
        return Ok(body.chars().filter(|&c| c != '\r').collect());
    }
    let body = lit
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| lit.len() >= 2)
        .ok_or(INVALID_SYNTAX)?;
    if body.contains('\n') {
        return Err(INVALID_SYNTAX);
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Err(INVALID_SYNTAX),
            '\\' => unescape(&mut chars, &mut out)?,
            _ => push_char(&mut out, c),
        }
    }
    // `\x` and octal escapes can build bytes that are not UTF-8; Go keeps them raw, we
    // substitute U+FFFD.
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn unescape(chars: &mut std::str::Chars<'_>, out: &mut Vec<u8>) -> Result<(), &'static str> {
    let c = chars.next().ok_or(INVALID_SYNTAX)?;
    let simple = match c {
        'a' => Some(0x07),
        'b' => Some(0x08),
        'f' => Some(0x0c),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(0x0b),
        '\\' => Some(b'\\'),
        '"' => Some(b'"'),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return Ok(());
    }
    match c {
        'x' => out.push(hex_value(chars, 2)? as u8),
        'u' | 'U' => {
            let n = if c == 'u' { 4 } else { 8 };
            let v = hex_value(chars, n)?;
            let ch = char::from_u32(v).ok_or(INVALID_SYNTAX)?;
            push_char(out, ch);
        }
        '0'..='7' => {
            let mut v = c.to_digit(8).ok_or(INVALID_SYNTAX)?;
            for _ in 0..2 {
                let d = chars
                    .next()
                    .and_then(|d| d.to_digit(8))
                    .ok_or(INVALID_SYNTAX)?;
                v = v * 8 + d;
            }
            if v > 255 {
                return Err(INVALID_SYNTAX);
            }
            out.push(v as u8);
        }
        _ => return Err(INVALID_SYNTAX),
    }
    Ok(())
}

fn hex_value(chars: &mut std::str::Chars<'_>, digits: usize) -> Result<u32, &'static str> {
    let mut v: u32 = 0;
    for _ in 0..digits {
        let d = chars
            .next()
            .and_then(|d| d.to_digit(16))
            .ok_or(INVALID_SYNTAX)?;
        v = v
            .checked_mul(16)
            .and_then(|v| v.checked_add(d))
            .ok_or(INVALID_SYNTAX)?;
    }
    Ok(v)
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_quoted_escapes() {
        assert_eq!(unquote(r#""plain""#).as_deref(), Ok("plain"));
        assert_eq!(unquote(r#""a\tb\n\\""#).as_deref(), Ok("a\tb\n\\"));
        assert_eq!(
            unquote(r#""\x41\101\u00e9\U0001F600""#).as_deref(),
            Ok("AAé😀")
        );
        assert_eq!(unquote(r#""""#).as_deref(), Ok(""));
    }

    #[test]
    fn raw_strings_keep_backslashes_and_drop_cr() {
        assert_eq!(unquote("`a\\nb`").as_deref(), Ok("a\\nb"));
        assert_eq!(unquote("`a\r\nb`").as_deref(), Ok("a\nb"));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            r#""\'""#,
            r#""\q""#,
            r#""\400""#,
            r#""\x4""#,
            r#""\uD800""#,
            "\"a\nb\"",
            r#""a\""#,
            "\"",
        ] {
            assert_eq!(unquote(bad), Err(INVALID_SYNTAX), "{bad:?}");
        }
    }
}
