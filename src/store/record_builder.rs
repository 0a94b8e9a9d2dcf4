//! A [`SessionRecord`] for unit tests: plain defaults (seq 1 of run `r`, prompt `p`, `ok`, one
//! second long on 2026-01-01, no tokens, no cost, transcript `t`) and a setter for each field a
//! test cares about, so a test spells out only what it asserts on.

use chrono::{DateTime, Utc};

use super::record::{SessionRecord, SessionStatus};
use crate::usage::CostSource;

/// Builds a [`SessionRecord`]; see [`SessionRecord::builder`].
#[derive(Debug, Clone)]
pub(crate) struct RecordBuilder(SessionRecord);

fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

impl SessionRecord {
    /// A record with the test defaults (see the module comment).
    pub(crate) fn builder() -> RecordBuilder {
        RecordBuilder(SessionRecord {
            run_id: "r".into(),
            transcript_path: "t".into(),
            ..SessionRecord::new(
                1,
                "p",
                time("2026-01-01T00:00:00Z"),
                time("2026-01-01T00:00:01Z"),
                SessionStatus::Ok,
            )
        })
    }
}

impl RecordBuilder {
    pub(crate) fn seq(mut self, seq: u64) -> Self {
        self.0.seq = seq;
        self
    }

    pub(crate) fn run_id(mut self, id: &str) -> Self {
        self.0.run_id = id.into();
        self
    }

    pub(crate) fn prompt(mut self, prompt: &str) -> Self {
        self.0.prompt = prompt.into();
        self
    }

    pub(crate) fn status(mut self, status: SessionStatus) -> Self {
        self.0.status = status;
        self
    }

    /// Start and end, as RFC 3339 times.
    pub(crate) fn times(mut self, started: &str, ended: &str) -> Self {
        self.0.started_at = time(started);
        self.0.ended_at = time(ended);
        self
    }

    pub(crate) fn summary(mut self, summary: &str) -> Self {
        self.0.summary = Some(summary.into());
        self
    }

    /// A full id as the record's commit; other text as its unread commit.
    pub(crate) fn commit(mut self, commit: &str) -> Self {
        match crate::git::Oid::parse_full(commit) {
            Ok(oid) => self.0.commit = Some(oid),
            Err(_) => self.0.unread_commit = Some(commit.into()),
        }
        self
    }

    pub(crate) fn tokens(mut self, input: u64, output: u64) -> Self {
        self.0.usage.tokens.input = input;
        self.0.usage.tokens.output = output;
        self
    }

    pub(crate) fn cache(mut self, read: u64, write: u64) -> Self {
        self.0.usage.tokens.cache_read = read;
        self.0.usage.tokens.cache_write = write;
        self
    }

    /// A cost in US dollars, its source left unset (as in the file-based design's records).
    pub(crate) fn cost(mut self, usd: f64) -> Self {
        self.0.usage.cost_usd = usd;
        self
    }

    pub(crate) fn cost_source(mut self, source: CostSource) -> Self {
        self.0.usage.cost_source = Some(source);
        self
    }

    pub(crate) fn transcript(mut self, path: &str) -> Self {
        self.0.transcript_path = path.into();
        self
    }

    pub(crate) fn build(self) -> SessionRecord {
        self.0
    }
}
