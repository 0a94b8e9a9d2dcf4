//! Parallel runs end to end (`max_parallel` > 1), through `git pitboss grind` as users run it,
//! with real git and real agents (shell scripts): sessions that really run at once (they meet
//! at a barrier of marker files), land one at a time in dispatch order, collide, fail their
//! verify command at landing, share the scratchpad; and the slots a run leaves behind.
//!
//! What is asserted is what a user sees afterwards: the run branch's commits, the records
//! (`git pitboss log --jsonl`) with their `slot` and `landing`, the patches in the run ref, the
//! `--json` events, `git worktree list` and `git branch`.

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

/// Four sessions meet at a barrier (so they run at once), write a file each and commit; the
/// later ones finish first. All four land, in dispatch order: the run branch's commits are in
/// seq order, and each record's landing names its commit, which is on the branch.
#[test]
fn four_sessions_at_once_all_land_in_dispatch_order() {
    let p = project(
        4,
        "",
        &[("work", SAFE)],
        r#"log start
barrier met 4
sleep "0.$((5 - PITBOSS_SEQ))"
echo "file of $PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add "file-$PITBOSS_SEQ.txt" && git commit -q -m "session $PITBOSS_SEQ"
log end
"#,
    );
    let out = grind(&p, &["--max-iterations", "4"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(seqs(&recs), [1, 2, 3, 4], "{ctx}");
    assert_eq!(statuses(&recs), ["ok"; 4], "{ctx}");
    let commits = branch_commits(&p, &run);
    let subjects: Vec<&str> = commits.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(
        subjects,
        ["session 1", "session 2", "session 3", "session 4"],
        "{ctx}"
    );
    let slots: BTreeSet<u64> = recs.iter().map(|r| r["slot"].as_u64().unwrap()).collect();
    assert_eq!(
        slots.len(),
        4,
        "four sessions at once need four slots\n{ctx}"
    );
    for (r, c) in recs.iter().zip(&commits) {
        let l = landing(r);
        assert_eq!(l["result"], "landed", "{ctx}");
        assert_eq!(l["commits"].as_array().unwrap().len(), 1, "{ctx}");
        // The landed commit is the branch's own commit of that session, in its place.
        assert_eq!(l["commits"][0], c.0.as_str(), "{ctx}");
    }
    // Each landed onto the tip the previous landing left.
    assert_eq!(
        landing(&recs[0])["onto"],
        p.sb.git(&["rev-parse", "main"]).trim(),
        "{ctx}"
    );
    for i in 1..4 {
        assert_eq!(
            landing(&recs[i])["onto"],
            commits[i - 1].0.as_str(),
            "{ctx}"
        );
    }
    // They ran at once: every one started before any ended.
    let iv = intervals(&p);
    let last_start = iv.values().map(|v| v.0).max().unwrap();
    let first_end = iv.values().map(|v| v.1).min().unwrap();
    assert_eq!(iv.len(), 4, "{ctx}");
    assert!(last_start < first_end, "{iv:?}");
    // The branch holds the four files.
    for seq in 1..=4 {
        assert_eq!(
            p.sb.git(&["show", &format!("{}:file-{seq}.txt", p.branch(&run))]),
            format!("file of {seq}\n")
        );
    }
    // A finished run leaves no slot behind.
    assert_eq!(p.state(&run)["status"], "finished", "{ctx}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
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

/// Two sessions start from the same tip and edit the same line: the first lands; the second
/// is an `error` whose landing is a `conflict` naming the file and the session it collided
/// with; its work is saved as a patch that applies to the tip both started from and not to
/// the branch it could not land on.
#[test]
fn two_sessions_editing_one_line_one_lands_one_conflicts_with_its_patch_kept() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        &format!("barrier met 2\n{EDIT_LINE}"),
    );
    shared_file(&p);
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    let (first, second) = (landing(&recs[0]), landing(&recs[1]));
    assert_eq!(first["result"], "landed", "{ctx}");
    assert_eq!(first["onto"], base.as_str(), "{ctx}");
    let tip = p.sb.git(&["rev-parse", &p.branch(&run)]).trim().to_string();
    assert_eq!(first["commits"], serde_json::json!([tip]), "{ctx}");
    assert_eq!(second["result"], "conflict", "{ctx}");
    assert_eq!(second["onto"], tip.as_str(), "{ctx}");
    assert_eq!(second["files"], serde_json::json!(["shared.txt"]), "{ctx}");
    assert_eq!(second["collided_with"], serde_json::json!([1]), "{ctx}");
    assert!(second.get("commits").is_none(), "{ctx}");
    let summary = recs[1]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("shared.txt") && summary.contains("session 1"),
        "{ctx}"
    );
    // The branch holds the first session's line only.
    assert_eq!(
        p.sb.git(&["show", &format!("{}:shared.txt", p.branch(&run))]),
        "one\nedited by 1\nthree\n"
    );
    assert_eq!(branch_commits(&p, &run).len(), 1, "{ctx}");
    // The second session's work, saved in the run ref.
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+edited by 2"), "{patch}");
    assert!(
        applies(&p, &base, &patch),
        "the patch does not apply to {base}\n{patch}"
    );
    assert!(
        !applies(&p, &tip, &patch),
        "the patch applies to {tip}\n{patch}"
    );
    // `show` says it to a person.
    let show = p.sb.ok(&["show", &run, "2"], "");
    assert!(
        show.contains("conflict onto") && show.contains("shared.txt"),
        "{show}"
    );
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}

/// An agent that commits by itself three times, in each of two sessions at once: all six
/// commits land, each with its author, date and whole message.
#[test]
fn an_agents_own_commits_all_land_with_author_and_message() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
for i in 1 2 3; do
  echo "$PITBOSS_SEQ/$i" > "s$PITBOSS_SEQ-$i.txt"
  git add "s$PITBOSS_SEQ-$i.txt"
  GIT_AUTHOR_NAME="Agent $PITBOSS_SEQ" GIT_AUTHOR_EMAIL="agent$PITBOSS_SEQ@example.com" \
  GIT_AUTHOR_DATE="2026-01-0$PITBOSS_SEQ 10:0$i:00 +0000" \
    git commit -q -m "s$PITBOSS_SEQ step $i" -m "why $PITBOSS_SEQ/$i"
done
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "ok"], "{ctx}");
    let log = p.sb.git(&[
        "log",
        "--reverse",
        "--format=%H|%an|%ae|%at|%B",
        "-z",
        &format!("main..{}", p.branch(&run)),
    ]);
    let commits: Vec<Vec<&str>> = log
        .split('\0')
        .filter(|c| !c.is_empty())
        .map(|c| c.splitn(5, '|').collect())
        .collect();
    assert_eq!(commits.len(), 6, "{ctx}\n{log}");
    let mut k = 0;
    for seq in 1..=2u64 {
        let l = landing(&recs[seq as usize - 1]);
        assert_eq!(l["result"], "landed", "{ctx}");
        let landed = l["commits"].as_array().unwrap();
        assert_eq!(landed.len(), 3, "{ctx}");
        for i in 1..=3 {
            let c = &commits[k];
            assert_eq!(landed[i - 1], c[0], "{ctx}");
            assert_eq!(c[1], format!("Agent {seq}"), "{log}");
            assert_eq!(c[2], format!("agent{seq}@example.com"), "{log}");
            let date = chrono::DateTime::parse_from_rfc3339(&format!("2026-01-0{seq}T10:0{i}:00Z"));
            assert_eq!(c[3], date.unwrap().timestamp().to_string(), "{log}");
            assert_eq!(
                c[4].trim_end(),
                format!("s{seq} step {i}\n\nwhy {seq}/{i}"),
                "{log}"
            );
            k += 1;
        }
    }
    // The second session's commits sit on the first's, each with its file.
    for seq in 1..=2 {
        for i in 1..=3 {
            assert_eq!(
                p.sb.git(&["show", &format!("{}:s{seq}-{i}.txt", p.branch(&run))]),
                format!("{seq}/{i}\n")
            );
        }
    }
}

