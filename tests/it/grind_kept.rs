//! Work that does not land is saved so that it can be taken up again, whole: the patch in the
//! run applies with the README's recipe (`git show <run ref>:<patch> > s.patch`, `git switch -c
//! redo <tip>`, `git apply --index s.patch`), binary files and secret-looking context included;
//! and work the run cannot hold (a secret it adds, more than a run keeps) is kept whole on a
//! local ref, `refs/pitboss-local/work/<run>/session-<seq>`, that `git pitboss push` never sends
//! and `gc --force` never deletes. Leftovers pitboss would commit are scanned the same way
//! (binary contents, file names). Checked through `git pitboss grind` with fake agents, a real
//! bare remote, and every object the remote holds.

use std::path::Path;

use crate::support::grind::*;
use crate::support::remote::Bare;

/// A token of a well-known shape (GitHub's), in no variable.
const TOKEN: &str = "ghp_Zq8vLw3TnR5pX2kY7mJ4hB9cD6fG1sA0eUQw";

/// `n` bytes of reproducible noise (xorshift64 from `seed`): random-looking, so git stores it as
/// a binary patch of base85 lines.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// The README's recipe for taking up a session's patch: on a new branch at `tip`, `git apply
/// --index` the patch the run holds. The output of `git apply`.
fn apply_patch(p: &Project, run: &str, seq: u64, tip: &str) -> std::process::Output {
    let patch = p.sb.git_output_in(
        &p.sb.repo,
        &[
            "show",
            &format!("refs/pitboss/grind/{run}:patches/00/session-{seq:04}.patch"),
        ],
    );
    assert!(patch.status.success(), "no patch for session {seq}");
    let file = p.sb.path("s.patch");
    std::fs::write(&file, &patch.stdout).unwrap();
    p.sb.git(&["switch", "-q", "-c", &format!("redo-{seq}"), tip]);
    p.sb.git_output_in(&p.sb.repo, &["apply", "--index", file.to_str().unwrap()])
}

/// Every object of a repository (loose or packed), as one byte string.
fn objects_of(dir: &Path) -> Vec<u8> {
    let out = std::process::Command::new("git")
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn holds(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `git pitboss push` to a fresh bare remote; the remote.
fn push_to_bare(p: &Project) -> Bare {
    let bare = Bare::new();
    p.sb.git(&["remote", "add", "origin", &bare.path_url()]);
    let out = p.sb.run(&["push", "origin"], "");
    assert!(out.status.success(), "{}", diag(&out));
    bare
}

/// The session's work kept on this machine: the local ref, as `show` and the summary name it.
fn local_ref(run: &str, seq: u64) -> String {
    format!("refs/pitboss-local/work/{run}/session-{seq:04}")
}

#[test]
fn binary_work_of_a_failed_session_is_saved_unredacted_and_applies() {
    let p = Project::new();
    // 12 MB of noise: its base85 lines hold `…Key=…`-like runs a redaction would rewrite.
    let data = noise(8, 12_000_000);
    let src = p.sb.path("blob.src");
    std::fs::write(&src, &data).unwrap();
    p.prompt("fail", "").agent(&format!(
        "cp {} blob.bin\necho done > notes.txt\nexit 1\n",
        src.display()
    ));
    let out = p.grind(&["--max-iterations", "1"]);
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["error"], "{}", diag(&out));
    let tip = p.sb.git(&["rev-parse", &p.branch(&run)]);
    let applied = apply_patch(&p, &run, 1, tip.trim());
    assert!(applied.status.success(), "{}", diag(&applied));
    assert_eq!(std::fs::read(p.sb.repo.join("blob.bin")).unwrap(), data);
    assert_eq!(
        std::fs::read_to_string(p.sb.repo.join("notes.txt")).unwrap(),
        "done\n"
    );
}

#[test]
fn a_secret_looking_context_line_does_not_break_the_patch() {
    let p = Project::new();
    std::fs::write(
        p.sb.repo.join("settings.env"),
        "MODE=dev\nSERVICE_KEY=Zq8vLw3TnR5pX2kY7mJ4hB9cD6fG1sA0\nREGION=eu\n",
    )
    .unwrap();
    p.sb.git(&["add", "settings.env"]);
    p.sb.git(&["commit", "-q", "-m", "settings"]);
    p.prompt("fail", "")
        .agent("sed -i 's/REGION=eu/REGION=us/' settings.env\nexit 1\n");
    let out = p.grind(&["--max-iterations", "1"]);
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["error"], "{}", diag(&out));
    let tip = p.sb.git(&["rev-parse", &p.branch(&run)]);
    let applied = apply_patch(&p, &run, 1, tip.trim());
    assert!(applied.status.success(), "{}", diag(&applied));
    let now = std::fs::read_to_string(p.sb.repo.join("settings.env")).unwrap();
    assert!(now.contains("REGION=us"), "{now}");
}

