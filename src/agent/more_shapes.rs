//! Shapes of secrets added after the first set of [`secret_shapes`](super::secret_shapes) (issue
//! 29): Slack app tokens and webhook URLs, Stripe webhook secrets, Azure SAS signatures,
//! `Authorization: Basic`, passwords on command lines (`-p<pw>`, `--password <pw>`), Sentry
//! DSNs, PuTTY private keys, and named values whose `=` or `:` is URL-encoded.
//!
//! Like the first set, each rule is tried only at its trigger byte and prefers a missed odd case
//! to blanking ordinary text: `find -print0`, `gcc -pthread`, `Basic usage` and `--password
//! prompts` stay.

use super::named_value::{looks_secret, name_kind, named_value};
use super::secret_shapes::Hit;

fn hit(start: usize, end: usize) -> Option<Hit> {
    Some(Hit {
        start,
        end,
        open_pem: false,
    })
}

fn run(s: &[u8], ok: impl Fn(u8) -> bool) -> usize {
    s.iter().take_while(|&&b| ok(b)).count()
}

fn b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// A secret starting at `i`, where the rules of this module can start one (the caller has
/// checked that `i` starts a word where a rule needs it).
pub(super) fn more_at(line: &[u8], i: usize) -> Option<Hit> {
    let rest = &line[i..];
    match rest[0] {
        b'x' if rest.starts_with(b"xapp-") => {
            let n = run(&rest[5..], |b| b.is_ascii_alphanumeric() || b == b'-');
            (n >= 20).then(|| hit(i, i + 5 + n)).flatten()
        }
        b'w' if rest.starts_with(b"whsec_") => {
            let n = run(&rest[6..], b64);
            (n >= 24).then(|| hit(i, i + 6 + n)).flatten()
        }
        b'h' if rest.starts_with(b"hooks.slack.com/services/") => {
            let from = i + 25;
            let n = run(&line[from..], |b| b.is_ascii_alphanumeric() || b == b'/');
            (n >= 20).then(|| hit(from, from + n)).flatten()
        }
        b's' if rest.starts_with(b"sig=") => {
            // Azure SAS: the signature, URL-encoded base64; `sig=` stays readable.
            let n = run(&rest[4..], |b| b64(b) || b == b'%');
            (n >= 20).then(|| hit(i + 4, i + 4 + n)).flatten()
        }
        b'B' | b'b' if rest.len() > 6 && rest[..6].eq_ignore_ascii_case(b"basic ") => {
            basic(rest, i)
        }
        b'P' => putty(line, i),
        b'%' => encoded_separator(line, i),
        _ => None,
    }
}

/// `Basic <base64 of user:password>`: base64 with both cases (so `Basic configuration` stays).
fn basic(rest: &[u8], i: usize) -> Option<Hit> {
    let from = 6 + run(&rest[6..], |b| b == b' ');
    let v = &rest[from..from + run(&rest[from..], b64)];
    let mixed = v.iter().any(u8::is_ascii_uppercase) && v.iter().any(u8::is_ascii_lowercase);
    (v.len() >= 8 && mixed)
        .then(|| hit(i, i + from + v.len()))
        .flatten()
}

/// A PuTTY key file's private part: `Private-Lines: N`, its base64 lines, through the
/// `Private-MAC:` line (see [`super::secret_shapes::pem_end`], which ends both kinds of block).
fn putty(line: &[u8], i: usize) -> Option<Hit> {
    if !line[i..].starts_with(b"Private-Lines:") {
        return None;
    }
    match super::secret_shapes::pem_end(line, i) {
        Some(end) => hit(i, end),
        None => Some(Hit {
            start: i,
            end: line.len(),
            open_pem: true,
        }),
    }
}

/// The end of `Private-MAC: <hex>` at or after `from`, if there is one.
pub(super) fn putty_end(line: &[u8], from: usize) -> Option<usize> {
    const MAC: &[u8] = b"Private-MAC:";
    let at = from + line[from..].windows(MAC.len()).position(|w| w == MAC)?;
    let v = at + MAC.len();
    let spaces = run(&line[v..], |b| b == b' ');
    Some(v + spaces + run(&line[v + spaces..], |b| b.is_ascii_hexdigit()))
}

/// `name%3Dvalue`, `name%3Avalue`: a named value in a URL-encoded query or body.
fn encoded_separator(line: &[u8], i: usize) -> Option<Hit> {
    let sep = line.get(i + 1..i + 3)?;
    if sep.eq_ignore_ascii_case(b"3D") || sep.eq_ignore_ascii_case(b"3A") {
        named_value(line, i, 3)
    } else {
        None
    }
}

/// Passwords on a command line, at a `-` that starts a word: `-p<pw>` (mysql) and
/// `--password <pw>`, `--token <tok>` and the like (`--password=<pw>` is a named value).
pub(super) fn dash_at(line: &[u8], i: usize) -> Option<Hit> {
    let starts_word = i == 0 || matches!(line[i - 1], b' ' | b'\t' | b'"' | b'\'' | b'(');
    if !starts_word {
        return None;
    }
    let rest = &line[i..];
    if rest.starts_with(b"--") {
        let n = run(&rest[2..], |b| b.is_ascii_alphanumeric() || b == b'-');
        let kind = name_kind(&rest[2..2 + n])?;
        let spaces = run(&rest[2 + n..], |b| b == b' ');
        if spaces == 0 {
            return None;
        }
        let vs = i + 2 + n + spaces;
        let quote = line.get(vs).copied().filter(|b| matches!(b, b'"' | b'\''));
        let from = vs + usize::from(quote.is_some());
        let len = match quote {
            Some(q) => run(&line[from..], |b| b != q && b >= b' '),
            None => run(&line[from..], bare_value_byte),
        };
        if quote.is_none() && !ends_value(line.get(from + len)) {
            return None;
        }
        let v = &line[from..from + len];
        let ok = !v.starts_with(b"-") && looks_secret(v, kind, quote.is_some());
        return ok.then(|| hit(from, from + len)).flatten();
    }
    if rest.len() > 2 && rest[1] == b'p' && rest[2] > b' ' && rest[2] != b'-' {
        let v = &rest[2..2 + run(&rest[2..], bare_value_byte)];
        if !ends_value(rest.get(2 + v.len())) {
            return None;
        }
        return short_p_password(v)
            .then(|| hit(i + 2, i + 2 + v.len()))
            .flatten();
    }
    None
}

