//! Run-store benchmarks (the figures the run-store issue names):
//!
//! 1. append time and bytes added per append into a run of 10 sessions vs 10,000;
//! 2. the same append scripted with git plumbing (`hash-object`, `mktree`, `commit-tree`,
//!    `update-ref`), side by side;
//! 3. `git pitboss ls` over 1,000 runs, `log --jsonl` of a 10,000-session run, and `import` of
//!    a 10,000-session directory, through the real binary.
//!
//! Run with `cargo bench --bench store` (add `-- --quick` for a smaller, faster pass).

// The layers of clippy.toml hold in the library, not here: a benchmark drives real `git`
// processes and the binary, and times libgit2 where it compares with it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;
use common::{dir_bytes, median, ms, time};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pitboss::testing::{
    FixedClock, Oid, OsEntropy, Repo, RunId, RunMeta, RunState, RunStore, SessionAppend,
    SessionRecord, SessionStatus, Tokens, TranscriptSource, Usage,
};

fn record(seq: u64) -> SessionRecord {
    let t = chrono::DateTime::parse_from_rfc3339("2026-04-30T18:05:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let ended = t + chrono::Duration::seconds(90);
    SessionRecord {
        summary: Some(format!("session {seq}: fixed the foo bug in bar.rs")),
        commit: Some(Oid::parse_full("abc1234000000000000000000000000000000001").unwrap()),
        usage: Usage {
            tokens: Tokens {
                input: 1000,
                output: 500,
                ..Default::default()
            },
            cost_usd: 0.0123,
            ..Default::default()
        },
        ..SessionRecord::new(seq, "fp-hunter", t, ended, SessionStatus::Ok)
    }
}

fn transcript(seq: u64) -> Vec<u8> {
    format!(
        "session {seq}\n{}",
        "tool: edit src/bar.rs\nassistant: fixed\n".repeat(40)
    )
    .into_bytes()
}

fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    use std::io::Write;
    let mut c = Command::new("git")
        .current_dir(dir)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    if let Some(data) = stdin {
        c.stdin.take().unwrap().write_all(data).unwrap();
    }
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn new_repo() -> (tempfile::TempDir, Repo) {
    let d = tempfile::tempdir().unwrap();
    git(d.path(), &["init", "-q"], None);
    git(d.path(), &["config", "user.name", "Bench"], None);
    git(
        d.path(),
        &["config", "user.email", "bench@example.com"],
        None,
    );
    git(d.path(), &["config", "gc.auto", "0"], None);
    git(d.path(), &["config", "maintenance.auto", "false"], None);
    let r = Repo::open(d.path()).unwrap();
    (d, r)
}

/// A run with `n` sessions, written in one go.
fn make_run(store: &RunStore<'_>, id: &RunId, n: u64) {
    let meta = RunMeta::minimal(id.clone(), chrono::Utc::now());
    let state = RunState::new(chrono::Utc::now());
    let transcripts: Vec<Vec<u8>> = (1..=n).map(transcript).collect();
    let mut items = (1..=n).map(|s| {
        Ok((
            record(s),
            TranscriptSource::Bytes(&transcripts[(s - 1) as usize]),
            None,
        ))
    });
    store
        .import_run(meta, &state, "", &mut items, "bench")
        .unwrap();
}

/// Median append times and object-store growth per append (as loose objects, and once
/// packed) into runs of `small` and `big` sessions. Appends to the two runs alternate, so
/// machine noise hits both alike.
///
/// NB: "packed" repacks with `git repack -a -d -f` before and after the appends. A plain
/// `git gc` reuses the deltas a pack already has and tries none inside a pack whose objects
/// are whole, so the big run's figure measured how much of the imported pack `gc` happened to
/// recompress, not what an append costs once packed.
fn bench_append(small: u64, big: u64, samples: u64) -> [(Duration, u64, u64); 2] {
    let clock = FixedClock(chrono::Utc::now());
    let ent = OsEntropy::default();
    let setups: Vec<_> = [small, big]
        .into_iter()
        .map(|n| {
            let (dir, repo) = new_repo();
            let id = RunId::parse(&format!("bench-{n}")).unwrap();
            make_run(&RunStore::new(&repo, &clock, &ent), &id, n);
            (dir, repo, id, n)
        })
        .collect();
    for (d, ..) in &setups {
        git(d.path(), &["repack", "-a", "-d", "-f", "-q"], None);
    }
    let before: Vec<u64> = setups
        .iter()
        .map(|(d, ..)| dir_bytes(&d.path().join(".git/objects")))
        .collect();
    let mut times = [Vec::new(), Vec::new()];
    for i in 0..samples + 5 {
        for (k, (_, repo, id, n)) in setups.iter().enumerate() {
            let store = RunStore::new(repo, &clock, &ent);
            let t = transcript(n + i + 1);
            let start = Instant::now();
            store
                .append_session(
                    id,
                    SessionAppend {
                        record: record(0),
                        transcript: TranscriptSource::Bytes(&t),
                        scratchpad: Some("notes\n"),
                        patch: None,
                        scheduler: None,
                        state_extra: Default::default(),
                    },
                )
                .unwrap();
            if i >= 5 {
                times[k].push(start.elapsed());
            }
        }
    }
    let grown: Vec<u64> = setups
        .iter()
        .zip(&before)
        .map(|((d, ..), b)| (dir_bytes(&d.path().join(".git/objects")) - b) / (samples + 5))
        .collect();
    let packed: Vec<u64> = setups
        .iter()
        .zip(&before)
        .map(|((d, ..), b)| {
            git(d.path(), &["repack", "-a", "-d", "-f", "-q"], None);
            dir_bytes(&d.path().join(".git/objects")).saturating_sub(*b) / (samples + 5)
        })
        .collect();
    let [a, b] = times;
    [
        (median(a), grown[0], packed[0]),
        (median(b), grown[1], packed[1]),
    ]
}

/// The same append done the way a user would script it with git plumbing.
fn bench_plumbing(base: u64, samples: u64) -> Duration {
    let (dir, repo) = new_repo();
    let clock = FixedClock(chrono::Utc::now());
    let ent = OsEntropy::default();
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse(&format!("plumb-{base}")).unwrap();
    make_run(&store, &id, base);
    let d = dir.path();
    let refname = id.ref_name();
    let mut times = Vec::new();
    for i in 0..samples {
        let seq = base + i + 1;
        let start = Instant::now();
        let tip = git(d, &["rev-parse", &refname], None);
        let mut r = record(seq);
        r.run_id = id.to_string();
        r.transcript_path = format!("transcripts/session-{seq:04}.log");
        let line = format!("{}\n", r.to_line());
        let rec = git(d, &["hash-object", "-w", "--stdin"], Some(line.as_bytes()));
        let tr = git(d, &["hash-object", "-w", "--stdin"], Some(&transcript(seq)));
        let state = git(
            d,
            &["hash-object", "-w", "--stdin"],
            Some(format!("{{\"last_session_seq\":{seq}}}\n").as_bytes()),
        );
        let bucket = format!("{:02}", seq / 100);
        // Rebuild the two bucket trees, their parents and the root with mktree.
        let put = |dirpath: &str, name: &str, oid: &str, mode: &str, kind: &str| -> String {
            let listing = git(d, &["ls-tree", &format!("{tip}:{dirpath}")], None);
            let mut lines: Vec<String> = listing
                .lines()
                .filter(|l| !l.ends_with(&format!("\t{name}")))
                .map(str::to_string)
                .collect();
            lines.push(format!("{mode} {kind} {oid}\t{name}"));
            git(d, &["mktree"], Some((lines.join("\n") + "\n").as_bytes()))
        };
        let exists = |p: &str| {
            Command::new("git")
                .current_dir(d)
                .args(["cat-file", "-e", &format!("{tip}:{p}")])
                .status()
                .unwrap()
                .success()
        };
        let sb = if exists(&format!("sessions/{bucket}")) {
            put(
                &format!("sessions/{bucket}"),
                &format!("{seq:04}.jsonl"),
                &rec,
                "100644",
                "blob",
            )
        } else {
            git(
                d,
                &["mktree"],
                Some(format!("100644 blob {rec}\t{seq:04}.jsonl\n").as_bytes()),
            )
        };
        let s = put("sessions", &bucket, &sb, "040000", "tree");
        let tb = if exists(&format!("transcripts/{bucket}")) {
            put(
                &format!("transcripts/{bucket}"),
                &format!("session-{seq:04}.log"),
                &tr,
                "100644",
                "blob",
            )
        } else {
            git(
                d,
                &["mktree"],
                Some(format!("100644 blob {tr}\tsession-{seq:04}.log\n").as_bytes()),
            )
        };
        let t = put("transcripts", &bucket, &tb, "040000", "tree");
        let listing = git(d, &["ls-tree", &tip], None);
        let mut root: Vec<String> = listing
            .lines()
            .filter(|l| {
                !l.ends_with("\tsessions")
                    && !l.ends_with("\ttranscripts")
                    && !l.ends_with("\tstate.json")
            })
            .map(str::to_string)
            .collect();
        root.push(format!("040000 tree {s}\tsessions"));
        root.push(format!("040000 tree {t}\ttranscripts"));
        root.push(format!("100644 blob {state}\tstate.json"));
        let tree = git(d, &["mktree"], Some((root.join("\n") + "\n").as_bytes()));
        let commit = git(
            d,
            &[
                "commit-tree",
                &tree,
                "-p",
                &tip,
                "-m",
                &format!("session {seq:04} fp-hunter: ok"),
            ],
            None,
        );
        git(d, &["update-ref", &refname, &commit, &tip], None);
        times.push(start.elapsed());
    }
    median(times)
}

fn time_cmd(dir: &Path, args: &[&str], reps: usize) -> Duration {
    time(dir, env!("CARGO_BIN_EXE_git-pitboss"), args, reps, || {})
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "OVER TARGET" }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let big: u64 = if quick { 2_000 } else { 10_000 };
    let samples = if quick { 30 } else { 100 };
    println!(
        "git-pitboss run-store benchmark ({} mode)",
        if quick { "quick" } else { "full" }
    );

    let [(small_t, small_b, small_p), (big_t, big_b, big_p)] = bench_append(10, big, samples);
    let ratio = big_t.as_secs_f64() / small_t.as_secs_f64();
    println!(
        "append into a run of 10 sessions:      median {}, {} bytes loose / {} bytes packed per append",
        ms(small_t),
        small_b,
        small_p
    );
    println!(
        "append into a run of {big} sessions:  median {}, {} bytes loose / {} bytes packed per append",
        ms(big_t),
        big_b,
        big_p
    );
    println!(
        "  time ratio {ratio:.2} (target <= 1.5: {}); bytes ratio loose {:.2}, packed {:.2}",
        verdict(ratio <= 1.5),
        big_b as f64 / small_b as f64,
        big_p as f64 / small_p as f64
    );

    let plumb = bench_plumbing(big, samples.min(30));
    println!(
        "same append with git plumbing commands: median {}",
        ms(plumb)
    );
    println!(
        "  ours / plumbing = {:.3} (target well below 1: {})",
        big_t.as_secs_f64() / plumb.as_secs_f64(),
        verdict(big_t < plumb)
    );

    // ls over 1,000 runs, each created and appended to as a grind would (loose objects).
    let (dir, repo) = new_repo();
    let clock = FixedClock(chrono::Utc::now());
    let ent = OsEntropy::default();
    let store = RunStore::new(&repo, &clock, &ent);
    for i in 0..1000 {
        let id = RunId::parse(&format!("20261124T100000Z-{i:04x}")).unwrap();
        store
            .create_run(RunMeta::minimal(id.clone(), chrono::Utc::now()))
            .unwrap();
        for s in 1..=2 {
            let t = transcript(s);
            store
                .append_session(
                    &id,
                    SessionAppend {
                        record: record(0),
                        transcript: TranscriptSource::Bytes(&t),
                        scratchpad: None,
                        patch: None,
                        scheduler: None,
                        state_extra: Default::default(),
                    },
                )
                .unwrap();
        }
    }
    let ls = time_cmd(dir.path(), &["ls"], 15);
    println!(
        "git pitboss ls over 1000 runs (loose objects): median {} (target < 150 ms: {})",
        ms(ls),
        verdict(ls < Duration::from_millis(150))
    );
    git(dir.path(), &["gc", "-q"], None);
    let ls = time_cmd(dir.path(), &["ls"], 15);
    println!(
        "git pitboss ls over 1000 runs (after git gc):  median {} (target < 150 ms: {})",
        ms(ls),
        verdict(ls < Duration::from_millis(150))
    );

    // log --jsonl of a big run: imported (objects in a pack), and appended one session at a
    // time (loose objects, as a long grind leaves them before `git maintenance` packs them).
    let (dir, repo) = new_repo();
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("big").unwrap();
    make_run(&store, &id, big);
    let log = time_cmd(dir.path(), &["log", "big", "--jsonl"], 7);
    println!(
        "git pitboss log --jsonl of {big} sessions (packed): median {} (target < 500 ms: {})",
        ms(log),
        verdict(log < Duration::from_millis(500))
    );
    let (dir_l, repo_l) = new_repo();
    let store_l = RunStore::new(&repo_l, &clock, &ent);
    let id_l = RunId::parse("loose").unwrap();
    store_l
        .create_run(RunMeta::minimal(id_l.clone(), chrono::Utc::now()))
        .unwrap();
    let t0 = Instant::now();
    for s in 1..=big {
        let t = transcript(s);
        store_l
            .append_session(
                &id_l,
                SessionAppend {
                    record: record(0),
                    transcript: TranscriptSource::Bytes(&t),
                    scratchpad: None,
                    patch: None,
                    scheduler: None,
                    state_extra: Default::default(),
                },
            )
            .unwrap();
    }
    println!(
        "  ({big} appends one by one took {:.1} s)",
        t0.elapsed().as_secs_f64()
    );
    let log_l = time_cmd(dir_l.path(), &["log", "loose", "--jsonl"], 7);
    println!(
        "git pitboss log --jsonl of {big} sessions (loose):  median {} (target < 500 ms: {})",
        ms(log_l),
        verdict(log_l < Duration::from_millis(500))
    );

    // import of a big run directory.
    let export_dir = dir.path().join("exported");
    let run = store.open_run(&id).unwrap();
    pitboss::testing::export_run(&store, &run, &export_dir).unwrap();
    let (dir2, _repo2) = new_repo();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .current_dir(dir2.path())
        .args(["import", export_dir.to_str().unwrap()])
        .output()
        .unwrap();
    let import = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "git pitboss import of {big} sessions: {} (target < 10 s: {})",
        ms(import),
        verdict(import < Duration::from_secs(10))
    );
    let objects = dir2.path().join(".git/objects");
    let mb = |p: &Path| dir_bytes(p) as f64 / 1e6;
    let imported = mb(&objects);
    git(dir2.path(), &["gc", "-q"], None);
    let gc = mb(&objects);
    git(dir2.path(), &["repack", "-a", "-d", "-f", "-q"], None);
    println!(
        "  objects on disk: {imported:.1} MB imported, {gc:.1} MB after git gc, {:.1} MB after git repack -a -d -f",
        mb(&objects)
    );
}