#[test]
fn an_added_secret_is_kept_whole_on_a_local_ref_that_push_never_sends() {
    let p = Project::new();
    p.prompt("fail", "").agent(&format!(
        "echo 'token = {TOKEN}' > creds.txt\necho work > work.txt\nexit 1\n"
    ));
    let out = p.grind(&["--max-iterations", "1"]);
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["error"], "{}", diag(&out));
    // The run holds a note naming the ref, and no token.
    let patch = p.patch(&run, 1).expect("the run's copy of the work");
    assert!(patch.contains(&local_ref(&run, 1)), "{patch}");
    assert!(!patch.contains(TOKEN), "{patch}");
    assert!(patch.contains("+work"), "{patch}");
    // Where the work is: the summary line and `show`.
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let finished = events(&out)
        .into_iter()
        .find(|e| e["event"] == "session_finished")
        .expect("session_finished");
    assert_eq!(finished["work_kept_at"], local_ref(&run, 1), "{said}");
    let shown = p.sb.ok(&["show", &run, "1"], "");
    assert!(shown.contains(&local_ref(&run, 1)), "{shown}");
    // The work whole, from the ref.
    p.sb.git(&["switch", "-q", "-c", "redo-1", &local_ref(&run, 1)]);
    let creds = std::fs::read_to_string(p.sb.repo.join("creds.txt")).unwrap();
    assert!(creds.contains(TOKEN), "{creds}");
    p.sb.git(&["switch", "-q", "main"]);
    // Pushed: no token, no local ref; and gc --force leaves the ref.
    let bare = push_to_bare(&p);
    assert!(!holds(&objects_of(&bare.path), TOKEN.as_bytes()));
    assert!(!bare.git(&["for-each-ref"]).contains("pitboss-local"));
    let gc = p.sb.run(&["gc", "--force"], "");
    assert!(gc.status.success(), "{}", diag(&gc));
    let kept =
        p.sb.git(&["rev-parse", "--verify", "-q", &local_ref(&run, 1)]);
    assert!(!kept.trim().is_empty());
}

#[test]
fn work_over_the_patch_cap_is_kept_whole_and_said_so() {
    let p = Project::new();
    // 21 MiB of text: more than the 20 MiB a run's patch keeps.
    let big: String = (0..800_000).map(|i| format!("line {i:>24}\n")).collect();
    assert!(big.len() > 21 << 20);
    let src = p.sb.path("big.src");
    std::fs::write(&src, &big).unwrap();
    p.prompt("fail", "")
        .agent(&format!("cp {} big.txt\nexit 1\n", src.display()));
    let out = p.grind(&["--max-iterations", "1"]);
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["error"], "{}", diag(&out));
    let patch = p.patch(&run, 1).expect("the run's copy of the work");
    assert!(patch.contains(&local_ref(&run, 1)), "{}", &patch[..400]);
    p.sb.git(&["switch", "-q", "-c", "redo-1", &local_ref(&run, 1)]);
    assert_eq!(
        std::fs::read_to_string(p.sb.repo.join("big.txt")).unwrap(),
        big
    );
}

/// A session that commits innocent code and leaves `leftover` (a shell line) uncommitted.
fn leftovers_run(leftover: &str) -> (Project, String, std::process::Output) {
    let p = Project::new();
    p.prompt("share", "").agent(&format!(
        "echo 'innocent code' > code.txt\ngit add code.txt && git commit -q -m 'agent: innocent code'\n{leftover}\n"
    ));
    let out = p.grind(&["--max-iterations", "1"]);
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["dirty"], "{}", diag(&out));
    (p, run, out)
}

/// Leftovers that hold a token are not committed: the branch has the agent's commit only, a
/// warning names the local ref, the ref holds them, and the remote holds no token.
fn assert_leftovers_kept(p: &Project, run: &str, out: &std::process::Output, probe: &str) {
    assert_eq!(
        p.branch_subjects(run),
        ["agent: innocent code"],
        "{}",
        diag(out)
    );
    let warned = events(out).iter().any(|e| {
        e["event"] == "warning"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains(&local_ref(run, 1)))
    });
    assert!(warned, "{}", diag(out));
    let files =
        p.sb.git(&["ls-tree", "-r", "--name-only", &local_ref(run, 1)]);
    assert!(files.contains(probe), "{files}");
    let review = p.sb.ok(&["review", run, "--md"], "");
    assert!(!review.contains(TOKEN), "{review}");
    let bare = push_to_bare(p);
    assert!(!holds(&objects_of(&bare.path), TOKEN.as_bytes()));
}

#[test]
fn a_leftover_binary_file_holding_a_token_is_not_committed() {
    let (p, run, out) = leftovers_run(&format!(
        "printf 'SQLite format 3\\000\\001\\002 {TOKEN} \\000\\377' > creds.db"
    ));
    assert_leftovers_kept(&p, &run, &out, "creds.db");
}

#[test]
fn a_leftover_file_named_after_a_token_is_not_committed() {
    let (p, run, out) = leftovers_run(&format!("echo notes > {TOKEN}.txt"));
    assert_leftovers_kept(&p, &run, &out, &format!("{TOKEN}.txt"));
}

/// Issue 22: a failed session of a parallel run was reported "nothing to land" and then
/// "work saved as a patch". Its landing line now says why it did not land and where its work
/// went, and the closing row does not count it as having nothing to land.
#[test]
fn a_failed_parallel_session_is_not_said_to_have_nothing_to_land() {
    let p = Project::new();
    p.prompt("fail", "parallel_safe: true\n")
        .agent("echo work > work.txt\necho 'it broke' >&2\nexit 1\n");
    let mut cmd = p.sb.pitboss();
    cmd.args(["grind", "--max-iterations", "2", "--max-parallel", "2"])
        .env("MARKS", p.marks())
        .stdin(std::process::Stdio::null());
    let mut g = Grind::spawn(&p, cmd, "grind-text");
    g.wait(std::time::Duration::from_secs(60));
    let out = g.output();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["error", "error"], "{text}");
    assert!(p.patch(&run, 1).is_some(), "{text}");
    assert!(!text.contains("nothing to land"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("0001 slot") && l.contains("not landed"))
        .unwrap_or_else(|| panic!("no landing line for session 1:\n{text}"));
    assert!(
        line.contains("error") && line.contains("saved as a patch"),
        "{line}"
    );
}
