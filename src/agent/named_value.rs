//! The named-value rule of the [`Redactor`](super::Redactor): a value next to a key-like name
//! (`aws_secret_access_key = …`, `"password": "…"`, `signing_key: …`, `token%3D…` in a URL) is
//! a secret when it looks like one.
//!
//! It lives apart from the vendor shapes because it is the rule that has to judge: a password
//! may start with `/` or `$` or hold spaces, an AWS secret key may start with `/`, while the
//! same names are followed by paths, variable references, variable *names* (Claude Code's
//! `"apiKeySource": "ANTHROPIC_API_KEY"`), enum words and identifiers that are no secrets.
//! How strongly the name says "secret" ([`NameKind`]) decides how much the value must prove.

use super::secret_shapes::Hit;

/// How strongly a name says its value is a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameKind {
    /// `passphrase`: the value may hold spaces even unquoted, to the end of the line.
    Passphrase,
    /// `password`, `passwd`, a word `pass`: a chosen password, which may be made of words.
    Password,
    /// `secret`, `credential`, `apikey`, a word `token(s)`, `api key`, `access key`,
    /// `private key`: issued values, random, never identifiers.
    Strong,
    /// A word `key(s)` or `auth`: only a random-looking value counts.
    Weak,
}

/// The kind of `name`, `None` when it says nothing. Words are split at `_`, `-`, `.` and
/// camelCase, so `tokenizer`, `monkey` and `author` say nothing. (Not `pwd`: that is the
/// working directory.)
pub(super) fn name_kind(name: &[u8]) -> Option<NameKind> {
    // Most names (`type`, `id`, `content`) hold none of these: say so without allocating.
    let hints: [&[u8]; 6] = [b"pas", b"sec", b"cred", b"tok", b"key", b"auth"];
    let holds = |h: &[u8]| name.windows(h.len()).any(|w| w.eq_ignore_ascii_case(h));
    if !hints.iter().any(|h| holds(h)) {
        return None;
    }
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    if lower.contains("passphrase") {
        return Some(NameKind::Passphrase);
    }
    if lower.contains("password") || lower.contains("passwd") {
        return Some(NameKind::Password);
    }
    if ["secret", "credential", "apikey"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Some(NameKind::Strong);
    }
    let words = split_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    if has("pass") {
        return Some(NameKind::Password);
    }
    if has("token")
        || has("tokens")
        || pair("api", "key")
        || pair("access", "key")
        || pair("private", "key")
    {
        return Some(NameKind::Strong);
    }
    (has("key") || has("keys") || has("auth")).then_some(NameKind::Weak)
}

/// The lower-case words of a name, split at non-alphanumerics and at camelCase humps.
fn split_words(name: &[u8]) -> Vec<String> {
    let mut words: Vec<String> = vec![String::new()];
    let mut prev_lower = false;
    for &b in name {
        if !b.is_ascii_alphanumeric() {
            words.push(String::new());
        } else if b.is_ascii_uppercase() && prev_lower {
            words.push((b as char).to_ascii_lowercase().to_string());
        } else if let Some(w) = words.last_mut() {
            w.push((b as char).to_ascii_lowercase());
        }
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
    }
    words
}

/// `name = value`, `name: value`, `"name": "value"`, `name%3Dvalue`: the value, when the name is
/// key-like and the value looks like a secret. The separator is `line[sep..sep + sep_len]`.
pub(super) fn named_value(line: &[u8], sep: usize, sep_len: usize) -> Option<Hit> {
    let skip = |b: u8| matches!(b, b'"' | b'\'' | b'\\' | b' ');
    let mut ne = sep;
    while ne > 0 && sep - ne < 4 && skip(line[ne - 1]) {
        ne -= 1;
    }
    let name_ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let mut ns = ne;
    while ns > 0 && ne - ns < 64 && name_ok(line[ns - 1]) {
        ns -= 1;
    }
    if ne - ns < 3 {
        return None;
    }
    let kind = name_kind(&line[ns..ne])?;
    let mut vs = sep + sep_len;
    if line.get(vs) == Some(&b'>') {
        vs += 1; // `=>`
    }
    let mut quoted = false;
    while vs < line.len() && vs - sep < 6 && skip(line[vs]) {
        quoted |= line[vs] != b' ';
        vs += 1;
    }
    let encoded = sep_len > 1;
    let n = value_len(&line[vs..], quoted, encoded, kind == NameKind::Passphrase);
    let value = &line[vs..vs + n];
    looks_secret(value, kind, quoted).then_some(Hit {
        start: vs,
        end: vs + n,
        open_pem: false,
    })
}

