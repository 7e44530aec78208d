//! [`Index::build`]: the model rearranged into the indexes, step by step.

use super::super::explain::AccountStatus;
use super::super::names::{self, LOGIN, MODULE_MODIFY_CONTENT, Verb};
use super::super::query::{self, Query};
use super::types::*;
use crate::diag::{Code, Diagnostic};
use crate::ident::{GroupId, Login, RoleId};
use crate::model::{Holder, Model, PermissionSet, Scope};

impl Index {
    /// Index a model. Custom-set queries are parsed here; a malformed one
    /// is an `invalid-customset-query` diagnostic (and never matches).
    ///
    /// The steps: intern the built-in roles and permissions, then the
    /// projects with their permission files, then the users.
    pub fn build(model: &Model) -> (Index, Vec<Diagnostic>) {
        let mut names = Names::default();
        let special = Special::intern(&mut names);
        let login_perm = names.perm(LOGIN);
        let rest_perms = Verb::ALL.map(|v| names.perm(v.permission()));
        names.perm(MODULE_MODIFY_CONTENT);
        let delete_perm = names.perm(WORKITEM_DELETE);
        let mut files = Files::new(model.limits.max_query_depth);
        let global_file = model
            .global_permissions
            .as_ref()
            .map(|set| files.add(&mut names, set));
        let (projects, project_list) = index_projects(model, &mut files, &mut names);
        let users = Users::build(model, &mut names, &projects, special);
        let (rules, rule_entries) = files.rule_ranges();
        let ix = Index {
            role_names: names.role_names,
            special,
            projects,
            project_list,
            users: users.users,
            user_list: users.list,
            accounts_managed: users.accounts_managed,
            assignments: users.assignments,
            files: files.files,
            global_file,
            perms: names.perms,
            perm_names: names.perm_names,
            perm_parent: names.perm_parent,
            rules,
            rule_entries,
            rule_info: files.rule_info,
            set_perms: files.set_perms,
            login_perm,
            rest_perms,
            delete_perm,
            headings_obey_delete: model
                .global_permissions
                .as_ref()
                .is_some_and(|p| p.headings_obey_delete_permission),
        };
        (ix, files.diags)
    }
}

/// Roles and permission names interned to numbers.
#[derive(Default)]
struct Names {
    roles: HashMap<String, u32>,
    role_names: Vec<RoleId>,
    perms: HashMap<Box<str>, u32>,
    perm_names: Vec<Box<str>>,
    perm_parent: Vec<Option<u32>>,
}

impl Names {
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
}

impl Special {
    fn intern(names: &mut Names) -> Special {
        Special {
            admin: names.builtin_role("admin"),
            user: names.builtin_role("user"),
            everyone: names.builtin_role("everyone"),
            assignable: names.builtin_role("assignable"),
            project_admin: names.builtin_role("project_admin"),
            project_assignable: names.builtin_role("project_assignable"),
            lead: names.builtin_role("lead"),
            dynamic: DYNAMIC.map(|(role, _)| names.builtin_role(role)),
        }
    }
}

/// The projects in id order, each with its own permission file.
fn index_projects(
    model: &Model,
    files: &mut Files,
    names: &mut Names,
) -> (HashMap<String, u32>, Vec<ProjectEntry>) {
    let mut ids = HashMap::default();
    let mut list = Vec::new();
    for (id, p) in &model.projects {
        ids.insert(id.as_str().to_owned(), to_u32(list.len()));
        // A file that sets nothing (`<permissions/>`) is no project
        // level setting: the project inherits the global configuration
        // whole (003, "Defining Permissions for Artifact Sets").
        let own = p
            .permissions
            .as_ref()
            .filter(|s| !s.rules.is_empty() || !s.customsets.is_empty());
        list.push(ProjectEntry {
            id: id.clone(),
            folder: p.folder.clone(),
            lead: p.lead.clone(),
            file: own.map(|set| files.add(names, set)),
        });
    }
    (ids, list)
}

/// (file, permission) → the range of its rules in the sorted entries.
type RuleRanges = HashMap<(u32, u32), (u32, u32)>;

/// The permission files being indexed: their custom sets, their rules by
/// (file, permission), and the diagnostics of their queries.
struct Files {
    max_query_depth: usize,
    files: Vec<FileEntry>,
    rule_info: Vec<RuleInfo>,
    set_perms: HashMap<(u32, u32), HashMap<Box<str>, u32>>,
    /// (file, permission, rule), sorted by [`Files::rule_ranges`].
    indexed: Vec<(u32, u32, RuleEntry)>,
    diags: Vec<Diagnostic>,
}

impl Files {
    fn new(max_query_depth: usize) -> Files {
        Files {
            max_query_depth,
            files: Vec::new(),
            rule_info: Vec::new(),
            set_perms: HashMap::default(),
            indexed: Vec::new(),
            diags: Vec::new(),
        }
    }

