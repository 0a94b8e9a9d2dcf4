//! Keeping the files an agent CLI writes for itself out of the session's work.
//!
//! Some CLIs keep caches in the directory they work in: Aider 0.86 writes its repo-map cache to
//! `.aider.tags.cache.v4/` at the top of the work tree, with no option to move it (its chat and
//! input histories have options, and go to `/dev/null`, see `aider`). Left alone, such a
//! directory is an untracked file: pitboss would commit it as "work left uncommitted" and call
//! a clean session `dirty`, and an agent running `git add -A` would commit it itself.
//!
//! Why a `.gitignore` inside the directory, and not one of git's other ignore sources:
//! - the user's `.gitignore` is the user's file, not ours to edit (and it is tracked: an edit
//!   would be work of the session);
//! - `$GIT_DIR/info/exclude` is shared by every worktree of the repository (linked worktrees
//!   read `$GIT_COMMON_DIR/info/exclude`), so an entry there would also hide files in the
//!   user's own checkout;
//! - a per-worktree `core.excludesFile` needs `extensions.worktreeConfig`, a change of the
//!   repository's format, and it would replace the user's global excludes file for that
//!   worktree; passing it through `GIT_CONFIG_*` variables would reach the agent's `git` but
//!   not libgit2 in pitboss, nor other git libraries.
//!
//! A directory that holds a `.gitignore` of `*` ignores everything in it, that `.gitignore`
//! included, for every git implementation, in this worktree only, and nothing else changes. The
//! cache survives the reset between sessions (ignored files are left alone), so it keeps its
//! purpose. It is put in place before the agent starts, and again after it ends in case the
//! CLI recreated the directory (Aider deletes and rebuilds a damaged cache).

use std::io;
use std::path::Path;

/// What the `.gitignore` inside an agent's own directory says: everything here, itself too.
const IGNORE_ALL: &str =
    "# written by git-pitboss: this directory is the agent CLI's own cache\n*\n";

/// Makes each directory of `dirs` (relative to `worktree`) invisible to git: creates it when
/// `create` is set and it is missing, and writes a `.gitignore` of `*` into each one that
/// exists without it. A path that exists but is not a directory is left alone.
pub(crate) fn hide_own_dirs(worktree: &Path, dirs: &[&str], create: bool) -> io::Result<()> {
    for rel in dirs {
        let dir = worktree.join(rel);
        if !dir.is_dir() {
            if !create || dir.symlink_metadata().is_ok() {
                continue;
            }
            std::fs::create_dir_all(&dir)?;
        }
        let ignore = dir.join(".gitignore");
        if ignore.symlink_metadata().is_err() {
            std::fs::write(&ignore, IGNORE_ALL)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testutil::{git_cli, libgit2_status_paths};

    #[test]
    fn creates_and_marks_dirs_and_leaves_other_paths_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let wt = tmp.path();
        std::fs::write(wt.join("a-file"), "x").unwrap();
        hide_own_dirs(wt, &[".cache.v4", "a-file"], false).unwrap();
        assert!(!wt.join(".cache.v4").exists(), "not created unless asked");
        hide_own_dirs(wt, &[".cache.v4", "a-file"], true).unwrap();
        let text = std::fs::read_to_string(wt.join(".cache.v4/.gitignore")).unwrap();
        assert!(text.lines().any(|l| l == "*"), "{text}");
        assert_eq!(std::fs::read_to_string(wt.join("a-file")).unwrap(), "x");
        // A directory the CLI recreated gets its marker again; an existing one is kept.
        std::fs::remove_dir_all(wt.join(".cache.v4")).unwrap();
        std::fs::create_dir(wt.join(".cache.v4")).unwrap();
        hide_own_dirs(wt, &[".cache.v4"], false).unwrap();
        assert!(wt.join(".cache.v4/.gitignore").is_file());
    }

    /// The point of it: git sees nothing of a marked directory, whatever is inside.
    #[test]
    fn git_sees_nothing_of_a_marked_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let wt = tmp.path();
        let git = |args: &[&str]| git_cli(wt, args);
        git(&["init", "-q"]);
        hide_own_dirs(wt, &[".aider.tags.cache.v4"], true).unwrap();
        std::fs::create_dir_all(wt.join(".aider.tags.cache.v4/sub")).unwrap();
        std::fs::write(wt.join(".aider.tags.cache.v4/cache.db"), "db").unwrap();
        std::fs::write(wt.join(".aider.tags.cache.v4/sub/x"), "x").unwrap();
        std::fs::write(wt.join("work.txt"), "w").unwrap();
        assert_eq!(
            git(&["status", "--porcelain", "--untracked-files=all"]),
            "?? work.txt\n"
        );
        let paths = libgit2_status_paths(wt);
        assert_eq!(paths, ["work.txt"], "libgit2 agrees");
    }
}
