//! The types the files of `index` share: the request, the interned
//! entries and [`Index`] itself. A leaf: it imports none of its siblings.

use super::super::explain::AccountStatus;
use super::super::query::{Object, Query};
use std::sync::Arc;

use crate::ident::{CustomsetId, GroupId, Login, ProjectId, RoleId};
use crate::model::{Holder, Loc};
use crate::xml::Effect;

/// The indexes' hash maps (keys from the configuration, lookups only).
pub(super) type HashMap<K, V> = crate::fxhash::FxHashMap<K, V>;

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
pub(super) const WORKITEM_DELETE: &str = "com.polarion.persistence.object.WorkItem.delete";
/// The work-item type of headings.
pub(super) const HEADING_TYPE: &str = "heading";

/// The dynamic roles an object gives, and the attribute that gives each.
pub(super) const DYNAMIC: [(&str, &str); 4] = [
    ("author", "author"),
    ("assignee", "assignee"),
    ("document_author", "document_author"),
    ("comment_author", "comment_author"),
];

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Special {
    pub(super) admin: u32,
    pub(super) user: u32,
    pub(super) everyone: u32,
    pub(super) assignable: u32,
    pub(super) project_admin: u32,
    pub(super) project_assignable: u32,
    pub(super) lead: u32,
    pub(super) dynamic: [u32; 4],
}

/// One role a user holds through one assignment (its number among the
/// assignments of the part that holds it: the global one or a project's).
#[derive(Debug, Clone, Copy)]
pub(super) struct Assigned {
    pub(super) role: u32,
    pub(super) assignment: u32,
}

/// What the global part knows of one login: its account, the user groups
/// it is in and the roles it holds globally.
#[derive(Debug, Clone)]
pub(super) struct GlobalUser {
    pub(super) account: AccountStatus,
    pub(super) global: Vec<Assigned>,
    pub(super) groups: Vec<GroupId>,
    /// Holds `user` globally.
    pub(super) has_user_role: bool,
}

/// One assignment of a part: who holds which role (numbered in
/// [`Roles`]), and where it is written (`file`: a number in the part's
/// [`Assignments::files`]).
#[derive(Debug, Clone)]
pub(super) struct AssignmentInfo {
    pub(super) holder: Holder,
    pub(super) role: u32,
    pub(super) file: u32,
    pub(super) line: u32,
    pub(super) col: u32,
    pub(super) offset: usize,
}

/// The assignments of one part, in model order, with the files they are
/// written in named once each (a part's come from one or few files).
#[derive(Debug, Clone, Default)]
pub(super) struct Assignments {
    pub(super) list: Vec<AssignmentInfo>,
    pub(super) files: Vec<std::sync::Arc<str>>,
}

impl Assignments {
    /// Where the assignment `i` is written.
    pub(super) fn loc(&self, i: usize) -> Loc {
        let a = &self.list[i];
        Loc {
            file: self.files[a.file as usize].clone(),
            line: a.line,
            col: a.col,
            offset: a.offset,
        }
    }
}

/// The role names interned to numbers: the built-in ones first, then
/// those the permission files name, then those assigned (global, then
/// project by project), each once, in that order.
#[derive(Debug)]
pub(super) struct Roles {
    pub(super) names: Vec<RoleId>,
    pub(super) ids: HashMap<RoleId, u32>,
    pub(super) special: Special,
}

/// The accounts, user groups and global assignments indexed by login.
#[derive(Debug)]
pub(super) struct GlobalPart {
    pub(super) users: HashMap<Login, GlobalUser>,
    pub(super) accounts_managed: bool,
    /// The directory's account state, when it decides who is active.
    pub(super) directory:
        Option<std::sync::Arc<std::collections::BTreeMap<Login, crate::directory::AccountState>>>,
    pub(super) assignments: Assignments,
    /// The roles the global assignments name, in first-use order.
    pub(super) roles_used: Vec<RoleId>,
}

/// One project: its entry and the roles each login holds in it, directly
/// or through a user group, in assignment order.
#[derive(Debug)]
pub(super) struct ProjectPart {
    pub(super) id: ProjectId,
    pub(super) folder: String,
    pub(super) lead: Option<Login>,
    pub(super) assignments: Assignments,
    /// The roles each login holds here, login by login, each login's in
    /// assignment order.
    pub(super) held: Vec<Assigned>,
    /// Each login's run of `held` (start, end).
    pub(super) holders: HashMap<Login, (u32, u32)>,
    /// The roles its assignments name, in first-use order.
    pub(super) roles_used: Vec<RoleId>,
    /// Some login holds `user` here.
    pub(super) holds_user: bool,
}

impl ProjectPart {
    /// The roles a login holds here, in assignment order.
    pub(super) fn held_by(&self, login: &str) -> &[Assigned] {
        self.holders.get(login).map_or(&[], |&(start, end)| {
            &self.held[start as usize..end as usize]
        })
    }

    /// Each login holding roles here, with its roles (in map order).
    pub(super) fn each_holder(&self) -> impl Iterator<Item = (&Login, &[Assigned])> {
        (self.holders.iter())
            .map(|(login, &(start, end))| (login, &self.held[start as usize..end as usize]))
    }
}

/// The projects in id order, numbered.
#[derive(Debug)]
pub(super) struct ProjectTable {
    pub(super) ids: HashMap<ProjectId, u32>,
    pub(super) list: Vec<ProjectId>,
}

