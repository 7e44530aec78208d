//! The query language of custom sets: the part of Polarion's (Lucene)
//! query syntax that custom-set queries use, parsed once at load time and
//! evaluated against the attributes of the object a request is about.
//!
//! Supported: `field:value`, `field:(a OR b)` (bare terms inside take the
//! field), `AND`, `OR`, `NOT` (also `&&`, `||`, `!`, and a leading `-` or
//! `+`), parentheses, juxtaposition as AND (Polarion's default operator),
//! quoted phrases (`title:"a b"`), a trailing `*` (`id:DP-*`; `field:*`
//! means "has a value"), backslash escapes, and `$[user.id]` (the login
//! the request is for). Values compare ASCII-case-insensitively; a phrase
//! or word matches a whole attribute value; a multi-valued attribute
//! matches when any value does; a missing attribute matches nothing (so
//! `NOT status:x` holds for it). `field.id` falls back to the attribute
//! `field` (`assignee.id:$[user.id]` reads `assignee`).
//!
//! A comma list is a list of alternatives (`status:(inreview,reviewed,approved)`
//! is `status:(inreview OR reviewed OR approved)`; 002, "Custom Set
//! Permissions", Scenario 2); `\,` is a literal comma.
//!
//! Query expanders (`SQL`, `linkedWorkItems`, `PLAN`, `TEST_RECORDS`: 003,
//! "Defining Permissions for Artifact Sets") are decomposed by Polarion into
//! a list of IDs from its database, which rolesync does not have. They are
//! parsed (their argument taken as written, parentheses and quotes
//! balanced) into [`Query::Expander`]; evaluating one reads the caller's
//! expansion from the object attribute `expanded:<set>.<n>` (the n-th
//! expander of the set's query, from 1) or `expanded:<set>` (every expander
//! of the set), whose value is `true` (the object is in the expansion) or
//! `false`. Without it the answer is unknown ([`Query::eval`] gives `None`),
//! never a silent non-match.
//!
//! Refused (a load-time diagnostic): unbalanced parentheses or quotes, a
//! term without a field, an operator without an operand, wildcards other
//! than one trailing `*`, ranges, and variables other than `$[user.id]`.
//!
//! The parser recurses once per `(` and per `NOT` (`!`, `-`), and counts:
//! nesting deeper than `max_query_depth` (32 by default, never more than
//! [`MAX_QUERY_DEPTH_CEILING`]) is refused before the next level is
//! entered, so no query can overflow the stack; evaluation and drop then
//! recurse no deeper than the parser did.

use std::fmt;

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `field:pattern`.
    Term {
        field: String,
        pattern: Pattern,
    },
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    /// A query expander (`SQL:(…)`, `linkedWorkItems:…`, `PLAN:…`,
    /// `TEST_RECORDS:…`), which only Polarion's database can expand.
    Expander(Expander),
}

/// The query expanders of Polarion's query language (003, "Defining
/// Permissions for Artifact Sets": "query elements such as SQL,
/// linkedWorkItems, PLAN, TEST_RECORDS that are decomposed to list of IDs
/// in the background"). Field names compare exactly.
pub const EXPANDERS: &[&str] = &["SQL", "linkedWorkItems", "PLAN", "TEST_RECORDS"];

/// The most characters of an expander's text shown in a message.
const SHOWN: usize = 80;

/// One query expander in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expander {
    /// `SQL`, `linkedWorkItems`, `PLAN` or `TEST_RECORDS`.
    pub name: String,
    /// The argument as written (`(SELECT …)`, `DP-12`).
    pub arg: String,
    /// Its place among the query's expanders, from 1.
    pub n: usize,
}

impl Expander {
    /// `name:arg`, cut short for messages.
    pub fn shown(&self) -> String {
        let text = format!("{}:{}", self.name, self.arg);
        if text.chars().count() > SHOWN {
            let cut: String = text.chars().take(SHOWN).collect();
            format!("{cut}…")
        } else {
            text
        }
    }

    /// The object attributes that carry the caller's expansion, most
    /// specific first: `expanded:<set>.<n>`, `expanded:<set>`.
    pub fn keys(&self, set: &str) -> [String; 2] {
        [
            format!("{EXPANDED}{set}.{}", self.n),
            format!("{EXPANDED}{set}"),
        ]
    }

