//! Resolution tests on real files in temp dirs: precedence, rotation choice, filters, problems.

use std::path::Path;

use chrono::TimeZone;

use super::*;
use crate::config::Backend;

/// A project in a temp dir: `files` are (path under the root, content).
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = t.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    t
}

fn prompt(name: &str, extra: &str) -> String {
    format!("---\nname: {name}\ndescription: {name} things\n{extra}---\nDo {name}.\n")
}

fn req(root: &Path) -> PlanRequest {
    PlanRequest {
        root: root.to_path_buf(),
        ..Default::default()
    }
}

fn problems(e: PlanError) -> Vec<String> {
    e.problems.iter().map(ToString::to_string).collect()
}

const P: &str = ".pitboss/grind/prompts";
const R: &str = ".pitboss/grind/rotations";

#[test]
fn built_in_rotation_takes_every_prompt() {
    let a = prompt("a", "weight: 2\n");
    let t = project(&[
        (&format!("{P}/a.md"), &a),
        (&format!("{P}/b.md"), &prompt("b", "")),
    ]);
    let plan = plan(&req(t.path())).unwrap();
    assert_eq!(plan.rotation.chosen_by, "built-in");
    assert_eq!(plan.rotation.name, None);
    let names: Vec<&str> = plan.prompts.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(plan.prompts[0].weight, Sourced::new(2, Origin::Prompt));
    assert_eq!(plan.rotation.max_parallel, Sourced::new(1, Origin::Default));
    assert_eq!(
        plan.budgets.consecutive_failure_limit,
        Sourced::new(3, Origin::Default)
    );
    assert_eq!(plan.agent.backend.value, Backend::Claude);
    let picks = plan.scheduler(Default::default()).unwrap().preview(3);
    assert_eq!(picks.len(), 3);
}

