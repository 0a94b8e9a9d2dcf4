//! The session's hooks: the environment they run in, running one with its timeout, and their
//! output kept as marked sections at the end of the session's transcript (not in the summary,
//! which stays one short line pointing there).

use super::*;

/// A hook's output as a marked section of the session's transcript.
pub(super) fn hook_section(which: &str, cmd: &str, out: &agent::HookOutcome) -> String {
    let name = if which == "verify" {
        "verify_command".to_string()
    } else {
        format!("{which} hook")
    };
    let mut s = format!("\n==== pitboss: {name} `{cmd}` {} ====\n", out.describe());
    if !out.output_tail.is_empty() {
        s.push_str(&out.output_tail);
        s.push('\n');
    }
    s.push_str(&format!("==== end of {name} output ====\n"));
    s
}

impl Loop<'_> {
    pub(super) fn env_for_hooks(
        &self,
        seq: u64,
        prompt: &str,
        status: Option<SessionStatus>,
    ) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        env.insert("PITBOSS_RUN_ID".into(), self.run.to_string());
        env.insert("PITBOSS_SEQ".into(), seq.to_string());
        env.insert("PITBOSS_PROMPT".into(), prompt.to_string());
        env.insert(
            "PITBOSS_WORKTREE".into(),
            self.slot.path.display().to_string(),
        );
        if let Some(s) = status {
            env.insert("PITBOSS_STATUS".into(), s.to_string());
        }
        env
    }

    /// Runs a hook; `Err(text)` says how it failed.
    pub(super) fn hook(
        &self,
        which: &str,
        cmd: &Option<String>,
        env: &BTreeMap<String, String>,
    ) -> Result<(), GrindError> {
        let Some(cmd) = cmd else { return Ok(()) };
        let timeout = Duration::from_secs(self.plan.hooks.timeout_seconds.value);
        let out = agent::run_hook(
            cmd,
            &self.slot.path,
            env,
            timeout,
            &self.controls.agent,
            &self.redactor,
        )
        .map_err(GrindError::io(format!("cannot run the {which} hook")))?;
        // The output goes into the session's transcript, in a section of its own; the summary
        // only says how the hook ended and points there.
        self.hook_log
            .borrow_mut()
            .push(hook_section(which, cmd, &out));
        if out.succeeded() {
            Ok(())
        } else {
            Err(GrindError::Io {
                what: format!("the {which} hook `{cmd}` {}", out.describe()),
                source: std::io::Error::other("see its output in the session's transcript"),
            })
        }
    }

    /// Appends the output of this session's hooks to its transcript (creating one when the
    /// agent did not run), and returns the transcript to store.
    pub(super) fn append_hook_output(
        &self,
        transcript: Option<PathBuf>,
        fallback: &Path,
    ) -> Result<Option<PathBuf>, GrindError> {
        let sections = std::mem::take(&mut *self.hook_log.borrow_mut());
        if sections.is_empty() {
            return Ok(transcript);
        }
        let path = transcript.unwrap_or_else(|| fallback.to_path_buf());
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(GrindError::io(format!("cannot write {}", path.display())))?;
        for s in sections {
            std::io::Write::write_all(&mut f, s.as_bytes())
                .map_err(GrindError::io(format!("cannot write {}", path.display())))?;
        }
        Ok(Some(path))
    }
}
