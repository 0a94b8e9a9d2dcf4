//! `PITBOSS_LOG=debug`: where the time of a parallel run goes, on stderr (spawns, landings,
//! compare-and-swaps, network commands), never on stdout, and nothing without it.

use super::*;

/// Two sessions at once, each committing a file; `push` of the run to a bare remote.
fn two_sessions(log: Option<&str>) -> (Project, Output, Output) {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
echo "file of $PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add "file-$PITBOSS_SEQ.txt" && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let mut cmd = grind_cmd(&p, &["--max-iterations", "2"]);
    cmd.env_remove("PITBOSS_LOG");
    if let Some(spec) = log {
        cmd.env("PITBOSS_LOG", spec);
    }
    let mut g = Grind::spawn(&p, cmd, "grind");
    g.wait(Duration::from_secs(120));
    let out = g.output();
    let bare = p.sb.dir.path().join("remote.git");
    p.sb.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    let mut push = p.sb.git_pitboss();
    push.args(["push", bare.to_str().unwrap()])
        .env_remove("PITBOSS_LOG");
    if let Some(spec) = log {
        push.env("PITBOSS_LOG", spec);
    }
    let pushed = push.output().unwrap();
    (p, out, pushed)
}

/// The log lines of one target (`pitboss::landing: …`).
fn lines<'a>(stderr: &'a str, target: &str) -> Vec<&'a str> {
    let tag = format!("{target}: ");
    stderr.lines().filter(|l| l.contains(&tag)).collect()
}

#[test]
fn pitboss_log_debug_shows_spawns_landings_and_pushes_with_their_timings_on_stderr() {
    let (p, out, pushed) = two_sessions(Some("debug"));
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    assert!(out.status.success(), "{ctx}");
    let err = String::from_utf8_lossy(&out.stderr);
    let started = lines(&err, "pitboss::spawn");
    for seq in [1, 2] {
        let tag = format!("tag=PITBOSS_SEQ={seq}");
        assert!(
            started
                .iter()
                .any(|l| l.contains("agent started") && l.contains(&tag)),
            "no start of session {seq}:\n{err}"
        );
    }
    assert_eq!(
        started.iter().filter(|l| l.contains("agent ended")).count(),
        2,
        "{err}"
    );
    let landings = lines(&err, "pitboss::landing");
    assert_eq!(landings.len(), 2, "one line per landing:\n{err}");
    for (l, seq) in landings.iter().zip([1, 2]) {
        assert!(
            l.contains(&format!("seq={seq}")),
            "landings in seq order: {l}"
        );
        assert!(l.contains("result=Landed"), "{l}");
        assert!(l.contains("commits=1"), "{l}");
        assert!(l.contains(" ms="), "with its time: {l}");
    }
    // Every move of the run branch and run ref is a compare-and-swap; they show at trace only.
    assert!(lines(&err, "pitboss::cas").is_empty(), "{err}");
    // stdout stays the JSON events, line for line.
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let push_err = String::from_utf8_lossy(&pushed.stderr);
    assert!(pushed.status.success(), "{push_err}");
    let net = lines(&push_err, "pitboss::net");
    assert!(
        net.iter()
            .any(|l| l.contains("op=push") && l.contains("success=true") && l.contains(" ms=")),
        "{push_err}"
    );
}

#[test]
fn pitboss_log_trace_for_one_area_shows_every_compare_and_swap() {
    let (p, out, _) = two_sessions(Some("pitboss::cas=trace"));
    let run = p.only_run();
    let err = String::from_utf8_lossy(&out.stderr);
    let cas = lines(&err, "pitboss::cas");
    let branch = format!("ref=refs/heads/pitboss/{run}");
    // Both landings moved the run branch.
    assert!(
        cas.iter()
            .filter(|l| l.contains(&branch) && l.contains("ref moved"))
            .count()
            >= 2,
        "{err}"
    );
    assert!(
        lines(&err, "pitboss::spawn").is_empty(),
        "only the area asked for:\n{err}"
    );
}

#[test]
fn without_pitboss_log_nothing_is_logged() {
    let (p, out, pushed) = two_sessions(None);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    assert!(out.status.success(), "{ctx}");
    for err in [&out.stderr, &pushed.stderr] {
        let err = String::from_utf8_lossy(err);
        assert!(!err.contains("pitboss::"), "{err}");
    }
}
