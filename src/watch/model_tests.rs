use super::*;

fn record(seq: u64, prompt: &str, status: &str, cost: &str) -> SessionRecord {
    let cost_source = if cost == "unknown" {
        r#","cost_source":"unknown""#
    } else {
        ""
    };
    let cost = if cost == "unknown" { "0" } else { cost };
    serde_json::from_str(&format!(
        r#"{{"seq":{seq},"run_id":"r","prompt":"{prompt}","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:01:05Z","status":"{status}","summary":"\nfixed {seq}\nmore","commit":null,"tokens":{{"input":100,"output":20,"by_role":{{}}}},"cost_usd":{cost},"transcript_path":"t"{cost_source}}}"#
    ))
    .unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn live_session_on_top_then_newest_first_with_unknown_cost_said() {
    let mut d = Dashboard {
        grinding: true,
        ..Dashboard::default()
    };
    d.add_record(record(1, "lint", "ok", "0.5"));
    d.add_record(record(2, "docs", "error", "unknown"));
    assert!(d.apply_line(
        r#"{"event":"session_started","seq":3,"prompt":"lint","rotation":0,"started_at":"2026-01-01T00:02:00Z"}"#
    ));
    assert!(d.apply_line(
        r#"{"event":"progress","seq":3,"elapsed_ms":5,"last_tool":"Bash","tokens":40}"#
    ));
    let rows = d.rows(0, 10, at("2026-01-01T00:03:30Z"));
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [3, 2, 1]);
    assert!(rows[0].live);
    assert_eq!(rows[0].duration, "1m30s");
    assert_eq!(rows[0].summary, "last tool: Bash");
    assert_eq!(rows[0].tokens, "40");
    assert_eq!(rows[0].cost, "-", "no running cost known yet");
    assert_eq!(rows[1].cost, "unknown");
    assert_eq!(rows[2].cost, "$0.5000");
    assert_eq!(rows[2].summary, "fixed 1");
    assert_eq!(rows[2].duration, "1m05s");
    // A window of the table formats only what it shows.
    assert_eq!(d.rows(1, 1, at("2026-01-01T00:03:30Z"))[0].seq, 2);
    assert_eq!(d.seq_at(0), Some(3));
    assert_eq!(d.seq_at(2), Some(1));
    assert_eq!(d.seq_at(3), None);
    // The running cost, once the agent's usage gives one, on the live row and in the total.
    assert!(
        d.apply_line(r#"{"event":"progress","seq":3,"elapsed_ms":9,"tokens":90,"cost_usd":0.125}"#)
    );
    let rows = d.rows(0, 10, at("2026-01-01T00:03:30Z"));
    assert_eq!(rows[0].cost, "$0.1250");
    assert_eq!(d.cost(), (0.625, 1));
    // Its grind gone, the session no longer runs, nor does its time.
    d.grinding = false;
    let rows = d.rows(0, 10, at("2026-01-01T00:09:30Z"));
    assert_eq!(
        (rows[0].status.as_str(), rows[0].duration.as_str()),
        ("interrupted", "-")
    );
    d.grinding = true;
    // Its record ends the live row.
    d.apply_line(&format!(
        r#"{{"event":"session_finished","record":{},"patch_saved":false,"run_cost_usd":0,"run_sessions":3,"run_unknown_cost_sessions":1}}"#,
        serde_json::to_string(&record(3, "lint", "ok", "0.25")).unwrap()
    ));
    assert!(d.live.is_empty());
    assert_eq!(d.row_count(), 3);
}

#[test]
fn gauges_only_for_budgets_in_force() {
    let mut d = Dashboard::default();
    assert!(d.gauges(at("2026-01-01T00:00:00Z")).is_empty());
    d.apply_line(
        r#"{"event":"run_started","run":"x","agent":"command","limits":{"max_iterations":4,"max_cost_usd":2.0,"until":"2026-01-01T01:00:00Z","max_tokens":null,"consecutive_failure_limit":3,"min_session_seconds":0},"unknown_field":1}"#,
    );
    d.started_at = Some(at("2026-01-01T00:00:00Z"));
    d.add_record(record(1, "lint", "ok", "0.5"));
    d.add_record(record(2, "lint", "ok", "unknown"));
    let g = d.gauges(at("2026-01-01T00:15:00Z"));
    let labels: Vec<&str> = g.iter().map(|g| g.label).collect();
    assert_eq!(labels, ["iterations", "cost", "until"]);
    assert_eq!(g[0].text, "2 of 4");
    assert!((g[0].ratio - 0.5).abs() < 1e-9);
    assert_eq!(g[1].text, "$0.50 of $2.00 (+ unknown)");
    assert!((g[1].ratio - 0.25).abs() < 1e-9);
    assert_eq!(g[2].text, "45m00s left (until 01:00 UTC)");
    assert!((g[2].ratio - 0.25).abs() < 1e-9);
    // Past the limit, a gauge is full, not beyond.
    d.limits.max_iterations = Some(1);
    assert_eq!(d.gauges(at("2026-01-01T02:00:00Z"))[0].ratio, 1.0);
}

#[test]
fn per_prompt_totals_and_unknown_events_tolerated() {
    let mut d = Dashboard::default();
    assert!(!d.apply_line(r#"{"event":"something_new","x":1}"#));
    assert!(!d.apply_line("not json"));
    d.add_record(record(1, "lint", "ok", "0.5"));
    d.add_record(record(2, "lint", "error", "unknown"));
    d.add_record(record(3, "docs", "ok", "0.25"));
    let t = d.prompt_totals();
    assert_eq!(t[0].prompt, "lint");
    assert_eq!((t[0].sessions, t[0].ok, t[0].failed), (2, 1, 1));
    assert_eq!(t[0].unknown_cost, 1);
    assert_eq!(t[0].tokens, 240);
    assert_eq!(t[1].prompt, "docs");
    assert_eq!(short_duration(7300), "2h01m");
}

/// A parallel run: three sessions run side by side, their events interleaved in the file.
#[test]
fn sessions_side_by_side_each_on_top_with_its_slot_and_skip_aims_at_the_selected_one() {
    let mut d = Dashboard {
        grinding: true,
        ..Dashboard::default()
    };
    d.add_record(record(1, "lint", "ok", "0.5"));
    let started = |seq: u64, slot: u32, prompt: &str| {
        format!(
            r#"{{"event":"session_started","seq":{seq},"slot":{slot},"prompt":"{prompt}","rotation":0,"started_at":"2026-01-01T00:02:0{seq}Z"}}"#
        )
    };
    let progress = |seq: u64, slot: u32, tool: &str, tokens: u64| {
        format!(
            r#"{{"event":"progress","seq":{seq},"slot":{slot},"elapsed_ms":5,"last_tool":"{tool}","tokens":{tokens},"cost_usd":0.25}}"#
        )
    };
    for line in [
        started(2, 0, "lint"),
        started(3, 1, "docs"),
        progress(2, 0, "Bash", 10),
        started(4, 2, "tests"),
        progress(3, 1, "Edit", 20),
        progress(4, 2, "Read", 30),
        progress(2, 0, "Write", 40),
    ] {
        assert!(d.apply_line(&line), "{line}");
    }
    let rows = d.rows(0, 10, at("2026-01-01T00:03:00Z"));
    let shown: Vec<(u64, Option<u32>, bool, &str)> = rows
        .iter()
        .map(|r| (r.seq, r.slot, r.live, r.summary.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            (4, Some(2), true, "last tool: Read"),
            (3, Some(1), true, "last tool: Edit"),
            (2, Some(0), true, "last tool: Write"),
            (1, None, false, "fixed 1"),
        ]
    );
    assert!(d.has_slots());
    assert_eq!(d.iterations(), 4);
    assert_eq!(d.tokens(), 120 + 30 + 20 + 40);
    assert_eq!(d.cost(), (0.5 + 0.75, 0));
    assert_eq!((d.seq_at(1), d.index_of(3)), (Some(3), Some(1)));
    assert_eq!((d.seq_at(3), d.index_of(1)), (Some(1), Some(3)));

    // `s` ends the selected running session; with a finished one selected it cannot choose.
    assert_eq!(d.skip_target(Some(3)), Ok(3));
    assert_eq!(d.skip_target(Some(1)), Err(vec![2, 3, 4]));

    // The middle one finishes: the other two stay on top, its row goes below them.
    let mut r = record(3, "docs", "ok", "0.25");
    r.slot = Some(1);
    d.apply_line(&format!(
        r#"{{"event":"session_finished","record":{},"patch_saved":false,"run_cost_usd":0,"run_sessions":2,"run_unknown_cost_sessions":0}}"#,
        serde_json::to_string(&r).unwrap()
    ));
    let rows = d.rows(0, 10, at("2026-01-01T00:03:00Z"));
    let shown: Vec<(u64, Option<u32>, bool)> =
        rows.iter().map(|r| (r.seq, r.slot, r.live)).collect();
    assert_eq!(
        shown,
        [
            (4, Some(2), true),
            (2, Some(0), true),
            (3, Some(1), false),
            (1, None, false)
        ]
    );
    // Down to one running, `s` needs no selection.
    d.live.remove(&4);
    assert_eq!(d.skip_target(Some(1)), Ok(2));
    d.live.clear();
    assert_eq!(d.skip_target(None), Err(vec![]));
}

#[test]
fn a_parallel_session_waiting_to_land_reads_queued() {
    let mut d = Dashboard {
        grinding: true,
        ..Dashboard::default()
    };
    for line in [
        r#"{"event":"session_started","seq":1,"slot":1,"prompt":"lint","rotation":0,"started_at":"2026-01-01T00:02:00Z"}"#,
        r#"{"event":"session_started","seq":2,"slot":2,"prompt":"docs","rotation":0,"started_at":"2026-01-01T00:02:01Z"}"#,
        r#"{"event":"queued","seq":2,"slot":2,"behind":1}"#,
    ] {
        assert!(d.apply_line(line), "{line}");
    }
    let rows = d.rows(0, 10, at("2026-01-01T00:03:00Z"));
    let status: Vec<(u64, &str)> = rows.iter().map(|r| (r.seq, r.status.as_str())).collect();
    assert_eq!(status, [(2, "queued"), (1, "running")]);
    // A queued event of a session this dashboard does not know changes nothing.
    assert!(!d.apply_line(r#"{"event":"queued","seq":9,"slot":1,"behind":1}"#));
}
