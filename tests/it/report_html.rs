//! `git pitboss report --html` on a real grind (a fake agent through `git pitboss grind`), read
//! back in a real browser: headless Chromium's DOM must hold the figures the run ref holds, and
//! its screenshot of the page must not be blank.
//!
//! Chromium is Debian's `chromium` (`.ci/run` installs it); `$PITBOSS_CHROMIUM` names another.
//! Without it the browser tests say so loudly and pass, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::grind::*;

/// `commit` commits a file; `fail` says why on stderr and exits 3 (an `error` session).
const AGENT: &str = r#"
echo "working on $PITBOSS_PROMPT session $PITBOSS_SEQ"
case "$PITBOSS_PROMPT" in
  commit)
    echo "$PITBOSS_SEQ" > "f-$PITBOSS_SEQ.txt"
    git add "f-$PITBOSS_SEQ.txt" && git commit -q -m "agent: f-$PITBOSS_SEQ"
    echo "summary of session $PITBOSS_SEQ" > "$PITBOSS_SUMMARY_FILE"
    printf '{"tokens":{"input":%d,"output":10},"cost_usd":0.0125}\n' "$((PITBOSS_SEQ * 100))" > "$PITBOSS_RESULT_FILE"
    ;;
  fail)
    echo "it broke <b>here</b>" >&2
    exit 3
    ;;
esac
"#;

/// Chromium; panics, saying how to install it, when it is not here (the tests that need it are
/// marked ignored by the build script where it was absent, except under `CI=true`).
pub fn chromium() -> PathBuf {
    let name = std::env::var_os("PITBOSS_CHROMIUM").unwrap_or_else(|| "chromium".into());
    which::which(&name).unwrap_or_else(|_| {
        panic!("chromium is not installed: `apt-get install chromium`, or point PITBOSS_CHROMIUM at one")
    })
}

/// Runs headless Chromium on `page` with `args`, in a profile of its own under `tmp`; stdout.
pub fn headless(browser: &Path, tmp: &Path, page: &Path, args: &[&str]) -> Vec<u8> {
    let profile = tmp.join("chromium-profile");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            // Chromium refuses to run as root without it (CI runs as root).
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).unwrap();
        buf
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The text of the first element whose opening tag contains `marker` (a class or attribute).
pub fn text_of(dom: &str, marker: &str) -> String {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the DOM"));
    let open_end = at + dom[at..].find('>').unwrap() + 1;
    let close = open_end + dom[open_end..].find('<').unwrap();
    dom[open_end..close].to_string()
}

/// The number of distinct colours of a PNG, and its size.
fn colours(png_bytes: &[u8]) -> (usize, u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    let mut seen = std::collections::HashSet::new();
    for px in buf[..info.buffer_size()].chunks(channels) {
        seen.insert(px.to_vec());
    }
    (seen.len(), info.width, info.height)
}

fn ground(p: &Project) -> String {
    p.prompt("commit", "weight: 2\n")
        .prompt("fail", "")
        .agent(AGENT);
    let out = p.grind(&["--max-iterations", "6"]);
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{out:?}"
    );
    p.only_run()
}

#[test]
#[cfg_attr(
    pitboss_lacks = "chromium",
    ignore = "chromium not installed (apt-get install chromium)"
)]
fn report_of_a_real_grind_in_a_browser() {
    let p = Project::new();
    let run = ground(&p);
    let page = p.sb.path("report.html");
    let out =
        p.sb.git_pitboss()
            .args(["report", "--html"])
            .arg(&page)
            .output()
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("wrote ") && said.contains("6 sessions"),
        "{said}"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for bad in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(bad), "the page fetches something: {bad}");
    }

    // What the run ref holds.
    let state = p.state(&run);
    let consumed = &state["consumed"];
    let records = p.records(&run);
    assert_eq!(records.len(), 6);
    let tokens = consumed["tokens"]["input"].as_u64().unwrap()
        + consumed["tokens"]["output"].as_u64().unwrap();
    let unknown = consumed["unknown_cost_sessions"].as_u64().unwrap();
    assert!(unknown > 0, "the failing sessions have no cost: {consumed}");
    let cost = format!(
        "${:.4} + {unknown} unknown",
        consumed["cost_usd"].as_f64().unwrap()
    );

    let browser = chromium();
    let dom = String::from_utf8(headless(
        &browser,
        p.sb.path("").as_path(),
        &page,
        &["--dump-dom"],
    ))
    .unwrap();
    assert!(
        dom.contains(&format!("<h2>Run <code>{run}</code></h2>")),
        "{dom}"
    );
    assert_eq!(text_of(&dom, "class=\"run-sessions\""), "6");
    assert_eq!(text_of(&dom, "class=\"run-tokens\""), tokens.to_string());
    assert_eq!(text_of(&dom, "class=\"run-cost\""), cost);
    assert_eq!(
        text_of(&dom, "class=\"run-branch\""),
        format!("refs/heads/pitboss/{run}")
    );
    assert!(
        text_of(&dom, "class=\"run-status\"").starts_with("finished"),
        "{dom}"
    );
    assert_eq!(dom.matches("<details class=\"s\"").count(), 6);
    for r in &records {
        if let Some(c) = r["commit"].as_str() {
            assert!(
                dom.contains(&format!("<code class=\"commit\">{c}</code>")),
                "{c}"
            );
        }
    }
    // A failing session's stderr, escaped, in its readable transcript.
    assert!(
        dom.contains("[stderr]") || dom.contains("it broke &lt;b&gt;here&lt;/b&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<b>here</b>"));
    assert_eq!(dom.matches("<svg").count(), 6);

    let shot = p.sb.path("report.png");
    headless(
        &browser,
        p.sb.path("").as_path(),
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
        ],
    );
    let (n, w, h) = colours(&std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (1280, 1600));
    assert!(n > 50, "the screenshot looks blank: {n} colours");
}

