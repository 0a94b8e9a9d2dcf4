//! The one place that starts a forge's tool (`gh`, `glab`): the invocation in, the pull
//! request's URL or a typed error out.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{Forge, ForgeError, ForgeRepo, PrRequest, invocation, parse_created, refusal_detail};

/// `gh`'s exit code for "authentication required".
const GH_AUTH_EXIT: i32 = 4;

/// The URL of an open pull request from branch `head` (GitHub: `GET repos/<owner>/<repo>/pulls
/// ?head=<owner>:<head>&state=open`), `None` when there is none; `Err` when the question could
/// not be asked. GitLab is not asked (`Err`).
fn find_open(repo: &ForgeRepo, head: &str) -> Result<Option<String>, ()> {
    if repo.forge != Forge::GitHub {
        return Err(());
    }
    let owner = repo.path.split('/').next().unwrap_or_default();
    let endpoint = format!("repos/{}/pulls?head={owner}:{head}&state=open", repo.path);
    let mut args = vec!["api".to_string()];
    if repo.host.eq_ignore_ascii_case("github.com") {
        args.extend(["--hostname".to_string(), "github.com".into(), endpoint]);
    } else {
        args.push(format!("https://{}/api/v3/{endpoint}", repo.host));
    }
    let out = quiet(Command::new("gh").args(&args))
        .stdin(Stdio::null())
        .output()
        .map_err(|_| ())?;
    if !out.status.success() {
        return Err(());
    }
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| ())?;
    let list = list.as_array().ok_or(())?;
    Ok(list
        .iter()
        .find_map(|pr| pr.get("html_url")?.as_str().map(str::to_string)))
}

/// The forge tools' environment: never wait for a person (no prompts, no update check, no
/// pager, no colour codes).
fn quiet(cmd: &mut Command) -> &mut Command {
    cmd.env("GH_PROMPT_DISABLED", "1")
        .env("GH_NO_UPDATE_NOTIFIER", "1")
        .env("GLAB_NO_PROMPT", "1")
        .env("NO_PROMPT", "1")
        .env("PAGER", "cat")
        .env("GH_PAGER", "cat")
        .env("NO_COLOR", "1")
}

/// Opens the pull request and returns its URL.
pub(crate) fn open(repo: &ForgeRepo, req: &PrRequest) -> Result<String, ForgeError> {
    let inv = invocation(repo, req);
    let program = inv.program;
    let spawn = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => ForgeError::Missing { program },
        _ => ForgeError::Spawn { program, source },
    };
    let mut child = quiet(Command::new(program).args(&inv.args))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A tool that exits early closes its stdin: its exit status says why, not this write.
        let _ = stdin.write_all(&inv.stdin);
    }
    let out = child.wait_with_output().map_err(spawn)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        if let Some(url) = parse_created(repo.forge, &stdout) {
            return Ok(url);
        }
        // The forge may have opened it all the same: look before anyone runs `pr` again, which
        // would open a second one.
        let existing = find_open(repo, &req.head);
        if let Ok(Some(url)) = existing {
            return Ok(url);
        }
        return Err(ForgeError::NoUrl {
            program,
            output: stdout.chars().take(300).collect(),
            checked: existing.is_ok(),
            head: req.head.clone(),
        });
    }
    let not_logged_in = match repo.forge {
        // Exit 4 when gh has no token for the host; HTTP 401 when the forge refused the token.
        Forge::GitHub => out.status.code() == Some(GH_AUTH_EXIT) || stderr.contains("(HTTP 401)"),
        Forge::GitLab => {
            let s = stderr.to_ascii_lowercase();
            s.contains("glab auth login") || s.contains("401 unauthorized")
        }
    };
    let host = repo.host.clone();
    if not_logged_in {
        return Err(ForgeError::NotAuthenticated { program, host });
    }
    Err(ForgeError::Refused {
        host,
        detail: refusal_detail(&stdout, &stderr),
    })
}
