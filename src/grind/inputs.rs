//! Whether HEAD holds the files a run takes its instructions from: the prompts taking part, the
//! rotation and the config. A run started from files that are untracked or edited works here,
//! but `grind --resume` on another clone and `why` read them from git, where they are not (or
//! differ). So grind and its dry run say so once, naming the files and the command that
//! commits them; they do not refuse (trying a prompt before committing it is fair).

use std::path::Path;

use crate::git::{GitError, Repo};
use crate::plan::Plan;

/// The command the warning gives.
pub(crate) const COMMIT_COMMAND: &str = "git add .pitboss && git commit -m \"pitboss prompts\"";

/// The run's instruction files (relative to the top of the work tree, `/`-separated) that HEAD
/// does not hold as they are. Files outside the work tree (global prompts) are not git's.
pub(crate) fn not_committed(repo: &Repo, plan: &Plan) -> Result<Vec<String>, GitError> {
    let prompts = plan
        .prompts
        .iter()
        .filter(|p| p.excluded.is_none())
        .map(|p| p.prompt.path.as_path());
    let files = plan
        .config_path
        .as_deref()
        .filter(|p| p.exists())
        .into_iter()
        .chain(plan.rotation.path.as_deref())
        .chain(prompts);
    let mut out = Vec::new();
    for path in files {
        let Some(rel) = relative(&plan.root, path) else {
            continue;
        };
        if !repo.committed_as_is(&rel)? && !out.contains(&rel) {
            out.push(rel);
        }
    }
    Ok(out)
}

/// The warning for `files` (none when the list is empty).
pub(crate) fn warning(files: &[String]) -> Option<String> {
    let (first, rest) = files.split_first()?;
    let named = match rest.len() {
        0 => first.clone(),
        n if n < 5 => files.join(", "),
        n => format!("{first} and {n} more"),
    };
    Some(format!(
        "not committed (untracked, or changed since HEAD): {named}. The run works here, but \
         `grind --resume` on another clone and `why` read the prompts, rotation and config from \
         git; commit them first: {COMMIT_COMMAND}"
    ))
}

fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_the_files_and_the_command() {
        assert_eq!(warning(&[]), None);
        let one = warning(&[".pitboss/config.toml".into()]).unwrap();
        assert!(
            one.contains(": .pitboss/config.toml. The run works here"),
            "{one}"
        );
        assert!(one.ends_with(COMMIT_COMMAND), "{one}");
        let many: Vec<String> = (0..7).map(|i| format!("p{i}.md")).collect();
        assert!(warning(&many).unwrap().contains("p0.md and 6 more"));
        let root = Path::new("/r");
        assert_eq!(
            relative(root, Path::new("/r/.pitboss/a.md")).as_deref(),
            Some(".pitboss/a.md")
        );
        assert_eq!(relative(root, Path::new("/home/x/a.md")), None);
    }
}
