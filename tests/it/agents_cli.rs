//! `git pitboss agents`: each backend with its program, version, model and settings; exit 1
//! when the backend grind would use is not ready, with what to do.

use std::os::unix::fs::PermissionsExt;

use crate::support::*;
use serde_json::Value;

/// A directory holding a fake `claude` that prints a version.
fn fake_bin(sb: &Sandbox) -> std::path::PathBuf {
    let bin = sb.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let claude = bin.join("claude");
    std::fs::write(&claude, "#!/bin/sh\necho '2.1.197 (Claude Code)'\n").unwrap();
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn agents(sb: &Sandbox, path: &str, json: bool) -> std::process::Output {
    let mut cmd = sb.pitboss();
    cmd.env("PATH", path).arg("agents");
    if json {
        cmd.arg("--json");
    }
    run_with_stdin(&mut cmd, "")
}

#[test]
fn lists_each_backend_with_program_version_and_settings() {
    let sb = Sandbox::new();
    let bin = fake_bin(&sb);
    std::fs::create_dir_all(sb.repo.join(".pitboss")).unwrap();
    std::fs::write(
        sb.repo.join(".pitboss/config.toml"),
        "[agent]\nmodel = \"claude-sonnet-4-5\"\npermission_mode = \"acceptEdits\"\n",
    )
    .unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = agents(&sb, &path, true);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let list: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let claude = list.iter().find(|a| a["backend"] == "claude").unwrap();
    assert_eq!(claude["selected"], true);
    assert_eq!(claude["version"], "2.1.197 (Claude Code)");
    assert_eq!(claude["model"], "claude-sonnet-4-5");
    assert_eq!(
        claude["settings"]["permission_mode"],
        serde_json::json!({"value": "acceptEdits", "from": "config"})
    );
    assert!(claude["found"].as_str().unwrap().ends_with("bin/claude"));
    assert!(claude["problem"].is_null());
    let names: Vec<&str> = list.iter().filter_map(|a| a["backend"].as_str()).collect();
    assert!(
        names.contains(&"command") && names.contains(&"demo"),
        "{names:?}"
    );

    let human = stdout(&agents(&sb, &path, false));
    assert!(
        human.contains("claude (used by grind without --agent): ready"),
        "{human}"
    );
    assert!(human.contains("version:  2.1.197 (Claude Code)"), "{human}");
}

#[test]
fn an_older_version_than_tested_is_a_warning() {
    let sb = Sandbox::new();
    let bin = fake_bin(&sb);
    std::fs::write(
        bin.join("claude"),
        "#!/bin/sh\necho '1.0.3 (Claude Code)'\n",
    )
    .unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = agents(&sb, &path, true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning does not make it unready"
    );
    let list: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let claude = list.iter().find(|a| a["backend"] == "claude").unwrap();
    let w = claude["warning"].as_str().unwrap();
    assert!(w.contains("older than 2.1.197"), "{w}");
}

#[test]
fn a_missing_program_is_not_ready_and_says_what_to_do() {
    let sb = Sandbox::new();
    let out = agents(&sb, "/nonexistent", false);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("claude (used by grind without --agent): not ready"),
        "{text}"
    );
    assert!(
        text.contains("`claude` is not on PATH: install it"),
        "{text}"
    );
}

/// A repository's committed config can name a program of its own; `agents` in a fresh clone
/// must not run it until the user says the repository is trusted.
#[test]
fn a_program_the_repository_supplies_runs_only_when_the_repository_is_trusted() {
    let sb = Sandbox::new();
    let ran = sb.path("evil-ran");
    let evil = sb.repo.join("evil.sh");
    std::fs::write(
        &evil,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '9.9.9 (evil)'\n",
            ran.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(sb.repo.join(".pitboss")).unwrap();
    std::fs::write(
        sb.repo.join(".pitboss/config.toml"),
        "[agent]\nbinary = \"./evil.sh\"\n",
    )
    .unwrap();
    let agents = |json: bool| {
        let mut cmd = sb.git_pitboss();
        cmd.arg("agents");
        if json {
            cmd.arg("--json");
        }
        cmd.output().unwrap()
    };
    let out = agents(false);
    let text = stdout(&out);
    assert!(
        !ran.exists(),
        "agents ran the repository's program:\n{text}"
    );
    assert!(
        text.contains("not run:  `./evil.sh` comes from this repository"),
        "{text}"
    );
    assert!(text.contains("git config pitboss.trusted true"), "{text}");
    let list: Vec<Value> = serde_json::from_str(&stdout(&agents(true))).unwrap();
    let claude = list.iter().find(|a| a["backend"] == "claude").unwrap();
    assert!(
        claude["version"].is_null() && claude["not_run"].is_string(),
        "{claude}"
    );
    assert!(!ran.exists());

    // A program found inside the repository through a relative PATH entry is its too.
    let out = sb
        .git_pitboss()
        .env(
            "PATH",
            format!(".:{}", path_with_binary().to_string_lossy()),
        )
        .args(["agents", "--json"])
        .output()
        .unwrap();
    assert!(!ran.exists(), "{}", stdout(&out));

    sb.git(&["config", "pitboss.trusted", "true"]);
    let text = stdout(&agents(false));
    assert!(ran.exists(), "trusted, it runs:\n{text}");
    assert!(text.contains("version:  9.9.9 (evil)"), "{text}");
}
