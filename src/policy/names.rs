//! Permission names: the documented table of parent permissions, the
//! special names (login, REST endpoints), and REST calls (`VERB /path`)
//! turned into a permission and a context: the path is canonicalised once,
//! into a [`RestPath`], or refused.
//!
//! Parents (an unset child takes its parent's state, as inherited):
//!
//! | child | parent |
//! |---|---|
//! | `…object.TestRun.comment` | `…object.TestRun.modify` |
//! | `com.polarion.security.user.manage` | `com.polarion.administration.modify` |
//! | `com.polarion.security.role.manage` | `com.polarion.administration.modify` |
//! | `…object.Module.manage`, `.modifyFields`, `.modifyContent` | `…object.Module.modify` (the legacy Document permission) |
//! | `…object.<Prototype>.field.<fieldId>.read` / `.modify` | `…object.<Prototype>.read` / `.modify` |
//! | `@<set>.<rest>` (inside a custom set) | `<the set's prototype>.<rest>` |
//!
//! (`…` is `com.polarion.persistence`.) Names outside the table have no
//! parent and are evaluated the same way.

use std::fmt;

use crate::ident::ProjectId;

/// The prefix of object permissions.
pub const OBJECT: &str = "com.polarion.persistence.object.";
/// Logging in.
pub const LOGIN: &str = "com.polarion.security.login";
/// The body of every refused REST call (DESIGN §4), byte for byte.
pub const FORBIDDEN_BODY: &str = r#"{"errors":[{"status":"403","title":"Forbidden","detail":"Sorry, you do not have the necessary permissions to perform this operation. Please contact your Administrator if you need additional permissions.","source":null}]}"#;
/// The prefix Polarion serves its REST API under.
pub const REST_PREFIX: &str = "/polarion/rest/v1";

/// The fixed rows of the parent table (child, parent).
pub const PARENTS: &[(&str, &str)] = &[
    (
        "com.polarion.persistence.object.TestRun.comment",
        "com.polarion.persistence.object.TestRun.modify",
    ),
    (
        "com.polarion.security.user.manage",
        "com.polarion.administration.modify",
    ),
    (
        "com.polarion.security.role.manage",
        "com.polarion.administration.modify",
    ),
    (
        "com.polarion.persistence.object.Module.manage",
        "com.polarion.persistence.object.Module.modify",
    ),
    (
        "com.polarion.persistence.object.Module.modifyFields",
        "com.polarion.persistence.object.Module.modify",
    ),
    (
        "com.polarion.persistence.object.Module.modifyContent",
        "com.polarion.persistence.object.Module.modify",
    ),
];

/// The parent of a permission (see the table above); `None` for names
/// without one and for names inside a custom set (whose parent depends on
/// the set).
pub fn parent(name: &str) -> Option<String> {
    if let Some((_, p)) = PARENTS.iter().find(|(c, _)| *c == name) {
        return Some((*p).to_owned());
    }
    let field = field_permission(name)?;
    Some(format!(
        "{OBJECT}{}.{}",
        field.prototype,
        field.action.as_str()
    ))
}

/// Read or modify, of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAction {
    Read,
    Modify,
}

impl FieldAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldAction::Read => "read",
            FieldAction::Modify => "modify",
        }
    }
}

/// `…object.<prototype>.field.<field>.<action>`, taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldPermission<'a> {
    pub prototype: &'a str,
    pub field: &'a str,
    pub action: FieldAction,
}

/// Take a field permission apart; `None` for any other name.
pub fn field_permission(name: &str) -> Option<FieldPermission<'_>> {
    let rest = name.strip_prefix(OBJECT)?;
    let (prototype, rest) = rest.split_once(".field.")?;
    let (field, action) = rest.rsplit_once('.')?;
    let action = match action {
        "read" => FieldAction::Read,
        "modify" => FieldAction::Modify,
        _ => return None,
    };
    if prototype.is_empty() || prototype.contains('.') || field.is_empty() {
        return None;
    }
    Some(FieldPermission {
        prototype,
        field,
        action,
    })
}

