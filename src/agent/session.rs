//! One agent session, start to finish: [`run_session`].
//!
//! This is where the pieces meet: the adapter's invocation runs under `process`; every
//! output line is redacted, written to the capped transcript, fed to the adapter's parser, and
//! turned into observer events; afterwards the parser's report is merged with the result and
//! summary files the agent may have written. Agent failures come back as data in the
//! [`AgentOutcome`]; only failures of ours (our files, spawning) are `Err`.

use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::adapter::{Adapter, SessionContext, StreamParser, cap_text};
use super::invocation::Invocation;
use super::observer::{AgentEvent, AgentObserver, Controls};
use super::outcome::{AgentOutcome, AgentReport, SessionEnd};
use super::own_files::hide_own_dirs;
use super::process::{self, OutputHandler, ProcessLimits, Stream};
use super::redact::Redactor;
use super::redact_stream::RedactStream;
use super::result_file;
use super::transcript::{DEFAULT_CAP, TranscriptSink};
use super::{AgentError, SessionFiles};

/// How much of stderr the outcome keeps.
const STDERR_TAIL: usize = 4096;
/// Longest summary kept (it goes into records and commit messages).
const MAX_SUMMARY: usize = 16 * 1024;
const MAX_ERROR_TEXT: usize = 4 * 1024;
/// Largest result file read (it is a few hundred bytes of JSON); a bigger one is malformed.
const MAX_RESULT_FILE: u64 = 1 << 20;

/// Everything one session needs. Build it with [`SessionSpec::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub run_id: String,
    pub seq: u64,
    pub prompt_name: String,
    /// The directory the agent works in (the slot worktree).
    pub worktree: PathBuf,
    /// The composed input: standing instruction, recent sessions, scratchpad, prompt body.
    /// Written to a temporary file and given to the agent as stdin.
    pub input: String,
    pub files: SessionFiles,
    pub transcript_path: PathBuf,
    pub limits: ProcessLimits,
    pub transcript_cap: u64,
    /// Extra variables for the agent (on top of `PITBOSS_*` and the inherited environment).
    pub env: BTreeMap<String, String>,
    /// Inherited variables to remove for the agent (`env` still wins).
    pub env_remove: Vec<String>,
    /// The environment whose secret-looking values are redacted from output (usually the
    /// caller's whole environment). `env` is always included.
    pub redact_env: BTreeMap<String, String>,
    /// When the session started, by the loop's clock.
    pub started_at: DateTime<Utc>,
    /// The session's cost cap, passed to agent CLIs that have a budget flag of their own (the
    /// loop also watches the usage the agent streams).
    pub max_cost_usd: Option<f64>,
}

/// Where session `seq` streams its transcript in `session_dir`: `session-NNNN.log` (named
/// here with the other files an agent shares, [`SessionFiles`]; the run's working directory
/// reads it back through `rundir`).
pub(crate) fn live_transcript(session_dir: &Path, seq: u64) -> PathBuf {
    session_dir.join(format!("session-{seq:04}.log"))
}