/// A `verify: true` prompt whose verify command fails when a file named `bad` exists: the
/// session that made it is an `error` with landing `verify_failed`, its work saved as a patch,
/// the branch without it; the other session lands.
#[test]
fn verify_failing_at_landing_keeps_that_session_off_the_branch() {
    let p = project(
        2,
        "verify_command = \"test ! -e bad\"\n",
        &[("work", "parallel_safe: true\nverify: true\n")],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then f=bad; else f=good; fi
echo "made by $PITBOSS_SEQ" > "$f"
git add "$f" && git commit -q -m "session $PITBOSS_SEQ adds $f"
"#,
    );
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["error", "ok"], "{ctx}");
    assert_eq!(landing(&recs[0])["result"], "verify_failed", "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "landed", "{ctx}");
    // The second landed onto the base: the first never reached the branch.
    assert_eq!(landing(&recs[1])["onto"], base.as_str(), "{ctx}");
    let subjects: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects, ["session 2 adds good"], "{ctx}");
    let tree = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(!tree.lines().any(|f| f == "bad"), "{tree}");
    let patch = p
        .patch(&run, 1)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+made by 1"), "{patch}");
    assert!(applies(&p, &base, &patch), "{patch}");
    assert_eq!(p.patch(&run, 2), None);
}

