//! `rolesync diff` end to end: two commits of a real Git repository, two
//! revisions of a real SVN repository, two folders; and the path part
//! checked against the real `svnauthz accessof` on both revisions' access
//! files over a generated random change sequence (every (login, path) the
//! diff reports, and a sample of those it does not). The sequence is
//! deterministic; `ROLESYNC_DIFF_SEED` picks another one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rolesync::authz::Authz;
use rolesync::diff::{self, Diff};
use rolesync::snapshot::{self, Input, Snapshot};

use crate::svn::Svn;
use crate::util::{self, Rng, git, sample_repository};

const ELIBRARY_ROLES: &str = "Engineering/elibrary/.polarion/security/user-roles.xml";

/// carol's roles in elibrary go to grace.
const FROM: &str = "<user name=\"carol\">";
const TO: &str = "<user name=\"grace\">";

const EXPECTED: &[&str] = &[
    "carol left elibrary-project_user (direct assignment)",
    "grace joined elibrary-project_user (direct assignment)",
    "carol /elibrary: rw -> no",
    "grace /elibrary: no -> rw",
];

fn diff_cmd(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = util::rolesync()
        .arg("diff")
        .args(args)
        .output()
        .expect("rolesync runs");
    let code = out.status.code().expect("exited");
    (code, util::stdout(&out), util::stderr(&out))
}

