//! [`Index`]: the model rearranged once, at load, so that a decision never
//! scans users, roles or files — and the decision itself, written once and
//! run either plainly ([`Index::check`]) or with a recorder that keeps
//! every step ([`Index::explain`]). Both take the same path, so an
//! explanation always ends in the verdict `check` gives.
//!
//! What is indexed: names (roles, projects, logins, permissions) interned
//! to numbers; per login, the roles held globally and per project (sorted
//! by project), directly or through user groups; per (file, permission),
//! the grants and denies by role; per file, the custom sets with their
//! parsed queries; per permission, its parent.

use super::explain::AccountStatus;
use super::query::{Object, Query};
use crate::ident::{CustomsetId, GroupId, Login, ProjectId, RoleId};
use crate::model::{Loc, Scope};
use crate::xml::Effect;

/// The indexes' hash maps (keys from the configuration, lookups only).
type HashMap<K, V> = crate::fxhash::FxHashMap<K, V>;

mod build;
mod decide;
mod record;
mod view;

pub use view::{RoleHeld, UserView};

/// One question: may `user` have `permission` in `project` (global when
/// `None`) on `object`?
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub user: &'a str,
    /// An absolute permission name (`com.polarion.persistence.object.WorkItem.modify`).
    pub permission: &'a str,
    pub project: Option<&'a str>,
    /// The object's attributes, for custom sets and dynamic roles.
    pub object: &'a Object,
}

/// Why a request could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("there is no project `{0}`")]
    UnknownProject(String),
    /// A custom set's query uses a query expander the caller did not
    /// expand, and the decision depends on it.
    #[error(
        "custom set `{set}` uses the query expander `{expander}`, which rolesync cannot evaluate without Polarion's database; expand it and pass the result as the object attribute `{key}=true` or `=false` (docs/permissions.md, \"Query expanders\")"
    )]
    Unexpanded {
        set: String,
        expander: String,
        key: String,
    },
}

/// Whether a login may act at all.
/// Deleting a work item; a Heading (object attribute `type=heading`) needs
/// it only with `headingsObeyDeletePermission` (003).
const WORKITEM_DELETE: &str = "com.polarion.persistence.object.WorkItem.delete";
/// The work-item type of headings.
const HEADING_TYPE: &str = "heading";

/// The dynamic roles an object gives, and the attribute that gives each.
const DYNAMIC: [(&str, &str); 4] = [
    ("author", "author"),
    ("assignee", "assignee"),
    ("document_author", "document_author"),
    ("comment_author", "comment_author"),
];

#[derive(Debug, Clone, Copy)]
struct Special {
    admin: u32,
    user: u32,
    everyone: u32,
    assignable: u32,
    project_admin: u32,
    project_assignable: u32,
    lead: u32,
    dynamic: [u32; 4],
}

/// One role a user holds through one assignment.
#[derive(Debug, Clone, Copy)]
struct Assigned {
    role: u32,
    assignment: u32,
}

#[derive(Debug, Clone)]
struct UserEntry {
    account: AccountStatus,
    global: Vec<Assigned>,
    /// (project, held), sorted by project.
    projects: Vec<(u32, Assigned)>,
    groups: Vec<GroupId>,
    /// Holds `user` globally or in some project.
    has_user_role: bool,
}

#[derive(Debug, Clone)]
struct ProjectEntry {
    id: ProjectId,
    folder: String,
    lead: Option<Login>,
    /// Its own permissions.xml.
    file: Option<u32>,
}

#[derive(Debug, Clone)]
struct AssignmentInfo {
    scope: Scope,
    group: Option<GroupId>,
    at: Loc,
}

#[derive(Debug, Clone)]
struct CompiledSet {
    id: CustomsetId,
    prototype: String,
    query: Option<Query>,
    at: Loc,
}

#[derive(Debug, Clone)]
struct FileEntry {
    sets: Vec<CompiledSet>,
}

#[derive(Debug, Clone, Copy)]
struct RuleEntry {
    role: u32,
    effect: Effect,
    rule: u32,
}

#[derive(Debug, Clone)]
struct RuleInfo {
    permission: String,
    effect: Effect,
    at: Loc,
}

/// A role in the context of one decision, and how the user came to it.
#[derive(Debug, Clone, Copy)]
struct ActingRole {
    role: u32,
    origin: Origin,
}

#[derive(Debug, Clone, Copy)]
enum Origin {
    Assignment {
        idx: u32,
    },
    Everyone,
    /// Given by the object's attribute (index into `DYNAMIC`).
    Object(usize),
    Lead(u32),
}

/// Where a role's state came from.
#[derive(Debug, Clone, Copy)]
enum Source {
    NotSet,
    Rule(u32),
    Default(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Global,
    Project(u32),
    /// Every scope at once: logging in.
    Anywhere,
}

/// The custom set whose query matched: its permissions replace the
/// general ones for the object (the set's own tree comes first).
#[derive(Debug, Clone, Copy)]
struct SetHit {
    file: u32,
    set: u32,
}

/// The permission decisions of one configuration.
#[derive(Debug, Clone)]
pub struct Index {
    role_names: Vec<RoleId>,
    special: Special,
    projects: HashMap<String, u32>,
    project_list: Vec<ProjectEntry>,
    users: HashMap<String, u32>,
    user_list: Vec<UserEntry>,
    accounts_managed: bool,
    assignments: Vec<AssignmentInfo>,
    files: Vec<FileEntry>,
    global_file: Option<u32>,
    perms: HashMap<Box<str>, u32>,
    perm_names: Vec<Box<str>>,
    perm_parent: Vec<Option<u32>>,
    rules: HashMap<(u32, u32), (u32, u32)>,
    rule_entries: Vec<RuleEntry>,
    rule_info: Vec<RuleInfo>,
    /// (file, set) → action → the interned `@SET.action`.
    set_perms: HashMap<(u32, u32), HashMap<Box<str>, u32>>,
    login_perm: u32,
    rest_perms: [u32; 4],
    delete_perm: u32,
    /// `headingsObeyDeletePermission` of the global permissions.xml.
    headings_obey_delete: bool,
}

/// The most names of the general chain (a permission and its parents):
/// the parent table is two deep.
const GENERAL_DEPTH: usize = 3;
/// The most permission names one decision looks at (the set's keys for
/// the general chain, then the general chain).
const MAX_CHAIN: usize = 2 * GENERAL_DEPTH;

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 names in a configuration")
}
