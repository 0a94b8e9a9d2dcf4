//! A parallel run's records through the real binary: `show`, `log`, `log --md` and `report`
//! say which slot a session ran in and how its landing went, and a sequential run's output
//! stays exactly as it was. (A module of its own: `store_cli.rs` is already past the size the
//! house style allows.)

use crate::support::record::RecordJson;
use crate::support::*;

const ONTO: &str = "0123456789abcdef0123456789abcdef01234567";
const LANDED: &str = "89abcdef0123456789abcdef0123456789abcdef";

/// Three sessions of a parallel run: one landed, one in conflict with it, one whose verify
/// failed at landing.
fn seed_parallel_run(sb: &Sandbox) {
    let landed = RecordJson::new("fp-hunter")
        .summary(Some("fixed the foo bug"))
        .commit(Some(LANDED))
        .field("slot", 0)
        .field(
            "landing",
            serde_json::json!({"result": "landed", "onto": ONTO, "commits": [LANDED]}),
        );
    let conflict = RecordJson::new("docs")
        .status("error")
        .summary(Some("conflict in src/a.rs with session 1"))
        .field("slot", 1)
        .field(
            "landing",
            serde_json::json!({"result": "conflict", "onto": ONTO, "files": ["src/a.rs", "src/b.rs"], "collided_with": [1]}),
        );
    let verify = RecordJson::new("docs")
        .status("error")
        .summary(Some("verify failed"))
        .field("slot", 2)
        .field(
            "landing",
            serde_json::json!({"result": "verify_failed", "onto": ONTO}),
        );
    sb.ok(&["record", RUN, "--create"], &landed.json());
    sb.ok(&["record", RUN], &conflict.json());
    sb.ok(&["record", RUN], &verify.json());
}

#[test]
fn show_names_the_slot_and_the_landing() {
    let sb = Sandbox::new();
    seed_parallel_run(&sb);
    let one = sb.ok(&["show", RUN, "1"], "");
    assert!(one.contains("\nslot      0\n"), "{one}");
    assert!(
        one.contains("\nlanding   landed onto 0123456789ab: 1 commit (89abcdef0123)\n"),
        "{one}"
    );
    let two = sb.ok(&["show", RUN, "2"], "");
    assert!(two.contains("\nslot      1\n"), "{two}");
    assert!(
        two.contains(
            "\nlanding   conflict onto 0123456789ab: src/a.rs, src/b.rs (collided with session 1)\n"
        ),
        "{two}"
    );
    // --json keeps the typed object as stored.
    let json: serde_json::Value =
        serde_json::from_str(&sb.ok(&["show", RUN, "2", "--json"], "")).unwrap();
    assert_eq!(json["slot"], 1);
    assert_eq!(json["landing"]["files"][1], "src/b.rs");
}

#[test]
fn log_marks_only_sessions_kept_off_the_branch() {
    let sb = Sandbox::new();
    seed_parallel_run(&sb);
    let log = sb.ok(&["log", RUN], "");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[0].ends_with("  89abcde  fixed the foo bug"), "{log}");
    assert!(
        lines[1].ends_with("  -------  conflict in src/a.rs with session 1"),
        "{log}"
    );
    assert!(lines[2].ends_with("  -------  verify failed"), "{log}");
    let md = sb.ok(&["log", RUN, "--md"], "");
    assert!(
        md.contains("- commit: (none)\n- slot: 1\n- landing: conflict onto 0123456789ab: src/a.rs, src/b.rs (collided with session 1)\n- tokens:"),
        "{md}"
    );
}

/// A sequential run's records carry neither key: `log`, `log --md` and `show` print what they
/// always printed.
#[test]
fn sequential_output_is_unchanged() {
    let sb = Sandbox::new();
    sb.ok(
        &["record", RUN, "--create"],
        &record_json("fp-hunter", "ok", Some("fixed the foo bug")),
    );
    assert_eq!(
        sb.ok(&["log", RUN], ""),
        "0001  ok      fp-hunter  1m30s  1500 tok   $0.0123  -------  fixed the foo bug\n"
    );
    let md = sb.ok(&["log", RUN, "--md"], "");
    assert!(md.contains("- commit: (none)\n- tokens: "), "{md}");
    let show = sb.ok(&["show", RUN, "1"], "");
    assert!(
        !show.contains("slot") && !show.contains("landing"),
        "{show}"
    );
}

#[test]
fn the_report_shows_lanes_and_landings() {
    let sb = Sandbox::new();
    seed_parallel_run(&sb);
    let html = sb.ok(&["report", RUN, "--html", "-"], "");
    for badge in ["landed", "conflict", "verify_failed"] {
        assert!(
            html.contains(&format!(r#"<span class="landing {badge}">{badge}</span>"#)),
            "{badge}"
        );
    }
    for lane in ["slot 0", "slot 1", "slot 2"] {
        assert!(html.contains(&format!(">\n{lane}\n</text>")), "{lane}");
    }
    assert!(html.contains("src/a.rs, src/b.rs (collided with session 1)"));
}
