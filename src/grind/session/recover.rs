//! Recovery after a grind that died with sessions in flight: one recovery for every in-flight
//! marker, whether it names a session of the run branch (the run's own worktree,
//! `runs/<id>/current.json`) or a parallel session (slot `k`'s, `runs/<id>/slot-<k>/current.json`).
//! `--resume` ends each orphaned agent group and hook, then, oldest seq first:
//!
//! - a session whose landing had moved the run branch (the marker's landing `tip` is on the
//!   branch) is appended with the record it was about to append: it landed;
//! - any other is recorded `aborted` with its partial transcript and its work saved as a patch,
//!   and only then is its worktree put back where the session started (a `--resume` killed in
//!   between finds the work again: [`InFlight::recovering`]).
//!
//! So a landing is recorded if and only if the branch holds it, and seqs stay dense: every
//! session recorded so far came before the orphans (the queue records in dispatch order).
//! Slot 0, which an older parallel grind took off the run branch, is put back on it, so any
//! grind can take the run up.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::after_agent::{back_on_branch, session_name};
use super::record::{self, Ending, Publish};
use super::{InFlight, PendingLanding, marker_path};
use crate::agent;
use crate::git::Oid;
use crate::grind::context::{Ctx, Progress};
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::kept;
use crate::grind::resume::IN_FLIGHT_STATE_KEY;
use crate::grind::slot::Slot;
use crate::plan::Pick;
use crate::rundir::slots::SLOT_BRANCH_PREFIX;
use crate::rundir::{RunDir, session as session_files};
use crate::store::{Landing, LandingResult, SessionStatus, parse_record};

/// Records every session a killed grind left in flight; puts `slot0` (the run's own worktree)
/// back on the run branch when an older parallel grind left it on a slot branch.
pub(in crate::grind) fn recover(
    ctx: &Ctx,
    slot0: &Slot,
    progress: &mut Progress,
    obs: &mut dyn GrindObserver,
) -> Result<(), GrindError> {
    // A hook the dead grind was running in the run's worktree (a verify command, a
    // post-session hook) goes too.
    super::hooks::end_leftover_hook(slot0.run_dir(), &slot0.path);
    let mut orphans: Vec<(Option<u32>, InFlight)> = Vec::new();
    let run_dir = RunDir::new(ctx.repo.common_dir(), &ctx.run);
    for (k, dir) in run_dir.slot_dirs() {
        orphans.extend(read_marker(&session_files::marker(&dir)).map(|m| (Some(k), m)));
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
        recover_one(ctx, slot0, progress, k, m, &picked, obs)?;
    }
    slot0_home(ctx, slot0)?;
    // The run branch's own session last: a grind recovers every marker before its first
    // session, so one left there is younger than any slot's.
    if let Some(m) = read_marker(&marker_path(slot0)) {
        recover_one(ctx, slot0, progress, None, m, &picked, obs)?;
    }
    Ok(())
}

/// The marker at `path`; one that cannot be read as a marker goes (it names nothing to save).
fn read_marker(path: &Path) -> Option<InFlight> {
    let text = std::fs::read_to_string(path).ok()?;
    let m = serde_json::from_str::<InFlight>(&text).ok();
    if m.is_none() {
        let _ = std::fs::remove_file(path);
    }
    m
}

/// Slot 0 back on the run branch, at its tip, when a parallel grind left it on its slot
/// branch. On any other branch it is a session's of the run branch, which its recovery saves.
fn slot0_home(ctx: &Ctx, slot0: &Slot) -> Result<(), GrindError> {
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

/// Where an orphaned session worked: the run's own worktree (`k` is `None`) or slot `k`.
struct Place<'s> {
    k: Option<u32>,
    slot0: &'s Slot,
    /// Its session files (marker, transcript, scratchpad).
    files: PathBuf,
    worktree: PathBuf,
}

impl<'s> Place<'s> {
    fn new(ctx: &Ctx, slot0: &'s Slot, k: Option<u32>) -> Self {
        let (files, worktree) = match k {
            None => (slot0.run_dir().to_path_buf(), slot0.path.clone()),
            Some(k) => (
                RunDir::new(ctx.repo.common_dir(), &ctx.run).slot_dir(k),
                Slot::path_of_slot(ctx.repo, &ctx.run, k),
            ),
        };
        Place {
            k,
            slot0,
            files,
            worktree,
        }
    }

    /// The session's worktree, on the branch it works on, ready for `base`.
    fn open(&self, ctx: &Ctx, base: Oid) -> Result<Owned<'s>, GrindError> {
        Ok(match self.k {
            None => Owned::Home(self.slot0),
            Some(k) => Owned::Slot(Slot::open_parallel(ctx.repo, &ctx.run, k, base)?),
        })
    }
}

