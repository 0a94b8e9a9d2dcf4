//! Files pitboss writes for the user: the `init` scaffold (config, an example prompt, a default
//! rotation) and new prompt templates. Every template is commented, parses as it is, and never
//! overwrites an existing file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config;
use crate::plan::prompt::PromptName;

/// The `.pitboss/config.toml` that `init` writes: every key the reader knows, commented, with
/// its built-in default, or marked `# e.g.` when it has none (tested: uncommenting the defaults
/// changes nothing, and no key is missing).
pub(crate) const CONFIG_TEMPLATE: &str = r#"# git-pitboss settings for this project (committed, so the team shares them).
# Every key is optional. A commented `key = value` line shows the built-in default; a line
# ending in `# e.g.` shows an example for a key that is unset by default (what unset means
# is said beside it). `git pitboss prompts validate` checks this file, and docs/config.md
# (in git-pitboss's source) explains each key.

[grind]
# Folder of the project's prompts, relative to the top of the work tree.
# prompts_dir = ".pitboss/grind/prompts"
# Rotation used without --rotation (a file in .pitboss/grind/rotations/, which must exist).
# Unset: the rotation "default" if it exists, else every prompt with its own settings.
# default_rotation = "nightly"  # e.g.
# Sessions run at once (prompts must also set `parallel_safe: true`).
# max_parallel = 1
# Stop after this many failed sessions in a row (0: never).
# consecutive_failure_limit = 3
# Shell command run in the session's worktree after prompts with `verify: true`;
# a non-zero exit fails the session. Unset: none.
# verify_command = "cargo test"  # e.g.
# Back-off: after this many sessions in a row that changed nothing, a prompt sits out
# `backoff_skip` of its turns (0: off).
# backoff_after = 0
# backoff_skip = 3
# How a parallel landing treats overlapping edits: "text" (they conflict) or "respect"
# (the merge drivers of the repository's .gitattributes decide).
# landing_merge_drivers = "text"

[grind.hooks]
# Shell commands run around sessions, in the session's worktree (unset: none).
# pre_session = "hooks/pre-session.sh"  # e.g.
# post_session = "hooks/post-session.sh"  # e.g.
# on_failure = "hooks/on-failure.sh"  # e.g.
# A hook running longer than this is stopped.
# timeout_seconds = 300

[grind.budgets]
# Run budgets (unset: no limit); rotations and the command line override them.
# max_iterations = 100  # e.g.
# max_cost_usd = 25.0  # e.g.
# max_tokens = 10000000  # e.g.
# Session limits for prompts that set none. A session past its cost cap is cut (claude, codex,
# gemini and aider report usage as they go; the `command` backend cannot be capped).
# max_session_seconds = 3600
# Unset: no cost limit per session.
# max_session_cost_usd = 2.0  # e.g.
# With --until: start no session with less than this many seconds left.
# min_session_seconds = 60

[agent]
# claude | codex | gemini | aider | command | demo (any other agent runs as a `command`)
# backend = "claude"
# The agent CLI's program. Unset: the backend's own (`claude`, `codex`, `gemini` or `aider`),
# found on PATH.
# binary = "/opt/claude/bin/claude"  # e.g.
# Extra arguments for the agent.
# args = []
# Model name passed to the agent. Unset: the agent's own default.
# model = "claude-sonnet-4-5"  # e.g.
# Claude Code only: default | acceptEdits | bypassPermissions | plan | dontAsk
# permission_mode = "bypassPermissions"
# Codex only: read-only | workspace-write | danger-full-access
# sandbox = "danger-full-access"
# The command line of the `command` backend (run with `sh -c`, prompt on stdin); it needs one.
# command = "./my-agent.sh"  # e.g.

# Prices, to estimate the cost of sessions whose agent reports none (over the built-in table).
# A price list in litellm's model_prices_and_context_window.json format (Aider installs one).
# Unset: none.
# [budgets]
# price_file = "model_prices_and_context_window.json"  # e.g.
# Or one table per model name (as in [agent] model), US dollars per million tokens
# (input and output are required in a table; the cache prices default to 0):
# [budgets.pricing."claude-sonnet-4-5"]  # e.g.
# input = 3.0  # e.g.
# output = 15.0  # e.g.
# cache_read = 0.3  # e.g.
# cache_write = 3.75  # e.g.
"#;

