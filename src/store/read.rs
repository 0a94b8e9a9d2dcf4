//! Reading runs: open, resolve a prefix, list (one commit and one blob per run), records in
//! seq order, one record, transcripts, patches and the scratchpad.

use serde::Serialize;

use super::id::{RUN_REF_PREFIX, RunId, Seq, check_run_prefix};
use super::paths::{RUN_JSON, SCRATCHPAD, SESSIONS_DIR, STATE_JSON};
use super::record::{SessionRecord, parse_record};
use super::run::{Consumed, RunMeta, RunState, RunStatus};
use super::{Result, Run, RunStore, StoreError};
use crate::git::{Oid, TreeEntryKind};

/// One line of `git pitboss ls`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: RunId,
    pub status: RunStatus,
    pub stop_reason: Option<String>,
    pub sessions: u64,
    pub consumed: Consumed,
    #[serde(with = "super::record::rfc3339")]
    pub started_at: chrono::DateTime<chrono::Utc>,
    #[serde(with = "super::record::rfc3339")]
    pub last_activity: chrono::DateTime<chrono::Utc>,
    pub tip: String,
    /// The URL of the run's pull request (`git pitboss pr`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<String>,
}

/// A ref in our namespace that is not a readable run.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidRunRef {
    pub refname: String,
    pub why: String,
}

/// Every run of the repository, plus the refs that looked like runs but are not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunListing {
    pub runs: Vec<RunSummary>,
    pub invalid: Vec<InvalidRunRef>,
    /// Runs whose tip commit is missing (see `damage.rs`).
    pub damaged: Vec<super::DamagedRun>,
}

