//! TOML (rotations, `.pitboss/config.toml`) to a [`Node`] tree, keeping the line of every key
//! and value.

use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Entry, Node, Problem, ProblemKind, Value, normalize};

/// Parses TOML text (a BOM and CRLF endings are accepted). A syntax error is one [`Problem`]
/// with its line.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Node, Problem> {
    let text = normalize(text);
    let lines = LineIndex::new(&text);
    match DeTable::parse(&text) {
        Ok(root) => Ok(Node {
            line: Some(1),
            value: table(root.get_ref(), &lines),
        }),
        Err(e) => {
            let line = e.span().map(|s| lines.line(s.start));
            // The key of the line the error is on, when it is a `key = value` line.
            let field = line
                .and_then(|l| text.lines().nth(l - 1))
                .and_then(|l| l.split_once('='))
                .map(|(k, _)| k.trim().trim_matches('"').to_string())
                .filter(|k| !k.is_empty() && !k.starts_with(['[', '#']));
            let msg = format!("invalid TOML: {}", e.message().trim_end());
            Err(Problem::file(path, ProblemKind::Syntax(msg)).at(line, field.as_deref()))
        }
    }
}

fn table(t: &DeTable<'_>, lines: &LineIndex) -> Value {
    let mut entries: Vec<Entry> = t
        .iter()
        .map(|(k, v)| Entry {
            key: k.get_ref().to_string(),
            line: Some(lines.line(k.span().start)),
            value: node(v, lines),
        })
        .collect();
    // Tables come back sorted by key; problems read better in file order.
    entries.sort_by_key(|e| e.line);
    Value::Map(entries)
}

fn node(v: &Spanned<DeValue<'_>>, lines: &LineIndex) -> Node {
    let value = match v.get_ref() {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Other("a number too large"),
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) => Value::Float(x),
            Err(_) => Value::Other("a malformed number"),
        },
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(_) => Value::Other("a date"),
        DeValue::Array(items) => Value::List(items.iter().map(|i| node(i, lines)).collect()),
        DeValue::Table(t) => table(t, lines),
    };
    Node {
        line: Some(lines.line(v.span().start)),
        value,
    }
}

/// Byte offset to 1-based line number.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Result<Node, Problem> {
        parse(src, Path::new("r.toml"))
    }

    #[test]
    fn keeps_lines_of_keys_and_nested_values() {
        let n = p("a = 1\n\n[t]\nb = [\"x\", 2.5]\n\n[[arr]]\nc = true\n").unwrap();
        let Value::Map(top) = n.value else { panic!() };
        let keys: Vec<_> = top.iter().map(|e| (e.key.as_str(), e.line)).collect();
        assert_eq!(keys, [("a", Some(1)), ("t", Some(3)), ("arr", Some(6))]);
        let Value::Map(t) = &top[1].value.value else {
            panic!()
        };
        assert_eq!(t[0].line, Some(4));
        let Value::List(items) = &t[0].value.value else {
            panic!()
        };
        assert_eq!(items[1].value, Value::Float(2.5));
        let Value::List(arr) = &top[2].value.value else {
            panic!()
        };
        let Value::Map(c) = &arr[0].value else {
            panic!()
        };
        assert_eq!(
            (c[0].value.value.clone(), c[0].line),
            (Value::Bool(true), Some(7))
        );
    }

    #[test]
    fn integers_in_any_radix_and_dates() {
        let n = p("a = 0x10\nb = 1_000\nc = -3\nd = 2026-01-01\n").unwrap();
        let Value::Map(m) = n.value else { panic!() };
        let vals: Vec<_> = m.into_iter().map(|e| e.value.value).collect();
        assert_eq!(
            vals,
            [
                Value::Int(16),
                Value::Int(1000),
                Value::Int(-3),
                Value::Other("a date")
            ]
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = p("a = 1\nb = = 2\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(
            e.to_string().starts_with("r.toml:2: `b`: invalid TOML"),
            "{e}"
        );
        let e = p("[t\n").unwrap_err();
        assert!(e.to_string().starts_with("r.toml:1: invalid TOML"), "{e}");
        let e = p("a = 1\na = 2\n").unwrap_err();
        assert!(e.to_string().contains("duplicate"), "{e}");
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let n = p("\u{feff}a = 1\r\nb = 2\r\n").unwrap();
        let Value::Map(m) = n.value else { panic!() };
        assert_eq!(m[1].line, Some(2));
    }
}
