//! How a run was started, kept in its `run.json` (under [`STARTED_WITH_KEY`]) so that
//! `git pitboss grind --resume <run>` goes on the same way: the agent (backend, the command of
//! `--agent-cmd`, the model), the rotation, the prompt folder and tag filters, and the budgets
//! given on the command line. The command line of the resume overrides any of them, and the
//! CLI says which it overrode.
//!
//! Why: a run started with `--agent-cmd` and resumed with a bare `--resume` went on with
//! Claude Code (the default agent), and the resume hint grind prints did not work for a run
//! started with `--prompts-dir`. Budgets from the config and the rotation are not kept: they
//! are read again, as they are for a new run.
//!
//! `run.json` is pushed, and a command line can hold a secret (`--agent-cmd 'tool --token …'`),
//! so what it keeps is redacted. The values as given live only in this clone, in
//! [`local_path`] (never pushed); a resume in a clone without them that would need a redacted
//! value refuses and says which flag to pass again.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::agent::Redactor;
use crate::agent::redact::REDACTED;
use crate::config::Backend;
use crate::plan::{Plan, PlanRequest, RotationChoice};
use crate::store::{RunId, RunMeta};

/// The `run.json` key.
pub(crate) const STARTED_WITH_KEY: &str = "started_with";

/// What a run was started with. Every field is optional: runs made before this was kept have
/// none, and a field the start did not set is not reused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StartedWith {
    /// The backend the run used (`claude`, `command`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The command line of the `command` backend (from `--agent-cmd` or the config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_cmd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `--rotation`, as a name or an absolute path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_path: Option<PathBuf>,
    /// `--prompts-dir`, absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_dir: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_failure_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_after: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_skip: Option<u32>,
}

/// Where this clone keeps how run `id` started, unredacted:
/// `<git-common-dir>/pitboss/started/<id>.json`. Not in the run's working directory, which a
/// finished run removes, and not under `refs/`, so no push or fetch carries it.
pub(crate) fn local_path(common_dir: &Path, id: &RunId) -> PathBuf {
    crate::rundir::started_file(common_dir, id)
}

