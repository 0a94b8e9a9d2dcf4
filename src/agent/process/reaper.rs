//! Descendants that leave the agent's process group (`setsid`, a daemon's double fork) still end
//! with their session.
//!
//! Signals to the group cannot reach a process that started a session of its own, and without
//! more it would be re-parented to init and outlive its session. `grind` therefore makes itself
//! a *child subreaper* (`PR_SET_CHILD_SUBREAPER`, Linux): orphans anywhere below it are
//! re-parented to it instead of init. When a supervised process ends, every child of ours other
//! than the one we supervise is such an orphan, and it is ended with all its descendants and
//! their process groups: TERM, a grace period, then KILL on every scan until none is left, and
//! reaped (as their new parent we must, or they stay zombies). A process that re-forks faster
//! than a scan of `/proc` is caught by its group, which its exited (zombie) predecessors, ours
//! until reaped, still name.
//!
//! Several sessions of a parallel run are supervised at once, each from a thread of its own: every
//! supervised child is registered while it runs, and is never taken for an orphan. An orphan
//! cannot say which session it left, but its environment can: while other sessions run, a
//! session ends only the orphans whose environment carries its own `PITBOSS_SEQ` (the tag it
//! was started with); alone, it ends every orphan, as a sequential grind does. It is off until
//! [`become_subreaper`] turns it on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getpid};

static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// The children supervised right now, with the tag (`PITBOSS_SEQ=<n>`) of their session.
static SUPERVISED: Mutex<BTreeMap<i32, Option<String>>> = Mutex::new(BTreeMap::new());

fn supervised() -> std::sync::MutexGuard<'static, BTreeMap<i32, Option<String>>> {
    SUPERVISED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held from a supervised child's spawn to its registration, and while orphans are told from
/// supervised children. NB: between `spawn` and [`register`] a new session's agent is already
/// our child but not yet registered; a session ending alone in that window took it for its
/// own orphan and ended it (a sibling "killed by signal 15" just after it started).
static STARTING: Mutex<()> = Mutex::new(());

/// Taken around a supervised child's spawn and [`register`]: no orphan is looked for meanwhile.
pub(super) fn starting() -> std::sync::MutexGuard<'static, ()> {
    STARTING.lock().unwrap_or_else(|e| e.into_inner())
}

/// A supervised child starts: it is no orphan.
pub(super) fn register(pid: i32, tag: Option<String>) {
    supervised().insert(pid, tag);
}

/// A supervised child has ended.
pub(super) fn unregister(pid: i32) {
    supervised().remove(&pid);
}

/// Whether orphan `pid`'s environment holds `tag` (`NAME=value`).
fn carries(pid: i32, tag: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|&b| b == 0).any(|e| e == tag.as_bytes()))
}

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

/// `pid → (parent pid, state, process group)` of every process in `/proc`.
fn processes() -> HashMap<i32, (i32, char, i32)> {
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
        let pgid = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        out.insert(pid, (ppid, state, pgid));
    }
    out
}

/// Our children other than `except` and the supervised ones (adopted orphans), with all their
/// descendants and the process groups they are in (other than ours and the supervised
/// children's); with `tag`, only the orphans that carry it (see the module's comment).
fn adopted(except: Option<Pid>, tag: Option<&str>) -> (BTreeSet<i32>, Vec<i32>, BTreeSet<i32>) {
    let me = getpid().as_raw();
    let procs = processes();
    let busy = supervised().keys().copied().collect::<BTreeSet<i32>>();
    let children: Vec<i32> = procs
        .iter()
        .filter(|(pid, (ppid, ..))| *ppid == me && Some(Pid::from_raw(**pid)) != except)
        .map(|(pid, _)| *pid)
        .filter(|pid| !busy.contains(pid))
        .filter(|pid| tag.is_none_or(|t| carries(*pid, t)))
        .collect();
    let mut tree: BTreeSet<i32> = children.iter().copied().collect();
    loop {
        let before = tree.len();
        for (pid, (ppid, ..)) in &procs {
            if tree.contains(ppid) {
                tree.insert(*pid);
            }
        }
        if tree.len() == before {
            break;
        }
    }
    let live: BTreeSet<i32> = tree
        .iter()
        .copied()
        .filter(|p| !matches!(procs.get(p), Some((_, 'Z' | 'X', _))))
        .collect();
    // NB: a process that forks its successor and exits at once outruns any scan of /proc (the
    // one alive when the directory is listed is gone when its stat is read, its successor not
    // listed yet), but each one that exited stays our zombie, with its process group, until we
    // reap it; and a signal to a group reaches every member at once (no fork slips between).
    // So the groups of the live and of the zombies are signalled too: never our own group, a
    // supervised session's, or `except`'s.
    let mine = nix::unistd::getpgrp().as_raw();
    let groups = tree
        .iter()
        .filter_map(|p| procs.get(p).map(|(_, _, g)| *g))
        .filter(|g| *g > 1 && *g != mine && !busy.contains(g))
        .filter(|g| except.is_none_or(|e| e.as_raw() != *g))
        .collect();
    (live, children, groups)
}

/// Sends `sig` to each process of `live` and to each group of `groups`.
fn signal_all(live: &BTreeSet<i32>, groups: &BTreeSet<i32>, sig: Signal) {
    for &g in groups {
        let _ = nix::sys::signal::killpg(Pid::from_raw(g), sig);
    }
    for &p in live {
        let _ = kill(Pid::from_raw(p), sig);
    }
}

fn reap(children: &[i32]) {
    for &c in children {
        let _ = waitpid(Pid::from_raw(c), Some(WaitPidFlag::WNOHANG));
    }
}

/// Ends every orphan this process adopted (all but `except`, the supervised child) and their
/// descendants; while other sessions are supervised, only the orphans that carry `tag` (the
/// ending session's). Returns how many processes were signalled. Does nothing unless this
/// process is a subreaper.
pub(super) fn end_adopted(except: Option<Pid>, tag: Option<&str>, grace: Duration) -> usize {
    if !active() {
        return 0;
    }
    // Alone, every orphan is this session's; beside others, only those that say so. Decided
    // anew each time, with no child between its spawn and its registration.
    let adopted = |except| {
        let _starting = starting();
        let tag = if supervised().is_empty() {
            None
        } else {
            Some(tag.unwrap_or("\0"))
        };
        adopted(except, tag)
    };
    let (live, children, groups) = adopted(except);
    if live.is_empty() && groups.is_empty() {
        reap(&children);
        return 0;
    }
    let signalled = live.len().max(groups.len());
    signal_all(&live, &groups, Signal::SIGTERM);
    reap(&children);
    // TERM once, then KILL on every scan until none is left: a process that re-forks between
    // two scans is found, and ended, by the next one (or with its group).
    let grace_ends = Instant::now() + grace;
    let give_up = grace_ends + Duration::from_secs(5);
    loop {
        std::thread::sleep(Duration::from_millis(if Instant::now() < grace_ends {
            20
        } else {
            2
        }));
        let (live, children, groups) = adopted(except);
        // NB: no live process found proves nothing while new zombies keep coming (see
        // `adopted`): done only when neither is left.
        if live.is_empty() && groups.is_empty() {
            reap(&children);
            break;
        }
        let now = Instant::now();
        if now >= give_up {
            break; // unkillable (uninterruptible sleep): give up rather than hang
        }
        if now >= grace_ends {
            signal_all(&live, &groups, Signal::SIGKILL);
        }
        // Only now: a zombie reaped before its group is signalled takes the group's name along.
        reap(&children);
    }
    signalled
}
