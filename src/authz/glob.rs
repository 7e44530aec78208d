//! Rule paths of authz sections: splitting, canonical-path checks, and the
//! classification of `:glob:` segments, as libsvn_repos 1.14 does it.
//!
//! A rule path becomes a list of [`Seg`]s (empty for the repository root).
//! In plain sections every segment is a literal. In `:glob:` sections a
//! segment without an active wildcard (APR's `apr_fnmatch_test`) is a
//! literal with its backslash escapes removed; `*` and `**` are the one- and
//! any-level wildcards (`**/**` collapses, `**/*` becomes `*/**`); `*suffix`
//! and `prefix*` without other wildcards get their own kinds; anything else
//! is an `fnmatch` pattern. Matching is byte-wise, like APR's `apr_fnmatch`
//! with no flags: `*` and `?` also match a leading dot, and `[...]` classes
//! cannot occur because a section name ends at its first `]`.

use std::borrow::Cow;

/// What one rule segment matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum SegKind {
    /// Exactly `pat`.
    Literal,
    /// Names starting with `pat`.
    Prefix,
    /// Names ending with `pat` (stored unreversed here).
    Suffix,
    /// `*`: any one name.
    Any,
    /// `**`: any number of names, zero included.
    AnyRecursive,
    /// Any other pattern, matched with [`fnmatch`].
    Fnmatch,
}

/// One normalised rule segment; the pattern borrows from the section name
/// unless unescaping changed it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Seg<'a> {
    pub kind: SegKind,
    pub pat: Cow<'a, [u8]>,
}

impl<'a> Seg<'a> {
    fn new(kind: SegKind, pat: &'a [u8]) -> Self {
        Seg {
            kind,
            pat: Cow::Borrowed(pat),
        }
    }

    fn unescaped(kind: SegKind, pat: &'a [u8]) -> Self {
        Seg {
            kind,
            pat: if pat.contains(&b'\\') {
                Cow::Owned(unescape(pat))
            } else {
                Cow::Borrowed(pat)
            },
        }
    }
}

/// Why a rule path is not canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathError {
    EmptySegment,
    Dot,
    DotDot,
}

impl PathError {
    pub fn describe(self) -> &'static str {
        match self {
            PathError::EmptySegment => "it has an empty segment (a trailing '/' or '//')",
            PathError::Dot => "it has a '.' segment",
            PathError::DotDot => "it has a '..' segment",
        }
    }
}

/// APR's `apr_fnmatch_test`: does `pat` hold an active wildcard?
pub(crate) fn has_wildcard(pat: &[u8]) -> bool {
    let mut nesting = 0;
    let mut i = 0;
    while i < pat.len() {
        match pat[i] {
            b'?' | b'*' => return true,
            b'\\' => {
                i += 1;
                if i >= pat.len() {
                    return false;
                }
            }
            b'[' => nesting += 1,
            b']' if nesting > 0 => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Remove backslash escapes; a trailing lone backslash stays.
pub(crate) fn unescape(pat: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pat.len());
    let mut i = 0;
    while i < pat.len() {
        if pat[i] == b'\\' && i + 1 < pat.len() {
            out.push(pat[i + 1]);
            i += 2;
        } else {
            out.push(pat[i]);
            i += 1;
        }
    }
    out
}

/// `apr_fnmatch(pat, s, 0)` for patterns made of literals, `*`, `?` and
/// backslash escapes (an unbalanced `[` is a literal).
pub(crate) fn fnmatch(pat: &[u8], s: &[u8]) -> bool {
    // Classic linear matcher with backtracking to the last '*'.
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    while p < pat.len() && pat[p] == b'*' {
                        p += 1;
                    }
                    star = Some((p, i));
                    continue;
                }
                b'?' if i < s.len() => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'?' => {}
                c => {
                    let (lit, width) = if c == b'\\' && p + 1 < pat.len() {
                        (pat[p + 1], 2)
                    } else {
                        (c, 1)
                    };
                    if i < s.len() && s[i] == lit {
                        p += width;
                        i += 1;
                        continue;
                    }
                }
            }
        } else if i == s.len() {
            return true;
        }
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

