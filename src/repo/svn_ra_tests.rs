//! The `svnserve` session: the wire format's bounds on hostile bytes, what
//! the fast path is sure of, and, on real repositories, that the read
//! with the session equals the full read over random commit sequences
//! (and answers a plain edit itself), that hostile or broken servers
//! (fake `svnserve` scripts) and a killed one leave the read correct by
//! the dump, and that the child goes with its session.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::repo::svn;
use crate::repo::svn_since::tests::{FILES, ROOTS, cases, commit, content, tool, tree};
use crate::repo::test_util::{Rng, assert_same_read};
use crate::snapshot::Input;

fn wire(bytes: &[u8]) -> Wire {
    Wire::new(Cursor::new(bytes.to_vec())).expect("a thread")
}

fn item(bytes: &[u8]) -> Result<Item, Fail> {
    wire(bytes).item(&mut Budget::new(Limits::DEFAULT))
}

#[test]
fn items_parse_as_the_protocol_writes_them() {
    use Item::*;
    assert_eq!(
        item(b"( success ( 2 5:a b\nc ( ) word-2 ) ) "),
        Ok(List(vec![
            Word("success".into()),
            List(vec![
                Number(2),
                String(b"a b\nc".to_vec()),
                List(vec![]),
                Word("word-2".into()),
            ]),
        ]))
    );
    assert_eq!(item(b"\n  0: "), Ok(String(Vec::new())));
    assert_eq!(
        success(item(b"( failure ( ( 160013 9:not found 0: 0 ) ) ) ").expect("an item")),
        Err(Fail::Server("not found".into()))
    );
}

#[test]
fn hostile_bytes_end_in_a_bound_or_a_malformed_response() {
    let deep = "( ".repeat(MAX_DEPTH + 1);
    let words = format!("( {}) ", "w ".repeat(MAX_ITEMS + 1));
    let long_word = format!("{} ", "w".repeat(MAX_WORD_BYTES + 1));
    for (bytes, want) in [
        // A declared length far beyond the bound: refused before a byte
        // of it is kept.
        (
            "99999999999999:".to_owned(),
            Fail::Bound("a string longer than the response's bound"),
        ),
        (
            "99999999999999999999999 ".to_owned(),
            Fail::Bound("a number out of range"),
        ),
        (deep, Fail::Bound("lists nested too deep")),
        (words, Fail::Bound("a response of too many items")),
        (long_word, Fail::Bound("a word over its bound")),
        (
            "(x ) ".to_owned(),
            Fail::Malformed("a token not followed by whitespace"),
        ),
        (") ".to_owned(), Fail::Malformed("a ')' outside a list")),
        (
            "\u{1} ".to_owned(),
            Fail::Malformed("a byte that starts no item"),
        ),
        // Cut short: the stream ends (the server closed its output).
        ("( success ( 5:ab".to_owned(), Fail::Closed),
    ] {
        assert_eq!(item(bytes.as_bytes()), Err(want), "{bytes:.40}");
    }
    let mut small = Budget::new(Limits {
        max_total_bytes: 0,
        ..Limits::DEFAULT
    });
    small.bytes = 10;
    assert_eq!(
        wire(b"( 20:aaaaaaaaaaaaaaaaaaaa ) ").item(&mut small),
        Err(Fail::Bound("a string longer than the response's bound"))
    );
}

#[test]
fn a_text_keeps_its_first_bytes_and_reads_the_rest() {
    let mut w = wire(b"3:abc 4:defg 0: ( success ( ) ) ");
    let mut b = Budget::new(Limits::DEFAULT);
    assert_eq!(w.text(&mut b, 5), Ok(b"abcde".to_vec()));
    assert!(success(w.item(&mut b).expect("the end")).is_ok());
}

fn changed(path: &str, action: u8, kind: Kind, props: bool, copied: bool) -> Changed {
    Changed {
        path: path.into(),
        action,
        copied,
        kind: Some(kind),
        prop_mods: Some(props),
    }
}

fn planned(changes: Vec<Changed>, sub: &str) -> Result<Vec<(String, Last)>, &'static str> {
    let entry = Entry {
        revision: 2,
        changed: changes,
        author: None,
        date: None,
        message: None,
    };
    let sub = SubPath::parse(sub).expect("a sub-path");
    plan(&[entry], &sub).map(|m| m.into_iter().collect())
}

