//! Lines that neither a session's commit nor a patch id explains, attributed through the same
//! reach evidence `stats` uses: a hand copy or a squash of some sessions leaves their change
//! applied in the target without any commit of theirs, so `stats` counts them (`applied`)
//! while git's blame names only the copying commit.
//!
//! A line's candidates are the sessions whose landed change added that exact text to that file
//! and whose work is not known to be missing from the blamed revision (its verdict is reached
//! or `unknown` when judged against that revision). One reached candidate names the line's
//! session; several (or one whose reach is undecided) are reported as candidates, never a
//! guess; none leaves the line plain ("not written by a pitboss session").

use std::collections::HashMap;

use super::blame::{BlameLine, SessionRef, Via};
use super::index::{Index, oid};
use super::reach::{self, Reach, Target};
use super::{ProvenanceError, Result};
use crate::git::Repo;

/// A session that could have written a line, and whether its reach is proven.
struct Candidate {
    session: SessionRef,
    reached: bool,
}

/// Attributes the plain lines of `out` (a blame of `file` at `rev`, the work tree's `HEAD`
/// when `None`) to the sessions whose applied change added their text.
pub(super) fn through_reach(
    repo: &Repo,
    index: &mut Index,
    rev: Option<&str>,
    remote_runs: bool,
    file: &str,
    out: &mut [BlameLine],
) -> Result<()> {
    let rev = rev.unwrap_or("HEAD");
    let verdicts = match reach::judge(repo, index, &Target::Rev(rev.to_string()), remote_runs) {
        Ok(v) => v,
        // An unborn HEAD: there is nothing any session could have reached.
        Err(ProvenanceError::BadTarget(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut added: HashMap<String, Vec<Candidate>> = HashMap::new();
    for run in index.runs.values() {
        let Some(run_verdicts) = verdicts.get(&run.refname) else {
            continue;
        };
        for s in &run.sessions {
            let verdict = run_verdicts.verdicts.get(&s.seq).copied();
            let reached = verdict.is_some_and(Reach::reached);
            if !reached && verdict != Some(Reach::Unknown) {
                continue;
            }
            for text in lines_added(repo, s.base.as_deref(), s.commit.as_deref(), file)? {
                added.entry(text).or_default().push(Candidate {
                    session: SessionRef {
                        run: run.id.clone(),
                        refname: run.refname.clone(),
                        seq: s.seq,
                        prompt: s.prompt.clone(),
                        via: Via::Applied,
                    },
                    reached,
                });
            }
        }
    }
    for l in out.iter_mut().filter(|l| l.session.is_none()) {
        let Some(cands) = added.get(&l.content) else {
            continue;
        };
        match cands.as_slice() {
            [one] if one.reached => l.session = Some(one.session.clone()),
            many => l.candidates = many.iter().map(|c| c.session.clone()).collect(),
        }
    }
    Ok(())
}

/// The lines a session's change (`base` to `commit`) added to `file`: those of the new file
/// beyond the count of the same text in the old one.
fn lines_added(
    repo: &Repo,
    base: Option<&str>,
    commit: Option<&str>,
    file: &str,
) -> Result<Vec<String>> {
    let Some(commit) = commit.and_then(oid) else {
        return Ok(Vec::new());
    };
    let blob_at = |c: Option<crate::git::Oid>| -> Result<Option<Vec<u8>>> {
        let info = match c {
            Some(c) => repo.commit_info(c)?,
            None => None,
        };
        let Some(tree) = info else {
            return Ok(None);
        };
        match repo.tree_entry(tree.tree, file)? {
            Some((b, _)) => Ok(repo.blob_if_present(b)?),
            None => Ok(None),
        }
    };
    let Some(new) = blob_at(Some(commit))? else {
        return Ok(Vec::new());
    };
    let old = blob_at(base.and_then(oid))?.unwrap_or_default();
    let mut before: HashMap<&str, usize> = HashMap::new();
    let old = String::from_utf8_lossy(&old);
    for l in old.lines() {
        *before.entry(l).or_default() += 1;
    }
    let new = String::from_utf8_lossy(&new);
    let mut out = Vec::new();
    for l in new.lines() {
        match before.get_mut(l) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(l.to_string()),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
