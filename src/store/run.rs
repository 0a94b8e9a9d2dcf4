//! The two run-level files of a run's tree: `run.json` (immutable metadata, written once by
//! the root commit) and `state.json` (resumable state, rewritten by every commit).
//!
//! `state.json` keeps sums that could be derived from the records (sessions, tokens, cost,
//! last seq). They are kept anyway because `git pitboss ls` must read one commit per run,
//! never the history; the store updates them in the same commit as each record, so they
//! cannot drift from the records they sum.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::id::RunId;
use super::record::{SessionRecord, rfc3339};
use crate::git::{Oid, RefName};
use crate::usage::Tokens;

/// The schema of the run ref format this code writes.
pub(crate) const SCHEMA: u32 = 1;

/// Immutable metadata of a run (`run.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RunMetaFile", into = "RunMetaFile")]
pub struct RunMeta {
    pub schema: u32,
    pub id: RunId,
    pub created_at: DateTime<Utc>,
    /// The branch the run started from, when it started from one.
    pub base_branch: Option<String>,
    /// The commit the run branch started at.
    pub base_commit: Option<Oid>,
    /// A `base_commit` that is not a full commit id, as `run.json` has it: none in what
    /// pitboss writes; a file from elsewhere (an import, an older version) may hold one, and
    /// it still reads (with no base commit) and writes back (`export`) as it was.
    pub unread_base_commit: Option<String>,
    /// The branch the run's code lands on, as a full ref name (`refs/heads/pitboss/<id>`;
    /// runs made before that name wrote the short `pitboss/grind/<id>`), when it has one.
    /// Kept as written (so `run.json` reads back the same); readers take it through
    /// [`RunId::recorded_branch_ref`], which types it and checks it is this run's.
    pub branch: Option<String>,
    /// The agent backend, e.g. `claude`, `command`, `demo`.
    pub agent: Option<String>,
    pub rotation: Option<String>,
    /// Prompt name → digest of the prompt file the run started with.
    pub prompts: BTreeMap<String, String>,
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// `run.json` as written: [`RunMeta`] with its commit as text, in the file's field order.
#[derive(Serialize, Deserialize)]
struct RunMetaFile {
    schema: u32,
    id: RunId,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(default)]
    base_branch: Option<String>,
    #[serde(default)]
    base_commit: Option<String>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    rotation: Option<String>,
    #[serde(default)]
    prompts: BTreeMap<String, String>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

impl From<RunMetaFile> for RunMeta {
    fn from(f: RunMetaFile) -> RunMeta {
        let (base_commit, unread_base_commit) = match f.base_commit {
            Some(c) => match Oid::parse_full(&c) {
                Ok(oid) => (Some(oid), None),
                Err(_) => (None, Some(c)),
            },
            None => (None, None),
        };
        RunMeta {
            schema: f.schema,
            id: f.id,
            created_at: f.created_at,
            base_branch: f.base_branch,
            base_commit,
            unread_base_commit,
            branch: f.branch,
            agent: f.agent,
            rotation: f.rotation,
            prompts: f.prompts,
            extra: f.extra,
        }
    }
}

impl From<RunMeta> for RunMetaFile {
    fn from(m: RunMeta) -> RunMetaFile {
        RunMetaFile {
            schema: m.schema,
            id: m.id,
            created_at: m.created_at,
            base_branch: m.base_branch,
            base_commit: (m.base_commit.map(|c| c.to_string())).or(m.unread_base_commit),
            branch: m.branch,
            agent: m.agent,
            rotation: m.rotation,
            prompts: m.prompts,
            extra: m.extra,
        }
    }
}

impl RunMeta {
    /// The run's branch as a full ref name, when the branch it records is one of the two a run
    /// of its id can have ([`RunId::recorded_branch_ref`]).
    pub fn branch_ref(&self) -> Option<RefName> {
        (self.branch.as_deref()).and_then(|b| self.id.recorded_branch_ref(b))
    }

