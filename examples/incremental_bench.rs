//! Benchmark: `snapshot::build_cached` (the daemon's build, issue 13) for
//! one small change at a time, beside a full `snapshot::build` of the same
//! input in the same run (the reference).
//!
//! Run: `cargo run --release --example incremental_bench [N] [--large]`
//!
//! On the synthetic configuration (`examples/common/synthetic.rs`: 10,000
//! users, 1,000 projects; `--large`: 100,000 users, 10,000 projects, about
//! 500,000 assignments), N (default 50) changes to one project's
//! user-roles.xml each, then one of each other kind (an account disabled,
//! a user-group member added, permissions.xml only), each built with one
//! memo across the sequence. Prints p50/p99 of the cached builds, of the
//! judge's `diff::diff` of each one-project change against the snapshot
//! before (as the daemon runs it after the build), the median full build, the memo's hit counts, `/proc/loadavg` and the peak
//! RSS (VmHWM). `REFERENCE_RUNS=K` (default 5): how many of the changes
//! are also built in full (0: only once, at the end, e.g. under `perf`);
//! `INDEX_ALONE=0` skips the policy index timed alone (and its reference).

#[path = "common/synthetic.rs"]
mod synthetic;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rolesync::model;
use rolesync::snapshot::{self, Input, Memo};

fn peak_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .map_or("?".into(), |l| l["VmHWM:".len()..].trim().to_owned())
}

fn ms(d: Duration) -> String {
    format!("{:7.1} ms", d.as_secs_f64() * 1e3)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// One change: what it is, and the file's new bytes.
fn changes(files: &snapshot::Files, n: usize, projects: usize) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rng = synthetic::Rng(0xC0FFEE);
    for i in 0..n {
        let p = rng.below(projects);
        let path = format!(
            "Dept {}/{}/.polarion/security/user-roles.xml",
            p % 10,
            synthetic::project(p)
        );
        let old = String::from_utf8(files[&path].to_vec()).expect("utf-8");
        let holder = synthetic::user(rng.below(1000));
        let new = old.replace(
            "</user-roles>",
            &format!("  <user name=\"{holder}\"><role name=\"project_approver\"/></user>\n<!-- {i} -->\n</user-roles>"),
        );
        out.push(("project roles".into(), path, new.into_bytes()));
    }
    let user = format!("{}{}/user.xml", snapshot::USERS_DIR, synthetic::user(3));
    let disabled = String::from_utf8(files[&user].to_vec())
        .expect("utf-8")
        .replace(">false<", ">true<");
    out.push(("account disabled".into(), user, disabled.into_bytes()));
    let groups = String::from_utf8(files[snapshot::GROUPS].to_vec())
        .expect("utf-8")
        .replacen("</group>", "<user name=\"u00007\"/></group>", 1);
    out.push((
        "group member added".into(),
        snapshot::GROUPS.into(),
        groups.into_bytes(),
    ));
    let perms = String::from_utf8(files[snapshot::PERMISSIONS].to_vec())
        .expect("utf-8")
        .replacen(
            "<grant ",
            "<deny permission=\"persistence.object.Plan.read\"/>\n      <grant ",
            1,
        );
    out.push((
        "permissions only".into(),
        snapshot::PERMISSIONS.into(),
        perms.into_bytes(),
    ));
    out
}

/// `build_cached` of a one-project change, on its own frame so that
/// callgrind can count it alone (`--toggle-collect=*one_project_build*`).
#[inline(never)]
fn one_project_build(input: &Input, memo: &mut Memo) -> snapshot::Report {
    snapshot::build_cached(input, memo)
}

/// The policy index of `model` built with `memo`, then in full: the two
/// times.
fn index_phase(
    model: &model::Model,
    memo: &mut rolesync::policy::IndexMemo,
) -> (Duration, Duration) {
    let start = Instant::now();
    let cached = rolesync::policy::Index::build_cached(model, memo);
    let cached_took = start.elapsed();
    drop(std::hint::black_box(cached));
    let start = Instant::now();
    let full = std::hint::black_box(rolesync::policy::Index::build(model));
    let full_took = start.elapsed();
    drop(full);
    (cached_took, full_took)
}

