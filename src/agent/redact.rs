//! Redaction of secrets from agent output and from every string an agent gives us.
//!
//! Transcripts, summaries, result-file fields, scratchpads and patches end up in git objects
//! that users push to shared remotes (DESIGN §6), so all of it passes through a [`Redactor`]
//! before it is written anywhere. Two kinds of secret are replaced with `[REDACTED]`: the
//! *values* of environment variables whose names look secret (see [`is_secret_name`]; the caller
//! passes the environment in, the library never reads it) and the shapes of
//! [`secret_shapes`](super::secret_shapes) (vendor keys, JWTs, bearer tokens, passwords in URLs,
//! PEM private keys, long random values next to key-like names). Everything is pure; no regex
//! crate: one pass over the bytes with a first-byte table keeps 200 MB of output cheap.
//! Output arriving in fragments (a line over 1 MiB) goes through a
//! [`RedactStream`](super::redact_stream::RedactStream), which overlaps the cuts.

use std::borrow::Cow;

use super::secret_shapes::{self, Hit};

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Values shorter than this are not redacted: `FOO_TOKEN=1` or `X_KEY=true` would otherwise
/// blank every `1` or `true` in a transcript.
pub(crate) const MIN_SECRET_LEN: usize = 6;

/// True when an environment variable of this name holds a secret: `*_KEY`, `*_TOKEN`,
/// `*_SECRET`, `*_APIKEY`, `*_CREDENTIALS`, anything with `PASSWORD`, and names with a word
/// (between `_`) such as `SECRET`, `PASS`, `PASSWD`, `TOKEN`, `CREDENTIAL`.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const WORDS: [&str; 11] = [
        "SECRET",
        "SECRETS",
        "PASS",
        "PASSWD",
        "PASSPHRASE",
        "TOKEN",
        "TOKENS",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "PRIVATE",
    ];
    upper.ends_with("_KEY")
        || upper.ends_with("_TOKEN")
        || upper.ends_with("_SECRET")
        || upper.contains("PASSWORD")
        || upper.split(['_', '-']).any(|w| WORDS.contains(&w))
}

/// True for names whose values are addresses (`DATABASE_URL`, `REDIS_URI`, `SENTRY_DSN`): their
/// embedded passwords are secrets even though the name does not say so.
fn is_url_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["_URL", "_URI", "_DSN"].iter().any(|s| upper.ends_with(s)) || upper == "URL"
}

/// Bits of [`Redactor`]'s first-byte table.
const LITERAL: u8 = 1;
const SHAPE: u8 = 2;

/// Replaces secrets in lines of output. Build it once per session.
#[derive(Debug, Clone)]
pub(crate) struct Redactor {
    /// Literal secret values, longest first so that a secret containing another wins.
    secrets: Vec<Vec<u8>>,
    /// `first[b]`: bit 1 when some literal secret starts with byte `b`, bit 2 when a shape can.
    first: Vec<u8>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::from_env(std::iter::empty())
    }
}