    fn add(&mut self, names: &mut Names, set: &PermissionSet) -> u32 {
        let file = to_u32(self.files.len());
        let sets: Vec<CompiledSet> = set.customsets.iter().map(|cs| self.compile(cs)).collect();
        for r in &set.rules {
            let perm = names.perm(&r.permission);
            if let Some(rest) = r.permission.strip_prefix('@')
                && let Some((set_id, action)) = rest.split_once('.')
                && let Some(si) = sets.iter().position(|s| s.id.as_str() == set_id)
            {
                self.set_perms
                    .entry((file, to_u32(si)))
                    .or_default()
                    .insert(action.into(), perm);
            }
            let role = names.role(&r.role);
            let rule = to_u32(self.rule_info.len());
            self.rule_info.push(RuleInfo {
                permission: r.permission.clone(),
                effect: r.effect,
                at: r.at.clone(),
            });
            let entry = RuleEntry {
                role,
                effect: r.effect,
                rule,
            };
            self.indexed.push((file, perm, entry));
        }
        self.files.push(FileEntry { sets });
        file
    }

    /// Parse a custom set's query; a malformed one is reported and never
    /// matches.
    fn compile(&mut self, cs: &crate::model::CustomSet) -> CompiledSet {
        let parsed = match query::parse_within(&cs.query, self.max_query_depth) {
            Ok(q) => Some(q),
            Err(e) => {
                self.diags.push(query_diag(cs, &e));
                None
            }
        };
        for e in parsed.iter().flat_map(Query::expanders) {
            self.diags.push(query::expander_diag(cs, e));
        }
        CompiledSet {
            id: cs.id.clone(),
            prototype: cs.prototype.clone(),
            query: parsed,
            at: cs.at.clone(),
        }
    }

    /// The rules sorted by (file, permission, order), and the range of
    /// each (file, permission) in them.
    fn rule_ranges(&mut self) -> (RuleRanges, Vec<RuleEntry>) {
        let mut indexed = std::mem::take(&mut self.indexed);
        indexed.sort_by_key(|(f, p, e)| (*f, *p, e.rule));
        let mut ranges = RuleRanges::default();
        let mut entries = Vec::with_capacity(indexed.len());
        for (f, p, e) in indexed {
            let at = to_u32(entries.len());
            entries.push(e);
            ranges
                .entry((f, p))
                .and_modify(|r| r.1 = at + 1)
                .or_insert((at, at + 1));
        }
        (ranges, entries)
    }
}

/// The users: accounts, group memberships and the roles they hold.
struct Users {
    users: HashMap<String, u32>,
    list: Vec<UserEntry>,
    accounts_managed: bool,
    assignments: Vec<AssignmentInfo>,
}

impl Users {
    fn build(
        model: &Model,
        names: &mut Names,
        projects: &HashMap<String, u32>,
        special: Special,
    ) -> Users {
        let mut users = Users {
            users: HashMap::default(),
            list: Vec::new(),
            accounts_managed: model.accounts.is_some(),
            assignments: Vec::new(),
        };
        for (login, account) in model.accounts.iter().flatten() {
            let u = users.user(login);
            users.list[u as usize].account = if account.disabled {
                AccountStatus::Disabled
            } else {
                AccountStatus::Active
            };
        }
        // Each group's members as user numbers, looked up once here and
        // not again for every assignment to the group.
        let mut members_of: HashMap<&GroupId, Vec<u32>> = HashMap::default();
        for (group, members) in &model.user_groups {
            let numbers = members_of.entry(group).or_default();
            for m in members {
                let u = users.user(m);
                users.list[u as usize].groups.push(group.clone());
                numbers.push(u);
            }
        }
        for a in &model.assignments {
            let holders = Holders {
                user: match &a.holder {
                    Holder::User(login) => Some(login),
                    Holder::Group(_) => None,
                },
                group: match &a.holder {
                    Holder::User(_) => &[],
                    Holder::Group(g) => members_of.get(g).map_or(&[][..], Vec::as_slice),
                },
            };
            users.assign(a, names.role(&a.role), &holders, projects, special);
        }
        for u in &mut users.list {
            u.projects.sort_by_key(|(p, h)| (*p, h.assignment));
        }
        users
    }

    /// Record one assignment and give its role to every login it names
    /// (`holders`: their numbers, in the order `Model::logins_of` gives).
    fn assign(
        &mut self,
        a: &crate::model::Assignment,
        role: u32,
        holders: &Holders,
        projects: &HashMap<String, u32>,
        special: Special,
    ) {
        let held = Assigned {
            role,
            assignment: to_u32(self.assignments.len()),
        };
        self.assignments.push(AssignmentInfo {
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
            .and_then(|p| projects.get(p.as_str()).copied());
        if a.scope != Scope::Global && project.is_none() {
            return;
        }
        let user = holders.user.map(|login| self.user(login));
        for u in user.into_iter().chain(holders.group.iter().copied()) {
            let entry = &mut self.list[u as usize];
            entry.has_user_role |= role == special.user;
            match project {
                None => entry.global.push(held),
                Some(p) => entry.projects.push((p, held)),
            }
        }
    }

    fn user(&mut self, login: &Login) -> u32 {
        if let Some(&i) = self.users.get(login.as_str()) {
            return i;
        }
        let i = to_u32(self.list.len());
        self.list.push(UserEntry {
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
}

/// The users an assignment names, by number: its user, or its group's
/// members.
struct Holders<'a> {
    user: Option<&'a Login>,
    group: &'a [u32],
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
