//! The incremental Git read equals the full read over random commit
//! sequences in real repositories (written with git2, trees written raw so
//! that links, gitlinks, duplicate entries and oversize files occur).

use std::collections::BTreeMap;

use super::*;
use crate::repo::test_util::{Rng, assert_same_read};

/// A file of the universe the random commits draw from (relative to the
/// configuration root).
const FILES: &[&str] = &[
    ".polarion/user-management/users/ann/user.xml",
    ".polarion/user-management/users/bob/user.xml",
    ".polarion/user-management/groups.xml",
    ".polarion/security/user-roles.xml",
    ".polarion/security/permissions.xml",
    "A/p1/.polarion/security/user-roles.xml",
    "A/p1/.polarion/polarion-project.xml",
    "A/p2/.polarion/security/user-roles.xml",
    "A/p2/.polarion/polarion-project.xml",
    "B/p3/.polarion/polarion-project.xml",
    "A/p1/README.md",
    "A/notes/x.txt",
];

/// Folders the random commits delete, replace or link.
const DIRS: &[&str] = &[
    "A",
    "A/p1",
    "A/p1/.polarion",
    "A/p2/.polarion/security",
    ".polarion/user-management/users/bob",
    "B",
    "A/notes",
];

/// A tree entry of the model: Git mode, content (a link's target), and
/// whether its folder lists it twice.
#[derive(Debug, Clone)]
struct Node {
    mode: u32,
    data: Vec<u8>,
    dup: bool,
}

/// Put `node` at `path`, dropping what is in its way (a file where one of
/// its folders goes, or everything below it).
fn put(model: &mut BTreeMap<String, Node>, path: &str, node: Node) {
    remove(model, path);
    let mut at = 0;
    while let Some(i) = path[at..].find('/') {
        model.remove(&path[..at + i]);
        at += i + 1;
    }
    model.insert(path.to_owned(), node);
}

fn remove(model: &mut BTreeMap<String, Node>, path: &str) {
    let below = format!("{path}/");
    model.retain(|p, _| p != path && !p.starts_with(&below));
}

fn file(data: Vec<u8>) -> Node {
    Node {
        mode: 0o100644,
        data,
        dup: false,
    }
}

/// One random change of the model.
fn change(model: &mut BTreeMap<String, Node>, rng: &mut Rng, step: usize) {
    let f = FILES[rng.below(FILES.len())];
    let d = DIRS[rng.below(DIRS.len())];
    match rng.below(20) {
        0..=8 => put(model, f, file(format!("<x n=\"{step}\"/>").into_bytes())),
        9 => put(model, f, file(vec![b'z'; 100])),
        10 | 11 => remove(model, f),
        12 => remove(model, d),
        13 => put(
            model,
            f,
            Node {
                mode: 0o120000,
                data: b"../../elsewhere".to_vec(),
                dup: false,
            },
        ),
        14 => put(
            model,
            d,
            Node {
                mode: [0o120000, 0o160000][rng.below(2)],
                data: b"target".to_vec(),
                dup: false,
            },
        ),
        15 => put(model, d, file(b"not a folder".to_vec())),
        16 => {
            if let Some(node) = model.get_mut(f) {
                node.dup = !node.dup;
            }
        }
        17 => put(
            model,
            f,
            Node {
                mode: 0o100755,
                data: b"<x/>".to_vec(),
                dup: false,
            },
        ),
        // A one-byte change to a file that exists, the common commit.
        _ => {
            if let Some(node) = model.get_mut(f) {
                node.data.push(b' ');
            }
        }
    }
}

/// Write the model as raw tree objects (so that links, gitlinks and
/// duplicate entries can be written); the root tree's id.
fn write_tree(repo: &Repository, model: &BTreeMap<String, Node>, prefix: &str) -> Oid {
    // (sort key, mode, name, id)
    let mut entries: Vec<(Vec<u8>, u32, String, Oid)> = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for (path, node) in model.range(prefix.to_owned()..) {
        let Some(rest) = path.strip_prefix(prefix) else {
            break;
        };
        match rest.split_once('/') {
            Some((dir, _)) => {
                if dirs.last().map(String::as_str) != Some(dir) {
                    dirs.push(dir.to_owned());
                }
            }
            None => {
                let id = if node.mode == 0o160000 {
                    Oid::hash_object(ObjectType::Commit, &node.data).expect("hash")
                } else {
                    repo.blob(&node.data).expect("blob")
                };
                let copies = if node.dup { 2 } else { 1 };
                for _ in 0..copies {
                    entries.push((rest.as_bytes().to_vec(), node.mode, rest.to_owned(), id));
                }
            }
        }
    }
    for dir in dirs {
        let id = write_tree(repo, model, &format!("{prefix}{dir}/"));
        entries.push((format!("{dir}/").into_bytes(), 0o40000, dir, id));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut raw = Vec::new();
    for (_, mode, name, id) in entries {
        raw.extend_from_slice(format!("{mode:o} {name}\0").as_bytes());
        raw.extend_from_slice(id.as_bytes());
    }
    repo.odb()
        .expect("odb")
        .write(ObjectType::Tree, &raw)
        .expect("tree")
}

fn commit(repo: &Repository, model: &BTreeMap<String, Node>, step: usize) {
    let tree = repo
        .find_tree(write_tree(repo, model, ""))
        .expect("written tree");
    let sig = git2::Signature::new("Ann", "ann@example.com", &git2::Time::new(1_700_000_000, 0))
        .expect("signature");
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        &format!("step {step}"),
        &tree,
        &parents,
    )
    .expect("commit");
}

