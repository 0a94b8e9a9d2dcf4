//! The last stage of a session: its record, built from what the agent reported and what grind
//! decided, and the one append that publishes it (with its transcript, patch and scratchpad) to
//! the run ref. The store takes the next free seq when another writer took this one, so the
//! run's [`Progress`] (seqs, spent budgets) follows what was really appended. This is the one
//! stage that changes the run's progress.

use std::path::PathBuf;

use super::decide::Verdict;
use super::land::Landed;
use super::{InFlight, Session, SessionRun, hooks, marker_path, printable, read_scratchpad};
use crate::agent::{self, AgentOutcome, AgentReport};
use crate::git::Oid;
use crate::grind::context::{Ctx, Progress};
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::slot::Slot;
use crate::plan::prices;
use crate::store::{SessionAppend, SessionRecord, SessionStatus, TranscriptSource};
use crate::usage::{CostSource, Usage};

/// Records a decided session: its record, transcript (with the hooks' output), scratchpad and
/// patch, appended to the run in one commit.
pub(super) fn record(
    ctx: &Ctx,
    slot: &Slot,
    progress: &mut Progress,
    s: Session,
    landed: Landed,
    obs: &mut dyn GrindObserver,
) -> Result<SessionRun, GrindError> {
    let Landed {
        verdict,
        commit,
        patch,
        outcome,
    } = landed;
    let scratchpad = scratchpad(ctx, slot);
    let record = build(ctx, &s, &verdict, commit, outcome.as_ref());
    let done = Done {
        record,
        outcome,
        scratchpad,
        patch,
        changed: commit.is_some(),
    };
    finish(ctx, slot, progress, s, done, obs)
}

/// A decided session's record: its status and why, what it landed, what the agent reported.
pub(super) fn build(
    ctx: &Ctx,
    s: &Session,
    verdict: &Verdict,
    commit: Option<Oid>,
    outcome: Option<&AgentOutcome>,
) -> SessionRecord {
    let report_summary = outcome.and_then(|o| o.summary());
    let summary = match (&verdict.reason, report_summary) {
        (Some(r), Some(s)) if verdict.status != SessionStatus::Dirty => Some(format!("{r}: {s}")),
        (Some(r), None) if verdict.status != SessionStatus::Dirty => Some(r.clone()),
        (_, s) => s,
    };
    let ending = Ending {
        status: verdict.status,
        summary,
        commit,
        outcome,
    };
    let mut record = ctx.session_record(&s.marker, ending);
    record.rate_limited = outcome.is_some_and(|o| o.rate_limit.is_some());
    record.slot = s.marker.slot;
    record
}

/// What the last append of a session publishes, besides its transcript.
pub(super) struct Done {
    pub(super) record: SessionRecord,
    pub(super) outcome: Option<AgentOutcome>,
    /// The scratchpad after the session (redacted; merged, in a parallel run).
    pub(super) scratchpad: String,
    pub(super) patch: Option<Vec<u8>>,
    /// Whether the session moved the run branch.
    pub(super) changed: bool,
}

/// Appends a session (record, transcript with its hooks' output, scratchpad, patch) and
/// clears its files from the slot.
pub(super) fn finish(
    ctx: &Ctx,
    slot: &Slot,
    progress: &mut Progress,
    s: Session,
    done: Done,
    obs: &mut dyn GrindObserver,
) -> Result<SessionRun, GrindError> {
    let Done {
        record,
        outcome,
        scratchpad,
        patch,
        changed,
    } = done;
    progress.warn_unpriced(ctx, &record, obs);
    let transcript = match &outcome {
        Some(o) if o.transcript.path.is_file() => Some(o.transcript.path.clone()),
        _ => Some(s.spec.transcript_path.clone()).filter(|p| p.is_file()),
    };
    let transcript = hooks::append_output(s.hook_log, transcript, &s.spec.transcript_path)?;
    let rate_limit = outcome
        .as_ref()
        .and_then(|o| o.rate_limit.as_ref().map(|r| r.until));
    let publish = Publish {
        record,
        transcript,
        scratchpad,
        patch,
        changed,
    };
    progress.append(ctx, publish, obs)?;
    let _ = std::fs::remove_file(&s.spec.transcript_path);
    let _ = std::fs::remove_file(marker_path(slot));
    Ok(SessionRun { rate_limit })
}

