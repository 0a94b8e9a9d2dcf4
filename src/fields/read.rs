//! Typed getters over a [`Node`] tree that record a [`Problem`] for every bad value and go on.
//!
//! A getter returns `None` both when a key is absent and when its value is wrong (the problem is
//! recorded in the [`Reader`]), so a parser can read every field, fall back to defaults, and
//! report everything at the end with [`Reader::finish`]. A `null` value counts as absent.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use super::{Entry, Node, Problem, ProblemKind, Severity, Value, closest};

/// Collects the problems found while reading one file.
#[derive(Debug)]
pub(crate) struct Reader {
    path: PathBuf,
    problems: RefCell<Vec<Problem>>,
}

impl Reader {
    pub(crate) fn new(path: &Path) -> Reader {
        Reader {
            path: path.to_path_buf(),
            problems: RefCell::new(Vec::new()),
        }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The top-level table of a document. An empty document is an empty table.
    pub(crate) fn root<'a>(&'a self, node: &'a Node) -> Option<Table<'a>> {
        match &node.value {
            // No line for the root: "missing" at line 1 would point at the wrong thing.
            Value::Map(entries) => Some(Table::new(self, "", entries, None)),
            Value::Null => Some(Table::new(self, "", &[], None)),
            other => {
                self.error(
                    node.line,
                    None,
                    wrong("a table of `key: value` pairs", other),
                );
                None
            }
        }
    }

    pub(crate) fn error(&self, line: Option<usize>, field: Option<&str>, kind: ProblemKind) {
        self.push(line, field, kind, Severity::Error);
    }

    pub(crate) fn warn(&self, line: Option<usize>, field: Option<&str>, kind: ProblemKind) {
        self.push(line, field, kind, Severity::Warning);
    }

    fn push(
        &self,
        line: Option<usize>,
        field: Option<&str>,
        kind: ProblemKind,
        severity: Severity,
    ) {
        let mut p = Problem::file(&self.path, kind).at(line, field);
        p.severity = severity;
        self.problems.borrow_mut().push(p);
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.problems.borrow().iter().any(Problem::is_error)
    }

    /// Everything recorded, in line order (problems without a line first).
    pub(crate) fn finish(self) -> Vec<Problem> {
        let mut problems = self.problems.into_inner();
        problems.sort_by_key(|p| p.line);
        problems
    }
}

fn wrong(expected: &'static str, found: &Value) -> ProblemKind {
    ProblemKind::WrongType {
        expected,
        found: found.describe(),
    }
}

/// A table being read: its entries and the dotted prefix that names its fields.
#[derive(Debug, Clone)]
pub(crate) struct Table<'a> {
    reader: &'a Reader,
    prefix: String,
    entries: &'a [Entry],
    pub line: Option<usize>,
}

impl<'a> Table<'a> {
    fn new(reader: &'a Reader, prefix: &str, entries: &'a [Entry], line: Option<usize>) -> Self {
        Table {
            reader,
            prefix: prefix.to_string(),
            entries,
            line,
        }
    }

