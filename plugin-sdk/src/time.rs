//! Times plugins write: `clock::now()` (milliseconds since the Unix epoch) as UTC dates, through
//! chrono.

use chrono::{DateTime, Utc};

/// The UTC time of `unix_ms` (milliseconds since the epoch); the epoch itself for one chrono
/// cannot represent (beyond the year 262 143).
fn utc(unix_ms: u64) -> DateTime<Utc> {
    i64::try_from(unix_ms)
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or_default()
}

/// `2024-01-31T12:00:00Z`.
pub fn rfc3339(unix_ms: u64) -> String {
    utc(unix_ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_440_938_160_000), "2015-08-30T12:36:00Z");
        assert_eq!(super::rfc3339(1_709_251_199_000), "2024-02-29T23:59:59Z");
    }
}
