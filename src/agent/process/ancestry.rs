//! Which session an orphan belongs to, where no cgroup says so (see `cgroup.rs`): the fallback.
//!
//! An orphan re-parented to grind (the subreaper) no longer shows who started it. So while the
//! sessions run, each supervisor has `/proc` scanned about every 25 ms, and every process below
//! a supervised child is recorded as that session's, by pid and start time (a reused pid is a
//! stranger), together with its process group and session id. An orphan is then told apart by,
//! in order: the record (it was seen attached); the `PITBOSS_SEQ=<n>` in its environment; a
//! process group or session id recorded as a session's (a chain that re-forks faster than the
//! scans keeps its group, and its exited members, our zombies until reaped, hold it too); its
//! birth time, when exactly one supervised process lived then (always so in a sequential run).
//! Whatever descends from an attributed process is attributed the same.
//!
//! What none of these tells (an emptied environment, a double fork and `setsid` done between two
//! scans, while another session ran) is nobody's: no session ends it or is warned about it, and
//! grind ends it when it ends (`end_strays`). A child of grind in grind's own process group is
//! grind's own helper (`git`), never an orphan.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::unistd::{getpgrp, getpid, getsid};

/// One process as `/proc/<pid>/stat` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Proc {
    pub ppid: i32,
    pub state: char,
    pub pgid: i32,
    pub sid: i32,
    /// Clock ticks (1/100 s) after boot.
    pub start: u64,
}

/// `pid (comm) state ppid pgrp session … starttime …`; comm may hold anything, so the fields
/// are counted after the last `)`.
fn parse_stat(stat: &str) -> Option<Proc> {
    let (_, rest) = stat.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Proc {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgid: f.get(2)?.parse().ok()?,
        sid: f.get(3)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

/// Every process in `/proc`.
pub(super) fn snapshot() -> HashMap<i32, Proc> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        // A process that exited while we looked has no stat any more.
        if let Some(p) = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
        {
            out.insert(pid, p);
        }
    }
    out
}

/// Now, in the ticks of [`Proc::start`].
fn now_ticks() -> u64 {
    let up = std::fs::read_to_string("/proc/uptime").unwrap_or_default();
    let secs: f64 = up
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    (secs * 100.0) as u64
}

/// A supervised process's life: its session is the owner of what it starts.
struct Life {
    owner: u64,
    root: i32,
    tag: Option<String>,
    from: u64,
    to: Option<u64>,
}

struct Record {
    /// `(pid, start) → owner` of every process seen attributed.
    seen: BTreeMap<(i32, u64), u64>,
    /// Process group and session ids of attributed processes, with when a member was last seen.
    groups: BTreeMap<i32, (u64, Instant)>,
    /// Process group and session ids of orphans first seen when none could be told: a later
    /// member is nobody's too, whatever its birth time says (a chain's newest member is born
    /// after its session ended, while another session runs).
    nobodys: BTreeMap<i32, Instant>,
    lives: Vec<Life>,
    scanned: Option<Instant>,
}

static RECORD: Mutex<Record> = Mutex::new(Record {
    seen: BTreeMap::new(),
    groups: BTreeMap::new(),
    nobodys: BTreeMap::new(),
    lives: Vec::new(),
    scanned: None,
});
static NEXT: AtomicU64 = AtomicU64::new(1);

fn record() -> std::sync::MutexGuard<'static, Record> {
    RECORD.lock().unwrap_or_else(|e| e.into_inner())
}

/// A supervised process `root` started (its session tagged `tag`): returns its owner id.
pub(super) fn begin(root: i32, tag: Option<String>) -> u64 {
    let owner = NEXT.fetch_add(1, Ordering::SeqCst);
    let from = std::fs::read_to_string(format!("/proc/{root}/stat"))
        .ok()
        .and_then(|s| parse_stat(&s))
        .map_or_else(now_ticks, |p| p.start);
    let mut rec = record();
    // Lives ended ten minutes ago cannot be the only one around a birth found now.
    let old = now_ticks().saturating_sub(60_000);
    rec.lives.retain(|l| l.to.is_none_or(|t| t >= old));
    rec.lives.push(Life {
        owner,
        root,
        tag,
        from,
        to: None,
    });
    owner
}

/// Its supervision is over (its leftovers ended).
pub(super) fn end(owner: u64) {
    let now = now_ticks();
    if let Some(l) = record().lives.iter_mut().find(|l| l.owner == owner) {
        l.to = Some(now);
    }
}

