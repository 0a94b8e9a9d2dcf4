//! Rotation files: `.pitboss/grind/rotations/<name>.toml` choose which prompts take part in a run
//! and tune them.
//!
//! ```toml
//! description = "nightly clean-up"
//! max_parallel = 2
//!
//! [[prompts]]
//! name = "fix-lints"
//! weight_override = 3
//!
//! [hooks]
//! post_session = "hooks/notify.sh"
//!
//! [budgets]
//! max_cost_usd = 20
//! ```
//!
//! A rotation without `[[prompts]]` entries takes every discovered prompt with its own settings.
//! Overrides win over the prompt's frontmatter. Unknown keys, duplicate entries and bad values
//! are errors naming the file, the line and the entry (`prompts[2].weight_override`); prompt
//! names are checked against the discovered prompts by [`RotationFile::check_prompts`].

use std::path::{Path, PathBuf};

use super::prompt::PromptName;
use crate::config::{BUDGET_KEYS, BudgetTable, HOOK_KEYS, HookTable};
use crate::fields::check_name;
use crate::fields::{self, Problem, ProblemKind, Reader, Severity};

/// One `[[prompts]]` entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct RotationEntry {
    pub name: PromptName,
    pub weight_override: Option<u32>,
    pub every_override: Option<u32>,
    pub max_runs_override: Option<u32>,
    /// `prompts[N]`, for messages.
    #[serde(skip)]
    pub field: String,
    #[serde(skip)]
    pub line: Option<usize>,
}

/// A parsed rotation file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct RotationFile {
    /// The file name without `.toml`.
    pub name: String,
    pub path: PathBuf,
    pub description: Option<String>,
    pub max_parallel: Option<u32>,
    /// Empty: every discovered prompt.
    pub prompts: Vec<RotationEntry>,
    pub hooks: HookTable,
    pub budgets: BudgetTable,
}

const TOP_KEYS: &[&str] = &["description", "max_parallel", "prompts", "hooks", "budgets"];
const ENTRY_KEYS: &[&str] = &[
    "name",
    "weight_override",
    "every_override",
    "max_runs_override",
];

/// Reads and parses the rotation file at `path`.
pub(crate) fn load(path: &Path) -> Result<RotationFile, Vec<Problem>> {
    let text = fields::read_text(path).map_err(|p| vec![p])?;
    parse(&text, path)
}

/// The rotation files of `dir` (`*.toml`), sorted by name; none when it does not exist.
pub(crate) fn list(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    out.sort();
    out
}

/// The rotation name a file path stands for (its stem).
pub(crate) fn name_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Parses a rotation file's text; `path` names it in problems and gives the rotation its name.
pub(crate) fn parse(text: &str, path: &Path) -> Result<RotationFile, Vec<Problem>> {
    match parse_lenient(text, path) {
        (Some(r), problems) if problems.is_empty() => Ok(r),
        (_, problems) => Err(problems),
    }
}

/// Like [`parse`], but also returns what could be read despite problems (bad entries left
/// out), so `prompts validate` can check the prompt names of a file with other mistakes.
pub(crate) fn parse_lenient(text: &str, path: &Path) -> (Option<RotationFile>, Vec<Problem>) {
    let node = match fields::toml::parse(text, path) {
        Ok(node) => node,
        Err(p) => return (None, vec![p]),
    };
    let reader = Reader::new(path);
    let name = name_of(path);
    if let Err(msg) = check_name(&name, "a rotation name") {
        let msg = format!("the file name gives the rotation its name, and {msg}");
        reader.error(None, None, ProblemKind::Invalid(msg));
    }
    let mut rotation = RotationFile {
        name,
        path: path.to_path_buf(),
        description: None,
        max_parallel: None,
        prompts: Vec::new(),
        hooks: HookTable::default(),
        budgets: BudgetTable::default(),
    };
    if let Some(root) = reader.root(&node) {
        root.check_keys(TOP_KEYS, Severity::Error);
        rotation.description = root.nonblank("description");
        rotation.max_parallel = root.u32_min("max_parallel", 1);
        for t in root.tables("prompts") {
            t.check_keys(ENTRY_KEYS, Severity::Error);
            let entry_name = t.required("name").and_then(|n| {
                PromptName::parse(&n)
                    .map_err(|m| t.problem("name", ProblemKind::Invalid(m)))
                    .ok()
            });
            let entry = entry_name.map(|name| RotationEntry {
                name,
                weight_override: t.u32_min("weight_override", 1),
                every_override: t.u32_min("every_override", 1),
                max_runs_override: t.u32_min("max_runs_override", 1),
                field: t.field("").trim_end_matches('.').to_string(),
                line: t.line,
            });
            let Some(entry) = entry else { continue };
            if let Some(first) = rotation.prompts.iter().find(|e| e.name == entry.name) {
                let at = first
                    .line
                    .map(|l| format!(" (line {l})"))
                    .unwrap_or_default();
                let msg = format!(
                    "prompt `{}` is already listed in {}{at}",
                    entry.name, first.field
                );
                t.problem("name", ProblemKind::Invalid(msg));
                continue;
            }
            rotation.prompts.push(entry);
        }
        if let Some(h) = root.table("hooks") {
            h.check_keys(HOOK_KEYS, Severity::Error);
            rotation.hooks = HookTable::read(&h);
        }
        if let Some(b) = root.table("budgets") {
            let keys: Vec<&str> = BUDGET_KEYS
                .iter()
                .copied()
                .chain(["consecutive_failure_limit"])
                .collect();
            b.check_keys(&keys, Severity::Error);
            rotation.budgets = BudgetTable::read(&b);
            rotation.budgets.consecutive_failure_limit = b.u32_min("consecutive_failure_limit", 0);
        }
    }
    (Some(rotation), reader.finish())
}

