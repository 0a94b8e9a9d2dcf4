//! Time and randomness as inputs (house style 5).
//!
//! Nothing in the library reads the system clock or a random source directly: callers pass a
//! [`Clock`] and an [`Entropy`] down, so tests get stable commit ids, run ids and backoff
//! sequences. The CLI builds them from the environment (`PITBOSS_NOW`, `PITBOSS_SEED`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

/// A source of "now".
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Millisecond precision: enough to order events, and short in JSON and commit dates.
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }
}

/// A clock stuck at one instant, for tests and reproducible runs.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A source of random 64-bit numbers (run id suffixes, retry jitter).
pub trait Entropy: Send + Sync {
    fn next_u64(&self) -> u64;
}

/// Randomness from the standard library's per-process hash keys, mixed with a counter.
///
/// Why not a crate: we need a few random bits per run id and per retry, not cryptographic
/// quality; `RandomState` is seeded from the OS once per process, which is exactly that.
#[derive(Debug, Default)]
pub struct OsEntropy {
    counter: AtomicU64,
}

impl Entropy for OsEntropy {
    fn next_u64(&self) -> u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(self.counter.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        h.finish()
    }
}

/// A deterministic sequence (splitmix64) from a seed, for tests.
#[derive(Debug)]
pub(crate) struct SeededEntropy {
    state: Mutex<u64>,
}

impl SeededEntropy {
    pub(crate) fn new(seed: u64) -> Self {
        SeededEntropy {
            state: Mutex::new(seed),
        }
    }
}

impl Entropy for SeededEntropy {
    fn next_u64(&self) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_entropy_is_reproducible_and_varied() {
        let a = SeededEntropy::new(7);
        let b = SeededEntropy::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert!(xs.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn os_entropy_differs_between_calls() {
        let e = OsEntropy::default();
        assert_ne!(e.next_u64(), e.next_u64());
    }
}
