//! [`LowerMemo`]: each project's lowering kept from one build for the
//! next ([`lower_with`](super::lower_with)). A leaf of `lower`.
//!
//! A project's part is reused only when its folder is the same and each of
//! its files is the very value read before (the same `Arc`: the snapshot's
//! memo hands out the earlier value only for the same path, bytes and
//! limits), and the context it was lowered in is unchanged: the limits,
//! the account logins (or that there are none) and the user-group ids,
//! which are all a project's lowering looks at outside its own files.
//! After a build the memo holds the parts of that build's projects only.
//!
//! It also keeps the accounts, reused while every account folder's name
//! and file are those lowered before (the same `Arc`s) under the same
//! limits, and what the checks across files keep (`check_memo.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::super::types::{Account, Model};
use super::check_memo::CheckMemo;
use super::cx::ProjectFiles;
use super::cx::Read;
use super::part::{Accounts, AccountsKey, Assigned, Groups, KeptAccounts, Part};
use crate::ident::{GroupId, Login};
use crate::limits::Limits;
use crate::xml;

/// What `lower_with` keeps for the next build: each project's part, the
/// global assignments, the accounts and the checks' tallies.
#[derive(Default)]
pub struct LowerMemo {
    context: Option<Context>,
    /// Each project's part by its folder, in the order the projects came.
    parts: Vec<(String, Entry)>,
    /// The global user-roles.xml and its assignments.
    global: Option<(Arc<xml::UserRolesFile>, Arc<Assigned>)>,
    hits: usize,
    misses: usize,
    /// What the checks across files keep (`check_memo.rs`).
    pub(super) checks: CheckMemo,
    /// The accounts and what they were lowered from.
    accounts: Option<(AccountsKey, Arc<Accounts>)>,
    /// The generation of the account files the accounts were last lowered
    /// from or found equal to (`ConfigFiles::users_generation`).
    accounts_generation: Option<u64>,
    /// groups.xml lowered, and what from.
    groups: Option<(GroupsKey, Arc<Groups>)>,
}

/// What groups.xml was lowered from: the file's value and the
/// directory's answer (each the very value, compared by identity) and
/// the limits; nothing else is read.
struct GroupsKey {
    file: Arc<xml::GroupsFile>,
    directory: Option<Arc<crate::directory::DirectorySnapshot>>,
    limits: Limits,
}

impl std::fmt::Debug for LowerMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LowerMemo")
            .field("parts", &self.parts.len())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

impl LowerMemo {
    /// Parts of the last build (each project, and the global
    /// user-roles.xml) lowered from the memo / afresh, and how many
    /// projects it holds.
    pub fn stats(&self) -> (usize, usize, usize) {
        (self.hits, self.misses, self.parts.len())
    }
}

/// What a project's lowering reads outside its own files.
struct Context {
    limits: Limits,
    /// The accounts lowered (shared: while the accounts' memo hands out
    /// the same `Arc`, their logins are known equal without a look).
    accounts: Option<Arc<BTreeMap<Login, Account>>>,
    groups: Vec<GroupId>,
}

impl Context {
    fn is_of(&self, model: &Model, limits: &Limits) -> bool {
        self.limits == *limits
            && match (&self.accounts, &model.accounts) {
                (None, None) => true,
                (Some(kept), Some(now)) => Arc::ptr_eq(kept, now) || kept.keys().eq(now.keys()),
                _ => false,
            }
            && self.groups.iter().eq(model.user_groups.keys())
    }

    fn of(model: &Model, limits: &Limits) -> Self {
        Context {
            limits: *limits,
            accounts: model.accounts.clone(),
            groups: model.user_groups.keys().cloned().collect(),
        }
    }
}

/// A project's files, each the value read (compared by identity).
struct Key {
    descriptor: Arc<xml::ProjectFile>,
    user_roles: Option<Arc<xml::UserRolesFile>>,
    permissions: Option<Arc<xml::PermissionsFile>>,
    roles: Option<Arc<xml::RolesFile>>,
}

impl Key {
    fn of(pf: &ProjectFiles) -> Self {
        Key {
            descriptor: Arc::clone(&pf.descriptor.value),
            user_roles: pf.user_roles.as_ref().map(|r| Arc::clone(&r.value)),
            permissions: pf.permissions.as_ref().map(|r| Arc::clone(&r.value)),
            roles: pf.roles.as_ref().map(|r| Arc::clone(&r.value)),
        }
    }

    fn matches(&self, other: &Key) -> bool {
        fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
        }
        Arc::ptr_eq(&self.descriptor, &other.descriptor)
            && same(&self.user_roles, &other.user_roles)
            && same(&self.permissions, &other.permissions)
            && same(&self.roles, &other.roles)
    }
}

struct Entry {
    key: Key,
    part: Arc<Part>,
}

/// The parts of the build before, taken from as this build goes (the
/// projects come in folder order, as they were kept): the one at the
/// place after the last taken when it is of the same folder, else (once
/// projects came or went) the one of that folder, found by a map made
/// then.
pub(super) struct Earlier {
    slots: Vec<Option<(String, Entry)>>,
    next: usize,
    by_folder: Option<HashMap<String, usize>>,
    global: Option<(Arc<xml::UserRolesFile>, Arc<Assigned>)>,
}

impl Earlier {
    fn new(
        parts: Vec<(String, Entry)>,
        global: Option<(Arc<xml::UserRolesFile>, Arc<Assigned>)>,
    ) -> Self {
        Earlier {
            slots: parts.into_iter().map(Some).collect(),
            next: 0,
            by_folder: None,
            global,
        }
    }