    /// The caller's expansion for this expander in custom set `set`: the
    /// attribute it was read from and whether the object is in it; `None`
    /// when the caller gave none (or a value other than true/false).
    pub fn given(&self, object: &Object, set: &str) -> Option<(String, bool)> {
        for key in self.keys(set) {
            let value = object.values(&key).next().map(str::to_ascii_lowercase);
            if let Some(v) = value {
                return match v.trim() {
                    "true" => Some((key, true)),
                    "false" => Some((key, false)),
                    _ => None,
                };
            }
        }
        None
    }
}

/// The prefix of the object attributes that carry expansions.
pub const EXPANDED: &str = "expanded:";

/// What a term's value must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// The whole value, compared case-insensitively.
    Exact(Vec<Part>),
    /// The value starts with this (a trailing `*`).
    Prefix(Vec<Part>),
    /// `field:*`: any value at all.
    Any,
}

/// A piece of a value: literal text or the user's login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    UserId,
}

/// Why a query was refused, and where (byte offset in the query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub offset: usize,
    pub message: String,
    pub kind: QueryErrorKind,
}

/// What kind of refusal a [`QueryError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryErrorKind {
    /// Not a query of the supported syntax.
    Syntax,
    /// Nested deeper than the limit.
    TooDeep,
}

/// The deepest nesting any limit can allow: the parser's recursion (some
/// KiB per level unoptimised, far less optimised) stays inside the smallest
/// thread stack rolesync runs it on (the async runtime's blocking threads,
/// 2 MiB).
pub const MAX_QUERY_DEPTH_CEILING: usize = 64;

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The attributes of the object a request is about: `status=approved`,
/// `author=bob`, and repeated keys for multi-valued fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object {
    attrs: Vec<(String, String)>,
}

impl Object {
    pub fn new() -> Self {
        Object::default()
    }

    /// Add one value of an attribute (keys may repeat).
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.push(key, value);
        self
    }

    pub fn push(&mut self, key: &str, value: &str) {
        self.attrs.push((key.to_owned(), value.to_owned()));
    }

    /// Parse `key=value`.
    pub fn push_pair(&mut self, pair: &str) -> Result<(), String> {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                self.push(k.trim(), v);
                Ok(())
            }
            _ => Err(format!("`{pair}` is not key=value")),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    pub fn attrs(&self) -> &[(String, String)] {
        &self.attrs
    }

    /// Every value of `key`.
    pub fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attrs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `key` has the value `value` (exactly).
    pub fn has(&self, key: &str, value: &str) -> bool {
        self.attrs.iter().any(|(k, v)| k == key && v == value)
    }

    /// The values a query field reads: `field`, or for `x.id` without
    /// such an attribute, `x`.
    fn field_values<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let direct = self.attrs.iter().any(|(k, _)| k == field);
        let key = match field.strip_suffix(".id") {
            Some(base) if !direct => base,
            _ => field,
        };
        self.values(key)
    }
}

impl Query {
    /// Does the object match, for the user `login` (`$[user.id]`)? For a
    /// query with expanders, see [`Query::eval`]; here an expander the
    /// object does not expand counts as no match.
    pub fn matches(&self, object: &Object, login: &str) -> bool {
        self.eval(object, login, "") == Some(true)
    }

    /// Does the object match the query of custom set `set`? `None` when
    /// the answer depends on a query expander the caller did not expand
    /// (see [`Expander::given`]); three-valued: `false AND ?` is false,
    /// `true OR ?` is true.
    pub fn eval(&self, object: &Object, login: &str, set: &str) -> Option<bool> {
        match self {
            Query::Term { field, pattern } => Some(
                object
                    .field_values(field)
                    .any(|v| pattern.matches(v, login)),
            ),
            Query::And(qs) => {
                let mut known = true;
                for q in qs {
                    match q.eval(object, login, set) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => known = false,
                    }
                }
                known.then_some(true)
            }
            Query::Or(qs) => {
                let mut known = true;
                for q in qs {
                    match q.eval(object, login, set) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => known = false,
                    }
                }
                known.then_some(false)
            }
            Query::Not(q) => q.eval(object, login, set).map(|b| !b),
            Query::Expander(e) => e.given(object, set).map(|(_, b)| b),
        }
    }

    /// The query expanders, in the order they are written.
    pub fn expanders(&self) -> Vec<&Expander> {
        let mut out = Vec::new();
        self.collect_expanders(&mut out);
        out
    }

    fn collect_expanders<'q>(&'q self, out: &mut Vec<&'q Expander>) {
        match self {
            Query::Term { .. } => {}
            Query::And(qs) | Query::Or(qs) => qs.iter().for_each(|q| q.collect_expanders(out)),
            Query::Not(q) => q.collect_expanders(out),
            Query::Expander(e) => out.push(e),
        }
    }

    /// The first expander whose expansion the caller did not give and the
    /// answer depends on, for the message that says so.
    pub fn missing_expander(&self, object: &Object, set: &str) -> Option<&Expander> {
        self.expanders()
            .into_iter()
            .find(|e| e.given(object, set).is_none())
    }
}

