//! The parsed query ([`Query`], [`Pattern`], [`Expander`]), the object it
//! is evaluated against ([`Object`]), the evaluation and the errors. A
//! leaf: `parse` builds these types, nothing here parses.

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
pub(super) const SHOWN: usize = 80;

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
pub(super) fn eat<'v>(parts: &[Part], mut value: &'v str, login: &str) -> (&'v str, bool) {
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
