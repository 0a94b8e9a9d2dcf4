//! The one place that runs the user's `git` binary for network work (DESIGN §6): push, fetch
//! and ls-remote, always with explicit refspecs. The `git` binary brings the user's credential
//! helpers, ssh config, proxies and the server's hooks; libgit2's own push does not check the
//! remote's old value on local remotes and runs no hooks (DESIGN §7).
//!
//! Invocations are plain values ([`NetCommand`]) built by pure functions, so what we ask git to
//! do is testable without a network; [`Repo::run_net`] is the only function that turns one into
//! a process. We never force a push (a deletion carries a lease) and never write
//! `remote.*.fetch` config: every refspec is on the command line.

use std::process::{Command, Stdio};

use super::porcelain::stderr_gist;
use super::{Oid, Repo};

/// A `git` network command, as arguments after `git`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetCommand {
    /// `push`, `fetch` or `ls-remote`, for messages.
    pub op: &'static str,
    /// The remote as given to git: a remote name, a URL or a path.
    pub remote: String,
    pub args: Vec<String>,
}

impl NetCommand {
    /// `git push --porcelain [--force-with-lease=<ref>:<oid>]… -- <remote> <refspec>…`.
    /// Refspecs never carry a leading `+`.
    pub fn push(remote: &str, refspecs: &[String], leases: &[(String, Oid)]) -> NetCommand {
        debug_assert!(refspecs.iter().all(|r| !r.starts_with('+')));
        let mut args = vec!["push".to_string(), "--porcelain".to_string()];
        for (name, oid) in leases {
            args.push(format!("--force-with-lease={name}:{oid}"));
        }
        args.push("--".into());
        args.push(remote.to_string());
        args.extend(refspecs.iter().cloned());
        NetCommand {
            op: "push",
            remote: remote.to_string(),
            args,
        }
    }

    /// `git fetch --no-tags --no-write-fetch-head [--prune] -- <remote> <refspec>…`: only the
    /// named refspecs, no tags, and `FETCH_HEAD` left alone.
    pub fn fetch(remote: &str, refspecs: &[String], prune: bool) -> NetCommand {
        let mut args = vec![
            "fetch".to_string(),
            "--quiet".to_string(),
            "--no-tags".to_string(),
            "--no-write-fetch-head".to_string(),
            "--no-recurse-submodules".to_string(),
        ];
        if prune {
            args.push("--prune".into());
        }
        args.push("--".into());
        args.push(remote.to_string());
        args.extend(refspecs.iter().cloned());
        NetCommand {
            op: "fetch",
            remote: remote.to_string(),
            args,
        }
    }

    /// `git ls-remote -- <remote> <pattern>…`.
    pub fn ls_remote(remote: &str, patterns: &[&str]) -> NetCommand {
        let mut args = vec![
            "ls-remote".to_string(),
            "--".to_string(),
            remote.to_string(),
        ];
        args.extend(patterns.iter().map(|p| p.to_string()));
        NetCommand {
            op: "ls-remote",
            remote: remote.to_string(),
            args,
        }
    }
}

/// What a network command printed, and whether it succeeded.
#[derive(Debug, Clone)]
pub struct NetOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl NetOutput {
    /// The lines of stderr worth showing (errors, or the last few lines).
    pub fn gist(&self) -> String {
        stderr_gist(&self.stderr)
    }

    /// The `remote:` lines, which carry what the server's hooks said.
    pub fn remote_messages(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("remote:"))
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// A network command that could not run, or failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot run `git {op}`: {source}")]
    Spawn {
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("git {op} {remote} failed: {detail}")]
    Failed {
        op: &'static str,
        remote: String,
        detail: String,
    },
}

impl NetError {
    /// The failure of `out` as a whole command.
    pub fn failed(cmd: &NetCommand, out: &NetOutput) -> NetError {
        let gist = out.gist();
        NetError::Failed {
            op: cmd.op,
            remote: cmd.remote.clone(),
            detail: if gist.is_empty() {
                "git exited with an error and said nothing".into()
            } else {
                gist
            },
        }
    }
}

