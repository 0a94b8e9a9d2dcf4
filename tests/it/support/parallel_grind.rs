//! Shared by the end-to-end tests of parallel runs that crash or are stopped
//! (`tests/it/grind_parallel_{crash,control}.rs`): a project grinding 3 at a time with a fake
//! agent, grind run through git in the background with the `git-pitboss` process git runs for
//! it (to signal it as a terminal or a crash would), and the checks every such test makes: the
//! run branch and the run ref agree, an aborted session kept its transcript and work, the slots
//! are gone at the end.
//!
//! The fake agent is a shell script. Each session commits early work, leaves more uncommitted,
//! notes its pid and says it started; sessions named in `$SLEEPERS` then wait (on a background
//! sleep, or until `$MARKS/release` with `$HOLD`) and session N first waits for the marks in
//! `$AWAIT_N`; at the end it commits its work.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use super::grind::*;

pub const AGENT: &str = r#"
echo "partial output of $PITBOSS_SEQ"
echo "$$" > "$MARKS/pid-$PITBOSS_SEQ"
echo "note of $PITBOSS_SEQ" >> "$PITBOSS_SCRATCHPAD"
echo "early $PITBOSS_SEQ" > "early-$PITBOSS_SEQ.txt"
git add "early-$PITBOSS_SEQ.txt" && git commit -q -m "agent: early commit $PITBOSS_SEQ"
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
touch "$MARKS/started-$PITBOSS_SEQ"
eval "await=\${AWAIT_$PITBOSS_SEQ:-}"
# Every wait is bounded: a test that fails leaves no agent behind for long.
n=0
for m in $await; do
  while [ ! -e "$MARKS/$m" ] && [ $n -lt 1500 ]; do sleep 0.02; n=$((n + 1)); done
done
case " ${SLEEPERS:-} " in
  *" $PITBOSS_SEQ "*)
    if [ -n "${HOLD:-}" ]; then
      while [ ! -e "$MARKS/release" ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
    else
      sleep 30 &
      echo "$!" > "$MARKS/sleep-pid-$PITBOSS_SEQ"
      wait
    fi ;;
esac
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

/// A project whose one prompt may run beside others, grinding 3 at a time.
pub fn project() -> Project {
    let p = Project::new();
    p.prompt("work", "parallel_safe: true\n").agent(AGENT);
    add_config(&p, "[grind]\nmax_parallel = 3\n");
    p
}

pub fn add_config(p: &Project, extra: &str) {
    let cfg = p.repo().join(".pitboss/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}\n{extra}")).unwrap();
}

/// A grind run through git in the background, and the `git-pitboss` process git runs for it.
/// Dropped early (a failed test), it kills that process and lets held agents go.
pub struct Live {
    pub g: Grind,
    pub pitboss: i32,
    marks: PathBuf,
}

impl Drop for Live {
    fn drop(&mut self) {
        if self.g.status.is_none() {
            end_stray(self.pitboss);
        }
        for m in ["go-1", "release"] {
            let _ = std::fs::write(self.marks.join(m), "");
        }
    }
}

/// `git pitboss grind --json <args>` through git, in the background, with `$MARKS` and `env`.
pub fn spawn(p: &Project, args: &[&str], env: &[(&str, &str)], name: &str) -> Live {
    let mut cmd = p.sb.git_pitboss();
    cmd.arg("grind")
        .arg("--json")
        .args(args)
        .env("MARKS", p.marks())
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let mut g = Grind::spawn(p, cmd, name);
    let pitboss = pitboss_pid(&mut g);
    Live {
        g,
        pitboss,
        marks: p.marks(),
    }
}

/// `git pitboss grind --json <args>` through git, to its end (bounded).
pub fn grind(p: &Project, args: &[&str], name: &str) -> Output {
    let mut l = spawn(p, args, &[], name);
    l.g.wait(Duration::from_secs(60));
    l.g.output()
}

/// The `git-pitboss` process git runs for `g` (git's one child).
pub fn pitboss_pid(g: &mut Grind) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = std::process::Command::new("ps")
            .args(["-o", "pid=", "--ppid", &g.pid().to_string()])
            .output()
            .unwrap();
        let pids: Vec<i32> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        if let [pid] = pids[..] {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "git's children: {pids:?}\n{}",
            g.stderr()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn signal(pid: i32, sig: Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).unwrap();
}

/// The live transcript of session `seq` in whichever slot runs it.
pub fn live_transcript(p: &Project, run: &str, seq: u64) -> Option<PathBuf> {
    let dir = p.repo().join(".git/pitboss/runs").join(run);
    (1..=3)
        .map(|k| dir.join(format!("slot-{k}/session-{seq:04}.log")))
        .find(|f| f.is_file())
}

