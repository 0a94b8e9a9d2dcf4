//! The edges of `git pitboss grind` a user meets through git: budgets checked before a wait,
//! `--until`'s minimum, the session cost cap, the agent flags, refusals at start, help texts.
//! Every test runs `git pitboss …` as users do.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

pub(crate) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub(crate) fn write_exe(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

pub(crate) fn prompt(sb: &Sandbox, name: &str, extra: &str) {
    let dir = sb.repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.md")),
        format!("---\nname: {name}\ndescription: the {name} prompt\n{extra}---\nDo it.\n"),
    )
    .unwrap();
}

pub(crate) fn config(sb: &Sandbox, text: &str) {
    std::fs::create_dir_all(sb.repo.join(".pitboss")).unwrap();
    std::fs::write(sb.repo.join(".pitboss/config.toml"), text).unwrap();
}

/// A stand-in for Claude Code that prints a recorded stream (`$FAKE_STREAM`) and exits.
pub(crate) fn fake_claude(sb: &Sandbox, stream: &Path) -> PathBuf {
    let bin = sb.path("claude");
    write_exe(
        &bin,
        &format!(
            "#!/bin/sh\n[ \"$1\" = --version ] && {{ echo '2.1.197 (Claude Code)'; exit 0; }}\ncat >/dev/null\ncat '{}'\n",
            stream.display()
        ),
    );
    bin
}

/// Runs `git pitboss <args>` to its end, killing it (and failing) after `limit`. It runs in a
/// process group of its own, so the kill reaches git's child `git-pitboss` and its agent too.
pub(crate) fn bounded(
    sb: &Sandbox,
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = sb.git_pitboss();
    cmd.args(args)
        .envs(env.iter().copied())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn git pitboss");
    let pid = child.id();
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            panic!(
                "git pitboss {args:?} still running after {:?}",
                start.elapsed()
            );
        }
    }
}

/// After a usage limit, no wait when no session could follow it: here the one iteration is
/// spent, so the run stops at once instead of sleeping until the reset (in 2027).
#[test]
fn a_usage_limit_with_the_iterations_spent_does_not_wait() {
    let sb = Sandbox::new();
    prompt(&sb, "work", "");
    let bin = fake_claude(&sb, &fixture("claude/usage-limit.jsonl"));
    config(
        &sb,
        &format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n",
            bin.display()
        ),
    );
    let out = bounded(
        &sb,
        &["grind", "--max-iterations", "1"],
        &[("IS_SANDBOX", "1")],
        Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert!(!err.contains("waiting until"), "{err}");
    assert!(
        err.contains("iteration budget reached (1 session)"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1), "{err}");
}

/// The same with the cost budget spent by the limited session itself (and `--until` past the
/// reset): the run stops with the cost budget's reason, no wait.
#[test]
fn a_usage_limit_with_the_cost_spent_does_not_wait() {
    let sb = Sandbox::new();
    prompt(&sb, "work", "");
    let stream = std::fs::read_to_string(fixture("claude/usage-limit.jsonl"))
        .unwrap()
        .replace("\"total_cost_usd\":0", "\"total_cost_usd\":5");
    std::fs::write(sb.path("stream.jsonl"), stream).unwrap();
    let bin = fake_claude(&sb, &sb.path("stream.jsonl"));
    config(
        &sb,
        &format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n",
            bin.display()
        ),
    );
    let out = bounded(
        &sb,
        &[
            "grind",
            "--until",
            "2030-01-01T00:00:00Z",
            "--max-cost",
            "1",
        ],
        &[("IS_SANDBOX", "1")],
        Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert!(!err.contains("waiting until"), "{err}");
    assert!(
        err.contains("cost budget reached ($5.0000 of $1.00)"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(3), "{err}");
}

/// `--until` with less than the minimum useful time left starts no session: the run stops
/// with the time budget as its reason, and records no `timeout`.
#[test]
fn until_leaves_no_session_too_short_to_be_useful() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    let until = (chrono::Utc::now() + chrono::Duration::seconds(20))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let args = [
        "grind",
        "--prompts-dir",
        dir.to_str().unwrap(),
        "--until",
        &until,
    ];
    let out = bounded(&sb, &args, &[], Duration::from_secs(30));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("a budget is already spent: time budget reached"),
        "{err}"
    );
    assert_eq!(
        sb.pitboss_refs(),
        "",
        "a run that could start no session was made"
    );
    // The key lowers the minimum: then sessions run until it is reached.
    let cfg = std::fs::read_to_string(sb.repo.join(".pitboss/config.toml")).unwrap();
    config(
        &sb,
        &format!("{cfg}[grind.budgets]\nmin_session_seconds = 5\n"),
    );
    let until = (chrono::Utc::now() + chrono::Duration::seconds(8))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let args = [
        "grind",
        "--prompts-dir",
        dir.to_str().unwrap(),
        "--until",
        &until,
    ];
    let out = bounded(&sb, &args, &[("AGENT_SLEEP", "1")], Duration::from_secs(30));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("time budget reached"), "{err}");
    let recs = sb.records(&sb.only_run());
    assert!(!recs.is_empty());
    assert!(
        recs.iter().all(|r| r["status"] == "ok"),
        "no session cut short: {recs:?}"
    );
}

