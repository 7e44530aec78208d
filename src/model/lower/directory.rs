//! A `<group>`'s directory attributes (`ldap=`, or `ldap-base=` with
//! `ldap-filter=`) made into one [`GroupRef`], or located diagnostics:
//! the one place both the lowering and `snapshot::directory_refs` (what
//! the daemon asks the directory for) read them, so they agree. A leaf of
//! `lower`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::super::types::{DirectoryGroup, Loc};
use crate::diag::{Code, Diagnostic, Source};
use crate::directory::{
    AccountState, DirectorySnapshot, GroupAnswer, GroupRef, RefError, check_filter, normalise_dn,
};
use crate::ident::Login;
use crate::limits::Limits;
use crate::xml::{DirectoryAttrs, LDAP_BASE, LDAP_DN, LDAP_FILTER, Spanned};

/// Invalid logins of one group reported one by one; the rest are counted
/// in one more diagnostic (a hostile directory cannot flood the report).
pub const MAX_INVALID_MEMBERS_SHOWN: usize = 20;

/// The directory's members of the group `group` (its `<user>` members
/// `local`, `reference` named at `at`), from `snapshot`, with the
/// diagnostics of what it could not take: no snapshot, no answer for the
/// reference, no such entry, a member that is no valid login.
pub fn directory_group(
    group: &str,
    reference: GroupRef,
    at: Loc,
    local: BTreeSet<Login>,
    snapshot: Option<&DirectorySnapshot>,
    limits: &Limits,
) -> (DirectoryGroup, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut members = BTreeMap::new();
    let local_only = |why: String| {
        at.diag(
            Code::LdapMembersUnknown,
            format!(
                "{why}: group `{group}` has its {} local member(s) only",
                local.len()
            ),
        )
    };
    match snapshot.map(|s| (s, s.groups.get(&reference))) {
        None => diags.push(local_only(format!(
            "the members of {reference} are not known here (no directory snapshot)"
        ))),
        Some((s, None)) => diags.push(local_only(format!(
            "directory snapshot {} has no answer for {reference} (not synced yet)",
            short(&s.revision)
        ))),
        Some((s, Some(GroupAnswer::NotFound))) => diags.push(at.diag(
            Code::LdapUnknownGroup,
            format!(
                "the directory has no entry {reference} (snapshot {}): group `{group}` has its {} local member(s) only",
                short(&s.revision),
                local.len()
            ),
        )),
        Some((_, Some(GroupAnswer::Members(list)))) => {
            let mut refused = 0usize;
            for m in list {
                match Login::new_within(&m.login, limits) {
                    Ok(login) => {
                        members.entry(login).or_insert_with(|| m.via.clone());
                    }
                    Err(e) => {
                        refused += 1;
                        if refused <= MAX_INVALID_MEMBERS_SHOWN {
                            let via = m.via.last().map(|v| format!(" (through {v})")).unwrap_or_default();
                            diags.push(at.diag(
                                Code::LdapInvalidMember,
                                format!("member `{}` of {reference}{via} is no valid login ({e}); it is left out of group `{group}`", m.login.escape_debug()),
                            ));
                        }
                    }
                }
            }
            if refused > MAX_INVALID_MEMBERS_SHOWN {
                diags.push(at.diag(
                    Code::LdapInvalidMember,
                    format!("{} more members of {reference} are no valid logins; they are left out of group `{group}`", refused - MAX_INVALID_MEMBERS_SHOWN),
                ));
            }
        }
    }
    let g = DirectoryGroup {
        reference,
        at,
        members,
        local,
    };
    (g, diags)
}

/// The directory's account state by login: the accounts whose login is
/// valid (another can hold no role: it is left out, as inactive).
pub fn directory_accounts(
    snapshot: &DirectorySnapshot,
    limits: &Limits,
) -> Option<BTreeMap<Login, AccountState>> {
    let accounts = snapshot.accounts.as_ref()?;
    Some(
        accounts
            .iter()
            .filter_map(|(l, s)| Some((Login::new_within(l, limits).ok()?, s.clone())))
            .collect(),
    )
}

/// A revision as people read it: its first 12 characters.
pub fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

/// The reference `attrs` make (`None`: the group names no directory), and
/// every problem found in them, each at its attribute's value.
pub fn group_ref(
    src: &Source,
    group: &str,
    attrs: &DirectoryAttrs,
    limits: &Limits,
) -> (Option<GroupRef>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let r = match (&attrs.dn, &attrs.base, &attrs.filter) {
        (None, None, None) => None,
        (Some(dn), None, None) => {
            let made = GroupRef::dn(&dn.value, limits);
            made.map_err(|e| diags.push(refused(src, group, LDAP_DN, dn, &e)))
                .ok()
        }
        (Some(_), Some(other), _) | (Some(_), None, Some(other)) => {
            diags.push(src.diag(
                Code::LdapReferenceConflict,
                other.span.clone(),
                format!(
                    "group `{group}` names both a directory group (`{LDAP_DN}`) and a search (`{LDAP_BASE}`/`{LDAP_FILTER}`); keep one"
                ),
            ));
            None
        }
        (None, Some(base), Some(filter)) => search(src, group, base, filter, limits, &mut diags),
        (None, Some(one), None) | (None, None, Some(one)) => {
            let (has, lacks) = if attrs.base.is_some() {
                (LDAP_BASE, LDAP_FILTER)
            } else {
                (LDAP_FILTER, LDAP_BASE)
            };
            diags.push(src.diag(
                Code::XmlMissingAttribute,
                one.span.clone(),
                format!(
                    "group `{group}` has `{has}` but no `{lacks}`: a directory search needs both"
                ),
            ));
            None
        }
    };
    (r, diags)
}

/// `ldap-base` and `ldap-filter`: both checked, each refusal reported.
fn search(
    src: &Source,
    group: &str,
    base: &Spanned<String>,
    filter: &Spanned<String>,
    limits: &Limits,
    diags: &mut Vec<Diagnostic>,
) -> Option<GroupRef> {
    let base_dn = normalise_dn(&base.value, limits.max_dn_bytes)
        .map_err(|e| diags.push(refused(src, group, LDAP_BASE, base, &RefError::Dn(e))));
    let checked = check_filter(
        &filter.value,
        limits.max_ldap_filter_bytes,
        limits.max_ldap_filter_depth,
    )
    .map_err(|e| {
        diags.push(refused(
            src,
            group,
            LDAP_FILTER,
            filter,
            &RefError::Filter(e),
        ))
    });
    checked.ok()?;
    Some(GroupRef::Search {
        base: base_dn.ok()?,
        filter: filter.value.clone(),
    })
}

/// The diagnostic of a refused attribute, at the byte that broke when the
/// value is written as it reads (no XML escape in it), else at its start.
fn refused(
    src: &Source,
    group: &str,
    attr: &str,
    value: &Spanned<String>,
    e: &RefError,
) -> Diagnostic {
    let (code, at) = match e {
        RefError::Dn(d) => (Code::LdapInvalidDn, d.at),
        RefError::Filter(f) => (Code::LdapInvalidFilter, f.at),
    };
    let raw = src.text.get(value.span.clone());
    let start = if raw == Some(value.value.as_str()) {
        value.span.start + at.min(value.value.len())
    } else {
        value.span.start
    };
    let span: Range<usize> = start..value.span.end.max(start);
    src.diag(code, span, format!("`{attr}` of group `{group}`: {e}"))
}