/// How far the value at the start of `rest` runs: to its closing quote; unquoted, to a space
/// or a separator (a passphrase: to the end of the line); URL-encoded, also to an encoded `&`,
/// space or quote.
fn value_len(rest: &[u8], quoted: bool, encoded: bool, phrase: bool) -> usize {
    let mut n = 0;
    while n < rest.len() {
        let b = rest[n];
        let stop = if quoted {
            matches!(b, b'"' | b'\'' | b'\\') || b < b' '
        } else if phrase {
            b < b' ' || matches!(b, b'"' | b'\'' | b',' | b';')
        } else {
            b <= b' ' || matches!(b, b',' | b';' | b'"' | b'\'' | b'&' | b')' | b'}' | b']')
        };
        let encoded_stop = encoded
            && b == b'%'
            && rest.get(n + 1) == Some(&b'2')
            && matches!(rest.get(n + 2), Some(b'6' | b'0' | b'2' | b'7'));
        if stop || encoded_stop {
            break;
        }
        n += 1;
    }
    if phrase && !quoted {
        while n > 0 && rest[n - 1] == b' ' {
            n -= 1;
        }
    }
    n
}

/// A value next to a key-like name is a secret when it is no plain non-secret (a path, a
/// variable, a variable's name, an enum word, an identifier for issued-value names), is long
/// enough, mixes character classes and, for the weak names, is random-looking.
pub(super) fn looks_secret(value: &[u8], kind: NameKind, quoted: bool) -> bool {
    if value.starts_with(b"[REDACTED") || find(value, b"://").is_some() || plainly_not(value) {
        return false;
    }
    // Words with spaces are a passphrase only where the name says password and the value is
    // quoted (or the name says passphrase); elsewhere they are prose.
    if value.contains(&b' ')
        && !(kind == NameKind::Passphrase || (kind == NameKind::Password && quoted))
    {
        return false;
    }
    if is_path(value) {
        return false;
    }
    if kind != NameKind::Password && kind != NameKind::Passphrase && is_identifier(value) {
        return false;
    }
    let classes = [
        value.iter().any(u8::is_ascii_lowercase),
        value.iter().any(u8::is_ascii_uppercase),
        value.iter().any(u8::is_ascii_digit),
        value.iter().any(|b| !b.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&c| c)
    .count();
    match kind {
        NameKind::Weak => value.len() >= 16 && classes >= 2 && entropy(value) >= 3.0,
        _ => value.len() >= 8 && classes >= 2,
    }
}

/// Values that are never secrets whatever the name: references to variables (`${X}`, `$X`,
/// `$(cmd)`, `%X%`, `{{ x }}`, `<placeholder>`), a variable's name (`ANTHROPIC_API_KEY`), and
/// words that say there is none.
fn plainly_not(value: &[u8]) -> bool {
    const WORDS: [&str; 14] = [
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "unset",
        "empty",
        "redacted",
        "required",
        "optional",
        "hidden",
        "masked",
        "default",
    ];
    if let Ok(s) = std::str::from_utf8(value)
        && WORDS.iter().any(|w| s.eq_ignore_ascii_case(w))
    {
        return true;
    }
    let ident = |s: &[u8]| {
        !s.is_empty()
            && s.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
            && (s.iter().all(|b| !b.is_ascii_lowercase())
                || s.iter().all(|b| !b.is_ascii_uppercase()))
    };
    match value {
        [b'$', b'{' | b'(', ..] | [b'{', b'{', ..] => true,
        [b'$', rest @ ..] => ident(rest),
        [b'%', mid @ .., b'%'] => ident(mid),
        [b'<', mid @ .., b'>'] => mid
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' ')),
        _ => is_variable_name(value),
    }
}

