//! `git pitboss watch --once` at the size `$COLUMNS` x `$LINES` says, down to the least it can
//! draw (30 x 8), and in a narrow pane it never cuts a number or a name without a sign: a column
//! is dropped whole instead, or the text ends in `…` (issue 22: 60 x 12 drew 40 lines, and at
//! 40 columns `≥ $0.` and `unkno` were cut bare and `retitle` and `retitle2` both read `retit`).

use crate::support::grind::*;

/// Sessions of `retitle`, `retitle2` and `notes`; the even ones report a cost and tokens, so a
/// prompt's cost is partly known (`≥ $0.0123`) and a session's may be `unknown`.
fn mixed_cost_run() -> (Project, String) {
    let p = Project::new();
    for name in ["retitle", "retitle2", "notes"] {
        p.prompt(name, "");
    }
    p.agent(
        r#"echo "work $PITBOSS_SEQ" > "w-$PITBOSS_SEQ.txt"; git add . && git commit -qm "s $PITBOSS_SEQ"
if [ $((PITBOSS_SEQ % 2)) = 0 ]; then
  echo '{"summary":"did a thing","tokens":{"input":123456,"output":7890},"cost_usd":0.0123}' > "$PITBOSS_RESULT_FILE"
fi
"#,
    );
    p.sb.git(&["add", "-A"]);
    p.sb.git(&["commit", "-q", "-m", "prompts"]);
    let out = p.grind(&["--max-iterations", "7"]);
    assert!(out.status.success(), "{}", diag(&out));
    let run = p.only_run();
    (p, run)
}

fn snapshot(p: &Project, run: &str, columns: &str, lines: &str) -> std::process::Output {
    p.sb.git_pitboss()
        .args(["watch", run, "--once"])
        .env("COLUMNS", columns)
        .env("LINES", lines)
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn widest(screen: &str) -> usize {
    screen.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn a_snapshot_has_the_size_it_is_given_down_to_the_least_it_can_draw() {
    let (p, run) = mixed_cost_run();
    for (w, h) in [(60, 12), (40, 10), (30, 8), (120, 40)] {
        let screen = text(&snapshot(&p, &run, &w.to_string(), &h.to_string()));
        assert_eq!(screen.lines().count(), h, "{w} x {h}:\n{screen}");
        assert!(widest(&screen) <= w, "{w} x {h}:\n{screen}");
        assert!(screen.contains("sessions (7)"), "{w} x {h}:\n{screen}");
    }
    // Below the least it can draw, it draws that.
    let screen = text(&snapshot(&p, &run, "12", "3"));
    assert_eq!(screen.lines().count(), 8, "{screen}");
    assert!(widest(&screen) <= 30, "{screen}");
    // A size that is not a number is refused, naming it.
    let out = snapshot(&p, &run, "wide", "12");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("COLUMNS is \"wide\""), "{err}");
}

#[test]
fn a_narrow_snapshot_cuts_no_number_and_no_name_without_a_sign() {
    let (p, run) = mixed_cost_run();
    let screen = text(&snapshot(&p, &run, "40", "24"));
    assert!(widest(&screen) <= 40, "{screen}");
    // The numbers whole: a partly known cost, an unknown one, tokens.
    for whole in ["≥ $0.0123", "unknown", "$0.0123", "131346"] {
        assert!(screen.contains(whole), "{whole}:\n{screen}");
    }
    // Both prompts told apart, whole.
    let rows: Vec<&str> = screen.lines().filter(|l| l.starts_with("│000")).collect();
    assert!(rows.iter().any(|l| l.contains(" retitle2 ")), "{screen}");
    assert!(rows.iter().any(|l| l.contains(" retitle ")), "{screen}");
    // What is cut ends in a sign: every line's last word is whole or ends in `…`.
    for line in screen.lines() {
        let inner = line.trim_end_matches('│').trim_end();
        for bare in ["≥ $0.", "unkno", "retit "] {
            assert!(
                !inner.ends_with(bare.trim_end()),
                "cut bare: {line}\n{screen}"
            );
        }
    }
    // The facts line, too long for 40 columns, ends in a sign.
    let facts = screen
        .lines()
        .find(|l| l.starts_with("agent "))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(facts.ends_with('…'), "{screen}");
}