/// A byte of an unquoted value on a command line: printable ASCII, not a quote or `;`.
fn bare_value_byte(b: u8) -> bool {
    b > b' ' && b < 0x7f && !matches!(b, b'"' | b'\'' | b';')
}

/// Whether an unquoted value ends as one on a command line does: at white space, a quote, `;`
/// or the end. NB: without this, random bytes (a binary file's contents, which leftovers and
/// saved work are scanned for secrets) held " -p" and a few printable bytes often enough that
/// most binary work was taken for a secret and kept off the run.
fn ends_value(next: Option<&u8>) -> bool {
    next.is_none_or(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b';'))
}

/// The value of `-p<value>` is a password when it is long and mixed enough, and is not one of
/// the `-p…` options of find, compilers and linkers.
fn short_p_password(v: &[u8]) -> bool {
    const OPTIONS: [&[u8]; 12] = [
        b"rint", b"ath", b"erm", b"rune", b"thread", b"edantic", b"ipe", b"ie", b"g", b"lugin",
        b"aram", b"rofile",
    ];
    if v.len() < 6 || OPTIONS.iter().any(|o| v.starts_with(o)) {
        return false;
    }
    if matches!(v[0], b'/' | b'.' | b'~' | b'$' | b'=') {
        return false;
    }
    let classes = [
        v.iter().any(u8::is_ascii_lowercase),
        v.iter().any(u8::is_ascii_uppercase),
        v.iter().any(u8::is_ascii_digit),
        v.iter()
            .any(|b| !b.is_ascii_alphanumeric() && !matches!(b, b'-' | b'_' | b'.')),
    ];
    classes.iter().filter(|&&c| c).count() >= 2
}

#[cfg(test)]
mod tests {
    use super::super::secret_shapes::tests::find_all;

    #[test]
    fn new_shapes_are_caught() {
        let cases = [
            (
                "slack xapp-1-A0123ABCDEF-1234567890123-abcdef0123456789",
                "xapp-1-A0123ABCDEF-1234567890123-abcdef0123456789",
            ),
            (
                "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdEFGHijklMNOPqrstUVWX",
                "T0123ABCD/B0123ABCD/abcdEFGHijklMNOPqrstUVWX",
            ),
            (
                "STRIPE whsec_MfKQ9r8GKYqrTwjUPD8ILPZIK2LWdWCy ok",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIK2LWdWCy",
            ),
            (
                "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=aBcD3fGh1jKlMn0pQrStUvWxYz%2B12%3D&se=x",
                "aBcD3fGh1jKlMn0pQrStUvWxYz%2B12%3D",
            ),
            (
                "Authorization: Basic dXNlcjpQYXNzdzByZDEyMw==",
                "Basic dXNlcjpQYXNzdzByZDEyMw==",
            ),
            ("mysql -u root -pHunter2xyz db", "Hunter2xyz"),
            ("psql --password Tr0ub4dor-3x", "Tr0ub4dor-3x"),
            ("cli --token 'Zq8vLw3TnR5pX2kY' go", "Zq8vLw3TnR5pX2kY"),
            (
                "SENTRY_DSN=https://0123456789abcdef0123456789abcdef@o12345.ingest.sentry.io/678",
                "0123456789abcdef0123456789abcdef",
            ),
            (
                "https://x.test/cb?state=1&access_token%3DZq8vLw3TnR5pX2kY%26next",
                "Zq8vLw3TnR5pX2kY",
            ),
            (
                "q=token%3Dghp_ABCDEFGHIJKLMNOPQRSTuvwx1234",
                "ghp_ABCDEFGHIJKLMNOPQRSTuvwx1234",
            ),
            (
                "Private-Lines: 1\\nAAAAgQC3b2d5\\nPrivate-MAC: 0123abcd",
                "Private-Lines: 1\\nAAAAgQC3b2d5\\nPrivate-MAC: 0123abcd",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(find_all(line), vec![want], "{line}");
        }
    }

    #[test]
    fn look_alikes_are_not_caught() {
        for line in [
            "xapp-short",
            "whsec_short",
            "https://hooks.slack.com/services/",
            "the sig=short and sig=",
            "Basic usage of basic configuration",
            "find . -print0 | xargs -0 gcc -pthread -pedantic -pipe",
            "mkdir -p build && patch -p1 < x",
            "git --password prompts --token is-required",
            "\x01 -pHunter2xyz\x02 random bytes -pAbc123\u{7f}",
            "--password $DB_PASSWORD",
            "--token ${{ secrets.TOKEN }}",
            "ssh://git@github.com/x",
            "https://user@example.com/",
            "100%3D full and %3A",
            "Private-Lines are a PuTTY thing",
        ] {
            assert!(find_all(line).is_empty(), "{line}: {:?}", find_all(line));
        }
    }
}
