//! Helpers shared by the integration tests: run the real binary, find test
//! data, call Subversion's tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root (where `sample-repo/` and `tests/data/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    root().join("tests/data").join(rel)
}

/// The `rolesync` binary under test.
pub fn rolesync() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rolesync"));
    cmd.env_remove("ROLESYNC_LOG");
    cmd
}

/// Run the binary with `args`.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    rolesync()
        .args(args)
        .output()
        .expect("the rolesync binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// Subversion's `svnauthz validate` on a file: `Ok` when valid, else its stderr.
pub fn svnauthz_validate(file: &Path) -> Result<(), String> {
    let out = Command::new("svnauthz")
        .arg("validate")
        .arg(file)
        .output()
        .expect("svnauthz runs (install Debian's `subversion`; scripts/test.sh does)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Copy a folder tree (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// The text of an access file without its `[groups]` section (the header
/// line up to the next section header), to compare what rolesync must keep.
pub fn without_groups(text: &str) -> String {
    let mut out = String::new();
    let mut in_groups = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with('[') {
            in_groups = line.starts_with("[groups]");
        }
        if !in_groups {
            out.push_str(line);
        }
    }
    out
}

/// Run `git` in `dir` with a fixed identity and `main` as the first branch.
pub fn git_output(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Admin",
            "-c",
            "user.email=admin@acme.example",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .expect("git runs")
}

/// `git_output` that must succeed; its stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A non-bare repository holding `sample-repo/` in one commit; returns its id.
pub fn sample_repository(dir: &Path) -> String {
    copy_tree(&root().join("sample-repo"), dir);
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "initial configuration"]);
    git(dir, &["rev-parse", "HEAD"])
}

/// SplitMix64: small, deterministic, good enough for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64) < p * ((1u64 << 53) as f64)
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i + 1));
        }
    }
}

/// A loopback port nobody listens on right now (`slapd.rs` holds it, as
/// `examples/ldap_bench.rs` includes that file alone).
pub use crate::slapd::free_port;

/// Replace the first `from` in `file` by `to` (which must be there).
pub fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "{from} in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).expect("write");
}

/// `svnauthz accessof` on a file (`-R` when `recursive`): `rw`, `r` or `no`.
pub fn svnauthz_accessof(
    file: &Path,
    login: &str,
    repo: Option<&str>,
    path: &str,
    recursive: bool,
) -> String {
    let mut cmd = Command::new("svnauthz");
    cmd.args(["accessof", "--username", login, "--path", path]);
    if let Some(r) = repo {
        cmd.args(["--repository", r]);
    }
    if recursive {
        cmd.arg("-R");
    }
    let out = cmd
        .arg(file)
        .output()
        .expect("svnauthz runs (Debian's subversion)");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
