//! The incremental read of an SVN repository (one `svnadmin dump` of the
//! revisions since the last read) equals the full read at every revision
//! of random commit sequences made with `svnmucc` in a real repository:
//! files added, changed and deleted, folders deleted with their files,
//! copies from inside and outside the configuration (files and folders,
//! from older revisions), moves, replacements, property-only changes,
//! symbolic links, the configuration's folder moved away and back; read
//! from the previous revision and from several revisions back, at the
//! root and in a folder whose name holds glob characters, under roomy and
//! tight limits. The dump must have answered by itself most of the time.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::*;
use crate::repo::test_util::{Rng, assert_same_read};
use crate::repo::{At, svn};
use crate::snapshot::Input;

/// Where files go, below the configuration's folder or outside it.
pub(in crate::repo) const FILES: &[&str] = &[
    ".polarion/access",
    ".polarion/security/user-roles.xml",
    ".polarion/security/roles.xml",
    ".polarion/user-management/users/bob/user.xml",
    ".polarion/user-management/users/é x/user.xml",
    "Dept A/lib é/.polarion/polarion-project.xml",
    "Dept A/lib é/.polarion/security/user-roles.xml",
    "Dept A/lib é/.polarion/security",
    ".polarion/tests/a b.toml",
    "notes/user-roles.xml",
    "README.md",
];

/// Folders that copies, moves and deletions take.
const DIRS: &[&str] = &[
    ".polarion/security",
    ".polarion/user-management/users/bob",
    "Dept A",
    "Dept A/lib é",
    "Dept A/lib é/.polarion",
    "Dept B",
    "notes",
];

/// The configuration's folder (glob characters in its name) and a
/// neighbour its pattern must not take.
pub(in crate::repo) const CFG: &str = "conf [x]*";
pub(in crate::repo) const ROOTS: &[&str] = &["", "conf [x]*/", "conf [x]*/", "conf x/", "outside/"];

pub(in crate::repo) fn tool(cmd: &mut Command) -> std::process::Output {
    cmd.env("LC_ALL", "C.UTF-8").output().expect("svn runs")
}

/// The paths of revision `rev` (folders end in `/`).
pub(in crate::repo) fn tree(repo: &Path) -> BTreeSet<String> {
    let out = tool(
        Command::new("svnlook")
            .args(["tree", "--full-paths", "--"])
            .arg(repo),
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| *l != "/")
        .map(str::to_owned)
        .collect()
}

/// Bytes of a random file: a link's text, empty, over the file limit.
pub(in crate::repo) fn content(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = match rng.below(4) {
        0 => b"link elsewhere".to_vec(),
        1 => Vec::new(),
        2 => b"Node-path: x\nPROPS-END\n".to_vec(),
        _ => b"<roles/>\n".to_vec(),
    };
    let size = [0, 10, 1_999, 2_001, 4_000][rng.below(5)];
    bytes.extend((0..size).map(|i| b"xyz\n"[i % 4]));
    bytes
}

/// One commit's `svnmucc` actions.
struct Actions<'a> {
    rng: &'a mut Rng,
    tree: &'a BTreeSet<String>,
    young: u64,
    scratch: &'a Path,
    args: Vec<String>,
    made: BTreeSet<String>,
}

