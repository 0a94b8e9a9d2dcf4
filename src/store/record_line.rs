//! The JSON line of a [`SessionRecord`], field for field as the file-based design wrote it (the
//! run-ref contract): `tokens` holds the counts and `by_role`, the cost sits beside it, the
//! additive fields follow, and everything else lives in one map written in key order after them.
//!
//! `SessionRecord` is (de)serialised through [`RecordLine`] so that the record can group what a
//! session used in one [`Usage`] and give grind's marks (`model_source`, `rate_limited`,
//! `renumbered_from`) typed fields, while every line reads and writes byte for byte as before:
//! those marks were keys of the unknown-fields map, so they are taken out of it on read only
//! when they have the shape pitboss writes, and put back into it on write, which keeps their
//! place in the key order. A value of another shape stays in the map untouched.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::record::{RoleTokens, SessionRecord, SessionStatus, rfc3339};
use crate::git::Oid;
use crate::usage::{CostSource, Tokens, Usage};

const MODEL_SOURCE: &str = "model_source";
const RATE_LIMITED: &str = "rate_limited";
/// The record key of [`SessionRecord::renumbered_from`].
pub(super) const RENUMBERED_FROM: &str = "renumbered_from";
const SLOT: &str = "slot";
const LANDING: &str = "landing";

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `tokens`: `input` and `output` are the original fields; the cache and reasoning counts are
/// additive (omitted when zero, so original records export unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct TokensLine {
    #[serde(default)]
    input: u64,
    #[serde(default)]
    output: u64,
    #[serde(default)]
    by_role: BTreeMap<String, RoleTokens>,
    #[serde(default, skip_serializing_if = "is_zero")]
    cache_read: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    cache_write: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    reasoning: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RecordLine {
    seq: u64,
    run_id: String,
    prompt: String,
    #[serde(with = "rfc3339")]
    started_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    ended_at: DateTime<Utc>,
    status: SessionStatus,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    tokens: TokensLine,
    #[serde(default)]
    cost_usd: f64,
    #[serde(default)]
    transcript_path: String,
    // Additive fields (absent in the file-based design; omitted when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cost_source: Option<CostSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price_table: Option<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

impl From<RecordLine> for SessionRecord {
    fn from(l: RecordLine) -> SessionRecord {
        let mut extra = l.extra;
        let model_source = match extra.remove(MODEL_SOURCE) {
            Some(serde_json::Value::String(s)) => Some(s),
            other => put_back(&mut extra, MODEL_SOURCE, other),
        };
        let rate_limited = match extra.remove(RATE_LIMITED) {
            Some(serde_json::Value::Bool(true)) => true,
            other => {
                put_back::<()>(&mut extra, RATE_LIMITED, other);
                false
            }
        };
        let renumbered_from = match extra.remove(RENUMBERED_FROM) {
            Some(v) if v.is_u64() => v.as_u64(),
            other => put_back(&mut extra, RENUMBERED_FROM, other),
        };
        let slot = match extra.remove(SLOT) {
            Some(v) if v.as_u64().is_some_and(|n| n <= u32::MAX as u64) => {
                v.as_u64().map(|n| n as u32)
            }
            other => put_back(&mut extra, SLOT, other),
        };
        let landing = match extra.remove(LANDING) {
            Some(v) => match serde_json::from_value::<super::Landing>(v.clone()) {
                Ok(l) => Some(l),
                Err(_) => put_back(&mut extra, LANDING, Some(v)),
            },
            None => None,
        };
        // NB: a commit that is not a full id is kept aside as written, never dropped: the
        // record still reads, and writes back the same bytes.
        let (commit, unread_commit) = match l.commit {
            Some(c) => match Oid::parse_full(&c) {
                Ok(oid) => (Some(oid), None),
                Err(_) => (None, Some(c)),
            },
            None => (None, None),
        };
        let t = l.tokens;
        SessionRecord {
            seq: l.seq,
            run_id: l.run_id,
            prompt: l.prompt,
            started_at: l.started_at,
            ended_at: l.ended_at,
            status: l.status,
            summary: l.summary,
            commit,
            unread_commit,
            usage: Usage {
                tokens: Tokens {
                    input: t.input,
                    output: t.output,
                    cache_read: t.cache_read,
                    cache_write: t.cache_write,
                    reasoning: t.reasoning,
                },
                cost_usd: l.cost_usd,
                cost_source: l.cost_source,
                price_table: l.price_table,
            },
            tokens_by_role: t.by_role,
            transcript_path: l.transcript_path,
            agent: l.agent,
            agent_version: l.agent_version,
            model: l.model,
            exit_code: l.exit_code,
            agent_session_id: l.agent_session_id,
            model_source,
            rate_limited,
            renumbered_from,
            slot,
            landing,
            extra,
        }
    }
}

/// Returns a value of a shape pitboss does not write to the unknown-fields map, where it came
/// from; the typed field stays unset (`None`, which reads as `false` for a flag).
fn put_back<T>(
    extra: &mut BTreeMap<String, serde_json::Value>,
    key: &str,
    value: Option<serde_json::Value>,
) -> Option<T> {
    if let Some(v) = value {
        extra.insert(key.to_string(), v);
    }
    None
}

impl From<SessionRecord> for RecordLine {
    fn from(r: SessionRecord) -> RecordLine {
        let mut extra = r.extra;
        if let Some(s) = r.model_source {
            extra.insert(MODEL_SOURCE.to_string(), s.into());
        }
        if r.rate_limited {
            extra.insert(RATE_LIMITED.to_string(), true.into());
        }
        if let Some(n) = r.renumbered_from {
            extra.insert(RENUMBERED_FROM.to_string(), n.into());
        }
        if let Some(n) = r.slot {
            extra.insert(SLOT.to_string(), n.into());
        }
        if let Some(l) = r.landing {
            extra.insert(
                LANDING.to_string(),
                serde_json::to_value(l).expect("our own plain data always serialises to JSON"),
            );
        }
        let Usage {
            tokens: t,
            cost_usd,
            cost_source,
            price_table,
        } = r.usage;
        RecordLine {
            seq: r.seq,
            run_id: r.run_id,
            prompt: r.prompt,
            started_at: r.started_at,
            ended_at: r.ended_at,
            status: r.status,
            summary: r.summary,
            commit: r.commit.map(|c| c.to_string()).or(r.unread_commit),
            tokens: TokensLine {
                input: t.input,
                output: t.output,
                by_role: r.tokens_by_role,
                cache_read: t.cache_read,
                cache_write: t.cache_write,
                reasoning: t.reasoning,
            },
            cost_usd,
            transcript_path: r.transcript_path,
            cost_source,
            agent: r.agent,
            agent_version: r.agent_version,
            model: r.model,
            exit_code: r.exit_code,
            agent_session_id: r.agent_session_id,
            price_table,
            extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::parse_record;

    /// A line as grind writes it: every additive field, cache counts and all three marks.
    const FULL: &str = r#"{"seq":12,"run_id":"20261124T100000Z-abcd","prompt":"fp-hunter","started_at":"2026-04-30T18:05:00.250Z","ended_at":"2026-04-30T18:06:30Z","status":"error","summary":"hit the limit","commit":null,"tokens":{"input":10,"output":20,"by_role":{},"cache_read":300,"cache_write":4000,"reasoning":5},"cost_usd":0.25,"transcript_path":"transcripts/session-0012.log","cost_source":"estimated","agent":"codex","agent_version":"0.169.0","model":"gpt-5","exit_code":1,"agent_session_id":"s-1","price_table":"builtin-2026-11-01","aaa_future":[1],"model_source":"codex default (0.169.0)","rate_limited":true,"renumbered_from":3,"zzz_future":{"x":null}}"#;

    #[test]
    fn typed_marks_read_and_write_in_their_old_place() {
        let r = parse_record(FULL).unwrap();
        assert_eq!(r.model_source.as_deref(), Some("codex default (0.169.0)"));
        assert!(r.rate_limited);
        assert_eq!(r.renumbered_from, Some(3));
        assert_eq!(
            r.extra.keys().collect::<Vec<_>>(),
            ["aaa_future", "zzz_future"]
        );
        assert_eq!(r.usage.tokens.total(), 4330);
        assert_eq!(r.usage.price_table.as_deref(), Some("builtin-2026-11-01"));
        assert_eq!(r.to_line(), FULL);
    }

    #[test]
    fn a_commit_is_an_id_and_one_that_is_not_stays_as_written() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let line = FULL.replace(r#""commit":null"#, &format!(r#""commit":"{hex}""#));
        let r = parse_record(&line).unwrap();
        assert_eq!(r.commit.map(|c| c.to_string()).as_deref(), Some(hex));
        assert_eq!(r.unread_commit, None);
        assert_eq!(r.to_line(), line);
        // Written before `record` checked ids: it reads (no commit), shows and writes back as
        // it was, and the store's rules still refuse it.
        for odd in [
            "abc1234",
            "0123456789ABCDEF0123456789ABCDEF01234567",
            "null",
        ] {
            let line = FULL.replace(r#""commit":null"#, &format!(r#""commit":"{odd}""#));
            let r = parse_record(&line).unwrap();
            assert_eq!((r.commit, r.unread_commit.as_deref()), (None, Some(odd)));
            assert_eq!(r.commit_text().as_deref(), Some(odd));
            assert_eq!(r.to_line(), line);
            assert!(crate::store::check_session(&r).is_err(), "{odd}");
        }
    }

    #[test]
    fn marks_of_another_shape_stay_verbatim() {
        let odd = FULL
            .replace(r#""rate_limited":true"#, r#""rate_limited":"yes""#)
            .replace(r#""renumbered_from":3"#, r#""renumbered_from":-3"#)
            .replace(
                r#""model_source":"codex default (0.169.0)""#,
                r#""model_source":7"#,
            );
        let r = parse_record(&odd).unwrap();
        assert!(!r.rate_limited);
        assert_eq!((r.renumbered_from, r.model_source.as_deref()), (None, None));
        assert_eq!(r.extra["rate_limited"], "yes");
        assert_eq!(r.to_line(), odd);
        let off = FULL.replace(r#""rate_limited":true"#, r#""rate_limited":false"#);
        let r = parse_record(&off).unwrap();
        assert!(!r.rate_limited);
        assert_eq!(r.to_line(), off);
    }

    /// `slot` and `landing` as the landing queue writes them, in their key-order place (NB: the
    /// landing object's own keys in alphabetical order, as serde_json writes a `Value` object).
    const PARALLEL: &str = r#"{"seq":4,"run_id":"20261124T100000Z-abcd","prompt":"p","started_at":"2026-04-30T18:05:00Z","ended_at":"2026-04-30T18:06:30Z","status":"error","summary":"conflict","commit":null,"tokens":{"input":0,"output":0,"by_role":{}},"cost_usd":0.0,"transcript_path":"transcripts/session-0004.log","aaa_future":1,"landing":{"collided_with":[2,3],"files":["src/a.rs","src/b.rs"],"onto":"0123456789abcdef0123456789abcdef01234567","result":"conflict"},"slot":3,"zzz_future":2}"#;

    #[test]
    fn slot_and_landing_read_typed_and_write_byte_for_byte() {
        use crate::store::LandingResult;
        let r = parse_record(PARALLEL).unwrap();
        assert_eq!(r.slot, Some(3));
        let l = r.landing.as_ref().unwrap();
        assert_eq!(l.result, LandingResult::Conflict);
        assert_eq!(l.onto, "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(
            (l.files.len(), l.collided_with.as_slice()),
            (2, &[2, 3][..])
        );
        assert!(l.commits.is_empty());
        assert_eq!(
            r.extra.keys().collect::<Vec<_>>(),
            ["aaa_future", "zzz_future"]
        );
        assert_eq!(r.to_line(), PARALLEL);
        let landed = PARALLEL.replace(
            r#""collided_with":[2,3],"files":["src/a.rs","src/b.rs"],"onto":"0123456789abcdef0123456789abcdef01234567","result":"conflict""#,
            r#""commits":["89abcdef0123456789abcdef0123456789abcdef"],"onto":"0123456789abcdef0123456789abcdef01234567","result":"landed""#,
        );
        let r = parse_record(&landed).unwrap();
        assert_eq!(r.landing.as_ref().unwrap().commits.len(), 1);
        assert_eq!(r.to_line(), landed);
    }

    #[test]
    fn slot_and_landing_of_another_shape_stay_verbatim() {
        for (from, to) in [
            (r#""slot":3"#, r#""slot":"3""#),
            (r#""slot":3"#, r#""slot":-1"#),
            (r#""slot":3"#, r#""slot":4294967296"#),
            (r#""result":"conflict""#, r#""result":"merged""#),
            (r#","onto":"0123456789abcdef0123456789abcdef01234567""#, ""),
        ] {
            let odd = PARALLEL.replace(from, to);
            assert_ne!(odd, PARALLEL, "{from}");
            let r = parse_record(&odd).unwrap();
            let key = if from.contains("slot") {
                "slot"
            } else {
                "landing"
            };
            assert!(r.extra.contains_key(key), "{odd}");
            assert_eq!(r.to_line(), odd);
        }
        let object = r#"{"collided_with":[2,3],"files":["src/a.rs","src/b.rs"],"onto":"0123456789abcdef0123456789abcdef01234567","result":"conflict"}"#;
        let odd = PARALLEL.replace(object, r#"["conflict"]"#);
        assert_ne!(odd, PARALLEL);
        let r = parse_record(&odd).unwrap();
        assert!(r.landing.is_none() && r.extra.contains_key("landing"));
        assert_eq!(r.to_line(), odd);
    }
}
