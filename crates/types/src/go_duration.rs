//! Go `time.Duration` strings, exactly as Go's `time.ParseDuration` reads them and
//! `Duration.String()` writes them (`"1m30s"`, `"1h0m0s"`, `"1.5s"`, `"2µs"`).
//!
//! Owns parsing, formatting and the serde adapters used on the wire. It does not own
//! lenient human input (that is `humantime`'s job elsewhere).

use std::fmt;
use std::time::Duration;

/// Largest magnitude a Go duration can have, in nanoseconds (`1 << 63`; only reachable
/// for negative durations).
const MAX_MAGNITUDE: u64 = 1 << 63;

/// Why a Go duration string was rejected. `Display` matches Go's error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The string does not follow the grammar, or overflows an `int64` of nanoseconds.
    #[error("time: invalid duration {}", go_quote(.0))]
    Invalid(String),
    /// A number was not followed by a unit (`"10"`).
    #[error("time: missing unit in duration {}", go_quote(.0))]
    MissingUnit(String),
    /// The unit is not one of `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`.
    #[error("time: unknown unit {} in duration {}", go_quote(.unit), go_quote(.input))]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// The whole input.
        input: String,
    },
    /// The duration is valid Go but negative, and the caller needs an unsigned one.
    #[error("time: negative duration {} is not allowed here", go_quote(.0))]
    Negative(String),
}

/// Parses a non-negative Go duration string. `"-0s"` is zero, other negative values
/// return [`DurationError::Negative`]; use [`parse_signed`] when negatives are allowed.
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let nanos = parse_signed(s)?;
    match u64::try_from(nanos) {
        Ok(n) => Ok(Duration::from_nanos(n)),
        Err(_) => Err(DurationError::Negative(s.to_owned())),
    }
}

/// Parses a Go duration string into signed nanoseconds (always within `i64`'s range).
pub fn parse_signed(orig: &str) -> Result<i128, DurationError> {
    let invalid = || DurationError::Invalid(orig.to_owned());
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            let (f, sc, rest) = leading_fraction(s);
            (frac, scale, s) = (f, sc, rest);
            post = before != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(orig.to_owned()));
        }
        let unit_bytes = &s[..unit_len];
        s = &s[unit_len..];
        let unit = unit_nanos(unit_bytes).ok_or_else(|| DurationError::UnknownUnit {
            unit: String::from_utf8_lossy(unit_bytes).into_owned(),
            input: orig.to_owned(),
        })?;
        if v > MAX_MAGNITUDE / unit {
            return Err(invalid());
        }
        v *= unit;
        if frac > 0 {
            // Same float arithmetic as Go, so fractions round identically.
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > MAX_MAGNITUDE {
                return Err(invalid());
            }
        }
        total += v;
        if total > MAX_MAGNITUDE {
            return Err(invalid());
        }
    }
    if neg {
        return Ok(-i128::from(total));
    }
    if total > MAX_MAGNITUDE - 1 {
        return Err(invalid());
    }
    Ok(i128::from(total))
}

/// Formats a duration exactly like Go's `Duration.String()`.
pub fn format(d: Duration) -> String {
    format_magnitude(d.as_nanos(), false)
}

/// Formats signed nanoseconds exactly like Go's `Duration.String()` (`"-1.5s"`).
pub fn format_signed(nanos: i64) -> String {
    format_magnitude(u128::from(nanos.unsigned_abs()), nanos < 0)
}