impl Repo {
    /// Runs a network command in this repository and captures its output. A non-zero exit is
    /// not an error here: `git push` exits 1 when one ref of many was rejected, and the caller
    /// reads the porcelain to say which.
    pub fn run_net(&self, cmd: &NetCommand) -> Result<NetOutput, NetError> {
        // NB: run where git itself would (the top of the work tree, or the git dir of a bare
        // repository), so a remote given as a relative path means what it means to plain git.
        let dir = self.workdir().unwrap_or_else(|| self.git_dir());
        let started = std::time::Instant::now();
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.git_dir())
            .args(&cmd.args)
            .current_dir(dir)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .stdin(Stdio::null())
            .output()
            .map_err(|source| NetError::Spawn { op: cmd.op, source })?;
        tracing::debug!(
            target: "pitboss::net",
            op = %cmd.op,
            remote = %without_userinfo(&cmd.remote),
            refspecs = cmd.args.iter().filter(|a| a.contains(':')).count(),
            success = out.status.success(),
            ms = %format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            "git network command"
        );
        Ok(NetOutput {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// `remote` for a log line: a URL's user and password (`https://user:token@host/…`) left out.
fn without_userinfo(remote: &str) -> String {
    match (remote.find("://"), remote.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}…{}", &remote[..scheme + 3], &remote[at..])
        }
        _ => remote.to_string(),
    }
}

/// Picks the remote to use when none is named: `pitboss.remote`, else the current branch's
/// push remote (`branch.<b>.pushRemote`, `remote.pushDefault`, `branch.<b>.remote`), else
/// `origin`. `config` reads one git config key; `remotes` are the configured remote names.
/// `None` when nothing applies (no remote at all).
pub(crate) fn default_remote(
    config: &dyn Fn(&str) -> Option<String>,
    current_branch: Option<&str>,
    remotes: &[String],
) -> Option<String> {
    let set = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(r) = set(config("pitboss.remote")) {
        return Some(r);
    }
    if let Some(b) = current_branch {
        if let Some(r) = set(config(&format!("branch.{b}.pushRemote"))) {
            return Some(r);
        }
        if let Some(r) = set(config("remote.pushDefault")) {
            return Some(r);
        }
        // `.` means "this repository" (a local tracking branch): not a place to share runs.
        if let Some(r) = set(config(&format!("branch.{b}.remote"))).filter(|r| r != ".") {
            return Some(r);
        }
    } else if let Some(r) = set(config("remote.pushDefault")) {
        return Some(r);
    }
    remotes
        .iter()
        .any(|r| r == "origin")
        .then(|| "origin".to_string())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_logged_remote_leaves_out_a_urls_user_and_password() {
        assert_eq!(
            without_userinfo("https://me:ghp_secret@example.com/team/repo.git"),
            "https://…@example.com/team/repo.git"
        );
        assert_eq!(without_userinfo("origin"), "origin");
        assert_eq!(
            without_userinfo("git@example.com:team/repo.git"),
            "git@example.com:team/repo.git"
        );
        assert_eq!(without_userinfo("/srv/git/repo.git"), "/srv/git/repo.git");
    }

    #[test]
    fn invocations_are_explicit_and_never_forced() {
        let oid = Oid::from_str("49ea5f0151132eeace78e40210b4dad987d0ceae").unwrap();
        let p = NetCommand::push(
            "origin",
            &[format!("{oid}:refs/pitboss/grind/r1")],
            &[("refs/pitboss/grind/r2".into(), oid)],
        );
        assert_eq!(
            p.args,
            vec![
                "push",
                "--porcelain",
                "--force-with-lease=refs/pitboss/grind/r2:49ea5f0151132eeace78e40210b4dad987d0ceae",
                "--",
                "origin",
                "49ea5f0151132eeace78e40210b4dad987d0ceae:refs/pitboss/grind/r1",
            ]
        );
        let f = NetCommand::fetch("-weird", &["+a:b".into()], true);
        assert_eq!(f.args[f.args.len() - 3..], ["--", "-weird", "+a:b"]);
        assert!(f.args.contains(&"--no-write-fetch-head".to_string()));
        let l = NetCommand::ls_remote("origin", &["refs/pitboss/grind/*"]);
        assert_eq!(
            l.args,
            vec!["ls-remote", "--", "origin", "refs/pitboss/grind/*"]
        );
    }

    #[test]
    fn default_remote_order() {
        let remotes = vec!["origin".to_string(), "team".to_string(), "fork".to_string()];
        let pick = |pairs: &[(&str, &str)], branch: Option<&str>, remotes: &[String]| {
            let m: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            default_remote(&|k| m.get(k).cloned(), branch, remotes)
        };
        let all = [
            ("pitboss.remote", "team"),
            ("branch.main.pushRemote", "fork"),
            ("remote.pushDefault", "pd"),
            ("branch.main.remote", "up"),
        ];
        assert_eq!(pick(&all, Some("main"), &remotes).as_deref(), Some("team"));
        assert_eq!(
            pick(&all[1..], Some("main"), &remotes).as_deref(),
            Some("fork")
        );
        assert_eq!(
            pick(&all[2..], Some("main"), &remotes).as_deref(),
            Some("pd")
        );
        assert_eq!(
            pick(&all[3..], Some("main"), &remotes).as_deref(),
            Some("up")
        );
        assert_eq!(
            pick(&all[3..], Some("dev"), &remotes).as_deref(),
            Some("origin")
        );
        assert_eq!(
            pick(&[("branch.main.remote", ".")], Some("main"), &remotes).as_deref(),
            Some("origin")
        );
        assert_eq!(pick(&all[2..3], None, &remotes).as_deref(), Some("pd"));
        assert_eq!(pick(&[], Some("main"), &remotes[1..]), None);
        assert_eq!(pick(&[("pitboss.remote", "  ")], None, &[]), None);
    }
}
