//! The built-in demo agent as a real child process: the `git-pitboss` binary re-invoked as
//! `agent-demo` through `run_session`, in a temporary git repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pitboss::testing::{
    Adapter, Controls, CostSource, DemoAdapter, RecordingObserver, SessionEnd, SessionSpec,
    run_session,
};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn adapter() -> DemoAdapter {
    DemoAdapter {
        exe: PathBuf::from(env!("CARGO_BIN_EXE_git-pitboss")),
    }
}

#[test]
fn the_demo_agent_runs_as_a_child_process_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let wt = dir.path().join("wt");
    fs::create_dir_all(&wt).unwrap();
    git(&wt, &["init", "-q"]);
    fs::write(wt.join("README.md"), "# Tiny\n\nTODO: write docs\n").unwrap();
    git(&wt, &["add", "."]);
    git(&wt, &["commit", "-q", "-m", "init"]);
    let head0 = git(&wt, &["rev-parse", "HEAD"]);

    let session_dir = dir.path().join("session");
    let prompt = "Write the docs.\n\ndemo-target: README.md\n";
    let mut heads = Vec::new();
    for seq in 1..=2 {
        let spec = SessionSpec::new(
            "20261124T100000Z-d3m0",
            seq,
            "docs",
            &wt,
            &session_dir,
            prompt,
        );
        let mut obs = RecordingObserver::default();
        let out = run_session(&spec, &adapter(), &Controls::new(), &mut obs).unwrap();
        assert_eq!(out.end, SessionEnd::Exited { code: 0 }, "{out:#?}");
        let r = out.report.as_ref().unwrap();
        assert_eq!(r.agent_name, "demo");
        assert_eq!(r.cost_source, CostSource::None);
        assert_eq!(r.model.as_deref(), Some("pitboss-demo"));
        assert!(r.tokens.input > 900 && r.tokens.output > 0);
        assert!(
            r.summary
                .as_deref()
                .unwrap()
                .starts_with(&format!("Demo session {seq}: "))
        );
        let transcript = fs::read_to_string(&out.transcript.path).unwrap();
        assert!(transcript.contains(&format!(
            "demo agent: session {seq} of run 20261124T100000Z-d3m0"
        )));
        heads.push(git(&wt, &["rev-parse", "HEAD"]));
    }
    // Session 1 committed by itself; session 2 left its change for pitboss.
    assert_ne!(heads[0], head0);
    assert_eq!(heads[1], heads[0]);
    assert_eq!(git(&wt, &["status", "--porcelain"]), "M README.md");
    let pad = fs::read_to_string(session_dir.join("scratchpad.md")).unwrap();
    assert_eq!(pad.lines().count(), 2);
}

#[test]
fn the_hidden_subcommand_is_not_in_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("agent-demo"), "{help}");
    assert_eq!(adapter().name(), "demo");
}
