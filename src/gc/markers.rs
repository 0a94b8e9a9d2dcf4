//! The refs sharing leaves behind: the remotes' copies of runs that are not here
//! (`refs/pitboss-remotes/<remote>/grind/<id>`), the markers of runs deleted on a remote
//! (`refs/pitboss-remotes/<remote>/gone/<id>`, see `store/share/gone.rs`), and the tombstones
//! of runs deleted here (`refs/pitboss-tombstones/grind/<id>`) and of run branches gc deleted
//! (`refs/pitboss-tombstones/heads/pitboss/<id>`, see `store/share/branch_tombstone.rs`).
//!
//! A remote's copy of a run holds that run's history, which no ref outside pitboss reaches:
//! it is kept, always (`fetch --include-deleted` takes it up, `git update-ref -d` drops it by
//! hand). A "gone" marker keeps the default `push` from publishing the run to that remote
//! again, so it stays while the run is here; with the run gone there is nothing to push and it
//! may go. A tombstone keeps `fetch` from bringing a deleted run back; it goes only when
//! older than `--tombstones-older-than`. Markers and tombstones are blobs, not commits: nothing
//! else is lost with them.

use chrono::{DateTime, Utc};

use super::code::run_of_branch;
use super::{GcOptions, Kind, Result, Row, restore_ref};
use crate::store::share::tombstoned_branch;
use crate::store::{BRANCH_TOMBSTONE_REF_PREFIX, REMOTE_REF_PREFIX, TOMBSTONE_REF_PREFIX};
use crate::store::{RunId, RunStore};

pub(super) fn remote_rows(store: &RunStore<'_>) -> Result<Vec<Row>> {
    let repo = store.repo();
    let mut rows = Vec::new();
    for (name, oid) in repo.refs_with_prefix(REMOTE_REF_PREFIX)? {
        let Some(rest) = name.strip_prefix(REMOTE_REF_PREFIX) else {
            continue;
        };
        if let Some((remote, id)) = rest.split_once("/grind/") {
            let Ok(id) = RunId::parse(id) else { continue };
            if store.exists(&id)? {
                continue; // in use: what push and fetch compare with
            }
            let mut row = Row::keep(Kind::TrackingRef, &name, Some(id.clone()), "run not here")
                .because(format!(
                    "kept, always: the history of a run that is not here (refused by a fetch, or \
                     deleted here) is on no other ref; `git pitboss fetch --include-deleted \
                     {remote} {id}` takes it, `git update-ref -d {name}` drops it"
                ));
            row.oid = Some(oid.to_string());
            rows.push(row);
        } else if let Some((remote, id)) = rest.split_once("/gone/") {
            let Ok(id) = RunId::parse(id) else { continue };
            let row = Row::keep(
                Kind::GoneMarker,
                &name,
                Some(id.clone()),
                &format!("deleted on {remote}"),
            );
            if store.exists(&id)? {
                rows.push(row.because(format!(
                    "the run is here: the marker keeps `git pitboss push` from publishing it to \
                     {remote} again"
                )));
            } else {
                rows.push(
                    row.because("the run is not here either: there is nothing to push")
                        .delete_ref(&name, oid, restore_ref(&name, oid)),
                );
            }
        }
    }
    Ok(rows)
}

pub(super) fn tombstone_rows(store: &RunStore<'_>, opts: &GcOptions) -> Result<Vec<Row>> {
    let repo = store.repo();
    let mut rows = Vec::new();
    let branches = repo.refs_with_prefix(BRANCH_TOMBSTONE_REF_PREFIX)?;
    for (name, oid) in repo
        .refs_with_prefix(TOMBSTONE_REF_PREFIX)?
        .into_iter()
        .chain(branches)
    {
        let branch = tombstoned_branch(&name);
        let id = match &branch {
            Some(b) => run_of_branch(b),
            None => name
                .strip_prefix(TOMBSTONE_REF_PREFIX)
                .and_then(|s| RunId::parse(s).ok()),
        };
        let what = if branch.is_some() { "branch" } else { "run" };
        let when = repo
            .read_blob(oid)
            .ok()
            .and_then(|b| deleted_at(&String::from_utf8_lossy(&b)));
        let age = when.map(|w| opts.now.signed_duration_since(w));
        let state = match age {
            Some(a) => format!("deleted {} ago", days(a)),
            None => "deleted (when is unknown)".to_string(),
        };
        let row = Row::keep(Kind::Tombstone, &name, id, &state);
        let row = match (opts.tombstones_older_than, age) {
            (None, _) => row.because(format!(
                "keeps `fetch` from bringing the {what} back (--tombstones-older-than drops old \
                 ones)"
            )),
            (Some(_), None) => row.because("its age cannot be read from it"),
            (Some(limit), Some(a)) if a < limit => {
                row.because(format!("younger than {}", days(limit)))
            }
            (Some(limit), Some(_)) => row
                .because(format!(
                    "older than {}: a fetch may bring the {what} back again",
                    days(limit)
                ))
                .delete_ref(&name, oid, restore_ref(&name, oid)),
        };
        rows.push(row);
    }
    Ok(rows)
}

/// The time in a tombstone's first line, `run <id> deleted at <RFC 3339>`.
fn deleted_at(text: &str) -> Option<DateTime<Utc>> {
    let first = text.lines().next()?;
    let (_, at) = first.rsplit_once(" deleted at ")?;
    DateTime::parse_from_rfc3339(at.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An age in whole days (hours below one day).
fn days(d: chrono::Duration) -> String {
    if d.num_days() >= 1 {
        format!("{}d", d.num_days())
    } else {
        format!("{}h", d.num_hours().max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tombstones_say_when() {
        let t = deleted_at("run r1 deleted at 2026-11-24T10:00:00Z\nlast tip abc\n").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-24T10:00:00+00:00");
        assert!(deleted_at("garbage").is_none());
        assert_eq!(days(chrono::Duration::hours(50)), "2d");
        assert_eq!(days(chrono::Duration::hours(5)), "5h");
    }
}
