//! Checks made before a run starts that the plan alone cannot make, shared by the dry run, the
//! real run and `git pitboss agents`, so all three say the same thing:
//!
//! - Claude Code refuses `bypassPermissions` (the default mode pitboss gives it) when run as
//!   root without `IS_SANDBOX=1`: every session would fail at once.
//! - A relative agent command, hook or verify script runs in the session's worktree, a checkout
//!   of the base commit: a file that is only in the user's checkout (not committed) or nowhere
//!   is missing there, and every session fails.
//! - A shallow clone: libgit2 cannot walk its history past the grafts.
//!
//! [`problems`] makes them all. The caller reads the user id and the environment (the library
//! does not, [`Facts`]); the relative-path check reads git through [`Repo`].

use crate::agent::DEFAULT_PERMISSION_MODE;
use crate::config::Backend;
use crate::git::{GitError, Oid, Repo};
use crate::plan::{Plan, PlannedAgent};

/// Why Claude Code will refuse every session here, if it will.
pub(crate) fn root_bypass(
    agent: &PlannedAgent,
    is_root: bool,
    is_sandbox_set: bool,
) -> Option<String> {
    if agent.backend.value != Backend::Claude || !is_root || is_sandbox_set {
        return None;
    }
    let mode = agent
        .permission_mode
        .as_ref()
        .map_or(DEFAULT_PERMISSION_MODE, |m| m.value.as_str());
    (mode == "bypassPermissions").then(|| {
        "Claude Code refuses permission mode bypassPermissions as root unless IS_SANDBOX=1 is \
         set: every session would fail"
            .to_string()
    })
}

/// Interpreters whose next word is the script they run.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "python", "python3", "node", "ruby", "perl",
];

/// Words that come before the program they run (`if ./check.sh`, `env ./x`, `exec ./x`).
const PREFIXES: &[&str] = &[
    "!", "{", "if", "then", "else", "elif", "do", "while", "until", "exec", "time", "command",
    "nohup", "env",
];

/// The relative programs a shell command line runs: the program of each part (`./agent.sh`,
/// `hooks/notify.sh`: a word with a `/`) and the script an interpreter runs (`sh agent.sh`),
/// with whether it is in the first part (which nothing before it can have built). Arguments,
/// redirections (`cat>/dev/null`) and assignments (`FOO=1`) are left alone, and so is anything
/// the shell would expand: this is a guess, and a guess must never refuse a valid command, so
/// a word is only returned when it certainly names a program path. Pure.
pub(crate) fn relative_paths(command: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (n, part) in parts(command).into_iter().enumerate() {
        // Words as the shell splits them; a part it cannot split is not a certain guess.
        let Some(words) = shlex::split(part) else {
            continue;
        };
        let words = program_words(&words);
        let program = match words.as_slice() {
            // After `cd`, relative paths name files somewhere else: stop guessing.
            [first, ..] if *first == "cd" || *first == "pushd" => break,
            [first, script, ..] if INTERPRETERS.contains(first) => *script,
            [first, ..] if first.contains('/') => *first,
            _ => continue,
        };
        let expanded = program.contains(['$', '`', '*', '?', '[', '{', '~']);
        let excluded = expanded
            || program.starts_with('/')
            || program.starts_with('-')
            || program.contains("://")
            || program.split('/').any(|c| c == "..");
        if !excluded && !out.iter().any(|(o, _)| o == program) {
            out.push((program.to_string(), n == 0));
        }
    }
    out
}

/// The words of one part from its program on: leading assignments, redirections and their
/// targets, and prefixes such as `env` or `if` dropped. A redirection glued to the program
/// (`cat>/dev/null`) leaves the program (`cat`).
fn program_words(words: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for w in words {
        if skip_next {
            skip_next = false;
            continue;
        }
        if let Some(at) = w.find(['<', '>']) {
            let (before, after) = w.split_at(at);
            // `2>err`: the digits are a file descriptor, not a word.
            if !before.is_empty() && !before.bytes().all(|b| b.is_ascii_digit()) {
                out.push(before);
            }
            // `> out`: the target is the next word.
            skip_next = after.trim_start_matches(['<', '>', '&', '|']).is_empty();
            if out.is_empty() {
                continue;
            }
            break;
        }
        let assignment = w.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        if out.is_empty() && (assignment || PREFIXES.contains(&w.as_str())) {
            continue;
        }
        out.push(w);
    }
    out
}

