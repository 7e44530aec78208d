//! From entries to answers: the users and groups below `base_dn` read in
//! one (paged) search, each `groups.xml` reference resolved against them —
//! nested groups breadth first (so `via` is a shortest path), every group
//! once (a cycle ends there), at most `max_depth` deep and `max_members`
//! wide; in Active Directory the server's in-chain rule does the nesting —
//! and the accounts' state read off the same entries.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use ldap3::{Scope, ldap_escape};

use crate::directory::{AccountState, GroupAnswer, Member};

use super::dn;
use super::error::SyncError;
use super::read::{Entry, Reader};
use super::settings::{Flavor, LdapSettings, LoginCase};

/// The OID of Active Directory's in-chain matching rule.
pub(crate) const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";
/// The capability a domain controller's root DSE lists.
const AD_CAPABILITY: &str = "1.2.840.113556.1.4.800";
const GROUP_CLASSES: [&str; 4] = ["groupofnames", "groupofuniquenames", "posixgroup", "group"];
const LOCK_ATTRS: [&str; 3] = [
    "pwdaccountlockedtime",
    "nsaccountlock",
    "useraccountcontrol",
];

/// What one sync knows of the directory.
#[derive(Debug)]
pub(crate) struct Directory {
    /// The users and groups below `base_dn`, by DN key.
    below: HashMap<String, Entry>,
    base_key: String,
    /// Entries looked up one by one (outside `base_dn`), by DN key.
    fetched: HashMap<String, Option<Entry>>,
    flavor: Flavor,
}

impl<'s> Reader<'s> {
    /// `Auto` made definite by the root DSE.
    pub async fn flavor(&mut self) -> Result<Flavor, SyncError> {
        if self.settings.flavor != Flavor::Auto {
            return Ok(self.settings.flavor);
        }
        let root = self
            .search(
                "",
                Scope::Base,
                "(objectClass=*)",
                &["supportedCapabilities"],
            )
            .await?;
        let ad = root.unwrap_or_default().iter().any(|e| {
            e.values("supportedcapabilities")
                .iter()
                .any(|c| c == AD_CAPABILITY)
        });
        Ok(if ad { Flavor::Ad } else { Flavor::Openldap })
    }

