//! Answer each [`Assertion`] on a built configuration: `[[svn]]` with
//! `authz::Authz` on the rendered access file (what Subversion enforces),
//! `[[permission]]` and `[[rest]]` with `policy::Index` (and its
//! `explain` for the notes of a failure), `[[group]]` with the groups of
//! the rendered access file (role groups and hand-written ones).

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use super::names::{AccessNames, covers, section_lines};
use super::types::{Assertion, Check, Expect, Outcome, Spot, Text};
use crate::authz::{self, Access, Authz};
use crate::diag::{Code, Diagnostic};
use crate::model::{Model, Scope};
use crate::policy::{self, Object, Request, RestCall, Verdict, rest};

/// What the assertions are answered on.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub model: &'a Model,
    pub policy: &'a policy::Index,
    /// The rendered access file.
    pub access: &'a str,
    /// The path and text of the access file in the repository (the notes
    /// cite its lines).
    pub source_access: (&'a str, Option<&'a str>),
    pub revision: &'a str,
}

/// Members a note lists at most.
const MAX_LISTED: usize = 20;

/// Run every assertion: one outcome each that could be answered, and the
/// diagnostics (failures, names the configuration does not know).
pub fn run(assertions: &[Assertion], s: &Subject) -> (Vec<Outcome>, Vec<Diagnostic>) {
    let mut outcomes = Vec::new();
    let mut diags = Vec::new();
    if assertions.is_empty() {
        return (outcomes, diags);
    }
    let cx = Cx::new(s);
    for a in assertions {
        let outcome = match &a.check {
            Check::Svn {
                user,
                path,
                repository,
                access,
            } => cx.svn(a, user, path, repository.as_ref(), *access, &mut diags),
            Check::Permission {
                user,
                permission,
                project,
                object,
                expect,
            } => {
                let q = Question {
                    user,
                    permission,
                    project: project.as_ref(),
                    object,
                    expect: *expect,
                };
                cx.permission(a, &q, &mut diags)
            }
            Check::Rest {
                user,
                call,
                call_text,
                object,
                expect,
            } => cx.rest(a, (user, call, call_text), object, *expect, &mut diags),
            Check::Group {
                name,
                never_empty,
                has_member,
                lacks_member,
            } => {
                let claims = Claims {
                    name,
                    never_empty: *never_empty,
                    has_member,
                    lacks_member,
                };
                Some(cx.group(a, &claims, &mut diags))
            }
        };
        outcomes.extend(outcome);
    }
    (outcomes, diags)
}

/// A `[[permission]]` assertion's parts.
struct Question<'a> {
    user: &'a Text,
    permission: &'a Text,
    project: Option<&'a Text>,
    object: &'a Object,
    expect: Expect,
}

/// A `[[group]]` assertion's parts.
struct Claims<'a> {
    name: &'a Text,
    never_empty: bool,
    has_member: &'a [Text],
    lacks_member: &'a [Text],
}

/// The subject and what the assertions look up in it, built once.
struct Cx<'a> {
    s: &'a Subject<'a>,
    names: AccessNames,
    users: HashSet<String>,
    projects: HashSet<&'a str>,
    authz: OnceCell<Result<Authz, String>>,
    /// Members of each group asked about (resolved once).
    members: RefCell<HashMap<String, Rc<Option<BTreeSet<String>>>>>,
    /// Role group name → (role, scope), built on the first failure.
    role_groups: OnceCell<HashMap<String, (String, Scope)>>,
}