/// The run's own slot, borrowed, or a parallel slot opened for the recovery.
enum Owned<'s> {
    Home(&'s Slot),
    Slot(Slot),
}

impl std::ops::Deref for Owned<'_> {
    type Target = Slot;
    fn deref(&self) -> &Slot {
        match self {
            Owned::Home(s) => s,
            Owned::Slot(s) => s,
        }
    }
}

/// Records one orphaned session: landed when its landing is on the branch, else `aborted`.
fn recover_one(
    ctx: &Ctx,
    slot0: &Slot,
    progress: &mut Progress,
    k: Option<u32>,
    mut m: InFlight,
    picked: &[u64],
    obs: &mut dyn GrindObserver,
) -> Result<(), GrindError> {
    let place = Place::new(ctx, slot0, k);
    let marker = session_files::marker(&place.files);
    let transcript = session_files::log(&place.files, m.seq);
    let saved_work = session_files::saved_work(&place.files);
    if k.is_some() {
        super::hooks::end_leftover_hook(&place.files, &place.worktree);
    }
    if m.recorded_in(&progress.records) {
        // It was recorded before grind died; only the marker was left. When an earlier
        // `--resume` recorded it (its work is in the record's patch) and died before putting
        // the worktree back, that is finished now.
        if m.recovering
            && let Ok(base) = Oid::from_str(&m.base)
        {
            let slot = place.open(ctx, base)?;
            let (_, reset_to) = work_from(ctx, &slot, &m, None)?;
            slot.repo().reset_hard_clean(reset_to)?;
        }
        let _ = std::fs::remove_file(&transcript);
        let _ = std::fs::remove_file(&saved_work);
        let _ = std::fs::remove_file(&marker);
        return Ok(());
    }
    if let Some(pid) = m.agent_pid {
        agent::end_leftover_group(pid, &place.worktree);
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
        Some(l) => (landed_publish(l)?, None),
        None => aborted_publish(ctx, &place, &m, &progress.scratchpad, tip)?,
    };
    if let Some((slot, _)) = &reset {
        // NB: the work stays in the worktree (and on the branch, when the agent committed)
        // until the record that stores it as a patch is on the run ref: a `--resume` killed
        // before the reset below finishes it ([`InFlight::recovering`]).
        m.recovering = true;
        super::prepare::write_marker(slot, &m)?;
    }
    let (seq, landed_now, saved) = (m.seq, publish.changed, publish.patch.is_some());
    if let (Some(k), Some(landing)) = (k, publish.record.landing.clone()) {
        // As a live landing says it (it took no time of this grind's).
        obs.event(&GrindEvent::Landing {
            seq,
            slot: k,
            landing,
            ms: 0,
            // Recovered sessions are `aborted` (their work saved) unless they landed.
            not_landed: (!landed_now).then_some(SessionStatus::Aborted),
            patch_saved: saved,
        });
    }
    let transcript_file = Some(transcript.clone()).filter(|p| p.is_file());
    progress.append(ctx, publish, transcript_file, obs)?;
    if let Some((slot, base)) = reset {
        slot.repo().reset_hard_clean(base)?;
    }
    if let Some(k) = k {
        obs.event(&GrindEvent::Warning {
            message: recovered_message(seq, k, landed_now, saved),
        });
    }
    let _ = std::fs::remove_file(&transcript);
    let _ = std::fs::remove_file(&saved_work);
    let _ = std::fs::remove_file(&marker);
    Ok(())
}

/// The grind that died had picked this session and counted it as an iteration, but the
/// scheduler state and the count are stored only with an append, so both were lost. Count
/// them again, so the run goes on as if the session had been aborted by Ctrl-C: the same
/// budget used, the rotation where it was (not the killed prompt once more). The stored
/// state is the one before that pick, so its next pick is that session, unless the prompts
/// changed in between: then the scheduler is left as it is.
fn count_again(progress: &mut Progress, m: &InFlight) {
    progress.dispatched();
    let mut after = progress.scheduler.clone();
    if matches!(after.next_pick(), Pick::Run { prompt, .. } if prompt == m.prompt) {
        progress.scheduler = after;
    }
}

