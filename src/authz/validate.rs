//! Validation of access files: every condition under which `svnauthz
//! validate` (Subversion 1.14.2) fails becomes an error diagnostic at its
//! own line, and entries that Subversion ignores become warnings. All
//! problems are reported, not only the first.

use crate::diag::{self, Diagnostic};

use super::cost::{self, Cost};
use super::rules::{AuthzFile, Beside, compile, compile_beside};

/// Check an access file. `path` names it in the diagnostics. The file is
/// valid for Subversion exactly when no diagnostic is an error.
pub fn validate(path: &str, text: &str) -> Vec<Diagnostic> {
    run(AuthzFile { path, text }, None)
}

/// Check an access file used together with a global groups file (svnserve
/// `groups-db`, Apache `AuthzSVNGroupsFile`, `svnauthz --groups-file`).
pub fn validate_with_groups(
    path: &str,
    text: &str,
    groups_path: &str,
    groups_text: &str,
) -> Vec<Diagnostic> {
    run(
        AuthzFile { path, text },
        Some(AuthzFile {
            path: groups_path,
            text: groups_text,
        }),
    )
}

/// [`validate`], and what the file costs Subversion to load
/// ([`Cost`], from the same parse).
pub fn validate_and_cost(path: &str, text: &str) -> (Vec<Diagnostic>, Cost) {
    let (compiled, mut diags) = compile(AuthzFile { path, text }, None);
    diag::sort(&mut diags);
    (diags, cost::of(&compiled))
}

/// What [`validate_beside`] found: the diagnostics (sorted), the distinct
/// users the file names besides the groups' members, its rule sections,
/// and whether the groups were defined at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub diagnostics: Vec<Diagnostic>,
    pub users: Vec<String>,
    pub rule_sections: u64,
    pub defined: bool,
}

/// [`validate_and_cost`] of `text` with `beside`'s groups defined by name
/// at offset `beside.at` (`rules::Beside`): the check of a file whose
/// plain generated group lines were left out.
pub(crate) fn validate_beside(path: &str, text: &str, beside: Beside<'_>) -> Found {
    let (compiled, mut diagnostics, defined) = compile_beside(AuthzFile { path, text }, beside);
    diag::sort(&mut diagnostics);
    let mut users: Vec<String> = cost::users_of(&compiled)
        .into_iter()
        .map(str::to_owned)
        .collect();
    users.sort_unstable();
    Found {
        diagnostics,
        users,
        rule_sections: compiled.acls.len() as u64,
        defined,
    }
}

