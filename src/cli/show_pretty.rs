//! `git pitboss show <run> <seq> --pretty`: a session's transcript read by the reader of the
//! agent that wrote it (the record's `agent`, else the run's), printed by [`super::pretty`].
//! `--transcript` (in `show.rs`) stays the stored bytes.

use std::io::Write;

use super::resolve::{open_run, with_store};
use super::ui;
use crate::agent::readable::{self, Backend};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::store::StoreError;

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
        let raw = match store.transcript_blob(&run, seq)? {
            Some(oid) => store.with_blob(oid, <[u8]>::to_vec)?,
            None => Vec::new(),
        };
        let agent = record.agent.as_deref().or(run.meta.agent.as_deref());
        let entries = readable::entries(Backend::from_agent(agent), &raw);
        let mut out = ui::stdout();
        super::pretty::write_entries(&mut out, &entries, ctx.ui.color_stdout)?;
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}
