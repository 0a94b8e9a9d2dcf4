//! "Did you mean …?": the nearest valid name to a misspelt one, by edit distance.
//!
//! Written out rather than taken from a crate: it is twenty lines, and used for a handful of
//! short names per error.

/// The candidate nearest to `word`, when it is near enough to be a plausible typo: at most a
/// third of the word's length in edits (at least 1, at most 3). Ties go to the earlier candidate.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The number of single-character insertions, deletions and substitutions that turn `a` into `b`.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("weight", "weight"), 0);
        assert_eq!(levenshtein("wieght", "weight"), 2);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_near_names_only() {
        let keys = ["name", "description", "weight", "every", "max_runs"];
        assert_eq!(closest("wieght", keys), Some("weight"));
        assert_eq!(closest("Weight", keys), Some("weight"));
        assert_eq!(closest("max_run", keys), Some("max_runs"));
        assert_eq!(closest("descripton", keys), Some("description"));
        assert_eq!(closest("colour", keys), None);
        assert_eq!(closest("x", keys), None);
    }
}
