//! The dry-run report: what `grind --dry-run` found, as text for people and JSON for tools.
//!
//! Every effective value is shown with where it came from (`default`, `prompt`, `rotation`,
//! `config`, or the flag that set it), so a user can tell why a run would behave as it does.

use std::io::{self, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::cli::project::Paths;
use crate::cli::prompts::flags;
use crate::cli::resolve::duration;
use crate::cli::ui::{Style, Ui};
use crate::grind::resume::ResumePoint;
use crate::plan::budget::{Spent, StopReason};
use crate::plan::scheduler::Pick;
use crate::plan::{Origin, Plan, Sourced};

/// Everything the dry run found. `plan` is `None` when the plan itself could not be made.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub ready: bool,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
    pub workspace: Option<Workspace>,
    pub plan: Option<Plan>,
    /// Each prompt's session time limit for a session starting now (clamped to `--until`).
    pub session_limits: Vec<Option<u64>>,
    pub picks: Vec<Pick>,
    /// Sessions the iteration budget still allows (the preview stops there).
    pub iterations_left: Option<u64>,
    /// The scheduler state the picks start from.
    pub state: Value,
    pub resume: Option<ResumePoint>,
    pub spent: Spent,
    pub stop: Option<StopReason>,
}

/// Where the run would happen.
#[derive(Debug)]
pub(crate) struct Workspace {
    pub root: PathBuf,
    pub common_dir: PathBuf,
    pub base_commit: Option<String>,
    pub base_branch: Option<String>,
    /// Where the agent program was found on `PATH`.
    pub agent_found: Option<PathBuf>,
    pub now: DateTime<Utc>,
}

