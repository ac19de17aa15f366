//! The baseline workload (`sqlmig perf baseline`): the statements that took the source's time,
//! as a T-SQL file that `sqlmig validate --workload` replays on source and target — and that a
//! DBA can read, edit and run in any tool (each query is `USE [db];`, the statement, `GO`).
//!
//! ```text
//! -- sqlmig workload/1
//! -- server: SQL01\SALES
//! -- captured: 2026-11-28T03:20:00Z: the top 50 statements by total elapsed time
//!
//! -- query 1: database Sales, 20 executions, 1.234 s in all, 61.7 ms each
//! USE [Sales];
//! SELECT …
//! GO
//! ```
//!
//! Only queries are replayed (`SELECT`, `WITH …`): a statement that changes data or schema, or
//! runs a procedure, is kept as comments, as is a parameterized statement (`(@P1 int)SELECT …`),
//! whose parameters' values the plan cache does not hold.

use sqlmig_protocol::discovery::CapturedQuery;

/// The first line of a workload file.
pub const HEADER: &str = "-- sqlmig workload/1";

/// A replayable query of a workload file.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadQuery {
    pub number: usize,
    pub database: String,
    pub text: String,
}

/// The workload file for `queries` captured from `server` at `captured_at` (RFC 3339).
pub fn to_sql(queries: &[CapturedQuery], server: &str, top: u32, captured_at: &str) -> String {
    let mut out = format!(
        "{HEADER}\n-- server: {server}\n-- captured: {captured_at}: the top {top} statements by total elapsed time\n"
    );
    let mut number = 0;
    for q in queries {
        let text = q.text.trim();
        // The capture's own query is not the application's workload.
        if text.is_empty() || text.contains("dm_exec_query_stats") {
            continue;
        }
        number += 1;
        let executions = q.executions.max(1.0);
        let summary = format!(
            "-- query {number}: database {}, {} execution{}, {:.3} s in all, {:.1} ms each",
            if q.database.is_empty() {
                "unknown"
            } else {
                &q.database
            },
            q.executions,
            if q.executions == 1.0 { "" } else { "s" },
            q.total_elapsed_us / 1e6,
            q.total_elapsed_us / executions / 1000.0
        );
        out.push('\n');
        let first_word = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_ascii_uppercase();
        let not_replayed = if text.starts_with("(@") {
            Some("parameterized: the plan cache holds no values for its parameters")
        } else if q.database.is_empty() {
            Some("its database is unknown")
        } else if !matches!(first_word.as_str(), "SELECT" | "WITH") {
            Some("it changes data or schema, or runs code")
        } else {
            None
        };
        let not_replayed = not_replayed.or_else(|| {
            // A statement whose GO lines or unclosed comment would read back as more than one
            // batch is not written as one: it would run as statements nobody captured.
            (!crate::sqlserver::batches::is_one_batch(text))
                .then_some("its text would not read back as one batch (a GO line, or an unclosed comment or string)")
        });
        if let Some(why) = not_replayed {
            out.push_str(&summary);
            out.push_str(&format!(" ({why}; not replayed)\n"));
            for line in text.lines() {
                out.push_str("-- ");
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        out.push_str(&summary);
        out.push('\n');
        out.push_str(&format!("USE [{}];\n", q.database.replace(']', "]]")));
        out.push_str(text);
        out.push_str("\nGO\n");
    }
    out
}

/// What makes a captured workload file unreplayable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaptureProblem {
    #[error("it does not start with {HEADER:?}")]
    NoHeader,
    #[error("query {0} has no USE [database]; line")]
    NoDatabase(usize),
}

/// The replayable queries of a workload file; `Err` names what is wrong. Batches end at `GO`
/// lines as `validate --workload` reads them (`sqlserver::batches`): one outside any comment or
/// string.
pub fn parse(text: &str) -> Result<Vec<WorkloadQuery>, CaptureProblem> {
    if text.lines().next().map(str::trim) != Some(HEADER) {
        return Err(CaptureProblem::NoHeader);
    }
    let mut out = Vec::new();
    for batch in crate::sqlserver::batches::split(text) {
        // A batch is comments (the header, queries not replayed, this query's summary), then
        // `USE [db];` and the statement.
        let mut current: Option<WorkloadQuery> = None;
        let mut body: Vec<&str> = Vec::new();
        for line in batch.lines {
            let trimmed = line.trim();
            if body.is_empty() {
                if let Some(rest) = trimmed.strip_prefix("-- query ") {
                    let number = rest
                        .split(':')
                        .next()
                        .and_then(|n| n.trim().parse().ok())
                        .unwrap_or(out.len() + 1);
                    current = Some(WorkloadQuery {
                        number,
                        database: String::new(),
                        text: String::new(),
                    });
                    continue;
                }
                if let Some(q) = current.as_mut()
                    && q.database.is_empty()
                    && let Some(db) = trimmed
                        .strip_prefix("USE [")
                        .and_then(|r| r.strip_suffix("];"))
                {
                    q.database = db.replace("]]", "]");
                    continue;
                }
                if trimmed.starts_with("--") || trimmed.is_empty() {
                    continue;
                }
            }
            body.push(line);
        }
        let Some(mut q) = current else {
            continue;
        };
        if body.is_empty() {
            // Only comments since the summary: a query kept as comments, not replayed.
            continue;
        }
        if q.database.is_empty() {
            return Err(CaptureProblem::NoDatabase(q.number));
        }
        q.text = body.join("\n");
        out.push(q);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(database: &str, text: &str, executions: f64, elapsed_us: f64) -> CapturedQuery {
        CapturedQuery {
            database: database.into(),
            text: text.into(),
            executions,
            total_elapsed_us: elapsed_us,
            ..Default::default()
        }
    }

    #[test]
    fn workloads_are_runnable_t_sql_and_read_back() {
        let sql = to_sql(
            &[
                q(
                    "Sales",
                    "SELECT COUNT(*)\nFROM dbo.Orders",
                    20.0,
                    1_234_000.0,
                ),
                q(
                    "Sales",
                    "(@P1 int)SELECT * FROM dbo.Orders WHERE Id = @P1",
                    5.0,
                    500.0,
                ),
                q(
                    "master",
                    "SELECT * FROM sys.dm_exec_query_stats",
                    1.0,
                    100.0,
                ),
                q("Odd]Name", "SELECT 1", 1.0, 10.0),
                q("Sales", "UPDATE dbo.Orders SET Qty = 1", 4.0, 10.0),
            ],
            "SQL01",
            10,
            "2026-11-28T03:20:00Z",
        );
        assert!(sql.starts_with("-- sqlmig workload/1\n-- server: SQL01\n"));
        assert!(sql.contains(
            "-- query 1: database Sales, 20 executions, 1.234 s in all, 61.7 ms each\nUSE [Sales];\nSELECT COUNT(*)\nFROM dbo.Orders\nGO\n"
        ));
        assert!(sql.contains("-- (@P1 int)SELECT * FROM dbo.Orders WHERE Id = @P1"));
        assert!(
            !sql.contains("dm_exec_query_stats\n"),
            "the capture's own query is left out"
        );
        let back = parse(&sql).unwrap();
        assert_eq!(back.len(), 2, "the parameterized one is not replayed");
        assert_eq!(back[0].database, "Sales");
        assert_eq!(back[0].text, "SELECT COUNT(*)\nFROM dbo.Orders");
        assert_eq!(back[1].database, "Odd]Name");
        assert_eq!(back[1].number, 3);
        assert!(sql.contains(
            "(it changes data or schema, or runs code; not replayed)\n-- UPDATE dbo.Orders"
        ));
        assert!(parse("SELECT 1").is_err());
    }

    #[test]
    fn a_statement_that_would_split_into_others_is_not_replayed() {
        let smuggler = "SELECT 1 AS a\nGO\nDELETE FROM dbo.Orders";
        let unclosed = "SELECT 1 /* GO\nEXEC('x')";
        let commented = "SELECT 1 /*\nGO\n*/ AS a";
        let sql = to_sql(
            &[
                q("Sales", smuggler, 1.0, 10.0),
                q("Sales", unclosed, 1.0, 10.0),
                q("Sales", commented, 1.0, 10.0),
            ],
            "SQL01",
            3,
            "2026-12-07T00:00:00Z",
        );
        assert_eq!(
            sql.matches("would not read back as one batch").count(),
            2,
            "{sql}"
        );
        // What is replayed reads back whole, its GO inside the comment included.
        let read = parse(&sql).unwrap();
        assert_eq!(read.len(), 1, "{sql}");
        assert_eq!(read[0].text, commented);
        assert_eq!(crate::validate::workload::parse(&sql).unwrap().len(), 1);
    }
}
