//! What `git pitboss init` and `git pitboss prompts new` write says true things: every commented
//! key shows its built-in default, or ends in `# e.g.` (an example of a key unset by default).
//! Checked through the binary: uncommenting every default of the scaffold must leave the plan
//! of `grind --dry-run --json` as it was (for Claude Code and for Codex, whose defaults differ),
//! and uncommenting every line, examples too, must name no unknown key.

use std::process::Output;

use crate::support::*;

/// The key of a commented line of TOML (`# key = …`) or YAML frontmatter (`# key: …`).
fn key_of(bare: &str) -> Option<&str> {
    let end = bare.find([' ', ':'])?;
    let key = &bare[..end];
    let rest = &bare[end..];
    let ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    (ok && (rest.starts_with(" = ") || rest.starts_with(": "))).then_some(key)
}

/// `text` with its commented keys uncommented: those marked `e.g.` only `with_examples`. A
/// commented table header (`# [budgets]`) is uncommented before the first key it gets.
fn uncomment(text: &str, with_examples: bool) -> String {
    let mut out = Vec::new();
    let mut header: Option<&str> = None;
    for line in text.lines() {
        let example = line.contains("e.g.");
        let bare = line.strip_prefix("# ");
        if line.starts_with('[') {
            header = None;
        } else if let Some(h) = bare.filter(|b| b.starts_with('[')) {
            header = (with_examples || !example).then_some(h);
        } else if let Some(b) = bare.filter(|b| key_of(b).is_some())
            && (with_examples || !example)
        {
            out.extend(header.take());
            out.push(b);
            continue;
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

/// The scaffold's files, and `prompts new hunt`'s.
const FILES: &[&str] = &[
    ".pitboss/config.toml",
    ".pitboss/grind/prompts/tidy.md",
    ".pitboss/grind/prompts/hunt.md",
    ".pitboss/grind/rotations/default.toml",
];

/// `v` without the `from` of each value: where a value came from changes when a default is
/// written out; the value must not.
fn values(mut v: serde_json::Value) -> serde_json::Value {
    match &mut v {
        serde_json::Value::Object(m) => {
            m.remove("from");
            for x in m.values_mut() {
                *x = values(x.take());
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| *x = values(x.take())),
        _ => {}
    }
    v
}

/// The dry run's plan, once as it is and once with the back-off on (which shows `backoff_skip`).
fn plan(sb: &Sandbox) -> [serde_json::Value; 2] {
    [plan_with(sb, &[]), plan_with(sb, &["--backoff-after", "2"])]
}

fn plan_with(sb: &Sandbox, args: &[&str]) -> serde_json::Value {
    let out: Output = sb
        .git_pitboss()
        .args(["grind", "--dry-run", "--json"])
        .args(args)
        .env("PITBOSS_NOW", FIXED_NOW)
        .output()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    values(v)
}

fn write_all(sb: &Sandbox, texts: &[String]) {
    for (rel, text) in FILES.iter().zip(texts) {
        std::fs::write(sb.repo.join(rel), text).unwrap();
    }
}

#[test]
fn uncommenting_the_scaffolds_defaults_changes_nothing() {
    let sb = Sandbox::new();
    let git_pitboss = |args: &[&str]| {
        let out = sb.git_pitboss().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    git_pitboss(&["init"]);
    git_pitboss(&["prompts", "new", "hunt"]);
    let scaffold: Vec<String> = FILES
        .iter()
        .map(|f| std::fs::read_to_string(sb.repo.join(f)).unwrap())
        .collect();
    assert!(scaffold[0].contains("sandbox = ") && scaffold[0].contains("landing_merge_drivers"));
    let defaults: Vec<String> = scaffold.iter().map(|t| uncomment(t, false)).collect();
    for backend in ["claude", "codex"] {
        let pick = |t: &String| {
            t.replace(
                "# backend = \"claude\"",
                &format!("backend = \"{backend}\""),
            )
            .replace(
                "\nbackend = \"claude\"",
                &format!("\nbackend = \"{backend}\""),
            )
        };
        write_all(&sb, &scaffold.iter().map(pick).collect::<Vec<_>>());
        let before = plan(&sb);
        assert_eq!(before[0]["agent"]["backend"]["value"], backend);
        assert_eq!(before[1]["scheduler"]["backoff"]["value"]["skip_turns"], 3);
        write_all(&sb, &defaults.iter().map(pick).collect::<Vec<_>>());
        let after = plan(&sb);
        assert_eq!(
            before, after,
            "with {backend}: a value shown as the default is not the default:\n{}",
            defaults[0]
        );
    }
    // The examples are real keys too: uncommented, none is unknown.
    write_all(&sb, &scaffold);
    std::fs::write(
        sb.repo.join(FILES[0]),
        uncomment(&scaffold[0], true).replace("\"nightly\"", "\"default\""),
    )
    .unwrap();
    let out = sb
        .git_pitboss()
        .args(["prompts", "validate"])
        .output()
        .unwrap();
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{said}");
    assert!(!said.contains("unknown"), "{said}");
}
