//! Each rail on small configurations: (what the change does, what the
//! rails say), as one line per diagnostic.

use super::*;
use crate::diff;
use crate::snapshot::{self, Input, RevisionMeta};

const ROLES: &str = snapshot::USER_ROLES;
const GROUPS: &str = snapshot::GROUPS;
const ACCESS: &str = snapshot::ACCESS_FILE;
const RAILS: &str = snapshot::RAILS_FILE;

/// `<user-roles>` giving each `(holder, role)`; a holder `@g` is a group.
fn roles(pairs: &[(&str, &str)]) -> String {
    let mut xml = String::from("<user-roles>\n");
    for (holder, role) in pairs {
        let (tag, name) = match holder.strip_prefix('@') {
            Some(g) => ("group", g),
            None => ("user", *holder),
        };
        xml.push_str(&format!(
            "<{tag} name=\"{name}\"><role name=\"{role}\"/></{tag}>\n"
        ));
    }
    xml + "</user-roles>\n"
}

fn user(login: &str, disabled: bool) -> (String, String) {
    (
        format!("{}{login}/user.xml", snapshot::USERS_DIR),
        format!("<user><field id=\"disabled\">{disabled}</field></user>"),
    )
}

/// A valid snapshot of `files`, with `message` as the revision's message.
pub(crate) fn snap(files: &[(String, String)], message: &str) -> Snapshot {
    let mut input = Input {
        revision: "r".into(),
        meta: Some(RevisionMeta {
            message: message.into(),
            ..RevisionMeta::default()
        }),
        ..Input::default()
    };
    for (path, text) in files {
        input.files.insert(path.clone(), text.as_str().into());
    }
    let report = snapshot::build(&input);
    report
        .snapshot
        .unwrap_or_else(|| panic!("invalid: {:#?}", report.diagnostics))
}

fn file(path: &str, text: &str) -> (String, String) {
    (path.to_owned(), text.to_owned())
}

/// The rails' lines for the change from `old` to `new`.
fn rails(old: &[(String, String)], new: &[(String, String)], target: &Target) -> Vec<String> {
    let (old, new) = (snap(old, ""), snap(new, ""));
    check(&Change {
        old: &old,
        new: &new,
        target,
        diff: None,
    })
    .iter()
    .map(|d| format!("{}[{}] {}", d.severity.as_str(), d.code, d.file))
    .collect()
}

const ACCESS_TEXT: &str = "[/]\n* = r\n";

pub(crate) fn config(
    pairs: &[(&str, &str)],
    users: &[(&str, bool)],
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let mut files = vec![file(ROLES, &roles(pairs)), file(ACCESS, ACCESS_TEXT)];
    files.extend(users.iter().map(|(l, d)| user(l, *d)));
    files.extend(extra.iter().cloned());
    files
}

const LAST_ADMIN: &str = "error[rail-last-admin] .polarion/security/user-roles.xml";

#[test]
fn last_admin_refuses_only_the_step_from_some_to_none() {
    let users = [("alice", false), ("bob", false)];
    let groups = file(
        GROUPS,
        r#"<user-groups><group id="ops"><user name="bob"/></group></user-groups>"#,
    );
    let t = Target::Folder;
    // (what, old holders, new holders, new users, expected)
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [(&'a str, &'a str)],
        &'a [(&'a str, bool)],
        &'a [&'a str],
    );
    let cases: &[Case] = &[
        (
            "the role removed",
            &[("alice", "admin")],
            &[("alice", "user")],
            &users,
            &[LAST_ADMIN],
        ),
        (
            "the admin disabled",
            &[("alice", "admin")],
            &[("alice", "admin")],
            &[("alice", true), ("bob", false)],
            &[LAST_ADMIN],
        ),
        (
            "one of two kept",
            &[("alice", "admin"), ("bob", "admin")],
            &[("bob", "admin")],
            &users,
            &[],
        ),
        (
            "held through a user group",
            &[("alice", "admin")],
            &[("@ops", "admin")],
            &users,
            &[],
        ),
        (
            "there never was one (a first import)",
            &[("alice", "user")],
            &[("bob", "user")],
            &users,
            &[],
        ),
    ];
    for (what, old, new, new_users, expect) in cases {
        let old = config(old, &users, std::slice::from_ref(&groups));
        let new = config(new, new_users, std::slice::from_ref(&groups));
        assert_eq!(rails(&old, &new, &t), *expect, "{what}");
    }
    // Switched off in the configuration in force, not in the new one.
    let off = file(RAILS, "[rails]\nlast_admin = false\n");
    let old = config(&[("alice", "admin")], &users, std::slice::from_ref(&off));
    let new = config(&[("alice", "user")], &users, &[]);
    assert_eq!(rails(&old, &new, &t), Vec::<String>::new(), "off in old");
    let old = config(&[("alice", "admin")], &users, &[]);
    let new = config(&[("alice", "user")], &users, &[off]);
    assert_eq!(rails(&old, &new, &t), [LAST_ADMIN], "off only in new");
}

