//! What a parallel run dispatches, when and where: iterations counted at dispatch, a prompt
//! that is not `parallel_safe` alone, a slot used again from the run branch's tip, the slot in
//! `--json` events.

use super::*;

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
        serde_json::json!({"budget": "iterations", "limit": 5, "spent": 5}),
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
if [ "$PITBOSS_PROMPT" = safe ]; then
  # Until a second safe session runs too (or 3 s): they overlap however slow a start is.
  touch "$MARKS/safe-$PITBOSS_SEQ"
  n=0
  while [ "$(ls "$MARKS" | grep -c '^safe-')" -lt 2 ] && [ $n -lt 60 ]; do
    n=$((n+1)); sleep 0.05
  done
fi
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
    assert_eq!(slots, BTreeSet::from([1, 2]), "{ctx}");
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
        assert!((1..=3).contains(&slot), "{e}");
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
        assert!(
            mine.iter().any(|e| e["last_tool"] == "Bash"),
            "session {seq}'s tool never shown: {ctx}"
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
