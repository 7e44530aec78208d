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
//!
//! A `GroupRef` is made only by [`GroupRef::dn`] and [`GroupRef::search`],
//! which refuse what does not parse (`dn`: RFC 4514 names, normalised
//! once; `filter`: an RFC 4515 syntax check), within `Limits`.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest as _, Sha256};

use crate::limits::Limits;

mod dn;
mod filter;

pub use dn::{DnError, normalise as normalise_dn};
pub use filter::{FilterError, check as check_filter};

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

/// Why a reference of `groups.xml` makes no `GroupRef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefError {
    /// The DN (`ldap=` or `ldap-base=`) is empty or does not parse.
    Dn(DnError),
    /// The filter (`ldap-filter=`) does not parse or exceeds its bounds.
    Filter(FilterError),
}

impl fmt::Display for RefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefError::Dn(e) => write!(f, "the DN does not parse: {e}"),
            RefError::Filter(e) => write!(f, "the filter does not parse: {e}"),
        }
    }
}

impl std::error::Error for RefError {}

impl GroupRef {
    /// `ldap="DN"`: the group entry at `dn`, normalised.
    pub fn dn(dn: &str, limits: &Limits) -> Result<GroupRef, RefError> {
        normalise_dn(dn, limits.max_dn_bytes)
            .map(GroupRef::Dn)
            .map_err(RefError::Dn)
    }

    /// `ldap-base="DN" ldap-filter="(…)"`: the entries below `base`
    /// (normalised) that match `filter` (checked, kept as written).
    pub fn search(base: &str, filter: &str, limits: &Limits) -> Result<GroupRef, RefError> {
        let base = normalise_dn(base, limits.max_dn_bytes).map_err(RefError::Dn)?;
        check_filter(
            filter,
            limits.max_ldap_filter_bytes,
            limits.max_ldap_filter_depth,
        )
        .map_err(RefError::Filter)?;
        Ok(GroupRef::Search {
            base,
            filter: filter.to_owned(),
        })
    }
}

/// How a reference is named to people: the DN, or the search as
/// `(filter) below base`.
impl fmt::Display for GroupRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupRef::Dn(dn) => f.write_str(dn),
            GroupRef::Search { base, filter } => write!(f, "{filter} below {base}"),
        }
    }
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

    #[test]
    fn a_reference_is_made_normalised_or_refused() {
        let l = Limits::DEFAULT;
        let a = GroupRef::dn("CN=QA, OU=Groups, DC=example, DC=org", &l).expect("parses");
        let b = GroupRef::dn("cn=QA,ou=Groups,dc=example,dc=org", &l).expect("parses");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "cn=QA,ou=Groups,dc=example,dc=org");
        let s = GroupRef::search("OU=people, dc=x", "(department=QA)", &l).expect("parses");
        assert_eq!(s.to_string(), "(department=QA) below ou=people,dc=x");
        assert!(matches!(GroupRef::dn("", &l), Err(RefError::Dn(_))));
        assert!(matches!(
            GroupRef::search("", "(a=b)", &l),
            Err(RefError::Dn(_))
        ));
        assert!(matches!(
            GroupRef::search("dc=x", "a=b", &l),
            Err(RefError::Filter(_))
        ));
        let tight = Limits {
            max_ldap_filter_depth: 1,
            ..Limits::DEFAULT
        };
        assert!(GroupRef::search("dc=x", "(!(a=b))", &tight).is_err());
        assert!(GroupRef::search("dc=x", "(!(a=b))", &l).is_ok());
    }

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
