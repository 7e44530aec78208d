//! A `<group>`'s directory attributes (`ldap=`, or `ldap-base=` with
//! `ldap-filter=`) made into one [`GroupRef`], or located diagnostics:
//! the one place both the lowering and `snapshot::directory_refs` (what
//! the daemon asks the directory for) read them, so they agree. A leaf of
//! `lower`.

use std::ops::Range;

use crate::diag::{Code, Diagnostic, Source};
use crate::directory::{GroupRef, RefError, check_filter, normalise_dn};
use crate::limits::Limits;
use crate::xml::{DirectoryAttrs, LDAP_BASE, LDAP_DN, LDAP_FILTER, Spanned};

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
        (Some(_), base, filter) => {
            let other = base.as_ref().or(filter.as_ref()).expect("one is set");
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
