//! Opening a pull request on the forge that hosts a remote, through the forge's own command-line
//! tool: `gh` for GitHub (and GitHub Enterprise), `glab` for GitLab. Their users have them set
//! up already (accounts, tokens, SSO, proxies), so pitboss handles no forge credentials at all.
//!
//! Which forge a remote is on: `pitboss.forge` (`github`, `gitlab`) when set, else the host of
//! the remote's URL (`github.com`; a host named `gitlab…`). Everything up to the process is
//! pure ([`detect`], [`ForgeRepo::parse`], [`invocation`], [`parse_created`]); `run.rs` is the
//! only place that starts `gh` or `glab`; [`remote`] reads the remote's forge and branch.

pub(crate) mod remote;
#[allow(
    clippy::disallowed_methods,
    reason = "the one place that starts a forge's tool (`gh`, `glab`)"
)]
mod run;

use serde::Serialize;

pub(crate) use run::open;

/// The git config key that names the forge of every remote of a repository.
pub(crate) const FORGE_KEY: &str = "pitboss.forge";

/// A forge pitboss can open pull requests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Forge {
    GitHub,
    GitLab,
}

impl Forge {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::GitLab => "gitlab",
        }
    }

    /// The forge's command-line tool.
    pub(crate) fn program(self) -> &'static str {
        match self {
            Forge::GitHub => "gh",
            Forge::GitLab => "glab",
        }
    }

    fn parse(s: &str) -> Option<Forge> {
        match s.trim().to_ascii_lowercase().as_str() {
            "github" => Some(Forge::GitHub),
            "gitlab" => Some(Forge::GitLab),
            _ => None,
        }
    }
}

/// Errors of opening a pull request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForgeError {
    #[error("{FORGE_KEY} is {0:?}, which is not a forge pitboss knows (github, gitlab)")]
    BadForge(String),
    #[error("cannot tell the repository from the remote's URL {url:?}: {why}")]
    BadUrl { url: String, why: String },
    #[error("`{program}` is not installed (or not on PATH)")]
    Missing { program: &'static str },
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        program: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program}` is not logged in to {host}")]
    NotAuthenticated { program: &'static str, host: String },
    #[error("{host} refused the pull request: {detail}")]
    Refused { host: String, detail: String },
    #[error(
        "`{program}` said it opened the pull request but printed no URL; it printed: {output:?}"
    )]
    NoUrl {
        program: &'static str,
        output: String,
        /// Whether the forge was asked for an open pull request from `head` (it has none).
        checked: bool,
        head: String,
    },
}

/// A repository on a forge, as the remote's URL names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForgeRepo {
    pub forge: Forge,
    /// The web host, with its port for an `https://` URL that has one.
    pub host: String,
    /// `owner/repo` (GitHub) or `group/…/project` (GitLab), without `.git`.
    pub path: String,
}

impl ForgeRepo {
    /// The repository a remote URL names on `forge`.
    pub(crate) fn parse(forge: Forge, url: &str) -> Result<ForgeRepo, ForgeError> {
        let bad = |why: &str| ForgeError::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let (host, path) = split_url(url).ok_or_else(|| bad("it names no host (a local path?)"))?;
        let path = path.trim_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path).to_string();
        let segments = path.split('/').filter(|s| !s.is_empty()).count();
        match forge {
            Forge::GitHub if segments != 2 => {
                return Err(bad("a GitHub URL ends in <owner>/<repo>"));
            }
            Forge::GitLab if segments < 2 => {
                return Err(bad("a GitLab URL ends in <group>/<project>"));
            }
            _ => {}
        }
        Ok(ForgeRepo { forge, host, path })
    }
}

/// The forge of a remote: `pitboss.forge` when set, else guessed from the URL's host. `Ok(None)`:
/// no forge pitboss knows (the caller says which tool to install or which key to set).
pub(crate) fn detect(url: &str, configured: Option<&str>) -> Result<Option<ForgeRepo>, ForgeError> {
    let forge = match configured.map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => Some(Forge::parse(c).ok_or_else(|| ForgeError::BadForge(c.to_string()))?),
        None => split_url(url).and_then(|(host, _)| {
            let name = host
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if name == "github.com" || name.ends_with(".github.com") {
                Some(Forge::GitHub)
            } else if name == "gitlab.com" || name.starts_with("gitlab.") {
                Some(Forge::GitLab)
            } else {
                None
            }
        }),
    };
    forge.map(|f| ForgeRepo::parse(f, url)).transpose()
}