/// The scratchpad the session left, redacted.
pub(super) fn scratchpad(ctx: &Ctx, slot: &Slot) -> String {
    scratchpad_in(ctx, slot.run_dir())
}

/// The scratchpad left in a session files directory, redacted.
pub(super) fn scratchpad_in(ctx: &Ctx, dir: &std::path::Path) -> String {
    let files = agent::SessionFiles::in_dir(dir);
    let scratchpad = read_scratchpad(&files.scratchpad);
    ctx.redactor.redact(&scratchpad).into_owned()
}

/// How a session ended, as its record says.
pub(super) struct Ending<'a> {
    pub(super) status: SessionStatus,
    pub(super) summary: Option<String>,
    pub(super) commit: Option<Oid>,
    /// What the agent reported, when it ran.
    pub(super) outcome: Option<&'a AgentOutcome>,
}

impl Ctx<'_> {
    /// The session's record, from what the agent reported.
    pub(super) fn session_record(&self, m: &InFlight, ending: Ending<'_>) -> SessionRecord {
        let Ending {
            status,
            summary,
            commit,
            outcome,
        } = ending;
        let report = outcome.and_then(|o| o.report.as_ref());
        let tokens = report.map(|r| r.tokens).unwrap_or_default();
        let model = report
            .and_then(|r| r.model.clone())
            .or_else(|| self.plan.agent.model.clone());
        let (cost_usd, cost_source, price_table) = self.session_cost(report, model.as_deref());
        SessionRecord {
            seq: m.seq,
            run_id: self.run.to_string(),
            prompt: m.prompt.clone(),
            started_at: m.started_at,
            ended_at: self.clock.now(),
            status,
            summary: summary.map(|s| printable(&self.redactor.redact(&s))),
            commit,
            unread_commit: None,
            usage: Usage {
                tokens,
                cost_usd,
                cost_source: Some(cost_source),
                price_table,
            },
            tokens_by_role: Default::default(),
            transcript_path: String::new(),
            agent: Some(
                report
                    .map(|r| r.agent_name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| self.adapter.name().to_string()),
            ),
            // The probe's `--version` line is the agent's words too.
            agent_version: self.redactor.redact_opt(
                report
                    .and_then(|r| r.agent_version.clone())
                    .or_else(|| self.agent_version.clone()),
            ),
            model,
            exit_code: outcome.and_then(|o| o.exit_code),
            agent_session_id: report.and_then(|r| r.agent_session_id.clone()),
            model_source: report.and_then(|r| r.model_source.clone()),
            rate_limited: false,
            renumbered_from: None,
            slot: None,
            landing: None,
            extra: Default::default(),
        }
    }

    /// A session's cost, its source, and the price table it was estimated from: the agent's
    /// own figure when it states one, else its tokens at the model's price.
    fn session_cost(
        &self,
        report: Option<&AgentReport>,
        model: Option<&str>,
    ) -> (f64, CostSource, Option<String>) {
        match report {
            Some(r) if r.cost_usd.is_some() => {
                (r.cost_usd.unwrap_or_default(), r.cost_source, None)
            }
            Some(r) if r.cost_source == CostSource::None => (0.0, CostSource::None, None),
            // No tokens and no dollars: nothing to estimate from, whatever the model.
            Some(r) if r.tokens.is_zero() => (0.0, CostSource::Unknown, None),
            Some(r) => match model.and_then(|m| {
                let file = self.plan.agent.price_file.as_deref();
                prices::lookup(m, &self.plan.agent.price_overrides, file)
            }) {
                Some(price) => (
                    r.tokens.cost_at(&price.pricing),
                    CostSource::Estimated,
                    Some(price.table),
                ),
                None => (0.0, CostSource::Unknown, None),
            },
            None => (0.0, CostSource::Unknown, None),
        }
    }
}

/// What one append publishes.
pub(super) struct Publish {
    pub(super) record: SessionRecord,
    pub(super) transcript: Option<PathBuf>,
    pub(super) scratchpad: String,
    pub(super) patch: Option<Vec<u8>>,
    /// Whether the session changed the run branch (the scheduler's back-off counts it).
    pub(super) changed: bool,
}

