//! Part a: who joins or leaves which role group, and why.
//!
//! What changed is found first, without expanding any group: a scope's
//! run of assignments that is the same memory in both models (shared by
//! the lowering memo) is equal without being read or looked up by scope,
//! the other scopes' assignments are compared as slices, user groups
//! member set by member set, accounts by their active state. Only the (role group,
//! login) pairs those changes touch are then decided in both models.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::types::{Direction, DirectoryWay, GroupChange, Reason};
use crate::ident::{GroupId, Login, RoleId, role_group_name};
use crate::model::{Assignment, EVERYONE, Holder, Model, Run, Scope};

/// A set with the fast hash (keys are addresses, not a client's).
type FxHashSet<T> = std::collections::HashSet<T, crate::fxhash::FxBuild>;

/// The assignments of one model by scope: its runs of `Model::assignments`
/// (a scope's assignments are usually one run), in file order. Borrowed,
/// never copied pair by pair: most scopes are only compared.
pub(super) type ByScope<'a> = BTreeMap<&'a Scope, Vec<&'a [Assignment]>>;

pub(super) fn by_scope(m: &Model) -> ByScope<'_> {
    by_scope_of(m.assignments.runs().iter())
}

fn by_scope_of<'a>(runs: impl Iterator<Item = &'a Arc<Run>>) -> ByScope<'a> {
    let mut out: ByScope = BTreeMap::new();
    // Run by run (`Assignments::runs`: one per scope, never empty),
    // borrowed.
    for run in runs {
        out.entry(&run[0].scope).or_default().push(&run[..]);
    }
    out
}

/// The runs of each model that are not the very same memory (the same
/// `Arc`) as a run of the other, by scope. A scope has one run per model
/// (`Assignments::push_run`), so a scope whose run is shared is equal in
/// both and has no run among these: only the runs a change made are read.
fn changed_runs<'a>(old: &'a Model, new: &'a Model) -> (ByScope<'a>, ByScope<'a>) {
    let addresses = |m: &Model| -> FxHashSet<*const Run> {
        m.assignments.runs().iter().map(Arc::as_ptr).collect()
    };
    let (in_old, in_new) = (addresses(old), addresses(new));
    let only = |m: &'a Model, other: &FxHashSet<*const Run>| {
        by_scope_of(
            m.assignments
                .runs()
                .iter()
                .filter(|r| !other.contains(&Arc::as_ptr(r))),
        )
    };
    (only(old, &in_new), only(new, &in_old))
}

/// The (role, holder) pairs of a scope's runs, in file order.
fn pairs<'s, 'a: 's>(
    runs: &'s [&'a [Assignment]],
) -> impl Iterator<Item = (&'a RoleId, &'a Holder)> + 's {
    runs.iter()
        .copied()
        .flat_map(|r| r.iter())
        .map(|a| (&a.role, &a.holder))
}

/// A role group: its scope and role.
type Key<'a> = (&'a Scope, &'a RoleId);

/// The candidates: per role group, the logins whose membership may differ
/// (gathered in runs, sorted and deduplicated by [`Candidates::sorted`]).
#[derive(Default)]
struct Candidates<'a> {
    keys: BTreeMap<Key<'a>, Vec<&'a Login>>,
}

impl<'a> Candidates<'a> {
    fn add(&mut self, key: Key<'a>, logins: impl IntoIterator<Item = &'a Login>) {
        self.keys.entry(key).or_default().extend(logins);
    }

    /// Per role group, the candidates in order, each once.
    fn sorted(mut self) -> BTreeMap<Key<'a>, Vec<&'a Login>> {
        for logins in self.keys.values_mut() {
            // Stable: the runs added are mostly sorted already.
            logins.sort();
            logins.dedup();
        }
        self.keys
    }
}

/// The holders of each role group in one model, computed only for the
/// role groups asked about.
struct Holders<'a> {
    model: &'a Model,
    /// This model's runs that are not shared with the other's, and the
    /// scopes of those of both: a scope among them has its run here or
    /// none; any other's is found in `all`.
    changed: &'a ByScope<'a>,
    changed_scopes: &'a BTreeSet<&'a Scope>,
    /// Every run by scope, made when a scope not changed is asked about
    /// (a user group or an account changed).
    all: std::cell::OnceCell<ByScope<'a>>,
    cache: BTreeMap<Key<'a>, Vec<Way<'a>>>,
    /// The members of `everyone`, computed once when asked (accounts not
    /// managed: every login named).
    everyone: Option<BTreeSet<Login>>,
}

