//! `render` on `sample-repo/` and on variations of it: the generated
//! `[groups]`, everything else byte for byte, and Subversion's verdict.

use std::path::Path;

use crate::util;

fn render(repo: &Path) -> String {
    let out = util::rolesync()
        .arg("render")
        .arg("--repo")
        .arg(repo)
        .output()
        .expect("rolesync runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "render failed:\n{}",
        util::stderr(&out)
    );
    util::stdout(&out)
}

#[test]
fn sample_repo_is_valid_without_any_diagnostic() {
    let out = util::rolesync()
        .arg("validate")
        .arg("--repo")
        .arg(util::root().join("sample-repo"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        util::stdout(&out),
        "",
        "sample-repo should produce no diagnostic"
    );
}

#[test]
fn sample_repo_renders_groups_and_keeps_everything_else() {
    let repo = util::root().join("sample-repo");
    let rendered = render(&repo);
    let source =
        std::fs::read_to_string(repo.join(".polarion/access")).expect("sample access file");
    assert_eq!(
        util::without_groups(&rendered),
        util::without_groups(&source)
    );
    let groups: String = rendered
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with("[groups]"))
        .take_while(|l| !l.starts_with("# The shared repository"))
        .collect();
    insta::assert_snapshot!(groups);
}

#[test]
fn sample_repo_output_passes_svnauthz_validate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("access");
    let out = util::rolesync()
        .args(["render", "-o"])
        .arg(&file)
        .arg("--repo")
        .arg(util::root().join("sample-repo"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    util::svnauthz_validate(&file).expect("svnauthz accepts the rendered file");
}

/// A file the previous version rendered (its BEGIN marker named the
/// revision) is recognised as rolesync's when it is committed back: its
/// block is replaced by one that names no revision, nothing is taken over,
/// and a role group written by hand beside it is refused.
#[test]
fn a_file_rendered_by_the_previous_version_is_recognised() {
    let dir = tempfile::tempdir().expect("temp dir");
    util::copy_tree(&util::root().join("sample-repo"), dir.path());
    let current = render(dir.path());
    let marker = "# rolesync: BEGIN generated groups; edit the role files, not these lines\n";
    assert!(current.contains(marker), "{current}");
    let old = current.replace(
        marker,
        "# rolesync: BEGIN generated groups (revision 6a718dcfff4433553c1b2c4b3d5131ac410d3120); edit the role files, not these lines\n",
    );
    let access = dir.path().join(".polarion/access");
    std::fs::write(&access, &old).expect("write");
    let out = util::rolesync()
        .arg("render")
        .arg("--repo")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    assert_eq!(util::stdout(&out), current);
    assert!(
        !util::stderr(&out).contains("role-group-taken-over"),
        "{}",
        util::stderr(&out)
    );
    // A role group by hand beside the old markers is refused.
    let hand = old.replace(
        "# rolesync: END generated groups\n",
        "# rolesync: END generated groups\nadmin = mallory\n",
    );
    std::fs::write(&access, hand).expect("write");
    let out = util::rolesync()
        .arg("validate")
        .arg("--repo")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        util::stdout(&out).contains("error[group-collides-with-role]"),
        "{}",
        util::stdout(&out)
    );
}

#[test]
fn rendering_the_rendered_file_again_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    util::copy_tree(&util::root().join("sample-repo"), dir.path());
    let first = render(dir.path());
    std::fs::write(dir.path().join(".polarion/access"), &first).expect("write");
    assert_eq!(render(dir.path()), first);
}

#[test]
fn output_file_is_not_rewritten_when_unchanged_and_untouched_when_invalid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    util::copy_tree(&util::root().join("sample-repo"), &repo);
    let file = dir.path().join("access");
    let write = || {
        util::rolesync()
            .args(["render", "-o"])
            .arg(&file)
            .arg("--repo")
            .arg(&repo)
            .output()
            .expect("runs")
    };
    assert_eq!(write().status.code(), Some(0));
    let before = std::fs::metadata(&file).expect("written");
    assert_eq!(write().status.code(), Some(0));
    let after = std::fs::metadata(&file).expect("still there");
    assert_eq!(
        before.modified().expect("mtime"),
        after.modified().expect("mtime")
    );
    let good = std::fs::read(&file).expect("read");

    std::fs::write(
        repo.join(".polarion/security/user-roles.xml"),
        "<user-roles><user name=\"x\">",
    )
    .expect("break");
    let out = write();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read(&file).expect("read"),
        good,
        "an invalid configuration must not touch the file"
    );
}

