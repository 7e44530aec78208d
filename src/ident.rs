//! Names that may reach the access file, each a newtype with one validating
//! constructor (DESIGN §2 "Identifiers").
//!
//! A login follows Polarion's rule `[A-Za-z0-9._@-]+` and may not start with
//! `@` (a leading `@` names a group in the access file). Role, user-group and
//! project ids may hold anything but whitespace, control characters and the
//! characters Subversion's authz format gives meaning to. Nothing else can be
//! built, so a hostile name never reaches the access file.
//!
//! Every name is at most `Limits::max_name_bytes` long. Ids are ASCII by
//! default: a non-ASCII character can look like an ASCII one (Cyrillic `а`
//! for `a`), so two groups could look the same and differ. With
//! [`IdChars::UnicodeLetters`] (`--allow-non-ascii-ids`) non-ASCII letters
//! and digits pass too. Bidi controls and invisible characters (zero-width
//! spaces and joiners, the BOM, other format characters) are refused
//! always: they change how a name is displayed without changing what it is.

use std::fmt;
use std::sync::Arc;

pub use crate::limits::IdChars;
use crate::limits::Limits;

/// Characters that SVN authz gives meaning to; never allowed in an id.
pub const AUTHZ_SPECIAL: &[char] = &[
    '=', ',', '[', ']', '#', ';', '@', '&', '~', '$', '*', ':', '"', '\'',
];

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    #[error("is empty")]
    Empty,
    #[error("starts with '@', which names a group in the access file")]
    LeadingAt,
    #[error("contains {0:?}, which is not allowed here")]
    BadChar(char),
    #[error("is {len} bytes long; names are at most {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error(
        "contains {}, an invisible or bidi control character that changes how the name is displayed",
        codepoint(*.0)
    )]
    Invisible(char),
    #[error(
        "contains {} {:?}, which is not ASCII and can look like an ASCII character (ids are ASCII unless --allow-non-ascii-ids is given)",
        codepoint(*.0),
        .0
    )]
    NonAscii(char),
    #[error("contains {}, which is neither ASCII nor a letter or digit", codepoint(*.0))]
    NonAsciiSymbol(char),
}

impl IdentError {
    /// Whether the name was refused for a character that makes it look like
    /// another name (`confusable-id`) rather than for breaking the syntax.
    pub fn is_confusable(&self) -> bool {
        matches!(
            self,
            IdentError::Invisible(_) | IdentError::NonAscii(_) | IdentError::NonAsciiSymbol(_)
        )
    }
}

