//! `SessionRecord`: one line of a run's session log, in the JSON spelling of the file-based
//! design, so a line written there parses here unchanged. New fields are additive and
//! defaulted on read; fields we do not know yet are kept as they are (`extra`), so a record
//! written by a newer pitboss survives an export/import round trip through an older one.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

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

/// Where a session's dollar figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostSource {
    /// The agent CLI stated it.
    Reported,
    /// Computed from our price table.
    Estimated,
    /// The model is not in the price table: the cost is not known (never a silent $0).
    Unknown,
    /// Nothing was paid (the built-in demo agent).
    None,
}

/// Input/output tokens of one role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleTokens {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub output: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Token counts of a session. `input` and `output` are the original fields; the cache and
/// reasoning counts are additive (omitted when zero, so original records export unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub output: u64,
    #[serde(default)]
    pub by_role: BTreeMap<String, RoleTokens>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_read: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_write: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning: u64,
}

impl Tokens {
    /// Input plus output, as the original session log shows it.
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }
}

/// One session of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub seq: u64,
    pub run_id: String,
    pub prompt: String,
    #[serde(with = "rfc3339")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub ended_at: DateTime<Utc>,
    pub status: SessionStatus,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub tokens: Tokens,
    #[serde(default)]
    pub cost_usd: f64,
    #[serde(default)]
    pub transcript_path: String,
    // Additive fields (absent in the file-based design; omitted when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_source: Option<CostSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_session_id: Option<String>,
    /// The price table an `estimated` cost came from (`builtin-<date checked>`, `config`, `price_file:<file name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_table: Option<String>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl SessionRecord {
    /// The record as one JSON line (no trailing newline).
    pub fn to_line(&self) -> String {
        // NB: serialising plain data to a String cannot fail; f64 NaN/inf become null.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whole seconds from start to end.
    pub fn duration_secs(&self) -> i64 {
        (self.ended_at - self.started_at).num_seconds()
    }
}

/// RFC 3339 times as the file-based design wrote them: `2026-04-30T18:05:00Z`, with fractions
/// of a second only when there are some.
pub mod rfc3339 {
    use super::*;

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
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
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." || path.is_empty() {
            e.inner().to_string()
        } else {
            format!("field `{path}`: {}", e.inner())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const ORIGINAL: &str = r#"{"seq":1,"run_id":"rid","prompt":"fp-hunter","started_at":"2026-04-30T18:05:00Z","ended_at":"2026-04-30T18:06:30Z","status":"ok","summary":"fixed the foo bug in bar.rs","commit":"abc1234000000000000000000000000000000001","tokens":{"input":1000,"output":500,"by_role":{"implementer":{"input":1000,"output":500}}},"cost_usd":0.0123,"transcript_path":"transcripts/session-0001.log"}"#;

    #[test]
    fn original_line_parses_and_reserialises_byte_identically() {
        let r = parse_record(ORIGINAL).unwrap();
        assert_eq!(r.seq, 1);
        assert_eq!(r.status, SessionStatus::Ok);
        assert_eq!(r.tokens.by_role["implementer"].output, 500);
        assert_eq!(r.duration_secs(), 90);
        assert_eq!(r.to_line(), ORIGINAL);
    }

    #[test]
    fn unknown_fields_survive_and_new_fields_default() {
        let line = ORIGINAL.replace(r#""seq":1,"#, r#""seq":1,"future_field":{"x":[1,2]},"#);
        let r = parse_record(&line).unwrap();
        assert_eq!(r.extra["future_field"], serde_json::json!({"x":[1,2]}));
        assert_eq!(r.cost_source, None);
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
