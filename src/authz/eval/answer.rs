//! The answers: [`Authz::access`] (what `svnauthz accessof` prints) and
//! [`Authz::list`] (which sections apply), and path canonicalisation.

use std::sync::OnceLock;

use super::super::rules::{R, RW};
use super::super::tree::Scratch;
use super::types::{Access, Authz, Listed, Subject, View, Walk};

impl Authz {
    /// The access of `user` to `path` in `repository`, exactly as `svnauthz
    /// accessof --username U --repository R --path P` prints it.
    ///
    /// * `user`: `None` or `""` is the anonymous user;
    /// * `repository`: `None` or `""` means only repository-neutral sections
    ///   count (what svnserve does when its root is the repository);
    /// * `path`: `None` asks for the highest access anywhere in the
    ///   repository (Subversion's shortcut); a path is canonicalised like
    ///   `svnauthz` does (leading `/` added, `//`, trailing `/` and `.`
    ///   segments removed, `..` kept).
    pub fn access(
        &self,
        user: Option<&str>,
        repository: Option<&str>,
        path: Option<&str>,
    ) -> Access {
        let view = self.view(user, repository);
        let at = OnceLock::new();
        decide(&view, |required| {
            let Some(p) = path else {
                return true;
            };
            let bits = *at.get_or_init(|| {
                let walk = Walk { view: &view };
                let canonical = canonical(p);
                SCRATCH.with(|s| self.trie.access_at(&canonical, &walk, &mut s.borrow_mut()))
            });
            bits & required == required
        })
    }

    /// The access of `user` to `path` *and everything below it* in
    /// `repository`, exactly as `svnauthz accessof -R` prints it (same
    /// conventions as [`Authz::access`]; `-R` needs a path). Rules that
    /// could match below the path count whether or not such paths exist:
    /// with `[/] h = rw` and `[:glob:/c/*.txt] h =`, `/c` is `no` for `h`
    /// and `/c/d` is `rw`.
    pub fn access_below(&self, user: Option<&str>, repository: Option<&str>, path: &str) -> Access {
        let view = self.view(user, repository);
        let canonical = canonical(path);
        decide(&view, |required| {
            let walk = Walk { view: &view };
            SCRATCH.with(|s| {
                self.trie
                    .covers_below(&canonical, &walk, &mut s.borrow_mut(), required)
            })
        })
    }

    /// Every section that applies to `user` in `repository` (same
    /// conventions as [`Authz::access`]), in file order, with the access its
    /// lines give the user. Computed from the indexes; no other user is
    /// looked at.
    pub fn list(&self, user: Option<&str>, repository: Option<&str>) -> Vec<Listed> {
        let subject = self.subject(user);
        let repo = self.repo(repository);
        let touched = self.touched_by(subject, repo);
        let anonymous = subject == Subject::Anonymous;
        let access = |a: u32| self.access_of(&touched, anonymous, a);
        let base = self.base(subject == Subject::Anonymous, repo);
        let mut all: Vec<u32> = base.applicable.clone();
        all.extend(touched.iter().map(|&(a, _)| a));
        all.sort_unstable();
        all.dedup();
        all.into_iter()
            .filter_map(|a| {
                let acc = access(a)?;
                let acl = &self.acls[a as usize];
                let (name, header) = acl.section.clone()?;
                let replaced_by = repo
                    .and_then(|r| self.specific_twin.get(&(a, r)))
                    .filter(|&&s| access(s).is_some())
                    .and_then(|&s| self.acls[s as usize].section.as_ref())
                    .map(|(n, _)| n.to_string());
                Some(Listed {
                    section: name.into(),
                    header,
                    repository: acl.repo.map(|r| self.repo_names[r as usize].to_string()),
                    access: Access::from_bits(acc),
                    replaced_by,
                })
            })
            .collect()
    }
}

/// `rw`, `r` or `no`: the view's global min/max shortcut first (as
/// Subversion checks it before every lookup), then `at_path`.
fn decide(view: &View, at_path: impl Fn(u8) -> bool) -> Access {
    let granted = |required: u8| -> bool {
        if view.global.min & required == required {
            return true;
        }
        if view.global.max & required != required {
            return false;
        }
        at_path(required)
    };
    if granted(RW) {
        Access::ReadWrite
    } else if granted(R) {
        Access::Read
    } else {
        Access::No
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Is `path` already what [`canonicalize`] would make of it?
fn is_canonical(path: &str) -> bool {
    path == "/"
        || (path.starts_with('/')
            && !path.ends_with('/')
            && !path.contains("//")
            && !path.contains("/./")
            && !path.ends_with("/."))
}

fn canonical(path: &str) -> std::borrow::Cow<'_, str> {
    if is_canonical(path) {
        std::borrow::Cow::Borrowed(path)
    } else {
        std::borrow::Cow::Owned(canonicalize(path))
    }
}

/// Canonicalise a repository path the way `svnauthz` does
/// (`svn_fspath__canonicalize`): a leading `/`, no empty or `.` segments,
/// no trailing `/`; `..` is kept.
pub fn canonicalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." {
            continue;
        }
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}
