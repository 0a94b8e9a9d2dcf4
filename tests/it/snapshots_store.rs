//! Snapshots of the human output of the run commands (fixed clock and identity, so commit ids
//! and times are stable).

use crate::support::*;

fn pinned(sb: &Sandbox, args: &[&str], stdin: &str) -> String {
    let out = run_with_stdin(sb.pitboss().env("PITBOSS_NOW", FIXED_NOW).args(args), stdin);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

fn seeded() -> Sandbox {
    let sb = Sandbox::new();
    pinned(
        &sb,
        &["record", RUN, "--create"],
        &record_json("fp-hunter", "ok", Some("fixed the foo bug in bar.rs")),
    );
    pinned(
        &sb,
        &["record", RUN],
        &record_json("docs-refresh", "error", None),
    );
    pinned(
        &sb,
        &["record", RUN],
        &record_json("fp-hunter", "skipped", Some("nothing to do\nsecond line")),
    );
    pinned(
        &sb,
        &["record", "20261125T080000Z-0001", "--create"],
        &record_json("lint", "ok", None),
    );
    sb
}

#[test]
fn human_output() {
    let sb = seeded();
    insta::assert_snapshot!("ls", pinned(&sb, &["ls"], ""));
    insta::assert_snapshot!("log", pinned(&sb, &["log", RUN], ""));
    insta::assert_snapshot!("show_run", pinned(&sb, &["show", RUN], ""));
    insta::assert_snapshot!("show_session", pinned(&sb, &["show", RUN, "1"], ""));
    insta::assert_snapshot!("log_md", pinned(&sb, &["log", "20261125", "--md"], ""));
}
