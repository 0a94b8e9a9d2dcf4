//! Reconciling two diverged tips of one run: one merge commit whose tree is the union of both
//! sides' sessions, transcripts and patches (placed by [`super::merge_plan`]), with
//! `state.json` recomputed from that union.
//!
//! Deterministic by construction, so two machines that reconcile the same pair of tips make the
//! same commit, byte for byte, and their pushes agree: the parents are ordered by object id,
//! the author and committer are the pitboss identity (never the local user), the commit time is
//! the later of the two tips' commit times (never "now"), and everything else is computed from
//! the two tips and their merge base. The tree is built from scratch with `edit_tree`, not
//! with libgit2's `merge_commits`, whose textual merge knows nothing of seqs.
//!
//! The other files: `run.json` must agree (it is immutable; a side that changed it is a
//! conflict, reported, nothing written), and `state.json` (status, stop reason, scheduler,
//! unknown fields) and `scratchpad.md` come from the side updated last (by `last_updated_at`,
//! then commit time, then id) unless only one side changed them since the merge base. The
//! other side's scratchpad stays readable in its parent commit.

use super::id::{RunId, Seq};
use super::merge_plan::{Placed, SideSession, plan_union};
use super::message::merge_message;
use std::collections::BTreeMap;

use super::paths::{PATCHES_DIR, RUN_JSON, SCRATCHPAD, STATE_JSON, session_file_digits};
use super::record::SessionRecord;
use super::run::Consumed;
use super::{Result, Run, RunStore};
use crate::git::{Identity, Oid, TreeEdit, TreeEntryKind};

/// A session that moved to a new seq in a merge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Renumbered {
    pub from: u64,
    pub to: u64,
}

/// What reconciling two tips gave.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeOutcome {
    /// The merge commit (not yet on any ref).
    Merged {
        commit: Oid,
        sessions: u64,
        renumbered: Vec<Renumbered>,
    },
    /// The two tips share no history: two different runs that happen to have one id.
    Unrelated,
    /// The sides disagree on something that cannot be reconciled (`run.json`).
    Conflict(String),
}

