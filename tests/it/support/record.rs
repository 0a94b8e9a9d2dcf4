//! Session records for `git pitboss record` on stdin, built as users write them (JSON, the
//! run-ref format's field names): [`RecordJson::new`] gives a plain `ok` session of 90 seconds
//! with 1000 in / 500 out tokens and a reported $0.0123, and each setter changes one field, so a
//! test spells out only what it is about.

use serde_json::{Value, json};

/// A record under construction; [`RecordJson::json`] is its stdin text.
#[derive(Debug, Clone)]
pub struct RecordJson(serde_json::Map<String, Value>);

impl RecordJson {
    pub fn new(prompt: &str) -> RecordJson {
        let v = json!({
            "prompt": prompt,
            "started_at": "2026-04-30T18:05:00Z",
            "ended_at": "2026-04-30T18:06:30Z",
            "status": "ok",
            "summary": null,
            "commit": null,
            "tokens": {"input": 1000, "output": 500, "by_role": {}},
            "cost_usd": 0.0123
        });
        let Value::Object(m) = v else { unreachable!() };
        RecordJson(m)
    }

    /// Sets any field to any JSON value (hostile and future fields included).
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> RecordJson {
        self.0.insert(key.to_string(), value.into());
        self
    }

    pub fn status(self, status: &str) -> RecordJson {
        self.field("status", status)
    }

    pub fn summary(self, summary: Option<&str>) -> RecordJson {
        self.field("summary", summary)
    }

    /// Start and end, RFC 3339.
    pub fn times(self, started: &str, ended: &str) -> RecordJson {
        self.field("started_at", started).field("ended_at", ended)
    }

    pub fn commit(self, commit: Option<&str>) -> RecordJson {
        self.field("commit", commit)
    }

    /// Token counts by class: input, output, cache read, cache write.
    pub fn tokens(self, input: u64, output: u64, cache_read: u64, cache_write: u64) -> RecordJson {
        let mut t = json!({"input": input, "output": output, "by_role": {}});
        for (k, n) in [("cache_read", cache_read), ("cache_write", cache_write)] {
            if n > 0 {
                t[k] = n.into();
            }
        }
        self.field("tokens", t)
    }

    /// A cost and where it came from (`reported`, `estimated`, `unknown`, `none`).
    pub fn cost(self, usd: f64, source: &str) -> RecordJson {
        self.field("cost_usd", usd).field("cost_source", source)
    }

    pub fn json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}