#[test]
fn the_fast_path_is_sure_only_of_plain_changes() {
    use Kind::{Dir, File};
    let f = ".polarion/access";
    assert_eq!(
        planned(
            vec![
                changed("c/.polarion/access", b'M', File, false, false),
                changed("c/x", b'A', Dir, false, false),
                changed("c/x/y", b'D', File, false, false),
                changed("c", b'M', Dir, true, false),
                changed("elsewhere/z", b'R', Dir, true, true),
            ],
            "c"
        ),
        Ok(vec![(f.into(), Last::There), ("x/y".into(), Last::Deleted)])
    );
    for (change, sub) in [
        (changed("c", b'R', Dir, false, true), "c"),
        (changed("", b'A', Dir, false, false), ""),
        (changed("c", b'D', Dir, false, false), "c/d"),
        (changed("c/x", b'A', File, false, true), "c"),
        (changed("c/x", b'M', File, true, false), "c"),
        (changed("c/x", b'R', File, false, false), "c"),
        (changed("c/x", b'D', Dir, false, false), "c"),
    ] {
        let what = format!("{change:?}");
        assert!(planned(vec![change], sub).is_err(), "{what}");
    }
    let unknown = Changed {
        kind: None,
        ..changed("c/x", b'M', File, false, false)
    };
    assert!(planned(vec![unknown], "c").is_err());
    let both = vec![
        changed("c/x", b'D', File, false, false),
        changed("c/x", b'A', Dir, false, false),
    ];
    assert!(planned(both, "c").is_err());
}

// On real repositories.

fn svnadmin_create(repo: &Path) {
    let out = tool(Command::new("svnadmin").arg("create").arg(repo));
    assert!(out.status.success(), "{out:?}");
}

/// Commit `actions` (svnmucc's) with log `log`.
fn mucc(repo: &Path, log: &str, actions: &[&str]) {
    let url = format!("file://{}", repo.display());
    let out = tool(
        Command::new("svnmucc")
            .args(["-U", &url, "-m", log])
            .args(actions),
    );
    assert!(out.status.success(), "{out:?}");
}

/// A repository whose folder `cfg` holds a configuration of two files.
fn small_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    svnadmin_create(&repo);
    let put = |name: &str, text: &str| {
        let file = dir.join(name);
        std::fs::write(&file, text).expect("write");
        file.to_string_lossy().into_owned()
    };
    let roles = put("roles", "<roles/>\n");
    let access = put("access", "[/]\n* = r\n");
    mucc(
        &repo,
        "first",
        &[
            "mkdir",
            "cfg",
            "mkdir",
            "cfg/.polarion",
            "mkdir",
            "cfg/.polarion/security",
            "put",
            &roles,
            "cfg/.polarion/security/roles.xml",
            "put",
            &access,
            "cfg/.polarion/access",
        ],
    );
    repo
}

/// A plain edit of `cfg/.polarion/access` (its `n`th).
fn edit(dir: &Path, repo: &Path, n: usize) {
    let file = dir.join(format!("edit{n}"));
    std::fs::write(&file, format!("[/]\n* = r\n# edit {n}\n")).expect("write");
    let file = file.to_string_lossy().into_owned();
    mucc(
        repo,
        &format!("edit {n}"),
        &["put", &file, "cfg/.polarion/access"],
    );
}

/// The read of the youngest revision from `prev` with the session, checked
/// against the full read.
fn read_checked(repo: &Path, prev: &Input, sub: &SubPath, ra: &Shared, what: &str) -> Input {
    let limits = Limits::DEFAULT;
    let young = svn::youngest(repo).expect("youngest");
    let full = svn::read(repo, At::Revision(Some(&young)), Some(sub), limits);
    let fast = svn::read_since(repo, prev.clone(), Some(sub), limits, Some(ra));
    assert_same_read(&fast, &full, what);
    fast.expect("a read")
}

use crate::repo::At;

#[test]
fn a_plain_edit_is_answered_by_the_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = small_repo(dir.path());
    let sub = SubPath::parse("cfg").expect("a sub-path");
    let ra = Shared::default();
    let mut prev = svn::read(&repo, At::Revision(None), Some(&sub), Limits::DEFAULT).expect("r1");
    for n in 0..3 {
        edit(dir.path(), &repo, n);
        prev = read_checked(&repo, &prev, &sub, &ra, "a plain edit");
        assert_eq!(ra.answered(), n as u64 + 1, "edit {n}");
        assert!(prev.files[".polarion/access"].ends_with(format!("edit {n}\n").as_bytes()));
        assert_eq!(
            prev.meta.as_ref().map(|m| m.message.as_str()),
            Some(&*format!("edit {n}"))
        );
    }
    // A copy: the session is not sure, the dump answers.
    mucc(
        &repo,
        "copy",
        &["cp", "2", "cfg/.polarion/access", "cfg/.polarion/x"],
    );
    read_checked(&repo, &prev, &sub, &ra, "a copy");
    assert_eq!(ra.answered(), 3);
    assert!(ra.is_open(), "a change it is not sure of keeps the session");
}

