//! The shapes of secrets the [`Redactor`](super::Redactor) finds without being told their
//! values: vendors' key formats, credentials in URLs and headers, PEM private keys, and long
//! random-looking values next to key-like names.
//!
//! Runs are pushed to shared remotes, so we cover the shapes that secret scanners (gitleaks,
//! GitHub's push protection, trufflehog) agree on. Each rule is a plain function over bytes,
//! tried only at bytes in [`TRIGGERS`], so one pass over a transcript stays cheap (no regex
//! crate). Rules prefer a missed odd case to blanking ordinary words: every vendor shape needs
//! its prefix at the start of a word and a minimum length of random-looking characters.

use super::more_shapes;
use super::named_value::named_value;

/// Bytes at which some rule can start; the redactor skips every other byte.
pub(super) const TRIGGERS: &[u8] = b"sgrAxenhBb:=-wP%";

/// Where the secret starting at (or just after) a trigger is: `line[start..end]` is replaced.
/// `open_pem` is true for a private key whose `-----END` line is not in `line`: it runs to the
/// end, and the caller keeps redacting until the end line comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hit {
    pub start: usize,
    pub end: usize,
    pub open_pem: bool,
}

fn hit(start: usize, end: usize) -> Option<Hit> {
    Some(Hit {
        start,
        end,
        open_pem: false,
    })
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn token(b: u8) -> bool {
    is_alnum(b) || b == b'-' || b == b'_'
}

fn run(s: &[u8], ok: impl Fn(u8) -> bool) -> usize {
    s.iter().take_while(|&&b| ok(b)).count()
}

/// The secret at `i`, if one starts there.
pub(super) fn shape_at(line: &[u8], i: usize) -> Option<Hit> {
    match line[i] {
        b':' => url_password(line, i).or_else(|| named_value(line, i, 1)),
        b'=' => named_value(line, i, 1),
        b'-' => pem_block(line, i).or_else(|| more_shapes::dash_at(line, i)),
        b'%' => more_shapes::more_at(line, i),
        _ => {
            // A key starts a word: `task-list1234…` or `disk-…` must not match `sk-`. A
            // URL-encoded separator (`token%3Dghp_…`) ends a word too.
            let encoded = i >= 3 && line[i - 3] == b'%' && line[i - 2].is_ascii_hexdigit();
            if i > 0 && (is_alnum(line[i - 1]) || line[i - 1] == b'_') && !encoded {
                return None;
            }
            vendor_key(&line[i..])
                .map(|n| Hit {
                    start: i,
                    end: i + n,
                    open_pem: false,
                })
                .or_else(|| more_shapes::more_at(line, i))
        }
    }
}

/// A vendor key: its prefix, the characters after it, and the fewest of them a real key has.
type Prefixed = (&'static [u8], fn(u8) -> bool, usize);

/// Length of the vendor key at the start of `rest`.
fn vendor_key(rest: &[u8]) -> Option<usize> {
    let prefixed: [Prefixed; 11] = [
        (b"github_pat_", token, 20),
        (b"glpat-", token, 20),      // GitLab personal access token
        (b"sk_live_", is_alnum, 16), // Stripe secret and restricted keys
        (b"sk_test_", is_alnum, 16),
        (b"rk_live_", is_alnum, 16),
        (b"rk_test_", is_alnum, 16),
        (b"npm_", is_alnum, 36),                      // npm access token
        (b"hf_", is_alnum, 30),                       // Hugging Face token
        (b"AIza", token, 35),                         // Google API key
        (b"xoxb-", |b| is_alnum(b) || b == b'-', 10), // Slack
        (b"xoxp-", |b| is_alnum(b) || b == b'-', 10),
    ];
    for (prefix, ok, min) in prefixed {
        if prefix[0] == rest[0] && rest.starts_with(prefix) {
            let n = run(&rest[prefix.len()..], ok);
            return (n >= min).then_some(prefix.len() + n);
        }
    }
    if rest.starts_with(b"sk-") {
        // OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-api03-…`) keys. Real keys are
        // long and random, so they contain a digit; words like `sk-learn-compat…` do not.
        let n = run(&rest[3..], token);
        let has_digit = rest[3..3 + n].iter().any(u8::is_ascii_digit);
        return (n >= 20 && has_digit).then_some(3 + n);
    }
    if rest.len() > 5
        && rest.starts_with(b"xox")
        && matches!(rest[3], b'a' | b'r' | b's')
        && rest[4] == b'-'
    {
        let n = run(&rest[5..], |b| is_alnum(b) || b == b'-');
        return (n >= 10).then_some(5 + n);
    }
    if rest.len() > 4
        && rest.starts_with(b"gh")
        && matches!(rest[2], b'p' | b'o' | b's' | b'u' | b'r')
        && rest[3] == b'_'
    {
        let n = run(&rest[4..], is_alnum);
        return (n >= 20).then_some(4 + n);
    }
    if rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA") {
        let n = run(&rest[4..], |b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let end_ok = rest.get(4 + n).is_none_or(|&b| !is_alnum(b));
        return (n == 16 && end_ok).then_some(20);
    }
    if rest.starts_with(b"eyJ") {
        return jwt(rest);
    }
    if rest.len() > 7 && rest[..6].eq_ignore_ascii_case(b"bearer") && rest[6] == b' ' {
        return bearer(rest);
    }
    None
}

/// A JSON Web Token: three base64url parts, the first two JSON objects (`eyJ` is `{"`).
fn jwt(rest: &[u8]) -> Option<usize> {
    let b64 = |b: u8| is_alnum(b) || b == b'-' || b == b'_';
    let head = run(rest, b64);
    if head < 10 || rest.get(head) != Some(&b'.') {
        return None;
    }
    let body = &rest[head + 1..];
    if !body.starts_with(b"eyJ") {
        return None;
    }
    let n = run(body, b64);
    if n < 10 {
        return None;
    }
    let mut end = head + 1 + n;
    if rest.get(end) == Some(&b'.') {
        end += 1 + run(&rest[end + 1..], b64);
    }
    Some(end)
}

/// `Bearer <token>`: the whole phrase goes, so the header stays readable as `[REDACTED]`.
fn bearer(rest: &[u8]) -> Option<usize> {
    let spaces = run(&rest[6..], |b| b == b' ');
    let from = 6 + spaces;
    let n = run(&rest[from..], |b| {
        is_alnum(b) || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
    });
    (n >= 8).then_some(from + n)
}

/// `scheme://user:password@host`: the password.
fn url_password(line: &[u8], i: usize) -> Option<Hit> {
    if !line[i..].starts_with(b"://") || i == 0 || !is_alnum(line[i - 1]) {
        return None;
    }
    let from = i + 3;
    let authority = run(&line[from..], |b| {
        !matches!(b, b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'\\') && b > b' '
    });
    let auth = &line[from..from + authority];
    let at = auth.iter().rposition(|&b| b == b'@')?;
    let Some(colon) = auth[..at].iter().position(|&b| b == b':') else {
        // No password, but a user that is a key: Sentry DSNs (`https://<32 hex>@o1.ingest…`).
        let key = at >= 32 && auth[..at].iter().all(u8::is_ascii_hexdigit);
        return key.then(|| hit(from, from + at)).flatten();
    };
    if at <= colon + 1 {
        return None;
    }
    hit(from + colon + 1, from + at)
}

/// `-----BEGIN … PRIVATE KEY-----` through its `-----END … -----` line, whole.
fn pem_block(line: &[u8], i: usize) -> Option<Hit> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    if !line[i..].starts_with(BEGIN) {
        return None;
    }
    let head_from = i + BEGIN.len();
    let head_len = find(&line[head_from..line.len().min(head_from + 80)], b"-----")?;
    if !line[head_from..head_from + head_len].ends_with(b"PRIVATE KEY")
        && !line[head_from..head_from + head_len].ends_with(b"PRIVATE KEY BLOCK")
    {
        return None;
    }
    let body = head_from + head_len + 5;
    match pem_end(line, body) {
        Some(end) => hit(i, end),
        None => Some(Hit {
            start: i,
            end: line.len(),
            open_pem: true,
        }),
    }
}

/// The end of the first `-----END …-----` (or a PuTTY key's `Private-MAC:` line) at or after
/// `from`: where a private key that began before `from` ends.
pub(super) fn pem_end(line: &[u8], from: usize) -> Option<usize> {
    match (pem_end_line(line, from), more_shapes::putty_end(line, from)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn pem_end_line(line: &[u8], from: usize) -> Option<usize> {
    let at = from + find(&line[from..], b"-----END ")?;
    let name = at + 9;
    let close = find(&line[name..line.len().min(name + 80)], b"-----")?;
    Some(name + close + 5)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::agent) fn find_all(line: &str) -> Vec<&str> {
        let b = line.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if TRIGGERS.contains(&b[i])
                && let Some(h) = shape_at(b, i)
            {
                out.push(&line[h.start..h.end]);
                i = h.end.max(i + 1);
                continue;
            }
            i += 1;
        }
        out
    }

    #[test]
    fn vendor_shapes() {
        let cases = [
            ("glpat-abcdefghij0123456789", "glpat-abcdefghij0123456789"),
            (
                "k=sk_live_51HxYzAbCdEfGhIjKlMn",
                "sk_live_51HxYzAbCdEfGhIjKlMn",
            ),
            (
                "AIzaSyA1234567890abcdefghijklmnopqrstuv",
                "AIzaSyA1234567890abcdefghijklmnopqrstuv",
            ),
            (
                "npm_abcdefghijklmnopqrstuvwxyz0123456789",
                "npm_abcdefghijklmnopqrstuvwxyz0123456789",
            ),
            (
                "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
                "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
            ),
            (
                "t eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U x",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            ),
            (
                "Authorization: Bearer abc.DEF-123_456",
                "Bearer abc.DEF-123_456",
            ),
            ("postgres://app:s3cr3t!pw@db.example.com/x", "s3cr3t!pw"),
        ];
        for (line, want) in cases {
            assert_eq!(find_all(line), vec![want], "{line}");
        }
    }

    #[test]
    fn pem_blocks_whole_or_open() {
        let one = "x -----BEGIN RSA PRIVATE KEY-----\\nMIIEabc\\n-----END RSA PRIVATE KEY----- y";
        assert_eq!(
            find_all(one),
            vec!["-----BEGIN RSA PRIVATE KEY-----\\nMIIEabc\\n-----END RSA PRIVATE KEY-----"]
        );
        let open = b"-----BEGIN OPENSSH PRIVATE KEY-----";
        let h = shape_at(open, 0).unwrap();
        assert!(h.open_pem && h.end == open.len());
        assert!(find_all("-----BEGIN CERTIFICATE-----").is_empty());
        assert_eq!(pem_end(b"abc-----END EC PRIVATE KEY-----rest", 0), Some(31));
    }
}