/// `ANTHROPIC_API_KEY`, `GH_TOKEN`: upper-case words joined by `_`, the first starting with a
/// letter, none mixing letters and digits (`HUNTER2_X9` is not a name).
fn is_variable_name(value: &[u8]) -> bool {
    let mut parts = value.split(|&b| b == b'_');
    let first_ok = value.first().is_some_and(u8::is_ascii_uppercase);
    first_ok
        && value.contains(&b'_')
        && parts.all(|p| {
            !p.is_empty()
                && (p.iter().all(u8::is_ascii_uppercase) || p.iter().all(u8::is_ascii_digit))
        })
}

/// An identifier made of words, no digits: `access_token`, `client-credentials`,
/// `apiKeyHelper`. Issued secrets are random and hold digits or no such word structure.
fn is_identifier(value: &[u8]) -> bool {
    if value
        .iter()
        .any(|&b| !(b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.')))
    {
        return false;
    }
    // Each word (split at separators and humps) is at least two letters, lower case after its
    // first: random letters have humps one or two letters apart.
    value
        .split(|&b| matches!(b, b'_' | b'-' | b'.'))
        .filter(|w| !w.is_empty())
        .all(|w| {
            let mut start = 0;
            (1..=w.len()).all(|i| {
                if i == w.len() || w[i].is_ascii_uppercase() {
                    let (word, first) = (&w[start..i], start == 0);
                    start = i;
                    // A leading lower-case word may be short (`is-required`, `apiKey`); a hump
                    // word needs three letters, or random letters would pass.
                    let min = if first && word[0].is_ascii_lowercase() {
                        2
                    } else {
                        3
                    };
                    word.len() >= min && word[1..].iter().all(u8::is_ascii_lowercase)
                        || word.iter().all(u8::is_ascii_uppercase) && word.len() >= 2
                } else {
                    true
                }
            })
        })
}

/// A file path (`/etc/app/key.pem`, `./x`, `~/.ssh/id_ed25519`, `.env`), not a password that
/// starts with `/`, `.` or `~` (`/Tr0ub4dor3`, `.Hunter2!x`, `~Secr3t99`) nor an AWS secret
/// access key (40 base64 characters, which may start with `/`).
fn is_path(value: &[u8]) -> bool {
    let path_chars = value
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b'~'));
    if !path_chars || aws_secret_like(value) {
        return false;
    }
    let plain = |s: &[u8]| {
        s.iter().all(|&b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
    };
    match value {
        [b'~', b'/', ..] | [b'.', b'/', ..] | [b'.', b'.', b'/', ..] => true,
        [b'~', rest @ ..] => rest
            .iter()
            .position(|&b| b == b'/')
            .is_some_and(|i| i > 0 && plain(&rest[..i])),
        [b'/', rest @ ..] => rest.contains(&b'/') || plain(rest),
        [b'.', rest @ ..] => rest.contains(&b'/') || plain(rest),
        _ => false,
    }
}

/// Forty characters of base64 with upper, lower and digits: the shape of an AWS secret key.
fn aws_secret_like(value: &[u8]) -> bool {
    value.len() == 40
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        && value.iter().any(u8::is_ascii_uppercase)
        && value.iter().any(u8::is_ascii_lowercase)
        && value.iter().any(u8::is_ascii_digit)
}

/// Bits per byte of `value`'s byte distribution.
fn entropy(value: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in value {
        counts[b as usize] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::super::secret_shapes::tests::find_all;

    fn caught(cases: &[(&str, &str)]) {
        for (line, want) in cases {
            assert_eq!(find_all(line), vec![*want], "{line}");
        }
    }

    fn left(lines: &[&str]) {
        for line in lines {
            assert!(find_all(line).is_empty(), "{line}: {:?}", find_all(line));
        }
    }

    #[test]
    fn named_values_and_entropy() {
        caught(&[
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            ("{\"password\": \"hunter2hunter2\"}", "hunter2hunter2"),
            ("DB_PASS=Tr0ub4dor-3x", "Tr0ub4dor-3x"),
            ("dbPassword: Tr0ub4dor-3x", "Tr0ub4dor-3x"),
            ("apiKey=Tr0ub4dor-3x", "Tr0ub4dor-3x"),
            ("x-auth-token: Tr0ub4dor-3x", "Tr0ub4dor-3x"),
            ("signing_key: 9fQ2xLr7Vb1Kp0ZsT4mW", "9fQ2xLr7Vb1Kp0ZsT4mW"),
        ]);
        left(&[
            "password: required",
            "the key: keyboard-layout",
            "pwd=/tmp/.tmpAbC123/worktree",
            "tokenizer: cl100k_base",
            "author=Jdoe1234567890abcdefXYZ",
            "monkey_business=Qz8r7Lp0Vx7Nm2Kc5Tw9",
            "signing_key=/home/me/.ssh/id_ed25519_Sk1",
            "token = ${GH_TOKEN}",
            "monkey=banana-split-42",
            "key=value",
            "https://example.com:8080/path",
            "ssh://git@github.com/x",
            "Bearer of bad news",
        ]);
    }

    /// What the README promised and the rule missed: passwords starting with `/ . ~ $` or
    /// holding a space, passphrases with spaces, AWS secret keys starting with `/`.
    #[test]
    fn passwords_that_look_like_paths_or_variables_or_hold_spaces_are_caught() {
        caught(&[
            ("password=/Tr0ub4dor3", "/Tr0ub4dor3"),
            ("DB_PASSWORD: .Hunter2!x", ".Hunter2!x"),
            ("password = ~Secr3t99", "~Secr3t99"),
            ("password=$ecretPa55", "$ecretPa55"),
            (
                "{\"password\": \"my dog has fleas 42\"}",
                "my dog has fleas 42",
            ),
            (
                "passphrase: correct horse battery staple",
                "correct horse battery staple",
            ),
            (
                "\"passphrase\": \"correct horse battery staple\"",
                "correct horse battery staple",
            ),
            (
                "aws_secret_access_key=/JalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "/JalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        ]);
        left(&[
            "password_file=/run/secrets/db_password",
            "password: /etc/app/pw.txt",
            "password_file: ~/.pgpass",
            "password=./secrets/dev.txt",
            "password=$DB_PASSWORD",
            "password=${DB_PASSWORD}",
            "password: $(pass show db)",
            "token: the token is required here",
        ]);
    }

    /// Issue 22: `apiKeySource` names where the key came from; its values are variable names
    /// and enum words, not secrets. Real values next to the same names are still caught.
    #[test]
    fn names_of_variables_enum_words_and_identifiers_are_not_secrets() {
        left(&[
            r#"{"type":"system","apiKeySource":"ANTHROPIC_API_KEY","model":"x"}"#,
            r#""apiKeySource":"none""#,
            r#""apiKeySource":"apiKeyHelper""#,
            r#""apiKeySource":"/login managed key""#,
            "token_type: access_token",
            "auth_method=client-credentials",
            "secret: undefined",
            "api_key: <your-api-key>",
            "API_KEY=%OPENAI_API_KEY%",
            "credentials: {{ secrets.deploy }}",
            "password: DB_PASSWORD",
        ]);
        caught(&[
            (r#""apiKey":"Zq8vLw3TnR5pX2kY""#, "Zq8vLw3TnR5pX2kY"),
            (r#""secret":"HUNTER2_X9abc""#, "HUNTER2_X9abc"),
            ("token: QzXrLpVxNmKcTwBvHj", "QzXrLpVxNmKcTwBvHj"),
            ("password: hunter-two", "hunter-two"),
        ]);
    }
}
