use super::*;
use crate::provenance::reach::Reach;
use crate::provenance::review::Totals;
use crate::store::SessionStatus;

fn session(seq: u64, summary: &str) -> ReviewSession {
    let failed = seq.is_multiple_of(10);
    ReviewSession {
        seq,
        prompt: format!("prompt-{}", seq % 3),
        status: if failed {
            SessionStatus::Error
        } else {
            SessionStatus::Ok
        },
        cost_usd: if seq.is_multiple_of(7) {
            None
        } else {
            Some(0.01)
        },
        tokens: 1000,
        summary: Some(summary.to_string()),
        landed: !failed,
        commits: if failed {
            vec![]
        } else {
            vec![format!("{seq:040x}")]
        },
        reach: if failed {
            Reach::NotLanded
        } else {
            Reach::Merged
        },
        patch: failed.then(|| format!("refs/pitboss/grind/r:patches/00/session-{seq:04}.patch")),
    }
}

fn review(n: u64, summary: &str) -> Review {
    let sessions: Vec<ReviewSession> = (1..=n).map(|i| session(i, summary)).collect();
    Review {
        run: "20261124T100000Z-abcd".into(),
        run_ref: "refs/pitboss/grind/20261124T100000Z-abcd".into(),
        status: "finished".into(),
        stop_reason: Some("max iterations reached".into()),
        agent: Some("claude".into()),
        rotation: Some("nightly".into()),
        branch: Some(crate::git::BranchName::new("pitboss/20261124T100000Z-abcd").unwrap()),
        branch_tip: Some("abcdef0123456789abcdef0123456789abcdef01".into()),
        base_branch: Some("main".into()),
        base_commit: Some("1234567890123456789012345678901234567890".into()),
        files: (0..300)
            .map(|i| crate::git::FileStat {
                path: format!("src/{}/file{i}.rs", "deep/".repeat(60)),
                added: i,
                removed: 1,
                binary: i == 5,
            })
            .collect(),
        totals: Totals {
            sessions: n,
            ..Totals::default()
        },
        sessions,
        pull_request: None,
    }
}

fn table_rows(md: &str) -> usize {
    md.lines()
        .skip_while(|l| !l.starts_with("| # | prompt | status | cost"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .count()
}

#[test]
fn a_small_run_keeps_everything() {
    let r = review(12, "Fixed the | pipe and <b>tags</b>\nacross lines");
    let md = markdown(&r, GITHUB_BODY_LIMIT).unwrap();
    assert_eq!(table_rows(&md), 12, "{md}");
    assert!(
        md.contains("Fixed the \\| pipe and &lt;b&gt;tags&lt;/b&gt; across lines"),
        "{md}"
    );
    assert!(
        md.contains("| 7 | prompt-1 | ok | unknown | `0000000` |"),
        "{md}"
    );
    assert!(md.contains("### Not landed"));
    assert!(md.contains("`refs/pitboss/grind/r:patches/00/session-0010.patch`"));
    assert!(
        md.contains("… and 250 more files."),
        "the file list is capped"
    );
    assert!(!md.contains("folded"));
}

#[test]
fn summaries_are_shortened_before_any_row_is_folded() {
    // 200 sessions × 2000-character summaries: far over the limit, but the rows fit.
    let r = review(200, &"word ".repeat(400));
    let full = render(
        &r,
        Detail {
            summary_chars: 1000,
            rows: 200,
            give_up_after: usize::MAX,
        },
    );
    assert!(full.len() > GITHUB_BODY_LIMIT);
    let md = markdown(&r, GITHUB_BODY_LIMIT).unwrap();
    assert!(md.len() <= GITHUB_BODY_LIMIT);
    assert_eq!(table_rows(&md), 200, "every row kept");
    assert!(!md.contains("folded"));
    assert!(md.contains("word word"), "summaries shortened, not dropped");
    assert!(md.contains('…'));
}

#[test]
fn a_huge_run_folds_rows_and_says_how_many() {
    let n = 20_000;
    let r = review(n, &"a long summary of what the agent did ".repeat(30));
    let md = markdown(&r, GITHUB_BODY_LIMIT).unwrap();
    assert!(md.len() <= GITHUB_BODY_LIMIT, "{}", md.len());
    let rows = table_rows(&md);
    // The shown rows, then one folded row standing for the rest.
    let shown = rows - 1;
    assert!(shown > 100, "as many rows as fit are kept: {shown}");
    let last = md
        .lines()
        .find(|l| l.contains("folded") && l.contains("session"))
        .unwrap();
    let folded = n as usize - shown;
    assert!(
        last.starts_with(&format!(
            "| {}–{n} | _{folded} sessions folded (",
            shown + 1
        )),
        "{last}"
    );
    assert!(last.contains("ok") && last.contains("error"), "{last}");
    assert!(last.contains("`git pitboss review 20261124T100000Z-abcd`"));
    // One more row would not have fitted.
    let more = render(
        &r,
        Detail {
            summary_chars: 0,
            rows: shown + 1,
            give_up_after: usize::MAX,
        },
    );
    assert!(more.len() > GITHUB_BODY_LIMIT);
    // The folded row keeps the table's shape: as many cells as the header.
    let header_cells = md
        .lines()
        .find(|l| l.starts_with("| # |"))
        .unwrap()
        .matches('|')
        .count();
    assert_eq!(last.matches(" |").count() + 1, header_cells, "{last}");
}

#[test]
fn a_tiny_limit_is_refused_rather_than_broken() {
    assert!(markdown(&review(3, "x"), 50).is_none());
}

#[test]
fn names_outside_the_tables_show_as_they_are() {
    // Git allows `|` and backticks in branch names; an agent is any name the config gives.
    let mut r = review(2, "ok");
    r.agent = Some("my|agent".into());
    r.branch = Some(crate::git::BranchName::new("pitboss/x`y").unwrap());
    r.base_branch = Some("feat|x".into());
    let md = markdown(&r, GITHUB_BODY_LIMIT).unwrap();
    // Outside a table `\|` would show its backslash inside a code span, and a backtick
    // replaced by a space is not the name.
    assert!(md.contains("agent `my|agent`"), "{md}");
    assert!(md.contains("``pitboss/x`y`` → `feat|x`"), "{md}");
    assert!(md.contains("reached `feat|x` ·"), "{md}");
    // With no base branch, "the base" is words, not code.
    r.base_branch = None;
    let md = markdown(&r, GITHUB_BODY_LIMIT).unwrap();
    assert!(md.contains("0 reached the base ·"), "{md}");
}

#[test]
fn code_spans_in_cells_escape_their_pipes() {
    assert_eq!(code("a|b"), "`a|b`");
    assert_eq!(code_cell("a|b"), "`a\\|b`");
    assert_eq!(code("`x`"), "`` `x` ``");
    assert_eq!(code("a``b"), "```a``b```");
}

#[test]
fn a_run_without_its_branch_says_so_instead_of_no_change() {
    let mut r = review(2, "ok");
    r.branch = None;
    r.branch_tip = None;
    r.files.clear();
    let md = markdown(&r, GITHUB_BODY_LIMIT).unwrap();
    assert!(
        md.contains("· no diff (the run branch is not here) ·"),
        "{md}"
    );
    assert!(!md.contains("0 files changed"), "{md}");
}
