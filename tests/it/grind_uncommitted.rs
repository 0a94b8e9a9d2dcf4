//! A new user's first grind, straight after `git pitboss init` and an edit, without committing
//! `.pitboss/`: grind and its dry run run, and warn once that the prompts, rotation and config
//! are not committed (a resume on another clone and `why` read them from git), naming the
//! files and the command that commits them. Once committed, nothing is said; an edit since is
//! named alone.

use std::process::Output;

use crate::support::*;

const COMMIT: &str = "git add .pitboss && git commit -m \"pitboss prompts\"";

fn grind(sb: &Sandbox, args: &[&str]) -> Output {
    sb.git_pitboss()
        .arg("grind")
        .args(["--agent-cmd", "true"])
        .args(args)
        .output()
        .unwrap()
}

/// The warnings about uncommitted files in `out`'s stderr.
fn warnings(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.contains("not committed"))
        .map(str::to_string)
        .collect()
}

#[test]
fn grind_warns_once_when_its_prompts_are_not_committed() {
    let sb = Sandbox::new();
    let out = sb.git_pitboss().arg("init").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let tidy = sb.repo.join(".pitboss/grind/prompts/tidy.md");
    let text = std::fs::read_to_string(&tidy).unwrap();
    std::fs::write(&tidy, text.replace("Find one small", "Find one tiny")).unwrap();

    for args in [&["--dry-run"][..], &["--max-iterations", "1"][..]] {
        let out = grind(&sb, args);
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{args:?} is not refused: {}",
            stderr(&out)
        );
        let said = warnings(&out);
        assert_eq!(said.len(), 1, "{args:?}: once: {}", stderr(&out));
        for file in [
            ".pitboss/config.toml",
            ".pitboss/grind/rotations/default.toml",
            ".pitboss/grind/prompts/tidy.md",
        ] {
            assert!(said[0].contains(file), "{args:?} names {file}: {}", said[0]);
        }
        assert!(said[0].contains(COMMIT), "{}", said[0]);
        assert!(
            said[0].contains("`grind --resume` on another clone and `why`"),
            "{}",
            said[0]
        );
    }
    let json = grind(&sb, &["--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let listed = v["warnings"].as_array().unwrap().iter();
    assert_eq!(
        listed
            .filter(|w| w.as_str().unwrap().contains(COMMIT))
            .count(),
        1,
        "{v}"
    );

    sb.git(&["add", ".pitboss"]);
    sb.git(&["commit", "-q", "-m", "pitboss prompts"]);
    let out = grind(&sb, &["--dry-run"]);
    assert_eq!(warnings(&out), Vec::<String>::new(), "{}", stderr(&out));

    std::fs::write(&tidy, text).unwrap();
    let said = warnings(&grind(&sb, &["--dry-run"]));
    assert_eq!(said.len(), 1);
    assert!(
        said[0].contains(": .pitboss/grind/prompts/tidy.md. The run works here"),
        "only the edited prompt: {}",
        said[0]
    );
}
