//! Recovery after a grind that died mid-session: the in-flight marker says which session was
//! running and which process ran its agent; `--resume` ends that agent if it still works in our
//! worktree, and records the session as `aborted` with its partial transcript and its work as a
//! patch, before the next session starts.

use super::*;

impl Loop<'_> {
    /// After a grind that died mid-session: end its agent if it still runs, and record the
    /// session as `aborted` with its partial transcript and its work as a patch.
    pub(in crate::grind) fn recover_interrupted(
        &mut self,
        obs: &mut dyn GrindObserver,
    ) -> Result<(), GrindError> {
        let Ok(text) = std::fs::read_to_string(self.marker()) else {
            return Ok(());
        };
        let Ok(m) = serde_json::from_str::<InFlight>(&text) else {
            let _ = std::fs::remove_file(self.marker());
            return Ok(());
        };
        // NB: by the session itself, not by its seq: another writer may have appended that
        // seq meanwhile, and the session then goes to the next free one.
        let recorded = self
            .records
            .iter()
            .any(|r| r.prompt == m.prompt && r.started_at == m.started_at);
        if recorded {
            // It was recorded before grind died; only the marker was left.
            let _ = std::fs::remove_file(self.marker());
            return Ok(());
        }
        if let Some(pid) = m.agent_pid {
            agent::end_leftover_group(pid, &self.slot.path);
        }
        // The grind that died had picked this session and counted it as an iteration, but the
        // scheduler state and the count are stored only with an append, so both were lost.
        // Count them again, so the run goes on as if the session had been aborted by Ctrl-C:
        // the same budget used, the rotation where it was (not the killed prompt once more).
        // The stored state is the one before that pick, so its next pick is that session,
        // unless the prompts changed in between: then the scheduler is left as it is.
        self.spent.iterations += 1;
        let mut after = self.scheduler.clone();
        if matches!(after.next_pick(), Pick::Run { prompt, .. } if prompt == m.prompt) {
            self.scheduler = after;
        }
        let base = Oid::from_str(&m.base).ok();
        if let Some(b) = base {
            self.back_on_run_branch(b)?;
        }
        let wt = self.slot.repo();
        let tip = wt.worktree_state()?.head;
        let base = base
            .filter(|b| self.repo.is_ancestor(*b, tip).unwrap_or(false))
            .unwrap_or(tip);
        let bytes = wt.patch_since(base)?;
        let patch = (!bytes.is_empty()).then(|| self.cap_patch(&bytes));
        wt.reset_hard_clean(base)?;
        let transcript_path = self
            .slot
            .run_dir()
            .join(format!("session-{:04}.log", m.seq));
        let reason =
            "pitboss stopped during this session (its process ended); recovered by --resume"
                .to_string();
        let record = self.record(
            m.seq,
            &m.prompt,
            m.started_at,
            SessionStatus::Aborted,
            Some(reason),
            None,
            None,
        );
        let transcript = Some(transcript_path.clone()).filter(|p| p.is_file());
        let files = agent::SessionFiles::in_dir(self.slot.run_dir());
        let scratchpad = read_scratchpad(&files.scratchpad);
        let scratchpad = self.redactor.redact(&scratchpad).into_owned();
        self.append(record, transcript, &scratchpad, patch, false, obs)?;
        let _ = std::fs::remove_file(&transcript_path);
        let _ = std::fs::remove_file(self.marker());
        Ok(())
    }
}
