//! Benchmark: the cold build of the access file on the synthetic 10,000-user
//! configuration (`examples/common/synthetic.rs`), against Subversion
//! reading the same file.
//!
//! Run: `cargo build --release && cargo run --release --example render_bench [RUNS]`
//!
//! The access file is replaced by one with a rule section per project
//! (`access_file`), so that Subversion pays what it pays for a real file.
//!
//! Prints, each a median of RUNS (default 5) runs, with the machine load
//! (`/proc/loadavg`) beside the figures:
//! - `snapshot::build` in process, and its phases timed one by one through
//!   the same public steps (XML read, lower, policy index, role groups,
//!   render with its validation, and the validation of the rendered file
//!   alone);
//! - reading the folder (`repo::Source::read`, what `render` does first);
//! - `rolesync render --repo DIR` end to end (the release binary next to
//!   this example, `ROLESYNC_BIN=path` for another), on the configuration
//!   written to a temporary folder (`RENDER_BENCH_DIR=dir`: in `dir`, kept);
//!   `ROLESYNC_BASE_BIN=path` also times an earlier build, run in turn;
//! - the in-process phases run on the binary's allocator (mimalloc);
//! - a plain reader of the folder (every folder listed and every file read
//!   with std, nothing else), and the ceiling the faster of the two reads
//!   puts on the ratio below (`svnauthz validate` over it: the ratio of a
//!   render whose build cost nothing);
//! - the same files committed to a packed Git repository: its read, and
//!   `rolesync render --repo` of it end to end (and its ratio);
//! - `svnauthz validate` of the rendered file (the real binary), the
//!   in-run reference, and the ratio `svnauthz validate / rolesync render`
//!   (target: at least 10).

#[path = "common/bench.rs"]
mod bench;
#[path = "common/synthetic.rs"]
mod synthetic;
use bench::binary;

/// The allocator of the `rolesync` binary, so that the phases timed in
/// process cost what they cost in `serve` and `render`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rolesync::snapshot::{self, Input, Limits};
use rolesync::{authz, model, policy};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:8.1} ms", d.as_secs_f64() * 1e3)
}

/// The median time of `f` over `runs` runs.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

/// The phases of `snapshot::build`, each timed on its own (medians).
fn phases(files: &BTreeMap<String, Vec<u8>>, runs: usize) {
    let limits = Limits::default();
    let texts: BTreeMap<&str, &str> = files
        .iter()
        .map(|(p, b)| (p.as_str(), std::str::from_utf8(b).expect("utf-8")))
        .collect();
    let sources = snapshot::Sources::new(texts.iter().map(|(p, t)| (*p, *t)));
    let read = time(runs, || snapshot::read_all(&sources, &limits));
    let (config, _) = snapshot::read_all(&sources, &limits);
    let lower = time(runs, || model::lower(&config));
    let (model, _) = model::lower(&config);
    let index = time(runs, || policy::Index::build(&model));
    let groups_took = time(runs, || model.role_groups());
    let role_groups = model.role_groups();
    let groups = snapshot::render_groups(&role_groups);
    let access = texts.get(snapshot::ACCESS_FILE).copied().unwrap_or("");
    let render = time(runs, || {
        authz::render::render(snapshot::ACCESS_FILE, access, &groups)
    });
    let rendered = authz::render::render(snapshot::ACCESS_FILE, access, &groups);
    let validate = time(runs, || {
        authz::validate(snapshot::ACCESS_FILE, &rendered.text)
    });
    println!("  XML read (read_all)            {}", ms(read));
    println!("  lower (model::lower)           {}", ms(lower));
    println!("  policy index                   {}", ms(index));
    println!("  role groups                    {}", ms(groups_took));
    println!("  render, with its validation    {}", ms(render));
    println!(
        "    of which: authz::validate    {}  (the rendered file alone, from scratch)",
        ms(validate)
    );
    println!(
        "  role groups {}, assignments {}, access file {} KiB",
        role_groups.len(),
        model.assignments.len(),
        rendered.text.len() / 1024
    );
}

