//! Permission names: the documented table of parent permissions, the
//! special names (login, REST endpoints), and REST calls (`VERB /path`)
//! turned into a permission and a context.
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

/// A REST call: the permission it needs and its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestCall<'a> {
    pub verb: Verb,
    /// The project of a project endpoint; `None` for a global endpoint.
    pub project: Option<&'a str>,
}

/// Why a REST call could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    #[error("`{0}` is no REST verb (GET, PATCH, POST, DELETE)")]
    Verb(String),
    #[error("`{0}` is no path (it must start with `/`)")]
    Path(String),
    #[error("`{0}` is not `VERB /path`")]
    Line(String),
}

impl<'a> RestCall<'a> {
    /// `verb` and `path` (query string and fragment ignored). The project
    /// is the segment after a leading `projects` segment, also behind the
    /// `/polarion/rest/v1` prefix.
    pub fn parse(verb: &str, path: &'a str) -> Result<Self, RestError> {
        let verb = Verb::parse(verb).ok_or_else(|| RestError::Verb(verb.to_owned()))?;
        if !path.starts_with('/') {
            return Err(RestError::Path(path.to_owned()));
        }
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let path = match path.strip_prefix(REST_PREFIX) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => path,
        };
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        let project = match (segments.next(), segments.next()) {
            (Some("projects"), Some(p)) => Some(p),
            _ => None,
        };
        Ok(RestCall { verb, project })
    }

    /// `"GET /polarion/rest/v1/projects/x"`.
    pub fn parse_line(line: &'a str) -> Result<Self, RestError> {
        let (verb, path) = line
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| RestError::Line(line.to_owned()))?;
        RestCall::parse(verb, path.trim())
    }
}

impl fmt::Display for RestCall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.project {
            Some(p) => write!(f, "{} in project {p}", self.verb.permission()),
            None => write!(f, "{} (global endpoint)", self.verb.permission()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parent(child: &str, expect: Option<&str>) {
        assert_eq!(parent(child).as_deref(), expect, "{child}");
    }

    #[test]
    fn test_run_comment_falls_back_to_modify() {
        check_parent(
            "com.polarion.persistence.object.TestRun.comment",
            Some("com.polarion.persistence.object.TestRun.modify"),
        );
    }

    #[test]
    fn user_and_role_management_fall_back_to_administration() {
        check_parent(
            "com.polarion.security.user.manage",
            Some("com.polarion.administration.modify"),
        );
        check_parent(
            "com.polarion.security.role.manage",
            Some("com.polarion.administration.modify"),
        );
    }

    #[test]
    fn legacy_document_modify_stands_for_its_parts() {
        for part in ["manage", "modifyFields", "modifyContent"] {
            check_parent(
                &format!("com.polarion.persistence.object.Module.{part}"),
                Some("com.polarion.persistence.object.Module.modify"),
            );
        }
        check_parent("com.polarion.persistence.object.Module.comment", None);
    }

    #[test]
    fn fields_fall_back_to_their_object() {
        check_parent(
            "com.polarion.persistence.object.WorkItem.field.severity.modify",
            Some("com.polarion.persistence.object.WorkItem.modify"),
        );
        check_parent(
            "com.polarion.persistence.object.WorkItem.field.salary.read",
            Some("com.polarion.persistence.object.WorkItem.read"),
        );
        check_parent("com.polarion.persistence.object.WorkItem.modify", None);
        check_parent("com.example.plugin.thing", None);
    }

    /// `line` → (permission, project).
    fn check_rest(line: &str, expect: Result<(&str, Option<&str>), ()>) {
        let got = RestCall::parse_line(line)
            .map(|c| (c.verb.permission(), c.project))
            .map_err(|_| ());
        assert_eq!(got, expect, "{line}");
    }

    #[test]
    fn rest_calls_name_their_context() {
        check_rest(
            "GET /polarion/rest/v1/projects",
            Ok(("com.polarion.rest.endpoint.get", None)),
        );
        check_rest(
            "GET /polarion/rest/v1/projects/drivepilot/workitems?page=1",
            Ok(("com.polarion.rest.endpoint.get", Some("drivepilot"))),
        );
        check_rest(
            "PATCH /projects/elibrary",
            Ok(("com.polarion.rest.endpoint.patch", Some("elibrary"))),
        );
        check_rest(
            "delete /polarion/rest/v1/users/bob",
            Ok(("com.polarion.rest.endpoint.delete", None)),
        );
        check_rest(
            "POST /polarion/rest/v1projects/x",
            Ok(("com.polarion.rest.endpoint.post", None)),
        );
        check_rest("PUT /projects/x", Err(()));
        check_rest("GET projects/x", Err(()));
        check_rest("GET", Err(()));
    }

    #[test]
    fn the_forbidden_body_is_one_json_document() {
        let v: serde_json::Value = serde_json::from_str(FORBIDDEN_BODY).expect("JSON");
        assert_eq!(v["errors"][0]["status"], "403");
        assert!(v["errors"][0]["source"].is_null());
    }
}
