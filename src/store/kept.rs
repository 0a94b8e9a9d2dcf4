//! Work that does not land, saved so that it can be taken up again: a failed session's work,
//! leftovers that look like a secret, what `--resume` or `gc --force` find in a worktree.
//!
//! A saved patch that cannot be applied is not saved. So the patch a run keeps is the work as
//! git wrote it, untouched, whenever it can be pushed safely: its lines of context and removed
//! lines are the run branch's own code (already pushed with it), and its binary data is base85
//! that a redaction would corrupt. Only what the work *adds* is new: its added lines, its file
//! names and the contents of its binary files. When any of those holds what looks like a
//! secret, or the patch is larger than a run keeps ([`PATCH_CAP`]), the work cannot be both
//! whole and in the run. It is then kept whole, unredacted, as a commit (parent: the tip the
//! work started from) on a local ref, `refs/pitboss-local/work/<run-id>/<name>`, which `push`
//! never sends and `gc` never deletes; the run keeps a note naming that ref, followed by the
//! patch for reading only (added lines and names redacted, binary data left out, capped).

use chrono::{DateTime, Utc};

use crate::agent::Redactor;
use crate::git::{CasOutcome, GitError, Identity, Oid, Repo};
use crate::store::RunId;

/// Largest patch kept in a run (runs are pushed to shared remotes; larger work is kept whole on
/// a local ref instead, see the module doc).
pub(crate) const PATCH_CAP: usize = 20 << 20;

/// The line of a kept patch's note that names the local ref (read back by `show`).
const KEPT_AT: &str = "[pitboss] the work is kept whole on this machine only, at ";

/// Where and as what the work is saved.
pub(crate) struct KeepAs<'a> {
    pub(crate) run: &'a RunId,
    /// The file's name without `.patch` (`session-0007`, `resume-0003`): the local ref's too.
    pub(crate) name: String,
    pub(crate) who: Identity,
    pub(crate) when: DateTime<Utc>,
}

/// The work as saved.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    /// What the run stores as the patch.
    pub(crate) patch: Vec<u8>,
    /// The local ref holding the whole work, when the patch could not (and why).
    pub(crate) local: Option<(String, String)>,
}

/// Saves the work in `wt` since `since` (see the module doc). `None` when there is none.
pub(crate) fn keep_work(
    wt: &Repo,
    since: Oid,
    redactor: &Redactor,
    how: &KeepAs<'_>,
) -> Result<Option<Kept>, GitError> {
    let bytes = wt.patch_since(since)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let scan = scan(redactor, &bytes);
    let mut why = Vec::new();
    if scan.secret {
        why.push("its added lines or file names hold what looks like a secret".to_string());
    }
    if scan.binary || scan.secret || bytes.len() > PATCH_CAP {
        let snap = wt.snapshot_since(since)?;
        if !scan.secret && binary_secret(wt, redactor, &snap)? {
            why.push("a binary file it adds holds what looks like a secret".to_string());
        }
        if bytes.len() > PATCH_CAP {
            why.push(format!(
                "its patch is {} bytes, more than the {PATCH_CAP} a run keeps",
                bytes.len()
            ));
        }
        if !why.is_empty() {
            let why = why.join("; ");
            let name = local_ref(wt, since, snap.tree, how)?;
            let patch = kept_patch(redactor, &bytes, &name, since, &why);
            return Ok(Some(Kept {
                patch,
                local: Some((name, why)),
            }));
        }
    }
    Ok(Some(Kept {
        patch: bytes,
        local: None,
    }))
}

/// True when what the work in `wt` adds since `since` (added lines, file names, binary
/// contents) holds what looks like a secret.
pub(crate) fn holds_secret(wt: &Repo, since: Oid, redactor: &Redactor) -> Result<bool, GitError> {
    let bytes = wt.patch_since(since)?;
    let scan = scan(redactor, &bytes);
    if scan.secret {
        return Ok(true);
    }
    if !scan.binary {
        return Ok(false);
    }
    binary_secret(wt, redactor, &wt.snapshot_since(since)?)
}

/// The local ref named in a kept patch's note, if the patch is one.
pub(crate) fn kept_ref_in(patch: &[u8]) -> Option<String> {
    let head = &patch[..patch.len().min(4096)];
    String::from_utf8_lossy(head).lines().find_map(|l| {
        l.strip_prefix(KEPT_AT)
            .map(|r| r.split_whitespace().next().unwrap_or("").to_string())
    })
}

/// What a patch's own lines show.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    /// An added line or a file header (names) looks like a secret.
    secret: bool,
    /// Some file is carried as binary data.
    binary: bool,
}

/// Where a line of a git patch is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// `diff --git`, modes, `index`, `---`/`+++`, renames: file names live here.
    Header,
    /// `@@` and the lines under it.
    Hunk,
    /// After `GIT binary patch`: base85 data to the next file.
    Binary,
}

/// Walks a patch line by line, telling each line's part.
fn parts(bytes: &[u8]) -> impl Iterator<Item = (Part, &[u8])> {
    let mut part = Part::Header;
    bytes.split_inclusive(|&b| b == b'\n').map(move |line| {
        if line.starts_with(b"diff --git ") {
            part = Part::Header;
        } else if part == Part::Header && line.starts_with(b"@@") {
            part = Part::Hunk;
        } else if part == Part::Header && line.starts_with(b"GIT binary patch") {
            part = Part::Binary;
            return (Part::Header, line);
        }
        (part, line)
    })
}