impl<'a> Holders<'a> {
    fn new(
        model: &'a Model,
        changed: &'a ByScope<'a>,
        changed_scopes: &'a BTreeSet<&'a Scope>,
    ) -> Holders<'a> {
        Holders {
            model,
            changed,
            changed_scopes,
            all: std::cell::OnceCell::new(),
            cache: BTreeMap::new(),
            everyone: None,
        }
    }

    fn in_everyone(&mut self, login: &Login) -> bool {
        let model = self.model;
        match model.accounts {
            Some(_) => model.is_active(login),
            None => self
                .everyone
                .get_or_insert_with(|| model.active_accounts())
                .contains(login),
        }
    }

    /// The holders of a role group, each user group with its members.
    fn of(&mut self, key: Key<'a>) -> Vec<Way<'a>> {
        if let Some(ways) = self.cache.get(&key) {
            return ways.clone();
        }
        let model = self.model;
        let scopes = match self.changed_scopes.contains(key.0) {
            true => self.changed,
            false => self.all.get_or_init(|| by_scope(model)),
        };
        let holders: BTreeSet<&'a Holder> = scopes
            .get(key.0)
            .into_iter()
            .flat_map(|runs| pairs(runs))
            .filter(|(r, _)| *r == key.1)
            .map(|(_, h)| h)
            .collect();
        let ways: Vec<Way<'a>> = holders
            .into_iter()
            .map(|h| match h {
                Holder::User(l) => Way::User(l),
                Holder::Group(g) => Way::Group(g, model.user_groups.get(g)),
            })
            .collect();
        self.cache.insert(key, ways.clone());
        ways
    }

    /// The ways `login` holds the role group whose holders are `holders`
    /// (empty: not a member).
    fn ways(&mut self, key: Key<'a>, holders: &[Way<'a>], login: &Login) -> BTreeSet<Reason> {
        let model = self.model;
        if !model.is_active(login) {
            return BTreeSet::new();
        }
        if key.1.as_str() == EVERYONE {
            // Only the global `everyone` is a group; it holds every
            // active account whoever holds the role.
            return match key.0 {
                Scope::Global if self.in_everyone(login) => BTreeSet::from([account_way(model)]),
                _ => BTreeSet::new(),
            };
        }
        holders
            .iter()
            .filter_map(|h| match h {
                Way::User(l) if *l == login => Some(Reason::Direct),
                Way::Group(g, Some(m)) if m.contains(login) => Some(Reason::Group((*g).clone())),
                _ => None,
            })
            .collect()
    }
}

/// A holder of a role group, resolved: a login, or a user group with its
/// members (`None`: the group does not exist in the model).
#[derive(Clone, Copy)]
enum Way<'a> {
    User(&'a Login),
    Group(&'a GroupId, Option<&'a BTreeSet<Login>>),
}

/// The one way into `everyone`: an active account (or being named).
fn account_way(model: &Model) -> Reason {
    match model.accounts {
        Some(_) => Reason::AccountEnabled,
        None => Reason::Named,
    }
}

/// Every role-group membership that differs between the two models.
pub(super) fn memberships(old: &Model, new: &Model) -> Vec<GroupChange> {
    memberships_from(old, new, changed_runs(old, new))
}

