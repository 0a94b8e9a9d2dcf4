//! Hook commands (`pre_session`, `post_session`, `on_failure`, the `verify_command`): short
//! shell commands run in the session's worktree, supervised like agents (own process group,
//! timeout, TERM then KILL) so a hung hook cannot hang the run, with the end of their output
//! kept for the session's transcript.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::Duration;

use super::invocation::Invocation;
use super::observer::{AgentEvent, Controls};
use super::outcome::SessionEnd;
use super::process::{self, OutputHandler, ProcessLimits, Stream};
use super::redact::Redactor;
use super::redact_stream::RedactStream;

/// How much of a hook's output is kept (its end), for the session's transcript.
const TAIL: usize = 64 << 10;

/// How a hook ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HookOutcome {
    pub end: SessionEnd,
    /// The last lines of its stdout and stderr, redacted.
    pub output_tail: String,
}

impl HookOutcome {
    pub(crate) fn succeeded(&self) -> bool {
        self.end == SessionEnd::Exited { code: 0 }
    }

    /// `exited with code 3`, `timed out`, … for messages.
    pub(crate) fn describe(&self) -> String {
        match self.end {
            SessionEnd::Exited { code } => format!("exited with code {code}"),
            SessionEnd::Signalled { signal } => format!("was killed by signal {signal}"),
            SessionEnd::TimedOut => "timed out".into(),
            SessionEnd::Aborted => "was aborted".into(),
            SessionEnd::Skipped | SessionEnd::EndedAfterResult => "was stopped".into(),
        }
    }
}

struct Tail<'a> {
    buf: VecDeque<u8>,
    /// One per stream, so a private key over several lines or a cut line is redacted whole.
    streams: [RedactStream<'a>; 2],
    /// Where the hook's process group id is written while it runs.
    pid_file: Option<&'a Path>,
}

impl OutputHandler for Tail<'_> {
    fn line(&mut self, stream: Stream, line: &[u8], complete: bool) -> bool {
        let red = self.streams[stream as usize].push(line, complete);
        self.buf.extend(red.iter());
        if complete {
            self.buf.push_back(b'\n');
        }
        while self.buf.len() > TAIL {
            self.buf.pop_front();
        }
        false
    }
    fn tick(&mut self, _: Duration) {}
    fn event(&mut self, e: AgentEvent) {
        if let (AgentEvent::Spawned { pid, .. }, Some(file)) = (e, self.pid_file) {
            let _ = std::fs::write(file, pid.to_string());
        }
    }
}

/// Runs `command` with `sh -c` in `cwd`, with `env` added, for at most `timeout`.
pub(crate) fn run_hook(
    command: &str,
    cwd: &Path,
    env: &BTreeMap<String, String>,
    timeout: Duration,
    controls: &Controls,
    redactor: &Redactor,
    pid_file: Option<&Path>,
) -> std::io::Result<HookOutcome> {
    let inv = Invocation::new("sh", cwd).arg("-c").arg(command).envs(env);
    let limits = ProcessLimits {
        timeout: Some(timeout),
        grace: Duration::from_secs(2),
        ..ProcessLimits::default()
    };
    let mut tail = Tail {
        buf: VecDeque::new(),
        streams: [RedactStream::new(redactor), RedactStream::new(redactor)],
        pid_file,
    };
    let end = process::supervise(&inv, &limits, controls, None, &mut tail);
    if let Some(file) = pid_file {
        let _ = std::fs::remove_file(file);
    }
    let end = end?;
    let bytes: Vec<u8> = tail.buf.into_iter().collect();
    Ok(HookOutcome {
        end: end.end,
        output_tail: String::from_utf8_lossy(&bytes).trim_end().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_succeed_fail_and_time_out() {
        let dir = tempfile::tempdir().unwrap();
        let env: BTreeMap<String, String> =
            [("HOOK_SECRET_TOKEN".to_string(), "s3cr3t-value".to_string())].into();
        let red = Redactor::from_env(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let c = Controls::new();
        let ok = run_hook(
            "echo hello; echo $HOOK_SECRET_TOKEN",
            dir.path(),
            &env,
            Duration::from_secs(10),
            &c,
            &red,
            None,
        )
        .unwrap();
        assert!(ok.succeeded());
        assert!(ok.output_tail.contains("hello"));
        assert!(
            !ok.output_tail.contains("s3cr3t-value"),
            "{}",
            ok.output_tail
        );
        let bad = run_hook(
            "echo nope >&2; exit 3",
            dir.path(),
            &env,
            Duration::from_secs(10),
            &c,
            &red,
            None,
        )
        .unwrap();
        assert_eq!(bad.describe(), "exited with code 3");
        assert!(bad.output_tail.contains("nope"));
        let slow = run_hook(
            "sleep 30",
            dir.path(),
            &env,
            Duration::from_millis(200),
            &c,
            &red,
            None,
        )
        .unwrap();
        assert_eq!(slow.end, SessionEnd::TimedOut);
    }
}
