//! What a running grind tells: the live progress (tokens counted the one way, the running
//! cost that `watch` shows), the per-session line against the closing table, and the drain that
//! `watch` asks for. Every test runs `git pitboss …` as users do.

use std::time::Duration;

use crate::grind_edges_cli::{bounded, config, fake_claude, fixture, prompt, write_exe};
use crate::support::*;

/// The per-session line and the closing table count a session's tokens the same way (input +
/// output + cache reads + cache writes) for every backend, on each one's recorded stream.
#[test]
fn the_session_line_and_the_closing_table_agree_on_tokens_for_every_backend() {
    for (backend, version, fixture_file) in [
        (
            "claude",
            "2.1.197 (Claude Code)",
            "claude/write-and-commit.jsonl",
        ),
        ("codex", "codex-cli 0.169.0", "codex/write-and-commit.jsonl"),
        ("gemini", "0.61.0", "gemini/write-and-commit.jsonl"),
        ("aider", "aider 0.86.2", "aider/write-and-commit.log"),
    ] {
        let sb = Sandbox::new();
        prompt(&sb, "work", "");
        let bin = sb.path(backend);
        write_exe(
            &bin,
            &format!(
                "#!/bin/sh\n[ \"$1\" = --version ] && {{ echo '{version}'; exit 0; }}\n\
                 cat >/dev/null\ncat '{}'\n",
                fixture(fixture_file).display()
            ),
        );
        config(
            &sb,
            &format!(
                "[agent]\nbackend = \"{backend}\"\nbinary = \"{}\"\n",
                bin.display()
            ),
        );
        let out = bounded(
            &sb,
            &["grind", "--max-iterations", "1"],
            &[],
            Duration::from_secs(30),
        );
        let err = stderr(&out);
        let line = err
            .lines()
            .find(|l| l.starts_with("0001 "))
            .unwrap_or_else(|| panic!("{backend}: no session line in\n{err}"));
        let on_line: u64 = line
            .split(" tok")
            .next()
            .and_then(|s| s.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{backend}: {line}"));
        let in_table: u64 = err
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("tokens    "))
            .and_then(|t| t.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{backend}: no tokens row in\n{err}"));
        let run = sb.only_run();
        let t = &sb.records(&run)[0]["tokens"];
        let parts: u64 = ["input", "output", "cache_read", "cache_write"]
            .iter()
            .map(|k| t[*k].as_u64().unwrap_or(0))
            .sum();
        assert!(parts > 0, "{backend}: {t}");
        assert_eq!(
            (on_line, in_table),
            (parts, parts),
            "{backend}: {line}\n{err}"
        );
    }
}

/// The live progress counts tokens as every other view does (input + output + cache reads +
/// cache writes), from the usage the agent streams.
#[test]
fn live_progress_counts_streamed_tokens_the_one_way() {
    let out = one_streamed_session("m");
    let tokens: Vec<u64> = events(&out)
        .iter()
        .filter(|e| e["event"] == "progress")
        .filter_map(|e| e["tokens"].as_u64())
        .collect();
    assert_eq!(tokens.last(), Some(&3520), "{}", stdout(&out));
}

/// The live progress carries the session's cost so far (its streamed tokens at its model's
/// price), which `watch` shows on the running session's row.
#[test]
fn live_progress_carries_the_running_cost() {
    let out = one_streamed_session("claude-sonnet-4-5");
    let costs: Vec<f64> = events(&out)
        .iter()
        .filter(|e| e["event"] == "progress")
        .filter_map(|e| e["cost_usd"].as_f64())
        .collect();
    // 100 in at $3/M, 20 out at $15/M, 3000 cache reads at $0.30/M, 400 writes at $3.75/M.
    let last = *costs.last().unwrap_or_else(|| panic!("{}", stdout(&out)));
    assert!((last - 0.003).abs() < 1e-9, "{last}");
}

/// A drain (`d` in `git pitboss watch` writes the run's `drain` file) stops the run before its
/// next session; asked for during the run's last session, it leaves the run finished by its
/// budget, which is what it is, not `aborted`.
#[test]
fn a_drain_stops_before_the_next_session_and_not_a_run_its_budget_ended() {
    for (drain_in, budget, sessions, status) in [(1, 3, 1, "aborted"), (2, 2, 2, "finished")] {
        let sb = Sandbox::new();
        prompt(&sb, "work", "");
        // The agent asks for the drain as watch would, beside its skip file.
        let agent = sb.path("agent.sh");
        write_exe(
            &agent,
            &format!(
                "#!/bin/sh\n[ \"$PITBOSS_SEQ\" = {drain_in} ] && touch \"$(dirname \"$PITBOSS_SKIP_FILE\")/drain\"\nexit 0\n"
            ),
        );
        let budget = budget.to_string();
        let out = bounded(
            &sb,
            &[
                "grind",
                "--agent",
                "command",
                "--agent-cmd",
                agent.to_str().unwrap(),
                "--max-iterations",
                &budget,
            ],
            &[],
            Duration::from_secs(30),
        );
        let run = sb.only_run();
        assert_eq!(sb.records(&run).len(), sessions, "{}", stderr(&out));
        let state = sb.git(&["show", &format!("refs/pitboss/grind/{run}:state.json")]);
        let state: serde_json::Value = serde_json::from_str(&state).unwrap();
        assert_eq!(state["status"], status, "{state}");
        let drained = stderr(&out).contains("drained from `git pitboss watch`: stopping");
        assert_eq!(drained, status == "aborted", "{}", stderr(&out));
    }
}

/// One grind session of a stand-in Claude Code that streams `model`'s usage (100 in, 20 out,
/// 3000 cache reads, 400 cache writes), with `--json` events.
fn one_streamed_session(model: &str) -> std::process::Output {
    let sb = Sandbox::new();
    prompt(&sb, "work", "");
    let stream = sb.path("stream.jsonl");
    std::fs::write(
        &stream,
        format!(
            "{{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s1\",\"model\":\"{model}\"}}\n\
             {{\"type\":\"assistant\",\"message\":{{\"id\":\"m1\",\"role\":\"assistant\",\"content\":[{{\"type\":\"text\",\"text\":\"hi\"}}],\
             \"usage\":{{\"input_tokens\":100,\"output_tokens\":20,\"cache_read_input_tokens\":3000,\"cache_creation_input_tokens\":400}}}}}}\n"
        ),
    )
    .unwrap();
    let bin = fake_claude(&sb, &stream);
    config(
        &sb,
        &format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n",
            bin.display()
        ),
    );
    bounded(
        &sb,
        &["grind", "--max-iterations", "1", "--json"],
        &[],
        Duration::from_secs(30),
    )
}

