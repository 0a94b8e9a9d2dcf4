//! Whether a code branch that came from elsewhere is really a run's code before anything
//! builds on it: `fetch` creates a run's branch from a remote's copy, and `--resume` starts
//! agents and the verify command on whatever tree that branch holds. A remote can offer any
//! commit under `pitboss/<id>`; an existing clone refuses one unrelated to its branch, but a
//! fresh clone has nothing to compare with. The run's own history is the yardstick: the
//! branch must descend from the commit the run started from (`run.json`'s `base_commit`) and
//! contain every code commit a session recorded. Anything else is someone else's tree.
//!
//! Only branches of runs grind made are brought along at all: grind names its runs
//! `YYYYMMDDTHHMMSSZ-xxxx` ([`RunId::is_generated`]), so a remote "run" called `feature` can
//! never make `fetch` move the user's own `pitboss/feature`.

use std::collections::HashSet;

use super::Result;
use crate::git::Oid;
use crate::store::RunStore;
use crate::store::id::RunId;

impl RunStore<'_> {
    /// Why `tip` cannot be run `id`'s code, or `None` when it fits: it descends from the run's
    /// base commit and contains every code commit its sessions recorded. A run that records
    /// neither (made by `record`) accepts any tip.
    pub fn code_misfit(&self, id: &RunId, tip: Oid) -> Result<Option<String>> {
        let run = match self.open_run(id) {
            Ok(run) => run,
            Err(e) if e.is_user_error() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let base = match (run.meta.base_commit, &run.meta.unread_base_commit) {
            (Some(base), _) => Some(base),
            (None, None) => None,
            (None, Some(_)) => {
                return Ok(Some(format!(
                    "run {id} records a base commit that is not a commit id"
                )));
            }
        };
        if let Some(base) = base
            && (!self.repo.is_commit(base) || !self.repo.is_ancestor(base, tip)?)
        {
            return Ok(Some(format!(
                "{tip} does not descend from {base}, the commit run {id} started from"
            )));
        }
        // One walk of the run's own commits (tip down to the base) answers every record.
        let own: Option<HashSet<Oid>> = match base {
            Some(base) => Some(
                self.repo
                    .commits_not_in(tip, Some(base))?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let mut missing = Vec::new();
        for record in self.records(&run)? {
            let Some(commit) = record.commit_text() else {
                continue;
            };
            let contained = match record.commit {
                None => false,
                Some(c) => match &own {
                    Some(own) => own.contains(&c),
                    None => self.repo.is_commit(c) && self.repo.is_ancestor(c, tip)?,
                },
            };
            if !contained {
                missing.push(format!("session {} ({})", record.seq, short(&commit)));
            }
        }
        if missing.is_empty() {
            return Ok(None);
        }
        let more = if missing.len() > 3 { ", …" } else { "" };
        missing.truncate(3);
        Ok(Some(format!(
            "{tip} lacks the code recorded by {}{more}",
            missing.join(", ")
        )))
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
