//! The two layers of a REST call (000, 001: "REST operations require two
//! sets of permissions"): the endpoint layer (`com.polarion.rest.endpoint.<verb>`
//! in the call's context), then the item layer: the Polarion permission
//! the call needs on the resource it addresses, from one table
//! ([`ItemAccess::of`], documented in docs/permissions.md, "The item
//! layer"). A call the endpoint layer refuses never reaches the item layer
//! (000: "Once the endpoint is called, Polarion permissions (Item-level)
//! are checked").
//!
//! Both layers are ordinary decisions of [`Index`], so `check` and
//! `explain` of a call agree as every decision does: [`check`] and
//! [`explain`] combine the two verdicts with the same [`refused_by`].

use std::fmt::Write as _;

use super::explain::{Explanation, Verdict};
use super::index::{Index, Request, RequestError};
use super::names::{REST_PREFIX, RestCall, Verb};
use super::query::Object;

/// The layer of a REST call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// `com.polarion.rest.endpoint.<verb>` in the call's context.
    Endpoint,
    /// The permission on the item the call addresses.
    Item,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Endpoint => "endpoint",
            Layer::Item => "item",
        }
    }
}

/// What the call does to the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    View,
    Create,
    Modify,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Create => "create",
            Action::Modify => "modify",
            Action::Delete => "delete",
        }
    }
}

/// The item permission a REST call needs: one row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAccess {
    /// An absolute permission name (`…object.WorkItem.read`).
    pub permission: String,
    /// The project the item is in.
    pub project: String,
    pub action: Action,
    /// `Project 'A'`, `Work Item 'DP-12'`, `Work Items in Project 'A'`.
    pub what: String,
    /// Attributes the path gives the item (`id`, `space`); the caller's
    /// own attributes win.
    pub attrs: Vec<(String, String)>,
}

const OBJ: &str = "com.polarion.persistence.object.";

/// The resources of the table: the path segment, the prototype, the name
/// Polarion's messages use (singular, plural).
const RESOURCES: &[(&str, &str, &str, &str)] = &[
    ("workitems", "WorkItem", "Work Item", "Work Items"),
    ("plans", "Plan", "Plan", "Plans"),
    ("testruns", "TestRun", "Test Run", "Test Runs"),
];

