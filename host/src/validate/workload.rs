//! The performance comparison: a workload file's queries run on both servers, timed by the host
//! (a plugin's clock has millisecond resolution and its calls cost their own time), the medians
//! and 95th percentiles compared.
//!
//! The file is T-SQL in batches separated by `GO` lines, as SSMS and sqlcmd read it (a `GO` inside
//! a comment or string separates nothing). Comment lines at the top of a batch name it and its
//! database:
//!
//! ```sql
//! -- name: open orders by customer
//! -- database: Sales
//! SELECT CustomerId, COUNT(*) FROM dbo.Orders WHERE Status = 'open' GROUP BY CustomerId
//! GO
//! ```

use std::path::Path;
use std::time::Instant;

use crate::capabilities::sql::{SqlBackend, SqlSession};
use crate::sqlserver::quote_name;
use crate::stats::percentile;

use super::report::{Performance, QueryTiming};

/// One query of the workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadQuery {
    pub name: String,
    /// The database it runs in; `None` for the command's first database.
    pub database: Option<String>,
    pub text: String,
}

/// What is wrong with a workload's text.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadProblem {
    #[error("the batch at line {0} has no query")]
    NoQuery(usize),
    #[error("the workload holds no query (batches are separated by GO lines)")]
    Empty,
}

/// Why a workload file cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadFileError {
    #[error("{}: cannot read the workload: {error}", path.display())]
    Unreadable {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    Malformed {
        path: std::path::PathBuf,
        problem: WorkloadProblem,
    },
}

/// Reads a workload file; an empty one, or a batch with only comments, is an error naming the
/// file and the line.
pub fn read(path: &Path) -> Result<Vec<WorkloadQuery>, WorkloadFileError> {
    let text = std::fs::read_to_string(path).map_err(|error| WorkloadFileError::Unreadable {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&text).map_err(|problem| WorkloadFileError::Malformed {
        path: path.to_path_buf(),
        problem,
    })
}

/// Parses workload text.
pub fn parse(text: &str) -> Result<Vec<WorkloadQuery>, WorkloadProblem> {
    let mut queries = Vec::new();
    let mut finish = |batch: Vec<&str>, start: usize| -> Result<(), WorkloadProblem> {
        let mut name = None;
        let mut database = None;
        let mut body = Vec::new();
        for line in batch {
            let t = line.trim();
            if body.is_empty()
                && let Some(comment) = t.strip_prefix("--")
            {
                let comment = comment.trim();
                if let Some(n) = strip_key(comment, "name:") {
                    name = Some(n.to_string());
                    continue;
                }
                if let Some(d) = strip_key(comment, "database:") {
                    database = Some(d.trim_matches(['[', ']']).to_string());
                    continue;
                }
            }
            if !(body.is_empty() && t.is_empty()) {
                body.push(line);
            }
        }
        let text = body.join("\n").trim().to_string();
        let only_comments = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim().starts_with("--"));
        if only_comments {
            if name.is_some() || database.is_some() {
                return Err(WorkloadProblem::NoQuery(start));
            }
            return Ok(());
        }
        queries.push(WorkloadQuery {
            name: name.unwrap_or_else(|| format!("query {} (line {start})", queries.len() + 1)),
            database,
            text,
        });
        Ok(())
    };
    // GO lines inside a comment or string are the statement's: a source's user cannot make one
    // statement two.
    for batch in crate::sqlserver::batches::split(text) {
        finish(batch.lines, batch.line)?;
    }
    if queries.is_empty() {
        return Err(WorkloadProblem::Empty);
    }
    Ok(queries)
}

fn strip_key<'a>(comment: &'a str, key: &str) -> Option<&'a str> {
    comment
        .get(..key.len())
        .filter(|k| k.eq_ignore_ascii_case(key))
        .map(|_| comment[key.len()..].trim())
}

