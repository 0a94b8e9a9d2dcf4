//! Per-session overhead of `git pitboss grind` (everything but the agent's own run time),
//! measured with the command agent running `true` over 200 sessions, side by side with the
//! plain shell loop users write by hand: run the agent, then `git commit -a --allow-empty`.
//!
//! The grind figure is the median time between consecutive `session_finished` events of
//! `--json` output, read as they arrive; it includes spawning `sh -c true`, which the shell
//! loop pays too. Run with `cargo bench --bench grind` (`-- --quick`: 50 sessions).

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{git, median, ms};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn new_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    git(d.path(), &["init", "-q", "-b", "main"]);
    git(d.path(), &["config", "user.name", "Bench"]);
    git(d.path(), &["config", "user.email", "bench@example.com"]);
    git(d.path(), &["config", "maintenance.auto", "false"]);
    git(d.path(), &["config", "gc.auto", "0"]);
    std::fs::write(d.path().join("README"), "bench\n").unwrap();
    git(d.path(), &["add", "README"]);
    git(d.path(), &["commit", "-q", "-m", "init"]);
    d
}

fn bench_grind(n: u64) -> (Duration, Duration) {
    let repo = new_repo();
    let prompts = repo.path().join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("noop.md"),
        "---\nname: noop\ndescription: does nothing\n---\nDo nothing.\n",
    )
    .unwrap();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .current_dir(repo.path())
        .args([
            "grind",
            "--agent-cmd",
            "true",
            "--max-iterations",
            &n.to_string(),
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut finished = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains(r#""event":"session_finished""#) {
            finished.push(Instant::now());
        }
    }
    assert!(child.wait().unwrap().success());
    let total = start.elapsed();
    assert_eq!(finished.len() as u64, n, "every session finished");
    let gaps: Vec<Duration> = finished.windows(2).map(|w| w[1] - w[0]).collect();
    (median(gaps), total)
}

fn bench_shell_loop(n: u64) -> (Duration, Duration) {
    let repo = new_repo();
    let start = Instant::now();
    let mut times = Vec::new();
    for i in 0..n {
        let t = Instant::now();
        let ok = Command::new("sh")
            .current_dir(repo.path())
            .args(["-c", "true"])
            .stdin(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok);
        git(
            repo.path(),
            &[
                "commit",
                "-q",
                "-a",
                "--allow-empty",
                "-m",
                &format!("iteration {i}"),
            ],
        );
        times.push(t.elapsed());
    }
    (median(times), start.elapsed())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 50 } else { 200 };
    println!("git-pitboss grind overhead benchmark ({n} sessions, agent `true`)");
    let (g, gt) = bench_grind(n);
    let (s, st) = bench_shell_loop(n);
    println!(
        "grind:      median {} per session ({} total, including start and finish)",
        ms(g),
        ms(gt)
    );
    println!(
        "shell loop: median {} per iteration ({} total)",
        ms(s),
        ms(st)
    );
    println!(
        "ratio grind / shell loop = {:.2}; grind median under 25 ms: {}",
        g.as_secs_f64() / s.as_secs_f64(),
        if g < Duration::from_millis(25) {
            "ok"
        } else {
            "OVER TARGET"
        }
    );
}
