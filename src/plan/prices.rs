//! Model prices: US dollars per million tokens, to estimate the cost of sessions whose agent
//! reports tokens but no dollars (Codex, Gemini).
//!
//! Three sources, most specific first: `[budgets.pricing."<model>"]` in the config, the price
//! list `[budgets] price_file` names (litellm's format, see [`PriceFile`]), and the built-in
//! table. The built-in table is data, not code: `prices.toml` next to this file, embedded at
//! build time, with the day it was checked ([`builtin_version`] is `builtin-<that day>`), so
//! keeping it current is an edit of one data file, and a price file keeps it current without a
//! release. A model in none of them is `unknown`: the session's cost is recorded as unknown
//! (never a silent $0) and the loop warns once per run. Every estimate records which table it
//! came from, so a figure can be re-checked after prices change.
//!
//! Models are matched exactly, then by the longest table name that the model's name starts
//! with followed by `-`, `@` or `[` (so `claude-sonnet-4-5-20250929` is `claude-sonnet-4-5`, and
//! Claude Code's `claude-opus-4-8[1m]` is `claude-opus-4-8`), after
//! dropping a provider prefix (`openai/`, `models/`). The longest match wins across the
//! sources; on a tie the more specific source wins.

use std::collections::BTreeMap;
use std::sync::LazyLock;

pub(crate) use super::price_file::PriceFile;
use crate::config::Pricing;

/// What an estimate records as its table when a `[budgets.pricing]` entry priced it.
pub(crate) const CONFIG_TABLE: &str = "config";

/// The built-in table's data file.
const BUILTIN_TOML: &str = include_str!("prices.toml");

/// The built-in table, read from [`BUILTIN_TOML`].
#[derive(Debug)]
pub(crate) struct Builtin {
    /// The day the prices were checked, `YYYY-MM-DD`.
    pub checked: chrono::NaiveDate,
    pub models: BTreeMap<String, Pricing>,
}

#[derive(serde::Deserialize)]
struct BuiltinFile {
    checked: String,
    models: BTreeMap<String, Entry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    input: f64,
    output: f64,
    #[serde(default)]
    cache_read: f64,
    #[serde(default)]
    cache_write: f64,
}

fn parse_builtin(text: &str) -> Result<Builtin, String> {
    let file: BuiltinFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let checked = chrono::NaiveDate::parse_from_str(&file.checked, "%Y-%m-%d")
        .map_err(|e| format!("`checked` = {:?}: {e}", file.checked))?;
    let models = file
        .models
        .into_iter()
        .map(|(name, e)| {
            let p = Pricing {
                input: e.input,
                output: e.output,
                cache_read: e.cache_read,
                cache_write: e.cache_write,
            };
            (name, p)
        })
        .collect();
    Ok(Builtin { checked, models })
}

/// The built-in table. NB: the data file is part of the source; a unit test parses it, so a
/// broken edit fails the build's tests rather than a user's run.
pub(crate) fn builtin() -> &'static Builtin {
    static TABLE: LazyLock<Builtin> = LazyLock::new(|| {
        parse_builtin(BUILTIN_TOML).unwrap_or_else(|e| panic!("src/plan/prices.toml: {e}"))
    });
    &TABLE
}

/// `builtin-<checked>`: what an estimate from the built-in table records as its table.
pub fn builtin_version() -> String {
    format!("builtin-{}", builtin().checked)
}

/// A price found for a model, and the table it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Price {
    pub pricing: Pricing,
    /// `builtin-<date>`, [`CONFIG_TABLE`], or the price file's [`PriceFile::label`].
    pub table: String,
}

/// The longest name of `names` that `model` is or starts with (followed by `-`, `@` or `[`), after
/// dropping `model`'s provider prefix.
pub(super) fn matches<'a, I>(model: &str, names: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let model = model.rsplit('/').next().unwrap_or(model);
    let mut best: Option<&str> = None;
    for name in names {
        let hit = model == name
            || model
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['-', '@', '[']));
        if hit && best.is_none_or(|b| name.len() > b.len()) {
            best = Some(name);
        }
    }
    best
}

