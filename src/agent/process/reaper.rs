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
//! supervised child is registered while it runs, and is never taken for an orphan. Which session
//! an orphan belongs to is told by its session's cgroup where there is one (`cgroup.rs`), else
//! by the record `ancestry.rs` keeps; a session ends only its own orphans, and an orphan nobody
//! can be told to own is ended when grind ends ([`end_strays`]). It is off until
//! [`become_subreaper`] turns it on.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getpid};

static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// The children supervised right now, with their owner id (`ancestry.rs`).
static SUPERVISED: Mutex<BTreeMap<i32, u64>> = Mutex::new(BTreeMap::new());

fn supervised() -> std::sync::MutexGuard<'static, BTreeMap<i32, u64>> {
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

/// A supervised child starts: it is no orphan. Returns the owner id of what it starts, for
/// [`end_adopted`] and [`super::ancestry::end`].
pub(super) fn register(pid: i32, tag: Option<String>) -> u64 {
    let owner = super::ancestry::begin(pid, tag);
    supervised().insert(pid, owner);
    owner
}

/// A supervised child has ended.
pub(super) fn unregister(pid: i32) {
    supervised().remove(&pid);
}

/// Records who started what while the sessions run (the fallback of `ancestry.rs`), with no
/// child between its spawn and its registration.
pub(super) fn note() {
    if active() {
        let _starting = starting();
        super::ancestry::note();
    }
}

/// Makes this process the subreaper of every descendant, and has each supervised session end
/// the orphans it leaves. Linux only; elsewhere an error of kind `Unsupported`.
pub(crate) fn become_subreaper() -> io::Result<()> {
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

/// The orphans to end (children of ours but `except`, the supervised ones and grind's own
/// helpers in its process group; with `owner`, only those of that owner), with all their
/// descendants and the process groups they are in (other than ours and the supervised
/// children's): `(live processes, our children among them, groups)`.
fn adopted(except: Option<Pid>, owner: Option<u64>) -> (BTreeSet<i32>, Vec<i32>, BTreeSet<i32>) {
    let me = getpid().as_raw();
    let mine = nix::unistd::getpgrp().as_raw();
    let procs = super::ancestry::snapshot();
    let owners = super::ancestry::resolve(&procs);
    let busy = supervised().keys().copied().collect::<BTreeSet<i32>>();
    let children: Vec<i32> = procs
        .iter()
        .filter(|(pid, p)| p.ppid == me && p.pgid != mine && Some(Pid::from_raw(**pid)) != except)
        .map(|(pid, _)| *pid)
        .filter(|pid| !busy.contains(pid))
        .filter(|pid| owner.is_none_or(|o| owners.get(pid) == Some(&o)))
        .collect();
    let mut tree: BTreeSet<i32> = children.iter().copied().collect();
    loop {
        let before = tree.len();
        for (pid, p) in &procs {
            if tree.contains(&p.ppid) {
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
        .filter(|p| procs.get(p).is_some_and(|p| !matches!(p.state, 'Z' | 'X')))
        .collect();
    // NB: a process that forks its successor and exits at once outruns any scan of /proc (the
    // one alive when the directory is listed is gone when its stat is read, its successor not
    // listed yet), but each one that exited stays our zombie, with its process group, until we
    // reap it; and a signal to a group reaches every member at once (no fork slips between).
    // So the groups of the live and of the zombies are signalled too: never our own group, a
    // supervised session's, or `except`'s.
    let groups = tree
        .iter()
        .filter_map(|p| procs.get(p).map(|p| p.pgid))
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

/// Ends the orphans of `owner` (or, with `None`, every orphan) and their descendants; never
/// `except`. Returns how many processes were found running, on any scan. Does nothing unless this process is a
/// subreaper.
pub(super) fn end_adopted(except: Option<Pid>, owner: Option<u64>, grace: Duration) -> usize {
    if !active() {
        return 0;
    }
    // No child is between its spawn and its registration while orphans are told apart.
    let adopted = |except| {
        let _starting = starting();
        adopted(except, owner)
    };
    let (live, children, groups) = adopted(except);
    if live.is_empty() && groups.is_empty() {
        reap(&children);
        return 0;
    }
    // Counted: the live processes found, on any scan (the groups of zombies alone are not).
    let mut signalled = live.clone();
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
        signalled.extend(live.iter().copied());
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
    signalled.len()
}

/// Reaps our zombie children for which `held` is true (the members of an ended cgroup).
pub(super) fn reap_where(held: impl Fn(i32) -> bool) {
    let me = getpid().as_raw();
    let busy = supervised().keys().copied().collect::<BTreeSet<i32>>();
    let zombies: Vec<i32> = super::ancestry::snapshot()
        .into_iter()
        .filter(|(pid, p)| p.ppid == me && p.state == 'Z' && !busy.contains(pid) && held(*pid))
        .map(|(pid, _)| pid)
        .collect();
    reap(&zombies);
}

/// Ends every orphan left when grind ends, whoever started it (those no session could be told
/// to own, in the fallback): TERM, `grace`, KILL until none is left. Returns how many.
pub(crate) fn end_strays(grace: Duration) -> usize {
    end_adopted(None, None, grace)
}
