//! One cgroup (v2) per supervised process, where the machine lets us make one: the first way
//! of ending a session's descendants, because nothing they do takes them out of it.
//!
//! The child writes itself into its session's cgroup between `fork` and `exec`, so everything
//! it ever starts is born inside: `setsid`, a double fork, an emptied environment, a chain that
//! re-forks faster than any scan of `/proc` change nothing, and an unprivileged process cannot
//! move itself out (that needs write access to the common ancestor's `cgroup.procs`, which is
//! ours). Ending them is TERM to every member, the grace period, then `cgroup.kill` (Linux
//! 5.14+), which the kernel applies to every member at once, forks in flight included; on an
//! older kernel, freeze the cgroup, KILL every member, thaw, until it is empty. Whatever is in
//! the cgroup is the session's: attribution in a parallel run is exact.
//!
//! Where: a child of grind's own cgroup on the cgroup2 mount (`/sys/fs/cgroup` on a unified
//! machine, `/sys/fs/cgroup/unified` on a hybrid one), named `pitboss-<grind pid>-<n>`. Root
//! can always make one; a user can where systemd delegates the user's cgroup (a terminal in a
//! desktop session, `systemd-run --user --scope`). cgroup v1 hierarchies are not used. When
//! none can be made, or with `PITBOSS_CGROUPS=off`, supervision falls back to the subreaper's
//! scans (see `reaper.rs`).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Off once turned off, or once making one failed (no retry per session: one warning is enough).
static OFF: AtomicBool = AtomicBool::new(false);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// No session cgroups in this process (`PITBOSS_CGROUPS=off`, a test of the fallback).
pub(crate) fn turn_off() {
    OFF.store(true, Ordering::SeqCst);
}

/// The cgroup2 directory grind itself is in, if there is a cgroup2 mount that shows it.
fn own_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let dir = dir_of(&cgroup, &mountinfo)?;
        remove_stale(&dir);
        Some(dir)
    })
    .as_deref()
}

/// Removes the empty cgroups a grind that is gone left (it was killed): `pitboss-<pid>-<n>`
/// whose pid runs no more. One still populated stays (removing it fails): `--resume` ends the
/// agent it holds, and the next grind removes it.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("pitboss-"))
            .and_then(|rest| rest.split_once('-'))
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.0).exists() {
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

/// Our cgroup2 directory from `/proc/self/cgroup` (`0::<path>`) and `/proc/self/mountinfo`
/// (`… <root> <mount point> … - cgroup2 …`): the mount point plus our path below its root.
fn dir_of(cgroup: &str, mountinfo: &str) -> Option<PathBuf> {
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mut f = left.split_whitespace();
        let root = f.nth(3)?;
        let point = f.next()?;
        let below = path.strip_prefix(root.trim_end_matches('/'))?;
        if !below.is_empty() && !below.starts_with('/') {
            return None; // `/docker/abcdef` is not below `/docker/abc`
        }
        let below = below.trim_start_matches('/');
        Some(Path::new(point).join(below))
    })
}

/// The cgroup of one supervised process. Removed when dropped (its members must be gone).
pub(super) struct Cgroup {
    dir: PathBuf,
    /// `0::<path>`, the line a member's `/proc/<pid>/cgroup` shows (zombies included).
    line: String,
}

/// How ending a cgroup went.
pub(super) struct Ended {
    /// Processes found running in it (and signalled), on any look.
    pub signalled: usize,
    /// Left after TERM, grace, KILL and 5 s more (uninterruptible sleep).
    pub left: usize,
}

impl Cgroup {
    /// Makes a new cgroup below grind's own; `Ok(None)` when cgroups are off here.
    pub(super) fn create() -> io::Result<Option<Cgroup>> {
        if OFF.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let Some(own) = own_dir() else {
            turn_off();
            return Ok(None);
        };
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("pitboss-{}-{n}", std::process::id());
        let dir = own.join(&name);
        if let Err(e) = std::fs::create_dir(&dir) {
            turn_off();
            return Err(e);
        }
        let rel = std::fs::read_to_string("/proc/self/cgroup")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find_map(|l| l.strip_prefix("0::"))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let line = format!("0::{}/{name}", rel.trim_end_matches('/'));
        Ok(Some(Cgroup { dir, line }))
    }

