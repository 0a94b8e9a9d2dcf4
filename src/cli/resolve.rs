//! Shared plumbing of the run commands: opening the store, resolving `<run>` arguments, and
//! showing money and durations. (Store errors become user-facing ones in `errors.rs`.)

use crate::cli::{CliResult, Ctx};
use crate::git::Repo;
use crate::store::{Run, RunStore};

/// Opens the repository and resolves a `<run>` argument (full id or unique prefix).
pub(crate) fn open_run(store: &RunStore<'_>, arg: &str) -> CliResult<Run> {
    let id = store.resolve(arg)?;
    Ok(store.open_run(&id)?)
}

/// The repository plus the store around it, built from the context.
pub(crate) fn with_store<T>(
    ctx: &Ctx,
    f: impl FnOnce(&RunStore<'_>) -> CliResult<T>,
) -> CliResult<T> {
    let repo: Repo = ctx.repo()?;
    let store = RunStore::new(&repo, ctx.clock.as_ref(), ctx.entropy.as_ref());
    f(&store)
}

/// `$1.2345`
pub(crate) fn money(usd: f64) -> String {
    format!("${usd:.4}")
}

/// `1h02m`, `3m05s`, `42s`
pub(crate) fn duration(secs: i64) -> String {
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
