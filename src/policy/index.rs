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

use std::collections::BTreeMap;

use super::explain::{
    Context, Explanation, Purpose, Reason, RoleLine, SetLine, Setting, Step, Verdict, Via,
};
use super::names::{self, FieldAction, LOGIN, MODULE_MODIFY_CONTENT, Verb};
use super::query::{self, Object, Query};
use super::state::{Level, State, combine};
use crate::diag::{Code, Diagnostic};
use crate::ident::{CustomsetId, GroupId, Login, ProjectId, RoleId};
use crate::model::{Holder, Loc, Model, PermissionSet, Scope};
use crate::xml::Effect;

/// The indexes' hash maps (keys from the configuration, lookups only).
type HashMap<K, V> = crate::fxhash::FxHashMap<K, V>;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// An enabled account, or accounts are not managed in this repository.
    Active,
    /// `user.xml` says `disabled`.
    Disabled,
    /// Accounts are managed here and this login has none.
    NoAccount,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
            AccountStatus::NoAccount => "no account",
        }
    }
}

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
struct Held {
    role: u32,
    assignment: u32,
}

#[derive(Debug, Clone)]
struct UserEntry {
    account: AccountStatus,
    global: Vec<Held>,
    /// (project, held), sorted by project.
    projects: Vec<(u32, Held)>,
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
struct HeldRole {
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
    roles: HashMap<String, u32>,
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

impl Index {
    /// Index a model. Custom-set queries are parsed here; a malformed one
    /// is an `invalid-customset-query` diagnostic (and never matches).
    pub fn build(model: &Model) -> (Index, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut ix = Index {
            roles: HashMap::default(),
            role_names: Vec::new(),
            special: Special {
                admin: 0,
                user: 0,
                everyone: 0,
                assignable: 0,
                project_admin: 0,
                project_assignable: 0,
                lead: 0,
                dynamic: [0; 4],
            },
            projects: HashMap::default(),
            project_list: Vec::new(),
            users: HashMap::default(),
            user_list: Vec::new(),
            accounts_managed: model.accounts.is_some(),
            assignments: Vec::new(),
            files: Vec::new(),
            global_file: None,
            perms: HashMap::default(),
            perm_names: Vec::new(),
            perm_parent: Vec::new(),
            rules: HashMap::default(),
            rule_entries: Vec::new(),
            rule_info: Vec::new(),
            set_perms: HashMap::default(),
            login_perm: 0,
            rest_perms: [0; 4],
            delete_perm: 0,
            headings_obey_delete: model
                .global_permissions
                .as_ref()
                .is_some_and(|p| p.headings_obey_delete_permission),
        };
        ix.special = Special {
            admin: ix.builtin_role("admin"),
            user: ix.builtin_role("user"),
            everyone: ix.builtin_role("everyone"),
            assignable: ix.builtin_role("assignable"),
            project_admin: ix.builtin_role("project_admin"),
            project_assignable: ix.builtin_role("project_assignable"),
            lead: ix.builtin_role("lead"),
            dynamic: DYNAMIC.map(|(role, _)| ix.builtin_role(role)),
        };
        ix.login_perm = ix.perm(LOGIN);
        ix.rest_perms = Verb::ALL.map(|v| ix.perm(v.permission()));
        ix.perm(MODULE_MODIFY_CONTENT);
        ix.delete_perm = ix.perm(WORKITEM_DELETE);

        for (id, p) in &model.projects {
            let idx = to_u32(ix.project_list.len());
            ix.projects.insert(id.as_str().to_owned(), idx);
            ix.project_list.push(ProjectEntry {
                id: id.clone(),
                folder: p.folder.clone(),
                lead: p.lead.clone(),
                file: None,
            });
        }
        let mut indexed_rules: Vec<(u32, u32, RuleEntry)> = Vec::new();
        if let Some(set) = &model.global_permissions {
            let f = ix.add_file(
                set,
                model.limits.max_query_depth,
                &mut indexed_rules,
                &mut diags,
            );
            ix.global_file = Some(f);
        }
        for (id, p) in &model.projects {
            // A file that sets nothing (`<permissions/>`) is no project
            // level setting: the project inherits the global configuration
            // whole (003, "Defining Permissions for Artifact Sets").
            if let Some(set) = p
                .permissions
                .as_ref()
                .filter(|s| !s.rules.is_empty() || !s.customsets.is_empty())
            {
                let f = ix.add_file(
                    set,
                    model.limits.max_query_depth,
                    &mut indexed_rules,
                    &mut diags,
                );
                if let Some(&pi) = ix.projects.get(id.as_str()) {
                    ix.project_list[pi as usize].file = Some(f);
                }
            }
        }
        indexed_rules.sort_by_key(|(f, p, e)| (*f, *p, e.rule));
        for (f, p, e) in indexed_rules {
            let at = to_u32(ix.rule_entries.len());
            ix.rule_entries.push(e);
            ix.rules
                .entry((f, p))
                .and_modify(|r| r.1 = at + 1)
                .or_insert((at, at + 1));
        }

        // Users: accounts, group memberships, assignments.
        if let Some(accounts) = &model.accounts {
            for (login, account) in accounts {
                let u = ix.user(login);
                ix.user_list[u as usize].account = if account.disabled {
                    AccountStatus::Disabled
                } else {
                    AccountStatus::Active
                };
            }
        }
        for (group, members) in &model.user_groups {
            for m in members {
                let u = ix.user(m);
                ix.user_list[u as usize].groups.push(group.clone());
            }
        }
        for a in &model.assignments {
            let idx = to_u32(ix.assignments.len());
            let role = ix.role(&a.role);
            ix.assignments.push(AssignmentInfo {
                scope: a.scope.clone(),
                group: match &a.holder {
                    Holder::User(_) => None,
                    Holder::Group(g) => Some(g.clone()),
                },
                at: a.at.clone(),
            });
            let project = a
                .scope
                .project()
                .and_then(|p| ix.projects.get(p.as_str()).copied());
            if a.scope != Scope::Global && project.is_none() {
                continue;
            }
            let held = Held {
                role,
                assignment: idx,
            };
            for login in model.logins_of(&a.holder) {
                let u = ix.user(login);
                let entry = &mut ix.user_list[u as usize];
                entry.has_user_role |= role == ix.special.user;
                match project {
                    None => entry.global.push(held),
                    Some(p) => entry.projects.push((p, held)),
                }
            }
        }
        for u in &mut ix.user_list {
            u.projects.sort_by_key(|(p, h)| (*p, h.assignment));
        }
        (ix, diags)
    }