impl Redactor {
    /// A redactor for the secret-looking variables among `env` (name, value pairs).
    pub(crate) fn from_env<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut secrets: Vec<Vec<u8>> = Vec::new();
        let mut add = |piece: &str| {
            if piece.len() < MIN_SECRET_LEN {
                return;
            }
            secrets.push(piece.as_bytes().to_vec());
            // Inside JSON (Claude's stream) a value with quotes or backslashes is escaped.
            let quoted = serde_json::to_string(piece).expect("a str always serialises to JSON");
            let escaped = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("");
            if escaped != piece && escaped.len() >= MIN_SECRET_LEN {
                secrets.push(escaped.as_bytes().to_vec());
            }
        };
        for (name, value) in env {
            if is_secret_name(name) {
                // A multi-line value (a PEM key) never appears whole on one line: redact each
                // line.
                for piece in value.lines().map(str::trim) {
                    add(piece);
                }
            } else if is_url_name(name) {
                let b = value.as_bytes();
                if let Some(i) = value.find("://")
                    && let Some(Hit { start, end, .. }) = secret_shapes::shape_at(b, i)
                {
                    add(&value[start..end]);
                }
            }
        }
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        let mut first = vec![0u8; 256];
        for s in &secrets {
            first[s[0] as usize] |= LITERAL;
        }
        for &b in secret_shapes::TRIGGERS {
            first[b as usize] |= SHAPE;
        }
        Redactor { secrets, first }
    }

    /// The longest literal secret, in bytes: how far a fragment must overlap the next so that
    /// none is cut in two.
    pub(crate) fn longest_secret(&self) -> usize {
        self.secrets.first().map_or(0, Vec::len)
    }

    /// The first secret in `line` that starts at or after `from` and before `stop`. Terminal
    /// escapes (colours) inside or before a secret do not hide it: a line that holds one is
    /// searched without them, and the hit covers the escapes inside the secret too.
    pub(super) fn next_hit(&self, line: &[u8], from: usize, stop: usize) -> Option<Hit> {
        let stop = stop.min(line.len());
        if from >= stop || !line[from..].contains(&0x1b) {
            return self.plain_hit(line, from, stop);
        }
        // Some context before `from`, for rules that look back (a word boundary, a name).
        let lo = from.saturating_sub(80);
        let (clean, map) = super::ansi::strip(&line[lo..]);
        let at = |k: usize| lo + map[k];
        let cfrom = map.partition_point(|&o| lo + o < from);
        let cstop = map.partition_point(|&o| lo + o < stop);
        let h = self.plain_hit(&clean, cfrom, cstop)?;
        Some(Hit {
            start: at(h.start),
            end: if h.open_pem || h.end >= clean.len() {
                line.len()
            } else {
                at(h.end - 1) + 1
            },
            open_pem: h.open_pem,
        })
    }

    fn plain_hit(&self, line: &[u8], from: usize, stop: usize) -> Option<Hit> {
        (from..stop.min(line.len())).find_map(|i| {
            let kinds = self.first[line[i] as usize];
            if kinds == 0 {
                return None;
            }
            self.hit_at(line, i, kinds)
        })
    }

    fn hit_at(&self, line: &[u8], i: usize, kinds: u8) -> Option<Hit> {
        let literal = (kinds & LITERAL != 0)
            .then(|| self.secrets.iter().find(|s| line[i..].starts_with(s)))
            .flatten()
            .map(|s| Hit {
                start: i,
                end: i + s.len(),
                open_pem: false,
            });
        literal.or_else(|| {
            (kinds & SHAPE != 0)
                .then(|| secret_shapes::shape_at(line, i))
                .flatten()
        })
    }

    /// The line with every secret replaced; borrowed when there was nothing to replace. A
    /// private key whose end is not in `line` is redacted to the end.
    pub(crate) fn redact_bytes<'a>(&self, line: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0; // bytes of `line` already accounted for in `out`
        while let Some(h) = self.next_hit(line, copied, line.len()) {
            let buf = out.get_or_insert_with(|| Vec::with_capacity(line.len()));
            buf.extend_from_slice(&line[copied..h.start]);
            buf.extend_from_slice(REDACTED.as_bytes());
            copied = h.end;
        }
        match out {
            None => Cow::Borrowed(line),
            Some(mut buf) => {
                buf.extend_from_slice(&line[copied..]);
                Cow::Owned(buf)
            }
        }
    }

    /// [`Redactor::redact_bytes`] for text (summaries, models, error messages, patches).
    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.redact_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Secrets and the marker are whole UTF-8 strings, so the result is UTF-8 too.
            Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
        }
    }

    /// [`Redactor::redact`] for an optional string an agent gave us.
    pub(crate) fn redact_opt(&self, text: Option<String>) -> Option<String> {
        text.map(|t| match self.redact(&t) {
            Cow::Borrowed(_) => t,
            Cow::Owned(o) => o,
        })
    }

    /// Redacts every string of a JSON value in place (keys are names, kept); a string whose
    /// key says it is a secret (`"password": "…"`) is judged with its key, as it would be on a
    /// line. True when anything changed. For what reaches git as JSON: records and `run.json`
    /// brought by `record` and `import`.
    pub(crate) fn redact_json(&self, v: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match v {
            Value::String(s) => self.redact_string(None, s),
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, item| self.redact_json(item) | changed),
            Value::Object(map) => map.iter_mut().fold(false, |changed, (k, item)| {
                let mine = match item {
                    Value::String(s) => self.redact_string(Some(k), s),
                    other => self.redact_json(other),
                };
                mine | changed
            }),
            _ => false,
        }
    }

    /// Redacts `s`, seen as the value of `key` when there is one. True when it changed.
    fn redact_string(&self, key: Option<&str>, s: &mut String) -> bool {
        let mut changed = false;
        if let Cow::Owned(o) = self.redact(s) {
            *s = o;
            changed = true;
        }
        let Some(key) = key else { return changed };
        let pair = serde_json::json!({ key: &*s }).to_string();
        if let Cow::Owned(red) = self.redact(&pair) {
            // The pair as JSON again; should the redaction have broken it, the whole value goes.
            let value = serde_json::from_str::<serde_json::Value>(&red)
                .ok()
                .and_then(|v| v.get(key)?.as_str().map(str::to_string));
            *s = value.unwrap_or_else(|| REDACTED.to_string());
            changed = true;
        }
        changed
    }

    /// Whether `bytes` hold anything this redactor would replace.
    pub(crate) fn finds_secret(&self, bytes: &[u8]) -> bool {
        self.next_hit(bytes, 0, bytes.len()).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(env: &[(&str, &str)]) -> Redactor {
        Redactor::from_env(env.iter().copied())
    }

    fn red(env: &[(&str, &str)], line: &str) -> String {
        r(env).redact(line).into_owned()
    }

    #[test]
    fn secret_names() {
        for n in [
            "ANTHROPIC_API_KEY",
            "GH_TOKEN",
            "aws_secret",
            "DB_PASSWORD",
            "PASSWORD_FILE",
            "DB_PASS",
            "SECRET",
            "STRIPE_APIKEY",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "my-secret-thing",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "PATH",
            "HOME",
            "KEYBOARD",
            "TOKENIZER",
            "MONKEY",
            "SECRETARY_NAME",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn env_values_are_redacted_everywhere_in_the_line() {
        let env = [("MY_API_KEY", "hunter2hunter2"), ("PATH", "/usr/bin")];
        assert_eq!(
            red(&env, "key=hunter2hunter2 again:hunter2hunter2!"),
            "key=[REDACTED] again:[REDACTED]!"
        );
        // Non-secret names are left alone, short values too.
        assert_eq!(red(&env, "/usr/bin/true"), "/usr/bin/true");
        assert_eq!(red(&[("X_TOKEN", "1")], "1 + 1 = 2"), "1 + 1 = 2");
    }

    #[test]
    fn json_escaped_values_and_multiline_values() {
        let env = [("DB_PASSWORD", r#"pa"ss\word"#)];
        assert_eq!(
            red(&env, r#"{"pw":"pa\"ss\\word"}"#),
            r#"{"pw":"[REDACTED]"}"#
        );
        let pem = "-----BEGIN KEY-----\nMIIEabcdefgh\n-----END KEY-----";
        assert_eq!(red(&[("SSH_KEY", pem)], "  MIIEabcdefgh"), "  [REDACTED]");
    }

    #[test]
    fn passwords_in_url_variables_are_secrets() {
        let env = [("DATABASE_URL", "postgres://app:pl41nw0rd@db/x")];
        assert_eq!(red(&env, "pw pl41nw0rd"), "pw [REDACTED]");
        assert_eq!(
            red(&[], "postgres://app:pl41nw0rd@db/x"),
            "postgres://app:[REDACTED]@db/x"
        );
    }

    #[test]
    fn longest_secret_wins() {
        let env = [("A_TOKEN", "abcdef"), ("B_TOKEN", "abcdefghij")];
        assert_eq!(red(&env, "x abcdefghij y"), "x [REDACTED] y");
    }

    #[test]
    fn key_shapes() {
        let cases = [
            (
                "key sk-ant-api03-AbC123dEf456GhI789jKl0 end",
                "key [REDACTED] end",
            ),
            ("sk-proj-1234567890abcdefghijKLMN", "[REDACTED]"),
            ("OPENAI=sk-abcdefghij0123456789ABCD", "OPENAI=[REDACTED]"),
            ("tok ghp_ABCDEFGHIJKLMNOPQRSTuvwx1234", "tok [REDACTED]"),
            ("ghs_abcdefghijklmnopqrstu1", "[REDACTED]"),
            ("github_pat_11ABCDEFG0_abcdefghijklmnop", "[REDACTED]"),
            ("aws AKIAIOSFODNN7EXAMPLE.", "aws [REDACTED]."),
            ("\"xoxb-1234567890-abcdef\"", "\"[REDACTED]\""),
        ];
        for (input, want) in cases {
            assert_eq!(red(&[], input), want, "{input}");
        }
    }

    #[test]
    fn ordinary_words_survive() {
        let lines = [
            "task-list and disk-usage and risk-free",
            "mask-0123456789abcdefghijklmnop",
            "sk-learn-compatibility-layer-for-things",
            "sk-short1",
            "ghp_short",
            "AKIAIOSFODNN7EXAMPLEX (17 chars is not a key id)",
            "xoxb-short",
            "GHP_ABCDEFGHIJKLMNOPQRSTUVWX1234",
            "the skeleton of an AKIA sketch",
        ];
        for l in lines {
            assert_eq!(red(&[], l), l);
        }
    }

    #[test]
    fn json_strings_are_redacted_with_their_keys() {
        let red = r(&[("DEPLOY_TOKEN", "correct-horse-8812")]);
        let mut v = serde_json::json!({
            "summary": "used correct-horse-8812",
            "extra": {"password": "hunter2hunter2", "n": 3, "list": ["ghp_ABCDEFGHIJKLMNOPQRSTuvwx1234"]},
            "apiKeySource": "ANTHROPIC_API_KEY",
        });
        assert!(red.redact_json(&mut v));
        assert_eq!(
            v,
            serde_json::json!({
                "summary": "used [REDACTED]",
                "extra": {"password": "[REDACTED]", "n": 3, "list": ["[REDACTED]"]},
                "apiKeySource": "ANTHROPIC_API_KEY",
            })
        );
        assert!(!red.redact_json(&mut v), "nothing left to redact");
    }

    #[test]
    fn secrets_in_colour_or_split_by_escapes_are_redacted_whole() {
        let red = r(&[("DEPLOY_TOKEN", "correct-horse-8812")]);
        let cases = [
            (
                "tok \x1b[1;32mghp_ABCDEFGHIJKLMNOPQRSTuvwx1234\x1b[0m end",
                "tok \x1b[1;32m[REDACTED]\x1b[0m end",
            ),
            (
                "tok ghp_ABCDEFGHIJ\x1b[0mKLMNOPQRSTuvwx1234 end",
                "tok [REDACTED] end",
            ),
            ("x correct-\x1b[31mhorse-8812 y", "x [REDACTED] y"),
            ("\x1b[33mplain\x1b[0m text", "\x1b[33mplain\x1b[0m text"),
        ];
        for (line, want) in cases {
            assert_eq!(red.redact(line), want, "{line:?}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_pass_through() {
        let red = r(&[("X_SECRET", "s3cr3tvalue")]);
        let line = b"\xff\xfe s3cr3tvalue \xff";
        assert_eq!(red.redact_bytes(line).as_ref(), b"\xff\xfe [REDACTED] \xff");
        assert!(matches!(
            red.redact_bytes(b"nothing here"),
            Cow::Borrowed(_)
        ));
    }
}
