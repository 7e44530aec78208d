//! The one form in which the client compares DNs: attribute types and
//! values lowercased, the spaces around `,`, `+` and `=` dropped (RFC 4514
//! escapes kept as written). A leaf.

/// The comparison key of a DN.
pub(crate) fn key(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut token = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                token.push('\\');
                if let Some(next) = chars.next() {
                    push_lower(&mut token, next);
                }
            }
            ',' | '+' | '=' => {
                push_trimmed(&mut out, &token);
                out.push(c);
                token.clear();
            }
            c => push_lower(&mut token, c),
        }
    }
    push_trimmed(&mut out, &token);
    out
}

/// `c` lowercased (ASCII without the Unicode tables: nearly every DN).
fn push_lower(token: &mut String, c: char) {
    if c.is_ascii() {
        token.push(c.to_ascii_lowercase());
    } else {
        token.extend(c.to_lowercase());
    }
}

fn push_trimmed(out: &mut String, token: &str) {
    let trimmed = token.trim();
    out.push_str(trimmed);
    // An escaped trailing space (`\ `) stays.
    if trimmed.ends_with('\\') && token.trim_start().len() > trimmed.len() {
        out.push(' ');
    }
}

/// Whether the entry `dn` (a key) is `base` (a key) or below it.
pub(crate) fn is_below(dn: &str, base: &str) -> bool {
    dn == base
        || dn
            .strip_suffix(base)
            .is_some_and(|head| head.ends_with(','))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_differences_share_a_key() {
        assert_eq!(
            key("CN=QA, ou=Groups ,DC=Example,dc=org"),
            "cn=qa,ou=groups,dc=example,dc=org"
        );
        assert_eq!(key("cn = a\\, b,dc=x"), "cn=a\\, b,dc=x");
        assert_eq!(key("cn=a\\ ,dc=x"), "cn=a\\ ,dc=x");
        assert_ne!(key("cn=ab,dc=x"), key("cn=a b,dc=x"));
        // Beyond ASCII, Unicode's lowercase (the fast path is ASCII only).
        assert_eq!(key("CN=ÄRGER,O=İSTANBUL"), "cn=ärger,o=i\u{307}stanbul");
        assert_eq!(key("cn=\\Ä"), "cn=\\ä");
    }

    #[test]
    fn below_means_a_whole_rdn_suffix() {
        assert!(is_below("uid=a,dc=x", "dc=x"));
        assert!(is_below("dc=x", "dc=x"));
        assert!(!is_below("uid=a,dc=xx", "dc=x"));
        assert!(!is_below("uid=a,dcdc=x", "dc=x"));
    }
}