    fn role(&mut self, id: &RoleId) -> u32 {
        if let Some(&i) = self.roles.get(id.as_str()) {
            return i;
        }
        let i = to_u32(self.role_names.len());
        self.role_names.push(id.clone());
        self.roles.insert(id.as_str().to_owned(), i);
        i
    }

    fn builtin_role(&mut self, name: &str) -> u32 {
        self.role(&RoleId::new(name).expect("built-in role names are valid role ids"))
    }

    fn user(&mut self, login: &Login) -> u32 {
        if let Some(&i) = self.users.get(login.as_str()) {
            return i;
        }
        let i = to_u32(self.user_list.len());
        self.user_list.push(UserEntry {
            account: if self.accounts_managed {
                AccountStatus::NoAccount
            } else {
                AccountStatus::Active
            },
            global: Vec::new(),
            projects: Vec::new(),
            groups: Vec::new(),
            has_user_role: false,
        });
        self.users.insert(login.as_str().to_owned(), i);
        i
    }

    /// Intern a permission name and its chain of parents.
    fn perm(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.perms.get(name) {
            return i;
        }
        let i = to_u32(self.perm_names.len());
        self.perm_names.push(name.into());
        self.perm_parent.push(None);
        self.perms.insert(name.into(), i);
        if let Some(parent) = names::parent(name) {
            let p = self.perm(&parent);
            self.perm_parent[i as usize] = Some(p);
        }
        i
    }

