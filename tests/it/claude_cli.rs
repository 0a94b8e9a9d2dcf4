//! The real Claude Code CLI, driven through `run_session` against the mock Messages API
//! (`tests/it/support/mock_anthropic.rs`) on 127.0.0.1: it must write a file with its Write tool,
//! commit it with its Bash tool, and report tokens and `total_cost_usd`; and a usage limit must
//! come back with its reset time.
//!
//! The CLI is looked for at `$PITBOSS_CLAUDE_BIN`, else `.tools/claude/node_modules/.bin/claude`
//! (installed by `.ci/run` with `npm install --prefix .tools/claude
//! @anthropic-ai/claude-code@2.1.197`). When it is absent the tests say so loudly on stderr and
//! pass without running, except under `CI=true`, where they fail. `record_fixtures` (ignored) re-records `tests/fixtures/claude/*.jsonl`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::mock_anthropic::{MockAnthropic, load_script};
use pitboss::testing::{
    AgentEvent, ClaudeAdapter, Controls, CostSource, RecordingObserver, SessionEnd, SessionSpec,
    run_session,
};
use serde_json::Value;

const FAKE_API_KEY: &str = "sk-ant-test-0000000000000000000000000000";
const FAKE_OAUTH_TOKEN: &str = "sk-ant-oat01-test-000000000000000000000000";
/// 2027-01-01T00:00:00Z, the reset time the usage-limit script announces.
const RESET: i64 = 1_798_761_600;

fn claude_bin() -> PathBuf {
    crate::support::cli::real_cli(
        "Claude Code CLI",
        "PITBOSS_CLAUDE_BIN",
        ".tools/claude/node_modules/.bin/claude",
        "npm install --prefix .tools/claude @anthropic-ai/claude-code@2.1.197",
    )
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude")
        .join(name)
}

/// A temporary git repository with one commit, and a HOME for the CLI.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let s = Sandbox { dir };
        fs::create_dir_all(s.repo()).unwrap();
        fs::create_dir_all(s.home().join(".claude")).unwrap();
        s.git(&["init", "-q", "-b", "main"]);
        fs::write(s.repo().join("README.md"), "sandbox\n").unwrap();
        s.git(&["add", "README.md"]);
        s.git(&["commit", "-q", "-m", "initial"]);
        s
    }
    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.repo())
            .envs(git_identity())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// What the CLI needs to talk to the mock only, offline, with a private HOME.
    fn env(&self, mock: &MockAnthropic, auth: (&str, &str)) -> BTreeMap<String, String> {
        let home = self.home().display().to_string();
        let mut env: BTreeMap<String, String> = [
            ("HOME", home.clone()),
            ("CLAUDE_CONFIG_DIR", format!("{home}/.claude")),
            ("ANTHROPIC_BASE_URL", mock.base_url()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("DISABLE_ERROR_REPORTING", "1".into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            // CI runs as root, where bypassPermissions needs this (see agent::claude).
            ("IS_SANDBOX", "1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        env.insert(auth.0.into(), auth.1.into());
        env.extend(git_identity().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }
}

fn git_identity() -> impl Iterator<Item = (&'static str, &'static str)> {
    [
        ("GIT_AUTHOR_NAME", "Agent"),
        ("GIT_AUTHOR_EMAIL", "agent@example.com"),
        ("GIT_COMMITTER_NAME", "Agent"),
        ("GIT_COMMITTER_EMAIL", "agent@example.com"),
    ]
    .into_iter()
}

/// Inherited credentials that would make the CLI talk to the real service instead.
const CREDENTIAL_VARS: [&str; 4] = [
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
];

fn spec(sb: &Sandbox, mock: &MockAnthropic, auth: (&str, &str), input: &str) -> SessionSpec {
    let mut spec = SessionSpec::new(
        "20261124T100000Z-c1a0",
        1,
        "write-hello",
        sb.repo(),
        &sb.dir.path().join("session"),
        input,
    );
    spec.limits.timeout = Some(Duration::from_secs(120));
    spec.env = sb.env(mock, auth);
    spec.env_remove = CREDENTIAL_VARS.iter().map(|s| s.to_string()).collect();
    spec.started_at = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
        .unwrap()
        .into();
    spec
}

#[test]
#[cfg_attr(
    pitboss_lacks = "claude",
    ignore = "Claude Code CLI not installed (see CONTRIBUTING.md)"
)]
fn real_claude_writes_a_file_commits_and_reports_cost() {
    let bin = claude_bin();
    let sb = Sandbox::new();
    let repo = sb.repo().display().to_string();
    let mock = MockAnthropic::start(load_script(
        &fixture("script-write-and-commit.json"),
        &[("WORKTREE", &repo)],
    ))
    .unwrap();
    let spec = spec(
        &sb,
        &mock,
        ("ANTHROPIC_API_KEY", FAKE_API_KEY),
        "Create hello.txt and commit it.\n",
    );
    let mut obs = RecordingObserver::default();
    let out = run_session(&spec, &ClaudeAdapter::new(&bin), &Controls::new(), &mut obs).unwrap();

    let transcript = fs::read_to_string(&out.transcript.path).unwrap();
    assert_eq!(
        out.end,
        SessionEnd::Exited { code: 0 },
        "{out:#?}\n{transcript}"
    );
    let r = out.report.as_ref().unwrap();
    assert!(!r.is_error, "{r:#?}");
    assert_eq!(
        r.summary.as_deref(),
        Some("Wrote hello.txt and committed it.")
    );
    assert_eq!(r.num_turns, Some(3));
    // The three scripted turns: 1200+150+90 in, 40+30+12 out, caches likewise.
    assert_eq!(
        (r.tokens.input, r.tokens.output),
        (1440, 82),
        "{:?}",
        r.tokens
    );
    assert_eq!(
        (r.tokens.cache_write, r.tokens.cache_read),
        (3200, 6200),
        "{:?}",
        r.tokens
    );
    assert!(r.cost_usd.is_some_and(|c| c > 0.0), "{r:?}");
    assert_eq!(r.cost_source, CostSource::Reported);
    assert!(
        r.agent_version.is_some() && r.agent_session_id.is_some(),
        "{r:?}"
    );
    assert_eq!(out.last_tool.as_deref(), Some("Bash"));
    let tools: Vec<&str> = obs
        .events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolUse { name } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(tools, ["Write", "Bash"]);
    assert!(
        obs.events
            .iter()
            .any(|e| matches!(e, AgentEvent::Init { .. }))
    );

    assert_eq!(
        fs::read_to_string(sb.repo().join("hello.txt")).unwrap(),
        "hello from the mock agent\n"
    );
    assert_eq!(
        sb.git(&["log", "-1", "--format=%s"]).trim(),
        "Add hello.txt"
    );
    assert_eq!(sb.git(&["status", "--porcelain"]).trim(), "");
    assert!(!transcript.contains(FAKE_API_KEY));
    let scripted = mock.requests().iter().filter(|r| r.turn.is_some()).count();
    assert_eq!(scripted, 3);
}

#[test]
#[cfg_attr(
    pitboss_lacks = "claude",
    ignore = "Claude Code CLI not installed (see CONTRIBUTING.md)"
)]
fn real_claude_usage_limit_comes_back_with_its_reset_time() {
    let bin = claude_bin();
    let sb = Sandbox::new();
    let reset = RESET.to_string();
    let mock = MockAnthropic::start(load_script(
        &fixture("script-usage-limit.json"),
        &[("RESET", &reset)],
    ))
    .unwrap();
    // A subscription login: only those get the unified usage limits.
    let spec = spec(
        &sb,
        &mock,
        ("CLAUDE_CODE_OAUTH_TOKEN", FAKE_OAUTH_TOKEN),
        "hi\n",
    );
    let out = run_session(
        &spec,
        &ClaudeAdapter::new(&bin),
        &Controls::new(),
        &mut RecordingObserver::default(),
    )
    .unwrap();
    let limit = out
        .rate_limit
        .as_ref()
        .unwrap_or_else(|| panic!("no rate limit: {out:#?}"));
    assert_eq!(limit.until.map(|t| t.timestamp()), Some(RESET));
    assert!(out.report.as_ref().unwrap().is_error);
    let transcript = fs::read_to_string(&out.transcript.path).unwrap();
    assert!(!transcript.contains(FAKE_OAUTH_TOKEN));
}

