//! Durations as DBAs write them on the command line: `40m`, `2h`, `90s`, `500ms`, `1h 30m`,
//! `1.5h`, or a number of seconds. humantime reads the units; a decimal with a unit and a bare
//! number of seconds are read here, since humantime takes whole numbers with a unit only.

use std::time::Duration;

/// Text that is not a duration, with what the reader made of it and what to write.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a duration{}: write 40m, 2h, 90s, 500ms or 1h 30m",
    reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
)]
pub struct NotADuration {
    text: String,
    reason: Option<String>,
}

/// Reads `s`.
pub fn parse(s: &str) -> Result<Duration, NotADuration> {
    let s = s.trim();
    let not = |reason: Option<String>| NotADuration {
        text: s.to_string(),
        reason,
    };
    if let Ok(seconds) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|e| not(Some(e.to_string())));
    }
    // One decimal number with a unit (`1.5h`): the unit's length, times the number.
    if let Some(at) = s.find(|c: char| c.is_ascii_alphabetic())
        && s[..at].contains('.')
    {
        let n: f64 = s[..at].trim().parse().map_err(|_| not(None))?;
        let unit = humantime::parse_duration(&format!("1{}", &s[at..]))
            .map_err(|e| not(Some(e.to_string())))?;
        return Duration::try_from_secs_f64(n * unit.as_secs_f64())
            .map_err(|e| not(Some(e.to_string())));
    }
    humantime::parse_duration(s).map_err(|e| not(Some(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_dbas_write_them() {
        assert_eq!(parse("40m").unwrap(), Duration::from_secs(2400));
        assert_eq!(parse("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        let e = parse("10 parsecs").unwrap_err().to_string();
        assert!(e.contains("write 40m, 2h"), "{e}");
        assert!(parse("-5").is_err());
    }
}
