//! `[budgets] price_file`: a price list in the format the litellm project maintains
//! (`model_prices_and_context_window.json`), so prices can be current without a pitboss
//! release. Aider installs a copy with litellm (`litellm/model_prices_and_context_window_backup.json`
//! in its environment), and the litellm repository publishes the current one.
//!
//! The file is one JSON object: model name → an object whose `input_cost_per_token`,
//! `output_cost_per_token`, `cache_read_input_token_cost` and `cache_creation_input_token_cost`
//! are US dollars per token (we keep dollars per million, as everywhere else). Everything else
//! is ignored (`sample_spec`, context sizes, long-context and batch prices, …), and so are
//! models whose `mode` is not one an agent runs on (`embedding`, `image_generation`, …). An
//! entry without both an input and an output price prices nothing: its model stays unknown,
//! never $0.
//!
//! Names: litellm keys the vendors' own APIs by the bare model name (`gpt-5`,
//! `claude-sonnet-4-5`, `gemini-2.5-pro`) and other routes by a provider prefix
//! (`vertex_ai/gemini-2.5-pro`, `openrouter/…`). A model is looked up under its full name first
//! (`openrouter/google/gemini-3-pro-preview`), then, without its prefix, among the bare names,
//! matched as the built-in table matches (see `prices`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::config::Pricing;

/// A price list read from a litellm-format file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PriceFile {
    /// What estimates from it record as their table: `price_file:<file name>`.
    pub label: String,
    /// Bare names (no `/`).
    bare: BTreeMap<String, Pricing>,
    /// Provider-prefixed names, matched only whole.
    prefixed: BTreeMap<String, Pricing>,
}

/// litellm's `mode`s of models an agent can run on (an entry without a mode counts too).
const AGENT_MODES: &[&str] = &["chat", "responses", "completion"];

/// Dollars per token as dollars per million, without the float noise of the multiplication.
fn per_million(v: f64) -> f64 {
    (v * 1e6 * 1e9).round() / 1e9
}

fn cost(entry: &Value, key: &str) -> Option<f64> {
    entry
        .get(key)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(per_million)
}

impl PriceFile {
    /// Reads `path`; the error says what is wrong with it.
    pub(crate) fn load(path: &Path) -> Result<PriceFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        PriceFile::parse(&text, &name)
    }

    /// Parses the text of a price file named `name`.
    pub(crate) fn parse(text: &str, name: &str) -> Result<PriceFile, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "not JSON ({e}); expected litellm's model_prices_and_context_window.json format"
            )
        })?;
        let Some(models) = root.as_object() else {
            return Err("not a JSON object of models; expected litellm's \
                        model_prices_and_context_window.json format"
                .into());
        };
        let mut file = PriceFile {
            label: format!("price_file:{name}"),
            bare: BTreeMap::new(),
            prefixed: BTreeMap::new(),
        };
        for (model, entry) in models {
            // Embedding, image, audio… models are no agent's model; `sample_spec` documents
            // the format.
            let mode = entry.get("mode").and_then(Value::as_str);
            if model == "sample_spec" || mode.is_some_and(|m| !AGENT_MODES.contains(&m)) {
                continue;
            }
            let (Some(input), Some(output)) = (
                cost(entry, "input_cost_per_token"),
                cost(entry, "output_cost_per_token"),
            ) else {
                continue;
            };
            let pricing = Pricing {
                input,
                output,
                cache_read: cost(entry, "cache_read_input_token_cost").unwrap_or(0.0),
                cache_write: cost(entry, "cache_creation_input_token_cost").unwrap_or(0.0),
            };
            let table = if model.contains('/') {
                &mut file.prefixed
            } else {
                &mut file.bare
            };
            table.insert(model.clone(), pricing);
        }
        if file.bare.is_empty() && file.prefixed.is_empty() {
            return Err(
                "it prices no model (no entry has both `input_cost_per_token` and \
                        `output_cost_per_token`)"
                    .into(),
            );
        }
        Ok(file)
    }

    /// How many models it prices.
    pub(crate) fn len(&self) -> usize {
        self.bare.len() + self.prefixed.len()
    }

    /// The entry for `model` (the name it matched, and its prices).
    pub(crate) fn find(&self, model: &str) -> Option<(&str, Pricing)> {
        if let Some((name, p)) = self.prefixed.get_key_value(model) {
            return Some((name.as_str(), *p));
        }
        let name = super::prices::matches(model, self.bare.keys().map(String::as_str))?;
        Some((name, self.bare[name]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few entries of litellm's file as Aider 0.86.2 installs it, in its shape.
    fn fixture() -> String {
        let path = format!(
            "{}/tests/fixtures/prices/litellm-excerpt.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn litellm_entries_become_prices_per_million() {
        let f = PriceFile::parse(&fixture(), "model_prices_and_context_window.json").unwrap();
        assert_eq!(f.label, "price_file:model_prices_and_context_window.json");
        let (name, p) = f.find("claude-sonnet-4-5-20250929").unwrap();
        assert_eq!(name, "claude-sonnet-4-5-20250929");
        assert_eq!(
            (p.input, p.output, p.cache_read, p.cache_write),
            (3.0, 15.0, 0.3, 3.75)
        );
        let (_, p) = f.find("gemini-3-flash-preview").unwrap();
        assert_eq!((p.input, p.output, p.cache_read), (0.5, 3.0, 0.05));
        let (name, _) = f.find("openai/gpt-5.2-codex").unwrap();
        assert_eq!(name, "gpt-5.2-codex", "a provider prefix is dropped");
        let (name, p) = f.find("vertex_ai/gemini-3-pro-preview").unwrap();
        assert_eq!(
            name, "vertex_ai/gemini-3-pro-preview",
            "whole prefixed names first"
        );
        assert_eq!(p.input, 2.0);
        assert_eq!(f.find("sample_spec"), None, "no prices, no entry");
        assert_eq!(
            f.find("text-embedding-3-small"),
            None,
            "no output price: unknown, not $0"
        );
        assert_eq!(f.find("llama-9"), None);
    }

    #[test]
    fn a_file_that_is_not_a_price_list_is_an_error() {
        assert!(PriceFile::parse("{", "x").unwrap_err().contains("not JSON"));
        assert!(
            PriceFile::parse("[1]", "x")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            PriceFile::parse(r#"{"m": {"mode": "chat"}}"#, "x")
                .unwrap_err()
                .contains("prices no model")
        );
    }
}