/// Deletes this clone's copy of how run `id` started, when the run itself is deleted: it may
/// hold a raw token, and nothing reads it once the run is gone. `Ok(false)` when there was none.
pub(crate) fn forget_local(common_dir: &Path, id: &RunId) -> std::io::Result<bool> {
    match std::fs::remove_file(local_path(common_dir, id)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// A setting of the start that the resume's command line replaced: the flag and the value the
/// run was started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Overridden {
    pub flag: &'static str,
    pub was: String,
}

impl Overridden {
    /// Whether this override replaced the setting [`StartedWith::redacted_flags`] names
    /// `flag`: `--agent` and `--agent-cmd` both replace the agent whole.
    pub(crate) fn replaces(&self, flag: &str) -> bool {
        self.flag == flag || (flag == "--agent" && self.flag == "--agent-cmd")
    }
}

impl StartedWith {
    /// What a new run keeps: the agent as planned, the rest as the command line gave it.
    pub(crate) fn of(req: &PlanRequest, plan: &Plan) -> StartedWith {
        let backend = plan.agent.backend.value;
        let (rotation_name, rotation_path) = match &req.rotation {
            Some(RotationChoice::Name(n)) => (Some(n.clone()), None),
            Some(RotationChoice::Path(p)) => (None, Some(p.clone())),
            None => (None, None),
        };
        let b = &req.budgets;
        StartedWith {
            backend: Some(backend.as_str().to_string()),
            agent_cmd: (backend == Backend::Command).then(|| plan.agent.program.value.clone()),
            model: plan.agent.model.clone(),
            rotation_name,
            rotation_path,
            prompts_dir: req.prompts_dir.clone(),
            tags: req.tags.clone(),
            skip_tags: req.skip_tags.clone(),
            max_iterations: b.max_iterations,
            until: b.until,
            max_cost_usd: b.max_cost_usd,
            max_tokens: b.max_tokens,
            consecutive_failure_limit: b.consecutive_failure_limit,
            max_parallel: req.max_parallel,
            backoff_after: req.backoff_after,
            backoff_skip: req.backoff_skip,
        }
    }

    /// What a stored run was started with (`None` for runs made before it was kept, or when
    /// the stored value does not read).
    pub(crate) fn read(meta: &RunMeta) -> Option<StartedWith> {
        serde_json::from_value(meta.extra.get(STARTED_WITH_KEY)?.clone()).ok()
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("StartedWith is plain data, which always serialises")
    }

    /// The same with every string redacted: what `run.json` keeps, since runs are pushed.
    pub(crate) fn redacted(&self, r: &Redactor) -> StartedWith {
        let text = |v: &Option<String>| r.redact_opt(v.clone());
        let path = |v: &Option<PathBuf>| {
            v.as_ref()
                .map(|p| PathBuf::from(r.redact(&p.to_string_lossy()).into_owned()))
        };
        let list = |v: &[String]| v.iter().map(|t| r.redact(t).into_owned()).collect();
        StartedWith {
            backend: text(&self.backend),
            agent_cmd: text(&self.agent_cmd),
            model: text(&self.model),
            rotation_name: text(&self.rotation_name),
            rotation_path: path(&self.rotation_path),
            prompts_dir: path(&self.prompts_dir),
            tags: list(&self.tags),
            skip_tags: list(&self.skip_tags),
            ..self.clone()
        }
    }

    /// The settings whose kept value lost a secret to the redactor, each as the flag
    /// [`StartedWith::apply`] names it, the flag to give, and the value kept: a resume that took
    /// them from `run.json` would run with `[REDACTED]`.
    pub(crate) fn redacted_flags(&self) -> Vec<(&'static str, &'static str, String)> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let list = |v: &[String]| Some(v.join(","));
        let candidates = [
            ("--agent", "--agent-cmd", self.agent_cmd.clone()),
            ("--rotation", "--rotation", self.rotation_name.clone()),
            ("--rotation", "--rotation", path(&self.rotation_path)),
            ("--prompts-dir", "--prompts-dir", path(&self.prompts_dir)),
            ("--tag", "--tag", list(&self.tags)),
            ("--skip-tag", "--skip-tag", list(&self.skip_tags)),
        ];
        candidates
            .into_iter()
            .filter_map(|(flag, shown, v)| Some((flag, shown, v.filter(|v| v.contains(REDACTED))?)))
            .collect()
    }

    /// What this clone kept of how run `id` started, as given (see [`local_path`]); `None` in
    /// a clone that did not start it, or when the file does not read.
    pub(crate) fn read_local(common_dir: &Path, id: &RunId) -> Option<StartedWith> {
        let bytes = std::fs::read(local_path(common_dir, id)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps the values as given in this clone only, readable by its owner alone.
    pub(crate) fn save_local(&self, common_dir: &Path, id: &RunId) -> std::io::Result<PathBuf> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = local_path(common_dir, id);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(
            serde_json::to_string_pretty(self)
                .expect("StartedWith is plain data, which always serialises")
                .as_bytes(),
        )?;
        Ok(path)
    }

    /// Fills what the resume's command line left unset with what the run was started with;
    /// returns what the command line overrode.
    pub(crate) fn apply(&self, req: &mut PlanRequest) -> Vec<Overridden> {
        let mut over = Vec::new();
        let mut keep = |flag: &'static str, given: bool, was: Option<String>| match was {
            Some(was) if given => {
                over.push(Overridden { flag, was });
                false
            }
            Some(_) => true,
            None => false,
        };
        // The agent: `--agent` or `--agent-cmd` replace it whole.
        let agent_given = req.agent.backend.is_some() || req.agent.command.is_some();
        let was_agent = match (&self.backend, &self.agent_cmd) {
            (_, Some(cmd)) => Some(format!("--agent-cmd {cmd:?}")),
            (Some(b), None) => Some(format!("--agent {b}")),
            (None, None) => None,
        };
        // Named as the user gave it: `--agent-cmd` when a command was given.
        let agent_flag = if req.agent.command.is_some() {
            "--agent-cmd"
        } else {
            "--agent"
        };
        if keep(agent_flag, agent_given, was_agent) {
            match &self.agent_cmd {
                Some(cmd) => req.agent.command = Some(cmd.clone()),
                None => {
                    req.agent.backend = self.backend.as_deref().and_then(|b| Backend::parse(b).ok())
                }
            }
        }
        let was_rotation = self
            .rotation_name
            .clone()
            .or_else(|| self.rotation_path.as_ref().map(|p| p.display().to_string()));
        if keep("--rotation", req.rotation.is_some(), was_rotation) {
            req.rotation = match (&self.rotation_name, &self.rotation_path) {
                (Some(n), _) => Some(RotationChoice::Name(n.clone())),
                (None, Some(p)) => Some(RotationChoice::Path(p.clone())),
                (None, None) => None,
            };
        }
        let was_dir = self.prompts_dir.as_ref().map(|p| p.display().to_string());
        if keep("--prompts-dir", req.prompts_dir.is_some(), was_dir) {
            req.prompts_dir.clone_from(&self.prompts_dir);
        }
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(","));
        if keep("--tag", !req.tags.is_empty(), list(&self.tags)) {
            req.tags.clone_from(&self.tags);
        }
        if keep(
            "--skip-tag",
            !req.skip_tags.is_empty(),
            list(&self.skip_tags),
        ) {
            req.skip_tags.clone_from(&self.skip_tags);
        }
        macro_rules! option {
            ($flag:literal, $field:expr, $mine:expr) => {
                if keep($flag, $field.is_some(), $mine.map(|v| v.to_string())) {
                    $field = $mine;
                }
            };
        }
        let b = &mut req.budgets;
        option!("--max-iterations", b.max_iterations, self.max_iterations);
        option!("--until", b.until, self.until);
        option!("--max-cost", b.max_cost_usd, self.max_cost_usd);
        option!("--max-tokens", b.max_tokens, self.max_tokens);
        option!(
            "--consecutive-failure-limit",
            b.consecutive_failure_limit,
            self.consecutive_failure_limit
        );
        option!("--max-parallel", req.max_parallel, self.max_parallel);
        option!("--backoff-after", req.backoff_after, self.backoff_after);
        option!("--backoff-skip", req.backoff_skip, self.backoff_skip);
        over
    }

    /// The model the run was started with, when the resumed run uses the same backend (the
    /// model is no flag: a config changed since does not switch a run's model midway).
    pub(crate) fn apply_model(&self, plan: &mut Plan) {
        let same_backend = self.backend.as_deref() == Some(plan.agent.backend.value.as_str());
        if let (true, Some(m)) = (same_backend, &self.model)
            && plan.agent.model.as_ref() != Some(m)
        {
            plan.agent.model = Some(m.clone());
            plan.agent.pricing = plan.agent.price_overrides.get(m).copied();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::AgentOverride;

    #[test]
    fn the_command_line_overrides_what_it_gives_and_keeps_the_rest() {
        let started = StartedWith {
            backend: Some("command".into()),
            agent_cmd: Some("sh agent.sh".into()),
            prompts_dir: Some("/p".into()),
            tags: vec!["lint".into()],
            max_iterations: Some(5),
            max_cost_usd: Some(2.5),
            ..Default::default()
        };
        let mut req = PlanRequest::default();
        req.budgets.max_iterations = Some(9);
        let over = started.apply(&mut req);
        assert_eq!(
            over,
            [Overridden {
                flag: "--max-iterations",
                was: "5".into()
            }]
        );
        assert_eq!(req.budgets.max_iterations, Some(9));
        assert_eq!(req.budgets.max_cost_usd, Some(2.5));
        assert_eq!(req.agent.command.as_deref(), Some("sh agent.sh"));
        assert_eq!(req.prompts_dir, Some(PathBuf::from("/p")));
        assert_eq!(req.tags, ["lint"]);

        let mut req = PlanRequest {
            agent: AgentOverride {
                backend: Some(Backend::Demo),
                command: None,
            },
            ..Default::default()
        };
        let over = started.apply(&mut req);
        assert_eq!(over[0].flag, "--agent");
        assert_eq!(over[0].was, "--agent-cmd \"sh agent.sh\"");
        assert_eq!(req.agent.command, None, "the agent is replaced whole");

        // Another command is named `--agent-cmd`, and still replaces the (redacted) command.
        let mut req = PlanRequest::default();
        req.agent.command = Some("sh other.sh".into());
        let over = started.apply(&mut req);
        assert_eq!(over[0].flag, "--agent-cmd");
        assert!(over[0].replaces("--agent"));
        assert_eq!(req.agent.command.as_deref(), Some("sh other.sh"));

        // Nothing kept (a run from before): nothing changes.
        let mut req = PlanRequest::default();
        assert!(StartedWith::default().apply(&mut req).is_empty());
        assert_eq!(req.agent, AgentOverride::default());
    }
}
