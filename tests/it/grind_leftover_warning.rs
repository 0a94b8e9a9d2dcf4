//! The warning "ended N process(es) the agent left running outside its process group (setsid)"
//! is given when, and only when, a process really left the agent's group, with the true count;
//! with a cgroup per session and without (`PITBOSS_CGROUPS=off`, the subreaper's scans).
//!
//! Issue 22: every timeout and every skip was warned about one process. `sh` runs its last
//! command as a child, so TERM to the group ended `sh` first and its `sleep` was re-parented to
//! grind, a zombie of the agent's own group; the count took that group for a leftover.

use crate::support::grind::*;

/// A session of `slow` sleeps past its limit (1 s, every prompt's); one of `skip` asks to be
/// skipped, then sleeps; one of `leave` starts two processes in a session of their own, ends.
const AGENT: &str = r#"
case "$PITBOSS_PROMPT" in
  slow) sleep 31 ;;
  skip) echo "nothing to do" > "$PITBOSS_SKIP_FILE"; sleep 30 ;;
  leave)
    setsid sh -c 'sleep 301 & echo $$ > "$MARKS/left"; exec sleep 300' </dev/null >/dev/null 2>&1 &
    while [ ! -s "$MARKS/left" ]; do sleep 0.01; done ;;
esac
"#;

const WARNING: &str = "outside its process group";

/// Runs one session of `prompt` with `PITBOSS_CGROUPS=<cgroups>`: its status and the warnings
/// grind gave about processes left outside the agent's group.
fn session(prompt: &str, cgroups: &str) -> (String, Vec<String>) {
    let p = Project::new();
    p.prompt(prompt, "max_session_seconds: 1\n").agent(AGENT);
    let out = p.grind_with(&["--max-iterations", "1"], &[("PITBOSS_CGROUPS", cgroups)]);
    let warnings = events(&out)
        .iter()
        .filter(|e| e["event"] == "warning")
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .filter(|m| m.contains(WARNING))
        .collect();
    let run = p.only_run();
    let status = statuses(&p.records(&run))[0].to_string();
    let left = std::fs::read_to_string(p.marks().join("left")).unwrap_or_default();
    if let Ok(pid) = left.trim().parse::<i32>() {
        assert!(
            wait_gone(pid, std::time::Duration::from_secs(5)),
            "{pid} outlived its session"
        );
    }
    (status, warnings)
}

#[test]
fn a_timeout_and_a_skip_are_not_warned_about_processes_left_outside_the_group() {
    for cgroups in ["auto", "off"] {
        let (status, warnings) = session("slow", cgroups);
        assert_eq!(status, "timeout", "PITBOSS_CGROUPS={cgroups}");
        assert_eq!(warnings, Vec::<String>::new(), "PITBOSS_CGROUPS={cgroups}");
        let (status, warnings) = session("skip", cgroups);
        assert_eq!(status, "skipped", "PITBOSS_CGROUPS={cgroups}");
        assert_eq!(warnings, Vec::<String>::new(), "PITBOSS_CGROUPS={cgroups}");
    }
}

#[test]
fn processes_that_left_the_group_are_warned_about_with_their_count() {
    for cgroups in ["auto", "off"] {
        let (status, warnings) = session("leave", cgroups);
        assert_eq!(status, "ok", "PITBOSS_CGROUPS={cgroups}");
        assert_eq!(
            warnings,
            [
                "session 1: ended 2 process(es) the agent left running outside its process group \
              (setsid)"
            ],
            "PITBOSS_CGROUPS={cgroups}"
        );
    }
}
