//! Build script: the commit the binary is built from, for
//! `rolesync_build_info{commit}` (`ROLESYNC_COMMIT`). `git rev-parse HEAD`
//! when git and a repository are at hand, else `unknown`: a build never
//! fails for want of git (a source tarball, `cargo install` from a crate).

use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "HEAD"])
        .filter(|s| s.len() >= 7 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=ROLESYNC_COMMIT={commit}");
    println!("cargo:rerun-if-changed=build.rs");
    // Run again when HEAD moves: the reflog of HEAD changes with every
    // commit and checkout (a worktree has its own).
    for name in ["HEAD", "logs/HEAD"] {
        if let Some(path) = git(&["rev-parse", "--git-path", name])
            && std::path::Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// What `git ARGS` prints, trimmed; none without git or a repository.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}
