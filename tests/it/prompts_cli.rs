//! `init` and `prompts ls | validate | new` through the real binary, in real repositories with
//! HOME pointed at a temp dir: from the top, from a subdirectory, from a linked worktree, and
//! from outside any repository.

use std::path::Path;

use crate::support::*;

fn prompt(name: &str, extra: &str) -> String {
    format!("---\nname: {name}\ndescription: {name} things\n{extra}---\nDo the {name} thing.\n")
}

fn write(base: &Path, rel: &str, text: &str) {
    let p = base.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Output with the sandbox's temp dir replaced by `[TMP]`.
fn filtered(sb: &Sandbox, text: &str) -> String {
    text.replace(&sb.dir.path().display().to_string(), "[TMP]")
}

/// Project prompts a, b; global prompts b (shadowed) and g.
fn shadowing_project(sb: &Sandbox) {
    write(
        &sb.repo,
        ".pitboss/grind/prompts/a.md",
        &prompt("a", "weight: 2\nverify: true\ntags: [lint]\n"),
    );
    write(
        &sb.repo,
        ".pitboss/grind/prompts/b.md",
        &prompt("b", "every: 3\nmax_runs: 4\nparallel_safe: true\n"),
    );
    write(
        &sb.home,
        ".pitboss/grind/prompts/b.md",
        &prompt("b", "weight: 9\n"),
    );
    write(&sb.home, ".pitboss/grind/prompts/g.md", &prompt("g", ""));
}

#[test]
fn init_scaffolds_once_and_validates() {
    let sb = Sandbox::new();
    let first = sb.ok(&["init"], "");
    insta::assert_snapshot!("init_first", first);
    let again = sb.ok(&["init"], "");
    assert_eq!(again.matches("skipped (exists)").count(), 3, "{again}");
    let out = sb.run(&["prompts", "validate"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("ok: 1 prompt(s), 1 rotation(s) and .pitboss/config.toml"));
    assert_eq!(sb.pitboss_refs(), "", "init writes no refs");
}

#[test]
fn ls_shows_sources_flags_and_shadowing_from_a_subdirectory() {
    let sb = Sandbox::new();
    shadowing_project(&sb);
    let sub = sb.repo.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let out = sb
        .pitboss_in(&sub)
        .args(["prompts", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("ls_human", stdout(&out));
    assert!(
        stderr(&out).contains(
            "warning: project prompt .pitboss/grind/prompts/b.md shadows ~/.pitboss/grind/prompts/b.md"
        ),
        "{}",
        stderr(&out)
    );
    let out = sb
        .pitboss_in(&sub)
        .args(["prompts", "ls", "--json"])
        .output()
        .unwrap();
    insta::assert_snapshot!("ls_json", filtered(&sb, &stdout(&out)));
}

#[test]
fn ls_with_prompts_dir_uses_it_alone() {
    let sb = Sandbox::new();
    shadowing_project(&sb);
    write(&sb.repo, "other/x.md", &prompt("x", ""));
    let out = sb.ok(&["prompts", "ls", "--prompts-dir", "other"], "");
    assert!(
        out.contains("x     dir") && !out.contains("project"),
        "{out}"
    );
}

#[test]
fn linked_worktree_uses_its_own_checkout_of_pitboss() {
    let sb = Sandbox::new();
    write(&sb.repo, ".pitboss/grind/prompts/a.md", &prompt("a", ""));
    sb.git(&["add", ".pitboss"]);
    sb.git(&["commit", "-q", "-m", "prompts"]);
    let wt = sb.path("wt");
    sb.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.to_str().unwrap(),
    ]);
    write(
        &wt,
        ".pitboss/grind/prompts/wt-only.md",
        &prompt("wt-only", ""),
    );
    std::fs::create_dir_all(wt.join("sub")).unwrap();

    let out = sb
        .pitboss_in(&wt.join("sub"))
        .args(["prompts", "ls"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("a ") && text.contains("wt-only"), "{text}");
    let main = sb.ok(&["prompts", "ls"], "");
    assert!(!main.contains("wt-only"), "{main}");
}

#[test]
fn validate_prints_one_line_per_problem_and_exits_1() {
    let sb = Sandbox::new();
    write(&sb.repo, ".pitboss/grind/prompts/ok.md", &prompt("ok", ""));
    write(
        &sb.repo,
        ".pitboss/grind/prompts/bad.md",
        "---\r\nname: Bad\r\nwieght: 0\r\n---\r\nx\r\n",
    );
    write(&sb.repo, ".pitboss/grind/prompts/nofm.md", "just text\n");
    write(
        &sb.repo,
        ".pitboss/grind/rotations/night.toml",
        "[[prompts]]\nname = \"okk\"\n[[prompts]]\nname = \"ok\"\nevery_override = 0\n",
    );
    write(
        &sb.repo,
        ".pitboss/config.toml",
        "[grind]\nmax_paralel = 2\n[agent]\nbackend = \"claud\"\n",
    );
    let out = sb.run(&["prompts", "validate"], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!("validate_problems", stdout(&out));
    assert!(
        stderr(&out).contains("7 problem(s) in 1 prompt(s), 1 rotation(s)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ls_reports_broken_prompts_and_exits_1() {
    let sb = Sandbox::new();
    write(&sb.repo, ".pitboss/grind/prompts/ok.md", &prompt("ok", ""));
    write(
        &sb.repo,
        ".pitboss/grind/prompts/bad.md",
        "---\nname: bad\n---\nx\n",
    );
    let out = sb.run(&["prompts", "ls"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("ok "), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("error: .pitboss/grind/prompts/bad.md: `description`: missing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn new_writes_templates_and_never_overwrites() {
    let sb = Sandbox::new();
    let out = sb.ok(&["prompts", "new", "hunt-bugs"], "");
    assert_eq!(out, "created .pitboss/grind/prompts/hunt-bugs.md\n");
    let text =
        std::fs::read_to_string(sb.repo.join(".pitboss/grind/prompts/hunt-bugs.md")).unwrap();
    assert!(
        text.contains("name: hunt-bugs\n") && text.contains("# weight: 1"),
        "{text}"
    );
    let again = sb.run(&["prompts", "new", "hunt-bugs"], "");
    assert_eq!(again.status.code(), Some(4));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let out = sb.ok(&["prompts", "new", "mine", "--global"], "");
    assert_eq!(out, "created ~/.pitboss/grind/prompts/mine.md\n");
    let out = sb.ok(&["prompts", "new", "elsewhere", "--dir", "p"], "");
    assert_eq!(out, "created p/elsewhere.md\n");
    sb.ok(&["prompts", "validate"], "");

    let bad = sb.run(&["prompts", "new", "Bad Name"], "");
    assert_eq!(bad.status.code(), Some(64));
    assert!(
        stderr(&bad).contains("is not a prompt name"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn outside_a_repository_ls_shows_global_prompts_and_init_refuses() {
    let sb = Sandbox::new();
    write(&sb.home, ".pitboss/grind/prompts/g.md", &prompt("g", ""));
    let outside = sb.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let out = sb
        .pitboss_in(&outside)
        .args(["prompts", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("g     global"), "{}", stdout(&out));
    let out = sb.pitboss_in(&outside).args(["init"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("not a git repository"),
        "{}",
        stderr(&out)
    );
}

/// A `.md` file that is not read as a prompt is never dropped without a word: `prompts ls`,
/// `validate` and `grind --dry-run` each name it and say why; `prompts new` will not create one.
#[test]
fn skipped_md_files_are_listed_and_new_refuses_their_names() {
    let sb = Sandbox::new();
    write(
        &sb.repo,
        ".pitboss/grind/prompts/work.md",
        &prompt("work", ""),
    );
    write(
        &sb.repo,
        ".pitboss/grind/prompts/readme.md",
        &prompt("readme", ""),
    );
    write(
        &sb.repo,
        ".pitboss/grind/prompts/.draft.md",
        &prompt("draft", ""),
    );
    let readme = "skipped .pitboss/grind/prompts/readme.md: a README (in any case)";
    let hidden = "skipped .pitboss/grind/prompts/.draft.md: a hidden file is not a prompt";
    let ls = sb.run(&["prompts", "ls"], "");
    let validate = sb.run(&["prompts", "validate"], "");
    let dry = sb.run(&["grind", "--dry-run", "--agent", "demo"], "");
    for (what, out, text) in [
        ("ls", &ls, stderr(&ls)),
        ("validate", &validate, stdout(&validate)),
        ("dry run", &dry, stdout(&dry)),
    ] {
        assert_eq!(out.status.code(), Some(0), "{what}: {}", stderr(out));
        assert!(
            text.contains(readme) && text.contains(hidden),
            "{what}:\n{text}"
        );
    }
    let out = sb.run(&["prompts", "new", "readme"], "");
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("readme.md would not be read as a prompt"),
        "{}",
        stderr(&out)
    );
}
