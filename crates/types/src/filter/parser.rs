//! Hand-written PEG parser for go-bexpr v0.1.2's grammar (the version Consul pins), with
//! the same backtracking and the same error reports as its pigeon-generated parser:
//! `1:4 (3): no match found, expected: "!=", ".", …` or `1:17 (16): rule "number":
//! Invalid number literal`.
//!
//! Every literal or character-class attempt is recorded like pigeon does, so the
//! "expected" list at the farthest failure matches Consul's. Left-factored where pigeon
//! would re-parse the same text (results and recorded failures are identical), which
//! keeps parsing linear instead of exponential in nesting depth.

use super::ast::Expr;
use super::ast::MatchExpr;
use super::ast::MatchOp;
use super::ast::MatchValue;
use super::ast::Selector;
use super::unquote::unquote;

/// Deepest parenthesis nesting accepted; beyond it parsing fails instead of exhausting
/// the stack. (go-bexpr has no limit, but no real filter comes close.)
const MAX_NESTING: usize = 100;

const WS: &str = r"[ \t\r\n]";
const ALPHA: &str = "[a-zA-Z]";
const IDENT_CHAR: &str = "[a-zA-Z0-9_]";
const DIGIT_1_9: &str = "[1-9]";
const DIGIT: &str = "[0-9]";

/// Parses a whole expression; the error is the message go-bexpr would return.
pub(crate) fn parse(src: &str) -> Result<Expr, String> {
    let mut p = Parser {
        src,
        pos: 0,
        invert: false,
        max_fail_pos: 0,
        expected: Vec::new(),
        errors: Vec::new(),
        nesting: 0,
    };
    let result = p.input();
    if !p.errors.is_empty() {
        let mut seen = Vec::<String>::new();
        for e in p.errors {
            if !seen.contains(&e) {
                seen.push(e);
            }
        }
        return Err(seen.join("; "));
    }
    result.ok_or_else(|| p.no_match())
}

/// One piece of an operator: required whitespace, optional whitespace, or a literal.
#[derive(Clone, Copy)]
enum Tok {
    Ws,
    WsOpt,
    Lit(&'static str),
}

use Tok::Lit;
use Tok::Ws;
use Tok::WsOpt;

const SELECTOR_OP_VALUE: &[(&[Tok], MatchOp)] = &[
    (&[WsOpt, Lit("=="), WsOpt], MatchOp::Equal),
    (&[WsOpt, Lit("!="), WsOpt], MatchOp::NotEqual),
    (&[Ws, Lit("contains"), Ws], MatchOp::In),
    (&[Ws, Lit("not"), Ws, Lit("contains"), Ws], MatchOp::NotIn),
    (&[Ws, Lit("matches"), Ws], MatchOp::Matches),
    (
        &[Ws, Lit("not"), Ws, Lit("matches"), Ws],
        MatchOp::NotMatches,
    ),
];

const SELECTOR_OP: &[(&[Tok], MatchOp)] = &[
    (&[Ws, Lit("is"), Ws, Lit("empty")], MatchOp::IsEmpty),
    (
        &[Ws, Lit("is"), Ws, Lit("not"), Ws, Lit("empty")],
        MatchOp::IsNotEmpty,
    ),
];

const VALUE_OP_SELECTOR: &[(&[Tok], MatchOp)] = &[
    (&[Ws, Lit("in"), Ws], MatchOp::In),
    (&[Ws, Lit("not"), Ws, Lit("in"), Ws], MatchOp::NotIn),
];

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Inside an odd number of `!` predicates (pigeon's `maxFailInvertExpected`).
    invert: bool,
    max_fail_pos: usize,
    expected: Vec<String>,
    errors: Vec<String>,
    nesting: usize,
}

impl Parser<'_> {
    // ---- grammar rules, top-down -------------------------------------------------

    /// `Input <- _? "(" _? OrExpression _? ")" _? EOF / _? OrExpression _? EOF`
    fn input(&mut self) -> Option<Expr> {
        self.ws_opt();
        if self.lit("(") {
            self.ws_opt();
            if let Some(e) = self.or_expr() {
                self.ws_opt();
                if self.lit(")") {
                    self.ws_opt();
                    if self.eof() {
                        return Some(e);
                    }
                }
            }
        }
        self.pos = 0;
        self.ws_opt();
        let e = self.or_expr()?;
        self.ws_opt();
        self.eof().then_some(e)
    }

    /// `OrExpression <- AndExpression _ "or" _ OrExpression / AndExpression`
    fn or_expr(&mut self) -> Option<Expr> {
        let items = self.chain("or", Self::and_expr)?;
        Some(collapse(items, Expr::Or))
    }

