//! `.pitboss/config.toml`: the project's settings for `grind` and its agent.
//!
//! Every key is optional; an absent file is an empty one. Unknown keys are warnings (with the
//! nearest valid key), so a config written for a newer pitboss still works; wrong values are
//! errors naming the line and the key. Every key parsed here is used: by the dry run, by the
//! grind loop, or by both; docs/config.md lists them with their defaults.
//!
//! Values that can also come from a rotation or the command line stay `Option` here, so the
//! resolver ([`crate::plan`]) can say where each effective value came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::fields::{self, Problem, ProblemKind, Reader, Severity, Table};

/// Where the config lives, relative to the project root (the top of the current work tree).
pub(crate) const CONFIG_FILE: &str = ".pitboss/config.toml";
/// Built-in defaults (docs/config.md).
pub(crate) const DEFAULT_PROMPTS_DIR: &str = ".pitboss/grind/prompts";
pub(crate) const ROTATIONS_DIR: &str = ".pitboss/grind/rotations";
pub(crate) const DEFAULT_ROTATION: &str = "default";
pub(crate) const DEFAULT_MAX_PARALLEL: u32 = 1;
pub(crate) const DEFAULT_CONSECUTIVE_FAILURE_LIMIT: u32 = 3;
pub(crate) const DEFAULT_BACKOFF_SKIP: u32 = 3;
pub(crate) const DEFAULT_HOOK_TIMEOUT_SECONDS: u64 = 300;
pub(crate) const DEFAULT_MAX_SESSION_SECONDS: u64 = 3600;
/// With `--until`, a session is not started with less than this left: a session cut off after
/// seconds does no useful work and is recorded as a failure (`timeout`).
pub(crate) const DEFAULT_MIN_SESSION_SECONDS: u64 = 60;

/// The keys the reader accepts, table by table (the `init` scaffold shows every one of them).
pub(crate) const ROOT_KEYS: &[&str] = &["grind", "agent", "budgets"];
pub(crate) const GRIND_KEYS: &[&str] = &[
    "prompts_dir",
    "default_rotation",
    "max_parallel",
    "consecutive_failure_limit",
    "verify_command",
    "backoff_after",
    "backoff_skip",
    "landing_merge_drivers",
    "hooks",
    "budgets",
];
pub(crate) const AGENT_KEYS: &[&str] = &[
    "backend",
    "binary",
    "args",
    "model",
    "permission_mode",
    "sandbox",
    "command",
];
/// `[budgets]` (prices), not `[grind.budgets]` ([`BUDGET_KEYS`]).
pub(crate) const TOP_BUDGET_KEYS: &[&str] = &["pricing", "price_file"];
pub(crate) const PRICING_KEYS: &[&str] = &["input", "output", "cache_read", "cache_write"];

/// The whole config.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct Config {
    /// The file it was read from; `None` when there is none.
    pub path: Option<PathBuf>,
    pub grind: GrindConfig,
    pub agent: AgentConfig,
    /// `[budgets.pricing."<model>"]`, by model name.
    pub pricing: BTreeMap<String, Pricing>,
    /// `[budgets] price_file`: a price list in litellm's format (relative to the project root).
    pub price_file: Option<String>,
}

/// `[grind]`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct GrindConfig {
    /// Replaces `.pitboss/grind/prompts` as the project's prompt folder (relative to the root).
    pub prompts_dir: Option<String>,
    pub default_rotation: Option<String>,
    pub max_parallel: Option<u32>,
    pub consecutive_failure_limit: Option<u32>,
    /// Run after each session of a prompt with `verify: true`, in its worktree.
    pub verify_command: Option<String>,
    /// Back-off: bench a prompt after this many sessions in a row changed nothing (0: off).
    pub backoff_after: Option<u32>,
    /// Back-off: how many of its turns a benched prompt sits out.
    pub backoff_skip: Option<u32>,
    /// `landing_merge_drivers = "respect"`: the landing queue keeps what the merge drivers of
    /// the repository's attributes make of overlapping edits (default `text`: a conflict).
    pub landing_merge_drivers: Option<String>,
    pub hooks: HookTable,
    pub budgets: BudgetTable,
}

/// A `[hooks]` table (`[grind.hooks]` or a rotation's): shell commands run by the grind loop.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct HookTable {
    pub pre_session: Option<String>,
    pub post_session: Option<String>,
    pub on_failure: Option<String>,
    pub timeout_seconds: Option<u64>,
}