impl RunStore<'_> {
    /// Opens a run by its exact id.
    pub fn open_run(&self, id: &RunId) -> Result<Run> {
        let refname = id.ref_name();
        let tip = self
            .repo
            .ref_target(&refname)?
            .ok_or_else(|| StoreError::RunNotFound(id.to_string()))?;
        self.read_tip(id, &refname, tip)
    }

    pub(super) fn read_tip(&self, id: &RunId, refname: &str, tip: Oid) -> Result<Run> {
        let not_a_run = |why: String| StoreError::NotARun {
            refname: refname.to_string(),
            why,
        };
        let Some(commit) = self.repo.commit_info(tip)? else {
            return Err(self.damaged(id, refname, tip)?.unwrap_or_else(|| {
                not_a_run(format!("it points at {tip}, which is not a commit"))
            }));
        };
        let meta: RunMeta = self.read_json(commit.tree, RUN_JSON, id, &not_a_run)?;
        if meta.id != *id {
            return Err(not_a_run(format!("its {RUN_JSON} is for run {}", meta.id)));
        }
        let state: RunState = self.read_json(commit.tree, STATE_JSON, id, &not_a_run)?;
        Ok(Run {
            id: id.clone(),
            tip,
            meta,
            state,
        })
    }

    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        tree: Oid,
        path: &str,
        id: &RunId,
        not_a_run: &dyn Fn(String) -> StoreError,
    ) -> Result<T> {
        let Some((oid, TreeEntryKind::Blob)) = self.repo.tree_entry(tree, path)? else {
            return Err(not_a_run(format!("its tree has no {path}")));
        };
        self.repo
            .with_blob(oid, |b| serde_json::from_slice::<T>(b))?
            .map_err(|e| StoreError::CorruptRun {
                run: id.clone(),
                path: path.into(),
                why: e.to_string(),
            })
    }

    /// The tree of a run's tip.
    pub(crate) fn tip_tree(&self, run: &Run) -> Result<Oid> {
        match self.repo.commit_info(run.tip)? {
            Some(c) => Ok(c.tree),
            None => Err(StoreError::NotARun {
                refname: run.id.ref_name(),
                why: "its tip is not a commit".into(),
            }),
        }
    }

    /// Whether a run with exactly this id exists.
    pub fn exists(&self, id: &RunId) -> Result<bool> {
        Ok(self.repo.ref_target(&id.ref_name())?.is_some())
    }

    /// Resolves a full id or a unique prefix of one.
    pub fn resolve(&self, prefix: &str) -> Result<RunId> {
        check_run_prefix(prefix)?;
        if let Ok(id) = RunId::parse(prefix)
            && self.exists(&id)?
        {
            return Ok(id);
        }
        let mut matches: Vec<RunId> = self
            .repo
            .refs_with_prefix(&format!("{RUN_REF_PREFIX}{prefix}"))?
            .into_iter()
            .filter_map(|(name, _)| RunId::from_ref_name(&name).and_then(|r| r.ok()))
            .collect();
        match matches.len() {
            0 => Err(StoreError::RunNotFound(prefix.to_string())),
            1 => Ok(matches.remove(0)),
            _ => Err(StoreError::Ambiguous {
                prefix: prefix.to_string(),
                candidates: matches,
            }),
        }
    }

    /// The newest run (by start time), if any.
    pub fn latest(&self) -> Result<Option<RunSummary>> {
        Ok(self
            .list()?
            .runs
            .into_iter()
            .max_by_key(|r| (r.started_at, r.id.clone())))
    }

    /// Every run, reading only each tip commit's `state.json`, sorted by start time.
    pub fn list(&self) -> Result<RunListing> {
        let mut out = RunListing::default();
        for (refname, tip) in self.repo.refs_with_prefix(RUN_REF_PREFIX)? {
            let id = match RunId::from_ref_name(&refname) {
                Some(Ok(id)) => id,
                Some(Err(e)) => {
                    out.invalid.push(InvalidRunRef {
                        refname,
                        why: e.to_string(),
                    });
                    continue;
                }
                None => continue,
            };
            match self.summary_at(&id, &refname, tip) {
                Ok(s) => out.runs.push(s),
                Err(e @ (StoreError::NotARun { .. } | StoreError::CorruptRun { .. })) => {
                    out.invalid.push(InvalidRunRef {
                        refname,
                        why: e.to_string(),
                    })
                }
                Err(StoreError::Damaged(d)) => out.damaged.push(*d),
                Err(e) => return Err(e),
            }
        }
        out.runs.sort_by(|a, b| {
            a.started_at
                .cmp(&b.started_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    pub(super) fn summary_at(&self, id: &RunId, refname: &str, tip: Oid) -> Result<RunSummary> {
        let not_a_run = |why: String| StoreError::NotARun {
            refname: refname.to_string(),
            why,
        };
        let Some(commit) = self.repo.commit_info(tip)? else {
            return Err(self.damaged(id, refname, tip)?.unwrap_or_else(|| {
                not_a_run(format!("it points at {tip}, which is not a commit"))
            }));
        };
        let state: RunState = self.read_json(commit.tree, STATE_JSON, id, &not_a_run)?;
        Ok(RunSummary {
            id: id.clone(),
            pull_request: state.pull_request().map(|p| p.url),
            status: state.status,
            stop_reason: state.stop_reason,
            sessions: state.consumed.sessions,
            consumed: state.consumed,
            started_at: state.started_at,
            last_activity: state.last_updated_at,
            tip: tip.to_string(),
        })
    }

    /// The blob ids of every session record of a run, in seq order.
    pub(super) fn record_blobs(&self, run: &Run) -> Result<Vec<(Seq, String, Oid)>> {
        let tree = self.tip_tree(run)?;
        let Some((sessions, TreeEntryKind::Tree)) = self.repo.tree_entry(tree, SESSIONS_DIR)?
        else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (bucket, bucket_oid, kind) in self.repo.tree_list(sessions)? {
            if kind != TreeEntryKind::Tree {
                continue;
            }
            for (name, oid, kind) in self.repo.tree_list(bucket_oid)? {
                let path = format!("{SESSIONS_DIR}/{bucket}/{name}");
                let seq = Seq::from_record_file(&name).filter(|s| s.bucket() == bucket);
                match (seq, kind) {
                    (Some(seq), TreeEntryKind::Blob) => out.push((seq, path, oid)),
                    _ => {
                        return Err(StoreError::CorruptRecord {
                            run: run.id.clone(),
                            seq: seq.map_or(0, |s| s.0),
                            path,
                            why:
                                "not a session record file (expected sessions/<bucket>/<seq>.jsonl)"
                                    .into(),
                        });
                    }
                }
            }
        }
        // Readers sort by the parsed number, never by path.
        out.sort_by_key(|(seq, _, _)| *seq);
        Ok(out)
    }

    /// Every record of a run, in seq order. A corrupt record is an error naming run, seq, path.
    pub fn records(&self, run: &Run) -> Result<Vec<SessionRecord>> {
        let mut out = Vec::new();
        self.for_each_record(run, |r, _| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with each record and its stored line, in seq order, without collecting them.
    pub fn for_each_record(
        &self,
        run: &Run,
        mut f: impl FnMut(SessionRecord, &str) -> Result<()>,
    ) -> Result<()> {
        for (seq, path, oid) in self.record_blobs(run)? {
            let (record, line) = self.parse_record_blob(run, seq, &path, oid)?;
            f(record, &line)?;
        }
        Ok(())
    }

    pub(super) fn parse_record_blob(
        &self,
        run: &Run,
        seq: Seq,
        path: &str,
        oid: Oid,
    ) -> Result<(SessionRecord, String)> {
        let corrupt = |why: String| StoreError::CorruptRecord {
            run: run.id.clone(),
            seq: seq.0,
            path: path.to_string(),
            why,
        };
        let bytes = self.repo.read_blob(oid)?;
        let text = String::from_utf8(bytes).map_err(|_| corrupt("not UTF-8".into()))?;
        let line = text.strip_suffix('\n').unwrap_or(&text);
        if line.contains('\n') {
            return Err(corrupt("more than one line".into()));
        }
        let record = parse_record(line).map_err(corrupt)?;
        if record.seq != seq.0 {
            return Err(corrupt(format!("the record says seq {}", record.seq)));
        }
        Ok((record, line.to_string()))
    }

    /// One record, `None` when the run has no such session.
    pub fn record(&self, run: &Run, seq: u64) -> Result<Option<SessionRecord>> {
        let tree = self.tip_tree(run)?;
        let path = Seq(seq).record_path();
        match self.repo.tree_entry(tree, &path)? {
            Some((oid, TreeEntryKind::Blob)) => {
                Ok(Some(self.parse_record_blob(run, Seq(seq), &path, oid)?.0))
            }
            _ => Ok(None),
        }
    }

    /// The blob of a session's transcript, `None` when there is none.
    pub fn transcript_blob(&self, run: &Run, seq: u64) -> Result<Option<Oid>> {
        self.blob_at(run, &Seq(seq).transcript_path())
    }

    /// The blob of a session's saved patch, `None` when its work was merged (or there was none).
    pub fn patch_blob(&self, run: &Run, seq: u64) -> Result<Option<Oid>> {
        self.blob_at(run, &Seq(seq).patch_path())
    }

    pub(super) fn blob_at(&self, run: &Run, path: &str) -> Result<Option<Oid>> {
        let tree = self.tip_tree(run)?;
        Ok(match self.repo.tree_entry(tree, path)? {
            Some((oid, TreeEntryKind::Blob)) => Some(oid),
            _ => None,
        })
    }

    /// The agents' shared notes as of the tip.
    pub fn scratchpad(&self, run: &Run) -> Result<String> {
        match self.blob_at(run, SCRATCHPAD)? {
            Some(oid) => Ok(String::from_utf8_lossy(&self.repo.read_blob(oid)?).into_owned()),
            None => Ok(String::new()),
        }
    }

    /// Calls `f` with the bytes of a blob (transcripts can be large: no copy).
    pub fn with_blob<T>(&self, oid: Oid, f: impl FnOnce(&[u8]) -> T) -> Result<T> {
        Ok(self.repo.with_blob(oid, f)?)
    }
}
