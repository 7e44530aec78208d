//! The model's types ([`Model`] and what it holds) and what the model
//! answers (role groups, defined roles). A leaf: `lower` builds these
//! types, nothing here lowers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::directory::{AccountState, GroupRef};
use crate::ident::{CustomsetId, GroupId, Login, ProjectId, RoleId};
use crate::xml::Effect;
/// Roles every installation has in the global scope.
pub const BUILTIN_GLOBAL_ROLES: &[&str] = &["admin", "user", "everyone", "assignable"];
/// Roles every project has.
pub const BUILTIN_PROJECT_ROLES: &[&str] = &[
    "project_admin",
    "project_user",
    "project_assignable",
    "project_approver",
];
/// Roles that the object at hand gives (never assigned, never a group).
pub const DYNAMIC_ROLES: &[&str] = &[
    "author",
    "assignee",
    "document_author",
    "comment_author",
    "lead",
];
/// The role every user holds implicitly. Its access-file group holds every
/// active account (`Model::active_accounts`), whoever it is assigned to.
pub const EVERYONE: &str = "everyone";

/// Where something holds: the whole installation or one project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Global,
    Project(ProjectId),
}

impl Scope {
    pub fn project(&self) -> Option<&ProjectId> {
        match self {
            Scope::Global => None,
            Scope::Project(p) => Some(p),
        }
    }
}

/// A place in a file, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    /// The file's path, shared by the places of one file.
    pub file: std::sync::Arc<str>,
    pub line: u32,
    pub col: u32,
    /// Byte offset in the file.
    pub offset: usize,
}

impl Loc {
    /// A diagnostic pointing here.
    pub fn diag(
        &self,
        code: crate::diag::Code,
        message: impl Into<String>,
    ) -> crate::diag::Diagnostic {
        crate::diag::Diagnostic {
            code,
            severity: code.severity(),
            file: self.file.to_string(),
            span: self.offset..self.offset,
            line: self.line,
            col: self.col,
            message: message.into(),
            notes: Vec::new(),
            related: Vec::new(),
        }
    }
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// Who a role is given to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    User(Login),
    Group(GroupId),
}

/// One `<role name=…>` under a `<user>` or `<group>` in a user-roles.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub scope: Scope,
    pub holder: Holder,
    pub role: RoleId,
    pub at: Loc,
}

/// The model's assignments: one run per user-roles.xml that assigns
/// anything (the global one, then each project's, in project order), each
/// run one scope's assignments in file order and the only run of its
/// scope. A run is shared (`Arc`) with the lowering that made it, so a
/// build that reuses a project's lowering copies none of its assignments,
/// and a scope's run is the very value of the build before while its file
/// is (`Arc::ptr_eq`: the role groups' memo keys on it). Equal when the
/// assignments are, in order, however they are shared.
#[derive(Clone, Default)]
pub struct Assignments {
    runs: Vec<Arc<Run>>,
    len: usize,
}

/// One scope's assignments in file order (a run of [`Assignments`]), with
/// what the bound of the generated groups' size reads of them, counted
/// once when the run is made: the bytes of their lines without the
/// members of group holders, and the group holders (with repeats).
#[derive(Debug, Default)]
pub struct Run {
    list: Vec<Assignment>,
    bytes: usize,
    groups: Vec<GroupId>,
}

impl Run {
    pub fn new(list: Vec<Assignment>) -> Self {
        let mut bytes: usize = 0;
        let mut groups = Vec::new();
        for a in &list {
            let project = a.scope.project().map_or(0, |p| p.as_str().len() + 1);
            bytes = bytes.saturating_add(project + a.role.as_str().len() + 4);
            match &a.holder {
                Holder::User(login) => bytes = bytes.saturating_add(login.as_str().len() + 2),
                Holder::Group(g) => groups.push(g.clone()),
            }
        }
        Run {
            list,
            bytes,
            groups,
        }
    }
}

impl std::ops::Deref for Run {
    type Target = [Assignment];
    fn deref(&self) -> &[Assignment] {
        &self.list
    }
}

