//! The built-in price table: US dollars per million tokens for the current models of the three
//! vendors whose CLIs pitboss drives (Anthropic, OpenAI, Google), to estimate the cost of
//! sessions whose agent reports tokens but no dollars (Codex, Gemini).
//!
//! `[budgets.pricing."<model>"]` in the config overrides or extends it. A model in neither is
//! `unknown`: the session's cost is recorded as unknown (never a silent $0) and the loop warns
//! once per run. Every estimate records which table it came from ([`PRICE_TABLE_VERSION`] or
//! `config`), so a figure can be re-checked after prices change.
//!
//! Prices are the vendors' list prices for standard (non-batch) API use at short context
//! lengths. Models are matched exactly, then by the longest table name that the model's name
//! starts with followed by `-` (so `claude-sonnet-4-5-20250929` is `claude-sonnet-4-5`), after
//! dropping a provider prefix (`openai/`, `models/`).

use std::collections::BTreeMap;

use crate::config::Pricing;

/// The version of [`BUILTIN`], recorded with each estimate.
pub const PRICE_TABLE_VERSION: &str = "builtin-2026-11";

/// What an estimate records as its table when a `[budgets.pricing]` entry priced it.
pub const CONFIG_TABLE: &str = "config";

const fn p(input: f64, output: f64, cache_read: f64, cache_write: f64) -> Pricing {
    Pricing {
        input,
        output,
        cache_read,
        cache_write,
    }
}

/// Model name, price per million tokens (input, output, cache read, cache write).
pub const BUILTIN: &[(&str, Pricing)] = &[
    // Anthropic (cache write: 5-minute cache).
    ("claude-opus-4-5", p(5.0, 25.0, 0.50, 6.25)),
    ("claude-opus-4-1", p(15.0, 75.0, 1.50, 18.75)),
    ("claude-opus-4", p(15.0, 75.0, 1.50, 18.75)),
    ("claude-sonnet-4-5", p(3.0, 15.0, 0.30, 3.75)),
    ("claude-sonnet-4", p(3.0, 15.0, 0.30, 3.75)),
    ("claude-3-7-sonnet", p(3.0, 15.0, 0.30, 3.75)),
    ("claude-haiku-4-5", p(1.0, 5.0, 0.10, 1.25)),
    ("claude-3-5-haiku", p(0.80, 4.0, 0.08, 1.0)),
    // OpenAI (no cache-write charge; reasoning tokens are billed as output).
    ("gpt-5.1", p(1.25, 10.0, 0.125, 0.0)),
    ("gpt-5.1-codex", p(1.25, 10.0, 0.125, 0.0)),
    ("gpt-5.1-codex-max", p(1.25, 10.0, 0.125, 0.0)),
    ("gpt-5.1-codex-mini", p(0.25, 2.0, 0.025, 0.0)),
    ("gpt-5", p(1.25, 10.0, 0.125, 0.0)),
    ("gpt-5-codex", p(1.25, 10.0, 0.125, 0.0)),
    ("gpt-5-mini", p(0.25, 2.0, 0.025, 0.0)),
    ("gpt-5-nano", p(0.05, 0.40, 0.005, 0.0)),
    ("gpt-4.1", p(2.0, 8.0, 0.50, 0.0)),
    ("gpt-4.1-mini", p(0.40, 1.60, 0.10, 0.0)),
    ("gpt-4o", p(2.50, 10.0, 1.25, 0.0)),
    ("o3", p(2.0, 8.0, 0.50, 0.0)),
    ("o4-mini", p(1.10, 4.40, 0.275, 0.0)),
    // Google (prompts up to 200k tokens; thinking tokens are billed as output).
    ("gemini-3-pro-preview", p(2.0, 12.0, 0.20, 0.0)),
    ("gemini-2.5-pro", p(1.25, 10.0, 0.125, 0.0)),
    ("gemini-2.5-flash", p(0.30, 2.50, 0.03, 0.0)),
    ("gemini-2.5-flash-lite", p(0.10, 0.40, 0.01, 0.0)),
    ("gemini-2.0-flash", p(0.10, 0.40, 0.025, 0.0)),
];