impl Report {
    pub(crate) fn failed(problems: Vec<String>, warnings: Vec<String>) -> Report {
        Report {
            problems,
            warnings,
            ..Report::default()
        }
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(crate) fn write_json(out: &mut impl Write, r: &Report) -> io::Result<()> {
    let mut v = json!({
        "ready": r.ready,
        "problems": r.problems,
        "warnings": r.warnings,
    });
    if let (Some(plan), Some(ws)) = (&r.plan, &r.workspace) {
        let prompts: Vec<Value> = plan
            .prompts
            .iter()
            .zip(&r.session_limits)
            .map(|(p, limit)| {
                let mut pv = serde_json::to_value(p).expect("a prompt is plain data");
                pv["session_seconds_now"] = json!(limit);
                pv
            })
            .collect();
        let mut agent = serde_json::to_value(&plan.agent).expect("the agent is plain data");
        agent["found"] = json!(ws.agent_found);
        let extra = json!({
            "workspace": {
                "root": ws.root,
                "common_dir": ws.common_dir,
                "config": plan.config_path,
                "base_branch": ws.base_branch,
                "base_commit": ws.base_commit,
                "now": time(ws.now),
            },
            "agent": agent,
            "rotation": plan.rotation,
            "parallel": Parallel::of(plan, &ws.common_dir),
            "prompts": prompts,
            "budgets": plan.budgets,
            "hooks": plan.hooks,
            "verify_command": plan.verify_command,
            "scheduler": {
                "backoff": plan.backoff,
                "tags": plan.tags,
                "skip_tags": plan.skip_tags,
                "state": r.state,
            },
            "resume": r.resume,
            "spent": {
                "iterations": r.spent.iterations,
                "tokens": r.spent.tokens,
                "cost_usd": r.spent.cost_usd,
                "consecutive_failures": r.spent.consecutive_failures,
            },
            "stop": r.stop,
            "iterations_left": r.iterations_left,
            "next_picks": r.picks,
        });
        if let (Value::Object(base), Value::Object(more)) = (&mut v, extra) {
            base.extend(more);
        }
    }
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

/// How a run would use its slots: how many, where (the run's id is not known yet), which
/// prompts may run beside others (`parallel_safe: true`) and which wait for idle slots and run
/// alone. Prompts left out by tags are in neither list.
#[derive(serde::Serialize)]
struct Parallel {
    slots: u32,
    slot_dir: String,
    side_by_side: Vec<String>,
    alone: Vec<String>,
}

impl Parallel {
    fn of(plan: &Plan, common_dir: &std::path::Path) -> Parallel {
        // What the run will do: with no prompt allowed beside another, one slot.
        let slots = plan.slots();
        let (side, alone): (Vec<_>, Vec<_>) = plan
            .runnable()
            .partition(|p| slots > 1 && p.prompt.parallel_safe);
        let names = |v: Vec<&crate::plan::PlannedPrompt>| -> Vec<String> {
            v.into_iter().map(|p| p.name().to_string()).collect()
        };
        Parallel {
            slots,
            slot_dir: format!(
                "{}/<run-id>/<slot>",
                crate::rundir::worktrees_dir(common_dir).display()
            ),
            side_by_side: names(side),
            alone: names(alone),
        }
    }
}

/// `value (origin)`, leaving out the origin when it is `prompt` (the prompt's own setting).
fn with_origin<T>(s: &Sourced<T>, show: impl Fn(&T) -> String) -> String {
    match s.from {
        Origin::Prompt => show(&s.value),
        _ => format!("{} ({})", show(&s.value), s.from),
    }
}

fn secs(v: &Option<u64>) -> String {
    v.map_or("unlimited".into(), |s| duration(s as i64))
}

fn usd(v: &Option<f64>) -> String {
    v.map_or("unlimited".into(), |c| format!("${c:.2}"))
}

fn count(v: &Option<u64>) -> String {
    v.map_or("unlimited".into(), |n| n.to_string())
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".into())
}

pub(crate) fn write_human(
    out: &mut impl Write,
    r: &Report,
    paths: &Paths,
    ui: &Ui,
) -> io::Result<()> {
    let (Some(plan), Some(ws)) = (&r.plan, &r.workspace) else {
        return Ok(());
    };
    write_workspace(out, plan, ws, paths, ui)?;
    write_agent(out, plan, ws, ui)?;
    write_rotation(out, plan, ws, paths, ui)?;
    write_prompts(out, r, plan, paths, ui)?;
    write_budgets(out, r, plan, ui)?;
    write_hooks(out, plan, ui)?;
    write_scheduler(out, r, plan, ui)?;
    write_picks(out, r, ui)
}

/// One `key value` line of a section, the values lined up.
fn kv(out: &mut dyn Write, k: &str, v: String) -> io::Result<()> {
    writeln!(out, "{k:<14}{v}")
}

/// The `workspace` section: the root, the base, the config file and where prompts are looked
/// for.
fn write_workspace(
    out: &mut impl Write,
    plan: &Plan,
    ws: &Workspace,
    paths: &Paths,
    ui: &Ui,
) -> io::Result<()> {
    writeln!(out, "{}", ui.paint(Style::Bold, "workspace"))?;
    kv(out, "  root", ws.root.display().to_string())?;
    let base = match (&ws.base_branch, &ws.base_commit) {
        (Some(b), Some(c)) => format!("{b} at {}", &c[..c.len().min(12)]),
        (None, Some(c)) => c[..c.len().min(12)].to_string(),
        _ => "-".into(),
    };
    kv(out, "  base", base)?;
    kv(
        out,
        "  config",
        plan.config_path
            .as_deref()
            .map_or("none (defaults)".into(), |c| paths.show(c)),
    )?;
    let dirs: Vec<String> = plan
        .searched
        .iter()
        .map(|(s, d, exists)| {
            format!(
                "{}{} ({s})",
                paths.show(d),
                if *exists { "" } else { ", absent" }
            )
        })
        .collect();
    kv(out, "  prompts", dirs.join("; "))?;
    Ok(())
}

/// The `agent` section: backend, program (and where it was found), model, permissions and
/// pricing.
fn write_agent(out: &mut impl Write, plan: &Plan, ws: &Workspace, ui: &Ui) -> io::Result<()> {
    let a = &plan.agent;
    writeln!(out, "\n{}", ui.paint(Style::Bold, "agent"))?;
    kv(out, "  backend", with_origin(&a.backend, |b| b.to_string()))?;
    let program = match (&a.backend.value, &ws.agent_found) {
        (crate::config::Backend::Command, _) => format!("sh -c {:?}", a.program.value),
        (crate::config::Backend::Demo, _) => format!("{} (built in)", a.program.value),
        (_, Some(found)) => format!("{} -> {}", a.program.value, found.display()),
        (_, None) => format!("{}, not found on PATH", a.program.value),
    };
    kv(out, "  program", format!("{program} ({})", a.program.from))?;
    if !a.args.is_empty() {
        kv(out, "  args", a.args.join(" "))?;
    }
    kv(out, "  model", or_dash(&a.model))?;
    if let Some(m) = &a.permission_mode {
        kv(out, "  permission", format!("{} ({})", m.value, m.from))?;
    }
    if let Some(s) = &a.sandbox {
        kv(out, "  sandbox", format!("{} ({})", s.value, s.from))?;
    }
    let pricing = a
        .pricing
        .map_or("none (costs as the agent reports them)".into(), |p| {
            format!(
                "${}/${} per M tokens in/out, ${}/${} cache read/write",
                p.input, p.output, p.cache_read, p.cache_write
            )
        });
    kv(out, "  pricing", pricing)?;
    if let (Some(file), Some(path)) = (&a.price_file, &plan.config.price_file) {
        kv(
            out,
            "  price file",
            format!("{path} ({} models)", file.len()),
        )?;
    }
    Ok(())
}

/// The `rotation` section: which rotation and why, and how many sessions run at once.
fn write_rotation(
    out: &mut impl Write,
    plan: &Plan,
    ws: &Workspace,
    paths: &Paths,
    ui: &Ui,
) -> io::Result<()> {
    let rot = &plan.rotation;
    writeln!(out, "\n{}", ui.paint(Style::Bold, "rotation"))?;
    let chosen = match rot.chosen_by {
        "--rotation" => "from --rotation",
        "default_rotation" => "from [grind] default_rotation",
        _ => "the default rotation",
    };
    let name = match (&rot.name, &rot.path) {
        (Some(n), Some(p)) => format!("{n} ({}, {chosen})", paths.show(p)),
        _ => "built-in: every prompt with its own settings".into(),
    };
    kv(out, "  name", name)?;
    if let Some(d) = &rot.description {
        kv(out, "  about", d.clone())?;
    }
    let par = Parallel::of(plan, &ws.common_dir);
    let parallel = if par.slots == 1 && rot.max_parallel.value > 1 {
        // What the run will do, with the setting it will not use and why.
        with_origin(&rot.max_parallel, |n| {
            format!("1 at a time: max_parallel is {n}, but no prompt sets `parallel_safe: true`")
        })
    } else {
        with_origin(&rot.max_parallel, |n| format!("{n} at once"))
    };
    kv(out, "  parallel", parallel)?;
    if par.slots > 1 {
        kv(
            out,
            "  slots",
            format!("{} slots, worktrees {}", par.slots, par.slot_dir),
        )?;
        let names = |v: &[String], none: &str| {
            if v.is_empty() {
                none.to_string()
            } else {
                v.join(", ")
            }
        };
        kv(
            out,
            "  in parallel",
            names(
                &par.side_by_side,
                "none (no prompt sets `parallel_safe: true`)",
            ),
        )?;
        kv(out, "  alone", names(&par.alone, "none"))?;
    }
    Ok(())
}

/// The `hooks` section: each hook's command, their time limit, and the verify command.
fn write_hooks(out: &mut impl Write, plan: &Plan, ui: &Ui) -> io::Result<()> {
    let h = &plan.hooks;
    writeln!(out, "\n{}", ui.paint(Style::Bold, "hooks"))?;
    for (k, v) in [
        ("pre_session", &h.pre_session),
        ("post_session", &h.post_session),
        ("on_failure", &h.on_failure),
    ] {
        let text = match &v.value {
            Some(cmd) => format!("{cmd} ({})", v.from),
            None => "-".into(),
        };
        writeln!(out, "  {k:<14}{text}")?;
    }
    writeln!(
        out,
        "  {:<14}{}",
        "timeout",
        with_origin(&h.timeout_seconds, |s| duration(*s as i64))
    )?;
    writeln!(out, "  {:<14}{}", "verify", or_dash(&plan.verify_command))?;
    Ok(())
}

/// The `scheduler` section: back-off, tag filters, benched prompts and the run it resumes.
fn write_scheduler(out: &mut impl Write, r: &Report, plan: &Plan, ui: &Ui) -> io::Result<()> {
    writeln!(out, "\n{}", ui.paint(Style::Bold, "scheduler"))?;
    let backoff = match &plan.backoff.value {
        Some(b) => format!(
            "after {} sessions in a row that change nothing, a prompt sits out {} turns ({})",
            b.after, b.skip_turns, plan.backoff.from
        ),
        None => "off".into(),
    };
    kv(out, "  back-off", backoff)?;
    let mut filters = Vec::new();
    if !plan.tags.is_empty() {
        filters.push(format!("only tags {}", plan.tags.join(", ")));
    }
    if !plan.skip_tags.is_empty() {
        filters.push(format!("skipping tags {}", plan.skip_tags.join(", ")));
    }
    kv(
        out,
        "  tags",
        if filters.is_empty() {
            "all prompts".into()
        } else {
            filters.join("; ")
        },
    )?;
    // Prompts the back-off benched, still sitting out (from a resumed run's state).
    let rotation = r.state["rotation"].as_u64().unwrap_or(0);
    let benched: Vec<String> = r.state["benched_until"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, until)| until.as_u64().filter(|u| *u > rotation).map(|u| (name, u)))
        .map(|(name, until)| format!("{name} until rotation {until}"))
        .collect();
    if !benched.is_empty() {
        kv(out, "  benched", benched.join(", "))?;
    }
    if let Some(res) = &r.resume {
        let at = r.state["rotation"].as_u64().unwrap_or(0);
        kv(
            out,
            "  resume",
            format!(
                "run {} ({}), {} sessions, last rotation {at}",
                res.run, res.status, res.sessions
            ),
        )?;
    }
    Ok(())
}

fn write_prompts(
    out: &mut impl Write,
    r: &Report,
    plan: &Plan,
    paths: &Paths,
    ui: &Ui,
) -> io::Result<()> {
    let taking = plan.runnable().count();
    let title = format!("prompts ({taking} taking part)");
    writeln!(out, "\n{}", ui.paint(Style::Bold, &title))?;
    let header = [
        "NAME", "SOURCE", "WEIGHT", "EVERY", "MAX_RUNS", "SESSION", "COST", "FLAGS", "PATH",
    ];
    let rows: Vec<[String; 9]> = plan
        .prompts
        .iter()
        .zip(&r.session_limits)
        .map(|(p, now)| {
            let mut time = with_origin(&p.max_session_seconds, secs);
            if *now != p.max_session_seconds.value {
                time = format!("{} (until: {})", time, secs(now));
            }
            let mut f = flags(&p.prompt);
            if let Some(why) = &p.excluded {
                f = format!("EXCLUDED by {why}");
            }
            [
                p.name().to_string(),
                p.prompt.source.to_string(),
                with_origin(&p.weight, |w| w.to_string()),
                with_origin(&p.every, |e| e.to_string()),
                with_origin(&p.max_runs, |m| m.map_or("-".into(), |m| m.to_string())),
                time,
                with_origin(&p.max_session_cost_usd, usd),
                f,
                paths.show(&p.prompt.path),
            ]
        })
        .collect();
    let mut table = Vec::new();
    crate::cli::prompts::write_columns(&mut table, &header, &rows)?;
    for line in String::from_utf8_lossy(&table).lines() {
        writeln!(out, "  {line}")?;
    }
    for p in plan.prompts.iter().filter(|p| p.shadows.is_some()) {
        let hidden = p
            .shadows
            .as_deref()
            .map(|h| paths.show(h))
            .unwrap_or_default();
        writeln!(out, "  {} shadows the global {hidden}", p.name())?;
    }
    for sk in &plan.skipped {
        writeln!(out, "  skipped {}: {}", paths.show(&sk.path), sk.why)?;
    }
    Ok(())
}

fn write_budgets(out: &mut impl Write, r: &Report, plan: &Plan, ui: &Ui) -> io::Result<()> {
    let b = &plan.budgets;
    writeln!(out, "\n{}", ui.paint(Style::Bold, "budgets"))?;
    let until = |v: &Option<DateTime<Utc>>| v.map_or("unlimited".into(), time);
    let rows = [
        (
            "max iterations",
            count(&b.max_iterations.value),
            &b.max_iterations.from,
        ),
        ("until", until(&b.until.value), &b.until.from),
        ("max cost", usd(&b.max_cost_usd.value), &b.max_cost_usd.from),
        ("max tokens", count(&b.max_tokens.value), &b.max_tokens.from),
        (
            "failures",
            match b.consecutive_failure_limit.value {
                0 => "never stop".into(),
                n => format!("stop after {n} in a row"),
            },
            &b.consecutive_failure_limit.from,
        ),
        (
            "session time",
            secs(&b.max_session_seconds.value),
            &b.max_session_seconds.from,
        ),
        (
            "session cost",
            usd(&b.max_session_cost_usd.value),
            &b.max_session_cost_usd.from,
        ),
    ];
    for (k, v, from) in rows {
        writeln!(out, "  {k:<16}{v:<24}{from}")?;
    }
    if r.resume.is_some() {
        let s = &r.spent;
        writeln!(
            out,
            "  {:<16}{} sessions, {} tokens, ${:.4}, {} failed in a row",
            "spent", s.iterations, s.tokens, s.cost_usd, s.consecutive_failures
        )?;
    }
    Ok(())
}

fn write_picks(out: &mut impl Write, r: &Report, ui: &Ui) -> io::Result<()> {
    let n = r
        .picks
        .iter()
        .filter(|p| matches!(p, Pick::Run { .. }))
        .count();
    writeln!(
        out,
        "
{}",
        ui.paint(Style::Bold, &format!("next {n} picks"))
    )?;
    writeln!(out, "  {:>4}  {:>8}  PROMPT", "PICK", "ROTATION")?;
    for p in &r.picks {
        match p {
            Pick::Run {
                prompt,
                rotation,
                pick,
                skipped,
            } => {
                if let Some(s) = skipped {
                    let span = if s.first == s.last {
                        s.first.to_string()
                    } else {
                        format!("{}-{}", s.first, s.last)
                    };
                    writeln!(
                        out,
                        "  {:>4}  {span:>8}  (no prompt takes part: skipped)",
                        "-"
                    )?;
                }
                writeln!(out, "  {pick:>4}  {rotation:>8}  {prompt}")?;
            }
            Pick::Exhausted => writeln!(out, "  (exhausted: no prompt can run again)")?,
        }
    }
    let runs = r
        .picks
        .iter()
        .filter(|p| matches!(p, Pick::Run { .. }))
        .count() as u64;
    if r.iterations_left.is_some_and(|left| left == runs) {
        writeln!(out, "  (then the iteration budget stops the run)")?;
    }
    Ok(())
}
