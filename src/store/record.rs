//! `SessionRecord`: one line of a run's session log, in the JSON spelling of the file-based
//! design, so a line written there parses here unchanged. New fields are additive and
//! defaulted on read; fields we do not know yet are kept as they are (`extra`), so a record
//! written by a newer pitboss survives an export/import round trip through an older one.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::record_line::RecordLine;
use crate::git::Oid;
use crate::usage::Usage;

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Ok,
    Error,
    Timeout,
    Aborted,
    Dirty,
    Skipped,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 6] = [
        SessionStatus::Ok,
        SessionStatus::Error,
        SessionStatus::Timeout,
        SessionStatus::Aborted,
        SessionStatus::Dirty,
        SessionStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Ok => "ok",
            SessionStatus::Error => "error",
            SessionStatus::Timeout => "timeout",
            SessionStatus::Aborted => "aborted",
            SessionStatus::Dirty => "dirty",
            SessionStatus::Skipped => "skipped",
        }
    }

    /// Whether the session counts as a failure (for exit codes and failure budgets).
    pub fn is_failure(self) -> bool {
        matches!(self, SessionStatus::Error | SessionStatus::Timeout)
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SessionStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown session status {s:?} (expected one of ok, error, timeout, aborted, dirty, skipped)"))
    }
}

/// Input/output tokens of one role (the file-based design's `tokens.by_role`; kept as written).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleTokens {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub output: u64,
}

/// One session of a run. Its JSON spelling (field order, omitted defaults, unknown fields kept)
/// is [`super::record_line`]'s: what the session used is grouped in [`Usage`] here and spread
/// over `tokens`, `cost_usd`, `cost_source` and `price_table` there, as the format has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RecordLine", into = "RecordLine")]
pub struct SessionRecord {
    pub seq: u64,
    pub run_id: String,
    pub prompt: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub status: SessionStatus,
    pub summary: Option<String>,
    /// The session's commit on the run branch.
    pub commit: Option<Oid>,
    /// A `commit` the record holds that is not a full commit id, as it is written there. None
    /// in what pitboss writes, and `record`, `import` and `fetch` refuse records that have one
    /// ([`super::check_session`]); a record written before those rules may, and it still reads
    /// (its commit then is none) and writes back as it was.
    pub unread_commit: Option<String>,
    /// Tokens by class, cost, cost source, price table.
    pub usage: Usage,
    /// The file-based design's tokens per role (`tokens.by_role`); pitboss itself writes none.
    pub tokens_by_role: BTreeMap<String, RoleTokens>,
    pub transcript_path: String,
    pub agent: Option<String>,
    pub agent_version: Option<String>,
    pub model: Option<String>,
    pub exit_code: Option<i32>,
    pub agent_session_id: Option<String>,
    /// Where `model` came from when the agent's output did not name it
    /// (`codex default (0.169.0)`).
    pub model_source: Option<String>,
    /// The session ended on the agent's usage limit: its `error` is not a failure of the agent.
    pub rate_limited: bool,
    /// The seq this session was first recorded under, when it moved to a free one (a merge of
    /// two copies of the run, or another writer took its seq while it ran).
    pub renumbered_from: Option<u64>,
    /// The slot worktree a session of a parallel run ran in (absent in sequential runs).
    pub slot: Option<u32>,
    /// How a session of a parallel run landed (absent in sequential runs).
    pub landing: Option<super::Landing>,
    /// Fields this version does not know, kept verbatim.
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl SessionRecord {
    /// The commit as the record spells it, for showing: the id, or the text of an unread one.
    pub fn commit_text(&self) -> Option<String> {
        (self.commit.map(|c| c.to_string())).or_else(|| self.unread_commit.clone())
    }

    /// A record with what every record has; the rest empty (no tokens, cost 0 of no stated
    /// source, no transcript path yet: the store fills it in on append).
    pub fn new(
        seq: u64,
        prompt: &str,
        started_at: DateTime<Utc>,
        ended_at: DateTime<Utc>,
        status: SessionStatus,
    ) -> SessionRecord {
        SessionRecord {
            seq,
            run_id: String::new(),
            prompt: prompt.to_string(),
            started_at,
            ended_at,
            status,
            summary: None,
            commit: None,
            unread_commit: None,
            usage: Usage::default(),
            tokens_by_role: BTreeMap::new(),
            transcript_path: String::new(),
            agent: None,
            agent_version: None,
            model: None,
            exit_code: None,
            agent_session_id: None,
            model_source: None,
            rate_limited: false,
            renumbered_from: None,
            slot: None,
            landing: None,
            extra: BTreeMap::new(),
        }
    }

    /// The record as one JSON line (no trailing newline).
    pub fn to_line(&self) -> String {
        // NB: serialising plain data to a String cannot fail; f64 NaN/inf become null.
        serde_json::to_string(self).expect("our own plain data always serialises to JSON")
    }

    /// Whole seconds from start to end.
    pub fn duration_secs(&self) -> i64 {
        (self.ended_at - self.started_at).num_seconds()
    }
}

/// RFC 3339 times as the file-based design wrote them: `2026-04-30T18:05:00Z`, with fractions
/// of a second only when there are some.
pub(crate) mod rfc3339 {
    use super::*;