/// A parallel grind on a terminal: one live line per running session, with its slot, redrawn
/// in place as a block; the landing and session lines are printed above it, and once every
/// session has landed no live line is left on the screen.
#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn sessions_side_by_side_each_have_a_live_line_and_land_above_the_block() {
    let p = crate::support::grind::Project::new();
    p.prompt("a", "parallel_safe: true\n").agent(
        r#"
touch "$MARKS/started-$PITBOSS_SEQ"
i=0
while [ ! -f "$MARKS/go" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
echo "$PITBOSS_SEQ" > "f-$PITBOSS_SEQ.txt"
git add "f-$PITBOSS_SEQ.txt" && git commit -q -m "agent: session $PITBOSS_SEQ"
"#,
    );
    let mut env = p.sb.git_pitboss();
    env.env("MARKS", p.marks());
    let t = crate::support::tmux::Tmux::start(
        p.sb.dir.path(),
        p.repo(),
        &env,
        "git pitboss grind --max-iterations 3 --max-parallel 3; echo grind-exited-$?; sleep 60",
        100,
        30,
    );
    let screen = t.wait_for("three live lines", |s| {
        (1..=3).all(|seq| {
            s.lines()
                .any(|l| l.starts_with(&format!("  000{seq} slot ")) && l.contains("running"))
        })
    });
    let live: Vec<&str> = screen.lines().filter(|l| l.contains("running")).collect();
    assert_eq!(live.len(), 3, "one line per running session:\n{screen}");
    // Each says which pick of the budget it is, not how many have started so far.
    for seq in 1..=3 {
        assert!(
            live.iter()
                .any(|l| l.starts_with(&format!("  000{seq} slot "))
                    && l.contains(&format!("  {seq} of 3  "))),
            "session {seq} is pick {seq} of 3:\n{screen}"
        );
    }
    std::fs::write(p.marks().join("go"), "").unwrap();
    let screen = t.wait_text(&["grind-exited-0", "landings  3 landed, 0 conflicts"]);
    for seq in 1..=3 {
        let landed = format!("000{seq} slot ");
        let lines: Vec<&str> = (screen.lines())
            .filter(|l| l.starts_with(&landed) && l.contains("  landed  1 commit onto "))
            .collect();
        assert_eq!(lines.len(), 1, "{landed}landed, once:\n{screen}");
    }
    assert!(
        !screen.lines().any(|l| l.contains("running ")),
        "no live line is left behind:\n{screen}"
    );
}
