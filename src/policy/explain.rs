//! What a decision says about itself: the [`Explanation`] that
//! [`Index::explain`](super::Index::explain) records, and its text form —
//! the chain user → role (file:line) → grant or deny (file:line) →
//! decision, stamped with the revision.

use std::fmt::Write as _;

use super::query::Object;
use super::state::State;
use crate::ident::{CustomsetId, GroupId, ProjectId, RoleId};
use crate::model::{Loc, Scope};
use crate::xml::Effect;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// An enabled account, or accounts are not managed in this repository.
    Active,
    /// `user.xml` says `disabled`.
    Disabled,
    /// Accounts are managed here and this login has none.
    NoAccount,
    /// The directory decides who is active and says this account is
    /// locked or disabled (`Index::locked_by` names what said so).
    LockedInDirectory,
    /// The directory decides who is active and has no such account.
    NotInDirectory,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
            AccountStatus::NoAccount => "no account",
            AccountStatus::LockedInDirectory => "locked in the directory",
            AccountStatus::NotInDirectory => "not in the directory",
        }
    }
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Allow,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

/// Why the answer is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Global `admin` is allowed everything.
    Admin,
    /// The account is disabled, or has no account where accounts are managed.
    Account(AccountStatus),
    /// Logging in needs the `user` role somewhere: Polarion's "[disabled]".
    NoUserRole,
    /// The strongest state over the user's roles is a grant.
    Granted,
    /// The strongest state is a deny or not set.
    Denied,
    /// Field READ denied ⇒ field MODIFY denied.
    FieldReadDenied,
    /// Title, Description or attachments inside a Document need
    /// `modifyContent` on the Document.
    DocumentContentDenied,
    /// A Heading work item may be deleted without `WorkItem.delete`
    /// (unless `headingsObeyDeletePermission` is set).
    HeadingDelete,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Admin => "global admin is allowed everything",
            Reason::Account(AccountStatus::Disabled) => "the account is disabled",
            Reason::Account(AccountStatus::NoAccount) => "the login has no account",
            Reason::Account(AccountStatus::Active) => "the account is active",
            Reason::Account(AccountStatus::LockedInDirectory) => {
                "the account is locked in the directory"
            }
            Reason::Account(AccountStatus::NotInDirectory) => "the directory has no such account",
            Reason::NoUserRole => "[disabled]: the user holds the `user` role nowhere",
            Reason::Granted => "granted",
            Reason::Denied => "not granted",
            Reason::FieldReadDenied => "reading the field is denied, so modifying it is too",
            Reason::DocumentContentDenied => {
                "changing this field inside a Document needs modifyContent on the Document"
            }
            Reason::HeadingDelete => {
                "a Heading is deleted without WorkItem.delete (headingsObeyDeletePermission is not set)"
            }
        }
    }
}

/// Why a step was evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The permission asked about.
    Asked,
    /// Reading the field, which modifying it needs.
    FieldRead,
    /// `modifyContent` on the Document that contains the work item.
    DocumentContent,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Asked => "asked",
            Purpose::FieldRead => "field read (READ denied ⇒ MODIFY denied)",
            Purpose::DocumentContent => "the Document's modifyContent (container rule)",
        }
    }
}

/// The context a step was evaluated in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    Global,
    Project(ProjectId),
    /// Every scope the user holds roles in (logging in).
    Anywhere,
}

/// How a user holds a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A user-roles.xml entry, for the user or one of their user groups.
    Assignment {
        scope: Scope,
        group: Option<GroupId>,
        at: Loc,
    },
    /// Everybody holds `everyone`.
    Everyone,
    /// The object's attribute names the user (`author`, `assignee`, …).
    Object { attribute: &'static str },
    /// The project's lead, from its polarion-project.xml.
    Lead { project: ProjectId, file: String },
}

/// What set a role's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// A `<grant>` or `<deny>` in a permissions.xml.
    Rule {
        permission: String,
        effect: Effect,
        at: Loc,
    },
    /// A built-in default (login for `user`, REST for the admins).
    Default { permission: String },
}

/// One role in one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleLine {
    pub role: RoleId,
    pub via: Via,
    pub state: State,
    pub setting: Option<Setting>,
}

/// The custom set whose query matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetLine {
    pub id: CustomsetId,
    pub at: Loc,
    /// The permission key it makes: `@SET.action`.
    pub key: String,
    /// Its query expanders, each with the caller's expansion that stood
    /// for it (`query::expansions`).
    pub expanded: Vec<String>,
}

