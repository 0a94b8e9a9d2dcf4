//! The landing stage of every session, on the grind's own thread, one session at a time and
//! oldest dispatch first. A session of a run of one slot worked on the run branch itself: its
//! work is there already and only its verify command runs. A parallel session's commits (`base..head` on its slot branch) replayed onto
//! the run branch's current tip in memory, the verify command run on the result in the
//! session's slot, the run branch moved by compare-and-swap, and the landing proven: every
//! commit of the session has a patch-equivalent among the commits the branch gained. Only then
//! is it recorded as `landed`. A session that does not apply (`conflict`) or fails its verify
//! command (`verify_failed`) becomes an `error` with its work saved as a patch against the tip
//! it started from, naming the files and the sessions it collided with.
//!
//! Just before the branch moves, the in-flight marker gets the landing and the record it will
//! append; if grind dies between the move and the append, `--resume` finds the branch holding
//! that tip and appends that record (and otherwise records the session `aborted`): a landing is
//! recorded if and only if the branch contains it.

use std::time::Instant;

use super::after_agent::{session_name, verify};
use super::decide::{SessionFacts, Verdict, decide};
use super::guard::{Moved, hold_branch};
use super::prepare::write_marker;
use super::record::{self, Publish};
use super::{PendingLanding, Session, SessionRun, hooks};
use crate::git::{CasOutcome, MergeDrivers, Oid, Replay};
use crate::grind::context::{Ctx, Progress};
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::kept;
use crate::grind::slot::Slot;
use crate::store::{Landing as LandingRecord, LandingResult, SessionStatus};

/// How often a landing replays again when the run branch moved under it (someone else wrote
/// to it between the read and the compare-and-swap).
const CAS_ATTEMPTS: u32 = 5;

/// A session that landed: the run branch went from `before` to `after`.
#[derive(Debug, Clone, Copy)]
pub(in crate::grind) struct LandedEntry {
    pub(in crate::grind) seq: u64,
    pub(in crate::grind) before: Oid,
    pub(in crate::grind) after: Oid,
}

/// What the loop learns from a landing.
pub(in crate::grind) struct Landing {
    /// The slot, free again.
    pub(in crate::grind) slot: Slot,
    pub(in crate::grind) run: SessionRun,
    /// Set when the session landed.
    pub(in crate::grind) landed: Option<LandedEntry>,
}

/// Lands a settled session (or records why it did not land) and appends it to the run.
/// `since`: the sessions that landed after this one was dispatched, to name collisions.
///
/// One path for every session: a parallel session's commits are replayed onto the run branch,
/// verified there, moved by compare-and-swap and proven; a session of a run of one slot worked
/// on the run branch itself, so there is nothing to replay ([`Queued::in_place`]).
pub(in crate::grind) fn land_settled(
    ctx: &Ctx,
    progress: &mut Progress,
    st: super::Settled,
    since: &[LandedEntry],
    held: Held,
    obs: &mut dyn GrindObserver,
) -> Result<Landing, GrindError> {
    let clock = Instant::now();
    let (mut q, mut s, outcome) = Queued::new(ctx, st, held.expected);
    let snapshot = s.parallel.as_ref().map(|p| (p.slot, p.snapshot.clone()));
    // The queue lands only onto the tip it last left (see `guard.rs`); a session on the run
    // branch itself was checked as its agent ended.
    let onto = held.expected;
    let charges = match snapshot {
        Some(_) => held.charge_now(ctx, s.seq(), obs)?,
        None => held.charges,
    };
    // A parallel session's scratchpad edits, merged into the current one.
    let merged = match &snapshot {
        Some((_, base)) => {
            let theirs = record::scratchpad(ctx, &q.slot);
            Some(merge_scratchpad(
                ctx,
                base,
                &progress.scratchpad,
                &theirs,
                s.seq(),
            )?)
        }
        None => None,
    };
    if !charges.is_empty() {
        q.charged(&mut s, charges.join("; "))?;
    } else if snapshot.is_none() {
        q.in_place(&mut s)?;
    } else if q.verdict.land && q.head != s.base {
        let merged = merged.as_deref().unwrap_or_default();
        q.replay(&mut s, onto, since, &outcome, merged, obs)?;
    }
    let Queued {
        slot,
        verdict,
        patch,
        landing,
        commit,
        landed,
        ended_at,
        ..
    } = q;
    hooks::after_session(ctx, &slot, &mut s, verdict.status, obs);
    let (landing, ended_at) = match snapshot {
        Some((slot_no, _)) => {
            let saved = patch.is_some();
            tell_landing(s.seq(), slot_no, &landing, &verdict, saved, clock, obs);
            (Some(landing), Some(ended_at))
        }
        // Its session ends as it is recorded (its verify command and hooks are its own time).
        None => (None, None),
    };
    let record = record::build(
        ctx,
        &s,
        &verdict,
        commit,
        outcome.as_ref(),
        landing,
        ended_at,
    );
    let publish = Publish {
        record,
        // The run branch's session: its scratchpad as the post-session hooks left it.
        scratchpad: merged.unwrap_or_else(|| record::scratchpad(ctx, &slot)),
        patch,
        changed: commit.is_some(),
    };
    let run = record::finish(ctx, &slot, progress, s, publish, outcome, obs)?;
    Ok(Landing { slot, run, landed })
}