/// The example prompt `init` writes.
pub(crate) const EXAMPLE_PROMPT: &str = r#"---
# A prompt for `git pitboss grind`: YAML frontmatter between the --- lines, then the
# instructions given to the agent. Only `name` and `description` are required; a commented
# line shows a field's default, or ends in `# e.g.` when it is unset by default.
name: tidy
description: Make one small, safe improvement to the code base
weight: 1
# every: 1
# max_runs: 10  # e.g.; unset: no limit
# verify: false
# parallel_safe: false
# tags: [maintenance]  # e.g.; unset: none
# max_session_seconds: 1800  # e.g.; unset: the rotation's, else the config's, else 3600
# max_session_cost_usd: 1.0  # e.g.; unset: the rotation's, else the config's, else none
---
Find one small, clearly safe improvement in this repository (a typo, an unclear comment, a
missing test for an edge case, dead code) and make it. Keep the change small and focused,
make sure the project still builds and its tests pass, and commit it with a message that
says what you changed and why.

If you find nothing worth changing, change nothing and say so in your summary.
"#;

/// The default rotation `init` writes.
pub(crate) const DEFAULT_ROTATION: &str = r#"# The rotation used when `grind` is given no --rotation (see [grind] default_rotation).
# Without [[prompts]] entries, every prompt takes part with its own settings. Every key here
# is unset by default (the prompt's or the config's value applies): the values are examples.

# description = "every prompt, by weight"  # e.g.
# max_parallel = 2  # e.g.

# [[prompts]]
# name = "tidy"  # e.g.
# weight_override = 2  # e.g.
# every_override = 1  # e.g.
# max_runs_override = 10  # e.g.

# [hooks]
# pre_session = "hooks/pre-session.sh"  # e.g.
# post_session = "hooks/post-session.sh"  # e.g.
# on_failure = "hooks/on-failure.sh"  # e.g.

# [budgets]
# max_iterations = 50  # e.g.
# max_cost_usd = 10.0  # e.g.
# max_tokens = 5000000  # e.g.
# consecutive_failure_limit = 3  # e.g.
# max_session_seconds = 1800  # e.g.
# max_session_cost_usd = 1.0  # e.g.
"#;

/// A new prompt named `name`.
pub(crate) fn prompt_template(name: &PromptName) -> String {
    format!(
        r#"---
# A prompt for `git pitboss grind`: YAML frontmatter between the --- lines, then the
# instructions given to the agent. Only `name` and `description` are required; a commented
# line shows a field's default, or says `e.g.` when it is unset by default.
name: {name}
description: Say in one line what this prompt asks the agent to do
# weight: 1                  # share of picks within a rotation
# every: 1                   # take part every N-th rotation
# max_runs: 10               # e.g.; unset: no limit of sessions per run
# verify: false              # run [grind] verify_command after each session
# parallel_safe: false       # may run alongside other sessions
# tags: []                   # for --tag / --skip-tag
# max_session_seconds: 1800  # e.g.; unset: the rotation's, else the config's, else 3600
# max_session_cost_usd: 1.0  # e.g.; unset: the rotation's, else the config's, else none
---
Describe the task for the agent here: what to look for, what to change, how to check the
result, and what to do when there is nothing to do.
"#
    )
}

/// What `init` did with one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct InitStep {
    pub path: PathBuf,
    pub created: bool,
}

/// Writes the scaffold under `root`, skipping files that exist.
pub(crate) fn init(root: &Path) -> std::io::Result<Vec<InitStep>> {
    let files = [
        (config::CONFIG_FILE.to_string(), CONFIG_TEMPLATE),
        (
            format!("{}/tidy.md", config::DEFAULT_PROMPTS_DIR),
            EXAMPLE_PROMPT,
        ),
        (
            format!(
                "{}/{}.toml",
                config::ROTATIONS_DIR,
                config::DEFAULT_ROTATION
            ),
            DEFAULT_ROTATION,
        ),
    ];
    let mut steps = Vec::new();
    for (rel, text) in files {
        let path = root.join(rel);
        let created = write_new(&path, text)?;
        steps.push(InitStep { path, created });
    }
    Ok(steps)
}