/// Runs each query once to warm both servers' caches, then `runs` times on each side in turn,
/// and compares the timings.
pub async fn run(
    sql: &dyn SqlBackend,
    queries: &[WorkloadQuery],
    default_database: &str,
    target_name: &dyn Fn(&str) -> String,
    runs: u32,
    slower_than: f64,
    file: &str,
) -> Result<Performance, crate::capabilities::CapabilityError> {
    let mut source = sql.connect("source").await?;
    let mut target = sql.connect("target").await?;
    let mut timings = Vec::new();
    for q in queries {
        let database = q
            .database
            .clone()
            .unwrap_or_else(|| default_database.to_string());
        let result = time_query(
            source.as_mut(),
            target.as_mut(),
            q,
            &database,
            &target_name(&database),
            runs.max(1),
        )
        .await;
        timings.push(match result {
            Ok((s, t)) => {
                let ratio = if s[0] > 0.0 { t[0] / s[0] } else { 1.0 };
                QueryTiming {
                    name: q.name.clone(),
                    database,
                    source_p50_ms: s[0],
                    source_p95_ms: s[1],
                    target_p50_ms: t[0],
                    target_p95_ms: t[1],
                    ratio,
                    slower: ratio >= slower_than,
                    error: None,
                }
            }
            Err(e) => QueryTiming {
                name: q.name.clone(),
                database,
                source_p50_ms: 0.0,
                source_p95_ms: 0.0,
                target_p50_ms: 0.0,
                target_p95_ms: 0.0,
                ratio: 0.0,
                slower: false,
                error: Some(e),
            },
        });
    }
    Ok(Performance {
        file: file.to_string(),
        runs,
        slower_than,
        queries: timings,
    })
}

/// ([p50, p95] on the source, [p50, p95] on the target) in milliseconds.
async fn time_query<'a>(
    source: &'a mut dyn SqlSession,
    target: &'a mut dyn SqlSession,
    q: &WorkloadQuery,
    source_db: &str,
    target_db: &str,
    runs: u32,
) -> Result<([f64; 2], [f64; 2]), String> {
    // The USE goes in the same request as the query: each request is an sp_executesql call, and
    // "changes in database context last only to the end of the sp_executesql statement"
    // (sp-executesql-transact-sql.md). Both sides pay the same for it.
    let mut sides = [
        (
            "source",
            source,
            format!("USE {};\n{}", quote_name(source_db), q.text),
        ),
        (
            "target",
            target,
            format!("USE {};\n{}", quote_name(target_db), q.text),
        ),
    ];
    for (name, session, text) in &mut sides {
        // Warm-up: plans compiled and pages read once on each side.
        timed(*session, text, name).await?;
    }
    let mut samples = [Vec::new(), Vec::new()];
    // The sides take turns, so a change in the machine's load falls on both.
    for _ in 0..runs {
        for ((name, session, text), times) in sides.iter_mut().zip(samples.iter_mut()) {
            times.push(timed(*session, text, name).await?);
        }
    }
    let [s, t] = samples;
    Ok((
        [percentile(&s, 50.0), percentile(&s, 95.0)],
        [percentile(&t, 50.0), percentile(&t, 95.0)],
    ))
}

/// Milliseconds `text` takes on `session`, its results read to the end.
async fn timed(session: &mut dyn SqlSession, text: &str, side: &str) -> Result<f64, String> {
    let started = Instant::now();
    session
        .query(text, &[])
        .await
        .map_err(|e| format!("{side}: {e}"))?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_split_at_go_and_named_by_their_comments() {
        let q = parse(
            "-- name: open orders\n-- database: [Sales]\nSELECT COUNT(*)\nFROM dbo.Orders\nGO\n\nSELECT 1\ngo\n-- just a comment\nGO\n",
        )
        .unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].name, "open orders");
        assert_eq!(q[0].database.as_deref(), Some("Sales"));
        assert_eq!(q[0].text, "SELECT COUNT(*)\nFROM dbo.Orders");
        assert_eq!(q[1].name, "query 2 (line 6)");
        assert_eq!(q[1].database, None);
        assert_eq!(
            parse("-- nothing\nGO\n").unwrap_err(),
            WorkloadProblem::Empty
        );
        let err = parse("-- name: x\nGO\nSELECT 1").unwrap_err();
        assert_eq!(err, WorkloadProblem::NoQuery(1));
        assert_eq!(err.to_string(), "the batch at line 1 has no query");
    }
}