impl Pattern {
    fn matches(&self, value: &str, login: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(parts) => {
                let (rest, ok) = eat(parts, value, login);
                ok && rest.is_empty()
            }
            Pattern::Prefix(parts) => eat(parts, value, login).1,
        }
    }
}

/// Consume `parts` from the front of `value`; (what is left, all matched).
fn eat<'v>(parts: &[Part], mut value: &'v str, login: &str) -> (&'v str, bool) {
    for p in parts {
        let want = match p {
            Part::Text(t) => t.as_str(),
            Part::UserId => login,
        };
        match value.get(..want.len()) {
            Some(head) if head.eq_ignore_ascii_case(want) => value = &value[want.len()..],
            _ => return (value, false),
        }
    }
    (value, true)
}

/// The load-time warning for one expander of a custom set's query.
pub fn expander_diag(cs: &crate::model::CustomSet, e: &Expander) -> crate::diag::Diagnostic {
    let [one, all] = e.keys(cs.id.as_str());
    cs.query_at
        .clone()
        .diag(
            crate::diag::Code::QueryExpander,
            format!(
                "the query of custom set `{}` uses the query expander `{}`, which rolesync cannot evaluate without Polarion's database",
                cs.id,
                e.shown()
            ),
        )
        .with_note(format!(
            "a decision that depends on it is refused until the caller expands it and passes the object attribute `{one}=true|false` (or `{all}` for every expander of the set); see docs/permissions.md, \"Query expanders\""
        ))
}

/// The refusal of a decision that depends on an expander the caller did
/// not expand.
pub fn unexpanded(q: &Query, object: &Object, set: &str) -> crate::policy::RequestError {
    let (expander, key) = match q.missing_expander(object, set) {
        Some(e) => (e.shown(), e.keys(set)[0].clone()),
        None => (String::new(), format!("{EXPANDED}{set}")),
    };
    crate::policy::RequestError::Unexpanded {
        set: set.to_owned(),
        expander,
        key,
    }
}

