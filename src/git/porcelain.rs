//! Pure parsers for what the `git` binary prints during network work: `git push --porcelain`
//! and `git ls-remote`. Tested on output recorded from git 2.47 (house style 11).
//!
//! `git push --porcelain` prints, on stdout, `To <url>`, then one line per ref
//! `<flag>\t<from>:<to>\t<summary>` (the summary ends in ` (<reason>)` for rejections), then
//! `Done`. The flag and the `[…]` summaries come from git itself and are not translated; the
//! reason of a `[remote rejected]` line is whatever the server said, so it is classified by
//! keywords and always kept verbatim too.

use serde::Serialize;
use std::str::FromStr;

use super::Oid;

/// The first column of a porcelain push line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PushFlag {
    /// ` `: a fast-forward.
    FastForward,
    /// `+`: a forced update (we never ask for one).
    Forced,
    /// `-`: a deleted ref.
    Deleted,
    /// `*`: a new ref.
    New,
    /// `!`: rejected, locally or by the remote.
    Rejected,
    /// `=`: already up to date.
    UpToDate,
}

/// One ref of a `git push --porcelain` report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PushLine {
    pub flag: PushFlag,
    /// The source side: a ref, an object id, empty or `(delete)` for a deletion.
    pub from: String,
    /// The remote ref.
    pub to: String,
    /// `[new reference]`, `0309748..bedcc2b`, `[rejected]`, `[remote rejected]`, …
    pub summary: String,
    /// The text in parentheses after the summary, for rejections.
    pub reason: Option<String>,
}

/// Why a ref was rejected, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum Rejection {
    /// The remote has commits we do not have on top of, or beside, ours: a non-fast-forward.
    Diverged,
    /// A lease (`--force-with-lease`) did not hold: the remote ref moved since we last saw it.
    StaleLease,
    /// A server-side hook refused the update (with the hook's message, when there was one).
    HookDeclined,
    /// The remote protects this ref.
    Protected,
    /// We are not allowed to write this ref.
    Permission,
    /// Anything else: the reason as the remote gave it.
    Other(String),
}

impl Rejection {
    /// Classifies a rejected line by its summary and reason.
    pub fn classify(summary: &str, reason: Option<&str>) -> Rejection {
        let r = reason.unwrap_or("").to_ascii_lowercase();
        let local = summary == "[rejected]";
        if local && (r == "non-fast-forward" || r == "fetch first" || r == "needs force") {
            return Rejection::Diverged;
        }
        if r == "stale info" {
            return Rejection::StaleLease;
        }
        if r.contains("protected") {
            return Rejection::Protected;
        }
        if r.contains("hook declined") {
            return Rejection::HookDeclined;
        }
        if [
            "permission",
            "not permitted",
            "denied",
            "prohibited",
            "forbidden",
            "not allowed",
        ]
        .iter()
        .any(|k| r.contains(k))
        {
            return Rejection::Permission;
        }
        if r == "non-fast-forward" || r.contains("fast forward") || r.contains("fast-forward") {
            return Rejection::Diverged;
        }
        Rejection::Other(reason.unwrap_or(summary).to_string())
    }

    /// The reason in plain words.
    pub fn describe(&self) -> String {
        match self {
            Rejection::Diverged => {
                "diverged: the remote has sessions this repository does not (non-fast-forward)"
                    .into()
            }
            Rejection::StaleLease => "the remote ref moved since it was last fetched".into(),
            Rejection::HookDeclined => "a hook on the remote refused it".into(),
            Rejection::Protected => "the remote protects this ref".into(),
            Rejection::Permission => "no permission to write this ref on the remote".into(),
            Rejection::Other(r) => format!("the remote refused it ({r})"),
        }
    }
}

/// Parses the stdout of `git push --porcelain`. Lines that are not ref lines (`To …`,
/// `Done`, blank) are skipped; a line that looks like a ref line but is malformed is skipped
/// too, so a newer git that adds lines does not break us.
pub(crate) fn parse_push_porcelain(stdout: &str) -> Vec<PushLine> {
    stdout.lines().filter_map(parse_push_line).collect()
}

fn parse_push_line(line: &str) -> Option<PushLine> {
    let mut chars = line.chars();
    let flag = match chars.next()? {
        ' ' => PushFlag::FastForward,
        '+' => PushFlag::Forced,
        '-' => PushFlag::Deleted,
        '*' => PushFlag::New,
        '!' => PushFlag::Rejected,
        '=' => PushFlag::UpToDate,
        _ => return None,
    };
    let rest = line.get(1..)?.strip_prefix('\t')?;
    let (refs, summary) = rest.split_once('\t')?;
    // The destination never contains ':' (ref names cannot); the source can be `(delete)`.
    let (from, to) = refs.rsplit_once(':')?;
    let (summary, reason) = match summary.split_once(" (") {
        Some((s, r)) if r.ends_with(')') => (s, Some(r[..r.len() - 1].to_string())),
        _ => (summary, None),
    };
    Some(PushLine {
        flag,
        from: from.to_string(),
        to: to.to_string(),
        summary: summary.to_string(),
        reason,
    })
}

