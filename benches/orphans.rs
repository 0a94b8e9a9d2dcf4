//! How fast what an agent leaves running is ended, and what the session cgroups cost.
//!
//! 1. Time from a session's end (its agent's last moment) to the last process it left running
//!    gone: each session's agent starts a daemon with an emptied environment, a double fork and
//!    `setsid`, notes the time and exits; the daemon obeys TERM. Measured with a cgroup per
//!    session (`PITBOSS_CGROUPS=auto`, where this machine allows one) and with the fallback
//!    (`off`), polling `/proc` every 0.2 ms.
//! 2. Per-session overhead of `git pitboss grind` with the agent `true` (as `benches/grind.rs`
//!    measures it), with and without session cgroups, and the bare cost of making, entering and
//!    removing one cgroup.
//!
//! Run with `cargo bench --bench orphans` (`-- --quick`: fewer sessions).

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{git, median, ms};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The agent waits 50 ms first: in the fallback, a process born in the same 10 ms tick as
/// another session's end cannot be told by its birth time (real sessions are not that short).
const AGENT: &str = r#"sleep 0.05
env -i /bin/sh -c "/usr/bin/setsid /bin/sh -c 'echo \$\$ > $MARKS/daemon-$PITBOSS_SEQ; while :; do sleep 0.05; done' </dev/null >/dev/null 2>&1 &"
while [ ! -s "$MARKS/daemon-$PITBOSS_SEQ" ]; do sleep 0.005; done
date +%s.%N > "$MARKS/end-$PITBOSS_SEQ"
"#;

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
    let prompts = d.path().join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("noop.md"),
        "---\nname: noop\ndescription: does nothing\n---\nDo nothing.\n",
    )
    .unwrap();
    d
}

fn grind(repo: &Path, agent: &str, n: u64, cgroups: &str, marks: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .current_dir(repo)
        .args(["grind", "--agent-cmd", agent, "--json"])
        .args(["--max-iterations", &n.to_string()])
        .env("PITBOSS_CGROUPS", cgroups)
        .env("MARKS", marks)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Gone, or a zombie (it runs no more).
fn gone(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

fn wait_file(p: &PathBuf) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(s) = std::fs::read_to_string(p)
            && s.ends_with('\n')
        {
            return s.trim().to_string();
        }
        assert!(Instant::now() < deadline, "{} never came", p.display());
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Per session: from the agent's last moment to its daemon gone.
fn orphan_end_times(n: u64, cgroups: &str) -> Vec<Duration> {
    let repo = new_repo();
    let marks = repo.path().join(".git/marks");
    std::fs::create_dir_all(&marks).unwrap();
    let agent = repo.path().join(".git/agent.sh");
    std::fs::write(&agent, AGENT).unwrap();
    let mut child = grind(
        repo.path(),
        &format!("sh {}", agent.display()),
        n,
        cgroups,
        &marks,
    );
    let mut out = Vec::new();
    for seq in 1..=n {
        let pid = wait_file(&marks.join(format!("daemon-{seq}")));
        let ended: f64 = wait_file(&marks.join(format!("end-{seq}")))
            .parse()
            .unwrap();
        while !gone(&pid) {
            std::thread::sleep(Duration::from_micros(200));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        out.push(Duration::from_secs_f64((now - ended).max(0.0)));
    }
    let _ = child.wait();
    out
}

/// Median time between consecutive `session_finished` events, agent `true`.
fn per_session(n: u64, cgroups: &str) -> Duration {
    let repo = new_repo();
    let mut child = grind(repo.path(), "true", n, cgroups, repo.path());
    let mut finished = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if line.unwrap().contains(r#""event":"session_finished""#) {
            finished.push(Instant::now());
        }
    }
    assert!(child.wait().unwrap().success());
    median(finished.windows(2).map(|w| w[1] - w[0]).collect())
}

/// Making a cgroup below ours, a child entering it, removing it: `None` where we cannot.
fn bare_cgroup(n: u32) -> Option<Duration> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?.to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mounts.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        right
            .starts_with("cgroup2 ")
            .then(|| left.split_whitespace().nth(4))?
    })?;
    let base = Path::new(mount).join(path.trim_start_matches('/'));
    let mut times = Vec::new();
    for i in 0..n {
        let dir = base.join(format!("pitboss-bench-{}-{i}", std::process::id()));
        let t = Instant::now();
        std::fs::create_dir(&dir).ok()?;
        let procs = dir.join("cgroup.procs");
        let ok = Command::new("/bin/sh")
            .args(["-c", "echo 0 > \"$1\"", "sh"])
            .arg(&procs)
            .status()
            .ok()?
            .success();
        std::fs::remove_dir(&dir).ok()?;
        let spent = t.elapsed();
        // The same without the cgroup: the spawn alone.
        let t = Instant::now();
        Command::new("/bin/sh").args(["-c", "true"]).status().ok()?;
        times.push(spent.saturating_sub(t.elapsed()));
        assert!(ok);
    }
    Some(median(times))
}

fn summary(v: &[Duration]) -> String {
    let mut s = v.to_vec();
    s.sort();
    format!(
        "median {}, p90 {}, max {} ({} sessions)",
        ms(s[s.len() / 2]),
        ms(s[s.len() * 9 / 10]),
        ms(*s.last().unwrap()),
        s.len()
    )
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (n, m) = if quick { (10, 30) } else { (30, 100) };
    println!("orphans: from a session's end to the last process it left gone");
    for mode in ["auto", "off"] {
        println!(
            "  PITBOSS_CGROUPS={mode:<4}  {}",
            summary(&orphan_end_times(n, mode))
        );
    }
    println!("per-session overhead of grind (agent `true`, {m} sessions)");
    for mode in ["auto", "off"] {
        println!(
            "  PITBOSS_CGROUPS={mode:<4}  median {}",
            ms(per_session(m, mode))
        );
    }
    match bare_cgroup(50) {
        Some(d) => println!(
            "a cgroup made, entered by a child, removed: median {} more than the spawn alone",
            ms(d)
        ),
        None => println!("no cgroup can be made here: sessions use the fallback"),
    }
}