/// The same field permission with another action.
pub fn field_name(f: &FieldPermission, action: FieldAction) -> String {
    format!(
        "{OBJECT}{}.field.{}.{}",
        f.prototype,
        f.field,
        action.as_str()
    )
}

/// Work-item fields whose change inside a Document also needs
/// `Module.modifyContent` on the Document.
pub const DOCUMENT_CONTENT_FIELDS: &[&str] = &["title", "description", "attachments"];
/// What the container rule asks of the Document.
pub const MODULE_MODIFY_CONTENT: &str = "com.polarion.persistence.object.Module.modifyContent";

/// The REST verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    Patch,
    Post,
    Delete,
}

impl Verb {
    pub const ALL: [Verb; 4] = [Verb::Get, Verb::Patch, Verb::Post, Verb::Delete];

    /// `GET`, `patch`, …; `HEAD` counts as `GET`.
    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => Verb::Get,
            "PATCH" => Verb::Patch,
            "POST" => Verb::Post,
            "DELETE" => Verb::Delete,
            _ => return None,
        })
    }

    /// The permission a call with this verb needs.
    pub fn permission(self) -> &'static str {
        match self {
            Verb::Get => "com.polarion.rest.endpoint.get",
            Verb::Patch => "com.polarion.rest.endpoint.patch",
            Verb::Post => "com.polarion.rest.endpoint.post",
            Verb::Delete => "com.polarion.rest.endpoint.delete",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Patch => "PATCH",
            Verb::Post => "POST",
            Verb::Delete => "DELETE",
        }
    }
}

/// Whether a permission is one of the REST endpoint permissions.
pub fn is_rest(name: &str) -> bool {
    Verb::ALL.iter().any(|v| v.permission() == name)
}

/// The longest REST request target (path and query, as the proxy sends
/// it) that is decided on, in bytes; a longer one is refused. nginx's
/// default `large_client_header_buffers` (8k) bounds a request line the
/// same way, and Polarion's own URLs stay far below it.
pub const MAX_REST_PATH_BYTES: usize = 8192;

/// Why a REST path is refused instead of decided on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathRefusal {
    #[error("is {len} bytes long; at most {max} are decided on")]
    TooLong { len: usize, max: usize },
    #[error("does not start with `/`")]
    NotAbsolute,
    #[error("has a fragment (`#`)")]
    Fragment,
    #[error("holds a control character (raw or encoded, NUL included)")]
    Control,
    #[error("holds a backslash (`\\` or `%5C`)")]
    Backslash,
    #[error("holds an encoded slash (`%2F`)")]
    EncodedSlash,
    #[error("holds an encoded `%` (`%25`, a double encoding)")]
    EncodedPercent,
    #[error("holds a `;` (path parameters, raw or `%3B`), which Tomcat drops from a segment")]
    PathParameter,
    #[error("holds a `%` that is not followed by two hex digits")]
    BadPercent,
    #[error("decodes to bytes that are not UTF-8")]
    NotUtf8,
    #[error("holds {0:?}, which a URI path holds only percent-encoded")]
    BadChar(char),
    #[error("has an empty segment (`//`)")]
    EmptySegment,
    #[error("has a dot segment (`.` or `..`, also percent-encoded)")]
    DotSegment,
    #[error("is under `/polarion` but not under `{REST_PREFIX}`")]
    NotRestApi,
    #[error("has `{0}`, which differs from a name of the REST API only in case")]
    Case(String),
    #[error(
        "names its endpoint or project `{0}` with characters other than letters, digits and `-._~`"
    )]
    Name(String),
    #[error("names no valid project: {0}")]
    Project(crate::ident::IdentError),
}

/// A REST request path in its one canonical form, with the context it
/// names. The only way to build one is [`RestPath::parse`], so a decision
/// is never made on anything else.
///
/// The canonical form: the query (after `?`) is dropped; percent-encoded
/// unreserved characters (RFC 3986 2.3: letters, digits, `-._~`) are
/// decoded, every other escape is kept with uppercase hex digits. A path
/// that could mean another path to some server between the client and
/// Polarion is refused (see [`PathRefusal`]): dot segments (RFC 3986 5.2.4)
/// are refused rather than removed, since the raw path is what the
/// upstream receives; so are `//`, `;`, encoded `/`, `\`, `%` and `;`,
/// control characters, invalid escapes, escapes that are not UTF-8, names
/// of the API that differ only in case, and paths longer than
/// [`MAX_REST_PATH_BYTES`]. What is accepted therefore differs from its
/// canonical form only in ways every server reads alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestPath {
    canonical: String,
    project: Option<ProjectId>,
}

