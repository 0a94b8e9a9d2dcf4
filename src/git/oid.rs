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

    /// A full id exactly as git writes it (40 lowercase hex digits), nothing else: the form
    /// every stored file holds, so that an id read and written back is the same text. A
    /// shorter string, upper case or a 64-digit (SHA-256) id is refused here, where
    /// [`FromStr`] would take the first two as the id they abbreviate or spell.
    pub fn parse_full(s: &str) -> Result<Oid, BadOid> {
        let full = s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match full {
            true => s.parse(),
            false => Err(BadOid(s.to_string())),
        }
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

/// Stored as its 40-digit hex text, the same bytes a `String` holding it gave.
impl serde::Serialize for Oid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Read strictly ([`Oid::parse_full`]): a stored field that is not a full id is an error of that
/// field. The stored types that may meet one written by an older version keep it aside rather
/// than fail (see `store::record_line` and `store::run`).
impl<'de> serde::Deserialize<'de> for Oid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Oid, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Oid::parse_full(&s).map_err(serde::de::Error::custom)
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

    #[test]
    fn stored_ids_are_full_lowercase_hex_and_serialise_as_that_text() {
        let hex = "49ea5f0151132eeace78e40210b4dad987d0ceae";
        let oid = Oid::parse_full(hex).unwrap();
        assert_eq!(serde_json::to_string(&oid).unwrap(), format!("\"{hex}\""));
        let back: Oid = serde_json::from_str(&format!("\"{hex}\"")).unwrap();
        assert_eq!(back, oid);
        for bad in [
            "49ea5f0",
            "49EA5F0151132EEACE78E40210B4DAD987D0CEAE",
            "not-a-sha",
            "",
        ] {
            assert!(Oid::parse_full(bad).is_err(), "{bad}");
            let e = serde_json::from_str::<Oid>(&format!("\"{bad}\"")).unwrap_err();
            assert!(e.to_string().contains("is not a git object id"), "{e}");
        }
        assert!(Oid::parse_full(&"a".repeat(64)).is_err());
    }
}