    fn attrs(&self, flavor: Flavor) -> Vec<&'s str> {
        let settings: &'s LdapSettings = self.settings;
        let mut attrs = vec![settings.user_attribute.as_str(), "objectClass"];
        if flavor != Flavor::Ad {
            attrs.extend(["member", "uniqueMember", "memberUid"]);
        }
        attrs.extend([
            "pwdAccountLockedTime",
            "nsAccountLock",
            "userAccountControl",
        ]);
        attrs
    }

    /// The users and groups below `base_dn`.
    pub async fn directory(&mut self, flavor: Flavor) -> Result<Directory, SyncError> {
        let ua = &self.settings.user_attribute;
        let filter = match flavor {
            Flavor::Ad => format!("(&(objectCategory=person)(objectClass=user)({ua}=*))"),
            _ => format!(
                "(|({ua}=*)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)\
                 (objectClass=posixGroup)(member=*)(uniqueMember=*)(memberUid=*))"
            ),
        };
        let base = self.settings.base_dn.clone();
        let attrs = self.attrs(flavor);
        let Some(entries) = self.search(&base, Scope::Subtree, &filter, &attrs).await? else {
            return Err(SyncError::Search {
                url: self.session.url.clone(),
                base,
                why: "base_dn does not exist (noSuchObject)".to_owned(),
            });
        };
        let below = entries.into_iter().map(|e| (dn::key(&e.dn), e)).collect();
        Ok(Directory {
            below,
            base_key: dn::key(&base),
            fetched: HashMap::new(),
            flavor,
        })
    }

    /// The entry at `dn`, `None` when there is none. Below `base_dn` the
    /// search has it already (unless it is neither user nor group), except
    /// for a group named in `groups.xml` (`named`), which is asked for.
    async fn lookup(
        &mut self,
        dir: &mut Directory,
        dn: &str,
        named: bool,
    ) -> Result<Option<Entry>, SyncError> {
        let key = dn::key(dn);
        if let Some(e) = dir.below.get(&key) {
            return Ok(Some(e.clone()));
        }
        if !named && dn::is_below(&key, &dir.base_key) {
            return Ok(None);
        }
        if let Some(e) = dir.fetched.get(&key) {
            return Ok(e.clone());
        }
        self.count(dn)?;
        let attrs = self.attrs(dir.flavor);
        let found = self
            .search(dn, Scope::Base, "(objectClass=*)", &attrs)
            .await?;
        let entry = found.and_then(|mut v| v.pop());
        dir.fetched.insert(key, entry.clone());
        Ok(entry)
    }

    /// The login an entry's user attribute gives, `None` if it has none.
    fn login(&self, e: &Entry) -> Result<Option<String>, SyncError> {
        let values = e.values(&self.settings.user_attribute.to_ascii_lowercase());
        match values {
            [] => Ok(None),
            [v] => Ok(Some(match self.settings.login_case {
                LoginCase::Preserve => v.clone(),
                LoginCase::Lower => v.to_lowercase(),
            })),
            _ => Err(self.malformed(
                &e.dn,
                format!(
                    "{} values of {}: one login per entry",
                    values.len(),
                    self.settings.user_attribute
                ),
            )),
        }
    }

    /// A `groups.xml` group DN's members, nested groups resolved.
    pub async fn group(
        &mut self,
        dir: &mut Directory,
        group: &str,
    ) -> Result<GroupAnswer, SyncError> {
        let Some(root) = self.lookup(dir, group, true).await? else {
            return Ok(GroupAnswer::NotFound);
        };
        if dir.flavor == Flavor::Ad {
            return self.in_chain(&root.dn).await;
        }
        let mut found = Found::new(self.settings.max_members, &root.dn);
        let mut queue = VecDeque::from([(root, Vec::new())]);
        let mut seen = HashSet::from([dn::key(group)]);
        while let Some((entry, via)) = queue.pop_front() {
            for login in entry.values("memberuid") {
                found.add(self, self.cased(login), &via)?;
            }
            let dns = entry
                .values("member")
                .iter()
                .chain(entry.values("uniquemember"));
            for member in dns {
                let Some(m) = self.lookup(dir, strip_uid(member), false).await? else {
                    continue; // a dangling member (or not a user): no one
                };
                if let Some(login) = self.login(&m)? {
                    found.add(self, login, &via)?;
                }
                if is_group(&m) && seen.insert(dn::key(&m.dn)) {
                    if via.len() + 1 > self.settings.max_depth {
                        let what = format!("nested groups below {group:?}");
                        return Err(self.bound(&m.dn, &what, "max_depth", self.settings.max_depth));
                    }
                    let mut deeper = via.clone();
                    deeper.push(m.dn.clone());
                    queue.push_back((m, deeper));
                }
            }
        }
        Ok(found.answer())
    }

    fn cased(&self, login: &str) -> String {
        match self.settings.login_case {
            LoginCase::Preserve => login.to_owned(),
            LoginCase::Lower => login.to_lowercase(),
        }
    }

    /// Active Directory: the users below `base_dn` in the group or any
    /// group nested in it, by the in-chain matching rule.
    async fn in_chain(&mut self, group: &str) -> Result<GroupAnswer, SyncError> {
        let ua = self.settings.user_attribute.clone();
        let filter = format!(
            "(&(objectCategory=person)(objectClass=user)({ua}=*)(memberOf:{IN_CHAIN}:={}))",
            ldap_escape(group)
        );
        let base = self.settings.base_dn.clone();
        let entries = self.search(&base, Scope::Subtree, &filter, &[&ua]).await?;
        self.members_of(group, entries.unwrap_or_default())
    }

    /// A `groups.xml` search: the users below `base` matching `filter`.
    pub async fn matching(&mut self, base: &str, filter: &str) -> Result<GroupAnswer, SyncError> {
        let ua = self.settings.user_attribute.clone();
        match self.search(base, Scope::Subtree, filter, &[&ua]).await? {
            None => Ok(GroupAnswer::NotFound),
            Some(entries) => self.members_of(base, entries),
        }
    }

    fn members_of(&self, at: &str, entries: Vec<Entry>) -> Result<GroupAnswer, SyncError> {
        let mut found = Found::new(self.settings.max_members, at);
        for e in &entries {
            if let Some(login) = self.login(e)? {
                found.add(self, login, &[])?;
            }
        }
        Ok(found.answer())
    }

    /// Every account below `base_dn` with its state; where two entries
    /// give one login, a lock on either wins.
    pub fn accounts(&self, dir: &Directory) -> Result<BTreeMap<String, AccountState>, SyncError> {
        let mut accounts = BTreeMap::new();
        for e in dir.below.values() {
            let Some(login) = self.login(e)? else {
                continue;
            };
            let state = self.state(e)?;
            let slot = accounts.entry(login).or_insert(AccountState::Active);
            if *slot == AccountState::Active {
                *slot = state;
            }
        }
        Ok(accounts)
    }

    fn state(&self, e: &Entry) -> Result<AccountState, SyncError> {
        let locked = |by: &str| AccountState::Locked { by: by.to_owned() };
        if !e.values(LOCK_ATTRS[0]).is_empty() {
            return Ok(locked("pwdAccountLockedTime"));
        }
        if e.values(LOCK_ATTRS[1])
            .iter()
            .any(|v| v.eq_ignore_ascii_case("true"))
        {
            return Ok(locked("nsAccountLock"));
        }
        for v in e.values(LOCK_ATTRS[2]) {
            let flags: i64 = v.trim().parse().map_err(|_| {
                self.malformed(&e.dn, format!("userAccountControl {:?} is not a number", v))
            })?;
            if flags & 0x2 != 0 {
                return Ok(locked("userAccountControl"));
            }
        }
        Ok(AccountState::Active)
    }
}

