//! Parallel runs end to end (`max_parallel` > 1), through `git pitboss grind` as users run it,
//! with real git and real agents (shell scripts): sessions that really run at once (they meet
//! at a barrier of marker files) and land one at a time in dispatch order (`landing`, and the
//! edges an agent can reach in `edges`), what is dispatched when and where (`dispatch`), and the
//! scratchpad they share (`scratchpad`).
//!
//! What is asserted is what a user sees afterwards: the run branch's commits, the records
//! (`git pitboss log --jsonl`) with their `slot` and `landing`, the patches in the run ref, the
//! `--json` events, `git worktree list` and `git branch`. Here: the helpers the three share.

mod control;
mod dispatch;
mod edges;
mod landing;
mod scratchpad;
mod tamper;
mod trace;

use std::collections::BTreeSet;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::grind::*;

/// Shared by every agent: `barrier NAME N` (leaves `$MARKS/NAME-<seq>` and waits until N
/// sessions did, failing the session after about 30 s), `log WORD` (appends `<seq> WORD <ns>`
/// to `$MARKS/times`, one line per call: O_APPEND keeps lines whole).
const PRELUDE: &str = r#"set -u
barrier() {
  touch "$MARKS/$1-$PITBOSS_SEQ"
  n=0
  while [ "$(ls "$MARKS" | grep -c "^$1-")" -lt "$2" ]; do
    n=$((n+1))
    if [ $n -gt 600 ]; then echo "barrier $1 timed out"; exit 9; fi
    sleep 0.05
  done
}
log() { echo "$PITBOSS_SEQ $1 $(date +%s%N) $PITBOSS_PROMPT" >> "$MARKS/times"; }
echo "session $PITBOSS_SEQ ($PITBOSS_PROMPT) in $PITBOSS_WORKTREE"
"#;

/// A project whose agent runs `body` after [`PRELUDE`], with `[grind] max_parallel = k` and
/// `extra_grind` more lines of `[grind]`; `prompts`: name → extra front matter.
fn project(k: u32, extra_grind: &str, prompts: &[(&str, &str)], body: &str) -> Project {
    let p = Project::new();
    for (name, fm) in prompts {
        p.prompt(name, fm);
    }
    p.agent(&format!("{PRELUDE}{body}"));
    let cfg = p.repo().join(".pitboss/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("{text}\n[grind]\nmax_parallel = {k}\n{extra_grind}"),
    )
    .unwrap();
    p
}

const SAFE: &str = "parallel_safe: true\n";

/// `git pitboss grind --json <args>` in the repository, `$MARKS` set, not yet started.
fn grind_cmd(p: &Project, args: &[&str]) -> std::process::Command {
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--json"])
        .args(args)
        .env("MARKS", p.marks())
        .stdin(Stdio::null());
    cmd
}

/// Runs grind to its end (a hung grind fails the test).
fn grind(p: &Project, args: &[&str]) -> Output {
    let mut g = Grind::spawn(p, grind_cmd(p, args), "grind");
    g.wait(Duration::from_secs(120));
    g.output()
}

/// The run's records exactly as stored (`git pitboss log <run> --jsonl`).
fn jsonl(p: &Project, run: &str) -> Vec<Value> {
    p.sb.ok(&["log", run, "--jsonl"], "")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The run branch's commits since main, oldest first: (id, subject, author name).
fn branch_commits(p: &Project, run: &str) -> Vec<(String, String, String)> {
    p.sb.git(&[
        "log",
        "--reverse",
        "--format=%H%x09%s%x09%an",
        &format!("main..{}", p.branch(run)),
    ])
    .lines()
    .map(|l| {
        let f: Vec<&str> = l.split('\t').collect();
        (f[0].to_string(), f[1].to_string(), f[2].to_string())
    })
    .collect()
}

/// The `landing` object of a record (panics with the record when there is none).
fn landing(r: &Value) -> &Value {
    let l = &r["landing"];
    assert!(l.is_object(), "no landing in {r}");
    l
}

/// The `<seq> <word> <ns> <prompt>` lines agents logged, as (seq, word, ns, prompt).
fn times(p: &Project) -> Vec<(u64, String, u128, String)> {
    std::fs::read_to_string(p.marks().join("times"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (
                f[0].parse().unwrap(),
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[3].to_string(),
            )
        })
        .collect()
}

/// Each session's (start, end) from [`times`], by seq.
fn intervals(p: &Project) -> std::collections::BTreeMap<u64, (u128, u128, String)> {
    let mut m = std::collections::BTreeMap::new();
    for (seq, word, ns, prompt) in times(p) {
        let e = m.entry(seq).or_insert((0, 0, prompt));
        match word.as_str() {
            "start" => e.0 = ns,
            "end" => e.1 = ns,
            _ => {}
        }
    }
    m
}

/// The run branch and the run ref's state, for failure messages.
fn context(p: &Project, run: &str, out: &Output) -> String {
    format!(
        "{}\n--- branch\n{:?}\n--- records\n{}",
        diag(out),
        branch_commits(p, run),
        p.sb.ok(&["log", run, "--jsonl"], "")
    )
}

/// What a run left of its slots: the worktrees git lists under `pitboss/worktrees/<run>/`,
/// and the slot branches `pitboss-slot/<run>/<k>`.
fn slots_left(p: &Project, run: &str) -> (Vec<String>, Vec<String>) {
    let worktrees =
        p.sb.git(&["worktree", "list", "--porcelain"])
            .lines()
            .filter_map(|l| l.strip_prefix("worktree "))
            .filter(|w| w.contains(&format!("pitboss/worktrees/{run}/")))
            .map(str::to_string)
            .collect();
    let branches =
        p.sb.git(&[
            "branch",
            "--list",
            "--format=%(refname:short)",
            "pitboss-slot/*",
        ])
        .lines()
        .map(str::to_string)
        .collect();
    (worktrees, branches)
}

/// Whether `patch` applies to `commit`'s tree (`git apply --check` in a detached worktree).
fn applies(p: &Project, commit: &str, patch: &str) -> bool {
    let dir = p.sb.path(&format!("check-{}", &commit[..12]));
    let file = p.sb.path("check.patch");
    std::fs::write(&file, patch).unwrap();
    p.sb.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        dir.to_str().unwrap(),
        commit,
    ]);
    let ok =
        p.sb.git_output_in(&dir, &["apply", "--check", file.to_str().unwrap()])
            .status
            .success();
    p.sb.git(&["worktree", "remove", "--force", dir.to_str().unwrap()]);
    ok
}

/// `shared.txt` of the base commit: its second line is the one both sessions edit.
fn shared_file(p: &Project) {
    std::fs::write(p.repo().join("shared.txt"), "one\ntwo\nthree\n").unwrap();
    p.sb.git(&["add", "shared.txt"]);
    p.sb.git(&["commit", "-q", "-m", "shared file"]);
}

/// Writes `$PITBOSS_SEQ` into line 2 of `shared.txt` and commits.
const EDIT_LINE: &str = r#"sed -i "2s/.*/edited by $PITBOSS_SEQ/" shared.txt
git commit -q -am "session $PITBOSS_SEQ edits line 2"
"#;