#[test]
fn the_read_with_the_session_equals_the_full_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    svnadmin_create(&repo);
    let cases = cases();
    let sessions: Vec<Shared> = cases.iter().map(|_| Shared::default()).collect();
    // Per case, the last good read (the daemon reads on from it).
    let mut last: Vec<Option<Input>> = vec![None; cases.len()];
    let mut rng = Rng(0x5e55_10a5);
    let mut young = 0;
    while young < 40 {
        let made = match rng.below(3) {
            0 => commit(&mut rng, &repo, dir.path(), young),
            _ => plain_commit(&mut rng, &repo, dir.path()),
        };
        if !made {
            continue;
        }
        young += 1;
        // Read after one to three commits.
        if rng.below(3) == 0 && young < 40 {
            continue;
        }
        for (i, (sub, limits)) in cases.iter().enumerate() {
            let at = At::Revision(None);
            let full = svn::read(&repo, at, Some(sub), *limits);
            let read = match last[i].take() {
                Some(prev) => {
                    let what = format!(
                        "under {:?} from r{} to r{young}",
                        sub.as_str(),
                        prev.revision
                    );
                    let read = svn::read_since(&repo, prev, Some(sub), *limits, Some(&sessions[i]));
                    assert_same_read(&read, &full, &what);
                    read
                }
                None => full,
            };
            last[i] = read.ok();
        }
    }
    let answered: u64 = sessions.iter().map(Shared::answered).sum();
    assert!(answered > 0, "the session never answered");
    assert!(sessions.iter().all(Shared::is_open), "a session failed");
}

/// Commit one to three plain changes (what the fast path answers): files
/// put (added or changed, no property) and files deleted, below the
/// configuration's folder or outside it; `false` when nothing was
/// committed.
fn plain_commit(rng: &mut Rng, repo: &Path, scratch: &Path) -> bool {
    let tree = tree(repo);
    let mut args: Vec<String> = Vec::new();
    let mut touched = std::collections::BTreeSet::new();
    let mut dirs = std::collections::BTreeSet::new();
    for _ in 0..1 + rng.below(3) {
        let p = format!(
            "{}{}",
            ROOTS[rng.below(ROOTS.len())],
            FILES[rng.below(FILES.len())]
        );
        let mut made = String::new();
        let mut blocked = false;
        for part in p
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |(_, d)| d)
        {
            made.push_str(part);
            blocked |= tree.contains(&made);
            if !tree.contains(&format!("{made}/")) && dirs.insert(made.clone()) {
                args.extend(["mkdir".to_owned(), made.clone()]);
            }
            made.push('/');
        }
        if blocked || !touched.insert(p.clone()) || tree.contains(&format!("{p}/")) {
            continue;
        }
        if tree.contains(&p) && rng.below(3) == 0 {
            args.extend(["rm".to_owned(), p]);
        } else {
            let file = scratch.join(format!("plain{}", args.len()));
            std::fs::write(&file, content(rng)).expect("write");
            args.extend(["put".to_owned(), file.to_string_lossy().into_owned(), p]);
        }
    }
    if args.is_empty() {
        return false;
    }
    let url = format!("file://{}", repo.display());
    let out = tool(
        Command::new("svnmucc")
            .args(["-U", &url, "-m", "plain"])
            .args(&args),
    );
    out.status.success()
}