pub(crate) const HOOK_KEYS: &[&str] = &[
    "pre_session",
    "post_session",
    "on_failure",
    "timeout_seconds",
];

impl HookTable {
    pub(crate) fn read(t: &Table) -> HookTable {
        HookTable {
            pre_session: t.nonblank("pre_session"),
            post_session: t.nonblank("post_session"),
            on_failure: t.nonblank("on_failure"),
            timeout_seconds: t.whole("timeout_seconds", 1, u64::from(u32::MAX)),
        }
    }
}

/// A budgets table (`[grind.budgets]` or a rotation's `[budgets]`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct BudgetTable {
    pub max_iterations: Option<u64>,
    pub max_cost_usd: Option<f64>,
    pub max_tokens: Option<u64>,
    /// Default session limits for prompts that set none.
    pub max_session_seconds: Option<u64>,
    pub max_session_cost_usd: Option<f64>,
    /// With `--until`: start no session with less than this many seconds left.
    pub min_session_seconds: Option<u64>,
    /// Only in a rotation's `[budgets]` (the config has it in `[grind]`).
    pub consecutive_failure_limit: Option<u32>,
}

pub(crate) const BUDGET_KEYS: &[&str] = &[
    "max_iterations",
    "max_cost_usd",
    "max_tokens",
    "max_session_seconds",
    "max_session_cost_usd",
    "min_session_seconds",
];

impl BudgetTable {
    /// Reads the keys of [`BUDGET_KEYS`] (the caller checks for unknown ones).
    pub(crate) fn read(t: &Table) -> BudgetTable {
        BudgetTable {
            max_iterations: t.whole("max_iterations", 1, u64::MAX),
            max_cost_usd: t.usd("max_cost_usd"),
            max_tokens: t.whole("max_tokens", 1, u64::MAX),
            max_session_seconds: t.whole("max_session_seconds", 1, u64::from(u32::MAX)),
            max_session_cost_usd: t.usd("max_session_cost_usd"),
            min_session_seconds: t.whole("min_session_seconds", 0, u64::from(u32::MAX)),
            consecutive_failure_limit: None,
        }
    }
}

/// The agent backends (the adapters of [`crate::agent`]). Other agents (a script of your own)
/// run through `command`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Backend {
    /// Claude Code (`claude -p --output-format stream-json`).
    Claude,
    /// OpenAI's Codex CLI (`codex exec --json`).
    Codex,
    /// Google's Gemini CLI (`gemini --output-format stream-json`).
    Gemini,
    /// Aider (`aider --message-file …`).
    Aider,
    /// Any command line, run through `sh -c` with the prompt on stdin.
    Command,
    /// The built-in offline agent (`git-pitboss agent-demo`).
    Demo,
}

impl Backend {
    pub(crate) const ALL: [Backend; 6] = [
        Backend::Claude,
        Backend::Codex,
        Backend::Gemini,
        Backend::Aider,
        Backend::Command,
        Backend::Demo,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Backend::Claude => "claude",
            Backend::Codex => "codex",
            Backend::Gemini => "gemini",
            Backend::Aider => "aider",
            Backend::Command => "command",
            Backend::Demo => "demo",
        }
    }

    /// Parses a backend name; the error lists the valid ones and the nearest.
    pub(crate) fn parse(s: &str) -> Result<Backend, String> {
        if let Some(b) = Backend::ALL.into_iter().find(|b| b.as_str() == s) {
            return Ok(b);
        }
        let names: Vec<&str> = Backend::ALL.iter().map(|b| b.as_str()).collect();
        let near =
            fields::closest(s, names.iter().copied()).map(|n| format!(" (did you mean `{n}`?)"));
        Err(format!(
            "unknown agent backend {s:?}{}; use one of: {} (other agents run with --agent-cmd)",
            near.unwrap_or_default(),
            names.join(", ")
        ))
    }

    /// The program looked up on `PATH` when `[agent] binary` is not set (`None` for `command`,
    /// a shell command line, and `demo`, which is pitboss itself).
    pub(crate) fn default_binary(self) -> Option<&'static str> {
        match self {
            Backend::Claude => Some("claude"),
            Backend::Codex => Some("codex"),
            Backend::Gemini => Some("gemini"),
            Backend::Aider => Some("aider"),
            Backend::Command | Backend::Demo => None,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Claude Code's `--permission-mode` values.
pub(crate) const PERMISSION_MODES: &[&str] = &[
    "default",
    "acceptEdits",
    "bypassPermissions",
    "plan",
    "dontAsk",
];

/// Codex's `--sandbox` values (kept here, beside the key that names one, so that reading the
/// configuration needs nothing from the adapters).
pub(crate) const SANDBOX_MODES: &[&str] = &["read-only", "workspace-write", "danger-full-access"];

/// `[agent]`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct AgentConfig {
    pub backend: Option<Backend>,
    /// The program for a named backend (default: the backend's usual name, found on `PATH`).
    pub binary: Option<String>,
    /// Extra arguments after the ones pitboss passes.
    pub args: Vec<String>,
    pub model: Option<String>,
    /// Claude Code only; ignored by the other backends.
    pub permission_mode: Option<String>,
    /// Codex only: `--sandbox` (`read-only`, `workspace-write`, `danger-full-access`).
    pub sandbox: Option<String>,
    /// The command line of the `command` backend.
    pub command: Option<String>,
}

