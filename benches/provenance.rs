//! What-did-it-buy benchmarks (the figures issue 14 names):
//!
//! 1. `git pitboss stats` over 100 runs × 100 sessions, against a target branch that took half
//!    of the runs (a third of those by merge, a third by squash, a third by rebase), cold (no
//!    cache) and warm; goal: < 1 s warm. Also the call after one more session was recorded.
//! 2. `git pitboss blame` of a 1,000-line file whose lines were written by 500 sessions, warm,
//!    against plain `git blame` of the same file; goal: ≤ 2×. libgit2's own blame
//!    (`git2::Repository::blame_file`) is timed too, as the alternative we did not take.
//!
//! Run with `cargo bench --bench provenance` (add `-- --quick` for 20 runs × 25 sessions and a
//! file written by 100 sessions; `--keep` keeps the repository for a closer look).

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{median, ms, time};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pitboss::testing::{
    FixedClock, Identity, Oid, OsEntropy, Repo, RunId, RunMeta, RunStore, SessionAppend,
    SessionRecord, SessionStatus, Tokens, TranscriptSource, TreeEdit, Usage,
};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn record(prompt: &str, commit: Oid) -> SessionRecord {
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let ended = t + chrono::Duration::seconds(90);
    SessionRecord {
        summary: Some("did the thing".into()),
        commit: Some(commit),
        usage: Usage {
            tokens: Tokens {
                input: 1000,
                output: 500,
                ..Default::default()
            },
            cost_usd: 0.0123,
            ..Default::default()
        },
        agent: Some("claude".into()),
        model: Some("opus".into()),
        ..SessionRecord::new(0, prompt, t, ended, SessionStatus::Ok)
    }
}

struct Builder<'a> {
    repo: &'a Repo,
    store: &'a RunStore<'a>,
    who: Identity,
    when: chrono::DateTime<chrono::Utc>,
}

impl Builder<'_> {
    fn blob(&self, text: &str) -> Oid {
        self.repo.write_blob(text.as_bytes()).unwrap()
    }

    fn commit(&self, tree: Oid, parents: &[Oid], msg: &str) -> Oid {
        self.repo
            .write_commit(tree, parents, msg, &self.who, self.when)
            .unwrap()
    }

    fn tree_of(&self, commit: Oid) -> Oid {
        self.repo.commit_info(commit).unwrap().unwrap().tree
    }

    fn with(&self, tree: Oid, path: &str, blob: Oid) -> Oid {
        self.repo
            .edit_tree(
                Some(tree),
                &[TreeEdit::Blob {
                    path: path.into(),
                    oid: blob,
                }],
            )
            .unwrap()
    }

    fn new_run(&self, n: usize, base: Oid) -> RunId {
        let id = RunId::parse(&format!("20261124T100000Z-{n:04x}")).unwrap();
        let mut meta = RunMeta::minimal(id.clone(), self.when);
        meta.base_branch = Some("main".into());
        meta.base_commit = Some(base);
        meta.branch = Some(format!("pitboss/{id}"));
        meta.agent = Some("claude".into());
        self.store.create_run(meta).unwrap();
        id
    }

    fn session(&self, id: &RunId, prompt: &str, commit: Oid) {
        let transcript = format!("tool: Write {prompt}\nassistant: done\n");
        self.store
            .append_session(
                id,
                SessionAppend {
                    record: record(prompt, commit),
                    transcript: TranscriptSource::Bytes(transcript.as_bytes()),
                    scratchpad: None,
                    patch: None,
                    scheduler: None,
                    state_extra: Default::default(),
                },
            )
            .unwrap();
    }

    fn branch(&self, id: &RunId, tip: Oid) {
        self.repo.create_branch(&id.branch_name(), tip).unwrap();
    }
}

const PROMPTS: [&str; 4] = ["fix-lints", "hunt-bugs", "docs", "tests"];

