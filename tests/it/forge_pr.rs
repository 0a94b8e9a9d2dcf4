//! `git pitboss review` and `git pitboss pr` / `grind --pr`, end to end: real grinds with a fake
//! agent, a real bare remote, and the real `gh` (Debian's package) against a loopback mock of
//! the GitHub REST API over TLS with a test certificate authority.

use std::process::{Command, Output};

use serde_json::Value;

use crate::support::grind::{Project, diag};
use crate::support::mock_github::{MockGithub, require_gh};
use crate::support::remote::Bare;

/// Commits a file per session and writes a summary; session 2 fails with work left behind
/// (saved as a patch, not landed) when `FAIL_TWO` is set.
const AGENT: &str = r#"
echo "line $PITBOSS_SEQ" > "f-$PITBOSS_SEQ.txt"
echo "Fixed thing $PITBOSS_SEQ | carefully" > "$PITBOSS_SUMMARY_FILE"
if [ "$PITBOSS_SEQ" = 2 ] && [ -n "$FAIL_TWO" ]; then exit 3; fi
git add . && git commit -q -m "agent $PITBOSS_SEQ"
"#;

fn project() -> Project {
    let p = Project::new();
    p.prompt("fix", "").agent(AGENT);
    p.sb.git(&["add", "."]);
    p.sb.git(&["commit", "-q", "-m", "pitboss set-up"]);
    p
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn pr(p: &Project, mock: Option<&MockGithub>, token: bool, args: &[&str]) -> Output {
    let mut cmd = p.sb.git_pitboss();
    cmd.arg("pr").args(args);
    if let Some(m) = mock {
        m.env(&mut cmd, token);
    }
    cmd.output().unwrap()
}

fn pitboss_json(p: &Project, args: &[&str]) -> Value {
    serde_json::from_str(&p.sb.ok(args, "")).unwrap()
}

#[test]
fn review_md_of_a_real_grind_shows_sessions_commits_and_unlanded_work() {
    let p = project();
    let out = p.grind_with(&["--max-iterations", "3"], &[("FAIL_TWO", "1")]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let run = p.only_run();
    let records = p.records(&run);
    let c1 = &records[0]["commit"].as_str().unwrap()[..7];
    let c3 = &records[2]["commit"].as_str().unwrap()[..7];

    let md = p.sb.ok(&["review", "--md", &run[..10]], "");
    assert!(md.starts_with(&format!("## pitboss run `{run}`")), "{md}");
    assert!(md.contains(&format!("`pitboss/{run}` → `main`")), "{md}");
    assert!(
        md.contains("**3 sessions** (1 error, 2 ok) · **2 landed**, 1 not landed"),
        "{md}"
    );
    assert!(md.contains("2 files changed, +2 −0"), "{md}");
    assert!(
        md.contains("+1 -0  f-1.txt") && md.contains("+1 -0  f-3.txt"),
        "{md}"
    );
    assert!(
        !md.contains("f-2.txt"),
        "unlanded work is not in the diff: {md}"
    );
    assert!(
        md.contains(&format!(
            "| 1 | fix | ok | unknown | `{c1}` | Fixed thing 1 \\| carefully |"
        )),
        "{md}"
    );
    assert!(
        md.contains("| 2 | fix | error | unknown | not landed (patch saved) |"),
        "{md}"
    );
    assert!(
        md.contains(&format!("| 3 | fix | ok | unknown | `{c3}` |")),
        "{md}"
    );
    let patch = format!("refs/pitboss/grind/{run}:patches/00/session-0002.patch");
    assert!(
        md.contains(&format!("| 2 | fix | error | `{patch}` |")),
        "{md}"
    );
    // The path is real: git reads the saved work there.
    assert!(p.sb.git(&["show", &patch]).contains("+line 2"));

    let text = p.sb.ok(&["review", &run], "");
    assert!(
        text.contains("0001  fix") && text.contains(&format!("landed {c1}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("not landed (1):\n  0002  error    {patch}")),
        "{text}"
    );
    let json = pitboss_json(&p, &["review", "--json", &run]);
    assert_eq!(json["totals"]["landed"], 2);
    assert_eq!(json["sessions"][1]["patch"], patch.as_str());
    assert_eq!(json["sessions"][0]["commits"][0], records[0]["commit"]);
    assert_eq!(json["totals"]["reached"], 0);

    // Once the branch is merged into its base, the review says the landed work reached it.
    p.sb.git(&["merge", "-q", "--no-edit", &format!("pitboss/{run}")]);
    let json = pitboss_json(&p, &["review", "--json", &run]);
    assert_eq!(json["totals"]["reached"], 2);
    assert_eq!(json["sessions"][0]["reach"], "merged");
    assert_eq!(json["sessions"][1]["reach"], "not-landed");
    assert!(
        p.sb.ok(&["review", "--md", &run], "")
            .contains("2 reached `main`")
    );

    // gc deletes a branch that landed: the review has nothing to diff, and says so rather
    // than "no change".
    let out = p.sb.git_pitboss().args(["gc"]).output().unwrap();
    assert!(out.status.success(), "{}", diag(&out));
    let text = p.sb.ok(&["review", &run], "");
    assert!(
        text.contains("no diff: the run branch is not here (deleted after it landed"),
        "{text}"
    );
    assert!(!text.contains("no change to the base"), "{text}");
    assert!(
        text.contains(&format!("landed {c1}, reached main (merged)")),
        "{text}"
    );
}

#[test]
#[cfg_attr(
    any(
        pitboss_lacks = "gh",
        pitboss_lacks = "python3",
        pitboss_lacks = "openssl"
    ),
    ignore = "needs gh, python3 and openssl (apt-get install gh python3 openssl)"
)]
fn pr_pushes_first_then_real_gh_opens_it_and_the_run_records_the_url() {
    require_gh();
    let p = project();
    let out = p.grind_with(&["--max-iterations", "3"], &[("FAIL_TWO", "1")]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let run = p.only_run();
    let bare = Bare::new();
    let mock = MockGithub::start(&bare.path, None);
    mock.wire(&p.sb, &bare.path);
    let digest = p.sb.ok(&["review", "--md", &run], "");

    let out = pr(
        &p,
        Some(&mock),
        true,
        &[&run, "--draft", "--title", "Nightly fixes"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let url = format!("https://127.0.0.1:{}/octo/widgets/pull/7", mock.port);
    assert!(
        text(&out.stdout).contains(&format!("pull request {url}")),
        "{}",
        diag(&out)
    );

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let req = &reqs[0];
    assert_eq!(req["method"], "POST");
    assert_eq!(req["path"], "/api/v3/repos/octo/widgets/pulls");
    assert_eq!(req["headers"]["authorization"], "token test-token-123");
    assert!(
        req["headers"]["user-agent"]
            .as_str()
            .unwrap()
            .starts_with("GitHub CLI")
    );
    let body = &req["body"];
    assert_eq!(body["head"], format!("pitboss/{run}"));
    assert_eq!(body["base"], "main");
    assert_eq!(body["title"], "Nightly fixes");
    assert_eq!(body["draft"], true);
    assert_eq!(body["body"], digest.as_str());
    // The branch was on the remote, at the run branch's tip, when gh asked.
    let tip = p.sb.git(&["rev-parse", &format!("pitboss/{run}")]);
    assert_eq!(
        req["head_on_remote"],
        format!("{}\trefs/heads/pitboss/{run}", tip.trim())
    );

    // The URL is in the run (a run-level commit), here and on the remote.
    let subject = p.sb.git(&[
        "log",
        "-1",
        "--format=%s",
        &format!("refs/pitboss/grind/{run}"),
    ]);
    assert_eq!(subject.trim(), format!("run {run} pull request opened"));
    let show = p.sb.ok(&["show", &run], "");
    assert!(show.contains(&format!("pull req  {url}")), "{show}");
    let ls = p.sb.ok(&["ls"], "");
    assert!(ls.contains("PULL REQUEST") && ls.contains(&url), "{ls}");
    assert_eq!(
        pitboss_json(&p, &["ls", "--json"])[0]["pull_request"],
        url.as_str()
    );
    let state = bare.git(&["show", &format!("refs/pitboss/grind/{run}:state.json")]);
    let state: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["pull_request"]["url"], url.as_str());
    assert_eq!(state["pull_request"]["draft"], true);

    // A teammate's clone that fetches the run sees it too.
    let mate = crate::support::Sandbox::clone_of(&bare.path_url());
    let out = mate
        .git_pitboss()
        .args(["fetch", "origin", &run])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", diag(&out));
    assert!(
        mate.ok(&["show", &run], "")
            .contains(&format!("pull req  {url}"))
    );

    // Again: the branch is pushed, and no second pull request is asked for.
    let again = pr(&p, Some(&mock), true, &[&run]);
    assert_eq!(again.status.code(), Some(0), "{}", diag(&again));
    assert!(
        text(&again.stderr).contains("already has a pull request"),
        "{}",
        diag(&again)
    );
    assert_eq!(mock.requests().len(), 1);
    // Options for a new pull request are not silently dropped on the open one.
    let again = pr(
        &p,
        Some(&mock),
        true,
        &[&run, "--base", "dev", "--title", "X"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", diag(&again));
    assert!(
        text(&again.stderr).contains(
            "warning: not applied to the open pull request: --base dev (it targets main), --title (they shape a new one); change it on the forge (`gh pr edit`"
        ),
        "{}",
        diag(&again)
    );
    assert_eq!(mock.requests().len(), 1);
}

#[test]
#[cfg_attr(
    any(
        pitboss_lacks = "gh",
        pitboss_lacks = "python3",
        pitboss_lacks = "openssl"
    ),
    ignore = "needs gh, python3 and openssl (apt-get install gh python3 openssl)"
)]
fn pr_failures_say_what_is_wrong_and_how_to_fix_it() {
    require_gh();
    let p = project();
    let out = p.grind(&["--max-iterations", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();

    // No remote at all: refused, nothing pushed.
    let out = pr(&p, None, true, &[&run]);
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    assert!(
        text(&out.stderr).contains("hint: add one with `git remote add origin <url>`"),
        "{}",
        diag(&out)
    );

    let bare = Bare::new();
    let mock = MockGithub::start(&bare.path, None);
    mock.wire(&p.sb, &bare.path);

    // gh is missing: refused before anything is pushed.
    let only_git = p.sb.path("only-git");
    std::fs::create_dir_all(&only_git).unwrap();
    std::os::unix::fs::symlink(which("git"), only_git.join("git")).unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_git-pitboss"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["pr", &run])
        .env("PATH", std::env::join_paths([bin, only_git]).unwrap());
    mock.env(&mut cmd, true);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("error: `gh` is not installed (or not on PATH)"),
        "{err}"
    );
    assert!(
        err.contains("hint: install GitHub's CLI") && err.contains("apt-get install gh"),
        "{err}"
    );
    assert_eq!(bare.git(&["for-each-ref"]), "", "nothing pushed");

    // Not logged in: the branch is pushed, gh asks nothing of the forge, and the user is told.
    let out = pr(&p, Some(&mock), false, &[&run]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("error: `gh` is not logged in to 127.0.0.1"),
        "{err}"
    );
    assert!(
        err.contains("hint: run `gh auth login --hostname 127.0.0.1` (or set GH_ENTERPRISE_TOKEN)"),
        "{err}"
    );
    assert!(mock.requests().is_empty());
    assert!(
        bare.git(&["for-each-ref"])
            .contains(&format!("refs/heads/pitboss/{run}"))
    );

    // The forge refuses: its words reach the user; nothing is recorded.
    let refusing = MockGithub::start(&bare.path, Some(422));
    p.sb.git(&["remote", "set-url", "origin", &refusing.remote_url()]);
    p.sb.git(&[
        "config",
        &format!("url.{}.insteadOf", bare.path.display()),
        &refusing.remote_url(),
    ]);
    let out = pr(&p, Some(&refusing), true, &[&run]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let err = text(&out.stderr);
    assert!(err.contains("refused the pull request: Validation Failed: A pull request already exists for octo:pitboss/"), "{err}");
    assert!(
        err.contains("hint: the branch is pushed: fix what the forge says"),
        "{err}"
    );
    assert!(!p.sb.ok(&["show", &run], "").contains("pull req"));

    // A token the forge does not take (HTTP 401) is a login problem too.
    let unauthorized = MockGithub::start(&bare.path, Some(401));
    p.sb.git(&["remote", "set-url", "origin", &unauthorized.remote_url()]);
    p.sb.git(&[
        "config",
        &format!("url.{}.insteadOf", bare.path.display()),
        &unauthorized.remote_url(),
    ]);
    let out = pr(&p, Some(&unauthorized), true, &[&run]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    assert!(
        text(&out.stderr).contains("error: `gh` is not logged in to 127.0.0.1"),
        "{}",
        diag(&out)
    );
    assert_eq!(unauthorized.requests().len(), 1, "gh did ask");

    // The push goes somewhere the remote's URL does not read: no pull request for a branch
    // the remote does not have.
    let elsewhere = Bare::new();
    p.sb.git(&["remote", "set-url", "origin", &mock.remote_url()]);
    p.sb.git(&["config", "remote.origin.pushurl", &elsewhere.path_url()]);
    let fresh = Bare::new();
    p.sb.git(&[
        "config",
        "--remove-section",
        &format!("url.{}", bare.path.display()),
    ]);
    p.sb.git(&[
        "config",
        &format!("url.{}.insteadOf", fresh.path.display()),
        &mock.remote_url(),
    ]);
    let out = pr(&p, Some(&mock), true, &[&run]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("origin does not have refs/heads/pitboss/{run} at")),
        "{err}"
    );
    assert!(
        err.contains("(it has no such branch): no pull request opened"),
        "{err}"
    );
    assert!(
        err.contains("hint: check that `git ls-remote origin"),
        "{err}"
    );
    assert!(mock.requests().is_empty());

    // A hook on the remote refuses the branch: the user is told that, not to `sync` a run
    // that never diverged.
    p.sb.git(&["config", "--unset", "remote.origin.pushurl"]);
    p.sb.git(&[
        "config",
        "--remove-section",
        &format!("url.{}", fresh.path.display()),
    ]);
    let hooked = Bare::new();
    p.sb.git(&[
        "config",
        &format!("url.{}.insteadOf", hooked.path.display()),
        &mock.remote_url(),
    ]);
    let hook = hooked.path.join("hooks/update");
    std::fs::write(&hook, "#!/bin/sh\ncase $1 in refs/heads/pitboss/*) echo 'no pitboss branches here' >&2; exit 1;; esac\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = pr(&p, Some(&mock), true, &[&run]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let err = text(&out.stderr);
    assert!(err.contains("no pitboss branches here"), "{err}");
    assert!(
        err.contains(&format!(
            "error: origin rejected the push of branch pitboss/{run}: no pull request opened"
        )),
        "{err}"
    );
    assert!(err.contains("hint: the remote refused it"), "{err}");
    assert!(!err.contains("git pitboss sync"), "{err}");
    assert!(mock.requests().is_empty());

    // pitboss.forge says GitHub, but the remote is a path: refused before anything is pushed.
    let plain = Bare::new();
    let out = pr(&p, None, true, &[&run, "--remote", &plain.path_url()]);
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    assert!(
        text(&out.stderr).contains("cannot tell the repository from the remote's URL"),
        "{}",
        diag(&out)
    );
    assert_eq!(plain.git(&["for-each-ref"]), "");

    // A remote on no known forge: pushed, the digest printed, and which tool to install said.
    p.sb.git(&["config", "--unset", "pitboss.forge"]);
    let out = pr(&p, None, true, &[&run, "--remote", &plain.path_url()]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    assert!(
        text(&out.stdout).contains(&format!("## pitboss run `{run}`")),
        "{}",
        diag(&out)
    );
    let err = text(&out.stderr);
    assert!(err.contains("is on no forge pitboss knows"), "{err}");
    assert!(
        err.contains("for GitHub run `git config pitboss.forge github`"),
        "gh is here: no need to install it: {err}"
    );
    assert!(
        err.contains("for GitLab install `glab` and run `git config pitboss.forge gitlab`"),
        "{err}"
    );
    assert!(
        plain
            .git(&["for-each-ref"])
            .contains(&format!("refs/heads/pitboss/{run}"))
    );
}

#[test]
#[cfg_attr(
    any(
        pitboss_lacks = "gh",
        pitboss_lacks = "python3",
        pitboss_lacks = "openssl"
    ),
    ignore = "needs gh, python3 and openssl (apt-get install gh python3 openssl)"
)]
fn grind_pr_opens_the_pull_request_when_the_run_finishes_cleanly() {
    require_gh();
    let p = project();
    let bare = Bare::new();
    let mock = MockGithub::start(&bare.path, None);
    mock.wire(&p.sb, &bare.path);
    let mut cmd = p.grind_cmd(&["--max-iterations", "2", "--pr"]);
    mock.env(&mut cmd, true);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    // stdout stays grind's JSON events; the URL goes to stderr.
    for line in text(&out.stdout).lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let url = format!("https://127.0.0.1:{}/octo/widgets/pull/7", mock.port);
    assert!(
        text(&out.stderr).contains(&format!("pull request {url}")),
        "{}",
        diag(&out)
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["body"]["head"], format!("pitboss/{run}"));
    assert_eq!(reqs[0]["body"]["draft"], false);
    assert!(
        reqs[0]["body"]["title"]
            .as_str()
            .unwrap()
            .starts_with(&format!("pitboss: run {run} (2 sessions, 2 landed)"))
    );
    assert!(!reqs[0]["head_on_remote"].as_str().unwrap().is_empty());
    assert!(p.sb.ok(&["ls"], "").contains(&url));
}

#[test]
#[cfg_attr(
    any(
        pitboss_lacks = "gh",
        pitboss_lacks = "python3",
        pitboss_lacks = "openssl"
    ),
    ignore = "needs gh, python3 and openssl (apt-get install gh python3 openssl)"
)]
fn a_failed_pr_leaves_grinds_exit_code_unless_required() {
    require_gh();
    let p = project();
    let bare = Bare::new();
    let mock = MockGithub::start(&bare.path, None);
    mock.wire(&p.sb, &bare.path);
    let grind = |flag: &str| {
        let mut cmd: Command = p.grind_cmd(&["--max-iterations", "1", flag]);
        mock.env(&mut cmd, false); // no token: the pull request fails
        cmd.output().unwrap()
    };
    let out = grind("--pr");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert!(
        text(&out.stderr).contains("`gh` is not logged in"),
        "{}",
        diag(&out)
    );
    assert!(
        text(&out.stderr).contains("the run itself succeeded"),
        "{}",
        diag(&out)
    );
    let out = grind("--require-pr");
    assert_eq!(out.status.code(), Some(6), "{}", diag(&out));
    assert!(mock.requests().is_empty());

    // A run that did not finish cleanly opens none, and keeps its own exit code.
    let mut cmd = p.grind_cmd(&["--max-iterations", "2", "--require-pr"]);
    cmd.env("FAIL_TWO", "1");
    mock.env(&mut cmd, true);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    assert!(
        text(&out.stderr).contains("no pull request: the run did not finish cleanly"),
        "{}",
        diag(&out)
    );
    assert!(mock.requests().is_empty());
}

fn which(program: &str) -> std::path::PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
}

/// Issue 22: gh answers the creation without the pull request's URL. pitboss asks the forge
/// for an open pull request from the run's branch before anything else: found, it is recorded
/// and no second one is opened; the output gh printed is quoted either way.
#[test]
#[cfg_attr(
    any(
        pitboss_lacks = "gh",
        pitboss_lacks = "python3",
        pitboss_lacks = "openssl"
    ),
    ignore = "needs gh, python3 and openssl (apt-get install gh python3 openssl)"
)]
fn a_creation_answered_without_a_url_finds_the_open_pull_request() {
    let p = project();
    let out = p.grind_with(&["--max-iterations", "3"], &[("FAIL_TWO", "1")]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let run = p.only_run();
    let bare = Bare::new();
    let mock = MockGithub::start(&bare.path, Some(201));
    mock.wire(&p.sb, &bare.path);

    let out = pr(&p, Some(&mock), true, &[&run]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let url = format!("https://127.0.0.1:{}/octo/widgets/pull/7", mock.port);
    assert!(
        text(&out.stdout).contains(&format!("pull request {url}")),
        "{}",
        diag(&out)
    );
    let reqs = mock.requests();
    let posts = reqs.iter().filter(|r| r["method"] == "POST").count();
    assert_eq!(posts, 1, "{reqs:?}");
    let get = reqs.iter().find(|r| r["method"] == "GET").expect("asked");
    assert!(
        get["path"]
            .as_str()
            .unwrap()
            .contains(&format!("head=octo:pitboss/{run}")),
        "{get}"
    );
    let show = p.sb.ok(&["show", &run], "");
    assert!(show.contains(&format!("pull req  {url}")), "{show}");
    // Run again: the recorded pull request, no second creation.
    let again = pr(&p, Some(&mock), true, &[&run]);
    assert_eq!(again.status.code(), Some(0), "{}", diag(&again));
    let posts = (mock.requests().iter())
        .filter(|r| r["method"] == "POST")
        .count();
    assert_eq!(posts, 1);
}
