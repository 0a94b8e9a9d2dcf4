//! Concurrency and crash safety of appends, with real processes.

use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

#[test]
fn eight_processes_times_25_records_lose_nothing() {
    let sb = Sandbox::new();
    sb.ok(
        &["record", RUN, "--create"],
        &record_json("seed", "ok", None),
    );
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let repo = sb.repo.clone();
            let home = sb.home.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_git-pitboss"));
                    cmd.current_dir(&repo)
                        .env("HOME", &home)
                        .env("GIT_CONFIG_NOSYSTEM", "1")
                        .args(["record", RUN]);
                    let out =
                        run_with_stdin(&mut cmd, &record_json(&format!("w{w}-{i}"), "ok", None));
                    assert!(
                        out.status.success(),
                        "worker {w} call {i}: {}",
                        stderr(&out)
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let lines = sb.ok(&["log", RUN, "--jsonl"], "");
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 201);
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=201).collect::<Vec<_>>());
    let mut prompts: Vec<&str> = records
        .iter()
        .map(|r| r["prompt"].as_str().unwrap())
        .collect();
    prompts.sort();
    prompts.dedup();
    assert_eq!(prompts.len(), 201);
    assert_eq!(
        sb.git(&["rev-list", "--count", &format!("refs/pitboss/grind/{RUN}")])
            .trim(),
        "202"
    );
}

/// SIGKILL at random moments while appending, many times over: the repository stays
/// consistent and every record that made it in is whole.
#[test]
fn sigkill_while_appending_leaves_a_consistent_run() {
    let sb = Sandbox::new();
    sb.ok(
        &["record", RUN, "--create"],
        &record_json("seed", "ok", None),
    );
    // A transcript large enough that a kill often lands mid-write.
    let big = "transcript line with some words in it\n".repeat(20_000);
    let tpath = sb.path("big.log");
    std::fs::write(&tpath, &big).unwrap();
    // Kills are spread over the whole life of an append, measured here on this machine.
    let t0 = std::time::Instant::now();
    sb.ok(
        &["record", RUN, "--transcript", tpath.to_str().unwrap()],
        &record_json("timed", "ok", None),
    );
    let span = (t0.elapsed().as_micros() as u64 * 12 / 10).max(1_000);
    let mut seed: u64 = 0x5eed;
    let mut killed = 0;
    for round in 0..60 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_micros((seed >> 33) % span);
        let mut child = sb
            .pitboss()
            .args(["record", RUN, "--transcript", tpath.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut sin = child.stdin.take().unwrap();
            let _ = sin.write_all(record_json(&format!("round-{round}"), "ok", None).as_bytes());
        }
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    eprintln!("killed {killed} of 60 appends mid-way");
    assert!(
        killed > 5,
        "only {killed} of 60 appends were killed mid-way: the test proves little"
    );
    let fsck = sb.git_output_in(&sb.repo, &["fsck", "--strict", "--no-dangling"]);
    assert!(fsck.status.success(), "fsck: {}", stderr(&fsck));
    // Every record that made it in parses; seqs are distinct and match the commit count.
    let lines = sb.ok(&["log", RUN, "--jsonl"], "");
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("whole record"))
        .collect();
    let commits: usize = sb
        .git(&["rev-list", "--count", &format!("refs/pitboss/grind/{RUN}")])
        .trim()
        .parse()
        .unwrap();
    assert_eq!(records.len() + 1, commits);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"].as_u64().unwrap(), i as u64 + 1);
        if i > 0 {
            let seq = r["seq"].as_u64().unwrap();
            let t = sb.ok(&["show", RUN, &seq.to_string(), "--transcript"], "");
            assert_eq!(
                t.len(),
                big.len(),
                "transcript of session {seq} is not whole"
            );
        }
    }
    eprintln!("{} appends made it in", records.len() - 1);
    // And the run still takes appends (a lock left by a killed writer is cleared).
    let out = sb.ok(&["record", RUN], &record_json("after", "ok", None));
    assert_eq!(out.trim().parse::<usize>().unwrap(), records.len() + 1);
}
