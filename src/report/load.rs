//! What the page is made of, read from the run store: each run with the status a reader shows
//! (`interrupted` for a running run whose grind is gone, as `ls` and `show` say it), its
//! records, the transcripts the page carries and its per-prompt yield against the target; then
//! the page. The one call `report --html` makes; the rest of this module stays pure.

use std::collections::BTreeMap;

use super::{ReportError, ReportOptions, RunInput, render, wanted_transcripts};
use crate::provenance::{Group, GroupBy, Index, IndexOptions, StatsOptions, Target, reach, stats};
use crate::rundir::interrupted;
use crate::store::{Run, RunStore, SessionRecord};

/// The page, with what it holds.
#[derive(Debug)]
pub(crate) struct Page {
    pub html: String,
    pub runs: usize,
    pub sessions: usize,
}

/// One run as read for the page.
struct Loaded {
    run: Run,
    records: Vec<SessionRecord>,
    transcripts: BTreeMap<u64, Vec<u8>>,
    yields: Vec<Group>,
}

/// The page about `runs`, whose yield figures judge reaching `target` (each run's base branch
/// when `None`).
pub(crate) fn page(
    store: &RunStore<'_>,
    runs: Vec<Run>,
    target: Option<&str>,
    opts: &ReportOptions,
) -> Result<Page, ReportError> {
    let mut index = Index::load(store, &IndexOptions::default())?;
    let judged = match target {
        Some(t) => Target::Rev(t.to_string()),
        None => Target::BaseBranch,
    };
    let verdicts = reach::judge(store.repo(), &mut index, &judged, false)?;
    index.save();
    let mut loaded = Vec::new();
    for run in runs {
        let run = as_shown(store, run);
        let records = store.records(&run)?;
        let mut transcripts = BTreeMap::new();
        for seq in wanted_transcripts(&records, opts) {
            if let Some(oid) = store.transcript_blob(&run, seq)? {
                let raw = store.with_blob(oid, <[u8]>::to_vec)?;
                transcripts.insert(seq, raw);
            }
        }
        let only_this_run = StatsOptions {
            by: GroupBy::Prompt,
            runs: vec![run.id.to_string()],
            ..StatsOptions::default()
        };
        let yields = stats::compute(&index, &verdicts, &only_this_run).groups;
        loaded.push(Loaded {
            run,
            records,
            transcripts,
            yields,
        });
    }
    let inputs: Vec<RunInput<'_>> = loaded
        .iter()
        .map(|l| RunInput {
            meta: &l.run.meta,
            state: &l.run.state,
            records: &l.records,
            transcripts: &l.transcripts,
            yields: &l.yields,
            target,
        })
        .collect();
    Ok(Page {
        html: render(&inputs, opts)?,
        runs: loaded.len(),
        sessions: loaded.iter().map(|l| l.records.len()).sum(),
    })
}

/// The run with the status a reader shows: `interrupted`, with the command that takes it up,
/// for a running run whose grind is gone.
fn as_shown(store: &RunStore<'_>, mut run: Run) -> Run {
    let shown = interrupted::shown_status(store, &run.id, &run.state.status);
    if shown != run.state.status {
        run.state.stop_reason = Some(interrupted::resume_note(&run.id));
        run.state.status = shown;
    }
    run
}
