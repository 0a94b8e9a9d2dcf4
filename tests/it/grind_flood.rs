//! An agent that prints 200 MB during a grind session: the transcript stored in the run ref
//! stays within its cap (one truncation marker, the output's tail kept), and grind's own peak
//! memory, read from /proc while it runs, stays bounded.

use std::time::{Duration, Instant};

use crate::support::grind::*;

/// The transcript cap (DESIGN §6, docs/agents.md: 20 MiB).
const CAP: u64 = 20 << 20;

/// Peak resident memory of a live process (`VmHWM`), in bytes.
fn peak_rss(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

#[test]
fn two_hundred_megabytes_of_output_are_capped_and_memory_stays_bounded() {
    let p = Project::new();
    p.prompt("flood", "").agent(
        "yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c 200000000\necho\necho THE-END\n",
    );
    let mut g = Grind::spawn(&p, p.grind_cmd(&["--max-iterations", "1"]), "flood");
    let started = Instant::now();
    let mut peak = 0u64;
    let deadline = started + Duration::from_secs(120);
    while g.child.try_wait().unwrap().is_none() {
        if let Some(rss) = peak_rss(g.pid()) {
            peak = peak.max(rss);
        }
        assert!(Instant::now() < deadline, "grind did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    g.wait(Duration::from_secs(1));
    let out = g.output();
    eprintln!(
        "200 MB session took {:?}; grind's peak RSS {} MiB",
        started.elapsed(),
        peak >> 20
    );
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert!(peak > 0, "never read grind's memory");
    assert!(peak < 200 << 20, "grind's peak RSS was {} MiB", peak >> 20);

    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["ok"]);
    let blob = format!("refs/pitboss/grind/{run}:transcripts/00/session-0001.log");
    let size: u64 = p.sb.git(&["cat-file", "-s", &blob]).trim().parse().unwrap();
    assert!(
        size <= CAP + 1024,
        "stored transcript {size} bytes, cap {CAP}"
    );
    assert!(size > CAP / 2, "stored transcript only {size} bytes");
    let t = p.transcript(&run, 1);
    assert_eq!(t.len() as u64, size);
    let markers: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with("[pitboss] transcript truncated"))
        .collect();
    assert_eq!(markers.len(), 1, "{markers:?}");
    assert!(t.ends_with("THE-END\n"), "the tail is kept");
}

/// Measures grind's peak RSS while it runs to its end.
fn run_measuring(p: &Project, args: &[&str], name: &str) -> (std::process::Output, u64) {
    let mut g = Grind::spawn(p, p.grind_cmd(args), name);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut peak = 0u64;
    while g.child.try_wait().unwrap().is_none() {
        if let Some(rss) = peak_rss(g.pid()) {
            peak = peak.max(rss);
        }
        assert!(Instant::now() < deadline, "grind did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    g.wait(Duration::from_secs(1));
    (g.output(), peak)
}

#[test]
fn huge_files_from_the_agent_are_read_only_as_far_as_they_are_kept() {
    // `pad` appends 150 MB to the scratchpad, then its newest note, and writes a 150 MB
    // summary; `result` writes a 150 MB result file.
    let p = Project::new();
    p.prompt("pad", "").prompt("result", "").agent(
        r#"
case "$PITBOSS_PROMPT" in
  pad)
    head -c 150000000 /dev/zero | tr '\0' 'n' >> "$PITBOSS_SCRATCHPAD"
    echo "the newest note" >> "$PITBOSS_SCRATCHPAD"
    head -c 150000000 /dev/zero | tr '\0' 's' > "$PITBOSS_SUMMARY_FILE"
    ;;
  result)
    { printf '{"summary":"'; head -c 150000000 /dev/zero | tr '\0' 'r'; printf '"}'; } > "$PITBOSS_RESULT_FILE"
    ;;
esac
"#,
    );
    let (out, peak) = run_measuring(&p, &["--max-iterations", "2"], "huge");
    eprintln!("grind's peak RSS {} MiB", peak >> 20);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    assert!(
        peak > 0 && peak < 100 << 20,
        "grind's peak RSS was {} MiB",
        peak >> 20
    );
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["ok", "error"]);
    // The scratchpad keeps its newest part (what later sessions read), with a note.
    let pad = p.run_file(&run, "scratchpad.md").unwrap();
    assert!(
        pad.len() < (1 << 20) + 1024,
        "scratchpad of {} bytes",
        pad.len()
    );
    assert!(
        pad.ends_with("nnnthe newest note\n"),
        "{}",
        &pad[pad.len() - 100..]
    );
    assert!(
        pad.starts_with("[pitboss] scratchpad cut"),
        "{}",
        &pad[..200]
    );
    let summary = records[0]["summary"].as_str().unwrap();
    assert!(
        summary.len() < 20 * 1024,
        "summary of {} bytes",
        summary.len()
    );
    assert!(summary.starts_with("sss"));
    let why = records[1]["summary"].as_str().unwrap();
    assert!(
        why.contains("result file") && why.contains("larger than"),
        "{why}"
    );
}
