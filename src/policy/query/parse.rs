//! The parser of custom-set queries: a lexer, then recursive descent that
//! counts its depth (see the module above).

use super::types::*;

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
    let mut i = 0;
    while i < text.len() {
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if c == '+' {
            i += 1;
            continue;
        }
        let (tok, next) = match operator(text.as_bytes(), i) {
            Some((tok, len)) => (tok, i + len),
            None => match c {
                '"' => {
                    let (parts, next) = phrase(text, i + 1)?;
                    (Tok::Phrase(parts), next)
                }
                '[' | '{' => return Err(err(i, "ranges are not supported in custom-set queries")),
                _ => word_or_expander(text, i)?,
            },
        };
        out.push((i, tok));
        i = next;
    }
    Ok(out)
}

/// The operator or parenthesis at `i`, with its length in bytes.
fn operator(bytes: &[u8], i: usize) -> Option<(Tok, usize)> {
    let next = bytes.get(i + 1);
    Some(match bytes.get(i)? {
        b'(' => (Tok::Open, 1),
        b')' => (Tok::Close, 1),
        b'&' if next == Some(&b'&') => (Tok::And, 2),
        b'|' if next == Some(&b'|') => (Tok::Or, 2),
        b'!' | b'-' => (Tok::Not, 1),
        b',' => (Tok::Comma, 1),
        _ => return None,
    })
}

/// The word at `i` (an `AND`, `OR` or `NOT` as the operator), or a query
/// expander with its argument; and where the next token starts.
fn word_or_expander(text: &str, i: usize) -> Result<(Tok, usize), QueryError> {
    let (tok, next) = word(text, i)?;
    if let Tok::Word {
        parts, field: true, ..
    } = &tok
        && let Some(name) = text_of(parts).filter(|n| EXPANDERS.contains(&n.as_str()))
    {
        let (arg, next) = expander_arg(text, next)?;
        let arg = arg.to_owned();
        return Ok((Tok::Expander { name, arg }, next));
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
    Ok((tok, next))
}

/// The character a `\` at `i` escapes.
fn escaped(text: &str, i: usize) -> Result<char, QueryError> {
    text[i + 1..]
        .chars()
        .next()
        .ok_or_else(|| err(i, "a `\\` at the end of the query"))
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
                let e = escaped(text, i)?;
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
                let e = escaped(text, i)?;
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
