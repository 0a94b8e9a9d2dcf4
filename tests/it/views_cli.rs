//! The views tell the truth about what they cannot know: a session whose reach is unknown is
//! shown as unknown by `review`, `review --md` and `report --html` (read back in headless
//! Chromium), as `stats` shows it, never as "not reached" or "0 (0%)".

use crate::report_html::{chromium, headless};
use crate::support::Sandbox;
use crate::support::record::RecordJson;

/// A run made with `record --create` (so it has no base branch: nothing to judge reaching
/// against) whose one session landed a commit on the run branch.
fn unknown_reach() -> Sandbox {
    let sb = Sandbox::new();
    sb.git(&["checkout", "-q", "-b", "pitboss/dark"]);
    std::fs::write(sb.repo.join("d.txt"), "d\n").unwrap();
    sb.git(&["add", "d.txt"]);
    sb.git(&["commit", "-q", "-m", "dark 1"]);
    let c = sb.git(&["rev-parse", "HEAD"]).trim().to_string();
    sb.git(&["checkout", "-q", "main"]);
    let rec = RecordJson::new("fix")
        .commit(Some(&c))
        .cost(0.5, "reported")
        .json();
    sb.ok(&["record", "dark", "--create"], &rec);
    sb
}

#[test]
#[cfg_attr(
    pitboss_lacks = "chromium",
    ignore = "chromium not installed (see CONTRIBUTING.md)"
)]
fn review_and_report_show_unknown_reach_as_unknown() {
    let sb = unknown_reach();
    let stats: serde_json::Value = serde_json::from_str(&sb.ok(&["stats", "--json"], "")).unwrap();
    assert_eq!(stats["total"]["reach_unknown"], 1, "{stats}");
    assert_eq!(stats["total"]["reached"], 0, "{stats}");

    let text = sb.ok(&["review", "dark"], "");
    let row = text.lines().find(|l| l.starts_with("0001")).expect(&text);
    assert!(row.contains("reach unknown"), "{text}");
    let total = text
        .lines()
        .find(|l| l.starts_with("1 session"))
        .expect(&text);
    assert!(total.contains("reached the base: unknown"), "{text}");
    assert!(!total.contains("0 reached"), "{text}");
    let md = sb.ok(&["review", "dark", "--md"], "");
    assert!(md.contains("reached the base: unknown"), "{md}");
    assert!(!md.contains("0 reached"), "{md}");

    let page = sb.path("report.html");
    let out = sb.ok(&["report", "dark", "--html", page.to_str().unwrap()], "");
    assert!(out.is_empty(), "{out}");
    let browser = chromium();
    let dom = String::from_utf8(headless(&browser, sb.dir.path(), &page, &["--dump-dom"])).unwrap();
    let row = dom
        .split("<tr>")
        .find(|r| r.starts_with("<td>fix</td>"))
        .unwrap_or_else(|| panic!("no yield row for fix: {dom}"));
    let cells: Vec<&str> = row
        .split("<td")
        .skip(1)
        .map(|c| &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()])
        .collect();
    // prompt, sessions, statuses, landed, reached, cost, per landed, per reached, median
    assert_eq!(cells[3], "1 (100%)", "{row}");
    assert_eq!(cells[4], "unknown", "{row}");
    assert_eq!(cells[7], "unknown", "{row}");
}

/// Three sessions that reached `main`: $0.10, $0.20 and one of unknown cost. By hand: $0.30
/// known, $0.15 a session of known cost, $0.10 a reached session, each `+?` in the table since
/// one cost is unknown; `--json` says 0.3 and 0.15, not 0.30000000000000004.
#[test]
fn stats_marks_partial_costs_and_prints_clean_figures() {
    let sb = Sandbox::new();
    sb.git(&["checkout", "-q", "-b", "pitboss/cents"]);
    for (i, cost) in [Some(0.1), Some(0.2), None].into_iter().enumerate() {
        std::fs::write(sb.repo.join(format!("c{i}.txt")), "c\n").unwrap();
        sb.git(&["add", "-A"]);
        sb.git(&["commit", "-q", "-m", &format!("cents {i}")]);
        let c = sb.git(&["rev-parse", "HEAD"]).trim().to_string();
        let (usd, source) = cost.map_or((0.0, "unknown"), |c| (c, "reported"));
        let rec = RecordJson::new("fix")
            .commit(Some(&c))
            .cost(usd, source)
            .json();
        let mut args = vec!["record", "cents"];
        if i == 0 {
            args.push("--create");
        }
        sb.ok(&args, &rec);
    }
    sb.git(&["checkout", "-q", "main"]);
    sb.git(&["merge", "-q", "--ff-only", "pitboss/cents"]);
    let json = sb.ok(&["stats", "--target", "main", "--json"], "");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["total"]["reached"], 3, "{json}");
    assert!(json.contains("\"cost_usd\": 0.3,"), "{json}");
    assert!(json.contains("\"cost_per_session\": 0.15,"), "{json}");
    assert!(json.contains("\"cost_per_reached\": 0.1,"), "{json}");
    let text = sb.ok(&["stats", "--target", "main"], "");
    let total = text.lines().find(|l| l.starts_with("TOTAL")).expect(&text);
    let cells: Vec<&str> = total.split_whitespace().collect();
    // … COST (two cells: "$0.3000 +1?"), $/SESSION, $/REACHED, MEDIAN
    let n = cells.len();
    assert_eq!(
        &cells[n - 5..n - 1],
        ["$0.3000", "+1?", "$0.1500+?", "$0.1000+?"],
        "{text}"
    );
}

