//! Tests of the demo agent: its directives, and its edits and commits in a temporary repo.

use super::*;
use crate::agent::result_file;
use crate::git::testutil::git_cli;

#[test]
fn directives_and_safe_paths() {
    let prompt = "# Fix\n\ndemo-target: src/lib.rs\ndemo-target: other\n";
    assert_eq!(directive(prompt, "demo-target"), Some("src/lib.rs"));
    assert_eq!(directive(prompt, "demo-fail"), None);
    assert_eq!(directive("demo-target:   \n", "demo-target"), None);
    assert_eq!(
        safe_relative("src/lib.rs"),
        Some(PathBuf::from("src/lib.rs"))
    );
    assert_eq!(safe_relative("../escape"), None);
    assert_eq!(safe_relative("/etc/passwd"), None);
    assert_eq!(safe_relative(""), None);
}

fn git(dir: &Path, args: &[&str]) -> String {
    git_cli(dir, args).trim().to_string()
}

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let wt = dir.path().join("wt");
        fs::create_dir_all(&wt).unwrap();
        git(&wt, &["init", "-q"]);
        fs::write(wt.join("todo.md"), "- TODO: first\n- TODO: second\n").unwrap();
        git(&wt, &["add", "."]);
        git(&wt, &["commit", "-q", "-m", "init"]);
        Repo { dir }
    }

    fn wt(&self) -> PathBuf {
        self.dir.path().join("wt")
    }

    fn input(&self, seq: u64, prompt: &str) -> DemoInput {
        let d = self.dir.path();
        DemoInput {
            worktree: self.wt(),
            run_id: "run".into(),
            seq,
            prompt_name: "todos".into(),
            prompt_text: prompt.into(),
            scratchpad: Some(d.join("scratchpad.md")),
            summary_file: Some(d.join("summary.md")),
            result_file: Some(d.join("result.json")),
        }
    }
}

#[test]
fn odd_sessions_commit_even_sessions_leave_work_uncommitted() {
    let repo = Repo::new();
    let wt = repo.wt();
    let first = run_demo_agent(&repo.input(1, "demo-target: todo.md\n")).unwrap();
    assert!(!first.failed);
    assert!(
        first.log.iter().any(|l| l.contains("committed")),
        "{:?}",
        first.log
    );
    assert_eq!(
        git(&wt, &["log", "-1", "--format=%s|%an"]),
        "demo: resolved a TODO in todo.md|pitboss demo agent"
    );
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    let todo = fs::read_to_string(wt.join("todo.md")).unwrap();
    assert_eq!(todo, "- DONE (demo session 1): first\n- TODO: second\n");

    let second = run_demo_agent(&repo.input(2, "no target here")).unwrap();
    assert!(
        second.log.iter().any(|l| l.contains("uncommitted")),
        "{:?}",
        second.log
    );
    assert_eq!(git(&wt, &["status", "--porcelain"]), "?? notes/");
    let notes = fs::read_to_string(wt.join(default_target(2))).unwrap();
    assert_eq!(notes, "- demo session 0002 (todos) was here\n");

    let d = repo.dir.path();
    let pad = fs::read_to_string(d.join("scratchpad.md")).unwrap();
    assert_eq!(pad.lines().count(), 2, "{pad}");
    assert!(
        pad.starts_with("- session 0001 (todos): resolved a TODO in todo.md\n"),
        "{pad}"
    );
    let summary = fs::read_to_string(d.join("summary.md")).unwrap();
    assert_eq!(
        summary,
        "Demo session 2: added a note in notes/session-0002.md.\n"
    );
    let result = result_file::parse(&fs::read_to_string(d.join("result.json")).unwrap()).unwrap();
    assert_eq!(result.cost_source, Some(crate::usage::CostSource::None));
    assert_eq!(result.cost_usd, Some(0.0));
    assert_eq!(result.is_error, Some(false));
    let tokens = result.tokens.unwrap();
    assert_eq!((tokens.input, tokens.cache_read), (900 + 14 / 4, 600));
}

#[test]
fn the_same_input_makes_the_same_change() {
    let (a, b) = (Repo::new(), Repo::new());
    for repo in [&a, &b] {
        run_demo_agent(&repo.input(2, "demo-target: todo.md")).unwrap();
    }
    let read = |r: &Repo| fs::read_to_string(r.wt().join("todo.md")).unwrap();
    assert_eq!(read(&a), read(&b));
    let result = |r: &Repo| fs::read_to_string(r.dir.path().join("result.json")).unwrap();
    assert_eq!(result(&a), result(&b));
}

#[test]
fn demo_fail_fails_without_touching_the_worktree() {
    let repo = Repo::new();
    let report = run_demo_agent(&repo.input(1, "demo-fail: tests are red\n")).unwrap();
    assert!(report.failed);
    assert_eq!(git(&repo.wt(), &["status", "--porcelain"]), "");
    let text = fs::read_to_string(repo.dir.path().join("result.json")).unwrap();
    let result = result_file::parse(&text).unwrap();
    assert_eq!(result.is_error, Some(true));
    assert_eq!(result.error.as_deref(), Some("tests are red"));
}

#[test]
fn a_target_outside_the_worktree_is_refused() {
    let repo = Repo::new();
    let report = run_demo_agent(&repo.input(2, "demo-target: ../../etc/passwd")).unwrap();
    assert!(
        report
            .log
            .iter()
            .any(|l| l.contains("outside the worktree")),
        "{:?}",
        report.log
    );
    assert!(repo.wt().join(default_target(2)).exists());
}

#[test]
fn inputs_come_from_pitboss_variables() {
    let vars = |k: &str| match k {
        "PITBOSS_SEQ" => Some("12".to_string()),
        "PITBOSS_PROMPT" => Some("docs".to_string()),
        "PITBOSS_RESULT_FILE" => Some("/tmp/r.json".to_string()),
        "PITBOSS_SCRATCHPAD" => Some(String::new()),
        _ => None,
    };
    let input = DemoInput::from_vars(vars, Path::new("/wt"), "p".into());
    assert_eq!(input.seq, 12);
    assert_eq!(input.prompt_name, "docs");
    assert_eq!(input.worktree, PathBuf::from("/wt"));
    assert_eq!(input.result_file, Some(PathBuf::from("/tmp/r.json")));
    assert_eq!(input.scratchpad, None);
}