/// RFC 3986 2.3.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `pchar` but for the unreserved characters, the escapes and `;`.
fn other_pchar(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@'
    )
}

fn hex(b: Option<&u8>) -> Option<u8> {
    b.and_then(|b| char::from(*b).to_digit(16))
        .and_then(|d| u8::try_from(d).ok())
}

/// One segment in canonical form, or why it is refused.
fn canonical_segment(seg: &str) -> Result<String, PathRefusal> {
    let bytes = seg.as_bytes();
    let mut out = String::with_capacity(seg.len());
    let mut decoded = Vec::with_capacity(seg.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let (Some(h), Some(l)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) else {
                return Err(PathRefusal::BadPercent);
            };
            let v = h << 4 | l;
            match v {
                b'/' => return Err(PathRefusal::EncodedSlash),
                b'\\' => return Err(PathRefusal::Backslash),
                b'%' => return Err(PathRefusal::EncodedPercent),
                b';' => return Err(PathRefusal::PathParameter),
                v if v < 0x20 || v == 0x7f => return Err(PathRefusal::Control),
                v if unreserved(v) => out.push(char::from(v)),
                v => out.push_str(&format!("%{v:02X}")),
            }
            decoded.push(v);
            i += 3;
            continue;
        }
        match b {
            b'\\' => return Err(PathRefusal::Backslash),
            b';' => return Err(PathRefusal::PathParameter),
            b if unreserved(b) || other_pchar(b) => {
                out.push(char::from(b));
                decoded.push(b);
            }
            _ => {
                let c = seg[i..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                return Err(PathRefusal::BadChar(c));
            }
        }
        i += 1;
    }
    if std::str::from_utf8(&decoded).is_err() {
        return Err(PathRefusal::NotUtf8);
    }
    Ok(out)
}

/// A segment of the API's name (`polarion`, `rest`, `v1`) where one is
/// expected; an empty trailing segment is the end of the path.
fn expect_name(seg: &str, name: &str) -> Result<(), PathRefusal> {
    if seg == name || seg.is_empty() {
        Ok(())
    } else if seg.eq_ignore_ascii_case(name) {
        Err(PathRefusal::Case(seg.to_owned()))
    } else {
        Err(PathRefusal::NotRestApi)
    }
}

/// A routing name (an endpoint, a project id): unreserved characters only.
fn plain_name(seg: &str) -> Result<&str, PathRefusal> {
    if seg.bytes().all(unreserved) {
        Ok(seg)
    } else {
        Err(PathRefusal::Name(seg.to_owned()))
    }
}

