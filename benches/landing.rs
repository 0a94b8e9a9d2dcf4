//! Landing benchmark (the figure issue 13 names): the median time to land one session on a run
//! branch of 1,000 commits; goal ≤ 50 ms.
//!
//! A landing, as the queue does it: replay the session's commits onto the run branch's tip in
//! memory (`Repo::replay_onto`), move the branch by compare-and-swap (`Repo::cas_ref`), and prove
//! that every commit of the session is on the branch (`Repo::unproven`). The repository is a
//! project of 5,000 files in 50 directories whose run branch has 1,000 commits (each editing
//! one file), packed as `git gc` leaves it. 50 sessions each commit a file of their own on a
//! base three commits behind the tip (others landed while they ran), and land one after the
//! other, so the branch grows to 1,050. Each part is timed too.
//!
//! Run with `cargo bench --bench landing` (`-- --quick`: 500 files and 200 commits).

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{git, median, ms};

use std::time::{Duration, Instant};

use pitboss::testing::{CasOutcome, Identity, MergeDrivers, Oid, Replay, Repo, TreeEdit};

const RUN_BRANCH: &str = "refs/heads/pitboss/bench";

fn p90(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 9).div_ceil(10) - 1]
}

fn source(i: usize, version: usize) -> String {
    format!(
        "// file {i}, version {version}\n{}",
        "fn f() -> u32 { 42 }\n".repeat(30)
    )
}

/// A project of `files` files whose branch has `commits` commits after the first.
fn build(repo: &Repo, files: usize, commits: usize, who: &Identity) -> Oid {
    let when = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    let edits: Vec<TreeEdit> = (0..files)
        .map(|i| TreeEdit::Blob {
            path: format!("src/m{:02}/f{i:04}.rs", i % 50),
            oid: repo.write_blob(source(i, 0).as_bytes()).unwrap(),
        })
        .collect();
    let mut tree = repo.edit_tree(None, &edits).unwrap();
    let mut tip = repo.write_commit(tree, &[], "initial", who, when).unwrap();
    for n in 1..=commits {
        let i = (n * 7919) % files;
        let edit = TreeEdit::Blob {
            path: format!("src/m{:02}/f{i:04}.rs", i % 50),
            oid: repo.write_blob(source(i, n).as_bytes()).unwrap(),
        };
        tree = repo.edit_tree(Some(tree), &[edit]).unwrap();
        let msg = format!("session {n}: edit f{i:04}.rs");
        tip = repo.write_commit(tree, &[tip], &msg, who, when).unwrap();
    }
    tip
}

/// Time this thread has run on a CPU and time it has waited for one (the first two fields of
/// `schedstat`, in ns): on a busy machine the wall time of a landing is mostly the second.
fn sched() -> (Duration, Duration) {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut f = s.split_whitespace().map(|n| n.parse().unwrap_or(0));
    let mut next = || Duration::from_nanos(f.next().unwrap_or(0));
    (next(), next())
}

fn back(repo: &Repo, mut c: Oid, n: usize) -> Oid {
    for _ in 0..n {
        c = repo.commit_info(c).unwrap().unwrap().parents[0];
    }
    c
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (files, commits, sessions) = if quick {
        (500, 200, 50)
    } else {
        (5_000, 1_000, 50)
    };
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Bench"]);
    git(dir, &["config", "user.email", "bench@example.com"]);
    let who = Identity {
        name: "Bench".into(),
        email: "bench@example.com".into(),
    };
    let built = Instant::now();
    {
        let repo = Repo::open(dir).unwrap();
        let tip = build(&repo, files, commits, &who);
        assert_eq!(
            repo.cas_ref(RUN_BRANCH, tip, None, "bench").unwrap(),
            CasOutcome::Updated
        );
    }
    git(dir, &["gc", "-q"]);
    let built = built.elapsed();

    let repo = Repo::open(dir).unwrap();
    let when = chrono::DateTime::from_timestamp(1_790_001_000, 0).unwrap();
    let (mut total, mut replay, mut cas, mut proof) = (vec![], vec![], vec![], vec![]);
    let (mut cpu, mut waited) = (vec![], vec![]);
    for s in 0..sessions {
        // The session, made outside the timing: one commit on a file of its own.
        let tip = repo.ref_target(RUN_BRANCH).unwrap().unwrap();
        let base = back(&repo, tip, 3);
        let base_tree = repo.commit_info(base).unwrap().unwrap().tree;
        let edit = TreeEdit::Blob {
            path: format!("src/m{:02}/session{s:02}.rs", s % 50),
            oid: repo.write_blob(source(10_000 + s, 1).as_bytes()).unwrap(),
        };
        let tree = repo.edit_tree(Some(base_tree), &[edit]).unwrap();
        let head = repo
            .write_commit(tree, &[base], &format!("parallel session {s}"), &who, when)
            .unwrap();

        let (start, sched_start) = (Instant::now(), sched());
        let Replay::Replayed {
            tip: new, commits, ..
        } = repo
            .replay_onto(base, head, tip, MergeDrivers::Text)
            .unwrap()
        else {
            panic!("session {s} did not replay cleanly");
        };
        let t1 = start.elapsed();
        let moved = repo.cas_ref(RUN_BRANCH, new, Some(tip), "landing").unwrap();
        let t2 = start.elapsed();
        let unproven = repo.unproven(base, head, tip, new).unwrap();
        let t3 = start.elapsed();
        let sched_end = sched();
        cpu.push(sched_end.0 - sched_start.0);
        waited.push(sched_end.1 - sched_start.1);
        assert_eq!(moved, CasOutcome::Updated);
        assert_eq!(commits.len(), 1);
        assert!(unproven.is_empty(), "session {s}: {unproven:?}");
        total.push(t3);
        replay.push(t1);
        cas.push(t2 - t1);
        proof.push(t3 - t2);
    }
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    println!(
        "landing {sessions} sessions (one commit each, 3 behind the tip) on a run branch of \
         {commits} commits, {files} files (built and packed in {:.1} s)",
        built.as_secs_f64()
    );
    println!(
        "  landing         median {}, p90 {} (goal: median ≤ 50 ms)",
        ms(median(total.clone())),
        ms(p90(total))
    );
    for (name, v) in [
        ("  replay_onto", replay),
        ("  cas_ref", cas),
        ("  unproven", proof),
        ("  on a CPU", cpu),
        ("  waiting for one", waited),
    ] {
        println!(
            "{name:<17} median {}, p90 {}",
            ms(median(v.clone())),
            ms(p90(v))
        );
    }
    println!(
        "  load average    {} (before), {} (after)",
        load_before.trim(),
        load_after.trim()
    );
}
