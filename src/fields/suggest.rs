//! "Did you mean …?": the nearest valid name to a misspelt one, by edit distance.
//!
//! The distance is `strsim`'s optimal string alignment (insertions, deletions, substitutions
//! and swaps of neighbours: `agnet` is one swap from `agent`); the rule for "near enough" is ours.

/// The candidate nearest to `word`, when it is near enough to be a plausible typo: at most a
/// third of the word's length in edits (at least 1, at most 3), ties going to the earlier
/// candidate; failing that, the one candidate that starts with `word` (`max_cost` →
/// `max_cost_usd`).
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let lower = word.to_lowercase();
    let near = candidates
        .iter()
        .map(|c| (strsim::osa_distance(&lower, &c.to_lowercase()), *c))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapped_neighbours_are_one_edit() {
        let keys = ["agent", "prompts"];
        assert_eq!(closest("agnet", keys), Some("agent"));
        assert_eq!(closest("rpompts", keys), Some("prompts"));
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