/// Where the killed session's own work starts in `slot` (on its branch again), and where the
/// worktree goes back to once that work is stored.
///
/// Its base, when the worktree's head still descends from it. But a parallel session's grind
/// may have died verifying its landing, with the slot at its commits replayed onto the run
/// branch's `tip`: its own work is then what is past that tip. A head that does not descend
/// from the base (the agent rewound) is all there is: the work is measured from it. A failure
/// of git to tell is an error, not "no": measuring from the head would store none of the
/// session's commits and say it changed nothing.
fn work_from(
    ctx: &Ctx,
    slot: &Slot,
    m: &InFlight,
    tip: Option<Oid>,
) -> Result<(Oid, Oid), GrindError> {
    let base = Oid::from_str(&m.base).ok();
    if let Some(b) = base {
        back_on_branch(ctx, slot, &slot.branch, b)?;
    }
    let wt = slot.repo();
    let head = wt.worktree_state()?.head;
    let Some(b) = base.filter(|b| ctx.repo.is_commit(*b)) else {
        return Ok((head, head));
    };
    let unsure = |source| GrindError::RecoveryUnsure {
        seq: m.seq,
        branch: format!("the HEAD of {}", slot.path.display()),
        source,
    };
    if m.slot.is_some()
        && let Some(t) = tip.filter(|t| *t != b)
        && wt.is_ancestor(t, head).map_err(unsure)?
    {
        return Ok((t, b));
    }
    let on = wt.is_ancestor(b, head).map_err(unsure)?;
    // NB: a parallel slot always goes back to its base (its branch is the slot's own); the run
    // branch only to a base its head still descends from, never below a head it was rewound to.
    Ok(match (on, m.slot.is_some()) {
        (true, _) => (b, b),
        (false, true) => (head, b),
        (false, false) => (head, head),
    })
}

/// Whether `commit` (a landing's tip) is on the run branch at `tip`. One that is no commit here
/// (never written, or pruned since) is not; a git failure to tell is an error naming the
/// branch, never a guess: "no" would record a landed session as aborted.
fn on_branch(ctx: &Ctx, seq: u64, commit: &str, tip: Option<Oid>) -> Result<bool, GrindError> {
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

/// What the user hears of a recovered parallel session; a patch is claimed only when one was
/// stored.
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

/// The append of a session whose landing moved the branch before grind died: the record it
/// was about to append, kept in its marker.
fn landed_publish(l: &PendingLanding) -> Result<Publish, GrindError> {
    let record = parse_record(&l.record).map_err(|why| GrindError::Io {
        what: format!("cannot read the landing record kept in the in-flight marker: {why}"),
        source: std::io::Error::other("malformed landing record"),
    })?;
    Ok(Publish {
        record,
        scratchpad: l.scratchpad.clone(),
        patch: l.patch.as_ref().map(|p| p.clone().into_bytes()),
        changed: true,
    })
}

/// The append of a session cut by grind's death: `aborted`, its work as a patch; with the
/// worktree and the commit to reset it to once that append is stored.
fn aborted_publish<'s>(
    ctx: &Ctx,
    place: &Place<'s>,
    m: &InFlight,
    current: &str,
    tip: Option<Oid>,
) -> Result<(Publish, Option<(Owned<'s>, Oid)>), GrindError> {
    let mut patch = None;
    let mut reset = None;
    if let Ok(base) = Oid::from_str(&m.base) {
        let slot = place.open(ctx, base)?;
        let (from, reset_to) = work_from(ctx, &slot, m, tip)?;
        // The work the dead grind had saved and reset away before it could record it, when
        // it got that far; else what the worktree holds.
        patch = match std::fs::read(session_files::saved_work(&place.files)) {
            Ok(saved) if !saved.is_empty() => Some(saved),
            _ => kept::save(ctx, slot.repo(), from, session_name(m.seq))?,
        };
        reset = Some((slot, reset_to));
    }
    let landing = place.k.map(|_| Landing {
        result: LandingResult::Nothing,
        onto: tip.map(|t| t.to_string()).unwrap_or_default(),
        commits: Vec::new(),
        files: Vec::new(),
        collided_with: Vec::new(),
        drivers: Vec::new(),
    });
    let publish = Publish {
        record: ctx.session_record(m, Ending::recovered(landing)),
        scratchpad: merged_scratchpad(ctx, &place.files, current, m.seq)?,
        patch,
        changed: false,
    };
    Ok((publish, reset))
}

/// What the killed session wrote in the scratchpad. A parallel session's is merged into the
/// run's current one against the copy of what it saw at dispatch (so neither its notes nor
/// those of sessions that landed meanwhile are lost); a session of the run branch saw the
/// current one, so its file is the scratchpad as it is.
fn merged_scratchpad(
    ctx: &Ctx,
    files: &Path,
    current: &str,
    seq: u64,
) -> Result<String, GrindError> {
    let theirs = record::scratchpad_in(ctx, files);
    let Ok(base) = std::fs::read_to_string(files.join(super::SNAPSHOT_FILE)) else {
        // No copy: a session of the run branch, or a grind of an older version.
        return Ok(theirs);
    };
    super::landing::merge_scratchpad(ctx, &base, current, &theirs, seq)
}
