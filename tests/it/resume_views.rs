//! Issue 22: every number a view shows is true, and two views never disagree about one fact.
//! A run resumed with other budgets than it started with: `watch`, `report --html` and the
//! closing summary of `grind` show the limits the run last ran with and the run's totals, and a
//! resume refused for a spent budget names a limit that works. Through `git pitboss …`, with a
//! fake agent that reports $0.02 and 100 tokens a session.

use std::process::Output;

use crate::support::grind::*;

const AGENT: &str = r#"
echo '{"summary":"spent some","tokens":{"input":60,"output":40},"cost_usd":0.02}' > "$PITBOSS_RESULT_FILE"
"#;

fn project() -> Project {
    let p = Project::new();
    p.prompt("a", "").prompt("b", "").agent(AGENT);
    p
}

fn git_pitboss(p: &Project, args: &[&str]) -> Output {
    p.sb.git_pitboss().args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A run started with 2 iterations and $1, resumed with 3 and $2: it ran 3 sessions.
fn resumed_run(p: &Project) -> (String, Output) {
    let out = p.grind(&["--max-iterations", "2", "--max-cost", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--resume", &run, "--max-iterations", "3"])
        .args(["--max-cost", "2"])
        .env("MARKS", p.marks())
        .stdin(std::process::Stdio::null());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (run, out)
}

#[test]
fn watch_and_report_show_the_limits_a_resumed_run_last_ran_with() {
    let p = project();
    let (run, _) = resumed_run(&p);
    let watch = text(&git_pitboss(&p, &["watch", &run, "--once"]));
    assert!(watch.contains("3 of 3"), "{watch}");
    assert!(watch.contains("$0.06 of $2.00"), "{watch}");
    assert!(
        !watch.contains("of 2") && !watch.contains("of $1.00"),
        "{watch}"
    );
    let page = p.sb.path("r.html");
    let out = git_pitboss(&p, &["report", "--html", page.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("3 of 3"), "the report's gauge");
    assert!(html.contains("$0.0600 of $2.0000") || html.contains("of $2.00"));
    assert!(!html.contains("3 of 2") && !html.contains("of $1.00"));
}

#[test]
fn the_closing_summary_of_a_resume_shows_the_run_and_this_grind() {
    let p = project();
    let (_, out) = resumed_run(&p);
    let said = text(&out);
    assert!(
        said.contains("iteration budget reached (3 sessions)"),
        "{said}"
    );
    assert!(
        said.contains("sessions  3 (3 ok), 1 in this grind"),
        "{said}"
    );
    assert!(
        said.contains("cost      $0.0600, $0.0200 in this grind"),
        "{said}"
    );
    assert!(said.contains("tokens    300"), "{said}");
    // The wall time is this grind's own, and says so.
    assert!(
        said.lines()
            .any(|l| l.starts_with("  wall time ") && l.ends_with(" (this grind)")),
        "{said}"
    );

    // The JSON summary keeps its fields (this grind's part) and adds the run's.
    let run = p.only_run();
    let out = p.grind(&["--resume", &run, "--max-iterations", "4"]);
    let s = run_summary(&out);
    assert_eq!(s["sessions"], 1, "{s}");
    assert_eq!(s["run_sessions"], 4, "{s}");
    assert_eq!(s["run_by_status"]["ok"], 4, "{s}");
    assert_eq!(s["run_tokens"], 400, "{s}");
    assert!(
        (s["run_cost_usd"].as_f64().unwrap() - 0.08).abs() < 1e-9,
        "{s}"
    );
}

#[test]
fn a_refused_resume_names_a_budget_that_works() {
    let p = project();
    let out = p.grind(&["--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let resume = |extra: &[&str]| {
        let mut args = vec!["grind", "--resume", &run];
        args.extend_from_slice(extra);
        text(&git_pitboss(&p, &args))
    };
    // 2 sessions spent: a limit of 1 is refused, and so would be 2.
    let said = resume(&["--max-iterations", "1", "--max-cost", "5"]);
    assert!(
        said.contains("iteration budget reached (2 sessions; the budget was 1)"),
        "{said}"
    );
    assert!(said.contains("--max-iterations (more than 2)"), "{said}");
    // $0.04 spent: the hint's figure is what was spent, not rounded below it.
    let said = resume(&["--max-iterations", "9", "--max-cost", "0.035"]);
    assert!(said.contains("--max-cost (more than 0.04)"), "{said}");
    // The hint works: a limit just above what was spent runs one more session.
    let out = p.grind(&["--resume", &run, "--max-iterations", "3", "--max-cost", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(p.records(&run).len(), 3);
}