/// Builds the repository; returns the number of runs the target took.
fn build(dir: &Path, runs: usize, sessions: usize, blame_runs: usize, lines: usize) -> usize {
    let repo = Repo::open(dir).unwrap();
    let clock = FixedClock(chrono::Utc::now());
    let ent = OsEntropy::default();
    let store = RunStore::new(&repo, &clock, &ent);
    let b = Builder {
        repo: &repo,
        store: &store,
        who: Identity::fallback(),
        when: chrono::Utc::now(),
    };
    let mut file: Vec<String> = (0..lines)
        .map(|i| format!("line {i} as it began"))
        .collect();
    let empty = repo.empty_tree().unwrap();
    let t0 = b.with(empty, "blame.txt", b.blob(&(file.join("\n") + "\n")));
    let mut main = b.commit(t0, &[], "initial");
    // The blame runs: chained, each fast-forwarded into main; session k rewrites its own
    // slice of blame.txt, so the final file's lines come from every one of them.
    let total = blame_runs * sessions;
    let mut k = 0;
    for r in 0..blame_runs {
        let id = b.new_run(r, main);
        let mut tip = main;
        for s in 0..sessions {
            let (from, to) = (k * lines / total, (k + 1) * lines / total);
            for (i, l) in file.iter_mut().enumerate().take(to).skip(from) {
                *l = format!("line {i} by run {r} session {s}");
            }
            let tree = b.with(
                b.tree_of(tip),
                "blame.txt",
                b.blob(&(file.join("\n") + "\n")),
            );
            tip = b.commit(tree, &[tip], &format!("run {r} session {s}"));
            b.session(&id, PROMPTS[s % 4], tip);
            k += 1;
        }
        b.branch(&id, tip);
        main = tip;
    }
    // The other runs, from one base; the first half of them land on main.
    let base = main;
    let mut taken = blame_runs;
    for r in blame_runs..runs {
        let id = b.new_run(r, base);
        let path = format!("runs/r{r}.txt");
        let mut tip = base;
        let mut text = String::new();
        let mut blobs = Vec::new();
        for s in 0..sessions {
            text.push_str(&format!("run {r} session {s}\n"));
            let blob = b.blob(&text);
            blobs.push(blob);
            let tree = b.with(b.tree_of(tip), &path, blob);
            tip = b.commit(tree, &[tip], &format!("run {r} session {s}"));
            b.session(&id, PROMPTS[s % 4], tip);
        }
        b.branch(&id, tip);
        if r >= runs / 2 {
            continue;
        }
        taken += 1;
        let main_tree = b.tree_of(main);
        main = match r % 3 {
            0 => b.commit(
                b.with(main_tree, &path, *blobs.last().unwrap()),
                &[main, tip],
                "merge",
            ),
            1 => b.commit(
                b.with(main_tree, &path, *blobs.last().unwrap()),
                &[main],
                "squash",
            ),
            _ => {
                let mut m = main;
                for blob in &blobs {
                    let t = b.with(b.tree_of(m), &path, *blob);
                    m = b.commit(t, &[m], "rebased session");
                }
                m
            }
        };
    }
    repo.set_ref("refs/heads/main", main, "bench").unwrap();
    taken
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "OVER GOAL" }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, sessions, blame_runs) = if quick { (20, 25, 4) } else { (100, 100, 5) };
    println!(
        "git-pitboss provenance benchmark ({} mode): {runs} runs x {sessions} sessions, blame.txt of 1000 lines from {} sessions",
        if quick { "quick" } else { "full" },
        blame_runs * sessions
    );
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Bench"]);
    git(dir, &["config", "user.email", "bench@example.com"]);
    git(dir, &["config", "gc.auto", "0"]);
    git(dir, &["config", "maintenance.auto", "false"]);
    let start = Instant::now();
    let taken = build(dir, runs, sessions, blame_runs, 1000);
    git(dir, &["reset", "-q", "--hard", "main"]);
    git(dir, &["gc", "-q"]);
    println!(
        "built in {:.1} s; the target took {taken} of {runs} runs",
        start.elapsed().as_secs_f64()
    );

    let bin = env!("CARGO_BIN_EXE_git-pitboss");
    let cache = dir.join(".git/pitboss/cache/provenance.json");
    let clear = || {
        let _ = std::fs::remove_file(&cache);
    };
    let stats = ["stats", "--target", "main"];
    let cold = time(dir, bin, &stats, if quick { 2 } else { 3 }, clear);
    let warm = time(dir, bin, &stats, 7, || {});
    println!("stats cold (no cache): median {}", ms(cold));
    println!(
        "stats warm:            median {} (goal < 1 s: {})",
        ms(warm),
        verdict(warm < Duration::from_secs(1))
    );
    // One more session in the last run: only it is new to the index.
    {
        let repo = Repo::open(dir).unwrap();
        let clock = FixedClock(chrono::Utc::now());
        let ent = OsEntropy::default();
        let store = RunStore::new(&repo, &clock, &ent);
        let id = RunId::parse(&format!("20261124T100000Z-{:04x}", runs - 1)).unwrap();
        let tip = repo
            .ref_target(&format!("refs/heads/pitboss/{id}"))
            .unwrap()
            .unwrap();
        let b = Builder {
            repo: &repo,
            store: &store,
            who: Identity::fallback(),
            when: chrono::Utc::now(),
        };
        let tree = b.with(b.tree_of(tip), "late.txt", b.blob("late\n"));
        let c = b.commit(tree, &[tip], "late session");
        repo.set_ref(&format!("refs/heads/pitboss/{id}"), c, "bench")
            .unwrap();
        b.session(&id, "late", c);
    }
    let grown = time(dir, bin, &stats, 1, || {});
    println!("stats after one new session: {}", ms(grown));

    let ours = ["blame", "blame.txt"];
    let _ = time(dir, bin, &ours, 1, || {});
    let blame_ours = time(dir, bin, &ours, 7, || {});
    let blame_git = time(dir, "git", &["blame", "blame.txt"], 7, || {});
    let ratio = blame_ours.as_secs_f64() / blame_git.as_secs_f64();
    println!("git blame blame.txt:          median {}", ms(blame_git));
    println!(
        "git pitboss blame blame.txt:  median {} ({ratio:.2}x; goal <= 2x: {})",
        ms(blame_ours),
        verdict(ratio <= 2.0)
    );
    let repo = git2::Repository::open(dir).unwrap();
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let blame = repo.blame_file(Path::new("blame.txt"), None).unwrap();
        assert!(!blame.is_empty());
        times.push(start.elapsed());
    }
    println!(
        "libgit2 blame_file (not used): median {}",
        ms(median(times))
    );
    if std::env::args().any(|a| a == "--keep") {
        println!("kept the repository at {}", d.keep().display());
    }
}