    /// Has `cmd`'s child write itself into this cgroup before it runs anything.
    pub(super) fn place(&self, cmd: &mut Command) -> io::Result<()> {
        let procs = OpenOptions::new()
            .write(true)
            .open(self.dir.join("cgroup.procs"))?;
        // SAFETY: `pre_exec` runs in the child between fork and exec, where only
        // async-signal-safe calls are allowed. The closure makes one write(2) to a descriptor
        // opened before the fork (no allocation, no lock: `io::Error::last_os_error` reads
        // errno). This is the only way to put the child in the cgroup before it can fork: std
        // has no safe hook there, and moving it from the parent after spawn races its forks.
        #[allow(unsafe_code)]
        unsafe {
            cmd.pre_exec(move || enter(&procs));
        }
        Ok(())
    }

    /// Live members (zombies are not listed).
    pub(super) fn pids(&self) -> Vec<i32> {
        std::fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Whether `pid` (a zombie too) was in this cgroup.
    pub(super) fn holds(&self, pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .is_ok_and(|c| c.lines().any(|l| l == self.line))
    }

    /// Ends every member: TERM, up to `grace` for them to go, then KILL to all at once until
    /// none is left (5 s at most).
    pub(super) fn end(&self, grace: Duration) -> Ended {
        let members = |cg: &Cgroup| cg.pids();
        let first = members(self);
        if first.is_empty() {
            return Ended {
                signalled: 0,
                left: 0,
            };
        }
        let mut seen: std::collections::BTreeSet<i32> = first.iter().copied().collect();
        for &p in &first {
            let _ = kill(Pid::from_raw(p), Signal::SIGTERM);
        }
        let grace_ends = Instant::now() + grace;
        while Instant::now() < grace_ends {
            let now = members(self);
            if now.is_empty() {
                break;
            }
            seen.extend(now);
            std::thread::sleep(Duration::from_millis(10));
        }
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            let now = members(self);
            seen.extend(now.iter().copied());
            if now.is_empty() || Instant::now() >= give_up {
                return Ended {
                    signalled: seen.len(),
                    left: now.len(),
                };
            }
            self.kill_all(&now);
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// KILL to every member at once: `cgroup.kill`, or (before Linux 5.14) freeze, KILL each
    /// listed member, thaw.
    fn kill_all(&self, members: &[i32]) {
        if std::fs::write(self.dir.join("cgroup.kill"), "1").is_ok() {
            return;
        }
        let frozen = std::fs::write(self.dir.join("cgroup.freeze"), "1").is_ok();
        for &p in members.iter().chain(self.pids().iter()) {
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
        if frozen {
            let _ = std::fs::write(self.dir.join("cgroup.freeze"), "0");
        }
    }
}

/// The child's half of [`Cgroup::place`]: writing `0` to `cgroup.procs` moves the writer.
fn enter(mut procs: &File) -> io::Result<()> {
    procs.write(b"0").map(drop)
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // NB: a cgroup whose last member just died may still count as populated for a moment.
        for _ in 0..50 {
            match std::fs::remove_dir(&self.dir) {
                Err(e) if e.raw_os_error() == Some(nix::libc::EBUSY) => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
35 25 0:30 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid,relatime - cgroup2 cgroup2 rw
37 35 0:32 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
";

    #[test]
    fn the_cgroup2_mount_and_our_path_below_it() {
        assert_eq!(
            dir_of("1:pids:/\n0::/\n", HYBRID),
            Some(PathBuf::from("/sys/fs/cgroup/unified/"))
        );
        assert_eq!(
            dir_of("0::/user.slice/app.scope\n", HYBRID),
            Some(PathBuf::from("/sys/fs/cgroup/unified/user.slice/app.scope"))
        );
        // A mount of a subtree (a container's cgroup namespace done by bind mount).
        let sub = "40 35 0:31 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            dir_of("0::/docker/abc/x\n", sub),
            Some(PathBuf::from("/sys/fs/cgroup/x"))
        );
        assert_eq!(dir_of("0::/docker/abcdef\n", sub), None);
        assert_eq!(
            dir_of("0::/\n", "37 35 0:32 / /p rw - cgroup cgroup rw\n"),
            None
        );
        assert_eq!(dir_of("1:pids:/\n", HYBRID), None);
    }
}