impl Progress {
    /// Appends the session and updates the run's progress.
    pub(super) fn append(
        &mut self,
        ctx: &Ctx,
        p: Publish,
        obs: &mut dyn GrindObserver,
    ) -> Result<(), GrindError> {
        let Publish {
            mut record,
            transcript,
            scratchpad,
            patch,
            changed,
        } = p;
        self.scheduler.record_outcome(&record.prompt, changed);
        // NB: the wall clock can step back during a session; the store refuses a record that
        // ends before it starts, and the session must not be lost for it.
        record.ended_at = record.ended_at.max(record.started_at);
        if !(record.usage.cost_usd.is_finite() && record.usage.cost_usd >= 0.0) {
            obs.event(&GrindEvent::Warning {
                message: format!(
                    "session {}: the agent reported a cost of {} USD; recorded as unknown",
                    record.seq, record.usage.cost_usd
                ),
            });
            record.usage.cost_usd = 0.0;
            record.usage.cost_source = Some(CostSource::Unknown);
        }
        let planned_seq = record.seq;
        // Renumbering: anyone may append while the session runs (`record`, a `sync` bringing a
        // teammate's session); the session then takes the next free seq instead of failing.
        let appended = ctx.store.append_session_renumbering(
            &ctx.run,
            SessionAppend {
                record,
                transcript: transcript.map_or(TranscriptSource::Empty, TranscriptSource::File),
                scratchpad: Some(&scratchpad),
                patch: patch.as_deref(),
                scheduler: Some(self.scheduler.state().to_json()),
                state_extra: self.state_extra(),
            },
        )?;
        for r in ctx.store.take_restored() {
            obs.event(&GrindEvent::Warning {
                message: format!("session {}: {}", appended.seq, r.describe()),
            });
        }
        if appended.seq != planned_seq {
            obs.event(&GrindEvent::Warning {
                message: format!(
                    "session {planned_seq} was recorded as session {}: another writer appended session {planned_seq} to the run meanwhile",
                    appended.seq
                ),
            });
        }
        self.count(&appended.record);
        self.scratchpad = scratchpad;
        let run = crate::store::Consumed::from_records(
            self.records.iter().chain(std::iter::once(&appended.record)),
        );
        obs.event(&GrindEvent::SessionFinished {
            record: Box::new(appended.record.clone()),
            patch_saved: patch.is_some(),
            work_kept_at: patch.as_deref().and_then(crate::grind::kept::kept_ref_in),
            run_cost_usd: run.cost_usd,
            run_sessions: run.sessions,
            run_unknown_cost_sessions: run.unknown_cost_sessions,
        });
        self.records.push(appended.record);
        Ok(())
    }

    /// Warns, once per run and model, that a session's cost is unknown because its model is in
    /// no price table: budgets on dollars cannot see it.
    fn warn_unpriced(&mut self, ctx: &Ctx, record: &SessionRecord, obs: &mut dyn GrindObserver) {
        if let Some(limit) = ctx.budgets.limits.max_cost_usd
            && !record.usage.cost_known()
            && !self.warned.cost_blind
        {
            self.warned.cost_blind = true;
            obs.event(&GrindEvent::Warning {
                message: format!(
                    "session {}: its cost is unknown, so the cost budget (--max-cost ${limit:.2}) \
                     cannot see it; sessions of unknown cost are not counted against it",
                    record.seq
                ),
            });
        }
        if record.usage.cost_known() || record.usage.tokens.total() == 0 {
            return;
        }
        let model = record.model.clone().unwrap_or_default();
        if !self.warned.unpriced.insert(model.clone()) {
            return;
        }
        let what = if model.is_empty() {
            "the agent did not say which model it used".to_string()
        } else {
            format!("model `{model}` is not in the price table")
        };
        obs.event(&GrindEvent::Warning {
            message: format!(
                "session {}: cost unknown: {what}; add [budgets.pricing.\"{}\"] (input, output, \
                 cache_read, cache_write in USD per million tokens) to .pitboss/config.toml, \
                 point [budgets] price_file at a current litellm price list, or set [agent] model",
                record.seq,
                if model.is_empty() { "<model>" } else { &model }
            ),
        });
    }
}