impl SessionSpec {
    /// A spec with the session's files in `session_dir` (see [`SessionFiles::in_dir`]), the
    /// transcript at `session_dir/session-NNNN.log`, default limits and no timeout.
    pub fn new(
        run_id: impl Into<String>,
        seq: u64,
        prompt_name: impl Into<String>,
        worktree: impl Into<PathBuf>,
        session_dir: &Path,
        input: impl Into<String>,
    ) -> Self {
        SessionSpec {
            run_id: run_id.into(),
            seq,
            prompt_name: prompt_name.into(),
            worktree: worktree.into(),
            input: input.into(),
            files: SessionFiles::in_dir(session_dir),
            transcript_path: live_transcript(session_dir, seq),
            limits: ProcessLimits::default(),
            transcript_cap: DEFAULT_CAP,
            env: BTreeMap::new(),
            env_remove: Vec::new(),
            redact_env: BTreeMap::new(),
            started_at: DateTime::UNIX_EPOCH,
            max_cost_usd: None,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = Some(timeout);
        self
    }

    /// The `PITBOSS_*` variables the agent gets.
    pub fn pitboss_env(&self, input_file: &Path) -> BTreeMap<String, String> {
        let p = |p: &Path| p.display().to_string();
        [
            ("PITBOSS_RUN_ID", self.run_id.clone()),
            ("PITBOSS_SEQ", self.seq.to_string()),
            ("PITBOSS_PROMPT", self.prompt_name.clone()),
            ("PITBOSS_WORKTREE", p(&self.worktree)),
            ("PITBOSS_SCRATCHPAD", p(&self.files.scratchpad)),
            ("PITBOSS_SUMMARY_FILE", p(&self.files.summary)),
            ("PITBOSS_SKIP_FILE", p(&self.files.skip)),
            ("PITBOSS_RESULT_FILE", p(&self.files.result)),
            ("PITBOSS_INPUT_FILE", p(input_file)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// Runs one agent session to its end and describes it.
///
/// Before starting, stale result, summary and skip files are removed (the scratchpad is kept:
/// it is shared across sessions). The skip file is watched while the agent runs; if the agent
/// creates it itself, the session ends as skipped too.
pub fn run_session(
    spec: &SessionSpec,
    adapter: &dyn Adapter,
    controls: &Controls,
    observer: &mut dyn AgentObserver,
) -> Result<AgentOutcome, AgentError> {
    let input = stage(spec, adapter)?;
    let mut env = spec.pitboss_env(input.path());
    env.extend(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    keep_maintenance_attached(&mut env);
    let ctx = SessionContext {
        worktree: &spec.worktree,
        input_file: input.path(),
        env: &env,
        started_at: spec.started_at,
        max_cost_usd: spec.max_cost_usd,
    };
    let mut invocation = adapter.invocation(&ctx);
    invocation
        .env_remove
        .extend(spec.env_remove.iter().cloned());
    let redactor = Redactor::from_env(
        spec.redact_env
            .iter()
            .chain(spec.env.iter())
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let run = Supervision {
        spec,
        adapter,
        invocation: &invocation,
        redactor: &redactor,
    };
    let ran = run.supervise(&ctx, controls, observer)?;
    Ok(run.outcome(ran))
}

/// git 2.47 and later run the auto-maintenance `git commit` starts detached, in a session of
/// its own: grind, the subreaper, would end it as a process the agent left behind and warn
/// about every agent that commits. Passed through `GIT_CONFIG_*` after whatever the
/// environment already sets there (left alone when its count is not a number), it runs
/// attached instead, inside the agent's group, as it did before.
fn keep_maintenance_attached(env: &mut BTreeMap<String, String>) {
    let count = env
        .get("GIT_CONFIG_COUNT")
        .cloned()
        .or_else(|| std::env::var("GIT_CONFIG_COUNT").ok());
    let n: usize = match count.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(s) => match s.parse() {
            Ok(n) => n,
            Err(_) => return,
        },
    };
    let settings = [
        ("maintenance.autoDetach", "false"),
        ("gc.autoDetach", "false"),
    ];
    for (i, (key, value)) in settings.iter().enumerate() {
        env.insert(format!("GIT_CONFIG_KEY_{}", n + i), key.to_string());
        env.insert(format!("GIT_CONFIG_VALUE_{}", n + i), value.to_string());
    }
    env.insert("GIT_CONFIG_COUNT".into(), (n + settings.len()).to_string());
}

/// The session's files before the agent starts: stale result, summary and skip files gone, the
/// input written, the agent's own cache directories hidden from git. The input file lives as
/// long as the returned handle.
fn stage(spec: &SessionSpec, adapter: &dyn Adapter) -> Result<tempfile::NamedTempFile, AgentError> {
    if !spec.worktree.is_dir() {
        return Err(AgentError::NoWorktree {
            path: spec.worktree.clone(),
        });
    }
    for path in [&spec.files.result, &spec.files.summary, &spec.files.skip] {
        remove_if_present(path)?;
    }
    let session_dir = spec.transcript_path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(session_dir).map_err(AgentError::io("cannot create", session_dir))?;
    let input = tempfile::Builder::new()
        .prefix(&format!(".pitboss-input-{:04}-", spec.seq))
        .tempfile_in(session_dir)
        .map_err(AgentError::io(
            "cannot create the input file in",
            session_dir,
        ))?;
    fs::write(input.path(), &spec.input).map_err(AgentError::io("cannot write", input.path()))?;
    hide_own_dirs(&spec.worktree, adapter.own_dirs(), true).map_err(AgentError::io(
        "cannot prepare the agent's cache in",
        &spec.worktree,
    ))?;
    Ok(input)
}

/// One agent process from start to end, and what it takes to read what it said.
struct Supervision<'s> {
    spec: &'s SessionSpec,
    adapter: &'s dyn Adapter,
    invocation: &'s Invocation,
    redactor: &'s Redactor,
}

/// What the process and its parser left when it ended.
struct Ran {
    ended: process::ProcessEnd,
    transcript: super::outcome::TranscriptStats,
    stderr_tail: String,
    parsed: super::adapter::ParsedStream,
    last_tool: Option<String>,
}

impl Supervision<'_> {
    /// Runs the agent to its end, its output redacted into the transcript and read by the
    /// adapter's parser as it comes.
    fn supervise(
        &self,
        ctx: &SessionContext<'_>,
        controls: &Controls,
        observer: &mut dyn AgentObserver,
    ) -> Result<Ran, AgentError> {
        let spec = self.spec;
        let sink = TranscriptSink::create(&spec.transcript_path, spec.transcript_cap).map_err(
            AgentError::io("cannot create the transcript", &spec.transcript_path),
        )?;
        let mut handler = Handler {
            streams: [
                RedactStream::new(self.redactor),
                RedactStream::new(self.redactor),
            ],
            sink,
            parser: self.adapter.parser(ctx),
            observer,
            events: Vec::new(),
            stderr_tail: VecDeque::new(),
            last_tool: None,
            write_error: None,
            cap: spec.transcript_cap,
        };
        let ended = process::supervise(
            self.invocation,
            &spec.limits,
            controls,
            Some(&spec.files.skip),
            &mut handler,
        )
        .map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => AgentError::NotFound {
                binary: self.invocation.program.display().to_string(),
                config_key: self.adapter.config_key().to_string(),
            },
            _ => AgentError::Spawn {
                command: self.invocation.display(),
                source,
            },
        })?;
        let Handler {
            sink,
            parser,
            observer,
            stderr_tail,
            last_tool,
            write_error,
            ..
        } = handler;
        let cannot_write = || AgentError::io("cannot write the transcript", &spec.transcript_path);
        if let Some(e) = write_error {
            return Err(cannot_write()(e));
        }
        let (transcript, _) = sink.finish().map_err(cannot_write())?;
        let stderr_tail = tail_text(stderr_tail);
        let parsed = parser.finish(&stderr_tail);
        if let Some(limit) = &parsed.rate_limit {
            observer.on_event(&AgentEvent::RateLimited { until: limit.until });
        }
        Ok(Ran {
            ended,
            transcript,
            stderr_tail,
            parsed,
            last_tool,
        })
    }

    /// The session's outcome: the parser's report completed from the result and summary
    /// files, the model the agent's own config names, its exit code's meaning, all redacted.
    fn outcome(&self, ran: Ran) -> AgentOutcome {
        let (spec, adapter) = (self.spec, self.adapter);
        let Ran {
            mut ended,
            transcript,
            stderr_tail,
            parsed,
            last_tool,
        } = ran;
        let mut warnings = std::mem::take(&mut ended.warnings);
        warnings.extend(parsed.warnings);
        // Again after the agent: it may have deleted and rebuilt its cache directory.
        if let Err(e) = hide_own_dirs(&spec.worktree, adapter.own_dirs(), false) {
            warnings.push(format!(
                "cannot mark {}'s cache as ignored: {e}",
                adapter.name()
            ));
        }
        // Everything an agent gives us is redacted, warnings too: they are printed and stored.
        for w in &mut warnings {
            if let std::borrow::Cow::Owned(r) = self.redactor.redact(w) {
                *w = r;
            }
        }
        let mut report = parsed.report;
        if adapter.reads_result_file() {
            merge_result_file(
                &spec.files.result,
                &mut report,
                &mut warnings,
                adapter.name(),
            );
        }
        merge_summary_file(&spec.files.summary, &mut report, adapter.name());
        self.complete_report(&mut report, &ended);
        let mut end = ended.end;
        let agent_asked_to_skip = matches!(
            end,
            SessionEnd::Exited { .. } | SessionEnd::Signalled { .. } | SessionEnd::EndedAfterResult
        ) && spec.files.skip.exists();
        if agent_asked_to_skip {
            end = SessionEnd::Skipped;
        }
        AgentOutcome {
            end,
            exit_code: ended.exit_code,
            signal: ended.signal,
            killed: ended.killed,
            report,
            rate_limit: parsed.rate_limit,
            stderr_tail,
            transcript,
            parse_warnings: warnings,
            last_tool,
            duration_ms: ended.duration.as_millis() as u64,
        }
    }

    /// The report's model from the agent's own config when its output named none, its texts
    /// capped and redacted, and a failing exit code's meaning as the adapter knows it.
    fn complete_report(&self, report: &mut Option<AgentReport>, ended: &process::ProcessEnd) {
        let (spec, adapter, redactor) = (self.spec, self.adapter, self.redactor);
        if let Some(r) = report.as_mut()
            && r.model.is_none()
        {
            // The agent's environment: the caller's, then what the session adds.
            let mut agent_env = spec.redact_env.clone();
            agent_env.extend(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())));
            if let Some((model, source)) = adapter.unnamed_model(&agent_env) {
                r.model = Some(model);
                r.model_source = Some(source);
            }
        }
        if let Some(r) = report.as_mut() {
            r.agent_name = adapter.name().to_string();
            r.summary = r
                .summary
                .take()
                .map(|s| cap_text(&redactor.redact(s.trim()), MAX_SUMMARY));
            r.error_text = r
                .error_text
                .take()
                .map(|s| cap_text(&redactor.redact(&s), MAX_ERROR_TEXT));
            r.model = redactor.redact_opt(r.model.take());
            r.agent_version = redactor.redact_opt(r.agent_version.take());
            r.agent_session_id = redactor.redact_opt(r.agent_session_id.take());
        }
        if let (Some(code), SessionEnd::Exited { .. }) = (ended.exit_code, ended.end)
            && code != 0
            && let Some(text) = adapter.exit_text(code)
        {
            let r = report_for(report, adapter.name());
            r.is_error = true;
            r.error_text = Some(match r.error_text.take() {
                Some(said) => format!("{text}: {said}"),
                None => text,
            });
        }
    }
}

