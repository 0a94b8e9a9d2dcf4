//! The last step of a session: its record, built from what the agent reported and what grind
//! decided, and the one append that publishes it (with its transcript, patch and scratchpad) to
//! the run ref. The store takes the next free seq when another writer took this one, so the
//! loop's view of the run (seqs, spent budgets) follows what was really appended.

use super::*;

impl Loop<'_> {
    /// The session's record, from what the agent reported.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::grind) fn record(
        &self,
        seq: u64,
        prompt: &str,
        started_at: DateTime<Utc>,
        status: SessionStatus,
        summary: Option<String>,
        commit: Option<Oid>,
        outcome: Option<&AgentOutcome>,
    ) -> SessionRecord {
        let report = outcome.and_then(|o| o.report.as_ref());
        let tokens = report.map(|r| r.tokens).unwrap_or_default();
        let model = report
            .and_then(|r| r.model.clone())
            .or_else(|| self.plan.agent.model.clone());
        let (cost_usd, cost_source, price_table) = match report {
            Some(r) if r.cost_usd.is_some() => {
                (r.cost_usd.unwrap_or_default(), r.cost_source, None)
            }
            Some(r) if r.cost_source == CostSource::None => (0.0, CostSource::None, None),
            // No tokens and no dollars: nothing to estimate from, whatever the model.
            Some(r) if r.tokens.is_zero() => (0.0, CostSource::Unknown, None),
            Some(_) => match model.as_deref().and_then(|m| {
                let file = self.plan.agent.price_file.as_deref();
                prices::lookup(m, &self.plan.agent.price_overrides, file)
            }) {
                Some(price) => (
                    tokens.cost_at(&price.pricing),
                    CostSource::Estimated,
                    Some(price.table),
                ),
                None => (0.0, CostSource::Unknown, None),
            },
            None => (0.0, CostSource::Unknown, None),
        };
        SessionRecord {
            seq,
            run_id: self.run.to_string(),
            prompt: prompt.to_string(),
            started_at,
            ended_at: self.clock.now(),
            status,
            summary: summary.map(|s| printable(&self.redactor.redact(&s))),
            commit: commit.map(|c| c.to_string()),
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
            extra: Default::default(),
        }
    }

    /// Appends the session and updates the loop's view of the run.
    pub(in crate::grind) fn append(
        &mut self,
        record: SessionRecord,
        transcript: Option<PathBuf>,
        scratchpad: &str,
        patch: Option<Vec<u8>>,
        changed: bool,
        obs: &mut dyn GrindObserver,
    ) -> Result<(), GrindError> {
        self.scheduler.record_outcome(&record.prompt, changed);
        let mut record = record;
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
        let appended = self.store.append_session_renumbering(
            &self.run,
            SessionAppend {
                record,
                transcript: transcript.map_or(TranscriptSource::Empty, TranscriptSource::File),
                scratchpad: Some(scratchpad),
                patch: patch.as_deref(),
                scheduler: Some(self.scheduler.state().to_json()),
                state_extra: self.state_extra(),
            },
        )?;
        if appended.seq != planned_seq {
            obs.event(&GrindEvent::Warning {
                message: format!(
                    "session {planned_seq} was recorded as session {}: another writer appended session {planned_seq} to the run meanwhile",
                    appended.seq
                ),
            });
        }
        self.count(&appended.record);
        self.scratchpad = scratchpad.to_string();
        let run = crate::store::Consumed::from_records(
            self.records.iter().chain(std::iter::once(&appended.record)),
        );
        obs.event(&GrindEvent::SessionFinished {
            record: Box::new(appended.record.clone()),
            patch_saved: patch.is_some(),
            run_cost_usd: run.cost_usd,
            run_sessions: run.sessions,
            run_unknown_cost_sessions: run.unknown_cost_sessions,
        });
        self.records.push(appended.record);
        Ok(())
    }

    /// Warns, once per run and model, that a session's cost is unknown because its model is in
    /// no price table: budgets on dollars cannot see it.
    pub(super) fn warn_unpriced(&mut self, record: &SessionRecord, obs: &mut dyn GrindObserver) {
        if let Some(limit) = self.budgets.limits.max_cost_usd
            && !record.usage.cost_known()
            && !self.cost_blind_warned
        {
            self.cost_blind_warned = true;
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
        if !self.unpriced_warned.insert(model.clone()) {
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