fn format_magnitude(mut u: u128, neg: bool) -> String {
    // Built back to front, like Go does.
    let mut out: Vec<u8> = Vec::with_capacity(32);
    if u < 1_000_000_000 {
        let prec;
        out.push(b's');
        if u == 0 {
            return "0s".to_owned();
        } else if u < 1_000 {
            prec = 0;
            out.push(b'n');
        } else if u < 1_000_000 {
            prec = 3;
            // "µ" (U+00B5) is 0xC2 0xB5; pushed reversed.
            out.extend_from_slice(&[0xB5, 0xC2]);
        } else {
            prec = 6;
            out.push(b'm');
        }
        u = push_frac(&mut out, u, prec);
        push_int(&mut out, u);
    } else {
        out.push(b's');
        u = push_frac(&mut out, u, 9);
        push_int(&mut out, u % 60);
        u /= 60;
        if u > 0 {
            out.push(b'm');
            push_int(&mut out, u % 60);
            u /= 60;
            if u > 0 {
                out.push(b'h');
                push_int(&mut out, u);
            }
        }
    }
    if neg {
        out.push(b'-');
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Pushes (reversed) the `prec` low decimal digits of `v` as a fraction, without trailing
/// zeros and without the dot when the fraction is zero. Returns `v / 10^prec`.
fn push_frac(out: &mut Vec<u8>, mut v: u128, prec: u32) -> u128 {
    let mut printed = false;
    for _ in 0..prec {
        let digit = (v % 10) as u8;
        printed = printed || digit != 0;
        if printed {
            out.push(b'0' + digit);
        }
        v /= 10;
    }
    if printed {
        out.push(b'.');
    }
    v
}

fn push_int(out: &mut Vec<u8>, mut v: u128) {
    if v == 0 {
        out.push(b'0');
        return;
    }
    while v > 0 {
        out.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
}

fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > MAX_MAGNITUDE / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > MAX_MAGNITUDE {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if !overflow {
            if x > (MAX_MAGNITUDE - 1) / 10 {
                overflow = true;
            } else {
                let y = x * 10 + u64::from(s[i] - b'0');
                if y > MAX_MAGNITUDE {
                    overflow = true;
                } else {
                    x = y;
                    scale *= 10.0;
                }
            }
        }
        i += 1;
    }
    (x, scale, &s[i..])
}

fn unit_nanos(unit: &[u8]) -> Option<u64> {
    Some(match unit {
        b"ns" => 1,
        b"us" => 1_000,
        _ if unit == "µs".as_bytes() || unit == "μs".as_bytes() => 1_000,
        b"ms" => 1_000_000,
        b"s" => 1_000_000_000,
        b"m" => 60_000_000_000,
        b"h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Go's `time.quote`: double quotes, `\` escapes for `"` and `\`, and `\xNN` for every
/// byte of a non-ASCII or control character.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

/// Serde adapter for `Duration` fields written as Go duration strings
/// (`#[serde(with = "go_duration::serde_str")]`). Deserializing also accepts a JSON
/// integer meaning nanoseconds, as Consul's API does.
pub mod serde_str {
    use std::time::Duration;

    use serde::Deserializer;
    use serde::Serializer;

    /// Writes the duration as Go's `Duration.String()`.
    pub fn serialize<S: Serializer>(d: &Duration, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&super::format(*d))
    }

    /// Reads a Go duration string or an integer count of nanoseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
        match de.deserialize_any(super::visitor::DurationVisitor)? {
            Some(d) => Ok(d),
            None => Err(serde::de::Error::custom("time: invalid duration \"\"")),
        }
    }
}

/// Serde adapter for `Option<Duration>`: `None` is written as `null`; missing, `null` and
/// `""` read as `None`. Pair it with `#[serde(default, with = "go_duration::serde_opt")]`.
pub mod serde_opt {
    use std::time::Duration;

    use serde::Deserializer;
    use serde::Serializer;

    /// Writes `Some` as a Go duration string and `None` as `null`.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, ser: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => ser.serialize_str(&super::format(*d)),
            None => ser.serialize_none(),
        }
    }

    /// Reads a Go duration string, integer nanoseconds, `null` or `""`.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Duration>, D::Error> {
        de.deserialize_any(super::visitor::DurationVisitor)
    }
}

mod visitor {
    use std::fmt;
    use std::time::Duration;

    use serde::de::Error;
    use serde::de::Visitor;

    /// Yields `None` for `null`/`""`; the callers decide whether that is allowed.
    pub(super) struct DurationVisitor;

    impl<'de> Visitor<'de> for DurationVisitor {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a Go duration string or integer nanoseconds")
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.is_empty() {
                return Ok(None);
            }
            super::parse(v).map(Some).map_err(E::custom)
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(Duration::from_nanos(v)))
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(|n| Some(Duration::from_nanos(n)))
                .map_err(|_| E::custom(format_args!("negative duration {v}ns is not allowed here")))
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && v >= 0.0 && v <= u64::MAX as f64 {
                Ok(Some(Duration::from_nanos(v as u64)))
            } else {
                Err(E::custom(format_args!(
                    "invalid duration {v}: want integer nanoseconds"
                )))
            }
        }

        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: serde::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
            de.deserialize_any(self)
        }
    }
}