/// The cold phases this work made faster, each the median of 5 runs.
fn phases(input: &Input) {
    let time = |f: &dyn Fn()| {
        let mut runs: Vec<Duration> = (0..5)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect();
        runs.sort();
        runs[2]
    };
    let texts: BTreeMap<&str, &str> = input
        .files
        .iter()
        .filter_map(|(p, b)| Some((p.as_str(), std::str::from_utf8(b).ok()?)))
        .collect();
    let sources = snapshot::Sources::new(texts.iter().map(|(p, t)| (*p, *t)));
    let (files, _) = snapshot::read_all(&sources, &input.limits);
    let (model, _) = model::lower(&files);
    let lower = time(&|| drop(std::hint::black_box(model::lower(&files))));
    let groups = time(&|| drop(std::hint::black_box(model.role_groups())));
    println!(
        "cold phases: model::lower {}  Model::role_groups {}",
        ms(lower),
        ms(groups)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let large = args.iter().any(|a| a == "--large");
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(50);
    let scale = if large {
        synthetic::LARGE_SCALE
    } else {
        synthetic::DEFAULT_SCALE
    };
    // Shared buffers, as a reader hands them on: a change replaces one.
    let mut files: snapshot::Files = synthetic::config_at(scale)
        .into_iter()
        .map(|(p, b)| (p, b.into()))
        .collect();
    let bytes: usize = files.values().map(|b| b.len()).sum();
    let input = |files: &snapshot::Files, rev: usize| Input {
        revision: format!("r{rev}"),
        files: files.clone(),
        ..Input::default()
    };

    let mut memo = Memo::default();
    let first = input(&files, 0);
    let start = Instant::now();
    let report = snapshot::build_cached(&first, &mut memo);
    let cold = start.elapsed();
    let s = report.snapshot.as_ref().expect("valid");
    println!(
        "configuration: {} users, {} projects, {} files ({} KiB), {} assignments; {}",
        scale.users,
        scale.projects,
        files.len(),
        bytes / 1024,
        s.model.assignments.len(),
        synthetic::load()
    );
    println!("cold build_cached (empty memo)   {}", ms(cold));
    // `COLD_PHASES=0`: skip them (e.g. to profile the changes alone).
    if std::env::var("COLD_PHASES").as_deref() != Ok("0") {
        phases(&first);
    }

    let mut timed: Vec<(String, Duration)> = Vec::new();
    let mut full: Vec<Duration> = Vec::new();
    let (mut hits, mut misses) = (0, 0);
    let (mut project_hits, mut project_misses, mut group_hits, mut group_misses) = (0, 0, 0, 0);
    let list = changes(&files, n, scale.projects);
    // The policy index alone, on each change's model: its own memo, and
    // the full `Index::build` of the same model (the reference).
    // `INDEX_ALONE=0`: skip it (e.g. to profile the builds alone).
    let index_alone = std::env::var("INDEX_ALONE").as_deref() != Ok("0");
    let mut index_memo = rolesync::policy::IndexMemo::default();
    if let Some(s) = report.snapshot.as_ref().filter(|_| index_alone) {
        index_phase(&s.model, &mut index_memo);
    }
    let mut index_times: Vec<(Duration, Duration)> = Vec::new();
    let mut diffs: Vec<Duration> = Vec::new();
    let mut before = report.snapshot;
    // The reference every fifth of the way (`REFERENCE_RUNS=0`: none,
    // e.g. under `perf record`).
    let runs: usize = std::env::var("REFERENCE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let every = list
        .len()
        .checked_div(runs)
        .map_or(usize::MAX, |e| e.max(1));
    for (i, (what, path, bytes)) in list.into_iter().enumerate() {
        files.insert(path, bytes.into());
        let inp = input(&files, i + 1);
        let start = Instant::now();
        let cached = if what == "project roles" {
            one_project_build(&inp, &mut memo)
        } else {
            snapshot::build_cached(&inp, &mut memo)
        };
        timed.push((what.clone(), start.elapsed()));
        if let Some(s) = &cached.snapshot
            && what == "project roles"
        {
            if let Some(old) = &before {
                let start = Instant::now();
                let d = rolesync::diff::diff(old, s).expect("the diff");
                diffs.push(start.elapsed());
                assert!(!d.is_empty(), "a role was added");
            }
            if index_alone {
                index_times.push(index_phase(&s.model, &mut index_memo));
            }
        }
        let stats = memo.stats();
        hits += stats.parse_hits;
        misses += stats.parse_misses;
        project_hits += stats.project_hits;
        project_misses += stats.project_misses;
        group_hits += stats.group_hits;
        group_misses += stats.group_misses;
        if i % every == 0 {
            let start = Instant::now();
            let reference = snapshot::build(&inp);
            full.push(start.elapsed());
            assert_eq!(
                format!("{:?}", cached.diagnostics),
                format!("{:?}", reference.diagnostics)
            );
            assert!(reference.is_valid() && cached.is_valid());
            assert_eq!(
                cached.snapshot.as_ref().map(|s| &s.access),
                reference.snapshot.as_ref().map(|s| &s.access)
            );
        }
        before = cached.snapshot;
    }
    let mut project: Vec<Duration> = timed
        .iter()
        .filter(|(w, _)| w == "project roles")
        .map(|(_, d)| *d)
        .collect();
    project.sort();
    if full.is_empty() {
        let start = Instant::now();
        snapshot::build(&input(&files, 0));
        full.push(start.elapsed());
    }
    full.sort();
    let full_median = full[full.len() / 2];
    println!(
        "one project's user-roles.xml ×{}: build_cached p50 {} p99 {} max {}",
        project.len(),
        ms(pct(&project, 0.5)),
        ms(pct(&project, 0.99)),
        ms(*project.last().expect("changes"))
    );
    diffs.sort();
    if !diffs.is_empty() {
        println!(
            "the judge's diff::diff of each against the snapshot before: p50 {} p99 {}",
            ms(pct(&diffs, 0.5)),
            ms(pct(&diffs, 0.99))
        );
    }
    for (what, d) in timed.iter().filter(|(w, _)| w != "project roles") {
        println!("{what:<32} build_cached {}", ms(*d));
    }
    println!(
        "reference: full snapshot::build, median of {}  {}  (ratio p50 {:.1}×)",
        full.len(),
        ms(full_median),
        full_median.as_secs_f64() / pct(&project, 0.5).as_secs_f64()
    );
    let mut cached_ix: Vec<Duration> = index_times.iter().map(|t| t.0).collect();
    let mut full_ix: Vec<Duration> = index_times.iter().map(|t| t.1).collect();
    cached_ix.sort();
    full_ix.sort();
    if !cached_ix.is_empty() {
        println!(
            "policy index alone, one project's roles ×{}: Index::build_cached p50 {} p99 {}; reference Index::build p50 {}",
            cached_ix.len(),
            ms(pct(&cached_ix, 0.5)),
            ms(pct(&cached_ix, 0.99)),
            ms(pct(&full_ix, 0.5))
        );
    }
    println!(
        "memo over the changes: files {hits} reused / {misses} parsed; projects lowered {project_hits} reused / {project_misses} afresh; scopes' role groups {group_hits} reused / {group_misses} afresh"
    );
    println!("peak RSS {}; {}", peak_rss(), synthetic::load());
}