#[test]
fn incremental_reads_equal_full_reads_over_random_commits() {
    let limits = Limits {
        max_file_bytes: 64,
        max_total_bytes: 320,
        ..Limits::default()
    };
    let mut incremental_answers = 0;
    for seed in 1..=12u64 {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = Repository::init(tmp.path()).expect("init");
        let sub = if seed % 3 == 0 { "conf" } else { "" };
        let subpath = SubPath::from_option(Some(sub)).expect("subpath");
        let prefix = if sub.is_empty() {
            String::new()
        } else {
            format!("{sub}/")
        };
        let last = LastWalk::default();
        let since = Since {
            path: tmp.path(),
            branch: None,
            subpath: &subpath,
            last: &last,
        };
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut model = BTreeMap::new();
        for f in FILES {
            put(&mut model, &format!("{prefix}{f}"), file(b"<x/>".to_vec()));
        }
        let mut prev: Option<Input> = None;
        for step in 0..40 {
            let mut rel = BTreeMap::new();
            for (p, n) in &model {
                if let Some(r) = p.strip_prefix(&prefix) {
                    rel.insert(r.to_owned(), n.clone());
                }
            }
            for _ in 0..1 + rng.below(3) {
                change(&mut rel, &mut rng, step);
            }
            model.retain(|p, _| !p.starts_with(&prefix));
            model.extend(rel.into_iter().map(|(r, n)| (format!("{prefix}{r}"), n)));
            commit(&repo, &model, step);
            let full = git::read(tmp.path(), None, None, &subpath, limits);
            // A probe on a copy of the memo, which `incremental` moves on.
            let copy = LastWalk(Arc::new(Mutex::new(*last.0.lock().expect("memo"))));
            let probe = Since {
                last: &copy,
                ..since
            };
            if let Some(p) = &prev
                && let Ok(head) = repo.head().and_then(|h| h.peel_to_commit())
                && incremental(&repo, probe, p.clone(), &head, limits).is_some()
            {
                incremental_answers += 1;
            }
            // A copy: after a failure the test goes on from the last good read.
            let inc = read_newest(since, prev.clone(), limits);
            assert_same_read(&inc, &full, &format!("seed {seed} step {step}"));
            // Like the daemon (no previous read after a failure), or
            // across several commits from the last good read.
            match inc {
                Ok(input) => prev = Some(input),
                Err(_) if rng.below(2) == 0 => prev = None,
                Err(_) => {}
            }
        }
    }
    // Most reads are answered incrementally, not by the full read.
    assert!(incremental_answers > 100, "{incremental_answers}");
}

#[test]
fn the_cache_carries_the_walk_so_a_hook_reads_only_what_changed() {
    let limits = Limits::default();
    let tmp = tempfile::tempdir().expect("temp dir");
    let state = tempfile::tempdir().expect("state folder");
    let repo = Repository::init(tmp.path()).expect("init");
    let mut model = BTreeMap::new();
    for f in FILES {
        put(&mut model, f, file(b"<x/>".to_vec()));
    }
    commit(&repo, &model, 0);
    let open = || super::super::Source::open(tmp.path(), &Default::default()).expect("Git");
    // The daemon: a full walk, then the cache of what it read.
    let daemon = open();
    let first = daemon.read_newest(None, limits).expect("read");
    daemon
        .store_cache(state.path(), &first)
        .expect("cache written");
    let identity = daemon.cache_identity().expect("identity").expect("Git");
    let cached = super::super::cache::load(state.path(), &identity, limits.max_total_bytes);
    let entries = cached.expect("cache").entries;
    assert!(
        entries.is_some_and(|n| n > FILES.len()),
        "the walk's entries, every file and folder: {entries:?}"
    );
    put(&mut model, FILES[3], file(b"<changed/>".to_vec()));
    commit(&repo, &model, 1);
    let head = repo.head().and_then(|h| h.peel_to_commit()).expect("head");
    // A hook: a new process, whose only knowledge of the walk is the cache.
    let hook = open();
    let base = hook.load_cache(state.path(), limits).expect("cache usable");
    let since = hook.git_since().expect("Git");
    assert!(
        incremental(&repo, since, base, &head, limits).is_some(),
        "the cache's count lets the incremental walk answer"
    );
    let hook = open();
    let base = hook.load_cache(state.path(), limits).expect("cache usable");
    let read = hook.read_at_from(super::super::At::Revision(None), &base, limits);
    let full = git::read(tmp.path(), None, None, &SubPath::default(), limits);
    assert_same_read(&read, &full, "from the cache");
}
