//! Redaction of secrets from agent output, line by line.
//!
//! Transcripts and summaries end up in git objects that users push to shared remotes (DESIGN
//! §6), so every line an agent prints passes through a [`Redactor`] before it is written
//! anywhere. Two kinds of secret are replaced with `[REDACTED]`: the *values* of environment
//! variables whose names look secret (`*_KEY`, `*_TOKEN`, `*_SECRET`, `*PASSWORD*`; the caller
//! passes the environment in, the library never reads it) and well-known key shapes (`sk-…`,
//! `ghp_…`, `github_pat_…`, `AKIA…`, `xoxb-…`). Everything is pure and works on one line of bytes
//! at a time; no regex crate: one pass over the bytes with a first-byte table is enough and
//! keeps 200 MB of output cheap.

use std::borrow::Cow;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Values shorter than this are not redacted: `FOO_TOKEN=1` or `X_KEY=true` would otherwise
/// blank every `1` or `true` in a transcript.
pub const MIN_SECRET_LEN: usize = 6;

/// True when an environment variable of this name holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.ends_with("_KEY")
        || upper.ends_with("_TOKEN")
        || upper.ends_with("_SECRET")
        || upper.contains("PASSWORD")
}

/// Replaces secrets in lines of output. Build it once per session.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Literal secret values, longest first so that a secret containing another wins.
    secrets: Vec<Vec<u8>>,
    /// `first[b]` is true when some secret starts with byte `b`.
    first: Vec<bool>,
}

impl Redactor {
    /// A redactor for the secret-looking variables among `env` (name, value pairs).
    pub fn from_env<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut secrets: Vec<Vec<u8>> = Vec::new();
        for (name, value) in env {
            if !is_secret_name(name) {
                continue;
            }
            // A multi-line value (a PEM key) never appears whole on one line: redact each line.
            for piece in value.lines().map(str::trim) {
                if piece.len() < MIN_SECRET_LEN {
                    continue;
                }
                secrets.push(piece.as_bytes().to_vec());
                // Inside JSON (Claude's stream) a value with quotes or backslashes is escaped.
                let quoted = serde_json::to_string(piece).unwrap_or_default();
                let escaped = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("");
                if escaped != piece && escaped.len() >= MIN_SECRET_LEN {
                    secrets.push(escaped.as_bytes().to_vec());
                }
            }
        }
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        let mut first = vec![false; 256];
        for s in &secrets {
            first[s[0] as usize] = true;
        }
        // Key shapes start with one of these bytes.
        for b in [b's', b'g', b'A', b'x'] {
            first[b as usize] = true;
        }
        Redactor { secrets, first }
    }

    /// The line with every secret replaced; borrowed when there was nothing to replace.
    pub fn redact_bytes<'a>(&self, line: &'a [u8]) -> Cow<'a, [u8]> {
        let first = |b: u8| self.first.get(b as usize).copied().unwrap_or(false);
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0; // bytes of `line` already accounted for in `out`
        let mut i = 0;
        while i < line.len() {
            if !first(line[i]) {
                i += 1;
                continue;
            }
            let len = self.secret_at(line, i).or_else(|| key_shape_at(line, i));
            match len {
                Some(len) => {
                    let buf = out.get_or_insert_with(|| Vec::with_capacity(line.len()));
                    buf.extend_from_slice(&line[copied..i]);
                    buf.extend_from_slice(REDACTED.as_bytes());
                    i += len;
                    copied = i;
                }
                None => i += 1,
            }
        }
        match out {
            None => Cow::Borrowed(line),
            Some(mut buf) => {
                buf.extend_from_slice(&line[copied..]);
                Cow::Owned(buf)
            }
        }
    }

    /// [`Redactor::redact_bytes`] for text (summaries, error messages).
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.redact_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Secrets and the marker are whole UTF-8 strings, so the result is UTF-8 too.
            Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
        }
    }

    fn secret_at(&self, line: &[u8], i: usize) -> Option<usize> {
        self.secrets
            .iter()
            .find(|s| line[i..].starts_with(s))
            .map(Vec::len)
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Length of the well-known key starting at `i`, if one does.
fn key_shape_at(line: &[u8], i: usize) -> Option<usize> {
    // A key starts a word: `task-list1234…` or `disk-…` must not match `sk-`.
    if i > 0 && (is_alnum(line[i - 1]) || line[i - 1] == b'_') {
        return None;
    }
    let rest = &line[i..];
    let run = |from: usize, ok: fn(u8) -> bool| rest[from..].iter().take_while(|&&b| ok(b)).count();
    let token = |b: u8| is_alnum(b) || b == b'-' || b == b'_';
    if rest.starts_with(b"sk-") {
        // OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-api03-…`) keys. Real keys are
        // long and random, so they contain a digit; words like `sk-learn-compat…` do not.
        let n = run(3, token);
        let has_digit = rest[3..3 + n].iter().any(u8::is_ascii_digit);
        return (n >= 20 && has_digit).then_some(3 + n);
    }
    if rest.starts_with(b"github_pat_") {
        let n = run(11, |b| is_alnum(b) || b == b'_');
        return (n >= 20).then_some(11 + n);
    }
    if rest.len() > 4
        && rest.starts_with(b"gh")
        && matches!(rest[2], b'p' | b'o' | b's' | b'u' | b'r')
        && rest[3] == b'_'
    {
        let n = run(4, is_alnum);
        return (n >= 20).then_some(4 + n);
    }
    if rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA") {
        let n = run(4, |b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let end_ok = rest.get(4 + n).is_none_or(|&b| !is_alnum(b));
        return (n == 16 && end_ok).then_some(20);
    }
    if rest.len() > 5
        && rest.starts_with(b"xox")
        && matches!(rest[3], b'b' | b'p' | b'a' | b'r' | b's')
        && rest[4] == b'-'
    {
        let n = run(5, |b| is_alnum(b) || b == b'-');
        return (n >= 10).then_some(5 + n);
    }
    None
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