/// One explanation line per expander of a matched set's query: what the
/// caller's expansion said.
pub fn expansions(q: &Query, object: &Object, set: &str) -> Vec<String> {
    q.expanders()
        .into_iter()
        .map(|e| match e.given(object, set) {
            Some((key, value)) => format!(
                "query expander {} cannot be evaluated without Polarion's database: the caller's {key}={value} stands for it",
                e.shown()
            ),
            None => format!(
                "query expander {} cannot be evaluated without Polarion's database and was not expanded (the rest of the query decided)",
                e.shown()
            ),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    /// A word (escapes resolved) and whether it ended in `:` (a field).
    Word {
        parts: Vec<Part>,
        star: bool,
        field: bool,
    },
    Phrase(Vec<Part>),
    /// `,` between alternatives.
    Comma,
    /// A query expander with its argument as written.
    Expander {
        name: String,
        arg: String,
    },
}

/// Parse a custom-set query nested at most `max_depth` levels deep
/// (parentheses and `NOT`; capped at [`MAX_QUERY_DEPTH_CEILING`]).
pub fn parse_within(text: &str, max_depth: usize) -> Result<Query, QueryError> {
    let toks = lex(text)?;
    if toks.is_empty() {
        return Err(err(0, "the query is empty"));
    }
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        end: text.len(),
        depth: 0,
        max_depth: max_depth.min(MAX_QUERY_DEPTH_CEILING),
        expanders: 0,
    };
    let q = p.or(None)?;
    match p.toks.get(p.pos) {
        None => Ok(q),
        Some((at, Tok::Close)) => Err(err(*at, "`)` without a matching `(`")),
        Some((at, _)) => Err(err(*at, "unexpected text here")),
    }
}

fn err(offset: usize, message: impl Into<String>) -> QueryError {
    QueryError {
        offset,
        message: message.into(),
        kind: QueryErrorKind::Syntax,
    }
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        match c {
            '(' => {
                out.push((start, Tok::Open));
                i += 1;
            }
            ')' => {
                out.push((start, Tok::Close));
                i += 1;
            }
            '&' if bytes.get(i + 1) == Some(&b'&') => {
                out.push((start, Tok::And));
                i += 2;
            }
            '|' if bytes.get(i + 1) == Some(&b'|') => {
                out.push((start, Tok::Or));
                i += 2;
            }
            '!' | '-' => {
                out.push((start, Tok::Not));
                i += 1;
            }
            '+' => i += 1,
            ',' => {
                out.push((start, Tok::Comma));
                i += 1;
            }
            '"' => {
                let (parts, next) = phrase(text, i + 1)?;
                out.push((start, Tok::Phrase(parts)));
                i = next;
            }
            '[' | '{' => return Err(err(start, "ranges are not supported in custom-set queries")),
            _ => {
                let (tok, next) = word(text, i)?;
                i = next;
                if let Tok::Word {
                    parts, field: true, ..
                } = &tok
                    && let Some(name) = text_of(parts).filter(|n| EXPANDERS.contains(&n.as_str()))
                {
                    let (arg, next) = expander_arg(text, i)?;
                    out.push((
                        start,
                        Tok::Expander {
                            name,
                            arg: arg.to_owned(),
                        },
                    ));
                    i = next;
                    continue;
                }
                let tok = match &tok {
                    Tok::Word {
                        parts,
                        star: false,
                        field: false,
                    } if parts.len() == 1 => match &parts[0] {
                        Part::Text(t) if t == "AND" => Tok::And,
                        Part::Text(t) if t == "OR" => Tok::Or,
                        Part::Text(t) if t == "NOT" => Tok::Not,
                        _ => tok,
                    },
                    _ => tok,
                };
                out.push((start, tok));
            }
        }
    }
    Ok(out)
}

/// A quoted phrase starting after the opening quote.
fn phrase(text: &str, from: usize) -> Result<(Vec<Part>, usize), QueryError> {
    let mut parts = Parts::default();
    let mut i = from;
    while i < text.len() {
        if text[i..].starts_with(USER_ID) {
            parts.user_id();
            i += USER_ID.len();
            continue;
        }
        let c = text[i..].chars().next().unwrap_or('"');
        match c {
            '"' => return Ok((parts.finish(), i + 1)),
            '\\' => {
                let e = text[i + 1..]
                    .chars()
                    .next()
                    .ok_or_else(|| err(i, "a `\\` at the end of the query"))?;
                parts.push(e);
                i += 1 + e.len_utf8();
            }
            _ => {
                parts.push(c);
                i += c.len_utf8();
            }
        }
    }
    Err(err(from - 1, "a quoted phrase without its closing `\"`"))
}

const USER_ID: &str = "$[user.id]";

