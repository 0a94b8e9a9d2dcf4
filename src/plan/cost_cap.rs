//! A session's cost cap (`max_session_cost_usd`, clamped to what is left of `--max-cost`),
//! enforced while the session runs.
//!
//! Two ways, used together where a CLI allows both:
//! - the CLI's own budget flag (Claude Code's `--max-budget-usd`, passed by its adapter);
//! - watching the usage the agent streams as it goes ([`AgentEvent::Usage`] from Claude Code's
//!   per-message usage and Aider's per-reply lines, [`AgentEvent::Result`] from Codex's turns
//!   and Gemini's result): the running cost is the agent's own figure when it states one, else
//!   its tokens at the model's price. Past the cap, the session is cut (its process group ended
//!   as at its time limit), recorded `timeout` with the reason, and its work saved as a patch.
//!
//! The `command` backend does neither (it reports only in its result file, when it has
//! ended), so a cap for it is refused before a run starts ([`cap_unenforceable`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::agent::{AgentEvent, Controls};
use crate::config::{Backend, Pricing};
use crate::plan::prices::{self, PriceFile};

/// Watches one session's streamed usage against its cap.
pub(crate) struct CostWatch {
    pub cap_usd: f64,
    /// The model whose prices turn tokens into dollars (the agent's own word wins).
    model: Option<String>,
    overrides: BTreeMap<String, Pricing>,
    price_file: Option<Arc<PriceFile>>,
    /// This session's controls: [`Controls::request_cut`] ends it.
    controls: Controls,
    /// The running cost at which the session was cut.
    pub cut_at: Option<f64>,
    /// The session's running cost so far, when it is known (stated or priced).
    pub spent_usd: Option<f64>,
}

impl CostWatch {
    pub(crate) fn new(
        cap_usd: f64,
        model: Option<String>,
        overrides: BTreeMap<String, Pricing>,
        price_file: Option<Arc<PriceFile>>,
        controls: Controls,
    ) -> CostWatch {
        CostWatch {
            cap_usd,
            model,
            overrides,
            price_file,
            controls,
            cut_at: None,
            spent_usd: None,
        }
    }

    /// Looks at one agent event; returns a warning to show when it cuts the session.
    pub(crate) fn observe(&mut self, e: &AgentEvent) -> Option<String> {
        let (tokens, stated) = match e {
            AgentEvent::Init { model: Some(m), .. } => {
                self.model = Some(m.clone());
                return None;
            }
            AgentEvent::Usage { tokens, cost_usd } => (tokens, *cost_usd),
            AgentEvent::Result {
                tokens, cost_usd, ..
            } => (tokens, *cost_usd),
            _ => return None,
        };
        let cost = stated.or_else(|| {
            let file = self.price_file.as_deref();
            let price = prices::lookup(self.model.as_deref()?, &self.overrides, file)?;
            Some(tokens.cost_at(&price.pricing))
        })?;
        self.spent_usd = Some(cost);
        if self.cut_at.is_some() || cost <= self.cap_usd {
            return None;
        }
        self.cut_at = Some(cost);
        self.controls.request_cut();
        Some(self.reason())
    }

    /// Why the session was cut, for its summary.
    pub(crate) fn reason(&self) -> String {
        format!(
            "stopped at its cost cap: ${:.4} spent of ${:.4}",
            self.cut_at.unwrap_or_default(),
            self.cap_usd
        )
    }
}

/// Why a session cost cap cannot be enforced for `backend`, if it cannot.
pub(crate) fn cap_unenforceable(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Command => Some(
            "the `command` backend reports usage only in its result file, when the session has \
             ended, and has no budget flag",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Tokens;

    #[test]
    fn cuts_once_when_the_running_cost_passes_the_cap() {
        let controls = Controls::new().for_session();
        let mut w = CostWatch::new(0.5, None, BTreeMap::new(), None, controls.clone());
        let usage = |c| AgentEvent::Usage {
            tokens: Tokens::default(),
            cost_usd: Some(c),
        };
        assert_eq!(w.observe(&usage(0.4)), None);
        assert!(!controls.cut_requested());
        let warning = w.observe(&usage(0.6)).unwrap();
        assert_eq!(warning, "stopped at its cost cap: $0.6000 spent of $0.5000");
        assert!(controls.cut_requested());
        assert_eq!(w.observe(&usage(0.9)), None, "once");
    }

    #[test]
    fn tokens_are_priced_at_the_model_the_agent_names() {
        let controls = Controls::new().for_session();
        let pricing: BTreeMap<String, Pricing> = [(
            "house-model".to_string(),
            Pricing {
                input: 1.0,
                output: 10.0,
                cache_read: 0.0,
                cache_write: 0.0,
            },
        )]
        .into();
        let mut w = CostWatch::new(1.0, None, pricing, None, controls.clone());
        let tokens = Tokens {
            input: 500_000,
            output: 100_000,
            ..Default::default()
        };
        let usage = AgentEvent::Usage {
            tokens,
            cost_usd: None,
        };
        assert_eq!(w.observe(&usage), None, "no model, no price: not cut");
        w.observe(&AgentEvent::Init {
            model: Some("house-model".into()),
            version: None,
            session_id: None,
        });
        assert!(w.observe(&usage).is_some(), "$1.50 > $1.00");
        assert!(controls.cut_requested());
    }

    #[test]
    fn only_the_command_backend_cannot_be_capped() {
        assert!(cap_unenforceable(Backend::Command).is_some());
        for b in [
            Backend::Claude,
            Backend::Codex,
            Backend::Gemini,
            Backend::Aider,
            Backend::Demo,
        ] {
            assert_eq!(cap_unenforceable(b), None);
        }
    }
}
