//! What a file of the configuration is, judged by its path alone: the
//! paths rolesync reads and [`classify`]. A leaf of `snapshot`.

use crate::policytest;

/// The access file inside the configuration repository.
pub const ACCESS_FILE: &str = ".polarion/access";
/// Global role assignments.
pub const USER_ROLES: &str = ".polarion/security/user-roles.xml";
/// Global permissions.
pub const PERMISSIONS: &str = ".polarion/security/permissions.xml";
/// Role definitions.
pub const ROLES: &str = ".polarion/security/roles.xml";
/// User groups.
pub const GROUPS: &str = ".polarion/user-management/groups.xml";
/// The guard rails' settings (`rails::config`).
pub const RAILS_FILE: &str = ".polarion/rolesync.toml";
/// The folder that holds one folder per account.
pub const USERS_DIR: &str = ".polarion/user-management/users/";

/// What a file of the configuration is, judged by its path alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    AccessFile,
    /// `.polarion/rolesync.toml`: the guard rails' settings.
    Rails,
    UserRoles,
    Permissions,
    Roles,
    Groups,
    User {
        login: String,
    },
    ProjectMarker {
        folder: String,
    },
    ProjectUserRoles {
        folder: String,
    },
    ProjectPermissions {
        folder: String,
    },
    /// A project's own role definitions.
    ProjectRoles {
        folder: String,
    },
    /// A policy-test file, `.polarion/tests/*.toml` (`policytest`).
    PolicyTest,
    /// Another file under `.polarion/tests/`: read only to warn that it
    /// is not run (`policy-test-ignored-file`).
    PolicyTestIgnored,
}

/// The login of an account's `user.xml` path (its folder's name), borrowed
/// from the path; `None` for any other path.
pub(crate) fn user_login(path: &str) -> Option<&str> {
    let login = path
        .strip_prefix(USERS_DIR)
        .and_then(|r| r.strip_suffix("/user.xml"))?;
    (!login.contains('/')).then_some(login)
}

/// Classify a repository path; `None` for files rolesync does not read.
pub fn classify(path: &str) -> Option<FileKind> {
    Some(match shape(path)? {
        Shape::Kind(kind) => kind,
        Shape::User(login) => FileKind::User {
            login: login.to_owned(),
        },
        Shape::Project(folder, kind) => kind(folder.to_owned()),
    })
}

/// Whether [`classify`] knows `path` (its kind is not made: no copy of
/// the login or folder, as each build asks it of every file).
pub fn is_classified(path: &str) -> bool {
    shape(path).is_some()
}

/// A path's kind, its login or folder still borrowed from the path.
enum Shape<'p> {
    Kind(FileKind),
    User(&'p str),
    Project(&'p str, fn(String) -> FileKind),
}

fn shape(path: &str) -> Option<Shape<'_>> {
    Some(Shape::Kind(match path {
        ACCESS_FILE => FileKind::AccessFile,
        RAILS_FILE => FileKind::Rails,
        USER_ROLES => FileKind::UserRoles,
        PERMISSIONS => FileKind::Permissions,
        ROLES => FileKind::Roles,
        GROUPS => FileKind::Groups,
        _ if policytest::is_test_file(path) == Some(true) => FileKind::PolicyTest,
        _ if policytest::is_test_file(path) == Some(false) => FileKind::PolicyTestIgnored,
        _ => {
            if let Some(login) = user_login(path) {
                return Some(Shape::User(login));
            }
            let (folder, rest) = path.split_once("/.polarion/")?;
            if folder.is_empty() || folder.starts_with(".polarion/") || folder == ".polarion" {
                return None;
            }
            let kind: fn(String) -> FileKind = match rest {
                "polarion-project.xml" => |folder| FileKind::ProjectMarker { folder },
                "security/user-roles.xml" => |folder| FileKind::ProjectUserRoles { folder },
                "security/permissions.xml" => |folder| FileKind::ProjectPermissions { folder },
                "security/roles.xml" => |folder| FileKind::ProjectRoles { folder },
                _ => return None,
            };
            return Some(Shape::Project(folder, kind));
        }
    }))
}
