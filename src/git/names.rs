//! Names of refs as the rest of pitboss sees them: [`BranchName`] (a short branch name,
//! `pitboss/<id>`) and [`RefName`] (a full ref name, `refs/heads/pitboss/<id>`). Git's own
//! namespaces (`refs/heads/`, `refs/remotes/`) are spelled here and nowhere else outside `git/`:
//! callers build a branch's ref with [`BranchName::ref_name`] and take it apart with
//! [`RefName::branch`], never by editing strings, so a short name can no longer be passed where
//! a full one is meant (or the other way round) without the compiler saying so.
//!
//! Pitboss's own namespaces (`refs/pitboss/…`) stay with the modules that own them (`store`);
//! a [`RefName`] carries any of them as well.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where local branches live.
const HEADS: &str = "refs/heads/";
/// Where remote-tracking branches live (`refs/remotes/<remote>/<branch>`).
const REMOTES: &str = "refs/remotes/";

/// A name git refuses as a branch or ref name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid {1} name")]
pub struct BadRefName(pub String, pub &'static str);

/// A short branch name (`main`, `pitboss/<id>`, `pitboss-slot/<id>/<k>`), checked by git's
/// rules for `refs/heads/<name>`. Serialised as the plain short name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BranchName(String);

impl BranchName {
    /// The branch `name`, when git would accept `refs/heads/<name>`.
    pub fn new(name: impl Into<String>) -> Result<BranchName, BadRefName> {
        let name = name.into();
        // NB: `refs/heads/HEAD` is a valid ref name to libgit2, but `git branch HEAD` refuses it
        // and a branch so named makes every `HEAD` ambiguous; refused here as git does.
        if name != "HEAD"
            && !name.starts_with('-')
            && git2::Reference::is_valid_name(&format!("{HEADS}{name}"))
        {
            Ok(BranchName(name))
        } else {
            Err(BadRefName(name, "branch"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `refs/heads/<name>`.
    pub fn ref_name(&self) -> RefName {
        RefName(format!("{HEADS}{}", self.0))
    }

    /// The remote-tracking ref of this branch on `remote`: `refs/remotes/<remote>/<name>`.
    pub fn remote_tracking(&self, remote: &str) -> RefName {
        RefName(format!("{REMOTES}{remote}/{}", self.0))
    }

    /// The full names of the branches whose short name starts with `prefix` start with this
    /// (`refs/heads/<prefix>`), for listing them ([`super::Repo::refs_with_prefix`]) or as a
    /// refspec's pattern (`pitboss/*` → `refs/heads/pitboss/*`).
    pub fn full_prefix(prefix: &str) -> String {
        format!("{HEADS}{prefix}")
    }
}

impl TryFrom<String> for BranchName {
    type Error = BadRefName;
    fn try_from(s: String) -> Result<BranchName, BadRefName> {
        BranchName::new(s)
    }
}

impl From<BranchName> for String {
    fn from(b: BranchName) -> String {
        b.0
    }
}

impl fmt::Display for BranchName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for BranchName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// A full ref name (`refs/heads/main`, `refs/pitboss/grind/<id>`). Serialised as the plain
/// full name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RefName(String);

impl RefName {
    /// The ref `name`, when git would accept it as one (`refs/…`, checked by git's rules).
    pub fn new(name: impl Into<String>) -> Result<RefName, BadRefName> {
        let name = name.into();
        if name.starts_with("refs/") && git2::Reference::is_valid_name(&name) {
            Ok(RefName(name))
        } else {
            Err(BadRefName(name, "ref"))
        }
    }

    /// A ref as written somewhere that predates full names: a full name as it is, a short one
    /// as the branch it names (`pitboss/grind/<id>` → `refs/heads/pitboss/grind/<id>`).
    pub fn from_recorded(recorded: &str) -> Result<RefName, BadRefName> {
        if recorded.starts_with("refs/") {
            RefName::new(recorded)
        } else {
            BranchName::new(recorded).map(|b| b.ref_name())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The branch this ref is, when it is a local branch (under `refs/heads/`).
    pub fn branch(&self) -> Option<BranchName> {
        self.0
            .strip_prefix(HEADS)
            .map(|short| BranchName(short.to_string()))
    }

    /// Whether this is a remote-tracking branch (under `refs/remotes/`).
    pub fn is_remote_tracking(&self) -> bool {
        self.0.starts_with(REMOTES)
    }

    /// `<remote>/<branch>` of a remote-tracking branch; `None` for other refs.
    pub fn remote_tracking_short(&self) -> Option<&str> {
        self.0.strip_prefix(REMOTES)
    }

    /// Where remote-tracking branches live, for listing them.
    pub fn remote_tracking_prefix() -> &'static str {
        REMOTES
    }

    /// The name of a ref given by git itself (a listing, a HEAD file): trusted as it is.
    pub fn from_git(name: impl Into<String>) -> RefName {
        RefName(name.into())
    }

    /// The short name a person knows this ref by: the branch's name for a local branch
    /// (`refs/heads/main` → `main`), the full name otherwise.
    pub fn short(&self) -> &str {
        self.0.strip_prefix(HEADS).unwrap_or(&self.0)
    }
}

impl TryFrom<String> for RefName {
    type Error = BadRefName;
    fn try_from(s: String) -> Result<RefName, BadRefName> {
        RefName::new(s)
    }
}

impl From<RefName> for String {
    fn from(r: RefName) -> String {
        r.0
    }
}

impl fmt::Display for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read as the text it is wherever a string is wanted (a message, a ref listing's key, the
/// `&str` parameter of the ref-level [`super::Repo`] calls, which take any full ref name): the
/// name's rules hold for the text whatever reads it. Text into a name goes only through the
/// checks. [`BranchName`] has no such reading on purpose: a short name read as text would pass
/// where those calls want a full one.
impl std::ops::Deref for RefName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for RefName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// The short name of a branch given as `refs/heads/<b>` or already as `<b>`, for showing it:
/// records written by older versions hold either.
pub(crate) fn short_branch(recorded: &str) -> &str {
    recorded.strip_prefix(HEADS).unwrap_or(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_checked_by_gits_rules_and_name_the_bad_one() {
        let b = BranchName::new("pitboss/20261124T101500Z-3fa9").unwrap();
        assert_eq!(b.as_str(), "pitboss/20261124T101500Z-3fa9");
        assert_eq!(b.to_string(), "pitboss/20261124T101500Z-3fa9");
        assert_eq!(
            b.ref_name().as_str(),
            "refs/heads/pitboss/20261124T101500Z-3fa9"
        );
        assert_eq!(b.ref_name().branch(), Some(b.clone()));
        for bad in [
            "", "a..b", "a b", "x.lock", "-x", "HEAD", "a/", "a~1", "a:b",
        ] {
            let e = BranchName::new(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("`{bad}` is not a valid branch name"));
        }
    }

    #[test]
    fn ref_names_know_their_families() {
        let main = BranchName::new("main").unwrap();
        assert_eq!(
            main.remote_tracking("origin").as_str(),
            "refs/remotes/origin/main"
        );
        let t = main.remote_tracking("origin");
        assert!(t.is_remote_tracking());
        assert_eq!(t.remote_tracking_short(), Some("origin/main"));
        assert_eq!(t.branch(), None);
        assert_eq!(t.short(), "refs/remotes/origin/main");
        assert_eq!(main.ref_name().short(), "main");
        assert!(!main.ref_name().is_remote_tracking());
        let run = RefName::new("refs/pitboss/grind/r1").unwrap();
        assert_eq!(run.branch(), None);
        assert!(RefName::new("pitboss/grind/r1").is_err());
        assert!(RefName::new("refs/a..b").is_err());
        assert_eq!(
            RefName::from_recorded("pitboss/grind/r1").unwrap().as_str(),
            "refs/heads/pitboss/grind/r1"
        );
        assert_eq!(
            RefName::from_recorded("refs/heads/pitboss/r1")
                .unwrap()
                .as_str(),
            "refs/heads/pitboss/r1"
        );
        assert_eq!(BranchName::full_prefix("pitboss/*"), "refs/heads/pitboss/*");
        assert_eq!(short_branch("refs/heads/main"), "main");
        assert_eq!(short_branch("main"), "main");
    }

    #[test]
    fn names_serialise_as_plain_strings() {
        let b = BranchName::new("pitboss/r1").unwrap();
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"pitboss/r1\"");
        let back: BranchName = serde_json::from_str("\"pitboss/r1\"").unwrap();
        assert_eq!(back, b);
        assert!(serde_json::from_str::<BranchName>("\"a..b\"").is_err());
        let r = b.ref_name();
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            "\"refs/heads/pitboss/r1\""
        );
        let back: RefName = serde_json::from_str("\"refs/heads/pitboss/r1\"").unwrap();
        assert_eq!(back, r);
    }
}