/// A price found for a model, and the table it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub pricing: Pricing,
    /// [`PRICE_TABLE_VERSION`] or [`CONFIG_TABLE`].
    pub table: &'static str,
}

fn matches<'a, I>(model: &str, names: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let model = model.rsplit('/').next().unwrap_or(model);
    let mut best: Option<&str> = None;
    for name in names {
        let hit = model == name
            || model
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('-') || rest.starts_with('@'));
        if hit && best.is_none_or(|b| name.len() > b.len()) {
            best = Some(name);
        }
    }
    best
}

/// The price of `model`: the most specific name of the config's `[budgets.pricing]` and the
/// built-in table together, the config winning a tie (so an entry for `gpt-5` overrides
/// `gpt-5-2025-08-07` but not the built-in `gpt-5-mini`).
pub fn lookup(model: &str, overrides: &BTreeMap<String, Pricing>) -> Option<Price> {
    let from_config = matches(model, overrides.keys().map(String::as_str));
    let builtin = matches(model, BUILTIN.iter().map(|(n, _)| *n));
    match (from_config, builtin) {
        (Some(c), b) if b.is_none_or(|b| c.len() >= b.len()) => Some(Price {
            pricing: overrides[c],
            table: CONFIG_TABLE,
        }),
        (_, Some(b)) => BUILTIN
            .iter()
            .find(|(n, _)| *n == b)
            .map(|(_, pricing)| Price {
                pricing: *pricing,
                table: PRICE_TABLE_VERSION,
            }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_dated_and_prefixed_names_match_the_longest_entry() {
        let none = BTreeMap::new();
        let price = |m: &str| lookup(m, &none).map(|p| p.pricing);
        assert_eq!(price("gpt-5-mini").unwrap().input, 0.25);
        assert_eq!(price("gpt-5").unwrap().input, 1.25);
        assert_eq!(price("claude-sonnet-4-5-20250929").unwrap().output, 15.0);
        assert_eq!(price("claude-opus-4-5-20251101").unwrap().output, 25.0);
        assert_eq!(price("claude-opus-4-1-20250805").unwrap().output, 75.0);
        assert_eq!(price("openai/gpt-4.1").unwrap().input, 2.0);
        assert_eq!(price("models/gemini-2.5-flash-lite").unwrap().input, 0.10);
        assert_eq!(price("gemini-2.5-flash").unwrap().output, 2.50);
        assert_eq!(price("gpt-5x"), None, "a bare prefix is not a match");
        assert_eq!(price("llama-3"), None);
        assert_eq!(lookup("gpt-5", &none).unwrap().table, PRICE_TABLE_VERSION);
    }

    #[test]
    fn config_overrides_and_extends() {
        let over = BTreeMap::from([
            ("gpt-5".to_string(), p(1.0, 2.0, 0.0, 0.0)),
            ("llama-3".to_string(), p(0.5, 0.5, 0.0, 0.0)),
        ]);
        let gpt = lookup("gpt-5", &over).unwrap();
        assert_eq!((gpt.pricing.output, gpt.table), (2.0, CONFIG_TABLE));
        assert_eq!(lookup("llama-3-70b", &over).unwrap().table, CONFIG_TABLE);
        assert_eq!(
            lookup("gpt-5-2025-08-07", &over).unwrap().table,
            CONFIG_TABLE
        );
        assert_eq!(
            lookup("gpt-5-mini", &over).unwrap().table,
            PRICE_TABLE_VERSION
        );
    }

    #[test]
    fn every_entry_is_sane() {
        for (name, p) in BUILTIN {
            assert!(p.input > 0.0 && p.output >= p.input, "{name}");
            assert!(p.cache_read < p.input, "{name}");
        }
    }
}
