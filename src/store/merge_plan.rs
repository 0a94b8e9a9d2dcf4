//! Where every session goes when two diverged tips of one run are reconciled: a pure function
//! of the two sides' sessions, so both machines compute the same placement whoever merges
//! (and in whichever order the sides are given).
//!
//! The rule (docs/sharing.md, "Diverged runs"):
//!
//! - A session is identified by its content, not its number: the record with `seq`,
//!   `transcript_path` and `renumbered_from` left out, its transcript and patch blobs, and its
//!   original seq (`renumbered_from`, or its seq if it was never moved). Sessions with the
//!   same identity on both sides are one session (the common history, or a merge both sides
//!   already have), never a duplicate.
//! - A session found at two seqs (a merge on one side already renumbered it) goes to the higher
//!   one: renumbering only ever moves a session up, so the higher seq is the later decision.
//! - When different sessions want the same seq, the one that started first keeps it (ties:
//!   ended first, then the smaller record blob id). The others move to fresh seqs above every
//!   seq either side has used, in the order (old seq, start, end, record blob id), and their
//!   record gains `renumbered_from: <original seq>`.

use std::collections::BTreeMap;

use super::record::SessionRecord;
use super::record_line::RENUMBERED_FROM;
use crate::git::Oid;

/// One session of one side, as found in its tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SideSession {
    pub seq: u64,
    pub record: SessionRecord,
    pub record_blob: Oid,
    pub transcript: Option<Oid>,
    pub patch: Option<Oid>,
}

impl SideSession {
    /// The seq this session was first recorded under.
    fn original_seq(&self) -> u64 {
        self.record.renumbered_from.unwrap_or(self.seq)
    }

    /// What makes two sessions the same session, whatever number they carry.
    pub(super) fn identity(&self) -> (u64, String) {
        let mut v = serde_json::to_value(&self.record)
            .expect("our own plain data always serialises to JSON");
        if let Some(o) = v.as_object_mut() {
            for k in ["seq", "transcript_path", RENUMBERED_FROM] {
                o.remove(k);
            }
        }
        // serde_json's map is ordered by key, so this text is canonical.
        let key = format!(
            "{v}|{}|{}",
            self.transcript.map(|o| o.to_string()).unwrap_or_default(),
            self.patch.map(|o| o.to_string()).unwrap_or_default()
        );
        (self.original_seq(), key)
    }

    /// Who keeps a contested seq: the earlier start, then end, then blob id.
    fn order_key(
        &self,
    ) -> (
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
        Oid,
    ) {
        (
            self.record.started_at,
            self.record.ended_at,
            self.record_blob,
        )
    }
}

/// A session's place in the merged run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placed {
    pub seq: u64,
    pub session: SideSession,
    /// Set when the session moved: the seq it had on its side.
    pub moved_from: Option<u64>,
}

impl Placed {
    /// The record as it is stored at its new place: `seq`, the canonical transcript path when
    /// it had the canonical one, and `renumbered_from` (kept from an earlier move if any).
    pub(crate) fn record(&self) -> SessionRecord {
        let mut r = self.session.record.clone();
        if let Some(old) = self.moved_from {
            let old_path = super::id::Seq(old).record_transcript_path();
            if r.transcript_path == old_path {
                r.transcript_path = super::id::Seq(self.seq).record_transcript_path();
            }
            r.seq = self.seq;
            let original = self.session.original_seq();
            // NB: a `renumbered_from` of a shape we do not read stays as it is, as it always has.
            if r.renumbered_from.is_none() && !r.extra.contains_key(RENUMBERED_FROM) {
                r.renumbered_from = Some(original);
            }
        }
        r
    }
}