#[test]
fn budget_precedence_is_cli_then_rotation_then_config() {
    let t = project(&[
        (&format!("{P}/a.md"), &prompt("a", "")),
        (
            ".pitboss/config.toml",
            "[grind]\ndefault_rotation = \"night\"\nconsecutive_failure_limit = 7\n\
             [grind.budgets]\nmax_iterations = 100\nmax_cost_usd = 50\nmax_tokens = 9000\nmax_session_seconds = 120\n",
        ),
        (
            &format!("{R}/night.toml"),
            "[budgets]\nmax_cost_usd = 20\nmax_tokens = 5000\nmax_session_cost_usd = 2\n",
        ),
    ]);
    let mut r = req(t.path());
    r.budgets.max_tokens = Some(10);
    r.budgets.until = Some(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    let plan = plan(&r).unwrap();
    let b = &plan.budgets;
    assert_eq!(plan.rotation.chosen_by, "default_rotation");
    assert_eq!(b.max_iterations, Sourced::new(Some(100), Origin::Config));
    assert_eq!(b.max_cost_usd, Sourced::new(Some(20.0), Origin::Rotation));
    assert_eq!(
        b.max_tokens,
        Sourced::new(Some(10), Origin::Cli("--max-tokens"))
    );
    assert_eq!(b.until.from, Origin::Cli("--until"));
    assert_eq!(b.consecutive_failure_limit, Sourced::new(7, Origin::Config));
    assert_eq!(
        b.max_session_seconds,
        Sourced::new(Some(120), Origin::Config)
    );
    let a = &plan.prompts[0];
    assert_eq!(
        a.max_session_seconds,
        Sourced::new(Some(120), Origin::Config)
    );
    assert_eq!(
        a.max_session_cost_usd,
        Sourced::new(Some(2.0), Origin::Rotation)
    );
    let limits = plan.limits();
    assert_eq!(
        (
            limits.max_iterations,
            limits.max_tokens,
            limits.consecutive_failure_limit
        ),
        (Some(100), Some(10), 7)
    );
}

#[test]
fn prompt_session_limits_win_and_default_is_an_hour() {
    let t = project(&[
        (
            &format!("{P}/a.md"),
            &prompt("a", "max_session_seconds: 30\nmax_session_cost_usd: 0.5\n"),
        ),
        (&format!("{P}/b.md"), &prompt("b", "")),
    ]);
    let plan = plan(&req(t.path())).unwrap();
    assert_eq!(
        plan.prompts[0].max_session_seconds,
        Sourced::new(Some(30), Origin::Prompt)
    );
    assert_eq!(plan.prompts[0].session_budget().max_cost_usd, Some(0.5));
    assert_eq!(
        plan.prompts[1].max_session_seconds,
        Sourced::new(Some(3600), Origin::Default)
    );
    assert_eq!(
        plan.prompts[1].max_session_cost_usd,
        Sourced::new(None, Origin::Default)
    );
}

#[test]
fn rotation_overrides_win_over_frontmatter() {
    let t = project(&[
        (
            &format!("{P}/a.md"),
            &prompt("a", "weight: 5\nevery: 2\nmax_runs: 9\n"),
        ),
        (&format!("{P}/b.md"), &prompt("b", "")),
        (
            &format!("{R}/default.toml"),
            "max_parallel = 3\n[[prompts]]\nname = \"a\"\nweight_override = 1\nmax_runs_override = 2\n",
        ),
    ]);
    let plan = plan(&req(t.path())).unwrap();
    assert_eq!(plan.rotation.chosen_by, "default file");
    assert_eq!(
        plan.rotation.max_parallel,
        Sourced::new(3, Origin::Rotation)
    );
    assert_eq!(plan.prompts.len(), 1, "only the listed prompt");
    let a = &plan.prompts[0];
    assert_eq!(a.weight, Sourced::new(1, Origin::Rotation));
    assert_eq!(a.every, Sourced::new(2, Origin::Prompt));
    assert_eq!(a.max_runs, Sourced::new(Some(2), Origin::Rotation));
    assert_eq!(plan.scheduler_entries()[0].max_runs, Some(2));
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.to_string().contains("parallel_safe")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn missing_rotations_are_problems() {
    let t = project(&[
        (&format!("{P}/a.md"), &prompt("a", "")),
        (&format!("{R}/night.toml"), ""),
    ]);
    let mut r = req(t.path());
    r.rotation = Some(RotationChoice::Name("nigth".into()));
    let e = problems(plan(&r).unwrap_err());
    assert!(
        e[0].contains("there is no rotation") && e[0].contains("(available: night)"),
        "{e:?}"
    );
    std::fs::write(
        t.path().join(".pitboss/config.toml"),
        "[grind]\ndefault_rotation = \"gone\"\n",
    )
    .unwrap();
    let e = problems(plan(&req(t.path())).unwrap_err());
    assert!(
        e[0].contains("config.toml: `grind.default_rotation`: there is no rotation"),
        "{e:?}"
    );
}

#[test]
fn unknown_prompt_in_rotation_and_broken_files_are_all_reported() {
    let t = project(&[
        (&format!("{P}/a.md"), &prompt("a", "")),
        (&format!("{P}/bad.md"), "---\nname: bad\n---\nx\n"),
        (&format!("{R}/default.toml"), "[[prompts]]\nname = \"aa\"\n"),
        (
            ".pitboss/config.toml",
            "[grind]\nmax_parallel = 0\nfoo = 1\n",
        ),
    ]);
    let e = plan(&req(t.path())).unwrap_err();
    let ps = problems(e.clone());
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert!(ps.iter().any(|p| p.contains("`grind.max_parallel`")));
    assert!(
        ps.iter()
            .any(|p| p.contains("bad.md: `description`: missing"))
    );
    assert!(
        ps.iter()
            .any(|p| p.contains("no prompt named `aa` (did you mean `a`?)"))
    );
    assert_eq!(e.warnings.len(), 1, "unknown config key warns");
}

#[test]
fn tag_filters_exclude_and_say_why() {
    let t = project(&[
        (&format!("{P}/a.md"), &prompt("a", "tags: [lint]\n")),
        (&format!("{P}/b.md"), &prompt("b", "tags: [docs, slow]\n")),
        (&format!("{P}/c.md"), &prompt("c", "tags: [lint, slow]\n")),
    ]);
    let mut r = req(t.path());
    r.tags = vec!["lint".into()];
    r.skip_tags = vec!["slow".into(), "nope".into()];
    let plan = plan(&r).unwrap();
    let ex: Vec<Option<&str>> = plan.prompts.iter().map(|p| p.excluded.as_deref()).collect();
    assert_eq!(ex, [None, Some("--skip-tag slow"), Some("--skip-tag slow")]);
    assert_eq!(plan.scheduler_entries().len(), 1);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.to_string().contains("`nope`"))
    );
    let mut r = req(t.path());
    r.tags = vec!["docs".into()];
    r.skip_tags = vec!["docs".into()];
    let e = problems(super::plan(&r).unwrap_err());
    assert!(e[0].contains("every prompt is excluded"), "{e:?}");
}

