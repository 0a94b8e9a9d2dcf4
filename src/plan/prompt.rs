//! Prompt files: markdown with a YAML frontmatter that names the prompt and tunes how often it
//! runs.
//!
//! ```markdown
//! ---
//! name: fix-lints
//! description: Fix one clippy lint
//! weight: 2
//! ---
//! Run `cargo clippy` and fix the first warning…
//! ```
//!
//! Parsing is pure (text in, [`Prompt`] or every [`Problem`] out); [`load`] only adds reading the
//! file. A byte-order mark and CRLF line endings are accepted. Line numbers in problems are lines
//! of the file (the opening `---` is line 1).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::fields::{self, Problem, ProblemKind, Reader, Severity, check_name};

/// Every frontmatter key, in the order the docs list them.
pub(crate) const FIELDS: &[&str] = &[
    "name",
    "description",
    "weight",
    "every",
    "max_runs",
    "verify",
    "parallel_safe",
    "tags",
    "max_session_seconds",
    "max_session_cost_usd",
];

/// A prompt's name: `^[a-z0-9][a-z0-9_-]*$`, at most 64 characters. Names are what rotations,
/// run records and `--tag`-free command lines refer to, so they are plain and portable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub(crate) struct PromptName(String);

impl PromptName {
    pub(crate) fn parse(s: &str) -> Result<PromptName, String> {
        check_name(s, "a prompt name")?;
        Ok(PromptName(s.to_string()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PromptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a prompt was found, which decides shadowing: project prompts hide global ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Source {
    /// `--prompts-dir DIR`, used alone.
    Dir,
    /// The project's `.pitboss/grind/prompts/` (or `[grind] prompts_dir`).
    Project,
    /// The user's `~/.pitboss/grind/prompts/`.
    Global,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Dir => "dir",
            Source::Project => "project",
            Source::Global => "global",
        })
    }
}

/// A parsed prompt file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Prompt {
    pub name: PromptName,
    pub description: String,
    /// Share of picks within a rotation (≥ 1).
    pub weight: u32,
    /// Takes part in every N-th rotation (≥ 1).
    pub every: u32,
    /// At most this many sessions per run.
    pub max_runs: Option<u32>,
    /// Run `[grind] verify_command` after each session; its failure fails the session.
    pub verify: bool,
    /// May run alongside other sessions when `max_parallel` > 1; otherwise it runs alone.
    pub parallel_safe: bool,
    pub tags: Vec<String>,
    /// Wall-clock limit of one session (clamped to what is left before `--until`).
    pub max_session_seconds: Option<u64>,
    /// Cost limit of one session, in US dollars.
    pub max_session_cost_usd: Option<f64>,
    /// The markdown after the frontmatter: what the agent is asked to do.
    #[serde(skip)]
    pub body: String,
    pub path: PathBuf,
    pub source: Source,
}

/// Reads and parses the prompt file at `path`.
pub(crate) fn load(path: &Path, source: Source) -> Result<Prompt, Vec<Problem>> {
    let text = fields::read_text(path).map_err(|p| vec![p])?;
    parse(&text, path, source)
}

/// Parses a prompt file's text; `path` only names it in problems.
pub(crate) fn parse(text: &str, path: &Path, source: Source) -> Result<Prompt, Vec<Problem>> {
    let text = fields::normalize(text);
    let (yaml, body) = split_frontmatter(&text)
        .map_err(|kind| vec![Problem::file(path, kind).at(Some(1), None)])?;
    let node = fields::yaml::parse(yaml, path, 2).map_err(|p| vec![p])?;
    let reader = Reader::new(path);
    let prompt = reader.root(&node).and_then(|t| {
        t.check_keys(FIELDS, Severity::Error);
        // Read every field before giving up on any, so all problems are reported at once.
        let name = t.required("name").and_then(|n| {
            PromptName::parse(&n)
                .map_err(|msg| t.problem("name", ProblemKind::Invalid(msg)))
                .ok()
        });
        let description = t.required("description");
        let mut tags: Vec<String> = Vec::new();
        for tag in t.string_list("tags").unwrap_or_default() {
            match check_name(&tag, "a tag") {
                Ok(()) if !tags.contains(&tag) => tags.push(tag),
                Ok(()) => {}
                Err(msg) => t.problem("tags", ProblemKind::Invalid(msg)),
            }
        }
        let weight = t.u32_min("weight", 1).unwrap_or(1);
        let every = t.u32_min("every", 1).unwrap_or(1);
        let max_runs = t.u32_min("max_runs", 1);
        let verify = t.bool("verify").unwrap_or(false);
        let parallel_safe = t.bool("parallel_safe").unwrap_or(false);
        let max_session_seconds = t.whole("max_session_seconds", 1, u64::from(u32::MAX));
        let max_session_cost_usd = t.usd("max_session_cost_usd");
        Some(Prompt {
            name: name?,
            description: description?,
            weight,
            every,
            max_runs,
            verify,
            parallel_safe,
            tags,
            max_session_seconds,
            max_session_cost_usd,
            body: body.trim_start_matches('\n').to_string(),
            path: path.to_path_buf(),
            source,
        })
    });
    if body.trim().is_empty() {
        let msg = "the prompt text after the frontmatter is empty";
        reader.error(None, None, ProblemKind::Invalid(msg.into()));
    }
    match prompt {
        Some(prompt) if !reader.has_errors() => Ok(prompt),
        _ => Err(reader.finish()),
    }
}

