//! Which model Codex runs when pitboss does not pass `--model`: `codex exec --json` never names
//! its model, so without this every Codex session without `[agent] model` would be priced
//! `unknown`. Codex decides, in order: `--model`/`-m` or `-c model=…` on its command line, the
//! `model` of the active profile (`--profile`/`-p`, else `profile = …` in its config), the
//! top-level `model` of `$CODEX_HOME/config.toml` (`~/.codex/config.toml` by default), else its
//! built-in default. We read the same places, and say which one answered, so the record can
//! tell a model Codex named from one we inferred.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The model Codex 0.169.0 runs with an API key when nothing names one (measured against a
/// mock of the Responses API: its first request asks for this model).
pub const CODEX_DEFAULT_MODEL: &str = "gpt-6.1-sol";

/// A model and where it was found, e.g. `codex config /home/me/.codex/config.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundModel {
    pub model: String,
    pub source: String,
}

/// The value of `flag` (`--model X`, `--model=X`, `-m X`) in `args`, the last one winning.
fn flag_value(args: &[String], long: &str, short: &str) -> Option<String> {
    let mut found = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == long || a == short {
            found = it.next().cloned();
        } else if let Some(v) = a.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
            found = Some(v.to_string());
        }
    }
    found
}

/// `-c model="X"` / `--config model=X` in `args`.
fn config_override(args: &[String]) -> Option<String> {
    let mut found = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if (a == "-c" || a == "--config")
            && let Some(kv) = it.next()
            && let Some(v) = kv.trim().strip_prefix("model").map(str::trim_start)
            && let Some(v) = v.strip_prefix('=')
        {
            let v = v.trim();
            // Codex parses the value as TOML, falling back to the raw string.
            found = Some(
                toml::from_str::<toml::Value>(&format!("v = {v}"))
                    .ok()
                    .and_then(|t| t.get("v").and_then(|v| v.as_str().map(str::to_string)))
                    .unwrap_or_else(|| v.trim_matches('"').to_string()),
            );
        }
    }
    found
}

/// The model a `config.toml` text names for `profile` (when given or set in the file), else at
/// its top level.
pub(crate) fn model_in_config(text: &str, profile: Option<&str>) -> Option<String> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let profile = profile
        .map(str::to_string)
        .or_else(|| doc.get("profile")?.as_str().map(str::to_string));
    let from_profile = profile.and_then(|p| {
        doc.get("profiles")?
            .get(&p)?
            .get("model")?
            .as_str()
            .map(str::to_string)
    });
    from_profile.or_else(|| doc.get("model")?.as_str().map(str::to_string))
}

/// `$CODEX_HOME/config.toml`, else `$HOME/.codex/config.toml`, from the agent's environment.
pub(crate) fn config_path(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    match env.get("CODEX_HOME").filter(|h| !h.is_empty()) {
        Some(home) => Some(PathBuf::from(home).join("config.toml")),
        None => env
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".codex/config.toml")),
    }
}

/// The model Codex will run, given the extra arguments pitboss passes it (with no `--model` of
/// pitboss's own) and `read`, which returns the text of Codex's config file (or `None`).
pub(crate) fn find_model(
    args: &[String],
    env: &BTreeMap<String, String>,
    read: impl Fn(&std::path::Path) -> Option<String>,
) -> FoundModel {
    if let Some(model) = flag_value(args, "--model", "-m") {
        return FoundModel {
            model,
            source: "[agent] args".into(),
        };
    }
    if let Some(model) = config_override(args) {
        return FoundModel {
            model,
            source: "[agent] args (-c model=…)".into(),
        };
    }
    let profile = flag_value(args, "--profile", "-p");
    if let Some(path) = config_path(env)
        && let Some(text) = read(&path)
        && let Some(model) = model_in_config(&text, profile.as_deref())
    {
        return FoundModel {
            model,
            source: format!("codex config {}", path.display()),
        };
    }
    FoundModel {
        model: CODEX_DEFAULT_MODEL.into(),
        source: "codex default (0.169.0)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn config_top_level_profile_and_codex_home() {
        let text = "model = \"gpt-6-sol\"\nprofile = \"fast\"\n[profiles.fast]\nmodel = \"gpt-6-luna\"\n[profiles.deep]\nmodel = \"gpt-6-astra\"\n";
        assert_eq!(model_in_config(text, None).as_deref(), Some("gpt-6-luna"));
        assert_eq!(
            model_in_config(text, Some("deep")).as_deref(),
            Some("gpt-6-astra")
        );
        assert_eq!(
            model_in_config("model = \"gpt-6-sol\"\n", Some("none")).as_deref(),
            Some("gpt-6-sol")
        );
        assert_eq!(model_in_config("not toml [", None), None);
        assert_eq!(
            config_path(&env(&[("CODEX_HOME", "/c"), ("HOME", "/h")])),
            Some(PathBuf::from("/c/config.toml"))
        );
        assert_eq!(
            config_path(&env(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.codex/config.toml"))
        );
    }

    #[test]
    fn args_then_config_then_the_default() {
        let e = env(&[("CODEX_HOME", "/c")]);
        let cfg = |_: &std::path::Path| Some("model = \"gpt-6-sol\"\n".to_string());
        let none = |_: &std::path::Path| None;
        let found = find_model(&[], &e, cfg);
        assert_eq!(found.model, "gpt-6-sol");
        assert_eq!(found.source, "codex config /c/config.toml");
        assert_eq!(find_model(&args(&["-m", "o3"]), &e, cfg).model, "o3");
        assert_eq!(find_model(&args(&["--model=o3"]), &e, cfg).model, "o3");
        let over = find_model(&args(&["-c", "model=\"gpt-6-luna\""]), &e, cfg);
        assert_eq!(over.model, "gpt-6-luna");
        let default = find_model(&[], &e, none);
        assert_eq!(
            (default.model.as_str(), default.source.as_str()),
            (CODEX_DEFAULT_MODEL, "codex default (0.169.0)")
        );
    }
}
