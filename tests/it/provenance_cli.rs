//! `git pitboss stats`, `blame` and `why` on real histories: runs recorded with
//! `git pitboss record` whose sessions made real commits, then landed on `main` the ways people
//! land work (fast-forward, merge, rebase, cherry-pick, squash of the whole branch, hand-copy of
//! some sessions' work, and a later edit that makes one session undecidable). Every number
//! `stats` prints is checked against the known answer.

use crate::support::Sandbox;
use crate::support::record::RecordJson;
use serde_json::Value;

fn git_pitboss(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb
        .git_pitboss()
        .args(args)
        .output()
        .expect("run git pitboss");
    assert!(
        out.status.success(),
        "git pitboss {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(sb: &Sandbox, args: &[&str]) -> Value {
    serde_json::from_str(&git_pitboss(sb, args)).expect("JSON output")
}

/// Writes files, commits, and records sessions; each session runs 10 s longer than the one
/// before, so the median is known.
struct History<'a> {
    sb: &'a Sandbox,
    secs: u64,
}

impl History<'_> {
    fn write(&self, path: &str, text: &str) {
        std::fs::write(self.sb.repo.join(path), text).unwrap();
    }

    fn commit(&self, msg: &str) -> String {
        self.sb.git(&["add", "-A"]);
        self.sb.git(&["commit", "-q", "-m", msg]);
        self.sb.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Records a session of `run` (created on first use) whose code commit is `commit`.
    fn record(&mut self, run: &str, prompt: &str, commit: Option<&str>, cost_known: bool) {
        self.secs += 10;
        let (usd, source) = if cost_known {
            (0.1, "reported")
        } else {
            (0.0, "unknown")
        };
        let ended = format!("2026-11-24T10:{:02}:{:02}Z", self.secs / 60, self.secs % 60);
        let rec = RecordJson::new(prompt)
            .times("2026-11-24T10:00:00Z", &ended)
            .status(if commit.is_some() { "ok" } else { "error" })
            .summary(Some(&format!("did {prompt}")))
            .commit(commit)
            .tokens(100, 50, 10, 5)
            .cost(usd, source)
            .field("agent", "claude")
            .field("model", "opus")
            .json();
        let transcript = self.sb.path("transcript.log");
        std::fs::write(
            &transcript,
            format!(
                "thinking about {prompt}\nread README\ntool: Write {prompt}.txt\nwrote it\ndone\n"
            ),
        )
        .unwrap();
        let out = crate::support::run_with_stdin(
            self.sb.git_pitboss().args([
                "record",
                run,
                "--create",
                "--transcript",
                transcript.to_str().unwrap(),
            ]),
            &rec,
        );
        assert!(
            out.status.success(),
            "record failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts run `run` on branch `pitboss/<run>` from main.
    fn branch(&self, run: &str) {
        self.sb
            .git(&["checkout", "-q", "-b", &format!("pitboss/{run}"), "main"]);
    }

    fn main(&self) {
        self.sb.git(&["checkout", "-q", "main"]);
    }
}

const APP: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\nthirteen\nfourteen\nfifteen\n";

/// The history every test reads; see the module comment. Returns the sandbox.
fn build() -> Sandbox {
    let sb = Sandbox::new();
    let mut h = History { sb: &sb, secs: 0 };
    h.write("app.txt", APP);
    h.commit("app");

    // Run "ff": one session, fast-forwarded into main.
    h.branch("ff");
    h.write("b.txt", "b from ff\n");
    let c = h.commit("ff 1");
    h.record("ff", "fix", Some(&c), true);
    h.main();
    sb.git(&["merge", "-q", "--ff-only", "pitboss/ff"]);

    // Run "merge": two sessions merged with a merge commit, one that changed nothing (and
    // whose cost is unknown).
    h.branch("merge");
    h.write("a.txt", "a line 1\n");
    let c = h.commit("merge 1");
    h.record("merge", "a", Some(&c), true);
    h.write("a.txt", "a line 1\na line 2\n");
    let c = h.commit("merge 2");
    h.record("merge", "docs", Some(&c), true);
    h.record("merge", "docs", None, false);
    h.main();
    h.write("unrelated.txt", "main moved on\n");
    h.commit("main moves");
    sb.git(&["merge", "-q", "--no-ff", "-m", "merge run", "pitboss/merge"]);

    // Run "rebase": two sessions rebased onto main, then fast-forwarded.
    h.branch("rebase");
    sb.git(&["reset", "-q", "--hard", "HEAD~1"]);
    h.write("c.txt", "c line 1\n");
    let c = h.commit("rebase 1");
    h.record("rebase", "c", Some(&c), true);
    h.write("c.txt", "c line 1\nc line 2\n");
    let c = h.commit("rebase 2");
    h.record("rebase", "docs", Some(&c), true);
    sb.git(&["checkout", "-q", "-b", "tmp-rebase"]);
    sb.git(&["rebase", "-q", "main"]);
    h.main();
    sb.git(&["merge", "-q", "--ff-only", "tmp-rebase"]);

    // Run "pick": only the second session is cherry-picked.
    h.branch("pick");
    h.write("d1.txt", "d1\n");
    let c = h.commit("pick 1");
    h.record("pick", "fix", Some(&c), true);
    h.write("d2.txt", "d2\n");
    let d2 = h.commit("pick 2");
    h.record("pick", "fix", Some(&d2), true);
    h.main();
    sb.git(&["cherry-pick", &d2]);

    // Run "squash": the whole branch squash-merged; the second session edits the first's line.
    h.branch("squash");
    h.write("e.txt", "e first\n");
    let c = h.commit("squash 1");
    h.record("squash", "fix", Some(&c), true);
    h.write("e.txt", "e second\n");
    let c = h.commit("squash 2");
    h.record("squash", "docs", Some(&c), true);
    h.main();
    sb.git(&["merge", "-q", "--squash", "pitboss/squash"]);
    h.commit("squashed");

    // Run "copy": sessions 2 and 3 copied by hand into one commit with other work.
    h.branch("copy");
    h.write("f1.txt", "f1\n");
    let c = h.commit("copy 1");
    h.record("copy", "fix", Some(&c), true);
    h.write("f2.txt", "f2\n");
    let c = h.commit("copy 2");
    h.record("copy", "docs", Some(&c), true);
    h.write("app.txt", &APP.replace("five\n", "FIVE by copy 3\n"));
    let c = h.commit("copy 3");
    h.record("copy", "fix", Some(&c), true);
    h.main();
    h.write("f2.txt", "f2\n");
    h.write("app.txt", &APP.replace("five\n", "FIVE by copy 3\n"));
    h.write("notes.txt", "my own work\n");
    h.commit("hand copy of some of run copy");

    // Run "edited": session 1 copied by hand, then its line edited again: undecidable.
    h.branch("edited");
    let app = std::fs::read_to_string(sb.repo.join("app.txt")).unwrap();
    h.write("app.txt", &app.replace("ten\n", "TEN by edited 1\n"));
    let c = h.commit("edited 1");
    h.record("edited", "fix", Some(&c), true);
    h.write("g.txt", "g\n");
    let c = h.commit("edited 2");
    h.record("edited", "docs", Some(&c), true);
    h.main();
    h.write("app.txt", &app.replace("ten\n", "TEN by edited 1\n"));
    h.write("more.txt", "more of my own\n");
    h.commit("hand copy of edited 1");
    h.write("app.txt", &app.replace("ten\n", "ten, rewritten by hand\n"));
    h.commit("later edit");
    sb
}

fn verdicts_by_run(v: &Value) -> Vec<(String, u64, u64, u64, u64)> {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["sessions"].as_u64().unwrap(),
                g["landed"].as_u64().unwrap(),
                g["reached"].as_u64().unwrap(),
                g["reach_unknown"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn stats_counts_every_way_work_reaches_the_target() {
    let sb = build();
    let v = json(&sb, &["stats", "--by", "run", "--target", "main", "--json"]);
    // (run, sessions, landed, reached, unknown)
    assert_eq!(
        verdicts_by_run(&v),
        vec![
            ("copy".into(), 3, 3, 2, 0),
            ("edited".into(), 2, 2, 0, 1),
            ("ff".into(), 1, 1, 1, 0),
            ("merge".into(), 3, 2, 2, 0),
            ("pick".into(), 2, 2, 1, 0),
            ("rebase".into(), 2, 2, 2, 0),
            ("squash".into(), 2, 2, 2, 0),
        ]
    );
    let t = &v["total"];
    assert_eq!(t["sessions"], 15);
    assert_eq!(t["by_status"]["ok"], 14);
    assert_eq!(t["by_status"]["error"], 1);
    assert_eq!(t["changed_nothing"], 1);
    assert_eq!(t["landed"], 14);
    assert_eq!(t["reached"], 10);
    assert_eq!(t["reach_unknown"], 1);
    assert_eq!(
        t["reached_by"],
        serde_json::json!({"merged": 3, "patch-id": 3, "squashed-run": 2, "applied": 2})
    );
    // input + output + cache reads + cache writes = 165 a session.
    assert_eq!(t["tokens"], 15 * 165);
    assert!((t["cost_usd"].as_f64().unwrap() - 1.4).abs() < 1e-9, "{t}");
    assert_eq!(t["cost_unknown"], 1);
    assert!((t["cost_per_session"].as_f64().unwrap() - 0.1).abs() < 1e-9);
    assert!((t["cost_per_reached"].as_f64().unwrap() - 0.14).abs() < 1e-9);
    // Sessions took 10, 20, …, 150 s: the median is the 8th.
    assert_eq!(t["median_secs"], 80);
    assert_eq!(v["runs"], 7);

    // The same figures, as a person reads them.
    let text = git_pitboss(&sb, &["stats", "--target", "main"]);
    let total = text.lines().find(|l| l.starts_with("TOTAL")).expect(&text);
    let cells: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "TOTAL",
            "15",
            "1",
            "error,",
            "14",
            "ok",
            "7%",
            "93%",
            "10",
            "(67%)",
            "1",
            "2475",
            "$1.4000",
            "+1?",
            // Per session of known cost; one session's cost is unknown, so marked.
            "$0.1000+?",
            "$0.1400+?",
            "1m20s"
        ],
        "{text}"
    );
    assert!(
        text.contains("reached by: 2 applied, 3 merged, 3 patch-id, 2 squashed-run"),
        "{text}"
    );
    let docs = text.lines().find(|l| l.starts_with("docs ")).expect(&text);
    // docs: merge 2 (merged), merge 3 (nothing, unknown cost), rebase 2 (patch id),
    // squash 2 (squash), copy 2 (applied), edited 2 (no).
    assert!(
        docs.split_whitespace().collect::<Vec<_>>()[1] == "6",
        "{docs}"
    );
    assert!(docs.contains("4 (67%)"), "{docs}");
}

#[test]
fn stats_filters_groups_and_caches() {
    let sb = build();
    let by_prompt = json(&sb, &["stats", "--target", "main", "--json"]);
    let keys: Vec<&str> = by_prompt["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "c", "docs", "fix"]);
    // Only two runs, by their prefixes.
    let two = json(
        &sb,
        &[
            "stats", "pick", "squash", "--target", "main", "--by", "model", "--json",
        ],
    );
    assert_eq!(two["total"]["sessions"], 4);
    assert_eq!(two["total"]["reached"], 3);
    assert_eq!(two["groups"][0]["key"], "opus");
    // Nothing started after the sessions.
    let none = json(
        &sb,
        &[
            "stats",
            "--since",
            "2026-11-25",
            "--target",
            "main",
            "--json",
        ],
    );
    assert_eq!(none["total"]["sessions"], 0);
    // The cache answers the second call with the same figures …
    let cache = sb.repo.join(".git/pitboss/cache/provenance.json");
    assert!(cache.is_file());
    let again = json(&sb, &["stats", "--target", "main", "--json"]);
    assert_eq!(again["total"], by_prompt["total"]);
    // … and a new session is added to it.
    let sb2 = &sb;
    let mut h = History { sb: sb2, secs: 200 };
    sb.git(&["checkout", "-q", "pitboss/ff"]);
    h.write("h.txt", "a late session\n");
    let c = h.commit("late");
    h.record("ff", "fix", Some(&c), true);
    h.main();
    sb.git(&["merge", "-q", "--no-ff", "-m", "late merge", "pitboss/ff"]);
    let grown = json(&sb, &["stats", "--target", "main", "--json"]);
    assert_eq!(grown["total"]["sessions"], 16);
    assert_eq!(grown["total"]["reached"], 11);
    // A teammate's run known only from a remote's tracking ref counts with --remote-runs.
    let tip = sb
        .git(&["rev-parse", "refs/pitboss/grind/pick"])
        .trim()
        .to_string();
    sb.git(&["update-ref", "refs/pitboss-remotes/origin/grind/pick", &tip]);
    sb.git(&["update-ref", "-d", "refs/pitboss/grind/pick"]);
    let local = json(&sb, &["stats", "--target", "main", "--json"]);
    assert_eq!(local["total"]["sessions"], 14);
    let remote = json(
        &sb,
        &["stats", "--target", "main", "--remote-runs", "--json"],
    );
    assert_eq!(remote["total"]["sessions"], 16);
    assert_eq!(remote["total"]["reached"], 11);
    sb.git(&["update-ref", "refs/pitboss/grind/pick", &tip]);
    // Without a target and without base branches, reaching is unknown, never a guess.
    let no_target = json(&sb, &["stats", "--json"]);
    assert_eq!(no_target["total"]["reached"], 0);
    assert_eq!(no_target["total"]["reach_unknown"], 15);
    assert_eq!(no_target["runs"], 7);
}

#[test]
fn blame_and_why_name_the_session_that_wrote_the_line() {
    let sb = build();
    // Rebased commits are matched by patch id; merged ones by commit.
    let lines: Value =
        serde_json::from_str(&git_pitboss(&sb, &["blame", "--json", "main", "c.txt"])).unwrap();
    assert_eq!(lines[0]["session"]["run"], "rebase");
    assert_eq!(lines[0]["session"]["seq"], 1);
    assert_eq!(lines[0]["session"]["via"], "patch-id");
    assert_eq!(lines[1]["session"]["seq"], 2);
    // A squash of the whole run branch: the line is matched on the run branch by its text.
    let e: Value = serde_json::from_str(&git_pitboss(&sb, &["blame", "--json", "e.txt"])).unwrap();
    assert_eq!(e[0]["session"]["run"], "squash");
    assert_eq!(e[0]["session"]["seq"], 2);
    assert_eq!(e[0]["session"]["via"], "squashed-run");
    let text = git_pitboss(&sb, &["blame", "a.txt"]);
    assert!(text.contains("merge #0001 a"), "{text}");
    assert!(text.contains("merge #0002 docs"), "{text}");
    // Lines no session wrote are left plain; -L is git's.
    let app = git_pitboss(&sb, &["blame", "-L", "1,2", "app.txt"]);
    assert_eq!(app.lines().count(), 2, "{app}");
    assert!(!app.contains('#'), "{app}");

    let why = git_pitboss(&sb, &["why", "a.txt:2"]);
    assert!(why.contains("run       merge"), "{why}");
    assert!(why.contains("session   2"), "{why}");
    assert!(why.contains("prompt    docs"), "{why}");
    assert!(why.contains("status    ok"), "{why}");
    assert!(
        why.contains("tokens    165 (100 in, 50 out, 10 cache read, 5 cache write)"),
        "{why}"
    );
    assert!(why.contains("cost      $0.1000"), "{why}");
    assert!(why.contains("summary   did docs"), "{why}");
    let first = git_pitboss(&sb, &["why", "a.txt:1"]);
    assert!(first.contains("transcript (transcripts/"), "{first}");
    assert!(first.contains("tool: Write a.txt"), "{first}");
    let v = json(
        &sb,
        &["why", "--json", "--rev", "pitboss/copy", "app.txt:5"],
    );
    assert_eq!(v["session"]["run"], "copy");
    assert_eq!(v["session"]["seq"], 3);
    assert_eq!(v["record"]["prompt"], "fix");
    assert_eq!(v["content"], "FIVE by copy 3");
    // The transcript mentions the file it wrote.
    let v = json(
        &sb,
        &["why", "--json", "e.txt:1", "--rev", "pitboss/squash"],
    );
    assert_eq!(v["session"]["seq"], 2);
    let not_session = git_pitboss(&sb, &["why", "notes.txt:1"]);
    assert!(
        not_session.contains("not written by a pitboss session"),
        "{not_session}"
    );

    // Mistakes are refused with a hint, not a panic.
    let out = sb.git_pitboss().args(["why", "a.txt:99"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hint:"), "{err}");
    let out = sb.git_pitboss().args(["why", "a.txt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let out = sb
        .git_pitboss()
        .args(["stats", "--target", "no-such-branch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-branch"));
}

const AGENT: &str = r#"
echo "line by session $PITBOSS_SEQ" >> work.txt
git add work.txt
git commit -q -m "agent: session $PITBOSS_SEQ"
echo "tool: Write work.txt"
echo "summary of session $PITBOSS_SEQ" > "$PITBOSS_SUMMARY_FILE"
printf '{"tokens":{"input":100,"output":10,"cache_read":1000},"cost_usd":0.25}\n' > "$PITBOSS_RESULT_FILE"
"#;

#[test]
fn a_grind_run_is_judged_against_its_base_branch_and_why_shows_its_prompt() {
    let p = crate::support::grind::Project::new();
    p.prompt("fix", "").agent(AGENT);
    p.sb.git(&["add", "-A"]);
    p.sb.git(&["commit", "-q", "-m", "prompts"]);
    let out = p.grind(&["--max-iterations", "2"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = p.only_run();
    // Not merged yet: landed on the run branch, not on main (the base branch).
    let v = json(&p.sb, &["stats", "--json"]);
    assert_eq!(v["total"]["sessions"], 2);
    assert_eq!(v["total"]["landed"], 2);
    assert_eq!(v["total"]["reached"], 0);
    assert_eq!(v["total"]["reach_unknown"], 0);
    assert_eq!(v["total"]["tokens"], 2 * 1110);
    assert!((v["total"]["cost_usd"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert_eq!(v["total"]["cost_per_reached"], Value::Null);
    let branch = p.branch(&run);
    p.sb.git(&["merge", "-q", "--no-ff", "-m", "take the run", &branch]);
    let v = json(&p.sb, &["stats", "--json", "--by", "agent"]);
    assert_eq!(v["total"]["reached"], 2);
    assert_eq!(v["groups"][0]["key"], "command");
    assert!((v["total"]["cost_per_reached"].as_f64().unwrap() - 0.25).abs() < 1e-9);

    let why = git_pitboss(&p.sb, &["why", "work.txt:2"]);
    assert!(why.contains(&format!("run       {run}")), "{why}");
    assert!(why.contains("session   2"), "{why}");
    assert!(why.contains("summary   summary of session 2"), "{why}");
    assert!(why.contains("Do the fix thing."), "{why}");
    assert!(why.contains("tool: Write work.txt"), "{why}");
}

/// A run whose every session is of unknown cost that reached the target: the cost columns say
/// `unknown`, never a dollar figure, and one run is "1 run".
#[test]
fn stats_of_sessions_of_unknown_cost_say_unknown() {
    let sb = Sandbox::new();
    let mut h = History { sb: &sb, secs: 0 };
    h.branch("dark");
    h.write("d.txt", "d\n");
    let c = h.commit("dark 1");
    h.record("dark", "fix", Some(&c), false);
    h.main();
    sb.git(&["merge", "-q", "--ff-only", "pitboss/dark"]);
    let out = git_pitboss(&sb, &["stats", "--target", "main"]);
    let total = out
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = total.split_whitespace().collect();
    // TOTAL 1 1 ok 0% 100% 1 (100%) 0 <tokens> <cost> <$/session> <$/reached> <median>
    assert_eq!(
        &cells[cells.len() - 4..cells.len() - 1],
        ["unknown"; 3],
        "{out}"
    );
    assert!(!out.contains("$0"), "{out}");
    assert!(out.contains("\n1 run; target: main"), "{out}");
    let v = json(&sb, &["stats", "--target", "main", "--json"]);
    assert!(v["total"]["cost_per_reached"].is_null(), "{v}");
}

/// Sessions copied into `main` by one hand-made commit (what `stats` counts as `applied`):
/// `blame` and `why` name the session by the same evidence, say `unknown` with the candidates
/// when two sessions wrote the same text, and "not written by a pitboss session" only for a
/// line no session wrote.
#[test]
fn why_and_blame_agree_with_stats_after_a_hand_squash() {
    let sb = Sandbox::new();
    let mut h = History { sb: &sb, secs: 0 };
    h.branch("hand");
    h.write("k.txt", "kept by one\n");
    let c = h.commit("hand 1");
    h.record("hand", "fix", Some(&c), true);
    h.write("k.txt", "kept by one\ntwin\n");
    let c = h.commit("hand 2");
    h.record("hand", "docs", Some(&c), true);
    h.write("k.txt", "kept by one\ntwin\ntwin\n");
    let c = h.commit("hand 3");
    h.record("hand", "docs", Some(&c), true);
    h.main();
    h.write("k.txt", "kept by one\ntwin\ntwin\n");
    h.write("mine.txt", "mine\n");
    h.commit("squash of the run by hand, and a file of my own");
    let v = json(&sb, &["stats", "--target", "main", "--json"]);
    assert_eq!(v["total"]["reached"], 3, "{v}");
    assert_eq!(v["total"]["reached_by"], serde_json::json!({"applied": 3}));

    let lines: Value =
        serde_json::from_str(&git_pitboss(&sb, &["blame", "--json", "k.txt"])).unwrap();
    assert_eq!(lines[0]["session"]["seq"], 1, "{lines}");
    assert_eq!(lines[0]["session"]["via"], "applied");
    for twin in [&lines[1], &lines[2]] {
        assert!(twin["session"].is_null(), "{twin}");
        let seqs: Vec<u64> = twin["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, [2, 3], "{twin}");
    }
    let text = git_pitboss(&sb, &["blame", "k.txt"]);
    assert!(text.contains("hand #0001 fix"), "{text}");
    assert!(text.contains("unknown: one of sessions 2, 3"), "{text}");

    let why = git_pitboss(&sb, &["why", "k.txt:1"]);
    assert!(why.contains("session   1"), "{why}");
    assert!(why.contains("applied"), "{why}");
    let twin = git_pitboss(&sb, &["why", "k.txt:2"]);
    assert!(
        twin.contains("unknown: one of sessions 2, 3 (run hand)"),
        "{twin}"
    );
    assert!(!twin.contains("not written by a pitboss session"), "{twin}");
    let mine = git_pitboss(&sb, &["why", "mine.txt:1"]);
    assert!(mine.contains("not written by a pitboss session"), "{mine}");
}

/// What git blame refuses is the user's to fix (exit 4, with the hint), and a line past the end
/// of the file is named as such by `why`.
#[test]
fn blame_and_why_refuse_what_git_blame_refuses() {
    let sb = Sandbox::new();
    let out = sb
        .git_pitboss()
        .args(["blame", "no-such-file.txt"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("git blame failed: "), "{err}");
    assert!(err.contains("no-such-file.txt"), "{err}");
    assert!(
        err.contains("check the file name, the line number"),
        "{err}"
    );

    let out = sb.git_pitboss().args(["why", "README:9"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("README has no line 9 (it has 1)"), "{err}");
}