    fn add_file(
        &mut self,
        set: &PermissionSet,
        max_query_depth: usize,
        rules: &mut Vec<(u32, u32, RuleEntry)>,
        diags: &mut Vec<Diagnostic>,
    ) -> u32 {
        let file = to_u32(self.files.len());
        let mut sets = Vec::new();
        for cs in &set.customsets {
            let parsed = match query::parse_within(&cs.query, max_query_depth) {
                Ok(q) => Some(q),
                Err(e) => {
                    diags.push(query_diag(cs, &e));
                    None
                }
            };
            for e in parsed.iter().flat_map(Query::expanders) {
                diags.push(query::expander_diag(cs, e));
            }
            sets.push(CompiledSet {
                id: cs.id.clone(),
                prototype: cs.prototype.clone(),
                query: parsed,
                at: cs.at.clone(),
            });
        }
        for r in &set.rules {
            let perm = self.perm(&r.permission);
            if let Some(rest) = r.permission.strip_prefix('@')
                && let Some((set_id, action)) = rest.split_once('.')
                && let Some(si) = sets.iter().position(|s| s.id.as_str() == set_id)
            {
                self.set_perms
                    .entry((file, to_u32(si)))
                    .or_default()
                    .insert(action.into(), perm);
            }
            let role = self.role(&r.role);
            let rule = to_u32(self.rule_info.len());
            self.rule_info.push(RuleInfo {
                permission: r.permission.clone(),
                effect: r.effect,
                at: r.at.clone(),
            });
            rules.push((
                file,
                perm,
                RuleEntry {
                    role,
                    effect: r.effect,
                    rule,
                },
            ));
        }
        self.files.push(FileEntry { sets });
        file
    }

    /// May the user do it? The same decision as [`Index::explain`], without
    /// the record.
    pub fn check(&self, req: &Request) -> Result<Verdict, RequestError> {
        self.decide(req, &mut NoTrace)
    }

    /// The decision with every step: roles, the settings that gave each
    /// its state, custom sets, parents and the extra rules.
    pub fn explain(&self, req: &Request) -> Result<Explanation, RequestError> {
        let mut rec = Recorder {
            ix: self,
            out: Explanation {
                user: req.user.to_owned(),
                permission: req.permission.to_owned(),
                project: None,
                object: req.object.clone(),
                account: AccountStatus::Active,
                admin: None,
                steps: Vec::new(),
                verdict: Verdict::Deny,
                reason: Reason::Denied,
            },
        };
        let verdict = self.decide(req, &mut rec)?;
        rec.out.project = req
            .project
            .and_then(|p| self.projects.get(p))
            .map(|&p| self.project_list[p as usize].id.clone());
        debug_assert_eq!(verdict, rec.out.verdict);
        Ok(rec.out)
    }

    fn decide<T: Trace>(&self, req: &Request, t: &mut T) -> Result<Verdict, RequestError> {
        let ctx = match req.project {
            _ if req.permission == LOGIN => Ctx::Anywhere,
            None => Ctx::Global,
            Some(p) => match self.projects.get(p) {
                Some(&i) => Ctx::Project(i),
                None => return Err(RequestError::UnknownProject(p.to_owned())),
            },
        };
        let user = self
            .users
            .get(req.user)
            .map(|&i| &self.user_list[i as usize]);
        let account = match user {
            Some(u) => u.account,
            None if self.accounts_managed => AccountStatus::NoAccount,
            None => AccountStatus::Active,
        };
        t.account(account);
        if account != AccountStatus::Active {
            return Ok(t.done(Verdict::Deny, Reason::Account(account)));
        }
        if let Some(h) = user.and_then(|u| u.global.iter().find(|h| h.role == self.special.admin)) {
            t.admin(*h);
            return Ok(t.done(Verdict::Allow, Reason::Admin));
        }
        // 003, "Creating User Accounts": without `user` globally or in
        // some project the account is "[disabled]": denied everything.
        if !user.is_some_and(|u| u.has_user_role) {
            return Ok(t.done(Verdict::Deny, Reason::NoUserRole));
        }
        let (login, obj) = (req.user, req.object);
        // 003, "Important Permission Ramifications": Heading work items
        // can be deleted without WorkItem.delete unless
        // headingsObeyDeletePermission is set.
        if !self.headings_obey_delete
            && obj.has("type", HEADING_TYPE)
            && self.perms.get(req.permission) == Some(&self.delete_perm)
        {
            return Ok(t.done(Verdict::Allow, Reason::HeadingDelete));
        }
        if !self.step(t, Purpose::Asked, user, login, ctx, req.permission, obj)? {
            return Ok(t.done(Verdict::Deny, Reason::Denied));
        }
        if let Some(f) = names::field_permission(req.permission)
            && f.action == FieldAction::Modify
        {
            let read = names::field_name(&f, FieldAction::Read);
            if !self.step(t, Purpose::FieldRead, user, login, ctx, &read, obj)? {
                return Ok(t.done(Verdict::Deny, Reason::FieldReadDenied));
            }
            if f.prototype == "WorkItem"
                && names::DOCUMENT_CONTENT_FIELDS.contains(&f.field)
                && obj.values("document").next().is_some()
            {
                let doc = document_object(obj);
                let p = Purpose::DocumentContent;
                if !self.step(t, p, user, login, ctx, MODULE_MODIFY_CONTENT, &doc)? {
                    return Ok(t.done(Verdict::Deny, Reason::DocumentContentDenied));
                }
            }
        }
        Ok(t.done(Verdict::Allow, Reason::Granted))
    }