/// The synthetic access file has only `[/]`; a real one has rules per
/// project, and Subversion's cost grows with users × rule sections
/// (SVN-AUTHZ.md §9.3): one section per project, naming its role groups.
fn access_file() -> String {
    let mut text = String::from("[/]\n@admin = rw\n* = r\n");
    for p in 0..synthetic::PROJECTS {
        let id = synthetic::project(p);
        text.push_str(&format!(
            "\n[/{id}]\n@{id}-project_admin = rw\n@{id}-project_user = rw\n@{id}-project_tester = r\n* =\n"
        ));
    }
    text
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let mut files = synthetic::config();
    files.insert(snapshot::ACCESS_FILE.into(), access_file().into_bytes());
    let bytes: usize = files.values().map(Vec::len).sum();
    println!(
        "configuration: {} users, {} projects, {} groups, {} files ({} KiB); {runs} runs each; {}",
        synthetic::USERS,
        synthetic::PROJECTS,
        synthetic::GROUPS,
        files.len(),
        bytes / 1024,
        synthetic::load()
    );
    let input = Input {
        revision: "synthetic".into(),
        files: files
            .iter()
            .map(|(p, b)| (p.clone(), b.as_slice().into()))
            .collect(),
        ..Input::default()
    };
    let build = time(runs, || snapshot::build(&input));
    let report = snapshot::build(&input);
    let snapshot = report
        .snapshot
        .expect("the synthetic configuration is valid");
    println!(
        "snapshot::build, in process      {}  ({})",
        ms(build),
        synthetic::load()
    );
    phases(&files, runs);

    let tmp = tempfile::tempdir().expect("temp dir");
    // RENDER_BENCH_DIR=dir: write the configuration there (and keep it,
    // e.g. to profile `rolesync render --repo dir/config` on its own).
    let root =
        std::env::var_os("RENDER_BENCH_DIR").map_or_else(|| tmp.path().to_owned(), PathBuf::from);
    let repo = root.join("config");
    for (path, bytes) in &files {
        let at = repo.join(path);
        std::fs::create_dir_all(at.parent().expect("parent")).expect("create folder");
        std::fs::write(&at, bytes).expect("write");
    }
    let out = root.join("access");
    let bin = binary();
    // What `render --repo` does before `snapshot::build`: read the folder.
    let source = rolesync::repo::Source::open(&repo, &rolesync::repo::Options::default())
        .expect("open the folder");
    let read = time(runs, || source.read(None, Limits::default()).expect("read"));
    println!(
        "folder read (repo::Source::read) {}  ({})",
        ms(read),
        synthetic::load()
    );
    // A plain reader of this folder on this machine: every folder listed
    // and every file read with nothing else done (std only, the listing on
    // this thread, the reads on two), beside `Source::read`, which lists
    // fewer folders (account folders are probed, not listed).
    let floor = time(runs, || plain_read(&repo));
    println!(
        "plain reader (std, no build)     {}  ({})",
        ms(floor),
        synthetic::load()
    );
    // The same files committed to a Git repository (packed, as a
    // repository a while in use is): its read holds no system call per file.
    let git_repo = root.join("git");
    bench::copy_tree(&repo, &git_repo);
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "configuration"],
        &["gc", "-q"],
    ] {
        // No `gc --auto` in the background of the commit: the `gc` below
        // packs in the foreground.
        let status = bench::git(&git_repo)
            .args(["-c", "gc.auto=0"])
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?} failed");
    }
    let git_source = rolesync::repo::Source::open(&git_repo, &rolesync::repo::Options::default())
        .expect("open the Git repository");
    let git_read = time(runs, || {
        git_source.read(None, Limits::default()).expect("read")
    });
    println!(
        "Git read (repo::Source::read)    {}  ({})",
        ms(git_read),
        synthetic::load()
    );
    let render_from = |bin: &Path, from: &Path| {
        let start = Instant::now();
        let status = Command::new(bin)
            .args(["render", "--repo"])
            .arg(from)
            .arg("-o")
            .arg(&out)
            .stderr(Stdio::null())
            .status()
            .expect("rolesync runs");
        assert!(status.success(), "rolesync render failed");
        start.elapsed()
    };
    let once = |bin: &Path| render_from(bin, &repo);
    // ROLESYNC_BASE_BIN=path: an earlier build, run in turn with this one
    // (so that a change of the machine's load hits both alike).
    let base = std::env::var_os("ROLESYNC_BASE_BIN").map(PathBuf::from);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        if let Some(base) = &base {
            theirs.push(once(base));
        }
        ours.push(once(&bin));
    }
    if !theirs.is_empty() {
        let took = median(theirs);
        println!(
            "rolesync render, base build      {}  ({})",
            ms(took),
            synthetic::load()
        );
    }
    let render = median(ours);
    let report = |what: &str, took: Duration| {
        let written = std::fs::read_to_string(&out).expect("rendered file");
        assert!(
            written == snapshot.access,
            "rolesync render ({what}) and snapshot::build differ"
        );
        println!("{what:<32} {}  ({})", ms(took), synthetic::load());
    };
    report("rolesync render, end to end", render);
    let git_render = median((0..runs).map(|_| render_from(&bin, &git_repo)).collect());
    report("rolesync render from Git", git_render);
    let svnauthz = time(runs, || {
        let o = Command::new("svnauthz")
            .arg("validate")
            .arg(&out)
            .output()
            .expect("svnauthz runs (Debian's `subversion`)");
        assert!(o.status.success(), "svnauthz refuses the rendered file");
    });
    println!(
        "svnauthz validate (reference)    {}  ({})",
        ms(svnauthz),
        synthetic::load()
    );
    println!(
        "ratio svnauthz validate / rolesync render: {:.1}x  (target >= 10x); / snapshot::build: {:.1}x",
        svnauthz.as_secs_f64() / render.as_secs_f64(),
        svnauthz.as_secs_f64() / build.as_secs_f64()
    );
    println!(
        "ratio svnauthz validate / rolesync render from Git: {:.1}x",
        svnauthz.as_secs_f64() / git_render.as_secs_f64()
    );
    // Reading the files is the floor of a cold render from a folder: the
    // ratio cannot pass svnauthz over the faster of the two reads even
    // with a build that costs nothing.
    println!(
        "ceiling from a folder on this machine (no build at all): svnauthz validate / fastest read = {:.1}x; from Git: {:.1}x",
        svnauthz.as_secs_f64() / floor.min(read).as_secs_f64(),
        svnauthz.as_secs_f64() / git_read.as_secs_f64()
    );
}

/// Every folder under `root` listed, then every file in them read, on two
/// threads: the bytes' total (so that nothing is optimised away).
fn plain_read(root: &Path) -> usize {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let entry = entry.expect("entry");
            let kind = entry.file_type().expect("type");
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    let half = files.len() / 2;
    let (a, b) = files.split_at(half);
    let read = |part: &[PathBuf]| {
        part.iter()
            .map(|f| std::fs::read(f).expect("read").len())
            .sum::<usize>()
    };
    std::thread::scope(|s| {
        let other = s.spawn(|| read(b));
        black_box(read(a)) + other.join().expect("reader")
    })
}