/// A group's members as found, first (shortest) path kept per login.
struct Found {
    members: BTreeMap<String, Vec<String>>,
    limit: usize,
    at: String,
}

impl Found {
    fn new(limit: usize, at: &str) -> Self {
        Found {
            members: BTreeMap::new(),
            limit,
            at: at.to_owned(),
        }
    }

    fn add(&mut self, reader: &Reader<'_>, login: String, via: &[String]) -> Result<(), SyncError> {
        if self.members.contains_key(&login) {
            return Ok(());
        }
        if self.members.len() == self.limit {
            return Err(reader.bound(&self.at, "the members", "max_members", self.limit));
        }
        self.members.insert(login, via.to_vec());
        Ok(())
    }

    fn answer(self) -> GroupAnswer {
        GroupAnswer::Members(
            self.members
                .into_iter()
                .map(|(login, via)| Member { login, via })
                .collect(),
        )
    }
}

fn is_group(e: &Entry) -> bool {
    e.values("objectclass")
        .iter()
        .any(|c| GROUP_CLASSES.contains(&c.to_ascii_lowercase().as_str()))
        || ["member", "uniquemember", "memberuid"]
            .iter()
            .any(|a| !e.values(a).is_empty())
}

/// A `uniqueMember` value without its optional UID (`dn#'0101'B`, RFC 4517 §3.3.21).
fn strip_uid(value: &str) -> &str {
    match value.rsplit_once('#') {
        Some((dn, uid))
            if uid.len() >= 3
                && uid.starts_with('\'')
                && uid.ends_with("'B")
                && uid[1..uid.len() - 2].chars().all(|c| c == '0' || c == '1') =>
        {
            dn
        }
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_member_loses_only_a_well_formed_uid() {
        assert_eq!(strip_uid("uid=a,dc=x#'0101'B"), "uid=a,dc=x");
        assert_eq!(strip_uid("uid=a,dc=x#''B"), "uid=a,dc=x");
        assert_eq!(strip_uid("uid=a\\#1,dc=x"), "uid=a\\#1,dc=x");
        assert_eq!(strip_uid("uid=a,dc=x#'012'B"), "uid=a,dc=x#'012'B");
    }
}