/// A canonical segment with its escapes decoded (the canonical form keeps
/// only escapes that decode to UTF-8, see `RestPath`).
fn decoded(seg: &str) -> String {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| {
            bytes
                .get(j)
                .and_then(|c| char::from(*c).to_digit(16))
                .and_then(|d| u8::try_from(d).ok())
        };
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ItemAccess {
    /// The item permission `call` needs, or `None` where the table has no
    /// row (global endpoints, lists, which the server filters, and
    /// resources outside the table): then only the endpoint layer decides.
    pub fn of(call: &RestCall) -> Option<ItemAccess> {
        let path = call.path.as_str();
        let path = path.strip_prefix(REST_PREFIX).unwrap_or(path);
        let segs: Vec<String> = path
            .split('/')
            .skip(1)
            .filter(|s| !s.is_empty())
            .map(decoded)
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (p, rest) = match segs.as_slice() {
            ["projects", p, rest @ ..] => (*p, rest),
            _ => return None,
        };
        let t = Table {
            verb: call.verb,
            project: p,
        };
        match rest {
            [] => t.project(),
            [kind, tail @ ..] if RESOURCES.iter().any(|r| r.0 == *kind) => {
                let (_, proto, one, many) = RESOURCES.iter().find(|r| r.0 == *kind)?;
                match tail {
                    [] => t.collection(proto, one, many),
                    [id, sub @ ..] => t.item(
                        proto,
                        format!("{one} '{id}'"),
                        !sub.is_empty(),
                        &[("id", id)],
                    ),
                }
            }
            ["spaces", space, "documents", tail @ ..] => match tail {
                [] => t.collection("Module", "Document", "Documents"),
                [doc, sub @ ..] => t.document(space, doc, sub),
            },
            ["spaces", space, "pages", tail @ ..] => match tail {
                [] => t.collection("RichPage", "Page", "Pages"),
                [page, sub @ ..] => t.item(
                    "RichPage",
                    format!("Page '{space}/{page}'"),
                    !sub.is_empty(),
                    &[("id", page), ("space", space)],
                ),
            },
            _ => None,
        }
    }

    /// `You do not have permission to view Project 'A'.` (000, 001).
    pub fn detail(&self) -> String {
        format!(
            "You do not have permission to {} {}.",
            self.action.as_str(),
            self.what
        )
    }

    /// The 403 body of a refused item: the shape of 000/001's example.
    pub fn body(&self) -> String {
        let detail = serde_json::to_string(&self.detail()).unwrap_or_else(|_| "\"\"".into());
        format!(r#"{{"errors":[{{"status":"403","title":"Forbidden","detail":{detail}}}]}}"#)
    }

    /// The object of the item decision: the caller's attributes, and the
    /// path's for keys the caller did not give.
    pub fn object(&self, given: &Object) -> Object {
        let mut obj = given.clone();
        for (k, v) in &self.attrs {
            if given.values(k).next().is_none() {
                obj.push(k, v);
            }
        }
        obj
    }
}

/// The rows of the item table for one verb in one project.
struct Table<'a> {
    verb: Verb,
    project: &'a str,
}

impl Table<'_> {
    fn row(
        &self,
        proto: &str,
        perm: &str,
        action: Action,
        what: String,
        attrs: &[(&str, &str)],
    ) -> Option<ItemAccess> {
        Some(ItemAccess {
            permission: format!("{OBJ}{proto}.{perm}"),
            project: self.project.to_owned(),
            action,
            what,
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    /// The project itself.
    fn project(&self) -> Option<ItemAccess> {
        let what = format!("Project '{}'", self.project);
        match self.verb {
            Verb::Get => self.row("Project", "read", Action::View, what, &[]),
            Verb::Patch => self.row("Project", "modify", Action::Modify, what, &[]),
            Verb::Delete => self.row("Project", "delete", Action::Delete, what, &[]),
            Verb::Post => None,
        }
    }

    /// Reading an item and its sub-resources needs read; changing a
    /// sub-resource (comments, approvals, links, …) modifies the item.
    fn item(
        &self,
        proto: &str,
        what: String,
        sub: bool,
        attrs: &[(&str, &str)],
    ) -> Option<ItemAccess> {
        match (self.verb, sub) {
            (Verb::Get, _) => self.row(proto, "read", Action::View, what, attrs),
            (Verb::Patch, false) | (_, true) => {
                self.row(proto, "modify", Action::Modify, what, attrs)
            }
            (Verb::Delete, false) => self.row(proto, "delete", Action::Delete, what, attrs),
            (Verb::Post, false) => None,
        }
    }

    /// A collection: POST creates; PATCH and DELETE change or delete the
    /// items the body names; GET lists, and the server filters.
    fn collection(&self, proto: &str, one: &str, many: &str) -> Option<ItemAccess> {
        let in_project = format!("in Project '{}'", self.project);
        match self.verb {
            Verb::Post => self.row(
                proto,
                "create",
                Action::Create,
                format!("{one} {in_project}"),
                &[],
            ),
            Verb::Patch => self.row(
                proto,
                "modify",
                Action::Modify,
                format!("{many} {in_project}"),
                &[],
            ),
            Verb::Delete => self.row(
                proto,
                "delete",
                Action::Delete,
                format!("{many} {in_project}"),
                &[],
            ),
            Verb::Get => None,
        }
    }

    /// A Document and its sub-resources.
    fn document(&self, space: &str, doc: &str, sub: &[&str]) -> Option<ItemAccess> {
        let what = format!("Document '{space}/{doc}'");
        let attrs = [("id", doc), ("space", space)];
        let row = |perm, action| self.row("Module", perm, action, what, &attrs);
        match (self.verb, sub) {
            (Verb::Get, _) => row("read", Action::View),
            // 002, "Document Permissions": the Document's own fields, and
            // its content (parts: work items and structure).
            (Verb::Patch, []) => row("modifyFields", Action::Modify),
            (Verb::Delete, []) => row("delete", Action::Delete),
            (Verb::Post, []) => None,
            (_, ["parts", ..]) => row("modifyContent", Action::Modify),
            (_, _) => row("modify", Action::Modify),
        }
    }
}

/// The layer that refuses, from the two verdicts (`None` for the item
/// layer: not reached or not in the table); `None` when the call is
/// allowed. The one combination `check` and `explain` share.
pub fn refused_by(endpoint: Verdict, item: Option<Verdict>) -> Option<Layer> {
    match (endpoint, item) {
        (Verdict::Deny, _) => Some(Layer::Endpoint),
        (Verdict::Allow, Some(Verdict::Deny)) => Some(Layer::Item),
        (Verdict::Allow, _) => None,
    }
}

/// A REST call decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestDecision {
    pub endpoint: Verdict,
    /// The item layer's row (when the call has one and items are checked)
    /// and its verdict (`None`: the endpoint layer refused first).
    pub item: Option<(ItemAccess, Option<Verdict>)>,
}

impl RestDecision {
    pub fn refused(&self) -> Option<Layer> {
        refused_by(self.endpoint, self.item.as_ref().and_then(|(_, v)| *v))
    }

    pub fn verdict(&self) -> Verdict {
        match self.refused() {
            None => Verdict::Allow,
            Some(_) => Verdict::Deny,
        }
    }

    /// The 403 body when refused: the endpoint body, or the item's.
    pub fn body(&self) -> Option<String> {
        match (self.refused(), &self.item) {
            (Some(Layer::Item), Some((a, _))) => Some(a.body()),
            (Some(_), _) => Some(super::names::FORBIDDEN_BODY.to_owned()),
            (None, _) => None,
        }
    }
}

/// The endpoint request of a call.
fn endpoint_request<'a>(user: &'a str, call: &'a RestCall, object: &'a Object) -> Request<'a> {
    Request {
        user,
        permission: call.verb.permission(),
        project: call.project(),
        object,
    }
}

