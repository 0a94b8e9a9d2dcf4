//! Finding a real agent CLI for the tests that drive one: `$<env_var>`, else the copy `.ci/run`
//! installs under `.tools/`. When it is absent the test says so loudly and passes without
//! running, except under `CI=true`, where a missing CLI fails the test (CI always has them).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The CLI's path, or `None` (after a loud notice) when it is not installed here.
pub fn real_cli(what: &str, env_var: &str, default: &str, install: &str) -> Option<PathBuf> {
    let path = match std::env::var_os(env_var) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(default),
    };
    if path.exists() {
        return Some(path);
    }
    let notice = format!(
        "\n==================== SKIPPED: {what} not installed ====================\n\
         {} does not exist. Install it with\n  {install}\n\
         or point {env_var} at one. CI always has it.\n\
         ================================================================================\n",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but the real CLI is missing:{notice}");
    }
    eprintln!("{notice}");
    None
}
