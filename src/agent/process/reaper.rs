//! Descendants that leave the agent's process group (`setsid`, a daemon's double fork) still end
//! with their session.
//!
//! Signals to the group cannot reach a process that started a session of its own, and without
//! more it would be re-parented to init and outlive its session. `grind` therefore makes itself
//! a *child subreaper* (`PR_SET_CHILD_SUBREAPER`, Linux): orphans anywhere below it are
//! re-parented to it instead of init. When a supervised process ends, every child of ours other
//! than the one we supervise is such an orphan, and it is ended with all its descendants: TERM, a
//! grace period, KILL, and reaped (as their new parent we must, or they stay zombies).
//!
//! NB: this holds only while nothing else in the process starts children alongside a session:
//! true of `grind`, which runs sessions, hooks and its own `git` calls one at a time. So it is
//! off until [`become_subreaper`] turns it on (tests that supervise agents from parallel threads
//! of one process never turn it on).

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getpid};

static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// Makes this process the subreaper of every descendant, and has each supervised session end
/// the orphans it leaves. Linux only; elsewhere an error of kind `Unsupported`.
pub fn become_subreaper() -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        nix::sys::prctl::set_child_subreaper(true).map_err(io::Error::from)?;
        SUBREAPER.store(true, Ordering::SeqCst);
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "child subreapers are a Linux feature",
    ))
}

/// Whether [`become_subreaper`] succeeded in this process.
pub(super) fn active() -> bool {
    SUBREAPER.load(Ordering::SeqCst)
}

/// `pid → (parent pid, state)` of every process in `/proc`.
fn processes() -> HashMap<i32, (i32, char)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue; // exited while we looked
        };
        // `pid (comm) state ppid …`; comm may contain anything, so split at the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let state = f.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        out.insert(pid, (ppid, state));
    }
    out
}

/// Our children other than `except` (adopted orphans), with all their descendants.
fn adopted(except: Option<Pid>) -> (BTreeSet<i32>, Vec<i32>) {
    let me = getpid().as_raw();
    let procs = processes();
    let children: Vec<i32> = procs
        .iter()
        .filter(|(pid, (ppid, _))| *ppid == me && Some(Pid::from_raw(**pid)) != except)
        .map(|(pid, _)| *pid)
        .collect();
    let mut tree: BTreeSet<i32> = children.iter().copied().collect();
    loop {
        let before = tree.len();
        for (pid, (ppid, _)) in &procs {
            if tree.contains(ppid) {
                tree.insert(*pid);
            }
        }
        if tree.len() == before {
            break;
        }
    }
    let live = tree
        .into_iter()
        .filter(|p| !matches!(procs.get(p), Some((_, 'Z' | 'X'))))
        .collect();
    (live, children)
}

fn reap(children: &[i32]) {
    for &c in children {
        let _ = waitpid(Pid::from_raw(c), Some(WaitPidFlag::WNOHANG));
    }
}

/// Ends every orphan this process adopted (all but `except`, the supervised child) and their
/// descendants; returns how many processes were signalled. Does nothing unless this process is
/// a subreaper.
pub(super) fn end_adopted(except: Option<Pid>, grace: Duration) -> usize {
    if !active() {
        return 0;
    }
    let (live, children) = adopted(except);
    reap(&children);
    if live.is_empty() {
        return 0;
    }
    let signalled = live.len();
    for &p in &live {
        let _ = kill(Pid::from_raw(p), Signal::SIGTERM);
    }
    let mut deadline = Instant::now() + grace;
    let mut killed = false;
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let (live, children) = adopted(except);
        reap(&children);
        if live.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            if killed {
                break; // unkillable (uninterruptible sleep): give up rather than hang
            }
            for &p in &live {
                let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
            }
            killed = true;
            deadline = Instant::now() + Duration::from_secs(2);
        }
    }
    signalled
}
