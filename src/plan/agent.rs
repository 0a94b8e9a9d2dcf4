//! Which agent a run would start, and with what: `--agent`/`--agent-cmd` over `[agent]` over the
//! built-in default (Claude Code).
//!
//! `[agent]`'s `binary`, `args`, `model` and `permission_mode` describe the backend it names
//! (Claude Code when it names none). When the command line picks another backend, that backend
//! starts from its own defaults. The defaults themselves (Claude Code's permission mode) are
//! the agent module's.

use std::collections::BTreeMap;

use super::{Origin, Sourced};
use crate::config::{AgentConfig, Backend, Pricing};

/// Agent choices made on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AgentOverride {
    /// `--agent <backend>`.
    pub backend: Option<Backend>,
    /// `--agent-cmd <command>`: the `command` backend with this command line.
    pub command: Option<String>,
}

/// The agent a run would start.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct PlannedAgent {
    pub backend: Sourced<Backend>,
    /// The program of `claude`, the command line of `command` (run with `sh -c`), or
    /// `git-pitboss agent-demo` for `demo`.
    pub program: Sourced<String>,
    pub args: Vec<String>,
    pub model: Option<String>,
    /// Claude Code only.
    pub permission_mode: Option<Sourced<String>>,
    /// Codex only: its `--sandbox`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<Sourced<String>>,
    /// `[budgets.pricing."<model>"]` for the model, to estimate unreported costs.
    pub pricing: Option<Pricing>,
    /// The whole `[budgets.pricing]` table, over the built-in one (see
    /// [`crate::plan::prices::lookup`]) for the model a session actually used.
    #[serde(skip)]
    pub price_overrides: BTreeMap<String, Pricing>,
    /// `[budgets] price_file`, read (between the config's prices and the built-in table).
    #[serde(skip)]
    pub price_file: Option<std::sync::Arc<crate::plan::prices::PriceFile>>,
}

impl PlannedAgent {
    /// The program to look up on `PATH` before a run (`None` for a shell command line and for
    /// the built-in demo agent).
    pub(crate) fn binary(&self) -> Option<&str> {
        self.backend
            .value
            .default_binary()
            .map(|_| self.program.value.as_str())
    }
}

pub(crate) fn resolve(
    over: &AgentOverride,
    cfg: &AgentConfig,
    pricing: &BTreeMap<String, Pricing>,
) -> Result<PlannedAgent, String> {
    let backend = if over.command.is_some() {
        Sourced::new(Backend::Command, Origin::Cli("--agent-cmd"))
    } else if let Some(b) = over.backend {
        Sourced::new(b, Origin::Cli("--agent"))
    } else if let Some(b) = cfg.backend {
        Sourced::new(b, Origin::Config)
    } else {
        Sourced::new(Backend::Claude, Origin::Default)
    };
    let config_applies = cfg.backend.unwrap_or(Backend::Claude) == backend.value;
    let from_config = |v: &Option<String>| v.clone().filter(|_| config_applies);
    let program = match backend.value {
        Backend::Command => match (&over.command, from_config(&cfg.command)) {
            (Some(c), _) => Sourced::new(c.clone(), Origin::Cli("--agent-cmd")),
            (None, Some(c)) => Sourced::new(c, Origin::Config),
            (None, None) => {
                return Err(
                    "the `command` backend needs a command line: pass --agent-cmd \
                            <command> or set `command` in [agent]"
                        .into(),
                );
            }
        },
        Backend::Demo => Sourced::new("git-pitboss agent-demo".into(), Origin::Default),
        named => match from_config(&cfg.binary) {
            Some(b) => Sourced::new(b, Origin::Config),
            None => Sourced::new(
                named.default_binary().unwrap_or_default().to_string(),
                Origin::Default,
            ),
        },
    };
    let permission_mode =
        (backend.value == Backend::Claude).then(|| match from_config(&cfg.permission_mode) {
            Some(m) => Sourced::new(m, Origin::Config),
            None => Sourced::new(
                crate::agent::DEFAULT_PERMISSION_MODE.to_string(),
                Origin::Default,
            ),
        });
    let sandbox = (backend.value == Backend::Codex).then(|| match from_config(&cfg.sandbox) {
        Some(m) => Sourced::new(m, Origin::Config),
        None => Sourced::new(crate::agent::DEFAULT_SANDBOX.to_string(), Origin::Default),
    });
    let model = from_config(&cfg.model);
    let pricing_table = pricing;
    let pricing = model.as_ref().and_then(|m| pricing.get(m).copied());
    Ok(PlannedAgent {
        program,
        args: if config_applies {
            cfg.args.clone()
        } else {
            Vec::new()
        },
        permission_mode,
        sandbox,
        model,
        pricing,
        price_overrides: pricing_table.clone(),
        price_file: None,
        backend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(backend: Option<Backend>) -> AgentConfig {
        AgentConfig {
            backend,
            binary: Some("/opt/bin/agent".into()),
            args: vec!["--x".into()],
            model: Some("m1".into()),
            permission_mode: Some("acceptEdits".into()),
            sandbox: None,
            command: Some("./run.sh".into()),
        }
    }

    #[test]
    fn default_is_claude_on_path() {
        let a = resolve(
            &AgentOverride::default(),
            &AgentConfig::default(),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(a.backend, Sourced::new(Backend::Claude, Origin::Default));
        assert_eq!(a.binary(), Some("claude"));
        let mode = a.permission_mode.unwrap();
        assert_eq!(
            (mode.value.as_str(), mode.from),
            ("bypassPermissions", Origin::Default)
        );
    }

    #[test]
    fn config_describes_its_own_backend_only() {
        let pricing = BTreeMap::from([("m1".to_string(), Pricing::default())]);
        let a = resolve(&AgentOverride::default(), &cfg(None), &pricing).unwrap();
        assert_eq!(
            a.program,
            Sourced::new("/opt/bin/agent".into(), Origin::Config)
        );
        assert_eq!((a.args.len(), a.model.as_deref()), (1, Some("m1")));
        assert_eq!(
            a.permission_mode,
            Some(Sourced::new("acceptEdits".into(), Origin::Config))
        );
        assert!(a.pricing.is_some());
        let over = AgentOverride {
            backend: Some(Backend::Demo),
            command: None,
        };
        let a = resolve(&over, &cfg(None), &pricing).unwrap();
        assert_eq!(a.backend.from, Origin::Cli("--agent"));
        assert_eq!(a.binary(), None, "the demo agent is pitboss itself");
        assert_eq!(a.program.value, "git-pitboss agent-demo");
        assert!(a.args.is_empty() && a.model.is_none() && a.permission_mode.is_none());
    }

    #[test]
    fn command_backend() {
        let over = AgentOverride {
            backend: None,
            command: Some("sh fake.sh".into()),
        };
        let a = resolve(&over, &AgentConfig::default(), &BTreeMap::new()).unwrap();
        assert_eq!((a.backend.value, a.binary()), (Backend::Command, None));
        assert_eq!(a.program.value, "sh fake.sh");
        let a = resolve(
            &AgentOverride::default(),
            &cfg(Some(Backend::Command)),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(a.program, Sourced::new("./run.sh".into(), Origin::Config));
        assert_eq!(a.permission_mode, None);
        let over = AgentOverride {
            backend: Some(Backend::Command),
            command: None,
        };
        assert!(resolve(&over, &AgentConfig::default(), &BTreeMap::new()).is_err());
    }
}