impl RestPath {
    /// Canonicalise `raw` (a path with an optional query, as the client
    /// sent it) and find its context: the segment after a leading
    /// `projects` segment, also behind the `/polarion/rest/v1` prefix, or
    /// the global context.
    pub fn parse(raw: &str) -> Result<RestPath, PathRefusal> {
        if raw.len() > MAX_REST_PATH_BYTES {
            return Err(PathRefusal::TooLong {
                len: raw.len(),
                max: MAX_REST_PATH_BYTES,
            });
        }
        if raw.chars().any(char::is_control) {
            return Err(PathRefusal::Control);
        }
        if raw.contains('#') {
            return Err(PathRefusal::Fragment);
        }
        let path = raw.split('?').next().unwrap_or(raw);
        let Some(path) = path.strip_prefix('/') else {
            return Err(PathRefusal::NotAbsolute);
        };
        let parts: Vec<&str> = path.split('/').collect();
        let mut segs = Vec::with_capacity(parts.len());
        for (i, seg) in parts.iter().enumerate() {
            if seg.is_empty() && i + 1 < parts.len() {
                return Err(PathRefusal::EmptySegment);
            }
            let c = canonical_segment(seg)?;
            if c == "." || c == ".." {
                return Err(PathRefusal::DotSegment);
            }
            segs.push(c);
        }
        let rest: &[String] = match segs.first().map(String::as_str) {
            Some("polarion") => {
                for (seg, name) in segs.iter().skip(1).zip(["rest", "v1"]) {
                    expect_name(seg, name)?;
                }
                segs.get(3..).unwrap_or(&[])
            }
            Some(s) if s.eq_ignore_ascii_case("polarion") => {
                return Err(PathRefusal::Case(s.to_owned()));
            }
            _ => &segs,
        };
        let project = match rest {
            [] => None,
            [first, ..] if first.is_empty() => None,
            [first, tail @ ..] => match plain_name(first)? {
                "projects" => match tail.first().map(String::as_str) {
                    None | Some("") => None,
                    Some(p) => Some(ProjectId::new(plain_name(p)?).map_err(PathRefusal::Project)?),
                },
                s if s.eq_ignore_ascii_case("projects") => {
                    return Err(PathRefusal::Case(s.to_owned()));
                }
                _ => None,
            },
        };
        Ok(RestPath {
            canonical: format!("/{}", segs.join("/")),
            project,
        })
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The project of a project endpoint; `None` for a global endpoint.
    pub fn project(&self) -> Option<&ProjectId> {
        self.project.as_ref()
    }
}

/// A REST call: the permission it needs and its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestCall {
    pub verb: Verb,
    pub path: RestPath,
}

/// Why a REST call could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    #[error("`{0}` is no REST verb (GET, PATCH, POST, DELETE)")]
    Verb(String),
    #[error("the REST path \"{path}\" is refused: it {reason}")]
    Path { path: String, reason: PathRefusal },
    #[error("`{0}` is not `VERB /path`")]
    Line(String),
}

impl RestError {
    fn path(raw: &str, reason: PathRefusal) -> RestError {
        // Shown escaped and cut short: it came from a client.
        let path: String = raw.chars().take(200).flat_map(char::escape_debug).collect();
        RestError::Path { path, reason }
    }
}

impl RestCall {
    /// `verb` (any case; `HEAD` counts as `GET`) and `path` (see
    /// [`RestPath::parse`]).
    pub fn parse(verb: &str, path: &str) -> Result<Self, RestError> {
        let verb = Verb::parse(verb).ok_or_else(|| RestError::Verb(verb.to_owned()))?;
        let path = RestPath::parse(path).map_err(|r| RestError::path(path, r))?;
        Ok(RestCall { verb, path })
    }

    /// A reverse proxy's original request: the method exactly as HTTP
    /// writes it (`GET`, `HEAD`, `PATCH`, `POST`, `DELETE`; methods are
    /// case-sensitive, so `get` is another method).
    pub fn from_request(method: &str, target: &str) -> Result<Self, RestError> {
        let verb = match method {
            "GET" | "HEAD" => Verb::Get,
            "PATCH" => Verb::Patch,
            "POST" => Verb::Post,
            "DELETE" => Verb::Delete,
            other => return Err(RestError::Verb(other.to_owned())),
        };
        let path = RestPath::parse(target).map_err(|r| RestError::path(target, r))?;
        Ok(RestCall { verb, path })
    }

    /// `"GET /polarion/rest/v1/projects/x"`.
    pub fn parse_line(line: &str) -> Result<Self, RestError> {
        let (verb, path) = line
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| RestError::Line(line.to_owned()))?;
        RestCall::parse(verb, path.trim())
    }

    /// The project of a project endpoint; `None` for a global endpoint.
    pub fn project(&self) -> Option<&str> {
        self.path.project().map(ProjectId::as_str)
    }
}

impl fmt::Display for RestCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.project() {
            Some(p) => write!(f, "{} in project {p}", self.verb.permission()),
            None => write!(f, "{} (global endpoint)", self.verb.permission()),
        }
    }
}

#[cfg(test)]
#[path = "names_tests.rs"]
mod tests;