/// The assignments in order (`Assignments::iter`).
pub type AssignmentsIter<'a> = std::iter::FlatMap<
    std::slice::Iter<'a, Arc<Run>>,
    std::slice::Iter<'a, Assignment>,
    fn(&'a Arc<Run>) -> std::slice::Iter<'a, Assignment>,
>;

impl Assignments {
    /// Every assignment, run by run.
    pub fn iter(&self) -> AssignmentsIter<'_> {
        self.runs.iter().flat_map(|r| r.iter())
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Each scope's run, in order (none is empty).
    pub fn runs(&self) -> &[Arc<Run>] {
        &self.runs
    }

    /// Add the run of a scope that has none yet (an empty one is left
    /// out).
    pub(crate) fn push_run(&mut self, run: Arc<Run>) {
        debug_assert!(run.iter().all(|a| a.scope == run[0].scope));
        debug_assert!(
            run.first()
                .is_none_or(|a| self.runs.iter().all(|r| r[0].scope != a.scope))
        );
        if !run.is_empty() {
            self.len += run.len();
            self.runs.push(run);
        }
    }
}

impl PartialEq for Assignments {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Assignments {}

impl std::fmt::Debug for Assignments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Assignments {
    type Item = &'a Assignment;
    type IntoIter = AssignmentsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A role defined in roles.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDefinition {
    pub scope: RoleScope,
    pub description: Option<String>,
    pub at: Loc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleScope {
    Global,
    Project,
}

/// A user account from `users/<login>/user.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: Option<String>,
    pub email: Option<String>,
    pub disabled: bool,
}

/// The file that marks a project folder, relative to the folder.
pub const PROJECT_MARKER: &str = ".polarion/polarion-project.xml";

/// A project: a folder holding `.polarion/polarion-project.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The project folder, relative to the repository root.
    pub folder: String,
    pub lead: Option<Login>,
    /// The project's permission overlay, when it has a permissions.xml.
    pub permissions: Option<PermissionSet>,
    /// Roles defined for this project only, in its own roles.xml.
    pub roles: BTreeMap<RoleId, RoleDefinition>,
}

/// A `<customset>`: a prototype and a query that select objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomSet {
    pub id: CustomsetId,
    pub title: Option<String>,
    pub prototype: String,
    pub query: String,
    pub at: Loc,
    /// Where the query's first character is (for query diagnostics).
    pub query_at: Loc,
}

/// One grant or deny of a permission to a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionRule {
    pub role: RoleId,
    pub effect: Effect,
    /// Absolute permission name, or `@SET.action`.
    pub permission: String,
    pub at: Loc,
}

/// The content of one permissions.xml.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet {
    pub file: String,
    pub customsets: Vec<CustomSet>,
    pub rules: Vec<PermissionRule>,
    /// `headingsObeyDeletePermission="true"` on the root (read from the
    /// global file only; Polarion's system property of that name).
    pub headings_obey_delete_permission: bool,
}

/// The whole configuration at one revision, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    /// Each project shared with the lowering that made it (`LowerMemo`
    /// keeps it), so a build copies no unchanged project.
    pub projects: BTreeMap<ProjectId, Arc<Project>>,
    /// Roles defined in roles.xml.
    pub role_definitions: BTreeMap<RoleId, RoleDefinition>,
    /// Accounts, when the users folder exists (`None`: accounts are not
    /// managed here); shared with the lowering that made them, so a build
    /// whose account files are unchanged copies none (`Arc::ptr_eq`: the
    /// memos take them as unchanged).
    pub accounts: Option<Arc<BTreeMap<Login, Account>>>,
    /// Each user group's members: its `<user>` children and, for a group
    /// backed by the directory, the directory's members (the union).
    pub user_groups: BTreeMap<GroupId, BTreeSet<Login>>,
    /// What the directory gave: where each member of a directory-backed
    /// group came from, and the accounts' state (shared with the policy
    /// index, which explains with it).
    pub directory: Arc<Directory>,
    pub assignments: Assignments,
    pub global_permissions: Option<PermissionSet>,
    /// The limits the configuration was read under (the policy index
    /// parses custom-set queries within `max_query_depth`).
    pub limits: crate::limits::Limits,
}

/// What the directory (LDAP / Active Directory) contributed to a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    /// The revision of the snapshot the model was built with (`None`:
    /// none was given: no directory here, or the hooks without one).
    pub revision: Option<String>,
    /// Each user group backed by the directory.
    pub groups: BTreeMap<GroupId, DirectoryGroup>,
    /// The directory's account state by login, when it decides who is
    /// active (`None`: it does not): a login is active only while it is
    /// `Active` here (absent or locked: inactive), beside `user.xml`.
    pub accounts: Option<Arc<BTreeMap<Login, AccountState>>>,
}