impl Actions<'_> {
    fn pick(&mut self, xs: &[&str]) -> String {
        let root = ROOTS[self.rng.below(ROOTS.len())];
        format!("{root}{}", xs[self.rng.below(xs.len())])
    }

    fn push(&mut self, args: &[&str]) {
        self.args.extend(args.iter().map(|a| a.to_string()));
    }

    fn exists(&self, p: &str) -> bool {
        self.tree.contains(p) || self.tree.contains(&format!("{p}/"))
    }

    /// An existing path (file or folder) at random.
    fn existing(&mut self) -> Option<String> {
        let all: Vec<&String> = self.tree.iter().collect();
        (!all.is_empty()).then(|| {
            all[self.rng.below(all.len())]
                .trim_end_matches('/')
                .to_owned()
        })
    }

    /// `mkdir` each missing folder above `p`.
    fn parents(&mut self, p: &str) {
        let mut at = String::new();
        let parts: Vec<&str> = p.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            at.push_str(part);
            if !self.tree.contains(&format!("{at}/")) && self.made.insert(at.clone()) {
                self.push(&["mkdir", &at.clone()]);
            }
            at.push('/');
        }
    }

    fn put(&mut self, p: &str) {
        let file = self.scratch.join(format!("put{}", self.args.len()));
        std::fs::write(&file, content(self.rng)).expect("write");
        self.parents(p);
        self.push(&["put", &file.to_string_lossy(), p]);
        if self.rng.below(6) == 0 {
            self.push(&["propset", "svn:special", "*", p]);
        }
    }

    fn copy(&mut self, verb: &str, dst: &str) {
        let Some(src) = self.existing() else { return };
        self.parents(dst);
        if verb == "cp" {
            let rev = self.young - self.rng.below(self.young.min(3) as usize) as u64;
            self.push(&["cp", &rev.to_string(), &src, dst]);
        } else {
            self.push(&["mv", &src, dst]);
        }
    }

    /// One random action.
    fn one(&mut self) {
        let xs = if self.rng.below(2) == 0 { FILES } else { DIRS };
        match self.rng.below(10) {
            0..=2 => {
                let p = self.pick(FILES);
                self.put(&p);
            }
            3 => {
                if let Some(p) = self.existing() {
                    self.push(&["rm", &p]);
                }
            }
            4 | 5 => {
                let dst = self.pick(xs);
                if !self.exists(&dst) {
                    let verb = ["cp", "mv"][self.rng.below(2)];
                    self.copy(verb, &dst);
                }
            }
            6 => {
                // A replacement: deleted, then put or copied again.
                let p = self.pick(xs);
                if self.exists(&p) {
                    self.push(&["rm", &p]);
                    match self.rng.below(2) {
                        0 if xs == FILES => self.put(&p),
                        _ => self.copy("cp", &p),
                    }
                }
            }
            7 | 8 => self.props(),
            _ => self.configuration_folder(),
        }
    }

    /// A property-only change of an existing file (a link made or undone).
    fn props(&mut self) {
        let files: Vec<&String> = self
            .tree
            .iter()
            .filter(|p| !p.ends_with('/') && p.starts_with(CFG) == (self.rng.below(4) != 0))
            .collect();
        if files.is_empty() {
            return;
        }
        let p = files[self.rng.below(files.len())].clone();
        match self.rng.below(4) {
            0 => self.push(&["propset", "svn:special", "*", &p]),
            1 | 2 => self.push(&["propdel", "svn:special", &p]),
            _ => self.push(&["propset", "note", "K 1\nx\nPROPS-END\n", &p]),
        }
    }

    /// The configuration's folder: its properties, moved away, copied back.
    fn configuration_folder(&mut self) {
        let away = format!("{CFG} old");
        match self.rng.below(3) {
            0 if self.exists(CFG) => self.push(&["propset", "note", "v", CFG]),
            1 if self.exists(CFG) && !self.exists(&away) => self.push(&["mv", CFG, &away]),
            _ if self.exists(&away) && !self.exists(CFG) => {
                let rev = self.young.to_string();
                self.push(&["cp", &rev, &away, CFG]);
            }
            _ => {}
        }
    }
}

/// Commit one to three random actions; `false` when `svnmucc` refused
/// them (nothing was committed).
pub(in crate::repo) fn commit(rng: &mut Rng, repo: &Path, scratch: &Path, young: u64) -> bool {
    let tree = tree(repo);
    let mut actions = Actions {
        rng,
        tree: &tree,
        young,
        scratch,
        args: Vec::new(),
        made: BTreeSet::new(),
    };
    for _ in 0..1 + actions.rng.below(3) {
        actions.one();
    }
    if actions.args.is_empty() {
        return false;
    }
    let log = ["m", "", "two\nlines\n\nRolesync-Allow: mass", "é ünï"][actions.rng.below(4)];
    let user = ["alice", "bób"][actions.rng.below(2)];
    let url = format!("file://{}", repo.display());
    let out = tool(
        Command::new("svnmucc")
            .args(["-U", &url, "-m", log, "--username", user, "--no-auth-cache"])
            .args(["--config-dir"])
            .arg(scratch.join("client"))
            .args(&actions.args),
    );
    out.status.success()
}

/// Compare the incremental read from `base` with the full read at the
/// youngest revision; whether the dump answered by itself.
fn check(repo: &Path, base: &Input, subpath: &SubPath, limits: Limits, what: &str) -> bool {
    let young = svn::youngest(repo).expect("youngest");
    let at = At::Revision(Some(&young));
    let full = svn::read(repo, at, Some(subpath), limits);
    let inc = svn::read_since(repo, base.clone(), Some(subpath), limits, None);
    let what = format!("{what}: r{} → r{young}", base.revision);
    assert_same_read(&inc, &full, &what);
    if base.incomplete.is_some() {
        // read_since reads such a base in full.
        return false;
    }
    let from: u64 = base.revision.parse().expect("a revision");
    let to: u64 = young.parse().expect("a revision");
    let Ok(dumped) = dump(repo, subpath, from, to, limits) else {
        return false;
    };
    let put = svn::put_dumped(repo, &young, base.files.clone(), dumped, subpath, limits);
    match put.expect("no error where the dump answered") {
        Some(input) => {
            assert_same_read(&Ok(input), &full, &format!("{what} (the dump alone)"));
            true
        }
        None => false,
    }
}

/// The folders and limits the random sequences are read under: the root
/// and the folder `CFG`, roomy (a file of 2,000 bytes at most) and tight
/// (3,000 bytes together).
pub(in crate::repo) fn cases() -> [(SubPath, Limits); 3] {
    let roomy = Limits {
        max_file_bytes: 2_000,
        ..Limits::default()
    };
    let tight = Limits {
        max_total_bytes: 3_000,
        ..roomy
    };
    let cfg = SubPath::parse(CFG).expect("a sub-path");
    [
        (SubPath::default(), roomy),
        (cfg.clone(), roomy),
        (cfg, tight),
    ]
}

