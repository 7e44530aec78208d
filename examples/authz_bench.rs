//! Benchmark of rolesync's authz evaluator against `svnauthz accessof`.
//!
//! Generates (deterministically) access files shaped like the project's
//! `gen_authz.py` (10,000 users in 2,000 groups, 20 aliases, half of the
//! sections repository-specific over 50 repositories, 3 entries per
//! section) with 2,000 and 20,000 sections, writes them to a temporary
//! folder and prints: load time, time per query (cached views and first
//! queries of new users), the whole-process time of `rolesync access`
//! and of `svnauthz accessof` on the same files, and the ratios.
//!
//! Run: `cargo build --release && cargo run --release --example authz_bench`
//! (the release `rolesync` binary must exist next to the example).
//! `AUTHZ_BENCH_ONLY=small|big` runs one size, `AUTHZ_BENCH_ONLY=huge`
//! runs 100,000 users x 20,000 sections (rolesync only: svnauthz needs about
//! 9 minutes there); `AUTHZ_BENCH_NO_PROCESSES=1` skips the whole-process
//! timings (for profiling); `AUTHZ_BENCH_LOAD_ONLY=1` times loading only;
//! `AUTHZ_BENCH_KEEP=DIR` keeps the generated files.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rolesync::authz::Authz;

/// SplitMix64: small and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64) < p * ((1u64 << 53) as f64)
    }
}

const WORDS: &[&str] = &[
    "trunk", "branches", "tags", "src", "doc", "lib", "test", "release", "vendor", "private",
    "public", "tools", "web", "api", "core",
];

struct Generated {
    text: String,
    users: Vec<String>,
    repos: Vec<String>,
    paths: Vec<String>,
}

/// An access file like `gen_authz.py --users U --groups G --sections S
/// --rules 3` (same shape, not the same bytes).
fn generate(users: usize, groups: usize, sections: usize, seed: u64) -> Generated {
    let mut rng = Rng(seed);
    let user_names: Vec<String> = (0..users).map(|i| format!("u{i:06}")).collect();
    let group_names: Vec<String> = (0..groups).map(|i| format!("g{i:05}")).collect();
    let repos: Vec<String> = (0..50).map(|i| format!("repo{i:03}")).collect();
    let mut members: Vec<Vec<String>> = vec![Vec::new(); groups];
    for u in &user_names {
        let k = 1 + rng.below(3);
        for _ in 0..k {
            members[rng.below(groups)].push(u.clone());
        }
    }
    for (gi, m) in members.iter_mut().enumerate().take(groups - 1) {
        if rng.chance(0.05) {
            let target = gi + 1 + rng.below(groups - gi - 1);
            m.push(format!("@{}", group_names[target]));
        }
    }
    for m in &mut members {
        if m.is_empty() {
            m.push(user_names[rng.below(users)].clone());
        }
    }
    let aliases: Vec<String> = (0..20).map(|i| format!("al{i:03}")).collect();
    let mut text = String::from("[aliases]\n");
    for a in &aliases {
        text.push_str(&format!("{a} = {}\n", user_names[rng.below(users)]));
    }
    text.push_str("\n[groups]\n");
    for (g, m) in group_names.iter().zip(&members) {
        text.push_str(&format!("{g} = {}\n", m.join(", ")));
    }
    text.push_str(&format!("\n[/]\n* = r\n@{} = rw\n\n", group_names[0]));
    let mut seen = std::collections::HashSet::new();
    let mut paths = Vec::new();
    let mut n = 0;
    while n < sections {
        let depth = 1 + rng.below(5);
        let segs: Vec<String> = (0..depth)
            .map(|_| {
                let w = WORDS[rng.below(WORDS.len())];
                if rng.chance(0.3) {
                    w.to_owned()
                } else {
                    format!("{w}{}", rng.below(1000))
                }
            })
            .collect();
        let path = format!("/{}", segs.join("/"));
        let repo = if rng.chance(0.5) {
            format!("{}:", repos[rng.below(repos.len())])
        } else {
            String::new()
        };
        if !seen.insert(format!("{repo}{path}")) {
            continue;
        }
        text.push_str(&format!("[{repo}{path}]\n"));
        let mut used = std::collections::HashSet::new();
        for _ in 0..3 {
            let r = rng.below(100);
            let who = if r < 60 {
                format!("@{}", group_names[rng.below(groups)])
            } else if r < 85 {
                user_names[rng.below(users)].clone()
            } else if r < 90 {
                format!("&{}", aliases[rng.below(aliases.len())])
            } else if r < 95 {
                format!("~@{}", group_names[rng.below(groups)])
            } else if r < 98 {
                "*".to_owned()
            } else {
                "$authenticated".to_owned()
            };
            if !used.insert(who.clone()) {
                continue;
            }
            let mode = ["r", "rw", ""][rng.below(3)];
            text.push_str(&format!("{who} = {mode}\n"));
        }
        text.push('\n');
        paths.push(path);
        n += 1;
    }
    Generated {
        text,
        users: user_names,
        repos,
        paths,
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Whole-process wall time of a command (median of `runs`), and its stdout.
fn time_process(cmd: &Path, args: &[&str], runs: usize) -> (Duration, String) {
    let mut times = Vec::new();
    let mut out = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let o = Command::new(cmd)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", cmd.display()));
        times.push(t.elapsed());
        assert!(
            o.status.success(),
            "{} {args:?} failed: {}",
            cmd.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        out = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    }
    (median(times), out)
}

fn rolesync_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/release/examples/authz_bench -> target/release/rolesync
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("rolesync"))
        .expect("example lives in target/<profile>/examples");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first",
        bin.display()
    );
    bin
}

