//! Parallel sessions: what `max_parallel = 4` buys over one session at a time, and what a
//! landing costs when the run branch is long.
//!
//! The agent is the `command` backend running a shell script that sleeps (2 s, or
//! `PITBOSS_BENCH_SLEEP` seconds) and commits a file of its own (`f$PITBOSS_SEQ.txt`), from a
//! `parallel_safe` prompt. Part one runs 16 sessions with `max_parallel` 1 and then 4 and prints
//! both wall times and the speed-up (goal ≥ 3.5×). Part two starts the run branch from a base of
//! 1,000 commits and runs 16 sessions four at a time with `--json`: every `landing` event carries
//! the landing's time (replay, verify, compare-and-swap, proof); it prints their median and p90
//! (goal ≤ 50 ms). Every run must record 16 `ok` sessions, and every parallel one 16 `landed`
//! landings with 16 files on the run branch, or the benchmark panics. The machine's load
//! (`/proc/loadavg`) is printed before and after, since other work on the machine skews both
//! figures. Run with `cargo bench --bench parallel`.

mod common;
use common::{git, secs};

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SESSIONS: u64 = 16;
const BASE_COMMITS: u64 = 1_000;

/// What one `git pitboss grind --json` told, as its events arrived.
struct Grind {
    wall: Duration,
    /// The `ms` of each `landing` event.
    landing_ms: Vec<u64>,
    /// The gaps between consecutive `session_finished` events.
    finish_gaps: Vec<Duration>,
}

