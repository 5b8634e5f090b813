//! Converting a filter's raw value text to the type of the field it is compared with,
//! the way go-bexpr does with Go's `strconv` (base prefixes, `_` separators, `t`/`F`
//! booleans), and Go's `%q` quoting for the error messages.

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(syntax_error("ParseBool", raw)),
    }
}

/// Go's `strconv.ParseInt(raw, 0, 64)`.
pub(crate) fn parse_int(raw: &str) -> Result<i64, String> {
    let (neg, digits) = match raw.as_bytes().first() {
        Some(b'+') => (false, &raw[1..]),
        Some(b'-') => (true, &raw[1..]),
        _ => (false, raw),
    };
    let magnitude = match parse_uint_digits(digits) {
        Ok(m) => m,
        Err(UintError::Syntax) => return Err(syntax_error("ParseInt", raw)),
        Err(UintError::Range) => return Err(range_error("ParseInt", raw)),
    };
    let cutoff = 1u64 << 63;
    match (neg, magnitude) {
        (false, m) if m >= cutoff => Err(range_error("ParseInt", raw)),
        (true, m) if m > cutoff => Err(range_error("ParseInt", raw)),
        (true, m) => Ok((m as i64).wrapping_neg()),
        (false, m) => Ok(m as i64),
    }
}

/// Go's `strconv.ParseUint(raw, 0, 64)`.
pub(crate) fn parse_uint(raw: &str) -> Result<u64, String> {
    parse_uint_digits(raw).map_err(|e| match e {
        UintError::Syntax => syntax_error("ParseUint", raw),
        UintError::Range => range_error("ParseUint", raw),
    })
}

/// Go's `strconv.ParseFloat(raw, 64)`, approximated by Rust's float parser (which also
/// takes `inf`/`NaN`; Go's hex floats and `_` separators are not supported).
pub(crate) fn parse_float(raw: &str) -> Result<f64, String> {
    raw.parse::<f64>()
        .map_err(|_| syntax_error("ParseFloat", raw))
}

enum UintError {
    Syntax,
    Range,
}

fn parse_uint_digits(s0: &str) -> Result<u64, UintError> {
    let bytes = s0.as_bytes();
    if bytes.is_empty() {
        return Err(UintError::Syntax);
    }
    let (base, digits): (u64, &[u8]) = match bytes {
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'b') => (2, &bytes[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'o') => (8, &bytes[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'x') => (16, &bytes[2..]),
        [b'0', ..] => (8, &bytes[1..]),
        _ => (10, bytes),
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => u64::from(c - b'0'),
            _ if c.is_ascii_alphabetic() => u64::from(c.to_ascii_lowercase() - b'a') + 10,
            _ => return Err(UintError::Syntax),
        };
        if d >= base {
            return Err(UintError::Syntax);
        }
        n = n
            .checked_mul(base)
            .and_then(|n| n.checked_add(d))
            .ok_or(UintError::Range)?;
    }
    if underscores && !underscore_ok(s0) {
        return Err(UintError::Syntax);
    }
    Ok(n)
}

/// Go's rule: underscores only between digits (a base prefix counts as a digit).
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

fn syntax_error(func: &str, num: &str) -> String {
    format!("strconv.{func}: parsing {}: invalid syntax", go_quote(num))
}

fn range_error(func: &str, num: &str) -> String {
    format!(
        "strconv.{func}: parsing {}: value out of range",
        go_quote(num)
    )
}

/// Go's `strconv.Quote` / `%q`: printable characters as is, the usual backslash escapes
/// otherwise.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_like_go() {
        assert_eq!(parse_int("42"), Ok(42));
        assert_eq!(parse_int("-42"), Ok(-42));
        assert_eq!(parse_int("+7"), Ok(7));
        assert_eq!(parse_int("0x1F"), Ok(31));
        assert_eq!(parse_int("0o17"), Ok(15));
        assert_eq!(parse_int("017"), Ok(15));
        assert_eq!(parse_int("0b101"), Ok(5));
        assert_eq!(parse_int("1_000"), Ok(1000));
        assert_eq!(parse_int("0"), Ok(0));
        assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_int("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            parse_int("abc"),
            Err(r#"strconv.ParseInt: parsing "abc": invalid syntax"#.into())
        );
        assert_eq!(
            parse_int("1.5"),
            Err(r#"strconv.ParseInt: parsing "1.5": invalid syntax"#.into())
        );
        assert_eq!(
            parse_int("08"),
            Err(r#"strconv.ParseInt: parsing "08": invalid syntax"#.into())
        );
        assert_eq!(
            parse_int("1__0"),
            Err(r#"strconv.ParseInt: parsing "1__0": invalid syntax"#.into())
        );
        assert_eq!(
            parse_int("-"),
            Err(r#"strconv.ParseInt: parsing "-": invalid syntax"#.into())
        );
        assert_eq!(
            parse_int("9223372036854775808"),
            Err(r#"strconv.ParseInt: parsing "9223372036854775808": value out of range"#.into())
        );
        assert_eq!(parse_uint("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_uint("-1"),
            Err(r#"strconv.ParseUint: parsing "-1": invalid syntax"#.into())
        );
    }

    #[test]
    fn bools_and_floats_like_go() {
        assert_eq!(parse_bool("T"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        assert_eq!(
            parse_bool("yes"),
            Err(r#"strconv.ParseBool: parsing "yes": invalid syntax"#.into())
        );
        assert_eq!(parse_float("1.5"), Ok(1.5));
        assert_eq!(parse_float("1e3"), Ok(1000.0));
        assert!(parse_float("x").is_err());
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(go_quote("tab\there\u{1}"), r#""tab\there\x01""#);
        assert_eq!(go_quote("µs"), "\"µs\"");
    }
}
