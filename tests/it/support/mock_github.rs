//! A loopback mock of the GitHub REST API over TLS (`tests/fixtures/mock_github.py`), for the
//! real `gh` that `git pitboss pr` drives: started on a free port with a certificate authority
//! made for it, killed on drop. gh sees a GitHub Enterprise host at `127.0.0.1:<port>`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Sandbox;

/// Panics, saying how to install it, when the real `gh` is not on `PATH`. A test that needs it
/// carries `#[cfg_attr(any(pitboss_lacks = "gh", …), ignore = …)]`, so where gh was absent at
/// build time it shows as ignored in the runner's summary; under `CI=true` nothing is ignored
/// and a missing gh fails (`.ci/run` installs it).
pub fn require_gh() {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("gh").is_file());
    assert!(
        found,
        "GitHub's CLI is not on PATH: install it with `apt-get install gh` (CI always has it)"
    );
}

pub struct MockGithub {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl MockGithub {
    /// Serves, with each pull-request creation checked against `bare` (`git ls-remote`).
    /// `status`: `None` creates pull requests; `Some(401 | 422)` refuses them.
    pub fn start(bare: &Path, status: Option<u16>) -> MockGithub {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mock_github.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg(dir.path()).arg(bare);
        if let Some(s) = status {
            cmd.arg("--status").arg(s.to_string());
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the mock GitHub API");
        let mut mock = MockGithub {
            child,
            dir,
            port: 0,
        };
        // Making the keys takes a moment on a loaded machine.
        let deadline = Instant::now() + Duration::from_secs(60);
        let port_file = mock.dir.path().join("port");
        while !port_file.exists() {
            if let Ok(Some(st)) = mock.child.try_wait() {
                panic!("the mock GitHub API exited before serving: {st}");
            }
            assert!(
                Instant::now() < deadline,
                "the mock GitHub API never started"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        mock.port = std::fs::read_to_string(&port_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        mock
    }

    /// The remote URL gh reads the host and repository from.
    pub fn remote_url(&self) -> String {
        format!("https://127.0.0.1:{}/octo/widgets.git", self.port)
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Points `sb`'s `origin` at this host for gh, while git itself reaches `bare` (git rewrites
    /// the URL with `url.<bare>.insteadOf`; gh reads `remote.origin.url` as written).
    pub fn wire(&self, sb: &Sandbox, bare: &Path) {
        sb.git(&["remote", "add", "origin", &self.remote_url()]);
        sb.git(&[
            "config",
            &format!("url.{}.insteadOf", bare.display()),
            &self.remote_url(),
        ]);
        sb.git(&["config", "pitboss.forge", "github"]);
    }

    /// The environment gh needs: the test CA, a token for the host, and no login of the
    /// machine's own.
    pub fn env(&self, cmd: &mut Command, token: bool) {
        for v in [
            "GH_TOKEN",
            "GITHUB_TOKEN",
            "GH_ENTERPRISE_TOKEN",
            "GITHUB_ENTERPRISE_TOKEN",
            "GH_HOST",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("SSL_CERT_FILE", self.ca())
            .env("GH_CONFIG_DIR", self.dir.path().join("gh-config"));
        if token {
            cmd.env("GH_ENTERPRISE_TOKEN", "test-token-123");
        }
    }
}

impl Drop for MockGithub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