/// Writes `text` to a new file (creating its folder); `Ok(false)` when the file exists.
pub(crate) fn write_new(path: &Path, text: &str) -> std::io::Result<bool> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // create_new: never overwrite, even if the file appears between a check and the write.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(text.as_bytes())?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// The throwaway project of `git pitboss demo`: a tiny repository with a TODO list, two
/// prompts and a config that picks the built-in demo agent.
pub(crate) const DEMO_PROJECT: &[(&str, &str)] = &[
    (
        "README.md",
        "# pitboss demo\n\nA throwaway project made by `git pitboss demo`. The demo agent works on\nTODO.md and writes notes; every session is recorded on the run ref.\n",
    ),
    (
        "TODO.md",
        "# To do\n\n- TODO: write the greeting\n- TODO: add a farewell\n- TODO: spell-check the README\n",
    ),
    (
        ".pitboss/config.toml",
        "# The demo uses the built-in offline agent.\n[agent]\nbackend = \"demo\"\n",
    ),
    (
        ".pitboss/grind/prompts/fix-todos.md",
        "---\nname: fix-todos\ndescription: Resolve the first open TODO\n# Every session of this prompt edits the one shared TODO.md: side by side, two would\n# change the same line and the later one would conflict. So it is not parallel_safe: in a\n# parallel run it waits for the other sessions and runs alone.\nparallel_safe: false\n---\nResolve the first open TODO in the list, then commit.\n\ndemo-target: TODO.md\n",
    ),
    (
        ".pitboss/grind/prompts/write-notes.md",
        "---\nname: write-notes\ndescription: Leave a note for the next session\nweight: 3\n# Each session writes a file of its own (notes/session-NNNN.md): sessions side by side\n# never touch the same file, so they all land.\nparallel_safe: true\n---\nRead the scratchpad, then write one note of your own under notes/.\n",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::plan::prompt::{self, Source};
    use crate::plan::rotation;

    #[test]
    fn templates_parse_cleanly() {
        let (config, problems) = Config::parse(CONFIG_TEMPLATE, Path::new("c.toml"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.grind, Default::default());
        let p = prompt::parse(EXAMPLE_PROMPT, Path::new("tidy.md"), Source::Project).unwrap();
        assert_eq!(p.name.as_str(), "tidy");
        let name = PromptName::parse("hunt-bugs").unwrap();
        let p = prompt::parse(&prompt_template(&name), Path::new("x.md"), Source::Project).unwrap();
        assert_eq!((p.name.as_str(), p.weight), ("hunt-bugs", 1));
        let r = rotation::parse(DEFAULT_ROTATION, Path::new("default.toml")).unwrap();
        assert!(r.prompts.is_empty());
    }

    /// The `table.key` of every commented `# key = value` line of the config scaffold, the
    /// table being the last header above it (`[x]` or `# [x]`), a model's name as `<model>`.
    fn scaffold_keys() -> std::collections::BTreeSet<String> {
        let mut table = String::new();
        let mut keys = std::collections::BTreeSet::new();
        for line in CONFIG_TEMPLATE.lines() {
            let bare = line.trim_start_matches("# ");
            if let Some(h) = bare.strip_prefix('[') {
                let h = h.split(']').next().unwrap_or_default();
                table = match h.split_once(".pricing.") {
                    Some((t, _)) => format!("{t}.pricing.<model>"),
                    None => h.to_string(),
                };
            } else if let Some((key, _)) = line.strip_prefix("# ").and_then(|l| l.split_once(" = "))
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            {
                keys.insert(format!("{table}.{key}"));
            }
        }
        keys
    }

    #[test]
    fn the_config_scaffold_shows_every_key_the_reader_knows() {
        let tables: [(&str, &[&str]); 5] = [
            ("grind", config::GRIND_KEYS),
            ("grind.hooks", config::HOOK_KEYS),
            ("grind.budgets", config::BUDGET_KEYS),
            ("agent", config::AGENT_KEYS),
            ("budgets.pricing.<model>", config::PRICING_KEYS),
        ];
        let mut known: std::collections::BTreeSet<String> = tables
            .iter()
            .flat_map(|(t, keys)| keys.iter().map(move |k| format!("{t}.{k}")))
            .filter(|k| k != "grind.hooks" && k != "grind.budgets")
            .collect();
        known.extend(
            config::TOP_BUDGET_KEYS
                .iter()
                .filter(|k| **k != "pricing")
                .map(|k| format!("budgets.{k}")),
        );
        assert!(
            config::ROOT_KEYS
                .iter()
                .all(|t| ["grind", "agent", "budgets"].contains(t))
        );
        assert_eq!(scaffold_keys(), known);
    }

    #[test]
    fn init_is_idempotent_and_never_overwrites() {
        let t = tempfile::tempdir().unwrap();
        let first = init(t.path()).unwrap();
        assert!(first.iter().all(|s| s.created));
        let config = t.path().join(config::CONFIG_FILE);
        std::fs::write(&config, "# mine\n").unwrap();
        let second = init(t.path()).unwrap();
        assert!(second.iter().all(|s| !s.created));
        assert_eq!(std::fs::read_to_string(config).unwrap(), "# mine\n");
    }
}