    /// `AndExpression <- NotExpression _ "and" _ AndExpression / NotExpression`
    fn and_expr(&mut self) -> Option<Expr> {
        let items = self.chain("and", Self::not_expr)?;
        Some(collapse(items, Expr::And))
    }

    /// The right-recursive `X _ "kw" _ Self / X` rules, as a loop.
    fn chain(
        &mut self,
        kw: &'static str,
        item: fn(&mut Self) -> Option<Expr>,
    ) -> Option<Vec<Expr>> {
        let mut items = vec![item(self)?];
        loop {
            let save = self.pos;
            if self.seq(&[Ws, Lit(kw), Ws])
                && let Some(next) = item(self)
            {
                items.push(next);
                continue;
            }
            self.pos = save;
            return Some(items);
        }
    }

    /// `NotExpression <- "not" _ NotExpression / ParenthesizedExpression`
    fn not_expr(&mut self) -> Option<Expr> {
        // Consume every leading `not _`, then back off one at a time: a failed operand
        // means the last `not` was really a selector named `not`.
        let mut starts = vec![self.pos];
        while self.seq(&[Lit("not"), Ws]) {
            starts.push(self.pos);
        }
        while let Some(start) = starts.pop() {
            self.pos = start;
            if let Some(e) = self.paren_expr() {
                // go-bexpr drops pairs of `not`s; the parity is all that matters.
                return Some(if starts.len() % 2 == 1 {
                    Expr::Not(Box::new(e))
                } else {
                    e
                });
            }
        }
        None
    }

    /// `ParenthesizedExpression "grouping" <- "(" _? OrExpression _? ")" / MatchExpression
    ///   / "(" _? OrExpression _? !")" &{ Unmatched parentheses }`
    fn paren_expr(&mut self) -> Option<Expr> {
        let start = self.pos;
        let mut unclosed_at = None;
        if self.lit("(") {
            if self.nesting >= MAX_NESTING {
                self.add_err(self.pos, "grouping", "Expression nested too deeply");
                return None;
            }
            self.nesting += 1;
            self.ws_opt();
            let inner = self.or_expr();
            self.nesting -= 1;
            if let Some(e) = inner {
                self.ws_opt();
                if self.lit(")") {
                    return Some(e);
                }
                unclosed_at = Some(self.pos);
            }
        }
        self.pos = start;
        if let Some(m) = self.match_expr() {
            return Some(Expr::Match(m));
        }
        self.pos = start;
        // The third alternative re-parses exactly what the first one did; only its
        // predicate is new (the inverted `!")"` records nothing).
        if let Some(at) = unclosed_at {
            self.add_err(at, "grouping", "Unmatched parentheses");
        }
        None
    }

    /// `MatchExpression "match" <- MatchSelectorOpValue / MatchSelectorOp / MatchValueOpSelector`
    fn match_expr(&mut self) -> Option<MatchExpr> {
        let start = self.pos;
        if let Some(selector) = self.selector()
            && let Some(op) = self.operator(SELECTOR_OP_VALUE)
            && let Some(value) = self.value()
        {
            let value = Some(value);
            return Some(MatchExpr {
                selector,
                op,
                value,
            });
        }
        self.pos = start;
        if let Some(selector) = self.selector()
            && let Some(op) = self.operator(SELECTOR_OP)
        {
            return Some(MatchExpr {
                selector,
                op,
                value: None,
            });
        }
        self.pos = start;
        if let Some(value) = self.value()
            && let Some(op) = self.operator(VALUE_OP_SELECTOR)
            && let Some(selector) = self.selector()
        {
            let value = Some(value);
            return Some(MatchExpr {
                selector,
                op,
                value,
            });
        }
        // `Value operator !Selector &{ Invalid selector }`
        self.pos = start;
        if self.value().is_some()
            && self.operator(VALUE_OP_SELECTOR).is_some()
            && self.not(|p| p.selector().is_some())
        {
            self.add_err(self.pos, "match", "Invalid selector");
        }
        self.pos = start;
        None
    }

    /// The first operator of `ops` that matches here.
    fn operator(&mut self, ops: &[(&[Tok], MatchOp)]) -> Option<MatchOp> {
        ops.iter()
            .find(|(toks, _)| self.seq(toks))
            .map(|(_, op)| *op)
    }

