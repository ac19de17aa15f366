//! Performance samples: two readings of sys.dm_os_performance_counters an interval apart; a
//! per-second counter becomes its rate over the interval, a value counter its second reading.

use sqlmig_plugin_sdk::inventory::PerfSample;
use sqlmig_plugin_sdk::sql::Connection;
use sqlmig_plugin_sdk::{Error, Rows, clock, invalid_input};

use crate::queries as q;

/// PERF_COUNTER_BULK_COUNT: a cumulative count whose rate is the counter's meaning.
const PER_SECOND: i64 = 272_696_576;

/// (name as perfmon writes it, type, value) of each counter now.
fn read(conn: &Connection) -> Result<Vec<(String, i64, i64)>, Error> {
    let mut sets = conn.query(q::PERF_COUNTERS, &[])?;
    if sets.is_empty() {
        return Err(invalid_input(
            "sys.dm_os_performance_counters gave no result",
        ));
    }
    Rows::new(sets.swap_remove(0))
        .iter()
        .map(|r| {
            let object: String = r.get("object_name")?;
            let counter: String = r.get("counter_name")?;
            let instance: String = r
                .get::<Option<String>>("instance_name")?
                .unwrap_or_default();
            let name = if instance.is_empty() {
                format!("{object}\\{counter}")
            } else {
                format!("{object}\\{counter}[{instance}]")
            };
            Ok((name, r.get("cntr_type")?, r.get("cntr_value")?))
        })
        .collect()
}

/// Samples the counters over `interval_ms`.
pub fn sample(conn: &Connection, interval_ms: u32) -> Result<Vec<PerfSample>, Error> {
    let before = read(conn)?;
    let t0 = clock::now();
    clock::sleep(interval_ms.into());
    let after = read(conn)?;
    let t1 = clock::now();
    let secs = ((t1.saturating_sub(t0)) as f64 / 1000.0).max(0.001);
    let at = rfc3339(t1);
    Ok(after
        .into_iter()
        .map(|(name, ty, value)| {
            let value = if ty == PER_SECOND {
                let earlier = before
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map_or(value, |(_, _, v)| *v);
                (value - earlier).max(0) as f64 / secs
            } else {
                value as f64
            };
            PerfSample {
                at: at.clone(),
                counter: name,
                value,
            }
        })
        .collect())
}

/// Milliseconds since the epoch as `2024-01-31T12:00:00Z`.
fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_utc_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_709_251_199_000), "2024-02-29T23:59:59Z");
    }
}
