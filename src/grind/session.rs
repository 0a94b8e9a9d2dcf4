//! One grind session, start to end: reset the worktree, run the pre-session hook, compose the
//! input, run the agent, decide the status from the agent and git together, land the work on
//! the run branch (committing leftovers with trailers) or save it as a patch and reset, run the
//! verify command and the post-session hooks, and append the whole session to the run ref in
//! one commit.
//!
//! A marker file (`current.json` in the run's working directory) says which session is in
//! flight and which process runs its agent. If grind itself dies mid-session, `--resume` finds
//! the marker, ends the agent's process group if it still runs, records the session as
//! `aborted` with its partial transcript and its work as a patch, and goes on with the next seq.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::compose::{InputParts, compose};
use super::outcome::{Facts, Verdict, classify};
use super::plan::PlannedAgent;
use super::prices;
use super::run::{GrindError, GrindEvent, GrindObserver, Loop, Relay};
use super::scheduler::Pick;
use crate::agent::{
    self, Adapter, AgentOutcome, AiderAdapter, ClaudeAdapter, CodexAdapter, CommandAdapter,
    CostSource as AgentCost, DemoAdapter, GeminiAdapter, SessionSpec,
};
use crate::config::Backend;
use crate::git::Oid;
use crate::store::{
    CostSource, SessionAppend, SessionRecord, SessionStatus, Tokens, TranscriptSource,
};

mod append;
mod hooks;
mod recover;

/// Largest patch of failed work kept in the run (they are pushed to shared remotes).
const PATCH_CAP: usize = 20 << 20;
/// Largest scratchpad kept.
const SCRATCHPAD_CAP: usize = 1 << 20;

/// What a finished session tells the loop.
pub struct SessionRun {
    /// `Some` when the agent hit a usage limit (with its reset time, when known).
    pub rate_limit: Option<Option<DateTime<Utc>>>,
}

/// The in-flight marker.
#[derive(Debug, Serialize, Deserialize)]
struct InFlight {
    seq: u64,
    prompt: String,
    started_at: DateTime<Utc>,
    base: String,
    agent_pid: Option<u32>,
}

/// The adapter for the planned agent.
pub fn adapter(a: &PlannedAgent, exe: &Path) -> Box<dyn Adapter> {
    match a.backend.value {
        Backend::Command => Box::new(CommandAdapter::new(a.program.value.clone())),
        Backend::Demo => Box::new(DemoAdapter {
            exe: exe.to_path_buf(),
        }),
        Backend::Claude => Box::new(ClaudeAdapter {
            binary: PathBuf::from(&a.program.value),
            model: a.model.clone(),
            permission_mode: a
                .permission_mode
                .as_ref()
                .map(|p| p.value.clone())
                .unwrap_or_else(|| agent::DEFAULT_PERMISSION_MODE.to_string()),
            extra_args: a.args.clone(),
        }),
        Backend::Codex => Box::new(CodexAdapter {
            binary: PathBuf::from(&a.program.value),
            model: a.model.clone(),
            sandbox: a
                .sandbox
                .as_ref()
                .map(|s| s.value.clone())
                .unwrap_or_else(|| agent::DEFAULT_SANDBOX.to_string()),
            extra_args: a.args.clone(),
        }),
        Backend::Aider => Box::new(AiderAdapter {
            binary: PathBuf::from(&a.program.value),
            model: a.model.clone(),
            extra_args: a.args.clone(),
        }),
        Backend::Gemini => Box::new(GeminiAdapter {
            binary: PathBuf::from(&a.program.value),
            model: a.model.clone(),
            extra_args: a.args.clone(),
        }),
    }
}