    /// `Selector <- Identifier SelectorOrIndex*` where
    /// `SelectorOrIndex <- "." Identifier / IndexExpression`
    fn selector(&mut self) -> Option<Selector> {
        let mut parts = vec![self.identifier()?];
        loop {
            let save = self.pos;
            if self.lit(".")
                && let Some(id) = self.identifier()
            {
                parts.push(id);
                continue;
            }
            self.pos = save;
            if let Some(key) = self.index_expr() {
                parts.push(key);
                continue;
            }
            self.pos = save;
            return Some(Selector(parts));
        }
    }

    /// `Identifier <- [a-zA-Z] [a-zA-Z0-9_]*`
    fn identifier(&mut self) -> Option<String> {
        let start = self.pos;
        self.class(ALPHA, |c| c.is_ascii_alphabetic())?;
        while self
            .class(IDENT_CHAR, |c| c.is_ascii_alphanumeric() || c == '_')
            .is_some()
        {}
        Some(self.src[start..self.pos].to_owned())
    }

    /// `IndexExpression "index" <- "[" _? StringLiteral _? "]"
    ///   / "[" _? !StringLiteral &{ Invalid index }
    ///   / "[" _? StringLiteral _? !"]" &{ Unclosed index expression }`
    fn index_expr(&mut self) -> Option<String> {
        let start = self.pos;
        if self.lit("[") {
            self.ws_opt();
            if let Some(key) = self.string_literal() {
                self.ws_opt();
                if self.lit("]") {
                    return Some(key);
                }
            }
        }
        self.pos = start;
        if self.lit("[") {
            self.ws_opt();
            if self.not(|p| p.string_literal().is_some()) {
                self.add_err(self.pos, "index", "Invalid index");
            }
        }
        self.pos = start;
        if self.lit("[") {
            self.ws_opt();
            if self.string_literal().is_some() {
                self.ws_opt();
                if self.not(|p| p.lit("]")) {
                    self.add_err(self.pos, "index", "Unclosed index expression");
                }
            }
        }
        self.pos = start;
        None
    }

    /// `Value "value" <- Selector / NumberLiteral / StringLiteral`; a selector used as a
    /// value is its dotted text (so `true`, `passing` and `my_node` work unquoted).
    fn value(&mut self) -> Option<MatchValue> {
        let start = self.pos;
        if let Some(sel) = self.selector() {
            return Some(MatchValue {
                raw: sel.to_string(),
                regex: None,
            });
        }
        self.pos = start;
        if let Some(raw) = self.number() {
            return Some(MatchValue { raw, regex: None });
        }
        self.pos = start;
        if let Some(raw) = self.string_literal() {
            return Some(MatchValue { raw, regex: None });
        }
        self.pos = start;
        None
    }

    /// `NumberLiteral "number" <- "-"? IntegerOrFloat &AfterNumbers
    ///   / "-"? IntegerOrFloat !AfterNumbers &{ Invalid number literal }`
    fn number(&mut self) -> Option<String> {
        let start = self.pos;
        self.lit("-");
        if self.integer_or_float() && self.and(Self::after_number) {
            return Some(self.src[start..self.pos].to_owned());
        }
        self.pos = start;
        self.lit("-");
        if self.integer_or_float() && self.not(Self::after_number) {
            self.add_err(self.pos, "number", "Invalid number literal");
        }
        self.pos = start;
        None
    }

    /// `AfterNumbers <- &(_ / EOF / ")")`
    fn after_number(&mut self) -> bool {
        self.and(|p| {
            let save = p.pos;
            if p.ws() {
                return true;
            }
            p.pos = save;
            if p.eof() {
                return true;
            }
            p.lit(")")
        })
    }

    /// `IntegerOrFloat <- ("0" / [1-9][0-9]*) ("." [0-9]+)?`
    fn integer_or_float(&mut self) -> bool {
        let start = self.pos;
        if !self.lit("0") {
            if self
                .class(DIGIT_1_9, |c| ('1'..='9').contains(&c))
                .is_none()
            {
                self.pos = start;
                return false;
            }
            while self.class(DIGIT, |c| c.is_ascii_digit()).is_some() {}
        }
        let save = self.pos;
        if self.lit(".") && self.class(DIGIT, |c| c.is_ascii_digit()).is_some() {
            while self.class(DIGIT, |c| c.is_ascii_digit()).is_some() {}
        } else {
            self.pos = save;
        }
        true
    }