/// [`memberships`] from `runs`: each model's runs that may differ from
/// the other's, by scope (every run of both is right too: the tests'
/// reference).
pub(super) fn memberships_from<'a>(
    old: &'a Model,
    new: &'a Model,
    runs: (ByScope<'a>, ByScope<'a>),
) -> Vec<GroupChange> {
    let (old_scopes, new_scopes) = runs;
    let changed_scopes: BTreeSet<&Scope> = old_scopes
        .keys()
        .chain(new_scopes.keys())
        .copied()
        .collect();
    let mut cand = Candidates::default();
    assignment_changes(old, new, &old_scopes, &new_scopes, &mut cand);
    group_changes(old, new, &mut cand);
    account_changes(old, new, &mut cand);
    let mut before = Holders::new(old, &old_scopes, &changed_scopes);
    let mut after = Holders::new(new, &new_scopes, &changed_scopes);
    let mut out = Vec::new();
    for (key, logins) in &cand.sorted() {
        if key.0.project().is_some() && key.1.as_str() == EVERYONE {
            continue;
        }
        let (held_before, held_after) = (before.of(*key), after.of(*key));
        let group = role_group_name(key.0.project(), key.1);
        for login in logins {
            let was = before.ways(*key, &held_before, login);
            let is = after.ways(*key, &held_after, login);
            let direction = match (was.is_empty(), is.is_empty()) {
                (true, false) => Direction::Joined,
                (false, true) => Direction::Left,
                _ => continue,
            };
            let reasons = reasons(old, new, login, direction, &was, &is);
            out.push(GroupChange {
                group: group.clone(),
                scope: key.0.clone(),
                role: key.1.clone(),
                login: (*login).clone(),
                direction,
                reasons,
            });
        }
    }
    out
}

/// Why: the account's change of state, else the ways gained (joined) or
/// lost (left), a user group the directory fills named with the
/// directory's part (of the model that has the membership).
fn reasons(
    old: &Model,
    new: &Model,
    login: &Login,
    direction: Direction,
    was: &BTreeSet<Reason>,
    is: &BTreeSet<Reason>,
) -> Vec<Reason> {
    let (active_before, active_after) = (old.is_active(login), new.is_active(login));
    if active_before != active_after {
        return vec![account_reason(old, new, login, active_after)];
    }
    let (from, to, model) = match direction {
        Direction::Joined => (was, is, new),
        Direction::Left => (is, was, old),
    };
    (to.difference(from))
        .map(|r| through_directory(model, login, r))
        .collect()
}

/// Why an account became active (`now_active`) or inactive: its
/// `user.xml` (or being named), else the directory, when the repository
/// side did not change.
fn account_reason(old: &Model, new: &Model, login: &Login, now_active: bool) -> Reason {
    let locally =
        |m: &Model| (m.accounts.as_ref()).is_none_or(|a| a.get(login).is_some_and(|x| !x.disabled));
    let snapshot = new.directory.revision.clone();
    if now_active {
        return match locally(old) && !old.directory.allows(login) {
            true => Reason::ActiveInDirectory { snapshot },
            false => account_way(new),
        };
    }
    match (locally(new), new.directory.refusal(login)) {
        (true, Some(Some(by))) => Reason::LockedInDirectory {
            by: by.to_owned(),
            snapshot,
        },
        (true, Some(None)) => Reason::NotInDirectory { snapshot },
        _ => match new.accounts.as_ref() {
            Some(a) if a.contains_key(login) => Reason::AccountDisabled,
            Some(_) => Reason::AccountDeleted,
            None => Reason::Named,
        },
    }
}

/// `reason` with the directory's part when it is a user group that has
/// `login` from the directory (not also from `groups.xml`) in `model`.
fn through_directory(model: &Model, login: &Login, reason: &Reason) -> Reason {
    let Reason::Group(g) = reason else {
        return reason.clone();
    };
    let d = &model.directory;
    match d.groups.get(g) {
        Some(dg) if !dg.local.contains(login) => match dg.members.get(login) {
            Some(via) => Reason::DirectoryGroup(Box::new(DirectoryWay {
                group: g.clone(),
                reference: dg.reference.to_string(),
                via: via.clone(),
                snapshot: d.revision.clone(),
            })),
            None => reason.clone(),
        },
        _ => reason.clone(),
    }
}

/// Scopes whose assignments differ: every (role, holder) added or removed
/// makes the holder's logins (in either model) candidates of that group.
/// Whether a scope's runs are the very same memory on both sides (runs
/// shared by the lowering memo): equal without reading them.
fn same_runs(a: &[&[Assignment]], b: &[&[Assignment]]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| std::ptr::eq(*x, *y))
}

