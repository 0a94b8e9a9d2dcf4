//! The scripts in hooks/ at their hook points of a real grind: a failing verify command fails
//! the session and keeps its work off the branch; on_failure logs it; pre_session passes on a
//! clean worktree.

use crate::support::*;

fn project(sb: &Sandbox, agent: &str) {
    let hooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks");
    let prompts = sb.repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("build.md"),
        "---\nname: build\ndescription: builds\nverify: true\n---\nBuild it.\n",
    )
    .unwrap();
    std::fs::write(sb.path("agent.sh"), agent).unwrap();
    let cfg = format!(
        "[agent]\nbackend = \"command\"\ncommand = \"sh {agent}\"\n\n[grind]\nverify_command = \"sh {h}/verify-tests.sh\"\n\n[grind.hooks]\npre_session = \"sh {h}/require-clean-base.sh\"\non_failure = \"sh {h}/log-failure.sh\"\n",
        agent = sb.path("agent.sh").display(),
        h = hooks.display()
    );
    std::fs::write(sb.repo.join(".pitboss/config.toml"), cfg).unwrap();
}

fn grind(sb: &Sandbox, test_cmd: &str) -> std::process::Output {
    run_with_stdin(
        sb.pitboss()
            .env("PITBOSS_TEST_CMD", test_cmd)
            .env("PITBOSS_FAILURE_LOG", sb.path("failures.log"))
            .args(["grind", "--max-iterations", "1", "--json"]),
        "",
    )
}

fn last_record(out: &std::process::Output) -> serde_json::Value {
    stdout(out)
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "session_finished")
        .expect("a finished session")["record"]
        .clone()
}

#[test]
fn a_failing_verify_command_keeps_the_work_off_the_branch_and_is_logged() {
    let sb = Sandbox::new();
    project(
        &sb,
        "echo built > artifact.txt && git add artifact.txt && git commit -q -m 'build artifact'\n",
    );
    let out = grind(&sb, "test -f must-exist.txt");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = last_record(&out);
    assert_eq!(r["status"], "error");
    assert!(r["summary"].as_str().unwrap().contains("verify"), "{r}");
    assert!(r["commit"].is_null());
    let run = r["run_id"].as_str().unwrap();
    let branch = format!("refs/heads/pitboss/{run}");
    assert_eq!(
        sb.git(&["rev-list", "--count", &format!("main..{branch}")])
            .trim(),
        "0"
    );
    let patch = sb.git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:patches/00/session-0001.patch"),
    ]);
    assert!(patch.contains("+built"), "{patch}");
    let log = std::fs::read_to_string(sb.path("failures.log")).unwrap();
    assert!(
        log.contains(&format!("run={run} session=1 prompt=build status=error")),
        "{log}"
    );
}

#[test]
fn a_passing_verify_command_lands_the_work() {
    let sb = Sandbox::new();
    project(
        &sb,
        "echo built > artifact.txt && git add artifact.txt && git commit -q -m 'build artifact'\n",
    );
    let out = grind(&sb, "test -f artifact.txt");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = last_record(&out);
    assert_eq!(r["status"], "ok");
    let run = r["run_id"].as_str().unwrap();
    let subject = sb.git(&[
        "log",
        "-1",
        "--format=%s",
        &format!("refs/heads/pitboss/{run}"),
    ]);
    assert_eq!(subject.trim(), "build artifact");
    assert!(!sb.path("failures.log").exists());
}
