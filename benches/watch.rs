//! Watch benchmark (issue 15): how fast `git pitboss watch` opens a big run, and what it costs
//! to leave it open on a quiet one.
//!
//! 1. Opening a 10,000-session run (imported into a fresh repository): the time to the first
//!    frame's data in the library (`watch::Source::open`: the run, every record, the events
//!    file), and the wall time of `git-pitboss watch <run> --once` as a process (open, draw,
//!    print). Goal: under 1 s.
//! 2. Idle CPU: `git-pitboss watch` in a tmux pane on a live but quiet run (a grind whose agent
//!    sleeps), user + system time of the watch process over 10 s, from `/proc/<pid>/stat`.
//!    Goal: near zero.
//!
//! Run with `cargo bench --bench watch` (needs tmux). `PITBOSS_BIN=/path/to/git-pitboss`
//! measures another build.

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{cpu_ticks, git, ticks_per_second};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pitboss::testing::{OsEntropy, Repo, RunId, RunStore, SystemClock};

const SESSIONS: u64 = 10_000;

fn record_line(seq: u64) -> String {
    let prompt = ["fp-hunter", "lint", "docs"][(seq % 3) as usize];
    format!(
        concat!(
            r#"{{"seq":{seq},"run_id":"bench","prompt":"{prompt}","started_at":"2026-04-30T18:05:00Z","#,
            r#""ended_at":"2026-04-30T18:06:30Z","status":"ok","summary":"session {seq}: fixed the foo bug in bar.rs","#,
            r#""commit":null,"tokens":{{"input":1000,"output":500,"by_role":{{}}}},"cost_usd":0.0123,"#,
            r#""transcript_path":"transcripts/session-{seq:04}.log"}}"#
        ),
        seq = seq,
        prompt = prompt
    )
}

fn new_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "bench"]);
    git(dir, &["config", "user.email", "bench@localhost"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "init"]);
}

/// A repository holding one imported run of `n` sessions; returns its id.
fn big_run(bin: &Path, work: &Path, n: u64) -> String {
    let dir = work.join("run-dir");
    std::fs::create_dir_all(dir.join("transcripts")).unwrap();
    let mut jsonl =
        std::io::BufWriter::new(std::fs::File::create(dir.join("sessions.jsonl")).unwrap());
    for seq in 1..=n {
        writeln!(jsonl, "{}", record_line(seq)).unwrap();
        std::fs::write(
            dir.join(format!("transcripts/session-{seq:04}.log")),
            format!("session {seq}\nedited src/bar.rs\n"),
        )
        .unwrap();
    }
    jsonl.flush().unwrap();
    std::fs::write(
        dir.join("state.json"),
        r#"{"run_id":"bench","status":"finished","started_at":"2026-04-30T18:00:00Z"}"#,
    )
    .unwrap();
    let repo = work.join("big");
    new_repo(&repo);
    let out = Command::new(bin)
        .current_dir(&repo)
        .args([
            "import",
            dir.to_str().unwrap(),
            "--id",
            "20260430T180000Z-beef",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    "20260430T180000Z-beef".to_string()
}

fn open_in_library(repo: &Path, run: &str) -> (Duration, usize) {
    let repo = Repo::open(repo).unwrap();
    let (clock, entropy) = (SystemClock, OsEntropy::default());
    let store = RunStore::new(&repo, &clock, &entropy);
    let id = RunId::parse(run).unwrap();
    let t = Instant::now();
    let (_src, d) = pitboss::testing::Source::open(&store, &id).unwrap();
    let rows = d.rows(0, 30, chrono::Utc::now()).len();
    let _ = d.prompt_totals();
    (t.elapsed(), d.row_count().max(rows))
}

fn once(bin: &Path, repo: &Path, run: &str) -> Duration {
    let t = Instant::now();
    let out = Command::new(bin)
        .current_dir(repo)
        .args(["watch", run, "--once"])
        .output()
        .unwrap();
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sessions (10000)"));
    took
}

fn tmux(tmpdir: &Path, socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .env("TMUX_TMPDIR", tmpdir)
        .env_remove("TMUX")
        .args(["-L", socket, "-f", "/dev/null"])
        .args(args)
        .output()
        .expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// CPU seconds `git-pitboss watch` uses over `secs` on a live, quiet run (its agent sleeps).
fn idle_cpu(bin: &Path, work: &Path, secs: u64) -> f64 {
    let repo = work.join("quiet");
    new_repo(&repo);
    let prompts = repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("wait.md"),
        "---\nname: wait\ndescription: waits\n---\nWait.\n",
    )
    .unwrap();
    std::fs::write(
        repo.join(".pitboss/config.toml"),
        "[agent]\nbackend = \"command\"\ncommand = \"sh -c 'echo waiting; sleep 60'\"\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "prompts"]);
    let mut grind = Command::new(bin)
        .current_dir(&repo)
        .args(["grind", "--max-iterations", "1", "--quiet"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let runs = repo.join(".git/pitboss/runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_dir(&runs)
        .map(|mut d| d.any(|e| e.unwrap().path().join("session-0001.log").exists()))
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "the session never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let socket = format!("pitboss-bench-{}", std::process::id());
    tmux(
        work,
        &socket,
        &[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-c",
            repo.to_str().unwrap(),
            &format!("exec {} watch", bin.display()),
        ],
    );
    std::thread::sleep(Duration::from_secs(2));
    let pid: u32 = tmux(work, &socket, &["display", "-p", "-t", "0", "#{pane_pid}"])
        .trim()
        .parse()
        .expect("watch's pid");
    let before = cpu_ticks(pid).expect("watch is running");
    std::thread::sleep(Duration::from_secs(secs));
    let after = cpu_ticks(pid).expect("watch still running");
    tmux(work, &socket, &["kill-server"]);
    let _ = grind.kill();
    let _ = grind.wait();
    println!(
        "  (watch used {} clock ticks of {:.0} ms)",
        after - before,
        1000.0 / ticks_per_second()
    );
    (after - before) as f64 / ticks_per_second()
}

fn main() {
    let bin = std::env::var_os("PITBOSS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_git-pitboss")));
    let work = tempfile::tempdir().unwrap();
    println!("git-pitboss watch benchmark of {}", bin.display());
    let t = Instant::now();
    let run = big_run(&bin, work.path(), SESSIONS);
    println!("  made a {SESSIONS}-session run in {:.1?}", t.elapsed());
    let repo = work.path().join("big");
    let mut lib = Vec::new();
    let mut proc = Vec::new();
    for _ in 0..3 {
        let (took, rows) = open_in_library(&repo, &run);
        assert_eq!(rows as u64, SESSIONS);
        lib.push(took);
        proc.push(once(&bin, &repo, &run));
    }
    let best = |v: &[Duration]| v.iter().min().copied().unwrap();
    println!(
        "  open {SESSIONS} sessions, first frame's data (library): best {:.0?} of 3 (goal < 1 s)",
        best(&lib)
    );
    println!(
        "  `watch <run> --once` as a process (open, draw, print): best {:.0?} of 3",
        best(&proc)
    );
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("  idle CPU: skipped (no tmux)");
        return;
    }
    let secs = 10;
    let cpu = idle_cpu(&bin, work.path(), secs);
    println!(
        "  idle CPU of watch on a quiet live run: {:.2} s over {secs} s ({:.1}% of a core)",
        cpu,
        cpu * 100.0 / secs as f64
    );
}
