//! YAML (prompt frontmatter) to a [`Node`] tree, through saphyr's `MarkedYaml`, which keeps the
//! position of every key and value.
//!
//! YAML 1.2 core schema: `yes`/`no`/`on` are strings, not booleans, and a duplicated key is an
//! error (both unlike the YAML 1.1 that serde_yaml spoke).

use std::path::Path;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::{Entry, Node, Problem, ProblemKind, Value};

/// Parses `text`, whose first line is line `first_line` of the file at `path`.
pub(crate) fn parse(text: &str, path: &Path, first_line: usize) -> Result<Node, Problem> {
    let offset = first_line.saturating_sub(1);
    match MarkedYaml::load_from_str(text) {
        Ok(docs) => match docs.into_iter().next() {
            Some(doc) => Ok(node(&doc, offset)),
            None => Ok(Node {
                line: Some(first_line),
                value: Value::Null,
            }),
        },
        Err(e) => {
            let line = e.marker().line();
            let field = field_at(text, line);
            let msg = format!("invalid YAML: {}", e.info());
            let problem = Problem::file(path, ProblemKind::Syntax(msg));
            Err(problem.at(Some(line + offset), field.as_deref()))
        }
    }
}

/// The top-level key whose value a syntax error at `line` (1-based, in `text`) is most likely
/// in: the last unindented `key:` at or before it. Frontmatter is flat, so this names the field
/// the user was writing.
fn field_at(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line.max(1))
        .filter(|l| !l.starts_with([' ', '\t', '#', '-']))
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim()))
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .last()
        .map(str::to_string)
}

fn node(y: &MarkedYaml<'_>, offset: usize) -> Node {
    let line = Some(y.span.start.line() + offset);
    let value = match &y.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(s, _, _) => Value::Str(s.to_string()),
        YamlData::Sequence(items) => Value::List(items.iter().map(|i| node(i, offset)).collect()),
        YamlData::Mapping(map) => Value::Map(
            map.iter()
                .map(|(k, v)| Entry {
                    key: key_text(k),
                    line: Some(k.span.start.line() + offset),
                    value: node(v, offset),
                })
                .collect(),
        ),
        YamlData::Tagged(_, inner) => return node(inner, offset),
        YamlData::Alias(_) => Value::Other("an alias"),
        YamlData::BadValue => Value::Other("an invalid value"),
    };
    Node { line, value }
}

fn scalar(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Int(*i),
        Scalar::FloatingPoint(f) => Value::Float(f.into_inner()),
        Scalar::String(s) => Value::Str(s.to_string()),
    }
}

/// Keys are names: a scalar key is used as written (`1: x` has the key `1`).
fn key_text(k: &MarkedYaml<'_>) -> String {
    match &k.data {
        YamlData::Value(Scalar::String(s)) => s.to_string(),
        YamlData::Value(Scalar::Integer(i)) => i.to_string(),
        YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
        YamlData::Value(Scalar::FloatingPoint(f)) => f.to_string(),
        YamlData::Value(Scalar::Null) => "null".into(),
        YamlData::Representation(s, _, _) => s.to_string(),
        _ => "<a complex key>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Result<Node, Problem> {
        parse(src, Path::new("p.md"), 2)
    }

    #[test]
    fn scalars_lists_and_lines() {
        let n =
            p("name: fix\nweight: 2\ncost: 0.5\nverify: true\ntags: [a, b]\nx: ~\nyes_is: yes\n")
                .unwrap();
        let Value::Map(m) = n.value else {
            panic!("{n:?}")
        };
        let got: Vec<_> = m
            .iter()
            .map(|e| (e.key.as_str(), e.line, e.value.value.clone()))
            .collect();
        assert_eq!(got[0], ("name", Some(2), Value::Str("fix".into())));
        assert_eq!(got[1], ("weight", Some(3), Value::Int(2)));
        assert_eq!(got[2].2, Value::Float(0.5));
        assert_eq!(got[3].2, Value::Bool(true));
        assert!(matches!(&got[4].2, Value::List(l) if l.len() == 2));
        assert_eq!(got[5].2, Value::Null);
        assert_eq!(
            got[6].2,
            Value::Str("yes".into()),
            "YAML 1.2: yes is a string"
        );
    }

    #[test]
    fn errors_carry_file_lines() {
        let e = p("name: a\nweight: [1\n").unwrap_err();
        assert!(e.line.is_some_and(|l| l >= 3), "{e}");
        assert!(e.to_string().contains("`weight`: invalid YAML"), "{e}");
        let e = p("name: a\ndescription: a: b\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("description"), "{e}");
        let e = p("name: a\nname: b\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().contains("duplicated key"), "{e}");
    }

    #[test]
    fn empty_text_is_null() {
        assert_eq!(p("").unwrap().value, Value::Null);
        assert_eq!(p("# only a comment\n").unwrap().value, Value::Null);
    }
}