    pub(crate) fn reader(&self) -> &'a Reader {
        self.reader
    }

    /// The full name of `key` in this table (`grind.budgets.max_tokens`).
    pub(crate) fn field(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    pub(crate) fn entries(&self) -> &'a [Entry] {
        self.entries
    }

    /// Records every key not in `allowed`, suggesting the nearest allowed one.
    pub(crate) fn check_keys(&self, allowed: &[&str], severity: Severity) {
        for e in self.entries {
            if !allowed.contains(&e.key.as_str()) {
                let suggestion = closest(&e.key, allowed.iter().copied()).map(str::to_string);
                let kind = ProblemKind::UnknownField { suggestion };
                let field = self.field(&e.key);
                self.reader.push(e.line, Some(&field), kind, severity);
            }
        }
    }

    /// The entry for `key`, unless absent or null.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Entry> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .filter(|e| e.value.value != Value::Null)
    }

    /// Records a problem about `key` (at its value's line, or the table's when absent).
    pub(crate) fn problem(&self, key: &str, kind: ProblemKind) {
        let line = self.get(key).map_or(self.line, |e| e.value.line.or(e.line));
        self.reader.error(line, Some(&self.field(key)), kind);
    }

    fn bad(&self, e: &Entry, expected: &'static str) {
        let line = e.value.line.or(e.line);
        self.reader.error(
            line,
            Some(&self.field(&e.key)),
            wrong(expected, &e.value.value),
        );
    }

    pub(crate) fn string(&self, key: &str) -> Option<String> {
        let e = self.get(key)?;
        match &e.value.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.bad(e, "text");
                None
            }
        }
    }

    /// A string that is not blank; a blank one is recorded as a problem.
    pub(crate) fn nonblank(&self, key: &str) -> Option<String> {
        let s = self.string(key)?;
        if s.trim().is_empty() {
            self.problem(key, ProblemKind::Invalid("must not be empty".into()));
            return None;
        }
        Some(s)
    }

    /// Like [`Table::nonblank`], and records [`ProblemKind::Missing`] when absent.
    pub(crate) fn required(&self, key: &str) -> Option<String> {
        if self.get(key).is_none() {
            let line = self
                .entries
                .iter()
                .find(|e| e.key == key)
                .and_then(|e| e.line);
            self.reader.error(
                line.or(self.line),
                Some(&self.field(key)),
                ProblemKind::Missing,
            );
            return None;
        }
        self.nonblank(key)
    }

    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        let e = self.get(key)?;
        match e.value.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.bad(e, "true or false");
                None
            }
        }
    }

    /// A whole number in `min..=max`.
    pub(crate) fn whole(&self, key: &str, min: u64, max: u64) -> Option<u64> {
        let e = self.get(key)?;
        let Value::Int(i) = e.value.value else {
            self.bad(e, "a whole number");
            return None;
        };
        if i < 0 || (i as u64) < min {
            self.problem(
                key,
                ProblemKind::Invalid(format!("must be at least {min} (found {i})")),
            );
            return None;
        }
        if i as u64 > max {
            self.problem(
                key,
                ProblemKind::Invalid(format!("must be at most {max} (found {i})")),
            );
            return None;
        }
        Some(i as u64)
    }

    /// A whole number that fits in a `u32`, at least `min`.
    pub(crate) fn u32_min(&self, key: &str, min: u32) -> Option<u32> {
        self.whole(key, min.into(), u32::MAX.into())
            .map(|v| v as u32)
    }

    /// An amount of US dollars: a finite number, 0 or more (`1`, `0.5`).
    pub(crate) fn usd(&self, key: &str) -> Option<f64> {
        let e = self.get(key)?;
        let v = match e.value.value {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => {
                self.bad(e, "an amount of US dollars (a number like 2.5)");
                return None;
            }
        };
        if !v.is_finite() || v < 0.0 {
            let msg = format!("must be a finite amount of US dollars, 0 or more (found {v})");
            self.problem(key, ProblemKind::Invalid(msg));
            return None;
        }
        Some(v)
    }

    pub(crate) fn string_list(&self, key: &str) -> Option<Vec<String>> {
        let e = self.get(key)?;
        let Value::List(items) = &e.value.value else {
            self.bad(e, "a list of strings (like [a, b])");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.value {
                Value::Str(s) => out.push(s.clone()),
                other => {
                    let line = item.line.or(e.line);
                    let field = self.field(key);
                    self.reader
                        .error(line, Some(&field), wrong("a list of strings", other));
                    return None;
                }
            }
        }
        Some(out)
    }

    /// A nested table (`[grind.budgets]`).
    pub(crate) fn table(&self, key: &str) -> Option<Table<'a>> {
        let e = self.get(key)?;
        match &e.value.value {
            Value::Map(entries) => Some(Table::new(self.reader, &self.field(key), entries, e.line)),
            _ => {
                self.bad(e, "a table");
                None
            }
        }
    }

    /// An array of tables (`[[prompts]]`), named `key[1]`, `key[2]`… (counted from 1).
    pub(crate) fn tables(&self, key: &str) -> Vec<Table<'a>> {
        let Some(e) = self.get(key) else {
            return Vec::new();
        };
        let Value::List(items) = &e.value.value else {
            self.bad(e, "a list of tables (`[[prompts]]` entries)");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let name = format!("{}[{}]", self.field(key), i + 1);
            match &item.value {
                Value::Map(entries) => out.push(Table::new(self.reader, &name, entries, item.line)),
                other => self
                    .reader
                    .error(item.line, Some(&name), wrong("a table", other)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::toml::parse;

    fn read(src: &str, f: impl FnOnce(&Table)) -> Vec<String> {
        let reader = Reader::new(Path::new("t.toml"));
        let node = parse(src, reader.path()).unwrap();
        f(&reader.root(&node).unwrap());
        reader.finish().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn numbers_are_checked_for_type_and_range() {
        let problems = read("a = 0\nb = 1.5\nc = -2\nd = 7\ne = \"3\"\n", |t| {
            assert_eq!(t.u32_min("a", 1), None);
            assert_eq!(t.u32_min("b", 1), None);
            assert_eq!(t.usd("c"), None);
            assert_eq!(t.u32_min("d", 1), Some(7));
            assert_eq!(t.whole("e", 0, 9), None);
            assert_eq!(t.whole("absent", 0, 9), None);
        });
        assert_eq!(
            problems,
            [
                "t.toml:1: `a`: must be at least 1 (found 0)",
                "t.toml:2: `b`: expected a whole number, found 1.5",
                "t.toml:3: `c`: must be a finite amount of US dollars, 0 or more (found -2)",
                "t.toml:5: `e`: expected a whole number, found the string \"3\"",
            ]
        );
    }

    #[test]
    fn nan_and_infinite_dollars_are_refused() {
        let problems = read("a = nan\nb = inf\nc = 0\n", |t| {
            assert_eq!(t.usd("a"), None);
            assert_eq!(t.usd("b"), None);
            assert_eq!(t.usd("c"), Some(0.0));
        });
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn unknown_keys_suggest_and_tables_nest() {
        let src = "[grind]\nmax_paralel = 2\n[grind.budgets]\nmax_tokens = 5\n";
        let problems = read(src, |t| {
            t.check_keys(&["grind"], Severity::Error);
            let g = t.table("grind").unwrap();
            g.check_keys(&["max_parallel", "budgets"], Severity::Warning);
            assert_eq!(
                g.table("budgets").unwrap().whole("max_tokens", 1, u64::MAX),
                Some(5)
            );
        });
        assert_eq!(
            problems,
            ["t.toml:2: `grind.max_paralel`: unknown field (did you mean `max_parallel`?)"]
        );
    }

    #[test]
    fn lists_and_required_strings() {
        let src = "tags = [\"a\", 2]\nname = \"  \"\n[[p]]\nx = 1\n[[p]]\nx = 2\n";
        let problems = read(src, |t| {
            assert_eq!(t.string_list("tags"), None);
            assert_eq!(t.required("name"), None);
            assert_eq!(t.required("description"), None);
            let ps = t.tables("p");
            assert_eq!(ps.len(), 2);
            assert_eq!(ps[1].field("x"), "p[2].x");
        });
        assert_eq!(
            problems,
            [
                "t.toml: `description`: missing (it is required)",
                "t.toml:1: `tags`: expected a list of strings, found 2",
                "t.toml:2: `name`: must not be empty",
            ]
        );
    }
}