/// The permission files indexed: permission names interned, each file's
/// custom sets, and the rules by (file, permission).
#[derive(Debug)]
pub(super) struct Rules {
    pub(super) files: Vec<FileEntry>,
    pub(super) global_file: Option<u32>,
    /// By project number: its own permissions.xml.
    pub(super) project_file: Vec<Option<u32>>,
    pub(super) perms: HashMap<Box<str>, u32>,
    pub(super) perm_names: Vec<Box<str>>,
    pub(super) perm_parent: Vec<Option<u32>>,
    pub(super) rules: HashMap<(u32, u32), (u32, u32)>,
    pub(super) rule_entries: Vec<RuleEntry>,
    pub(super) rule_info: Vec<RuleInfo>,
    /// (file, set) → action → the interned `@SET.action`.
    pub(super) set_perms: HashMap<(u32, u32), HashMap<Box<str>, u32>>,
    pub(super) login_perm: u32,
    pub(super) rest_perms: [u32; 4],
    pub(super) delete_perm: u32,
    /// `headingsObeyDeletePermission` of the global permissions.xml.
    pub(super) headings_obey_delete: bool,
    /// The roles the rules name, in first-use order.
    pub(super) roles_used: Vec<RoleId>,
}

/// Each login's projects: (project, holds `user` there), by project.
pub(super) type Membership = Vec<(u32, bool)>;

/// One shard of [`Members`]: logins sorted, each with its projects.
#[derive(Debug, Clone, Default)]
pub(super) struct Shard(pub(super) Vec<(Login, Membership)>);

/// The projects each login holds roles in, sharded by the login's hash so
/// that a change to one project copies only the shards of the logins it
/// adds or removes.
#[derive(Clone)]
pub(super) struct Members(pub(super) Arc<Vec<Arc<Shard>>>);

/// The shards that hold a login, by number.
impl std::fmt::Debug for Members {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.0.iter().enumerate().filter(|(_, s)| !s.0.is_empty());
        f.debug_map().entries(held.map(|(i, s)| (i, &s.0))).finish()
    }
}

#[derive(Debug, Clone)]
pub(super) struct FileEntry {
    pub(super) sets: Vec<CompiledSet>,
}

#[derive(Debug, Clone)]
pub(super) struct CompiledSet {
    pub(super) id: CustomsetId,
    pub(super) prototype: String,
    pub(super) query: Option<Query>,
    pub(super) at: Loc,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct RuleEntry {
    pub(super) role: u32,
    pub(super) effect: Effect,
    pub(super) rule: u32,
}

#[derive(Debug, Clone)]
pub(super) struct RuleInfo {
    pub(super) permission: String,
    pub(super) effect: Effect,
    pub(super) at: Loc,
}

/// A role in the context of one decision, and how the user came to it.
#[derive(Debug, Clone, Copy)]
pub(super) struct ActingRole {
    pub(super) role: u32,
    pub(super) origin: Origin,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Origin {
    Assignment {
        /// The project whose part holds it (`None`: the global part).
        part: Option<u32>,
        idx: u32,
    },
    Everyone,
    /// Given by the object's attribute (index into `DYNAMIC`).
    Object(usize),
    Lead(u32),
}

/// Where a role's state came from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    NotSet,
    Rule(u32),
    Default(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ctx {
    Global,
    Project(u32),
    /// Every scope at once: logging in.
    Anywhere,
}

/// The custom set whose query matched: its permissions replace the
/// general ones for the object (the set's own tree comes first).
#[derive(Debug, Clone, Copy)]
pub(super) struct SetHit {
    pub(super) file: u32,
    pub(super) set: u32,
}

/// The permission decisions of one configuration: parts shared by `Arc`
/// with the index of the revision before where their inputs are equal
/// ([`IndexMemo`](super::IndexMemo)).
#[derive(Debug, Clone)]
pub struct Index {
    pub(super) roles: Arc<Roles>,
    pub(super) rules: Arc<Rules>,
    pub(super) projects: Arc<ProjectTable>,
    /// By project number.
    pub(super) parts: Arc<[Arc<ProjectPart>]>,
    pub(super) global: Arc<GlobalPart>,
    pub(super) members: Members,
    /// Some project's part has a login holding `user`.
    pub(super) user_role_in_projects: bool,
}

/// The most names of the general chain (a permission and its parents):
/// the parent table is two deep.
pub(super) const GENERAL_DEPTH: usize = 3;
/// The most permission names one decision looks at (the set's keys for
/// the general chain, then the general chain).
pub(super) const MAX_CHAIN: usize = 2 * GENERAL_DEPTH;

pub(super) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 names in a configuration")
}

/// The Document of a work item: the item's `document.*` attributes, with
/// `author` falling back to the item's `document_author`.
pub(super) fn document_object(obj: &Object) -> Object {
    let mut doc = Object::new();
    for (k, v) in obj.attrs() {
        if let Some(k) = k.strip_prefix("document.") {
            doc.push(k, v);
        }
    }
    if doc.values("author").next().is_none() {
        for v in obj.values("document_author") {
            doc.push("author", v);
        }
    }
    for v in obj.values("document_author") {
        doc.push("document_author", v);
    }
    doc
}