/// A user group of `groups.xml` that names the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryGroup {
    pub reference: GroupRef,
    /// Where `groups.xml` names it (the `ldap=` or `ldap-base=` value).
    pub at: Loc,
    /// The members the directory gave, each with the nested groups' DNs
    /// between the group and it, outermost first (empty: direct).
    pub members: BTreeMap<Login, Vec<String>>,
    /// The members listed in `groups.xml` (`<user>`).
    pub local: BTreeSet<Login>,
}

impl Directory {
    /// Whether the directory lets `login` be active: it decides nothing,
    /// or it lists the account as active.
    pub fn allows(&self, login: &Login) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|a| matches!(a.get(login), Some(AccountState::Active)))
    }

    /// What the directory says of `login` when it keeps it inactive:
    /// `Some(None)` absent from it, `Some(Some(by))` locked by `by`.
    pub fn refusal(&self, login: &Login) -> Option<Option<&str>> {
        let accounts = self.accounts.as_ref()?;
        match accounts.get(login) {
            Some(AccountState::Active) => None,
            Some(AccountState::Locked { by }) => Some(Some(by)),
            None => Some(None),
        }
    }
}

/// A group the renderer writes into `[groups]`: one per role and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGroup {
    pub name: String,
    pub scope: Scope,
    pub role: RoleId,
    pub members: BTreeSet<Login>,
}

impl Model {
    /// The roles that exist in a scope: built in, defined for it in
    /// roles.xml, or assigned in it.
    pub fn roles_in(&self, scope: &Scope) -> BTreeSet<RoleId> {
        let mut roles = self.defined_roles(scope);
        roles.extend(
            self.assignments
                .iter()
                .filter(|a| &a.scope == scope)
                .map(|a| a.role.clone()),
        );
        roles
    }

    /// The roles a scope has whether or not anybody holds them: built in,
    /// defined for it in roles.xml, or (a project) in its own roles.xml.
    pub fn defined_roles(&self, scope: &Scope) -> BTreeSet<RoleId> {
        let mut roles = self.roles_of_kind(match scope {
            Scope::Global => RoleScope::Global,
            Scope::Project(_) => RoleScope::Project,
        });
        if let Some(p) = scope.project().and_then(|p| self.projects.get(p)) {
            roles.extend(p.roles.keys().cloned());
        }
        roles
    }

    /// The roles every scope of a kind has: built in, or defined for it
    /// in roles.xml (a project adds its own roles.xml's).
    pub(super) fn roles_of_kind(&self, wanted: RoleScope) -> BTreeSet<RoleId> {
        let builtin = match wanted {
            RoleScope::Global => BUILTIN_GLOBAL_ROLES,
            RoleScope::Project => BUILTIN_PROJECT_ROLES,
        };
        let mut roles: BTreeSet<RoleId> =
            builtin.iter().filter_map(|r| RoleId::new(r).ok()).collect();
        roles.extend(
            self.role_definitions
                .iter()
                .filter(|(_, d)| d.scope == wanted)
                .map(|(id, _)| id.clone()),
        );
        roles
    }

    /// Whether a login may appear in a group: it has an account that is
    /// not disabled, or accounts are not managed in this repository; and
    /// the directory, when it decides, lists it as active.
    pub fn is_active(&self, login: &Login) -> bool {
        let local = match &self.accounts {
            None => true,
            Some(accounts) => accounts.get(login).is_some_and(|a| !a.disabled),
        };
        local && self.directory.allows(login)
    }

    /// Every active account: the members of the `everyone` group.
    ///
    /// With a users folder, every account whose `user.xml` does not
    /// disable it, whether it holds a role or not; a login that only
    /// appears in assignments has no account and is left out (as from
    /// every group). Without one (accounts are not managed here), every
    /// login the configuration names: role holders in any scope, members
    /// of user groups, and project leads. Either way, only those the
    /// directory lets be active (`Directory::allows`).
    pub fn active_accounts(&self) -> BTreeSet<Login> {
        match self.managed_active() {
            Some(managed) => managed.cloned().collect(),
            None => (self.named_logins())
                .filter(|l| self.directory.allows(l))
                .cloned()
                .collect(),
        }
    }

