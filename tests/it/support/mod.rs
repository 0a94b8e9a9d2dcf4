//! What the tests share: here, a sandbox with a real git repository in its own temp dir,
//! isolated from the user's git config, and helpers to run the real `git-pitboss` binary and
//! `git`; `remote` (bare remotes, a git daemon), `grind` and `pty` (projects with a fake agent
//! for `git pitboss grind`, a pseudo-terminal), `record` (records to feed `git pitboss record`),
//! `cli`, `http`, `server` and the `mock_*` APIs
//! (the real agent CLIs against local mocks).

pub mod cli;
pub mod faults;
pub mod grind;
pub mod http;
pub mod mock_anthropic;
pub mod mock_gemini;
pub mod mock_github;
pub mod mock_openai;
pub mod parallel_grind;
pub mod pty;
pub mod record;
pub mod remote;
pub mod server;
pub mod tmux;

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
            // The test machine is a sandbox: Claude Code (as root) and grind's refusal of
            // bypassPermissions without it see it so. The test of that refusal removes it.
            .env("IS_SANDBOX", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("PITBOSS_NOW")
            .env_remove("PITBOSS_SEED");
    }

    /// `git-pitboss` in the repository.
    pub fn pitboss(&self) -> Command {
        self.pitboss_in(&self.repo)
    }

    /// `git pitboss` in the repository, as users run it: git finds `git-pitboss` on `PATH` and
    /// runs it as its child (signals, `--help` and exit codes differ from a direct run).
    pub fn git_pitboss(&self) -> Command {
        self.git_pitboss_in(&self.repo)
    }

    pub fn git_pitboss_in(&self, dir: &Path) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("pitboss")
            .current_dir(dir)
            .env("PATH", path_with_binary());
        self.env(&mut cmd);
        cmd
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

/// `PATH` with the directory of the built `git-pitboss` first, so `git pitboss` runs this build.
pub fn path_with_binary() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_git-pitboss"));
    let mut dirs = vec![bin.parent().expect("binary dir").to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH")
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

/// A record for `git pitboss record` on stdin ([`record::RecordJson`] for any other field).
pub fn record_json(prompt: &str, status: &str, summary: Option<&str>) -> String {
    record::RecordJson::new(prompt)
        .status(status)
        .summary(summary)
        .json()
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

/// A fake agent, a real shell script: what it does depends on the prompt's name.
pub const AGENT_SCRIPT: &str = r#"#!/bin/sh
set -u
echo "agent: session $PITBOSS_SEQ prompt $PITBOSS_PROMPT"
case "$PITBOSS_PROMPT" in
  *commit*)
    echo "work $PITBOSS_SEQ" >> work.txt
    git add work.txt && git commit -q -m "agent: work $PITBOSS_SEQ"
    echo "committed work $PITBOSS_SEQ" > "$PITBOSS_SUMMARY_FILE" ;;
  *leave*)
    echo "left $PITBOSS_SEQ" >> left.txt
    echo "left work $PITBOSS_SEQ" > "$PITBOSS_SUMMARY_FILE" ;;
  *fail*)
    echo partial > failed.txt
    echo '{"summary":"could not do it","tokens":{"input":100,"output":10}}' > "$PITBOSS_RESULT_FILE"
    exit 3 ;;
  *crash*)
    echo partial > crashed.txt
    kill -9 $$ ;;
  *hang*)
    echo "hanging"
    sleep 60 ;;
  *garbage*)
    head -c 30000 /dev/urandom
    awk 'BEGIN { for (i = 0; i < 300000; i++) printf "x" }' ;;
  *flood*)
    yes "flood line with a few words in it, to fill the transcript quickly" | head -c 209715200 ;;
  *bg*)
    sleep 303 &
    echo "left a sleeper behind" ;;
  *skip*)
    touch "$PITBOSS_SKIP_FILE"
    sleep 30 ;;
  *sleep*)
    echo "working slowly"
    sleep "${AGENT_SLEEP:-0}"
    echo "slept $PITBOSS_SEQ" >> slept.txt
    git add slept.txt && git commit -q -m "agent: slept $PITBOSS_SEQ" ;;
  *tokens*)
    echo '{"summary":"spent tokens","tokens":{"input":1000,"output":500},"cost_usd":0.25}' > "$PITBOSS_RESULT_FILE" ;;
esac
echo "- note from session $PITBOSS_SEQ ($PITBOSS_PROMPT)" >> "$PITBOSS_SCRATCHPAD"
"#;

impl Sandbox {
    /// Writes the fake agent and `prompts` (name → extra frontmatter lines) into a prompts
    /// folder of their own, and a config that runs the agent with the command backend.
    /// Returns the `--prompts-dir` to pass.
    pub fn agent_project(&self, prompts: &[(&str, &str)]) -> PathBuf {
        let agent = self.path("agent.sh");
        std::fs::write(&agent, AGENT_SCRIPT).unwrap();
        let dir = self.path("prompts");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, extra) in prompts {
            std::fs::write(
                dir.join(format!("{name}.md")),
                format!("---\nname: {name}\ndescription: test prompt {name}\n{extra}---\nDo the {name} thing.\n"),
            )
            .unwrap();
        }
        std::fs::create_dir_all(self.repo.join(".pitboss")).unwrap();
        std::fs::write(
            self.repo.join(".pitboss/config.toml"),
            format!(
                "[agent]\nbackend = \"command\"\ncommand = \"sh {}\"\n",
                agent.display()
            ),
        )
        .unwrap();
        dir
    }

    /// `git pitboss grind --prompts-dir <dir> --json <args>`, started in the background.
    pub fn grind_spawn(
        &self,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Child {
        let mut cmd = self.pitboss();
        cmd.args(["grind", "--json", "--prompts-dir", dir.to_str().unwrap()])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("spawn grind")
    }

    /// The records of a run, from `git pitboss log --json`.
    pub fn records(&self, run: &str) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.ok(&["log", run, "--json"], "")).unwrap()
    }

    /// The only run of the repository.
    pub fn only_run(&self) -> String {
        let ls: Vec<serde_json::Value> =
            serde_json::from_str(&self.ok(&["ls", "--json"], "")).unwrap();
        assert_eq!(ls.len(), 1, "{ls:?}");
        ls[0]["id"].as_str().unwrap().to_string()
    }

    /// Waits until the live session's marker names its agent's pid; returns (run, seq, pid).
    pub fn wait_for_agent(&self, timeout: std::time::Duration) -> (String, u64, u32) {
        let runs = self.repo.join(".git/pitboss/runs");
        let start = std::time::Instant::now();
        while start.elapsed() < timeout {
            if let Ok(rd) = std::fs::read_dir(&runs) {
                for e in rd.flatten() {
                    if let Ok(text) = std::fs::read_to_string(e.path().join("current.json"))
                        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                        && let Some(pid) = v["agent_pid"].as_u64()
                    {
                        let run = e.file_name().to_string_lossy().into_owned();
                        return (run, v["seq"].as_u64().unwrap(), pid as u32);
                    }
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("no agent started within {timeout:?}");
    }
}

/// Sends `sig` (e.g. "INT", "TERM", "KILL") to `pid` with the real `kill`.
pub fn kill(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

/// The JSON events a grind printed.
pub fn events(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