impl Loop<'_> {
    fn marker(&self) -> PathBuf {
        self.slot.run_dir().join("current.json")
    }

    fn write_marker(&self, m: &InFlight) -> Result<(), GrindError> {
        let path = self.marker();
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string(m).unwrap_or_default();
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(GrindError::io(format!("cannot write {}", path.display())))
    }

    /// Runs one session of `prompt` and appends it to the run.
    pub(super) fn run_one(
        &mut self,
        prompt: &str,
        rotation: u64,
        obs: &mut dyn GrindObserver,
    ) -> Result<SessionRun, GrindError> {
        let seq = self.last_seq + 1;
        self.hook_log.borrow_mut().clear();
        let planned = self.plan.prompt(prompt).cloned();
        let body = planned
            .as_ref()
            .map(|p| p.prompt.body.clone())
            .unwrap_or_default();
        let branch = self.branch.clone();
        let base = self
            .repo
            .branch_tip(&branch)?
            .ok_or_else(|| GrindError::Io {
                what: format!("the run branch {branch} is gone"),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })?;
        let wt = self.slot.repo();
        // Sessions end clean, so this is usually a no-op; a status check is cheaper than a
        // forced checkout.
        let now_state = wt.worktree_state()?;
        if now_state.dirty || now_state.head != base {
            wt.reset_hard_clean(base)?;
        }
        let started_at = self.clock.now();
        let timeout = planned
            .as_ref()
            .and_then(|p| self.budgets.session_limit(&p.session_budget(), started_at));
        obs.event(&GrindEvent::SessionStarted {
            seq,
            prompt: prompt.to_string(),
            rotation,
            started_at,
            timeout_seconds: timeout.map(|d| d.as_secs()),
        });
        let mut marker = InFlight {
            seq,
            prompt: prompt.to_string(),
            started_at,
            base: base.to_string(),
            agent_pid: None,
        };
        self.write_marker(&marker)?;
        let run_dir = self.slot.run_dir().to_path_buf();
        let scratch_before = self.scratchpad.clone();
        let files = agent::SessionFiles::in_dir(&run_dir);
        std::fs::write(&files.scratchpad, &scratch_before).map_err(GrindError::io(format!(
            "cannot write {}",
            files.scratchpad.display()
        )))?;

        let hook_env = self.env_for_hooks(seq, prompt, None);
        let pre = self.hook("pre_session", &self.plan.hooks.pre_session.value, &hook_env);
        let input = compose(&InputParts {
            run_id: self.run.as_str(),
            seq,
            prompt_name: prompt,
            prompt_body: &body,
            recent: &self.records,
            scratchpad: &scratch_before,
        });
        let mut spec = SessionSpec::new(
            self.run.as_str(),
            seq,
            prompt,
            &self.slot.path,
            &run_dir,
            input,
        );
        if let Some(t) = timeout {
            spec = spec.with_timeout(t);
        }
        spec.redact_env = self.req.env.clone();
        spec.started_at = started_at;
        spec.max_cost_usd = planned.as_ref().and_then(|p| {
            self.budgets
                .session_cost_limit(&p.session_budget(), &self.spent)
        });
        let session_controls = self.controls.agent.for_session();
        let mut cost_cut = None;
        let outcome = match pre {
            Err(e) => Err(e.to_string()),
            Ok(()) => {
                let started = Instant::now();
                let marker_path = self.marker();
                let mut relay = Relay {
                    obs,
                    seq,
                    started,
                    last_tool: None,
                    on_spawn: Box::new(|pid| {
                        marker.agent_pid = Some(pid);
                        let _ = std::fs::write(
                            &marker_path,
                            serde_json::to_string(&marker).unwrap_or_default(),
                        );
                    }),
                    tokens: None,
                    cost_watch: spec.max_cost_usd.map(|cap| {
                        super::cost_cap::CostWatch::new(
                            cap,
                            self.plan.agent.model.clone(),
                            self.plan.agent.price_overrides.clone(),
                            self.plan.agent.price_file.clone(),
                            session_controls.clone(),
                        )
                    }),
                };
                let out = agent::run_session(
                    &spec,
                    self.adapter.as_ref(),
                    &session_controls,
                    &mut relay,
                )?;
                cost_cut = relay
                    .cost_watch
                    .as_ref()
                    .filter(|w| w.cut_at.is_some())
                    .map(|w| w.reason());
                drop(relay);
                Ok(out)
            }
        };
        let obs_ref = obs;
        self.conclude(
            seq, prompt, started_at, base, &spec, outcome, cost_cut, obs_ref,
        )
    }

    /// Everything after the agent: status, landing, hooks, the append.
    #[allow(clippy::too_many_arguments)]
    fn conclude(
        &mut self,
        seq: u64,
        prompt: &str,
        started_at: DateTime<Utc>,
        base: Oid,
        spec: &SessionSpec,
        outcome: Result<AgentOutcome, String>,
        cost_cut: Option<String>,
        obs: &mut dyn GrindObserver,
    ) -> Result<SessionRun, GrindError> {
        // NB: an agent can delete its own worktree (`rm -rf "$PITBOSS_WORKTREE"`). Its work
        // there is gone, but the session is not: it is recorded as an error saying so, and
        // the slot is added again on the run branch for the next session.
        let outcome = if self.slot.path.join(".git").exists() {
            outcome
        } else {
            let gone = self.slot.path.display().to_string();
            self.slot = super::slot::Slot::open(self.repo, &self.run, &self.branch)?;
            Err(format!(
                "the agent deleted its worktree {gone}; whatever it did there is lost"
            ))
        };
        self.back_on_run_branch(base)?;
        let wt = self.slot.repo();
        let state = wt.worktree_state()?;
        let (mut verdict, report_summary) = match &outcome {
            Ok(o) => {
                let facts = Facts {
                    end: o.end,
                    reported_error: o.reported_error(),
                    rate_limited: o.rate_limit.is_some(),
                    head_moved: state.head != base,
                    dirty: state.dirty,
                };
                (classify(&facts), o.summary())
            }
            Err(hook_failure) => (
                Verdict {
                    status: SessionStatus::Error,
                    land: false,
                    reason: Some(hook_failure.clone()),
                },
                None,
            ),
        };
        if let Some(why) = cost_cut {
            // Cut at its cost cap: like a session past its time limit, its work is not landed.
            verdict = Verdict {
                status: SessionStatus::Timeout,
                land: false,
                reason: Some(why),
            };
        }
        // The branch is the agent's, the history is not: a session that moved the run branch
        // off the tip it started on (`git reset --hard HEAD~2`, a rebase) would drop commits
        // earlier sessions landed. Its work is saved against the point it rewound to, and the
        // branch goes back where it was.
        let rewound = self.rewound(base, state.head)?;
        if let Some((lost, _)) = rewound {
            verdict = Verdict {
                status: SessionStatus::Error,
                land: false,
                reason: Some(format!(
                    "rewrote the run branch: {lost} commit{} of earlier sessions would be lost; \
                     the branch is back at {} and the session's work is saved as a patch",
                    if lost == 1 { "" } else { "s" },
                    &base.to_string()[..12]
                )),
            };
        }
        let mut commit = None;
        let mut patch = None;
        if verdict.land {
            if state.dirty && self.leftovers_hold_a_secret(seq, state.head, &mut patch, obs)? {
                // Saved as a redacted patch instead; the worktree is back at the agent's HEAD.
            } else if state.dirty {
                let msg = format!(
                    "pitboss: work left uncommitted by session {seq:04} ({prompt})\n\nPitboss-Run: {}\nPitboss-Session: {seq}\nPitboss-Prompt: {prompt}\n",
                    self.run
                );
                wt.commit_all(&msg, &self.repo.identity(), self.clock.now())?;
            }
            if self.plan.prompt(prompt).is_some_and(|p| p.prompt.verify) {
                let env = self.env_for_hooks(seq, prompt, Some(verdict.status));
                if let Err(e) = self.hook("verify", &self.plan.verify_command, &env) {
                    verdict = Verdict {
                        status: SessionStatus::Error,
                        land: false,
                        reason: Some(e.to_string()),
                    };
                }
            }
        }
        if verdict.land {
            let tip = wt.worktree_state()?.head;
            commit = (tip != base).then_some(tip);
        } else {
            let since = rewound.map_or(base, |(_, to)| to);
            let bytes = wt.patch_since(since)?;
            if !bytes.is_empty() {
                patch = Some(self.cap_patch(&bytes));
            }
            wt.reset_hard_clean(base)?;
        }
        let hook_env = self.env_for_hooks(seq, prompt, Some(verdict.status));
        if let Err(e) = self.hook(
            "post_session",
            &self.plan.hooks.post_session.value,
            &hook_env,
        ) {
            obs.event(&GrindEvent::Warning {
                message: format!("session {seq}: {e}"),
            });
        }
        if verdict.status.is_failure()
            && let Err(e) = self.hook("on_failure", &self.plan.hooks.on_failure.value, &hook_env)
        {
            obs.event(&GrindEvent::Warning {
                message: format!("session {seq}: {e}"),
            });
        }

        let files = agent::SessionFiles::in_dir(self.slot.run_dir());
        let scratchpad = read_scratchpad(&files.scratchpad);
        let scratchpad = self.redactor.redact(&scratchpad).into_owned();
        let summary = match (&verdict.reason, report_summary) {
            (Some(r), Some(s)) if verdict.status != SessionStatus::Dirty => {
                Some(format!("{r}: {s}"))
            }
            (Some(r), None) if verdict.status != SessionStatus::Dirty => Some(r.clone()),
            (_, s) => s,
        };
        let mut record = self.record(
            seq,
            prompt,
            started_at,
            verdict.status,
            summary,
            commit,
            outcome.as_ref().ok(),
        );
        if outcome.as_ref().is_ok_and(|o| o.rate_limit.is_some()) {
            record
                .extra
                .insert(super::resume::RATE_LIMITED_KEY.into(), true.into());
        }
        self.warn_unpriced(&record, obs);
        let transcript = match &outcome {
            Ok(o) if o.transcript.path.is_file() => Some(o.transcript.path.clone()),
            _ => Some(spec.transcript_path.clone()).filter(|p| p.is_file()),
        };
        let transcript = self.append_hook_output(transcript, &spec.transcript_path)?;
        let rate_limit = outcome
            .as_ref()
            .ok()
            .and_then(|o| o.rate_limit.as_ref().map(|r| r.until));
        self.append(
            record,
            transcript,
            &scratchpad,
            patch,
            commit.is_some(),
            obs,
        )?;
        let _ = std::fs::remove_file(&spec.transcript_path);
        let _ = std::fs::remove_file(self.marker());
        Ok(SessionRun { rate_limit })
    }

    /// Puts the worktree back on the run branch after an agent switched branches or detached
    /// HEAD (`git checkout -b`, `git switch --detach`). Otherwise its commits would land on no
    /// run branch at all, and the next session's reset would move the agent's branch instead
    /// of the run's. When HEAD went somewhere that descends from the session's `base`, the run
    /// branch is fast-forwarded there, so those commits land (or are saved) like any others;
    /// otherwise HEAD is only re-attached, and the work shows as changes against `base`. The
    /// agent's own branch is left where it put it.
    fn back_on_run_branch(&self, base: Oid) -> Result<(), GrindError> {
        let wt = self.slot.repo();
        let branch = self.branch.clone();
        if wt.current_branch()?.as_deref() == Some(branch.as_str()) {
            return Ok(());
        }
        let head = wt.worktree_state()?.head;
        if head != base && wt.is_ancestor(base, head)? {
            // A lost race (someone moved the run branch meanwhile) leaves it alone: the work
            // then shows as changes against it.
            self.repo.cas_ref(
                &format!("refs/heads/{branch}"),
                head,
                Some(base),
                &format!("pitboss: session work committed off the run branch ({head})"),
            )?;
        }
        wt.attach_head(&branch)?;
        Ok(())
    }

    /// `Some((commits lost, where the agent's own work starts))` when the session left the run
    /// branch at `head`, which does not descend from `base`, the tip the session started on.
    fn rewound(&self, base: Oid, head: Oid) -> Result<Option<(usize, Oid)>, GrindError> {
        let wt = self.slot.repo();
        if wt.is_ancestor(base, head)? {
            return Ok(None);
        }
        let lost = wt.commits_between(head, base)?.len();
        // The agent's work is what it did after the point it went back to (for a plain
        // `reset --hard HEAD~2`, that point is HEAD itself).
        let from = wt.merge_base(base, head)?.unwrap_or(head);
        Ok(Some((lost, from)))
    }

    pub(super) fn cap_patch(&self, bytes: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(PATCH_CAP)]);
        let mut out = self.redactor.redact(&text).into_owned().into_bytes();
        if bytes.len() > PATCH_CAP {
            out.extend_from_slice(
                format!(
                    "\n[pitboss] patch truncated: {} of {} bytes kept\n",
                    PATCH_CAP,
                    bytes.len()
                )
                .as_bytes(),
            );
        }
        out
    }
}

