//! Fault injection with strace: a `git pitboss …` command SIGKILLed at its Nth call of a set of
//! system calls (`rename`, `unlink`, …), the way the `*_faults` tests kill a command at each of
//! its writes.
//!
//! strace is needed: a machine without it shows those tests as skipped, loudly, except under
//! `CI=true` (`.ci/run` installs it), where that fails (see build.rs and CONTRIBUTING.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The writes of git and pitboss that the fault tests kill at: every write to refs, objects,
/// the index and the markers goes through a rename, except a ref libgit2 creates (a `link` of
/// its lock file); every deletion through an unlink. NB:
/// strace counts each system call on its own (`when=N` fires at the first call of the set to
/// reach its Nth), so a test kills at each of these in turn, or the later renames of a command
/// that unlinks more than it renames are never reached.
pub const WRITES: [&str; 8] = [
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "rmdir",
];

/// `strace` on `PATH`; panics, saying how to install it, when it is not there.
pub fn strace() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("strace"))
                .find(|p| p.is_file())
        })
        .expect("strace is not installed: apt-get install strace (CI always has it)")
}

/// `cmd` under strace, SIGKILLed at its `n`th call of each of `calls` (each process and each
/// call its own count); whether the injection fired, and the output. `log`: strace's output.
pub fn killed_at(cmd: &Command, calls: &str, n: u32, log: &Path) -> (bool, Output) {
    let mut st = Command::new(strace());
    st.arg("-f")
        .arg("-o")
        .arg(log)
        .arg("-e")
        .arg(format!("trace={calls}"))
        .arg("-e")
        .arg(format!("inject={calls}:signal=KILL:when={n}"))
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null());
    if let Some(dir) = cmd.get_current_dir() {
        st.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => st.env(k, v),
            None => st.env_remove(k),
        };
    }
    let out = st.output().unwrap();
    let trace = std::fs::read_to_string(log).unwrap_or_default();
    (trace.contains("+++ killed by SIGKILL +++"), out)
}
