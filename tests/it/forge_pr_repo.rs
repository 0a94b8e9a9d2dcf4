//! `git pitboss pr --repo` (issue 22): a remote whose URL names no forge (here a plain path)
//! still gets its pull request when the repository on the forge is named, through the real
//! `gh` against the loopback GitHub mock.

use crate::forge_pr::{pr, project, text};
use crate::support::grind::diag;
use crate::support::mock_github::{MockGithub, require_gh};
use crate::support::remote::Bare;

#[test]
#[cfg_attr(
    any(
        pitboss_lacks = "gh",
        pitboss_lacks = "python3",
        pitboss_lacks = "openssl"
    ),
    ignore = "needs gh, python3 and openssl (apt-get install gh python3 openssl)"
)]
fn pr_with_repo_opens_it_for_a_remote_whose_url_names_no_forge() {
    require_gh();
    let p = project();
    let out = p.grind_with(&["--max-iterations", "1"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let bare = Bare::new();
    let mock = MockGithub::start(&bare.path, None);
    p.sb.git(&["remote", "add", "origin", &bare.path_url()]);
    p.sb.git(&["config", "pitboss.forge", "github"]);

    // Without --repo: the path names no repository, and the hint says what to give.
    let out = pr(&p, Some(&mock), true, &[&run]);
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    assert!(
        text(&out.stderr).contains("--repo <owner>/<name>"),
        "{}",
        diag(&out)
    );

    let repo = format!("https://127.0.0.1:{}/octo/widgets", mock.port);
    let out = pr(&p, Some(&mock), true, &[&run, "--repo", &repo]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let url = format!("https://127.0.0.1:{}/octo/widgets/pull/7", mock.port);
    assert!(
        text(&out.stdout).contains(&format!("pull request {url}")),
        "{}",
        diag(&out)
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0]["path"], "/api/v3/repos/octo/widgets/pulls");
    assert_eq!(reqs[0]["body"]["head"], format!("pitboss/{run}"));
}