/// A scan while sessions run, at most every 20 ms whoever asks.
pub(super) fn note() {
    {
        let mut rec = record();
        if rec
            .scanned
            .is_some_and(|t| t.elapsed() < Duration::from_millis(20))
        {
            return;
        }
        rec.scanned = Some(Instant::now());
    }
    let procs = snapshot();
    resolve(&procs);
}

/// The owner of every process below grind that can be told, recorded for later scans.
pub(super) fn resolve(procs: &HashMap<i32, Proc>) -> HashMap<i32, u64> {
    let me = getpid().as_raw();
    let (my_pg, my_sid) = (getpgrp().as_raw(), getsid(None).map_or(0, |s| s.as_raw()));
    let mut kids: HashMap<i32, Vec<i32>> = HashMap::new();
    for (pid, p) in procs {
        kids.entry(p.ppid).or_default().push(*pid);
    }
    let mut rec = record();
    let mut owners = HashMap::new();
    for &c in kids.get(&me).into_iter().flatten() {
        let p = procs[&c];
        let root = rec.lives.iter().find(|l| l.to.is_none() && l.root == c);
        let owner = match root {
            Some(l) => Some(l.owner),
            None if p.pgid == my_pg => continue, // grind's own helper
            None => orphan_owner(c, &p, &rec, (my_pg, my_sid)),
        };
        let Some(owner) = owner else {
            let ids = [p.pgid, p.sid].into_iter();
            let now = Instant::now();
            rec.nobodys.extend(
                ids.filter(|id| *id > 1 && *id != my_pg && *id != my_sid)
                    .map(|id| (id, now)),
            );
            continue;
        };
        let mut todo = vec![c];
        while let Some(x) = todo.pop() {
            owners.insert(x, owner);
            todo.extend(kids.get(&x).into_iter().flatten());
        }
    }
    for (pid, owner) in &owners {
        let p = procs[pid];
        rec.seen.insert((*pid, p.start), *owner);
        for id in [p.pgid, p.sid] {
            if id > 1 && id != my_pg && id != my_sid {
                rec.groups.insert(id, (*owner, Instant::now()));
            }
        }
    }
    rec.seen
        .retain(|(pid, start), _| procs.get(pid).is_some_and(|p| p.start == *start));
    // NB: a chain that re-forks can be caught with no member listed (the one alive when /proc is
    // listed exits before its stat is read, its successor not listed yet, the zombies reaped):
    // an id is forgotten only once none of it was seen for 5 s (ids are pids: not reused soon).
    let now = Instant::now();
    let ids: std::collections::BTreeSet<i32> =
        procs.values().flat_map(|p| [p.pgid, p.sid]).collect();
    let keep = |id: &i32, at: &mut Instant| {
        if ids.contains(id) {
            *at = now;
        }
        now.duration_since(*at) < Duration::from_secs(5)
    };
    rec.groups.retain(|id, (_, at)| keep(id, at));
    rec.nobodys.retain(|id, at| keep(id, at));
    owners
}

/// The owner of orphan `pid`, by the rules in the module's comment, if one can be told.
fn orphan_owner(pid: i32, p: &Proc, rec: &Record, mine: (i32, i32)) -> Option<u64> {
    if let Some(o) = rec.seen.get(&(pid, p.start)) {
        return Some(*o);
    }
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let carries = |tag: &str| env.split(|&b| b == 0).any(|e| e == tag.as_bytes());
    // The newest life of that tag (a session's hooks carry it too).
    if let Some(l) = rec
        .lives
        .iter()
        .rev()
        .find(|l| l.tag.as_deref().is_some_and(carries))
    {
        return Some(l.owner);
    }
    for id in [p.pgid, p.sid] {
        if id > 1
            && id != mine.0
            && id != mine.1
            && let Some((o, _)) = rec.groups.get(&id)
        {
            return Some(*o);
        }
    }
    if [p.pgid, p.sid]
        .iter()
        .any(|id| rec.nobodys.contains_key(id))
    {
        return None;
    }
    // NB: ticks are 10 ms, and every time here is cut down to one: a birth in the tick a life
    // began or ended counts for that life, so a birth in the tick another session started or
    // ended is ambiguous (nobody's) rather than guessed.
    let mut around = rec
        .lives
        .iter()
        .filter(|l| l.from <= p.start && l.to.is_none_or(|t| p.start <= t));
    match (around.next(), around.next()) {
        (Some(l), None) => Some(l.owner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        let stat = "42 (a) b) (c) S 7 42 40 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 \
                    1000 10 18446744073709551615";
        assert_eq!(
            parse_stat(stat),
            Some(Proc {
                ppid: 7,
                state: 'S',
                pgid: 42,
                sid: 40,
                start: 12345
            })
        );
        assert_eq!(parse_stat("42 (cut"), None);
    }
}
