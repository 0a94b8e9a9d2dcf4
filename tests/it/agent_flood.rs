//! An agent that floods its output: 200 MB of lines, then one 50 MB line without a newline.
//! The transcript stays within its cap (with one marker line and the output's tail), and our
//! own memory stays bounded: nothing is held whole. The measured part runs in a process of its
//! own (the test binary again, on this test alone), so the memory reading is not disturbed by
//! the tests `cargo test` runs beside it in threads of one process.

use std::fs;
use std::time::Duration;

use pitboss::testing::{
    AgentEvent, CommandAdapter, Controls, RecordingObserver, SessionEnd, SessionSpec, run_session,
};

/// Peak resident memory of this process so far, in bytes (Linux; 0 elsewhere).
fn peak_rss() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn a_flood_of_output_is_capped_and_memory_stays_bounded() {
    const ALONE: &str = "PITBOSS_TEST_FLOOD_ALONE";
    if std::env::var_os(ALONE).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "agent_flood::a_flood_of_output_is_capped_and_memory_stays_bounded",
                "--test-threads",
                "1",
                "--nocapture",
            ])
            .env(ALONE, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The child ran the test (not zero tests: a renamed test would match nothing).
        assert!(text.contains("1 passed"), "{text}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wt = dir.path().join("wt");
    fs::create_dir_all(&wt).unwrap();
    let before = peak_rss();
    let cases = [
        (
            "yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c 200000000; echo; echo THE-END",
            200_000_000u64,
        ),
        (
            "head -c 50000000 /dev/zero | tr '\\0' 'y'; echo; echo THE-END",
            50_000_000,
        ),
    ];
    for (i, (script, size)) in cases.into_iter().enumerate() {
        let mut spec =
            SessionSpec::new("r", i as u64 + 1, "flood", &wt, &dir.path().join("s"), "x");
        spec.limits.timeout = Some(Duration::from_secs(240));
        let cap = spec.transcript_cap;
        let mut obs = RecordingObserver::default();
        let out = run_session(
            &spec,
            &CommandAdapter::new(script),
            &Controls::new(),
            &mut obs,
        )
        .unwrap();
        assert_eq!(out.end, SessionEnd::Exited { code: 0 }, "{out:?}");
        let t = &out.transcript;
        let on_disk = fs::metadata(&t.path).unwrap().len();
        assert_eq!(on_disk, t.bytes_written);
        assert!(t.truncated);
        assert!(
            on_disk <= cap + 1024,
            "transcript {on_disk} bytes over the cap {cap}"
        );
        assert!(t.bytes_dropped >= size - cap, "dropped {}", t.bytes_dropped);
        let text = fs::read(&t.path).unwrap();
        let marker = text
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"[pitboss] transcript truncated"))
            .count();
        assert_eq!(marker, 1);
        assert!(text.ends_with(b"THE-END\n"), "the tail is kept");
        assert_eq!(
            obs.events
                .iter()
                .filter(|e| matches!(e, AgentEvent::TranscriptCapped { .. }))
                .count(),
            1
        );
    }
    let grown = peak_rss().saturating_sub(before);
    eprintln!("peak RSS grew by {} MiB", grown / (1024 * 1024));
    assert!(grown < 100 * 1024 * 1024, "peak RSS grew by {grown} bytes");
}
