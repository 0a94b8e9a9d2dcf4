//! The shapes added for issue 29 and the non-secrets of issue 22, end to end: an agent prints
//! them, `git pitboss grind` stores its transcript, and what is stored says `[REDACTED]` where
//! a secret was and keeps what is no secret (Claude Code's `apiKeySource`, paths, flags).

use std::process::Stdio;
use std::time::Duration;

use crate::support::grind::*;

/// Each secret, and the line the agent prints it in.
const SECRETS: [(&str, &str); 9] = [
    (
        "xapp-1-A0123ABCDEF-1234567890123-abcdef0123456789",
        "slack xapp-1-A0123ABCDEF-1234567890123-abcdef0123456789",
    ),
    (
        "T0123ABCD/B0123ABCD/abcdEFGHijklMNOPqrstUVWX",
        "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdEFGHijklMNOPqrstUVWX",
    ),
    (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIK2LWdWCy",
        "stripe whsec_MfKQ9r8GKYqrTwjUPD8ILPZIK2LWdWCy",
    ),
    (
        "aBcD3fGh1jKlMn0pQrStUvWxYz%2B12%3D",
        "https://a.blob.core.windows.net/c?sv=2022&sig=aBcD3fGh1jKlMn0pQrStUvWxYz%2B12%3D&se=x",
    ),
    (
        "dXNlcjpQYXNzdzByZDEyMw==",
        "Authorization: Basic dXNlcjpQYXNzdzByZDEyMw==",
    ),
    ("Hunter2xyz", "mysql -u root -pHunter2xyz db"),
    (
        "0123456789abcdef0123456789abcdef",
        "dsn https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/2",
    ),
    ("/Tr0ub4dor3", "password=/Tr0ub4dor3"),
    (
        "KLMNOPQRSTuvwx1234",
        "tok \\033[1mghp_ABCDEFGHIJ\\033[0mKLMNOPQRSTuvwx1234",
    ),
];

/// Lines with no secret, kept as they are.
const KEPT: [&str; 4] = [
    r#"{"type":"system","subtype":"init","apiKeySource":"ANTHROPIC_API_KEY"}"#,
    r#"{"apiKeySource":"none"}"#,
    "gcc -pthread -pedantic x.c && find . -print0",
    "password_file=/run/secrets/db_password",
];

#[test]
fn new_shapes_are_redacted_and_plain_values_kept_through_grind() {
    let p = Project::new();
    let mut script = String::new();
    for (_, line) in SECRETS {
        script.push_str(&format!("printf '%b\\n' '{line}'\n"));
    }
    for line in KEPT {
        script.push_str(&format!("printf '%s\\n' '{line}'\n"));
    }
    p.prompt("share", "").agent(&script);
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--json", "--max-iterations", "1"])
        .env("MARKS", p.marks())
        .stdin(Stdio::null());
    let mut g = Grind::spawn(&p, cmd, "grind");
    g.wait(Duration::from_secs(60));
    let out = g.output();
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let t = p.transcript(&p.only_run(), 1);
    for (secret, _) in SECRETS {
        assert!(!t.contains(secret), "{secret} is in the transcript:\n{t}");
    }
    assert!(t.contains("sig=[REDACTED]&se=x"), "{t}");
    assert!(t.contains("-p[REDACTED] db"), "{t}");
    for line in KEPT {
        assert!(t.contains(line), "{line} was changed:\n{t}");
    }
}
