//! Real remotes for the sharing tests: bare repositories in their own temp dirs (reached by
//! path or `file://` URL), and a real `git daemon` serving one over `git://` on 127.0.0.1,
//! started on a free port and killed on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Sandbox, run_with_stdin};

/// A bare repository at `<tmp>/remote.git`.
pub struct Bare {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Bare {
    pub fn new() -> Bare {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("remote.git");
        let out = git_cmd(dir.path())
            .args(["init", "-q", "--bare", "-b", "main", "remote.git"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Bare { dir, path }
    }

    pub fn path_url(&self) -> String {
        self.path.to_str().unwrap().to_string()
    }

    pub fn file_url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// Runs git in the bare repository; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = git_cmd(&self.path).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `git for-each-ref` of the run namespace: `<oid> <ref>` lines.
    pub fn runs(&self) -> String {
        self.git(&[
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "refs/pitboss/",
        ])
    }

    /// Installs an executable hook script.
    pub fn hook(&self, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = self.path.join("hooks").join(name);
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn git_cmd(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    c
}

/// `git daemon` serving `base` on 127.0.0.1 with receive-pack enabled; killed on drop.
pub struct Daemon {
    child: Child,
    pub port: u16,
}

impl Daemon {
    pub fn serve(base: &Path) -> Daemon {
        // NB: `git daemon` runs `git-daemon` as a child of `git`; killing `git` would leave the
        // daemon running. Start `git-daemon` itself, so killing our child stops it.
        let exec_path = git_cmd(base).arg("--exec-path").output().unwrap();
        let exec_path = String::from_utf8(exec_path.stdout).unwrap();
        let daemon = Path::new(exec_path.trim()).join("git-daemon");
        for _ in 0..10 {
            // A free port from the OS; the daemon binds it right after (retried if taken).
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new(&daemon);
            let mut child = child
                .current_dir(base)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .args([
                    "--export-all",
                    "--enable=receive-pack",
                    "--reuseaddr",
                    "--informative-errors",
                    "--listen=127.0.0.1",
                ])
                .arg(format!("--port={port}"))
                .arg(format!("--base-path={}", base.display()))
                .arg(base)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("git daemon");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: the port was taken; try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Daemon { child, port };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("git daemon did not start");
    }

    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A record whose content is its own: `prompt`, started at 18:`minute`, summary naming both.
pub fn session_json(prompt: &str, minute: u32) -> String {
    super::record::RecordJson::new(prompt)
        .times(
            &format!("2026-04-30T18:{minute:02}:00Z"),
            &format!("2026-04-30T18:{minute:02}:30Z"),
        )
        .summary(Some(&format!("{prompt} at minute {minute}")))
        .tokens(10, 5, 0, 0)
        .field("cost_usd", 0.01)
        .json()
}

impl Sandbox {
    /// `git pitboss record <run> [--create]` with a distinct session; returns the seq.
    pub fn record_session(&self, run: &str, prompt: &str, minute: u32) -> u64 {
        let create = self.git(&["for-each-ref", &format!("refs/pitboss/grind/{run}")]);
        let mut args = vec!["record", run];
        if create.trim().is_empty() {
            args.push("--create");
        }
        self.ok(&args, &session_json(prompt, minute))
            .trim()
            .parse()
            .unwrap()
    }

    /// The tip of a ref, or an empty string.
    pub fn tip(&self, refname: &str) -> String {
        let out = self.git_output_in(&self.repo, &["rev-parse", "-q", "--verify", refname]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs `git pitboss <args>` and returns the output, whatever the exit code.
    pub fn pb(&self, args: &[&str]) -> std::process::Output {
        run_with_stdin(self.pitboss().args(args), "")
    }
}

impl Sandbox {
    /// Runs git with `stdin` in the repository; panics on failure; returns trimmed stdout.
    pub fn git_stdin(&self, args: &[&str], stdin: &[u8]) -> String {
        use std::io::Write;
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.repo).args(args);
        self.env(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A blob with `data`.
    pub fn blob(&self, data: &[u8]) -> String {
        self.git_stdin(&["hash-object", "-w", "--stdin"], data)
    }

    /// Tree `base` with `entry` (`<mode> <type> <oid>\t<name>`) put inside `dirs`, replacing
    /// an entry of the same name. Built with `git mktree`, which takes names plain git would
    /// never write (`..`), and `--missing` for submodule commits.
    pub fn tree_with(&self, base: &str, dirs: &[&str], entry: &str) -> String {
        if let Some((dir, rest)) = dirs.split_first() {
            let sub = self.tip(&format!("{base}:{dir}"));
            let sub = if sub.is_empty() {
                self.git_stdin(&["mktree"], b"")
            } else {
                sub
            };
            let new_sub = self.tree_with(&sub, rest, entry);
            return self.tree_with(base, &[], &format!("040000 tree {new_sub}\t{dir}"));
        }
        let name = entry.split('\t').nth(1).unwrap();
        let mut lines: Vec<String> = self
            .git(&["ls-tree", base])
            .lines()
            .filter(|l| l.split('\t').nth(1) != Some(name))
            .map(str::to_string)
            .collect();
        lines.push(entry.to_string());
        self.git_stdin(
            &["mktree", "--missing"],
            format!("{}\n", lines.join("\n")).as_bytes(),
        )
    }

    /// A commit of `tree` on top of `parent`.
    pub fn commit_tree(&self, tree: &str, parent: &str, msg: &str) -> String {
        self.git(&["commit-tree", tree, "-p", parent, "-m", msg])
            .trim()
            .to_string()
    }
}