#[test]
fn the_incremental_dump_read_equals_the_full_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    assert!(
        tool(Command::new("svnadmin").arg("create").arg(&repo))
            .status
            .success()
    );
    let cases = cases();
    // Per case, the good reads so far (the daemon keeps its last good one).
    let mut reads: Vec<Vec<Input>> = vec![Vec::new(); cases.len()];
    let mut rng = Rng(0x1dea_5eed);
    let (mut answered, mut checked) = (0, 0);
    let mut young = 0;
    while young < 45 {
        if !commit(&mut rng, &repo, dir.path(), young) {
            continue;
        }
        young += 1;
        for (i, (subpath, limits)) in cases.iter().enumerate() {
            let what = format!(
                "under {:?}, total {}",
                subpath.as_str(),
                limits.max_total_bytes
            );
            let history = &reads[i];
            let back = [1, 2 + rng.below(4)];
            for k in back.into_iter().filter(|&k| k <= history.len()) {
                checked += 1;
                answered += usize::from(check(
                    &repo,
                    &history[history.len() - k],
                    subpath,
                    *limits,
                    &what,
                ));
            }
            let at = At::Revision(None);
            if let Ok(read) = svn::read(&repo, at, Some(subpath), *limits) {
                reads[i].push(read);
            }
        }
    }
    assert!(
        answered * 2 > checked,
        "the dump answered {answered} of {checked} times"
    );
}

#[test]
fn the_filter_keeps_the_folder_what_is_below_and_each_folder_above() {
    let cfg = SubPath::parse("a/b [x]*?\\").expect("a sub-path");
    assert_eq!(
        filter(&cfg),
        [
            "--pattern",
            "--include",
            "/a",
            "--include",
            "/a/b \\[x\\]\\*\\?\\\\",
            "--include",
            "/a/b \\[x\\]\\*\\?\\\\/*"
        ]
    );
    assert!(filter(&SubPath::default()).is_empty());
}

#[test]
fn dump_dates_read_as_svnlook_prints_them() {
    assert_eq!(parse_dump_date("1970-01-01T00:00:00.000000Z"), Some(0));
    assert_eq!(
        parse_dump_date("2026-11-23T11:58:42.999999Z"),
        Some(1_795_435_122)
    );
    assert_eq!(parse_dump_date("2026-11-23T11:58:42Z"), Some(1_795_435_122));
    for bad in [
        "2026-11-23 11:58:42Z",
        "2026-11-23T11:58:42.Z",
        "2026-11-23T11:58:42.5",
        "+026-11-23T11:58:42.5Z",
        "",
    ] {
        assert_eq!(parse_dump_date(bad), None, "{bad}");
    }
}

/// A dump stream of revisions 5 and 6 with `nodes` in revision 6.
fn stream(nodes: &str) -> Vec<u8> {
    let props =
        "K 7\nsvn:log\nV 1\nm\nK 8\nsvn:date\nV 27\n2026-12-01T23:40:03.759930Z\nPROPS-END\n";
    let rev = |n: u32| {
        format!(
            "Revision-number: {n}\nProp-content-length: {0}\nContent-length: {0}\n\n{props}\n",
            props.len()
        )
    };
    format!(
        "SVN-fs-dump-format-version: 2\n\n{}{}{nodes}",
        rev(5),
        rev(6)
    )
    .into_bytes()
}

fn parsed(nodes: &str) -> Result<Dumped, Why> {
    let cfg = SubPath::parse("cfg").expect("a sub-path");
    parse(&mut stream(nodes).as_slice(), &cfg, 4, 6, Limits::default())
}

#[test]
fn a_dump_the_reader_does_not_expect_is_followed_with_svnlook() {
    let file = "Node-path: cfg/.polarion/access\nNode-kind: file\nNode-action: change\n";
    let ok = parsed(&format!(
        "{file}Text-content-length: 2\nContent-length: 2\n\nab\n"
    ))
    .expect("a change of one file");
    assert_eq!(ok.meta.map(|m| m.time), Some(1_796_168_403));
    assert_eq!(
        ok.ops,
        [Op::File {
            rel: ".polarion/access".into(),
            folder: false,
            text: Some(b"ab".to_vec()),
            special: None,
            copied: false,
        }]
    );
    let delta =
        format!("{file}Text-delta: true\nText-content-length: 2\nContent-length: 2\n\nab\n");
    assert_eq!(
        parsed(&delta).err(),
        Some(Why::Follow("a delta in the dump"))
    );
    let cut = format!("{file}Text-content-length: 9\nContent-length: 9\n\nab");
    assert!(
        matches!(parsed(&cut), Err(Why::Follow(_))),
        "a stream cut short"
    );
    let cfg = SubPath::parse("cfg").expect("a sub-path");
    let one = parse(&mut stream("").as_slice(), &cfg, 4, 7, Limits::default());
    assert_eq!(
        one.err(),
        Some(Why::Follow("revisions missing from the dump"))
    );
    let moved = "Node-path: cfg\nNode-action: delete\n\n";
    assert!(
        matches!(parsed(moved), Err(Why::Full(_))),
        "the folder deleted"
    );
}