fn main() {
    let sleep: f64 = std::env::var("PITBOSS_BENCH_SLEEP")
        .ok()
        .map(|s| s.parse().expect("PITBOSS_BENCH_SLEEP: seconds, e.g. 0.5"))
        .unwrap_or(2.0);
    println!(
        "git-pitboss parallel sessions benchmark ({SESSIONS} sessions, agent sleeps {sleep} s \
         and commits one file)"
    );
    println!("load before: {}", loadavg());

    let dir = tempfile::tempdir().unwrap();
    let agent = write_agent(dir.path(), sleep);
    let one = grind(&new_repo(dir.path(), "seq", 0), &agent, 1);
    let four = grind(&new_repo(dir.path(), "par", 0), &agent, 4);
    let speedup = one.wall.as_secs_f64() / four.wall.as_secs_f64();
    let ideal = sleep * SESSIONS as f64;
    println!(
        "max_parallel 1: {} ({} above {SESSIONS} × {sleep} s of agent time)",
        secs(one.wall),
        secs(one.wall.saturating_sub(Duration::from_secs_f64(ideal)))
    );
    println!(
        "max_parallel 4: {} ({} above {} × {sleep} s)",
        secs(four.wall),
        secs(
            four.wall
                .saturating_sub(Duration::from_secs_f64(ideal / 4.0))
        ),
        SESSIONS / 4
    );
    println!(
        "speed-up: {speedup:.2}× (goal ≥ 3.5×: {}); landings at a short branch: median {} ms",
        verdict(speedup >= 3.5),
        percentile(&four.landing_ms, 50)
    );
    println!(
        "gap between finished sessions, median: max_parallel 1 {}, max_parallel 4 {}",
        ms_of(median_gap(&one.finish_gaps)),
        ms_of(median_gap(&four.finish_gaps))
    );

    let long = grind(&new_repo(dir.path(), "long", BASE_COMMITS), &agent, 4);
    let (p50, p90) = (
        percentile(&long.landing_ms, 50),
        percentile(&long.landing_ms, 90),
    );
    println!(
        "landing at a run branch of {BASE_COMMITS} commits (max_parallel 4, {} wall): median \
         {p50} ms, p90 {p90} ms, max {} ms (goal median ≤ 50 ms: {})",
        secs(long.wall),
        long.landing_ms.iter().max().unwrap(),
        verdict(p50 <= 50)
    );
    println!("load after: {}", loadavg());
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

/// `/proc/loadavg`'s three load averages.
fn loadavg() -> String {
    let s = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// The fake agent: a real shell script, outside every repository.
fn write_agent(dir: &Path, sleep: f64) -> std::path::PathBuf {
    let path = dir.join("agent.sh");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nset -e\ncat >/dev/null\nsleep {sleep}\n\
             echo \"session $PITBOSS_SEQ\" > \"f$PITBOSS_SEQ.txt\"\n\
             git add \"f$PITBOSS_SEQ.txt\"\n\
             git commit -q -m \"bench: file of session $PITBOSS_SEQ\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A repository `dir/name` whose `main` has `history` commits (made by `git fast-import`) or
/// one, with a `parallel_safe` prompt.
fn new_repo(dir: &Path, name: &str, history: u64) -> std::path::PathBuf {
    let repo = dir.join(name);
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Bench"]);
    git(&repo, &["config", "user.email", "bench@example.com"]);
    git(&repo, &["config", "maintenance.auto", "false"]);
    git(&repo, &["config", "gc.auto", "0"]);
    if history > 0 {
        fast_import_history(&repo, history);
        git(&repo, &["reset", "-q", "--hard", "main"]);
    } else {
        std::fs::write(repo.join("README"), "bench\n").unwrap();
        git(&repo, &["add", "README"]);
        git(&repo, &["commit", "-q", "-m", "init"]);
    }
    let prompts = repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("file.md"),
        "---\nname: file\ndescription: commits a file of its own\nparallel_safe: true\n---\n\
         Write your file and commit it.\n",
    )
    .unwrap();
    repo
}

/// `n` commits on `main`, each rewriting one of 100 files, through `git fast-import`.
fn fast_import_history(repo: &Path, n: u64) {
    let mut child = Command::new("git")
        .current_dir(repo)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut w = std::io::BufWriter::new(child.stdin.take().unwrap());
        for i in 1..=n {
            let msg = format!("history {i}");
            let body = format!("line written by history commit {i}\n");
            write!(
                w,
                "commit refs/heads/main\ncommitter Bench <bench@example.com> {} +0000\n\
                 data {}\n{msg}\nM 100644 inline h/{}.txt\ndata {}\n{body}\n",
                1_700_000_000 + i,
                msg.len(),
                i % 100,
                body.len()
            )
            .unwrap();
        }
    }
    assert!(child.wait().unwrap().success(), "git fast-import");
}

/// Runs `SESSIONS` sessions with `max_parallel = k` and checks that each one recorded `ok`
/// and, in parallel, landed with its file on the run branch.
fn grind(repo: &Path, agent: &Path, k: u32) -> Grind {
    std::fs::write(
        repo.join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"command\"\ncommand = \"{}\"\n\n[grind]\nmax_parallel = {k}\n",
            agent.display()
        ),
    )
    .unwrap();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .current_dir(repo)
        .args(["grind", "--max-iterations", &SESSIONS.to_string(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (mut branch, mut statuses, mut landings, mut landing_ms, mut finished) =
        (None, Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a --json line that is not JSON ({e}): {line}"));
        match v["event"].as_str() {
            Some("run_started") => branch = v["branch"].as_str().map(str::to_string),
            Some("landing") => {
                landings.push(v["landing"]["result"].as_str().unwrap_or("?").to_string());
                landing_ms.push(v["ms"].as_u64().expect("landing event without ms"));
            }
            Some("session_finished") => {
                finished.push(Instant::now());
                let r = &v["record"];
                statuses.push(format!(
                    "{} {} {}",
                    r["seq"],
                    r["status"].as_str().unwrap_or("?"),
                    r["summary"].as_str().unwrap_or("")
                ));
            }
            _ => {}
        }
    }
    let exit = child.wait().unwrap();
    let wall = start.elapsed();
    assert!(exit.success(), "max_parallel {k}: grind exited with {exit}");
    let n = SESSIONS as usize;
    let not_ok: Vec<&String> = statuses
        .iter()
        .filter(|s| s.split(' ').nth(1) != Some("ok"))
        .collect();
    assert!(
        statuses.len() == n && not_ok.is_empty(),
        "max_parallel {k}: {} sessions recorded, not ok: {not_ok:?}",
        statuses.len()
    );
    if k > 1 {
        let landed = landings.iter().filter(|r| *r == "landed").count();
        assert!(
            landings.len() == n && landed == n,
            "max_parallel {k}: {} landing events, {landed} landed: {landings:?}",
            landings.len()
        );
    }
    let branch = branch.expect("no run_started event");
    let files = Command::new("git")
        .current_dir(repo)
        .args(["ls-tree", "--name-only", &branch])
        .output()
        .unwrap();
    let on_branch = String::from_utf8_lossy(&files.stdout)
        .lines()
        .filter(|f| f.starts_with('f') && f.ends_with(".txt"))
        .count();
    assert_eq!(
        on_branch, n,
        "max_parallel {k}: files of sessions on {branch}"
    );
    Grind {
        wall,
        landing_ms,
        finish_gaps: finished.windows(2).map(|w| w[1] - w[0]).collect(),
    }
}

/// The `p`th percentile (nearest rank) of `v`; 0 when empty.
fn percentile(v: &[u64], p: usize) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    if v.is_empty() {
        return 0;
    }
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank - 1]
}

fn median_gap(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms_of(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}