/// The scratchpad as stored after a session. Agents append to it, so when it outgrows
/// [`SCRATCHPAD_CAP`] its newest part is kept (what later sessions need, and what their input
/// shows), after a note that it was cut; before, the oldest part was kept and every later note
/// silently dropped. Only that part is read, however large the file grew.
fn read_scratchpad(path: &Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let cap = SCRATCHPAD_CAP as u64;
    let cut = len > cap && file.seek(SeekFrom::Start(len - cap)).is_ok();
    let mut bytes = Vec::new();
    let _ = file.take(cap).read_to_end(&mut bytes);
    if !cut {
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    // Start at a line when one starts soon: half a line could be half a secret, which the
    // redactor would no longer recognise.
    let start = bytes[..bytes.len().min(4096)]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    format!(
        "[pitboss] scratchpad cut to its newest {cap} bytes; older notes were dropped\n{}",
        String::from_utf8_lossy(&bytes[start..])
    )
}

/// A summary as it may be stored. It goes into the session's commit message, which cannot hold
/// a NUL (git2 refuses the whole commit, and the run would end in an internal error), and is
/// printed on terminals; it can come from anything the agent printed (the last stderr line of a
/// crash may be binary junk). So control characters other than newline and tab become U+FFFD.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scratchpad_over_its_cap_keeps_its_newest_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pad.md");
        std::fs::write(&path, "- small\n").unwrap();
        assert_eq!(super::read_scratchpad(&path), "- small\n");
        let mut big = String::new();
        let mut n = 0;
        while big.len() <= super::SCRATCHPAD_CAP {
            n += 1;
            big.push_str(&format!("- note {n}\n"));
        }
        std::fs::write(&path, &big).unwrap();
        let pad = super::read_scratchpad(&path);
        assert!(
            pad.starts_with("[pitboss] scratchpad cut"),
            "{}",
            &pad[..100]
        );
        assert!(pad.ends_with(&format!("- note {n}\n")));
        assert!(!pad.contains("- note 1\n"));
        let first = pad.lines().nth(1).unwrap();
        assert!(first.starts_with("- note "), "starts at a line: {first}");
        assert!(pad.len() <= super::SCRATCHPAD_CAP + 100);
        assert_eq!(super::read_scratchpad(&dir.path().join("none")), "");
    }

    #[test]
    fn summaries_lose_control_characters_but_keep_lines() {
        assert_eq!(
            super::printable("ok\tdone\nnext \u{1b}[31mred\0\r"),
            "ok\tdone\nnext \u{FFFD}[31mred\u{FFFD}\u{FFFD}"
        );
    }
}
