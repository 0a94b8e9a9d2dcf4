//! Report benchmark (issue 15): `git pitboss report --html` of a 10,000-session run, through
//! the real binary, and the page read by headless Chromium.
//!
//! The run is imported (`git pitboss import`) from a file-based run directory: five prompts,
//! mixed statuses, sessions of 30 s to 5 min one after another, each with a Claude Code
//! stream-json transcript (the recorded fixture). It prints the page's size (goal: under 5 MB),
//! the time to make it (median of 3), and the time headless Chromium takes to load and lay it
//! out (`--dump-dom`, median of 3; goal: under 3 s), beside Chromium's own start-up on an
//! empty page, with the machine's load (`/proc/loadavg`).
//!
//! Run with `cargo bench --bench report` (`-- --quick`: 2,000 sessions).
//! `PITBOSS_CHROMIUM` names another browser than `chromium`.

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{git, median, secs};

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROMPTS: [&str; 5] = ["fp-hunter", "docs", "lints", "tests", "refactor"];
const STATUSES: [&str; 6] = ["ok", "ok", "ok", "dirty", "error", "timeout"];

fn record_line(seq: u64, start: i64, secs: i64) -> String {
    let t = |s: i64| {
        chrono::DateTime::from_timestamp(1_798_000_000 + s, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let status = STATUSES[(seq * 7 % 6) as usize];
    let commit = if status == "ok" || status == "dirty" {
        format!("\"{:040x}\"", seq)
    } else {
        "null".into()
    };
    format!(
        concat!(
            r#"{{"seq":{seq},"run_id":"bench","prompt":"{prompt}","started_at":"{start}","#,
            r#""ended_at":"{end}","status":"{status}","summary":"session {seq}: fixed the foo bug in bar.rs","#,
            r#""commit":{commit},"tokens":{{"input":{input},"output":500,"by_role":{{}}}},"#,
            r#""cost_usd":0.0123,"agent":"claude","#,
            r#""transcript_path":"transcripts/session-{seq:04}.log"}}"#
        ),
        seq = seq,
        prompt = PROMPTS[(seq % 5) as usize],
        start = t(start),
        end = t(start + secs),
        status = status,
        commit = commit,
        input = 1000 + seq % 997,
    )
}

fn make_dir(dir: &Path, n: u64) {
    let transcript = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/claude/write-and-commit.jsonl"
    ))
    .unwrap();
    std::fs::create_dir_all(dir.join("transcripts")).unwrap();
    let mut jsonl =
        std::io::BufWriter::new(std::fs::File::create(dir.join("sessions.jsonl")).unwrap());
    let mut at = 0;
    for seq in 1..=n {
        let secs = 30 + (seq as i64 * 37) % 270;
        writeln!(jsonl, "{}", record_line(seq, at, secs)).unwrap();
        at += secs + 2;
        std::fs::write(
            dir.join(format!("transcripts/session-{seq:04}.log")),
            &transcript,
        )
        .unwrap();
    }
    jsonl.flush().unwrap();
    std::fs::write(
        dir.join("state.json"),
        r#"{"run_id":"bench","status":"finished","started_at":"2026-12-24T00:00:00Z"}"#,
    )
    .unwrap();
}

fn pitboss(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git pitboss {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Headless Chromium loading `page` and dumping its DOM; the wall time.
fn chromium(browser: &Path, profile: &Path, page: &Path) -> Duration {
    let start = Instant::now();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(out.status.success(), "chromium failed");
    assert!(!out.stdout.is_empty(), "chromium dumped nothing");
    took
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 2_000 } else { 10_000 };
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Bench"]);
    git(&repo, &["config", "user.email", "bench@example.com"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "init"]);
    let dir = work.path().join("run");
    make_dir(&dir, n);
    pitboss(
        &repo,
        &[
            "import",
            dir.to_str().unwrap(),
            "--id",
            "20261224T000000Z-beef",
        ],
    );

    let page = work.path().join("report.html");
    let mut made = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        pitboss(&repo, &["report", "--html", page.to_str().unwrap()]);
        made.push(start.elapsed());
    }
    let size = std::fs::metadata(&page).unwrap().len();
    println!("report of {n} sessions");
    println!(
        "  page size       {:.2} MB ({size} bytes; goal < 5 MB)",
        size as f64 / 1e6
    );
    println!("  generation      {} (median of 3)", secs(median(made)));

    let browser = std::env::var_os("PITBOSS_CHROMIUM").unwrap_or_else(|| "chromium".into());
    match which::which(&browser) {
        Ok(browser) => {
            let empty = work.path().join("empty.html");
            std::fs::write(&empty, "<!DOCTYPE html><title>empty</title><p>empty").unwrap();
            let profile = work.path().join("profile");
            chromium(&browser, &profile, &empty); // warm the profile and the disk cache
            let base = median(
                (0..3)
                    .map(|_| chromium(&browser, &profile, &empty))
                    .collect(),
            );
            let full = median(
                (0..3)
                    .map(|_| chromium(&browser, &profile, &page))
                    .collect(),
            );
            println!(
                "  chromium        {} to load and dump the page (median of 3); {} of it \
                 start-up (an empty page); goal < 3 s",
                secs(full),
                secs(base)
            );
        }
        Err(_) => println!("  chromium        not installed: apt-get install chromium"),
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("  load average    {}", load.trim());
}
