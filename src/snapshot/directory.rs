//! `refs_of`, what `snapshot::directory_refs` reads: what a revision asks
//! of the directory — the references its `groups.xml` names, normalised as
//! the lowering makes them — read from that one file, so the daemon can
//! sync exactly these before it builds (cheap: nothing else is parsed).

use std::collections::BTreeSet;

use super::kind::GROUPS;
use crate::diag::Source;
use crate::directory::GroupRef;
use crate::ident::GroupId;
use crate::limits::Limits;
use crate::model::group_ref;
use crate::xml;

/// Every directory reference of a `groups.xml` (`None`: there is none),
/// sorted, each once. A file that is too large, not UTF-8 or not XML
/// names none, and so does a group whose id or reference is refused (the
/// build reports why); a group defined twice counts once, as the build
/// takes it.
pub(super) fn refs_of(groups: Option<&[u8]>, limits: &Limits) -> Vec<GroupRef> {
    let Some(bytes) = groups else {
        return Vec::new();
    };
    if bytes.len() > limits.max_file_bytes {
        return Vec::new();
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let src = Source::new(GROUPS, text);
    let Some(file) = xml::read_groups(&src, limits).0 else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut refs = BTreeSet::new();
    for def in &file.groups {
        let Ok(id) = GroupId::new_within(&def.id.value, limits) else {
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        if let (Some(r), _) = group_ref(&src, &def.id.value, &def.directory, limits) {
            refs.insert(r);
        }
    }
    refs.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::snapshot::{Input, directory_refs};

    fn input(groups: &str) -> Input {
        Input {
            files: [(GROUPS.to_owned(), groups.as_bytes().to_vec())].into(),
            ..Input::default()
        }
    }

    const GROUPS_XML: &str = r#"<user-groups>
    <group id="qa-team" ldap="CN=qa, OU=groups, DC=example, DC=org"><user name="carol"/></group>
    <group id="qa-again" ldap="cn=qa,ou=groups,dc=example,dc=org"/>
    <group id="qa-people" ldap-base="ou=people,dc=example,dc=org" ldap-filter="(department=QA)"/>
    <group id="qa-team" ldap="cn=second,dc=example,dc=org"/>
    <group id="broken" ldap="cn=a;dc=x"/>
    <group id="bad filter" ldap="cn=b,dc=x"/>
    <group id="local"><user name="dave"/></group>
</user-groups>"#;

    #[test]
    fn the_refs_are_the_normalised_references_each_once() {
        let refs = directory_refs(&input(GROUPS_XML));
        assert_eq!(
            refs,
            [
                GroupRef::Dn("cn=qa,ou=groups,dc=example,dc=org".to_owned()),
                GroupRef::Search {
                    base: "ou=people,dc=example,dc=org".to_owned(),
                    filter: "(department=QA)".to_owned(),
                },
            ]
        );
        assert!(directory_refs(&Input::default()).is_empty());
        assert!(directory_refs(&input("<user-groups>")).is_empty());
    }

    #[test]
    fn the_build_reports_each_refused_reference_at_its_attribute() {
        let text = r#"<user-groups>
    <group id="a" ldap="cn=a;dc=x"/>
    <group id="b" ldap-base="" ldap-filter="department=QA"/>
    <group id="c" ldap="cn=c,dc=x" ldap-filter="(a=b)"/>
    <group id="d" ldap-filter="(a=b)"/>
    <group id="e" ldap-base="dc=x" ldap-filter="(&amp;(a=b)"/>
</user-groups>"#;
        let mut i = input(text);
        i.files.insert(
            super::super::USER_ROLES.to_owned(),
            b"<user-roles/>".to_vec(),
        );
        let report = super::super::build(&i);
        let got: Vec<(Code, u32, u32)> = report
            .diagnostics
            .iter()
            .map(|d| (d.code, d.line, d.col))
            .filter(|(c, ..)| *c != Code::AccessFileMissing)
            .collect();
        let col = |line: usize, needle: &str| {
            let l = text.lines().nth(line - 1).expect("line");
            u32::try_from(l.find(needle).expect("needle") + 1).expect("small")
        };
        assert_eq!(
            got,
            [
                (Code::LdapInvalidDn, 2, col(2, ";dc")),
                (Code::LdapInvalidDn, 3, col(3, "\"\" ") + 1),
                (Code::LdapInvalidFilter, 3, col(3, "department")),
                (Code::LdapReferenceConflict, 4, col(4, "(a=b)")),
                (Code::XmlMissingAttribute, 5, col(5, "(a=b)")),
                (Code::LdapInvalidFilter, 6, col(6, "(&amp;")),
            ]
        );
        assert!(!report.is_valid());
        let d = report
            .diagnostics
            .iter()
            .find(|d| d.code == Code::LdapInvalidDn)
            .expect("reported");
        assert!(d.message.contains("`ldap` of group `a`"), "{}", d.message);
        assert!(d.message.contains("`;`"), "{}", d.message);
    }
}