/// Says how a landing went, in the debug log (`pitboss::landing`) and to the observer: what it
/// did, onto which tip, and how long it took since `clock`.
fn tell_landing(
    seq: u64,
    slot_no: u32,
    landing: &LandingRecord,
    verdict: &Verdict,
    patch_saved: bool,
    clock: Instant,
    obs: &mut dyn GrindObserver,
) {
    tracing::debug!(
        target: "pitboss::landing",
        seq,
        slot = slot_no,
        result = ?landing.result,
        onto = %landing.onto,
        commits = landing.commits.len(),
        ms = %format_args!("{:.1}", clock.elapsed().as_secs_f64() * 1000.0),
        "landing"
    );
    obs.event(&GrindEvent::Landing {
        seq,
        slot: slot_no,
        landing: landing.clone(),
        ms: clock.elapsed().as_millis() as u64,
        not_landed: (!verdict.land).then_some(verdict.status),
        patch_saved,
    });
}

/// One landing in progress.
struct Queued<'c, 'a> {
    ctx: &'c Ctx<'a>,
    ended_at: chrono::DateTime<chrono::Utc>,
    slot: Slot,
    facts: SessionFacts,
    verdict: Verdict,
    head: Oid,
    patch: Option<Vec<u8>>,
    landing: LandingRecord,
    commit: Option<Oid>,
    landed: Option<LandedEntry>,
}

impl<'c, 'a> Queued<'c, 'a> {
    /// The landing of the settled session `st` onto `onto`, with the session and what its
    /// agent reported taken out.
    fn new(
        ctx: &'c Ctx<'a>,
        st: super::Settled,
        onto: Oid,
    ) -> (Self, Session, Option<crate::agent::AgentOutcome>) {
        let super::Settled {
            s,
            slot,
            facts,
            verdict,
            head,
            ended_at,
            patch,
            outcome,
        } = st;
        let q = Queued {
            ctx,
            ended_at,
            slot,
            facts,
            verdict,
            head,
            patch,
            landing: LandingRecord {
                result: LandingResult::Nothing,
                onto: onto.to_string(),
                commits: Vec::new(),
                files: Vec::new(),
                collided_with: Vec::new(),
                drivers: Vec::new(),
            },
            commit: None,
            landed: None,
        };
        (q, s, outcome)
    }
}