/// `[budgets.pricing."<model>"]`: the usage module owns the type, so prices and token counts
/// meet in one place.
pub(crate) use crate::usage::Pricing;

impl Config {
    /// Reads the config at `path`; a missing file is the default config. Problems include
    /// warnings (unknown keys); the config is usable when none is an error.
    pub(crate) fn load(path: &Path) -> (Config, Vec<Problem>) {
        if !path.exists() {
            return (Config::default(), Vec::new());
        }
        match fields::read_text(path) {
            Ok(text) => Config::parse(&text, path),
            Err(p) => (Config::default(), vec![p]),
        }
    }

    pub(crate) fn parse(text: &str, path: &Path) -> (Config, Vec<Problem>) {
        let node = match fields::toml::parse(text, path) {
            Ok(node) => node,
            Err(p) => return (Config::default(), vec![p]),
        };
        let reader = Reader::new(path);
        let mut config = Config {
            path: Some(path.to_path_buf()),
            ..Config::default()
        };
        if let Some(root) = reader.root(&node) {
            root.check_keys(ROOT_KEYS, Severity::Warning);
            if let Some(g) = root.table("grind") {
                config.grind = read_grind(&g);
            }
            if let Some(a) = root.table("agent") {
                config.agent = read_agent(&a);
            }
            if let Some(b) = root.table("budgets") {
                b.check_keys(TOP_BUDGET_KEYS, Severity::Warning);
                config.pricing = read_pricing(&b);
                config.price_file = b.nonblank("price_file");
            }
        }
        (config, reader.finish())
    }
}

fn read_grind(g: &Table) -> GrindConfig {
    g.check_keys(GRIND_KEYS, Severity::Warning);
    let default_rotation = g.nonblank("default_rotation").filter(|r| {
        crate::fields::check_name(r, "a rotation name")
            .map_err(|m| g.problem("default_rotation", ProblemKind::Invalid(m)))
            .is_ok()
    });
    GrindConfig {
        prompts_dir: g.nonblank("prompts_dir"),
        default_rotation,
        max_parallel: g.u32_min("max_parallel", 1),
        consecutive_failure_limit: g.u32_min("consecutive_failure_limit", 0),
        verify_command: g.nonblank("verify_command"),
        backoff_after: g.u32_min("backoff_after", 0),
        backoff_skip: g.u32_min("backoff_skip", 1),
        landing_merge_drivers: g.nonblank("landing_merge_drivers").filter(|v| {
            let ok = v == "text" || v == "respect";
            if !ok {
                let msg = "must be `text` (overlapping edits conflict) or `respect` (the \
                           repository's merge drivers decide)";
                g.problem("landing_merge_drivers", ProblemKind::Invalid(msg.into()));
            }
            ok
        }),
        hooks: g
            .table("hooks")
            .map(|h| {
                h.check_keys(HOOK_KEYS, Severity::Warning);
                HookTable::read(&h)
            })
            .unwrap_or_default(),
        budgets: g
            .table("budgets")
            .map(|b| {
                let keys: Vec<&str> = BUDGET_KEYS.iter().copied().chain(["consecutive_failure_limit"]).collect();
                b.check_keys(&keys, Severity::Warning);
                if b.get("consecutive_failure_limit").is_some() {
                    let msg = "ignored: in the config it belongs in [grind] (rotations have it in [budgets])";
                    let line = b.get("consecutive_failure_limit").and_then(|e| e.line);
                    let field = b.field("consecutive_failure_limit");
                    b.reader().warn(line, Some(&field), ProblemKind::Invalid(msg.into()));
                }
                BudgetTable::read(&b)
            })
            .unwrap_or_default(),
    }
}

