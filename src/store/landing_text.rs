//! How a session's landing reads to a person: the one line `show`, `log --md` and the HTML
//! report print, and the compact mark `log` puts on a session that did not land. Kept in one
//! place so every view says it the same way (and `--json` keeps the typed object).

use super::landing::{Landing, LandingResult};

/// Commit ids are shown at the length `show` uses for the run ref's tip.
const SHORT: usize = 12;

fn short(id: &str) -> &str {
    id.get(..SHORT).unwrap_or(id)
}

impl Landing {
    /// `landed onto 0123456789ab: 2 commits (89abcdef0123, 456789abcdef)`, or for a conflict
    /// `conflict onto 0123456789ab: src/a.rs, src/b.rs (collided with sessions 2, 3)`.
    /// Not escaped: the caller escapes for its medium.
    pub fn describe(&self) -> String {
        let mut s = format!("{} onto {}", self.result.as_str(), short(&self.onto));
        if !self.commits.is_empty() {
            let ids: Vec<&str> = self.commits.iter().map(|c| short(c)).collect();
            let n = ids.len();
            let noun = if n == 1 { "commit" } else { "commits" };
            s.push_str(&format!(": {n} {noun} ({})", ids.join(", ")));
        }
        if !self.files.is_empty() {
            s.push_str(&format!(": {}", self.files.join(", ")));
        }
        if !self.drivers.is_empty() {
            let each: Vec<String> = self
                .drivers
                .iter()
                .map(|d| format!("{} by merge={}", d.path, d.driver))
                .collect();
            s.push_str(&format!(
                " (overlapping edits resolved: {})",
                each.join(", ")
            ));
        }
        if !self.collided_with.is_empty() {
            let seqs: Vec<String> = self.collided_with.iter().map(u64::to_string).collect();
            let noun = if seqs.len() == 1 {
                "session"
            } else {
                "sessions"
            };
            s.push_str(&format!(" (collided with {noun} {})", seqs.join(", ")));
        }
        s
    }

    /// The mark `log` shows for a session whose work was kept off the run branch by its
    /// landing: `None` when it landed, or when there was nothing to land (its status says why).
    pub fn mark(&self) -> Option<&'static str> {
        match self.result {
            LandingResult::Conflict | LandingResult::VerifyFailed => Some(self.result.as_str()),
            LandingResult::Landed | LandingResult::Nothing => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn landing(result: LandingResult) -> Landing {
        Landing {
            result,
            onto: "0123456789abcdef0123456789abcdef01234567".into(),
            commits: Vec::new(),
            files: Vec::new(),
            collided_with: Vec::new(),
            drivers: Vec::new(),
        }
    }

    #[test]
    fn each_result_reads_in_one_line() {
        let mut l = landing(LandingResult::Landed);
        l.commits = vec!["89abcdef0123456789abcdef0123456789abcdef".into()];
        assert_eq!(
            l.describe(),
            "landed onto 0123456789ab: 1 commit (89abcdef0123)"
        );
        assert_eq!(l.mark(), None);
        l.commits
            .push("456789abcdef0123456789abcdef0123456789ab".into());
        assert!(
            l.describe()
                .ends_with(": 2 commits (89abcdef0123, 456789abcdef)")
        );
        let mut c = landing(LandingResult::Conflict);
        c.files = vec!["src/a.rs".into(), "src/b.rs".into()];
        c.collided_with = vec![2, 3];
        assert_eq!(
            c.describe(),
            "conflict onto 0123456789ab: src/a.rs, src/b.rs (collided with sessions 2, 3)"
        );
        assert_eq!(c.mark(), Some("conflict"));
        c.collided_with = vec![5];
        assert!(c.describe().ends_with("(collided with session 5)"));
        let v = landing(LandingResult::VerifyFailed);
        assert_eq!(v.describe(), "verify_failed onto 0123456789ab");
        assert_eq!(v.mark(), Some("verify_failed"));
        let n = landing(LandingResult::Nothing);
        assert_eq!(
            (n.describe().as_str(), n.mark()),
            ("nothing onto 0123456789ab", None)
        );
    }

    #[test]
    fn a_short_or_odd_onto_is_shown_as_it_is() {
        let mut l = landing(LandingResult::Nothing);
        l.onto = "abc".into();
        assert_eq!(l.describe(), "nothing onto abc");
        l.onto = "aéééééé".into(); // byte 12 falls inside a character: shown whole
        assert_eq!(l.describe(), "nothing onto aéééééé");
    }
}
