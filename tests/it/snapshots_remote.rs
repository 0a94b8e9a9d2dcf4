//! Snapshots of what the sharing commands say (stdout, stderr and exit code), with a fixed
//! clock and identity so the runs, and hence the merge, are the same on every machine.

use crate::support::remote::{Bare, session_json};
use crate::support::*;

fn said(sb: &Sandbox, args: &[&str]) -> String {
    let out = run_with_stdin(sb.pitboss().env("PITBOSS_NOW", FIXED_NOW).args(args), "");
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        stdout(&out),
        stderr(&out)
    )
}

fn record(sb: &Sandbox, args: &[&str], prompt: &str, minute: u32) {
    let out = run_with_stdin(
        sb.pitboss().env("PITBOSS_NOW", FIXED_NOW).args(args),
        &session_json(prompt, minute),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn sharing_output() {
    let bare = Bare::new();
    let a = Sandbox::new();
    let b = Sandbox::new();
    for sb in [&a, &b] {
        sb.git(&["remote", "add", "origin", &bare.path_url()]);
    }
    record(&a, &["record", RUN, "--create"], "fp-hunter", 1);
    record(&a, &["record", RUN], "docs", 2);
    record(
        &a,
        &["record", "20261124T110000Z-0002", "--create"],
        "lint",
        3,
    );
    a.git(&["branch", &format!("pitboss/grind/{RUN}")]);
    insta::assert_snapshot!("push_created", said(&a, &["push"]));
    insta::assert_snapshot!("fetch_created", said(&b, &["fetch"]));

    record(&a, &["record", RUN], "on-a", 40);
    record(&b, &["record", RUN], "on-b", 20);
    insta::assert_snapshot!("push_updated", said(&b, &["push"]));
    insta::assert_snapshot!("push_rejected", said(&a, &["push"]));
    insta::assert_snapshot!("ls_remote_unknown", said(&a, &["ls", "--remote"]));
    insta::assert_snapshot!("fetch_diverged", said(&a, &["fetch"]));
    insta::assert_snapshot!("ls_remote_diverged", said(&a, &["ls", "--remote"]));
    insta::assert_snapshot!("sync_merged", said(&a, &["sync"]));
    insta::assert_snapshot!(
        "merge_commit",
        a.git(&[
            "log",
            "-1",
            "--format=%H%n%an <%ae> %ad%n%P%n%n%B",
            "--date=iso-strict",
            &format!("refs/pitboss/grind/{RUN}")
        ])
    );
    insta::assert_snapshot!(
        "rm_remote",
        said(&a, &["rm", "20261124T110000Z-0002", "--remote", "origin"])
    );
}
