//! How tokens and dollars read on the terminal, in one place, so every command shows the same
//! figures: a token total is always [`Tokens::total`] (input + output + cache reads + cache
//! writes, the one definition in docs/config.md), with its parts where there is room; a cost the agent
//! did not report and no price table knows reads `unknown`, never `$0.0000`, and a run total
//! that leaves such sessions out says it is a lower bound.

use super::resolve::money;
use crate::store::SessionRecord;
use crate::usage::Tokens;

/// `3 sessions`, `1 session`.
pub(crate) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A session's cost: `$0.0123`, or `unknown`.
pub(crate) fn session_cost(r: &SessionRecord) -> String {
    if r.usage.cost_known() {
        money(r.usage.cost_usd)
    } else {
        "unknown".to_string()
    }
}

/// A total over `sessions` sessions, `unknown` of which have no known cost: `$1.2000`,
/// `≥ $1.2000, 3 sessions of unknown cost`, or `unknown` when none is known.
pub(crate) fn run_cost(known_usd: f64, unknown: u64, sessions: u64) -> String {
    if unknown == 0 {
        money(known_usd)
    } else if unknown >= sessions {
        format!("unknown ({} of unknown cost)", count(unknown, "session"))
    } else {
        format!(
            "≥ {}, {} of unknown cost",
            money(known_usd),
            count(unknown, "session")
        )
    }
}

/// The short form for a table column: `$1.2000`, `≥ $1.2000`, `unknown`.
pub(crate) fn run_cost_short(known_usd: f64, unknown: u64, sessions: u64) -> String {
    if unknown == 0 {
        money(known_usd)
    } else if unknown >= sessions {
        "unknown".to_string()
    } else {
        format!("≥ {}", money(known_usd))
    }
}

/// `1900 (1000 in / 500 out / 300 cache read / 100 cache write)`; the cache parts only when
/// there are some.
pub(crate) fn tokens_with_parts(t: &Tokens) -> String {
    let mut s = format!("{} ({} in / {} out", t.total(), t.input, t.output);
    if t.has_cache() {
        s.push_str(&format!(
            " / {} cache read / {} cache write",
            t.cache_read, t.cache_write
        ));
    }
    s.push(')');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_say_when_they_are_unknown() {
        assert_eq!(run_cost(1.2, 0, 4), "$1.2000");
        assert_eq!(run_cost(1.2, 3, 5), "≥ $1.2000, 3 sessions of unknown cost");
        assert_eq!(run_cost(1.2, 1, 5), "≥ $1.2000, 1 session of unknown cost");
        assert_eq!(run_cost(0.0, 2, 2), "unknown (2 sessions of unknown cost)");
        assert_eq!(run_cost_short(1.2, 1, 5), "≥ $1.2000");
        assert_eq!(run_cost_short(0.0, 2, 2), "unknown");
        let priced = SessionRecord::builder().cost(0.0123).build();
        assert_eq!(session_cost(&priced), "$0.0123");
        let unpriced = SessionRecord::builder()
            .cost_source(crate::usage::CostSource::Unknown)
            .build();
        assert_eq!(session_cost(&unpriced), "unknown");
    }

    #[test]
    fn token_parts_add_up_to_the_total() {
        let t = Tokens {
            input: 1000,
            output: 500,
            cache_read: 300,
            cache_write: 100,
            reasoning: 7,
        };
        assert_eq!(
            tokens_with_parts(&t),
            "1900 (1000 in / 500 out / 300 cache read / 100 cache write)"
        );
        let plain = Tokens {
            cache_read: 0,
            cache_write: 0,
            ..t
        };
        assert_eq!(tokens_with_parts(&plain), "1500 (1000 in / 500 out)");
        assert_eq!(count(1, "session"), "1 session");
    }
}
