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
//! landings with 16 files on the run branch, or the benchmark panics. Each run also says where
//! the time between sessions goes, from the arrival of grind's events and the times the agent
//! logs itself. The machine's load (`/proc/loadavg`) is printed before and after, since other
//! work on the machine skews both figures. Run with `cargo bench --bench parallel`;
//! `PITBOSS_BENCH_TRACE=1` prints every event as it arrives.

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{git, median, secs};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const SESSIONS: u64 = 16;
const BASE_COMMITS: u64 = 1_000;

/// What one `git pitboss grind --json` told, as its events arrived.
struct Grind {
    wall: Duration,
    /// The `ms` of each `landing` event.
    landing_ms: Vec<u64>,
    /// Per seq, when things happened (since grind was started).
    sessions: BTreeMap<u64, Times>,
    /// When the last `session_finished` arrived.
    last_finished: Duration,
}

/// When one session's events arrived, and when its agent said it started and ended.
#[derive(Default, Clone, Copy)]
struct Times {
    slot: u64,
    started: Duration,
    agent_start: Option<Duration>,
    agent_end: Option<Duration>,
    landing: Option<Duration>,
    finished: Duration,
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
    let one = grind(dir.path(), "seq", 0, sleep, 1);
    let ideal = sleep * SESSIONS as f64;
    println!(
        "max_parallel 1: {} ({} above {SESSIONS} × {sleep} s of agent sleep)",
        secs(one.wall),
        secs(one.wall.saturating_sub(Duration::from_secs_f64(ideal)))
    );
    breakdown(&one, sleep);
    let four = grind(dir.path(), "par", 0, sleep, 4);
    println!(
        "max_parallel 4: {} ({} above {} × {sleep} s)",
        secs(four.wall),
        secs(
            four.wall
                .saturating_sub(Duration::from_secs_f64(ideal / 4.0))
        ),
        SESSIONS / 4
    );
    breakdown(&four, sleep);
    let speedup = one.wall.as_secs_f64() / four.wall.as_secs_f64();
    println!(
        "speed-up: {speedup:.2}× (goal ≥ 3.5×: {})",
        verdict(speedup >= 3.5)
    );

    let long = grind(dir.path(), "long", BASE_COMMITS, sleep, 4);
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
    breakdown(&long, sleep);
    println!("load after: {}", loadavg());
}