/// Runs the CLI directly and returns its stdout (the stream-json events).
fn record(
    bin: &Path,
    script: &str,
    vars: &[(&str, &str)],
    auth: (&str, &str),
    extra: &[&str],
) -> String {
    let sb = Sandbox::new();
    let repo = sb.repo().display().to_string();
    let mut vars = vars.to_vec();
    vars.push(("WORKTREE", &repo));
    let mock = MockAnthropic::start(load_script(&fixture(script), &vars)).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args([
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "bypassPermissions",
    ])
    .args(extra)
    .current_dir(sb.repo())
    .envs(sb.env(&mock, auth))
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    for v in CREDENTIAL_VARS {
        if v != auth.0 {
            cmd.env_remove(v);
        }
    }
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"Create hello.txt and commit it.\n",
    )
    .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "re-records tests/fixtures/claude/*.jsonl with the installed CLI"]
fn record_fixtures() {
    let bin = claude_bin();
    let reset = RESET.to_string();
    let api = ("ANTHROPIC_API_KEY", FAKE_API_KEY);
    let oauth = ("CLAUDE_CODE_OAUTH_TOKEN", FAKE_OAUTH_TOKEN);
    struct Run<'a> {
        name: &'a str,
        script: &'a str,
        vars: &'a [(&'a str, &'a str)],
        auth: (&'a str, &'a str),
        extra: &'a [&'a str],
    }
    let runs = [
        Run {
            name: "write-and-commit.jsonl",
            script: "script-write-and-commit.json",
            vars: &[],
            auth: api,
            extra: &[],
        },
        Run {
            name: "max-turns.jsonl",
            script: "script-write-and-commit.json",
            vars: &[],
            auth: api,
            extra: &["--max-turns", "1"],
        },
        Run {
            name: "usage-limit.jsonl",
            script: "script-usage-limit.json",
            vars: &[("RESET", &reset)],
            auth: oauth,
            extra: &[],
        },
        Run {
            name: "api-rate-limit.jsonl",
            script: "script-api-rate-limit.json",
            vars: &[],
            auth: api,
            extra: &[],
        },
    ];
    for Run {
        name,
        script,
        vars,
        auth,
        extra,
    } in runs
    {
        let stdout = record(&bin, script, vars, auth, extra);
        for line in stdout.lines() {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
        }
        fs::write(fixture(name), stdout).unwrap();
        eprintln!("recorded {name}");
    }
}
