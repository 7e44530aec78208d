//! `fleet status`'s judgement: URLs, the fleet's revision, each daemon's
//! state, lag and line, from `/v1/status` answers as JSON.

use super::*;

fn answer(json: &str) -> Result<StatusDto, String> {
    Ok(serde_json::from_str(json).expect("a status"))
}

fn applied(revision: &str, time: i64) -> Result<StatusDto, String> {
    answer(&format!(
        r#"{{"applied": {{"revision": "{revision}", "applied_at": "2026-12-01T10:00:00.000Z", "commit_time": {time}}}, "status": "ok"}}"#
    ))
}

fn states(answers: Vec<Result<StatusDto, String>>) -> Vec<State> {
    let named = answers
        .into_iter()
        .enumerate()
        .map(|(i, a)| (format!("http://s{i}:8411"), a))
        .collect();
    assess(named).servers.iter().map(|s| s.state).collect()
}

#[test]
fn daemons_that_agree_are_ok() {
    let fleet = assess(vec![
        ("a".into(), applied("7", 1)),
        ("b".into(), applied("7", 1)),
    ]);
    assert!(fleet.all_ok);
    assert_eq!(fleet.revision.as_deref(), Some("7"));
}

#[test]
fn the_one_on_another_revision_than_most_is_diverged() {
    let got = states(vec![applied("8", 2), applied("7", 1), applied("8", 2)]);
    assert_eq!(got, [State::Ok, State::Diverged, State::Ok]);
}

#[test]
fn a_tie_goes_to_the_newest_commit() {
    let got = states(vec![applied("aaa", 1), applied("bbb", 2)]);
    assert_eq!(got, [State::Diverged, State::Ok]);
}

#[test]
fn an_error_is_unreachable_and_fails_the_fleet() {
    let fleet = assess(vec![
        ("a".into(), applied("7", 1)),
        ("b".into(), Err("cannot connect: refused".into())),
    ]);
    assert_eq!(fleet.servers[1].state, State::Unreachable);
    assert!(!fleet.all_ok);
    assert!(
        fleet
            .text()
            .contains("unreachable  cannot connect: refused"),
        "{}",
        fleet.text()
    );
}

#[test]
fn a_bad_newest_revision_or_an_unreachable_remote_is_stale() {
    let bad = answer(
        r#"{"applied": {"revision": "7"}, "stale_since": "2026-12-01T10:00:00Z", "status": "degraded"}"#,
    );
    let cut_off = answer(
        r#"{"applied": {"revision": "7"}, "remote": {"url": "git://x/c", "head": "7", "last_fetch_at": null, "unreachable_since": "2026-12-01T10:00:00Z", "error": "refused", "refused": null}}"#,
    );
    assert_eq!(states(vec![bad, cut_off]), [State::Stale, State::Stale]);
}

#[test]
fn nothing_applied_yet_is_stale() {
    assert_eq!(states(vec![answer(r#"{"applied": null}"#)]), [State::Stale]);
}

#[test]
fn a_refused_force_push_or_signature_is_refused() {
    let push = answer(
        r#"{"applied": {"revision": "7"}, "remote": {"head": "6", "refused": "force-push to 6"}}"#,
    );
    let unsigned = answer(
        r#"{"applied": {"revision": "7"}, "stale_since": "2026-12-01T10:00:00Z",
            "attempted": {"result": "failed", "revision": "9", "errors": [{"code": "commit-unsigned", "message": "not signed"}]}}"#,
    );
    let fleet = assess(vec![("a".into(), push), ("b".into(), unsigned)]);
    let got: Vec<_> = fleet.servers.iter().map(|s| s.state).collect();
    assert_eq!(got, [State::Refused, State::Refused]);
    assert_eq!(
        fleet.servers[1].detail.as_deref(),
        Some("9: commit-unsigned: not signed")
    );
}

#[test]
fn lag_counts_svn_revisions_and_names_a_git_head() {
    let svn = answer(r#"{"applied": {"revision": "7"}, "remote": {"head": "10"}}"#);
    let git = answer(
        r#"{"applied": {"revision": "0123456789abcdef"}, "remote": {"head": "fedcba9876543210"}}"#,
    );
    let same = answer(r#"{"applied": {"revision": "7"}, "remote": {"head": "7"}}"#);
    let fleet = assess(vec![
        ("a".into(), svn),
        ("b".into(), git),
        ("c".into(), same),
    ]);
    let lags: Vec<_> = fleet
        .servers
        .iter()
        .map(|s| s.columns()[3].clone())
        .collect();
    assert_eq!(lags, ["3 behind", "behind fedcba987654", "0"]);
}

#[test]
fn the_text_is_one_aligned_line_per_daemon() {
    let fleet = assess(vec![
        ("http://a:1".into(), applied("7", 1)),
        ("http://long-name:1".into(), applied("7", 1)),
    ]);
    insta::assert_snapshot!(fleet.text(), @r"
    http://a:1          7  2026-12-01T10:00:00.000Z  -  ok
    http://long-name:1  7  2026-12-01T10:00:00.000Z  -  ok
    ");
}

#[test]
fn urls_take_a_default_port_and_keep_a_prefix() {
    let t = Target::parse("http://svn1.acme.example/rolesync/").expect("a URL");
    assert_eq!(t.authority, "svn1.acme.example:8411");
    assert_eq!(t.prefix, "/rolesync");
    assert_eq!(
        Target::parse("127.0.0.1:9").expect("a URL").url(),
        "http://127.0.0.1:9"
    );
    assert_eq!(
        Target::parse("[::1]").expect("a URL").authority,
        "[::1]:8411"
    );
}

#[test]
fn https_and_credentials_in_urls_are_refused() {
    assert!(Target::parse("https://a:1").is_err());
    assert!(Target::parse("http://user:pw@a:1").is_err());
    assert!(Target::parse("ftp://a").is_err());
}
