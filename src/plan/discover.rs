//! Finding prompt files, and which one wins when two share a name.
//!
//! Precedence: `--prompts-dir DIR`, when given, is the only source. Otherwise the project's
//! prompts (`.pitboss/grind/prompts/`, committed so a team shares them) come first and the user's
//! (`~/.pitboss/grind/prompts/`) second; a project prompt *shadows* a global one of the same name,
//! and every shadowing is reported, never silent. The caller (the CLI) works out the directories,
//! so this module never reads `HOME` or the working directory.
//!
//! Only `*.md` files directly in a directory are prompts; `README.md` (in any case) and dot-files
//! are skipped, so a prompt folder can document itself. Every `.md` file skipped is reported
//! with the reason ([`Skipped`]): a file that looks like a prompt is never dropped without a word.

use std::path::{Path, PathBuf};

use super::prompt::{self, Prompt, PromptName, Source};
use crate::fields::{Problem, ProblemKind};

/// Where to look for prompts.
#[derive(Debug, Clone, Default)]
pub(crate) struct PromptDirs {
    /// `--prompts-dir DIR`: when set, the only place prompts come from (it must exist).
    pub only: Option<PathBuf>,
    /// The project's prompt directory (absent is fine).
    pub project: Option<PathBuf>,
    /// The user's prompt directory (absent is fine).
    pub global: Option<PathBuf>,
}

/// A global prompt hidden by a project prompt of the same name.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Shadowed {
    pub name: PromptName,
    /// The project prompt that is used.
    pub winner: PathBuf,
    /// The global prompt that is not.
    pub hidden: PathBuf,
}

/// A `.md` file of a prompt folder that is not read as a prompt, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Skipped {
    pub path: PathBuf,
    pub why: &'static str,
}

/// Why a `.md` file name is never a prompt, if it is not: the one rule for discovery and for
/// `prompts new`, so `new` never creates a file that discovery skips.
pub(crate) fn skip_reason(file_name: &str) -> Option<&'static str> {
    if file_name.starts_with('.') {
        Some("a hidden file is not a prompt (rename it without the leading '.')")
    } else if file_name == "README.md" {
        Some("README.md documents the folder, it is not a prompt")
    } else if file_name.eq_ignore_ascii_case("readme.md") {
        Some("a README (in any case) documents the folder, it is not a prompt (rename it)")
    } else {
        None
    }
}

/// What discovery found: usable prompts sorted by name, shadowings, and problems (unparseable
/// files, duplicate names). Prompts with problems are left out of `prompts`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Discovery {
    pub prompts: Vec<Prompt>,
    pub shadowed: Vec<Shadowed>,
    pub problems: Vec<Problem>,
    /// The `.md` files that are not prompts, with why.
    pub skipped: Vec<Skipped>,
    /// The directories searched, in precedence order, with whether each exists.
    pub searched: Vec<(Source, PathBuf, bool)>,
}

impl Discovery {
    pub(crate) fn get(&self, name: &str) -> Option<&Prompt> {
        self.prompts.iter().find(|p| p.name.as_str() == name)
    }

    /// The shadowing that hid a global prompt behind `name`, if any.
    pub(crate) fn shadow_of(&self, name: &str) -> Option<&Shadowed> {
        self.shadowed.iter().find(|s| s.name.as_str() == name)
    }
}