    /// One permission over all the user's roles in the context: true when
    /// the strongest state is a grant.
    #[allow(clippy::too_many_arguments)]
    fn step<T: Trace>(
        &self,
        t: &mut T,
        purpose: Purpose,
        user: Option<&UserEntry>,
        login: &str,
        ctx: Ctx,
        permission: &str,
        obj: &Object,
    ) -> Result<bool, RequestError> {
        let hit = self.set_hit(ctx, permission, login, obj)?;
        t.begin(purpose, permission, ctx, hit);
        let chain = self.chain(ctx, permission, hit);
        let mut best = State::NotSet;
        self.for_each_role(user, login, ctx, obj, |held| {
            let (state, source) = self.role_state(&chain, held);
            t.role(held, state, source);
            best = combine(best, state);
        });
        t.end(best);
        Ok(best.allows())
    }

    /// The file whose custom sets apply in a context: the project's own
    /// permissions.xml, else the global one.
    fn sets_file(&self, ctx: Ctx) -> Option<u32> {
        match ctx {
            Ctx::Global | Ctx::Anywhere => self.global_file,
            Ctx::Project(p) => self.project_list[p as usize].file.or(self.global_file),
        }
    }

    /// The first custom set for this permission's prototype whose query
    /// matches the object.
    fn set_hit(
        &self,
        ctx: Ctx,
        permission: &str,
        login: &str,
        obj: &Object,
    ) -> Result<Option<SetHit>, RequestError> {
        let Some(file) = self.sets_file(ctx) else {
            return Ok(None);
        };
        for (si, set) in self.files[file as usize].sets.iter().enumerate() {
            if permission
                .strip_prefix(set.prototype.as_str())
                .and_then(|r| r.strip_prefix('.'))
                .is_none()
            {
                continue;
            }
            let matched = match &set.query {
                None => false,
                Some(q) => match q.eval(obj, login, set.id.as_str()) {
                    Some(m) => m,
                    None => return Err(query::unexpanded(q, obj, set.id.as_str())),
                },
            };
            if matched {
                return Ok(Some(SetHit {
                    file,
                    set: to_u32(si),
                }));
            }
        }
        Ok(None)
    }

