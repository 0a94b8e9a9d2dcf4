//! `git pitboss …` on a real pseudo-terminal, as a person runs it: git is the session leader of
//! a new terminal (`setsid --ctty`), in its foreground process group with the `git-pitboss` it
//! runs, so a Ctrl-C typed on the terminal reaches both, and closing the terminal sends git a
//! SIGHUP, which it passes on. The test types into the terminal's master side and reads what
//! the terminal shows.

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Terminal {
    master: Option<File>,
    pub child: Child,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    /// Starts `cmd` (program, arguments, environment and directory are taken from it) on a new
    /// terminal: stdin and stderr on it, stdout too unless `stdout` is given. With `read`, a
    /// thread keeps reading what the terminal shows (so the program never blocks on a full
    /// terminal); without, [`Terminal::hang_up`] can close it.
    pub fn spawn(cmd: &Command, stdout: Option<File>, read: bool) -> Terminal {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        // openpty's descriptors are inherited across exec: every process of the run would
        // keep the master open, and closing ours would hang nothing up. std's clones are
        // close-on-exec.
        let cloexec = |fd: std::os::fd::OwnedFd| File::from(fd).try_clone().unwrap();
        let (master, slave) = (cloexec(pty.master), cloexec(pty.slave));
        let mut wrapped = Command::new("setsid");
        wrapped
            .arg("--ctty")
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()))
            .stdout(match stdout {
                Some(f) => Stdio::from(f),
                None => Stdio::from(slave),
            });
        let child = wrapped.spawn().expect("spawn setsid --ctty");
        // Our copies of the terminal's side must be gone, or closing the master hangs nothing up.
        drop(wrapped);
        let screen = Arc::new(Mutex::new(Vec::new()));
        if read {
            let mut reader = master.try_clone().unwrap();
            let screen = screen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // Ends with EIO once every process has closed the terminal.
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    screen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
        Terminal {
            master: Some(master),
            child,
            screen,
        }
    }

    /// Types `keys` (`b"\x03"` is Ctrl-C).
    pub fn type_keys(&mut self, keys: &[u8]) {
        let m = self.master.as_mut().expect("the terminal is open");
        m.write_all(keys).unwrap();
        m.flush().unwrap();
    }

    /// Closes the terminal, as closing a terminal window or a dropped ssh session does.
    pub fn hang_up(&mut self) {
        self.master = None;
    }

    /// What the terminal showed so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits for the program to exit; kills it and fails the test after `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "no exit within {limit:?}; the terminal showed:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
