//! Shared plumbing of the run commands: opening the store, resolving `<run>` arguments, and
//! turning store errors into user-facing errors with hints.

use crate::cli::{CliError, CliResult, Ctx};
use crate::git::Repo;
use crate::store::layout::LayoutError;
use crate::store::{Run, RunStore, StoreError};

/// Maps a store error to a CLI error with a hint on what to do next.
pub fn store_err(e: StoreError) -> CliError {
    let hint = match &e {
        StoreError::RunNotFound(_) => Some("run `git pitboss ls` to list runs".to_string()),
        StoreError::Ambiguous { .. } => Some("type more characters of the run id".to_string()),
        StoreError::InvalidRunId(_) => {
            Some("run ids look like 20261124T101500Z-3fa9; `git pitboss ls` lists them".to_string())
        }
        StoreError::DuplicateSeq { .. } => {
            Some("leave `seq` out of the record to append it as the next session".to_string())
        }
        StoreError::RunExists(_) => {
            Some("choose another id, or `git pitboss ls` to see existing runs".to_string())
        }
        StoreError::NotARun { refname, .. } => Some(format!(
            "look at it with `git log {refname}`; delete it with `git update-ref -d {refname}` if it is not yours"
        )),
        StoreError::CorruptRecord { run, path, .. } => Some(format!(
            "inspect it with `git show {}:{path}`",
            run.ref_name()
        )),
        StoreError::StaleLock { path, .. } => Some(format!(
            "see who has it with `fuser -v {0}` and `ps -ef | grep git`; only when no git or \
             git-pitboss process is writing to this repository, remove it: rm {0}",
            path.display()
        )),
        StoreError::Invalid { .. } => Some(
            "fix the record or file: teammates' `git pitboss fetch` refuses runs that break these rules"
                .to_string(),
        ),
        StoreError::Damaged(d) => Some(damaged_hint(d)),
        StoreError::Git(g) if g.is_locked() => Some(
            "another git process was updating the same refs in this repository (a fetch or push \
             running at the same time): run the command again; if none is running, a killed git \
             left the `.lock` file named above: remove it"
                .to_string(),
        ),
        StoreError::RunMismatch { .. } => {
            Some("leave `run_id` out of the record, or record into that run".to_string())
        }
        _ => None,
    };
    let user = e.is_user_error();
    let mut err = if user {
        CliError::user(e)
    } else {
        CliError::internal(e)
    };
    if let Some(h) = hint {
        err = err.hint(h);
    }
    err
}

/// How to bring a damaged run back (its tip commit is missing, see `store/damage.rs`).
pub fn damaged_hint(d: &crate::store::DamagedRun) -> String {
    let why = "a `git gc --prune=now` beside a running write can do this";
    match &d.restore {
        Some(oid) => format!(
            "{why}; restore the run's newest intact commit from its reflog (`git reflog {r}`): \
             git update-ref {r} {oid} {tip}; then `git pitboss fetch` brings back later \
             sessions a remote has",
            r = d.refname,
            tip = d.tip
        ),
        None => format!(
            "{why}; its reflog (`git reflog {r}`) has no intact earlier commit: `git pitboss \
             fetch` brings the run back from a remote that has it",
            r = d.refname
        ),
    }
}

pub fn layout_err(e: LayoutError) -> CliError {
    match e {
        LayoutError::Store(s) => store_err(s),
        e if e.is_user_error() => CliError::user(e),
        e => CliError::internal(e),
    }
}

/// Opens the repository and resolves a `<run>` argument (full id or unique prefix).
pub fn open_run(store: &RunStore<'_>, arg: &str) -> CliResult<Run> {
    let id = store.resolve(arg).map_err(store_err)?;
    store.open_run(&id).map_err(store_err)
}

/// The repository plus the store around it, built from the context.
pub fn with_store<T>(ctx: &Ctx, f: impl FnOnce(&RunStore<'_>) -> CliResult<T>) -> CliResult<T> {
    let repo: Repo = ctx.repo()?;
    let store = RunStore::new(&repo, ctx.clock.as_ref(), ctx.entropy.as_ref());
    f(&store)
}

/// `$1.2345`
pub fn money(usd: f64) -> String {
    format!("${usd:.4}")
}

/// `1h02m`, `3m05s`, `42s`
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(185), "3m05s");
        assert_eq!(duration(3720), "1h02m");
        assert_eq!(duration(-5), "0s");
        assert_eq!(money(0.0123), "$0.0123");
    }
}
