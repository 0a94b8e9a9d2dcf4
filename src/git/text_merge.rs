//! Three-way merge of one text (the scratchpad) through git's own file merge (libgit2's xdiff,
//! the code behind `git merge-file`), in memory: nothing is written to the object store.
//!
//! A parallel session sees the scratchpad as it was at its dispatch; when it lands, its edits are
//! merged into the current scratchpad against that snapshot, so a note written by one session is
//! kept when another lands, and a note both wrote the same way is kept once.
//!
//! What counts as a conflict is a choice made here for what a user of a scratchpad wants:
//! - Both sides inserting different lines at the same place (two sessions each appending a note at
//!   the end, the common case) is a conflict to git. Nothing there contradicts: both notes are
//!   kept, ours first, without markers (`FileFavor::Union` on exactly those merges), and the
//!   merge is clean.
//! - Both sides changing or deleting the same lines of the snapshot is a real conflict: both
//!   sides are kept between git's conflict markers, labelled, and `conflicted` is set, so the next
//!   reader sees that two notes disagree. A union there would silently stack two versions of one
//!   note with nothing saying which is current.
//!
//! NB: git keeps a line both sides inserted once only where it aligns them: at the edges of what
//! they inserted (ours `A B`, theirs `A C` gives `A B C`). The same note inserted among other
//! notes at different places on each side (ours `A B`, theirs `B C`) is kept twice (`A B B C`);
//! removing it would take a diff of our own, and a duplicate loses nothing.

use git2::{FileFavor, MergeFileInput, MergeFileOptions};

use super::{GitError, Repo, Result};

/// What merging three versions of a text gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMerge {
    /// The merged text; on a conflict it holds both sides between conflict markers.
    pub text: String,
    /// Whether some lines were changed differently on both sides (the text has markers).
    pub conflicted: bool,
}

/// The size of the markers of the analysis pass: long enough that no note written by hand is
/// mistaken for one (a mistake would only choose markers over a union, losing nothing).
const PROBE_MARKER: u16 = 61;

impl Repo {
    /// Merges `ours` and `theirs`, both edited from `base`, as `git merge-file` would; conflict
    /// markers name the sides `ours_label` and `theirs_label`. See the module doc for what is a
    /// conflict.
    pub fn merge_text(
        &self,
        base: &str,
        ours: &str,
        theirs: &str,
        ours_label: &str,
        theirs_label: &str,
    ) -> Result<TextMerge> {
        let clean = |text: &str| TextMerge {
            text: text.to_string(),
            conflicted: false,
        };
        if ours == theirs || theirs == base {
            return Ok(clean(ours));
        }
        if ours == base {
            return Ok(clean(theirs));
        }
        // NB: xdiff compares lines with their newline, so a last line without one that a side
        // appended after reads as that line changed on both sides (a conflict on the snapshot's
        // last line). A text ends with a newline here; the merged text always does.
        let (base, ours, theirs) = (with_newline(base), with_newline(ours), with_newline(theirs));
        let run = |opts: &mut MergeFileOptions| -> Result<(String, bool)> {
            let merged = git2::merge_file(
                &input(&base, "snapshot"),
                &input(&ours, ours_label),
                &input(&theirs, theirs_label),
                Some(opts),
            )
            .map_err(GitError::git("cannot merge the scratchpad"))?;
            // Lines are split at `\n` bytes, so a merge of UTF-8 texts is UTF-8.
            let text = String::from_utf8_lossy(merged.content()).into_owned();
            Ok((text, !merged.is_automergeable()))
        };
        let mut probe = MergeFileOptions::new();
        probe.style_diff3(true).marker_size(PROBE_MARKER);
        let (probed, conflicted) = run(&mut probe)?;
        if !conflicted {
            return Ok(clean(&probed));
        }
        if only_insertions(&probed) {
            let mut union = MergeFileOptions::new();
            union.favor(FileFavor::Union);
            let (text, _) = run(&mut union)?;
            return Ok(clean(&text));
        }
        let mut marked = MergeFileOptions::new();
        marked
            .style_standard(true)
            .our_label(ours_label)
            .their_label(theirs_label);
        let (text, conflicted) = run(&mut marked)?;
        Ok(TextMerge { text, conflicted })
    }
}

fn input<'a>(text: &'a str, label: &str) -> MergeFileInput<'a> {
    let mut i = MergeFileInput::new();
    i.content(text.as_bytes()).path(label);
    i
}