    /// The recorded branch for showing: in full when it is the run's (an older run's short
    /// `pitboss/grind/<id>` names the run ref to git), else as written.
    pub fn branch_shown(&self) -> Option<String> {
        (self.branch_ref().map(String::from)).or_else(|| self.branch.clone())
    }

    /// The base commit as `run.json` spells it, for showing: the id, or the text of an unread
    /// one.
    pub fn base_commit_text(&self) -> Option<String> {
        (self.base_commit.map(|c| c.to_string())).or_else(|| self.unread_base_commit.clone())
    }

    /// Metadata with only the required fields set (what `record --create` makes).
    pub fn minimal(id: RunId, created_at: DateTime<Utc>) -> RunMeta {
        RunMeta {
            schema: SCHEMA,
            id,
            created_at,
            base_branch: None,
            base_commit: None,
            unread_base_commit: None,
            branch: None,
            agent: None,
            rotation: None,
            prompts: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// Where a run stands. Unknown values (from a newer pitboss or the file-based design) are kept
/// as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Finished,
    Aborted,
    /// Stopped by a budget or a failure limit; resumable.
    Stopped,
    /// Its grind exited on an error after taking the run up (stop reason `grind failed: …`);
    /// resumable.
    Failed,
    Other(String),
}

impl RunStatus {
    pub fn as_str(&self) -> &str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Aborted => "aborted",
            RunStatus::Stopped => "stopped",
            RunStatus::Failed => "failed",
            RunStatus::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> RunStatus {
        match s {
            "running" => RunStatus::Running,
            "finished" => RunStatus::Finished,
            "aborted" => RunStatus::Aborted,
            "stopped" => RunStatus::Stopped,
            "failed" => RunStatus::Failed,
            other => RunStatus::Other(other.to_string()),
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RunStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RunStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RunStatus::parse(&String::deserialize(d)?))
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a run has consumed so far, summed from its records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Consumed {
    pub sessions: u64,
    /// Summed class by class; [`Tokens::total`] is the run's total.
    pub tokens: Tokens,
    pub cost_usd: f64,
    /// Sessions by status, e.g. `{"ok": 3, "error": 1}`.
    pub by_status: BTreeMap<String, u64>,
    /// Sessions whose cost is unknown (their model is in no price table): `cost_usd` is then a
    /// lower bound. Omitted when zero, so older states read and write unchanged.
    #[serde(skip_serializing_if = "is_zero")]
    pub unknown_cost_sessions: u64,
}

impl Consumed {
    pub fn add(&mut self, r: &SessionRecord) {
        // NB: saturating: token counts come from agents and records written anywhere; a sum
        // that wrapped would tell budgets a run had used almost nothing.
        self.sessions = self.sessions.saturating_add(1);
        self.tokens += r.usage.tokens;
        if !r.usage.cost_known() {
            self.unknown_cost_sessions = self.unknown_cost_sessions.saturating_add(1);
        } else if r.usage.cost_usd.is_finite() {
            self.cost_usd += r.usage.cost_usd;
        }
        let n = self
            .by_status
            .entry(r.status.as_str().to_string())
            .or_insert(0);
        *n = n.saturating_add(1);
    }

    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a SessionRecord>) -> Consumed {
        let mut c = Consumed::default();
        for r in records {
            c.add(r);
        }
        c
    }
}

/// Resumable state of a run (`state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub status: RunStatus,
    /// Why the run stopped, once it has.
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// The scheduler's own state, kept opaque here (the grind loop owns its shape).
    #[serde(default)]
    pub scheduler: serde_json::Value,
    /// Sums over the recorded sessions.
    #[serde(default)]
    pub consumed: Consumed,
    #[serde(default)]
    pub last_session_seq: u64,
    #[serde(with = "rfc3339")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub last_updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl RunState {
    pub fn new(started_at: DateTime<Utc>) -> RunState {
        RunState {
            status: RunStatus::Running,
            stop_reason: None,
            scheduler: serde_json::Value::Null,
            consumed: Consumed::default(),
            last_session_seq: 0,
            started_at,
            last_updated_at: started_at,
            extra: BTreeMap::new(),
        }
    }

    /// Re-renders an iteration-budget stop reason from the sessions the state now counts.
    /// NB: the text is written at stop time, but a later `sync` or `record` can add sessions
    /// to a stopped run; the limit is kept under [`STOP_ITERATIONS_KEY`] so the text follows
    /// the records instead of keeping the count of the clone that stopped.
    pub fn refresh_stop_reason(&mut self) {
        let Some(limit) = self.extra.get(STOP_ITERATIONS_KEY).and_then(|v| v.as_u64()) else {
            return;
        };
        if self.stop_reason.is_some() {
            self.stop_reason = Some(iteration_stop_text(self.consumed.sessions, limit));
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .expect("our own plain data always serialises to JSON");
        s.push('\n');
        s
    }
}

/// The key of `state.json` that holds the iteration limit a run stopped at (null otherwise).
pub(crate) const STOP_ITERATIONS_KEY: &str = "stop_iterations_limit";

/// The one spelling of an iteration-budget stop: the sessions the run holds, and the limit when
/// the two differ (a sync brought in sessions another clone ran).
pub(crate) fn iteration_stop_text(sessions: u64, limit: u64) -> String {
    let s = if sessions == 1 { "" } else { "s" };
    if sessions == limit {
        format!("iteration budget reached ({sessions} session{s})")
    } else {
        format!("iteration budget reached ({sessions} session{s}; the budget was {limit})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_json_reads_its_base_commit_as_an_id_and_keeps_one_that_is_not() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let file = |base: &str| {
            format!(
                r#"{{"schema":1,"id":"r1","created_at":"2026-11-24T10:00:00Z","base_branch":"main","base_commit":{base},"branch":"refs/heads/pitboss/r1","agent":"demo","rotation":null,"prompts":{{}},"zzz_future":1}}"#
            )
        };
        let good = file(&format!("\"{hex}\""));
        let m: RunMeta = serde_json::from_str(&good).unwrap();
        assert_eq!(m.base_commit.map(|c| c.to_string()).as_deref(), Some(hex));
        assert_eq!(m.unread_base_commit, None);
        assert_eq!(serde_json::to_string(&m).unwrap(), good);
        for odd in ["\"abc1234\"", "\"\"", "null"] {
            let text = file(odd);
            let m: RunMeta = serde_json::from_str(&text).unwrap();
            assert_eq!(m.base_commit, None, "{odd}");
            assert_eq!(
                m.base_commit_text().map(|t| format!("\"{t}\"")),
                (odd != "null").then(|| odd.to_string())
            );
            assert_eq!(serde_json::to_string(&m).unwrap(), text, "{odd}");
        }
    }

    #[test]
    fn state_round_trips_and_keeps_unknown_status() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut s = RunState::new(t);
        s.status = RunStatus::parse("paused-by-admin");
        s.extra.insert("note".into(), serde_json::json!("x"));
        let back: RunState = serde_json::from_str(&s.to_json()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.status.as_str(), "paused-by-admin");
    }

    #[test]
    fn consumed_sums_records() {
        let r = SessionRecord::builder()
            .status(super::super::SessionStatus::Error)
            .tokens(10, 5)
            .cache(7, 0)
            .cost(0.5)
            .build();
        let c = Consumed::from_records([&r, &r]);
        assert_eq!(c.sessions, 2);
        assert_eq!(c.tokens.input, 20);
        assert_eq!(c.tokens.cache_read, 14);
        assert!((c.cost_usd - 1.0).abs() < 1e-12);
        assert_eq!(c.by_status["error"], 2);
    }

    #[test]
    fn token_sums_saturate_instead_of_wrapping() {
        let r = SessionRecord::builder().tokens(u64::MAX - 1, 1).build();
        let c = Consumed::from_records([&r, &r, &r]);
        assert_eq!(c.tokens.input, u64::MAX);
        assert_eq!(c.tokens.output, 3);
    }
}