const LOCKOUT_ACCESS: &str = "error[rail-maintainer-lockout] .polarion/access";

fn svn(path: &str) -> Target {
    Target::Svn {
        repository: "config".into(),
        path: path.into(),
    }
}

/// alice (admin) and bob (user), with `text` as the access file.
fn with_access(text: &str, extra: &[(String, String)]) -> Vec<(String, String)> {
    let users = [("alice", false), ("bob", false)];
    let mut files = config(&[("alice", "admin"), ("bob", "user")], &users, extra);
    files[1] = file(ACCESS, text);
    files
}

#[test]
fn svn_lockout_refuses_taking_rw_on_the_config_from_everybody() {
    let cases: &[LockoutCase] = &[
        (
            "rw taken from the only writer",
            "[/]\nalice = rw\n",
            "[/]\nalice = r\n",
            svn("/"),
            &[LOCKOUT_ACCESS],
        ),
        (
            "one of two writers keeps rw",
            "[/]\nalice = rw\nbob = rw\n",
            "[/]\nbob = rw\n",
            svn("/"),
            &[],
        ),
        (
            "a repository-specific rule counts",
            "[/]\nalice = rw\n",
            "[/]\nalice = rw\n[config:/]\nalice = r\n",
            svn("/"),
            &[LOCKOUT_ACCESS],
        ),
        (
            "another repository's rule does not",
            "[/]\nalice = rw\n",
            "[/]\nalice = rw\n[code:/]\nalice = r\n",
            svn("/"),
            &[],
        ),
        (
            "rw below the config's path is kept",
            "[/]\nalice = rw\n",
            "[/]\nalice = r\n[/cfg]\nalice = rw\n",
            svn("/cfg"),
            &[],
        ),
        (
            "through `*`",
            "[/]\n* = rw\n",
            "[/]\n* = r\n",
            svn("/"),
            &[LOCKOUT_ACCESS],
        ),
        (
            "nobody had rw",
            "[/]\n* = r\n",
            "[/]\n* = r\nalice = r\n",
            svn("/"),
            &[],
        ),
        (
            "Git: the access file does not govern it",
            "[/]\nalice = rw\n",
            "[/]\nalice = r\n",
            Target::Git,
            &[],
        ),
    ];
    check_lockout(cases);
}

/// (what, old access, new access, target, expected)
type LockoutCase<'a> = (&'a str, &'a str, &'a str, Target, &'a [&'a str]);

fn check_lockout(cases: &[LockoutCase]) {
    let none: &[(String, String)] = &[];
    for (what, old, new, target, expect) in cases {
        let got = rails(&with_access(old, none), &with_access(new, none), target);
        assert_eq!(got, *expect, "{what}");
    }
}

/// The lock-out is first asked of the access files reduced to the
/// sections that reach the configuration's path: groups and sections
/// elsewhere answer as in the whole files.
#[test]
fn svn_lockout_through_groups_and_sections_elsewhere() {
    let cases: &[LockoutCase] = &[
        (
            "rw through a group that changes members",
            "[groups]\nteam = alice\n[/]\n@team = rw\n",
            "[groups]\nteam = bob\n[/]\n@team = rw\n",
            svn("/"),
            &[LOCKOUT_ACCESS],
        ),
        (
            "rw through a group, kept through a group it holds",
            "[groups]\ninner = alice\nteam = @inner\n[/]\n@team = rw\n",
            "[groups]\ninner = alice\nteam = @inner, bob\n[/]\n@team = rw\n",
            svn("/"),
            &[],
        ),
        (
            "a glob section reaches the config's path",
            "[/]\nalice = rw\n",
            "[/]\nalice = rw\n[:glob:/**]\nalice = r\n",
            svn("/"),
            &[LOCKOUT_ACCESS],
        ),
        (
            "a section elsewhere does not",
            "[/cfg]\nalice = rw\n",
            "[/cfg]\nalice = rw\n[/other]\nalice = r\n[config:/]\n* = r\n",
            svn("/cfg"),
            &[],
        ),
    ];
    check_lockout(cases);
}

