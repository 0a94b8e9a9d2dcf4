//! The session's hooks: the environment they run in, running one with its timeout, and their
//! output kept as marked sections at the end of the session's transcript (not in the summary,
//! which stays one short line pointing there).
//!
//! A hook that fails is not a fault of grind: it is a [`HookError`], which the stages turn into
//! the session's status (`pre_session`, `verify`) or a warning (`post_session`, `on_failure`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{InFlight, Session};
use crate::agent;
use crate::grind::context::Ctx;
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::slot::Slot;
use crate::store::SessionStatus;

/// Ends the hook a grind that died left running in `slot_path` (its group noted in `dir`).
pub(super) fn end_leftover_hook(dir: &Path, slot_path: &Path) {
    let file = crate::rundir::session::hook_pid(dir);
    if let Some(pid) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
    {
        agent::end_leftover_group(pid, slot_path);
    }
    let _ = std::fs::remove_file(&file);
}

/// How a hook failed. Its text is what the session's summary or the warning says; `what` is
/// the hook as the docs name it ([`named`]).
#[derive(Debug, thiserror::Error)]
pub(super) enum HookError {
    /// It could not be started.
    #[error("cannot run the {what}: {source}")]
    Start {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The user's abort (Ctrl-C twice, SIGTERM, SIGHUP) ended it.
    #[error("the {what} `{cmd}` was aborted by the user")]
    Aborted { what: String, cmd: String },
    /// It ran and did not succeed (its output is in the transcript).
    #[error("the {what} `{cmd}` {how}: see its output in the session's transcript")]
    Failed {
        what: String,
        cmd: String,
        /// `exited with code 3`, `timed out`, …
        how: String,
    },
}

/// A hook as the docs and the config name it: `pre_session hook`, …, and the `verify command`
/// (it is `verify_command` in the config, not a hook).
fn named(which: &str) -> String {
    if which == "verify" {
        "verify command".to_string()
    } else {
        format!("{which} hook")
    }
}

/// A hook's output as a marked section of the session's transcript.
pub(super) fn hook_section(which: &str, cmd: &str, out: &agent::HookOutcome) -> String {
    let name = if which == "verify" {
        "verify_command".to_string()
    } else {
        named(which)
    };
    let mut s = format!("\n==== pitboss: {name} `{cmd}` {} ====\n", out.describe());
    if !out.output_tail.is_empty() {
        s.push_str(&out.output_tail);
        s.push('\n');
    }
    s.push_str(&format!("==== end of {name} output ====\n"));
    s
}

/// The environment of a session's hooks (`PITBOSS_STATUS` once the status is decided).
pub(super) fn env(
    ctx: &Ctx,
    slot: &Slot,
    m: &InFlight,
    status: Option<SessionStatus>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("PITBOSS_RUN_ID".into(), ctx.run.to_string());
    env.insert("PITBOSS_SEQ".into(), m.seq.to_string());
    env.insert("PITBOSS_PROMPT".into(), m.prompt.clone());
    env.insert("PITBOSS_WORKTREE".into(), slot.path.display().to_string());
    if let Some(s) = status {
        env.insert("PITBOSS_STATUS".into(), s.to_string());
    }
    env
}

/// Runs a hook (none configured: nothing to do), its output kept in `log`.
pub(super) fn run(
    ctx: &Ctx,
    slot: &Slot,
    which: &str,
    cmd: &Option<String>,
    env: &BTreeMap<String, String>,
    log: &mut Vec<String>,
) -> Result<(), HookError> {
    let Some(cmd) = cmd else { return Ok(()) };
    let timeout = Duration::from_secs(ctx.plan.hooks.timeout_seconds.value);
    let out = agent::run_hook(
        cmd,
        &slot.path,
        env,
        timeout,
        &ctx.controls.agent,
        &ctx.redactor,
        Some(&crate::rundir::session::hook_pid(slot.run_dir())),
    )
    .map_err(|source| HookError::Start {
        what: named(which),
        source,
    })?;
    // The output goes into the session's transcript, in a section of its own; the summary
    // only says how the hook ended and points there.
    log.push(hook_section(which, cmd, &out));
    if out.succeeded() {
        Ok(())
    } else if out.end == agent::SessionEnd::Aborted {
        Err(HookError::Aborted {
            what: named(which),
            cmd: cmd.clone(),
        })
    } else {
        Err(HookError::Failed {
            what: named(which),
            cmd: cmd.clone(),
            how: out.describe(),
        })
    }
}

/// The post-session hook, and the failure hook after a failed session: their failures are
/// warnings, the session's status stands.
pub(super) fn after_session(
    ctx: &Ctx,
    slot: &Slot,
    s: &mut Session,
    status: SessionStatus,
    obs: &mut dyn GrindObserver,
) {
    let env = env(ctx, slot, &s.marker, Some(status));
    let hooks = &ctx.plan.hooks;
    let mut warn = |e: HookError| {
        obs.event(&GrindEvent::Warning {
            message: format!("session {}: {e}", s.marker.seq),
        })
    };
    let log = &mut s.hook_log;
    if let Err(e) = run(
        ctx,
        slot,
        "post_session",
        &hooks.post_session.value,
        &env,
        log,
    ) {
        warn(e);
    }
    if status.is_failure()
        && let Err(e) = run(ctx, slot, "on_failure", &hooks.on_failure.value, &env, log)
    {
        warn(e);
    }
}

/// Appends the output of this session's hooks to its transcript (creating one when the
/// agent did not run), and returns the transcript to store.
pub(super) fn append_output(
    sections: Vec<String>,
    transcript: Option<PathBuf>,
    fallback: &Path,
) -> Result<Option<PathBuf>, GrindError> {
    if sections.is_empty() {
        return Ok(transcript);
    }
    let path = transcript.unwrap_or_else(|| fallback.to_path_buf());
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(GrindError::io(format!("cannot write {}", path.display())))?;
    for s in sections {
        std::io::Write::write_all(&mut f, s.as_bytes())
            .map_err(GrindError::io(format!("cannot write {}", path.display())))?;
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::HookError;

    #[test]
    fn a_hook_error_says_which_hook_and_how_in_the_words_a_summary_keeps() {
        let e = HookError::Start {
            what: super::named("verify"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            e.to_string(),
            "cannot run the verify command: permission denied"
        );
        assert!(std::error::Error::source(&e).is_some());
        let e = HookError::Failed {
            what: super::named("post_session"),
            cmd: "make lint".into(),
            how: "timed out".into(),
        };
        assert_eq!(
            e.to_string(),
            "the post_session hook `make lint` timed out: see its output in the session's transcript"
        );
    }
}