impl Queued<'_, '_> {
    /// A session that worked on the run branch itself (a run of one slot): its work is there
    /// already, so there is nothing to replay, move or prove; only its verify command runs, on
    /// the worktree as the session left it. Failed, the work is kept off: the branch goes back
    /// to where the session started and the work is saved as a patch.
    fn in_place(&mut self, s: &mut Session) -> Result<(), GrindError> {
        let ctx = self.ctx;
        if !self.verdict.land {
            return Ok(());
        }
        if ctx.plan.prompt(s.prompt()).is_some_and(|p| p.prompt.verify) {
            self.facts.verify = verify(ctx, &self.slot, s, &self.verdict);
            let v = decide(&self.facts);
            if !v.land {
                self.keep_off(s, v.reason.unwrap_or_default())?;
                self.verdict.status = v.status;
                return Ok(());
            }
        }
        // NB: as the worktree is now: a verify command may have committed.
        let head = self.slot.repo().worktree_state()?.head;
        if head != s.base {
            self.commit = Some(head);
            self.landed = Some(LandedEntry {
                seq: s.seq(),
                before: s.base,
                after: head,
            });
        }
        Ok(())
    }

    /// Replays, verifies, moves the branch and proves it; or saves the work and says why not.
    fn replay(
        &mut self,
        s: &mut Session,
        tip: Oid,
        since: &[LandedEntry],
        outcome: &Option<crate::agent::AgentOutcome>,
        scratchpad: &str,
        obs: &mut dyn GrindObserver,
    ) -> Result<(), GrindError> {
        let ctx = self.ctx;
        let branch_ref = ctx.branch.ref_name();
        for _ in 1..=CAS_ATTEMPTS {
            self.landing.onto = tip.to_string();
            let drivers = match ctx.plan.config.grind.landing_merge_drivers.as_deref() {
                Some("respect") => MergeDrivers::Respect,
                _ => MergeDrivers::Text,
            };
            let (new, commits) = match ctx.repo.replay_onto(s.base, self.head, tip, drivers)? {
                Replay::Nothing => return Ok(()),
                Replay::Conflict { files, .. } => {
                    let with = collided(ctx, since, &files)?;
                    let reason = conflict_reason(s.base, &files, &with);
                    self.landing.result = LandingResult::Conflict;
                    self.landing.files = files;
                    self.landing.collided_with = with;
                    return self.keep_off(s, reason);
                }
                Replay::Replayed {
                    tip: new,
                    commits,
                    drivers,
                } => {
                    self.landing.drivers = drivers;
                    (new, commits)
                }
            };
            if ctx.plan.prompt(s.prompt()).is_some_and(|p| p.prompt.verify) {
                // NB: on the replayed result, which is what the branch would hold.
                self.slot.repo().reset_hard_clean(new)?;
                self.facts.verify = verify(ctx, &self.slot, s, &self.verdict);
                let v = decide(&self.facts);
                if !v.land {
                    // Aborted by the user while it ran: not a verdict on the work.
                    if v.status == SessionStatus::Error {
                        self.landing.result = LandingResult::VerifyFailed;
                    }
                    self.keep_off(s, v.reason.unwrap_or_default())?;
                    self.verdict.status = v.status;
                    return Ok(());
                }
            }
            self.landing.result = LandingResult::Landed;
            self.landing.commits = commits.iter().map(Oid::to_string).collect();
            self.mark_landing(s, tip, new, outcome, scratchpad)?;
            let msg = format!("pitboss: land session {} of run {}", s.seq(), ctx.run);
            match ctx.repo.cas_ref(&branch_ref, new, Some(tip), &msg)? {
                CasOutcome::Updated => {}
                CasOutcome::Raced(_) => {
                    s.marker.landing = None;
                    write_marker(&self.slot, &s.marker)?;
                    self.landing.result = LandingResult::Nothing;
                    self.landing.commits.clear();
                    // Moved by someone else: put back, never followed. Otherwise its lock was
                    // held for a moment: try again.
                    if let Some(m) = hold_branch(ctx, tip)? {
                        obs.event(&moved_warning(s.seq(), &m));
                        return self.charged(s, m.reason());
                    }
                    continue;
                }
            }
            return self.prove(s, tip, new);
        }
        self.keep_off(
            s,
            format!(
                "the run branch kept moving while it landed ({CAS_ATTEMPTS} tries); its work is \
                 saved as a patch"
            ),
        )
    }