/// Prints where the time goes, as medians over the sessions: `dispatch → agent` from the
/// session's dispatch to its agent's first line; `agent beyond the sleep` its own work (the
/// shell, its `git commit`); `settle + queue` from the agent's end to its landing (or, run
/// sequentially, its record): the process reaped, the work settled, the wait behind older
/// sessions, the landing; `land` the landing events' `ms`; `record` from the landing to the
/// record appended; `next` from the record to the next dispatch in the same slot. Then the
/// time before the first dispatch and after the last record.
fn breakdown(g: &Grind, sleep: f64) {
    let sleep = Duration::from_secs_f64(sleep);
    let (mut spawn, mut work, mut settle, mut record, mut next) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (seq, t) in &g.sessions {
        if let (Some(a), Some(b)) = (t.agent_start, t.agent_end) {
            spawn.push(a.saturating_sub(t.started));
            work.push(b.saturating_sub(a).saturating_sub(sleep));
            settle.push(t.landing.unwrap_or(t.finished).saturating_sub(b));
        }
        if let Some(l) = t.landing {
            record.push(t.finished.saturating_sub(l));
        }
        let same_slot = g.sessions.range(seq + 1..).find(|(_, n)| n.slot == t.slot);
        if let Some((_, n)) = same_slot {
            next.push(n.started.saturating_sub(t.finished));
        }
    }
    let first = g.sessions.values().map(|t| t.started).min();
    let landing =
        (!g.landing_ms.is_empty()).then(|| Duration::from_millis(percentile(&g.landing_ms, 50)));
    println!(
        "  medians: dispatch → agent {}, agent beyond the sleep {}, settle + queue {}, land {}, \
         record {}, next dispatch {}; first dispatch at {}, exit {} after the last record",
        ms_of(spawn),
        ms_of(work),
        ms_of(settle),
        ms_of(landing.into_iter().collect()),
        ms_of(record),
        ms_of(next),
        ms_of(first.into_iter().collect()),
        ms_of(vec![g.wall.saturating_sub(g.last_finished)])
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

/// `/proc/loadavg`'s three load averages.
fn loadavg() -> String {
    let s = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// The fake agent `dir/name.sh`: a real shell script, outside every repository, that logs
/// when it starts and ends to `dir/name.log`.
fn write_agent(dir: &Path, name: &str, sleep: f64) -> (PathBuf, PathBuf) {
    let (path, log) = (
        dir.join(format!("{name}.sh")),
        dir.join(format!("{name}.log")),
    );
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nset -e\necho \"$PITBOSS_SEQ start $(date +%s.%N)\" >> '{log}'\n\
             cat >/dev/null\nsleep {sleep}\n\
             echo \"session $PITBOSS_SEQ\" > \"f$PITBOSS_SEQ.txt\"\n\
             git add \"f$PITBOSS_SEQ.txt\"\n\
             git commit -q -m \"bench: file of session $PITBOSS_SEQ\"\n\
             echo \"$PITBOSS_SEQ end $(date +%s.%N)\" >> '{log}'\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (path, log)
}

/// A repository `dir/name` whose `main` has `history` commits (made by `git fast-import`) or
/// one, with a `parallel_safe` prompt and the command agent at `agent`, `max_parallel = k`.
fn new_repo(dir: &Path, name: &str, history: u64, agent: &Path, k: u32) -> PathBuf {
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
    std::fs::write(
        repo.join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"command\"\ncommand = \"'{}'\"\n\n[grind]\nmax_parallel = {k}\n",
            agent.display()
        ),
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

/// Runs `SESSIONS` sessions with `max_parallel = k` in a new repository `dir/name` and checks
/// that each one recorded `ok` and, run in parallel, landed; and that the run branch holds
/// every session's file.
fn grind(dir: &Path, name: &str, history: u64, sleep: f64, k: u32) -> Grind {
    let (agent, log) = write_agent(dir, name, sleep);
    let repo = new_repo(dir, name, history, &agent, k);
    let trace = std::env::var_os("PITBOSS_BENCH_TRACE").is_some();
    let (start, epoch) = (Instant::now(), SystemTime::now());
    let mut child = Command::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .current_dir(&repo)
        .args(["grind", "--max-iterations", &SESSIONS.to_string(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (mut branch, mut records, mut landings) = (None, Vec::new(), Vec::new());
    let mut g = Grind {
        wall: Duration::ZERO,
        landing_ms: Vec::new(),
        sessions: BTreeMap::new(),
        last_finished: Duration::ZERO,
    };
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let at = start.elapsed();
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a --json line that is not JSON ({e}): {line}"));
        let event = v["event"].as_str().unwrap_or("?");
        let r = &v["record"];
        let seq = v["seq"].as_u64().or(r["seq"].as_u64());
        if trace && event != "progress" {
            let slot = if v["slot"].is_null() {
                &r["slot"]
            } else {
                &v["slot"]
            };
            eprintln!(
                "  {:>7.3} s  {event} seq {seq:?} slot {slot} ms {} {}",
                at.as_secs_f64(),
                v["ms"],
                v["message"].as_str().unwrap_or("")
            );
        }
        match (event, seq) {
            ("run_started", _) => branch = v["branch"].as_str().map(str::to_string),
            ("session_started", Some(s)) => {
                let t = g.sessions.entry(s).or_default();
                t.started = at;
                t.slot = v["slot"].as_u64().unwrap_or(0);
            }
            ("landing", Some(s)) => {
                g.sessions.entry(s).or_default().landing = Some(at);
                landings.push(v["landing"]["result"].as_str().unwrap_or("?").to_string());
                g.landing_ms
                    .push(v["ms"].as_u64().expect("a landing event without ms"));
            }
            ("session_finished", Some(s)) => {
                g.sessions.entry(s).or_default().finished = at;
                g.last_finished = at;
                records.push(format!(
                    "{s} {} {} {}",
                    r["status"].as_str().unwrap_or("?"),
                    r["landing"]["result"].as_str().unwrap_or("-"),
                    r["summary"].as_str().unwrap_or("")
                ));
            }
            _ => {}
        }
    }
    let exit = child.wait().unwrap();
    g.wall = start.elapsed();
    assert!(exit.success(), "max_parallel {k}: grind exited with {exit}");
    read_agent_log(&log, epoch, &mut g.sessions);
    let n = SESSIONS as usize;
    let not_ok: Vec<&String> = records
        .iter()
        .filter(|s| s.split(' ').nth(1) != Some("ok"))
        .collect();
    assert!(
        records.len() == n && not_ok.is_empty(),
        "max_parallel {k}: {} sessions recorded; not ok: {not_ok:?}",
        records.len()
    );
    if k > 1 {
        let landed = landings.iter().filter(|r| *r == "landed").count();
        assert!(
            landings.len() == n && landed == n,
            "max_parallel {k}: {} landing events, {landed} landed: {landings:?}",
            landings.len()
        );
        let unlanded: Vec<&String> = records
            .iter()
            .filter(|s| s.split(' ').nth(2) != Some("landed"))
            .collect();
        assert!(
            unlanded.is_empty(),
            "max_parallel {k}: records whose landing is not `landed`: {unlanded:?}"
        );
    }
    let branch = branch.expect("no run_started event");
    let files = Command::new("git")
        .current_dir(&repo)
        .args(["ls-tree", "--name-only", &branch])
        .output()
        .unwrap();
    let on_branch = String::from_utf8_lossy(&files.stdout)
        .lines()
        .filter(|f| f.starts_with('f') && f.ends_with(".txt"))
        .count();
    assert_eq!(on_branch, n, "max_parallel {k}: session files on {branch}");
    g
}

/// Reads the agent's `<seq> start|end <unix time>` lines into `sessions`, as times since
/// `epoch`.
fn read_agent_log(log: &Path, epoch: SystemTime, sessions: &mut BTreeMap<u64, Times>) {
    let base = epoch
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(seq), Some(at)) = (
            f.first().and_then(|s| s.parse::<u64>().ok()),
            f.get(2).and_then(|s| s.parse::<f64>().ok()),
        ) else {
            continue;
        };
        let at = Duration::from_secs_f64((at - base).max(0.0));
        let t = sessions.entry(seq).or_default();
        match f.get(1) {
            Some(&"start") => t.agent_start = Some(at),
            Some(&"end") => t.agent_end = Some(at),
            _ => {}
        }
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

/// The median of `v` in milliseconds, `-` when there is none.
fn ms_of(v: Vec<Duration>) -> String {
    if v.is_empty() {
        return "-".into();
    }
    format!("{} ms", median(v).as_millis())
}
