//! The built-in `demo` agent: deterministic, offline, and a real child process.
//!
//! `git pitboss demo` and the README quick start need an agent that works everywhere without a
//! network or an account, and that exercises the same machinery as a real one. So the demo
//! agent is the `git-pitboss` binary itself, re-invoked as the hidden `agent-demo` subcommand
//! ([`DemoAdapter`]); that process calls [`run_demo_agent`]. Given the prompt on stdin and the
//! `PITBOSS_*` variables, it makes a small real change (the first `TODO` in the file a
//! `demo-target: <path>` line names becomes `DONE`, or a line is appended to it; without a
//! target, a note in a file of its own, `notes/session-NNNN.md`, so that sessions side by side
//! in a parallel demo never touch the same file and all land), writes a summary and a
//! scratchpad line, commits the change itself on odd
//! sessions and leaves it for pitboss to commit on even ones, and writes a result file with
//! token counts derived from the prompt's length and `cost_source: "none"`. A `demo-fail:
//! <message>` line makes it fail instead, for trying out error handling.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::adapter::{Adapter, SessionContext, StreamParser, TextParser};
use super::invocation::Invocation;
use super::process::run_to_completion;

/// The hidden subcommand that runs the demo agent.
pub(crate) const SUBCOMMAND: &str = "agent-demo";
/// Where the demo writes when the prompt names no target: a file of the session's own (one
/// shared file made a parallel demo mostly conflicts).
pub(crate) fn default_target(seq: u64) -> PathBuf {
    PathBuf::from(format!("notes/session-{seq:04}.md"))
}

/// Runs the demo agent: `<exe> agent-demo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAdapter {
    /// The `git-pitboss` executable (the CLI passes its own path).
    pub exe: PathBuf,
}

impl Adapter for DemoAdapter {
    fn name(&self) -> &str {
        "demo"
    }

    fn program(&self) -> &Path {
        &self.exe
    }

    fn config_key(&self) -> &str {
        "the git-pitboss executable path (reinstall git-pitboss)"
    }

    fn reads_result_file(&self) -> bool {
        true
    }

    fn invocation(&self, ctx: &SessionContext<'_>) -> Invocation {
        Invocation::new(&self.exe, ctx.worktree)
            .arg(SUBCOMMAND)
            .envs(ctx.env)
            .stdin_file(ctx.input_file)
    }

    fn parser(&self, _ctx: &SessionContext<'_>) -> Box<dyn StreamParser> {
        Box::new(TextParser)
    }
}

/// What the demo agent is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DemoInput {
    pub worktree: PathBuf,
    pub run_id: String,
    pub seq: u64,
    pub prompt_name: String,
    pub prompt_text: String,
    pub scratchpad: Option<PathBuf>,
    pub summary_file: Option<PathBuf>,
    pub result_file: Option<PathBuf>,
}

impl DemoInput {
    /// From `PITBOSS_*` variables, looked up through `var` (the CLI passes the environment).
    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        cwd: &Path,
        prompt_text: String,
    ) -> Self {
        let path = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        DemoInput {
            worktree: path("PITBOSS_WORKTREE").unwrap_or_else(|| cwd.to_path_buf()),
            run_id: var("PITBOSS_RUN_ID").unwrap_or_default(),
            seq: var("PITBOSS_SEQ").and_then(|s| s.parse().ok()).unwrap_or(1),
            prompt_name: var("PITBOSS_PROMPT").unwrap_or_else(|| "demo".into()),
            prompt_text,
            scratchpad: path("PITBOSS_SCRATCHPAD"),
            summary_file: path("PITBOSS_SUMMARY_FILE"),
            result_file: path("PITBOSS_RESULT_FILE"),
        }
    }
}

/// What the demo agent did: lines to print (its "transcript") and whether it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DemoReport {
    pub log: Vec<String>,
    pub failed: bool,
}

/// The value of the first `<key>: <value>` line of the prompt.
fn directive<'a>(prompt: &'a str, key: &str) -> Option<&'a str> {
    prompt.lines().find_map(|l| {
        let rest = l.trim().strip_prefix(key)?.strip_prefix(':')?;
        Some(rest.trim()).filter(|v| !v.is_empty())
    })
}

/// A relative path that stays inside the worktree.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let ok = p
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    (ok && p.components().next().is_some()).then(|| p.to_path_buf())
}