    /// Proves a landing that moved the branch from `tip` to `new`: every commit of the session
    /// has a patch-equivalent among `tip..` the branch now. Unproven, the branch goes back
    /// (when nobody moved it since) and the work is kept as a patch.
    fn prove(&mut self, s: &mut Session, tip: Oid, new: Oid) -> Result<(), GrindError> {
        let ctx = self.ctx;
        let after = ctx
            .repo
            .branch_tip(&ctx.branch)?
            .ok_or_else(|| GrindError::BranchGone {
                branch: ctx.branch.to_string(),
            })?;
        let missing = ctx.repo.unproven(s.base, self.head, tip, after)?;
        if missing.is_empty() {
            self.commit = Some(new);
            self.landed = Some(LandedEntry {
                seq: s.seq(),
                before: tip,
                after: new,
            });
            return Ok(());
        }
        let branch_ref = ctx.branch.ref_name();
        let msg = format!("pitboss: undo the unproven landing of session {}", s.seq());
        let _ = ctx.repo.cas_ref(&branch_ref, tip, Some(new), &msg)?;
        self.landing.result = LandingResult::Nothing;
        self.landing.commits.clear();
        let list: Vec<String> = missing
            .iter()
            .map(|c| c.to_string()[..12].to_string())
            .collect();
        self.keep_off(
            s,
            format!(
                "its landing could not be proven: {} {} no patch-equivalent on the run branch; \
                 the branch is back at {} and its work is saved as a patch",
                list.join(", "),
                if list.len() == 1 { "has" } else { "have" },
                &tip.to_string()[..12]
            ),
        )
    }

    /// The session is charged with a move of the run branch or a change of the git settings
    /// (put back already), `why`: an `error` whose work is saved as a patch, whatever it was.
    fn charged(&mut self, s: &mut Session, why: String) -> Result<(), GrindError> {
        if self.verdict.land {
            return self.keep_off(s, why);
        }
        let before = self.verdict.reason.take();
        self.verdict = Verdict {
            status: SessionStatus::Error,
            land: false,
            reason: Some(match before {
                Some(before) => format!("{why} (besides, {before})"),
                None => why,
            }),
        };
        Ok(())
    }

    /// Keeps the session's work off the run branch: saved as a patch against the tip the
    /// session started from (with leftovers saved before, if any), its slot reset there, and
    /// its status `error` for `reason`.
    fn keep_off(&mut self, s: &mut Session, reason: String) -> Result<(), GrindError> {
        let wt = self.slot.repo();
        wt.reset_hard_clean(self.head)?;
        let name = session_name(s.seq());
        let mut patch = kept::save(self.ctx, wt, s.base, name)?.unwrap_or_default();
        if let Some(leftovers) = self.patch.take() {
            patch.extend_from_slice(
                b"\n[pitboss] below: work the session left uncommitted, not committed because it \
                  looked like a secret (kept whole on the local ref its note names)\n",
            );
            patch.extend_from_slice(&leftovers);
        }
        self.patch = (!patch.is_empty()).then_some(patch);
        super::after_agent::hold_saved_work(&self.slot, self.patch.as_deref())?;
        wt.reset_hard_clean(s.base)?;
        s.marker.landing = None;
        self.verdict = Verdict {
            status: SessionStatus::Error,
            land: false,
            reason: Some(reason),
        };
        Ok(())
    }

    /// Writes the landing about to happen into the in-flight marker, with the record it will
    /// append, for a `--resume` after a crash between the branch's move and the append.
    fn mark_landing(
        &self,
        s: &mut Session,
        tip: Oid,
        new: Oid,
        outcome: &Option<crate::agent::AgentOutcome>,
        scratchpad: &str,
    ) -> Result<(), GrindError> {
        let rec = record::build(
            self.ctx,
            s,
            &self.verdict,
            Some(new),
            outcome.as_ref(),
            Some(self.landing.clone()),
            Some(self.ended_at),
        );
        s.marker.landing = Some(PendingLanding {
            onto: tip.to_string(),
            tip: new.to_string(),
            record: rec.to_line(),
            scratchpad: scratchpad.to_string(),
            patch: self
                .patch
                .as_ref()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
        });
        write_marker(&self.slot, &s.marker)
    }
}