    /// `StringLiteral "string" <- ('`' RawStringChar* '`' / '"' DoubleStringChar* '"')
    ///   { strconv.Unquote } / ('`' RawStringChar* / '"' DoubleStringChar*) EOF
    ///   &{ Unterminated string literal }`
    fn string_literal(&mut self) -> Option<String> {
        let start = self.pos;
        if self.quoted("`", true) || {
            self.pos = start;
            self.quoted("\"", true)
        } {
            return Some(match unquote(&self.src[start..self.pos]) {
                Ok(s) => s,
                Err(e) => {
                    // pigeon records the action's error and carries on with "".
                    self.add_err(start, "string", e);
                    String::new()
                }
            });
        }
        self.pos = start;
        if (self.quoted("`", false) || {
            self.pos = start;
            self.quoted("\"", false)
        }) && self.eof()
        {
            self.add_err(self.pos, "string", "Unterminated string literal");
        }
        self.pos = start;
        None
    }

    /// `q (!q .)*` and, when `closed`, the closing `q`.
    fn quoted(&mut self, q: &'static str, closed: bool) -> bool {
        let start = self.pos;
        if !self.lit(q) {
            return false;
        }
        loop {
            let save = self.pos;
            if self.not(|p| p.lit(q)) && self.any() {
                continue;
            }
            self.pos = save;
            break;
        }
        if closed && !self.lit(q) {
            self.pos = start;
            return false;
        }
        true
    }

    // ---- pigeon's matchers and failure bookkeeping -------------------------------

    /// Matches a sequence of tokens, restoring the position if any fails.
    fn seq(&mut self, toks: &[Tok]) -> bool {
        let start = self.pos;
        for tok in toks {
            let ok = match tok {
                Tok::Ws => self.ws(),
                Tok::WsOpt => {
                    self.ws();
                    true
                }
                Tok::Lit(s) => self.lit(s),
            };
            if !ok {
                self.pos = start;
                return false;
            }
        }
        true
    }