fn codepoint(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Bidi controls, zero-width characters and the other format characters
/// (Unicode category Cf) that render as nothing.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

fn check_len(s: &str, limits: &Limits) -> Result<(), IdentError> {
    if s.is_empty() {
        return Err(IdentError::Empty);
    }
    if s.len() > limits.max_name_bytes {
        return Err(IdentError::TooLong {
            len: s.len(),
            max: limits.max_name_bytes,
        });
    }
    Ok(())
}

fn check_login(s: &str, limits: &Limits) -> Result<(), IdentError> {
    check_len(s, limits)?;
    if s.starts_with('@') {
        return Err(IdentError::LeadingAt);
    }
    match s
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-')))
    {
        Some(c) if is_invisible(c) => Err(IdentError::Invisible(c)),
        Some(c) => Err(IdentError::BadChar(c)),
        None => Ok(()),
    }
}

/// ASCII bytes an id may hold: printable, no space, not [`AUTHZ_SPECIAL`].
const fn id_ascii_table() -> [bool; 128] {
    let mut table = [false; 128];
    let mut b = 0x21;
    while b < 0x7f {
        table[b] = true;
        b += 1;
    }
    let mut i = 0;
    while i < AUTHZ_SPECIAL.len() {
        table[AUTHZ_SPECIAL[i] as usize] = false;
        i += 1;
    }
    table
}

static ID_ASCII: [bool; 128] = id_ascii_table();

fn check_id(s: &str, limits: &Limits) -> Result<(), IdentError> {
    check_len(s, limits)?;
    // Nearly every id is plain ASCII: one table look-up a byte. Anything
    // else takes the character walk below, which says what is wrong.
    if s.bytes().all(|b| b < 0x80 && ID_ASCII[usize::from(b)]) {
        return Ok(());
    }
    for c in s.chars() {
        if is_invisible(c) {
            return Err(IdentError::Invisible(c));
        }
        if c.is_whitespace() || c.is_control() || AUTHZ_SPECIAL.contains(&c) {
            return Err(IdentError::BadChar(c));
        }
        if !c.is_ascii() {
            match limits.id_chars {
                IdChars::Ascii => return Err(IdentError::NonAscii(c)),
                IdChars::UnicodeLetters if !c.is_alphanumeric() => {
                    return Err(IdentError::NonAsciiSymbol(c));
                }
                IdChars::UnicodeLetters => {}
            }
        }
    }
    Ok(())
}

macro_rules! ident {
    ($(#[$doc:meta])* $name:ident, $check:ident) => {
        $(#[$doc])*
        ///
        /// Shared, not copied: a clone is a reference count.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Validate a name under the default limits.
            pub fn new(s: &str) -> Result<Self, IdentError> {
                Self::new_within(s, &Limits::default())
            }

            /// The one way to make this name: validate it, with the name
            /// length and id characters of `limits`.
            pub fn new_within(s: &str, limits: &Limits) -> Result<Self, IdentError> {
                $check(s, limits)?;
                Ok($name(Arc::from(s)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

ident!(
    /// A user's login (the folder name under `users/`).
    Login,
    check_login
);
ident!(
    /// A role id (`project_admin`, `admin`, a custom role).
    RoleId,
    check_id
);
ident!(
    /// A user group id from groups.xml.
    GroupId,
    check_id
);
ident!(
    /// A project id: the base name of the project folder.
    ProjectId,
    check_id
);

impl ProjectId {
    /// A project id that only serves to ask what every project has
    /// (`Scope::Project(ProjectId::placeholder())`).
    pub fn placeholder() -> ProjectId {
        ProjectId(Arc::from("_"))
    }
}
ident!(
    /// A custom-set id from permissions.xml.
    CustomsetId,
    check_id
);

/// The access-file group of a role: `R` globally, `P-R` in project `P`.
/// Both parts are validated ids, so the result is a valid authz group name.
pub fn role_group_name(project: Option<&ProjectId>, role: &RoleId) -> String {
    match project {
        Some(p) => format!("{p}-{role}"),
        None => role.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_follow_polarions_rule() {
        for ok in ["alice", "a.b_c-d", "x@corp.example", "0"] {
            assert!(Login::new(ok).is_ok(), "{ok}");
        }
        assert_eq!(Login::new(""), Err(IdentError::Empty));
        assert_eq!(Login::new("@admin"), Err(IdentError::LeadingAt));
        assert_eq!(Login::new("a b"), Err(IdentError::BadChar(' ')));
        assert_eq!(Login::new("a,b"), Err(IdentError::BadChar(',')));
        assert_eq!(Login::new("bob\n[/]"), Err(IdentError::BadChar('\n')));
        assert_eq!(Login::new("jürgen"), Err(IdentError::BadChar('ü')));
    }

    #[test]
    fn ids_refuse_what_authz_gives_meaning_to() {
        assert!(RoleId::new("project_admin").is_ok());
        assert!(ProjectId::new("e-library.2").is_ok());
        for c in AUTHZ_SPECIAL {
            let s = format!("a{c}b");
            assert_eq!(RoleId::new(&s), Err(IdentError::BadChar(*c)), "{s}");
        }
        assert_eq!(ProjectId::new("My Project"), Err(IdentError::BadChar(' ')));
        assert_eq!(GroupId::new("a\u{7}"), Err(IdentError::BadChar('\u{7}')));
        assert_eq!(GroupId::new(""), Err(IdentError::Empty));
    }

    #[test]
    fn names_are_bounded_in_length() {
        let limits = Limits {
            max_name_bytes: 8,
            ..Limits::default()
        };
        assert!(RoleId::new_within("12345678", &limits).is_ok());
        assert_eq!(
            RoleId::new_within("123456789", &limits),
            Err(IdentError::TooLong { len: 9, max: 8 })
        );
        assert_eq!(
            Login::new(&"a".repeat(256)),
            Err(IdentError::TooLong { len: 256, max: 255 })
        );
    }

    #[test]
    fn ids_refuse_bidi_invisible_and_look_alike_characters() {
        for c in [
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E0041}',
        ] {
            let s = format!("ad{c}min");
            assert_eq!(RoleId::new(&s), Err(IdentError::Invisible(c)), "{s:?}");
            assert_eq!(Login::new(&s), Err(IdentError::Invisible(c)), "{s:?}");
            let allow = Limits {
                id_chars: IdChars::UnicodeLetters,
                ..Limits::default()
            };
            assert_eq!(
                ProjectId::new_within(&s, &allow),
                Err(IdentError::Invisible(c))
            );
        }
        let cyrillic_a = "\u{0430}dmin";
        assert_eq!(
            RoleId::new(cyrillic_a),
            Err(IdentError::NonAscii('\u{0430}'))
        );
        assert!(
            RoleId::new(cyrillic_a)
                .expect_err("refused")
                .is_confusable()
        );
        let allow = Limits {
            id_chars: IdChars::UnicodeLetters,
            ..Limits::default()
        };
        assert!(RoleId::new_within(cyrillic_a, &allow).is_ok());
        assert!(GroupId::new_within("prüfer", &allow).is_ok());
        assert_eq!(
            GroupId::new_within("a\u{2022}b", &allow),
            Err(IdentError::NonAsciiSymbol('\u{2022}'))
        );
        // Logins stay ASCII whatever the option.
        assert_eq!(Login::new("jürgen"), Err(IdentError::BadChar('ü')));
    }

    proptest::proptest! {
        /// Whatever the input, a name that passes can be written as an
        /// authz group name and member without changing the file's meaning.
        #[test]
        fn accepted_names_are_safe_in_the_access_file(s in "\\PC{0,12}") {
            if let Ok(id) = RoleId::new(&s) {
                let name = id.as_str();
                proptest::prop_assert!(!name.is_empty());
                proptest::prop_assert!(name.is_ascii());
                proptest::prop_assert!(!name.contains(|c: char| c.is_whitespace() || c.is_control() || AUTHZ_SPECIAL.contains(&c)));
            }
            if let Ok(login) = Login::new(&s) {
                let name = login.as_str();
                proptest::prop_assert!(!name.starts_with('@'));
                proptest::prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c)));
            }
        }
    }

    #[test]
    fn role_groups_are_named_like_polarion_names_them() {
        let role = RoleId::new("project_admin").expect("valid");
        let p = ProjectId::new("elibrary").expect("valid");
        assert_eq!(role_group_name(Some(&p), &role), "elibrary-project_admin");
        assert_eq!(role_group_name(None, &role), "project_admin");
    }
}
