//! What the benchmark examples share besides the synthetic configuration.
#![allow(dead_code)] // each example uses part of it

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `rolesync` binary the benchmark runs: `ROLESYNC_BIN` (e.g. an older
/// build, to compare), else the one of the same profile beside this
/// example (`target/<profile>/rolesync`).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ROLESYNC_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples/")
        .join("rolesync");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first",
        bin.display()
    );
    bin
}

/// `git -C dir` with the benchmarks' author and default branch.
pub fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir).args([
        "-c",
        "user.name=Bench",
        "-c",
        "user.email=bench@acme.example",
        "-c",
        "init.defaultBranch=main",
    ]);
    c
}

/// Copy the folder `from` to `to`, recursively (sample-repo into a work tree).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("ls") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}
