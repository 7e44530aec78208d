//! What decided, as the decision log names it: the reason (a short code),
//! and the role and rule (`grant|deny PERMISSION`, `file:line`) that set
//! the deciding step's state — read from the [`Explanation`] the explain
//! machinery records for the same request (it never ends in another
//! verdict than the check).

use serde::Serialize;

use crate::model::Loc;
use crate::policy::rest::{self, Layer};
use crate::policy::{Explanation, Object, Purpose, Reason, Request, RestCall, Setting, Via};
use crate::snapshot::Snapshot;

/// The deciding role and rule of one decision (each absent when none
/// applies: nothing granted, a built-in default, an account refusal).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    /// The layer of a REST call whose decision this is (`endpoint`, or
    /// `item` when the item layer refused or allowed last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<&'static str>,
    pub reason: &'static str,
    /// The permission whose state decided (the item's, for a REST call the
    /// item layer decided).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_permission: Option<String>,
    /// The role held, and how (`role [scope] (file:line)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The rule: `grant|deny PERMISSION (file:line)` or a built-in default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The rule's `file:line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

fn reason_code(r: Reason) -> &'static str {
    match r {
        Reason::Admin => "admin",
        Reason::Account(crate::policy::AccountStatus::Disabled) => "account-disabled",
        Reason::Account(crate::policy::AccountStatus::NoAccount) => "no-account",
        Reason::Account(crate::policy::AccountStatus::Active) => "account-active",
        Reason::Account(crate::policy::AccountStatus::LockedInDirectory) => {
            "account-locked-in-directory"
        }
        Reason::Account(crate::policy::AccountStatus::NotInDirectory) => "account-not-in-directory",
        Reason::NoUserRole => "no-user-role",
        Reason::Granted => "granted",
        Reason::Denied => "not-granted",
        Reason::FieldReadDenied => "field-read-denied",
        Reason::DocumentContentDenied => "document-content-denied",
        Reason::HeadingDelete => "heading-delete",
    }
}

fn at(loc: &Loc) -> String {
    format!("{}:{}", loc.file, loc.line)
}

/// The deciding role and rule of `e`.
pub fn of_explanation(e: &Explanation) -> Why {
    let mut why = Why {
        reason: reason_code(e.reason),
        decided_permission: Some(e.permission.clone()),
        ..Why::default()
    };
    if let Some(admin) = &e.admin {
        why.role = Some(admin.via.describe(&admin.role));
        if let Via::Assignment { at: loc, .. } = &admin.via {
            why.at = Some(at(loc));
        }
        return why;
    }
    let purpose = match e.reason {
        Reason::FieldReadDenied => Purpose::FieldRead,
        Reason::DocumentContentDenied => Purpose::DocumentContent,
        _ => Purpose::Asked,
    };
    let Some(step) = e.steps.iter().find(|s| s.purpose == purpose) else {
        return why;
    };
    why.decided_permission = Some(step.permission.clone());
    let line = step
        .roles
        .iter()
        .find(|r| r.state == step.strongest && r.setting.is_some());
    if let Some(line) = line {
        why.role = Some(line.via.describe(&line.role));
        why.rule = line.setting.as_ref().map(Setting::describe);
        if let Some(Setting::Rule { at: loc, .. }) = &line.setting {
            why.at = Some(at(loc));
        }
    }
    why
}

/// Why `user` was answered so on `permission` in `project` with `object`.
pub fn of_permission(
    snap: &Snapshot,
    user: &str,
    permission: &str,
    project: Option<&str>,
    object: &Object,
) -> Option<Why> {
    let req = Request {
        user,
        permission,
        project,
        object,
    };
    snap.policy.explain(&req).ok().map(|e| of_explanation(&e))
}

/// Why `call` was answered so: the refusing layer's explanation, else the
/// item layer's (the last one that allowed), else the endpoint's.
pub fn of_call(
    snap: &Snapshot,
    user: &str,
    call: &RestCall,
    object: &Object,
    items: bool,
) -> Option<Why> {
    let e = rest::explain(&snap.policy, user, call, object).ok()?;
    let item = e
        .item
        .as_ref()
        .and_then(|(_, x)| x.as_ref())
        .filter(|_| items);
    let refused = if items {
        e.refused()
    } else {
        rest::refused_by(e.endpoint.verdict, None)
    };
    let (layer, chosen) = match (refused, item) {
        (Some(Layer::Endpoint), _) | (_, None) => (Layer::Endpoint, &e.endpoint),
        (_, Some(item)) => (Layer::Item, item),
    };
    Some(Why {
        layer: Some(layer.as_str()),
        ..of_explanation(chosen)
    })
}
