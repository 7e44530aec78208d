//! Commit-message trailers: `Rolesync-Allow: mass-change` in the last
//! paragraph of the message (as `git interpret-trailers` reads trailers;
//! an SVN log message has the same shape when the line ends it).

/// The trailer key that lets a change past a rail.
pub const ALLOW: &str = "Rolesync-Allow";

/// Whether the last paragraph of `message` holds `Rolesync-Allow: WHAT`
/// (key in any case; several values may be listed, comma-separated).
pub fn allows(message: &str, what: &str) -> bool {
    let message = message.trim_end();
    let last = message
        .rfind("\n\n")
        .or_else(|| message.rfind("\r\n\r\n"))
        .map_or(message, |i| &message[i..]);
    last.lines().any(|line| {
        line.split_once(':').is_some_and(|(key, value)| {
            key.trim().eq_ignore_ascii_case(ALLOW)
                && value
                    .split(',')
                    .any(|v| v.trim().eq_ignore_ascii_case(what))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::allows;

    #[test]
    fn the_trailer_counts_only_in_the_last_paragraph() {
        let cases: &[(&str, bool)] = &[
            (
                "remove the contractors\n\nRolesync-Allow: mass-change\n",
                true,
            ),
            ("one line\nRolesync-Allow: mass-change", true),
            ("x\n\nrolesync-allow:  Mass-Change , other", true),
            (
                "x\n\nSigned-off-by: A <a@x>\nRolesync-Allow: other, mass-change",
                true,
            ),
            ("x\n\nRolesync-Allow: mass-change\n\nlast paragraph", false),
            ("x\n\nRolesync-Allow: mass-changes", false),
            ("x\n\nRolesync-Allowed: mass-change", false),
            ("", false),
        ];
        for (message, expect) in cases {
            assert_eq!(allows(message, "mass-change"), *expect, "{message:?}");
        }
    }
}