impl<'a> Cx<'a> {
    fn new(s: &'a Subject<'a>) -> Cx<'a> {
        let names = AccessNames::of(s.access);
        let mut users: HashSet<String> = names.users.clone();
        users.extend(
            s.model
                .active_accounts()
                .into_iter()
                .map(|l| l.as_str().to_owned()),
        );
        if let Some(accounts) = &s.model.accounts {
            users.extend(accounts.keys().map(|l| l.as_str().to_owned()));
        }
        let projects = s.model.projects.keys().map(|p| p.as_str()).collect();
        Cx {
            s,
            names,
            users,
            projects,
            authz: OnceCell::new(),
            members: RefCell::default(),
            role_groups: OnceCell::new(),
        }
    }

    fn known_user(&self, user: &Text, diags: &mut Vec<Diagnostic>) {
        if !self.users.contains(&user.value) {
            let msg = format!(
                "user `{}` has no account and is named by no role assignment, user group or access rule; the assertion still runs",
                user.value
            );
            diags.push(user.at.diag(Code::PolicyTestUnknownName, msg));
        }
    }

    fn known_project(&self, project: &str, at: &Spot, diags: &mut Vec<Diagnostic>) -> bool {
        let known = self.projects.contains(project);
        if !known {
            let msg = format!("there is no project `{project}`; the assertion cannot be answered");
            diags.push(at.diag(Code::PolicyTestUnknownProject, msg));
        }
        known
    }

    fn authz(&self) -> &Result<Authz, String> {
        self.authz.get_or_init(|| {
            Authz::load(self.s.access, None).map_err(|d| {
                let first = d.first().map_or(String::new(), |d| d.message.clone());
                format!("the rendered access file does not load: {first}")
            })
        })
    }

    fn svn(
        &self,
        a: &Assertion,
        user: &Text,
        path: &Text,
        repository: Option<&Text>,
        expected: Access,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Outcome> {
        self.known_user(user, diags);
        let repo = repository.map(|r| r.value.as_str());
        if let Some(r) = repository
            && !self.names.repositories.contains(&r.value)
        {
            let msg = format!(
                "no section of the access file is for repository `{}` ([{}:/…]); only repository-neutral sections count",
                r.value, r.value
            );
            diags.push(r.at.diag(Code::PolicyTestUnknownName, msg));
        }
        let authz = match self.authz() {
            Ok(authz) => authz,
            Err(e) => {
                diags.push(a.at.diag(Code::PolicyTestInvalid, e.clone()));
                return None;
            }
        };
        let got = authz.access(Some(&user.value), repo, Some(&path.value));
        let place = match repo {
            Some(r) => format!("{r}:{}", path.value),
            None => path.value.clone(),
        };
        let passed = got == expected;
        if !passed {
            let msg = format!(
                "{} has `{got}` on {place}, the test expects `{expected}`",
                user.value
            );
            let mut d = a.at.diag(Code::PolicyTestFailed, msg);
            d.notes = self.svn_notes(authz, &user.value, repo, &path.value);
            diags.push(d);
        }
        Some(Outcome {
            at: a.at.clone(),
            what: format!("svn {} {place} is {expected}", user.value),
            passed,
            got: got.as_str().to_owned(),
        })
    }

    /// The sections that apply to the user and cover the path, with the
    /// access each gives and its line in the repository's access file.
    fn svn_notes(&self, authz: &Authz, user: &str, repo: Option<&str>, path: &str) -> Vec<String> {
        let (file, text) = self.s.source_access;
        let lines = section_lines(file, text.unwrap_or(""));
        let path = authz::canonicalize(path);
        let mut notes = vec![format!(
            "the sections that apply to {user} on {path} (the most specific path decides; a [repository:/path] section replaces the neutral one of its path):"
        )];
        let listed: Vec<_> = authz
            .list(Some(user), repo)
            .into_iter()
            .filter(|l| covers(&l.section, &path))
            .collect();
        if listed.is_empty() {
            notes.push("  none: no rule gives access, so there is none".to_owned());
        }
        for l in listed {
            let line = lines
                .get(&l.section)
                .map_or("generated".to_owned(), |n| format!("{file}:{n}"));
            let pattern = if l.section.starts_with(":glob:") {
                "; a pattern: it counts where it matches"
            } else {
                ""
            };
            let mut note = format!(
                "  {:<2} [{}] ({line}{pattern})",
                l.access.as_str(),
                l.section
            );
            if let Some(twin) = &l.replaced_by {
                note.push_str(&format!(", replaced by [{twin}]"));
            }
            notes.push(note);
        }
        notes
    }

    fn permission(
        &self,
        a: &Assertion,
        q: &Question,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Outcome> {
        self.known_user(q.user, diags);
        if let Some(p) = q.project
            && !self.known_project(&p.value, &p.at, diags)
        {
            return None;
        }
        if !self.s.policy.names_permission(&q.permission.value) {
            let msg = format!(
                "no permissions file sets `{}` or a parent of it, and it is no built-in permission: a misspelt name is denied to everyone but admin",
                q.permission.value
            );
            diags.push(q.permission.at.diag(Code::PolicyTestUnknownName, msg));
        }
        let req = Request {
            user: &q.user.value,
            permission: &q.permission.value,
            project: q.project.map(|p| p.value.as_str()),
            object: q.object,
        };
        let verdict = self.answer(a, self.s.policy.check(&req), diags)?;
        let context = match q.project {
            Some(p) => format!("in project {}", p.value),
            None => "globally".to_owned(),
        };
        let what = format!(
            "permission {} {} {context}{}",
            q.user.value,
            q.permission.value,
            shown(q.object)
        );
        let explain = || {
            self.s
                .policy
                .explain(&req)
                .map(|e| e.render(self.s.revision))
        };
        Some(self.verdict(a, what, verdict, q.expect, explain, diags))
    }

    fn rest(
        &self,
        a: &Assertion,
        (user, call, call_text): (&Text, &RestCall, &Text),
        object: &Object,
        expect: Expect,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Outcome> {
        self.known_user(user, diags);
        if let Some(p) = call.project()
            && !self.known_project(p, &call_text.at, diags)
        {
            return None;
        }
        let ix = self.s.policy;
        let decided = rest::check(ix, &user.value, call, object, true).map(|d| d.verdict());
        let verdict = self.answer(a, decided, diags)?;
        let what = format!("rest {} {}{}", user.value, call_text.value, shown(object));
        let explain =
            || rest::explain(ix, &user.value, call, object).map(|e| e.render(self.s.revision));
        Some(self.verdict(a, what, verdict, expect, explain, diags))
    }

    /// A decision, or the diagnostic of a question that has none.
    fn answer(
        &self,
        a: &Assertion,
        decided: Result<Verdict, policy::RequestError>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Verdict> {
        match decided {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = format!("the assertion cannot be answered: {e}");
                diags.push(a.at.diag(Code::PolicyTestInvalid, msg));
                None
            }
        }
    }

    /// The outcome of a decision; a failure is a diagnostic whose notes
    /// are the explanation.
    fn verdict(
        &self,
        a: &Assertion,
        what: String,
        got: Verdict,
        expect: Expect,
        explain: impl FnOnce() -> Result<String, policy::RequestError>,
        diags: &mut Vec<Diagnostic>,
    ) -> Outcome {
        let passed = got.as_str() == expect.as_str();
        if !passed {
            let msg = format!(
                "{what}: the answer is `{}`, the test expects `{}`",
                got.as_str(),
                expect.as_str()
            );
            let mut d = a.at.diag(Code::PolicyTestFailed, msg);
            if let Ok(text) = explain() {
                d.notes = text.lines().map(str::to_owned).collect();
            }
            diags.push(d);
        }
        Outcome {
            at: a.at.clone(),
            what: format!("{what} is {}", expect.as_str()),
            passed,
            got: got.as_str().to_owned(),
        }
    }

    fn group(&self, a: &Assertion, c: &Claims, diags: &mut Vec<Diagnostic>) -> Outcome {
        let Claims {
            name,
            never_empty,
            has_member,
            lacks_member,
        } = *c;
        let resolved = self.members_of(&name.value);
        if resolved.is_none() {
            let msg = format!("there is no group `{}` in the access file", name.value);
            diags.push(name.at.diag(Code::PolicyTestUnknownName, msg));
        }
        let none = BTreeSet::new();
        let members = resolved.as_ref().as_ref().unwrap_or(&none);
        let mut failures: Vec<(&Spot, String)> = Vec::new();
        if never_empty && members.is_empty() {
            let msg = format!(
                "group `{}` is empty, the test says it is never empty",
                name.value
            );
            failures.push((&a.at, msg));
        }
        for m in has_member.iter().filter(|m| !members.contains(&m.value)) {
            let msg = format!("`{}` is no member of group `{}`", m.value, name.value);
            failures.push((&m.at, msg));
        }
        for m in lacks_member.iter().filter(|m| members.contains(&m.value)) {
            let msg = format!(
                "`{}` is a member of group `{}`, the test says it is not",
                m.value, name.value
            );
            failures.push((&m.at, msg));
        }
        // A misspelt login in lacks_member would pass for the wrong reason.
        for m in has_member.iter().chain(lacks_member) {
            self.known_user(m, diags);
        }
        let passed = failures.is_empty();
        for (at, msg) in failures {
            let mut d = at.diag(Code::PolicyTestFailed, msg);
            d.notes = self.group_notes(&name.value, members);
            diags.push(d);
        }
        Outcome {
            at: a.at.clone(),
            what: format!("group {}{}", name.value, claims_text(c)),
            passed,
            got: match members.len() {
                0 => "empty".to_owned(),
                n => format!("{n} member{}", if n == 1 { "" } else { "s" }),
            },
        }
    }

    /// The members of a group, resolved once however many assertions ask.
    fn members_of(&self, group: &str) -> Rc<Option<BTreeSet<String>>> {
        if let Some(m) = self.members.borrow().get(group) {
            return m.clone();
        }
        let m = Rc::new(self.names.members(group));
        self.members
            .borrow_mut()
            .insert(group.to_owned(), m.clone());
        m
    }

    fn group_notes(&self, name: &str, members: &BTreeSet<String>) -> Vec<String> {
        let mut notes = Vec::new();
        let listed: Vec<&str> = members
            .iter()
            .take(MAX_LISTED)
            .map(String::as_str)
            .collect();
        let more = members.len().saturating_sub(MAX_LISTED);
        notes.push(match (listed.is_empty(), more) {
            (true, _) => format!("{name} has no members (through nested groups and aliases)"),
            (false, 0) => format!("members of {name}: {}", listed.join(", ")),
            (false, n) => format!("members of {name}: {} and {n} more", listed.join(", ")),
        });
        let role_groups = self.role_groups.get_or_init(|| {
            let groups = self.s.model.role_groups().into_iter();
            groups
                .map(|g| (g.name, (g.role.as_str().to_owned(), g.scope)))
                .collect()
        });
        if let Some((role, scope)) = role_groups.get(name) {
            let scope = match scope {
                Scope::Global => "globally".to_owned(),
                Scope::Project(p) => format!("in project {}", p.as_str()),
            };
            notes.push(format!(
                "{name} is the role group of role {role} {scope}: the active accounts that hold the role there, directly or through a user group"
            ));
        }
        notes
    }
}

/// ` {status=open}` for an object with attributes, else nothing.
fn shown(object: &Object) -> String {
    if object.is_empty() {
        return String::new();
    }
    let attrs: Vec<String> = object
        .attrs()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(" {{{}}}", attrs.join(", "))
}

/// What a `[[group]]` claims, in a few words.
fn claims_text(c: &Claims) -> String {
    let mut claims = Vec::new();
    if c.never_empty {
        claims.push("is never empty".to_owned());
    }
    let list = |m: &[Text]| {
        m.iter()
            .map(|t| t.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !c.has_member.is_empty() {
        claims.push(format!("has {}", list(c.has_member)));
    }
    if !c.lacks_member.is_empty() {
        claims.push(format!("lacks {}", list(c.lacks_member)));
    }
    format!(" {}", claims.join(", "))
}
