//! The one place that starts a forge's tool (`gh`, `glab`): the invocation in, the pull
//! request's URL or a typed error out.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{Forge, ForgeError, ForgeRepo, PrRequest, invocation, parse_created, refusal_detail};

/// `gh`'s exit code for "authentication required".
const GH_AUTH_EXIT: i32 = 4;

/// Opens the pull request and returns its URL.
pub(crate) fn open(repo: &ForgeRepo, req: &PrRequest) -> Result<String, ForgeError> {
    let inv = invocation(repo, req);
    let program = inv.program;
    let spawn = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => ForgeError::Missing { program },
        _ => ForgeError::Spawn { program, source },
    };
    let mut child = Command::new(program)
        .args(&inv.args)
        // Never wait for a person: no prompts, no update check, no pager, no colour codes.
        .env("GH_PROMPT_DISABLED", "1")
        .env("GH_NO_UPDATE_NOTIFIER", "1")
        .env("GLAB_NO_PROMPT", "1")
        .env("NO_PROMPT", "1")
        .env("PAGER", "cat")
        .env("GH_PAGER", "cat")
        .env("NO_COLOR", "1")
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
        return parse_created(repo.forge, &stdout).ok_or_else(|| ForgeError::NoUrl {
            program,
            output: stdout.chars().take(300).collect(),
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
