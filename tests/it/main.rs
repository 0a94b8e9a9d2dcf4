//! The integration tests: one test binary (each binary links libgit2 again, so 35 of them cost
//! minutes of linking and a gigabyte of executables), one module per area, and the helpers
//! every area shares in `support/`. A new file here must be declared below;
//! `every_file_is_declared` fails otherwise, since an undeclared file is silently never compiled.

// The layers of clippy.toml hold in the library, not here: these tests run the binary, `git`
// and fake agents as real processes, as users do.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod support;

mod agent_demo;
mod agent_flood;
mod agent_process;
mod agents_cli;
mod aider_cli;
mod bad_input;
mod claude_cli;
mod codex_cli;
mod demo_cli;
mod forge_pr;
mod forge_pr_repo;
mod gc_cli;
mod gc_faults;
mod gc_landed;
mod gemini_cli;
mod grind_budget_resume;
mod grind_budgets;
mod grind_claude;
mod grind_dry_run;
mod grind_edges_cli;
mod grind_failures;
mod grind_flood;
mod grind_hooks;
mod grind_interrupt;
mod grind_kept;
mod grind_ledger;
mod grind_leftover_warning;
mod grind_live;
mod grind_orphans;
mod grind_orphans_parallel;
mod grind_parallel;
mod grind_parallel_control;
mod grind_parallel_crash;
mod grind_parallel_faults;
mod grind_recovery;
mod grind_resume_faults;
mod grind_run;
mod grind_secrets;
mod grind_skip;
mod grind_tamper;
mod grind_uncommitted;
mod hostile_output;
mod init_scaffold;
mod pretty_cli;
mod prompts_cli;
mod provenance_cli;
mod provenance_sync;
mod remote_deleted;
mod remote_hostile;
mod remote_ls;
mod remote_reject;
mod remote_share;
mod remote_sync;
mod remote_travel;
mod remote_trust;
mod report_html;
mod resume_views;
mod secrets_shapes;
mod secrets_start;
mod secrets_stored;
mod snapshots_remote;
mod snapshots_store;
mod started_cleanup;
mod store_cli;
mod store_parallel_cli;
mod store_stress;
mod views_cli;
mod watch_cli;
mod watch_narrow;
mod watch_short;
mod worktree_cli;

/// Lists `tests/it/*.rs` and `tests/it/support/*.rs` and fails on any file not declared as a
/// module in `main.rs` or `support/mod.rs`: cargo compiles only what is declared, so a forgotten
/// file's tests would never run and nothing would say so.
#[test]
fn every_file_is_declared() {
    let it = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let mut missing = Vec::new();
    for (dir, root) in [(it.clone(), "main.rs"), (it.join("support"), "mod.rs")] {
        let declared = std::fs::read_to_string(dir.join(root)).unwrap();
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some(stem) = name.strip_suffix(".rs") else {
                continue;
            };
            if name == root {
                continue;
            }
            seen += 1;
            let decl = format!("mod {stem};");
            if !declared
                .lines()
                .any(|l| l.trim_start_matches("pub ") == decl)
            {
                missing.push(path.display().to_string());
            }
        }
        assert!(seen > 0, "no .rs file found in {}", dir.display());
    }
    assert!(
        missing.is_empty(),
        "files not declared as modules: {missing:?}"
    );
}

/// Whether the item after an attribute is an inline module (`mod tests {`), skipping the
/// item's other attributes.
fn opens_inline_module(after: &[&str]) -> bool {
    after
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.starts_with("#["))
        .is_some_and(|l| l.starts_with("mod ") && l.ends_with('{'))
}

/// Git's branch namespaces (`refs/heads/`, `refs/remotes/`) are spelled in `src/git/` only:
/// everything else builds and takes apart branch names through `git::BranchName` and
/// `git::RefName`, so a short name cannot pass where a full one is meant. Comments may name
/// them, and so may test code (a file's inline `#[cfg(test)] mod tests { … }` to its end, and the `tests.rs`,
/// `tests_*.rs` and `*_tests.rs` files): a test that pins a ref's exact name has to spell it.
#[test]
fn git_ref_namespaces_are_spelled_only_in_git() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut files = 0;
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("git") {
                    dirs.push(path);
                }
                continue;
            }
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let test_file =
                name == "tests.rs" || name.starts_with("tests_") || name.ends_with("_tests.rs");
            if !name.ends_with(".rs") || test_file {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let code = line.trim_start();
                if code == "#[cfg(test)]" && opens_inline_module(&lines[i + 1..]) {
                    break;
                }
                if code.starts_with("//") {
                    continue;
                }
                if ["refs/heads/", "refs/remotes/"]
                    .iter()
                    .any(|ns| code.contains(ns))
                {
                    found.push(format!("{}:{}: {code}", path.display(), i + 1));
                }
            }
        }
    }
    assert!(
        files > 100,
        "only {files} source files found under {}",
        src.display()
    );
    assert!(
        found.is_empty(),
        "git's ref namespaces spelled outside src/git/ (use git::BranchName / git::RefName):\n{}",
        found.join("\n")
    );
}