#[test]
fn two_runs_side_by_side_and_errors() {
    let p = Project::new();
    let first = ground(&p);
    // A second run, from the same checkout.
    let out = p.grind(&["--max-iterations", "2"]);
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{out:?}"
    );
    let refs = p.sb.git(&[
        "for-each-ref",
        "--format=%(refname:lstrip=3)",
        "refs/pitboss/grind/",
    ]);
    let second = refs.lines().find(|r| *r != first).unwrap().to_string();
    let html = p.sb.ok(
        &["report", &first, &second[..second.len() - 1], "--html", "-"],
        "",
    );
    assert!(html.contains("Runs side by side"));
    assert!(html.contains(&format!("id=\"run-{first}\"")));
    assert!(html.contains(&format!("id=\"run-{second}\"")));

    let bad = p.sb.run(&["report", "nope", "--html", "x.html"], "");
    assert_eq!(bad.status.code(), Some(4), "{bad:?}");
    assert!(!p.sb.path("x.html").exists());
    let missing = p.sb.run(&["report"], "");
    assert_eq!(missing.status.code(), Some(64));
    let nowhere =
        p.sb.run(&["report", "--html", "/nonexistent/dir/r.html"], "");
    assert_eq!(nowhere.status.code(), Some(4));
    let said = String::from_utf8_lossy(&nowhere.stderr);
    assert!(
        said.contains(
            "cannot write /nonexistent/dir/r.html: the folder /nonexistent/dir does not exist"
        ) && !said.contains(".pitboss-report"),
        "said in the user's terms, not our temporary file's: {said}"
    );
    let folder = p.sb.run(&["report", "--html", "."], "");
    assert_eq!(folder.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&folder.stderr).contains("it is a folder"),
        "{folder:?}"
    );
}

/// The rendered width of each figure of the side-by-side charts, in pixels, as laid out by
/// headless Chromium in a window `width` wide (a copy of the page that writes them into the
/// DOM; the report itself runs no script).
fn side_chart_widths(p: &Project, page: &Path, width: u32) -> Vec<u32> {
    let html = std::fs::read_to_string(page).unwrap();
    let measure = "<script>document.body.setAttribute('data-widths', Array.from(document.\
        querySelectorAll('.charts-side figure')).map(f => Math.round(f.getBoundingClientRect()\
        .width)).join(','))</script></body>";
    let probe = p.sb.path("measure.html");
    std::fs::write(&probe, html.replace("</body>", measure)).unwrap();
    let size = format!("--window-size={width},1600");
    let dom = headless(
        &chromium(),
        p.sb.path("").as_path(),
        &probe,
        &["--dump-dom", &size],
    );
    let dom = String::from_utf8(dom).unwrap();
    let at = dom.find("data-widths=\"").expect("the probe ran") + "data-widths=\"".len();
    let list = &dom[at..at + dom[at..].find('"').unwrap()];
    list.split(',').map(|w| w.parse().unwrap()).collect()
}

#[test]
#[cfg_attr(
    pitboss_lacks = "chromium",
    ignore = "chromium not installed (apt-get install chromium)"
)]
fn a_lone_chart_on_the_last_row_keeps_the_width_of_the_others() {
    let p = Project::new();
    p.prompt("commit", "").agent(AGENT);
    for _ in 0..3 {
        let out = p.grind(&["--max-iterations", "2"]);
        assert!(out.status.success(), "{out:?}");
    }
    let refs = p.sb.git(&[
        "for-each-ref",
        "--format=%(refname:lstrip=3)",
        "refs/pitboss/grind/",
    ]);
    let runs: Vec<&str> = refs.lines().collect();
    assert_eq!(runs.len(), 3, "{refs}");
    let page = p.sb.path("three.html");
    let mut args = vec!["report"];
    args.extend(&runs);
    args.extend(["--html", page.to_str().unwrap()]);
    p.sb.ok(&args, "");
    // 1280 px: two charts a row, so each chart's third run sits alone on the last row.
    for width in [1280, 800] {
        let widths = side_chart_widths(&p, &page, width);
        assert!(
            !widths.is_empty() && widths.len().is_multiple_of(3),
            "{widths:?}"
        );
        assert!(
            widths.iter().all(|w| *w == widths[0]),
            "at {width} px every chart is as wide as the others (a wider one draws its axis \
             text larger): {widths:?}"
        );
    }
}