fn read_agent(a: &Table) -> AgentConfig {
    a.check_keys(AGENT_KEYS, Severity::Warning);
    let backend = a.nonblank("backend").and_then(|b| {
        Backend::parse(&b)
            .map_err(|m| a.problem("backend", ProblemKind::Invalid(m)))
            .ok()
    });
    let permission_mode = a.nonblank("permission_mode").filter(|m| {
        let ok = PERMISSION_MODES.contains(&m.as_str());
        if !ok {
            let msg = format!(
                "{m:?} is not a Claude Code permission mode; use one of: {}",
                PERMISSION_MODES.join(", ")
            );
            a.problem("permission_mode", ProblemKind::Invalid(msg));
        }
        ok
    });
    let sandbox = a.nonblank("sandbox").filter(|m| {
        let ok = SANDBOX_MODES.contains(&m.as_str());
        if !ok {
            let msg = format!(
                "{m:?} is not a Codex sandbox mode; use one of: {}",
                SANDBOX_MODES.join(", ")
            );
            a.problem("sandbox", ProblemKind::Invalid(msg));
        }
        ok
    });
    let agent = AgentConfig {
        backend,
        binary: a.nonblank("binary"),
        args: a.string_list("args").unwrap_or_default(),
        model: a.nonblank("model"),
        permission_mode,
        sandbox,
        command: a.nonblank("command"),
    };
    if agent.backend == Some(Backend::Command) && agent.command.is_none() {
        let msg = "backend \"command\" needs `command`, the command line to run".to_string();
        a.problem("command", ProblemKind::Invalid(msg));
    }
    agent
}