/// `--agent command --agent-cmd '…'`, the form the docs show, runs the command.
#[test]
fn agent_command_with_agent_cmd_is_accepted() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("commit", "")]);
    std::fs::remove_file(sb.repo.join(".pitboss/config.toml")).unwrap();
    let agent_cmd = format!("sh {}", sb.path("agent.sh").display());
    let out = bounded(
        &sb,
        &[
            "grind",
            "--prompts-dir",
            dir.to_str().unwrap(),
            "--agent",
            "command",
            "--agent-cmd",
            &agent_cmd,
            "--max-iterations",
            "1",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = sb.only_run();
    assert_eq!(sb.records(&run)[0]["status"], "ok");
    // The run's last commit says it finished once, and counts one session as one.
    assert_eq!(
        sb.git(&[
            "log",
            "-1",
            "--format=%s",
            &format!("refs/pitboss/grind/{run}")
        ]),
        format!("run {run} finished (iteration budget reached (1 session))\n")
    );
    // Another backend with --agent-cmd is a contradiction, said as such.
    let out = bounded(
        &sb,
        &[
            "grind",
            "--dry-run",
            "--agent",
            "claude",
            "--agent-cmd",
            "x",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("drop --agent, or give --agent command"));
}

/// A `--until` in the past is refused with an example that is not in the past itself.
#[test]
fn the_until_hint_is_dated_in_the_future() {
    let sb = Sandbox::new();
    let out = bounded(
        &sb,
        &["grind", "--until", "2020-01-01T00:00:00Z"],
        &[],
        Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    let hint = err.lines().find(|l| l.starts_with("hint:")).unwrap();
    let example = hint.rsplit(' ').next().unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(example).expect(hint);
    assert!(t > chrono::Utc::now(), "{hint}");
}

/// A stand-in for Claude Code that streams one assistant message's usage (a million input
/// tokens of `house-model`), then works on for half a minute.
const STREAMING_CLAUDE: &str = r#"#!/bin/sh
[ "$1" = --version ] && { echo '2.1.197 (Claude Code)'; exit 0; }
echo "$@" > "$ARGS_FILE"
cat >/dev/null
echo '{"type":"system","subtype":"init","session_id":"s1","model":"house-model","claude_code_version":"2.1.197"}'
echo '{"type":"assistant","message":{"id":"m1","model":"house-model","role":"assistant","content":[{"type":"text","text":"working"}],"usage":{"input_tokens":1000000,"output_tokens":10}}}'
echo "partial" > partial.txt
exec sleep 30
"#;

/// `max_session_cost_usd` cuts a session when the usage its agent streams passes the cap; the
/// CLI's own budget flag is passed too.
#[test]
fn a_session_is_cut_at_its_cost_cap() {
    let sb = Sandbox::new();
    prompt(&sb, "work", "");
    let bin = sb.path("claude");
    write_exe(&bin, STREAMING_CLAUDE);
    config(
        &sb,
        &format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n\
             [grind.budgets]\nmax_session_cost_usd = 0.5\n\
             [budgets.pricing.\"house-model\"]\ninput = 1\noutput = 1\n",
            bin.display()
        ),
    );
    let args_file = sb.path("args");
    let t = Instant::now();
    let out = bounded(
        &sb,
        &["grind", "--max-iterations", "1"],
        &[
            ("IS_SANDBOX", "1"),
            ("ARGS_FILE", args_file.to_str().unwrap()),
        ],
        Duration::from_secs(40),
    );
    let err = stderr(&out);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "not cut: {:?}\n{err}",
        t.elapsed()
    );
    assert!(
        err.contains("stopped at its cost cap: $1.0000 spent of $0.5000"),
        "{err}"
    );
    let run = sb.only_run();
    let r = &sb.records(&run)[0];
    assert_eq!(r["status"], "timeout", "{r}");
    assert!(r["summary"].as_str().unwrap().contains("cost cap"), "{r}");
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert!(args.contains("--max-budget-usd 0.5000"), "{args}");
    // The work is saved as a patch, not landed.
    let patch = sb.git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:patches/00/session-0001.patch"),
    ]);
    assert!(patch.contains("partial.txt"), "{patch}");
}

