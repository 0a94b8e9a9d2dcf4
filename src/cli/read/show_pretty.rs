//! `git pitboss show <run> <seq> --pretty`: a session's transcript read by the reader of the
//! agent that wrote it (the record's `agent`, else the run's), printed by [`super::pretty`].
//! `--transcript` (in `show.rs`) stays the stored bytes.

use std::io::Write;

use crate::agent::readable::{self, Backend, Entry};
use crate::cli::resolve::{open_run, with_store};
use crate::cli::ui;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::store::{RunId, StoreError};

pub(crate) fn cmd_show_pretty(ctx: &Ctx, run: &str, seq: u64) -> CliResult {
    with_store(ctx, |store| {
        let run = open_run(store, run)?;
        let record = store.record(&run, seq)?.ok_or_else(|| {
            CliError::user(StoreError::SessionNotFound {
                run: run.id.clone(),
                seq,
            })
            .hint(format!("`git pitboss log {}` lists its sessions", run.id))
        })?;
        let blob = store.transcript_blob(&run, seq)?;
        let raw = match blob {
            Some(oid) => store.with_blob(oid, <[u8]>::to_vec)?,
            None => Vec::new(),
        };
        let agent = record.agent.as_deref().or(run.meta.agent.as_deref());
        let mut entries = readable::entries(Backend::from_agent(agent), &raw);
        if entries.is_empty() {
            // Nothing at all printed, exit 0, read as "the command did not work" (issue 22).
            let by_agent = record.agent.is_some(); // recorded by grind, which keeps all it printed
            let text = nothing_to_show(blob.is_some(), raw.len(), by_agent, &run.id, seq);
            entries.push(Entry::Note { text });
        }
        let mut out = ui::stdout();
        super::pretty::write_entries(&mut out, &entries, ctx.ui.color_stdout)?;
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// What `--pretty` says of a session whose transcript holds nothing to show (a note, in the
/// style of the other pretty lines): none stored, an empty one (of an agent grind ran: it printed
/// nothing; of a record made otherwise, `record` without `--transcript`: no more is known), or
/// bytes no reader makes out.
fn nothing_to_show(stored: bool, bytes: usize, by_agent: bool, run: &RunId, seq: u64) -> String {
    match (stored, bytes) {
        (false, _) => "(no transcript is stored for this session)".to_string(),
        (true, 0) if by_agent => "(the transcript is empty: the agent printed nothing)".to_string(),
        (true, 0) => "(the transcript is empty)".to_string(),
        (true, n) => format!(
            "(nothing readable in the transcript's {n} bytes: `git pitboss show {run} {seq} \
             --transcript` prints them as stored)"
        ),
    }
}
