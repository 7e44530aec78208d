//! Benchmark: one directory sync (issue 16) of 10,000 users in 500 nested
//! groups served by a real slapd on loopback (`tests/it/slapd.rs`): 400
//! groups of 25 users, 90 groups of 4 or 5 of those and one user each,
//! 10 groups of 9 of those (the first nests the second: four levels); all
//! 500 asked for, account state on. The reference of the same run: the
//! same subtree read by `ldapsearch` with paged results (what the server
//! takes to send it, and OpenLDAP's own client to read it). Then one
//! membership change (`ldapmodify`) and the sync again.
//!
//! Run: `cargo run --release --example ldap_bench [ROUNDS]` (default 5).

#[path = "../tests/it/slapd.rs"]
#[allow(dead_code)] // the tests use the rest of it
mod slapd;
#[path = "common/synthetic.rs"]
mod synthetic;

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use rolesync::directory::{DirectorySnapshot, GroupAnswer, GroupRef};
use rolesync::ldap::LdapSettings;
use slapd::{Options, Slapd, group, group_dn, person, person_dn};

const USERS: usize = 10_000;
const LEAVES: usize = 400;
const MIDS: usize = 90;
const TOPS: usize = 10;

fn directory() -> String {
    let mut ldif = String::new();
    for u in 0..USERS {
        ldif.push_str(&person(&format!("u{u:05}"), ""));
    }
    for l in 0..LEAVES {
        let members: Vec<String> = (0..25)
            .map(|i| person_dn(&format!("u{:05}", l * 25 + i)))
            .collect();
        ldif.push_str(&group(&format!("leaf{l:03}"), &members));
    }
    for m in 0..MIDS {
        let mut members: Vec<String> = (0..LEAVES)
            .filter(|l| l % MIDS == m)
            .map(|l| group_dn(&format!("leaf{l:03}")))
            .collect();
        members.push(person_dn(&format!("u{:05}", m * 100)));
        ldif.push_str(&group(&format!("mid{m:02}"), &members));
    }
    for t in 0..TOPS {
        let mut members: Vec<String> = (0..MIDS)
            .filter(|m| m % TOPS == t)
            .map(|m| group_dn(&format!("mid{m:02}")))
            .collect();
        if t == 0 {
            members.push(group_dn("top1"));
        }
        ldif.push_str(&group(&format!("top{t}"), &members));
    }
    ldif
}

fn refs() -> Vec<GroupRef> {
    let names = (0..LEAVES)
        .map(|l| format!("leaf{l:03}"))
        .chain((0..MIDS).map(|m| format!("mid{m:02}")))
        .chain((0..TOPS).map(|t| format!("top{t}")));
    names.map(|n| GroupRef::Dn(group_dn(&n))).collect()
}

fn sync(
    runtime: &tokio::runtime::Runtime,
    settings: &LdapSettings,
    refs: &[GroupRef],
) -> (DirectorySnapshot, Duration) {
    let start = Instant::now();
    let snapshot = runtime
        .block_on(rolesync::ldap::sync(settings, refs))
        .expect("sync");
    (snapshot, start.elapsed())
}

fn ldapsearch(server: &Slapd) -> Duration {
    let start = Instant::now();
    let out = Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &server.url(),
            "-D",
            slapd::READER_DN,
            "-y",
        ])
        .arg(server.password_file())
        .args([
            "-E",
            "pr=500/noprompt",
            "-b",
            slapd::SUFFIX,
            "(|(uid=*)(objectClass=groupOfNames))",
        ])
        .args(["uid", "objectClass", "member", "pwdAccountLockedTime"])
        .output()
        .expect("ldapsearch runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let ldif = directory();
    let start = Instant::now();
    let server = Slapd::new(
        Options {
            size_limit: Some(1000),
            ..Options::default()
        },
        &ldif,
    );
    let loaded = start.elapsed();
    let settings = LdapSettings::from_toml(&server.settings_toml("")).expect("settings");
    let refs = refs();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut report = format!(
        "directory: {USERS} users, {} groups ({LEAVES}×25 users, {MIDS} of leaves, {TOPS} of those; 4 levels), {} KiB of LDIF, slapadd + start {:.2?}\n{}\n",
        refs.len(),
        ldif.len() / 1024,
        loaded,
        synthetic::load()
    );
    let (first, _) = sync(&runtime, &settings, &refs);
    let memberships: usize = first
        .groups
        .values()
        .map(|a| match a {
            GroupAnswer::Members(m) => m.len(),
            GroupAnswer::NotFound => 0,
        })
        .sum();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(sync(&runtime, &settings, &refs).1);
        theirs.push(ldapsearch(&server));
    }
    let (ours, theirs) = (median(ours), median(theirs));
    let _ = writeln!(
        report,
        "sync (500 groups resolved, {memberships} memberships, {} accounts): median {ours:.2?} of {rounds}\nreference: ldapsearch -E pr=500 of the same subtree: median {theirs:.2?} (ratio {:.2})",
        first.accounts.as_ref().map_or(0, |a| a.len()),
        ours.as_secs_f64() / theirs.as_secs_f64(),
    );
    server.modify(&format!(
        "dn: {}\nchangetype: modify\nadd: member\nmember: {}\n",
        group_dn("leaf000"),
        person_dn("u09999")
    ));
    let (changed, took) = sync(&runtime, &settings, &refs);
    assert_ne!(changed.revision, first.revision, "the change is seen");
    let _ = writeln!(
        report,
        "after one membership change (ldapmodify): sync {took:.2?}, new revision {}",
        &changed.revision[..12]
    );
    print!("{report}");
}