fn remove_if_present(path: &Path) -> Result<(), AgentError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(AgentError::io("cannot remove the stale", path)(e))
        }
        _ => Ok(()),
    }
}

fn report_for<'a>(report: &'a mut Option<AgentReport>, name: &str) -> &'a mut AgentReport {
    report.get_or_insert_with(|| AgentReport {
        agent_name: name.to_string(),
        ..AgentReport::default()
    })
}

/// Folds the agent's result file into its report. A malformed file makes the report an error
/// naming the file; it never fails the session.
fn merge_result_file(
    path: &Path,
    report: &mut Option<AgentReport>,
    warnings: &mut Vec<String>,
    name: &str,
) {
    let text = match read_capped(path, MAX_RESULT_FILE) {
        Ok((_, true)) => Err(format!("larger than {} bytes", MAX_RESULT_FILE)),
        Ok((bytes, false)) => String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => Err(format!("cannot read it: {e}")),
    };
    match text.and_then(|t| result_file::parse(&t)) {
        Ok(rf) => {
            let r = report_for(report, name);
            r.summary = rf.summary.or(r.summary.take());
            if let Some(t) = rf.tokens {
                r.tokens = t;
            }
            if rf.cost_usd.is_some() {
                r.cost_usd = rf.cost_usd;
            }
            r.cost_source = match (rf.cost_source, r.cost_usd) {
                (Some(source), _) => source,
                (None, Some(_)) => crate::usage::CostSource::Reported,
                (None, None) => r.cost_source,
            };
            r.model = rf.model.or(r.model.take());
            r.is_error |= rf.is_error.unwrap_or(false) || rf.error.is_some();
            r.error_text = rf.error.or(r.error_text.take());
            r.agent_version = rf.agent_version.or(r.agent_version.take());
            r.agent_session_id = rf.session_id.or(r.agent_session_id.take());
            r.num_turns = rf.num_turns.or(r.num_turns);
        }
        Err(problem) => {
            let message = format!("malformed result file {}: {problem}", path.display());
            warnings.push(message.clone());
            let r = report_for(report, name);
            r.is_error = true;
            r.error_text = Some(message);
        }
    }
}

