//! `run_session` driving real child processes: small shell-script agents that exit, fail,
//! hang, ignore TERM, leave grandchildren behind, flood their output, or get skipped and
//! aborted. Everything observable (end, exit code, transcript, report, timing) is checked.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pitboss::testing::{
    AgentEvent, AgentOutcome, ClaudeAdapter, CommandAdapter, Controls, CostSource,
    RecordingObserver, SessionEnd, SessionSpec, StopReason, run_session,
};

struct Fixture {
    _dir: tempfile::TempDir,
    worktree: PathBuf,
    session_dir: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let worktree = dir.path().join("wt");
    let session_dir = dir.path().join("session");
    fs::create_dir_all(&worktree).unwrap();
    Fixture {
        worktree,
        session_dir,
        _dir: dir,
    }
}

impl Fixture {
    fn spec(&self, input: &str) -> SessionSpec {
        let mut spec = SessionSpec::new(
            "20261124T100000Z-abcd",
            7,
            "fix-lints",
            &self.worktree,
            &self.session_dir,
            input,
        );
        spec.limits.grace = Duration::from_millis(500);
        spec.limits.result_grace = Duration::from_millis(500);
        spec
    }
}

fn run(spec: &SessionSpec, script: &str) -> (AgentOutcome, RecordingObserver) {
    run_with(spec, script, &Controls::new())
}

fn run_with(
    spec: &SessionSpec,
    script: &str,
    controls: &Controls,
) -> (AgentOutcome, RecordingObserver) {
    let mut obs = RecordingObserver::default();
    let outcome = run_session(spec, &CommandAdapter::new(script), controls, &mut obs).unwrap();
    (outcome, obs)
}

fn transcript(outcome: &AgentOutcome) -> String {
    String::from_utf8_lossy(&fs::read(&outcome.transcript.path).unwrap()).into_owned()
}

