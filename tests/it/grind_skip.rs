//! Skipping a session: the agent creates `$PITBOSS_SKIP_FILE` ("nothing to do"), or the user
//! runs `git pitboss skip` from another terminal while the agent works. The session is recorded
//! `skipped`, its work does not land, and the run goes on with the next session (exit 0: a
//! skip is not a failure).

use std::time::{Duration, Instant};

use crate::support::grind::*;

#[test]
fn an_agent_that_creates_the_skip_file_is_skipped_and_the_run_goes_on() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"
echo "tried $PITBOSS_SEQ" > "tried-$PITBOSS_SEQ.txt"
if [ "$PITBOSS_SEQ" = 1 ]; then
  echo "nothing to do here" > "$PITBOSS_SKIP_FILE"
  exit 0
fi
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#,
    );
    let out = p.grind(&["--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["skipped", "ok"]);
    assert!(records[0]["commit"].is_null());
    assert_eq!(p.branch_subjects(&run), ["agent: session 2"]);
    let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(!files.contains("tried-1.txt"), "{files}");
}

#[test]
fn git_pitboss_skip_from_another_process_ends_the_running_session() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"
echo "$$" > "$MARKS/pid-$PITBOSS_SEQ"
touch "$MARKS/started-$PITBOSS_SEQ"
if [ "$PITBOSS_SEQ" = 1 ]; then sleep 30; fi
echo "done $PITBOSS_SEQ" > "done-$PITBOSS_SEQ.txt"
"#,
    );
    let mut g = Grind::spawn(&p, p.grind_cmd(&["--max-iterations", "2"]), "grind");
    p.wait_mark("started-1", &mut g);
    let run = p.only_run();
    let t = Instant::now();
    // No run named: the newest running one.
    let skip = p.sb.run(&["skip"], "");
    assert!(skip.status.success(), "{}", diag(&skip));
    assert!(
        String::from_utf8_lossy(&skip.stderr).contains(&run),
        "{}",
        diag(&skip)
    );
    g.wait(Duration::from_secs(30));
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    let out = g.output();
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["skipped", "dirty"]);
    assert!(wait_gone(
        p.mark("pid-1").parse().unwrap(),
        Duration::from_secs(5)
    ));
    assert_eq!(p.branch_subjects(&run).len(), 1, "only session 2 landed");

    // With no grind holding the run there is nothing to skip.
    let late = p.sb.run(&["skip", &run], "");
    assert!(!late.status.success(), "{}", diag(&late));
    assert!(
        String::from_utf8_lossy(&late.stderr).contains("not being ground"),
        "{}",
        diag(&late)
    );
}
