//! Processes an agent leaves behind end with its session, whatever they do to escape: here a
//! chain that ignores TERM and re-forks faster than the reaper can scan `/proc` (each process
//! starts its successor and exits at once), in a session of its own (`setsid`). Before, one
//! KILL round missed the successor forked meanwhile, and the chain outlived the grind.

use std::time::Duration;

use crate::support::grind::*;

/// Starts the chain (out of the agent's group, its output nowhere), then commits and exits.
const AGENT: &str = r#"
HOP='trap "" TERM; [ -e "$MARKS/stop" ] && exit 0; echo $$ >> "$MARKS/hops"; sh -c "$HOP" & exit 0'
export HOP
setsid sh -c "$HOP" </dev/null >/dev/null 2>&1 &
while [ ! -e "$MARKS/hops" ]; do sleep 0.01; done
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

/// Ends a chain the test failed to see ended (each of its processes checks for `stop`).
struct Stop(std::path::PathBuf);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, "");
    }
}

#[test]
fn a_process_that_re_forks_faster_than_a_scan_does_not_outlive_its_session() {
    let p = Project::new();
    p.prompt("a", "").agent(AGENT);
    let _stop = Stop(p.marks().join("stop"));
    let out = p.grind(&["--max-iterations", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["ok"]);
    // Each process of the chain appends its pid.
    let last = || std::fs::read_to_string(p.marks().join("hops")).unwrap_or_default();
    let before = last();
    std::thread::sleep(Duration::from_millis(500));
    let after = last();
    assert_eq!(
        before,
        after,
        "the chain still re-forks after grind ended: {}",
        diag(&out)
    );
    let pid: i32 = after
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .expect("the chain ran");
    assert!(
        wait_gone(pid, Duration::from_secs(2)),
        "its last process {pid} lives on"
    );
}

/// git's own auto-maintenance, which `git commit` starts detached (git 2.47 and later), is not
/// an agent's leftover: an agent that only commits is not warned about processes it left, and
/// git's maintenance is not killed.
#[test]
fn an_agent_that_only_commits_is_not_warned_about_leftover_processes() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "agent: session $PITBOSS_SEQ""#,
    );
    let out = p.grind(&["--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["ok", "ok"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains("outside its process group"),
        "a false warning: {}",
        diag(&out)
    );
}

/// The cgroup2 directory of a `/proc/<pid>/cgroup` text's `0::<path>` line, on the mount this
/// process sees.
fn cgroup_dir(cgroup: &str) -> std::path::PathBuf {
    let path = cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("a cgroup v2 line");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mount = mounts
        .lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            right
                .starts_with("cgroup2 ")
                .then(|| left.split_whitespace().nth(4))?
        })
        .expect("a cgroup2 mount");
    std::path::Path::new(mount).join(path.trim_start_matches('/'))
}

/// A grind killed while its session ran leaves the session's cgroup behind (the kill gives it
/// no chance to remove it); once nothing runs in it any more, the next grind removes it.
#[test]
#[cfg_attr(
    pitboss_lacks = "cgroup",
    ignore = "needs a cgroup v2 this user can make cgroups in"
)]
fn the_cgroup_of_a_killed_grinds_session_is_removed_by_the_next_grind() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"cat /proc/self/cgroup > "$MARKS/cgroup"
[ -e "$MARKS/second" ] || { touch "$MARKS/running"; sleep 60; }
echo "work" > "work-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "agent: session $PITBOSS_SEQ""#,
    );
    let mut cmd = p.grind_cmd(&["--max-iterations", "1"]);
    cmd.env("PITBOSS_CGROUPS", "auto");
    let mut g = Grind::spawn(&p, cmd, "first");
    p.wait_mark("running", &mut g);
    let cgroup = p.mark("cgroup");
    assert!(cgroup.contains("/pitboss-"), "{cgroup}");
    let dir = cgroup_dir(&cgroup);
    g.signal(nix::sys::signal::Signal::SIGKILL);
    g.wait(Duration::from_secs(10));
    // The agent, left running in it: ended as `--resume` would.
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
    for pid in procs.split_whitespace() {
        let pid: i32 = pid.parse().unwrap();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        assert!(wait_gone(pid, Duration::from_secs(5)));
    }
    assert!(dir.exists(), "{}", dir.display());
    std::fs::write(p.marks().join("second"), "").unwrap();
    let out = p.grind_with(&["--max-iterations", "1"], &[("PITBOSS_CGROUPS", "auto")]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert!(!dir.exists(), "{} is left", dir.display());
}

/// `PITBOSS_CGROUPS` other than `auto`, `on` or `off` is refused before anything runs, with the
/// values it takes; no run is made.
#[test]
fn a_pitboss_cgroups_value_grind_does_not_know_is_refused() {
    let p = Project::new();
    p.prompt("a", "").agent("touch \"$MARKS/ran\"");
    let out = p.grind_with(&["--max-iterations", "1"], &[("PITBOSS_CGROUPS", "maybe")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    assert!(
        err.contains(r#"PITBOSS_CGROUPS is "maybe": it must be auto, on or off"#),
        "{err}"
    );
    assert!(err.contains("unset it"), "{err}");
    assert!(!p.marks().join("ran").exists(), "the agent ran");
    assert_eq!(
        p.sb.git(&["for-each-ref", "refs/pitboss/"]),
        "",
        "a run was made"
    );
}
