//! The parts of [`Index`] made from the permission files and the role
//! names: [`Roles`] (every role named anywhere, numbered) and [`Rules`]
//! (the permission files: names interned, custom sets compiled, rules by
//! file and permission).

use super::super::names::{self, LOGIN, MODULE_MODIFY_CONTENT, Verb};
use super::super::query::{self, Query};
use super::types::*;
use crate::diag::{Code, Diagnostic};
use crate::ident::RoleId;
use crate::model::{Model, PermissionSet};

impl Roles {
    /// The built-in roles, then every role of `sources` in order, each once.
    pub(super) fn of<'r>(sources: impl IntoIterator<Item = &'r RoleId>) -> Roles {
        let mut roles = Roles {
            names: Vec::new(),
            ids: HashMap::default(),
            special: Special::default(),
        };
        roles.special = Special::intern(&mut roles);
        for id in sources {
            roles.add(id);
        }
        roles
    }

    fn add(&mut self, id: &RoleId) -> u32 {
        if let Some(&i) = self.ids.get(id.as_str()) {
            return i;
        }
        let i = to_u32(self.names.len());
        self.names.push(id.clone());
        self.ids.insert(id.clone(), i);
        i
    }

    fn builtin(&mut self, name: &str) -> u32 {
        self.add(&RoleId::new(name).expect("built-in role names are valid role ids"))
    }

    /// The number of a role of the sources the table was made of.
    pub(super) fn id(&self, role: &RoleId) -> u32 {
        *self
            .ids
            .get(role.as_str())
            .expect("the role table holds every role the parts name")
    }
}

impl Special {
    fn intern(roles: &mut Roles) -> Special {
        Special {
            admin: roles.builtin("admin"),
            user: roles.builtin("user"),
            everyone: roles.builtin("everyone"),
            assignable: roles.builtin("assignable"),
            project_admin: roles.builtin("project_admin"),
            project_assignable: roles.builtin("project_assignable"),
            lead: roles.builtin("lead"),
            dynamic: DYNAMIC.map(|(role, _)| roles.builtin(role)),
        }
    }
}

/// Roles in first-use order, each once.
#[derive(Default)]
pub(super) struct FirstUse {
    /// The roles of `list`, once it is longer than [`FirstUse::SCAN`].
    seen: std::collections::HashSet<RoleId, crate::fxhash::FxBuild>,
    pub(super) list: Vec<RoleId>,
}

impl FirstUse {
    /// Up to this many roles a scan of the list is cheaper than hashing.
    const SCAN: usize = 16;

    pub(super) fn add(&mut self, role: &RoleId) {
        let known = if self.list.len() <= Self::SCAN {
            self.list.contains(role)
        } else {
            if self.seen.is_empty() {
                self.seen.extend(self.list.iter().cloned());
            }
            self.seen.contains(role)
        };
        if !known {
            if !self.seen.is_empty() {
                self.seen.insert(role.clone());
            }
            self.list.push(role.clone());
        }
    }
}

/// The permission files in index order: the global one, then each
/// project's own (one that sets nothing is none), by project number.
pub(super) fn permission_files<'m>(
    model: &'m Model,
    projects: &'m ProjectTable,
) -> impl Iterator<Item = (Option<u32>, &'m PermissionSet)> {
    let global = model.global_permissions.iter().map(|set| (None, set));
    let own = projects.list.iter().enumerate().filter_map(|(i, id)| {
        // A file that sets nothing (`<permissions/>`) is no project
        // level setting: the project inherits the global configuration
        // whole (003, "Defining Permissions for Artifact Sets").
        let set = model.projects.get(id)?.permissions.as_ref()?;
        (!set.rules.is_empty() || !set.customsets.is_empty()).then_some((Some(to_u32(i)), set))
    });
    global.chain(own)
}

/// The roles the permission files' rules name, in first-use order.
pub(super) fn rule_roles(model: &Model, projects: &ProjectTable) -> Vec<RoleId> {
    let mut roles = FirstUse::default();
    for (_, set) in permission_files(model, projects) {
        for r in &set.rules {
            roles.add(&r.role);
        }
    }
    roles.list
}

impl Rules {
    /// Index the permission files. Custom-set queries are parsed here; a
    /// malformed one is an `invalid-customset-query` diagnostic (and
    /// never matches).
    pub(super) fn build(
        model: &Model,
        projects: &ProjectTable,
        roles: &Roles,
        roles_used: Vec<RoleId>,
    ) -> (Rules, Vec<Diagnostic>) {
        let mut perms = Perms::default();
        let login_perm = perms.perm(LOGIN);
        let rest_perms = Verb::ALL.map(|v| perms.perm(v.permission()));
        perms.perm(MODULE_MODIFY_CONTENT);
        let delete_perm = perms.perm(WORKITEM_DELETE);
        let mut files = Files::new(model.limits.max_query_depth);
        let mut global_file = None;
        let mut project_file = vec![None; projects.list.len()];
        for (project, set) in permission_files(model, projects) {
            let file = files.add(&mut perms, roles, set);
            match project {
                None => global_file = Some(file),
                Some(p) => project_file[p as usize] = Some(file),
            }
        }
        let (rules, rule_entries) = files.rule_ranges();
        let ix = Rules {
            files: files.files,
            global_file,
            project_file,
            perms: perms.perms,
            perm_names: perms.perm_names,
            perm_parent: perms.perm_parent,
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
            roles_used,
        };
        (ix, files.diags)
    }
}

/// Permission names interned to numbers, each with its parent.
#[derive(Default)]
struct Perms {
    perms: HashMap<Box<str>, u32>,
    perm_names: Vec<Box<str>>,
    perm_parent: Vec<Option<u32>>,
}

impl Perms {
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

    fn add(&mut self, perms: &mut Perms, roles: &Roles, set: &PermissionSet) -> u32 {
        let file = to_u32(self.files.len());
        let sets: Vec<CompiledSet> = set.customsets.iter().map(|cs| self.compile(cs)).collect();
        for r in &set.rules {
            let perm = perms.perm(&r.permission);
            if let Some(rest) = r.permission.strip_prefix('@')
                && let Some((set_id, action)) = rest.split_once('.')
                && let Some(si) = sets.iter().position(|s| s.id.as_str() == set_id)
            {
                self.set_perms
                    .entry((file, to_u32(si)))
                    .or_default()
                    .insert(action.into(), perm);
            }
            let rule = to_u32(self.rule_info.len());
            self.rule_info.push(RuleInfo {
                permission: r.permission.clone(),
                effect: r.effect,
                at: r.at.clone(),
            });
            let entry = RuleEntry {
                role: roles.id(&r.role),
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