/// The argument of a query expander starting at `from` (right after its
/// `:`), as written: a parenthesised text up to its matching `)` (quotes
/// `'` and `"` and backslash escapes respected), a quoted phrase, or a
/// word up to whitespace or `)`.
fn expander_arg(text: &str, from: usize) -> Result<(&str, usize), QueryError> {
    let bytes = text.as_bytes();
    match bytes.get(from) {
        Some(b'(') => {
            let mut depth = 0usize;
            let mut quote: Option<u8> = None;
            let mut i = from;
            while let Some(&b) = bytes.get(i) {
                match (quote, b) {
                    (_, b'\\') => i += 1,
                    (Some(q), b) if b == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'\'' | b'"') => quote = Some(b),
                    (None, b'(') => depth += 1,
                    (None, b')') => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok((&text[from..=i], i + 1));
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(err(from, "`(` without a matching `)`"))
        }
        Some(b'"') => {
            let (_, next) = phrase(text, from + 1)?;
            Ok((&text[from..next], next))
        }
        _ => {
            let end = text[from..]
                .find(|c: char| c.is_whitespace() || c == ')')
                .map_or(text.len(), |e| from + e);
            if end == from {
                return Err(err(from, "a query expander without its argument"));
            }
            Ok((&text[from..end], end))
        }
    }
}

/// A word starting at `from`: up to whitespace, a parenthesis, a quote or
/// a `:` (which makes it a field name).
fn word(text: &str, from: usize) -> Result<(Tok, usize), QueryError> {
    let mut parts = Parts::default();
    let mut star = false;
    let mut i = from;
    while i < text.len() {
        if text[i..].starts_with(USER_ID) {
            if star {
                return Err(err(i, "only a trailing `*` is supported"));
            }
            parts.user_id();
            i += USER_ID.len();
            continue;
        }
        if text[i..].starts_with("$[") {
            return Err(err(
                i,
                "unknown variable; only `$[user.id]` is supported in custom-set queries",
            ));
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() || matches!(c, '(' | ')' | '"' | ',') {
            break;
        }
        if star {
            return Err(err(i - 1, "only a trailing `*` is supported"));
        }
        match c {
            ':' => {
                if parts.is_empty() {
                    return Err(err(i, "a `:` without a field name before it"));
                }
                let name = parts.finish();
                return Ok((
                    Tok::Word {
                        parts: name,
                        star: false,
                        field: true,
                    },
                    i + 1,
                ));
            }
            '\\' => {
                let e = text[i + 1..]
                    .chars()
                    .next()
                    .ok_or_else(|| err(i, "a `\\` at the end of the query"))?;
                parts.push(e);
                i += 1 + e.len_utf8();
            }
            '*' => {
                star = true;
                i += 1;
            }
            '?' => {
                return Err(err(
                    i,
                    "the `?` wildcard is not supported (only a trailing `*`)",
                ));
            }
            _ => {
                parts.push(c);
                i += c.len_utf8();
            }
        }
    }
    Ok((
        Tok::Word {
            parts: parts.finish(),
            star,
            field: false,
        },
        i,
    ))
}

#[derive(Default)]
struct Parts {
    parts: Vec<Part>,
    text: String,
}

impl Parts {
    fn push(&mut self, c: char) {
        self.text.push(c);
    }
    fn user_id(&mut self) {
        if !self.text.is_empty() {
            self.parts.push(Part::Text(std::mem::take(&mut self.text)));
        }
        self.parts.push(Part::UserId);
    }
    fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.text.is_empty()
    }
    fn finish(mut self) -> Vec<Part> {
        if !self.text.is_empty() {
            self.parts.push(Part::Text(self.text));
        }
        self.parts
    }
}

struct Parser<'t> {
    toks: &'t [(usize, Tok)],
    pos: usize,
    end: usize,
    /// Levels of `(` and `NOT` entered and not yet left.
    depth: usize,
    max_depth: usize,
    /// Expanders parsed so far.
    expanders: usize,
}