/// A `Duration` that prints as Go does; handy in `format!` and log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GoDuration(pub Duration);

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format(self.0))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ns(n: u64) -> Duration {
        Duration::from_nanos(n)
    }

    #[test]
    fn parses_go_examples() {
        let cases: &[(&str, i128)] = &[
            ("0", 0),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("-5s", -5_000_000_000),
            ("+5s", 5_000_000_000),
            ("-0", 0),
            ("+0", 0),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.0s", 1_000_000_000),
            ("1.00s", 1_000_000_000),
            ("1.004s", 1_004_000_000),
            ("1.0040s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12µs", 12_000),
            ("12μs", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("-2m3.4s", -123_400_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("39h9m14.425s", 140_954_425_000_000),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 1_200_000_000_000),
            ("9007199254740993ns", 9_007_199_254_740_993),
            ("9223372036854775807ns", 9_223_372_036_854_775_807),
            ("9223372036854775.807us", 9_223_372_036_854_775_807),
            ("9223372036s854ms775us807ns", 9_223_372_036_854_775_807),
            ("-9223372036854775808ns", -9_223_372_036_854_775_808),
            ("-9223372036854775.808us", -9_223_372_036_854_775_808),
            ("0.100000000000000000000h", 360_000_000_000),
            ("0.830103483285477580700h", 2_988_372_539_827),
        ];
        for (input, want) in cases {
            assert_eq!(parse_signed(input), Ok(*want), "input {input:?}");
        }
    }

    #[test]
    fn rejects_like_go() {
        let cases: &[(&str, &str)] = &[
            ("", r#"time: invalid duration """#),
            ("3", r#"time: missing unit in duration "3""#),
            ("10", r#"time: missing unit in duration "10""#),
            ("-", r#"time: invalid duration "-""#),
            ("s", r#"time: invalid duration "s""#),
            (".", r#"time: invalid duration ".""#),
            ("-.", r#"time: invalid duration "-.""#),
            (".s", r#"time: invalid duration ".s""#),
            ("+.s", r#"time: invalid duration "+.s""#),
            ("abc", r#"time: invalid duration "abc""#),
            ("1d", r#"time: unknown unit "d" in duration "1d""#),
            ("10x", r#"time: unknown unit "x" in duration "10x""#),
            ("1.1.1s", r#"time: missing unit in duration "1.1.1s""#),
            (
                "1µ",
                r#"time: unknown unit "\xc2\xb5" in duration "1\xc2\xb5""#,
            ),
            (
                "9223372036854775808ns",
                r#"time: invalid duration "9223372036854775808ns""#,
            ),
            (
                "9223372036854775.808us",
                r#"time: invalid duration "9223372036854775.808us""#,
            ),
            (
                "-9223372036854775809ns",
                r#"time: invalid duration "-9223372036854775809ns""#,
            ),
            ("3000000h", r#"time: invalid duration "3000000h""#),
        ];
        for (input, want) in cases {
            let err = parse_signed(input).expect_err(input);
            assert_eq!(err.to_string(), *want, "input {input:?}");
        }
    }

    #[test]
    fn unsigned_parse_rejects_negatives_only() {
        assert_eq!(parse("-0s"), Ok(Duration::ZERO));
        assert_eq!(parse("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("-1s"), Err(DurationError::Negative("-1s".into())));
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_000, "2µs"),
            (2_200_000, "2.2ms"),
            (500_000_000, "500ms"),
            (1_500_000_000, "1.5s"),
            (3_300_000_000, "3.3s"),
            (90_000_000_000, "1m30s"),
            (250_500_000_000, "4m10.5s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_004_000_000, "1h2m3.004s"),
            (3_723_004_005_006, "1h2m3.004005006s"),
            (9_007_199_254_740_993, "2501h59m59.254740993s"),
            (9_223_372_036_854_775_807, "2562047h47m16.854775807s"),
        ];
        for (n, want) in cases {
            assert_eq!(format(ns(*n)), *want);
        }
        assert_eq!(format_signed(-1_500_000_000), "-1.5s");
        assert_eq!(format_signed(i64::MIN), "-2562047h47m16.854775808s");
        assert_eq!(GoDuration(Duration::from_secs(90)).to_string(), "1m30s");
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Wire {
        #[serde(with = "serde_str")]
        interval: Duration,
        #[serde(default, with = "serde_opt")]
        timeout: Option<Duration>,
    }

    #[test]
    fn serde_adapters() {
        let w: Wire = serde_json::from_str(r#"{"interval":"10s","timeout":"1m30s"}"#).unwrap();
        assert_eq!(w.interval, Duration::from_secs(10));
        assert_eq!(w.timeout, Some(Duration::from_secs(90)));
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"interval":"10s","timeout":"1m30s"}"#
        );

        let w: Wire = serde_json::from_str(r#"{"interval":1000000000}"#).unwrap();
        assert_eq!(w.interval, Duration::from_secs(1));
        assert_eq!(w.timeout, None);
        for t in [r#""""#, "null"] {
            let w: Wire =
                serde_json::from_str(&format!(r#"{{"interval":"1s","timeout":{t}}}"#)).unwrap();
            assert_eq!(w.timeout, None);
        }
        assert_eq!(
            serde_json::to_string(&Wire {
                interval: Duration::ZERO,
                timeout: None
            })
            .unwrap(),
            r#"{"interval":"0s","timeout":null}"#
        );

        for bad in [r#""10""#, r#""-1s""#, "-5", r#""""#, "1.5"] {
            let err = serde_json::from_str::<Wire>(&format!(r#"{{"interval":{bad}}}"#));
            assert!(err.is_err(), "{bad} should be rejected");
        }
        let err = serde_json::from_str::<Wire>(r#"{"interval":"10"}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains(r#"time: missing unit in duration "10""#),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn format_parse_round_trip(n in 0u64..=i64::MAX as u64) {
            let d = ns(n);
            let s = format(d);
            prop_assert_eq!(parse(&s), Ok(d));
            prop_assert_eq!(format(parse(&s).unwrap()), s);
        }

        #[test]
        fn signed_round_trip(n in any::<i64>()) {
            let s = format_signed(n);
            prop_assert_eq!(parse_signed(&s), Ok(i128::from(n)));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = parse_signed(&s);
        }

        #[test]
        fn parse_never_panics_on_duration_like(s in "[-+]?[0-9.]{0,22}(ns|us|µs|ms|s|m|h|x)?([0-9.]{0,5}(s|m|h))?") {
            if let Ok(n) = parse_signed(&s) {
                prop_assert!(n >= i128::from(i64::MIN) && n <= i128::from(i64::MAX));
            }
        }
    }
}
