//! Build script: tells the integration tests which outside programs this machine lacks, so a test
//! that needs one shows as *ignored* in the test runner's own summary (`cargo test`'s
//! "N ignored", nextest's "N skipped") instead of passing without having run.
//!
//! Why at build time: Rust's test harness cannot skip a test once it runs; only `#[ignore]`
//! makes a skip visible in the summary, and a build-script `cfg` is how an attribute learns about
//! the machine. Each absent program sets `pitboss_lacks = "<name>"`, which the tests read as
//! `#[cfg_attr(pitboss_lacks = "gh", ignore = "…")]`.
//!
//! Under `CI=true` nothing is marked absent: CI installs every program (`.ci/run`), so a missing
//! one must fail its tests, not skip them. Changes are noticed: the script runs again when the
//! programs' variables or `PATH` change, when anything appears under `.tools/` (the agent CLIs
//! `.ci/run` installs there), or when a directory on `PATH` changes (a program installed later).
//! The library and the binary read none of this.

use std::path::{Path, PathBuf};

/// A program the tests drive: its `cfg` name, the variable that names another copy, and where
/// it is looked for (a path below the package, or a name on `PATH`).
struct Program {
    name: &'static str,
    var: Option<&'static str>,
    place: Place,
}

enum Place {
    Tools(&'static str),
    OnPath(&'static str),
}

const PROGRAMS: &[Program] = &[
    tools(
        "claude",
        "PITBOSS_CLAUDE_BIN",
        ".tools/claude/node_modules/.bin/claude",
    ),
    tools(
        "codex",
        "PITBOSS_CODEX_BIN",
        ".tools/codex/node_modules/.bin/codex",
    ),
    tools(
        "gemini",
        "PITBOSS_GEMINI_BIN",
        ".tools/gemini/node_modules/.bin/gemini",
    ),
    tools("aider", "PITBOSS_AIDER_BIN", ".tools/aider/bin/aider"),
    on_path("chromium", Some("PITBOSS_CHROMIUM"), "chromium"),
    on_path("gh", None, "gh"),
    on_path("python3", None, "python3"),
    on_path("openssl", None, "openssl"),
    on_path("tmux", None, "tmux"),
    on_path("man", None, "man"),
    on_path("strace", None, "strace"),
];

const fn tools(name: &'static str, var: &'static str, rel: &'static str) -> Program {
    Program {
        name,
        var: Some(var),
        place: Place::Tools(rel),
    }
}

const fn on_path(name: &'static str, var: Option<&'static str>, prog: &'static str) -> Program {
    Program {
        name,
        var,
        place: Place::OnPath(prog),
    }
}

fn main() {
    let mut names: Vec<&str> = PROGRAMS.iter().map(|p| p.name).collect();
    names.extend(["root", "userns", "cgroup"]);
    let values: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    println!(
        "cargo::rustc-check-cfg=cfg(pitboss_lacks, values({}))",
        values.join(", ")
    );
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        return;
    }
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    watch_tools_dir(&root);
    let mut watch_path = false;
    for p in PROGRAMS {
        if let Some(var) = p.var {
            println!("cargo::rerun-if-env-changed={var}");
        }
        if !present(p, &root) {
            println!("cargo::rustc-cfg=pitboss_lacks=\"{}\"", p.name);
            watch_path |= matches!(p.place, Place::OnPath(_));
        }
    }
    if watch_path {
        watch_path_dirs();
    }
    if !is_root() {
        println!("cargo::rustc-cfg=pitboss_lacks=\"root\"");
    }
    if !user_namespaces() {
        println!("cargo::rustc-cfg=pitboss_lacks=\"userns\"");
    }
    if !cgroup_v2() {
        println!("cargo::rustc-cfg=pitboss_lacks=\"cgroup\"");
    }
}

/// Whether this process can make a cgroup v2 below its own (what grind does
/// for each session; the tests of that path need it). Done as grind does it: our path from
/// `/proc/self/cgroup`, the cgroup2 mount from `/proc/self/mountinfo`.
fn cgroup_v2() -> bool {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let Some(path) = cgroup.lines().find_map(|l| l.strip_prefix("0::")) else {
        return false;
    };
    let mount = mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut f = left.split_whitespace();
        (right.starts_with("cgroup2 ") && f.nth(3)? == "/").then(|| f.next().map(PathBuf::from))?
    });
    let Some(mount) = mount else {
        return false;
    };
    let probe = mount
        .join(path.trim_start_matches('/'))
        .join(format!("pitboss-build-probe-{}", std::process::id()));
    if std::fs::create_dir(&probe).is_err() {
        return false;
    }
    let _ = std::fs::remove_dir(&probe);
    true
}

/// Whether `unshare -rm` works here (a user and mount namespace: the tests of a full disk and a
/// read-only repository mount a private tmpfs in one). Containers often forbid it.
#[allow(
    clippy::disallowed_methods,
    reason = "the build script is not the library: it probes the machine for the tests"
)]
fn user_namespaces() -> bool {
    std::process::Command::new("unshare")
        .args(["-rm", "true"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the program is here: the file its variable names, else its usual place.
fn present(p: &Program, root: &Path) -> bool {
    let named = p.var.and_then(std::env::var_os);
    match (&p.place, named) {
        (Place::Tools(_), Some(path)) => Path::new(&path).exists(),
        (Place::Tools(rel), None) => root.join(rel).exists(),
        (Place::OnPath(_), Some(name)) => find_on_path(Path::new(&name)),
        (Place::OnPath(prog), None) => find_on_path(Path::new(prog)),
    }
}

/// A path with a slash is taken as it is; a bare name is looked up on `PATH`, as a shell does.
fn find_on_path(prog: &Path) -> bool {
    if prog.components().count() > 1 {
        return prog.is_file();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|d| d.join(prog).is_file())
}

/// `.tools/` is made here (empty, ignored by git) so that cargo can watch it: an install into it
/// changes the directory and runs this script again. A read-only source tree just goes unwatched.
fn watch_tools_dir(root: &Path) {
    let dir = root.join(".tools");
    if std::fs::create_dir_all(&dir).is_ok() {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
}

/// Each absolute directory on `PATH`, so a program installed there later (its directory's entry
/// list changes) is noticed. Only when a program is missing: otherwise nothing is watched.
fn watch_path_dirs() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        if dir.is_absolute() && dir.is_dir() && dir != Path::new("/") {
            println!("cargo::rerun-if-changed={}", dir.display());
        }
    }
}

/// The effective user, read from `/proc` (no dependency for one number); not Linux: not root.
fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .is_some_and(|euid| euid == "0")
}
