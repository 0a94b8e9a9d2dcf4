//! `git pitboss record <run>`: plumbing append of one session record read from stdin, with an
//! optional transcript file. Prints the seq it recorded.
//!
//! Runs are pushed, so the record's strings and the transcript pass through the redactor (built
//! from this process's environment, as grind's is) before they are stored.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;

use crate::agent::{Redactor, redact_copy};
use crate::cli::resolve::{open_run, with_store};
use crate::cli::ui;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::store::{
    Caps, RunId, RunMeta, SessionAppend, StoreError, TranscriptSource, check_append, parse_record,
};

/// Append one session record (JSON on stdin) to a run.
///
/// `seq`, `run_id` and `transcript_path` may be left out: they are then assigned (the next
/// seq, this run, transcripts/session-NNNN.log). Prints the seq that was recorded.
#[derive(Debug, Args)]
pub(crate) struct RecordArgs {
    /// The run: a full id or a unique prefix (a full id with --create).
    run: String,
    /// Create the run first if it does not exist.
    #[arg(long)]
    create: bool,
    /// The session's transcript.
    #[arg(long, value_name = "FILE")]
    transcript: Option<PathBuf>,
}

/// Largest record accepted on stdin.
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

pub(crate) fn cmd_record(ctx: &Ctx, args: RecordArgs) -> CliResult {
    // Check all input before touching the repository.
    let mut input = String::new();
    std::io::stdin()
        .take(MAX_RECORD_BYTES + 1)
        .read_to_string(&mut input)
        .map_err(|e| CliError::user(anyhow!("cannot read the record from stdin: {e}")))?;
    if input.len() as u64 > MAX_RECORD_BYTES {
        return Err(CliError::user(anyhow!(
            "the record on stdin is larger than 16 MiB"
        )));
    }
    let env: Vec<(String, String)> = std::env::vars().collect();
    let redactor = Redactor::from_env(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let record = parse_input(&input, &redactor).map_err(|why| {
        CliError::user(anyhow!("malformed record on stdin: {why}"))
            .hint("pipe one JSON object with at least prompt, started_at, ended_at and status")
    })?;
    // Teammates refuse to fetch a run with a record over the shared cap (store/check.rs): do
    // not write one. The 64 bytes leave room for the seq, run id and path still to be filled.
    let cap = Caps::default().record;
    let stored = record.to_line().len() as u64 + 64 + args.run.len() as u64;
    if stored > cap {
        return Err(CliError::user(anyhow!(
            "the record would be {stored} bytes once stored; a record may be at most {cap} bytes"
        ))
        .hint("shorten the summary: remotes refuse runs whose records are over the cap"));
    }
    let mut transcript_file = match &args.transcript {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| {
                CliError::user(anyhow!("cannot read transcript file {}: {e}", p.display()))
            })?;
            // NB: opening a directory succeeds; reading it fails only later, inside git.
            if f.metadata().is_ok_and(|m| !m.is_file()) {
                return Err(
                    CliError::user(anyhow!("transcript {} is not a file", p.display()))
                        .hint("give --transcript the session's log file"),
                );
            }
            Some(redacted_copy(&redactor, f, p)?)
        }
        None => None,
    };
    with_store(ctx, |store| {
        let id = if args.create {
            let id = RunId::parse(&args.run)?;
            // Exit 4 promises nothing was written: refuse what the append would refuse before
            // creating the run, or a refused record leaves an empty run behind.
            let transcript_len = (transcript_file.as_ref())
                .and_then(|f| f.metadata().ok())
                .map_or(0, |m| m.len());
            check_append(&id, &record, transcript_len)?;
            match store.create_run(RunMeta::minimal(id.clone(), ctx.clock.now())) {
                Ok(_) | Err(StoreError::RunExists(_)) => id,
                Err(e) => return Err(CliError::from(e)),
            }
        } else {
            open_run(store, &args.run)?.id
        };
        // The size is known, so git takes the bytes straight into the object (and reports a
        // full disk as that; see `Repo::write_blob_sized`).
        let transcript = transcript_file
            .take()
            .map_or(TranscriptSource::Empty, TranscriptSource::Opened);
        let appended = store.append_session(
            &id,
            SessionAppend {
                record,
                transcript,
                scratchpad: None,
                patch: None,
                scheduler: None,
                state_extra: Default::default(),
            },
        )?;
        let mut out = ui::stdout();
        writeln!(out, "{}", appended.seq)?;
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// The transcript redacted into an unnamed temporary file (removed when closed), read from its
/// start: the store takes it as an open file of known size.
fn redacted_copy(
    redactor: &Redactor,
    mut f: std::fs::File,
    path: &std::path::Path,
) -> CliResult<std::fs::File> {
    use std::io::{Seek, SeekFrom};
    let failed = |e: std::io::Error| {
        CliError::user(anyhow!(
            "cannot read transcript file {}: {e}",
            path.display()
        ))
    };
    let mut tmp = tempfile::tempfile()
        .map_err(|e| CliError::internal(anyhow!("cannot make a temporary file: {e}")))?;
    redact_copy(redactor, &mut f, &mut tmp).map_err(failed)?;
    tmp.seek(SeekFrom::Start(0)).map_err(failed)?;
    Ok(tmp)
}

/// One JSON object, its strings redacted; `seq`, `run_id` and `transcript_path` default to
/// "assign".
fn parse_input(input: &str, redactor: &Redactor) -> Result<crate::store::SessionRecord, String> {
    let mut v: serde_json::Value = serde_json::from_str(input.trim()).map_err(|e| e.to_string())?;
    let obj = v.as_object_mut().ok_or("expected a JSON object")?;
    match obj.get("seq") {
        None | Some(serde_json::Value::Null) => {
            obj.insert("seq".into(), 0.into());
        }
        Some(s) if s.as_u64() == Some(0) => {
            return Err("field `seq`: must be 1 or more (or left out to take the next one)".into());
        }
        _ => {}
    }
    for key in ["run_id", "transcript_path"] {
        if matches!(obj.get(key), None | Some(serde_json::Value::Null)) {
            obj.insert(key.into(), "".into());
        }
    }
    redactor.redact_json(&mut v);
    parse_record(&v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_input_plain(input: &str) -> Result<crate::store::SessionRecord, String> {
        parse_input(input, &Redactor::default())
    }

    #[test]
    fn defaults_and_errors() {
        let r = parse_input_plain(r#"{"prompt":"p","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z","status":"ok"}"#).unwrap();
        assert_eq!(r.seq, 0);
        assert_eq!(r.run_id, "");
        let e = parse_input_plain(r#"{"seq":0,"prompt":"p"}"#).unwrap_err();
        assert!(e.contains("seq"), "{e}");
        let e = parse_input_plain(r#"{"prompt":"p","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z","status":"meh"}"#).unwrap_err();
        assert!(e.contains("status"), "{e}");
        let e = parse_input_plain("[1]").unwrap_err();
        assert!(e.contains("object"), "{e}");
        let e = parse_input_plain("{nope").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
    }
}
