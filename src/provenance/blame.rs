//! `blame` and `why`: git's blame of a file with each line's session.
//!
//! A line's commit names a session when it is one of the session's own commits, or when its
//! patch id is one of theirs (the session's work after a rebase or cherry-pick, or a squash
//! of that one session), or the line is matched on the run branch of a squashed run; what is
//! left goes through the reach evidence (`blame_reach.rs`). The porcelain parser is pure.

use std::collections::HashMap;

use serde::Serialize;

use super::Result;
use super::index::Index;
use crate::git::{GitError, Oid, Repo};

/// One line of `git blame --porcelain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PorcelainLine {
    pub commit: String,
    pub line: usize,
    pub content: String,
}

/// Parses `git blame --porcelain` output: a header `<sha> <orig> <final> [<count>]`, the
/// commit's fields the first time it appears, then the line itself after a tab.
pub(crate) fn parse_porcelain(bytes: &[u8]) -> Vec<PorcelainLine> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for l in text.lines() {
        if let Some(content) = l.strip_prefix('\t') {
            if let Some((commit, line)) = current.take() {
                out.push(PorcelainLine {
                    commit,
                    line,
                    content: content.to_string(),
                });
            }
            continue;
        }
        let mut parts = l.split(' ');
        let (Some(sha), Some(_orig), Some(fin)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if sha.len() == 40
            && sha.bytes().all(|b| b.is_ascii_hexdigit())
            && let Ok(n) = fin.parse()
        {
            current = Some((sha.to_string(), n));
        }
    }
    out
}

/// How a line's commit was matched to its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Via {
    /// The commit is one the session made.
    Commit,
    /// The commit has the patch id of the session's commit or whole change.
    PatchId,
    /// The commit is a squash of the whole run branch; the line was matched by its text to
    /// the run branch's own blame.
    SquashedRun,
    /// The session's change is applied in the blamed revision (a hand copy, a squash of some
    /// sessions: `applied` in `stats`); the line is text that change added to the file.
    Applied,
}

/// The session that wrote a line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SessionRef {
    pub run: String,
    pub refname: String,
    pub seq: u64,
    pub prompt: String,
    pub via: Via,
}

/// One annotated line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct BlameLine {
    pub line: usize,
    pub commit: String,
    pub content: String,
    pub session: Option<SessionRef>,
    /// When `session` is unknown: the sessions that could have written the line (each added
    /// its text to the file, and its work is not known to be missing from the revision).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<SessionRef>,
}

/// Maps commits to sessions for one blame.
pub(crate) struct Annotator<'a> {
    index: &'a mut Index,
    by_commit: HashMap<String, (String, u64)>,
    by_patch: HashMap<String, (String, u64)>,
    seen: HashMap<String, Option<SessionRef>>,
}

impl<'a> Annotator<'a> {
    pub(crate) fn new(index: &'a mut Index) -> Annotator<'a> {
        let mut by_commit = HashMap::new();
        let mut by_patch = HashMap::new();
        for run in index.runs.values() {
            for s in &run.sessions {
                let who = (run.refname.clone(), s.seq);
                for c in &s.own {
                    by_commit.entry(c.clone()).or_insert_with(|| who.clone());
                }
                for p in s.patch_ids.iter().chain(&s.session_patch_id) {
                    by_patch.entry(p.clone()).or_insert_with(|| who.clone());
                }
            }
        }
        Annotator {
            index,
            by_commit,
            by_patch,
            seen: HashMap::new(),
        }
    }

    /// The session behind a commit, if any.
    pub(crate) fn session_of(&mut self, repo: &Repo, commit: &str) -> Result<Option<SessionRef>> {
        if let Some(s) = self.seen.get(commit) {
            return Ok(s.clone());
        }
        let mut found = self
            .by_commit
            .get(commit)
            .map(|(r, s)| (r.clone(), *s, Via::Commit));
        if found.is_none()
            && let Ok(oid) = commit.parse::<Oid>()
            && !oid.is_zero()
            && repo.is_commit(oid)
            && let Some(p) = self.index.commit_patch_id(repo, oid)?
        {
            found = self
                .by_patch
                .get(&p)
                .map(|(r, s)| (r.clone(), *s, Via::PatchId));
        }
        let out = found.and_then(|(refname, seq, via)| {
            let (run, s) = self.index.session(&refname, seq)?;
            Some(SessionRef {
                run: run.id.clone(),
                refname,
                seq,
                prompt: s.prompt.clone(),
                via,
            })
        });
        self.seen.insert(commit.to_string(), out.clone());
        Ok(out)
    }
}

/// What to blame: git blame's arguments (`-L`, a revision, `--`, the path), the revision
/// alone (`None`: the work tree, judged against `HEAD`) and whether remote runs count.
pub(crate) struct BlameOptions<'a> {
    pub args: &'a [String],
    pub rev: Option<&'a str>,
    pub remote_runs: bool,
}

/// git blame's arguments for a file, a revision and line ranges.
pub(crate) fn git_args(rev: Option<&str>, file: &str, ranges: &[String]) -> Vec<String> {
    let mut a = Vec::new();
    for r in ranges {
        a.push("-L".to_string());
        a.push(r.clone());
    }
    if let Some(rev) = rev {
        a.push(rev.to_string());
    }
    a.push("--".into());
    a.push(file.to_string());
    a
}