    /// The rule lists to consult, in order. Without a custom set: the
    /// permission, then its parents. With one: the set's keys for the
    /// permission and its parents (`@S.field.f.read`, `@S.read`), then the
    /// general permission and its parents — so inside a set its READ and
    /// MODIFY govern fields and `TestRun.comment` as the general READ and
    /// MODIFY do outside (003, 002). Every link after the first passes its
    /// state on as inherited.
    fn chain(&self, ctx: Ctx, permission: &str, hit: Option<SetHit>) -> Chain<'_> {
        // The permission and its parents, interned where any file names them.
        let mut general: [(Option<u32>, std::borrow::Cow<'_, str>); GENERAL_DEPTH] =
            Default::default();
        let mut depth = 0;
        let mut name = std::borrow::Cow::Borrowed(permission);
        while depth < GENERAL_DEPTH {
            let id = self.perms.get(name.as_ref()).copied();
            let parent = match id {
                Some(p) => self.perm_parent[p as usize]
                    .map(|q| std::borrow::Cow::Borrowed(&*self.perm_names[q as usize])),
                None => names::parent(&name).map(std::borrow::Cow::Owned),
            };
            general[depth] = (id, name);
            depth += 1;
            match parent {
                Some(p) => name = p,
                None => break,
            }
        }
        let mut chain = Chain::default();
        if let Some(h) = hit {
            let set = &self.files[h.file as usize].sets[h.set as usize];
            let keys = self.set_perms.get(&(h.file, h.set));
            for (i, (_, n)) in general[..depth].iter().enumerate() {
                let key = n
                    .strip_prefix(set.prototype.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    .and_then(|action| keys.and_then(|k| k.get(action)));
                if let Some(&p) = key {
                    let mut link = Link::new(p, i > 0);
                    link.push(self.rules_of(h.file, p), Level::Explicit);
                    chain.push(link);
                }
            }
        }
        for (i, (id, _)) in general[..depth].iter().enumerate() {
            if let Some(p) = *id {
                chain.push(self.link(ctx, p, hit.is_some() || i > 0));
            }
        }
        chain
    }

    fn link(&self, ctx: Ctx, perm: u32, inherit: bool) -> Link<'_> {
        let mut link = Link::new(perm, inherit);
        match ctx {
            Ctx::Global | Ctx::Anywhere => {
                if let Some(g) = self.global_file {
                    link.push(self.rules_of(g, perm), Level::Explicit);
                }
            }
            // A project's own setting replaces the same setting (role and
            // permission) of the global file; a global setting keeps its
            // level in the project (003: "Projects inherit permissions from
            // the repository scope, and changes to the project settings
            // override the same settings in the repository scope").
            Ctx::Project(p) => {
                if let Some(f) = self.project_list[p as usize].file {
                    link.push(self.rules_of(f, perm), Level::Explicit);
                }
                if let Some(g) = self.global_file {
                    link.push(self.rules_of(g, perm), Level::Explicit);
                }
            }
        }
        link
    }

    fn rules_of(&self, file: u32, perm: u32) -> &[RuleEntry] {
        match self.rules.get(&(file, perm)) {
            Some(&(a, b)) => &self.rule_entries[a as usize..b as usize],
            None => &[],
        }
    }

    /// The state of the chain for one role: the first link that sets it
    /// (strongest setting within a level), or a built-in default.
    fn role_state(&self, chain: &Chain, held: HeldRole) -> (State, Source) {
        for link in &chain.links[..chain.len] {
            for (rules, level) in &link.levels[..link.n] {
                let mut found: Option<(State, u32)> = None;
                for r in rules.iter().filter(|r| r.role == held.role) {
                    let s = State::of(*level, r.effect);
                    found = Some(match found {
                        Some((best, rule)) if combine(best, s) == best => (best, rule),
                        _ => (s, r.rule),
                    });
                }
                if let Some((s, rule)) = found {
                    let s = if link.inherit { s.inherited() } else { s };
                    return (s, Source::Rule(rule));
                }
            }
            if let Some(s) = self.default_state(link.perm, held.role) {
                let s = if link.inherit { s.inherited() } else { s };
                return (s, Source::Default(link.perm));
            }
        }
        (State::NotSet, Source::NotSet)
    }

    /// Built-in defaults, where no file sets the permission for the role:
    /// `user` may log in (an inherited grant, so that any explicit deny
    /// blocks it); the REST verbs are granted to `admin` and
    /// `project_admin` as explicit settings of the global context, which
    /// every project inherits unless a file sets the verb for the role
    /// (000/001: "set to true for the admin and project_admin roles in the
    /// Global context. (And for all Projects by default.)"). Every other
    /// role has nothing set.
    fn default_state(&self, perm: u32, role: u32) -> Option<State> {
        let sp = &self.special;
        if perm == self.login_perm {
            return (role == sp.user).then_some(State::InheritedGrant);
        }
        (self.rest_perms.contains(&perm) && (role == sp.admin || role == sp.project_admin))
            .then_some(State::ExplicitGrant)
    }

    /// Every role the user holds in the context: global ones, the
    /// project's, `everyone`, and the dynamic roles of the object.
    fn for_each_role(
        &self,
        user: Option<&UserEntry>,
        login: &str,
        ctx: Ctx,
        obj: &Object,
        mut f: impl FnMut(HeldRole),
    ) {
        if let Some(u) = user {
            for h in &u.global {
                f(HeldRole {
                    role: h.role,
                    origin: Origin::Assignment { idx: h.assignment },
                });
            }
            let in_project: &[(u32, Held)] = match ctx {
                Ctx::Global => &[],
                Ctx::Anywhere => &u.projects,
                Ctx::Project(p) => {
                    let start = u.projects.partition_point(|(q, _)| *q < p);
                    let end = u.projects.partition_point(|(q, _)| *q <= p);
                    &u.projects[start..end]
                }
            };
            for (_, h) in in_project {
                f(HeldRole {
                    role: h.role,
                    origin: Origin::Assignment { idx: h.assignment },
                });
            }
        }
        f(HeldRole {
            role: self.special.everyone,
            origin: Origin::Everyone,
        });
        if !obj.is_empty() {
            for (i, (_, attr)) in DYNAMIC.iter().enumerate() {
                if obj.has(attr, login) {
                    f(HeldRole {
                        role: self.special.dynamic[i],
                        origin: Origin::Object(i),
                    });
                }
            }
        }
        if let Ctx::Project(p) = ctx
            && self.project_list[p as usize]
                .lead
                .as_ref()
                .is_some_and(|l| l.as_str() == login)
        {
            f(HeldRole {
                role: self.special.lead,
                origin: Origin::Lead(p),
            });
        }
    }

    /// The projects, in id order.
    pub fn projects(&self) -> impl Iterator<Item = &ProjectId> {
        self.project_list.iter().map(|p| &p.id)
    }

    /// Whether a project exists.
    pub fn has_project(&self, id: &str) -> bool {
        self.projects.contains_key(id)
    }

    /// Whether the user may be assigned work in the project (`None`:
    /// anywhere): `assignable` globally, or `project_assignable` there.
    pub fn assignable(&self, login: &str, project: Option<&str>) -> bool {
        let Some(u) = self.users.get(login).map(|&i| &self.user_list[i as usize]) else {
            return false;
        };
        if u.account != AccountStatus::Active {
            return false;
        }
        if u.global.iter().any(|h| h.role == self.special.assignable) {
            return true;
        }
        let p = project.and_then(|p| self.projects.get(p).copied());
        u.projects.iter().any(|(q, h)| {
            h.role == self.special.project_assignable && (project.is_none() || Some(*q) == p)
        })
    }

    /// What the configuration says about one login.
    pub fn user_view(&self, login: &str) -> UserView {
        let user = self.users.get(login).map(|&i| &self.user_list[i as usize]);
        let account = match user {
            Some(u) => u.account,
            None if self.accounts_managed => AccountStatus::NoAccount,
            None => AccountStatus::Active,
        };
        let role_line = |h: &Held| RoleHeld {
            role: self.role_names[h.role as usize].clone(),
            via: self.via(Origin::Assignment { idx: h.assignment }),
        };
        let mut projects: BTreeMap<ProjectId, Vec<RoleHeld>> = BTreeMap::new();
        let mut assignable_in = Vec::new();
        if let Some(u) = user {
            for (p, h) in &u.projects {
                let id = self.project_list[*p as usize].id.clone();
                projects.entry(id).or_default().push(role_line(h));
            }
        }
        for p in &self.project_list {
            if self.assignable(login, Some(p.id.as_str())) {
                assignable_in.push(p.id.clone());
            }
        }
        let empty = Object::new();
        let can_login = self
            .check(&Request {
                user: login,
                permission: LOGIN,
                project: None,
                object: &empty,
            })
            .is_ok_and(|v| v == Verdict::Allow);
        UserView {
            login: login.to_owned(),
            known: user.is_some(),
            account,
            can_login,
            admin: user.is_some_and(|u| u.global.iter().any(|h| h.role == self.special.admin)),
            groups: user.map(|u| u.groups.clone()).unwrap_or_default(),
            global: user
                .map(|u| u.global.iter().map(role_line).collect())
                .unwrap_or_default(),
            projects,
            assignable_globally: user.is_some_and(|u| {
                account == AccountStatus::Active
                    && u.global.iter().any(|h| h.role == self.special.assignable)
            }),
            assignable_in,
        }
    }

    fn via(&self, origin: Origin) -> Via {
        match origin {
            Origin::Assignment { idx, .. } => {
                let a = &self.assignments[idx as usize];
                Via::Assignment {
                    scope: a.scope.clone(),
                    group: a.group.clone(),
                    at: a.at.clone(),
                }
            }
            Origin::Everyone => Via::Everyone,
            Origin::Object(i) => Via::Object {
                attribute: DYNAMIC[i].1,
            },
            Origin::Lead(p) => {
                let pe = &self.project_list[p as usize];
                Via::Lead {
                    project: pe.id.clone(),
                    file: format!("{}/{}", pe.folder, crate::snapshot::PROJECT_MARKER),
                }
            }
        }
    }

    fn context(&self, ctx: Ctx) -> Context {
        match ctx {
            Ctx::Global => Context::Global,
            Ctx::Anywhere => Context::Anywhere,
            Ctx::Project(p) => Context::Project(self.project_list[p as usize].id.clone()),
        }
    }
}

/// A role a user holds, and through what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHeld {
    pub role: RoleId,
    pub via: Via,
}

/// Everything the configuration says about one login (`/v1/users/{login}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub login: String,
    /// Whether any file names this login.
    pub known: bool,
    pub account: AccountStatus,
    /// May log in; `false` is Polarion's "[disabled]".
    pub can_login: bool,
    pub admin: bool,
    pub groups: Vec<GroupId>,
    pub global: Vec<RoleHeld>,
    pub projects: BTreeMap<ProjectId, Vec<RoleHeld>>,
    pub assignable_globally: bool,
    pub assignable_in: Vec<ProjectId>,
}

/// The Document of a work item: the item's `document.*` attributes, with
/// `author` falling back to the item's `document_author`.
fn document_object(obj: &Object) -> Object {
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

fn query_diag(cs: &crate::model::CustomSet, e: &query::QueryError) -> Diagnostic {
    let before = cs.query.get(..e.offset).unwrap_or(&cs.query);
    let mut at = cs.query_at.clone();
    at.offset += before.len();
    match before.rfind('\n') {
        Some(nl) => {
            at.line += to_u32(before.matches('\n').count());
            at.col = to_u32(before[nl + 1..].chars().count() + 1);
        }
        None => at.col += to_u32(before.chars().count()),
    }
    if e.kind == query::QueryErrorKind::TooDeep {
        return at.diag(
            Code::QueryTooDeep,
            format!("the query of custom set `{}`: {}", cs.id, e.message),
        );
    }
    at.diag(
        Code::InvalidCustomsetQuery,
        format!(
            "the query of custom set `{}` is malformed: {}",
            cs.id, e.message
        ),
    )
    .with_note(format!("the query is `{}`", cs.query))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 names in a configuration")
}

/// One permission name of a chain and the rule lists of its levels.
#[derive(Debug, Clone, Copy)]
struct Link<'i> {
    perm: u32,
    /// Reached through a parent: every state found here is inherited.
    inherit: bool,
    levels: [(&'i [RuleEntry], Level); 2],
    n: usize,
}

impl<'i> Link<'i> {
    fn new(perm: u32, inherit: bool) -> Self {
        Link {
            perm,
            inherit,
            levels: [(&[], Level::Explicit); 2],
            n: 0,
        }
    }
    fn push(&mut self, rules: &'i [RuleEntry], level: Level) {
        if self.n < 2 {
            self.levels[self.n] = (rules, level);
            self.n += 1;
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Chain<'i> {
    links: [Link<'i>; MAX_CHAIN],
    len: usize,
}

impl Default for Chain<'_> {
    fn default() -> Self {
        Chain {
            links: [Link::new(0, false); MAX_CHAIN],
            len: 0,
        }
    }
}

impl<'i> Chain<'i> {
    fn push(&mut self, link: Link<'i>) {
        if self.len < MAX_CHAIN {
            self.links[self.len] = link;
            self.len += 1;
        }
    }
}

/// What a decision reports as it goes; `check` ignores it all.
trait Trace {
    fn account(&mut self, _status: AccountStatus) {}
    fn admin(&mut self, _held: Held) {}
    fn begin(&mut self, _purpose: Purpose, _permission: &str, _ctx: Ctx, _hit: Option<SetHit>) {}
    fn role(&mut self, _held: HeldRole, _state: State, _source: Source) {}
    fn end(&mut self, _strongest: State) {}
    fn done(&mut self, verdict: Verdict, _reason: Reason) -> Verdict {
        verdict
    }
}

struct NoTrace;

impl Trace for NoTrace {}

/// Builds the [`Explanation`] of a decision.
struct Recorder<'i> {
    ix: &'i Index,
    out: Explanation,
}

impl Trace for Recorder<'_> {
    fn account(&mut self, status: AccountStatus) {
        self.out.account = status;
    }

    fn admin(&mut self, held: Held) {
        self.out.admin = Some(RoleLine {
            role: self.ix.role_names[held.role as usize].clone(),
            via: self.ix.via(Origin::Assignment {
                idx: held.assignment,
            }),
            state: State::ExplicitGrant,
            setting: None,
        });
    }

    fn begin(&mut self, purpose: Purpose, permission: &str, ctx: Ctx, hit: Option<SetHit>) {
        let customset = hit.map(|h| {
            let set = &self.ix.files[h.file as usize].sets[h.set as usize];
            let action = permission
                .strip_prefix(set.prototype.as_str())
                .and_then(|r| r.strip_prefix('.'))
                .unwrap_or(permission);
            SetLine {
                id: set.id.clone(),
                at: set.at.clone(),
                key: format!("@{}.{action}", set.id),
                expanded: set
                    .query
                    .as_ref()
                    .map(|q| {
                        let obj = match purpose {
                            Purpose::DocumentContent => document_object(&self.out.object),
                            _ => self.out.object.clone(),
                        };
                        query::expansions(q, &obj, set.id.as_str())
                    })
                    .unwrap_or_default(),
            }
        });
        self.out.steps.push(Step {
            purpose,
            permission: permission.to_owned(),
            context: self.ix.context(ctx),
            customset,
            roles: Vec::new(),
            strongest: State::NotSet,
        });
    }

    fn role(&mut self, held: HeldRole, state: State, source: Source) {
        let setting = match source {
            Source::NotSet => None,
            Source::Rule(r) => {
                let info = &self.ix.rule_info[r as usize];
                Some(Setting::Rule {
                    permission: info.permission.clone(),
                    effect: info.effect,
                    at: info.at.clone(),
                })
            }
            Source::Default(p) => Some(Setting::Default {
                permission: self.ix.perm_names[p as usize].to_string(),
            }),
        };
        let line = RoleLine {
            role: self.ix.role_names[held.role as usize].clone(),
            via: self.ix.via(held.origin),
            state,
            setting,
        };
        if let Some(step) = self.out.steps.last_mut() {
            step.roles.push(line);
        }
    }

    fn end(&mut self, strongest: State) {
        if let Some(step) = self.out.steps.last_mut() {
            step.strongest = strongest;
        }
    }

    fn done(&mut self, verdict: Verdict, reason: Reason) -> Verdict {
        self.out.verdict = verdict;
        self.out.reason = reason;
        verdict
    }
}
