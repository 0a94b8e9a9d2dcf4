//! A hostile remote: ref names that are not run ids, and runs crafted with git plumbing whose
//! trees hold `..`, a `../evil` name, a symlink, a submodule, an oversized record or a record
//! that does not parse. Fetch refuses each with a report and never creates or moves a local
//! run to them; export of such a run never writes outside its target directory.

use crate::support::remote::Bare;
use crate::support::*;

/// Mallory: a clone that records valid runs and then pushes crafted commits on top of them.
fn mallory(bare: &Bare) -> Sandbox {
    let m = Sandbox::new();
    m.git(&["remote", "add", "origin", &bare.path_url()]);
    m
}

/// Records run `id` with one session and returns its tip and tip tree.
fn valid_run(m: &Sandbox, id: &str) -> (String, String) {
    m.record_session(id, "p", 1);
    let tip = m.tip(&format!("refs/pitboss/grind/{id}"));
    let tree = m.tip(&format!("{tip}^{{tree}}"));
    (tip, tree)
}

/// Crafts each malicious variant as a child of a valid run and pushes it (plain git push:
/// the remote does not check objects, like most servers).
fn craft(m: &Sandbox, id: &str, make: impl FnOnce(&Sandbox, &str) -> String) -> String {
    let (tip, tree) = valid_run(m, id);
    let bad_tree = make(m, &tree);
    let bad = m.commit_tree(&bad_tree, &tip, "session 0002 looks innocent: ok");
    m.git(&[
        "push",
        "-q",
        "origin",
        &format!("{bad}:refs/pitboss/grind/{id}"),
    ]);
    bad
}

fn dotdot(m: &Sandbox, tree: &str) -> String {
    let evil = m.blob(b"pwned\n");
    let inner = m.tree_with(
        &m.git_stdin(&["mktree"], b""),
        &[],
        &format!("100644 blob {evil}\tevil"),
    );
    m.tree_with(tree, &[], &format!("040000 tree {inner}\t.."))
}