fn run(authz: AuthzFile<'_>, groups: Option<AuthzFile<'_>>) -> Vec<Diagnostic> {
    let (_, mut diags) = compile(authz, groups);
    diag::sort(&mut diags);
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, code) of every diagnostic.
    fn found(diags: &[Diagnostic]) -> Vec<(u32, &'static str)> {
        diags.iter().map(|d| (d.line, d.code.as_str())).collect()
    }

    fn check(text: &str, expect: &[(u32, &str)]) {
        let diags = validate("authz", text);
        assert_eq!(found(&diags), expect, "{diags:#?}");
    }

    fn check_groups(text: &str, groups: &str, expect: &[(&str, u32, &str)]) {
        let diags = validate_with_groups("authz", text, "groups", groups);
        let got: Vec<(&str, u32, &str)> = diags
            .iter()
            .map(|d| (d.file.as_str(), d.line, d.code.as_str()))
            .collect();
        assert_eq!(got, expect, "{diags:#?}");
    }

    fn message(text: &str) -> String {
        validate("authz", text)
            .first()
            .map(|d| d.message.clone())
            .unwrap_or_default()
    }

    // ---- the INI layer

    #[test]
    fn valid_file_has_no_diagnostics() {
        check(
            "[aliases]\njoe = /C=XZ/CN=Joe\n[groups]\ng = a, &joe, @h\nh = b\n[/]\n* = r\n\
             [repo:/trunk]\n@g = rw\n~@h = r\n[:glob:/**/secret]\n$anonymous =\n",
            &[],
        );
    }

    #[test]
    fn indented_section_header() {
        check("[/]\nh = r\n\n  [/a]\n", &[(4, "authz-syntax")]);
    }

    #[test]
    fn section_header_without_closing_bracket() {
        check("[/a\nh = r\n", &[(1, "authz-syntax")]);
    }

    #[test]
    fn indented_comment() {
        check("[/]\n  # c\nh = rw\n", &[(2, "authz-syntax")]);
    }

    #[test]
    fn option_before_any_section() {
        check("h = rw\n[/]\n", &[(1, "authz-syntax")]);
    }

    #[test]
    fn indented_option() {
        check("[/]\n  h = rw\n", &[(2, "authz-syntax")]);
    }

    #[test]
    fn option_without_separator() {
        check("[/]\nharry\n", &[(2, "authz-syntax")]);
    }

    #[test]
    fn every_syntax_error_is_reported() {
        check(
            "x\n[/]\n  y\nz\n",
            &[
                (1, "authz-syntax"),
                (3, "authz-syntax"),
                (4, "authz-syntax"),
            ],
        );
    }

    // ---- section names

    #[test]
    fn unknown_section_name() {
        check("[Groups]\na = h\n", &[(1, "authz-invalid-section")]);
        check("[trunk]\n", &[(1, "authz-invalid-section")]);
        check("[repo:groups]\n", &[(1, "authz-invalid-section")]);
        check("[]\n", &[(1, "authz-invalid-section")]);
    }

    #[test]
    fn repository_name_with_colon() {
        check("[re:po:/x]\nh = r\n", &[(1, "authz-invalid-section")]);
    }

    #[test]
    fn section_name_is_not_trimmed() {
        check("[ /trunk ]\nh = r\n", &[(1, "authz-invalid-section")]);
    }

    #[test]
    fn empty_repository_name() {
        check("[:/x]\n", &[(1, "authz-invalid-section")]);
        check("[:glob::/x]\n", &[(1, "authz-invalid-section")]);
        assert!(message("[:/x]\n").contains("empty repository name"));
    }

    #[test]
    fn invalid_type_token() {
        check("[:regex:/x]\nh = r\n", &[(1, "authz-invalid-section")]);
        check("[:Glob:/x]\n", &[(1, "authz-invalid-section")]);
    }

    #[test]
    fn trailing_slash_in_rule_path() {
        check("[/trunk/]\nh = r\n", &[(1, "authz-invalid-section")]);
    }

    #[test]
    fn empty_segment_in_rule_path() {
        check("[/a//b]\nh = r\n", &[(1, "authz-invalid-section")]);
    }

    #[test]
    fn dot_segments_in_rule_path() {
        check("[/a/./b]\n", &[(1, "authz-invalid-section")]);
        check("[repo:/a/..]\n", &[(1, "authz-invalid-section")]);
        check("[:glob:/a/../*]\n", &[(1, "authz-invalid-section")]);
    }

    #[test]
    fn double_slash_at_start_is_the_root_and_valid() {
        check("[//x]\nh = rw\n", &[]);
    }

    #[test]
    fn colon_inside_path_is_fine() {
        check("[/a:b]\nh = rw\n[repo:/a:b]\nh = r\n", &[]);
    }

    // ---- duplicates

    #[test]
    fn duplicate_section_header() {
        check(
            "[/]\n* = r\n[/]\nh = rw\n",
            &[(3, "authz-duplicate-section")],
        );
        check("[groups]\n[groups]\n", &[(2, "authz-duplicate-section")]);
    }

    #[test]
    fn sections_describing_the_same_rule() {
        check(
            "[//]\nh = rw\n[/]\nh = r\n",
            &[(3, "authz-duplicate-section")],
        );
        check("[:glob:/a]\n[/a]\n", &[(2, "authz-duplicate-section")]);
        check(
            "[:glob:/a/**/*]\n[:glob:/a/*/**]\n",
            &[(2, "authz-duplicate-section")],
        );
        check("[:glob:/a\\b]\n[/ab]\n", &[(2, "authz-duplicate-section")]);
    }

    #[test]
    fn same_path_for_other_repositories_is_fine() {
        check("[/a]\n[r1:/a]\n[r2:/a]\n[:glob:r1:/a*]\n", &[]);
    }

    // ---- groups and aliases

    #[test]
    fn group_name_with_forbidden_first_character() {
        for c in ['@', '$', '&', '*', '~'] {
            check(
                &format!("[groups]\n{c}g = a\n"),
                &[(2, "authz-invalid-name")],
            );
        }
    }

    #[test]
    fn empty_group_name() {
        check("[groups]\n= a\n", &[(2, "authz-invalid-name")]);
    }

    #[test]
    fn alias_name_with_forbidden_first_character() {
        check("[aliases]\n&a = x\n", &[(2, "authz-invalid-name")]);
        check("[aliases]\n= x\n", &[(2, "authz-invalid-name")]);
    }

    #[test]
    fn duplicate_group() {
        check(
            "[groups]\na = x\na = y\n",
            &[(3, "authz-duplicate-definition")],
        );
    }

    #[test]
    fn duplicate_alias() {
        check(
            "[aliases]\na = x\na = y\n",
            &[(3, "authz-duplicate-definition")],
        );
    }

    #[test]
    fn undefined_nested_group() {
        check("[groups]\na = x, @b\n", &[(2, "authz-undefined-group")]);
        let d = &validate("authz", "[groups]\na = x, @b\n")[0];
        assert_eq!(d.col, 8, "points at the member");
    }

    #[test]
    fn undefined_alias_in_group() {
        check("[groups]\na = &nope\n", &[(2, "authz-undefined-alias")]);
    }

    #[test]
    fn group_containing_itself() {
        check(
            "[groups]\na = x, @a\n[/]\n@a = r\n",
            &[(2, "authz-group-cycle")],
        );
    }

    #[test]
    fn group_cycle_through_the_start() {
        check("[groups]\na = @b\nb = @a\n", &[(2, "authz-group-cycle")]);
        assert!(message("[groups]\na = @b\nb = @a\n").contains("@a -> @b -> @a"));
    }

    #[test]
    fn group_cycle_that_crashes_subversion() {
        check(
            "[groups]\na = @b\nb = @c\nc = @b\n[/]\n@a = r\n",
            &[(3, "authz-group-cycle")],
        );
    }

    #[test]
    fn two_cycles_two_errors() {
        check(
            "[groups]\na = @a\nb = @c\nc = @b\n",
            &[(2, "authz-group-cycle"), (3, "authz-group-cycle")],
        );
    }

    #[test]
    fn group_reached_twice_is_no_cycle() {
        check("[groups]\na = @b, @c\nb = @d\nc = @d\nd = x\n", &[]);
    }

    #[test]
    fn forward_group_reference_is_fine() {
        check("[/]\n@late = rw\n[groups]\nlate = h\n", &[]);
    }

    // ---- access entries

    #[test]
    fn undefined_group_in_entry() {
        check("[/]\n@nope = r\n", &[(2, "authz-undefined-group")]);
        check("[/]\n~@nope = r\n", &[(2, "authz-undefined-group")]);
    }

    #[test]
    fn undefined_alias_in_entry() {
        check("[/]\n&nope = r\n", &[(2, "authz-undefined-alias")]);
        check("[/]\n~&nope = r\n", &[(2, "authz-undefined-alias")]);
    }

    #[test]
    fn alias_standing_for_an_undefined_group() {
        check(
            "[aliases]\na = @g\n[/]\n&a = rw\n",
            &[(4, "authz-undefined-group")],
        );
    }

    #[test]
    fn alias_clashing_with_an_inverted_entry() {
        check(
            "[aliases]\na = ~x\n[/]\n&a = rw\n~x = r\n",
            &[(4, "authz-invalid-entry")],
        );
    }

    #[test]
    fn double_inversion() {
        check("[/]\n~~h = r\n", &[(2, "authz-invalid-entry")]);
    }

    #[test]
    fn star_with_more_characters() {
        check("[/]\n*x = r\n", &[(2, "authz-invalid-entry")]);
    }

    #[test]
    fn inverted_star() {
        check("[/]\n~* = r\n", &[(2, "authz-invalid-entry")]);
    }

    #[test]
    fn unknown_dollar_token() {
        check("[/]\n$Anonymous = r\n", &[(2, "authz-invalid-entry")]);
        check("[/]\n~$other = r\n", &[(2, "authz-invalid-entry")]);
    }

    #[test]
    fn all_valid_token_forms() {
        check(
            "[/]\n* = r\n$anonymous = r\n$authenticated = rw\n~$anonymous = r\n\
             ~$authenticated =\n~h = r\n~ = r\n= r\n",
            &[],
        );
    }

    #[test]
    fn unknown_access_character() {
        check("[/]\nh = RW\n", &[(2, "authz-invalid-access")]);
        check("[/]\nh = r-\n", &[(2, "authz-invalid-access")]);
    }

    #[test]
    fn inline_comment_in_access_value() {
        check("[/]\nh = rw # c\n", &[(2, "authz-invalid-access")]);
        let d = &validate("authz", "[/]\nh = rw # c\n")[0];
        assert_eq!(d.col, 8, "points at the '#'");
        assert!(d.message.contains("no inline comments"));
    }

    #[test]
    fn write_only_access() {
        check("[/]\nh = w\n", &[(2, "authz-invalid-access")]);
    }

    #[test]
    fn access_value_spelled_any_way() {
        check("[/]\na = wr\nb = r w\nc = rrr\nd =\ne = r\n  w\n", &[]);
    }

    #[test]
    fn entries_of_invalid_sections_are_not_checked() {
        check("[Groups]\nh = w\n", &[(1, "authz-invalid-section")]);
    }

    // ---- empty groups

    #[test]
    fn rule_for_empty_group_is_a_warning() {
        let diags = validate("authz", "[groups]\ne =\n[/]\n@e = rw\n* = r\n");
        assert_eq!(found(&diags), vec![(4, "authz-empty-group-rule")]);
        assert!(!diag::has_errors(&diags));
    }

    #[test]
    fn inverted_rule_for_empty_group_warns_that_it_is_not_everybody() {
        let diags = validate("authz", "[groups]\ne =\n[/]\n~@e = rw\n");
        assert_eq!(found(&diags), vec![(4, "authz-empty-group-rule")]);
        assert!(
            diags[0]
                .notes
                .iter()
                .any(|n| n.contains("does not mean everybody"))
        );
    }

    #[test]
    fn group_of_empty_groups_is_empty() {
        check(
            "[groups]\ne =\nf = @e\n[/]\n@f = r\n",
            &[(5, "authz-empty-group-rule")],
        );
    }

    #[test]
    fn group_with_only_commas_is_empty() {
        check(
            "[groups]\ne = , ,\n[/]\n@e = r\n",
            &[(4, "authz-empty-group-rule")],
        );
    }

    // ---- global groups file

    #[test]
    fn groups_file_pair_is_valid() {
        check_groups(
            "[groups]\n[aliases]\nal = a\n[/]\n@g = rw\n",
            "[groups]\ng = &al, @h\nh = b\n",
            &[],
        );
    }

    #[test]
    fn groups_in_authz_file_when_a_groups_file_is_used() {
        check_groups(
            "[groups]\nx = y\n[/]\n@g = rw\n",
            "[groups]\ng = a\n",
            &[("authz", 1, "authz-groups-file-conflict")],
        );
    }

    #[test]
    fn rule_section_in_groups_file() {
        check_groups(
            "[/]\n@g = rw\n",
            "[groups]\ng = a\n[/]\nh = r\n",
            &[("groups", 3, "authz-invalid-section")],
        );
    }

    #[test]
    fn aliases_section_in_groups_file() {
        check_groups(
            "",
            "[aliases]\na = b\n",
            &[("groups", 1, "authz-invalid-section")],
        );
    }

    #[test]
    fn duplicate_groups_section_in_groups_file() {
        check_groups(
            "",
            "[groups]\na = x\n[groups]\nb = y\n",
            &[("groups", 3, "authz-duplicate-section")],
        );
    }

    #[test]
    fn bad_name_in_groups_file() {
        check_groups(
            "",
            "[groups]\n@a = x\n",
            &[("groups", 2, "authz-invalid-name")],
        );
    }

    #[test]
    fn syntax_error_in_groups_file() {
        check_groups("", "a = x\n", &[("groups", 1, "authz-syntax")]);
    }

    #[test]
    fn undefined_group_in_groups_file() {
        check_groups(
            "[/]\n@a = r\n",
            "[groups]\na = @b\n",
            &[("groups", 2, "authz-undefined-group")],
        );
    }

    #[test]
    fn cycle_across_groups_file() {
        check_groups(
            "[/]\n@a = r\n",
            "[groups]\na = @b\nb = @a\n",
            &[("groups", 2, "authz-group-cycle")],
        );
    }

    #[test]
    fn diagnostics_render_as_one_line() {
        let d = &validate("conf/authz", "[/]\nh = w\n")[0];
        assert_eq!(
            d.one_line(),
            "conf/authz:2:5: error[authz-invalid-access]: write-only access entry 'h' of rule [/] \
             is not valid; write needs read: use 'rw'"
        );
    }
}
