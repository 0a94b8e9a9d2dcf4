//! Object ids as the rest of pitboss sees them: a type of our own, so that libgit2 stays inside
//! `git/` (DESIGN's layering). Callers parse, print, compare and hash ids; only `git/` turns them
//! into libgit2's and back. SHA-1 or SHA-256 is libgit2's business, not the callers'.

use std::fmt;
use std::str::FromStr;

/// A git object id (commit, tree or blob).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(git2::Oid);

/// Text that is not an object id.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a git object id")]
pub struct BadOid(pub String);

impl Oid {
    /// The id of no object (all zeros), as git writes for a ref that does not exist.
    pub fn zero() -> Oid {
        Oid(git2::Oid::ZERO_SHA1)
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// An id from its raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Oid, BadOid> {
        git2::Oid::from_bytes(bytes)
            .map(Oid)
            .map_err(|_| BadOid(format!("{bytes:02x?}")))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// libgit2's id, for the code of `git/` that calls it.
    pub(in crate::git) fn raw(self) -> git2::Oid {
        self.0
    }
}

impl From<git2::Oid> for Oid {
    fn from(raw: git2::Oid) -> Oid {
        Oid(raw)
    }
}

impl FromStr for Oid {
    type Err = BadOid;

    /// Hexadecimal, as libgit2 reads it (a shorter string is the id it starts; looking an
    /// abbreviation up in a repository is `Repo::rev_commit`'s job).
    fn from_str(s: &str) -> Result<Oid, BadOid> {
        git2::Oid::from_str(s)
            .map(Oid)
            .map_err(|_| BadOid(s.to_string()))
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_print_and_refuse_what_is_not_one() {
        let hex = "49ea5f0151132eeace78e40210b4dad987d0ceae";
        let oid: Oid = hex.parse().unwrap();
        assert_eq!(oid.to_string(), hex);
        assert_eq!(Oid::from_bytes(oid.as_bytes()).unwrap(), oid);
        assert!(!oid.is_zero());
        assert!(Oid::zero().is_zero());
        assert!("not an id".parse::<Oid>().is_err());
        assert!(Oid::from_bytes(&[1, 2, 3]).is_err());
    }
}