/// Waits until session `seq`'s partial output reached its live transcript.
pub fn wait_flushed(p: &Project, run: &str, seq: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = format!("partial output of {seq}");
    while !live_transcript(p, run, seq)
        .and_then(|f| std::fs::read_to_string(f).ok())
        .is_some_and(|t| t.contains(&want))
    {
        assert!(
            Instant::now() < deadline,
            "session {seq}'s transcript was never flushed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The slot whose in-flight marker names session `seq`.
pub fn slot_of(p: &Project, run: &str, seq: u64) -> u32 {
    let dir = p.repo().join(".git/pitboss/runs").join(run);
    (1..=3)
        .find(|k| {
            std::fs::read_to_string(dir.join(format!("slot-{k}/current.json")))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|m| m["seq"] == seq)
        })
        .unwrap_or_else(|| panic!("no slot runs session {seq}"))
}

pub fn pid_mark(p: &Project, name: &str) -> i32 {
    p.mark(name).parse().unwrap()
}

/// Ends a stray process a test left behind (not an assertion).
pub fn end_stray(pid: i32) {
    if !process_gone(pid) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
    }
}

pub fn landing_result(r: &Value) -> &str {
    r["landing"]["result"].as_str().unwrap_or("")
}

/// A landing is recorded if and only if the branch holds it: the commits the run branch gained
/// since `main` are exactly the commits of the records that say `landed`; no other record names
/// a landed commit; seqs are 1..=n.
pub fn assert_branch_and_ref_agree(p: &Project, run: &str, records: &[Value]) {
    let n = records.len() as u64;
    assert_eq!(seqs(records), (1..=n).collect::<Vec<_>>(), "dense seqs");
    let on_branch: BTreeSet<String> =
        p.sb.git(&["rev-list", &format!("main..{}", p.branch(run))])
            .lines()
            .map(str::to_string)
            .collect();
    let mut landed = BTreeSet::new();
    for r in records {
        let commits: Vec<String> = r["landing"]["commits"]
            .as_array()
            .map(|a| a.iter().map(|c| c.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        if landing_result(r) == "landed" {
            assert!(!commits.is_empty(), "a landing with no commit: {r}");
            for c in commits {
                assert!(
                    on_branch.contains(&c),
                    "recorded landed, not on the branch: {r}"
                );
                landed.insert(c);
            }
        } else {
            assert!(commits.is_empty(), "commits of a session not landed: {r}");
        }
    }
    assert_eq!(
        on_branch, landed,
        "the branch holds exactly the landed sessions' commits"
    );
}

/// A finished run leaves no slot: no slot branch, no worktree but the user's checkout.
pub fn assert_slots_removed(p: &Project) {
    let refs = p.sb.git(&["for-each-ref", "refs/heads/pitboss-slot/"]);
    assert!(refs.is_empty(), "slot branches left: {refs}");
    let wts = p.sb.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(wts.matches("worktree ").count(), 1, "{wts}");
}

/// The aborted session `seq` kept its partial transcript and its work (committed and not) as
/// a patch, and none of it is on the branch.
pub fn assert_aborted_with_work(p: &Project, run: &str, r: &Value) {
    let seq = r["seq"].as_u64().unwrap();
    assert_eq!(r["status"], "aborted", "{r}");
    assert!(r["commit"].is_null(), "{r}");
    assert_ne!(landing_result(r), "landed", "{r}");
    assert!(
        p.transcript(run, seq)
            .contains(&format!("partial output of {seq}")),
        "session {seq}'s transcript"
    );
    let patch = p
        .patch(run, seq)
        .unwrap_or_else(|| panic!("session {seq}'s work as a patch"));
    assert!(patch.contains(&format!("+early {seq}")), "{patch}");
    assert!(patch.contains(&format!("+work of {seq}")), "{patch}");
    let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(run)]);
    assert!(!files.contains(&format!("early-{seq}.txt")), "{files}");
}

/// A grind of three held sessions, once all three run: session 1 waits for `$MARKS/go-1`,
/// sessions 2 and 3 for `$MARKS/release`.
pub fn three_held(p: &Project, iterations: &str) -> (Live, String) {
    let mut g = spawn(
        p,
        &["--max-iterations", iterations],
        &[("SLEEPERS", "2 3"), ("HOLD", "1"), ("AWAIT_1", "go-1")],
        "grind",
    );
    for seq in [1, 2, 3] {
        p.wait_mark(&format!("started-{seq}"), &mut g.g);
    }
    let run = p.only_run();
    for seq in [1, 2, 3] {
        wait_flushed(p, &run, seq);
    }
    (g, run)
}