/// Split and classify a rule path (which starts with `/`). `Ok(vec![])` is
/// the repository root; so is any path whose first segment is empty
/// (`//x`), a Subversion quirk.
pub(crate) fn parse_rule_path(path: &str, glob: bool) -> Result<Vec<Seg<'_>>, PathError> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let mut segs: Vec<Seg<'_>> =
        Vec::with_capacity(rest.bytes().filter(|&b| b == b'/').count() + 1);
    for part in rest.split('/') {
        let seg = part.as_bytes();
        if seg.is_empty() {
            if segs.is_empty() {
                return Ok(Vec::new());
            }
            return Err(PathError::EmptySegment);
        }
        if seg == b"." {
            return Err(PathError::Dot);
        }
        if seg == b".." {
            return Err(PathError::DotDot);
        }
        if !glob {
            segs.push(Seg::new(SegKind::Literal, seg));
            continue;
        }
        if !has_wildcard(seg) {
            segs.push(Seg::unescaped(SegKind::Literal, seg));
            continue;
        }
        let last_is_recursive = segs.last().is_some_and(|s| s.kind == SegKind::AnyRecursive);
        if seg == b"*" {
            if last_is_recursive {
                // "**/*" is the same rule as "*/**".
                if let Some(last) = segs.last_mut() {
                    last.kind = SegKind::Any;
                }
                segs.push(Seg::new(SegKind::AnyRecursive, b""));
            } else {
                segs.push(Seg::new(SegKind::Any, b""));
            }
            continue;
        }
        if seg == b"**" {
            if !last_is_recursive {
                segs.push(Seg::new(SegKind::AnyRecursive, b""));
            }
            continue;
        }
        if seg[0] == b'*' && !has_wildcard(&seg[1..]) {
            segs.push(Seg::unescaped(SegKind::Suffix, &seg[1..]));
            continue;
        }
        let n = seg.len();
        if seg[n - 1] == b'*' && n >= 2 && seg[n - 2] != b'\\' && !has_wildcard(&seg[..n - 1]) {
            segs.push(Seg::unescaped(SegKind::Prefix, &seg[..n - 1]));
            continue;
        }
        segs.push(Seg::new(SegKind::Fnmatch, seg));
    }
    Ok(segs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(path: &str, glob: bool) -> Vec<(SegKind, String)> {
        parse_rule_path(path, glob)
            .expect("test path is canonical")
            .into_iter()
            .map(|s| (s.kind, String::from_utf8_lossy(&s.pat).into_owned()))
            .collect()
    }

    use SegKind::*;

    fn v(items: &[(SegKind, &str)]) -> Vec<(SegKind, String)> {
        items.iter().map(|(k, p)| (*k, (*p).to_owned())).collect()
    }

    #[test]
    fn root_is_empty() {
        assert_eq!(kinds("/", false), vec![]);
        assert_eq!(kinds("/", true), vec![]);
    }

    #[test]
    fn double_slash_at_start_is_the_root() {
        assert_eq!(kinds("//x", false), vec![]);
        assert_eq!(kinds("//", false), vec![]);
    }

    #[test]
    fn non_canonical_paths_are_refused() {
        assert_eq!(parse_rule_path("/a/", false), Err(PathError::EmptySegment));
        assert_eq!(
            parse_rule_path("/a//b", false),
            Err(PathError::EmptySegment)
        );
        assert_eq!(parse_rule_path("/a/./b", true), Err(PathError::Dot));
        assert_eq!(parse_rule_path("/a/..", false), Err(PathError::DotDot));
    }

    #[test]
    fn plain_sections_take_wildcards_literally() {
        assert_eq!(
            kinds("/a*/\\b", false),
            v(&[(Literal, "a*"), (Literal, "\\b")])
        );
    }

    #[test]
    fn glob_classification() {
        assert_eq!(
            kinds("/*/**/a*/*b/?b/*a*/a\\*b/x[ab", true),
            v(&[
                (Any, ""),
                (AnyRecursive, ""),
                (Prefix, "a"),
                (Suffix, "b"),
                (Fnmatch, "?b"),
                (Fnmatch, "*a*"),
                (Literal, "a*b"),
                (Literal, "x[ab"),
            ])
        );
    }

    #[test]
    fn recursive_wildcards_normalise() {
        assert_eq!(
            kinds("/a/**/**", true),
            v(&[(Literal, "a"), (AnyRecursive, "")])
        );
        assert_eq!(kinds("/a/**/*", true), kinds("/a/*/**", true));
    }

    #[test]
    fn escaped_star_before_end_is_not_a_prefix() {
        assert_eq!(kinds("/?\\*", true), v(&[(Fnmatch, "?\\*")]));
        assert_eq!(kinds("/a\\**", true), v(&[(Prefix, "a*")]));
    }

    #[test]
    fn trailing_backslash_stays_literal() {
        assert_eq!(unescape(b"a\\"), b"a\\".to_vec());
        assert!(!has_wildcard(b"a\\"));
        assert!(!has_wildcard(b"a\\*"));
    }

    #[test]
    fn fnmatch_basics() {
        assert!(fnmatch(b"*a*", b"bab"));
        assert!(fnmatch(b"*a*", b"a"));
        assert!(!fnmatch(b"*a*", b"bbb"));
        assert!(fnmatch(b"?b", b"ab"));
        assert!(!fnmatch(b"?b", b"b"));
        assert!(fnmatch(b"***", b""));
        assert!(fnmatch(b"*", b".hidden"));
        assert!(fnmatch(b"a\\*", b"a*"));
        assert!(!fnmatch(b"a\\*", b"ab"));
        assert!(fnmatch(b"x[a", b"x[a"));
        assert!(fnmatch(b"a*b*c", b"aXbYbZc"));
        assert!(!fnmatch(b"a*b*c", b"aXbYbZ"));
    }

    #[test]
    fn question_mark_matches_one_byte_not_one_character() {
        assert!(!fnmatch(b"?b", "éb".as_bytes()));
        assert!(fnmatch(b"??b", "éb".as_bytes()));
    }
}
