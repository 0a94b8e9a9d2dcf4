//! The store's own rules for what a run may hold: one validator for every door a session comes
//! in by (`record`, `import`, the grind loop's append, and `fetch` from a remote).
//!
//! Before these rules lived only in the incoming checks of `fetch` (`check.rs`), so `record`
//! and `import` wrote runs that every teammate's `fetch` then refused: a seq of 2^64−1 (whose
//! next seq wraps to 0), transcripts and scratchpads over the caps, negative costs, sessions
//! that end before they start, commits that are not object ids. Writers now call
//! [`check_session`] per record and [`check_blob_size`] per blob, and the incoming checks call
//! the same two functions, so what one clone writes another accepts.

use super::StoreError;
use super::check::Caps;
use super::id::RunId;
use super::record::SessionRecord;

/// The largest seq a session may have. One less than `u64::MAX`, so that "the next seq" of any
/// valid run is still a number (it would wrap to 0 and write `sessions/00/0000.jsonl`).
pub(crate) const MAX_SEQ: u64 = u64::MAX - 1;

/// What kind of blob of a run a size is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlobKind {
    /// One session record (`sessions/…/<seq>.jsonl`).
    Record,
    Transcript,
    Patch,
    /// `run.json` or `state.json`.
    Meta,
    Scratchpad,
}

impl BlobKind {
    fn name(self) -> &'static str {
        match self {
            BlobKind::Record => "record",
            BlobKind::Transcript => "transcript",
            BlobKind::Patch => "patch",
            BlobKind::Meta => "run file",
            BlobKind::Scratchpad => "scratchpad",
        }
    }

    pub(crate) fn cap(self, caps: &Caps) -> u64 {
        match self {
            BlobKind::Record => caps.record,
            BlobKind::Transcript => caps.transcript,
            BlobKind::Patch => caps.patch,
            BlobKind::Meta => caps.meta,
            BlobKind::Scratchpad => caps.scratchpad,
        }
    }
}

/// Checks a blob's size against its cap; the error says which blob, its size and the cap.
pub(crate) fn check_blob_size(kind: BlobKind, size: u64, caps: &Caps) -> Result<(), String> {
    let cap = kind.cap(caps);
    if size > cap {
        return Err(format!(
            "the {} is {}, over the {} cap",
            kind.name(),
            mib(size),
            mib(cap)
        ));
    }
    Ok(())
}

/// The refusals of an append of `record` (with a transcript of `transcript_len` bytes) to run
/// `id`, checked before anything is written: a record of another run, a record or transcript
/// that breaks the rules above. `record --create` asks first, so a refused record never leaves
/// an empty run behind.
pub(crate) fn check_append(
    id: &RunId,
    record: &SessionRecord,
    transcript_len: u64,
) -> Result<(), StoreError> {
    if !record.run_id.is_empty() && record.run_id != id.as_str() {
        return Err(StoreError::RunMismatch {
            run: id.clone(),
            record_run: record.run_id.clone(),
        });
    }
    let invalid = |why| StoreError::Invalid {
        run: id.clone(),
        seq: record.seq,
        why,
    };
    check_session(record).map_err(invalid)?;
    // The store keeps the transcript's bytes as they are, so the file's size is the blob's.
    check_blob_size(BlobKind::Transcript, transcript_len, &Caps::default()).map_err(invalid)
}

/// Checks one session record against the store's rules. `seq` 0 ("the next seq") is accepted
/// here: the store assigns it. The error names the field and what is wrong with it.
pub(crate) fn check_session(r: &SessionRecord) -> Result<(), String> {
    if r.seq > MAX_SEQ {
        return Err(format!(
            "field `seq`: {} is too large (at most {MAX_SEQ}, so the next seq does not wrap)",
            r.seq
        ));
    }
    let cost = r.usage.cost_usd;
    if !cost.is_finite() || cost < 0.0 {
        return Err(format!(
            "field `cost_usd`: {cost} is not a cost (it must be a number of dollars, 0 or more)",
        ));
    }
    if r.ended_at < r.started_at {
        return Err(format!(
            "field `ended_at`: {} is before `started_at` {}",
            super::rfc3339::format(&r.ended_at),
            super::rfc3339::format(&r.started_at)
        ));
    }
    if let Some(c) = &r.unread_commit
        && !is_object_id(c)
    {
        return Err(format!(
            "field `commit`: {c:?} is not a full commit id (40 lowercase hex digits)"
        ));
    }
    Ok(())
}

/// A full object id as git writes it: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub(super) fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::parse_record;

    fn record(edit: impl FnOnce(&mut serde_json::Value)) -> SessionRecord {
        let mut v = serde_json::json!({
            "seq": 3, "run_id": "r", "prompt": "p",
            "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:01Z",
            "status": "ok", "commit": "0123456789abcdef0123456789abcdef01234567",
            "cost_usd": 0.5
        });
        edit(&mut v);
        parse_record(&v.to_string()).unwrap()
    }

    #[test]
    fn a_good_record_passes() {
        assert_eq!(check_session(&record(|_| {})), Ok(()));
        // A string "null" is not an id; JSON null is "no commit".
        assert!(check_session(&record(|v| v["commit"] = "null".into())).is_err());
        assert_eq!(
            check_session(&record(|v| v["commit"] = serde_json::Value::Null)),
            Ok(())
        );
        assert_eq!(
            check_session(&record(|v| v["seq"] = MAX_SEQ.into())),
            Ok(())
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        type Edit = fn(&mut serde_json::Value);
        let cases: [(Edit, &str); 5] = [
            (|v| v["seq"] = u64::MAX.into(), "`seq`"),
            (|v| v["cost_usd"] = (-0.01).into(), "`cost_usd`"),
            (
                |v| v["ended_at"] = "2025-12-31T23:59:59Z".into(),
                "`ended_at`",
            ),
            (|v| v["commit"] = "not-a-sha".into(), "`commit`"),
            (
                |v| v["commit"] = "0123456789ABCDEF0123456789ABCDEF01234567".into(),
                "`commit`",
            ),
        ];
        for (edit, field) in cases {
            let why = check_session(&record(edit)).unwrap_err();
            assert!(why.contains(field), "{why}");
        }
    }

    #[test]
    fn blob_caps() {
        let caps = Caps::default();
        assert!(check_blob_size(BlobKind::Transcript, 64 << 20, &caps).is_ok());
        let why = check_blob_size(BlobKind::Transcript, (64 << 20) + 1, &caps).unwrap_err();
        assert!(
            why.contains("transcript") && why.contains("64.0 MiB"),
            "{why}"
        );
        assert!(check_blob_size(BlobKind::Scratchpad, (16 << 20) + 1, &caps).is_err());
    }
}