/// The price of `model`: the most specific name of the config's `[budgets.pricing]`, the price
/// file and the built-in table together, a tie going to the config, then to the price file (so
/// an entry for `gpt-5` overrides `gpt-5-2025-08-07` but not the built-in `gpt-5-mini`).
pub(crate) fn lookup(
    model: &str,
    overrides: &BTreeMap<String, Pricing>,
    file: Option<&PriceFile>,
) -> Option<Price> {
    let mut best: Option<(usize, Price)> = None;
    let mut consider = |hit: Option<(&str, Pricing)>, table: &dyn Fn() -> String| {
        if let Some((name, pricing)) = hit
            && best.as_ref().is_none_or(|(len, _)| name.len() > *len)
        {
            let table = table();
            best = Some((name.len(), Price { pricing, table }));
        }
    };
    let config = matches(model, overrides.keys().map(String::as_str)).map(|n| (n, overrides[n]));
    consider(config, &|| CONFIG_TABLE.to_string());
    if let Some(f) = file {
        consider(f.find(model), &|| f.label.clone());
    }
    let table = &builtin().models;
    let builtin = matches(model, table.keys().map(String::as_str)).map(|n| (n, table[n]));
    consider(builtin, &builtin_version);
    best.map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(input: f64, output: f64) -> Pricing {
        Pricing {
            input,
            output,
            ..Pricing::default()
        }
    }

    #[test]
    fn the_data_file_parses_with_its_date_and_sane_prices() {
        let b = parse_builtin(BUILTIN_TOML).unwrap();
        assert!(b.checked >= chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(builtin_version(), format!("builtin-{}", b.checked));
        assert!(b.models.len() > 30);
        for (name, p) in &b.models {
            assert!(p.input > 0.0 && p.output >= p.input, "{name}");
            assert!(p.cache_read < p.input, "{name}");
        }
        assert!(parse_builtin("checked = \"27 Nov\"\n[models]\n").is_err());
        assert!(parse_builtin("checked = \"2026-11-27\"\n[models]\nm = {input = 1}\n").is_err());
    }

    /// The models each backend's CLI uses when none is configured have a price.
    #[test]
    fn every_backends_default_model_has_a_price() {
        let none = BTreeMap::new();
        for model in [
            crate::agent::CODEX_DEFAULT_MODEL, // Codex CLI 0.169.0 with an API key
            "gemini-3.8-flash",                // Gemini CLI 0.61.0: its routing's flash model
            "gemini-3.5-flash-lite",           // … its flash-lite model
            "gemini-3.1-pro-preview",          // … its pro model
            "gemini-3-flash-preview",
            "gemini-3.1-flash-lite",
            "gemini-2.5-pro",
            "openai/gpt-4.1", // Aider, as the docs configure it (it reports its own cost)
            "claude-opus-4-8[1m]", // Claude Code 2.1.197 (it reports its own cost)
        ] {
            let price = lookup(model, &none, None).unwrap_or_else(|| panic!("{model}"));
            assert_eq!(price.table, builtin_version(), "{model}");
        }
        assert_eq!(
            lookup("gpt-6.1-sol", &none, None).unwrap().pricing.input,
            2.0
        );
    }

    #[test]
    fn exact_dated_and_prefixed_names_match_the_longest_entry() {
        let none = BTreeMap::new();
        let price = |m: &str| lookup(m, &none, None).map(|p| p.pricing);
        assert_eq!(price("gpt-5-mini").unwrap().input, 0.25);
        assert_eq!(price("gpt-5").unwrap().input, 1.25);
        assert_eq!(price("claude-sonnet-4-5-20250929").unwrap().output, 15.0);
        assert_eq!(price("claude-opus-4-5-20251101").unwrap().output, 25.0);
        assert_eq!(price("claude-opus-4-1-20250805").unwrap().output, 75.0);
        assert_eq!(price("openai/gpt-4.1").unwrap().input, 2.0);
        assert_eq!(price("models/gemini-2.5-flash-lite").unwrap().input, 0.10);
        assert_eq!(price("gemini-2.5-flash").unwrap().output, 2.50);
        assert_eq!(price("gpt-5x"), None, "a bare prefix is not a match");
        assert_eq!(price("llama-3"), None, "unknown stays unknown");
    }

    #[test]
    fn config_then_price_file_override_and_extend() {
        let over = BTreeMap::from([
            ("gpt-5".to_string(), p(1.0, 2.0)),
            ("llama-3".to_string(), p(0.5, 0.5)),
        ]);
        let gpt = lookup("gpt-5", &over, None).unwrap();
        assert_eq!(
            (gpt.pricing.output, gpt.table.as_str()),
            (2.0, CONFIG_TABLE)
        );
        assert_eq!(
            lookup("llama-3-70b", &over, None).unwrap().table,
            CONFIG_TABLE
        );
        let dated = lookup("gpt-5-2025-08-07", &over, None).unwrap();
        assert_eq!(dated.table, CONFIG_TABLE);
        assert_eq!(
            lookup("gpt-5-mini", &over, None).unwrap().table,
            builtin_version()
        );

        let file = PriceFile::parse(
            r#"{"gpt-5": {"input_cost_per_token": 3e-6, "output_cost_per_token": 4e-6},
                "gemini-9-flash": {"input_cost_per_token": 1e-7, "output_cost_per_token": 2e-7}}"#,
            "prices.json",
        )
        .unwrap();
        let f = Some(&file);
        assert_eq!(lookup("gpt-5", &over, f).unwrap().table, CONFIG_TABLE);
        let none = BTreeMap::new();
        let gpt = lookup("gpt-5", &none, f).unwrap();
        assert_eq!(
            (gpt.pricing.input, gpt.table.as_str()),
            (3.0, file.label.as_str())
        );
        assert_eq!(
            lookup("gemini-9-flash", &none, f).unwrap().pricing.output,
            0.2
        );
        assert_eq!(
            lookup("gpt-5-mini", &none, f).unwrap().table,
            builtin_version()
        );
    }
}
