//! What agents write reaches people through `review --md` (a pull request's body) and
//! `report --html -` (often a terminal): control characters are shown, not obeyed, and agent
//! text cannot mention anyone, link or load a remote image.

use crate::support::grind::*;

/// Commits a file whose name holds an escape and a code fence, and writes a summary that
/// retitles the terminal, mentions a user and loads a remote image.
const AGENT: &str = r#"
name="$(printf 'evil\033]0;pwned\007```x.txt')"
echo hi > "$name"
git add -A
git commit -q -m "agent: evil file"
printf 'done \033[2J @octocat ![x](https://evil.example/t.png) [y](https://evil.example)\n' > "$PITBOSS_SUMMARY_FILE"
"#;

#[test]
fn review_md_and_report_html_show_control_characters_and_neutralise_agent_markdown() {
    let p = Project::new();
    p.prompt("work", "").agent(AGENT);
    let out = p.grind(&["--max-iterations", "1"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = p.only_run();
    let md = p.sb.ok(&["review", &run, "--md"], "");
    assert!(
        !md.contains('\u{1b}') && !md.contains('\u{7}'),
        "raw control characters:\n{md}"
    );
    assert!(md.contains("evil\\e]0;pwned\\x07"), "{md}");
    assert!(!md.contains("@octocat"), "a live mention:\n{md}");
    assert!(
        !md.contains("![x](") && !md.contains("[y]("),
        "a live image or link:\n{md}"
    );
    // The file name's ``` does not close the block it is listed in.
    let fence = md
        .lines()
        .find(|l| l.ends_with("text"))
        .expect("the files block");
    assert!(fence.starts_with("````"), "{md}");
    let html = p.sb.ok(&["report", &run, "--html", "-"], "");
    assert!(
        html.contains("<html") || html.contains("<!DOCTYPE"),
        "not the page"
    );
    assert!(
        !html.contains('\u{1b}') && !html.contains('\u{7}'),
        "raw ESC in the page"
    );
    // A summary that reaches the store raw (here through `record`) is escaped as well.
    let rec = crate::support::record_json("p", "ok", Some("\u{1b}]0;pwned\u{7} @team"));
    p.sb.ok(&["record", crate::support::RUN, "--create"], &rec);
    let md = p.sb.ok(&["review", crate::support::RUN, "--md"], "");
    assert!(md.contains("\\e\\]0;pwned\\x07 @\u{200B}team"), "{md}");
    let html = p.sb.ok(&["report", crate::support::RUN, "--html", "-"], "");
    assert!(
        !html.contains('\u{1b}') && html.contains("\\e]0;pwned"),
        "raw ESC in the page"
    );
}
