//! Names: run ids, the run ref namespace, session sequence numbers and their paths.
//!
//! This is the one module that knows the ref prefixes (`refs/pitboss/grind/` for runs,
//! `refs/pitboss-remotes/<remote>/grind/` for the copies last seen on a remote,
//! `refs/pitboss-tombstones/grind/` for runs deleted here, `refs/pitboss-tombstones/heads/` for
//! run branches gc deleted here, `refs/pitboss-local/work/` for work kept on this machine only);
//! the file names inside a run's tree
//! are `paths.rs`'s (house style 9). Run ids and remote names become ref names, so they are checked here
//! before anything is written or looked up.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::clock::Entropy;
use crate::git::{BranchName, RefName};

/// Where runs live.
pub(crate) const RUN_REF_PREFIX: &str = "refs/pitboss/grind/";
/// Where the run branch of a run lives (under refs/heads/): `pitboss/<id>`. No short name of
/// it resolves to anything else (`refs/pitboss/<id>` is never written).
pub(crate) const RUN_BRANCH_PREFIX: &str = "pitboss/";
/// Where runs made before `pitboss/<id>` keep their branch: `pitboss/grind/<id>`, whose short
/// name git resolves to the run ref. Such runs record it, and readers use what a run records.
pub(crate) const LEGACY_RUN_BRANCH_PREFIX: &str = "pitboss/grind/";
/// Where the copies of a remote's runs live: `refs/pitboss-remotes/<remote>/grind/<id>`.
pub(crate) const REMOTE_REF_PREFIX: &str = "refs/pitboss-remotes/";
/// Where `fetch` puts a remote's runs until they pass the incoming checks:
/// `refs/pitboss-incoming/<remote>/grind/<id>`, deleted before `fetch` returns.
pub(crate) const INCOMING_REF_PREFIX: &str = "refs/pitboss-incoming/";
/// Where the tombstones of runs deleted here live: `refs/pitboss-tombstones/grind/<id>`.
pub(crate) const TOMBSTONE_REF_PREFIX: &str = "refs/pitboss-tombstones/grind/";
/// Where the tombstones of run branches deleted here live (by `gc`):
/// `refs/pitboss-tombstones/heads/<branch>`, e.g. `…/heads/pitboss/<id>`.
pub(crate) const BRANCH_TOMBSTONE_REF_PREFIX: &str = "refs/pitboss-tombstones/heads/";
/// Where work that cannot be pushed safely is kept whole, on this machine only:
/// `refs/pitboss-local/work/<id>/<name>`. No refspec of `push` names it.
pub(crate) const LOCAL_WORK_REF_PREFIX: &str = "refs/pitboss-local/work/";
/// Longest run id we accept. Generated ids are 21 characters.
pub(crate) const MAX_RUN_ID_LEN: usize = 64;

/// Why a string is not a run id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunIdError {
    #[error("a run id cannot be empty")]
    Empty,
    #[error("run id {0:?} is too long ({1} characters; at most {MAX_RUN_ID_LEN})")]
    TooLong(String, usize),
    #[error("run id {0:?} cannot start with '{1}'")]
    BadStart(String, char),
    #[error("run id {0:?} contains {1}, which cannot appear in a ref name")]
    BadChar(String, String),
    #[error("run id {0:?} cannot contain '..'")]
    DotDot(String),
    #[error("run id {0:?} cannot end with '{1}'")]
    BadEnd(String, &'static str),
}

