//! `git pitboss agents`: what each agent backend would run here, and whether it can.
//!
//! For every backend this resolves the agent exactly as `grind --agent <backend>` would (the
//! config's `[agent]` applies to the backend it names), looks its program up on `PATH`, asks it
//! its version, and lists the effective model and settings: what a user checks when a session
//! will not start. The version probe is the only process started, with a short timeout, and
//! never of a program the repository supplies (named by path in its committed config, or lying
//! inside it) unless the user said the repository is trusted: running `agents` in a fresh clone
//! must not run the clone's code.
//!
//! [`adapter`] is the one place a planned agent becomes the adapter that runs it, for `grind` as
//! for `agents`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::agent::{
    self, Adapter, AiderAdapter, ClaudeAdapter, CodexAdapter, CommandAdapter, DemoAdapter,
    GeminiAdapter,
};
use crate::config::{Backend, Config};
use crate::plan::{AgentOverride, Origin, PlannedAgent, resolve_agent};

/// What `describe` needs.
#[derive(Debug, Clone)]
pub(crate) struct AgentsRequest<'a> {
    pub config: &'a Config,
    /// The `PATH` to search (the library does not read the environment).
    pub path_var: Option<OsString>,
    /// The top of the work tree: relative programs and the probe's working directory.
    pub root: PathBuf,
    /// How long `<program> --version` may take.
    pub probe_timeout: Duration,
    /// The user trusts this repository (`pitboss.trusted`): its programs may be probed too.
    pub trusted: bool,
}

/// One backend, as `grind --agent <backend>` would start it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct AgentInfo {
    pub backend: Backend,
    /// The backend `grind` uses without `--agent` (from `[agent] backend`, else Claude Code).
    pub selected: bool,
    /// The program (or the command line of `command`); `None` when the backend cannot be
    /// resolved (the `command` backend without a command).
    pub program: Option<String>,
    /// Where the program was found (`None` when it was not, or for backends with no program of
    /// their own).
    pub found: Option<PathBuf>,
    /// The program's `--version` line.
    pub version: Option<String>,
    /// `None`: the agent's own default.
    pub model: Option<String>,
    /// Effective settings (`permission_mode`, `args`, …) and where each came from.
    pub settings: BTreeMap<String, Setting>,
    /// Why a session with it would not start, in words, with what to do.
    pub problem: Option<String>,
    /// Something to know that does not stop it (an older version than pitboss is tested with).
    pub warning: Option<String>,
    /// Why its `--version` was not asked: the repository supplies the program and is not
    /// trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
}

/// One effective setting.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Setting {
    pub value: String,
    /// `default`, `config`, or the flag.
    pub from: String,
}

/// Every backend, in [`Backend::ALL`] order.
pub(crate) fn describe(req: &AgentsRequest<'_>) -> Vec<AgentInfo> {
    let selected = req.config.agent.backend.unwrap_or(Backend::Claude);
    Backend::ALL
        .into_iter()
        .map(|backend| describe_one(req, backend, backend == selected))
        .collect()
}

/// One backend: resolved as `grind --agent <backend>` would, its settings listed, its program
/// looked up and probed.
fn describe_one(req: &AgentsRequest<'_>, backend: Backend, selected: bool) -> AgentInfo {
    let over = AgentOverride {
        backend: Some(backend),
        command: None,
    };
    let mut info = AgentInfo {
        backend,
        selected,
        program: None,
        found: None,
        version: None,
        model: None,
        settings: BTreeMap::new(),
        problem: None,
        warning: None,
        not_run: None,
    };
    let planned = match resolve_agent(&over, &req.config.agent, &req.config.pricing) {
        Ok(p) => p,
        Err(e) => {
            info.problem = Some(e);
            return info;
        }
    };
    info.program = Some(planned.program.value.clone());
    info.model = planned.model.clone();
    info.settings = settings_of(&planned, backend);
    let Some(binary) = planned.binary() else {
        return info;
    };
    info.found = agent::locate(Path::new(binary), req.path_var.as_deref(), &req.root);
    look_at_program(req, &planned, binary, &mut info);
    info
}

/// The effective settings of a resolved agent worth showing, each with where it came from.
fn settings_of(planned: &PlannedAgent, backend: Backend) -> BTreeMap<String, Setting> {
    let mut settings = BTreeMap::new();
    if let Some(mode) = &planned.permission_mode {
        let setting = Setting {
            value: mode.value.clone(),
            from: mode.from.to_string(),
        };
        settings.insert("permission_mode".into(), setting);
    }
    if backend == Backend::Gemini {
        let setting = Setting {
            value: agent::GEMINI_APPROVAL_MODE.to_string(),
            from: Origin::Default.to_string(),
        };
        settings.insert("approval_mode".into(), setting);
    }
    if let Some(sandbox) = &planned.sandbox {
        let setting = Setting {
            value: sandbox.value.clone(),
            from: sandbox.from.to_string(),
        };
        settings.insert("sandbox".into(), setting);
    }
    if !planned.args.is_empty() {
        let setting = Setting {
            value: planned.args.join(" "),
            from: Origin::Config.to_string(),
        };
        settings.insert("args".into(), setting);
    }
    settings
}

/// What the program `info.found` says: not found (a problem), the repository's own in an
/// untrusted repository (not run), or its version (with a warning when older than tested).
fn look_at_program(
    req: &AgentsRequest<'_>,
    planned: &PlannedAgent,
    binary: &str,
    info: &mut AgentInfo,
) {
    match &info.found {
        None => {
            info.problem = Some(format!(
                "`{binary}` is not on PATH: install it, or set `binary` in [agent] of \
                 .pitboss/config.toml"
            ))
        }
        Some(path) if !req.trusted && repository_supplied(&planned.program, path, &req.root) => {
            info.not_run = Some(format!(
                "`{binary}` comes from this repository (named by path in its \
                 .pitboss/config.toml, or found inside it), so it was not run"
            ));
        }
        Some(path) => match agent::probe_version(path, &req.root, req.probe_timeout) {
            Ok(v) => {
                let tested = adapter(planned, Path::new("git-pitboss")).tested_version();
                info.warning = tested.and_then(|t| agent::version_warning(binary, &v, t));
                info.version = Some(v);
            }
            Err(e) => info.problem = Some(e),
        },
    }
}

/// Whether the program is the repository's own: named by path in its config (which comes with
/// the clone), or found inside its work tree (a `PATH` with `.` or a relative directory in it).
fn repository_supplied(program: &crate::plan::Sourced<String>, found: &Path, root: &Path) -> bool {
    let by_path = program.value.contains('/');
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    (program.from == Origin::Config && by_path) || canon(found).starts_with(canon(root))
}

/// The adapter for the planned agent.
pub(crate) fn adapter(a: &PlannedAgent, exe: &Path) -> Box<dyn Adapter> {
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