/// The labels of one chart's SVG in the DOM, in order (axis ticks and descriptions).
fn chart_labels(dom: &str, title: &str) -> Vec<String> {
    let at = dom
        .find(&format!("<figcaption>{title}</figcaption>"))
        .unwrap_or_else(|| panic!("no chart {title}"));
    let fig = &dom[at..at + dom[at..].find("</figure>").unwrap()];
    fig.split("<text")
        .skip(1)
        .map(|t| {
            let t = &t[t.find('>').unwrap() + 1..];
            t[..t.find('<').unwrap()].trim().to_string()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Three sessions of 1000 tokens: the cumulative tokens axis runs to 3150, ticked every 500;
/// every tick reads what it is, none twice (it read `0, 500, 1k, 2k, 2k, 2k, 3k`).
#[test]
#[cfg_attr(
    pitboss_lacks = "chromium",
    ignore = "chromium not installed (see CONTRIBUTING.md)"
)]
fn report_axis_labels_never_repeat() {
    let sb = Sandbox::new();
    for i in 0..3 {
        let rec = RecordJson::new("fix")
            .times(
                &format!("2026-11-24T10:{:02}:00Z", i * 10),
                &format!("2026-11-24T10:{:02}:00Z", i * 10 + 5),
            )
            .tokens(900, 100, 0, 0)
            .json();
        let mut args = vec!["record", "axis"];
        if i == 0 {
            args.push("--create");
        }
        sb.ok(&args, &rec);
    }
    let page = sb.path("report.html");
    sb.ok(&["report", "axis", "--html", page.to_str().unwrap()], "");
    let browser = chromium();
    let dom = String::from_utf8(headless(&browser, sb.dir.path(), &page, &["--dump-dom"])).unwrap();
    let labels = chart_labels(&dom, "Cumulative tokens");
    let ticks: Vec<&String> = labels
        .iter()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    for want in ["500", "1500", "2500", "3000"] {
        assert!(ticks.iter().any(|t| *t == want), "{want} not in {ticks:?}");
    }
    let mut seen = std::collections::HashSet::new();
    let y: Vec<&&String> = ticks.iter().filter(|t| t.len() >= 3).collect();
    for t in &y {
        assert!(seen.insert(t.as_str()), "{t} twice in {ticks:?}");
    }
}

/// `report --html` with no run named covers every run, side by side (it covered the newest).
#[test]
fn report_covers_every_run_by_default() {
    let sb = Sandbox::new();
    for (run, minute) in [("older", 0), ("newer", 30)] {
        let rec = RecordJson::new("fix")
            .times(
                &format!("2026-11-24T10:{minute:02}:00Z"),
                &format!("2026-11-24T10:{:02}:00Z", minute + 5),
            )
            .json();
        sb.ok(&["record", run, "--create"], &rec);
    }
    let html = sb.ok(&["report", "--html", "-"], "");
    assert!(html.contains("Runs side by side"), "one run only");
    assert!(
        html.contains("id=\"run-older\""),
        "the older run is missing"
    );
    assert!(
        html.contains("id=\"run-newer\""),
        "the newer run is missing"
    );
    // Each chart's runs side by side: one row of two figures per chart, six charts.
    assert_eq!(
        html.matches("<div class=\"side charts-side\">").count(),
        6,
        "{html}"
    );
    assert_eq!(html.matches("<svg").count(), 12);
    let empty = Sandbox::new();
    let out = empty.run(&["report", "--html", "-"], "");
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(crate::support::stderr(&out).contains("there is no run to report on"));
}