/// Uses the summary file when the agent reported no summary otherwise.
fn merge_summary_file(path: &Path, report: &mut Option<AgentReport>, name: &str) {
    if report.as_ref().is_some_and(|r| r.summary.is_some()) {
        return;
    }
    // Only what can be kept is read (the summary is capped to MAX_SUMMARY below).
    let Ok((bytes, _)) = read_capped(path, 4 * MAX_SUMMARY as u64) else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes);
    if !text.trim().is_empty() {
        report_for(report, name).summary = Some(text.trim().to_string());
    }
}

/// At most `cap` bytes of `path`, and whether it holds more: files an agent writes are read
/// only as far as they are used, so memory stays bounded whatever it writes.
fn read_capped(path: &Path, cap: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(cap + 1)
        .read_to_end(&mut bytes)?;
    let more = bytes.len() as u64 > cap;
    bytes.truncate(cap as usize);
    Ok((bytes, more))
}

fn tail_text(tail: VecDeque<u8>) -> String {
    let full = tail.len() >= STDERR_TAIL;
    let bytes: Vec<u8> = tail.into_iter().collect();
    let text = String::from_utf8_lossy(&bytes);
    // A cut tail starts mid-line: start at the next line when there is one.
    let text = match (full, text.find('\n')) {
        (true, Some(i)) if i + 1 < text.len() => &text[i + 1..],
        _ => &text[..],
    };
    text.trim_end().to_string()
}