fn with_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// Whether every conflict of a diff3-style merge (markers of [`PROBE_MARKER`]) has an empty
/// snapshot part: both sides only inserted lines there, and changed none of the snapshot's.
fn only_insertions(diff3: &str) -> bool {
    let marker = |c: char| c.to_string().repeat(PROBE_MARKER as usize);
    let (base_mark, sep_mark) = (marker('|'), marker('='));
    let is = |line: &str, mark: &str| {
        line.strip_prefix(mark)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
    };
    let mut lines = diff3.lines();
    while let Some(line) = lines.next() {
        if is(line, &base_mark) && !lines.next().is_some_and(|next| is(next, &sep_mark)) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testutil::temp_repo;

    fn merge(base: &str, ours: &str, theirs: &str) -> TextMerge {
        let (_d, repo) = temp_repo();
        repo.merge_text(base, ours, theirs, "scratchpad", "session 7")
            .unwrap()
    }

    const BASE: &str = "# Notes\n\n- the build needs `make gen` first\n- tests are slow\n";

    #[test]
    fn notes_appended_on_both_sides_are_both_kept_ours_first() {
        let ours = format!("{BASE}- ours: flaky test in io.rs\n");
        let theirs = format!("{BASE}- theirs: the parser is done\n- theirs: next the lexer\n");
        let m = merge(BASE, &ours, &theirs);
        assert!(!m.conflicted, "{}", m.text);
        assert_eq!(
            m.text,
            format!(
                "{BASE}- ours: flaky test in io.rs\n- theirs: the parser is done\n- theirs: next the lexer\n"
            )
        );
    }

    #[test]
    fn edits_in_different_places_merge_cleanly() {
        let ours = BASE.replace("make gen", "make generate");
        let theirs = format!("{BASE}- theirs: done\n").replace("# Notes", "# Notes (run 3)");
        let m = merge(BASE, &ours, &theirs);
        assert!(!m.conflicted, "{}", m.text);
        assert_eq!(
            m.text,
            "# Notes (run 3)\n\n- the build needs `make generate` first\n- tests are slow\n- theirs: done\n"
        );
        // NB: as in git, a change next to the other side's change is one conflict.
        let ours = BASE.replace("tests are slow", "tests are slow (30 s)");
        assert!(merge(BASE, &ours, &theirs).conflicted);
    }

    #[test]
    fn one_side_unchanged_takes_the_other_byte_for_byte() {
        let edited = "# Notes\n- rewritten without a final newline";
        assert_eq!(merge(BASE, BASE, edited).text, edited);
        assert_eq!(merge(BASE, edited, BASE).text, edited);
        assert!(!merge(BASE, BASE, edited).conflicted);
        assert_eq!(
            merge(BASE, "", BASE).text,
            "",
            "a side that emptied it wins"
        );
    }

    #[test]
    fn the_same_note_written_on_both_sides_is_kept_once() {
        let both = format!("{BASE}- both: use --release for benches\n");
        let m = merge(BASE, &both, &both);
        assert_eq!((m.text.as_str(), m.conflicted), (both.as_str(), false));
        // The same note plus one of its own on one side: the shared note still once.
        let more = format!("{both}- theirs: and warm the cache\n");
        let m = merge(BASE, &both, &more);
        assert_eq!((m.text.as_str(), m.conflicted), (more.as_str(), false));
    }

    #[test]
    fn the_same_line_changed_differently_is_kept_twice_between_markers() {
        let ours = BASE.replace("tests are slow", "tests take 30 s");
        let theirs = BASE.replace("tests are slow", "tests are fast now");
        let m = merge(BASE, &ours, &theirs);
        assert!(m.conflicted);
        assert_eq!(
            m.text,
            "# Notes\n\n- the build needs `make gen` first\n<<<<<<< scratchpad\n- tests take 30 s\n=======\n- tests are fast now\n>>>>>>> session 7\n"
        );
    }

    #[test]
    fn an_empty_snapshot_keeps_both_sides_and_their_shared_start_once() {
        let m = merge("", "# Notes\n- ours\n", "# Notes\n- theirs\n");
        assert!(!m.conflicted, "{}", m.text);
        assert_eq!(m.text, "# Notes\n- ours\n- theirs\n");
        let m = merge("", "", "- theirs\n");
        assert_eq!((m.text.as_str(), m.conflicted), ("- theirs\n", false));
    }

    #[test]
    fn appends_after_a_last_line_without_newline_are_not_a_conflict() {
        let base = "- one";
        let m = merge(base, "- one\n- ours\n", "- one\n- theirs");
        assert!(!m.conflicted, "{}", m.text);
        assert_eq!(m.text, "- one\n- ours\n- theirs\n");
    }

    #[test]
    fn text_beyond_ascii_merges_intact() {
        let base = "# Notizen ✍️\n- Größe prüfen\n- ok\n";
        let ours = format!("{base}- 日本語のテスト 🚀\n");
        let theirs = base.replace("Größe", "Größe und Gewicht");
        let m = merge(base, &ours, &theirs);
        assert!(!m.conflicted, "{}", m.text);
        assert_eq!(
            m.text,
            "# Notizen ✍️\n- Größe und Gewicht prüfen\n- ok\n- 日本語のテスト 🚀\n"
        );
        let clash = merge(
            base,
            &base.replace("ok", "gut ✅"),
            &base.replace("ok", "très bien"),
        );
        assert!(clash.conflicted);
        assert!(
            clash.text.contains("gut ✅\n=======\n- très bien\n"),
            "{}",
            clash.text
        );
    }

    #[test]
    fn probe_reads_only_empty_snapshot_parts_as_insertions() {
        let bar = "|".repeat(PROBE_MARKER as usize);
        let eq = "=".repeat(PROBE_MARKER as usize);
        assert!(only_insertions(&format!("a\n{bar} snapshot\n{eq}\nb\n")));
        assert!(!only_insertions(&format!("a\n{bar} snapshot\nold\n{eq}\n")));
        assert!(only_insertions("no conflict at all\n"));
    }
}
