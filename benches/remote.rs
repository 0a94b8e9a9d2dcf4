//! Sharing benchmark (the figures the sharing issue names): `git pitboss push` of 100 runs of
//! 100 sessions each to an empty bare remote (one `git push`; target under 5 s), a second push
//! with nothing new (no pack transfer; target under 1 s), a `fetch` of all of it into a fresh
//! clone, and a fetch with nothing new. Through the real binary, with real git.
//!
//! Run with `cargo bench --bench remote` (add `-- --quick` for 20 runs of 50 sessions).

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::secs;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pitboss::testing::{
    FixedClock, OsEntropy, Repo, RunId, RunMeta, RunState, RunStore, SessionRecord, SessionStatus,
    Tokens, TranscriptSource,
};

fn record(seq: u64) -> SessionRecord {
    let t = chrono::DateTime::parse_from_rfc3339("2026-04-30T18:05:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let line = serde_json::json!({
        "seq": seq, "run_id": "", "prompt": "fp-hunter", "status": "ok",
        "started_at": t.to_rfc3339(), "ended_at": (t + chrono::Duration::seconds(90)).to_rfc3339(),
        "summary": format!("session {seq}: fixed the foo bug in bar.rs"),
        "commit": "abc1234000000000000000000000000000000001",
        "cost_usd": 0.0123, "transcript_path": "",
    });
    let mut r = pitboss::testing::parse_record(&line.to_string()).unwrap();
    r.usage.tokens = Tokens {
        input: 1000,
        output: 500,
        ..Default::default()
    };
    r.status = SessionStatus::Ok;
    r
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the binary in `dir` and returns how long it took and what it printed on stderr.
fn pitboss(dir: &Path, args: &[&str]) -> (Duration, String) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = start.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "git pitboss {args:?}: {err}");
    (took, err)
}

fn new_repo(dir: &Path) {
    git(dir, &["init", "-q"]);
    git(dir, &["config", "user.name", "Bench"]);
    git(dir, &["config", "user.email", "bench@example.com"]);
    git(dir, &["config", "gc.auto", "0"]);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, sessions) = if quick { (20, 50) } else { (100, 100) };
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    std::fs::create_dir(&a).unwrap();
    new_repo(&a);
    let bare = tmp.path().join("remote.git");
    git(tmp.path(), &["init", "-q", "--bare", "remote.git"]);
    git(&a, &["remote", "add", "origin", bare.to_str().unwrap()]);

    let repo = Repo::open(&a).unwrap();
    let clock = FixedClock(chrono::Utc::now());
    let entropy = OsEntropy::default();
    let store = RunStore::new(&repo, &clock, &entropy);
    let transcript = "tool: edit src/bar.rs\nassistant: fixed\n".repeat(40);
    let start = Instant::now();
    for r in 0..runs {
        let id = RunId::parse(&format!("20261124T1000{r:02}Z-beef")).unwrap();
        let meta = RunMeta::minimal(id, clock.0);
        let state = RunState::new(clock.0);
        let mut items = (1..=sessions).map(|s| {
            Ok((
                record(s),
                TranscriptSource::Bytes(transcript.as_bytes()),
                None,
            ))
        });
        store
            .import_run(meta, &state, "", &mut items, "bench")
            .unwrap();
    }
    println!(
        "setup: {runs} runs of {sessions} sessions written in {}",
        secs(start.elapsed())
    );

    let (first, _) = pitboss(&a, &["push"]);
    println!(
        "git pitboss push, {runs} runs x {sessions} sessions to an empty bare remote: {} (target < 5 s: {})",
        secs(first),
        if first < Duration::from_secs(5) {
            "ok"
        } else {
            "MISSED"
        }
    );
    let (second, err) = pitboss(&a, &["push"]);
    assert!(err.contains("nothing to push"), "{err}");
    println!(
        "second git pitboss push, nothing new (no git push at all): {} (target < 1 s: {})",
        secs(second),
        if second < Duration::from_secs(1) {
            "ok"
        } else {
            "MISSED"
        }
    );
    let (all, _) = pitboss(&a, &["push", "--all", "--no-branch"]);
    println!(
        "git pitboss push --all, nothing new (one git push, every ref up to date): {}",
        secs(all)
    );

    let b = tmp.path().join("b");
    std::fs::create_dir(&b).unwrap();
    new_repo(&b);
    git(&b, &["remote", "add", "origin", bare.to_str().unwrap()]);
    let (fetch, _) = pitboss(&b, &["fetch"]);
    println!(
        "git pitboss fetch of all of it into an empty repository (checks every commit): {}",
        secs(fetch)
    );
    let (again, _) = pitboss(&b, &["fetch"]);
    println!("second git pitboss fetch, nothing new: {}", secs(again));
}
