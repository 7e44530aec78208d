//! What an access file costs Subversion to load, in Subversion's own terms
//! (SVN-AUTHZ.md §9.3): after parsing, libsvn_repos computes, for every
//! rule section and every user the file knows, that user's rights in that
//! section (for its global min/max shortcut). So the parse takes about
//! *k* × users × rule sections, with *k* ≈ 50 ns up to 10,000 users and
//! ≈ 250 ns at 100,000; the file's size and its number of groups barely
//! matter. svnserve in its default fork mode pays it at every connection,
//! `svnserve -T` and each Apache process once per content change.
//!
//! The users counted are the ones libsvn_repos prepares global rights for
//! (`prepare_global_rights` in `authz_parse.c`), as `eval` interns them: a
//! user named in a rule entry (`~user` included; an `&alias` entry counts
//! through its target), a user member of a group (`&alias` members
//! resolved), and every alias target. `*`, `$anonymous`, `$authenticated`
//! and groups are not users. Every rule section counts, empty or not.

use std::collections::HashSet;

use super::rules::Compiled;
use crate::fxhash::FxBuild;

/// The load cost of one access file: distinct users named × rule sections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Distinct user names the file knows.
    pub users: u64,
    /// Rule sections (`[/path]`, `[repo:/path]`, `[:glob:…]`).
    pub rule_sections: u64,
}

impl Cost {
    /// users × rule sections: the number of per-user section evaluations
    /// Subversion makes when it loads the file.
    pub fn units(self) -> u64 {
        self.users.saturating_mul(self.rule_sections)
    }
}

/// The cost of a compiled file (meaningful when it has no error).
pub(crate) fn of(c: &Compiled<'_>) -> Cost {
    Cost {
        users: users_of(c).len() as u64,
        rule_sections: c.acls.len() as u64,
    }
}

/// The distinct user names a compiled file knows (the module documentation
/// says which).
pub(crate) fn users_of<'c>(c: &'c Compiled<'_>) -> HashSet<&'c str, FxBuild> {
    // Sized for the group members (most of a rendered file's names).
    let members = c.groups.iter().map(|g| g.members.len()).sum();
    let mut users: HashSet<&str, FxBuild> =
        HashSet::with_capacity_and_hasher(members, Default::default());
    for acl in &c.acls {
        for ace in &acl.aces {
            if !ace.name.starts_with('@') {
                users.insert(&ace.name);
            }
        }
    }
    for g in &c.groups {
        for m in &g.members {
            if m.starts_with('@') {
                continue;
            }
            match m.strip_prefix('&') {
                Some(alias) => {
                    if let Some(target) = c.aliases.get(alias) {
                        users.insert(target);
                    }
                }
                None => {
                    users.insert(m);
                }
            }
        }
    }
    for target in c.aliases.values() {
        users.insert(target);
    }
    users
}

#[cfg(test)]
mod tests {
    use super::super::validate::validate_and_cost;
    use super::*;

    /// (users, rule sections) of `text`, which must be valid.
    fn check(text: &str, users: u64, rule_sections: u64) {
        let (diags, cost) = validate_and_cost("authz", text);
        assert!(diags.is_empty(), "{diags:#?}");
        assert_eq!(
            cost,
            Cost {
                users,
                rule_sections
            },
            "{text}"
        );
        assert_eq!(cost.units(), users * rule_sections);
    }

    #[test]
    fn users_of_entries_groups_and_aliases_count_once_each() {
        check(
            "[aliases]\njoe = /C=XZ/CN=Joe\n[groups]\ng = a, &joe, @h\nh = b, a\n[/]\n* = r\n\
             [repo:/trunk]\n@g = rw\n~c = r\nb = r\n[:glob:/**/secret]\n$anonymous =\n",
            // a, b, c and the alias target.
            4,
            3,
        );
    }

    #[test]
    fn special_names_and_groups_are_not_users() {
        check(
            "[groups]\ng = a\n[/]\n* = r\n$authenticated = r\n$anonymous =\n@g = rw\n",
            1,
            1,
        );
    }

    #[test]
    fn a_file_without_rule_sections_costs_nothing() {
        let (_, cost) = validate_and_cost("authz", "[groups]\ng = a, b\n");
        assert_eq!(cost.units(), 0);
        assert_eq!(cost.users, 2);
    }
}
