//! Typed reading of user-written settings files, with errors that name the file, the line and
//! the field.
//!
//! Prompt frontmatter (YAML), rotations and `.pitboss/config.toml` (TOML) are all small trees of
//! tables and scalars that users write by hand. Rather than three serde schemas with three styles
//! of error, each format is converted to one position-carrying [`Node`] tree ([`yaml`],
//! [`toml`]) and read through [`Reader`]/[`Table`], which check types and ranges, flag unknown
//! keys with the nearest valid one, and collect every [`Problem`] instead of stopping at the
//! first: `prompts validate` prints them all, one line each.

pub(crate) mod toml;
pub(crate) mod yaml;

mod read;
mod suggest;

use std::fmt;
use std::path::{Path, PathBuf};

pub(crate) use read::{Reader, Table};
pub(crate) use suggest::closest;

/// A value read from a settings file, with the line it starts on (1-based, in the file).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: Option<usize>,
    pub value: Value,
}

/// The shapes a settings value can take; anything else (TOML dates, YAML aliases) is
/// [`Value::Other`], which every reader refuses by name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Node>),
    Map(Vec<Entry>),
    Other(&'static str),
}

/// One `key: value` of a table, with the line of the key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub line: Option<usize>,
    pub value: Node,
}

impl Value {
    /// How the value is named in "expected X, found Y".
    pub(crate) fn describe(&self) -> String {
        match self {
            Value::Null => "nothing (null)".into(),
            Value::Bool(b) => format!("{b}"),
            Value::Int(i) => format!("{i}"),
            Value::Float(f) => format!("{f}"),
            Value::Str(s) => format!("the string {s:?}"),
            Value::List(_) => "a list".into(),
            Value::Map(_) => "a table".into(),
            Value::Other(what) => (*what).into(),
        }
    }
}

/// Whether a problem stops the file from being used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// One thing wrong in a settings file: where, which field, and what.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) struct Problem {
    pub path: PathBuf,
    pub line: Option<usize>,
    /// The field, dotted from the top of the file (`grind.budgets.max_cost_usd`,
    /// `prompts[2].weight_override`); `None` for problems with the file as a whole.
    pub field: Option<String>,
    pub severity: Severity,
    pub kind: ProblemKind,
}

/// What is wrong. Messages are short and lower-case; [`Problem`] adds the location.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ProblemKind {
    #[error("cannot read the file: {0}")]
    Read(String),
    #[error("the file is not valid UTF-8")]
    NotUtf8,
    #[error("{0}")]
    Syntax(String),
    #[error("unknown field{}", suggestion_text(.suggestion))]
    UnknownField { suggestion: Option<String> },
    #[error("missing (it is required)")]
    Missing,
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("{0}")]
    Invalid(String),
}

fn suggestion_text(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

impl Problem {
    /// A problem with a whole file (no line, no field).
    pub(crate) fn file(path: &Path, kind: ProblemKind) -> Problem {
        Problem {
            path: path.to_path_buf(),
            line: None,
            field: None,
            severity: Severity::Error,
            kind,
        }
    }

    /// A problem that is about no file (the command line, the run as a whole).
    pub(crate) fn general(kind: ProblemKind) -> Problem {
        Problem::file(Path::new(""), kind)
    }

    pub(crate) fn at(mut self, line: Option<usize>, field: Option<&str>) -> Problem {
        self.line = line;
        self.field = field.map(str::to_string);
        self
    }

    pub(crate) fn warning(mut self) -> Problem {
        self.severity = Severity::Warning;
        self
    }

    pub(crate) fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line: field: message`, with `path` shown as `show_path` renders it (the CLI
    /// shortens paths to the project root or `~`).
    /// A problem with no file (a command-line mistake) is rendered without a location.
    pub(crate) fn render_with(&self, show_path: impl Fn(&Path) -> String) -> String {
        let mut out = String::new();
        if !self.path.as_os_str().is_empty() {
            out.push_str(&show_path(&self.path));
            if let Some(line) = self.line {
                out.push_str(&format!(":{line}"));
            }
            out.push_str(": ");
        }
        if let Some(field) = &self.field {
            out.push_str(&format!("`{field}`: "));
        }
        out.push_str(&self.kind.to_string());
        out
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_with(|p| p.display().to_string()))
    }
}

/// Reads a settings file as UTF-8 text, dropping a byte-order mark and turning CRLF line endings
/// into LF (files edited on Windows work as they are).
pub(crate) fn read_text(path: &Path) -> Result<String, Problem> {
    let bytes =
        std::fs::read(path).map_err(|e| Problem::file(path, ProblemKind::Read(e.to_string())))?;
    let text = String::from_utf8(bytes).map_err(|_| Problem::file(path, ProblemKind::NotUtf8))?;
    Ok(normalize(&text))
}

/// Drops a leading UTF-8 byte-order mark and turns CRLF into LF.
pub(crate) fn normalize(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\r') {
        text.replace("\r\n", "\n")
    } else {
        text.to_string()
    }
}

/// Checks the name pattern shared by prompt names, tags and rotation names. It lives here, under
/// the planner and the configuration alike, because both check names users write.
pub(crate) fn check_name(s: &str, what: &str) -> Result<(), String> {
    let ok_first = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_rest = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if s.is_empty() {
        Err(format!("{what} cannot be empty"))
    } else if s.len() > 64 {
        Err(format!(
            "{what} is at most 64 characters (found {})",
            s.len()
        ))
    } else if !ok_first || !ok_rest {
        Err(format!(
            "{s:?} is not {what}: use lower-case letters, digits, '-' and '_', starting with a \
             letter or digit"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_renders_location_field_and_message() {
        let p = Problem::file(Path::new("a/b.md"), ProblemKind::Missing).at(Some(3), Some("name"));
        assert_eq!(p.to_string(), "a/b.md:3: `name`: missing (it is required)");
        let p = Problem::file(
            Path::new("x.toml"),
            ProblemKind::UnknownField {
                suggestion: Some("weight".into()),
            },
        )
        .at(Some(7), Some("wieght"))
        .warning();
        assert_eq!(
            p.to_string(),
            "x.toml:7: `wieght`: unknown field (did you mean `weight`?)"
        );
        assert!(!p.is_error());
        let g = Problem::general(ProblemKind::Invalid("no prompt has the tag `x`".into()));
        assert_eq!(g.to_string(), "no prompt has the tag `x`");
    }

    #[test]
    fn bom_and_crlf_are_normalised() {
        assert_eq!(normalize("\u{feff}a\r\nb\r\n"), "a\nb\n");
        assert_eq!(normalize("a\nb"), "a\nb");
    }

    #[test]
    fn unreadable_and_non_utf8_files_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.md");
        assert!(matches!(
            read_text(&missing).unwrap_err().kind,
            ProblemKind::Read(_)
        ));
        let bad = dir.path().join("bad.md");
        std::fs::write(&bad, [0xff, 0xfe, 0x00]).unwrap();
        assert_eq!(read_text(&bad).unwrap_err().kind, ProblemKind::NotUtf8);
    }
}