fn assignment_changes<'a>(
    old: &'a Model,
    new: &'a Model,
    old_scopes: &ByScope<'a>,
    new_scopes: &ByScope<'a>,
    cand: &mut Candidates<'a>,
) {
    let scopes: BTreeSet<&Scope> = old_scopes
        .keys()
        .chain(new_scopes.keys())
        .copied()
        .collect();
    let empty = Vec::new();
    for scope in scopes {
        let a = old_scopes.get(scope).unwrap_or(&empty);
        let b = new_scopes.get(scope).unwrap_or(&empty);
        if same_runs(a, b) || pairs(a).eq(pairs(b)) {
            continue;
        }
        let a: BTreeSet<_> = pairs(a).collect();
        let b: BTreeSet<_> = pairs(b).collect();
        for &(role, holder) in a.symmetric_difference(&b) {
            cand.add((scope, role), old.logins_of(holder));
            cand.add((scope, role), new.logins_of(holder));
        }
    }
}

/// User groups whose members differ: the members that came or went are
/// candidates of every role group the user group holds (in either model).
fn group_changes<'a>(old: &'a Model, new: &'a Model, cand: &mut Candidates<'a>) {
    static EMPTY: BTreeSet<Login> = BTreeSet::new();
    let empty = &EMPTY;
    let names: BTreeSet<&GroupId> = old
        .user_groups
        .keys()
        .chain(new.user_groups.keys())
        .collect();
    let mut changed: BTreeMap<&GroupId, Vec<&Login>> = BTreeMap::new();
    for g in names {
        let a = old.user_groups.get(g).unwrap_or(empty);
        let b = new.user_groups.get(g).unwrap_or(empty);
        if a != b {
            changed.insert(g, a.symmetric_difference(b).collect());
        }
    }
    if changed.is_empty() {
        return;
    }
    for m in [old, new] {
        for a in &m.assignments {
            if let Holder::Group(g) = &a.holder
                && let Some(delta) = changed.get(g)
            {
                cand.add((&a.scope, &a.role), delta.iter().copied());
            }
        }
    }
}

/// Accounts whose active state differs are candidates of `everyone` and
/// of every role group they hold (directly or through a group) in either
/// model.
fn account_changes<'a>(old: &'a Model, new: &'a Model, cand: &mut Candidates<'a>) {
    let changed = changed_accounts(old, new);
    if changed.is_empty() {
        return;
    }
    for m in [old, new] {
        let groups: BTreeMap<&GroupId, Vec<&Login>> = m
            .user_groups
            .iter()
            .filter_map(|(g, members)| {
                let hit: Vec<&Login> = changed
                    .iter()
                    .copied()
                    .filter(|l| members.contains(*l))
                    .collect();
                (!hit.is_empty()).then_some((g, hit))
            })
            .collect();
        for a in &m.assignments {
            match &a.holder {
                Holder::User(l) if changed.contains(l) => cand.add((&a.scope, &a.role), [l]),
                Holder::Group(g) => {
                    if let Some(hit) = groups.get(g) {
                        cand.add((&a.scope, &a.role), hit.iter().copied());
                    }
                }
                Holder::User(_) => {}
            }
        }
    }
    cand.add((&GLOBAL, everyone()), changed);
}

static GLOBAL: Scope = Scope::Global;

/// The role id `everyone`.
fn everyone() -> &'static RoleId {
    static ID: std::sync::LazyLock<RoleId> =
        std::sync::LazyLock::new(|| RoleId::new(EVERYONE).expect("`everyone` is a valid role id"));
    &ID
}

/// Logins whose active state (member of `everyone`) differs.
fn changed_accounts<'a>(old: &'a Model, new: &'a Model) -> BTreeSet<&'a Login> {
    match (&old.accounts, &new.accounts) {
        (Some(a), Some(b)) => {
            // The same accounts, shared with the lowering that made them:
            // only the directory may have changed who is active.
            let mut out = match Arc::ptr_eq(a, b) {
                true => BTreeSet::new(),
                false => changed_in(a, b),
            };
            out.extend(directory_changed(old, new));
            out.retain(|l| old.is_active(l) != new.is_active(l));
            out
        }
        // Accounts not managed on one side: compare who is named (linear
        // in the model, only in this mode).
        _ => {
            let (a, b) = (old.active_accounts(), new.active_accounts());
            let names: BTreeSet<&Login> = old
                .accounts
                .iter()
                .flat_map(|m| m.keys())
                .chain(new.accounts.iter().flat_map(|m| m.keys()))
                .chain(model_logins(old))
                .chain(model_logins(new))
                .collect();
            names
                .into_iter()
                .filter(|l| a.contains(*l) != b.contains(*l))
                .collect()
        }
    }
}