/// `(host, path)` of a remote URL: `https://host[:port]/path`, `ssh://[user@]host[:port]/path`,
/// `git://host/path`, or scp-like `[user@]host:path`. The port is kept only for http(s), where
/// it is the web server's too. `None` for local paths and `file://`.
fn split_url(url: &str) -> Option<(String, String)> {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host_port = authority.rsplit('@').next().unwrap_or(authority);
        let keep_port = matches!(scheme, "http" | "https");
        let host = if keep_port {
            host_port.to_string()
        } else {
            host_port.split(':').next().unwrap_or_default().to_string()
        };
        return (!host.is_empty() && scheme != "file").then(|| (host, path.to_string()));
    }
    // scp-like: a ':' before any '/'.
    let colon = url.find(':')?;
    if url[..colon].contains('/') {
        return None;
    }
    let host = url[..colon].rsplit('@').next().unwrap_or_default();
    (!host.is_empty()).then(|| (host.to_string(), url[colon + 1..].to_string()))
}

/// The pull request to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PrRequest {
    /// The branch proposed, without `refs/heads/`.
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub draft: bool,
}

/// A forge tool's command line, and what goes to its stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub program: &'static str,
    pub args: Vec<String>,
    pub stdin: Vec<u8>,
}

/// How to open `req` on `repo`.
///
/// GitHub: `gh api` with the REST call that creates a pull request (`POST
/// repos/<owner>/<repo>/pulls`), the request as JSON on stdin (the body is up to 64 KiB: never
/// argv), the response as JSON on stdout. A host other than github.com is GitHub Enterprise,
/// whose API is `https://<host>/api/v3/`: gh takes that URL whole, port included (its
/// `--hostname` refuses a port) and uses its login for that host (`gh auth login --hostname`,
/// or `GH_ENTERPRISE_TOKEN`). GitLab: `glab mr create` with the branches, title and body.
pub(crate) fn invocation(repo: &ForgeRepo, req: &PrRequest) -> Invocation {
    match repo.forge {
        Forge::GitHub => {
            let endpoint = format!("repos/{}/pulls", repo.path);
            let mut args = vec!["api".to_string(), "--method".into(), "POST".into()];
            if repo.host.eq_ignore_ascii_case("github.com") {
                args.extend(["--hostname".to_string(), "github.com".into(), endpoint]);
            } else {
                args.push(format!("https://{}/api/v3/{endpoint}", repo.host));
            }
            args.extend(["--input".to_string(), "-".into()]);
            let body = serde_json::json!({
                "head": req.head,
                "base": req.base,
                "title": req.title,
                "body": req.body,
                "draft": req.draft,
                "maintainer_can_modify": false,
            });
            Invocation {
                program: "gh",
                args,
                stdin: body.to_string().into_bytes(),
            }
        }
        Forge::GitLab => {
            let mut args = vec![
                "mr".to_string(),
                "create".into(),
                "--repo".into(),
                format!("https://{}/{}", repo.host, repo.path),
                "--source-branch".into(),
                req.head.clone(),
                "--target-branch".into(),
                req.base.clone(),
                "--title".into(),
                req.title.clone(),
                "--description".into(),
                req.body.clone(),
                "--yes".into(),
            ];
            if req.draft {
                args.push("--draft".into());
            }
            Invocation {
                program: "glab",
                args,
                stdin: Vec::new(),
            }
        }
    }
}

/// The URL of the pull request a successful run of the tool created.
pub(crate) fn parse_created(forge: Forge, stdout: &str) -> Option<String> {
    match forge {
        Forge::GitHub => serde_json::from_str::<serde_json::Value>(stdout)
            .ok()?
            .get("html_url")?
            .as_str()
            .map(str::to_string),
        Forge::GitLab => stdout
            .split_whitespace()
            .rev()
            .find(|w| w.starts_with("https://") || w.starts_with("http://"))
            .map(str::to_string),
    }
}

/// What a forge said when it refused: GitHub's JSON `message` and each error's `message`, else
/// the tool's stderr.
pub(crate) fn refusal_detail(stdout: &str, stderr: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(stdout)
        && let Some(m) = v.get("message").and_then(|m| m.as_str())
    {
        let errors: Vec<&str> = v
            .get("errors")
            .and_then(|e| e.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.get("message")?.as_str())
                    .collect()
            })
            .unwrap_or_default();
        return if errors.is_empty() {
            m.to_string()
        } else {
            format!("{m}: {}", errors.join("; "))
        };
    }
    let text = stderr.trim();
    if text.is_empty() {
        "the tool failed and said nothing".to_string()
    } else {
        text.lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

#[cfg(test)]
mod tests;