/// The `command` backend can neither stream usage nor take a budget flag: the key is refused
/// before anything is written, by the dry run and the real run alike.
#[test]
fn a_cost_cap_the_backend_cannot_enforce_is_refused_at_start() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("commit", "")]);
    let cfg = std::fs::read_to_string(sb.repo.join(".pitboss/config.toml")).unwrap();
    config(
        &sb,
        &format!("{cfg}[grind.budgets]\nmax_session_cost_usd = 0.5\n"),
    );
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec!["grind", "--prompts-dir", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = bounded(&sb, &args, &[], Duration::from_secs(30));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{extra:?}: {err}");
        assert!(
            err.contains("max_session_cost_usd") && err.contains("cannot be enforced"),
            "{extra:?}: {err}"
        );
        assert_eq!(sb.pitboss_refs(), "", "{extra:?} wrote a run");
    }
}

/// As root, Claude Code in bypassPermissions without IS_SANDBOX fails every session: grind
/// refuses at start (exit 4, nothing written), and the dry run and `agents` say the same.
#[test]
#[cfg_attr(
    pitboss_lacks = "root",
    ignore = "only meaningful as root (CI runs as root)"
)]
fn root_with_bypass_permissions_and_no_is_sandbox_is_refused_at_start() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "built as root, run as another user: `touch build.rs` to look again"
    );
    let sb = Sandbox::new();
    prompt(&sb, "work", "");
    let bin = fake_claude(&sb, &fixture("claude/write-and-commit.jsonl"));
    config(
        &sb,
        &format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n",
            bin.display()
        ),
    );
    let run = |args: &[&str]| {
        let mut cmd = sb.git_pitboss();
        cmd.args(args).env_remove("IS_SANDBOX");
        run_with_stdin(&mut cmd, "")
    };
    for args in [
        &["grind", "--max-iterations", "1"][..],
        &["grind", "--dry-run"],
    ] {
        let out = run(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {err}");
        assert!(
            err.contains("refuses permission mode bypassPermissions as root")
                && err.contains("IS_SANDBOX=1"),
            "{args:?}: {err}"
        );
        assert_eq!(sb.pitboss_refs(), "", "{args:?} wrote something");
    }
    let out = run(&["agents"]);
    assert!(
        stdout(&out).contains("refuses permission mode bypassPermissions as root"),
        "{}",
        stdout(&out)
    );
    assert_eq!(out.status.code(), Some(1));
    // With IS_SANDBOX=1 it runs.
    let mut cmd = sb.git_pitboss();
    cmd.args(["grind", "--dry-run"]).env("IS_SANDBOX", "1");
    let out = run_with_stdin(&mut cmd, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A relative agent command, hook or verify script must be in the base commit (sessions run in
/// a worktree of it): the dry run and the real run name the file and say why.
#[test]
fn relative_scripts_missing_from_the_base_commit_are_named_at_start() {
    let sb = Sandbox::new();
    prompt(&sb, "work", "verify: true\n");
    std::fs::create_dir_all(sb.repo.join("hooks")).unwrap();
    write_exe(&sb.repo.join("agent.sh"), "#!/bin/sh\necho hi\n");
    write_exe(&sb.repo.join("hooks/pre.sh"), "#!/bin/sh\nexit 0\n");
    config(
        &sb,
        "[agent]\nbackend = \"command\"\ncommand = \"sh agent.sh\"\n\
         [grind]\nverify_command = \"./scripts/check.sh\"\n\
         [grind.hooks]\npre_session = \"hooks/pre.sh\"\n",
    );
    for extra in [&["--dry-run"][..], &["--max-iterations", "1"]] {
        let mut args = vec!["grind"];
        args.extend_from_slice(extra);
        let out = run_with_stdin(sb.git_pitboss().args(&args), "");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{extra:?}: {err}");
        for needle in [
            "the agent command names agent.sh, which is in your checkout but not in the base commit",
            "the pre_session hook names hooks/pre.sh, which is in your checkout but not in the base commit",
            "verify_command names ./scripts/check.sh, which does not exist in the base commit",
        ] {
            assert!(err.contains(needle), "{extra:?}: {needle:?} not in\n{err}");
        }
        assert_eq!(sb.pitboss_refs(), "", "{extra:?} wrote something");
    }
    // Committed, they are found.
    std::fs::create_dir_all(sb.repo.join("scripts")).unwrap();
    write_exe(&sb.repo.join("scripts/check.sh"), "#!/bin/sh\nexit 0\n");
    sb.git(&["add", "agent.sh", "hooks", "scripts"]);
    sb.git(&["commit", "-q", "-m", "scripts"]);
    let out = run_with_stdin(sb.git_pitboss().args(["grind", "--dry-run"]), "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The help texts say what the binary does.
#[test]
fn help_texts_are_true() {
    let sb = Sandbox::new();
    let help = stdout(&run_with_stdin(
        sb.git_pitboss().args(["help", "grind"]),
        "",
    ));
    assert!(!help.contains("only --dry-run is available"), "{help}");
    assert!(
        help.contains("--dry-run shows exactly what a run would"),
        "{help}"
    );
    // --quiet with --dry-run prints the reasons a run could not start, and nothing otherwise.
    assert!(
        help.contains("else only the reasons it could not"),
        "{help}"
    );
    let out = run_with_stdin(sb.git_pitboss().args(["grind", "--dry-run", "--quiet"]), "");
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("error: "), "{}", stderr(&out));
    // The scaffolded config names every backend --agent accepts.
    run_with_stdin(sb.git_pitboss().args(["init"]), "");
    let cfg = std::fs::read_to_string(sb.repo.join(".pitboss/config.toml")).unwrap();
    let line = cfg
        .lines()
        .find(|l| l.contains("claude |"))
        .expect("the backend comment");
    for b in ["claude", "codex", "gemini", "aider", "command", "demo"] {
        assert!(line.contains(b), "{b} missing from {line:?}");
        let out = run_with_stdin(
            sb.git_pitboss()
                .args(["grind", "--dry-run", "--quiet", "--agent", b]),
            "",
        );
        assert_ne!(out.status.code(), Some(64), "--agent {b}: {}", stderr(&out));
    }
}

/// `git pitboss --help` goes through git to `man git-pitboss`: the pages `git pitboss man`
/// writes are found, through MANPATH or beside the bin directory on PATH.
#[test]
#[cfg_attr(
    pitboss_lacks = "man",
    ignore = "man not installed (apt-get install man-db)"
)]
fn git_pitboss_help_opens_the_generated_man_page() {
    if std::process::Command::new("man")
        .arg("-w")
        .arg("man")
        .output()
        .is_err()
    {
        panic!("`man` is not installed: .ci/run installs man-db");
    }
    let sb = Sandbox::new();
    let pages = sb.path("man");
    let out = run_with_stdin(
        sb.git_pitboss()
            .args(["man", "--dir", pages.join("man1").to_str().unwrap()]),
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(pages.join("man1/git-pitboss.1").is_file());
    assert!(pages.join("man1/git-pitboss-grind.1").is_file());
    let help = |cmd: &mut std::process::Command| {
        cmd.env("MANPATH", &pages)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100");
        run_with_stdin(cmd, "")
    };
    let out = help(sb.git_pitboss().arg("--help"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("git-pitboss") && text.contains("Run coding agents in an unattended loop"),
        "{text}"
    );
    let out = help(sb.git_pitboss().args(["grind", "--help"]));
    assert!(
        stdout(&out).contains("--max-iterations"),
        "{}",
        stdout(&out)
    );
}

/// Hook and verify output goes into the session's transcript, in marked sections; the summary
/// stays one short line that points there.
#[test]
fn verify_and_hook_output_go_into_the_transcript_not_the_summary() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("commit", "verify: true\n")]);
    let cfg = std::fs::read_to_string(sb.repo.join(".pitboss/config.toml")).unwrap();
    config(
        &sb,
        &format!(
            "{cfg}[grind]\nverify_command = \"for i in 1 2 3; do echo VERIFY-SAYS-$i; done; exit 1\"\n\
             [grind.hooks]\npre_session = \"echo PRE-HOOK-SAYS\"\n"
        ),
    );
    let args = [
        "grind",
        "--prompts-dir",
        dir.to_str().unwrap(),
        "--max-iterations",
        "1",
    ];
    let out = bounded(&sb, &args, &[], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let run = sb.only_run();
    let r = &sb.records(&run)[0];
    assert_eq!(r["status"], "error");
    let summary = r["summary"].as_str().unwrap();
    assert!(!summary.contains("VERIFY-SAYS-1"), "{summary}");
    assert_eq!(summary.lines().count(), 1, "{summary}");
    assert!(summary.contains("transcript"), "{summary}");
    let t = stdout(&run_with_stdin(
        sb.git_pitboss().args(["show", &run, "1", "--transcript"]),
        "",
    ));
    assert!(t.contains("agent: session 1 prompt commit"), "{t}");
    assert!(
        t.contains("==== pitboss: verify_command `for i in 1 2 3; do echo VERIFY-SAYS-$i; done; exit 1` exited with code 1 ====\nVERIFY-SAYS-1\nVERIFY-SAYS-2\nVERIFY-SAYS-3\n==== end of verify_command output ====\n"),
        "{t}"
    );
    assert!(
        t.contains("==== pitboss: pre_session hook `echo PRE-HOOK-SAYS` exited with code 0 ====\nPRE-HOOK-SAYS\n"),
        "{t}"
    );
}

/// A pre-session hook that fails keeps the agent from starting: the session is an `error` whose
/// summary says which hook failed and how, in words of its own (not an I/O error), and the
/// hook's output is in the transcript.
#[test]
fn a_failing_pre_session_hook_is_an_error_and_the_agent_never_starts() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("commit", "")]);
    let cfg = std::fs::read_to_string(sb.repo.join(".pitboss/config.toml")).unwrap();
    config(
        &sb,
        &format!("{cfg}[grind.hooks]\npre_session = \"echo PRE-FAILS; exit 3\"\n"),
    );
    let args = [
        "grind",
        "--prompts-dir",
        dir.to_str().unwrap(),
        "--max-iterations",
        "1",
    ];
    let out = bounded(&sb, &args, &[], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let run = sb.only_run();
    let r = &sb.records(&run)[0];
    assert_eq!(r["status"], "error");
    assert_eq!(
        r["summary"],
        "the pre_session hook `echo PRE-FAILS; exit 3` exited with code 3: see its output in the \
         session's transcript"
    );
    assert_eq!(r["commit"], serde_json::Value::Null);
    let t = stdout(&run_with_stdin(
        sb.git_pitboss().args(["show", &run, "1", "--transcript"]),
        "",
    ));
    assert!(!t.contains("agent: session 1"), "{t}");
    assert!(
        t.contains("==== pitboss: pre_session hook `echo PRE-FAILS; exit 3` exited with code 3 ====\nPRE-FAILS\n"),
        "{t}"
    );
}

/// `rm <run> --remote` without a name uses the default remote, as `ls --remote` and the other
/// commands do.
#[test]
fn rm_remote_without_a_name_uses_the_default_remote() {
    let bare = crate::support::remote::Bare::new();
    let sb = Sandbox::new();
    sb.git(&["remote", "add", "origin", &bare.path_url()]);
    sb.record_session(RUN, "p", 1);
    sb.ok(&["push"], "");
    assert!(!bare.runs().is_empty());
    let out = run_with_stdin(sb.git_pitboss().args(["rm", RUN, "--remote"]), "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("deleted run {RUN} on origin")),
        "{err}"
    );
    assert!(bare.runs().is_empty(), "{}", bare.runs());
}
