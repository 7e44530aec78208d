// Test code: tests/it/purity.rs checks only what precedes this attribute,
// as it did when these tests were inline.
#[cfg(test)]
use super::*;
use crate::diag::Diagnostic;

fn load(text: &str) -> Authz {
    match Authz::load(text, None) {
        Ok(a) => a,
        Err(e) => panic!("test file is invalid: {e:#?}"),
    }
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Queries: (user, repository, path, expected); "" is "not given".
fn check(text: &str, queries: &[(&str, &str, &str, &str)]) {
    let authz = load(text);
    for &(user, repo, path, want) in queries {
        let got = authz.access(opt(user), opt(repo), opt(path));
        assert_eq!(
            got.as_str(),
            want,
            "user {user:?} repo {repo:?} path {path:?}"
        );
    }
}

// ---- SVN-AUTHZ.md §0: the rules most often got wrong

#[test]
fn lines_of_a_section_are_ored() {
    check("[/]\n* = rw\nharry =\n", &[("harry", "", "/", "rw")]);
    check("[/]\nharry =\n* = rw\n", &[("harry", "", "/", "rw")]);
}

#[test]
fn section_counts_only_if_a_line_matches_the_user() {
    let text = "[/]\nsally = rw\n[/a]\nharry = r\n";
    check(
        text,
        &[
            ("sally", "", "/a", "rw"),
            ("bob", "", "/a", "no"),
            ("harry", "", "/a", "r"),
        ],
    );
}

#[test]
fn empty_right_still_makes_the_section_apply() {
    check(
        "[/]\n* = r\n[/a]\nharry =\n",
        &[("harry", "", "/a/b", "no"), ("sally", "", "/a/b", "r")],
    );
}

#[test]
fn deepest_applicable_level_wins() {
    let text = "[/]\n* = r\n[/trunk]\nharry = rw\n[/trunk/secret]\nharry =\n";
    check(
        text,
        &[
            ("harry", "", "/trunk/secret/y", "no"),
            ("harry", "", "/trunk/x", "rw"),
            ("sally", "", "/trunk/secret", "r"),
        ],
    );
}

#[test]
fn later_glob_beats_earlier_literal_at_the_same_level() {
    check(
        "[/]\n* = r\n[/trunk]\nharry = rw\n[:glob:/*]\nharry =\n",
        &[("harry", "", "/trunk/x", "no")],
    );
}

#[test]
fn later_literal_beats_earlier_glob_at_the_same_level() {
    let text = "[/]\n* = r\n[:glob:/*]\nharry =\n[/trunk]\nharry = rw\n";
    check(
        text,
        &[
            ("harry", "", "/trunk/x", "rw"),
            ("harry", "", "/branches", "no"),
        ],
    );
}

#[test]
fn deeper_glob_beats_later_shallower_literal() {
    check(
        "[/]\nh = r\n[:glob:/a/*]\nh =\n[/a]\nh = rw\n",
        &[("h", "", "/a/x", "no"), ("h", "", "/a", "rw")],
    );
}

#[test]
fn repository_section_wins_when_it_applies() {
    let text = "[/]\n* = r\n[/a]\nharry = rw\n[repo:/a]\nharry = r\n";
    check(
        text,
        &[
            ("harry", "repo", "/a", "r"),
            ("harry", "other", "/a", "rw"),
            ("harry", "", "/a", "rw"),
        ],
    );
}

#[test]
fn neutral_section_used_when_the_repository_section_does_not_apply() {
    let text = "[/]\n* = r\n[/a]\nharry = rw\n[repo:/a]\nsally = r\n";
    check(
        text,
        &[("harry", "repo", "/a", "rw"), ("sally", "repo", "/a", "r")],
    );
}

#[test]
fn repository_and_neutral_sections_are_never_merged_and_order_does_not_matter() {
    let text = "[repo:/a]\nharry = r\n[/]\n* = r\n[/a]\nharry = rw\nsally = rw\n";
    check(
        text,
        &[("harry", "repo", "/a", "r"), ("sally", "repo", "/a", "rw")],
    );
}

#[test]
fn repository_root_section_competes_with_the_root_rule() {
    check(
        "[/]\n* = r\n[repo:/]\n* = rw\n",
        &[("x", "repo", "/", "rw"), ("x", "", "/", "r")],
    );
    check(
        "[repo:/]\nh = rw\n",
        &[("h", "repo", "/x", "rw"), ("h", "other", "/x", "no")],
    );
}

#[test]
fn default_deny_at_the_root() {
    check(
        "[/a]\nharry = rw\n",
        &[
            ("harry", "", "/", "no"),
            ("harry", "", "/a/b", "rw"),
            ("harry", "", "/b", "no"),
        ],
    );
}

#[test]
fn anonymous_is_matched_only_by_star_and_anonymous_tokens() {
    let text = "[/]\n$anonymous = r\n[/c]\n~$authenticated = rw\n[/b]\n~$anonymous = r\n\
                [/d]\n* = rw\n[/e]\nharry = rw\n$authenticated = rw\n";
    check(
        text,
        &[
            ("", "", "/c", "rw"),
            ("harry", "", "/c", "no"),
            ("harry", "", "/b", "r"),
            ("", "", "/b", "r"),
            ("", "", "/d", "rw"),
            ("", "", "/e", "r"),
        ],
    );
}

#[test]
fn inverted_entries_never_match_anonymous() {
    check(
        "[/]\n~harry = rw\n",
        &[
            ("harry", "", "/", "no"),
            ("sally", "", "/", "rw"),
            ("", "", "/", "no"),
        ],
    );
}

#[test]
fn empty_user_name_is_anonymous() {
    let authz = load("[/]\n$anonymous = r\n$authenticated = rw\n");
    assert_eq!(authz.access(Some(""), None, Some("/")), Access::Read);
    assert_eq!(authz.access(None, None, Some("/")), Access::Read);
}

#[test]
fn repeated_entry_in_a_section_is_ored() {
    check("[/]\nharry = rw\nharry =\n", &[("harry", "", "/", "rw")]);
    check("[/]\nharry =\nharry = r\n", &[("harry", "", "/", "r")]);
}

#[test]
fn repeated_section_or_group_is_an_error() {
    assert!(Authz::load("[/]\n[/]\n", None).is_err());
    assert!(Authz::load("[groups]\ng = a\ng = b\n", None).is_err());
}

#[test]
fn non_canonical_sections_are_errors_but_double_slash_is_the_root() {
    for bad in ["[/trunk/]\n", "[/a//b]\n", "[/a/./b]\n"] {
        assert!(Authz::load(bad, None).is_err(), "{bad}");
    }
    check(
        "[//x]\nh = rw\n",
        &[
            ("h", "", "/", "rw"),
            ("h", "", "/q", "rw"),
            ("h", "", "/x", "rw"),
        ],
    );
}

#[test]
fn no_inline_comments() {
    assert!(Authz::load("[/]\nharry = rw # x\n", None).is_err());
    let text = "[groups]\ng = a, b # x\n[/]\n@g = rw\n";
    check(
        text,
        &[
            ("b", "", "/", "no"),
            ("b # x", "", "/", "rw"),
            ("a", "", "/", "rw"),
        ],
    );
}

#[test]
fn indented_line_after_an_option_is_a_continuation() {
    check(
        "[groups]\ng = a,\n  b\n[/]\n@g = rw\n",
        &[("b", "", "/", "rw")],
    );
    check(
        "[groups]\ng = a\n  b\n[/]\n@g = rw\n",
        &[("a", "", "/", "no"), ("a b", "", "/", "rw")],
    );
}

#[test]
fn everything_is_case_sensitive() {
    let text = "[Repo:/Trunk]\nHarry = rw\n";
    check(
        text,
        &[
            ("Harry", "Repo", "/Trunk", "rw"),
            ("harry", "Repo", "/Trunk", "no"),
            ("Harry", "repo", "/Trunk", "no"),
            ("Harry", "Repo", "/trunk", "no"),
        ],
    );
}

#[test]
fn group_cycles_are_errors() {
    assert!(Authz::load("[groups]\na = @b\nb = @a\n", None).is_err());
    assert!(Authz::load("[groups]\na = @b\nb = @c\nc = @b\n[/]\n@a = r\n", None).is_err());
}

#[test]
fn rule_for_empty_group_is_dropped_even_inverted() {
    let text = "[groups]\ne =\n[/]\n* = r\n[/a]\n@e = rw\n[/b]\n~@e = rw\n";
    let authz = load(text);
    assert_eq!(authz.warnings().len(), 2);
    check(
        text,
        &[
            ("bob", "", "/a", "r"),
            ("bob", "", "/b", "r"),
            ("", "", "/b", "r"),
        ],
    );
}

#[test]
fn invalid_file_loads_nothing_and_so_denies_everybody() {
    let err = Authz::load("[/]\n* = rw\n[/x]\nh = w\n", None).err();
    assert!(err.is_some_and(|d| d.iter().any(Diagnostic::is_error)));
}

#[test]
fn loading_computes_nothing_per_user() {
    let mut text = String::from("[/]\n* = r\n");
    for s in 0..200 {
        text.push_str(&format!("[/p{s}]\n"));
        for u in 0..50 {
            text.push_str(&format!("u{u}x{s} = rw\n"));
        }
    }
    let authz = load(&text);
    let views = || authz.views.read().map(|v| v.len()).unwrap_or(usize::MAX);
    assert_eq!(views(), 0);
    assert_eq!(
        authz.access(Some("u3x7"), None, Some("/p7/a")),
        Access::ReadWrite
    );
    assert_eq!(authz.access(Some("u3x7"), None, Some("/p8")), Access::Read);
    assert_eq!(views(), 1, "one view for the one user asked about");
}

// ---- SVN-AUTHZ.md §5: quirks of 1.14.2, reproduced

#[test]
fn quirk_star_glob_applies_to_the_root_path() {
    check(
        "[/]\nsally = rw\n[:glob:/*]\nsally = r\n",
        &[("sally", "", "/", "r"), ("harry", "", "/", "no")],
    );
    check(
        "[/]\nh = rw\n[:glob:/**/*]\nh = r\n",
        &[("h", "", "/", "r")],
    );
    check("[/]\nh = rw\n[:glob:/***]\nh = r\n", &[("h", "", "/", "r")]);
}

#[test]
fn quirk_other_patterns_do_not_match_the_root_path() {
    check(
        "[/]\nh = rw\n[:glob:/?]\nh = r\n[:glob:/a*]\nh = r\n[:glob:/*b]\nh = r\n",
        &[("h", "", "/", "rw")],
    );
}

#[test]
fn quirk_double_slash_section_is_the_root_rule() {
    check(
        "[//anything]\nh = rw\n",
        &[("h", "", "/", "rw"), ("h", "", "/anything", "rw")],
    );
    assert!(Authz::load("[//]\nh = rw\n[/]\nh = r\n", None).is_err());
}

#[test]
fn quirk_suffix_pattern_reverses_the_segment() {
    let text = "[/]\nh = r\n[:glob:/**/ab]\nh = rw\n[:glob:/*b/x]\nh = r\n";
    check(
        text,
        &[
            ("h", "", "/ab", "r"),
            ("h", "", "/ba", "rw"),
            ("h", "", "/xy/ab", "rw"),
        ],
    );
}

#[test]
fn quirk_suffix_reversal_depends_on_rules_a_later_recursive_glob_eclipses() {
    // `/**` eclipses `/*b/x` for h, Subversion trims it away, and the
    // segment is not reversed; for s the suffix rule does not apply.
    let text = "[/]\nh = r\n[:glob:/*b/x]\nh = r\n[:glob:/**]\nh = r\n[:glob:/**/ab]\nh = rw\n";
    check(text, &[("h", "", "/ab", "rw"), ("h", "", "/ba", "r")]);
    let text = "[/]\nh = r\n[:glob:/*b/x]\ns = r\n[:glob:/**/ab]\nh = rw\n";
    check(text, &[("h", "", "/ab", "rw")]);
}

#[test]
fn quirk_empty_group_widens_the_shortcut_for_unnamed_users() {
    let text = "[groups]\ne =\nk = carol\n[/]\n* = rw\n[/a]\n~@e = rw\n~bob = r\n";
    // The walk gives dave `r` (from `~bob`), but the shortcut, widened
    // by the dropped `~@e = rw`, answers first; carol is named in the
    // file and gets the walk's answer.
    check(
        text,
        &[
            ("dave", "", "/a", "rw"),
            ("carol", "", "/a", "r"),
            ("bob", "", "/a", "rw"),
        ],
    );
    let without = "[groups]\nk = carol\n[/]\n* = rw\n[/a]\n~bob = r\n";
    check(without, &[("dave", "", "/a", "r")]);
}

#[test]
fn quirk_undetected_cycle_is_reported_not_crashed_on() {
    let err = Authz::load("[groups]\na = @b\nb = @c\nc = @b\n[/]\n@a = r\n", None).err();
    assert!(err.is_some_and(|d| {
        d.iter()
            .any(|d| d.code == crate::diag::Code::AuthzGroupCycle)
    }));
}

#[test]
fn quirk_character_classes_cannot_be_written() {
    check(
        "[/]\nh = r\n[:glob:/x[ab]]\nh = rw\n",
        &[("h", "", "/xa", "r"), ("h", "", "/x[ab", "rw")],
    );
}

#[test]
fn quirk_no_path_answer_is_the_highest_right_anywhere() {
    check(
        "[/a]\nh = rw\n",
        &[
            ("h", "", "", "rw"),
            ("h", "", "/", "no"),
            ("x", "", "", "no"),
        ],
    );
    check(
        "[/]\n* = r\n[r1:/a]\nh = rw\n",
        &[
            ("h", "", "", "r"),
            ("h", "r1", "", "rw"),
            ("h", "r2", "", "r"),
        ],
    );
}

// ---- §4.7 worked examples not covered above

#[test]
fn member_star_is_a_literal_user() {
    check(
        "[groups]\ng = *\n[/]\n@g = rw\n",
        &[("bob", "", "/", "no"), ("*", "", "/", "rw")],
    );
}

#[test]
fn inverted_group() {
    check(
        "[groups]\ng = harry\n[/]\n~@g = r\n",
        &[
            ("harry", "", "/", "no"),
            ("sally", "", "/", "r"),
            ("", "", "/", "no"),
        ],
    );
}

#[test]
fn later_recursive_glob_eclipses_deeper_rules() {
    check(
        "[/]\n* = r\n[/a/b]\nharry =\n[:glob:/a/**]\nharry = rw\n",
        &[("harry", "", "/a/b", "rw")],
    );
    check(
        "[/]\n* = r\n[:glob:/a/**]\nharry = rw\n[/a/b]\nharry =\n",
        &[
            ("harry", "", "/a", "rw"),
            ("harry", "", "/a/b", "no"),
            ("harry", "", "/a/b/c", "rw"),
        ],
    );
}

#[test]
fn aliases_resolve_in_entries_and_groups() {
    let text = "[aliases]\njoe = /C=XZ/O=Snake Oil, Ltd./CN=Joe\nh = harry\n[groups]\ng = &h\n\
                [/]\n&joe = rw\n[/g]\n@g = rw\n[/x]\n~&h = r\n";
    check(
        text,
        &[
            ("/C=XZ/O=Snake Oil, Ltd./CN=Joe", "", "/", "rw"),
            ("harry", "", "/g", "rw"),
            ("harry", "", "/x", "no"),
            ("sally", "", "/x", "r"),
        ],
    );
}

#[test]
fn alias_standing_for_a_group_name_acts_as_the_group() {
    check(
        "[groups]\ng = bob\n[aliases]\na = @g\n[/]\n&a = rw\n",
        &[("bob", "", "/", "rw"), ("@g", "", "/", "no")],
    );
}

#[test]
fn nested_groups_are_transitive() {
    let text = "[groups]\na = @b\nb = @c, x\nc = y\n[/]\n@a = rw\n";
    check(
        text,
        &[
            ("y", "", "/", "rw"),
            ("x", "", "/", "rw"),
            ("z", "", "/", "no"),
        ],
    );
}

#[test]
fn groups_file_supplies_the_groups() {
    let authz = Authz::load(
        "[aliases]\nal = a\n[/]\n@g = rw\n",
        Some("[groups]\ng = &al, b\n"),
    );
    let authz = authz.unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(authz.access(Some("a"), None, Some("/")), Access::ReadWrite);
    assert_eq!(authz.access(Some("c"), None, Some("/")), Access::No);
}

// ---- paths

#[test]
fn paths_are_canonicalised_like_svnauthz() {
    assert_eq!(canonicalize(""), "/");
    assert_eq!(canonicalize("/"), "/");
    assert_eq!(canonicalize("a//b/"), "/a/b");
    assert_eq!(canonicalize("/./a/./b/."), "/a/b");
    assert_eq!(canonicalize("/a/../b"), "/a/../b");
    check(
        "[/]\nh = r\n[/a/b]\nh = rw\n",
        &[("h", "", "a//b/", "rw"), ("h", "", "/a/./b", "rw")],
    );
}

#[test]
fn dot_dot_is_a_plain_segment() {
    check("[/]\nh = r\n[/b]\nh = rw\n", &[("h", "", "/a/../b", "r")]);
}

// ---- list

fn listed(text: &str, user: &str, repo: &str) -> Vec<(String, &'static str, Option<String>)> {
    load(text)
        .list(opt(user), opt(repo))
        .into_iter()
        .map(|l| (l.section, l.access.as_str(), l.replaced_by))
        .collect()
}

#[test]
fn list_shows_applicable_sections_with_their_access() {
    let text = "[groups]\ng = harry\n[/]\n* = r\n[/a]\n@g = rw\n[/b]\nsally = rw\n[:glob:/**/c]\n~harry =\n";
    assert_eq!(
        listed(text, "harry", ""),
        vec![("/".to_owned(), "r", None), ("/a".to_owned(), "rw", None)]
    );
    assert_eq!(
        listed(text, "sally", ""),
        vec![
            ("/".to_owned(), "r", None),
            ("/b".to_owned(), "rw", None),
            (":glob:/**/c".to_owned(), "no", None)
        ]
    );
}

#[test]
fn list_marks_neutral_sections_replaced_by_their_repository_twin() {
    let text = "[/]\n* = r\n[/a]\nh = rw\n[r1:/a]\nh = r\n[r2:/a]\nh =\n";
    assert_eq!(
        listed(text, "h", "r1"),
        vec![
            ("/".to_owned(), "r", None),
            ("/a".to_owned(), "rw", Some("r1:/a".to_owned())),
            ("r1:/a".to_owned(), "r", None)
        ]
    );
}

#[test]
fn list_for_anonymous() {
    assert_eq!(
        listed("[/]\nh = rw\n[/p]\n$anonymous = r\n", "", ""),
        vec![("/".to_owned(), "no", None), ("/p".to_owned(), "r", None)]
    );
}

#[test]
fn queries_from_many_threads() {
    let authz = load("[groups]\ng = a\n[/]\n* = r\n[/x]\n@g = rw\n");
    std::thread::scope(|s| {
        for t in 0..4 {
            let authz = &authz;
            s.spawn(move || {
                for i in 0..200 {
                    let user = if (i + t) % 2 == 0 { "a" } else { "b" };
                    let want = if user == "a" {
                        Access::ReadWrite
                    } else {
                        Access::Read
                    };
                    assert_eq!(authz.access(Some(user), None, Some("/x/y")), want);
                }
            });
        }
    });
}

// ---- SVN-AUTHZ.md §4.6: recursive queries (`svnauthz accessof -R`)

/// Recursive queries: (user, repository, path, expected).
fn check_below(text: &str, queries: &[(&str, &str, &str, &str)]) {
    let authz = load(text);
    for &(user, repo, path, want) in queries {
        let got = authz.access_below(opt(user), opt(repo), path);
        assert_eq!(
            got.as_str(),
            want,
            "-R user {user:?} repo {repo:?} path {path:?}"
        );
    }
}

#[test]
fn recursive_counts_every_rule_below_the_path() {
    let text = "[/]\nh = rw\n[:glob:/c/*.txt]\nh =\n";
    check_below(text, &[("h", "", "/c", "no"), ("h", "", "/c/d", "rw")]);
    // The plain answer at /c is unchanged.
    check(text, &[("h", "", "/c", "rw")]);
}

#[test]
fn recursive_takes_the_minimum_below() {
    let text = "[/]\n* = r\nh = rw\n[/a/b]\nh = r\n[/x]\n* =\n";
    check_below(
        text,
        &[
            ("h", "", "/a", "r"),
            ("h", "", "/a/c", "rw"),
            // Quirk (checked with svnauthz): `/` is walked as an empty
            // segment below the root, which no rule below matches, so `-R /`
            // is the root rule's access.
            ("h", "", "/", "rw"),
            ("s", "", "/a", "r"),
            ("", "", "/a", "r"),
            ("", "", "/x/y", "no"),
        ],
    );
}

#[test]
fn recursive_rule_eclipses_older_rules_below() {
    // `/a/**` (later) replaces `[/a/b]` for h: nothing below /a is r.
    let text = "[/]\nh = r\n[/a/b]\nh =\n[:glob:/a/**]\nh = rw\n";
    check_below(text, &[("h", "", "/a", "rw"), ("h", "", "/", "r")]);
}

#[test]
fn recursive_in_a_repository() {
    let text = "[/]\n* = rw\n[repo:/a/b]\nh = r\n";
    check_below(
        text,
        &[("h", "repo", "/a", "r"), ("h", "other", "/a", "rw")],
    );
}