/// A validated run id, e.g. `20261124T101500Z-3fa9`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    /// Checks `s` against what a ref name component may be, and a little more: only ASCII
    /// letters, digits, `.`, `_` and `-`; no leading `-` or `.`; no `..`; not ending in `.lock`
    /// or `.`; 1 to 64 characters.
    pub fn parse(s: &str) -> Result<RunId, RunIdError> {
        check_id_chars(s)?;
        if s.ends_with(".lock") {
            return Err(RunIdError::BadEnd(s.into(), ".lock"));
        }
        if s.ends_with('.') {
            return Err(RunIdError::BadEnd(s.into(), "."));
        }
        Ok(RunId(s.to_string()))
    }

    /// A new id `YYYYMMDDTHHMMSSZ-xxxx` (UTC time, 4 random lowercase hex digits), never one
    /// this process has handed out before.
    pub fn generate(now: DateTime<Utc>, entropy: &dyn Entropy) -> RunId {
        static ISSUED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
        let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
        let mut issued = ISSUED.lock().unwrap_or_else(|e| e.into_inner());
        let issued = issued.get_or_insert_with(HashSet::new);
        loop {
            let id = format!("{stamp}-{:04x}", entropy.next_u64() & 0xffff);
            if issued.insert(id.clone()) {
                return RunId(id);
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the id has the shape [`RunId::generate`] gives (`YYYYMMDDTHHMMSSZ-xxxx`): the
    /// ids of runs grind made, the only runs that own a `pitboss/<id>` branch.
    pub fn is_generated(&self) -> bool {
        let b = self.0.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        b.len() == 21
            && digits(0..8)
            && b[8] == b'T'
            && digits(9..15)
            && b[15] == b'Z'
            && b[16] == b'-'
            && b[17..]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
    }

    /// `refs/pitboss/grind/<id>`.
    pub fn ref_name(&self) -> String {
        format!("{RUN_REF_PREFIX}{}", self.0)
    }

    /// `pitboss/<id>`, the short name of the branch a new run's code lands on.
    pub fn branch_name(&self) -> BranchName {
        self.branch_named(RUN_BRANCH_PREFIX)
    }

    /// `<prefix><id>`: a run id is a valid ref name component (checked by [`RunId::parse`]), so
    /// it makes a valid branch name under any of pitboss's branch prefixes.
    fn branch_named(&self, prefix: &str) -> BranchName {
        BranchName::new(format!("{prefix}{}", self.0))
            .expect("a run id is a valid ref name component")
    }

    /// `refs/heads/pitboss/<id>`: the full ref name a new run records as its branch.
    pub fn branch_ref(&self) -> RefName {
        self.branch_name().ref_name()
    }

    /// `refs/heads/pitboss/grind/<id>`: the branch of a run made before `pitboss/<id>`.
    pub fn legacy_branch_ref(&self) -> RefName {
        self.branch_named(LEGACY_RUN_BRANCH_PREFIX).ref_name()
    }

    /// The branch a run records (a full ref name, or the short `pitboss/grind/<id>` that older
    /// runs wrote), as a full ref name, when it is one of the two names a run of this id can
    /// have. Anything else (a run.json from a remote naming `refs/heads/main`) is `None`, so
    /// sharing never moves a branch that is not this run's.
    pub fn recorded_branch_ref(&self, recorded: &str) -> Option<RefName> {
        let full = RefName::from_recorded(recorded).ok()?;
        (full == self.branch_ref() || full == self.legacy_branch_ref()).then_some(full)
    }

    /// The run id of a ref under [`RUN_REF_PREFIX`]; `None` for other refs, `Some(Err)` for a
    /// ref in our namespace whose name is not a valid id.
    pub fn from_ref_name(name: &str) -> Option<Result<RunId, RunIdError>> {
        name.strip_prefix(RUN_REF_PREFIX).map(RunId::parse)
    }

    /// `refs/pitboss-remotes/<remote>/grind/<id>`: the run as last seen on `remote`.
    pub fn tracking_ref_name(&self, remote: &RemoteName) -> String {
        format!("{}{}", remote.tracking_prefix(), self.0)
    }

    /// The remote and run of any tracking ref `refs/pitboss-remotes/<remote>/grind/<id>`
    /// whose parts are both valid; `None` for anything else.
    pub fn from_any_tracking_ref(name: &str) -> Option<(RemoteName, RunId)> {
        let rest = name.strip_prefix(REMOTE_REF_PREFIX)?;
        let (remote, id) = rest.split_once("/grind/")?;
        Some((RemoteName::parse(remote).ok()?, RunId::parse(id).ok()?))
    }

    /// `refs/pitboss-tombstones/grind/<id>`: present while the run stays deleted here.
    pub fn tombstone_ref_name(&self) -> String {
        format!("{TOMBSTONE_REF_PREFIX}{}", self.0)
    }

    /// `refs/pitboss-local/work/<id>/<name>`: work of this run kept on this machine only
    /// (never pushed, never deleted by gc). `name` is pitboss's own (`session-0007`).
    pub fn local_work_ref(&self, name: &str) -> String {
        format!("{LOCAL_WORK_REF_PREFIX}{}/{name}", self.0)
    }
}

/// Why a remote cannot be used as a tracking namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("remote name {0:?} cannot name a ref namespace")]
pub struct RemoteNameError(pub String);

/// The name of a remote as it appears in tracking refs: a configured remote's own name
/// (`origin`), or `url-<16 hex digits>` derived from a URL or path given on the command line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RemoteName(String);

impl RemoteName {
    /// A configured remote's name, checked like a run id (no '/', so that one remote's
    /// namespace can never contain another's).
    pub fn parse(s: &str) -> Result<RemoteName, RemoteNameError> {
        match RunId::parse(s) {
            Ok(_) => Ok(RemoteName(s.to_string())),
            Err(_) => Err(RemoteNameError(s.to_string())),
        }
    }

    /// The namespace of a remote given as a URL or path: `url-` and a 64-bit FNV-1a hash of
    /// the URL as typed, so the same URL always maps to the same tracking refs.
    pub fn for_url(url: &str) -> RemoteName {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in url.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        RemoteName(format!("url-{h:016x}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `refs/pitboss-remotes/<remote>/grind/`
    pub fn tracking_prefix(&self) -> String {
        format!("{REMOTE_REF_PREFIX}{}/grind/", self.0)
    }

    /// `refs/pitboss-remotes/<remote>/heads/`: where a remote's run branches are mirrored
    /// (`refs/heads/pitboss/<id>` there is `refs/pitboss-remotes/<remote>/heads/pitboss/<id>`).
    pub fn branch_tracking_prefix(&self) -> String {
        format!("{REMOTE_REF_PREFIX}{}/heads/", self.0)
    }

    /// The tracking ref of a branch `refs/heads/<b>` of this remote.
    pub fn branch_tracking_ref(&self, branch_ref: &RefName) -> String {
        format!("{}{}", self.branch_tracking_prefix(), branch_ref.short())
    }

    /// `refs/pitboss-remotes/<remote>/gone/<id>`: present while run `id`, once pushed to or
    /// fetched from this remote, is known to have been deleted there.
    pub fn gone_ref(&self, id: &RunId) -> String {
        format!("{REMOTE_REF_PREFIX}{}/gone/{id}", self.0)
    }

    /// `refs/pitboss-remotes/<remote>/gone/`
    pub fn gone_prefix(&self) -> String {
        format!("{REMOTE_REF_PREFIX}{}/gone/", self.0)
    }

    /// `refs/pitboss-incoming/<remote>/grind/`: runs fetched but not yet checked.
    pub fn incoming_prefix(&self) -> String {
        format!("{INCOMING_REF_PREFIX}{}/grind/", self.0)
    }

    /// The run id of one of this remote's tracking refs; `None` for other refs, `Some(Err)` for
    /// a name in the namespace that is not a valid id (a remote can send anything).
    pub fn run_of_tracking_ref(&self, name: &str) -> Option<Result<RunId, RunIdError>> {
        name.strip_prefix(&self.tracking_prefix()).map(RunId::parse)
    }
}

impl fmt::Display for RemoteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RunId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RunId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Checks a user-typed prefix of a run id: the same characters as an id, not empty.
pub(crate) fn check_run_prefix(s: &str) -> Result<(), RunIdError> {
    check_id_chars(s)
}

fn check_id_chars(s: &str) -> Result<(), RunIdError> {
    if s.is_empty() {
        return Err(RunIdError::Empty);
    }
    let n = s.chars().count();
    if n > MAX_RUN_ID_LEN {
        return Err(RunIdError::TooLong(s.into(), n));
    }
    let first = s.chars().next().unwrap_or('-');
    if first == '-' || first == '.' {
        return Err(RunIdError::BadStart(s.into(), first));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        let what = match c {
            ' ' => "a space".to_string(),
            '/' => "'/'".to_string(),
            c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
            c => format!("{c:?}"),
        };
        return Err(RunIdError::BadChar(s.into(), what));
    }
    if s.contains("..") {
        return Err(RunIdError::DotDot(s.into()));
    }
    Ok(())
}

/// A session's sequence number within a run (1, 2, 3, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Seq(pub u64);

impl Seq {
    /// Zero-padded to at least 4 digits: `0007`, `12345`.
    pub(crate) fn padded(self) -> String {
        format!("{:04}", self.0)
    }

    /// `seq / 100`, zero-padded to 2 digits: `00`, `123`.
    pub(crate) fn bucket(self) -> String {
        format!("{:02}", self.0 / 100)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.padded())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SeededEntropy;

    #[test]
    fn only_generated_shapes_count_as_generated() {
        for ok in ["20261124T101500Z-3fa9", "20260101T000000Z-0000"] {
            assert!(RunId::parse(ok).unwrap().is_generated(), "{ok}");
        }
        for no in [
            "feature",
            "20261124T101500Z-3FA9",
            "20261124T101500Z-3fa",
            "20261124T101500Z-3fa9x",
            "2026112xT101500Z-3fa9",
            "20261124-101500Z-3fa9",
        ] {
            assert!(!RunId::parse(no).unwrap().is_generated(), "{no}");
        }
    }

    #[test]
    fn generated_ids_have_the_documented_shape_and_never_repeat() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T10:15:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let e = SeededEntropy::new(1);
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let id = RunId::generate(now, &e);
            let s = id.as_str();
            assert_eq!(s.len(), 21, "{s}");
            assert!(s.starts_with("20261124T101500Z-"), "{s}");
            assert!(
                s[17..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
            assert!(RunId::parse(s).is_ok());
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn bad_ids_are_refused_with_a_reason() {
        let long = "a".repeat(65);
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("a..b", "'..'"),
            ("a/b", "'/'"),
            ("x.lock", ".lock"),
            ("has space", "a space"),
            ("tab\there", "control character"),
            ("-rf", "start with '-'"),
            (".hidden", "start with '.'"),
            ("end.", "end with '.'"),
            ("a~b", "'~'"),
            ("ü", "'ü'"),
            (&long, "too long"),
        ];
        for (input, needle) in cases {
            let err = RunId::parse(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input:?}: {err}");
        }
        assert!(RunId::parse("20261124T101500Z-3fa9").is_ok());
        assert!(RunId::parse("rid").is_ok());
        assert_eq!(
            RunId::parse("abc").unwrap().ref_name(),
            "refs/pitboss/grind/abc"
        );
    }

    #[test]
    fn a_run_branch_is_one_of_two_names_and_resolves_to_nothing_else() {
        let id = RunId::parse("20261124T101500Z-3fa9").unwrap();
        assert_eq!(id.branch_name().as_str(), "pitboss/20261124T101500Z-3fa9");
        assert_eq!(
            id.branch_ref().as_str(),
            "refs/heads/pitboss/20261124T101500Z-3fa9"
        );
        // git resolves a short name through refs/<name> before refs/heads/<name>: the new
        // branch's short name must not be a run ref.
        assert!(!id.ref_name().ends_with(id.branch_name().as_str()));
        for recorded in [
            "refs/heads/pitboss/20261124T101500Z-3fa9",
            "pitboss/20261124T101500Z-3fa9",
        ] {
            assert_eq!(id.recorded_branch_ref(recorded), Some(id.branch_ref()));
        }
        assert_eq!(
            id.recorded_branch_ref("pitboss/grind/20261124T101500Z-3fa9")
                .map(String::from),
            Some("refs/heads/pitboss/grind/20261124T101500Z-3fa9".into())
        );
        for hostile in [
            "refs/heads/main",
            "main",
            "refs/heads/pitboss/other",
            "refs/pitboss/grind/20261124T101500Z-3fa9",
        ] {
            assert_eq!(id.recorded_branch_ref(hostile), None, "{hostile}");
        }
        let origin = RemoteName::parse("origin").unwrap();
        assert_eq!(
            origin.branch_tracking_ref(&id.branch_ref()),
            "refs/pitboss-remotes/origin/heads/pitboss/20261124T101500Z-3fa9"
        );
        assert_eq!(
            origin.gone_ref(&id),
            "refs/pitboss-remotes/origin/gone/20261124T101500Z-3fa9"
        );
    }

    #[test]
    fn remote_names_and_tracking_refs() {
        let origin = RemoteName::parse("origin").unwrap();
        let id = RunId::parse("r1").unwrap();
        assert_eq!(
            id.tracking_ref_name(&origin),
            "refs/pitboss-remotes/origin/grind/r1"
        );
        assert_eq!(id.tombstone_ref_name(), "refs/pitboss-tombstones/grind/r1");
        assert_eq!(
            origin
                .run_of_tracking_ref("refs/pitboss-remotes/origin/grind/r1")
                .unwrap()
                .unwrap(),
            id
        );
        assert!(
            origin
                .run_of_tracking_ref("refs/pitboss-remotes/origin/grind/a/b")
                .unwrap()
                .is_err()
        );
        assert!(
            origin
                .run_of_tracking_ref("refs/pitboss-remotes/other/grind/r1")
                .is_none()
        );
        for bad in ["a/b", "-x", "a..b", "x.lock", ""] {
            assert!(RemoteName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            RunId::from_any_tracking_ref("refs/pitboss-remotes/team/grind/r1"),
            Some((RemoteName::parse("team").unwrap(), id.clone()))
        );
        assert_eq!(
            RunId::from_any_tracking_ref("refs/pitboss-remotes/a/b/grind/r1"),
            None
        );
        assert_eq!(RunId::from_any_tracking_ref("refs/pitboss/grind/r1"), None);
        let u = RemoteName::for_url("file:///tmp/remote.git");
        assert_eq!(u, RemoteName::for_url("file:///tmp/remote.git"));
        assert_ne!(u, RemoteName::for_url("/tmp/remote.git"));
        assert!(
            u.as_str().starts_with("url-") && u.as_str().len() == 20,
            "{u}"
        );
        assert!(RemoteName::parse(u.as_str()).is_ok());
    }

    #[test]
    fn from_ref_name_only_in_namespace() {
        assert!(RunId::from_ref_name("refs/heads/main").is_none());
        assert!(
            RunId::from_ref_name("refs/pitboss/grind/ok-1")
                .unwrap()
                .is_ok()
        );
        assert!(
            RunId::from_ref_name("refs/pitboss/grind/a/b")
                .unwrap()
                .is_err()
        );
    }
}