/// Blames a file, naming each line's session.
pub(crate) fn blame(
    repo: &Repo,
    index: &mut Index,
    o: &BlameOptions<'_>,
) -> Result<Vec<BlameLine>> {
    let args = o.args;
    let bytes = repo.blame_porcelain(args)?;
    let lines = parse_porcelain(&bytes);
    let mut out = Vec::with_capacity(lines.len());
    {
        let mut ann = Annotator::new(index);
        for l in lines {
            let session = ann.session_of(repo, &l.commit)?;
            out.push(BlameLine {
                line: l.line,
                commit: l.commit,
                content: l.content,
                session,
                candidates: Vec::new(),
            });
        }
    }
    if out.iter().any(|l| l.session.is_none())
        && let Some(file) = args.last()
    {
        through_squashes(repo, index, file, &mut out)?;
        if out.iter().any(|l| l.session.is_none()) {
            super::blame_reach::through_reach(repo, index, o.rev, o.remote_runs, file, &mut out)?;
        }
    }
    Ok(out)
}

/// Lines left plain whose commit is a squash of a whole run branch: blames the file on that
/// branch and takes the session that wrote the same text there.
fn through_squashes(
    repo: &Repo,
    index: &mut Index,
    file: &str,
    out: &mut [BlameLine],
) -> Result<()> {
    let wholes = index.whole_run_patch_ids(repo)?;
    if wholes.is_empty() {
        return Ok(());
    }
    let mut by_commit: HashMap<String, Option<String>> = HashMap::new();
    for l in out.iter().filter(|l| l.session.is_none()) {
        if by_commit.contains_key(&l.commit) {
            continue;
        }
        let run = match l.commit.parse::<Oid>() {
            Ok(oid) if !oid.is_zero() && repo.is_commit(oid) => index
                .commit_patch_id(repo, oid)?
                .and_then(|p| wholes.get(&p).cloned()),
            _ => None,
        };
        by_commit.insert(l.commit.clone(), run);
    }
    let mut on_branch: HashMap<String, HashMap<String, String>> = HashMap::new();
    for refname in by_commit.values().flatten() {
        if on_branch.contains_key(refname) {
            continue;
        }
        let Some(tip) = super::reach::branch_tip(repo, &index.runs[refname])? else {
            continue;
        };
        let args = vec![tip.to_string(), "--".to_string(), file.to_string()];
        let texts: HashMap<String, String> = match repo.blame_porcelain(&args) {
            Ok(bytes) => parse_porcelain(&bytes)
                .into_iter()
                .map(|l| (l.content, l.commit))
                .collect(),
            Err(GitError::Blame { .. }) => HashMap::new(),
            Err(e) => return Err(e.into()),
        };
        on_branch.insert(refname.clone(), texts);
    }
    let mut ann = Annotator::new(index);
    for l in out.iter_mut().filter(|l| l.session.is_none()) {
        let Some(Some(refname)) = by_commit.get(&l.commit) else {
            continue;
        };
        let Some(commit) = on_branch.get(refname).and_then(|t| t.get(&l.content)) else {
            continue;
        };
        if let Some(mut s) = ann.session_of(repo, commit)?
            && &s.refname == refname
        {
            s.via = Via::SquashedRun;
            l.session = Some(s);
        }
    }
    Ok(())
}

/// The part of a transcript around the last mention of `file` (preferring a line that looks
/// like a tool call writing it): `radius` lines either side, with their 1-based numbers.
pub(crate) fn transcript_excerpt(
    text: &str,
    file: &str,
    radius: usize,
) -> Option<Vec<(usize, String)>> {
    let lines: Vec<&str> = text.lines().collect();
    let name = file.rsplit('/').next().unwrap_or(file);
    let writes = |l: &str| {
        let l = l.to_ascii_lowercase();
        ["write", "edit", "patch", "create", "replace"]
            .iter()
            .any(|w| l.contains(w))
    };
    let mentions: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(file) || (name.len() > 2 && lines[i].contains(name)))
        .collect();
    let at = mentions
        .iter()
        .rev()
        .find(|&&i| writes(lines[i]))
        .or(mentions.last())
        .copied()?;
    let from = at.saturating_sub(radius);
    let to = (at + radius + 1).min(lines.len());
    Some((from..to).map(|i| (i + 1, lines[i].to_string())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn parses_porcelain_with_repeated_commits() {
        let text = format!(
            "{A} 1 1 2\nauthor X\nsummary s\nfilename f\n\tfirst\n{A} 2 2\nfilename f\n\tsecond\n{B} 1 3 1\nauthor Y\nfilename f\n\t\tindented\n"
        );
        let lines = parse_porcelain(text.as_bytes());
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].commit, A);
        assert_eq!(lines[1].line, 2);
        assert_eq!(lines[1].content, "second");
        assert_eq!(lines[2].commit, B);
        assert_eq!(lines[2].content, "\tindented");
    }

    #[test]
    fn excerpt_prefers_the_write() {
        let t = "read src/a.rs\nthinking\nWrite src/a.rs\nok\ndone";
        let e = transcript_excerpt(t, "src/a.rs", 1).unwrap();
        assert_eq!(e[1], (3, "Write src/a.rs".to_string()));
        assert_eq!(e.len(), 3);
        assert!(transcript_excerpt(t, "src/zzz.rs", 1).is_none());
    }
}