impl Parser<'_> {
    /// Run `inner` one level deeper, or refuse when that passes the limit.
    fn nested<T>(
        &mut self,
        at: usize,
        inner: impl FnOnce(&mut Self) -> Result<T, QueryError>,
    ) -> Result<T, QueryError> {
        if self.depth >= self.max_depth {
            return Err(QueryError {
                offset: at,
                message: format!(
                    "the query is nested deeper than the limit of {} levels of parentheses and NOT",
                    self.max_depth
                ),
                kind: QueryErrorKind::TooDeep,
            });
        }
        self.depth += 1;
        let out = inner(self);
        self.depth -= 1;
        out
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(a, _)| *a)
    }

    /// `and (OR and)*`; `field` is the default field inside `field:( … )`.
    fn or(&mut self, field: Option<&str>) -> Result<Query, QueryError> {
        let mut items = vec![self.and(field)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and(field)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Query::Or(items)
        })
    }

    /// `unary ([AND] unary)*`: juxtaposition is AND.
    fn and(&mut self, field: Option<&str>) -> Result<Query, QueryError> {
        let mut items = vec![self.unary(field)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    items.push(self.unary(field)?);
                }
                Some(Tok::Or | Tok::Close) | None => break,
                Some(_) => items.push(self.unary(field)?),
            }
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Query::And(items)
        })
    }

    fn unary(&mut self, field: Option<&str>) -> Result<Query, QueryError> {
        if self.peek() == Some(&Tok::Not) {
            let at = self.at();
            self.pos += 1;
            let inner = self.nested(at, |p| p.unary(field))?;
            return Ok(Query::Not(Box::new(inner)));
        }
        self.primary(field)
    }

    fn primary(&mut self, field: Option<&str>) -> Result<Query, QueryError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return Err(err(at, "an operator without a term after it"));
        };
        self.pos += 1;
        match tok {
            Tok::Open => {
                let q = self.nested(at, |p| p.or(field))?;
                self.close(at)?;
                Ok(q)
            }
            Tok::Word {
                field: true, parts, ..
            } => {
                let name = text_of(&parts)
                    .ok_or_else(|| err(at, "`$[user.id]` cannot be a field name"))?;
                self.value(&name, at)
            }
            Tok::Word { parts, star, .. } => match field {
                Some(f) => {
                    let first = term(f, parts, star);
                    self.alternatives(f, first)
                }
                None => Err(err(
                    at,
                    "a term without a field: write `field:value` (e.g. `status:approved`)",
                )),
            },
            Tok::Phrase(parts) => match field {
                Some(f) => {
                    let first = Query::Term {
                        field: f.to_owned(),
                        pattern: Pattern::Exact(parts),
                    };
                    self.alternatives(f, first)
                }
                None => Err(err(
                    at,
                    "a phrase without a field: write `field:\"a phrase\"`",
                )),
            },
            Tok::Expander { name, arg } => {
                self.expanders += 1;
                Ok(Query::Expander(Expander {
                    name,
                    arg,
                    n: self.expanders,
                }))
            }
            Tok::Comma => Err(err(at, "a `,` without a value before it")),
            Tok::Close => Err(err(at, "`)` without a term before it")),
            Tok::And | Tok::Or | Tok::Not => Err(err(at, "an operator without a term before it")),
        }
    }

    /// The value after `field:`.
    fn value(&mut self, field: &str, field_at: usize) -> Result<Query, QueryError> {
        let at = self.at();
        match self.peek().cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let q = self.nested(at, |p| p.or(Some(field)))?;
                self.close(at)?;
                Ok(q)
            }
            Some(Tok::Word {
                field: false,
                parts,
                star,
            }) => {
                self.pos += 1;
                let first = term(field, parts, star);
                self.alternatives(field, first)
            }
            Some(Tok::Phrase(parts)) => {
                self.pos += 1;
                let first = Query::Term {
                    field: field.to_owned(),
                    pattern: Pattern::Exact(parts),
                };
                self.alternatives(field, first)
            }
            _ => Err(err(field_at, format!("`{field}:` has no value after it"))),
        }
    }

    /// `first(,value)*`: a comma list of values of `field` is a list of
    /// alternatives (`status:(inreview,reviewed,approved)`).
    fn alternatives(&mut self, field: &str, first: Query) -> Result<Query, QueryError> {
        let mut items = vec![first];
        while self.peek() == Some(&Tok::Comma) {
            let comma = self.at();
            self.pos += 1;
            match self.peek().cloned() {
                Some(Tok::Word {
                    field: false,
                    parts,
                    star,
                }) => items.push(term(field, parts, star)),
                Some(Tok::Phrase(parts)) => items.push(Query::Term {
                    field: field.to_owned(),
                    pattern: Pattern::Exact(parts),
                }),
                _ => return Err(err(comma, "a `,` without a value after it")),
            }
            self.pos += 1;
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Query::Or(items)
        })
    }

    fn close(&mut self, open_at: usize) -> Result<(), QueryError> {
        if self.peek() == Some(&Tok::Close) {
            self.pos += 1;
            Ok(())
        } else {
            Err(err(open_at, "`(` without a matching `)`"))
        }
    }
}

fn text_of(parts: &[Part]) -> Option<String> {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => Some(t.as_str()),
            Part::UserId => None,
        })
        .collect()
}

fn term(field: &str, parts: Vec<Part>, star: bool) -> Query {
    let pattern = match (star, parts.is_empty()) {
        (true, true) => Pattern::Any,
        (true, false) => Pattern::Prefix(parts),
        (false, _) => Pattern::Exact(parts),
    };
    Query::Term {
        field: field.to_owned(),
        pattern,
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
