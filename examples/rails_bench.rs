//! Benchmark: the guard rails (`rails::check`) on the generated
//! 10,000-user configuration (examples/common/synthetic.rs) with an access
//! file that has a rule section per project, as an SVN configuration
//! repository (so the lock-out rail evaluates every login on both access
//! files). The change is none (two builds of the same tree): every rail
//! but the mass-change one costs the same whatever changed, and that one
//! is `diff::diff` (examples/diff_bench.rs), given here as the hooks give it.
//!
//! Run: `cargo run --release --example rails_bench`
//!
//! Prints the median of a few runs beside the in-run reference: one
//! `snapshot::build` of the same tree (a hook builds two).

#[path = "common/synthetic.rs"]
mod synthetic;

use std::time::{Duration, Instant};

use rolesync::rails::{self, Change, Target};
use rolesync::{diff, snapshot};
use synthetic::{PROJECTS, USERS, build_files, config, project};

const RUNS: usize = 5;

fn main() {
    let mut files = config();
    let mut access = String::from("[/]\n@admin = rw\n* = r\n");
    for p in (0..PROJECTS).map(project) {
        access.push_str(&format!("\n[/{p}]\n@{p}-project_admin = rw\n* =\n"));
    }
    files.insert(snapshot::ACCESS_FILE.into(), access.into_bytes());
    let (old, reference) = build_files("old", files.clone());
    let (new, _) = build_files("new", files);
    let target = Target::Svn {
        repository: "config".into(),
        path: "/".into(),
    };
    let d = diff::diff(&old, &new).expect("diff");
    let mut runs: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let found = rails::check(&Change {
                old: &old,
                new: &new,
                target: &target,
                diff: Some(&d),
            });
            assert!(found.is_empty(), "{found:?}");
            start.elapsed()
        })
        .collect();
    runs.sort();
    let took = runs[RUNS / 2];
    println!(
        "{USERS} users, {PROJECTS} projects, {} active accounts: rails::check {:.1} ms (median of {RUNS}) = {:.2} × snapshot::build ({:.0} ms)",
        old.model.active_accounts().len(),
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() / reference.as_secs_f64(),
        reference.as_secs_f64() * 1e3
    );
}