/// The parts of a command line between unquoted `;`, `&`, `|`, `(`, `)` and newlines, without
/// comments. A here-document ends the scan (its lines are data, not commands); unclosed quotes
/// give no parts at all (nothing about such a line is certain).
fn parts(command: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quote, mut escaped, mut comment) = (0, None, false, false);
    let mut prev = ' ';
    for (i, c) in command.char_indices() {
        let at_word_start = prev.is_whitespace() || ";&|()".contains(prev);
        prev = c;
        if comment {
            if c == '\n' {
                comment = false;
                start = i + 1;
            }
            continue;
        }
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => escaped = true,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if at_word_start => {
                out.push(&command[start..i]);
                comment = true;
            }
            (None, '<') if command[i + 1..].starts_with('<') => {
                out.push(&command[start..i]);
                return finish(out);
            }
            (None, ';' | '&' | '|' | '(' | ')' | '\n') => {
                out.push(&command[start..i]);
                start = i + c.len_utf8();
            }
            (None, _) => {}
        }
    }
    if quote.is_some() || escaped {
        return Vec::new();
    }
    if !comment {
        out.push(&command[start..]);
    }
    finish(out)
}

fn finish(parts: Vec<&str>) -> Vec<&str> {
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// One command of the plan that names a file its worktree will not have.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MissingFile {
    /// `the agent command`, `the pre_session hook`, `verify_command`.
    pub what: String,
    pub path: String,
    /// Whether the file is in the user's checkout (then it only needs committing).
    pub uncommitted: bool,
}

impl std::fmt::Display for MissingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = if self.uncommitted {
            "is in your checkout but not in the base commit, and sessions run in a worktree of \
             the base commit: commit it, or give an absolute path"
        } else {
            "does not exist in the base commit (sessions run in a worktree of it): fix the \
             path, or give an absolute one"
        };
        write!(f, "{} names {}, which {why}", self.what, self.path)
    }
}

/// The commands a session runs in its worktree, with what to call each.
fn commands(plan: &Plan) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if plan.agent.backend.value == Backend::Command {
        out.push((
            "the agent command".to_string(),
            plan.agent.program.value.clone(),
        ));
    }
    for (name, hook) in [
        ("pre_session", &plan.hooks.pre_session.value),
        ("post_session", &plan.hooks.post_session.value),
        ("on_failure", &plan.hooks.on_failure.value),
    ] {
        if let Some(cmd) = hook {
            out.push((format!("the {name} hook"), cmd.clone()));
        }
    }
    let verifies = plan.runnable().any(|p| p.prompt.verify);
    if let (true, Some(cmd)) = (verifies, &plan.verify_command) {
        out.push(("verify_command".to_string(), cmd.clone()));
    }
    out
}

/// The relative files the plan's commands name that the base commit does not hold.
pub(crate) fn missing_files(
    repo: &Repo,
    plan: &Plan,
    base: Oid,
) -> Result<Vec<MissingFile>, GitError> {
    let Some(tree) = repo.commit_info(base)?.map(|c| c.tree) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (what, cmd) in commands(plan) {
        for (path, first) in relative_paths(&cmd) {
            let clean = path.trim_start_matches("./");
            if clean.is_empty() || clean.starts_with("../") {
                continue;
            }
            if repo
                .tree_entry(tree, clean.trim_end_matches('/'))?
                .is_some()
            {
                continue;
            }
            // In the checkout but not committed: the worktree will not have it, unless it is
            // ignored (a build product, which an earlier part of the command may make). Missing
            // everywhere: only the first part's program is sure to be missing when it runs.
            let in_checkout = plan.root.join(clean).exists();
            let missing = if in_checkout {
                !repo.is_ignored(clean)?
            } else {
                first
            };
            if missing {
                out.push(MissingFile {
                    what: what.clone(),
                    uncommitted: in_checkout,
                    path,
                });
            }
        }
    }
    Ok(out)
}