/// One permission evaluated over all the user's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub purpose: Purpose,
    pub permission: String,
    pub context: Context,
    pub customset: Option<SetLine>,
    pub roles: Vec<RoleLine>,
    pub strongest: State,
}

/// A decision with every step that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub user: String,
    pub permission: String,
    pub project: Option<ProjectId>,
    pub object: Object,
    pub account: AccountStatus,
    /// The `admin` assignment that allowed everything.
    pub admin: Option<RoleLine>,
    pub steps: Vec<Step>,
    pub verdict: Verdict,
    pub reason: Reason,
}

fn effect_str(e: Effect) -> &'static str {
    match e {
        Effect::Grant => "grant",
        Effect::Deny => "deny",
    }
}

/// `file:line`, the form the chain uses.
fn at(loc: &Loc) -> String {
    format!("{}:{}", loc.file, loc.line)
}

impl Via {
    /// `role [scope] (file:line)`, with `group G →` in front when held
    /// through a user group.
    pub fn describe(&self, role: &RoleId) -> String {
        match self {
            Via::Assignment {
                scope,
                group,
                at: loc,
            } => {
                let scope = match scope {
                    Scope::Global => "global".to_owned(),
                    Scope::Project(p) => format!("project {p}"),
                };
                let group = group
                    .as_ref()
                    .map(|g| format!("group {g} → "))
                    .unwrap_or_default();
                format!("{group}{role} [{scope}] ({})", at(loc))
            }
            Via::Everyone => format!("{role} [built in]"),
            Via::Object { attribute } => format!("{role} [object: {attribute}]"),
            Via::Lead { project, file } => format!("{role} [lead of {project}] ({file})"),
        }
    }
}

impl Setting {
    pub fn describe(&self) -> String {
        match self {
            Setting::Rule {
                permission,
                effect,
                at: loc,
            } => format!("{} {permission} ({})", effect_str(*effect), at(loc)),
            Setting::Default { permission } => format!("built-in default for {permission}"),
        }
    }
}

impl Explanation {
    /// The chain as text, one line per role, ending in the decision and
    /// the revision that answered.
    pub fn render(&self, revision: &str) -> String {
        let mut out = String::new();
        let context = match &self.project {
            Some(p) => format!(" in project {p}"),
            None => String::new(),
        };
        let _ = writeln!(out, "{} asks for {}{context}", self.user, self.permission);
        if !self.object.is_empty() {
            let attrs: Vec<String> = self
                .object
                .attrs()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(out, "object: {}", attrs.join(" "));
        }
        if self.account != AccountStatus::Active {
            let _ = writeln!(out, "account: {}", self.account.as_str());
        }
        if let Some(admin) = &self.admin {
            let _ = writeln!(
                out,
                "{} → {} → allowed everything",
                self.user,
                admin.via.describe(&admin.role)
            );
        }
        for step in &self.steps {
            let context = match &step.context {
                Context::Global => "global".to_owned(),
                Context::Project(p) => format!("project {p}"),
                Context::Anywhere => "every scope".to_owned(),
            };
            let _ = writeln!(
                out,
                "{} [{context}] ({})",
                step.permission,
                step.purpose.as_str()
            );
            if let Some(set) = &step.customset {
                let _ = writeln!(
                    out,
                    "  custom set {} ({}) matches the object: key {}",
                    set.id,
                    at(&set.at),
                    set.key
                );
                for line in &set.expanded {
                    let _ = writeln!(out, "    {line}");
                }
            }
            for r in &step.roles {
                let setting = match &r.setting {
                    Some(s) => format!("{} = {}", s.describe(), r.state),
                    None => r.state.to_string(),
                };
                let _ = writeln!(
                    out,
                    "  {} → {} → {setting}",
                    self.user,
                    r.via.describe(&r.role)
                );
            }
            let verdict = if step.strongest.allows() {
                "allow"
            } else {
                "deny"
            };
            let _ = writeln!(out, "  strongest: {} → {verdict}", step.strongest);
        }
        let _ = writeln!(
            out,
            "decision: {} ({})",
            self.verdict.as_str(),
            self.reason.as_str()
        );
        let _ = writeln!(out, "revision: {revision}");
        out
    }
}
