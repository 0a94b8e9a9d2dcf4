//! Reading a usage-limit reset time out of what Claude Code says. Pure.
//!
//! Claude Code has said it three ways over its versions, and we accept all of them:
//! - a `rate_limit_event` with `"status":"rejected"` and `resetsAt` in Unix seconds (2.x, for
//!   subscription logins; recorded in `tests/fixtures/claude/rate-limit.jsonl`), read by the
//!   parser itself;
//! - the 1.0.x text `Claude AI usage limit reached|1750708800` (Unix seconds after the bar);
//! - human text such as `You've hit your session limit · resets 11:33am (UTC)` or `Your limit
//!   will reset at 5pm (UTC)`, or with a date when the reset is not today: `resets Jan 1,
//!   2027, 12am (UTC)`. Only a `(UTC)` zone can be resolved without a time-zone database;
//!   other zones give no time (the structured `resetsAt` is there anyway in 2.x).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};

/// A Unix time in seconds (or milliseconds, when it is too large to be seconds).
pub(crate) fn from_unix(value: f64) -> Option<DateTime<Utc>> {
    if !value.is_finite() || value <= 0.0 {
        return None;
    }
    let secs = if value > 1e11 { value / 1000.0 } else { value };
    Utc.timestamp_opt(secs as i64, 0).single()
}

/// The reset time of the 1.0.x `…usage limit reached|<unix seconds>` text.
pub(crate) fn legacy_reset(text: &str) -> Option<DateTime<Utc>> {
    let at = text.find("usage limit reached|")? + "usage limit reached|".len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    from_unix(digits.parse::<f64>().ok()?)
}

/// The reset time of `resets 11:33am (UTC)` / `reset at 5pm (UTC)`: the first such time of day
/// after `reference` (the session's start).
pub(crate) fn clock_reset(text: &str, reference: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let lower = text.to_ascii_lowercase();
    let after = ["resets at ", "resets ", "reset at "]
        .iter()
        .find_map(|w| lower.find(w).map(|i| i + w.len()))?;
    let rest = &lower[after..];
    let (date, rest) = match parse_date(rest) {
        Some((date, rest)) => (Some(date), rest),
        None => (None, rest),
    };
    let (time, rest) = parse_time_of_day(rest)?;
    if !rest.trim_start().starts_with("(utc)") {
        return None;
    }
    if let Some(date) = date {
        return Some(date.and_time(time).and_utc());
    }
    if reference.timestamp() <= 0 {
        return None; // no session start given: "3pm" cannot be placed in time
    }
    let mut at = reference.date_naive().and_time(time).and_utc();
    if at <= reference {
        at += Duration::days(1);
    }
    Some(at)
}

/// `jan 1, 2027, ` → the date and the rest of the text (already lower-cased).
fn parse_date(s: &str) -> Option<(NaiveDate, &str)> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let month = MONTHS.iter().position(|m| s.starts_with(m))? as u32 + 1;
    let rest = s
        .get(3..)?
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .trim_start();
    let day_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let day: u32 = rest.get(..day_len)?.parse().ok()?;
    let rest = rest[day_len..].strip_prefix(',')?.trim_start();
    let year: i32 = rest.get(..4)?.parse().ok()?;
    let rest = rest[4..].strip_prefix(',')?.trim_start();
    Some((NaiveDate::from_ymd_opt(year, month, day)?, rest))
}

/// `3pm`, `11:33am`, `12am` → a time of day and the rest of the text.
fn parse_time_of_day(s: &str) -> Option<(NaiveTime, &str)> {
    let hour_len = s.bytes().take_while(u8::is_ascii_digit).count();
    let hour: u32 = s.get(..hour_len)?.parse().ok()?;
    let mut rest = &s[hour_len..];
    let mut minute = 0;
    if let Some(r) = rest.strip_prefix(':') {
        minute = r.get(..2)?.parse().ok()?;
        rest = &r[2..];
    }
    let (pm, rest) = if let Some(r) = rest.strip_prefix("pm") {
        (true, r)
    } else {
        (false, rest.strip_prefix("am")?)
    };
    if !(1..=12).contains(&hour) {
        return None;
    }
    let hour = match (hour, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    };
    Some((NaiveTime::from_hms_opt(hour, minute, 0)?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn unix_seconds_and_milliseconds() {
        assert_eq!(from_unix(1_750_708_800.0), Some(t("2025-06-23T20:00:00Z")));
        assert_eq!(
            from_unix(1_750_708_800_000.0),
            Some(t("2025-06-23T20:00:00Z"))
        );
        assert_eq!(from_unix(-5.0), None);
    }

    #[test]
    fn legacy_text() {
        assert_eq!(
            legacy_reset("Claude AI usage limit reached|1750708800"),
            Some(t("2025-06-23T20:00:00Z"))
        );
        assert_eq!(legacy_reset("usage limit reached soon"), None);
    }

    #[test]
    fn human_text_in_utc() {
        let start = t("2026-11-24T09:00:00Z");
        let msg = "You've hit your session limit · resets 11:33am (UTC)";
        assert_eq!(clock_reset(msg, start), Some(t("2026-11-24T11:33:00Z")));
        let msg = "Claude usage limit reached. Your limit will reset at 5pm (UTC).";
        assert_eq!(clock_reset(msg, start), Some(t("2026-11-24T17:00:00Z")));
        // Already past today: tomorrow.
        assert_eq!(
            clock_reset("resets 8am (UTC)", start),
            Some(t("2026-11-25T08:00:00Z"))
        );
        assert_eq!(
            clock_reset("resets 12am (UTC)", start),
            Some(t("2026-11-25T00:00:00Z"))
        );
        // Zones we cannot resolve, and nonsense.
        assert_eq!(clock_reset("resets 5pm (Europe/Warsaw)", start), None);
        assert_eq!(clock_reset("resets 13pm (UTC)", start), None);
        assert_eq!(clock_reset("nothing to see", start), None);
        assert_eq!(clock_reset("resets 3pm (UTC)", DateTime::UNIX_EPOCH), None);
    }
}
