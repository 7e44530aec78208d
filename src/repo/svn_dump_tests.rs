//! The one-process read of an SVN revision (`svnadmin dump`) equals the
//! read file by file (`svnlook cat` each) at every revision of random
//! commit sequences in real repositories: odd names, symbolic links,
//! binary and oversized files, properties, paths deleted and added again,
//! text that looks like the dump's own headers; at the root and in a
//! sub-folder, under roomy and tight limits. Wherever the per-file read
//! gives a complete read, the dump must have answered itself.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::repo::test_util::{Rng, assert_same_read};
use crate::repo::{At, svn};

/// Where configuration (and some that is not) goes, below a root of `""`
/// or `cfg/`.
const FILES: &[&str] = &[
    ".polarion/access",
    ".polarion/security/user-roles.xml",
    ".polarion/security/roles.xml",
    ".polarion/user-management/users/bob/user.xml",
    ".polarion/user-management/users/-x é/user.xml",
    "Dept A/lib é/.polarion/polarion-project.xml",
    "Dept A/lib é/.polarion/security/user-roles.xml",
    ".polarion/tests/a b.toml",
    "notes/PROPS-END",
    "README.md",
];

/// Folders the commits delete or link.
const DIRS: &[&str] = &[
    ".polarion/security",
    ".polarion/user-management/users/bob",
    "Dept A",
    "Dept A/lib é/.polarion",
    "notes",
];

fn tool(cmd: &mut Command) -> String {
    let out = cmd.env("LC_ALL", "C.UTF-8").output().expect("svn runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn svn_in(wc: &Path, args: &[&str]) -> String {
    tool(
        Command::new("svn")
            .args(args)
            .arg("--config-dir")
            .arg(wc.with_extension("client"))
            .current_dir(wc),
    )
}

/// Bytes of a random file: text that mimics the dump's records, CR LF,
/// NUL bytes, a link's text, sometimes over the small file limit.
fn content(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = match rng.below(5) {
        0 => b"Node-path: x\nContent-length: 3\n\nPROPS-END\n\n".to_vec(),
        1 => b"a\r\nb $Id$\r\n\0\x01\xff".to_vec(),
        2 => b"link /etc/passwd".to_vec(),
        3 => Vec::new(),
        _ => b"<roles/>\n".to_vec(),
    };
    let size = [0, 10, 1_999, 2_000, 2_001, 5_000][rng.below(6)];
    bytes.extend((0..size).map(|i| b"xyz\n"[i % 4]));
    bytes
}

/// One random change to the working copy `wc` (below `root`).
fn change(rng: &mut Rng, wc: &Path, root: &str) {
    let path = |rng: &mut Rng, xs: &[&str]| format!("{root}{}", xs[rng.below(xs.len())]);
    match rng.below(8) {
        0 | 1 => {
            let p = wc.join(path(rng, FILES));
            if std::fs::symlink_metadata(&p).is_ok_and(|m| !m.is_file()) || !parent(&p) {
                return;
            }
            std::fs::write(&p, content(rng)).expect("write");
        }
        2 | 5 => {
            let xs = if rng.below(2) == 0 { FILES } else { DIRS };
            let p = path(rng, xs);
            if std::fs::symlink_metadata(wc.join(&p)).is_ok() {
                svn_in(wc, &["rm", "-q", "--force", &p]);
            }
        }
        3 => {
            // A link where configuration (or anything) may go.
            let xs = if rng.below(2) == 0 { FILES } else { DIRS };
            let p = wc.join(path(rng, xs));
            if std::fs::symlink_metadata(&p).is_err() && parent(&p) {
                std::os::unix::fs::symlink("elsewhere", &p).expect("link");
            }
        }
        4 => {
            let p = path(rng, FILES);
            if wc.join(&p).is_file() {
                let value = ["K 3\nabc\nPROPS-END\n", "Id", "é"][rng.below(3)];
                let name = ["rolesync:note", "svn:keywords"][rng.below(2)];
                svn_in(wc, &["add", "-q", "--force", "--parents", &p]);
                svn_in(wc, &["propset", "-q", name, value, &p]);
            }
        }
        6 => {
            // A link goes again (links where configuration belongs refuse
            // every later revision until they do).
            let links: Vec<String> = [FILES, DIRS]
                .concat()
                .iter()
                .flat_map(|p| [p.to_string(), format!("cfg/{p}")])
                .filter(|p| wc.join(p).is_symlink())
                .collect();
            if !links.is_empty() {
                let p = &links[rng.below(links.len())];
                svn_in(wc, &["rm", "-q", "--force", p]);
            }
        }
        _ => {
            // Deleted and added again in the same commit (a replacement).
            let p = path(rng, FILES);
            if wc.join(&p).is_file() && !wc.join(&p).is_symlink() {
                svn_in(wc, &["rm", "-q", "--force", &p]);
                std::fs::write(wc.join(&p), content(rng)).expect("write");
            }
        }
    }
}

/// Make the folders above `p`; `false` where a file or link is in the way.
fn parent(p: &Path) -> bool {
    let up = p.parent().expect("a parent");
    up.ancestors()
        .all(|a| std::fs::symlink_metadata(a).map_or(true, |m| m.is_dir()))
        && std::fs::create_dir_all(up).is_ok()
}

fn commit(wc: &Path) {
    svn_in(wc, &["add", "-q", "--force", "."]);
    svn_in(wc, &["commit", "-q", "-m", "random"]);
}

#[test]
fn the_dump_read_equals_the_read_file_by_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    let wc = dir.path().join("wc");
    tool(Command::new("svnadmin").arg("create").arg(&repo));
    let url = format!("file://{}", repo.display());
    tool(
        Command::new("svn")
            .args(["checkout", "-q", &url])
            .arg(&wc)
            .arg("--config-dir")
            .arg(wc.with_extension("client")),
    );
    let roomy = Limits {
        max_file_bytes: 2_000,
        ..Limits::default()
    };
    let tight = Limits {
        max_total_bytes: 6_000,
        ..roomy
    };
    let cfg = SubPath::parse("cfg").expect("a sub-path");
    let mut rng = Rng(0x5eed_d0e5);
    let mut answered = 0;
    let mut last = String::new();
    for _ in 0..30 {
        for _ in 0..1 + rng.below(3) {
            let root = if rng.below(3) == 0 { "" } else { "cfg/" };
            change(&mut rng, &wc, root);
        }
        commit(&wc);
        svn_in(&wc, &["update", "-q"]);
        let rev = svn::youngest(&repo).expect("youngest");
        if rev == last {
            continue;
        }
        last.clone_from(&rev);
        for (subpath, limits) in [(None, roomy), (Some(&cfg), roomy), (Some(&cfg), tight)] {
            let at = At::Revision(Some(&rev));
            let listed = svn::read_listed(&repo, at, subpath, limits);
            let read = svn::read(&repo, at, subpath, limits);
            let what = format!("r{rev} under {subpath:?}, total {}", limits.max_total_bytes);
            assert_same_read(&read, &listed, &what);
            if listed.as_ref().is_ok_and(|i| i.incomplete.is_none()) {
                let root = SubPath::default();
                let dumped = super::read(&repo, &rev, subpath.unwrap_or(&root), limits);
                assert!(dumped.is_some(), "{what}: the dump answers itself");
                answered += 1;
            }
        }
    }
    assert!(answered > 20, "the dump answered {answered} times");
}