#[test]
fn disabled_and_unknown_accounts_are_left_out() {
    let rendered = render(&util::root().join("sample-repo"));
    let line = |name: &str| {
        rendered
            .lines()
            .find(|l| l.starts_with(&format!("{name} =")))
            .unwrap_or_else(|| panic!("no group {name}"))
            .to_owned()
    };
    // dave is disabled: not in `user`, not in elibrary-project_user, not through qa-team.
    assert_eq!(
        line("elibrary-project_user"),
        "elibrary-project_user = carol"
    );
    assert_eq!(
        line("qa-tools-project_user"),
        "qa-tools-project_user = erin, frank"
    );
    assert!(!line("user").contains("dave"));
    assert_eq!(
        line("qa-tools-project_approver"),
        "qa-tools-project_approver ="
    );
}

#[test]
fn an_access_file_without_groups_gets_a_groups_section() {
    let dir = tempfile::tempdir().expect("temp dir");
    util::copy_tree(&util::data("diag/duplicate-assignment"), dir.path());
    let rendered = render(dir.path());
    assert!(
        rendered.starts_with("[groups]\n# rolesync: BEGIN generated groups"),
        "{rendered}"
    );
    assert!(
        rendered.ends_with("# rolesync: END generated groups\n\n[/]\n@admin = rw\n* = r\n"),
        "{rendered}"
    );
}

#[test]
fn rendering_into_the_folder_itself_reaches_a_fixed_point() {
    let dir = tempfile::tempdir().expect("temp dir");
    util::copy_tree(&util::root().join("sample-repo"), dir.path());
    let access = dir.path().join(".polarion/access");
    let once = render(dir.path());
    std::fs::write(&access, &once).expect("write");
    let twice = render(dir.path());
    std::fs::write(&access, &twice).expect("write");
    assert_eq!(
        render(dir.path()),
        twice,
        "the folder's revision must not depend on its own stamp"
    );
}

/// sample-repo/ with `tests/data/polarion-access/access` as its access file:
/// the file Polarion's own synchronisation leaves (role groups, no rolesync
/// markers).
fn polarion_shaped_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    util::copy_tree(&util::root().join("sample-repo"), dir.path());
    std::fs::copy(
        util::data("polarion-access/access"),
        dir.path().join(".polarion/access"),
    )
    .expect("copy the Polarion-shaped access file");
    dir
}

/// The role groups the first run takes over: (role group, its generated
/// line, what the warning says changed).
const TAKEN_OVER: &[(&str, &str, &str)] = &[
    ("admin", "admin = alice", "added none; removed olduser"),
    (
        "assignable",
        "assignable = bob, grace",
        "added grace; removed none",
    ),
    ("auditor", "auditor = heidi", "members unchanged"),
    (
        "everyone",
        "everyone = alice, bob, carol, erin, frank, grace, heidi",
        "added none; removed dave, olduser",
    ),
    (
        "user",
        "user = alice, bob, carol, erin, frank, grace, heidi",
        "added none; removed dave",
    ),
    (
        "drivepilot-project_admin",
        "drivepilot-project_admin = alice",
        "members unchanged",
    ),
    (
        "drivepilot-project_approver",
        "drivepilot-project_approver = grace, heidi",
        "added heidi; removed none",
    ),
    (
        "drivepilot-project_assignable",
        "drivepilot-project_assignable =",
        "added none; removed olduser",
    ),
    (
        "drivepilot-project_user",
        "drivepilot-project_user = carol, grace",
        "members unchanged",
    ),
    (
        "elibrary-project_admin",
        "elibrary-project_admin = bob",
        "members unchanged",
    ),
    (
        "elibrary-project_approver",
        "elibrary-project_approver = carol",
        "members unchanged",
    ),
    (
        "elibrary-project_assignable",
        "elibrary-project_assignable = bob, carol",
        "members unchanged",
    ),
    (
        "elibrary-project_user",
        "elibrary-project_user = carol",
        "added none; removed dave",
    ),
    (
        "qa-tools-project_admin",
        "qa-tools-project_admin = erin",
        "members unchanged",
    ),
    (
        "qa-tools-project_approver",
        "qa-tools-project_approver =",
        "members unchanged",
    ),
    (
        "qa-tools-project_assignable",
        "qa-tools-project_assignable =",
        "members unchanged",
    ),
    // A role defined in roles.xml that nobody holds in this project.
    (
        "qa-tools-project_tester",
        "qa-tools-project_tester =",
        "added none; removed olduser",
    ),
    (
        "qa-tools-project_user",
        "qa-tools-project_user = erin, frank",
        "members unchanged",
    ),
];

