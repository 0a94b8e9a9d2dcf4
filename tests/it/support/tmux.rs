//! A real terminal for tests of what a person sees: a tmux server of its own (`tmux -L`, a
//! socket named per test and process, under the test's temp dir), one pane of a fixed size
//! running a command, keys sent with `send-keys`, the screen read with `capture-pane`.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// One tmux server with one pane; the server is killed when this is dropped.
pub struct Tmux {
    socket: String,
    tmpdir: std::path::PathBuf,
}

impl Tmux {
    /// Runs `shell_command` in a `width` x `height` pane in `cwd`, with `cmd`'s environment (a
    /// `Sandbox` command's: its PATH, HOME and git config).
    pub fn start(
        tmpdir: &Path,
        cwd: &Path,
        env_from: &Command,
        shell_command: &str,
        width: u16,
        height: u16,
    ) -> Tmux {
        let socket = format!(
            "pitboss-it-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let t = Tmux {
            socket,
            tmpdir: tmpdir.to_path_buf(),
        };
        let mut cmd = t.tmux();
        for (k, v) in env_from.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.env("TERM", "xterm-256color").args([
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-c",
            cwd.to_str().unwrap(),
            shell_command,
        ]);
        let out = cmd
            .output()
            .expect("tmux runs (install it: apt-get install tmux)");
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            text(&out.stderr)
        );
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        // No user config; the socket under the test's own temp dir.
        c.env("TMUX_TMPDIR", &self.tmpdir).env_remove("TMUX").args([
            "-L",
            &self.socket,
            "-f",
            "/dev/null",
        ]);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.tmux().args(args).output().unwrap()
    }

    /// The pane's text as it is now.
    pub fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "0"]);
        text(&out.stdout)
    }

    /// The pane's text with its colours and attributes, as escape sequences.
    pub fn capture_escaped(&self) -> String {
        let out = self.run(&["capture-pane", "-e", "-p", "-t", "0"]);
        text(&out.stdout)
    }

    /// Sends keys (tmux key names: `q`, `Down`, `Escape`, …).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys: {}", text(&out.stderr));
    }

    /// Waits until the screen satisfies `ok` (checked every 50 ms); fails with the screen.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.capture();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen contains every one of `needles`.
    pub fn wait_text(&self, needles: &[&str]) -> String {
        self.wait_for(&format!("{needles:?}"), |s| {
            needles.iter().all(|n| s.contains(n))
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