fn bench(users: usize, groups: usize, sections: usize, svn_runs: usize) {
    let generated = generate(users, groups, sections, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("big.authz");
    std::fs::write(&file, &generated.text).expect("write");
    if let Ok(keep) = std::env::var("AUTHZ_BENCH_KEEP") {
        std::fs::write(format!("{keep}/authz-{sections}.authz"), &generated.text).expect("keep");
    }
    println!(
        "\n== {users} users, {groups} groups, {sections} sections ({} KB, {} lines)",
        generated.text.len() / 1024,
        generated.text.lines().count()
    );

    // Load.
    let mut loads = Vec::new();
    let mut authz = None;
    let runs = if std::env::var_os("AUTHZ_BENCH_LOAD_ONLY").is_some() {
        20
    } else {
        5
    };
    for _ in 0..runs {
        let t = Instant::now();
        let a = Authz::load(&generated.text, None).unwrap_or_else(|e| panic!("{:?}", e.first()));
        loads.push(t.elapsed());
        authz = Some(a);
    }
    let authz = authz.expect("loaded");
    let load = median(loads);
    println!("rolesync load (parse + check + index):      {}", ms(load));
    if std::env::var_os("AUTHZ_BENCH_LOAD_ONLY").is_some() {
        return;
    }

    // Queries: random paths below section paths, for users and repositories.
    let mut rng = Rng(7);
    let path = |rng: &mut Rng| -> String {
        let base = &generated.paths[rng.below(generated.paths.len())];
        match rng.below(3) {
            0 => base.clone(),
            1 => format!("{base}/x{}", rng.below(10)),
            _ => base.rsplit_once('/').map_or("/".to_owned(), |(p, _)| {
                if p.is_empty() {
                    "/".to_owned()
                } else {
                    p.to_owned()
                }
            }),
        }
    };
    // First queries of (user, repository) pairs never asked before.
    let cold_n = 2000;
    let pairs: Vec<(String, String)> = (0..cold_n)
        .map(|i| {
            (
                generated.users[(i * 4973) % users].clone(),
                generated.repos[i % 50].clone(),
            )
        })
        .collect();
    let cold_paths: Vec<String> = (0..cold_n).map(|_| path(&mut rng)).collect();
    let t = Instant::now();
    for ((u, r), p) in pairs.iter().zip(&cold_paths) {
        black_box(authz.access(Some(u), Some(r), Some(p)));
    }
    let cold = t.elapsed() / cold_n as u32;
    // Repeated queries: 200 (user, repository) pairs, random paths.
    let warm_pairs = &pairs[..200];
    let warm_n = 1_000_000;
    let queries: Vec<(usize, String)> = (0..warm_n)
        .map(|_| (rng.below(warm_pairs.len()), path(&mut rng)))
        .collect();
    let t = Instant::now();
    for (k, p) in &queries {
        let (u, r) = &warm_pairs[*k];
        black_box(authz.access(Some(u), Some(r), Some(p)));
    }
    let warm = t.elapsed() / warm_n as u32;
    println!(
        "rolesync query, cached (user, repo) view:   {:.3} µs  (average of {warm_n} random queries over 200 users)",
        warm.as_secs_f64() * 1e6
    );
    println!(
        "rolesync query, first for a (user, repo):   {:.1} µs  (average of {cold_n})",
        cold.as_secs_f64() * 1e6
    );

    if std::env::var_os("AUTHZ_BENCH_NO_PROCESSES").is_some() {
        return;
    }
    // Whole processes on the same file and query.
    let (u, r) = (&generated.users[1234], &generated.repos[7]);
    let p = generated.paths[0].clone();
    let file_s = file.to_str().expect("utf-8 temp path");
    let ours = rolesync_binary();
    let (ours_t, ours_out) = time_process(
        &ours,
        &[
            "access",
            "--user",
            u,
            "--repository",
            r,
            "--path",
            &p,
            file_s,
        ],
        9,
    );
    println!(
        "rolesync access, whole process:             {}  (median of 9; answer {ours_out})",
        ms(ours_t)
    );
    if svn_runs == 0 {
        println!("svnauthz accessof: skipped (see SVN-AUTHZ.md: about 9 minutes at this size)");
        return;
    }
    let (svn_t, svn_out) = time_process(
        Path::new("svnauthz"),
        &[
            "accessof",
            "--username",
            u,
            "--repository",
            r,
            "--path",
            &p,
            file_s,
        ],
        svn_runs,
    );
    assert_eq!(ours_out, svn_out, "rolesync and svnauthz disagree");
    println!(
        "svnauthz accessof, whole process:           {}  (median of {svn_runs}; answer {svn_out})",
        ms(svn_t)
    );
    println!(
        "ratio svnauthz / rolesync (whole process):  {:.0}x;  svnauthz / rolesync load: {:.0}x",
        svn_t.as_secs_f64() / ours_t.as_secs_f64(),
        svn_t.as_secs_f64() / load.as_secs_f64()
    );
}

fn main() {
    println!(
        "authz benchmark (release build: {})",
        !cfg!(debug_assertions)
    );
    let only = std::env::var("AUTHZ_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "small" {
        bench(10_000, 2_000, 2_000, 5);
    }
    if only.is_empty() || only == "big" {
        bench(10_000, 2_000, 20_000, 3);
    }
    if only == "huge" {
        bench(100_000, 2_000, 20_000, 0);
    }
}
