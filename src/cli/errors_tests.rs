//! Tests of the one exit-code funnel: each library error's class, exit code and hint.
use super::*;

/// A `_` arm over a library error enum would class every new variant without anyone
/// deciding: this file has none (the compiler then asks for each new variant).
#[test]
fn no_catch_all_arms() {
    let src = include_str!("errors.rs");
    let code = &src[..src.find("#[cfg(test)]").unwrap()];
    assert!(!code.contains("_ =>"), "a catch-all arm in cli/errors.rs");
    assert!(
        !code.contains("unreachable!"),
        "an unreachable arm in cli/errors.rs"
    );
}

#[test]
fn library_messages_say_what_is_wrong_and_the_cli_adds_how_to_fix_it() {
    let e = AgentError::NotFound {
        binary: "claude".into(),
        config_key: "agent.binary".into(),
    };
    assert_eq!(
        e.to_string(),
        "agent program `claude` not found (config key: agent.binary)"
    );
    let r = CliError::from(GrindError::Agent(e)).render();
    assert_eq!(
        r,
        "error: agent program `claude` not found (config key: agent.binary)\n\
         hint: set agent.binary, or put it on PATH\n"
    );
    let e = crate::store::RemoteName::parse("a..b").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"remote name "a..b" cannot name a ref namespace"#
    );
    let r = CliError::from(ShareError::BadRemoteName(e)).render();
    assert!(r.contains("\nhint: a remote name that can be one"), "{r}");
    let r = CliError::from(GrindError::BranchRaced {
        branch: "pitboss/r".into(),
        tracking: "refs/pitboss-remotes/origin/grind/r".into(),
    })
    .render();
    assert_eq!(
        r,
        "error: pitboss/r moved while the resume took it up from \
         refs/pitboss-remotes/origin/grind/r\nhint: try the resume again\n"
    );
}

/// The dry run and the real resume point at the same stored state.
#[test]
fn unreadable_stored_state_is_pointed_at_by_dry_run_and_resume_alike() {
    let e = || ResumeError::Budgets {
        run: "r1".into(),
        why: "bad".into(),
    };
    for err in [CliError::from(e()), CliError::from(GrindError::Resume(e()))] {
        assert_eq!(err.kind, ErrorKind::User);
        assert_eq!(
            err.hints,
            ["inspect the state with `git show refs/pitboss/grind/r1:state.json`"]
        );
    }
}

/// Classes the old catch-all arms got wrong.
#[test]
fn git_faults_are_internal_and_bad_files_the_users() {
    let git = GitError::Io {
        what: "cannot read HEAD".into(),
        source: std::io::Error::other("x"),
    };
    // Was a user error (exit 4) through `GrindError`'s catch-all.
    assert_eq!(
        CliError::from(GrindError::Base(BaseError::Git(git))).kind,
        ErrorKind::Internal
    );
    // Was a fake `io::Error`, so an internal error (exit 70).
    let not_text = DirFileError::NotUtf8("d/state.json".into());
    assert_eq!(
        CliError::from(LayoutError::File(not_text)).kind,
        ErrorKind::User
    );
    // Nested store errors keep their class and hint whichever error carries them.
    let missing = || StoreError::RunNotFound("r".into());
    for e in [
        CliError::from(missing()),
        CliError::from(ShareError::Store(missing())),
        CliError::from(GrindError::Store(missing())),
        CliError::from(ProvenanceError::Store(missing())),
        CliError::from(LayoutError::Store(missing())),
    ] {
        assert_eq!(e.kind, ErrorKind::User);
        assert_eq!(
            e.render(),
            "error: run r does not exist\nhint: run `git pitboss ls` to list runs\n"
        );
    }
}

#[test]
fn local_failures_are_not_blamed_on_the_remote() {
    // Recorded from git 2.47.
    let ro = "error: unable to create temporary file: Read-only file system; fatal: failed to write object; fatal: unpack-objects failed";
    assert_eq!(local_failure(ro), Some(LocalFailure::FileSystem));
    let locked = "error: cannot lock ref 'refs/pitboss-remotes/origin/grind/r1': Unable to create '/r/.git/refs/pitboss-remotes/origin/grind/r1.lock': File exists.";
    assert_eq!(local_failure(locked), Some(LocalFailure::RefLocked));
    let remote = "fatal: 'nowhere' does not appear to be a git repository";
    assert_eq!(local_failure(remote), None);
    let e = CliError::from(ShareError::Net(NetError::Failed {
        op: "fetch",
        remote: "origin".into(),
        detail: locked.into(),
    }));
    assert_eq!(e.kind, ErrorKind::Internal);
    assert!(!e.render().contains("address"), "{}", e.render());
    assert!(e.render().contains("same time"), "{}", e.render());
}