impl RotationFile {
    /// A problem for each entry naming no known prompt (with the nearest known name).
    pub(crate) fn check_prompts<'a>(
        &self,
        known: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Vec<Problem> {
        let mut out = Vec::new();
        for e in &self.prompts {
            if known.clone().into_iter().any(|k| k == e.name.as_str()) {
                continue;
            }
            let near = fields::closest(e.name.as_str(), known.clone())
                .map(|n| format!(" (did you mean `{n}`?)"));
            let msg = format!("no prompt named `{}`{}", e.name, near.unwrap_or_default());
            let field = format!("{}.name", e.field);
            out.push(Problem::file(&self.path, ProblemKind::Invalid(msg)).at(e.line, Some(&field)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<RotationFile, Vec<String>> {
        parse(text, Path::new("rot/nightly.toml"))
            .map_err(|ps| ps.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn parses_everything() {
        let r = p(r#"
description = "night"
max_parallel = 2
[[prompts]]
name = "a"
weight_override = 3
every_override = 2
max_runs_override = 5
[[prompts]]
name = "b"
[hooks]
pre_session = "hooks/pre.sh"
on_failure = "hooks/fail.sh"
[budgets]
max_iterations = 10
max_cost_usd = 2.5
consecutive_failure_limit = 0
"#)
        .unwrap();
        assert_eq!(r.name, "nightly");
        assert_eq!(
            (r.description.as_deref(), r.max_parallel),
            (Some("night"), Some(2))
        );
        assert_eq!(r.prompts.len(), 2);
        let a = &r.prompts[0];
        assert_eq!(
            (a.weight_override, a.every_override, a.max_runs_override),
            (Some(3), Some(2), Some(5))
        );
        assert_eq!((a.field.as_str(), a.line), ("prompts[1]", Some(4)));
        assert_eq!(r.prompts[1].weight_override, None);
        assert_eq!(r.hooks.on_failure.as_deref(), Some("hooks/fail.sh"));
        assert_eq!(r.budgets.max_iterations, Some(10));
        assert_eq!(r.budgets.consecutive_failure_limit, Some(0));
    }

    #[test]
    fn empty_file_means_every_prompt() {
        let r = p("").unwrap();
        assert!(r.prompts.is_empty() && r.max_parallel.is_none());
    }

    #[test]
    fn errors_name_file_line_and_entry() {
        let e = p("max_parallel = 0\n[[prompts]]\nname = \"a\"\nweight_overide = 2\n[[prompts]]\nname = \"b\"\n\
                   every_override = 0\n[[prompts]]\nname = \"a\"\n[[prompts]]\nweight_override = 1\n\
                   [budgets]\nmax_iterations = 0\nuntil = 1\n")
            .unwrap_err();
        let expected = [
            "rot/nightly.toml:1: `max_parallel`: must be at least 1 (found 0)",
            "rot/nightly.toml:4: `prompts[1].weight_overide`: unknown field (did you mean `weight_override`?)",
            "rot/nightly.toml:7: `prompts[2].every_override`: must be at least 1 (found 0)",
            "rot/nightly.toml:9: `prompts[3].name`: prompt `a` is already listed in prompts[1] (line 2)",
            "rot/nightly.toml:10: `prompts[4].name`: missing (it is required)",
            "rot/nightly.toml:13: `budgets.max_iterations`: must be at least 1 (found 0)",
            "rot/nightly.toml:14: `budgets.until`: unknown field",
        ];
        assert_eq!(e, expected);
    }

    #[test]
    fn bad_file_name_and_syntax() {
        let e = parse("", Path::new("r/Night Shift.toml")).unwrap_err();
        assert!(e[0].to_string().contains("is not a rotation name"), "{e:?}");
        let e = p("[[prompts]\n").unwrap_err();
        assert!(
            e[0].starts_with("rot/nightly.toml:1: invalid TOML"),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_prompt_names_suggest() {
        let r = p("[[prompts]]\nname = \"fix-lint\"\n[[prompts]]\nname = \"docs\"\n").unwrap();
        let problems = r.check_prompts(["fix-lints", "docs"]);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "rot/nightly.toml:1: `prompts[1].name`: no prompt named `fix-lint` (did you mean `fix-lints`?)"
        );
    }

    #[test]
    fn lists_toml_files_only() {
        let t = tempfile::tempdir().unwrap();
        for f in ["b.toml", "a.toml", "notes.md"] {
            std::fs::write(t.path().join(f), "").unwrap();
        }
        let names: Vec<String> = list(t.path()).iter().map(|p| name_of(p)).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(list(&t.path().join("missing")).is_empty());
    }
}
