//! Benchmark: `diff::diff` on the generated 10,000-user configuration
//! (examples/common/synthetic.rs: 10,000 users × 1,000 projects), with 15
//! more holders per project (about 50,000 role assignments in all) and an
//! access file that has a rule section per project.
//!
//! Run: `cargo run --release --example diff_bench [-- a]` (`a`: only the
//! first change; `RUNS=n` sets the runs per change, default 7)
//!
//! Prints, for each change, the median time of `diff::diff` over a few
//! runs (the two snapshots already built, as the hooks and the daemon have
//! them), what it found, and the ratio to the in-run reference: one full
//! `snapshot::build` of the same tree.
//!
//! - (a) one project's roles changed: 5 holders of p0003 replaced;
//! - (b) a group of 5,000 members changed: g00 (project_tester in 20
//!   projects) has 1,000 of its 5,000 members replaced;
//! - (b') the same group with all 5,000 members replaced.

#[path = "common/synthetic.rs"]
mod synthetic;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rolesync::diff;
use rolesync::snapshot::{self, Snapshot};
use synthetic::{PROJECTS, USERS, build_files, config, project, user};

/// Runs per change (`RUNS=n` overrides; more for a profile).
fn runs() -> usize {
    std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7)
}

/// The synthetic tree with a rule section per project.
fn base() -> BTreeMap<String, Vec<u8>> {
    let mut files = config();
    let mut access = String::from("[/]\n@admin = rw\n* = r\n");
    for p in 0..PROJECTS {
        let id = project(p);
        access.push_str(&format!(
            "\n[/{id}]\n@{id}-project_admin = rw\n@{id}-project_user = rw\n@{id}-project_tester = r\n* =\n"
        ));
    }
    files.insert(snapshot::ACCESS_FILE.into(), access.into_bytes());
    // 15 more holders per project: about 50,000 assignments in all.
    for p in 0..PROJECTS {
        let path = roles_path(p);
        let text = String::from_utf8(files[&path].clone()).expect("UTF-8");
        let extra: String = (0..15)
            .map(|k| {
                format!(
                    "  <user name=\"{}\"><role name=\"project_user\"/></user>\n",
                    user((p * 7 + k * 613 + 1) % USERS)
                )
            })
            .collect();
        files.insert(
            path,
            text.replace("</user-roles>", &format!("{extra}</user-roles>"))
                .into_bytes(),
        );
    }
    set_group(&mut files, "g00", (0..5_000).map(|i| user(2 * i)));
    files
}

/// Replace the members of one group of groups.xml.
fn set_group(
    files: &mut BTreeMap<String, Vec<u8>>,
    id: &str,
    members: impl Iterator<Item = String>,
) {
    let text = String::from_utf8(files[snapshot::GROUPS].clone()).expect("UTF-8");
    let open = format!("<group id=\"{id}\">");
    let start = text.find(&open).expect("group") + open.len();
    let end = start + text[start..].find("</group>").expect("end of group");
    let body: String = members.map(|m| format!("<user name=\"{m}\"/>")).collect();
    let text = format!("{}{body}{}", &text[..start], &text[end..]);
    files.insert(snapshot::GROUPS.into(), text.into_bytes());
}

/// The user-roles.xml of project `p` (the generator's folder layout).
fn roles_path(p: usize) -> String {
    format!(
        "Dept {}/{}/.polarion/security/user-roles.xml",
        p % 10,
        project(p)
    )
}

/// Five holders of p0003 replaced by five others.
fn project_change(files: &mut BTreeMap<String, Vec<u8>>) {
    let path = roles_path(3);
    let text = String::from_utf8(files[&path].clone()).expect("UTF-8");
    let mut out = String::new();
    let mut replaced = 0;
    for line in text.lines() {
        if replaced < 5 && line.contains("<user name=") {
            out.push_str(&format!(
                "  <user name=\"{}\"><role name=\"project_user\"/></user>\n",
                user(USERS - 1 - 2 * replaced)
            ));
            replaced += 1;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    files.insert(path, out.into_bytes());
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn measure(name: &str, old: &Snapshot, new: &Snapshot, reference: Duration) {
    let mut took_each = Vec::new();
    let mut last = None;
    for _ in 0..runs() {
        let start = Instant::now();
        let d = diff::diff(old, new).expect("diff");
        took_each.push(start.elapsed());
        last = Some(d);
    }
    let d = last.expect("runs");
    let took = median(took_each);
    println!(
        "{name}: diff {:.1} ms (median of {}) = {:.3} × snapshot::build; {} role-group, {} path, {} permission changes; {} logins lose access{}",
        took.as_secs_f64() * 1e3,
        runs(),
        took.as_secs_f64() / reference.as_secs_f64(),
        d.groups.total,
        d.paths.total,
        d.permissions.total,
        d.logins_losing_access().len(),
        if d.is_complete() {
            ""
        } else {
            " (incomplete: bound reached)"
        }
    );
}

fn main() {
    let files = base();
    let bytes: usize = files.values().map(Vec::len).sum();
    let (old, reference) = build_files("base", files.clone());
    println!(
        "configuration: {USERS} users, {PROJECTS} projects, {} role assignments, {} files ({} KiB), access file {} KiB; reference: snapshot::build {:.0} ms",
        old.model.assignments.len(),
        files.len(),
        bytes / 1024,
        old.access.len() / 1024,
        reference.as_secs_f64() * 1e3
    );

    let time = |what: &str, f: &dyn Fn()| {
        let start = Instant::now();
        f();
        println!("  {what}: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    };
    time("authz::parse of the access file", &|| {
        std::hint::black_box(rolesync::authz::parse(&old.access));
    });
    time("Authz::load of the access file", &|| {
        std::hint::black_box(rolesync::authz::Authz::load(&old.access, None).is_ok());
    });
    time("Model::role_groups", &|| {
        std::hint::black_box(old.model.role_groups());
    });

    let mut a = files.clone();
    project_change(&mut a);
    let (new, _) = build_files("a", a);
    measure("(a) one project's roles changed", &old, &new, reference);
    if std::env::args().nth(1).as_deref() == Some("a") {
        return;
    }

    let mut b = files.clone();
    set_group(
        &mut b,
        "g00",
        (0..5_000).map(|i| user(if i < 1_000 { 2 * i + 1 } else { 2 * i })),
    );
    let (new, _) = build_files("b", b);
    measure(
        "(b) 1,000 of a 5,000-member group's members replaced",
        &old,
        &new,
        reference,
    );

    let mut b2 = files;
    set_group(&mut b2, "g00", (0..5_000).map(|i| user(2 * i + 1)));
    let (new, _) = build_files("b'", b2);
    measure(
        "(b') all 5,000 members of the group replaced",
        &old,
        &new,
        reference,
    );
}