/// A fake `svnserve`: a shell script that counts its starts in `starts`
/// and then runs `body`.
fn fake(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    let starts = dir.join(format!("{name}.starts"));
    let script = format!("#!/bin/sh\necho x >> '{}'\n{body}\n", starts.display());
    std::fs::write(&path, script).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn starts(dir: &Path, name: &str) -> usize {
    std::fs::read_to_string(dir.join(format!("{name}.starts")))
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn a_hostile_or_broken_server_leaves_the_read_to_the_dump() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = small_repo(dir.path());
    let uuid = svn::uuid(&repo).expect("uuid");
    let sub = SubPath::parse("cfg").expect("a sub-path");
    let greeting = "( success ( 2 2 ( ) ( edit-pipeline ) ) ) ";
    let shaken = format!(
        "{greeting}( success ( ( EXTERNAL ) 0: ) ) ( success ( ) ) \
         ( success ( 36:{uuid} 19:svn+ssh://rolesync/ ( ) ) ) ( success ( ( ) 0: ) ) "
    );
    let servers = [
        (
            "garbage",
            "printf 'HTTP/1.1 400 Bad Request\\r\\n\\r\\n'".to_owned(),
        ),
        (
            "huge",
            "printf '( success ( 2 2 ( ) ( 99999999999999:'; exec sleep 60".to_owned(),
        ),
        ("deep", "yes '(' | head -c 200000".to_owned()),
        ("hangs", "exec sleep 60".to_owned()),
        (
            "silent-after-greeting",
            format!("printf '{greeting}'; exec sleep 60"),
        ),
        (
            "old",
            "printf '( success ( 1 1 ( ) ( ) ) ) '; exec cat".to_owned(),
        ),
        (
            "other-repository",
            format!(
                "printf '{}'; exec cat",
                shaken.replace(&uuid, &"0".repeat(36))
            ),
        ),
        // The handshake right, then a log entry of a huge declared path.
        (
            "huge-log",
            format!("printf '{shaken}( ( ( 99999999999999:'; exec cat"),
        ),
        (
            "bad-log",
            format!("printf '{shaken}( ( ( 4:/cfg Q ( ) ) ) 2 ) done ( success ( ) ) '; exec cat"),
        ),
        ("missing", "exit 127".to_owned()),
    ];
    let mut prev = svn::read(&repo, At::Revision(None), Some(&sub), Limits::DEFAULT).expect("r1");
    for (n, (name, body)) in servers.iter().enumerate() {
        let ra = Shared::with_program(fake(dir.path(), name, body));
        edit(dir.path(), &repo, n);
        prev = read_checked(&repo, &prev, &sub, &ra, name);
        assert_eq!(ra.answered(), 0, "{name}");
        assert!(!ra.is_open(), "{name}: the session is gone");
        // Within the back-off, no new start.
        edit(dir.path(), &repo, n + 100);
        prev = read_checked(&repo, &prev, &sub, &ra, name);
        assert_eq!(starts(dir.path(), name), 1, "{name}");
    }
    let none = Shared::with_program(dir.path().join("no such svnserve"));
    edit(dir.path(), &repo, 1000);
    read_checked(&repo, &prev, &sub, &none, "no svnserve");
    assert_eq!(none.answered(), 0);
}

fn kill(pid: u32) {
    let out = tool(Command::new("kill").args(["-KILL", &pid.to_string()]));
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn a_killed_server_is_restarted_and_the_reads_stay_right() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = small_repo(dir.path());
    let sub = SubPath::parse("cfg").expect("a sub-path");
    let ra = Shared::default();
    let mut prev = svn::read(&repo, At::Revision(None), Some(&sub), Limits::DEFAULT).expect("r1");
    edit(dir.path(), &repo, 0);
    prev = read_checked(&repo, &prev, &sub, &ra, "first");
    assert_eq!(ra.answered(), 1);
    kill(ra.child_id().expect("a session"));
    edit(dir.path(), &repo, 1);
    prev = read_checked(&repo, &prev, &sub, &ra, "the server killed");
    assert_eq!(ra.answered(), 1, "the dead session did not answer");
    assert!(!ra.is_open());
    ra.forget_backoff();
    edit(dir.path(), &repo, 2);
    read_checked(&repo, &prev, &sub, &ra, "restarted");
    assert_eq!(ra.answered(), 2, "a new session answered");
}

#[test]
fn the_child_goes_with_its_session_and_with_its_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = small_repo(dir.path());
    let ra = Shared::default();
    let sub = SubPath::parse("cfg").expect("a sub-path");
    let prev = svn::read(&repo, At::Revision(None), Some(&sub), Limits::DEFAULT).expect("r1");
    edit(dir.path(), &repo, 0);
    read_checked(&repo, &prev, &sub, &ra, "first");
    let pid = ra.child_id().expect("a session");
    drop(ra);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "killed and reaped"
    );
    // What the daemon's death does: its end of the pipe closes, and
    // `svnserve -t` ends by itself.
    let mut s = Session::open(Path::new("svnserve"), &repo).expect("a session");
    drop(s.stdin.take());
    let status = s.child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
}