#[test]
fn no_prompts_and_verify_without_command() {
    let t = project(&[]);
    let e = problems(plan(&req(t.path())).unwrap_err());
    assert!(e[0].contains("no prompts found"), "{e:?}");
    let t = project(&[(&format!("{P}/a.md"), &prompt("a", "verify: true\n"))]);
    let e = problems(plan(&req(t.path())).unwrap_err());
    assert!(
        e[0].contains("a.md: `verify`: `verify: true` needs `verify_command`"),
        "{e:?}"
    );
    std::fs::write(
        t.path().join(".pitboss/config.toml"),
        "[grind]\nverify_command = \"make test\"\n",
    )
    .unwrap();
    assert_eq!(
        plan(&req(t.path())).unwrap().verify_command.as_deref(),
        Some("make test")
    );
}

#[test]
fn global_prompts_and_shadowing_warn() {
    let home = project(&[
        (".pitboss/grind/prompts/a.md", &prompt("a", "weight: 9\n")),
        (".pitboss/grind/prompts/g.md", &prompt("g", "")),
    ]);
    let t = project(&[(&format!("{P}/a.md"), &prompt("a", ""))]);
    let mut r = req(t.path());
    r.home = Some(home.path().to_path_buf());
    let plan = plan(&r).unwrap();
    let names: Vec<(&str, u32)> = plan
        .prompts
        .iter()
        .map(|p| (p.name(), p.weight.value))
        .collect();
    assert_eq!(names, [("a", 1), ("g", 1)]);
    assert!(plan.prompts[0].shadows.is_some());
    assert!(
        plan.warnings[0]
            .to_string()
            .contains("shadowed by the project prompt")
    );
}

#[test]
fn backoff_and_max_parallel_from_cli() {
    let t = project(&[
        (&format!("{P}/a.md"), &prompt("a", "parallel_safe: true\n")),
        (
            ".pitboss/config.toml",
            "[grind]\nbackoff_after = 2\nbackoff_skip = 5\nmax_parallel = 2\n",
        ),
    ]);
    let plan1 = plan(&req(t.path())).unwrap();
    assert_eq!(
        plan1.backoff,
        Sourced::new(
            Some(Backoff {
                after: 2,
                skip_turns: 5
            }),
            Origin::Config
        )
    );
    assert_eq!(plan1.rotation.max_parallel, Sourced::new(2, Origin::Config));
    assert!(plan1.warnings.is_empty(), "{:?}", plan1.warnings);
    let mut r = req(t.path());
    r.backoff_after = Some(0);
    r.max_parallel = Some(4);
    let plan2 = plan(&r).unwrap();
    assert_eq!(
        plan2.backoff,
        Sourced::new(None, Origin::Cli("--backoff-after"))
    );
    assert_eq!(
        plan2.rotation.max_parallel,
        Sourced::new(4, Origin::Cli("--max-parallel"))
    );
}

#[test]
fn validate_checks_every_rotation_and_the_default() {
    let t = project(&[
        (&format!("{P}/a.md"), &prompt("a", "")),
        (&format!("{R}/one.toml"), "[[prompts]]\nname = \"zz\"\n"),
        (&format!("{R}/two.toml"), "max_parallel = -1\n"),
        (
            ".pitboss/config.toml",
            "[grind]\ndefault_rotation = \"three\"\n",
        ),
    ]);
    let v = validate(&req(t.path()));
    let ps: Vec<String> = v.problems.iter().map(ToString::to_string).collect();
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert!(ps[0].contains("config.toml: `grind.default_rotation`: no rotation named `three`"));
    assert!(ps[1].contains("one.toml:1: `prompts[1].name`: no prompt named `zz`"));
    assert!(ps[2].contains("two.toml:1: `max_parallel`"), "{ps:#?}");
    assert_eq!(v.rotations.len(), 2);
}