/// Seed 003, "Synchronizing Roles with Repository": the synchronisation
/// "updates the access file ..., synchronizing it with the role definitions
/// and user role assignment configurations. (Only the first part of the
/// access file is affected, not the directory rules in the second part). It
/// ensures that access file contains group for every user role and that
/// group membership is in sync with role assignment." The first run on a
/// file without rolesync's markers takes every role group over.
#[test]
fn a_polarion_access_file_is_taken_over_on_the_first_run() {
    let repo = polarion_shaped_repo();
    let source = std::fs::read_to_string(repo.path().join(".polarion/access")).expect("read");
    let out_dir = tempfile::tempdir().expect("temp dir");
    let file = out_dir.path().join("access");
    let out = util::rolesync()
        .args(["render", "-o"])
        .arg(&file)
        .arg("--repo")
        .arg(repo.path())
        .output()
        .expect("rolesync runs");
    let stderr = util::stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let rendered = std::fs::read_to_string(&file).expect("written");

    // One warning per taken-over group, at its line, naming the changes.
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning[")).collect();
    assert_eq!(warnings.len(), TAKEN_OVER.len(), "{stderr}");
    for (group, line, changes) in TAKEN_OVER {
        let at = source
            .lines()
            .position(|l| l.starts_with(&format!("{group} =")))
            .expect("the group is in the source")
            + 1;
        let expect = format!(
            ".polarion/access:{at}:1: warning[role-group-taken-over]: the role group `{group}` is taken over (the file has no rolesync markers yet) and replaced by the generated one: {changes}"
        );
        assert!(
            warnings.contains(&expect.as_str()),
            "missing {expect}\n{stderr}"
        );
        // The generated line replaces the written one: the group is defined once.
        let defined: Vec<&str> = rendered
            .lines()
            .filter(|l| l.starts_with(&format!("{group} =")))
            .collect();
        assert_eq!(defined, [*line], "{group}");
    }
    // A role nobody holds, missing from Polarion's file, gets its group too.
    assert!(rendered.contains("\nelibrary-project_tester = erin, frank\n"));

    // Hand-written groups are kept as written, after the block, among them
    // those shaped like role groups of a project that no longer exists and
    // of a role that is neither built in, defined nor assigned; every byte
    // outside [groups] is kept.
    assert!(
        rendered.contains(
            "# rolesync: END generated groups\nlegacy-project_user = bob\n\
             elibrary-project_reviewer = bob\n\
             release-managers = @elibrary-project_admin, @drivepilot-project_admin\n\
             auditors = @auditor, &ci\n\n[aliases]\n"
        ),
        "{rendered}"
    );
    assert_eq!(
        util::without_groups(&rendered),
        util::without_groups(&source)
    );
    util::svnauthz_validate(&file).expect("svnauthz accepts the taken-over file");

    // The result carries the markers: the next run takes nothing over.
    std::fs::copy(&file, repo.path().join(".polarion/access")).expect("commit it back");
    let again = util::rolesync()
        .arg("render")
        .arg("--repo")
        .arg(repo.path())
        .output()
        .expect("rolesync runs");
    assert_eq!(again.status.code(), Some(0));
    // No diagnostic: stderr has only the line that says what the file costs.
    let stderr = util::stderr(&again);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("rolesync: the access file costs Subversion "),
        "{stderr}"
    );
    assert_eq!(util::stdout(&again), rendered);
}

/// `validate` and `render` say what the access file costs Subversion to
/// load, in Subversion's terms (SVN-AUTHZ.md §9.3): the sample names 8
/// users (7 accounts and the alias target `svc-jenkins`) in 7 rule
/// sections. Above `--warn-access-cost` it is a warning, and the file is
/// still rendered.
#[test]
fn validate_and_render_report_what_the_file_costs_subversion() {
    let line = "rolesync: the access file costs Subversion 56 to load (8 users named × 7 rule sections; access-file-expensive above 2000000)\n";
    for command in ["validate", "render"] {
        let out = util::rolesync()
            .arg(command)
            .arg("--repo")
            .arg(util::root().join("sample-repo"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{command}");
        assert!(
            util::stderr(&out).ends_with(line),
            "{command}: {}",
            util::stderr(&out)
        );
    }
    let out = util::rolesync()
        .args(["render", "--warn-access-cost", "55", "--repo"])
        .arg(util::root().join("sample-repo"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        util::stderr(&out).contains("warning[access-file-expensive]: the rendered access file costs Subversion 56 to load (8 users named × 7 rule sections), more than 55"),
        "{}",
        util::stderr(&out)
    );
    assert!(util::stdout(&out).contains("[groups]\n"));
}

/// Once the file carries the markers, a role group written by hand again
/// is refused (docs/permissions.md, "Role groups in the access file").
#[test]
fn a_role_group_written_again_beside_the_markers_is_refused() {
    let repo = polarion_shaped_repo();
    let access = repo.path().join(".polarion/access");
    let first = render(repo.path());
    std::fs::write(
        &access,
        first.replace("[aliases]", "admin = mallory\n\n[aliases]"),
    )
    .expect("write");
    let out = util::rolesync()
        .arg("render")
        .arg("--repo")
        .arg(repo.path())
        .output()
        .expect("rolesync runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        util::stderr(&out)
            .contains("error[group-collides-with-role]: the hand-written group `admin`"),
        "{}",
        util::stderr(&out)
    );
}