/// Places the union of two sides' sessions (see the module comment). Sorted by seq; the
/// result does not depend on which side is `a`.
pub(crate) fn plan_union(a: &[SideSession], b: &[SideSession]) -> Vec<Placed> {
    // Every instance of every identity.
    let mut by_identity: BTreeMap<(u64, String), Vec<&SideSession>> = BTreeMap::new();
    for s in a.iter().chain(b) {
        by_identity.entry(s.identity()).or_default().push(s);
    }
    // One instance per identity, at its highest seq (the smaller blob id among equals there).
    let mut wanted: BTreeMap<u64, Vec<&SideSession>> = BTreeMap::new();
    for instances in by_identity.values() {
        let pick = instances
            .iter()
            .max_by(|x, y| x.seq.cmp(&y.seq).then(y.record_blob.cmp(&x.record_blob)))
            .expect("an identity has at least one instance");
        wanted.entry(pick.seq).or_default().push(pick);
    }
    let mut next = a.iter().chain(b).map(|s| s.seq).max().unwrap_or(0) + 1;
    let mut placed = Vec::new();
    let mut displaced = Vec::new();
    for (seq, mut contenders) in wanted {
        contenders.sort_by_key(|s| s.order_key());
        let mut it = contenders.into_iter();
        if let Some(first) = it.next() {
            placed.push(Placed {
                seq,
                session: first.clone(),
                moved_from: None,
            });
        }
        displaced.extend(it);
    }
    displaced.sort_by_key(|s| (s.seq, s.order_key()));
    for s in displaced {
        placed.push(Placed {
            seq: next,
            session: s.clone(),
            moved_from: Some(s.seq),
        });
        next += 1;
    }
    placed.sort_by_key(|p| p.seq);
    placed
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::store::record::parse_record;

    /// A session at `seq` whose content is `tag`, started at minute `start`.
    fn s(seq: u64, tag: &str, start: u32) -> SideSession {
        let line = format!(
            r#"{{"seq":{seq},"run_id":"r","prompt":"{tag}","started_at":"2026-01-01T00:{start:02}:00Z","ended_at":"2026-01-01T00:{start:02}:30Z","status":"ok","transcript_path":"transcripts/session-{seq:04}.log"}}"#
        );
        let record = parse_record(&line).unwrap();
        SideSession {
            seq,
            record_blob: Oid::from_str(&crate::git::blob_id(line.as_bytes())).unwrap(),
            record,
            transcript: None,
            patch: None,
        }
    }

    fn layout(p: &[Placed]) -> Vec<(u64, String, Option<u64>)> {
        p.iter()
            .map(|p| (p.seq, p.session.record.prompt.clone(), p.moved_from))
            .collect()
    }

    #[test]
    fn shared_history_is_not_duplicated_and_new_sessions_join() {
        let a = vec![s(1, "x", 1), s(2, "y", 2), s(3, "a3", 3)];
        let b = vec![s(1, "x", 1), s(2, "y", 2)];
        let p = plan_union(&a, &b);
        assert_eq!(
            layout(&p),
            vec![
                (1, "x".into(), None),
                (2, "y".into(), None),
                (3, "a3".into(), None)
            ]
        );
    }

    #[test]
    fn a_contested_seq_goes_to_the_earlier_start_and_the_other_moves_up() {
        let a = vec![s(1, "x", 1), s(2, "late", 9), s(3, "a3", 10)];
        let b = vec![s(1, "x", 1), s(2, "early", 5)];
        let p = plan_union(&a, &b);
        assert_eq!(
            layout(&p),
            vec![
                (1, "x".into(), None),
                (2, "early".into(), None),
                (3, "a3".into(), None),
                (4, "late".into(), Some(2)),
            ]
        );
        let moved = p[3].record();
        assert_eq!(moved.seq, 4);
        assert_eq!(moved.transcript_path, "transcripts/session-0004.log");
        assert_eq!(moved.renumbered_from, Some(2));
        // The same whichever side comes first.
        assert_eq!(plan_union(&b, &a), p);
    }

    #[test]
    fn identical_content_at_different_seqs_on_one_side_is_two_sessions() {
        // `record` of the same JSON twice: same content, different seqs. Both stay.
        let mut one = s(1, "same", 1);
        let mut two = s(2, "same", 1);
        one.record.transcript_path.clear();
        two.record.transcript_path.clear();
        let p = plan_union(&[one.clone(), two.clone()], &[one]);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn a_merge_already_made_elsewhere_is_followed() {
        // Base 1; A appended "a2"; B appended "b2" (started later) and "b3".
        // Someone merged A and B's first session: a2 at 2, b2 moved to 3.
        let base = s(1, "x", 1);
        let b_side = vec![base.clone(), s(2, "b2", 5), s(3, "b3", 6)];
        let merged = plan_union(&[base.clone(), s(2, "a2", 2)], &b_side[..2]);
        let merged: Vec<SideSession> = merged
            .iter()
            .map(|p| {
                let mut side = p.session.clone();
                side.record = p.record();
                side.seq = p.seq;
                side
            })
            .collect();
        assert_eq!(merged[2].record.prompt, "b2");
        assert_eq!(merged[2].seq, 3);
        // Now B (with b3 at 3) meets that merge: b2 is one session (moved to 3), b3 moves on.
        let p = plan_union(&merged, &b_side);
        assert_eq!(
            layout(&p),
            vec![
                (1, "x".into(), None),
                (2, "a2".into(), None),
                (3, "b2".into(), None),
                (4, "b3".into(), Some(3)),
            ]
        );
        assert_eq!(p[2].record().renumbered_from, Some(2));
        assert_eq!(plan_union(&b_side, &merged), p);
    }

    #[test]
    fn many_collisions_get_consecutive_fresh_seqs() {
        let a: Vec<_> = (1..=5).map(|i| s(i, &format!("a{i}"), i as u32)).collect();
        let b: Vec<_> = (1..=5)
            .map(|i| s(i, &format!("b{i}"), 30 + i as u32))
            .collect();
        let p = plan_union(&a, &b);
        assert_eq!(p.len(), 10);
        let seqs: Vec<u64> = p.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
        assert!(
            p[..5]
                .iter()
                .all(|p| p.session.record.prompt.starts_with('a'))
        );
        assert_eq!(p[5].moved_from, Some(1));
        assert_eq!(plan_union(&b, &a), p);
    }
}
