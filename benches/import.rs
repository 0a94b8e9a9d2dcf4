//! Import benchmark (issue 11 "Import scales", issue 12 item 4): `git pitboss import` of a
//! file-based run directory of 10,000 and 100,000 sessions, through the real binary as users
//! run it, into a fresh repository.
//!
//! For each size it prints the wall time, the repository's size afterwards, and the peak
//! resident memory of the `git-pitboss` process and of any child it runs (`git fast-import`),
//! read from `/proc/<pid>/status` (`VmHWM`) while the import runs. The goal: time linear in the
//! number of sessions, 100,000 sessions in under 60 s and under 200 MB.
//!
//! Run with `cargo bench --bench import` (add `-- --quick` for 2,000 and 20,000 sessions).
//! `PITBOSS_BIN=/path/to/git-pitboss` measures another build (e.g. the one before a change).

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{cpu_ticks, dir_bytes, git, ticks_per_second};

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One record line as the file-based design wrote them.
fn record_line(seq: u64) -> String {
    format!(
        concat!(
            r#"{{"seq":{seq},"run_id":"bench","prompt":"fp-hunter","started_at":"2026-04-30T18:05:00Z","#,
            r#""ended_at":"2026-04-30T18:06:30Z","status":"ok","summary":"session {seq}: fixed the foo bug in bar.rs","#,
            r#""commit":"abc1234000000000000000000000000000000001","tokens":{{"input":1000,"output":500,"#,
            r#""by_role":{{"implementer":{{"input":1000,"output":500}}}}}},"cost_usd":0.0123,"#,
            r#""transcript_path":"transcripts/session-{seq:04}.log"}}"#
        ),
        seq = seq
    )
}

fn transcript(seq: u64) -> String {
    format!(
        "session {seq}\n{}",
        "tool: edit src/bar.rs\nassistant: fixed\n".repeat(40)
    )
}

/// Writes a run directory of `n` sessions.
fn make_dir(dir: &Path, n: u64) {
    std::fs::create_dir_all(dir.join("transcripts")).unwrap();
    let mut jsonl =
        std::io::BufWriter::new(std::fs::File::create(dir.join("sessions.jsonl")).unwrap());
    for seq in 1..=n {
        writeln!(jsonl, "{}", record_line(seq)).unwrap();
        std::fs::write(
            dir.join(format!("transcripts/session-{seq:04}.log")),
            transcript(seq),
        )
        .unwrap();
    }
    jsonl.flush().unwrap();
    std::fs::write(
        dir.join("state.json"),
        r#"{"run_id":"bench","status":"finished","started_at":"2026-04-30T18:00:00Z"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("scratchpad.md"), "# notes\n").unwrap();
}

/// `VmHWM` of a process in kB, `None` once it is gone.
fn peak_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The children of a process (all its threads' children).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
        }
    }
    out
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .map(|s| {
            let args: Vec<&str> = s.split('\0').filter(|a| !a.is_empty()).collect();
            if args.contains(&"fast-import") {
                "git fast-import".to_string()
            } else {
                args[..args.len().min(2)].join(" ")
            }
        })
        .unwrap_or_default()
}

struct Measured {
    time: Duration,
    repo_mb: f64,
    /// Peak RSS (MB) and CPU seconds by process name: `git-pitboss` itself and each kind of
    /// child.
    peaks: Vec<(String, f64, f64)>,
    /// CPU time (user + system, seconds) of all of them, as last seen: on a loaded machine a
    /// steadier figure than the wall time.
    cpu: f64,
}

/// Imports `dir` into a fresh repository with `bin`, watching memory.
fn import(bin: &Path, dir: &Path, work: &Path) -> Measured {
    let repo = work.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["config", "user.name", "Bench"]);
    git(&repo, &["config", "user.email", "bench@example.com"]);
    git(&repo, &["config", "gc.auto", "0"]);
    git(&repo, &["config", "maintenance.auto", "false"]);
    let start = Instant::now();
    let mut child = Command::new(bin)
        .current_dir(&repo)
        .arg("import")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let root = child.id();
    let mut peaks: HashMap<u32, (String, u64)> = HashMap::new();
    let mut cpu: HashMap<u32, u64> = HashMap::new();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        let mut pids = vec![root];
        let mut i = 0;
        while i < pids.len() {
            let c = children(pids[i]);
            pids.extend(c);
            i += 1;
        }
        for pid in pids {
            if let Some(t) = cpu_ticks(pid) {
                cpu.insert(pid, t);
            }
            if let Some(kb) = peak_kb(pid) {
                let e = peaks.entry(pid).or_insert_with(|| (comm(pid), 0));
                e.1 = e.1.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let time = start.elapsed();
    let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap_or_default();
    assert!(status.success(), "import failed: {err}");
    let tps = ticks_per_second();
    let mut by_name: HashMap<String, (u64, u64)> = HashMap::new();
    for (pid, (name, kb)) in peaks {
        let name = if pid == root {
            "git-pitboss".to_string()
        } else {
            name
        };
        // A child seen between fork and exec still bears our name: not a process of its own.
        if name.contains("git-pitboss") && pid != root {
            continue;
        }
        let e = by_name.entry(name).or_default();
        e.0 = e.0.max(kb);
        e.1 += cpu.get(&pid).copied().unwrap_or(0);
    }
    let mut peaks: Vec<(String, f64, f64)> = by_name
        .into_iter()
        .map(|(n, (kb, t))| (n, kb as f64 / 1024.0, t as f64 / tps))
        .collect();
    peaks.sort_by(|a, b| a.0.cmp(&b.0));
    Measured {
        time,
        repo_mb: dir_bytes(&repo.join(".git")) as f64 / 1e6,
        peaks,
        cpu: cpu.values().sum::<u64>() as f64 / tps,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes: [u64; 2] = if quick {
        [2_000, 20_000]
    } else {
        [10_000, 100_000]
    };
    let bin = std::env::var_os("PITBOSS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_git-pitboss")));
    println!(
        "git-pitboss import benchmark ({} mode) of {}",
        if quick { "quick" } else { "full" },
        bin.display()
    );
    let mut per_session = Vec::new();
    for n in sizes {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("bench");
        make_dir(&dir, n);
        let m = import(&bin, &dir, work.path());
        let peaks: Vec<String> = m
            .peaks
            .iter()
            .map(|(n, mb, cpu)| format!("{n} {mb:.0} MB ({cpu:.1} s CPU)"))
            .collect();
        println!(
            "import of {n} sessions: {:.1} s ({:.1} s of CPU), repository {:.1} MB, peak RSS: {}",
            m.time.as_secs_f64(),
            m.cpu,
            m.repo_mb,
            peaks.join(", ")
        );
        per_session.push(m.time.as_secs_f64() / n as f64);
        if !quick && n == 100_000 {
            let worst = m.peaks.iter().map(|p| p.1).fold(0.0, f64::max);
            println!(
                "  goal < 60 s: {}; goal < 200 MB per process: {}",
                if m.time < Duration::from_secs(60) {
                    "ok"
                } else {
                    "OVER"
                },
                if worst < 200.0 { "ok" } else { "OVER" }
            );
        }
    }
    println!(
        "time per session, larger / smaller: {:.2} (linear: about 1)",
        per_session[1] / per_session[0]
    );
}
