//! In a parallel run, what a session's agent leaves running ends with that session and is
//! blamed on it, even when nothing about the process says where it came from: a daemon started
//! with an emptied environment (`env -i`), a double fork and `setsid`, or a chain of processes
//! that re-fork faster than any scan of `/proc`. The other session's long-running agent is not
//! touched, and nothing of either survives the grind.
//!
//! Before, a session beside others ended only the orphans whose environment carried its
//! `PITBOSS_SEQ`: these lived until the other session ended alone, which then ended them and
//! was warned about them. Each scenario runs twice: with a cgroup per session (where the machine
//! lets us make one), and with `PITBOSS_CGROUPS=off`, the fallback, where an orphan is told
//! apart by the record of the processes seen below each session's agent while still attached.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::grind::*;
use crate::support::parallel_grind::add_config;

/// Session 1 waits until session 2 runs, starts `$SCRIPT` detached (emptied environment, double
/// fork, `setsid`) through an intermediate that lives `$LINGER` seconds, waits until it started, commits and ends. Session 2 waits for
/// `$MARKS/release` (bounded), then commits.
const AGENT: &str = r#"
echo "$$" > "$MARKS/agent-$PITBOSS_SEQ"
cat /proc/self/cgroup > "$MARKS/cgroup-$PITBOSS_SEQ"
n=0
if [ "$PITBOSS_SEQ" = 1 ]; then
  while [ ! -e "$MARKS/agent-2" ] && [ $n -lt 1500 ]; do sleep 0.02; n=$((n + 1)); done
  env -i /bin/sh -c "/usr/bin/setsid /bin/sh $SCRIPT $MARKS $LINGER </dev/null >/dev/null 2>&1 & sleep $LINGER"
  while [ ! -e "$MARKS/started" ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
else
  while [ ! -e "$MARKS/release" ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
fi
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

/// A daemon: notes its pid and loops until ended.
const DAEMON: &str = r#"echo $$ > "$1/pid"; touch "$1/started"
while :; do sleep 0.05; done
"#;

/// A chain that ignores TERM and re-forks: each process starts its successor and exits at once.
/// The first waits `$LINGER` before it starts the chain (in the test's first argument), so a
/// scan sees it below its parent where that parent lives longer. It stops by itself only when
/// `$1/stop` appears (the test's clean-up).
const CHAIN: &str = r#"trap "" TERM
[ -n "$2" ] && sleep "$2"
[ -e "$1/stop" ] && exit 0
echo $$ >> "$1/hops"; touch "$1/started"
/bin/sh "$0" "$1" &
"#;

/// Ends whatever the test failed to see ended: the chain stops at `stop`, the rest is killed.
struct CleanUp<'a>(&'a Project, String);

impl Drop for CleanUp<'_> {
    fn drop(&mut self) {
        let _ = std::fs::write(self.0.marks().join("stop"), "");
        let _ = std::fs::write(self.0.marks().join("release"), "");
        for pid in with_marker(&self.1) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Live processes whose command line holds `marker`.
fn with_marker(marker: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me && !process_gone(*pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

/// Nothing with `marker` runs, and no chain re-forks (a scan can fall between two hops).
fn quiet(marker: &str, marks: &Path) -> bool {
    let hops = || std::fs::read_to_string(marks.join("hops")).map_or(0, |h| h.lines().count());
    let before = hops();
    std::thread::sleep(Duration::from_millis(100));
    with_marker(marker).is_empty() && hops() == before
}

/// How a scenario went: grind's output, and whether its processes were gone before session
/// 2 was released.
struct Ran {
    out: Output,
    gone_while_2_ran: bool,
    cgroup_1: String,
}

/// Two sessions side by side; session 1 starts `script` as described at [`AGENT`]. Waits up to
/// 10 s (the 5 s grace and more) after session 1's agent ended for every process with the
/// script's path in its command line to be gone, checking that session 2's agent still runs;
/// then releases session 2.
fn two_sessions(p: &Project, script: &str, linger: &str, cgroups: &str) -> Ran {
    p.prompt("work", "parallel_safe: true\n").agent(AGENT);
    add_config(p, "[grind]\nmax_parallel = 2\n");
    let path = p.sb.path("detached.sh");
    std::fs::write(&path, script).unwrap();
    let marker = path.display().to_string();
    let _clean = CleanUp(p, marker.clone());
    let mut cmd = p.grind_cmd(&["--max-iterations", "2", "--max-parallel", "2"]);
    cmd.env("SCRIPT", &path)
        .env("LINGER", linger)
        .env("PITBOSS_CGROUPS", cgroups);
    let mut g = Grind::spawn(p, cmd, "grind");
    p.wait_mark("started", &mut g);
    let agent_1: i32 = p.mark("agent-1").parse().unwrap();
    let agent_2: i32 = p.mark("agent-2").parse().unwrap();
    assert!(
        wait_gone(agent_1, Duration::from_secs(10)),
        "session 1 ran on"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !quiet(&marker, &p.marks()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let gone_while_2_ran = quiet(&marker, &p.marks());
    assert!(!process_gone(agent_2), "session 2's agent was ended");
    std::fs::write(p.marks().join("release"), "").unwrap();
    g.wait(Duration::from_secs(60));
    let out = g.output();
    assert!(
        with_marker(&marker).is_empty(),
        "outlived the grind: {}",
        diag(&out)
    );
    Ran {
        out,
        gone_while_2_ran,
        cgroup_1: p.mark("cgroup-1"),
    }
}

/// Both sessions ok; session 1 (only) is warned about what it left.
fn assert_blamed_on_session_1(p: &Project, ran: &Ran) {
    let out = &ran.out;
    assert!(ran.gone_while_2_ran, "outlived session 1: {}", diag(out));
    assert_eq!(out.status.code(), Some(0), "{}", diag(out));
    assert_eq!(statuses(&p.records(&p.only_run())), ["ok", "ok"]);
    let text = diag(out);
    assert!(text.contains("session 1: ended"), "{text}");
    assert!(!text.contains("session 2: ended"), "{text}");
    assert!(!text.contains("no session could be told"), "{text}");
}

fn in_session_cgroup(ran: &Ran) -> bool {
    ran.cgroup_1.contains("/pitboss-")
}

#[test]
#[cfg_attr(
    pitboss_lacks = "cgroup",
    ignore = "needs a cgroup v2 this user can make cgroups in"
)]
fn an_env_less_double_forked_daemon_ends_with_its_session_in_its_cgroup() {
    let p = Project::new();
    let ran = two_sessions(&p, DAEMON, "0", "auto");
    assert_blamed_on_session_1(&p, &ran);
    assert!(in_session_cgroup(&ran), "{}", ran.cgroup_1);
}

#[test]
#[cfg_attr(
    pitboss_lacks = "cgroup",
    ignore = "needs a cgroup v2 this user can make cgroups in"
)]
fn an_env_less_chain_that_re_forks_faster_than_a_scan_ends_with_its_session_in_its_cgroup() {
    let p = Project::new();
    let ran = two_sessions(&p, CHAIN, "0", "auto");
    assert_blamed_on_session_1(&p, &ran);
    assert!(in_session_cgroup(&ran), "{}", ran.cgroup_1);
    assert_chain_stopped(&p.marks());
}

/// Without cgroups: the daemon's intermediate process lives half a second, long enough for the
/// scans (every 25 ms) to see the daemon below session 1's agent; that record tells it apart
/// once it is an orphan.
#[test]
fn without_cgroups_a_daemon_seen_below_its_agent_ends_with_its_session() {
    let p = Project::new();
    let ran = two_sessions(&p, DAEMON, "0.5", "off");
    assert_blamed_on_session_1(&p, &ran);
    assert!(!in_session_cgroup(&ran), "{}", ran.cgroup_1);
}

/// Without cgroups: the chain's first process waits half a second below its parent before it
/// re-forks; seen there, its process group and session (made with `setsid`), which every hop
/// keeps, are recorded as session 1's, so hops born between scans are still told apart.
#[test]
fn without_cgroups_a_chain_seen_below_its_agent_ends_with_its_session() {
    let p = Project::new();
    let ran = two_sessions(&p, CHAIN, "0.5", "off");
    assert_blamed_on_session_1(&p, &ran);
    assert!(!in_session_cgroup(&ran), "{}", ran.cgroup_1);
    assert_chain_stopped(&p.marks());
}

/// Without cgroups, a daemon detached at once (never seen attached, no environment, its own
/// session and group, born while two sessions ran) cannot be told apart: no session is warned
/// about it or ends it, and grind ends it when it ends, saying so.
#[test]
fn without_cgroups_a_daemon_nobody_can_be_told_to_own_ends_with_the_grind_unblamed() {
    let p = Project::new();
    let ran = two_sessions(&p, DAEMON, "0", "off");
    let text = diag(&ran.out);
    assert_eq!(ran.out.status.code(), Some(0), "{text}");
    assert!(
        !text.contains("session 2: ended"),
        "blamed on session 2: {text}"
    );
    if !text.contains("session 1: ended") {
        // Not caught attached by a scan (the usual case): it outlived its session, then grind.
        assert!(!ran.gone_while_2_ran, "{text}");
        assert!(
            text.contains("process(es) left running that no session could be told"),
            "{text}"
        );
    }
}

/// The chain re-forks no more: its list of hops stays the same.
fn assert_chain_stopped(marks: &Path) {
    let hops = || std::fs::read_to_string(marks.join("hops")).unwrap_or_default();
    let before = hops();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        before.lines().count(),
        hops().lines().count(),
        "the chain goes on"
    );
}