impl RunStore<'_> {
    /// Builds the merge commit of two diverged tips of run `id` (in either order; the result
    /// is the same). Moves no ref: the caller publishes it with a compare-and-swap.
    pub fn merge_tips(&self, id: &RunId, x: Oid, y: Oid) -> Result<MergeOutcome> {
        let (p1, p2) = if x <= y { (x, y) } else { (y, x) };
        let Some(base) = self.repo.merge_base(p1, p2)? else {
            return Ok(MergeOutcome::Unrelated);
        };
        let refname = id.ref_name();
        let r1 = self.read_tip(id, &refname, p1)?;
        let r2 = self.read_tip(id, &refname, p2)?;
        let s1 = self.side_sessions(&r1)?;
        let s2 = self.side_sessions(&r2)?;
        let plan = plan_union(&s1, &s2);

        let c1 = self.commit_or_fail(p1)?;
        let c2 = self.commit_or_fail(p2)?;
        let base_tree = self.commit_or_fail(base)?.tree;
        // The side whose state is the newer word on the run.
        let later_is_2 =
            (r2.state.last_updated_at, c2.time, p2) > (r1.state.last_updated_at, c1.time, p1);
        let later = if later_is_2 { &r2 } else { &r1 };

        let Some(mut edits) = self.run_file_edits([c1.tree, c2.tree, base_tree], later_is_2)?
        else {
            return Ok(MergeOutcome::Conflict(format!(
                "{RUN_JSON} differs between the two sides"
            )));
        };
        let (records, renumbered) = self.session_edits(&plan, &mut edits)?;
        edits.extend(self.resume_patch_edits(c1.tree, c2.tree)?);

        let mut state = later.state.clone();
        state.consumed = Consumed::from_records(&records);
        state.refresh_stop_reason();
        state.last_session_seq = plan
            .last()
            .map(|p| p.seq)
            .unwrap_or(0)
            .max(r1.state.last_session_seq)
            .max(r2.state.last_session_seq);
        state.started_at = r1.state.started_at.min(r2.state.started_at);
        state.last_updated_at = r1.state.last_updated_at.max(r2.state.last_updated_at);
        edits.push(blob(
            STATE_JSON,
            self.repo.write_blob(state.to_json().as_bytes())?,
        ));

        let tree = self.repo.edit_tree(None, &edits)?;
        let message = merge_message(
            id,
            (p1, s1.len()),
            (p2, s2.len()),
            plan.len(),
            &moved_sessions(&plan, &s1, p1, p2),
            &state.status,
        );
        let when = c1.time.max(c2.time);
        let commit =
            self.repo
                .write_commit(tree, &[p1, p2], &message, &Identity::fallback(), when)?;
        Ok(MergeOutcome::Merged {
            commit,
            sessions: plan.len() as u64,
            renumbered,
        })
    }

    /// `run.json` and `scratchpad.md` of the merge, each merged three ways from the trees
    /// `[side 1, side 2, merge base]`: a side's change wins over none; when both changed, the
    /// scratchpad is the later side's (`later_is_2`) and `run.json` is a conflict (`None`).
    fn run_file_edits(
        &self,
        [t1, t2, base_tree]: [Oid; 3],
        later_is_2: bool,
    ) -> Result<Option<Vec<TreeEdit>>> {
        let three_way = |path: &str| -> Result<(Option<Oid>, bool)> {
            let a = self.blob_entry(t1, path)?;
            let b = self.blob_entry(t2, path)?;
            let o = self.blob_entry(base_tree, path)?;
            Ok(if a == b || b == o {
                (a, true)
            } else if a == o {
                (b, true)
            } else {
                (if later_is_2 { b } else { a }, false)
            })
        };
        let mut edits = Vec::new();
        match three_way(RUN_JSON)? {
            (Some(oid), true) => edits.push(blob(RUN_JSON, oid)),
            _ => return Ok(None),
        }
        if let (Some(oid), _) = three_way(SCRATCHPAD)? {
            edits.push(blob(SCRATCHPAD, oid));
        }
        Ok(Some(edits))
    }

    /// Adds to `edits` every placed session's record (written anew when it moved), transcript
    /// and patch at its seq; returns the records, in the plan's order, and the sessions that
    /// moved.
    fn session_edits(
        &self,
        plan: &[Placed],
        edits: &mut Vec<TreeEdit>,
    ) -> Result<(Vec<SessionRecord>, Vec<Renumbered>)> {
        let mut records = Vec::with_capacity(plan.len());
        let mut renumbered = Vec::new();
        for p in plan {
            let seq = Seq(p.seq);
            let record = p.record();
            let record_blob = match p.moved_from {
                None => p.session.record_blob,
                Some(from) => {
                    renumbered.push(Renumbered { from, to: p.seq });
                    let mut line = record.to_line();
                    line.push('\n');
                    self.repo.write_blob(line.as_bytes())?
                }
            };
            edits.push(blob(&seq.record_path(), record_blob));
            if let Some(t) = p.session.transcript {
                edits.push(blob(&seq.transcript_path(), t));
            }
            if let Some(t) = p.session.patch {
                edits.push(blob(&seq.patch_path(), t));
            }
            records.push(record);
        }
        Ok((records, renumbered))
    }

    /// Every session of a run with its record, transcript and patch blobs.
    fn side_sessions(&self, run: &Run) -> Result<Vec<SideSession>> {
        let tree = self.tip_tree(run)?;
        let mut out = Vec::new();
        for (seq, path, oid) in self.record_blobs(run)? {
            let (record, _) = self.parse_record_blob(run, seq, &path, oid)?;
            out.push(SideSession {
                seq: seq.0,
                record,
                record_blob: oid,
                transcript: self.blob_entry(tree, &seq.transcript_path())?,
                patch: self.blob_entry(tree, &seq.patch_path())?,
            });
        }
        Ok(out)
    }

    /// The work saved at resumes (`patches/<bucket>/resume-<seq>.patch`, `leftovers.rs`) of
    /// both sides: they belong to no session, so the session plan does not carry them, and
    /// dropping them would lose work nothing else holds. Two different patches under one name
    /// (both sides resumed after the same session) both stay: the second side's takes the next
    /// free number, so every clone makes the same tree.
    fn resume_patch_edits(&self, t1: Oid, t2: Oid) -> Result<Vec<TreeEdit>> {
        let (a, b) = (self.resume_patches(t1)?, self.resume_patches(t2)?);
        let mut taken: BTreeMap<u64, Oid> = a.iter().copied().collect();
        for (seq, oid) in b {
            match taken.get(&seq) {
                Some(o) if *o == oid => {}
                None => {
                    taken.insert(seq, oid);
                }
                Some(_) => {
                    let mut free = seq + 1;
                    while taken.contains_key(&free) {
                        free += 1;
                    }
                    taken.insert(free, oid);
                }
            }
        }
        Ok(taken
            .into_iter()
            .map(|(seq, oid)| blob(&Seq(seq).resume_patch_path(), oid))
            .collect())
    }

    /// The resume patches of a run's tree, by their number.
    fn resume_patches(&self, tree: Oid) -> Result<Vec<(u64, Oid)>> {
        let Some((patches, TreeEntryKind::Tree)) = self.repo.tree_entry(tree, PATCHES_DIR)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (_, bucket, kind) in self.repo.tree_list(patches)? {
            if kind != TreeEntryKind::Tree {
                continue;
            }
            for (name, oid, kind) in self.repo.tree_list(bucket)? {
                let seq = name
                    .starts_with("resume-")
                    .then(|| session_file_digits(PATCHES_DIR, &name, true))
                    .flatten()
                    .and_then(|d| d.parse::<u64>().ok());
                if let (Some(seq), TreeEntryKind::Blob) = (seq, kind) {
                    out.push((seq, oid));
                }
            }
        }
        Ok(out)
    }

    fn blob_entry(&self, tree: Oid, path: &str) -> Result<Option<Oid>> {
        Ok(match self.repo.tree_entry(tree, path)? {
            Some((oid, TreeEntryKind::Blob)) => Some(oid),
            _ => None,
        })
    }

    fn commit_or_fail(&self, oid: Oid) -> Result<crate::git::CommitInfo> {
        self.repo.commit_info(oid)?.ok_or(super::StoreError::Git(
            crate::git::GitError::MissingCommit(oid),
        ))
    }
}

/// The sessions that moved, for the merge message: old seq, new seq, and the side (`p1` or
/// `p2`) they came from.
fn moved_sessions(plan: &[Placed], s1: &[SideSession], p1: Oid, p2: Oid) -> Vec<(u64, u64, Oid)> {
    plan.iter()
        .filter_map(|p: &Placed| {
            let from = p.moved_from?;
            let side = if s1
                .iter()
                .any(|s| s.seq == from && s.record_blob == p.session.record_blob)
            {
                p1
            } else {
                p2
            };
            Some((from, p.seq, side))
        })
        .collect()
}

fn blob(path: &str, oid: Oid) -> TreeEdit {
    TreeEdit::Blob {
        path: path.to_string(),
        oid,
    }
}