    pub(crate) fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        t: &DateTime<Utc>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| serde::de::Error::custom(format!("{s:?} is not an RFC 3339 time ({e})")))
    }
}

/// Parses one record line; the error names the field that is wrong (`status: unknown variant
/// "great"…`) and where it is.
pub fn parse_record(line: &str) -> Result<SessionRecord, String> {
    let de = &mut serde_json::Deserializer::from_str(line);
    let r: SessionRecord = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." || path.is_empty() {
            e.inner().to_string()
        } else {
            format!("field `{path}`: {}", e.inner())
        }
    })?;
    // These become a commit message or a path, and neither can hold a NUL.
    let texts = [
        ("run_id", Some(r.run_id.as_str())),
        ("prompt", Some(r.prompt.as_str())),
        ("summary", r.summary.as_deref()),
        ("commit", r.unread_commit.as_deref()),
        ("transcript_path", Some(r.transcript_path.as_str())),
    ];
    if let Some((field, _)) = texts
        .iter()
        .find(|(_, t)| t.is_some_and(|t| t.contains('\0')))
    {
        return Err(format!("field `{field}`: contains a NUL character"));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const ORIGINAL: &str = r#"{"seq":1,"run_id":"rid","prompt":"fp-hunter","started_at":"2026-04-30T18:05:00Z","ended_at":"2026-04-30T18:06:30Z","status":"ok","summary":"fixed the foo bug in bar.rs","commit":"abc1234000000000000000000000000000000001","tokens":{"input":1000,"output":500,"by_role":{"implementer":{"input":1000,"output":500}}},"cost_usd":0.0123,"transcript_path":"transcripts/session-0001.log"}"#;

    #[test]
    fn original_line_parses_and_reserialises_byte_identically() {
        let r = parse_record(ORIGINAL).unwrap();
        assert_eq!(r.seq, 1);
        assert_eq!(r.status, SessionStatus::Ok);
        assert_eq!(r.tokens_by_role["implementer"].output, 500);
        assert_eq!(r.usage.tokens.total(), 1500);
        assert_eq!(r.usage.cost_source, None);
        assert_eq!(r.duration_secs(), 90);
        assert_eq!(r.to_line(), ORIGINAL);
    }

    #[test]
    fn unknown_fields_survive_and_new_fields_default() {
        let line = ORIGINAL.replace(r#""seq":1,"#, r#""seq":1,"future_field":{"x":[1,2]},"#);
        let r = parse_record(&line).unwrap();
        assert_eq!(r.extra["future_field"], serde_json::json!({"x":[1,2]}));
        assert_eq!(r.usage.cost_source, None);
        let back = parse_record(&r.to_line()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn bad_fields_are_named() {
        let bad_status = ORIGINAL.replace(r#""status":"ok""#, r#""status":"great""#);
        let e = parse_record(&bad_status).unwrap_err();
        assert!(e.contains("great"), "{e}");
        let bad_time = ORIGINAL.replace("2026-04-30T18:05:00Z", "yesterday");
        let e = parse_record(&bad_time).unwrap_err();
        assert!(e.contains("yesterday") && e.contains("RFC 3339"), "{e}");
        let missing = ORIGINAL.replace(r#""prompt":"fp-hunter","#, "");
        let e = parse_record(&missing).unwrap_err();
        assert!(e.contains("prompt"), "{e}");
        let nul = ORIGINAL.replace("fixed the foo", r"fixed\u0000the foo");
        let e = parse_record(&nul).unwrap_err();
        assert_eq!(e, "field `summary`: contains a NUL character");
    }

    #[test]
    fn status_parses_from_str() {
        assert_eq!(
            "timeout".parse::<SessionStatus>().unwrap(),
            SessionStatus::Timeout
        );
        assert!("nope".parse::<SessionStatus>().is_err());
    }
}
