//! What the directory said (issue 16): a `DirectorySnapshot` is the value a
//! sync of LDAP or Active Directory hands the pure build beside the
//! repository's files. It is pure data: made by the LDAP client (the I/O
//! shell), read by the lowering (user groups backed by a directory group,
//! account state), kept by the daemon beside its last good snapshot and
//! persisted for the hooks.
//!
//! Nothing here is trusted: a login is the raw value of the directory's
//! user attribute, and the lowering validates it as any login of the XML,
//! with the location of the `groups.xml` entry that brought it in.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

/// One reference to the directory in `groups.xml`, in the one normalised
/// form the lowering makes of it (the sync is asked for exactly these, and
/// answers under the same keys).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupRef {
    /// `ldap="DN"`: the members of the group entry at that DN.
    Dn(String),
    /// A search: the user entries below `base` that match `filter`.
    Search { base: String, filter: String },
}

/// A user the directory placed in a group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Member {
    /// The member entry's user attribute (`uid`, `sAMAccountName`…) as read.
    pub login: String,
    /// The nested groups' DNs between the group named and the member,
    /// outermost first; empty for a direct member.
    pub via: Vec<String>,
}

/// What the directory answered for one `GroupRef`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupAnswer {
    /// Its members, sorted and without repeats, nested groups resolved.
    Members(Vec<Member>),
    /// There is no such group entry (or the search base does not exist).
    NotFound,
}

/// An account's state as the directory tells it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountState {
    Active,
    /// Locked or disabled; `by` names what said so (e.g.
    /// `pwdAccountLockedTime`, `nsAccountLock`, `userAccountControl`).
    Locked {
        by: String,
    },
}

/// One complete, consistent answer of the directory. Never a partial one:
/// a sync that failed or was cut short yields no snapshot at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectorySnapshot {
    /// A hex SHA-256 of everything below: equal answers, equal revisions.
    pub revision: String,
    pub groups: BTreeMap<GroupRef, GroupAnswer>,
    /// Every account found below the base DN, by login, when account
    /// state is on (`None`: the directory does not decide who is active).
    pub accounts: Option<BTreeMap<String, AccountState>>,
}

impl DirectorySnapshot {
    /// A snapshot of these answers, its revision computed from them.
    pub fn new(
        groups: BTreeMap<GroupRef, GroupAnswer>,
        accounts: Option<BTreeMap<String, AccountState>>,
    ) -> DirectorySnapshot {
        let revision = digest(&groups, accounts.as_ref());
        DirectorySnapshot {
            revision,
            groups,
            accounts,
        }
    }
}

/// The revision: every string length-prefixed, so no two different
/// snapshots encode alike.
fn digest(
    groups: &BTreeMap<GroupRef, GroupAnswer>,
    accounts: Option<&BTreeMap<String, AccountState>>,
) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    for (r, answer) in groups {
        match r {
            GroupRef::Dn(dn) => {
                put("dn");
                put(dn);
            }
            GroupRef::Search { base, filter } => {
                put("search");
                put(base);
                put(filter);
            }
        }
        match answer {
            GroupAnswer::NotFound => put("not-found"),
            GroupAnswer::Members(members) => {
                put(&format!("members {}", members.len()));
                for m in members {
                    put(&m.login);
                    put(&format!("via {}", m.via.len()));
                    m.via.iter().for_each(|dn| put(dn));
                }
            }
        }
    }
    match accounts {
        None => put("no account state"),
        Some(accounts) => {
            put(&format!("accounts {}", accounts.len()));
            for (login, state) in accounts {
                put(login);
                match state {
                    AccountState::Active => put("active"),
                    AccountState::Locked { by } => {
                        put("locked");
                        put(by);
                    }
                }
            }
        }
    }
    format!("{:x}", h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(login: &str, via: &[&str]) -> Member {
        Member {
            login: login.to_owned(),
            via: via.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn equal_answers_have_equal_revisions_and_any_change_moves_it() {
        let dn = GroupRef::Dn("cn=qa,ou=groups,dc=example,dc=org".to_owned());
        let groups = |m: Vec<Member>| BTreeMap::from([(dn.clone(), GroupAnswer::Members(m))]);
        let a = DirectorySnapshot::new(groups(vec![member("bob", &[])]), None);
        let b = DirectorySnapshot::new(groups(vec![member("bob", &[])]), None);
        assert_eq!(a.revision, b.revision);
        let nested = DirectorySnapshot::new(groups(vec![member("bob", &["cn=x"])]), None);
        let other = DirectorySnapshot::new(groups(vec![member("bo", &["b"])]), None);
        let locked = DirectorySnapshot::new(
            groups(vec![member("bob", &[])]),
            Some(BTreeMap::from([(
                "bob".to_owned(),
                AccountState::Locked {
                    by: "nsAccountLock".to_owned(),
                },
            )])),
        );
        let revisions = [&a, &nested, &other, &locked].map(|s| s.revision.clone());
        for (i, r) in revisions.iter().enumerate() {
            assert_eq!(r.len(), 64);
            assert!(!revisions[i + 1..].contains(r), "{i}: {r}");
        }
    }
}