/// The verify command runs on what the branch would hold after the landing, not on the
/// session alone: each session passes by itself, but the second one's result (with the
/// first's file already landed) fails, so it is `verify_failed`.
#[test]
fn verify_at_landing_runs_on_the_replayed_result() {
    let p = project(
        2,
        "verify_command = \"test ! -e a.txt || test ! -e b.txt\"\n",
        &[("work", "parallel_safe: true\nverify: true\n")],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then f=a.txt; else f=b.txt; fi
echo "made by $PITBOSS_SEQ" > "$f"
git add "$f" && git commit -q -m "session $PITBOSS_SEQ adds $f"
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    assert_eq!(landing(&recs[0])["result"], "landed", "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "verify_failed", "{ctx}");
    let subjects: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects, ["session 1 adds a.txt"], "{ctx}");
    assert!(
        p.patch(&run, 2).is_some_and(|d| d.contains("+made by 2")),
        "{ctx}"
    );
}

/// `--max-iterations 5` with `max_parallel = 4`: exactly five sessions are dispatched (the
/// first four meet at a barrier, so all four run when the fifth is due), seqs 1..5.
#[test]
fn max_iterations_five_with_four_slots_dispatches_exactly_five() {
    let p = project(
        4,
        "",
        &[("work", SAFE)],
        r#"echo "$PITBOSS_SEQ" >> "$MARKS/starts"
if [ "$PITBOSS_SEQ" -le 4 ]; then barrier met 4; fi
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = grind(&p, &["--max-iterations", "5"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let starts = std::fs::read_to_string(p.marks().join("starts")).unwrap();
    assert_eq!(starts.lines().count(), 5, "{starts}\n{ctx}");
    let recs = jsonl(&p, &run);
    assert_eq!(seqs(&recs), [1, 2, 3, 4, 5], "{ctx}");
    assert_eq!(statuses(&recs), ["ok"; 5], "{ctx}");
    assert_eq!(branch_commits(&p, &run).len(), 5, "{ctx}");
    let summary = run_summary(&out);
    assert_eq!(summary["sessions"], 5, "{ctx}");
    assert_eq!(
        summary["stop"]["reason"],
        serde_json::json!({"budget": "iterations", "limit": 5}),
        "{ctx}"
    );
}

/// A prompt without `parallel_safe` runs alone in a parallel run: no other session's agent
/// runs between its start and its end, while the safe ones do run side by side.
#[test]
fn a_prompt_not_parallel_safe_runs_alone() {
    let p = project(
        3,
        "",
        &[
            ("safe", "parallel_safe: true\nweight: 3\n"),
            ("solo", "max_runs: 1\n"),
        ],
        r#"log start
sleep 0.4
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
log end
"#,
    );
    let out = grind(&p, &["--max-iterations", "6"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok"; 6], "{ctx}");
    let iv = intervals(&p);
    assert_eq!(iv.len(), 6, "{iv:?}");
    let solo: Vec<u64> = iv
        .iter()
        .filter(|(_, v)| v.2 == "solo")
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(solo.len(), 1, "{iv:?}");
    let (s0, s1, _) = &iv[&solo[0]];
    for (seq, (a, b, _)) in &iv {
        if *seq != solo[0] {
            assert!(
                b < s0 || a > s1,
                "session {seq} overlaps solo {}: {iv:?}",
                solo[0]
            );
        }
    }
    // The safe ones did run side by side (else the test above proves nothing).
    let safe: Vec<&(u128, u128, String)> = iv.values().filter(|v| v.2 == "safe").collect();
    let overlapped = safe.iter().any(|x| {
        safe.iter()
            .any(|y| !std::ptr::eq(*x, *y) && x.0 < y.0 && y.0 < x.1)
    });
    assert!(overlapped, "no two safe sessions ran at once: {iv:?}");
}

/// A stand-in for Claude Code: does `body` (after [`PRELUDE`], its output on stderr), then
/// streams a text and a tool call (so `--json` shows progress) and a successful result.
fn fake_claude(p: &Project, body: &str) {
    let bin = p.sb.path("claude");
    std::fs::write(
        &bin,
        format!(
            r#"#!/bin/sh
[ "$1" = --version ] && {{ echo '2.1.197 (Claude Code)'; exit 0; }}
cat >/dev/null
{{
{PRELUDE}{body}
}} >&2
cat <<JSON
{{"type":"system","subtype":"init","session_id":"s$PITBOSS_SEQ","model":"claude-sonnet-4-5"}}
{{"type":"assistant","message":{{"id":"m$PITBOSS_SEQ","role":"assistant","content":[{{"type":"text","text":"working on $PITBOSS_SEQ"}}]}}}}
{{"type":"assistant","message":{{"id":"m$PITBOSS_SEQ","role":"assistant","content":[{{"type":"tool_use","id":"t1","name":"Bash","input":{{"command":"git commit"}}}}]}}}}
{{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done $PITBOSS_SEQ","session_id":"s$PITBOSS_SEQ"}}
JSON
"#
        ),
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cfg = p.repo().join(".pitboss/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let grind = &text[text.find("[grind]").unwrap()..];
    std::fs::write(
        &cfg,
        format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n\n{grind}",
            bin.display()
        ),
    )
    .unwrap();
}

/// `--json` of a parallel run (`--max-parallel` on the command line over the config's 1):
/// `session_started` and `progress` carry the session's slot, each session has one `landing`
/// event matching its record, and `run_finished` counts the landings by result.
#[test]
fn json_events_carry_slots_landings_and_their_counts() {
    let p = project(1, "", &[("work", SAFE)], "");
    fake_claude(
        &p,
        &format!(
            r#"barrier met 3
if [ "$PITBOSS_SEQ" = 2 ]; then
  echo two > two.txt && git add two.txt && git commit -q -m "session 2"
else
{EDIT_LINE}fi
"#
        ),
    );
    shared_file(&p);
    let out = grind(&p, &["--max-iterations", "3", "--max-parallel", "3"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "ok", "error"], "{ctx}");
    let evs = events(&out);
    let of = |name: &str| -> Vec<&Value> { evs.iter().filter(|e| e["event"] == name).collect() };
    assert_eq!(of("run_started")[0]["max_parallel"], 3, "{ctx}");
    let started = of("session_started");
    assert_eq!(started.len(), 3, "{ctx}");
    let mut slot_of = std::collections::BTreeMap::new();
    for e in &started {
        let slot = e["slot"].as_u64().unwrap_or_else(|| panic!("no slot: {e}"));
        assert!(slot < 3, "{e}");
        slot_of.insert(e["seq"].as_u64().unwrap(), slot);
    }
    assert_eq!(
        slot_of.values().collect::<BTreeSet<_>>().len(),
        3,
        "three at once, three slots: {ctx}"
    );
    let progress = of("progress");
    for seq in 1..=3u64 {
        let mine: Vec<&&Value> = progress.iter().filter(|e| e["seq"] == seq).collect();
        assert!(
            mine.iter()
                .any(|e| e["text"] == format!("working on {seq}")),
            "no progress of session {seq}: {ctx}"
        );
        for e in mine {
            assert_eq!(e["slot"], slot_of[&seq], "{e}");
        }
    }
    let landings = of("landing");
    let landed_seqs: Vec<u64> = landings
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(landed_seqs, [1, 2, 3], "one landing each, in order: {ctx}");
    for (e, r) in landings.iter().zip(&recs) {
        assert_eq!(e["slot"], r["slot"], "{e}");
        assert_eq!(e["landing"], r["landing"], "{e}");
        assert!(e["ms"].is_u64(), "{e}");
    }
    let summary = run_summary(&out);
    assert_eq!(
        summary["landings"],
        serde_json::json!({"landed": 2, "conflict": 1, "verify_failed": 0, "nothing": 0}),
        "{ctx}"
    );
}

/// Three sessions at once each append a note to the scratchpad they saw at dispatch: the
/// run's scratchpad at the end holds all three notes, each once.
#[test]
fn every_parallel_sessions_scratchpad_note_is_kept_once() {
    let p = project(
        3,
        "",
        &[("work", SAFE)],
        r#"barrier met 3
echo "- note from session $PITBOSS_SEQ" >> "$PITBOSS_SCRATCHPAD"
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = grind(&p, &["--max-iterations", "3"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    assert_eq!(statuses(&jsonl(&p, &run)), ["ok"; 3], "{ctx}");
    let pad = p.run_file(&run, "scratchpad.md").unwrap_or_default();
    for seq in 1..=3 {
        let note = format!("- note from session {seq}\n");
        assert_eq!(pad.matches(&note).count(), 1, "note {seq}:\n{pad}\n{ctx}");
    }
}

/// Ctrl-C once while three sessions run: no new session starts, the three finish and land, the
/// run is `aborted` and its slots stay (worktrees and slot branches); `--resume` runs its
/// sessions in those same slot worktrees and, finished, removes them all.
#[test]
fn slots_stay_after_ctrl_c_and_resume_reuses_then_removes_them() {
    let p = project(
        3,
        "",
        &[("work", SAFE)],
        r#"if [ "$PITBOSS_SEQ" -le 3 ]; then
  barrier met 3
  n=0
  until [ -e "$MARKS/go" ]; do
    n=$((n+1)); if [ $n -gt 600 ]; then echo "no go"; exit 9; fi
    sleep 0.05
  done
fi
git rev-parse --absolute-git-dir > "$MARKS/gitdir-$PITBOSS_SEQ"
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--max-iterations", "6"])
        .env("MARKS", p.marks())
        .stdin(Stdio::null());
    let mut g = Grind::spawn(&p, cmd, "first");
    for seq in 1..=3 {
        p.wait_mark(&format!("met-{seq}"), &mut g);
    }
    g.signal_group(nix::sys::signal::Signal::SIGINT);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !g.stderr().contains("stopping after this session") {
        assert!(std::time::Instant::now() < deadline, "{}", g.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(p.marks().join("go"), "").unwrap();
    g.wait(Duration::from_secs(60));
    let out = g.output();
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    // NB: git, which got the Ctrl-C too, passes it on, waits for grind, then dies of it itself:
    // a shell says 130, not grind's 2.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(2), "{ctx}");
    let recs = jsonl(&p, &run);
    assert_eq!(
        statuses(&recs),
        ["ok"; 3],
        "no new session after Ctrl-C: {ctx}"
    );
    for r in &recs {
        assert_eq!(landing(r)["result"], "landed", "{ctx}");
    }
    assert_eq!(p.state(&run)["status"], "aborted", "{ctx}");
    let (worktrees, branches) = slots_left(&p, &run);
    assert_eq!(worktrees.len(), 3, "{worktrees:?}\n{ctx}");
    for k in 1..3 {
        let b = format!("pitboss-slot/{run}/{k}");
        assert!(branches.contains(&b), "{b} not in {branches:?}\n{ctx}");
    }
    let gitdir = |seq: u64| p.mark(&format!("gitdir-{seq}"));
    let before: BTreeSet<String> = (1..=3).map(gitdir).collect();
    assert_eq!(before.len(), 3, "{before:?}");

    let out = grind(&p, &["--resume", &run]);
    let ctx = context(&p, &run, &out);
    assert_eq!(out.status.code(), Some(0), "{ctx}");
    let recs = jsonl(&p, &run);
    assert_eq!(seqs(&recs), [1, 2, 3, 4, 5, 6], "{ctx}");
    assert_eq!(statuses(&recs), ["ok"; 6], "{ctx}");
    for seq in 4..=6 {
        assert!(
            before.contains(&gitdir(seq)),
            "session {seq} ran in {} and not in a slot of before {before:?}",
            gitdir(seq)
        );
    }
    assert_eq!(p.state(&run)["status"], "finished", "{ctx}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
    assert_eq!(branch_commits(&p, &run).len(), 6, "{ctx}");
}

/// Six sessions on two slots: a slot used again starts from the run branch's tip at its
/// dispatch, and its scratchpad is the run's at that moment. Session N is dispatched only once
/// at most one other is live, so it sees the files and notes of at least N - 2 sessions.
#[test]
fn a_reused_slot_starts_from_the_tip_and_scratchpad_at_dispatch() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"seen=$(ls | grep -c '^file-')
notes=$(grep -c '^- note' "$PITBOSS_SCRATCHPAD" || true)
echo "$PITBOSS_SEQ $seen $notes $(git rev-parse HEAD)" >> "$MARKS/seen"
sleep 0.2
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
echo "- note $PITBOSS_SEQ" >> "$PITBOSS_SCRATCHPAD"
"#,
    );
    let out = grind(&p, &["--max-iterations", "6"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok"; 6], "{ctx}");
    let slots: BTreeSet<u64> = recs.iter().map(|r| r["slot"].as_u64().unwrap()).collect();
    assert_eq!(slots, BTreeSet::from([0, 1]), "{ctx}");
    let seen = std::fs::read_to_string(p.marks().join("seen")).unwrap();
    let tip = p.branch(&run);
    for line in seen.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (seq, files, notes): (u64, u64, u64) = (
            f[0].parse().unwrap(),
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
        );
        let least = seq.saturating_sub(2);
        assert!(files >= least && notes >= least, "{line}\n{seen}\n{ctx}");
        // It started from a commit of the run branch.
        let on_branch =
            p.sb.git_output_in(p.repo(), &["merge-base", "--is-ancestor", f[3], &tip])
                .status
                .success();
        assert!(on_branch, "{line}\n{ctx}");
    }
    let pad = p.run_file(&run, "scratchpad.md").unwrap_or_default();
    for seq in 1..=6 {
        assert_eq!(pad.matches(&format!("- note {seq}\n")).count(), 1, "{pad}");
    }
}

/// Three at once: one leaves its work uncommitted (`dirty`: pitboss commits it with trailers,
/// and it lands), one fails (its work saved as a patch, nothing of it on the branch), one commits;
/// the failed one does not keep the others from landing.
#[test]
fn leftovers_land_and_a_failed_session_lands_nothing_beside_others() {
    let p = project(
        3,
        "",
        &[("work", SAFE)],
        r#"barrier met 3
echo "work of $PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
case "$PITBOSS_SEQ" in
  1) ;;
  2) echo '{"summary":"could not do it"}' > "$PITBOSS_RESULT_FILE"; exit 3 ;;
  *) git add . && git commit -q -m "session $PITBOSS_SEQ" ;;
esac
"#,
    );
    let out = grind(&p, &["--max-iterations", "3"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["dirty", "error", "ok"], "{ctx}");
    assert_eq!(landing(&recs[0])["result"], "landed", "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "nothing", "{ctx}");
    assert_eq!(landing(&recs[2])["result"], "landed", "{ctx}");
    let commits = branch_commits(&p, &run);
    assert_eq!(commits.len(), 2, "{ctx}");
    let message = p.sb.git(&["log", "-1", "--format=%B", &commits[0].0]);
    assert!(
        message.starts_with("pitboss: work left uncommitted by session 0001")
            && message.contains(&format!("Pitboss-Run: {run}"))
            && message.contains("Pitboss-Session: 1"),
        "{message}"
    );
    assert_eq!(commits[1].1, "session 3", "{ctx}");
    let tree = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(!tree.contains("file-2.txt"), "{tree}");
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+work of 2"), "{patch}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}

/// A session of two commits, the first of which would apply and the second conflicts: none
/// of it lands (a landing is all or nothing), and its patch holds both, against its base.
#[test]
fn a_conflict_keeps_all_of_the_sessions_commits_off_the_branch() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        &format!(
            r#"barrier met 2
if [ "$PITBOSS_SEQ" = 2 ]; then
  echo mine > own-2.txt && git add own-2.txt && git commit -q -m "session 2 adds own-2.txt"
fi
{EDIT_LINE}"#
        ),
    );
    shared_file(&p);
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "conflict", "{ctx}");
    let subjects: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects, ["session 1 edits line 2"], "{ctx}");
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(
        patch.contains("+mine") && patch.contains("+edited by 2"),
        "{patch}"
    );
    assert!(applies(&p, &base, &patch), "{patch}");
}

/// Two sessions change the scratchpad's same line differently: both versions are kept,
/// between conflict markers naming the run's scratchpad and the session, neither lost. (A first
/// run writes the line both change; `--resume` then runs the two at once.)
#[test]
fn a_scratchpad_conflict_keeps_both_sides_between_markers() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"if [ "$PITBOSS_SEQ" = 1 ]; then
  printf '# notes\n- plan: none\n- keep this\n' > "$PITBOSS_SCRATCHPAD"
else
  barrier met 2
  sed -i "s/^- plan: .*/- plan: by $PITBOSS_SEQ/" "$PITBOSS_SCRATCHPAD"
fi
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = grind(&p, &["--max-iterations", "1"]);
    let run = p.only_run();
    assert_eq!(
        p.run_file(&run, "scratchpad.md").as_deref(),
        Some("# notes\n- plan: none\n- keep this\n"),
        "{}",
        diag(&out)
    );
    let out = grind(&p, &["--resume", &run, "--max-iterations", "3"]);
    let ctx = context(&p, &run, &out);
    assert_eq!(statuses(&jsonl(&p, &run)), ["ok", "ok", "ok"], "{ctx}");
    let pad = p.run_file(&run, "scratchpad.md").unwrap_or_default();
    for seq in 2..=3 {
        let plan = format!("- plan: by {seq}\n");
        assert_eq!(pad.matches(&plan).count(), 1, "{pad}\n{ctx}");
    }
    assert!(
        pad.contains("<<<<<<< ") && pad.contains(">>>>>>> session 3"),
        "{pad}"
    );
    assert_eq!(pad.matches("- keep this\n").count(), 1, "{pad}");
    assert!(!pad.contains("- plan: none"), "{pad}");
}

/// Two sessions each write a scratchpad of their own over the empty one: both are kept, once,
/// without markers (two insertions at one place contradict nothing).
#[test]
fn two_new_scratchpads_are_both_kept() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
echo "the plan of session $PITBOSS_SEQ" > "$PITBOSS_SCRATCHPAD"
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    assert_eq!(statuses(&jsonl(&p, &run)), ["ok", "ok"], "{ctx}");
    let pad = p.run_file(&run, "scratchpad.md").unwrap_or_default();
    assert_eq!(
        pad, "the plan of session 1\nthe plan of session 2\n",
        "{ctx}"
    );
}
