//! Shared test support: a sandbox with a real git repository in its own temp dir, isolated
//! from the user's git config, and helpers to run the real `git-pitboss` binary and `git`.
#![allow(dead_code)]

pub mod remote;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub home: PathBuf,
}

pub const FIXED_NOW: &str = "2026-11-24T10:00:00Z";

impl Sandbox {
    /// A new repository (with one commit) at `<tmp>/repo`.
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let sb = Sandbox { dir, repo, home };
        sb.git(&["init", "-q", "-b", "main"]);
        sb.git(&["config", "user.name", "Test User"]);
        sb.git(&["config", "user.email", "test@example.com"]);
        std::fs::write(sb.repo.join("README"), "hello\n").unwrap();
        sb.git(&["add", "README"]);
        sb.git(&["commit", "-q", "-m", "initial"]);
        sb
    }

    /// A sandbox whose repository is `git clone <url>` (no commit of its own).
    pub fn clone_of(url: &str) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let sb = Sandbox { dir, repo, home };
        sb.git_in(sb.dir.path(), &["clone", "-q", url, "repo"]);
        sb.git(&["config", "user.name", "Test User"]);
        sb.git(&["config", "user.email", "test@example.com"]);
        sb
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("NO_COLOR", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("PITBOSS_NOW")
            .env_remove("PITBOSS_SEED");
    }

    /// `git-pitboss` in the repository.
    pub fn pitboss(&self) -> Command {
        self.pitboss_in(&self.repo)
    }

    pub fn pitboss_in(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_git-pitboss"));
        cmd.current_dir(dir);
        self.env(&mut cmd);
        cmd
    }

    /// Runs git in the repository and returns stdout; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.repo, args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_output_in(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn git_output_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        cmd.current_dir(dir).args(args);
        self.env(&mut cmd);
        cmd.output().expect("run git")
    }

    /// Runs `git pitboss <args>` with `stdin`, returning the output.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        run_with_stdin(self.pitboss().args(args), stdin)
    }

    /// Like [`run`], and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "git pitboss {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Every ref under refs/pitboss with its target, for "nothing was written" checks.
    pub fn pitboss_refs(&self) -> String {
        self.git(&[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/pitboss/",
        ])
    }
}

pub fn run_with_stdin(cmd: &mut Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut sin = child.stdin.take().unwrap();
    let data = stdin.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    out
}

/// A record for `git pitboss record` on stdin.
pub fn record_json(prompt: &str, status: &str, summary: Option<&str>) -> String {
    serde_json::json!({
        "prompt": prompt,
        "started_at": "2026-04-30T18:05:00Z",
        "ended_at": "2026-04-30T18:06:30Z",
        "status": status,
        "summary": summary,
        "commit": null,
        "tokens": {"input": 1000, "output": 500, "by_role": {}},
        "cost_usd": 0.0123
    })
    .to_string()
}

pub const RUN: &str = "20261124T100000Z-abcd";

/// The record line of the file-based design quoted in the run-store issue.
pub const ORIGINAL_LINE: &str = r#"{"seq":1,"run_id":"rid","prompt":"fp-hunter","started_at":"2026-04-30T18:05:00Z","ended_at":"2026-04-30T18:06:30Z","status":"ok","summary":"fixed the foo bug in bar.rs","commit":"abc1234000000000000000000000000000000001","tokens":{"input":1000,"output":500,"by_role":{"implementer":{"input":1000,"output":500}}},"cost_usd":0.0123,"transcript_path":"transcripts/session-0001.log"}"#;

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
