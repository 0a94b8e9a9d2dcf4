//! Recovery after a grind that died with sessions of a parallel run in flight: each slot's
//! in-flight marker (`runs/<id>/slot-<k>/current.json`) names a session. `--resume` ends each
//! orphaned agent group, then, oldest seq first:
//!
//! - a session whose landing had moved the run branch (the marker's landing `tip` is on the
//!   branch) is appended with the record it was about to append: it landed;
//! - any other is recorded `aborted` with its partial transcript, its work saved as a patch
//!   against the tip it started from, and its slot reset there.
//!
//! So a landing is recorded if and only if the branch holds it, and seqs stay dense: every
//! session recorded so far came before the orphans (the queue records in dispatch order).
//! Slot 0, which a parallel grind takes off the run branch, is put back on it, so a sequential
//! grind can take the run up as well.

use std::str::FromStr;

use super::land::{back_on_branch, session_name};
use super::record::{self, Ending, Publish};
use super::recover::count_again;
use super::{InFlight, PendingLanding};
use crate::agent;
use crate::git::Oid;
use crate::grind::context::{Ctx, Progress};
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::kept;
use crate::grind::resume::IN_FLIGHT_STATE_KEY;
use crate::grind::slot::Slot;
use crate::rundir::slots::SLOT_BRANCH_PREFIX;
use crate::rundir::{RunDir, session as session_files};
use crate::store::{Landing, LandingResult, SessionStatus, parse_record};