/// Splits `---\n<yaml>\n---\n<body>`; the closing line may also be `...`.
fn split_frontmatter(text: &str) -> Result<(&str, &str), ProblemKind> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(ProblemKind::Syntax(
            "a prompt file starts with a line `---`, then the YAML frontmatter (name, description, …), \
             then `---` and the prompt text"
                .into(),
        ));
    }
    let start = first.len();
    let mut at = start;
    for line in lines {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Ok((&text[start..at], &text[at + line.len()..]));
        }
        at += line.len();
    }
    Err(ProblemKind::Syntax(
        "the frontmatter is not closed: add a line `---` after the last field".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Prompt, Vec<String>> {
        parse(text, Path::new("p/fix.md"), Source::Project)
            .map_err(|ps| ps.iter().map(ToString::to_string).collect())
    }

    const FULL: &str = "---\nname: fix-lints\ndescription: Fix one lint\nweight: 2\nevery: 3\n\
        max_runs: 4\nverify: true\nparallel_safe: true\ntags: [lint, rust, lint]\n\
        max_session_seconds: 600\nmax_session_cost_usd: 1.5\n---\n\nFix the first clippy warning.\n";

    #[test]
    fn parses_every_field() {
        let pr = p(FULL).unwrap();
        assert_eq!(pr.name.as_str(), "fix-lints");
        assert_eq!(pr.description, "Fix one lint");
        assert_eq!((pr.weight, pr.every, pr.max_runs), (2, 3, Some(4)));
        assert!(pr.verify && pr.parallel_safe);
        assert_eq!(pr.tags, ["lint", "rust"]);
        assert_eq!(pr.max_session_seconds, Some(600));
        assert_eq!(pr.max_session_cost_usd, Some(1.5));
        assert_eq!(pr.body, "Fix the first clippy warning.\n");
    }

    #[test]
    fn defaults_apply() {
        let pr = p("---\nname: a\ndescription: d\n---\nbody\n").unwrap();
        assert_eq!((pr.weight, pr.every, pr.max_runs), (1, 1, None));
        assert!(!pr.verify && !pr.parallel_safe && pr.tags.is_empty());
        assert_eq!(
            (pr.max_session_seconds, pr.max_session_cost_usd),
            (None, None)
        );
    }

    #[test]
    fn bom_crlf_and_dots_close() {
        let pr = p("\u{feff}---\r\nname: a\r\ndescription: d\r\n...\r\nbody\r\n").unwrap();
        assert_eq!(pr.body, "body\n");
    }

    #[test]
    fn missing_or_unclosed_frontmatter() {
        let e = p("name: a\n").unwrap_err();
        assert!(
            e[0].starts_with("p/fix.md:1: a prompt file starts with"),
            "{e:?}"
        );
        let e = p("---\nname: a\n").unwrap_err();
        assert!(e[0].contains("not closed"), "{e:?}");
    }

    #[test]
    fn yaml_syntax_error_has_file_line() {
        let e = p("---\nname: a\ndescription: [x\n---\nbody\n").unwrap_err();
        assert!(e[0].starts_with("p/fix.md:"), "{e:?}");
        assert!(e[0].contains("invalid YAML"), "{e:?}");
    }

    #[test]
    fn unknown_key_suggests_nearest() {
        let e = p("---\nname: a\ndescription: d\nwieght: 2\nfoo: 1\n---\nbody\n").unwrap_err();
        assert_eq!(
            e,
            [
                "p/fix.md:4: `wieght`: unknown field (did you mean `weight`?)",
                "p/fix.md:5: `foo`: unknown field"
            ]
        );
    }

    #[test]
    fn every_value_error_names_line_and_field() {
        let text = "---\nname: Fix Lints\ndescription: ''\nweight: 0\nevery: -1\nmax_runs: x\n\
            verify: yes\ntags: [ok, Bad Tag]\nmax_session_seconds: 0\nmax_session_cost_usd: -1\n---\nb\n";
        let e = p(text).unwrap_err();
        let expected = [
            (2, "`name`: \"Fix Lints\" is not a prompt name"),
            (3, "`description`: must not be empty"),
            (4, "`weight`: must be at least 1 (found 0)"),
            (5, "`every`: must be at least 1 (found -1)"),
            (
                6,
                "`max_runs`: expected a whole number, found the string \"x\"",
            ),
            (
                7,
                "`verify`: expected true or false, found the string \"yes\"",
            ),
            (8, "`tags`: \"Bad Tag\" is not a tag"),
            (9, "`max_session_seconds`: must be at least 1 (found 0)"),
            (
                10,
                "`max_session_cost_usd`: must be a finite amount of US dollars",
            ),
        ];
        assert_eq!(e.len(), expected.len(), "{e:#?}");
        for (got, (line, text)) in e.iter().zip(expected) {
            assert!(
                got.starts_with(&format!("p/fix.md:{line}: {text}")),
                "{got}"
            );
        }
    }

    #[test]
    fn missing_required_fields_and_empty_body() {
        let e = p("---\nweight: 1\n---\n\n").unwrap_err();
        assert_eq!(
            e,
            [
                "p/fix.md: `name`: missing (it is required)",
                "p/fix.md: `description`: missing (it is required)",
                "p/fix.md: the prompt text after the frontmatter is empty",
            ]
        );
        let e = p("---\nname: a\ndescription: d\n---\n  \n").unwrap_err();
        assert_eq!(
            e,
            ["p/fix.md: the prompt text after the frontmatter is empty"]
        );
    }

    #[test]
    fn frontmatter_must_be_a_mapping() {
        let e = p("---\n- a\n- b\n---\nbody\n").unwrap_err();
        assert!(e[0].contains("expected a table"), "{e:?}");
    }

    #[test]
    fn names() {
        assert!(PromptName::parse("fix-lints_2").is_ok());
        assert!(PromptName::parse("9lives").is_ok());
        for bad in ["", "-x", "_x", "Fix", "a b", "a/b", "é", &"a".repeat(65)] {
            assert!(PromptName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