fn read_pricing(b: &Table) -> BTreeMap<String, Pricing> {
    let mut out = BTreeMap::new();
    let Some(p) = b.table("pricing") else {
        return out;
    };
    for e in p.entries() {
        let Some(model) = p.table(&e.key) else {
            continue;
        };
        model.check_keys(PRICING_KEYS, Severity::Warning);
        let (input, output) = (model.usd("input"), model.usd("output"));
        for (key, v) in [("input", input), ("output", output)] {
            if v.is_none() && model.get(key).is_none() {
                b.reader()
                    .error(model.line, Some(&model.field(key)), ProblemKind::Missing);
            }
        }
        out.insert(
            e.key.clone(),
            Pricing {
                input: input.unwrap_or(0.0),
                output: output.unwrap_or(0.0),
                cache_read: model.usd("cache_read").unwrap_or(0.0),
                cache_write: model.usd("cache_write").unwrap_or(0.0),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Config, Vec<String>) {
        let (c, ps) = Config::parse(text, Path::new(".pitboss/config.toml"));
        (c, ps.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn empty_and_missing_are_defaults() {
        assert_eq!(parse("").0.grind, GrindConfig::default());
        let (c, ps) = Config::load(Path::new("/nonexistent/config.toml"));
        assert_eq!((c, ps.len()), (Config::default(), 0));
    }

    #[test]
    fn reads_every_key() {
        let text = r#"
[grind]
prompts_dir = "prompts"
default_rotation = "nightly"
max_parallel = 4
consecutive_failure_limit = 0
verify_command = "cargo test"
backoff_after = 3
backoff_skip = 2
[grind.hooks]
pre_session = "hooks/pre.sh"
timeout_seconds = 60
[grind.budgets]
max_iterations = 50
max_cost_usd = 12.5
max_tokens = 2_000_000
max_session_seconds = 900
max_session_cost_usd = 1
[agent]
backend = "claude"
binary = "/opt/claude"
args = ["--verbose"]
model = "sonnet"
permission_mode = "acceptEdits"
[budgets.pricing."sonnet"]
input = 3
output = 15.0
cache_read = 0.3
cache_write = 3.75
"#;
        let (c, ps) = parse(text);
        assert!(ps.is_empty(), "{ps:?}");
        let g = &c.grind;
        assert_eq!(g.prompts_dir.as_deref(), Some("prompts"));
        assert_eq!(g.default_rotation.as_deref(), Some("nightly"));
        assert_eq!(
            (g.max_parallel, g.consecutive_failure_limit),
            (Some(4), Some(0))
        );
        assert_eq!(g.verify_command.as_deref(), Some("cargo test"));
        assert_eq!((g.backoff_after, g.backoff_skip), (Some(3), Some(2)));
        assert_eq!(g.hooks.pre_session.as_deref(), Some("hooks/pre.sh"));
        assert_eq!(g.hooks.timeout_seconds, Some(60));
        assert_eq!(g.budgets.max_tokens, Some(2_000_000));
        assert_eq!(g.budgets.max_session_cost_usd, Some(1.0));
        assert_eq!(c.agent.backend, Some(Backend::Claude));
        assert_eq!(c.agent.args, ["--verbose"]);
        assert_eq!(c.pricing["sonnet"].cache_write, 3.75);
    }

    #[test]
    fn unknown_keys_warn_with_suggestions() {
        let (c, ps) =
            parse("[grind]\nmax_paralel = 2\n[agnet]\nx = 1\n[grind.budgets]\nmax_cost = 1\n");
        assert_eq!(
            ps,
            [
                ".pitboss/config.toml:2: `grind.max_paralel`: unknown field (did you mean `max_parallel`?)",
                ".pitboss/config.toml:3: `agnet`: unknown field (did you mean `agent`?)",
                ".pitboss/config.toml:6: `grind.budgets.max_cost`: unknown field (did you mean `max_cost_usd`?)",
            ]
        );
        let (_, problems) = Config::parse("[agnet]\n", Path::new("c"));
        assert!(problems.iter().all(|p| !p.is_error()));
        assert_eq!(c.grind.max_parallel, None);
    }

    #[test]
    fn failure_limit_in_grind_budgets_says_where_it_belongs() {
        let (c, ps) = parse("[grind.budgets]\nconsecutive_failure_limit = 2\n");
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert!(ps[0].contains(":2: `grind.budgets.consecutive_failure_limit`: ignored: in the config it belongs in [grind]"), "{ps:?}");
        assert_eq!(c.grind.consecutive_failure_limit, None);
    }

    #[test]
    fn bad_values_are_errors() {
        let text = "[grind]\nmax_parallel = 0\ndefault_rotation = \"Bad Name\"\n[agent]\nbackend = \"claud\"\n\
            permission_mode = \"yolo\"\n[budgets.pricing.m]\ninput = -1\n";
        let (_, ps) = parse(text);
        let expected = [
            ":2: `grind.max_parallel`: must be at least 1",
            ":3: `grind.default_rotation`: \"Bad Name\" is not a rotation name",
            ":5: `agent.backend`: unknown agent backend \"claud\" (did you mean `claude`?)",
            ":6: `agent.permission_mode`: \"yolo\" is not a Claude Code permission mode",
            ":8: `budgets.pricing.m.input`: must be a finite amount",
            ":7: `budgets.pricing.m.output`: missing",
        ];
        assert_eq!(ps.len(), expected.len(), "{ps:#?}");
        for want in expected {
            assert!(ps.iter().any(|p| p.contains(want)), "{want} not in {ps:#?}");
        }
    }

    #[test]
    fn codex_backend_and_its_sandbox() {
        let (c, ps) = parse("[agent]\nbackend = \"codex\"\nsandbox = \"workspace-write\"\n");
        assert!(ps.is_empty(), "{ps:?}");
        assert_eq!(c.agent.backend, Some(Backend::Codex));
        assert_eq!(c.agent.sandbox.as_deref(), Some("workspace-write"));
        assert_eq!(Backend::Codex.default_binary(), Some("codex"));
        let (_, ps) = parse("[agent]\nbackend = \"codex\"\nsandbox = \"yolo\"\n");
        assert!(
            ps[0].contains("`agent.sandbox`: \"yolo\" is not a Codex sandbox mode"),
            "{ps:?}"
        );
    }

    #[test]
    fn command_backend_needs_a_command() {
        let (_, ps) = parse("[agent]\nbackend = \"command\"\n");
        assert!(
            ps[0].contains("`agent.command`: backend \"command\" needs `command`"),
            "{ps:?}"
        );
        let (c, ps) = parse("[agent]\nbackend = \"command\"\ncommand = \"./agent.sh\"\n");
        assert!(ps.is_empty());
        assert_eq!(c.agent.command.as_deref(), Some("./agent.sh"));
    }

    #[test]
    fn syntax_errors_are_one_problem() {
        let (_, ps) = parse("[grind\n");
        assert_eq!(ps.len(), 1);
        assert!(
            ps[0].starts_with(".pitboss/config.toml:1: invalid TOML"),
            "{ps:?}"
        );
    }
}