/// What the queue holds the run branch to when a session lands.
pub(in crate::grind) struct Held {
    /// The tip the queue last left.
    pub(in crate::grind) expected: Oid,
    /// What this session is already charged with (found when its agent ended, or while it
    /// ran), in words: a move of the run branch, a change of the git settings.
    pub(in crate::grind) charges: Vec<String>,
}

impl Held {
    /// What the session is charged with, once the run branch is checked again (and put back,
    /// when it moved since its agent ended).
    fn charge_now(
        self,
        ctx: &Ctx,
        seq: u64,
        obs: &mut dyn GrindObserver,
    ) -> Result<Vec<String>, GrindError> {
        let mut charges = self.charges;
        if let Some(m) = hold_branch(ctx, self.expected)? {
            obs.event(&moved_warning(seq, &m));
            charges.push(m.reason());
        }
        Ok(charges)
    }
}

/// The warning a move of the run branch gives, charged to session `seq`.
pub(in crate::grind) fn moved_warning(seq: u64, m: &Moved) -> GrindEvent {
    GrindEvent::Warning {
        message: format!("session {seq}: {}", m.reason()),
    }
}

/// The sessions among `since` whose landing changed any of `files`.
fn collided(ctx: &Ctx, since: &[LandedEntry], files: &[String]) -> Result<Vec<u64>, GrindError> {
    let mut with = Vec::new();
    for e in since {
        let changed = ctx.repo.changed_paths(e.before, e.after)?;
        if changed.iter().any(|p| files.contains(p)) {
            with.push(e.seq);
        }
    }
    Ok(with)
}

/// A conflict's summary: the files, the sessions, and where the patch applies.
fn conflict_reason(base: Oid, files: &[String], with: &[u64]) -> String {
    let shown: Vec<&str> = files.iter().take(5).map(String::as_str).collect();
    let more = files.len().saturating_sub(shown.len());
    let files_text = if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    };
    let with_text = match with {
        [] => String::new(),
        [one] => format!(" (session {one} landed there since it started)"),
        many => format!(
            " (sessions {} landed there since it started)",
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "conflicts with the run branch in {files_text}{with_text}; its work is saved as a patch \
         that applies to {}, the tip it started from",
        &base.to_string()[..12]
    )
}

/// The session's scratchpad edits merged into the run's current scratchpad, three-way against
/// what the session saw at dispatch; on a conflict both sides are kept, marked.
pub(super) fn merge_scratchpad(
    ctx: &Ctx,
    snapshot: &str,
    current: &str,
    theirs: &str,
    seq: u64,
) -> Result<String, GrindError> {
    if theirs == snapshot {
        return Ok(current.to_string());
    }
    if current == snapshot {
        return Ok(theirs.to_string());
    }
    let merged = ctx.repo.merge_text(
        snapshot,
        current,
        theirs,
        "run scratchpad",
        &format!("session {seq}"),
    )?;
    Ok(merged.text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn a_conflict_names_its_files_the_sessions_it_met_and_where_its_patch_applies() {
        let base = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let one = conflict_reason(base, &["src/lib.rs".into()], &[4]);
        assert_eq!(
            one,
            "conflicts with the run branch in src/lib.rs (session 4 landed there since it \
             started); its work is saved as a patch that applies to 0123456789ab, the tip it \
             started from"
        );
        let files: Vec<String> = (1..=7).map(|i| format!("f{i}")).collect();
        let many = conflict_reason(base, &files, &[2, 3]);
        assert!(many.contains("f1, f2, f3, f4, f5 and 2 more"), "{many}");
        assert!(many.contains("(sessions 2, 3 landed there"), "{many}");
        let none = conflict_reason(base, &["a".into()], &[]);
        assert!(
            none.starts_with("conflicts with the run branch in a;"),
            "{none}"
        );
    }
}
