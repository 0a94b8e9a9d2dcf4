//! "Did you mean …?": the nearest valid name to a misspelt one, by edit distance.
//!
//! Written out rather than taken from a crate: it is thirty lines, and used for a handful of
//! short names per error.

/// The candidate nearest to `word`, when it is near enough to be a plausible typo: at most a
/// third of the word's length in edits (at least 1, at most 3), ties going to the earlier
/// candidate; failing that, the one candidate that starts with `word` (`max_cost` →
/// `max_cost_usd`).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let lower = word.to_lowercase();
    let near = candidates
        .iter()
        .map(|c| (distance(&lower, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    near.or_else(|| {
        let mut longer = candidates
            .iter()
            .filter(|c| lower.len() >= 3 && c.to_lowercase().starts_with(&lower));
        match (longer.next(), longer.next()) {
            (Some(c), None) => Some(*c),
            _ => None,
        }
    })
}

/// The number of single-character insertions, deletions, substitutions and swaps of neighbours
/// that turn `a` into `b` (optimal string alignment distance: `agnet` is one swap from `agent`).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("weight", "weight"), 0);
        assert_eq!(distance("wieght", "weight"), 1);
        assert_eq!(distance("agnet", "agent"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
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
        assert_eq!(
            closest("max_cost", ["max_cost_usd", "max_tokens"]),
            Some("max_cost_usd")
        );
        assert_eq!(
            closest("max", ["max_cost_usd", "max_tokens"]),
            None,
            "ambiguous prefix"
        );
    }
}