/// Decide `call` for `user`: the endpoint layer, then (when `items`) the
/// item layer.
pub fn check(
    ix: &Index,
    user: &str,
    call: &RestCall,
    object: &Object,
    items: bool,
) -> Result<RestDecision, RequestError> {
    let endpoint = ix.check(&endpoint_request(user, call, object))?;
    let item = match ItemAccess::of(call).filter(|_| items) {
        None => None,
        Some(a) if endpoint == Verdict::Deny => Some((a, None)),
        Some(a) => {
            let obj = a.object(object);
            let v = ix.check(&Request {
                user,
                permission: &a.permission,
                project: Some(&a.project),
                object: &obj,
            })?;
            Some((a, Some(v)))
        }
    };
    Ok(RestDecision { endpoint, item })
}

/// A REST call explained, layer by layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestExplanation {
    pub call: String,
    pub endpoint: Explanation,
    pub item: Option<(ItemAccess, Option<Explanation>)>,
}

/// The explanation of [`check`]: the same two decisions, recorded.
pub fn explain(
    ix: &Index,
    user: &str,
    call: &RestCall,
    object: &Object,
) -> Result<RestExplanation, RequestError> {
    let endpoint = ix.explain(&endpoint_request(user, call, object))?;
    let item = match ItemAccess::of(call) {
        None => None,
        Some(a) if endpoint.verdict == Verdict::Deny => Some((a, None)),
        Some(a) => {
            let obj = a.object(object);
            let e = ix.explain(&Request {
                user,
                permission: &a.permission,
                project: Some(&a.project),
                object: &obj,
            })?;
            Some((a, Some(e)))
        }
    };
    Ok(RestExplanation {
        call: format!("{} {}", call.verb.as_str(), call.path.as_str()),
        endpoint,
        item,
    })
}

impl RestExplanation {
    pub fn refused(&self) -> Option<Layer> {
        let item = self
            .item
            .as_ref()
            .and_then(|(_, e)| e.as_ref().map(|e| e.verdict));
        refused_by(self.endpoint.verdict, item)
    }

    pub fn verdict(&self) -> Verdict {
        match self.refused() {
            None => Verdict::Allow,
            Some(_) => Verdict::Deny,
        }
    }

    /// One layer's chain, its decision line named after the layer and
    /// without the revision (printed once, at the end).
    fn layer_text(out: &mut String, layer: Layer, e: &Explanation, revision: &str) {
        for line in e.render(revision).lines() {
            if line.starts_with("revision: ") {
                continue;
            }
            match line.strip_prefix("decision: ") {
                Some(rest) => {
                    let _ = writeln!(out, "{} layer: {rest}", layer.as_str());
                }
                None => {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
    }

    /// The text: the endpoint layer's chain, the item layer's, the
    /// decision (and which layer refused), the revision.
    pub fn render(&self, revision: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "REST call {}: the endpoint layer, then the item layer",
            self.call
        );
        let _ = writeln!(out, "endpoint layer: {}", self.endpoint.permission);
        Self::layer_text(&mut out, Layer::Endpoint, &self.endpoint, revision);
        match &self.item {
            None => {
                let _ = writeln!(
                    out,
                    "item layer: none (no item permission in the table for this call; lists are filtered by the server)"
                );
            }
            Some((a, None)) => {
                let _ = writeln!(
                    out,
                    "item layer: {} in project {} ({} {}), not reached: the endpoint layer refused",
                    a.permission,
                    a.project,
                    a.action.as_str(),
                    a.what
                );
            }
            Some((a, Some(e))) => {
                let _ = writeln!(
                    out,
                    "item layer: {} in project {} ({} {})",
                    a.permission,
                    a.project,
                    a.action.as_str(),
                    a.what
                );
                Self::layer_text(&mut out, Layer::Item, e, revision);
            }
        }
        match (self.refused(), &self.item) {
            (None, _) => {
                let _ = writeln!(out, "decision: allow (both layers allow)");
            }
            (Some(Layer::Endpoint), _) => {
                let _ = writeln!(out, "decision: deny (refused by the endpoint layer)");
            }
            (Some(Layer::Item), item) => {
                let detail = item.as_ref().map(|(a, _)| a.detail()).unwrap_or_default();
                let _ = writeln!(out, "decision: deny (refused by the item layer: {detail})");
            }
        }
        let _ = writeln!(out, "revision: {revision}");
        out
    }
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
