use super::*;

fn repo(forge: Forge, host: &str, path: &str) -> ForgeRepo {
    ForgeRepo {
        forge,
        host: host.into(),
        path: path.into(),
    }
}

#[test]
fn the_forge_comes_from_the_config_or_the_host() {
    let gh = |url| detect(url, None).unwrap();
    for url in [
        "https://github.com/o/r.git",
        "https://github.com/o/r",
        "git@github.com:o/r.git",
        "ssh://git@github.com/o/r.git",
        "ssh://git@ssh.github.com:443/o/r.git",
    ] {
        let r = gh(url).unwrap_or_else(|| panic!("{url}"));
        assert_eq!(r.forge, Forge::GitHub, "{url}");
        assert_eq!(r.path, "o/r", "{url}");
    }
    assert_eq!(
        gh("ssh://git@ssh.github.com:443/o/r.git").unwrap().host,
        "ssh.github.com"
    );
    let lab = gh("git@gitlab.com:group/sub/proj.git").unwrap();
    assert_eq!(lab, repo(Forge::GitLab, "gitlab.com", "group/sub/proj"));
    assert_eq!(
        gh("https://gitlab.example.org/g/p").unwrap().forge,
        Forge::GitLab
    );
    for none in [
        "/srv/git/r.git",
        "file:///srv/r.git",
        "../r",
        "https://git.example.org/o/r",
    ] {
        assert_eq!(gh(none), None, "{none}");
    }
    // The config wins, and keeps an https port (the web server's).
    let ghe = detect("https://127.0.0.1:8443/o/r.git", Some("github"))
        .unwrap()
        .unwrap();
    assert_eq!(ghe, repo(Forge::GitHub, "127.0.0.1:8443", "o/r"));
    assert_eq!(
        detect("https://github.com/o/r", Some("gitlab"))
            .unwrap()
            .unwrap()
            .forge,
        Forge::GitLab
    );
    assert!(matches!(
        detect("x", Some("gitea")),
        Err(ForgeError::BadForge(_))
    ));
    assert!(matches!(
        detect("https://github.com/o/r/extra", None),
        Err(ForgeError::BadUrl { .. })
    ));
    assert!(matches!(
        detect("/srv/r.git", Some("github")),
        Err(ForgeError::BadUrl { .. })
    ));
}

fn req(draft: bool) -> PrRequest {
    PrRequest {
        head: "pitboss/20261124T100000Z-abcd".into(),
        base: "main".into(),
        title: "t".into(),
        body: "b".repeat(70_000),
        draft,
    }
}

#[test]
fn github_gets_the_rest_call_with_the_request_on_stdin() {
    let inv = invocation(&repo(Forge::GitHub, "github.com", "o/r"), &req(true));
    assert_eq!(inv.program, "gh");
    assert_eq!(
        inv.args,
        [
            "api",
            "--method",
            "POST",
            "--hostname",
            "github.com",
            "repos/o/r/pulls",
            "--input",
            "-"
        ]
    );
    assert!(
        inv.args.iter().all(|a| a.len() < 100),
        "the body is never argv"
    );
    let v: serde_json::Value = serde_json::from_slice(&inv.stdin).unwrap();
    assert_eq!(v["head"], "pitboss/20261124T100000Z-abcd");
    assert_eq!(v["draft"], true);
    assert_eq!(v["body"].as_str().unwrap().len(), 70_000);
    let ghe = invocation(&repo(Forge::GitHub, "ghe.corp:8443", "o/r"), &req(false));
    assert_eq!(ghe.args[3], "https://ghe.corp:8443/api/v3/repos/o/r/pulls");
}

#[test]
fn gitlab_gets_mr_create() {
    let inv = invocation(&repo(Forge::GitLab, "gitlab.com", "g/p"), &req(true));
    assert_eq!(inv.program, "glab");
    assert_eq!(
        &inv.args[..4],
        ["mr", "create", "--repo", "https://gitlab.com/g/p"]
    );
    assert!(inv.args.contains(&"--draft".to_string()));
    assert!(
        !invocation(&repo(Forge::GitLab, "gitlab.com", "g/p"), &req(false))
            .args
            .contains(&"--draft".to_string())
    );
}

#[test]
fn outputs_are_read() {
    assert_eq!(
        parse_created(
            Forge::GitHub,
            r#"{"number":7,"html_url":"https://github.com/o/r/pull/7"}"#
        ),
        Some("https://github.com/o/r/pull/7".into())
    );
    assert_eq!(parse_created(Forge::GitHub, "not json"), None);
    assert_eq!(
        parse_created(
            Forge::GitLab,
            "Creating merge request\n!3 title (x)\n https://gitlab.com/g/p/-/merge_requests/3\n"
        ),
        Some("https://gitlab.com/g/p/-/merge_requests/3".into())
    );
    assert_eq!(
        refusal_detail(
            r#"{"message":"Validation Failed","errors":[{"message":"A pull request already exists for o:x."}]}"#,
            "gh: Validation Failed (HTTP 422)"
        ),
        "Validation Failed: A pull request already exists for o:x."
    );
    assert_eq!(refusal_detail("", "\nboom\n"), "boom");
}
