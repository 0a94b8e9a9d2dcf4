//! Where the dashboard's data comes from: the run ref (records, run status) and, while a grind
//! runs here, its events file and the live session's transcript. Each [`Source::poll`] costs a
//! `stat` of the events file and a read of the run ref when nothing changed: no subprocess, no
//! history walk. Records are read once: at open, all of them (a 10,000-session run in well
//! under a second), then only the seqs a new tip adds.

use super::follow::Follower;
use super::model::Dashboard;
use crate::git::Oid;
use crate::rundir::RunDir;
use crate::store::{Run, RunId, RunStore, StoreError};

/// Most of a transcript shown: its tail, when it is longer.
pub(crate) const TRANSCRIPT_TAIL: usize = 256 << 10;

/// A run being watched.
pub struct Source<'s> {
    store: &'s RunStore<'s>,
    id: RunId,
    refname: String,
    run: Run,
    events: Follower,
    run_dir: RunDir,
}

impl<'s> Source<'s> {
    /// Reads the run and every record, and the events file when there is one.
    pub fn open(
        store: &'s RunStore<'s>,
        id: &RunId,
    ) -> Result<(Source<'s>, Dashboard), StoreError> {
        let run = store.open_run(id)?;
        let mut d = Dashboard::default();
        let run_dir = RunDir::new(store.repo().common_dir(), id);
        let mut src = Source {
            store,
            id: id.clone(),
            refname: id.ref_name(),
            run,
            events: Follower::new(&run_dir.events()),
            run_dir,
        };
        store.for_each_record(&src.run, |r, _| {
            d.done.insert(r.seq, r);
            Ok(())
        })?;
        if d.model.is_none() {
            d.model = d.done.values().rev().find_map(|r| r.model.clone());
        }
        d.set_run(&src.run);
        src.poll(&mut d)?;
        Ok((src, d))
    }

    pub fn id(&self) -> &RunId {
        &self.id
    }

    /// Folds in what changed since the last poll; returns whether anything did.
    pub fn poll(&mut self, d: &mut Dashboard) -> Result<bool, StoreError> {
        let mut changed = false;
        // A missing or unreadable events file only means no live view.
        if let Ok(p) = self.events.poll() {
            if p.restarted {
                changed = true;
            }
            for line in &p.lines {
                changed |= d.apply_line(line);
            }
        }
        let tip: Option<Oid> = self.store.repo().ref_target(&self.refname)?;
        if let Some(tip) = tip
            && tip != self.run.tip
        {
            self.run = self.store.open_run(&self.id)?;
            let have = d.done.keys().next_back().copied().unwrap_or(0);
            for seq in have + 1..=self.run.state.last_session_seq {
                if let Some(r) = self.store.record(&self.run, seq)? {
                    d.add_record(r);
                }
            }
            d.set_run(&self.run);
            if d.status != "running" {
                d.live.clear();
            }
            changed = true;
        }
        Ok(changed)
    }

    /// Where a running session's live transcript is: in the run's working directory, or in
    /// its slot's (`slot-<k>/`) for a session of a parallel run.
    fn live_log(&self, seq: u64, slot: Option<u32>) -> std::path::PathBuf {
        crate::rundir::session::log(&self.run_dir.session_dir(slot), seq)
    }

    /// The transcript of session `seq`: the live file while it runs (`live`: its slot, if
    /// any), else the one the run ref holds (its tail past [`TRANSCRIPT_TAIL`]). `None` when
    /// there is none.
    pub fn transcript(
        &self,
        seq: u64,
        live: Option<Option<u32>>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(slot) = live {
            let path = self.live_log(seq, slot);
            if let Ok(b) = read_tail(&path) {
                return Ok(Some(b));
            }
        }
        match self.store.transcript_blob(&self.run, seq)? {
            Some(oid) => Ok(Some(self.store.with_blob(oid, |b| tail(b).to_vec())?)),
            None => Ok(None),
        }
    }

    /// The live transcript's size and change time, to tell whether to read it again.
    pub fn live_stamp(&self, seq: u64, slot: Option<u32>) -> Option<(u64, std::time::SystemTime)> {
        let m = std::fs::metadata(self.live_log(seq, slot)).ok()?;
        Some((m.len(), m.modified().ok()?))
    }
}

fn tail(b: &[u8]) -> &[u8] {
    &b[b.len().saturating_sub(TRANSCRIPT_TAIL)..]
}

fn read_tail(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(TRANSCRIPT_TAIL as u64)))?;
    let mut b = Vec::new();
    f.read_to_end(&mut b)?;
    Ok(b)
}
