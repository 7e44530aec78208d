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
    insta::assert_snapshot!(util::unstamped(&groups));
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

#[test]
fn rendering_the_rendered_file_again_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    util::copy_tree(&util::root().join("sample-repo"), dir.path());
    let first = render(dir.path());
    std::fs::write(dir.path().join(".polarion/access"), &first).expect("write");
    assert_eq!(
        util::unstamped(&render(dir.path())),
        util::unstamped(&first)
    );
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