struct Handler<'a> {
    /// One per stream (stdout, stderr): each overlaps its own fragments.
    streams: [RedactStream<'a>; 2],
    sink: TranscriptSink,
    parser: Box<dyn StreamParser>,
    observer: &'a mut dyn AgentObserver,
    events: Vec<AgentEvent>,
    stderr_tail: VecDeque<u8>,
    last_tool: Option<String>,
    write_error: Option<io::Error>,
    cap: u64,
}

impl OutputHandler for Handler<'_> {
    fn line(&mut self, stream: Stream, line: &[u8], complete: bool) -> bool {
        let line = self.streams[stream as usize].push(line, complete);
        if line.is_empty() && !complete {
            return self.parser.result_seen();
        }
        if self.write_error.is_none() {
            match self.sink.write_line(stream, &line) {
                Ok(true) => self.observer.on_event(&AgentEvent::TranscriptCapped {
                    cap_bytes: self.cap,
                }),
                Ok(false) => {}
                Err(e) => self.write_error = Some(e),
            }
        }
        if stream == Stream::Stderr {
            self.stderr_tail.extend(line.iter().copied());
            self.stderr_tail.push_back(b'\n');
            let excess = self.stderr_tail.len().saturating_sub(STDERR_TAIL);
            self.stderr_tail.drain(..excess);
        }
        let text = String::from_utf8_lossy(&line);
        self.parser.line(stream, &text, complete, &mut self.events);
        for event in self.events.drain(..) {
            if let AgentEvent::ToolUse { name } = &event {
                self.last_tool = Some(name.clone());
            }
            self.observer.on_event(&event);
        }
        self.parser.result_seen()
    }

    fn tick(&mut self, elapsed: Duration) {
        if self.write_error.is_none()
            && let Err(e) = self.sink.flush()
        {
            self.write_error = Some(e);
        }
        self.observer.on_event(&AgentEvent::Tick { elapsed });
    }

    fn event(&mut self, event: AgentEvent) {
        self.observer.on_event(&event);
    }
}