/// The logins whose state in the directory differs (listed, locked,
/// absent); when only one side has the directory's account state, every
/// account of either side.
fn directory_changed<'a>(old: &'a Model, new: &'a Model) -> Vec<&'a Login> {
    let (x, y) = (&old.directory.accounts, &new.directory.accounts);
    match (x, y) {
        (None, None) => Vec::new(),
        (Some(x), Some(y)) if Arc::ptr_eq(x, y) || x == y => Vec::new(),
        (Some(x), Some(y)) => {
            let differs = |a: &'a BTreeMap<Login, _>, b: &'a BTreeMap<Login, _>| {
                a.iter()
                    .filter(move |(l, s)| b.get(*l) != Some(*s))
                    .map(|(l, _)| l)
            };
            differs(x, y).chain(differs(y, x)).collect()
        }
        _ => {
            let accounts = [old, new].into_iter().flat_map(|m| m.accounts.iter());
            let listed = [x, y].into_iter().flatten();
            (accounts.flat_map(|a| a.keys()))
                .chain(listed.flat_map(|a| a.keys()))
                .collect()
        }
    }
}

/// The logins whose account differs in its disabled flag, is gone, or is
/// new and enabled: the two maps walked side by side, in their order (no
/// lookup per account).
fn changed_in<'a>(
    a: &'a BTreeMap<Login, crate::model::Account>,
    b: &'a BTreeMap<Login, crate::model::Account>,
) -> BTreeSet<&'a Login> {
    let mut out = BTreeSet::new();
    let (mut x, mut y) = (a.iter().peekable(), b.iter().peekable());
    loop {
        match (x.peek(), y.peek()) {
            (Some(&(la, aa)), Some(&(lb, ab))) => match la.cmp(lb) {
                std::cmp::Ordering::Equal => {
                    if aa.disabled != ab.disabled {
                        out.insert(la);
                    }
                    x.next();
                    y.next();
                }
                std::cmp::Ordering::Less => {
                    out.insert(la);
                    x.next();
                }
                std::cmp::Ordering::Greater => {
                    if !ab.disabled {
                        out.insert(lb);
                    }
                    y.next();
                }
            },
            (Some(&(la, _)), None) => {
                out.insert(la);
                x.next();
            }
            (None, Some(&(lb, ab))) => {
                if !ab.disabled {
                    out.insert(lb);
                }
                y.next();
            }
            (None, None) => return out,
        }
    }
}

/// Every login a model names (holders, group members, leads).
fn model_logins(m: &Model) -> impl Iterator<Item = &Login> {
    m.assignments
        .iter()
        .filter_map(|a| match &a.holder {
            Holder::User(l) => Some(l),
            Holder::Group(_) => None,
        })
        .chain(m.user_groups.values().flatten())
        .chain(m.projects.values().filter_map(|p| p.lead.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Account;

    /// The definition `changed_in` walks side by side: every login of
    /// either map whose account differs in its flag, is gone, or is new
    /// and enabled.
    fn by_lookup<'a>(
        a: &'a BTreeMap<Login, Account>,
        b: &'a BTreeMap<Login, Account>,
    ) -> BTreeSet<&'a Login> {
        let gone_or_flipped = a
            .iter()
            .filter(|(l, acc)| b.get(*l).is_none_or(|n| n.disabled != acc.disabled));
        let new = b
            .iter()
            .filter(|(l, acc)| !a.contains_key(*l) && !acc.disabled);
        gone_or_flipped.chain(new).map(|(l, _)| l).collect()
    }

    #[test]
    fn accounts_walked_side_by_side_change_as_looked_up() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut below = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..200 {
            let mut maps = [BTreeMap::new(), BTreeMap::new()];
            for map in &mut maps {
                for _ in 0..below(30) {
                    let login = Login::new(&format!("u{}", below(40))).expect("login");
                    let disabled = below(2) == 0;
                    let account = Account {
                        name: None,
                        email: None,
                        disabled,
                    };
                    map.insert(login, account);
                }
            }
            let [a, b] = &maps;
            assert_eq!(changed_in(a, b), by_lookup(a, b));
        }
    }
}