fn scan(redactor: &Redactor, bytes: &[u8]) -> Scan {
    let mut out = Scan::default();
    for (part, line) in parts(bytes) {
        match part {
            Part::Binary => out.binary = true,
            Part::Header => out.secret |= redactor.finds_secret(line),
            Part::Hunk if line.starts_with(b"+") => out.secret |= redactor.finds_secret(line),
            Part::Hunk => {}
        }
    }
    out
}

/// True when a binary file the work writes holds what looks like a secret (base85 in a
/// patch is an encoding, not a disguise).
fn binary_secret(
    wt: &Repo,
    redactor: &Redactor,
    snap: &crate::git::Snapshot,
) -> Result<bool, GitError> {
    for c in snap.changed.iter().filter(|c| c.binary) {
        if let Some(blob) = c.blob
            && wt.with_blob(blob, |b| redactor.finds_secret(b))?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Commits the work's tree on `refs/pitboss-local/work/<run>/<name>` (or `<name>-2`… when
/// that is taken by other work) and returns the ref. The same work already there is reused,
/// so a save that is repeated after a crash does not pile up refs.
fn local_ref(wt: &Repo, since: Oid, tree: Oid, how: &KeepAs<'_>) -> Result<String, GitError> {
    let msg = format!(
        "pitboss: work of {} in run {}, kept on this machine only\n\nIt is not in the run \
         (runs are pushed): see the note in its patches/…/{}.patch.\n",
        how.name, how.run, how.name
    );
    let commit = wt.write_commit(tree, &[since], &msg, &how.who, how.when)?;
    for n in 1..=1000 {
        let name = match n {
            1 => how.run.local_work_ref(&how.name),
            _ => how.run.local_work_ref(&format!("{}-{n}", how.name)),
        };
        if let Some(old) = wt.ref_target(&name)? {
            let same = wt
                .commit_info(old)?
                .is_some_and(|c| c.tree == tree && c.parents == [since]);
            if same {
                return Ok(name);
            }
            continue;
        }
        if let CasOutcome::Updated = wt.cas_ref(&name, commit, None, &msg)? {
            return Ok(name);
        }
    }
    Err(GitError::Io {
        what: format!("cannot keep the work of {} of run {}", how.name, how.run),
        source: std::io::Error::other("a thousand local refs of that name are taken"),
    })
}

/// The note, then the patch for reading only: added lines and headers redacted, binary data
/// left out, capped at [`PATCH_CAP`].
fn kept_patch(redactor: &Redactor, bytes: &[u8], name: &str, since: Oid, why: &str) -> Vec<u8> {
    let short = &since.to_string()[..12];
    let mut out = format!(
        "[pitboss] this patch is for reading only and does not apply: {why}.\n\
         {KEPT_AT}{name} (never pushed; a commit on {short}, where the work started).\n\
         [pitboss] take it up with: git switch -c <branch> {name}\n\
         [pitboss] below: the work's patch, with added lines and file names redacted and binary \
         contents left out\n\n"
    )
    .into_bytes();
    let mut in_binary = false;
    for (part, line) in parts(bytes) {
        if out.len() >= PATCH_CAP {
            out.extend_from_slice(
                format!(
                    "\n[pitboss] cut here: {} of {} bytes shown\n",
                    out.len(),
                    bytes.len()
                )
                .as_bytes(),
            );
            break;
        }
        match part {
            Part::Binary if !in_binary => {
                in_binary = true;
                out.extend_from_slice(b"[pitboss] binary contents left out\n");
            }
            Part::Binary => {}
            Part::Hunk if !line.starts_with(b"+") => out.extend_from_slice(line),
            _ => out.extend_from_slice(&redactor.redact_bytes(line)),
        }
        if part != Part::Binary {
            in_binary = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "diff --git a/cfg.env b/cfg.env\nindex 1..2 100644\n--- a/cfg.env\n\
        +++ b/cfg.env\n@@ -1,2 +1,2 @@\n API_KEY=sk-abcdefghijklmnopqrstuvwxyz0123\n-a\n+b\n";

    #[test]
    fn a_secret_in_context_is_not_the_work_s() {
        let r = Redactor::default();
        assert_eq!(scan(&r, PATCH.as_bytes()), Scan::default());
        let added = PATCH.replace("+b\n", "+T=sk-abcdefghijklmnopqrstuvwxyz0123\n");
        assert!(scan(&r, added.as_bytes()).secret);
    }

    #[test]
    fn a_file_named_after_a_secret_is_seen_and_binary_data_is_left_out() {
        let r = Redactor::default();
        let p = "diff --git a/ghp_abcdefghijklmnopqrstuvwxyz0123456789 b/ghp_abcdefghijklmnopqrstuvwxyz0123456789\n\
                 new file mode 100644\nGIT binary patch\nliteral 3\nKey=abcdefghijklmnopqrstuvwxyz\n\n";
        let s = scan(&r, p.as_bytes());
        assert!(s.secret && s.binary);
        let oid: Oid = "0123456789abcdef0123456789abcdef01234567".parse().unwrap();
        let out = kept_patch(&r, p.as_bytes(), "refs/pitboss-local/work/r/x", oid, "why");
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(!text.contains("ghp_abc"), "{text}");
        assert!(!text.contains("Key=abc"), "{text}");
        assert!(text.contains("binary contents left out"), "{text}");
        assert_eq!(
            kept_ref_in(&out).as_deref(),
            Some("refs/pitboss-local/work/r/x")
        );
        assert_eq!(kept_ref_in(PATCH.as_bytes()), None);
    }
}