/// Parses `git ls-remote` output: `<oid>\t<ref>` per line. Peeled tag lines (`^{}`) are
/// skipped; a malformed line is an error naming it (we asked for refs, we must get refs).
pub(crate) fn parse_ls_remote(stdout: &str) -> Result<Vec<(String, Oid)>, String> {
    let mut out = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let (oid, name) = line
            .split_once('\t')
            .ok_or_else(|| format!("unexpected line from git ls-remote: {line:?}"))?;
        if name.ends_with("^{}") {
            continue;
        }
        let oid = Oid::from_str(oid.trim())
            .map_err(|_| format!("unexpected object id from git ls-remote: {line:?}"))?;
        out.push((name.to_string(), oid));
    }
    out.sort();
    Ok(out)
}

/// The lines of git's stderr worth showing a user: `fatal:`, `error:` and `remote:` lines,
/// or else the last few lines, joined with "; ".
pub(crate) fn stderr_gist(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let key: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .collect();
    let pick = if key.is_empty() {
        &lines[lines.len().saturating_sub(3)..]
    } else {
        &key[..]
    };
    pick.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded from git 2.47 pushing to a bare repository by path.
    const NEW_AND_UPTODATE: &str = "To ../remote.git\n\
        =\trefs/heads/main:refs/heads/main\t[up to date]\n\
        *\t0309748628eab96da3805a1742654b7ab396cf2f:refs/pitboss/grind/r1\t[new reference]\n\
        \x20\tbedcc2b598a3e391cee560e67f79efca676a0263:refs/pitboss/grind/r2\t0309748..bedcc2b\n\
        Done\n";
    const REJECTIONS: &str = "To ../remote.git\n\
        !\t07c1bbb820ff77edd0081917b5e6dddacc75356d:refs/pitboss/grind/r1\t[rejected] (non-fast-forward)\n\
        !\tebf4635670394739eee2f487a8a389457ae9aedf:refs/pitboss/grind/r2\t[rejected] (fetch first)\n\
        !\tebf4635670394739eee2f487a8a389457ae9aedf:refs/pitboss/grind/r3\t[remote rejected] (pre-receive hook declined)\n\
        !\tebf4635670394739eee2f487a8a389457ae9aedf:refs/pitboss/grind/r4\t[remote rejected] (hook declined)\n\
        !\t(delete):refs/pitboss/grind/r5\t[rejected] (stale info)\n\
        !\trefs/heads/pitboss/grind/r6:refs/heads/pitboss/grind/r6\t[remote rejected] (protected branch hook declined)\n\
        !\trefs/heads/x:refs/heads/x\t[remote rejected] (permission denied)\n\
        !\trefs/heads/y:refs/heads/y\t[remote rejected] (failed to update ref)\n\
        -\t:refs/pitboss/grind/r7\t[deleted]\n\
        Done\n";

    #[test]
    fn parses_accepted_lines() {
        let lines = parse_push_porcelain(NEW_AND_UPTODATE);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].flag, PushFlag::UpToDate);
        assert_eq!(lines[0].to, "refs/heads/main");
        assert_eq!(lines[1].flag, PushFlag::New);
        assert_eq!(lines[1].from, "0309748628eab96da3805a1742654b7ab396cf2f");
        assert_eq!(lines[1].summary, "[new reference]");
        assert_eq!(lines[2].flag, PushFlag::FastForward);
        assert_eq!(lines[2].summary, "0309748..bedcc2b");
        assert_eq!(lines[2].reason, None);
    }

    #[test]
    fn classifies_rejections_in_plain_words() {
        let lines = parse_push_porcelain(REJECTIONS);
        let kinds: Vec<Rejection> = lines
            .iter()
            .filter(|l| l.flag == PushFlag::Rejected)
            .map(|l| Rejection::classify(&l.summary, l.reason.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                Rejection::Diverged,
                Rejection::Diverged,
                Rejection::HookDeclined,
                Rejection::HookDeclined,
                Rejection::StaleLease,
                Rejection::Protected,
                Rejection::Permission,
                Rejection::Other("failed to update ref".into()),
            ]
        );
        assert_eq!(lines[4].from, "(delete)");
        assert_eq!(lines[8].flag, PushFlag::Deleted);
        assert_eq!(lines[8].from, "");
        assert!(Rejection::Diverged.describe().contains("non-fast-forward"));
    }

    #[test]
    fn tolerates_unknown_lines() {
        let lines =
            parse_push_porcelain("To x\n?\tweird\nnot a line\n \tno-colon\tsummary\nDone\n");
        assert!(lines.is_empty(), "{lines:?}");
    }

    #[test]
    fn parses_ls_remote() {
        let out = "49ea5f0151132eeace78e40210b4dad987d0ceae\trefs/pitboss/grind/r2\n\
                   c829bbfe310749fb2267dbc4e3c35b1d3263f4b6\trefs/pitboss/grind/a/b\n\
                   c829bbfe310749fb2267dbc4e3c35b1d3263f4b6\trefs/tags/v1^{}\n";
        let refs = parse_ls_remote(out).unwrap();
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].0, "refs/pitboss/grind/a/b");
        assert!(parse_ls_remote("garbage\n").is_err());
        assert!(parse_ls_remote("zz\trefs/x\n").is_err());
        assert!(parse_ls_remote("").unwrap().is_empty());
    }

    #[test]
    fn stderr_gist_prefers_errors() {
        let err = "hint: try this\nfatal: 'nowhere' does not appear to be a git repository\n\
                   fatal: Could not read from remote repository.\n\nPlease make sure…\n";
        assert_eq!(
            stderr_gist(err),
            "fatal: 'nowhere' does not appear to be a git repository; fatal: Could not read from remote repository."
        );
        assert_eq!(stderr_gist("a\nb\nc\nd\n"), "b; c; d");
    }
}
