//! The directory as a source (issue 16): one sync of LDAP or Active
//! Directory into a `directory::DirectorySnapshot` — the first of the
//! `[ldap]` URLs that connects and binds, the users and groups below
//! `base_dn` read with paged results, every `groups.xml` reference
//! resolved (nested groups included) and the accounts' state. All of it or
//! nothing: any failure, time-out, incomplete answer or bound passed is an
//! error naming the server and the DN, and no snapshot.
//!
//! `settings` (the `[ldap]` table; a leaf), `error` (a leaf), `connect`
//! (failover, TLS, bind), `read` (one search, paged, parsed and bounded),
//! `resolve` (entries to answers), `dn` (the DN comparison key; a leaf).

mod connect;
mod dn;
mod error;
mod read;
mod resolve;
mod settings;

use std::collections::BTreeMap;

use tokio::time::Instant;

use crate::directory::{DirectorySnapshot, GroupAnswer, GroupRef};

pub use error::{SettingsError, SyncError};
pub use settings::{Flavor, LdapSettings, LoginCase};

/// One sync: every reference in `refs` answered, and the accounts' state
/// when `account_state` is on, within `settings.timeout` in all.
pub async fn sync(
    settings: &LdapSettings,
    refs: &[GroupRef],
) -> Result<DirectorySnapshot, SyncError> {
    settings.check()?;
    let password = settings.password()?;
    let deadline = Instant::now() + settings.timeout;
    let after = connect::human(settings.timeout);
    let session = tokio::time::timeout_at(deadline, connect::open(settings, password.as_ref()))
        .await
        .map_err(|_| SyncError::Timeout {
            url: None,
            after: after.clone(),
        })??;
    drop(password);
    let url = session.url.clone();
    let reader = read::Reader {
        session,
        settings,
        read: 0,
    };
    tokio::time::timeout_at(deadline, read_all(reader, refs))
        .await
        .map_err(|_| SyncError::Timeout {
            url: Some(url),
            after,
        })?
}

async fn read_all(
    mut reader: read::Reader<'_>,
    refs: &[GroupRef],
) -> Result<DirectorySnapshot, SyncError> {
    let flavor = reader.flavor().await?;
    let mut dir = reader.directory(flavor).await?;
    let accounts = match reader.settings.account_state {
        true => Some(reader.accounts(&dir)?),
        false => None,
    };
    let mut groups = BTreeMap::new();
    for r in refs {
        let answer: GroupAnswer = match r {
            GroupRef::Dn(group) => reader.group(&mut dir, group).await?,
            GroupRef::Search { base, filter } => reader.matching(base, filter).await?,
        };
        groups.insert(r.clone(), answer);
    }
    // Best effort: the server learns the session is over; the snapshot
    // does not wait on its answer.
    let _ = reader.session.ldap.unbind().await;
    Ok(DirectorySnapshot::new(groups, accounts))
}