fn assert_lists(text: &str) {
    for line in EXPECTED {
        assert!(
            text.contains(&format!("  {line}\n")),
            "no {line:?} in\n{text}"
        );
    }
    // The summary comes first.
    assert!(text.starts_with("rolesync diff "), "{text}");
    assert!(text.find("role groups:").expect("summary") < text.find(EXPECTED[0]).expect("list"));
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

#[test]
fn two_git_commits_are_diffed_in_text_and_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = sample_repository(dir.path());
    edit(&dir.path().join(ELIBRARY_ROLES), FROM, TO);
    git(
        dir.path(),
        &["commit", "-q", "-am", "carol's roles to grace"],
    );
    let second = git(dir.path(), &["rev-parse", "HEAD"]);
    let repo = dir.path().as_os_str();
    let (code, text, err) = diff_cmd(&["--repo".as_ref(), repo, first.as_ref(), second.as_ref()]);
    assert_eq!(code, 0, "{err}");
    assert_lists(&text);

    let (code, json, err) = diff_cmd(&[
        "--repo".as_ref(),
        repo,
        "--format".as_ref(),
        "json".as_ref(),
        first.as_ref(),
        second.as_ref(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("one JSON document");
    assert_eq!(v["version"], 1);
    assert_eq!(v["from"], first.as_str());
    assert_eq!(v["complete"], true);
    assert!(
        v["losing"]
            .as_array()
            .expect("list")
            .contains(&"carol".into()),
        "{v}"
    );
    assert!(
        v["gaining"]
            .as_array()
            .expect("list")
            .contains(&"grace".into()),
        "{v}"
    );

    // A revision that does not exist: could not run.
    let (code, _, err) = diff_cmd(&["--repo".as_ref(), repo, first.as_ref(), "0000000".as_ref()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rolesync: error:"), "{err}");
}

#[test]
fn two_svn_revisions_are_diffed() {
    let svn = Svn::new();
    let out = svn.commit_edit(ELIBRARY_ROLES, FROM, TO);
    assert!(out.status.success(), "{}", util::stderr(&out));
    let repo = svn.config_repo();
    let (code, text, err) = diff_cmd(&[
        "--repo".as_ref(),
        repo.as_os_str(),
        "1".as_ref(),
        "2".as_ref(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("rolesync diff 1 -> 2\n"), "{text}");
    assert_lists(&text);
}

#[test]
fn two_folders_are_diffed_and_an_invalid_one_could_not_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    util::copy_tree(&util::root().join("sample-repo"), &a);
    util::copy_tree(&util::root().join("sample-repo"), &b);
    edit(&b.join(ELIBRARY_ROLES), FROM, TO);
    let (code, text, err) = diff_cmd(&[a.as_os_str(), b.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    assert_lists(&text);
    let (code, text, _) = diff_cmd(&[a.as_os_str(), a.as_os_str()]);
    assert_eq!(code, 0);
    assert!(text.contains("no change"), "{text}");

    edit(
        &b.join(ELIBRARY_ROLES),
        "<role name=\"project_user\"/>",
        "<role name=\"project_user\">",
    );
    let (code, _, err) = diff_cmd(&[a.as_os_str(), b.as_os_str()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is invalid"), "{err}");
    assert!(err.contains("user-roles.xml:"), "{err}");
}

// ------------------------------------------------- against svnauthz

const LOGINS: &[&str] = &["u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"];
const PROJECTS: &[&str] = &["pa", "pb"];
const ROLES: &[&str] = &["project_user", "project_admin"];
const USER_GROUPS: &[&str] = &["g0", "g1"];
/// Rule sections; each line is one of `NAMES` with one of `RIGHTS`.
const SECTIONS: &[&str] = &["/", "/pa", "/pa/trunk", "/pb", "repo1:/pa", "repo1:/pb/x"];
const NAMES: &[&str] = &[
    "@pa-project_user",
    "@pa-project_admin",
    "@pb-project_user",
    "~@pb-project_admin",
    "@devs",
    "~@devs",
    "&boss",
    "u3",
    "*",
    "$authenticated",
    "@admin",
];
const RIGHTS: &[&str] = &["rw", "r", ""];
const PERMS: &[&str] = &[
    "com.polarion.persistence.object.WorkItem.modify",
    "com.polarion.persistence.object.WorkItem.read",
    "com.polarion.persistence.object.Module.read",
];

/// One configuration of the random sequence.
#[derive(Debug, Clone)]
struct State {
    /// (project or "" for global, holder (`@g` for a user group), role)
    assignments: BTreeSet<(String, String, String)>,
    groups: BTreeMap<String, BTreeSet<String>>,
    /// login → disabled; a missing login has no account.
    accounts: BTreeMap<String, bool>,
    /// section → (name → rights)
    rules: BTreeMap<String, BTreeMap<String, String>>,
    /// The hand-written group `devs` and the alias `boss`.
    devs: BTreeSet<String>,
    boss: String,
    /// (file: "" global or a project, role, grant, permission)
    perms: BTreeSet<(String, String, bool, String)>,
    /// project → lead
    leads: BTreeMap<String, String>,
}

impl State {
    fn new() -> State {
        State {
            assignments: BTreeSet::from([
                (String::new(), "u0".into(), "admin".into()),
                ("pa".into(), "u1".into(), "project_user".into()),
                ("pb".into(), "@g0".into(), "project_admin".into()),
            ]),
            groups: USER_GROUPS
                .iter()
                .map(|g| (g.to_string(), BTreeSet::from(["u2".to_owned()])))
                .collect(),
            accounts: LOGINS.iter().map(|l| (l.to_string(), false)).collect(),
            rules: BTreeMap::from([
                ("/".into(), BTreeMap::from([("@admin".into(), "rw".into())])),
                (
                    "/pa".into(),
                    BTreeMap::from([("@pa-project_user".into(), "rw".into())]),
                ),
            ]),
            devs: BTreeSet::from(["u4".to_owned(), "@pa-project_user".to_owned()]),
            boss: "u5".into(),
            perms: BTreeSet::from([
                (String::new(), "project_user".into(), true, PERMS[0].into()),
                (String::new(), "user".into(), true, PERMS[1].into()),
            ]),
            leads: BTreeMap::new(),
        }
    }

    /// One random change.
    fn change(&mut self, rng: &mut Rng) {
        let login = rng.pick(LOGINS).to_string();
        match rng.below(9) {
            7 => {
                let file = rng.pick(&["", "pa"]).to_string();
                let role = rng.pick(&["project_user", "project_admin", "user", "everyone", "lead"]);
                let rule = (
                    file,
                    role.to_string(),
                    rng.below(2) == 0,
                    rng.pick(PERMS).to_string(),
                );
                if !self.perms.remove(&rule) {
                    self.perms.insert(rule);
                }
            }
            8 => {
                let project = rng.pick(PROJECTS).to_string();
                if rng.below(3) == 0 {
                    self.leads.remove(&project);
                } else {
                    self.leads.insert(project, login);
                }
            }
            0 | 1 => {
                let holder = if rng.below(3) == 0 {
                    format!("@{}", rng.pick(USER_GROUPS))
                } else {
                    login
                };
                let scope = rng.pick(&["", "pa", "pb"]).to_string();
                let role = match scope.as_str() {
                    "" => rng.pick(&["user", "admin"]).to_string(),
                    _ => rng.pick(ROLES).to_string(),
                };
                let a = (scope, holder, role);
                if !self.assignments.remove(&a) {
                    self.assignments.insert(a);
                }
            }
            2 => {
                let g = self
                    .groups
                    .entry(rng.pick(USER_GROUPS).to_string())
                    .or_default();
                if !g.remove(&login) {
                    g.insert(login);
                }
            }
            3 => match rng.below(3) {
                0 => {
                    self.accounts.remove(&login);
                }
                1 => {
                    self.accounts.insert(login, true);
                }
                _ => {
                    self.accounts.insert(login, false);
                }
            },
            4 | 5 => {
                let section = self
                    .rules
                    .entry(rng.pick(SECTIONS).to_string())
                    .or_default();
                let name = rng.pick(NAMES).to_string();
                if rng.below(3) == 0 {
                    section.remove(&name);
                } else {
                    section.insert(name, rng.pick(RIGHTS).to_string());
                }
            }
            _ => {
                if rng.below(2) == 0 {
                    self.boss = login;
                } else if !self.devs.remove(&login) {
                    self.devs.insert(login);
                }
            }
        }
    }

    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut put = |p: String, t: String| files.insert(p, t.into_bytes());
        let roles = |project: &str| {
            let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (_, h, r) in self.assignments.iter().filter(|a| a.0 == project) {
                by.entry(h).or_default().push(r);
            }
            let mut xml = String::from("<user-roles>");
            for (h, rs) in by {
                let (kind, name) = h.strip_prefix('@').map_or(("user", h), |g| ("group", g));
                xml.push_str(&format!("<{kind} name=\"{name}\">"));
                for r in rs {
                    xml.push_str(&format!("<role name=\"{r}\"/>"));
                }
                xml.push_str(&format!("</{kind}>"));
            }
            xml + "</user-roles>"
        };
        put(snapshot::USER_ROLES.into(), roles(""));
        for p in PROJECTS {
            let lead = self
                .leads
                .get(*p)
                .map_or(String::new(), |l| format!("<field id=\"lead\">{l}</field>"));
            put(
                format!("{p}/.polarion/polarion-project.xml"),
                format!("<project>{lead}</project>"),
            );
            let perms = |file: &str| {
                let mut xml = String::from("<permissions>");
                for (_, role, grant, perm) in self.perms.iter().filter(|r| r.0 == file) {
                    let effect = if *grant { "grant" } else { "deny" };
                    xml.push_str(&format!(
                        "<role name=\"{role}\"><{effect} permission=\"{perm}\"/></role>"
                    ));
                }
                xml + "</permissions>"
            };
            if *p == "pa" {
                put(
                    format!("{p}/.polarion/security/permissions.xml"),
                    perms("pa"),
                );
            }
            put(snapshot::PERMISSIONS.into(), perms(""));
            put(format!("{p}/.polarion/security/user-roles.xml"), roles(p));
        }
        let mut groups = String::from("<user-groups>");
        for (g, members) in &self.groups {
            groups.push_str(&format!("<group id=\"{g}\">"));
            for m in members {
                groups.push_str(&format!("<user name=\"{m}\"/>"));
            }
            groups.push_str("</group>");
        }
        put(snapshot::GROUPS.into(), groups + "</user-groups>");
        for (login, disabled) in &self.accounts {
            put(
                format!("{}{login}/user.xml", snapshot::USERS_DIR),
                format!("<user><field id=\"disabled\">{disabled}</field></user>"),
            );
        }
        let mut access = format!("[aliases]\nboss = {}\n\n[groups]\ndevs = ", self.boss);
        access.push_str(&self.devs.iter().cloned().collect::<Vec<_>>().join(", "));
        access.push('\n');
        for (section, lines) in &self.rules {
            access.push_str(&format!("\n[{section}]\n"));
            for (name, rights) in lines {
                access.push_str(&format!("{name} = {rights}\n"));
            }
        }
        put(snapshot::ACCESS_FILE.into(), access);
        files
    }

    fn snapshot(&self, revision: usize) -> Snapshot {
        let input = Input {
            revision: revision.to_string(),
            files: self
                .files()
                .into_iter()
                .map(|(p, b)| (p, b.into()))
                .collect(),
            ..Input::default()
        };
        let report = snapshot::build(&input);
        let errors: Vec<String> = report.diagnostics.iter().map(|d| d.one_line()).collect();
        report.snapshot.unwrap_or_else(|| panic!("{errors:#?}"))
    }
}

/// `svnauthz accessof` on a file.
fn svnauthz(file: &Path, login: &str, repo: Option<&str>, path: &str) -> String {
    util::svnauthz_accessof(file, login, repo, path, false)
}

/// Every (repository, path) the two access files have a rule for, in
/// each repository they name (and without one).
fn points(texts: [&str; 2]) -> Vec<(Option<String>, String)> {
    let mut paths = BTreeSet::new();
    let mut repos = BTreeSet::from([None]);
    for t in texts {
        for s in rolesync::authz::parse(t).sections {
            if matches!(s.name.as_str(), "groups" | "aliases") {
                continue;
            }
            match s.name.split_once(':') {
                Some((repo, path)) if !repo.is_empty() => {
                    repos.insert(Some(repo.to_owned()));
                    paths.insert((Some(repo.to_owned()), path.to_owned()));
                }
                _ => {
                    paths.insert((None, s.name.clone()));
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for (repo, path) in paths {
        match repo {
            Some(_) => {
                out.insert((repo, path));
            }
            None => out.extend(repos.iter().map(|r| (r.clone(), path.clone()))),
        }
    }
    out.into_iter().collect()
}

/// Whether a login has an account in either revision or is named by
/// either access file.
fn known(login: &str, old: &Snapshot, new: &Snapshot) -> bool {
    let account = |s: &Snapshot| {
        s.model
            .accounts
            .as_ref()
            .is_some_and(|a| a.keys().any(|l| l.as_str() == login))
    };
    let named = |s: &Snapshot| {
        s.access
            .split([',', '=', '\n', ' '])
            .any(|w| w.trim() == login)
    };
    account(old) || account(new) || named(old) || named(new)
}

/// One step: every pair the diff reports agrees with svnauthz on both
/// files; no pair it leaves out changes (all pairs through the evaluator,
/// a sample through svnauthz).
fn check_step(
    rng: &mut Rng,
    dir: &Path,
    step: usize,
    d: &Diff,
    old: &Snapshot,
    new: &Snapshot,
) -> (usize, usize) {
    let (fa, fb) = (
        dir.join(format!("{step}-old")),
        dir.join(format!("{step}-new")),
    );
    std::fs::write(&fa, &old.access).expect("write");
    std::fs::write(&fb, &new.access).expect("write");
    assert!(
        d.paths.total == d.paths.listed.len() && d.is_complete(),
        "bounded at step {step}"
    );
    let reported: BTreeMap<(Option<String>, String, String), (String, String)> = d
        .paths
        .listed
        .iter()
        .map(|c| {
            let key = (c.repository.clone(), c.path.clone(), c.login.clone());
            (key, (c.from.as_str().to_owned(), c.to.as_str().to_owned()))
        })
        .collect();
    for ((repo, path, login), (from, to)) in &reported {
        let ctx = format!(
            "step {step}: {login} {repo:?}:{path}\n{}\n---\n{}",
            old.access, new.access
        );
        assert_eq!(&svnauthz(&fa, login, repo.as_deref(), path), from, "{ctx}");
        assert_eq!(&svnauthz(&fb, login, repo.as_deref(), path), to, "{ctx}");
    }
    let (ea, eb) = (
        Authz::load(&old.access, None).expect("valid"),
        Authz::load(&new.access, None).expect("valid"),
    );
    let mut unreported = Vec::new();
    for (repo, path) in points([&old.access, &new.access]) {
        // The logins considered: accounts and names of the files (a name
        // unknown to both revisions is not listed).
        for login in LOGINS.iter().filter(|l| known(l, old, new)) {
            let key = (repo.clone(), path.clone(), login.to_string());
            if reported.contains_key(&key) {
                continue;
            }
            let (a, b) = (
                ea.access(Some(login), repo.as_deref(), Some(&path)),
                eb.access(Some(login), repo.as_deref(), Some(&path)),
            );
            assert_eq!(
                a, b,
                "step {step}: the diff misses {login} {repo:?}:{path}\n{}\n---\n{}",
                old.access, new.access
            );
            unreported.push(key);
        }
    }
    let sample = 6.min(unreported.len());
    for _ in 0..sample {
        let (repo, path, login) = &unreported[rng.below(unreported.len())];
        let ctx = format!("step {step}: {login} {repo:?}:{path} is not reported");
        assert_eq!(
            svnauthz(&fa, login, repo.as_deref(), path),
            svnauthz(&fb, login, repo.as_deref(), path),
            "{ctx}"
        );
    }
    (reported.len(), sample)
}

/// The role-group and permission parts against a full scan: every role
/// group of both revisions, every (login, context, permission) of the
/// sequence's permission names.
fn check_full_scan(step: usize, d: &Diff, old: &Snapshot, new: &Snapshot) {
    let members = |s: &Snapshot| -> BTreeSet<(String, String)> {
        s.model
            .role_groups()
            .into_iter()
            .flat_map(|g| {
                g.members
                    .into_iter()
                    .map(move |m| (g.name.clone(), m.as_str().to_owned()))
            })
            .collect()
    };
    let (a, b) = (members(old), members(new));
    let mut want: BTreeSet<(String, String, &str)> = BTreeSet::new();
    want.extend(
        a.difference(&b)
            .map(|(g, l)| (g.clone(), l.clone(), "left")),
    );
    want.extend(
        b.difference(&a)
            .map(|(g, l)| (g.clone(), l.clone(), "joined")),
    );
    let got: BTreeSet<(String, String, &str)> = d
        .groups
        .listed
        .iter()
        .map(|c| {
            (
                c.group.clone(),
                c.login.as_str().to_owned(),
                c.direction.as_str(),
            )
        })
        .collect();
    assert_eq!(got, want, "step {step}: role groups");

    let object = rolesync::policy::Object::new();
    let mut want = BTreeSet::new();
    // The permissions some file names (global `admin` is allowed every
    // permission, named or not; the diff lists the named ones).
    let named: BTreeSet<&str> = [old, new]
        .iter()
        .flat_map(|s| {
            let global = s.model.global_permissions.iter();
            let projects = s
                .model
                .projects
                .values()
                .filter_map(|p| p.permissions.as_ref());
            global
                .chain(projects)
                .flat_map(|f| f.rules.iter().map(|r| r.permission.as_str()))
        })
        .collect();
    let asks = PERMS
        .iter()
        .filter(|p| named.contains(*p))
        .flat_map(|p| [None, Some("pa"), Some("pb")].map(|c| (*p, c)))
        .chain([(rolesync::policy::LOGIN, None)]);
    for (permission, project) in asks {
        for login in LOGINS {
            let req = rolesync::policy::Request {
                user: login,
                permission,
                project,
                object: &object,
            };
            let (x, y) = (
                old.policy.check(&req).expect("decides"),
                new.policy.check(&req).expect("decides"),
            );
            if x != y {
                want.insert((
                    login.to_string(),
                    project.map(str::to_owned),
                    permission.to_owned(),
                ));
            }
        }
    }
    let got: BTreeSet<(String, Option<String>, String)> = d
        .permissions
        .listed
        .iter()
        .map(|c| {
            (
                c.login.as_str().to_owned(),
                c.project.as_ref().map(|p| p.as_str().to_owned()),
                c.permission.clone(),
            )
        })
        .collect();
    assert_eq!(got, want, "step {step}: permissions");
}

#[test]
fn a_random_change_sequence_agrees_with_svnauthz_and_a_full_scan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed =
        std::env::var("ROLESYNC_DIFF_SEED").map_or(20261201, |s| s.parse().expect("a number"));
    let mut rng = Rng(seed);
    let mut state = State::new();
    let mut old = state.snapshot(0);
    let (mut reported, mut sampled, mut changed_steps) = (0, 0, 0);
    let (mut group_changes, mut permission_changes) = (0, 0);
    for step in 1..=40 {
        state.change(&mut rng);
        if rng.below(2) == 0 {
            state.change(&mut rng);
        }
        let new = state.snapshot(step);
        let d = diff::diff(&old, &new).expect("diff");
        let (r, s) = check_step(&mut rng, dir.path(), step, &d, &old, &new);
        check_full_scan(step, &d, &old, &new);
        group_changes += d.groups.total;
        permission_changes += d.permissions.total;
        reported += r;
        sampled += s;
        changed_steps += usize::from(r > 0);
        old = new;
    }
    // The sequence is no trivial one: access changed in many steps.
    assert!(
        changed_steps >= 10 && reported >= 20,
        "{changed_steps} steps, {reported} pairs"
    );
    assert!(sampled >= 100, "{sampled}");
    assert!(
        group_changes >= 10 && permission_changes >= 10,
        "{group_changes} role-group and {permission_changes} permission changes"
    );
}