    /// The earlier part of `folder` (each folder is asked for once).
    fn take(&mut self, folder: &str) -> Option<Entry> {
        let here = self.next;
        if let Some(Some((f, _))) = self.slots.get(here)
            && f == folder
        {
            self.next = here + 1;
            return self.slots[here].take().map(|(_, e)| e);
        }
        let slots = &self.slots;
        let by_folder = self.by_folder.get_or_insert_with(|| {
            (slots.iter().enumerate())
                .filter_map(|(i, s)| Some((s.as_ref()?.0.clone(), i)))
                .collect()
        });
        let i = by_folder.remove(folder)?;
        self.next = i + 1;
        self.slots[i].take().map(|(_, e)| e)
    }
}

impl LowerMemo {
    /// Start a build in the context `model` (accounts and user groups
    /// lowered) gives: the earlier parts, none when the context changed.
    pub(super) fn begin(&mut self, model: &Model, limits: &Limits) -> Earlier {
        self.hits = 0;
        self.misses = 0;
        let mut earlier = std::mem::take(&mut self.parts);
        let global = self.global.take();
        match &mut self.context {
            // This build's accounts kept, so the next build finds them
            // by identity when they are unchanged.
            Some(c) if c.is_of(model, limits) => {
                c.accounts.clone_from(&model.accounts);
                Earlier::new(earlier, global)
            }
            _ => {
                earlier.clear();
                self.context = Some(Context::of(model, limits));
                Earlier::new(earlier, None)
            }
        }
    }

    /// The global assignments lowered before from the same value, or
    /// `lower` them now; kept either way.
    pub(super) fn global(
        &mut self,
        earlier: &mut Earlier,
        file: &Arc<xml::UserRolesFile>,
        lower: impl FnOnce() -> Assigned,
    ) -> Arc<Assigned> {
        let assigned = match earlier.global.take() {
            Some((kept, assigned)) if Arc::ptr_eq(&kept, file) => {
                self.hits += 1;
                assigned
            }
            _ => {
                self.misses += 1;
                Arc::new(lower())
            }
        };
        self.global = Some((Arc::clone(file), Arc::clone(&assigned)));
        assigned
    }

    /// The part of `pf` lowered before, if it is still of `pf` (counted
    /// as a hit; else as a miss, to lower now and [`keep`](Self::keep)).
    pub(super) fn take(&mut self, earlier: &mut Earlier, pf: &ProjectFiles) -> Option<Arc<Part>> {
        match earlier.take(&pf.folder) {
            Some(e) if e.key.matches(&Key::of(pf)) => {
                self.hits += 1;
                Some(e.part)
            }
            _ => {
                self.misses += 1;
                None
            }
        }
    }

    /// Keep `part`, this build's of `pf`, for the next build.
    pub(super) fn keep(&mut self, pf: &ProjectFiles, part: &Arc<Part>) {
        let entry = Entry {
            key: Key::of(pf),
            part: Arc::clone(part),
        };
        self.parts.push((pf.folder.clone(), entry));
    }
}

impl LowerMemo {
    /// groups.xml lowered before from the same value, directory answer
    /// and limits, or `lower` it now; kept either way.
    pub(super) fn groups(
        &mut self,
        file: &Read<xml::GroupsFile>,
        directory: Option<&Arc<crate::directory::DirectorySnapshot>>,
        limits: &Limits,
        lower: impl FnOnce() -> Groups,
    ) -> Arc<Groups> {
        let same = |key: &GroupsKey| {
            Arc::ptr_eq(&key.file, &file.value)
                && match (&key.directory, directory) {
                    (None, None) => true,
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    _ => false,
                }
                && key.limits == *limits
        };
        if let Some((key, groups)) = &self.groups
            && same(key)
        {
            return Arc::clone(groups);
        }
        let groups = Arc::new(lower());
        let key = GroupsKey {
            file: Arc::clone(&file.value),
            directory: directory.cloned(),
            limits: *limits,
        };
        self.groups = Some((key, Arc::clone(&groups)));
        groups
    }

    /// The accounts lowered from the account files of `generation` under
    /// `limits`, if these are the last this memo lowered: a build that
    /// reads those very files again hands them to `lower_with`
    /// (`ConfigFiles::kept_accounts`) instead of the files.
    pub fn kept_accounts(&self, generation: u64, limits: &Limits) -> Option<KeptAccounts> {
        let (key, accounts) = self.accounts.as_ref()?;
        (self.accounts_generation == Some(generation) && key.limits == *limits)
            .then(|| KeptAccounts(Arc::clone(accounts)))
    }

    /// The accounts lowered before from the same account folders, files
    /// and limits, or `lower` them now; kept either way, as those of the
    /// account files' `generation`.
    pub(super) fn accounts(
        &mut self,
        users: &[(&str, Read<xml::UserFile>)],
        (limits, generation): (&Limits, Option<u64>),
        lower: impl FnOnce() -> Accounts,
    ) -> Arc<Accounts> {
        self.accounts_generation = generation;
        let same = |key: &AccountsKey| {
            key.limits == *limits
                && key.users.len() == users.len()
                && key
                    .users
                    .iter()
                    .zip(users)
                    .all(|((kf, kv), (f, r))| kf == f && Arc::ptr_eq(kv, &r.value))
        };
        if let Some((key, accounts)) = &self.accounts
            && same(key)
        {
            return Arc::clone(accounts);
        }
        let accounts = Arc::new(lower());
        let key = AccountsKey {
            limits: *limits,
            users: users
                .iter()
                .map(|(f, r)| ((*f).to_owned(), Arc::clone(&r.value)))
                .collect(),
        };
        self.accounts = Some((key, Arc::clone(&accounts)));
        accounts
    }
}
