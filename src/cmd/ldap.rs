//! `rolesync ldap sync`: one sync of the `[ldap]` table's directory, as the
//! daemon makes it, printed so an administrator can check the set-up —
//! each group with its member count (members with `--members`), the
//! accounts and how many are locked; the error names the server and DN.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::{FleetFormat, LdapArgs, LdapCommand, LdapSyncArgs};
use crate::diag::escape_controls;
use crate::directory::{AccountState, DirectorySnapshot, GroupAnswer, GroupRef, Member};
use crate::ldap::LdapSettings;
use crate::repo;
use crate::snapshot::{self, Limits};

pub fn run(args: &LdapArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        LdapCommand::Sync(sync) => run_sync(sync),
    }
}

fn run_sync(args: &LdapSyncArgs) -> anyhow::Result<ExitCode> {
    let settings = settings(&args.config)?;
    let refs = refs(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let snapshot = runtime
        .block_on(crate::ldap::sync(&settings, &refs))
        .context("ldap sync")?;
    let shown = Shown::of(&snapshot, args.members);
    match args.format {
        FleetFormat::Text => print!("{}", shown.text()),
        FleetFormat::Json => println!("{}", serde_json::to_string_pretty(&shown)?),
    }
    Ok(ExitCode::from(super::EXIT_OK))
}

/// The `--group` DNs (normalised as `groups.xml`'s are) and the references
/// `--repo`'s groups.xml makes, each once.
fn refs(args: &LdapSyncArgs) -> anyhow::Result<Vec<GroupRef>> {
    let limits = Limits::default();
    let mut refs = BTreeSet::new();
    for dn in &args.groups {
        refs.insert(GroupRef::dn(dn, &limits).with_context(|| format!("--group {dn:?}"))?);
    }
    if let Some(path) = &args.repo {
        let source = repo::Source::open(path, &repo::Options::default())
            .with_context(|| format!("opening {}", path.display()))?;
        let input = source.read(args.rev.as_deref(), limits)?;
        refs.extend(snapshot::directory_refs(&input));
    }
    Ok(refs.into_iter().collect())
}

/// The `[ldap]` table of the daemon's TOML file (its other keys unread),
/// split and checked as the daemon does.
fn settings(path: &std::path::Path) -> anyhow::Result<LdapSettings> {
    let text = fs_err::read_to_string(path)?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let ldap = table
        .get("ldap")
        .with_context(|| format!("{}: no [ldap] table", path.display()))?;
    let table = ldap
        .as_table()
        .with_context(|| format!("{}: [ldap] is no table", path.display()))?;
    let (settings, _) =
        super::serve::split_ldap(table.clone()).with_context(|| path.display().to_string())?;
    Ok(settings)
}

/// What is printed (`--format json` as is).
#[derive(Debug, Serialize)]
struct Shown<'a> {
    revision: &'a str,
    groups: Vec<ShownGroup<'a>>,
    /// `null` when `account_state` is off.
    accounts: Option<ShownAccounts<'a>>,
}

#[derive(Debug, Serialize)]
struct ShownGroup<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    dn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<&'a str>,
    found: bool,
    member_count: usize,
    /// Members reached through a nested group.
    nested_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<ShownMember<'a>>>,
}

#[derive(Debug, Serialize)]
struct ShownMember<'a> {
    login: &'a str,
    /// The nested groups between the group and the member, outermost first.
    via: &'a [String],
}

#[derive(Debug, Serialize)]
struct ShownAccounts<'a> {
    count: usize,
    locked: Vec<ShownLock<'a>>,
}

#[derive(Debug, Serialize)]
struct ShownLock<'a> {
    login: &'a str,
    by: &'a str,
}

impl<'a> Shown<'a> {
    fn of(snapshot: &'a DirectorySnapshot, with_members: bool) -> Shown<'a> {
        let groups = snapshot.groups.iter().map(|(r, answer)| {
            let (dn, base, filter) = match r {
                GroupRef::Dn(dn) => (Some(dn.as_str()), None, None),
                GroupRef::Search { base, filter } => {
                    (None, Some(base.as_str()), Some(filter.as_str()))
                }
            };
            let members = match answer {
                GroupAnswer::Members(m) => Some(m.as_slice()),
                GroupAnswer::NotFound => None,
            };
            ShownGroup {
                dn,
                base,
                filter,
                found: members.is_some(),
                member_count: members.map_or(0, <[Member]>::len),
                nested_count: members.map_or(0, |m| m.iter().filter(|m| !m.via.is_empty()).count()),
                members: members.filter(|_| with_members).map(|ms| {
                    ms.iter()
                        .map(|m| ShownMember {
                            login: &m.login,
                            via: &m.via,
                        })
                        .collect()
                }),
            }
        });
        let accounts = snapshot.accounts.as_ref().map(|accounts| ShownAccounts {
            count: accounts.len(),
            locked: accounts
                .iter()
                .filter_map(|(login, state)| match state {
                    AccountState::Locked { by } => Some(ShownLock { login, by }),
                    AccountState::Active => None,
                })
                .collect(),
        });
        Shown {
            revision: &snapshot.revision,
            groups: groups.collect(),
            accounts,
        }
    }

    fn text(&self) -> String {
        let mut out = format!("directory snapshot {}\n", self.revision);
        for g in &self.groups {
            let name = match (g.dn, g.base, g.filter) {
                (Some(dn), _, _) => dn.to_owned(),
                (_, base, filter) => format!(
                    "{} below {}",
                    filter.unwrap_or_default(),
                    base.unwrap_or_default()
                ),
            };
            let name = escape_controls(&name);
            if !g.found {
                out.push_str(&format!("{name}: not found\n"));
                continue;
            }
            out.push_str(&format!(
                "{name}: {} members ({} through nested groups)\n",
                g.member_count, g.nested_count
            ));
            for m in g.members.iter().flatten() {
                let via = m
                    .via
                    .iter()
                    .map(|dn| format!(" < {}", escape_controls(dn)))
                    .collect::<String>();
                out.push_str(&format!("  {}{via}\n", escape_controls(m.login)));
            }
        }
        match &self.accounts {
            None => out.push_str("accounts: not read (account_state = false)\n"),
            Some(a) => {
                out.push_str(&format!(
                    "accounts: {} ({} locked)\n",
                    a.count,
                    a.locked.len()
                ));
                for l in &a.locked {
                    out.push_str(&format!(
                        "  locked: {} ({})\n",
                        escape_controls(l.login),
                        l.by
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    /// The daemon's own `[ldap]` keys (the hold-back rail's) are part of
    /// the table `ldap sync` reads: the same file the daemon runs on.
    #[test]
    fn the_daemons_rail_keys_do_not_refuse_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rolesync.toml");
        let text = "[ldap]\nurls = [\"ldap://127.0.0.1:389\"]\nbase_dn = \"dc=example,dc=org\"\nmax_removed_share = 0.5\nmax_removed_floor = 3\n";
        std::fs::write(&path, text).expect("write");
        let settings = super::settings(&path).expect("the daemon's file is read");
        assert_eq!(settings.base_dn, "dc=example,dc=org");
        std::fs::write(&path, format!("{text}colour = \"red\"\n")).expect("write");
        let err = format!("{:#}", super::settings(&path).expect_err("unknown key"));
        assert!(err.contains("colour"), "{err}");
    }
}
