//! The verified facts of SVN-AUTHZ.md (`authz_facts.py`), one test each:
//! an access file (and maybe a global groups file), whether Subversion
//! 1.14.2 accepts it, and `svnauthz accessof` answers for it.
//!
//! `Crash` marks a file on which Subversion crashes (an undetected group
//! cycle); rolesync reports it as invalid.

use crate::diag;

use super::eval::Authz;
use super::validate::{validate, validate_with_groups};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    Valid,
    Invalid,
    Crash,
}

type Query = (
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

fn check_fact(text: &str, groups: Option<&str>, validity: Validity, queries: &[Query]) {
    let diags = match groups {
        Some(g) => validate_with_groups("authz", text, "groups", g),
        None => validate("authz", text),
    };
    let valid = !diag::has_errors(&diags);
    assert_eq!(valid, validity == Validity::Valid, "validity: {diags:#?}");
    match Authz::load(text, groups) {
        Ok(authz) => {
            assert!(valid, "loads only when valid");
            for &(user, repo, path, want) in queries {
                let got = authz.access(user, repo, path);
                assert_eq!(
                    got.as_str(),
                    want,
                    "user {user:?} repo {repo:?} path {path:?}"
                );
            }
        }
        Err(errors) => assert!(!valid && queries.is_empty(), "{errors:#?}"),
    }
}

macro_rules! fact {
    ($name:ident, $text:expr, $validity:ident $(, groups = $groups:expr)?, [$($q:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            let groups: Option<&str> = None $(.or(Some($groups)))?;
            check_fact($text, groups, Validity::$validity, &[$($q),*]);
        }
    };
}

fact!(
    colon_separator,
    "[groups]\ng: a, b\n[/]\n@g: rw\n",
    Valid,
    [(Some("b"), None, Some("/"), "rw")]
);
fact!(
    colon_before_equals_splits_at_colon,
    "[/]\na:b = rw\n",
    Invalid,
    []
);
fact!(no_inline_comments_value, "[/]\nh = rw # c\n", Invalid, []);
fact!(
    inline_becomes_part_of_member,
    "[groups]\ng = a, b # c\n[/]\n@g = rw\n",
    Valid,
    [
        (Some("b"), None, Some("/"), "no"),
        (Some("b # c"), None, Some("/"), "rw")
    ]
);
fact!(
    text_after_ignored,
    "[/a] # note\nh = rw\n",
    Valid,
    [(Some("h"), None, Some("/a"), "rw")]
);
fact!(
    indented_comment_at_top_level,
    "[/]\n  # c\nh = rw\n",
    Invalid,
    []
);
fact!(
    indented_line_after_option_is_continuation,
    "[/]\nh = r\n  # c\n",
    Invalid,
    []
);
fact!(
    continuation_joins_with_a_space,
    "[groups]\ng = a\n  b\n[/]\n@g = rw\n",
    Valid,
    [
        (Some("a"), None, Some("/"), "no"),
        (Some("a b"), None, Some("/"), "rw")
    ]
);
fact!(
    continuation_of_rights,
    "[/]\nh = r\n\tw\n",
    Valid,
    [(Some("h"), None, Some("/"), "rw")]
);
fact!(indented_option, "[/]\n  h = rw\n", Invalid, []);
fact!(
    indented_section_header,
    "[/]\nh = r\n\n  [/a]\n",
    Invalid,
    []
);
fact!(option_before_section, "h = rw\n[/]\n", Invalid, []);
fact!(semicolon_is_not_a_comment, "; c\n[/]\n", Invalid, []);
fact!(
    crlf,
    "[groups]\r\ng = a, b\r\n[/]\r\n@g = rw\r\n",
    Valid,
    [(Some("b"), None, Some("/"), "rw")]
);
fact!(
    bom,
    "\u{feff}[/]\nh = rw\n",
    Valid,
    [(Some("h"), None, Some("/"), "rw")]
);
fact!(
    empty_file,
    "",
    Valid,
    [
        (Some("h"), None, Some("/"), "no"),
        (Some("h"), None, None, "no")
    ]
);
fact!(section_name_not_trimmed, "[ /trunk ]\nh = r\n", Invalid, []);
fact!(duplicate_section, "[/]\n* = r\n[/]\nh = rw\n", Invalid, []);
fact!(groups_is_invalid, "[Groups]\na = h\n", Invalid, []);
fact!(
    repo_groups_is_invalid,
    "[repo:groups]\na = h\n",
    Invalid,
    []
);
fact!(relative_path, "[trunk]\nh = r\n", Invalid, []);
fact!(trailing_slash, "[/trunk/]\nh = r\n", Invalid, []);
fact!(double_slash_inside, "[/a//b]\nh = r\n", Invalid, []);
fact!(dot_segment, "[/a/./b]\nh = r\n", Invalid, []);
fact!(
    x_is_the_root,
    "[//x]\nh = rw\n",
    Valid,
    [
        (Some("h"), None, Some("/"), "rw"),
        (Some("h"), None, Some("/q"), "rw")
    ]
);
fact!(duplicates, "[//]\nh = rw\n[/]\nh = r\n", Invalid, []);
fact!(repo_name_with_colon, "[re:po:/x]\nh = r\n", Invalid, []);
fact!(
    colon_inside_path,
    "[/a:b]\nh = rw\n",
    Valid,
    [(Some("h"), None, Some("/a:b"), "rw")]
);
fact!(bad_type_token, "[:regex:/x]\nh = r\n", Invalid, []);
fact!(
    equivalent_globs,
    "[:glob:/a/**/*]\nh = r\n[:glob:/a/*/**]\nh = r\n",
    Invalid,
    []
);
fact!(
    glob_without_wildcard_plain,
    "[:glob:/a]\nh = r\n[/a]\nh = r\n",
    Invalid,
    []
);
fact!(
    cannot_be_written,
    "[/]\nh = r\n[:glob:/x[ab]]\nh = rw\n",
    Valid,
    [
        (Some("h"), None, Some("/xa"), "r"),
        (Some("h"), None, Some("/x[ab"), "rw")
    ]
);
fact!(
    escaped_star_is_literal,
    "[/]\nh = r\n[:glob:/a\\*b]\nh = rw\n",
    Valid,
    [
        (Some("h"), None, Some("/a*b"), "rw"),
        (Some("h"), None, Some("/axb"), "r")
    ]
);
fact!(
    group_name_may_not_start_with,
    "[groups]\n$g = a\n",
    Invalid,
    []
);
fact!(duplicate_group, "[groups]\na = x\na = y\n", Invalid, []);
fact!(undefined_nested_group, "[groups]\na = @b\n", Invalid, []);
fact!(undefined_group_in_entry, "[/]\n@nope = r\n", Invalid, []);
fact!(undefined_alias, "[/]\n&nope = r\n", Invalid, []);
fact!(self_cycle, "[groups]\na = x, @a\n", Invalid, []);
fact!(
    cycle_not_through_start_crashes,
    "[groups]\na = @b\nb = @c\nc = @b\n[/]\n@a = r\n",
    Crash,
    []
);
fact!(
    forward_group_reference,
    "[/]\n@late = rw\n[groups]\nlate = h\n",
    Valid,
    [(Some("h"), None, Some("/"), "rw")]
);
fact!(
    member_is_literal,
    "[groups]\ng = *\n[/]\n@g = rw\n",
    Valid,
    [
        (Some("bob"), None, Some("/"), "no"),
        (Some("*"), None, Some("/"), "rw")
    ]
);
fact!(
    empty_members_dropped,
    "[groups]\ng = ,a,, b ,\n[/]\n@g = rw\n",
    Valid,
    [(Some("b"), None, Some("/"), "rw")]
);
fact!(
    alias_to_dn,
    "[aliases]\njoe = /C=XZ/O=Snake Oil, Ltd./CN=Joe\n[/]\n&joe = rw\n",
    Valid,
    [(
        Some("/C=XZ/O=Snake Oil, Ltd./CN=Joe"),
        None,
        Some("/"),
        "rw"
    )]
);
fact!(write_only, "[/]\nh = w\n", Invalid, []);
fact!(uppercase_mode, "[/]\nh = RW\n", Invalid, []);
fact!(
    mode_wr_r_w,
    "[/]\nh = wr\ng = r w\n",
    Valid,
    [
        (Some("h"), None, Some("/"), "rw"),
        (Some("g"), None, Some("/"), "rw")
    ]
);
fact!(invalid, "[/]\n~* = r\n", Invalid, []);
fact!(x_invalid, "[/]\n~~h = r\n", Invalid, []);
fact!(anonymous_invalid, "[/]\n$Anonymous = r\n", Invalid, []);
fact!(
    empty_group_entry_ignored,
    "[groups]\ne =\n[/]\n@e = rw\n* = r\n",
    Valid,
    [(Some("bob"), None, Some("/"), "r")]
);
fact!(
    groups_file_groups_in_authz,
    "[groups]\nx = y\n[/]\n@g = rw\n",
    Invalid,
    groups = "[groups]\ng = a\n",
    []
);
fact!(
    groups_file_ok,
    "[groups]\n[aliases]\nal = a\n[/]\n@g = rw\n",
    Valid,
    groups = "[groups]\ng = &al\n",
    [(Some("a"), None, Some("/"), "rw")]
);
fact!(
    groups_file_with_rule_section,
    "[/]\n@g = rw\n",
    Invalid,
    groups = "[groups]\ng = a\n[/]\nh = r\n",
    []
);
fact!(
    union_within_a_section,
    "[/]\n* = rw\nharry =\n",
    Valid,
    [(Some("harry"), None, Some("/"), "rw")]
);
fact!(
    duplicate_entry_ored,
    "[/]\nharry = rw\nharry =\n",
    Valid,
    [(Some("harry"), None, Some("/"), "rw")]
);
fact!(
    section_must_apply,
    "[/]\nsally = rw\n[/a]\nharry = r\n",
    Valid,
    [
        (Some("sally"), None, Some("/a"), "rw"),
        (Some("bob"), None, Some("/a"), "no")
    ]
);
fact!(
    default_deny_at_root,
    "[/a]\nharry = rw\n",
    Valid,
    [
        (Some("harry"), None, Some("/"), "no"),
        (Some("harry"), None, Some("/a/b"), "rw"),
        (Some("harry"), None, None, "rw")
    ]
);
fact!(
    anonymous_tokens,
    "[/]\n$anonymous = r\n[/c]\n~$authenticated = rw\n[/b]\n~$anonymous = r\n",
    Valid,
    [
        (None, None, Some("/c"), "rw"),
        (Some("h"), None, Some("/c"), "no"),
        (Some("h"), None, Some("/b"), "r"),
        (Some(""), None, Some("/c"), "rw")
    ]
);
fact!(
    inverted_user_never_matches_anonymous,
    "[/]\n~harry = rw\n",
    Valid,
    [
        (Some("harry"), None, Some("/"), "no"),
        (Some("sally"), None, Some("/"), "rw"),
        (None, None, Some("/"), "no")
    ]
);
fact!(
    repo_section_wins_if_it_applies,
    "[/]\n* = r\n[/a]\nharry = rw\n[repo:/a]\nharry = r\n",
    Valid,
    [
        (Some("harry"), Some("repo"), Some("/a"), "r"),
        (Some("harry"), Some("other"), Some("/a"), "rw"),
        (Some("harry"), None, Some("/a"), "rw")
    ]
);
fact!(
    repo_section_ignored_if_it_does_not_apply,
    "[/]\n* = r\n[/a]\nharry = rw\n[repo:/a]\nsally = r\n",
    Valid,
    [
        (Some("harry"), Some("repo"), Some("/a"), "rw"),
        (Some("sally"), Some("repo"), Some("/a"), "r")
    ]
);
fact!(
    repo_section_with_empty_right_applies,
    "[/]\n* = rw\n[repo:/a]\nharry =\n",
    Valid,
    [
        (Some("harry"), Some("repo"), Some("/a/b"), "no"),
        (Some("sally"), Some("repo"), Some("/a"), "rw")
    ]
);
fact!(
    case_sensitive_names,
    "[Repo:/]\nHarry = rw\n",
    Valid,
    [
        (Some("Harry"), Some("Repo"), Some("/"), "rw"),
        (Some("harry"), Some("Repo"), Some("/"), "no"),
        (Some("Harry"), Some("repo"), Some("/"), "no")
    ]
);
fact!(
    later_glob_beats_earlier_literal,
    "[/]\n* = r\n[/trunk]\nharry = rw\n[:glob:/*]\nharry =\n",
    Valid,
    [(Some("harry"), None, Some("/trunk/x"), "no")]
);
fact!(
    later_literal_beats_earlier_glob,
    "[/]\n* = r\n[:glob:/*]\nharry =\n[/trunk]\nharry = rw\n",
    Valid,
    [
        (Some("harry"), None, Some("/trunk/x"), "rw"),
        (Some("harry"), None, Some("/branches"), "no")
    ]
);
fact!(
    matches_zero_segments,
    "[/]\n* = r\n[:glob:/a/**]\nharry = rw\n",
    Valid,
    [
        (Some("harry"), None, Some("/a"), "rw"),
        (Some("harry"), None, Some("/ab"), "r")
    ]
);
fact!(
    later_eclipses_deeper_rules,
    "[/]\n* = r\n[/a/b]\nharry =\n[:glob:/a/**]\nharry = rw\n",
    Valid,
    [(Some("harry"), None, Some("/a/b"), "rw")]
);
fact!(
    two_globs_later_wins,
    "[/]\n* = r\n[:glob:/a*]\nh = rw\n[:glob:/*b]\nh =\n",
    Valid,
    [
        (Some("h"), None, Some("/ab"), "no"),
        (Some("h"), None, Some("/a"), "rw")
    ]
);
fact!(recursive, "[/]\nh = rw\n[:glob:/c/*.txt]\nh =\n", Valid, []);
fact!(
    applies_to_the_root_path,
    "[/]\nsally = rw\n[:glob:/*]\nsally = r\n",
    Valid,
    [(Some("sally"), None, Some("/"), "r")]
);
fact!(
    suffix_reversal_bug,
    "[/]\nh = r\n[:glob:/**/ab]\nh = rw\n[:glob:/*b/x]\nh = r\n",
    Valid,
    [
        (Some("h"), None, Some("/ab"), "r"),
        (Some("h"), None, Some("/ba"), "rw"),
        (Some("h"), None, Some("/xy/ab"), "rw")
    ]
);
fact!(
    empty_group_shortcut_bug,
    "[groups]\ne =\nk = carol\n[/]\n* = rw\n[/a]\n~@e = rw\n~bob = r\n",
    Valid,
    [
        (Some("dave"), None, Some("/a"), "rw"),
        (Some("carol"), None, Some("/a"), "r")
    ]
);
