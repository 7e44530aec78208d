//! Names that may reach the access file, each a newtype with one validating
//! constructor (DESIGN §2 "Identifiers").
//!
//! A login follows Polarion's rule `[A-Za-z0-9._@-]+` and may not start with
//! `@` (a leading `@` names a group in the access file). Role, user-group and
//! project ids may hold anything but whitespace, control characters and the
//! characters Subversion's authz format gives meaning to. Nothing else can be
//! built, so a hostile name never reaches the access file.

use std::fmt;

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
}

fn check_login(s: &str) -> Result<(), IdentError> {
    if s.is_empty() {
        return Err(IdentError::Empty);
    }
    if s.starts_with('@') {
        return Err(IdentError::LeadingAt);
    }
    match s
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-')))
    {
        Some(c) => Err(IdentError::BadChar(c)),
        None => Ok(()),
    }
}

fn check_id(s: &str) -> Result<(), IdentError> {
    if s.is_empty() {
        return Err(IdentError::Empty);
    }
    match s
        .chars()
        .find(|&c| c.is_whitespace() || c.is_control() || AUTHZ_SPECIAL.contains(&c))
    {
        Some(c) => Err(IdentError::BadChar(c)),
        None => Ok(()),
    }
}

macro_rules! ident {
    ($(#[$doc:meta])* $name:ident, $check:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The one way to make this name: validate it.
            pub fn new(s: &str) -> Result<Self, IdentError> {
                $check(s)?;
                Ok($name(s.to_owned()))
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

    proptest::proptest! {
        /// Whatever the input, a name that passes can be written as an
        /// authz group name and member without changing the file's meaning.
        #[test]
        fn accepted_names_are_safe_in_the_access_file(s in "\\PC{0,12}") {
            if let Ok(id) = RoleId::new(&s) {
                let name = id.as_str();
                proptest::prop_assert!(!name.is_empty());
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
