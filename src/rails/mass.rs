//! `mass_change`: a change that removes access from more than N logins is
//! refused unless its commit message carries the trailer
//! `Rolesync-Allow: mass-change`. N is the larger of `mass_change_logins`
//! (default 50) and `mass_change_percent` (default 10) % of the active
//! accounts in force. Losing access is what `diff::Diff` counts as such:
//! SVN access at some path, a role group or a Polarion permission.
//!
//! A diff that could not evaluate everything (its bounds were reached) or
//! could not be computed at all counts as above the threshold: the rail
//! fails closed, and the trailer still lets the change in.

use super::change::{Change, names};
use super::config::Config;
use super::trailer::{ALLOW, allows};
use crate::diag::{Code, Diagnostic};
use crate::snapshot::{ACCESS_FILE, RAILS_FILE};

/// The trailer value that lets a mass change in.
pub const OVERRIDE: &str = "mass-change";

/// The most logins a change may take access from without the trailer.
pub fn threshold(rails: &Config, active_accounts: usize) -> u64 {
    let share = (active_accounts as u64)
        .saturating_mul(rails.mass_change_percent)
        .div_ceil(100);
    rails.mass_change_logins.max(share)
}

pub fn check(change: &Change) -> Option<Diagnostic> {
    let rails = &change.old.rails;
    if !rails.mass_change || allows(change.message(), OVERRIDE) {
        return None;
    }
    let active = change.old.model.active_account_count();
    let limit = threshold(rails, active);
    let computed;
    let diff = match change.diff {
        Some(d) => Ok(d),
        None => {
            computed = crate::diff::diff(change.old, change.new);
            computed.as_ref()
        }
    };
    let (losing, counted) = match diff {
        Ok(d) if d.is_complete() => (d.logins_losing_access(), "removes access from".to_owned()),
        Ok(d) => (
            d.logins_losing_access(),
            "is too large to evaluate in full, and removes access from at least".to_owned(),
        ),
        Err(e) => (
            Default::default(),
            format!("cannot be diffed ({e}), and removes access from"),
        ),
    };
    let complete = matches!(diff, Ok(d) if d.is_complete());
    if complete && losing.len() as u64 <= limit {
        return None;
    }
    let mut d = Diagnostic::file(
        Code::RailMassChange,
        ACCESS_FILE,
        format!(
            "this change {counted} {} logins, more than the limit of {limit}; if that is intended, \
             add the line `{ALLOW}: {OVERRIDE}` at the end of the commit message",
            losing.len()
        ),
    )
    .with_note(format!(
        "the limit is the larger of mass_change_logins ({}) and mass_change_percent ({} %) of the \
         {active} active accounts, under [rails] in {RAILS_FILE}",
        rails.mass_change_logins, rails.mass_change_percent
    ));
    if !losing.is_empty() {
        d = d.with_note(format!(
            "losing access: {}",
            names(losing.iter().map(String::as_str))
        ));
    }
    Some(d)
}
