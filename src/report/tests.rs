//! The page on runs made in memory: what it shows, that it escapes what runs hold, and that it
//! needs nothing outside itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::store::{RunId, RunStatus};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Records of `n` sessions over two prompts, one minute each, every fifth an error.
pub(crate) fn records(run: &str, n: u64) -> Vec<SessionRecord> {
    (1..=n)
        .map(|seq| {
            let start = t0() + Duration::seconds(seq as i64 * 70);
            let line = serde_json::json!({
                "seq": seq,
                "run_id": run,
                "prompt": if seq % 2 == 0 { "docs" } else { "fp-hunter" },
                "started_at": crate::store::rfc3339::format(&start),
                "ended_at": crate::store::rfc3339::format(&(start + Duration::seconds(60))),
                "status": if seq % 5 == 0 { "error" } else { "ok" },
                "summary": format!("session {seq} did things"),
                "commit": (seq % 5 != 0).then(|| format!("{seq:040x}")),
                "tokens": {"input": 1000, "output": 100, "by_role": {}},
                "cost_usd": 0.01,
                "transcript_path": format!("transcripts/session-{seq:04}.log"),
                "agent": "claude",
            });
            serde_json::from_value(line).unwrap()
        })
        .collect()
}

fn meta_state(id: &str) -> (RunMeta, RunState) {
    let mut meta = RunMeta::minimal(RunId::parse(id).unwrap(), t0());
    meta.agent = Some("claude".into());
    meta.branch = Some(format!("refs/heads/pitboss/{id}"));
    meta.base_branch = Some("main".into());
    meta.extra.insert(
        "started_with".into(),
        serde_json::json!({"max_iterations": 10, "max_cost_usd": 5.0}),
    );
    let mut state = RunState::new(t0());
    state.status = RunStatus::parse("finished");
    state.stop_reason = Some("iteration budget reached".into());
    (meta, state)
}

fn page(ids: &[&str], n: u64, transcripts: &BTreeMap<u64, Vec<u8>>) -> String {
    let owned: Vec<_> = ids
        .iter()
        .map(|id| (meta_state(id), records(id, n)))
        .collect();
    let inputs: Vec<RunInput<'_>> = owned
        .iter()
        .map(|((meta, state), records)| RunInput {
            meta,
            state,
            records,
            transcripts,
            yields: &[],
            target: None,
        })
        .collect();
    render(&inputs, &ReportOptions::default()).unwrap()
}

const A: &str = "20261124T100000Z-abcd";
const B: &str = "20261125T100000Z-beef";