fn slash_name(m: &Sandbox, tree: &str) -> String {
    let evil = m.blob(b"pwned\n");
    let mut raw = std::process::Command::new("git")
        .current_dir(&m.repo)
        .args(["cat-file", "tree", tree])
        .output()
        .unwrap()
        .stdout;
    raw.extend_from_slice(b"100644 ../evil\0");
    raw.extend((0..20).map(|i| u8::from_str_radix(&evil[2 * i..2 * i + 2], 16).unwrap()));
    m.git_stdin(
        &["hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
        &raw,
    )
}

fn symlink(m: &Sandbox, tree: &str) -> String {
    let target = m.blob(b"/etc/passwd");
    m.tree_with(
        tree,
        &["transcripts", "00"],
        &format!("120000 blob {target}\tsession-0001.log"),
    )
}

fn submodule(m: &Sandbox, tree: &str) -> String {
    let head = m.tip("HEAD");
    m.tree_with(
        tree,
        &["patches", "00"],
        &format!("160000 commit {head}\tsession-0001.patch"),
    )
}

fn huge(m: &Sandbox, tree: &str, id: &str) -> String {
    let line = serde_json::json!({
        "seq": 2, "run_id": id, "prompt": "p", "status": "ok",
        "started_at": "2026-04-30T18:05:00Z", "ended_at": "2026-04-30T18:06:00Z",
        "summary": "x".repeat(2 << 20),
    });
    let blob = m.blob(format!("{line}\n").as_bytes());
    m.tree_with(
        tree,
        &["sessions", "00"],
        &format!("100644 blob {blob}\t0002.jsonl"),
    )
}

fn unparsable(m: &Sandbox, tree: &str) -> String {
    let blob = m.blob(b"{\"seq\": 2, \"this is\": not json\n");
    m.tree_with(
        tree,
        &["sessions", "00"],
        &format!("100644 blob {blob}\t0002.jsonl"),
    )
}

#[test]
fn hostile_runs_and_names_are_refused_with_a_report() {
    let bare = Bare::new();
    let m = mallory(&bare);
    craft(&m, "evil-dotdot", dotdot);
    craft(&m, "evil-slash", slash_name);
    craft(&m, "evil-link", symlink);
    craft(&m, "evil-sub", submodule);
    craft(&m, "evil-huge", |m, t| huge(m, t, "evil-huge"));
    craft(&m, "evil-json", unparsable);
    valid_run(&m, "good");
    m.ok(&["push", "good"], "");
    let any = m.tip("refs/pitboss/grind/good");
    for bad in ["a/b", "-x", "caf\u{e9}"] {
        m.git(&[
            "push",
            "-q",
            "origin",
            &format!("{any}:refs/pitboss/grind/{bad}"),
        ]);
    }

    let v = Sandbox::new();
    v.git(&["remote", "add", "origin", &bare.path_url()]);
    let out = v.pb(&["fetch"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = stdout(&out);
    for (id, needle) in [
        ("evil-dotdot", "unexpected directory \"..\""),
        ("evil-slash", "unexpected file \"../evil\""),
        (
            "evil-link",
            "unexpected symlink \"transcripts/00/session-0001.log\"",
        ),
        (
            "evil-sub",
            "unexpected submodule \"patches/00/session-0001.patch\"",
        ),
        (
            "evil-huge",
            "sessions/00/0002.jsonl is 2.0 MiB, over the 1.0 MiB cap",
        ),
        ("evil-json", "sessions/00/0002.jsonl: "),
    ] {
        let line = report
            .lines()
            .find(|l| l.contains(&format!("run {id}:")))
            .unwrap_or_else(|| panic!("no line for {id} in\n{report}"));
        assert!(line.contains("refused") && line.contains(needle), "{line}");
    }
    assert!(
        report.contains("created    run good (1 session)"),
        "{report}"
    );
    let err = stderr(&out);
    for bad in ["a/b", "-x", "caf\u{e9}"] {
        assert!(
            err.contains(&format!(
                "warning: ignoring refs/pitboss/grind/{bad} on origin: "
            )),
            "{bad}: {err}"
        );
    }
    // Only the good run exists here; ls agrees.
    let refs = v.pitboss_refs();
    assert_eq!(refs.lines().count(), 1, "{refs}");
    assert!(refs.contains("refs/pitboss/grind/good"));
    // ls --remote lists the valid names and warns about the rest, fetching nothing.
    let out = v.pb(&["ls", "--remote"]);
    assert_eq!(out.status.code(), Some(0));
    let listed = stdout(&out);
    assert!(
        listed
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["evil-huge", "no", "-", "-"]),
        "{listed}"
    );
    assert!(
        stderr(&out).contains("ignoring refs/pitboss/grind/a/b on origin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_hostile_commit_on_top_of_a_known_run_is_not_followed() {
    let bare = Bare::new();
    let m = mallory(&bare);
    let (tip, tree) = valid_run(&m, "shared");
    m.ok(&["push"], "");
    let v = Sandbox::new();
    v.git(&["remote", "add", "origin", &bare.path_url()]);
    v.ok(&["fetch"], "");
    assert_eq!(v.tip("refs/pitboss/grind/shared"), tip);
    let bad = m.commit_tree(&symlink(&m, &tree), &tip, "session 0002 p: ok");
    m.git(&[
        "push",
        "-q",
        "origin",
        &format!("{bad}:refs/pitboss/grind/shared"),
    ]);
    for cmd in [&["fetch"][..], &["sync"][..]] {
        let out = v.pb(cmd);
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("refused    run shared: commit "),
            "{}",
            stdout(&out)
        );
        assert_eq!(v.tip("refs/pitboss/grind/shared"), tip);
    }
}

#[test]
fn export_of_a_hostile_run_stays_inside_its_directory() {
    let sb = Sandbox::new();
    // A record naming a transcript path outside the run directory…
    let rec = serde_json::json!({
        "prompt": "p", "status": "ok", "transcript_path": "../../escape.log",
        "started_at": "2026-04-30T18:05:00Z", "ended_at": "2026-04-30T18:06:00Z",
    });
    sb.ok(&["record", "hostile", "--create"], &rec.to_string());
    // …and a tree with `..`, a `../evil` name and a symlinked transcript, put on the run
    // directly (as if fetched by an older pitboss).
    let tip = sb.tip("refs/pitboss/grind/hostile");
    let tree = sb.tip(&format!("{tip}^{{tree}}"));
    let tree = slash_name(&sb, &symlink(&sb, &dotdot(&sb, &tree)));
    let bad = sb.commit_tree(&tree, &tip, "crafted");
    sb.git(&["update-ref", "refs/pitboss/grind/hostile", &bad]);

    let out_dir = sb.path("out");
    std::fs::create_dir(&out_dir).unwrap();
    let target = out_dir.join("export");
    let out = sb.pb(&["export", "hostile", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["export"]);
    assert!(!sb.path("escape.log").exists() && !sb.path("evil").exists());
    let mut files = Vec::new();
    let mut stack = vec![target.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            assert!(!ft.is_symlink(), "{:?}", e.path());
            if ft.is_dir() {
                stack.push(e.path());
            } else {
                files.push(
                    e.path()
                        .strip_prefix(&target)
                        .unwrap()
                        .display()
                        .to_string(),
                );
            }
        }
    }
    files.sort();
    assert_eq!(
        files,
        vec![
            "run.json",
            "scratchpad.md",
            "sessions.jsonl",
            "sessions.md",
            "state.json",
            "transcripts/session-0001.log",
        ]
    );
    // The symlinked transcript is exported as an empty file, not followed.
    assert_eq!(
        std::fs::read(target.join("transcripts/session-0001.log")).unwrap(),
        b""
    );
}

#[test]
fn odd_objects_and_unreadable_local_runs_fail_alone() {
    let bare = Bare::new();
    let m = mallory(&bare);
    let (_, tree) = valid_run(&m, "shared");
    valid_run(&m, "fine");
    m.ok(&["push"], "");
    // A run ref on the remote that points at a tree, not a commit.
    m.git(&[
        "push",
        "-q",
        "origin",
        &format!("{tree}:refs/pitboss/grind/treeish"),
    ]);

    let v = Sandbox::new();
    v.git(&["remote", "add", "origin", &bare.path_url()]);
    v.record_session("treeish", "p", 1);
    let out = v.pb(&["fetch"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains(&format!("refused    run treeish: {tree} is not a commit")),
        "{report}"
    );
    assert!(
        report.contains("created    run fine (1 session)"),
        "{report}"
    );

    // Here, "shared" gets a commit on top that is not a run; there, a real session.
    let shared = v.tip("refs/pitboss/grind/shared");
    let empty = v.git_stdin(&["mktree"], b"");
    let junk = v.commit_tree(&empty, &shared, "not a run");
    v.git(&["update-ref", "refs/pitboss/grind/shared", &junk]);
    m.record_session("shared", "q", 2);
    m.ok(&["push", "shared"], "");
    // sync must read the local "run" to merge it: that run fails, alone, and is not pushed.
    let out = v.pb(&["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("failed     run shared: refs/pitboss/grind/shared is not a git-pitboss run"),
        "{said}"
    );
    let warned = stderr(&out);
    assert!(
        warned.contains("not pushing run shared: it cannot be read here: "),
        "{warned}"
    );
    assert_eq!(v.tip("refs/pitboss/grind/shared"), junk);
}

/// A fast-forward that passes every per-commit check but empties the run, or changes a
/// transcript, or rewrites `run.json`: runs are append-only, so fetch and sync refuse it.
#[test]
fn a_fast_forward_that_rewrites_history_is_refused() {
    let bare = Bare::new();
    let m = mallory(&bare);
    valid_run(&m, "shared");
    m.record_session("shared", "q", 2);
    let tip = m.tip("refs/pitboss/grind/shared");
    let tree = m.tip(&format!("{tip}^{{tree}}"));
    m.ok(&["push"], "");
    let v = Sandbox::new();
    v.git(&["remote", "add", "origin", &bare.path_url()]);
    v.ok(&["fetch"], "");
    assert_eq!(v.tip("refs/pitboss/grind/shared"), tip);
    let file = |path: &str| m.tip(&format!("{tree}:{path}"));
    let listed = |path: &str| m.git(&["ls-tree", &format!("{tree}:{path}")]);
    // Only the run files: every session gone.
    let emptied = m.git_stdin(
        &["mktree"],
        format!(
            "100644 blob {}\trun.json\n100644 blob {}\tstate.json\n100644 blob {}\tscratchpad.md\n",
            file("run.json"),
            file("state.json"),
            file("scratchpad.md")
        )
        .as_bytes(),
    );
    // A transcript with other bytes.
    let forged = m.blob(b"nothing happened here\n");
    let rewritten = m.tree_with(
        &tree,
        &["transcripts", "00"],
        &format!("100644 blob {forged}\tsession-0001.log"),
    );
    // run.json with another agent (still this run's id, so it parses and names the run).
    let meta = m.git(&["cat-file", "blob", &file("run.json")]);
    let mut meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    meta["agent"] = "mallory".into();
    let meta = m.blob(meta.to_string().as_bytes());
    let new_meta = m.tree_with(&tree, &[], &format!("100644 blob {meta}\trun.json"));
    // One bucket dropped from sessions/ while transcripts stay.
    let sessions = listed("sessions");
    assert!(sessions.contains("\t00"), "{sessions}");
    let no_records = m.tree_with(
        &tree,
        &[],
        &format!("040000 tree {}\tsessions", m.git_stdin(&["mktree"], b"")),
    );
    for (bad_tree, why) in [
        (emptied, "it deletes \"sessions/00/0001.jsonl\""),
        (rewritten, "it changes \"transcripts/00/session-0001.log\""),
        (new_meta, "it changes run.json"),
        (no_records, "it deletes \"sessions/00/0001.jsonl\""),
    ] {
        let bad = m.commit_tree(&bad_tree, &tip, "run shared finished: finished");
        m.git(&[
            "push",
            "-q",
            "-f",
            "origin",
            &format!("{bad}:refs/pitboss/grind/shared"),
        ]);
        for cmd in [&["fetch"][..], &["sync"][..]] {
            let out = v.pb(cmd);
            let text = stdout(&out);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{cmd:?}: {text}{}",
                stderr(&out)
            );
            assert!(text.contains("refused    run shared:"), "{text}");
            assert!(text.contains("runs are append-only"), "{text}");
            assert!(text.contains(why), "{why}: {text}");
            assert_eq!(v.tip("refs/pitboss/grind/shared"), tip, "{cmd:?} {why}");
        }
    }
    // A real append still fast-forwards.
    m.git(&[
        "push",
        "-q",
        "-f",
        "origin",
        &format!("{tip}:refs/pitboss/grind/shared"),
    ]);
    m.record_session("shared", "r", 3);
    m.ok(&["push"], "");
    v.ok(&["fetch"], "");
    assert_eq!(
        v.tip("refs/pitboss/grind/shared"),
        m.tip("refs/pitboss/grind/shared")
    );
}

/// A remote with thousands of refs under refs/pitboss/grind/ (written straight into its
/// packed-refs): 2,000 names that are not run ids and 1,000 runs that fail the checks, beside
/// three good runs. One fetch downloads at most `pitboss.fetchMaxRuns` runs, summarises what
/// it ignored and refused instead of a line each, and writes tracking refs only for runs that
/// passed.
#[test]
fn a_remote_with_thousands_of_refs_is_fetched_within_the_cap() {
    let bare = Bare::new();
    let m = mallory(&bare);
    for i in 1..=3 {
        m.record_session(&format!("good-{i}"), "p", i);
    }
    m.ok(&["push"], "");
    let tip = m.tip("refs/pitboss/grind/good-1");
    let mut lines: Vec<String> = (0..2000)
        .map(|i| format!("{tip} refs/pitboss/grind/junk/{i:04}"))
        .chain((0..1000).map(|i| format!("{tip} refs/pitboss/grind/spam-{i:04}")))
        .collect();
    lines.sort_by(|a, b| a.split(' ').nth(1).cmp(&b.split(' ').nth(1)));
    std::fs::write(
        bare.path.join("packed-refs"),
        format!(
            "# pack-refs with: peeled fully-peeled sorted \n{}\n",
            lines.join("\n")
        ),
    )
    .unwrap();
    assert_eq!(bare.runs().lines().count(), 3003);

    let v = Sandbox::new();
    v.git(&["remote", "add", "origin", &bare.path_url()]);
    v.git(&["config", "pitboss.fetchMaxRuns", "50"]);
    let out = v.pb(&["fetch"]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    for i in 1..=3 {
        assert!(
            text.contains(&format!("created    run good-{i} (1 session)")),
            "{text}"
        );
    }
    assert_eq!(text.matches("refused    run spam-").count(), 20, "{text}");
    assert!(
        text.contains("run.json: it is for run \"good-1\""),
        "{text}"
    );
    assert!(err.contains("27 more runs refused (not listed)"), "{err}");
    assert!(err.contains("ignoring 1990 more refs"), "{err}");
    assert!(
        err.contains("953 more runs on origin not fetched this time: one fetch takes at most 50"),
        "{err}"
    );
    assert!(
        text.lines().count() + err.lines().count() < 50,
        "{text}{err}"
    );
    let tracking = v.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/pitboss-remotes/",
    ]);
    assert_eq!(
        tracking.lines().collect::<Vec<_>>(),
        (1..=3)
            .map(|i| format!("refs/pitboss-remotes/origin/grind/good-{i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(v.git(&["for-each-ref", "refs/pitboss-incoming/"]), "");
    assert_eq!(v.pitboss_refs().lines().count(), 3);

    // A cap that is not a number is named.
    v.git(&["config", "pitboss.fetchMaxRuns", "lots"]);
    let out = v.pb(&["fetch"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pitboss.fetchMaxRuns"),
        "{}",
        stderr(&out)
    );
}
