//! The `git-pitboss` binary: everything lives in the library; this file only hands over to the
//! command line layer and returns its exit code.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    pitboss::main()
}
