//! A session's second stage: the pre-session hook, then the agent, its events relayed to the
//! grind observer as progress and watched against the session's cost cap.

use std::time::Instant;

use super::hooks::{self, HookError};
use super::{Session, marker_path};
use crate::agent::{self, AgentEvent, AgentOutcome};
use crate::grind::context::Ctx;
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::slot::Slot;
use crate::plan::cost_cap::CostWatch;

/// How the run stage ended.
pub(super) enum Ran {
    /// The agent ran; `cost_cut` says why it was cut at its cost cap, when it was.
    Agent {
        outcome: Box<AgentOutcome>,
        cost_cut: Option<String>,
    },
    /// The pre-session hook failed, so the agent did not run.
    PreHookFailed(HookError),
}

/// Runs the pre-session hook and, when it succeeds, the agent.
pub(super) fn run(
    ctx: &Ctx,
    slot: &Slot,
    s: &mut Session,
    obs: &mut dyn GrindObserver,
) -> Result<Ran, GrindError> {
    let env = hooks::env(ctx, slot, &s.marker, None);
    let pre = &ctx.plan.hooks.pre_session.value;
    if let Err(e) = hooks::run(ctx, slot, "pre_session", pre, &env, &mut s.hook_log) {
        return Ok(Ran::PreHookFailed(e));
    }
    let session_controls = match &s.parallel {
        Some(p) => p.controls.clone(),
        None => ctx.controls.agent.for_session(),
    };
    let fuse = s.parallel.as_ref().map(|p| p.fuse.clone());
    let seq = s.marker.seq;
    let marker_path = marker_path(slot);
    let marker = &mut s.marker;
    let agent = &ctx.plan.agent;
    let mut relay = Relay {
        obs,
        seq: marker.seq,
        slot: marker.slot,
        fuse: fuse.clone(),
        started: Instant::now(),
        last_tool: None,
        on_spawn: Box::new(|pid| {
            marker.agent_pid = Some(pid);
            let _ = std::fs::write(
                &marker_path,
                serde_json::to_string(&*marker)
                    .expect("the in-flight marker is plain data, which always serialises"),
            );
        }),
        tokens: None,
        // Without a cap the watch only prices the running cost, for the live views.
        cost_watch: Some(s.spec.max_cost_usd.unwrap_or(f64::INFINITY)).map(|cap| {
            CostWatch::new(
                cap,
                agent.model.clone(),
                agent.price_overrides.clone(),
                agent.price_file.clone(),
                session_controls.clone(),
            )
        }),
    };
    let outcome = agent::run_session(&s.spec, ctx.adapter.as_ref(), &session_controls, &mut relay)?;
    let cost_cut = relay
        .cost_watch
        .as_ref()
        .filter(|w| w.cut_at.is_some())
        .map(|w| w.reason())
        .or_else(|| fuse.and_then(|f| f.cut_reason(seq)));
    Ok(Ran::Agent {
        outcome: Box::new(outcome),
        cost_cut,
    })
}

/// Forwards the agent's events to the grind observer as progress.
struct Relay<'o> {
    obs: &'o mut dyn GrindObserver,
    seq: u64,
    /// The slot, in a parallel run.
    slot: Option<u32>,
    /// The run's cost and token fuse, in a parallel run: told this session's running totals.
    fuse: Option<std::sync::Arc<crate::grind::fuse::Fuse>>,
    started: Instant,
    last_tool: Option<String>,
    /// The agent's pid, once spawned (written down so a later `--resume` can end it).
    on_spawn: Box<dyn FnMut(u32) + 'o>,
    /// The session's cost cap, watched on the usage the agent streams.
    cost_watch: Option<CostWatch>,
    /// The session's token total so far, from the usage the agent streams.
    tokens: Option<u64>,
}

impl agent::AgentObserver for Relay<'_> {
    fn on_event(&mut self, e: &AgentEvent) {
        if let Some(message) = self.cost_watch.as_mut().and_then(|w| w.observe(e)) {
            self.obs.event(&GrindEvent::Warning {
                message: format!("session {}: {message}", self.seq),
            });
        }
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        let (text, tool) = match e {
            AgentEvent::Spawned { pid, .. } => {
                (self.on_spawn)(*pid);
                (None, None)
            }
            AgentEvent::ToolUse { name } => (None, Some(name.clone())),
            AgentEvent::Text { text } => (Some(text.clone()), None),
            AgentEvent::Warning { message } => {
                self.obs.event(&GrindEvent::Warning {
                    message: format!("session {}: {message}", self.seq),
                });
                (None, None)
            }
            AgentEvent::Tick { .. } => (None, None),
            AgentEvent::Usage { tokens: t, .. } | AgentEvent::Result { tokens: t, .. } => {
                let total = t.total();
                self.tokens = (total > 0).then_some(total).or(self.tokens);
                (None, None)
            }
            _ => return,
        };
        if tool.is_some() {
            self.last_tool = tool;
        }
        let cost_usd = self.cost_watch.as_ref().and_then(|w| w.spent_usd);
        if let Some(why) = self
            .fuse
            .as_ref()
            .and_then(|f| f.update(self.seq, cost_usd, self.tokens))
        {
            self.obs.event(&GrindEvent::Warning {
                message: format!("{why}: every running session is cut, and none is started"),
            });
        }
        self.obs.event(&GrindEvent::Progress {
            seq: self.seq,
            slot: self.slot,
            elapsed_ms,
            last_tool: self.last_tool.clone(),
            text,
            tokens: self.tokens,
            cost_usd,
        });
    }
}
