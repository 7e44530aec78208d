//! The decision, written once: [`Index::check`] runs it plainly and
//! [`Index::explain`] with a recorder.

use super::super::explain::{AccountStatus, Explanation, Purpose, Reason, Verdict};
use super::super::names::{self, FieldAction, LOGIN, MODULE_MODIFY_CONTENT};
use super::super::query::{self, Object};
use super::super::state::{Level, State, combine};
use super::record::{NoTrace, Recorder, Trace};
use super::types::*;

impl Index {
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
            .and_then(|p| self.projects.ids.get(p))
            .map(|&p| self.projects.list[p as usize].clone());
        debug_assert_eq!(verdict, rec.out.verdict);
        Ok(rec.out)
    }

    fn decide<T: Trace>(&self, req: &Request, t: &mut T) -> Result<Verdict, RequestError> {
        let ctx = match req.project {
            _ if req.permission == LOGIN => Ctx::Anywhere,
            None => Ctx::Global,
            Some(p) => match self.projects.ids.get(p) {
                Some(&i) => Ctx::Project(i),
                None => return Err(RequestError::UnknownProject(p.to_owned())),
            },
        };
        let user = self.global.users.get(req.user);
        let account = self.account(user, req.user);
        t.account(account);
        if account != AccountStatus::Active {
            return Ok(t.done(Verdict::Deny, Reason::Account(account)));
        }
        let admin = self.roles.special.admin;
        if let Some(h) = user.and_then(|u| u.global.iter().find(|h| h.role == admin)) {
            t.admin(*h);
            return Ok(t.done(Verdict::Allow, Reason::Admin));
        }
        // 003, "Creating User Accounts": without `user` globally or in
        // some project the account is "[disabled]": denied everything.
        if !self.has_user_role(user, req.user) {
            return Ok(t.done(Verdict::Deny, Reason::NoUserRole));
        }
        let obj = req.object;
        let who = Who {
            user,
            here: match ctx {
                Ctx::Project(p) => self.held_in(p, req.user),
                Ctx::Global | Ctx::Anywhere => &[],
            },
            login: req.user,
            ctx,
        };
        // 003, "Important Permission Ramifications": Heading work items
        // can be deleted without WorkItem.delete unless
        // headingsObeyDeletePermission is set.
        if !self.rules.headings_obey_delete
            && obj.has("type", HEADING_TYPE)
            && self.rules.perms.get(req.permission) == Some(&self.rules.delete_perm)
        {
            return Ok(t.done(Verdict::Allow, Reason::HeadingDelete));
        }
        if !self.step(t, &who, Purpose::Asked, req.permission, obj)? {
            return Ok(t.done(Verdict::Deny, Reason::Denied));
        }
        if let Some(f) = names::field_permission(req.permission)
            && f.action == FieldAction::Modify
        {
            let read = names::field_name(&f, FieldAction::Read);
            if !self.step(t, &who, Purpose::FieldRead, &read, obj)? {
                return Ok(t.done(Verdict::Deny, Reason::FieldReadDenied));
            }
            if f.prototype == "WorkItem"
                && names::DOCUMENT_CONTENT_FIELDS.contains(&f.field)
                && obj.values("document").next().is_some()
            {
                let doc = document_object(obj);
                let p = Purpose::DocumentContent;
                if !self.step(t, &who, p, MODULE_MODIFY_CONTENT, &doc)? {
                    return Ok(t.done(Verdict::Deny, Reason::DocumentContentDenied));
                }
            }
        }
        Ok(t.done(Verdict::Allow, Reason::Granted))
    }

    /// One permission over all the user's roles in the context: true when
    /// the strongest state is a grant.
    fn step<T: Trace>(
        &self,
        t: &mut T,
        who: &Who,
        purpose: Purpose,
        permission: &str,
        obj: &Object,
    ) -> Result<bool, RequestError> {
        let hit = self.set_hit(who.ctx, permission, who.login, obj)?;
        t.begin(purpose, permission, who.ctx, hit);
        let chain = self.chain(who.ctx, permission, hit);
        let mut best = State::NotSet;
        self.for_each_role(who, obj, |held| {
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
            Ctx::Global | Ctx::Anywhere => self.rules.global_file,
            Ctx::Project(p) => self.rules.project_file[p as usize].or(self.rules.global_file),
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
        for (si, set) in self.rules.files[file as usize].sets.iter().enumerate() {
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
            let id = self.rules.perms.get(name.as_ref()).copied();
            let parent = match id {
                Some(p) => self.rules.perm_parent[p as usize]
                    .map(|q| std::borrow::Cow::Borrowed(&*self.rules.perm_names[q as usize])),
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
            let set = &self.rules.files[h.file as usize].sets[h.set as usize];
            let keys = self.rules.set_perms.get(&(h.file, h.set));
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
                if let Some(g) = self.rules.global_file {
                    link.push(self.rules_of(g, perm), Level::Explicit);
                }
            }
            // A project's own setting replaces the same setting (role and
            // permission) of the global file; a global setting keeps its
            // level in the project (003: "Projects inherit permissions from
            // the repository scope, and changes to the project settings
            // override the same settings in the repository scope").
            Ctx::Project(p) => {
                if let Some(f) = self.rules.project_file[p as usize] {
                    link.push(self.rules_of(f, perm), Level::Explicit);
                }
                if let Some(g) = self.rules.global_file {
                    link.push(self.rules_of(g, perm), Level::Explicit);
                }
            }
        }
        link
    }

    fn rules_of(&self, file: u32, perm: u32) -> &[RuleEntry] {
        match self.rules.rules.get(&(file, perm)) {
            Some(&(a, b)) => &self.rules.rule_entries[a as usize..b as usize],
            None => &[],
        }
    }

    /// The state of the chain for one role: the first link that sets it
    /// (strongest setting within a level), or a built-in default.
    fn role_state(&self, chain: &Chain, held: ActingRole) -> (State, Source) {
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
        let sp = &self.roles.special;
        if perm == self.rules.login_perm {
            return (role == sp.user).then_some(State::InheritedGrant);
        }
        (self.rules.rest_perms.contains(&perm) && (role == sp.admin || role == sp.project_admin))
            .then_some(State::ExplicitGrant)
    }

    /// Every role the user holds in the context: global ones, the
    /// project's, `everyone`, and the dynamic roles of the object.
    fn for_each_role(&self, who: &Who, obj: &Object, mut f: impl FnMut(ActingRole)) {
        let Who {
            user,
            here,
            login,
            ctx,
        } = *who;
        let assigned = |part, h: &Assigned| ActingRole {
            role: h.role,
            origin: Origin::Assignment {
                part,
                idx: h.assignment,
            },
        };
        for h in user.map_or(&[][..], |u| &u.global) {
            f(assigned(None, h));
        }
        match ctx {
            Ctx::Global => {}
            Ctx::Project(p) => here.iter().for_each(|h| f(assigned(Some(p), h))),
            Ctx::Anywhere => {
                for &(p, _) in self.members.get(login) {
                    for h in self.held_in(p, login) {
                        f(assigned(Some(p), h));
                    }
                }
            }
        }
        let sp = &self.roles.special;
        f(ActingRole {
            role: sp.everyone,
            origin: Origin::Everyone,
        });
        if !obj.is_empty() {
            for (i, (_, attr)) in DYNAMIC.iter().enumerate() {
                if obj.has(attr, login) {
                    f(ActingRole {
                        role: sp.dynamic[i],
                        origin: Origin::Object(i),
                    });
                }
            }
        }
        if let Ctx::Project(p) = ctx
            && self.parts[p as usize]
                .lead
                .as_ref()
                .is_some_and(|l| l.as_str() == login)
        {
            f(ActingRole {
                role: sp.lead,
                origin: Origin::Lead(p),
            });
        }
    }

    /// The roles a login holds in one project, in assignment order.
    pub(super) fn held_in(&self, p: u32, login: &str) -> &[Assigned] {
        self.parts[p as usize].held_by(login)
    }

    /// A login's account status (`user`: its global entry): `user.xml`'s,
    /// then the directory's when it decides.
    pub(super) fn account(&self, user: Option<&GlobalUser>, login: &str) -> AccountStatus {
        let local = match user {
            Some(u) => u.account,
            None if self.global.accounts_managed => AccountStatus::NoAccount,
            None => AccountStatus::Active,
        };
        match (local, &self.global.directory) {
            (AccountStatus::Active, Some(d)) => match d.get(login) {
                Some(crate::directory::AccountState::Active) => AccountStatus::Active,
                Some(crate::directory::AccountState::Locked { .. }) => {
                    AccountStatus::LockedInDirectory
                }
                None => AccountStatus::NotInDirectory,
            },
            (local, _) => local,
        }
    }

    /// What locked `login` in the directory (`pwdAccountLockedTime`…).
    pub fn locked_by(&self, login: &str) -> Option<&str> {
        match self.global.directory.as_ref()?.get(login)? {
            crate::directory::AccountState::Locked { by } => Some(by),
            crate::directory::AccountState::Active => None,
        }
    }

    /// Whether the login holds `user` globally or in some project.
    fn has_user_role(&self, user: Option<&GlobalUser>, login: &str) -> bool {
        user.is_some_and(|u| u.has_user_role)
            || (self.user_role_in_projects && self.members.get(login).iter().any(|(_, u)| *u))
    }
}

/// Who asks, and where: what every step of one decision shares.
#[derive(Debug, Clone, Copy)]
struct Who<'a> {
    user: Option<&'a GlobalUser>,
    /// The roles held in the context's project.
    here: &'a [Assigned],
    login: &'a str,
    ctx: Ctx,
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