/// Records every session a killed parallel grind left in flight; puts `slot0` (the run's
/// sequential slot, when it was opened) back on the run branch.
pub(in crate::grind) fn recover_slots(
    ctx: &Ctx,
    slot0: &Slot,
    progress: &mut Progress,
    obs: &mut dyn GrindObserver,
) -> Result<(), GrindError> {
    let mut orphans = Vec::new();
    for k in slot_dirs(ctx) {
        let path = session_files::marker(&RunDir::new(ctx.repo.common_dir(), &ctx.run).slot_dir(k));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match serde_json::from_str::<InFlight>(&text) {
            Ok(m) => orphans.push((k, m)),
            Err(_) => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    orphans.sort_by_key(|(_, m)| m.seq);
    // Picks the stored scheduler state already holds (dispatched before the last append).
    let picked: Vec<u64> = ctx
        .store
        .open_run(&ctx.run)?
        .state
        .extra
        .get(IN_FLIGHT_STATE_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    for (k, m) in orphans {
        recover_one(ctx, progress, k, m, &picked, obs)?;
    }
    // Slot 0 back on the run branch, at its tip, for whichever grind comes next, when a
    // parallel grind left it on its slot branch (its session's work is saved above). On any
    // other branch it is a sequential session's doing, which `recover_interrupted` saves.
    if let Some(tip) = ctx.repo.branch_tip(&ctx.branch)?
        && slot0.path.join(".git").exists()
    {
        let wt = slot0.repo();
        let on_slot_branch = wt
            .current_branch()?
            .is_some_and(|b| b.as_str().starts_with(SLOT_BRANCH_PREFIX));
        if on_slot_branch {
            wt.attach_head(&ctx.branch)?;
            wt.reset_hard_clean(tip)?;
        }
    }
    Ok(())
}

/// The slot numbers that have a session directory (`slot-<k>`).
fn slot_dirs(ctx: &Ctx) -> Vec<u32> {
    let dir = RunDir::new(ctx.repo.common_dir(), &ctx.run);
    dir.slot_dirs().into_iter().map(|(k, _)| k).collect()
}

fn recover_one(
    ctx: &Ctx,
    progress: &mut Progress,
    k: u32,
    mut m: InFlight,
    picked: &[u64],
    obs: &mut dyn GrindObserver,
) -> Result<(), GrindError> {
    let files = RunDir::new(ctx.repo.common_dir(), &ctx.run).slot_dir(k);
    let marker = session_files::marker(&files);
    let transcript = session_files::log(&files, m.seq);
    let slot_path = Slot::path_of_slot(ctx.repo, &ctx.run, k);
    // A hook the dead grind was running there (the verify command or a post-session hook of a
    // landing) goes too.
    super::hooks::end_leftover_hook(&files, &slot_path);
    if m.recorded_in(&progress.records) {
        if m.recovering {
            finish_reset(ctx, k, &m, &transcript)?;
        }
        let _ = std::fs::remove_file(&marker);
        return Ok(());
    }
    if let Some(pid) = m.agent_pid {
        agent::end_leftover_group(pid, &slot_path);
    }
    if picked.contains(&m.seq) {
        progress.dispatched();
    } else {
        count_again(progress, &m);
    }
    let tip = ctx.repo.branch_tip(&ctx.branch)?;
    let landed = match &m.landing {
        Some(l) if on_branch(ctx, m.seq, &l.tip, tip)? => Some(l),
        _ => None,
    };
    let (publish, reset) = match landed {
        Some(l) => (landed_publish(l, &transcript)?, None),
        None => aborted_publish(ctx, k, &m, &progress.scratchpad, tip, &transcript)?,
    };
    if let Some((slot, _)) = &reset {
        // NB: the work stays in the slot until the record that stores it is on the run ref;
        // a `--resume` killed before the reset below finishes it ([`InFlight::recovering`]).
        m.recovering = true;
        super::prepare::write_marker(slot, &m)?;
    }
    let seq = m.seq;
    let landed_now = publish.changed;
    let saved = publish.patch.is_some();
    if let Some(landing) = publish.record.landing.clone() {
        // As a live landing says it (it took no time of this grind's).
        obs.event(&GrindEvent::Landing {
            seq,
            slot: k,
            landing,
            ms: 0,
            // Recovered sessions are `aborted` (their work saved) unless they landed.
            not_landed: (!landed_now).then_some(SessionStatus::Aborted),
            patch_saved: publish.patch.is_some(),
        });
    }
    progress.append(ctx, publish, obs)?;
    if let Some((slot, base)) = reset {
        slot.repo().reset_hard_clean(base)?;
    }
    obs.event(&GrindEvent::Warning {
        message: recovered_message(seq, k, landed_now, saved),
    });
    let _ = std::fs::remove_file(&transcript);
    let _ = std::fs::remove_file(&marker);
    Ok(())
}

/// Whether `commit` (a landing's tip) is on the run branch at `tip`. One that is no commit here
/// (never written, or pruned since) is not; a git failure to tell is an error naming the
/// branch, never a guess: "no" would record a landed session as aborted.
pub(super) fn on_branch(
    ctx: &Ctx,
    seq: u64,
    commit: &str,
    tip: Option<Oid>,
) -> Result<bool, GrindError> {
    let (Ok(c), Some(tip)) = (Oid::from_str(commit), tip) else {
        return Ok(false);
    };
    if !ctx.repo.is_commit(c) {
        return Ok(false);
    }
    ctx.repo
        .is_ancestor(c, tip)
        .map_err(|source| GrindError::RecoveryUnsure {
            seq,
            branch: ctx.branch.ref_name().to_string(),
            source,
        })
}

/// An earlier `--resume` recorded the session (its work in the record's patch) and died before
/// putting the slot back where the session started: that is done now.
fn finish_reset(
    ctx: &Ctx,
    k: u32,
    m: &InFlight,
    transcript: &std::path::Path,
) -> Result<(), GrindError> {
    if let Ok(base) = Oid::from_str(&m.base) {
        let slot = Slot::open_parallel(ctx.repo, &ctx.run, k, base)?;
        back_on_branch(ctx, &slot, &slot.branch, base)?;
        slot.repo().reset_hard_clean(base)?;
    }
    let _ = std::fs::remove_file(transcript);
    Ok(())
}

/// What the user hears of a recovered session; a patch is claimed only when one was stored.
fn recovered_message(seq: u64, k: u32, landed: bool, saved: bool) -> String {
    if landed {
        return format!(
            "session {seq} (slot {k}) had landed when pitboss stopped; recorded as landed by \
             --resume"
        );
    }
    let work = if saved {
        "its work saved as a patch"
    } else {
        "it had changed nothing"
    };
    format!(
        "session {seq} (slot {k}) was running when pitboss stopped; recorded as aborted by \
         --resume, {work}"
    )
}

/// The append of a session whose landing moved the branch before grind died.
fn landed_publish(l: &PendingLanding, transcript: &std::path::Path) -> Result<Publish, GrindError> {
    let record = parse_record(&l.record).map_err(|why| GrindError::Io {
        what: format!("cannot read the landing record kept in the in-flight marker: {why}"),
        source: std::io::Error::other("malformed landing record"),
    })?;
    Ok(Publish {
        record,
        transcript: Some(transcript.to_path_buf()).filter(|p| p.is_file()),
        scratchpad: l.scratchpad.clone(),
        patch: l.patch.as_ref().map(|p| p.clone().into_bytes()),
        changed: true,
    })
}

/// The append of a session cut by grind's death: `aborted`, its work as a patch; with the slot
/// and the tip to reset it to once that append is stored.
fn aborted_publish(
    ctx: &Ctx,
    k: u32,
    m: &InFlight,
    current: &str,
    tip: Option<Oid>,
    transcript: &std::path::Path,
) -> Result<(Publish, Option<(Slot, Oid)>), GrindError> {
    let base = Oid::from_str(&m.base).ok();
    let mut patch = None;
    let mut reset = None;
    if let Some(base) = base {
        let slot = Slot::open_parallel(ctx.repo, &ctx.run, k, base)?;
        back_on_branch(ctx, &slot, &slot.branch, base)?;
        let wt = slot.repo();
        let head = wt.worktree_state()?.head;
        // NB: grind may have died verifying the session's landing, with the slot at the
        // session's commits replayed onto the run branch's tip: its own work is then what is
        // past that tip, not also the sessions that landed since it started.
        let from = match tip {
            Some(t) if t != base && wt.is_ancestor(t, head)? => t,
            _ if wt.is_ancestor(base, head)? => base,
            _ => head,
        };
        patch = kept::save(ctx, wt, from, session_name(m.seq))?;
        reset = Some((slot, base));
    }
    let ending = Ending {
        status: SessionStatus::Aborted,
        summary: Some(
            "pitboss stopped during this session (its process ended); recovered by --resume".into(),
        ),
        commit: None,
        outcome: None,
    };
    let mut record = ctx.session_record(m, ending);
    record.slot = Some(k);
    record.landing = Some(Landing {
        result: LandingResult::Nothing,
        onto: tip.map(|t| t.to_string()).unwrap_or_default(),
        commits: Vec::new(),
        files: Vec::new(),
        collided_with: Vec::new(),
        drivers: Vec::new(),
    });
    let publish = Publish {
        record,
        transcript: Some(transcript.to_path_buf()).filter(|p| p.is_file()),
        scratchpad: merged_scratchpad(ctx, k, current, m.seq)?,
        patch,
        changed: false,
    };
    Ok((publish, reset))
}

/// What the killed session wrote in the scratchpad, merged into the run's current one against
/// the copy of what it saw at dispatch (so neither its notes nor those of sessions that landed
/// meanwhile are lost).
fn merged_scratchpad(ctx: &Ctx, k: u32, current: &str, seq: u64) -> Result<String, GrindError> {
    let files = RunDir::new(ctx.repo.common_dir(), &ctx.run).slot_dir(k);
    let theirs = record::scratchpad_in(ctx, &files);
    let Ok(base) = std::fs::read_to_string(files.join(super::SNAPSHOT_FILE)) else {
        // No copy (a grind of an older version): the session's file as it is, as a sequential
        // recovery keeps it.
        return Ok(theirs);
    };
    super::landing::merge_scratchpad(ctx, &base, current, &theirs, seq)
}
