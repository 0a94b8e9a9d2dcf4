//! `git pitboss grind --dry-run` through the real binary: the report (snapshots, text and
//! JSON, at a fixed PITBOSS_NOW), refusals with their reasons, bad flag values, subdirectories,
//! linked worktrees, the agent on PATH, and `--resume` from a stored run.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

fn prompt(name: &str, extra: &str) -> String {
    format!("---\nname: {name}\ndescription: {name} things\n{extra}---\nDo the {name} thing.\n")
}

fn write(base: &Path, rel: &str, text: &str) {
    let p = base.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(cmd: &mut Command) -> Output {
    cmd.env("PITBOSS_NOW", FIXED_NOW)
        .output()
        .expect("run git-pitboss")
}

fn dry(sb: &Sandbox, args: &[&str]) -> Output {
    run(sb.pitboss().arg("grind").arg("--dry-run").args(args))
}

/// Output with the temp dir and the base commit replaced by stable names.
fn filtered(sb: &Sandbox, text: &str) -> String {
    let head = sb.git(&["rev-parse", "HEAD"]).trim().to_string();
    text.replace(&sb.dir.path().display().to_string(), "[TMP]")
        .replace(&head, "[COMMIT]")
        .replace(&head[..12], "[COMMIT]")
}

/// A project exercising every part of the report: config, a default rotation with overrides,
/// hooks and budgets, a shadowed global prompt, a prompt left out by --skip-tag.
fn full_project(sb: &Sandbox) {
    let r = &sb.repo;
    write(
        r,
        ".pitboss/grind/prompts/a.md",
        &prompt("a", "max_runs: 9\n"),
    );
    write(
        r,
        ".pitboss/grind/prompts/b.md",
        &prompt("b", "max_session_seconds: 36000\n"),
    );
    write(
        r,
        ".pitboss/grind/prompts/c.md",
        &prompt(
            "c",
            "weight: 2\nevery: 2\nparallel_safe: true\ntags: [docs]\n",
        ),
    );
    write(
        r,
        ".pitboss/grind/prompts/d.md",
        &prompt("d", "tags: [slow]\nmax_session_cost_usd: 0.5\n"),
    );
    write(
        &sb.home,
        ".pitboss/grind/prompts/a.md",
        &prompt("a", "weight: 5\n"),
    );
    write(
        r,
        ".pitboss/config.toml",
        "[grind]\ndefault_rotation = \"night\"\nconsecutive_failure_limit = 5\n\
         [grind.hooks]\non_failure = \"hooks/notify.sh\"\n\
         [grind.budgets]\nmax_cost_usd = 50\nmax_tokens = 1000000\n\
         [agent]\nbackend = \"command\"\ncommand = \"./agent.sh\"\n",
    );
    write(
        r,
        ".pitboss/grind/rotations/night.toml",
        "description = \"overnight clean-up\"\nmax_parallel = 2\n\
         [[prompts]]\nname = \"a\"\nmax_runs_override = 3\n\
         [[prompts]]\nname = \"b\"\nevery_override = 5\n\
         [[prompts]]\nname = \"c\"\n\
         [[prompts]]\nname = \"d\"\n\
         [hooks]\npre_session = \"hooks/pre.sh\"\n\
         [budgets]\nmax_cost_usd = 20\nmax_session_seconds = 1800\n",
    );
    // The agent and hook scripts are committed: sessions run in a worktree of the base commit.
    for script in ["agent.sh", "hooks/pre.sh", "hooks/notify.sh"] {
        write(r, script, "#!/bin/sh\nexit 0\n");
    }
    sb.git(&["add", "agent.sh", "hooks"]);
    sb.git(&["commit", "-q", "-m", "scripts"]);
}

const FULL_ARGS: &[&str] = &[
    "--max-iterations",
    "30",
    "--until",
    "2026-11-24T18:00:00Z",
    "--skip-tag",
    "slow",
];

#[test]
fn report_shows_every_value_with_its_origin() {
    let sb = Sandbox::new();
    full_project(&sb);
    let out = dry(&sb, FULL_ARGS);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("dry_run_human", filtered(&sb, &stdout(&out)));
    let err = stderr(&out);
    assert!(err.contains("dry run: a run could start"), "{err}");
    assert_eq!(sb.pitboss_refs(), "", "a dry run writes nothing");
    assert!(
        sb.git(&["status", "--porcelain", "--ignored"])
            .lines()
            .all(|l| l.contains(".pitboss"))
    );
}

#[test]
fn report_as_json() {
    let sb = Sandbox::new();
    full_project(&sb);
    let mut args = FULL_ARGS.to_vec();
    args.push("--json");
    let out = dry(&sb, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = filtered(&sb, &stdout(&out));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ready"], true);
    assert_eq!(v["budgets"]["max_cost_usd"]["from"], "rotation");
    assert_eq!(v["budgets"]["max_iterations"]["from"], "--max-iterations");
    insta::assert_snapshot!("dry_run_json", text);
}

#[test]
fn a_missing_agent_program_is_refused_before_anything_is_written() {
    let sb = Sandbox::new();
    full_project(&sb);
    let out = run(sb
        .pitboss()
        .env("PATH", "/usr/bin:/bin")
        .args(["grind", "--agent", "claude"]));
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(err.contains("agent program `claude` not found"), "{err}");
    assert_eq!(
        sb.git(&["for-each-ref", "refs/pitboss/", "refs/heads/pitboss/"]),
        ""
    );
}

/// The error says what is wrong; how to fix it comes as `hint:` lines (from the CLI alone).
#[test]
fn a_missing_agent_program_is_a_fact_and_its_fixes_are_hints() {
    let sb = Sandbox::new();
    full_project(&sb);
    let out = run(sb
        .pitboss()
        .env("PATH", "/usr/bin:/bin")
        .args(["grind", "--agent", "claude"]));
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    // (Warnings about the project's prompts may come first.)
    let lines: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("error:"))
        .collect();
    assert_eq!(
        lines,
        [
            "error: agent program `claude` not found",
            "hint: install it, set `binary` in [agent] of .pitboss/config.toml, or pass --agent-cmd",
            "hint: `git pitboss grind --dry-run` shows the agent a run would start",
        ],
        "{err}"
    );
}

#[test]
fn bad_flag_values_are_refused_with_the_reason() {
    let sb = Sandbox::new();
    full_project(&sb);
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--max-cost", "-1"], 64, "must be more than 0"),
        (&["--max-cost", "NaN"], 64, "not a finite amount"),
        (&["--max-iterations", "0"], 64, "must be at least 1"),
        (&["--max-tokens", "lots"], 64, "not a whole number"),
        (
            &["--until", "tomorrow"],
            64,
            "expected a time like 2026-11-24T18:00:00Z",
        ),
        (&["--until", "2026-11-24T09:00:00Z"], 4, "is in the past"),
        (&["--tag", "Not A Tag"], 64, "is not a tag"),
        (&["--agent", "claud"], 64, "did you mean `claude`"),
        (
            &["--agent", "demo", "--agent-cmd", "x"],
            4,
            "ask for two different agents",
        ),
    ];
    for (args, code, text) in cases {
        let out = dry(&sb, args);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(text), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn refuses_with_reasons_when_a_run_could_not_start() {
    let sb = Sandbox::new();
    let out = dry(&sb, &[]);
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(
        err.contains("error: .pitboss/grind/prompts: no prompts found"),
        "{err}"
    );
    let out = dry(&sb, &["--json"]);
    assert_eq!(out.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ready"], false);
    assert!(
        v["problems"][0]
            .as_str()
            .unwrap()
            .contains("no prompts found")
    );

    full_project(&sb);
    let out = dry(&sb, &["--rotation", "nope"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("there is no rotation"),
        "{}",
        stderr(&out)
    );
    let out = dry(&sb, &["--base", "no-such-branch", "--skip-tag", "slow"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("cannot start from --base no-such-branch"),
        "{}",
        stderr(&out)
    );
    let out = dry(
        &sb,
        &["--quiet", "--base", "no-such-branch", "--skip-tag", "slow"],
    );
    assert_eq!((out.status.code(), out.stdout.len()), (Some(4), 0));
    // (The `slow` prompt's session cost cap cannot be enforced with the command backend.)
    let out = dry(&sb, &["--quiet", "--skip-tag", "slow"]);
    assert_eq!(
        (out.status.code(), out.stdout.len(), out.stderr.len()),
        (Some(0), 0, 0)
    );
}

#[test]
fn named_agents_must_be_on_path() {
    let sb = Sandbox::new();
    write(&sb.repo, ".pitboss/grind/prompts/a.md", &prompt("a", ""));
    let out = run(sb
        .pitboss()
        .args(["grind", "--dry-run"])
        .env("PATH", "/usr/bin:/bin"));
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("the agent program `claude` is not on PATH"),
        "{}",
        stderr(&out)
    );

    let bin = sb.path("bin");
    write(&bin, "claude", "#!/bin/sh\nexit 0\n");
    let exe = bin.join("claude");
    let mut perms = std::fs::metadata(&exe).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&exe, perms).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = run(sb
        .pitboss()
        .args(["grind", "--dry-run", "--json"])
        .env("PATH", path));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["agent"]["found"], exe.display().to_string());
    assert_eq!(v["agent"]["backend"]["value"], "claude");
}

#[test]
fn works_from_a_subdirectory_and_a_linked_worktree() {
    let sb = Sandbox::new();
    full_project(&sb);
    sb.git(&["add", ".pitboss"]);
    sb.git(&["commit", "-q", "-m", "pitboss"]);
    std::fs::create_dir_all(sb.repo.join("src/x")).unwrap();
    let out = run(sb.pitboss_in(&sb.repo.join("src/x")).args([
        "grind",
        "--dry-run",
        "--json",
        "--skip-tag",
        "slow",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["workspace"]["root"], sb.repo.display().to_string());

    let wt = sb.path("wt");
    sb.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.to_str().unwrap(),
    ]);
    write(
        &wt,
        ".pitboss/grind/rotations/night.toml",
        "[[prompts]]\nname = \"c\"\n",
    );
    let out = run(sb.pitboss_in(&wt).args(["grind", "--dry-run", "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["workspace"]["root"], wt.display().to_string());
    assert_eq!(v["workspace"]["base_branch"], "feature");
    assert_eq!(
        v["workspace"]["common_dir"],
        sb.repo.join(".git").display().to_string()
    );
    assert_eq!(
        v["prompts"].as_array().unwrap().len(),
        1,
        "the worktree's own rotation"
    );
}

/// A file-based run directory with a scheduler state and two sessions, imported as a run.
fn stored_run(sb: &Sandbox, status: &str) {
    let dir = sb.path("rundir");
    let state = serde_json::json!({
        "status": status,
        "started_at": "2026-11-24T08:00:00Z",
    "scheduler": {
            "rotation": 2, "picks_in_rotation": {"a": 1}, "runs": {"a": 2}, "picks": 2,
            "benched_until": {"b": 4}
        },
        "budgets": {"warned": []},
    });
    write(&dir, "state.json", &state.to_string());
    // A run grind made: it records its branch, which exists.
    let branch = format!("pitboss/grind/{RUN}");
    let meta = serde_json::json!({
        "schema": 1, "id": RUN, "created_at": "2026-11-24T08:00:00Z", "branch": branch,
        "agent": "command",
    });
    write(&dir, "run.json", &meta.to_string());
    sb.git(&["branch", &branch]);
    // Its sessions' code is on that branch (`--resume` checks: tests/it/grind_tamper.rs).
    let head = sb.git(&["rev-parse", "HEAD"]);
    let line = |seq: u32, status: &str| {
        ORIGINAL_LINE
            .replace("abc1234000000000000000000000000000000001", head.trim())
            .replace("\"seq\":1", &format!("\"seq\":{seq}"))
            .replace("\"status\":\"ok\"", &format!("\"status\":\"{status}\""))
            .replace("fp-hunter", "a")
    };
    write(
        &dir,
        "sessions.jsonl",
        &format!("{}\n{}\n", line(1, "ok"), line(2, "error")),
    );
    write(&dir, "transcripts/session-0001.log", "one\n");
    write(&dir, "transcripts/session-0002.log", "two\n");
    sb.ok(&["import", dir.to_str().unwrap(), "--id", RUN], "");
}

#[test]
fn resume_starts_from_the_stored_scheduler_and_budgets() {
    let sb = Sandbox::new();
    write(
        &sb.repo,
        ".pitboss/grind/prompts/a.md",
        &prompt("a", "max_runs: 3\n"),
    );
    write(
        &sb.repo,
        ".pitboss/grind/prompts/b.md",
        &prompt("b", "every: 2\n"),
    );
    write(
        &sb.repo,
        ".pitboss/config.toml",
        "[agent]\nbackend = \"command\"\ncommand = \"true\"\n",
    );
    stored_run(&sb, "stopped");

    let out = dry(&sb, &["--resume", "20261124", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["resume"]["run"], RUN);
    assert_eq!(v["spent"]["iterations"], 2);
    // The records end with an error, and the run did not stop at the failure limit: the dry run
    // says, as the resume counts (src/grind/spent.rs), that the streak goes on from 1.
    assert_eq!(
        v["spent"]["consecutive_failures"], 1,
        "a resume goes on with the failure streak its records end with"
    );
    assert_eq!(v["spent"]["tokens"], 3000);
    let picks: Vec<String> = v["next_picks"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|p| {
            format!(
                "{}@{}#{}",
                p["prompt"].as_str().unwrap(),
                p["rotation"],
                p["pick"]
            )
        })
        .collect();
    // Rotation 2 had a once already, and b (every 2) is benched until rotation 4: a's last run
    // comes in rotation 3, then b alone, every other rotation.
    assert_eq!(picks, ["a@3#3", "b@4#4", "b@6#5"]);

    let out = dry(&sb, &["--resume"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the newest run: {}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("benched     b until rotation 4"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains(&format!("resume      run {RUN} (stopped), 2 sessions")),
        "{}",
        stdout(&out)
    );

    let out = dry(&sb, &["--resume", RUN, "--max-tokens", "3500"]);
    assert_eq!(out.status.code(), Some(0));
    let warning = "warning: 85% of the token budget used (3000 of 3500 tokens)";
    assert!(stderr(&out).contains(warning), "{}", stderr(&out));

    let out = dry(&sb, &["--resume", RUN, "--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("a budget is already spent: iteration budget reached"),
        "{}",
        stderr(&out)
    );
    let out = dry(&sb, &["--resume", "nope"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}

#[test]
fn a_run_from_before_runs_kept_their_start_is_not_resumed_on_another_agent_unasked() {
    let sb = Sandbox::new();
    write(&sb.repo, ".pitboss/grind/prompts/a.md", &prompt("a", ""));
    // No config: the default agent would be Claude Code, but the run used the command agent.
    stored_run(&sb, "stopped");
    let mut cmd = sb.git_pitboss();
    cmd.args(["grind", "--dry-run", "--resume", RUN]);
    let out = crate::support::run_with_stdin(&mut cmd, "");
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("was started with the command agent; resuming it would use the claude agent"),
        "{err}"
    );
    assert!(
        err.contains("hint: pass --agent-cmd '<its command>'"),
        "{err}"
    );
}

/// A shallow clone would pass, run a session, then fail with libgit2's "object not found" on
/// every resume: the dry run and the real run refuse it up front with the command that deepens
/// it, and write nothing.
#[test]
fn a_shallow_clone_is_refused_with_the_command_that_deepens_it() {
    let sb = Sandbox::new();
    sb.git(&["commit", "-q", "--allow-empty", "-m", "second"]);
    let url = format!("file://{}", sb.repo.display());
    let shallow = sb.path("shallow");
    sb.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &url,
        shallow.to_str().unwrap(),
    ]);
    write(
        &shallow,
        ".pitboss/grind/prompts/work.md",
        &prompt("work", ""),
    );
    for extra in [&["--dry-run"][..], &["--max-iterations", "1"]] {
        let out = run(sb
            .pitboss_in(&shallow)
            .arg("grind")
            .args(["--agent", "demo"])
            .args(extra));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{extra:?}: {err}");
        assert!(
            err.contains("shallow clone") && err.contains("git fetch --unshallow"),
            "{extra:?}: {err}"
        );
        let refs = sb.git_in(&shallow, &["for-each-ref", "refs/pitboss/"]);
        assert_eq!(refs, "", "{extra:?} wrote something");
    }
    sb.git_in(&shallow, &["fetch", "-q", "--unshallow"]);
    let out = run(sb
        .pitboss_in(&shallow)
        .args(["grind", "--dry-run", "--agent", "demo"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `max_parallel` above 1 with no prompt allowed beside another: the run will be sequential,
/// and the dry run says so in both forms (the setting kept in view, with why it is not used),
/// as the run itself decides it (one slot).
#[test]
fn max_parallel_without_a_parallel_safe_prompt_is_one_at_a_time_in_the_report() {
    let sb = Sandbox::new();
    write(&sb.repo, ".pitboss/grind/prompts/a.md", &prompt("a", ""));
    write(
        &sb.repo,
        ".pitboss/config.toml",
        "[grind]\nmax_parallel = 3\n",
    );
    let out = dry(&sb, &["--agent-cmd", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("parallel"))
        .unwrap_or_else(|| panic!("no parallel line in:\n{text}"));
    assert!(
        line.contains(
            "1 at a time: max_parallel is 3, but no prompt sets `parallel_safe: true` (config)"
        ),
        "{line}"
    );
    assert!(!text.contains("3 at once"), "{text}");
    let out = dry(&sb, &["--agent-cmd", "true", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["parallel"]["slots"], 1, "{v}");
    assert_eq!(v["parallel"]["alone"], serde_json::json!(["a"]), "{v}");
}