/// True once `pid` is gone or a zombie (a container's init may be slow to reap).
fn dead(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn wait_dead(pid: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if dead(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn normal_exit_gets_prompt_env_result_file_and_transcript() {
    let f = fixture();
    let spec = f.spec("the prompt body\nline two\n");
    let script = r#"
        cat > prompt-seen
        echo "seq=$PITBOSS_SEQ prompt=$PITBOSS_PROMPT run=$PITBOSS_RUN_ID"
        echo "pwd=$(pwd)"
        echo "a warning" >&2
        printf '{"summary":"did it","tokens":{"input":5,"output":3,"cache_read":2},"cost_usd":0.01,"model":"m1"}' > "$PITBOSS_RESULT_FILE"
    "#;
    let (out, obs) = run(&spec, script);
    assert_eq!(out.end, SessionEnd::Exited { code: 0 });
    assert_eq!(out.exit_code, Some(0));
    assert!(!out.killed);
    assert_eq!(
        fs::read_to_string(f.worktree.join("prompt-seen")).unwrap(),
        spec.input
    );
    let t = transcript(&out);
    assert!(
        t.contains("seq=7 prompt=fix-lints run=20261124T100000Z-abcd\n"),
        "{t}"
    );
    assert!(
        t.contains(&format!("pwd={}\n", f.worktree.display())),
        "{t}"
    );
    assert!(t.contains("[stderr] a warning\n"), "{t}");
    assert_eq!(out.stderr_tail, "a warning");
    let r = out.report.as_ref().unwrap();
    assert_eq!(r.summary.as_deref(), Some("did it"));
    assert_eq!(
        (r.tokens.input, r.tokens.output, r.tokens.cache_read),
        (5, 3, 2)
    );
    assert_eq!(r.cost_usd, Some(0.01));
    assert_eq!(r.cost_source, CostSource::Reported);
    assert_eq!(r.model.as_deref(), Some("m1"));
    assert_eq!(r.agent_name, "command");
    assert!(!r.is_error);
    assert!(matches!(obs.events[0], AgentEvent::Spawned { .. }));
    // The input file is temporary.
    let leftovers: Vec<_> = fs::read_dir(&f.session_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().contains("input")),
        "{leftovers:?}"
    );
}

#[test]
fn nonzero_exit_is_data_with_the_stderr_tail() {
    let f = fixture();
    let (out, _) = run(&f.spec("x"), "echo working; echo 'fatal: boom' >&2; exit 3");
    assert_eq!(out.end, SessionEnd::Exited { code: 3 });
    assert!(out.report.is_none());
    assert_eq!(out.summary().as_deref(), Some("fatal: boom"));
}

#[test]
fn summary_file_fallback_and_malformed_result_file() {
    let f = fixture();
    let spec = f.spec("x");
    let script = r#"echo 'made things better' > "$PITBOSS_SUMMARY_FILE"; echo '{"tokens": {"input": "many"}}' > "$PITBOSS_RESULT_FILE""#;
    let (out, _) = run(&spec, script);
    assert_eq!(out.end, SessionEnd::Exited { code: 0 });
    let r = out.report.unwrap();
    assert!(r.is_error);
    let err = r.error_text.unwrap();
    assert!(err.contains("malformed result file"), "{err}");
    assert!(
        err.contains(&spec.files.result.display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("`tokens.input` is the string \"many\""),
        "{err}"
    );
    assert_eq!(r.summary.as_deref(), Some("made things better"));
    assert!(
        out.parse_warnings
            .iter()
            .any(|w| w.contains("malformed result file"))
    );
}

#[test]
fn stale_result_files_from_an_earlier_session_are_removed() {
    let f = fixture();
    let spec = f.spec("x");
    fs::create_dir_all(&f.session_dir).unwrap();
    fs::write(&spec.files.result, r#"{"summary":"stale"}"#).unwrap();
    fs::write(&spec.files.skip, "").unwrap();
    let (out, _) = run(&spec, "true");
    assert_eq!(out.end, SessionEnd::Exited { code: 0 });
    assert!(out.report.is_none());
}

#[test]
fn timeout_sends_term_to_the_group() {
    let f = fixture();
    let spec = f.spec("x").with_timeout(Duration::from_millis(400));
    let start = Instant::now();
    let (out, obs) = run(&spec, "echo started; sleep 100");
    assert_eq!(out.end, SessionEnd::TimedOut);
    assert!(!out.killed, "sleep dies on TERM: {out:?}");
    assert!(out.duration_ms < 1500, "{out:?}");
    assert_eq!(out.signal, Some(15));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(obs.events.contains(&AgentEvent::Stopping {
        reason: StopReason::TimedOut
    }));
}

#[test]
fn an_agent_ignoring_term_is_killed_after_the_grace_period() {
    let f = fixture();
    let mut spec = f.spec("x").with_timeout(Duration::from_millis(300));
    spec.limits.grace = Duration::from_millis(700);
    let start = Instant::now();
    let (out, obs) = run(
        &spec,
        "trap '' TERM; echo stubborn; while :; do sleep 0.05; done",
    );
    let took = start.elapsed();
    assert_eq!(out.end, SessionEnd::TimedOut);
    assert!(out.killed);
    assert_eq!(out.signal, Some(9));
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert!(obs.events.contains(&AgentEvent::Killed));
    assert!(transcript(&out).contains("stubborn"));
}

#[test]
fn a_background_grandchild_holding_stdout_does_not_outlive_the_session() {
    let f = fixture();
    let start = Instant::now();
    let (out, obs) = run(
        &f.spec("x"),
        "sleep 1000 & echo \"grandchild $!\"; echo done",
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.end, SessionEnd::Exited { code: 0 });
    assert!(obs.events.contains(&AgentEvent::Stopping {
        reason: StopReason::LeftoverDescendants
    }));
    let t = transcript(&out);
    let pid: u32 = t
        .lines()
        .find_map(|l| l.strip_prefix("grandchild "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait_dead(pid), "grandchild {pid} still alive");
}

#[test]
fn a_descendant_that_left_the_group_cannot_hang_the_session() {
    let f = fixture();
    let mut spec = f.spec("x");
    spec.limits.drain = Duration::from_millis(300);
    let start = Instant::now();
    // The escapee writes its pid only once it has left the group.
    let script = "setsid sh -c 'echo $$ > esc.pid; exec sleep 1000' &
        while [ ! -s esc.pid ]; do sleep 0.01; done; echo \"escapee $(cat esc.pid)\"";
    let (out, _) = run(&spec, script);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.end, SessionEnd::Exited { code: 0 });
    // In a cgroup of its own the session ends the escapee ("… left running outside its process
    // group"); without one it stops reading ("… outside the agent's process group kept …").
    assert!(
        out.parse_warnings
            .iter()
            .any(|w| w.contains("outside") && w.contains("process group")),
        "{:?}",
        out.parse_warnings
    );
    // Clean up the process we could not reach.
    let t = transcript(&out);
    let pid: i32 = t
        .lines()
        .find_map(|l| l.strip_prefix("escapee "))
        .unwrap()
        .parse()
        .unwrap();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[test]
fn skip_file_ends_the_session_as_skipped() {
    let f = fixture();
    let spec = f.spec("x");
    let skip = spec.files.skip.clone();
    let toucher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        fs::write(skip, "").unwrap();
    });
    let start = Instant::now();
    let (out, obs) = run(&spec, "echo working; sleep 100");
    toucher.join().unwrap();
    assert_eq!(out.end, SessionEnd::Skipped);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(obs.events.contains(&AgentEvent::Stopping {
        reason: StopReason::Skipped
    }));
}

#[test]
fn an_agent_can_skip_itself() {
    let f = fixture();
    let (out, _) = run(
        &f.spec("x"),
        r#"echo 'nothing to do' > "$PITBOSS_SUMMARY_FILE"; touch "$PITBOSS_SKIP_FILE""#,
    );
    assert_eq!(out.end, SessionEnd::Skipped);
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(out.summary().as_deref(), Some("nothing to do"));
}

#[test]
fn abort_and_skip_flags_end_the_group() {
    for (abort, want) in [(true, SessionEnd::Aborted), (false, SessionEnd::Skipped)] {
        let f = fixture();
        let controls = Controls::new();
        let c = controls.clone();
        let setter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            if abort {
                c.request_abort()
            } else {
                c.request_skip()
            }
        });
        let start = Instant::now();
        let (out, _) = run_with(&f.spec("x"), "sleep 100 & sleep 100", &controls);
        setter.join().unwrap();
        assert_eq!(out.end, want);
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn secrets_never_reach_the_transcript_or_the_summary() {
    let f = fixture();
    let mut spec = f.spec("x");
    let key = "sk-ant-api03-TESTKEY0123456789abcdefghij";
    spec.env.insert("ANTHROPIC_API_KEY".into(), key.into());
    spec.redact_env
        .insert("DEPLOY_PASSWORD".into(), "correct horse battery".into());
    let script = r#"
        echo "key is $ANTHROPIC_API_KEY"
        echo "pw is correct horse battery" >&2
        echo "openai sk-proj-abcdefghijklmnop0123456789 and task-list stays"
        echo "summary with $ANTHROPIC_API_KEY" > "$PITBOSS_SUMMARY_FILE"
    "#;
    let (out, _) = run(&spec, script);
    let t = transcript(&out);
    assert!(
        !t.contains(key) && !t.contains("correct horse") && !t.contains("sk-proj-abc"),
        "{t}"
    );
    assert!(
        t.contains("key is [REDACTED]") && t.contains("task-list stays"),
        "{t}"
    );
    assert!(!out.stderr_tail.contains("correct horse"));
    assert_eq!(out.summary().as_deref(), Some("summary with [REDACTED]"));
}

#[test]
fn a_missing_program_is_not_found_naming_the_config_key() {
    let f = fixture();
    let adapter = ClaudeAdapter::new("/nonexistent/bin/claude");
    let err = run_session(
        &f.spec("x"),
        &adapter,
        &Controls::new(),
        &mut RecordingObserver::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/bin/claude") && msg.contains("agent.binary"),
        "{msg}"
    );
}

fn fake_claude(f: &Fixture, body: &str) -> ClaudeAdapter {
    let path = f.session_dir.parent().unwrap().join("fake-claude");
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    let mut perms = fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(&path, perms).unwrap();
    ClaudeAdapter::new(path)
}

fn claude_line(path: &Path) -> String {
    // The last line of a recorded session: its `result` event.
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string()
}

#[test]
fn an_agent_lingering_after_its_result_is_ended() {
    let f = fixture();
    let result = claude_line(Path::new("tests/fixtures/claude/write-and-commit.jsonl"));
    let adapter = fake_claude(
        &f,
        &format!("cat > /dev/null\necho '{result}'\nexec sleep 100"),
    );
    let start = Instant::now();
    let out = run_session(
        &f.spec("x"),
        &adapter,
        &Controls::new(),
        &mut RecordingObserver::default(),
    )
    .unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(out.end, SessionEnd::EndedAfterResult);
    assert!(out.end.is_clean_exit());
    let r = out.report.unwrap();
    assert!(!r.is_error);
    assert!(r.cost_usd.is_some());
}

#[test]
fn claude_without_a_result_is_an_error_with_stderr() {
    let f = fixture();
    let adapter = fake_claude(
        &f,
        "echo '{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s1\"}'\necho 'not json at all'\necho 'Error: connection refused' >&2\nexit 1",
    );
    let out = run_session(
        &f.spec("x"),
        &adapter,
        &Controls::new(),
        &mut RecordingObserver::default(),
    )
    .unwrap();
    assert_eq!(out.end, SessionEnd::Exited { code: 1 });
    let r = out.report.unwrap();
    assert!(r.is_error);
    let err = r.error_text.unwrap();
    assert!(
        err.contains("without a final result") && err.contains("connection refused"),
        "{err}"
    );
    assert_eq!(r.agent_session_id.as_deref(), Some("s1"));
    assert!(
        out.parse_warnings.iter().any(|w| w.contains("not JSON")),
        "{:?}",
        out.parse_warnings
    );
}

#[test]
fn an_agent_that_closes_its_output_early_is_still_waited_for() {
    let f = fixture();
    let start = Instant::now();
    let (out, _) = run(
        &f.spec("x"),
        "echo bye; exec >/dev/null 2>&1; sleep 0.5; echo late > late.txt",
    );
    assert_eq!(out.end, SessionEnd::Exited { code: 0 });
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert!(f.worktree.join("late.txt").exists());
    assert_eq!(transcript(&out), "bye\n");
}

#[test]
fn a_timeout_after_the_result_still_counts_as_finished() {
    let f = fixture();
    let result = claude_line(Path::new("tests/fixtures/claude/write-and-commit.jsonl"));
    let adapter = fake_claude(
        &f,
        &format!("cat > /dev/null\necho '{result}'\nexec sleep 100"),
    );
    let mut spec = f.spec("x").with_timeout(Duration::from_millis(300));
    spec.limits.result_grace = Duration::from_secs(60);
    let start = Instant::now();
    let out = run_session(
        &spec,
        &adapter,
        &Controls::new(),
        &mut RecordingObserver::default(),
    )
    .unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(out.end, SessionEnd::EndedAfterResult);
}
