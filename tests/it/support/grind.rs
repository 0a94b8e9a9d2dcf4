//! Shared by the end-to-end tests of `git pitboss grind` (`tests/it/grind_*.rs`): a project with
//! prompts and a fake agent (a real shell script the test writes), grind run to its end or
//! spawned to be signalled, and readers for what a user sees afterwards: records (`git pitboss
//! log --json`), transcripts (`git pitboss show --transcript`), patches and the run's state on
//! the run ref, the run branch, the user's checkout.
//!
//! Fake agents are driven by `$PITBOSS_PROMPT`, `$PITBOSS_SEQ` and variables the test puts in
//! grind's environment (which the agent inherits); `$MARKS` is a directory where an agent
//! leaves files the test waits for ("started-<seq>"), so no test sleeps blindly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Sandbox;

/// A sandbox with a `marks/` directory, prompts and an agent script.
pub struct Project {
    pub sb: Sandbox,
}

impl Project {
    pub fn new() -> Project {
        let sb = Sandbox::new();
        std::fs::create_dir_all(sb.path("marks")).unwrap();
        Project { sb }
    }

    pub fn repo(&self) -> &Path {
        &self.sb.repo
    }

    pub fn marks(&self) -> PathBuf {
        self.sb.path("marks")
    }

    /// Writes `.pitboss/grind/prompts/<name>.md` with extra frontmatter lines.
    pub fn prompt(&self, name: &str, frontmatter: &str) -> &Self {
        let dir = self.sb.repo.join(".pitboss/grind/prompts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{name}.md")),
            format!("---\nname: {name}\ndescription: the {name} prompt\n{frontmatter}---\nDo the {name} thing.\n"),
        )
        .unwrap();
        self
    }

    /// Writes the agent script and a config that runs it with the command backend.
    pub fn agent(&self, script: &str) -> &Self {
        let path = self.sb.path("agent.sh");
        std::fs::write(&path, script).unwrap();
        std::fs::write(
            self.sb.repo.join(".pitboss/config.toml"),
            format!(
                "[agent]\nbackend = \"command\"\ncommand = \"sh {}\"\n",
                path.display()
            ),
        )
        .unwrap();
        self
    }

    /// `git pitboss grind --json <args>` in the repository, with `$MARKS` set.
    pub fn grind_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.sb.pitboss();
        cmd.arg("grind")
            .arg("--json")
            .args(args)
            .env("MARKS", self.marks())
            .stdin(Stdio::null());
        cmd
    }

    /// Runs grind to its end (bounded: a hung grind fails the test).
    pub fn grind(&self, args: &[&str]) -> Output {
        self.grind_with(args, &[])
    }

    pub fn grind_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.grind_cmd(args);
        cmd.envs(env.iter().copied());
        let mut g = Grind::spawn(self, cmd, "grind-run");
        g.wait(Duration::from_secs(60));
        g.output()
    }

    /// The one run of this repository.
    pub fn only_run(&self) -> String {
        let refs = self.sb.git(&[
            "for-each-ref",
            "--format=%(refname:lstrip=3)",
            "refs/pitboss/grind/",
        ]);
        let ids: Vec<&str> = refs.lines().collect();
        assert_eq!(ids.len(), 1, "runs: {ids:?}");
        ids[0].to_string()
    }

    /// The run's records, from `git pitboss log <run> --json`.
    pub fn records(&self, run: &str) -> Vec<Value> {
        let out = self.sb.ok(&["log", run, "--json"], "");
        serde_json::from_str(&out).unwrap()
    }

    /// `git pitboss show <run> <seq> --transcript`, byte for byte (lossy UTF-8).
    pub fn transcript(&self, run: &str, seq: u64) -> String {
        let out = self
            .sb
            .run(&["show", run, &seq.to_string(), "--transcript"], "");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A file of the run ref's tip tree (`scratchpad.md`, `state.json`, …), if present.
    pub fn run_file(&self, run: &str, path: &str) -> Option<String> {
        let out = self.sb.git_output_in(
            &self.sb.repo,
            &["show", &format!("refs/pitboss/grind/{run}:{path}")],
        );
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The patch of session `seq`'s unlanded work, if one was saved.
    pub fn patch(&self, run: &str, seq: u64) -> Option<String> {
        self.run_file(run, &format!("patches/00/session-{seq:04}.patch"))
    }

    /// The run's `state.json` on its ref.
    pub fn state(&self, run: &str) -> Value {
        serde_json::from_str(&self.run_file(run, "state.json").expect("state.json")).unwrap()
    }

    /// `refs/heads/pitboss/<run>`.
    pub fn branch(&self, run: &str) -> String {
        format!("refs/heads/pitboss/{run}")
    }

    /// Subjects of the run branch's commits since main, oldest first.
    pub fn branch_subjects(&self, run: &str) -> Vec<String> {
        self.sb
            .git(&[
                "log",
                "--reverse",
                "--format=%s",
                &format!("main..{}", self.branch(run)),
            ])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The slot worktree of a run.
    pub fn worktree(&self, run: &str) -> PathBuf {
        self.sb
            .repo
            .join(".git/pitboss/worktrees")
            .join(run)
            .join("0")
    }

    /// Whether git lists the run's worktree.
    pub fn worktree_registered(&self, run: &str) -> bool {
        self.sb
            .git(&["worktree", "list", "--porcelain"])
            .contains(&format!("pitboss/worktrees/{run}/0"))
    }

    /// Waits for `marks/<name>` to appear.
    pub fn wait_mark(&self, name: &str, g: &mut Grind) {
        let path = self.marks().join(name);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !path.exists() {
            if let Ok(Some(status)) = g.child.try_wait() {
                panic!(
                    "grind exited ({status}) before {name} appeared\n{}",
                    g.stderr()
                );
            }
            assert!(Instant::now() < deadline, "{name} never appeared");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A mark's content (a pid the agent wrote down, …).
    pub fn mark(&self, name: &str) -> String {
        std::fs::read_to_string(self.marks().join(name))
            .unwrap_or_else(|e| panic!("mark {name}: {e}"))
            .trim()
            .to_string()
    }
}

/// A grind running in the background, in its own process group (like a foreground job of a
/// shell: Ctrl-C goes to the whole group), its output in files.
pub struct Grind {
    pub child: Child,
    out: PathBuf,
    err: PathBuf,
    pub status: Option<ExitStatus>,
}

impl Grind {
    pub fn spawn(p: &Project, mut cmd: Command, name: &str) -> Grind {
        use std::os::unix::process::CommandExt;
        let out = p.sb.path(&format!("{name}.out"));
        let err = p.sb.path(&format!("{name}.err"));
        cmd.stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .process_group(0);
        let child = cmd.spawn().expect("spawn git-pitboss grind");
        Grind {
            child,
            out,
            err,
            status: None,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `sig` to grind's process group, as a terminal does for Ctrl-C.
    pub fn signal_group(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::killpg(nix::unistd::Pid::from_raw(self.pid()), sig).unwrap();
    }

    /// Sends `sig` to grind alone.
    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).unwrap();
    }

    /// Waits for grind to exit; kills it and fails the test after `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                self.status = Some(s);
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("grind did not exit within {limit:?}\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    pub fn output(&self) -> Output {
        Output {
            status: self.status.expect("grind has exited"),
            stdout: std::fs::read(&self.out).unwrap_or_default(),
            stderr: std::fs::read(&self.err).unwrap_or_default(),
        }
    }
}

impl Drop for Grind {
    fn drop(&mut self) {
        if self.status.is_none() && self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// grind's `--json` events.
pub fn events(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The `run_finished` event's summary.
pub fn run_summary(out: &Output) -> Value {
    events(out)
        .into_iter()
        .rev()
        .find(|e| e["event"] == "run_finished")
        .unwrap_or_else(|| panic!("no run_finished event\n{}", diag(out)))["summary"]
        .clone()
}

/// Exit code, stdout and stderr, for assertion messages.
pub fn diag(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The statuses of records, in seq order.
pub fn statuses(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect()
}

pub fn seqs(records: &[Value]) -> Vec<u64> {
    records.iter().map(|r| r["seq"].as_u64().unwrap()).collect()
}

/// Whether a process is gone (or a zombie nobody reaped yet: it runs no more).
pub fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Waits a little for a process to be gone (signals take a moment).
pub fn wait_gone(pid: i32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while !process_gone(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Everything of the user's checkout a run must leave alone.
#[derive(Debug, PartialEq, Eq)]
pub struct Checkout {
    head: String,
    status: String,
    diff: String,
    cached: String,
    stash: String,
    files: String,
}

impl Checkout {
    /// Gives the checkout a staged change, an unstaged one, an untracked file and a stash
    /// entry, then captures it.
    pub fn busy(sb: &Sandbox) -> Checkout {
        std::fs::write(sb.repo.join("stashed.txt"), "stashed\n").unwrap();
        sb.git(&["add", "stashed.txt"]);
        sb.git(&["stash", "push", "-q", "-m", "user's stash"]);
        std::fs::write(sb.repo.join("README"), "hello\nstaged edit\n").unwrap();
        sb.git(&["add", "README"]);
        std::fs::write(
            sb.repo.join("README"),
            "hello\nstaged edit\nunstaged edit\n",
        )
        .unwrap();
        std::fs::write(sb.repo.join("scratch.txt"), "untracked\n").unwrap();
        Checkout::capture(sb)
    }

    pub fn capture(sb: &Sandbox) -> Checkout {
        Checkout {
            head: sb.git(&["symbolic-ref", "HEAD"]) + &sb.git(&["rev-parse", "HEAD"]),
            status: sb.git(&["status", "--porcelain=v2", "--untracked-files=all"]),
            diff: sb.git(&["diff"]),
            cached: sb.git(&["diff", "--cached"]),
            stash: sb.git(&["stash", "list", "--format=%H %gs"]),
            files: sb.git(&["ls-files", "-s"]),
        }
    }
}