    /// The active accounts in login order, borrowed, where accounts are
    /// managed here (a users folder); `None` otherwise.
    fn managed_active(&self) -> Option<impl Iterator<Item = &Login>> {
        let accounts = self.accounts.as_ref()?;
        Some(
            (accounts.iter())
                .filter(|(l, a)| !a.disabled && self.directory.allows(l))
                .map(|(l, _)| l),
        )
    }

    /// How many accounts are active ([`Model::active_accounts`]' number),
    /// counted without copying them where accounts are managed here.
    pub fn active_account_count(&self) -> usize {
        match self.managed_active() {
            Some(managed) => managed.count(),
            None => self.active_accounts().len(),
        }
    }

    /// Whether `f` holds for some active account ([`Model::active_accounts`]),
    /// asked in login order and without copying them where accounts are
    /// managed here; the first that holds ends it.
    pub fn any_active_account(&self, f: impl FnMut(&Login) -> bool) -> bool {
        match self.managed_active() {
            Some(mut managed) => managed.any(f),
            None => self.active_accounts().iter().any(f),
        }
    }

    /// Every login the configuration names outside the users folder (with
    /// repetitions): role holders, user-group members, project leads.
    fn named_logins(&self) -> impl Iterator<Item = &Login> + '_ {
        let holders = self.assignments.iter().filter_map(|a| match &a.holder {
            Holder::User(l) => Some(l),
            Holder::Group(_) => None,
        });
        let members = self.user_groups.values().flatten();
        let leads = self.projects.values().filter_map(|p| p.lead.as_ref());
        holders.chain(members).chain(leads)
    }

    /// The logins a holder stands for (a user, or a group's members).
    pub fn logins_of<'a>(&'a self, holder: &'a Holder) -> impl Iterator<Item = &'a Login> + 'a {
        let (user, group) = match holder {
            Holder::User(login) => (Some(login), None),
            Holder::Group(g) => (None, self.user_groups.get(g)),
        };
        user.into_iter().chain(group.into_iter().flatten())
    }

    /// An upper bound of the bytes the generated `[groups]` lines take (a
    /// line per assignment, a member once per assignment that gives the
    /// role and once in `everyone`), or `None` as soon as it passes
    /// `budget`. One step per run (its lines counted when it was made)
    /// and per group holder, each group's members summed once (at its
    /// first holding), so a group with many members holding many roles
    /// costs its members once.
    pub fn role_groups_size(&self, budget: usize) -> Option<usize> {
        // Every scope has a group per role defined for it, held or not.
        let line = |r: &RoleId| r.as_str().len() + 4;
        let global: usize = self.defined_roles(&Scope::Global).iter().map(line).sum();
        let per_project = self.defined_roles(&Scope::Project(ProjectId::placeholder()));
        let role_bytes: usize = per_project.iter().map(line).sum();
        let project_bytes: usize = self.projects.keys().map(|p| p.as_str().len() + 1).sum();
        let own: usize = self
            .projects
            .iter()
            .flat_map(|(id, p)| p.roles.keys().map(move |r| id.as_str().len() + 1 + line(r)))
            .fold(0, usize::saturating_add);
        let mut size = global
            .saturating_add(self.projects.len().saturating_mul(role_bytes))
            .saturating_add(project_bytes.saturating_mul(per_project.len()))
            .saturating_add(own);
        if size > budget {
            return None;
        }
        // The `everyone` group: every active account once (without a users
        // folder, every login named, counted once per mention).
        let everyone: Box<dyn Iterator<Item = &Login>> = match &self.accounts {
            Some(accounts) => Box::new(accounts.keys()),
            None => Box::new(self.named_logins()),
        };
        for login in everyone {
            size = size.saturating_add(login.as_str().len() + 2);
            if size > budget {
                return None;
            }
        }
        // Each run's lines counted when it was made (`Run`); each group's
        // members' bytes once, at its first holding.
        let mut group_bytes: std::collections::HashMap<&GroupId, usize> =
            std::collections::HashMap::new();
        for run in self.assignments.runs() {
            size = size.saturating_add(run.bytes);
            for g in &run.groups {
                let members = *group_bytes.entry(g).or_insert_with(|| {
                    let members = self.user_groups.get(g).into_iter().flatten();
                    members.fold(0, |n, l| n.saturating_add(l.as_str().len() + 2))
                });
                size = size.saturating_add(members);
            }
            if size > budget {
                return None;
            }
        }
        Some(size)
    }
}