#[test]
fn svn_lockout_reads_the_repository_and_path_from_the_rails_in_force() {
    let named = file(
        RAILS,
        "[rails]\nconfig_repository = \"cfgrepo\"\nconfig_path = \"/x\"\n",
    );
    let old = with_access("[/]\nalice = rw\n", std::slice::from_ref(&named));
    let new = with_access("[/]\nalice = rw\n[cfgrepo:/x]\nalice = r\n", &[]);
    assert_eq!(rails(&old, &new, &svn("/")), [LOCKOUT_ACCESS], "configured");
    let off = file(RAILS, "[rails]\nmaintainer_lockout = false\n");
    let old = with_access("[/]\nalice = rw\n", &[off]);
    let new = with_access("[/]\nalice = r\n", &[]);
    assert_eq!(rails(&old, &new, &svn("/")), Vec::<String>::new(), "off");
}

#[test]
fn maintainers_must_not_all_lose_their_accounts() {
    let rails_file = file(RAILS, "[rails]\nmaintainers = [\"alice\", \"bob\"]\n");
    let pairs = [("carol", "admin")];
    let expect = "error[rail-maintainer-lockout] .polarion/rolesync.toml";
    // (what, old users, new users, expected)
    type Users<'a> = &'a [(&'a str, bool)];
    let cases: &[(&str, Users, Users, &[&str])] = &[
        (
            "both disabled",
            &[("alice", false), ("bob", false), ("carol", false)],
            &[("alice", true), ("bob", true), ("carol", false)],
            &[expect],
        ),
        (
            "one deleted, one kept",
            &[("alice", false), ("bob", false), ("carol", false)],
            &[("bob", false), ("carol", false)],
            &[],
        ),
        (
            "none of them was active",
            &[("alice", true), ("carol", false)],
            &[("carol", false)],
            &[],
        ),
    ];
    for (what, old, new, want) in cases {
        let old = config(&pairs, old, std::slice::from_ref(&rails_file));
        let new = config(&pairs, new, std::slice::from_ref(&rails_file));
        assert_eq!(rails(&old, &new, &Target::Git), *want, "{what}");
    }
}

#[test]
fn a_rule_naming_a_group_the_change_empties_is_reported() {
    let users = [("alice", false), ("bob", false)];
    let access = "[groups]\nops = @tester, carl\nall-testers = @tester\n\n[/]\n@admin = rw\n@tester = r\n~@all-testers = r\n";
    let files = |holders: &[(&str, &str)], extra: &[(String, String)]| {
        let mut f = config(holders, &users, extra);
        f[1] = file(ACCESS, access);
        f
    };
    let mut roles_file = file(
        snapshot::ROLES,
        "<roles><role name=\"tester\" scope=\"global\"/></roles>",
    );
    roles_file.1 = r#"<roles><role id="tester" scope="global"/></roles>"#.to_owned();
    let old = files(
        &[("alice", "admin"), ("bob", "tester")],
        std::slice::from_ref(&roles_file),
    );
    let new = files(&[("alice", "admin")], std::slice::from_ref(&roles_file));
    let t = Target::Folder;
    let lines = |sev: &str| {
        vec![
            format!("{sev}[rail-emptied-group] .polarion/access"),
            format!("{sev}[rail-emptied-group] .polarion/access"),
        ]
    };
    // @tester and @all-testers (which only holds @tester) are emptied;
    // ops keeps carl.
    assert_eq!(rails(&old, &new, &t), lines("warning"));
    let (o, n) = (snap(&old, ""), snap(&new, ""));
    let d = check(&Change {
        old: &o,
        new: &n,
        target: &t,
        diff: None,
    });
    assert_eq!(
        (d[0].line, d[0].col, d[1].line, d[1].col),
        (7, 1, 8, 1),
        "{d:#?}"
    );
    let mut old_err = old.clone();
    old_err.push(file(RAILS, "[rails]\nemptied_group = \"error\"\n"));
    assert_eq!(rails(&old_err, &new, &t), lines("error"));
    let mut old_off = old.clone();
    old_off.push(file(RAILS, "[rails]\nemptied_group = \"off\"\n"));
    assert_eq!(rails(&old_off, &new, &t), Vec::<String>::new());
}

#[test]
fn judge_applies_nothing_without_a_configuration_in_force_and_refuses_on_errors() {
    let users = [("alice", false)];
    let new = snap(&config(&[("alice", "user")], &users, &[]), "");
    assert_eq!(judge(None, &new, &Target::Folder).map(|w| w.len()), Ok(0));
    let old = snap(&config(&[("alice", "admin")], &users, &[]), "");
    let refused = judge(Some(&old), &new, &Target::Folder).expect_err("refused");
    assert!(
        refused
            .iter()
            .any(|d| d.code == crate::diag::Code::RailLastAdmin)
    );
}

#[test]
fn nonempty_groups_expand_subgroups_and_aliases() {
    let text = "[aliases]\nci = svc\n[groups]\na = @b\nb = @c\nc =\nd = &ci\ne = @d, @c\nf = x\n";
    let got: Vec<String> = emptied::nonempty_groups(text).into_iter().collect();
    assert_eq!(got, ["d", "e", "f"]);
}

/// `rolesync.toml` problems, as `(line, col, code)`.
fn toml_diags(text: &str) -> Vec<(u32, u32, &'static str)> {
    let src = crate::diag::Source::new(RAILS, text);
    let (_, d) = config::parse(&src, &crate::limits::Limits::default());
    d.iter().map(|d| (d.line, d.col, d.code.as_str())).collect()
}

#[test]
fn rolesync_toml_problems_are_located() {
    type Located<'a> = &'a [(u32, u32, &'a str)];
    let cases: &[(&str, Located)] = &[
        (
            "[rails]\nlast_admin = false\nemptied_group = \"error\"\nmaintainers = [\"a\"]\n",
            &[],
        ),
        ("[rails]\nlast_admin = \n", &[(2, 14, "rails-toml-syntax")]),
        (
            "[rails]\nlast_admn = false\n",
            &[(2, 1, "rails-unknown-key")],
        ),
        ("[rail]\n", &[(1, 2, "rails-unknown-key")]),
        ("rails = 1\n", &[(1, 9, "rails-invalid-value")]),
        (
            "[rails]\nlast_admin = \"no\"\n",
            &[(2, 14, "rails-invalid-value")],
        ),
        (
            "[rails]\nemptied_group = \"loud\"\n",
            &[(2, 17, "rails-invalid-value")],
        ),
        (
            "[rails]\nmass_change_percent = 101\nmass_change_logins = -1\n",
            &[
                (2, 23, "rails-invalid-value"),
                (3, 22, "rails-invalid-value"),
            ],
        ),
        (
            "[rails]\nmaintainers = [\"ok\", \"bad name\", 3]\n",
            &[
                (2, 22, "rails-invalid-value"),
                (2, 34, "rails-invalid-value"),
            ],
        ),
        (
            "[rails]\nconfig_path = \"cfg\"\n",
            &[(2, 15, "rails-invalid-value")],
        ),
    ];
    for (text, expect) in cases {
        let mut got = toml_diags(text);
        got.sort();
        assert_eq!(got, *expect, "{text}");
    }
}

#[test]
fn the_settings_are_read_and_defaults_protect() {
    let src = crate::diag::Source::new(RAILS, "");
    let (defaults, d) = config::parse(&src, &crate::limits::Limits::default());
    assert!(d.is_empty());
    assert_eq!(defaults, Config::default());
    assert!(defaults.last_admin && defaults.maintainer_lockout && defaults.mass_change);
    assert_eq!(defaults.emptied_group, Some(crate::diag::Severity::Warning));
    assert_eq!(
        (defaults.mass_change_logins, defaults.mass_change_percent),
        (50, 10)
    );
    let text =
        "[rails]\nmaintainers = [\"alice\"]\nconfig_repository = \"\"\nmass_change_logins = 0x10\n";
    let src = crate::diag::Source::new(RAILS, text);
    let (c, d) = config::parse(&src, &crate::limits::Limits::default());
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(c.maintainers.len(), 1);
    assert_eq!(c.config_repository.as_deref(), Some(""));
    assert_eq!(c.mass_change_logins, 16);
}

#[test]
fn the_mass_change_threshold_is_the_larger_of_the_count_and_the_share() {
    let rails = |logins, percent| Config {
        mass_change_logins: logins,
        mass_change_percent: percent,
        ..Config::default()
    };
    // (logins, percent, active accounts, threshold)
    let cases = [
        (50, 10, 100, 50),
        (50, 10, 10_000, 1_000),
        (50, 10, 501, 51),
        (0, 0, 10_000, 0),
        (5, 100, 3, 5),
        (u64::MAX, 100, usize::MAX, u64::MAX),
    ];
    for (logins, percent, active, expect) in cases {
        assert_eq!(
            threshold(&rails(logins, percent), active),
            expect,
            "{logins} {percent} {active}"
        );
    }
}

#[test]
fn a_mass_change_is_refused_unless_the_message_carries_the_trailer() {
    let users = [
        ("alice", false),
        ("bob", false),
        ("carol", false),
        ("dave", false),
    ];
    let limit = file(
        RAILS,
        "[rails]\nmass_change_logins = 2\nemptied_group = \"off\"\n",
    );
    let holders = [
        ("alice", "admin"),
        ("bob", "user"),
        ("carol", "user"),
        ("dave", "user"),
    ];
    let old = snap(&config(&holders, &users, std::slice::from_ref(&limit)), "");
    let change = |keep: usize, message: &str| {
        let new = snap(&config(&holders[..keep], &users, &[]), message);
        let codes: Vec<&str> = check(&Change {
            old: &old,
            new: &new,
            target: &Target::Folder,
            diff: None,
        })
        .iter()
        .map(|d| d.code.as_str())
        .collect();
        codes
    };
    // (holders kept, message, expected): bob, carol and dave leave `user`.
    assert_eq!(change(1, "three leave"), ["rail-mass-change"]);
    assert_eq!(change(2, "two leave"), Vec::<&str>::new());
    assert_eq!(
        change(1, "three leave\n\nRolesync-Allow: mass-change\n"),
        Vec::<&str>::new()
    );
    assert_eq!(
        change(1, "Rolesync-Allow: mass-change\n\nthree leave"),
        ["rail-mass-change"]
    );
    // The refusal says how to override.
    let new = snap(&config(&holders[..1], &users, &[]), "");
    let d = judge(Some(&old), &new, &Target::Folder).expect_err("refused");
    assert!(
        d[0].message.contains("`Rolesync-Allow: mass-change`"),
        "{}",
        d[0].message
    );
    let off = file(
        RAILS,
        "[rails]\nmass_change = false\nmass_change_logins = 2\n",
    );
    let old = snap(&config(&holders, &users, &[off]), "");
    assert_eq!(
        judge(Some(&old), &new, &Target::Folder).map(|w| w.len()),
        Ok(0)
    );
}

/// Three holders (`alice` the admin, `bob` and `carol` users) under a
/// mass-change limit of one login: the holders and the snapshot of them
/// all, and the snapshot of those kept with a message.
pub(crate) struct ThreeHolders {
    pub(crate) holders: [(&'static str, &'static str); 3],
    pub(crate) old: Snapshot,
}

const THREE_USERS: [(&str, bool); 3] = [("alice", false), ("bob", false), ("carol", false)];

impl ThreeHolders {
    pub(crate) fn new() -> ThreeHolders {
        let holders = [("alice", "admin"), ("bob", "user"), ("carol", "user")];
        let old = Self::with(&holders, "");
        ThreeHolders { holders, old }
    }

    /// (holders kept, message): nothing changes; one leaves; two leave (a
    /// mass change); the admin leaves; two leave with the trailer.
    pub(crate) fn cases<'h>(
        h: &'h [(&'static str, &'static str)],
    ) -> [(&'h [(&'static str, &'static str)], &'static str); 5] {
        [
            (h, ""),
            (&h[..2], ""),
            (&h[..1], ""),
            (&h[1..], ""),
            (&h[..1], "Rolesync-Allow: mass-change\n"),
        ]
    }

    /// The snapshot of the holders `keep`, under the same limit.
    pub(crate) fn with(keep: &[(&str, &str)], message: &str) -> Snapshot {
        let limit = file(RAILS, "[rails]\nmass_change_logins = 1\n");
        snap(&config(keep, &THREE_USERS, &[limit]), message)
    }
}

#[test]
fn the_rails_in_two_halves_say_what_the_rails_after_the_diff_say() {
    let ThreeHolders { holders, old } = ThreeHolders::new();
    let report = |keep: &[(&str, &str)], message: &str| {
        let new = ThreeHolders::with(keep, message);
        snapshot::Report {
            revision: "r".into(),
            snapshot: Some(new),
            diagnostics: Vec::new(),
            tests: Vec::new(),
        }
    };
    let lines = |r: &snapshot::Report| -> Vec<String> {
        (r.diagnostics.iter())
            .map(|d| format!("{}[{}] {}", d.severity.as_str(), d.code, d.message))
            .collect()
    };
    let mut refusals = 0;
    for (keep, message) in ThreeHolders::cases(&holders) {
        let (mut after, mut beside) = (report(keep, message), report(keep, message));
        let refused = apply(&mut after, Some(&old), &Target::Folder, None);
        let new = beside.snapshot.clone().expect("built");
        let undiffed = check_undiffed(&Change {
            old: &old,
            new: &new,
            target: &Target::Folder,
            diff: None,
        });
        let computed = diff::diff(&old, &new).expect("diff");
        let refused_beside = apply_checked(
            &mut beside,
            &old,
            &Target::Folder,
            undiffed,
            Some(&computed),
        );
        assert_eq!(refused, refused_beside, "{keep:?} {message:?}");
        assert_eq!(lines(&after), lines(&beside), "{keep:?} {message:?}");
        assert_eq!(after.snapshot.is_some(), beside.snapshot.is_some());
        refusals += usize::from(refused);
    }
    assert_eq!(
        refusals, 2,
        "the mass change and the last admin are refused"
    );
}

#[test]
fn the_readme_example_is_the_defaults() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("# .polarion/rolesync.toml")
        .expect("the README shows rolesync.toml");
    let block = &readme[start..];
    let block = &block[..block.find("```").expect("the block ends")];
    let src = crate::diag::Source::new(RAILS, block);
    let (c, d) = config::parse(&src, &crate::limits::Limits::default());
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(c, Config::default());
}

/// `rolesync.toml` nested to the TOML reader's limit (80 levels) and
/// beyond is read (and dropped) on a 256 KiB stack, the size
/// `snapshot::fuzz` holds every reader to; each such file is refused.
#[test]
fn deeply_nested_rolesync_toml_is_read_on_a_small_stack() {
    let mut texts = Vec::new();
    for n in [40usize, 79, 80, 81, 10_000] {
        texts.push("[rails]\nmaintainers = ".to_owned() + &"[".repeat(n) + &"]".repeat(n) + "\n");
        texts.push("[rails]\nx = ".to_owned() + &"{a = ".repeat(n) + "1" + &"}".repeat(n) + "\n");
        texts.push(format!("[{}]\nb = 1\n", vec!["rails"; n].join(".")));
    }
    let codes = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            texts
                .iter()
                .map(|t| {
                    let src = crate::diag::Source::new(RAILS, t);
                    let (_, d) = config::parse(&src, &crate::limits::Limits::default());
                    d.first().map(|d| d.code)
                })
                .collect::<Vec<_>>()
        })
        .expect("spawn a thread")
        .join()
        .expect("no panic, no overflow");
    assert!(codes.iter().all(Option::is_some), "{codes:?}");
    assert!(
        codes.contains(&Some(crate::diag::Code::RailsTomlSyntax)),
        "{codes:?}"
    );
}

proptest::proptest! {
    /// Any text is read without a panic, and every problem lies inside it.
    #[test]
    fn any_rolesync_toml_gives_located_diagnostics(
        body in "(\\[rails\\]\n)?([a-z_]{1,20} = (true|\"[a-z ]{0,8}\"|-?[0-9]{1,20}|\\[\"[a-z@. ]{0,8}\"\\]|\\{\\})\n){0,6}[\\PC\n]{0,40}"
    ) {
        let src = crate::diag::Source::new(RAILS, &body);
        let (_, diags) = config::parse(&src, &crate::limits::Limits::default());
        for d in diags {
            proptest::prop_assert!(d.span.end <= body.len(), "{d:?}");
            proptest::prop_assert!(d.line >= 1 && d.col >= 1, "{d:?}");
        }
    }
}