/// Finds and parses every prompt in `dirs`.
pub(crate) fn discover(dirs: &PromptDirs) -> Discovery {
    let mut out = Discovery::default();
    let sources: Vec<(Source, &PathBuf)> = match &dirs.only {
        Some(dir) => vec![(Source::Dir, dir)],
        None => [
            (Source::Project, &dirs.project),
            (Source::Global, &dirs.global),
        ]
        .into_iter()
        .filter_map(|(s, d)| d.as_ref().map(|d| (s, d)))
        .collect(),
    };
    for (source, dir) in sources {
        let exists = dir.is_dir();
        out.searched.push((source, dir.clone(), exists));
        if !exists {
            if source == Source::Dir {
                let msg = "--prompts-dir names a directory that does not exist".to_string();
                out.problems
                    .push(Problem::file(dir, ProblemKind::Invalid(msg)));
            }
            continue;
        }
        let found = match read_dir(dir, source, &mut out.skipped) {
            Ok(found) => found,
            Err(p) => {
                out.problems.push(p);
                continue;
            }
        };
        let mut this_source: Vec<Prompt> = Vec::new();
        for result in found {
            let prompt = match result {
                Ok(p) => p,
                Err(mut problems) => {
                    out.problems.append(&mut problems);
                    continue;
                }
            };
            if let Some(first) = this_source.iter().find(|p| p.name == prompt.name) {
                let msg = format!(
                    "prompt name `{}` is already used by {}",
                    prompt.name,
                    first.path.display()
                );
                out.problems.push(
                    Problem::file(&prompt.path, ProblemKind::Invalid(msg)).at(None, Some("name")),
                );
                continue;
            }
            this_source.push(prompt);
        }
        for prompt in this_source {
            match out.prompts.iter().find(|p| p.name == prompt.name) {
                Some(winner) => out.shadowed.push(Shadowed {
                    name: prompt.name.clone(),
                    winner: winner.path.clone(),
                    hidden: prompt.path.clone(),
                }),
                None => out.prompts.push(prompt),
            }
        }
    }
    out.prompts.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Parses every prompt file of `dir`, in file name order; the `.md` files that are not
/// prompts go to `skipped`.
fn read_dir(
    dir: &Path,
    source: Source,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<Result<Prompt, Vec<Problem>>>, Problem> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Problem::file(dir, ProblemKind::Read(e.to_string())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    let mut prompts = Vec::new();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str());
        let why = match name {
            None => Some("its name is not UTF-8"),
            Some(name) => skip_reason(name),
        }
        .or_else(|| (!path.is_file()).then_some("not a regular file"));
        match why {
            Some(why) => skipped.push(Skipped { path, why }),
            None => prompts.push(prompt::load(&path, source)),
        }
    }
    Ok(prompts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, name: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let text = format!(
            "---\nname: {name}\ndescription: {file} in {}\n---\nDo it.\n",
            dir.display()
        );
        std::fs::write(dir.join(file), text).unwrap();
    }

    fn names(d: &Discovery) -> Vec<(String, Source)> {
        d.prompts
            .iter()
            .map(|p| (p.name.to_string(), p.source))
            .collect()
    }

    #[test]
    fn project_shadows_global_and_says_so() {
        let t = tempfile::tempdir().unwrap();
        let (proj, glob) = (t.path().join("proj"), t.path().join("glob"));
        write(&proj, "a.md", "a");
        write(&proj, "b.md", "b");
        write(&glob, "b.md", "b");
        write(&glob, "c.md", "c");
        std::fs::write(proj.join("README.md"), "# not a prompt").unwrap();
        std::fs::write(proj.join("notes.txt"), "ignored").unwrap();
        let d = discover(&PromptDirs {
            only: None,
            project: Some(proj.clone()),
            global: Some(glob.clone()),
        });
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.skipped.len(), 1);
        assert_eq!(d.skipped[0].path, proj.join("README.md"));
        assert_eq!(
            names(&d),
            [
                ("a".into(), Source::Project),
                ("b".into(), Source::Project),
                ("c".into(), Source::Global)
            ]
        );
        assert_eq!(d.shadowed.len(), 1);
        assert_eq!(d.shadowed[0].winner, proj.join("b.md"));
        assert_eq!(d.shadowed[0].hidden, glob.join("b.md"));
        assert!(d.shadow_of("b").is_some() && d.shadow_of("a").is_none());
    }

    #[test]
    fn prompts_dir_is_used_alone_and_must_exist() {
        let t = tempfile::tempdir().unwrap();
        let (only, proj) = (t.path().join("only"), t.path().join("proj"));
        write(&only, "x.md", "x");
        write(&proj, "a.md", "a");
        let d = discover(&PromptDirs {
            only: Some(only),
            project: Some(proj),
            global: None,
        });
        assert_eq!(names(&d), [("x".into(), Source::Dir)]);
        let d = discover(&PromptDirs {
            only: Some(t.path().join("nope")),
            ..Default::default()
        });
        assert!(d.prompts.is_empty());
        assert!(
            d.problems[0].to_string().contains("does not exist"),
            "{:?}",
            d.problems
        );
    }

    #[test]
    fn missing_directories_are_fine() {
        let t = tempfile::tempdir().unwrap();
        let d = discover(&PromptDirs {
            only: None,
            project: Some(t.path().join("p")),
            global: Some(t.path().join("g")),
        });
        assert!(d.prompts.is_empty() && d.problems.is_empty());
        assert_eq!(d.searched.len(), 2);
        assert!(!d.searched[0].2);
    }

    #[test]
    fn duplicates_and_broken_files_are_problems() {
        let t = tempfile::tempdir().unwrap();
        let proj = t.path().join("p");
        write(&proj, "one.md", "same");
        write(&proj, "two.md", "same");
        std::fs::write(proj.join("bad.md"), "no frontmatter").unwrap();
        let d = discover(&PromptDirs {
            project: Some(proj.clone()),
            ..Default::default()
        });
        assert_eq!(names(&d), [("same".into(), Source::Project)]);
        let msgs: Vec<String> = d.problems.iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("bad.md:1:"), "{msgs:?}");
        assert!(
            msgs[1].contains("two.md: `name`: prompt name `same` is already used by"),
            "{msgs:?}"
        );
    }
}