    /// `_ "whitespace" <- [ \t\r\n]+`
    fn ws(&mut self) -> bool {
        if self
            .class(WS, |c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            .is_none()
        {
            return false;
        }
        while self
            .class(WS, |c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            .is_some()
        {}
        true
    }

    fn ws_opt(&mut self) {
        self.ws();
    }

    /// `EOF <- !.`
    fn eof(&mut self) -> bool {
        self.not(Self::any)
    }

    fn lit(&mut self, s: &'static str) -> bool {
        let start = self.pos;
        let ok = self.src[start..].starts_with(s);
        if ok {
            self.pos += s.len();
        }
        self.record(ok, start, || go_quote_lit(s));
        ok
    }

    fn class(&mut self, name: &'static str, pred: impl Fn(char) -> bool) -> Option<char> {
        let start = self.pos;
        let c = self.src[start..].chars().next().filter(|&c| pred(c));
        if let Some(c) = c {
            self.pos += c.len_utf8();
        }
        self.record(c.is_some(), start, || name.to_owned());
        c
    }

    fn any(&mut self) -> bool {
        let start = self.pos;
        let c = self.src[start..].chars().next();
        if let Some(c) = c {
            self.pos += c.len_utf8();
        }
        self.record(c.is_some(), start, || ".".to_owned());
        c.is_some()
    }

    /// `!e`: succeeds when `e` fails; never consumes.
    fn not(&mut self, e: impl FnOnce(&mut Self) -> bool) -> bool {
        let save = self.pos;
        self.invert = !self.invert;
        let ok = e(self);
        self.invert = !self.invert;
        self.pos = save;
        !ok
    }

    /// `&e`: succeeds when `e` does; never consumes.
    fn and(&mut self, e: impl FnOnce(&mut Self) -> bool) -> bool {
        let save = self.pos;
        let ok = e(self);
        self.pos = save;
        ok
    }

    /// pigeon's `failAt`: remembers what was wanted at the farthest failure.
    fn record(&mut self, matched: bool, at: usize, want: impl FnOnce() -> String) {
        if matched != self.invert || at < self.max_fail_pos {
            return;
        }
        if at > self.max_fail_pos {
            self.max_fail_pos = at;
            self.expected.clear();
        }
        let want = want();
        self.expected.push(if self.invert {
            format!("!{want}")
        } else {
            want
        });
    }

    fn add_err(&mut self, at: usize, rule: &str, msg: &str) {
        let err = format!("{}: rule \"{rule}\": {msg}", self.position(at));
        self.errors.push(err);
    }

    fn no_match(&self) -> String {
        let mut expected: Vec<&str> = self.expected.iter().map(String::as_str).collect();
        expected.sort_unstable();
        expected.dedup();
        let eof = expected.contains(&"!.");
        expected.retain(|e| *e != "!.");
        if eof {
            expected.push("EOF");
        }
        let list = match expected.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        };
        format!(
            "{}: no match found, expected: {list}",
            self.position(self.max_fail_pos)
        )
    }

    /// pigeon's `line:col (offset)`; a newline is reported as column 0 of the next line.
    fn position(&self, at: usize) -> String {
        let before = &self.src[..at];
        let mut line = 1 + before.matches('\n').count();
        let mut col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        if self.src[at..].starts_with('\n') {
            line += 1;
            col = 0;
        }
        format!("{line}:{col} ({at})")
    }
}

fn collapse(mut items: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    match items.len() {
        1 => items.remove(0),
        _ => join(items),
    }
}

/// Go's `%q` of a grammar literal (only `"` and `\` need escaping in ours).
fn go_quote_lit(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        match parse(src) {
            Ok(e) => panic!("{src:?} parsed: {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn errors_match_consul_reports() {
        // Messages quoted in hashicorp/consul issues #7338, #6467 and #9441.
        assert_eq!(
            err("foo"),
            r#"1:4 (3): no match found, expected: "!=", ".", "==", "[", [ \t\r\n] or [a-zA-Z0-9_]"#
        );
        assert_eq!(
            err("Node==host-name"),
            r#"1:11 (10): no match found, expected: ".", "[", [ \t\r\n], [a-zA-Z0-9_] or EOF"#
        );
        assert_eq!(
            err("Address == 10.10.10.10 "),
            r#"1:17 (16): rule "number": Invalid number literal"#
        );
    }

    #[test]
    fn predicate_errors() {
        assert_eq!(
            err("(Foo == 1"),
            r#"1:10 (9): rule "grouping": Unmatched parentheses"#
        );
        assert_eq!(
            err("Meta[foo] == 1"),
            r#"1:6 (5): rule "index": Invalid index"#
        );
        assert_eq!(
            err(r#"Meta["foo" == 1"#),
            r#"1:12 (11): rule "index": Unclosed index expression"#
        );
        assert_eq!(
            err(r#"Foo == "abc"#),
            r#"1:12 (11): rule "string": Unterminated string literal"#
        );
        assert_eq!(
            err(r#"Foo == "a\qb""#),
            r#"1:8 (7): rule "string": invalid syntax"#
        );
        assert_eq!(
            err(r#""x" in 3"#),
            r#"1:8 (7): rule "match": Invalid selector"#
        );
    }

    #[test]
    fn missing_value_lists_every_start() {
        assert_eq!(
            err("Foo == "),
            r#"1:8 (7): no match found, expected: "-", "0", "\"", "`", [ \t\r\n], [1-9] or [a-zA-Z]"#
        );
    }

    #[test]
    fn newline_positions_follow_pigeon() {
        // pigeon reports a newline itself as column 0 of the following line.
        assert!(err("Foo == 1\n)").starts_with("2:1 (9): "));
        assert!(err("Foo\n== x y").starts_with("2:6 (9): "));
        assert!(err("Foo ==\n").starts_with("2:1 (7): "));
    }

    #[test]
    fn keywords_are_not_reserved() {
        assert!(parse("not == 1").is_ok());
        assert!(parse("notes == 1").is_ok());
        assert!(parse("not not == 1").is_ok());
        assert!(parse("Foo == and and Bar == or").is_ok());
        assert!(parse("in in in").is_ok());
        assert!(parse("in in").is_err());
        assert!(parse(r#""x" in in"#).is_ok());
    }

    #[test]
    fn keywords_need_whitespace() {
        assert!(parse("Foo == 1 and(Bar == 2)").is_err());
        assert!(parse("not(Foo == 1)").is_err());
        assert!(parse("Foo == 1 and (Bar == 2)").is_ok());
        assert!(parse("not (Foo == 1)").is_ok());
        assert!(parse("(Foo == 1)and Bar == 2").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}Foo == 1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(err(&deep).contains("nested too deeply"));
        let ok = format!("{}Foo == 1{}", "(".repeat(50), ")".repeat(50));
        assert!(parse(&ok).is_ok());
        let many_nots = format!("{}Foo == 1", "not ".repeat(10_001));
        assert!(matches!(parse(&many_nots), Ok(Expr::Not(_))));
        let long_or = vec!["Foo == 1"; 5000].join(" or ");
        assert!(matches!(parse(&long_or), Ok(Expr::Or(v)) if v.len() == 5000));
    }

    #[test]
    fn unclosed_nesting_is_fast() {
        let src = format!("{}Foo == 1", "(".repeat(60));
        assert!(err(&src).contains("Unmatched parentheses"));
    }
}
