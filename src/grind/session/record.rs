//! The last stage of a session: its record, built from what the agent reported and what grind
//! decided, and the one append that publishes it (with its transcript, patch and scratchpad) to
//! the run ref. The store takes the next free seq when another writer took this one, so the
//! run's [`Progress`] (seqs, spent budgets) follows what was really appended. This is the one
//! stage that changes the run's progress.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::decide::Verdict;
use super::{InFlight, Session, SessionRun, hooks, marker_path, printable, read_scratchpad};
use crate::agent::{self, AgentOutcome, AgentReport};
use crate::git::Oid;
use crate::grind::context::{Ctx, Progress};
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::slot::Slot;
use crate::plan::prices;
use crate::store::{Landing, SessionAppend, SessionRecord, SessionStatus, TranscriptSource};
use crate::usage::{CostSource, Usage};

/// A decided session's record: its status and why, what it landed (with the landing, for a
/// parallel session), what the agent reported, and when it ended (`None`: now).
pub(super) fn build(
    ctx: &Ctx,
    s: &Session,
    verdict: &Verdict,
    commit: Option<Oid>,
    outcome: Option<&AgentOutcome>,
    landing: Option<Landing>,
    ended_at: Option<DateTime<Utc>>,
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
        ended_at,
        landing,
    };
    ctx.session_record(&s.marker, ending)
}

/// Appends a session (its record, scratchpad and patch, and its transcript with its hooks'
/// output) and clears its files from the slot.
pub(super) fn finish(
    ctx: &Ctx,
    slot: &Slot,
    progress: &mut Progress,
    s: Session,
    publish: Publish,
    outcome: Option<AgentOutcome>,
    obs: &mut dyn GrindObserver,
) -> Result<SessionRun, GrindError> {
    progress.warn_unpriced(ctx, &publish.record, obs);
    if let Some(cost) = outcome
        .as_ref()
        .and_then(|o| o.report.as_ref())
        .and_then(|r| r.cost_usd)
        .filter(|c| !(c.is_finite() && *c >= 0.0))
    {
        obs.event(&GrindEvent::Warning {
            message: format!(
                "session {}: the agent reported a cost of {cost} USD; recorded as unknown",
                publish.record.seq
            ),
        });
    }
    let transcript = match &outcome {
        Some(o) if o.transcript.path.is_file() => Some(o.transcript.path.clone()),
        _ => Some(s.spec.transcript_path.clone()).filter(|p| p.is_file()),
    };
    let transcript = hooks::append_output(s.hook_log, transcript, &s.spec.transcript_path)?;
    let rate_limit = outcome
        .as_ref()
        .and_then(|o| o.rate_limit.as_ref().map(|r| r.until));
    progress.append(ctx, publish, transcript, obs)?;
    let _ = std::fs::remove_file(&s.spec.transcript_path);
    let _ = std::fs::remove_file(crate::rundir::session::saved_work(slot.run_dir()));
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

/// How a session ended: everything its record is built from, besides what the in-flight marker
/// says (seq, prompt, start, slot). [`Ctx::session_record`] builds the whole record from it at
/// once; nothing edits a record after (the store only gives it its seq and transcript path, which
/// are the store's to give).
pub(super) struct Ending<'a> {
    pub(super) status: SessionStatus,
    pub(super) summary: Option<String>,
    pub(super) commit: Option<Oid>,
    /// What the agent reported, when it ran.
    pub(super) outcome: Option<&'a AgentOutcome>,
    /// When it ended; `None`: now.
    pub(super) ended_at: Option<DateTime<Utc>>,
    /// How a parallel session's landing went.
    pub(super) landing: Option<Landing>,
}

/// Why a session found in flight by `--resume` is recorded `aborted`: the one wording, for a
/// session of the run branch and a parallel one alike.
pub(super) const RECOVERED: &str =
    "pitboss stopped during this session (its process ended); recovered by --resume";

impl Ending<'_> {
    /// A session a `--resume` found in flight: `aborted`, ended now.
    pub(super) fn recovered(landing: Option<Landing>) -> Self {
        Ending {
            status: SessionStatus::Aborted,
            summary: Some(RECOVERED.to_string()),
            commit: None,
            outcome: None,
            ended_at: None,
            landing,
        }
    }
}

impl Ctx<'_> {
    /// The session's record, from what the agent reported.
    pub(super) fn session_record(&self, m: &InFlight, ending: Ending<'_>) -> SessionRecord {
        let Ending {
            status,
            summary,
            commit,
            outcome,
            ended_at,
            landing,
        } = ending;
        let report = outcome.and_then(|o| o.report.as_ref());
        let tokens = report.map(|r| r.tokens).unwrap_or_default();
        let model = report
            .and_then(|r| r.model.clone())
            .or_else(|| self.plan.agent.model.clone());
        let (cost_usd, cost_source, price_table) = match self.session_cost(report, model.as_deref())
        {
            // NB: an agent's own figure can be anything (NaN, negative); the warning is
            // `finish`'s, which tells the user.
            (c, _, _) if !(c.is_finite() && c >= 0.0) => (0.0, CostSource::Unknown, None),
            cost => cost,
        };
        // NB: the wall clock can step back during a session; the store refuses a record that
        // ends before it starts, and the session must not be lost for it.
        let ended_at = ended_at
            .unwrap_or_else(|| self.clock.now())
            .max(m.started_at);
        SessionRecord {
            seq: m.seq,
            run_id: self.run.to_string(),
            prompt: m.prompt.clone(),
            started_at: m.started_at,
            ended_at,
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
            rate_limited: outcome.is_some_and(|o| o.rate_limit.is_some()),
            renumbered_from: None,
            slot: m.slot,
            landing,
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

/// A finished session as one append publishes it: its record, built once, and the files that
/// go with it (its transcript, a file, is given to the append beside it).
pub(super) struct Publish {
    pub(super) record: SessionRecord,
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
        transcript: Option<PathBuf>,
        obs: &mut dyn GrindObserver,
    ) -> Result<(), GrindError> {
        let Publish {
            record,
            scratchpad,
            patch,
            changed,
        } = p;
        self.scheduler.record_outcome(&record.prompt, changed);
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
