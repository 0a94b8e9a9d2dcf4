//! What a session used: tokens by class, what it cost, where that figure came from and which
//! price table made it. One module below `agent`, `store` and `grind` (it imports none of them),
//! so the agent parsers, the session record, the run's sums and the budgets count with the same
//! type and the same [`Tokens::total`]; every display and every budget reads its figures here.
//!
//! The record's JSON keeps its original spelling (`store::record` lays these values out in the
//! file-based design's order); this module owns only the meaning.

use serde::{Deserialize, Serialize};

/// Token counts, disjoint except for `reasoning`: `input` is the input neither read from nor
/// written to a cache, `cache_read` and `cache_write` the cached parts, `output` every generated
/// token *including* reasoning; `reasoning` is the part of `output` the agent reports as
/// reasoning or thinking (Codex, Gemini), else 0. Each agent parser converts its CLI's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

impl Tokens {
    /// The token total, the one definition every total shown or budgeted uses (docs/config.md, "Tokens"):
    /// input + output + cache reads + cache writes, every token the model processed. Reasoning
    /// tokens are part of the output already. Cache reads are cheap but not free, and counting
    /// every token is the one definition that does not depend on a vendor's price list. For
    /// records without cache tokens (all of the file-based design's) it is input + output, as
    /// the original session log showed it. Saturating: counts come from agents and from records
    /// written anywhere, and a sum that wrapped would tell a budget almost nothing was used.
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    pub fn is_zero(&self) -> bool {
        *self == Tokens::default()
    }

    /// Whether there are cache counts (they are then shown beside input and output).
    pub fn has_cache(&self) -> bool {
        self.cache_read > 0 || self.cache_write > 0
    }

    /// What these tokens cost at `pricing`, for sessions whose agent states no cost.
    pub fn cost_at(&self, pricing: &Pricing) -> f64 {
        let m = |n: u64, usd_per_million: f64| n as f64 * usd_per_million / 1_000_000.0;
        m(self.input, pricing.input)
            + m(self.output, pricing.output)
            + m(self.cache_read, pricing.cache_read)
            + m(self.cache_write, pricing.cache_write)
    }
}

/// Class by class: the counts of several turns, messages, models or sessions summed (saturating,
/// see [`Tokens::total`]).
impl std::ops::AddAssign for Tokens {
    fn add_assign(&mut self, t: Tokens) {
        self.input = self.input.saturating_add(t.input);
        self.output = self.output.saturating_add(t.output);
        self.cache_read = self.cache_read.saturating_add(t.cache_read);
        self.cache_write = self.cache_write.saturating_add(t.cache_write);
        self.reasoning = self.reasoning.saturating_add(t.reasoning);
    }
}

/// Where a cost figure came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostSource {
    /// The agent stated it (Claude Code's `total_cost_usd`, a result file's `cost_usd`).
    Reported,
    /// Computed by us from token counts and a price table.
    Estimated,
    /// Nobody said and no price table knows the model: the session may have cost money, and the
    /// cost is never shown as a silent $0.
    #[default]
    Unknown,
    /// Nothing was paid (the built-in demo agent).
    None,
}

/// `[budgets.pricing."<model>"]` and the price tables: US dollars per million tokens, to estimate
/// the cost of sessions whose agent reports none.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Pricing {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
}

/// What one session used, as its record keeps it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub tokens: Tokens,
    /// US dollars; 0 when the cost is unknown (read [`Usage::cost_known`] before showing it).
    pub cost_usd: f64,
    /// `None` for records written before sources were kept (the file-based design's): their
    /// cost is what the agent reported.
    pub cost_source: Option<CostSource>,
    /// The price table an `estimated` cost came from (`builtin-<date checked>`, `config`,
    /// `price_file:<file name>`).
    pub price_table: Option<String>,
}

impl Usage {
    /// Whether the dollar cost is known (an `unknown` cost is never shown as $0).
    pub fn cost_known(&self) -> bool {
        self.cost_source != Some(CostSource::Unknown)
    }

    /// The cost when it is known and a real amount (a record written anywhere may hold a
    /// negative or non-finite figure, which no sum should take).
    pub fn known_cost(&self) -> Option<f64> {
        (self.cost_known() && self.cost_usd.is_finite() && self.cost_usd >= 0.0)
            .then_some(self.cost_usd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_counts_every_class_but_reasoning_once() {
        let t = Tokens {
            input: 1,
            output: 2,
            cache_read: 30,
            cache_write: 400,
            reasoning: 2,
        };
        assert_eq!(t.total(), 433);
        let big = Tokens {
            input: u64::MAX,
            output: 1,
            ..Default::default()
        };
        assert_eq!(big.total(), u64::MAX);
        let mut sum = big;
        sum += t;
        assert_eq!((sum.input, sum.output, sum.reasoning), (u64::MAX, 3, 2));
    }

    #[test]
    fn cost_is_estimated_from_pricing() {
        let p = Pricing {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write: 3.75,
        };
        let t = Tokens {
            input: 1_000_000,
            output: 100_000,
            cache_read: 2_000_000,
            ..Default::default()
        };
        assert!((t.cost_at(&p) - (3.0 + 1.5 + 0.6)).abs() < 1e-9);
    }

    #[test]
    fn unknown_costs_are_not_amounts() {
        let mut u = Usage {
            cost_usd: 0.5,
            ..Default::default()
        };
        assert_eq!(u.known_cost(), Some(0.5), "a legacy record's cost is known");
        u.cost_source = Some(CostSource::Unknown);
        assert!(!u.cost_known());
        assert_eq!(u.known_cost(), None);
        u.cost_source = Some(CostSource::Estimated);
        u.cost_usd = f64::NAN;
        assert!(u.cost_known());
        assert_eq!(u.known_cost(), None);
        assert_eq!(
            serde_json::to_string(&CostSource::None).unwrap(),
            r#""none""#
        );
    }
}