/// Runs the demo agent. `Err` only for I/O failures on the worktree or its files.
pub(crate) fn run_demo_agent(input: &DemoInput) -> io::Result<DemoReport> {
    let mut log = vec![format!(
        "demo agent: session {} of run {} (prompt {:?}), {} bytes of input",
        input.seq,
        input.run_id,
        input.prompt_name,
        input.prompt_text.len()
    )];
    if let Some(message) = directive(&input.prompt_text, "demo-fail") {
        log.push(format!("demo agent: failing as asked: {message}"));
        write_result(input, Some(message))?;
        return Ok(DemoReport { log, failed: true });
    }
    let target = match directive(&input.prompt_text, "demo-target") {
        Some(t) => safe_relative(t).unwrap_or_else(|| {
            log.push(format!(
                "demo agent: ignoring demo-target {t:?} outside the worktree"
            ));
            default_target(input.seq)
        }),
        None => default_target(input.seq),
    };
    let what = edit(&input.worktree.join(&target), input)?;
    let shown = target.display();
    log.push(format!("demo agent: {what} in {shown}"));
    let summary = format!("Demo session {}: {what} in {shown}.", input.seq);
    if let Some(path) = &input.summary_file {
        fs::write(path, format!("{summary}\n"))?;
    }
    if let Some(path) = &input.scratchpad {
        let mut pad = fs::read_to_string(path).unwrap_or_default();
        if !pad.is_empty() && !pad.ends_with('\n') {
            pad.push('\n');
        }
        pad.push_str(&format!(
            "- session {:04} ({}): {what} in {shown}\n",
            input.seq, input.prompt_name
        ));
        fs::write(path, pad)?;
    }
    if input.seq % 2 == 1 {
        log.push(commit(
            &input.worktree,
            &target,
            &format!("demo: {what} in {shown}"),
        )?);
    } else {
        log.push("demo agent: leaving the change uncommitted for pitboss to commit".into());
    }
    write_result(input, None)?;
    Ok(DemoReport { log, failed: false })
}

/// The change itself: first `TODO` → `DONE`, else a new line. Returns what was done.
fn edit(path: &Path, input: &DemoInput) -> io::Result<String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if let Some(at) = text.find("TODO") {
        let done = format!("DONE (demo session {})", input.seq);
        fs::write(path, format!("{}{done}{}", &text[..at], &text[at + 4..]))?;
        return Ok("resolved a TODO".into());
    }
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "- demo session {:04} ({}) was here\n",
        input.seq, input.prompt_name
    ));
    fs::write(path, text)?;
    Ok("added a note".into())
}

/// `git add` + `git commit`, like a real agent would. A failing commit is reported in the log
/// and leaves the change for pitboss, as an agent's failed commit would.
fn commit(worktree: &Path, target: &Path, message: &str) -> io::Result<String> {
    let git = |args: &[&str]| {
        let inv = Invocation::new("git", worktree)
            .args([
                "-c",
                "user.name=pitboss demo agent",
                "-c",
                "user.email=demo-agent@pitboss.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args.iter().copied());
        run_to_completion(&inv)
    };
    let target = target.to_string_lossy();
    let add = git(&["add", "--", &target])?;
    let out = if add.status.success() {
        git(&["commit", "-q", "-m", message, "--", &target])?
    } else {
        add
    };
    Ok(if out.status.success() {
        format!("demo agent: committed: {message}")
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        format!(
            "demo agent: could not commit, leaving it for pitboss: {}",
            err.trim()
        )
    })
}

/// Plausible token counts from the prompt's length; no cost (the demo is free).
fn write_result(input: &DemoInput, error: Option<&str>) -> io::Result<()> {
    let Some(path) = &input.result_file else {
        return Ok(());
    };
    let prompt_tokens = input.prompt_text.len() as u64 / 4;
    let (cache_read, cache_write) = if input.seq <= 1 { (0, 600) } else { (600, 0) };
    // The summary goes to the summary file only, so the fallback path is exercised too.
    let result = serde_json::json!({
        "tokens": {
            "input": 900 + prompt_tokens,
            "output": 120 + (input.seq % 7) * 15,
            "cache_read": cache_read,
            "cache_write": cache_write,
            "reasoning": 0,
        },
        "cost_usd": 0.0,
        "cost_source": "none",
        "model": "pitboss-demo",
        "agent_version": env!("CARGO_PKG_VERSION"),
        "num_turns": 1,
        "is_error": error.is_some(),
        "error": error,
    });
    fs::write(path, format!("{result}\n"))
}

#[cfg(test)]
#[path = "demo_tests.rs"]
mod tests;