/// What this process is, for [`root_bypass`]: read by the caller (the library reads no
/// environment).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts {
    pub is_root: bool,
    /// `IS_SANDBOX` is set (Claude Code's own test: set at all, and not empty).
    pub sandbox: bool,
}

/// What stops a run from starting that the plan alone cannot tell. The command line adds the
/// hint that fixes each.
#[derive(Debug)]
pub(crate) enum Problem {
    /// NB: libgit2 cannot walk past a shallow clone's grafts: a run would start, then fail with
    /// "object not found" on every resume and landing.
    Shallow,
    /// Claude Code would refuse every session ([`root_bypass`]).
    RootBypass(String),
    /// A command of the plan names a file the session's worktree will not have.
    Missing(MissingFile),
    /// The base commit cannot be read to look for those files.
    BaseUnreadable { base: Oid, error: GitError },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Shallow => f.write_str(
                "this repository is a shallow clone: sessions and resumes need its whole history",
            ),
            Problem::RootBypass(why) => f.write_str(why),
            Problem::Missing(m) => m.fmt(f),
            Problem::BaseUnreadable { base, error } => {
                write!(f, "cannot read the base commit {base}: {error}")
            }
        }
    }
}

/// Every problem found before a run starting from `base` (`None`: a resumed run, whose
/// worktree holds the run branch, so no file is looked for), in the order the dry run lists
/// them and the real run refuses with the first: refused before anything is written.
pub(crate) fn problems(repo: &Repo, plan: &Plan, base: Option<Oid>, facts: Facts) -> Vec<Problem> {
    let mut out = Vec::new();
    if repo.is_shallow() {
        out.push(Problem::Shallow);
    }
    if let Some(p) = root_bypass(&plan.agent, facts.is_root, facts.sandbox) {
        out.push(Problem::RootBypass(p));
    }
    if let Some(base) = base {
        match missing_files(repo, plan, base) {
            Ok(missing) => out.extend(missing.into_iter().map(Problem::Missing)),
            Err(error) => out.push(Problem::BaseUnreadable { base, error }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(cmd: &str) -> Vec<(String, bool)> {
        relative_paths(cmd)
    }

    #[test]
    fn relative_programs_of_a_command_line() {
        assert_eq!(paths("./agent.sh --fast"), [("./agent.sh".into(), true)]);
        assert_eq!(paths("sh agent.sh"), [("agent.sh".into(), true)]);
        assert_eq!(
            paths("make check && hooks/notify.sh \"$PITBOSS_STATUS\""),
            [("hooks/notify.sh".into(), false)]
        );
        assert_eq!(
            paths("FOO=1 scripts/x.sh out/report.txt"),
            [("scripts/x.sh".into(), true)],
            "arguments are not programs"
        );
        assert!(paths("/usr/bin/true; ~/bin/x; cargo test --lib").is_empty());
        assert!(paths("curl https://example.com/x -o out/y").is_empty());
        assert!(paths("sh -c 'exit 0'").is_empty());
        assert!(
            paths("cat>/dev/null; echo done").is_empty(),
            "a redirection"
        );
        assert!(paths("cat >/dev/null ./not-a-program").is_empty());
        assert_eq!(
            paths("env FOO=1 ./x.sh 2>err.log; if ./check.sh; then :; fi"),
            [("./x.sh".into(), true), ("./check.sh".into(), false)]
        );
        assert!(
            paths("echo 'a; ./nope' # ./neither; x").is_empty(),
            "quotes, comments"
        );
        assert!(
            paths("cd sub && ./run.sh").is_empty(),
            "relative to another directory"
        );
        assert!(
            paths("cat <<EOF\n./data\nEOF").is_empty(),
            "a here-document"
        );
        assert!(paths("./a.sh 'unclosed").is_empty());
        assert!(paths("\"$ROOT\"/x.sh; a/../b.sh").is_empty());
    }
}
