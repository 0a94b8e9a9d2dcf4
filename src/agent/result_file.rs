//! The result file an agent may write at `PITBOSS_RESULT_FILE`, parsed leniently.
//!
//! Format (every field optional, unknown fields ignored, `null` is the same as absent):
//!
//! ```json
//! {"summary": "what I did", "tokens": {"input": 1200, "output": 340, "cache_read": 0,
//!  "cache_write": 0, "reasoning": 0}, "cost_usd": 0.0123, "cost_source": "reported",
//!  "model": "gpt-5", "is_error": false, "error": "why it failed", "agent_version": "1.2.3",
//!  "session_id": "abc", "num_turns": 3}
//! ```
//!
//! A file written by a script is easy to get wrong, so a malformed one is not a crash of ours:
//! [`parse`] says what is wrong in words that name the field, and the session reports it as an
//! error outcome naming the file.

use serde_json::{Map, Value};

use crate::usage::{CostSource, Tokens};

/// The fields of a result file.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ResultFile {
    pub summary: Option<String>,
    pub tokens: Option<Tokens>,
    pub cost_usd: Option<f64>,
    pub cost_source: Option<CostSource>,
    pub model: Option<String>,
    pub is_error: Option<bool>,
    pub error: Option<String>,
    pub agent_version: Option<String>,
    pub session_id: Option<String>,
    pub num_turns: Option<u64>,
}

/// Parses a result file's text. An empty file is an empty result.
pub(crate) fn parse(text: &str) -> Result<ResultFile, String> {
    if text.trim().is_empty() {
        return Ok(ResultFile::default());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err(format!("expected a JSON object, found {}", kind(&value)));
    };
    let tokens = match field(&obj, "tokens") {
        None => None,
        Some(Value::Object(t)) => Some(Tokens {
            input: count(t, "tokens.input", "input")?,
            output: count(t, "tokens.output", "output")?,
            cache_read: count(t, "tokens.cache_read", "cache_read")?,
            cache_write: count(t, "tokens.cache_write", "cache_write")?,
            reasoning: count(t, "tokens.reasoning", "reasoning")?,
        }),
        Some(other) => return Err(format!("`tokens` is {}, expected an object", kind(other))),
    };
    let cost_usd = match field(&obj, "cost_usd") {
        None => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(c) if c >= 0.0 && c.is_finite() => Some(c),
            _ => return Err(format!("`cost_usd` is {n}, expected a non-negative number")),
        },
        Some(other) => return Err(format!("`cost_usd` is {}, expected a number", kind(other))),
    };
    let cost_source = match string(&obj, "cost_source")? {
        None => None,
        Some(s) => Some(match s.as_str() {
            "reported" => CostSource::Reported,
            "estimated" => CostSource::Estimated,
            "unknown" => CostSource::Unknown,
            "none" => CostSource::None,
            other => {
                return Err(format!(
                    "`cost_source` is {other:?}, expected reported, estimated, unknown or none"
                ));
            }
        }),
    };
    let is_error = match field(&obj, "is_error") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            return Err(format!(
                "`is_error` is {}, expected true or false",
                kind(other)
            ));
        }
    };
    let num_turns = match field(&obj, "num_turns") {
        None => None,
        Some(_) => Some(count(&obj, "num_turns", "num_turns")?),
    };
    Ok(ResultFile {
        summary: string(&obj, "summary")?,
        tokens,
        cost_usd,
        cost_source,
        model: string(&obj, "model")?,
        is_error,
        error: string(&obj, "error")?,
        agent_version: string(&obj, "agent_version")?,
        session_id: string(&obj, "session_id")?,
        num_turns,
    })
}

fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("`{key}` is {}, expected a string", kind(other))),
    }
}

/// A token count: a non-negative whole number (`12.0` is accepted, `12.5` is not).
fn count(obj: &Map<String, Value>, name: &str, key: &str) -> Result<u64, String> {
    match field(obj, key) {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            })
            .ok_or_else(|| format!("`{name}` is {n}, expected a whole number of tokens")),
        Some(other) => Err(format!("`{name}` is {}, expected a number", kind(other))),
    }
}

fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file() {
        let r = parse(
            r#"{"summary":"did it","tokens":{"input":10,"output":5,"cache_read":3,
               "cache_write":2,"reasoning":1},"cost_usd":0.5,"model":"m","cost_source":"none",
               "extra":{"ignored":true},"num_turns":2.0}"#,
        )
        .unwrap();
        assert_eq!(r.summary.as_deref(), Some("did it"));
        let t = r.tokens.unwrap();
        assert_eq!(
            (t.input, t.output, t.cache_read, t.cache_write, t.reasoning),
            (10, 5, 3, 2, 1)
        );
        assert_eq!(r.cost_usd, Some(0.5));
        assert_eq!(r.cost_source, Some(CostSource::None));
        assert_eq!(r.num_turns, Some(2));
    }

    #[test]
    fn lenient_about_absence() {
        assert_eq!(parse("").unwrap(), ResultFile::default());
        assert_eq!(parse("{}").unwrap(), ResultFile::default());
        let r = parse(r#"{"summary":null,"tokens":{"input":7}}"#).unwrap();
        assert_eq!(r.summary, None);
        assert_eq!(r.tokens.unwrap().input, 7);
        assert_eq!(r.tokens.unwrap().output, 0);
    }

    #[test]
    fn problems_are_named() {
        let cases = [
            ("{not json", "not valid JSON"),
            ("[1,2]", "expected a JSON object, found an array"),
            (
                r#"{"tokens":{"input":"12"}}"#,
                "`tokens.input` is the string \"12\"",
            ),
            (r#"{"tokens":{"output":-3}}"#, "`tokens.output` is -3"),
            (r#"{"tokens":5}"#, "`tokens` is the number 5"),
            (r#"{"cost_usd":"cheap"}"#, "`cost_usd` is the string"),
            (
                r#"{"summary":42}"#,
                "`summary` is the number 42, expected a string",
            ),
            (r#"{"cost_source":"free"}"#, "`cost_source` is \"free\""),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
