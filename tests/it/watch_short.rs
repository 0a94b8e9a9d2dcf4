//! `git pitboss watch` in a pane smaller than its view, read from a real terminal (tmux): the
//! per-prompt totals show the prompts that fit and a line with the true count of the others,
//! the key line and the help fit the width whole (shortened, never cut mid-word).

use std::process::Command;

use crate::support::grind::*;
use crate::support::tmux::Tmux;

/// Twelve prompts, one session each (a rotation of twelve, twelve iterations).
fn twelve_prompt_run() -> (Project, String) {
    let p = Project::new();
    for i in 1..=12 {
        p.prompt(&format!("p{i:02}"), "");
    }
    p.agent("echo \"did $PITBOSS_PROMPT\" > \"$PITBOSS_SUMMARY_FILE\"\n");
    p.sb.git(&["add", "-A"]);
    p.sb.git(&["commit", "-q", "-m", "prompts"]);
    let out = p.grind(&["--max-iterations", "12"]);
    assert!(out.status.success(), "{}", diag(&out));
    let run = p.only_run();
    (p, run)
}

fn watch(p: &Project, run: &str, width: u16, height: u16) -> Tmux {
    let env: Command = p.sb.git_pitboss();
    Tmux::start(
        p.sb.dir.path(),
        p.repo(),
        &env,
        &format!("git pitboss watch {run}; sleep 60"),
        width,
        height,
    )
}

/// The pane's last line: the key line.
fn key_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn a_short_narrow_pane_says_how_many_prompts_it_leaves_out_and_keeps_its_keys_whole() {
    let (p, run) = twelve_prompt_run();
    // 24 x 40: room for one prompt's totals; the other eleven are counted, not dropped.
    let t = watch(&p, &run, 40, 24);
    let screen = t.wait_text(&["sessions (12)", "per prompt", "… 11 more"]);
    // The budget's numbers stay whole; the bar gives way.
    assert!(screen.contains("12 of 12"), "{screen}");
    let totals: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("per prompt"))
        .collect();
    assert!(totals.iter().any(|l| l.contains("p01")), "{screen}");
    assert_eq!(key_line(&screen), "q quit · ↑↓ select · ? help", "{screen}");
    // The help wraps at words: its last key line ends whole, nothing cut at the border.
    t.keys(&["?"]);
    let screen = t.wait_text(&["keys", "this help (any key closes"]);
    for end in [
        "│          it)",
        "│          terminal)",
        "│and its run ref.",
    ] {
        assert!(screen.contains(end), "{end}:\n{screen}");
    }
    drop(t);
    // 10 x 40: no room for a prompt's row, and the box says all twelve are left out.
    let t = watch(&p, &run, 40, 10);
    let screen = t.wait_text(&["sessions (12)", "per prompt", "… 12 prompts"]);
    assert_eq!(key_line(&screen), "q quit · ↑↓ select · ? help", "{screen}");
    assert_eq!(screen.lines().count(), 10, "{screen}");
}