#[test]
fn summary_figures_and_sessions() {
    let mut transcripts = BTreeMap::new();
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/claude/write-and-commit.jsonl"
    ))
    .unwrap();
    transcripts.insert(3, raw);
    let html = page(&[A], 10, &transcripts);
    assert!(
        html.contains(r#"<span class="run-sessions">10</span>"#),
        "{html}"
    );
    assert!(html.contains(r#"<span class="badge error">2 error</span>"#));
    assert!(html.contains(r#"<td class="run-cost">$0.1000</td>"#));
    assert!(html.contains(r#"<span class="run-tokens">11000</span>"#));
    // The parts as `git pitboss show` names them.
    assert!(html.contains("(10000 in / 1000 out)"), "{html}");
    assert!(html.contains("iterations 10 of 10"));
    assert!(html.contains("finished (iteration budget reached)"));
    assert_eq!(html.matches("<details class=\"s\"").count(), 10);
    assert!(html.contains(&format!("{:040x}", 3)));
    // Session 3 carries its readable transcript.
    assert!(
        html.contains("<b>Write</b> /tmp/.tmpZZM3Tf/repo/hello.txt"),
        "{html}"
    );
    assert_eq!(html.matches("<svg").count(), 6);
}

#[test]
fn several_runs_side_by_side() {
    let html = page(&[A, B], 3, &BTreeMap::new());
    assert!(html.contains("Runs side by side"));
    assert_eq!(html.matches("<table class=\"summary\"").count(), 2);
    assert!(html.contains(&format!("id=\"run-{B}\"")));
}

#[test]
fn everything_from_a_run_is_escaped() {
    let (meta, state) = meta_state(A);
    let mut recs = records(A, 2);
    recs[0].prompt = "<script>alert(1)</script>".into();
    recs[0].summary = Some("a & b <img src=x onerror=alert(2)>".into());
    let mut transcripts = BTreeMap::new();
    transcripts.insert(1, b"<script>alert(3)</script>\n".to_vec());
    let input = RunInput {
        meta: &meta,
        state: &state,
        records: &recs,
        transcripts: &transcripts,
        yields: &[],
        target: None,
    };
    let html = render(&[input], &ReportOptions::default()).unwrap();
    assert!(!html.contains("<script"), "unescaped script");
    assert!(!html.contains("<img"), "unescaped img");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a &amp; b &lt;img"));
}

#[test]
fn the_page_needs_nothing_outside_itself() {
    let html = page(&[A], 50, &BTreeMap::new());
    for bad in ["<script", "<link", "src=", "@import", "url(", "href=\"http"] {
        assert!(!html.contains(bad), "found {bad}");
    }
}

#[test]
fn newest_sessions_carry_transcripts() {
    let recs = records(A, 5);
    let opts = ReportOptions {
        transcripts: 2,
        ..ReportOptions::default()
    };
    assert_eq!(wanted_transcripts(&recs, &opts), [4, 5]);
}

#[test]
fn an_empty_run_has_a_page() {
    let (meta, state) = meta_state(A);
    let input = RunInput {
        meta: &meta,
        state: &state,
        records: &[],
        transcripts: &BTreeMap::new(),
        yields: &[],
        target: None,
    };
    let html = render(&[input], &ReportOptions::default()).unwrap();
    assert!(html.contains("No sessions yet."));
}

#[test]
fn ten_thousand_sessions_stay_small() {
    let html = page(&[A], 10_000, &BTreeMap::new());
    assert!(html.len() < 4_000_000, "{} bytes", html.len());
    let svg: usize = html
        .split("<svg")
        .skip(1)
        .map(|s| s.find("</svg>").unwrap())
        .sum();
    // Charts are thinned to pixels: no larger for 10,000 sessions than for a few hundred.
    assert!(svg < 200_000, "{svg} bytes of charts");
}

/// The `(x, y, width, height)` of each `<rect>` of `fill` in an SVG.
fn rects(svg: &str, fill: &str) -> Vec<(f64, f64, f64, f64)> {
    svg.split("<rect ")
        .skip(1)
        .filter(|r| r.contains(&format!("fill=\"{fill}\"")))
        .map(|r| {
            let attr = |name: &str| -> f64 {
                let at = r
                    .find(&format!(" {name}=\""))
                    .or_else(|| r.starts_with(&format!("{name}=\"")).then_some(0));
                let rest = &r[at.unwrap() + name.len() + 2..];
                let rest = rest.trim_start_matches('"');
                rest[..rest.find('"').unwrap()].parse().unwrap()
            };
            (attr("x"), attr("y"), attr("width"), attr("height"))
        })
        .collect()
}

/// Per-prompt rows fill the plot: no empty row above the last prompt (plotters' segmented
/// axis kept one), whatever the number of prompts.
#[test]
fn per_prompt_rows_fill_the_plot() {
    for prompts in [1u64, 2, 5] {
        let recs: Vec<SessionRecord> = records(A, 10)
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r.prompt = format!("p{}", i as u64 % prompts);
                r
            })
            .collect();
        let all = charts::all(&recs).unwrap();
        let cost = &all
            .iter()
            .find(|c| c.title == "Cost per prompt")
            .unwrap()
            .svg;
        let bars = rects(cost, "#0969DA");
        assert_eq!(bars.len() as u64, prompts, "{cost}");
        let top = bars.iter().map(|b| b.1).fold(f64::MAX, f64::min);
        let bottom = bars.iter().map(|b| b.1 + b.3).fold(0.0, f64::max);
        let row = (bottom - top) / prompts as f64;
        // The plot starts below the 10-pixel margin; the top bar starts within its own row's
        // margin of it, not a whole empty row lower.
        assert!(
            top < 10.0 + row * 0.5,
            "{prompts} prompts: top {top}, row {row}\n{cost}"
        );
    }
}

#[test]
fn duration_buckets_are_whole_seconds() {
    assert_eq!(charts::duration_buckets(&[1, 2, 3]), (1, vec![0, 1, 1, 1]));
    assert_eq!(charts::duration_buckets(&[]), (1, vec![0]));
    // 0 to 100 s: buckets of 6 s (at most 20 of them), each session in exactly one.
    let (w, counts) = charts::duration_buckets(&[0, 5, 6, 100]);
    assert_eq!(w, 6);
    assert_eq!(counts.len(), 17);
    assert_eq!((counts[0], counts[1], counts[16]), (2, 1, 1));
    assert_eq!(counts.iter().sum::<u64>(), 4);
}

/// A parallel run's records: slots give the timeline its lanes, and each session row says how
/// its landing went (escaped like everything else a run holds).
#[test]
fn parallel_sessions_show_their_slot_and_landing() {
    use crate::store::{Landing, LandingResult};
    let (meta, state) = meta_state(A);
    let mut recs = records(A, 3);
    for (r, (slot, result)) in recs.iter_mut().zip([
        (0, LandingResult::Landed),
        (2, LandingResult::Conflict),
        (1, LandingResult::VerifyFailed),
    ]) {
        r.slot = Some(slot);
        r.landing = Some(Landing {
            result,
            onto: "0123456789abcdef0123456789abcdef01234567".into(),
            commits: Vec::new(),
            files: Vec::new(),
            collided_with: Vec::new(),
            drivers: Vec::new(),
        });
    }
    let conflict = recs[1].landing.as_mut().unwrap();
    conflict.files = vec!["src/<a>.rs".into()];
    conflict.collided_with = vec![1];
    let timeline = &charts::all(&recs)
        .unwrap()
        .into_iter()
        .find(|c| c.svg.contains("slot 2"))
        .expect("a lane per slot")
        .svg;
    for lane in ["slot 0", "slot 1", "slot 2"] {
        assert!(timeline.contains(lane), "{lane}\n{timeline}");
    }
    let input = RunInput {
        meta: &meta,
        state: &state,
        records: &recs,
        transcripts: &BTreeMap::new(),
        yields: &[],
        target: None,
    };
    let html = render(&[input], &ReportOptions::default()).unwrap();
    for badge in ["landed", "conflict", "verify_failed"] {
        assert!(
            html.contains(&format!(r#"<span class="landing {badge}">{badge}</span>"#)),
            "{badge}\n{html}"
        );
    }
    assert!(html.contains(" · slot 2 · "), "{html}");
    assert!(
        html.contains("conflict onto 0123456789ab: src/&lt;a&gt;.rs (collided with session 1)"),
        "{html}"
    );
    // A sequential run's rows carry neither.
    let plain = page(&[A], 3, &BTreeMap::new());
    assert!(!plain.contains("class=\"landing") && !plain.contains("· slot"));
}
