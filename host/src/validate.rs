//! Validation: proves migrated databases equal to their sources. A validation plugin compares
//! (schema object by object, data by checksums the servers compute); the host picks what to
//! compare, runs several tables at once within the budgets of time and differences, shows each
//! table's progress, times the workload, and writes the report.

pub mod html;
pub mod progress;
pub mod report;
pub mod workload;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use sqlmig_protocol::migration::{SOURCE, TARGET};
use sqlmig_protocol::validation::{
    Action, Answer, DataOptions, DatabasePair, SchemaComparison, TableComparison, TableSpec,
    VALIDATE_REQUEST, VALIDATE_RESULT, ValidateRequest, ValidateResult,
};

use crate::capabilities::sql::SqlBackend;
use crate::capabilities::{CapabilitySet, Services};
use crate::failure::Failure;
use crate::plugins::manifest::PluginKind;
use crate::runtime::{HookCall, HookOutput, LoadedPlugin};
use crate::session::Session;
use crate::sqlserver::source_target::{LoggedIn, Servers, log_in};
use progress::Board;
use report::{DatabaseReport, Report, TableReport};
use workload::WorkloadQuery;

/// The state of `db` on `endpoint` (`RESTORING`, `OFFLINE`, …), when it has it.
async fn state_on(sql: &dyn SqlBackend, endpoint: &str, db: &str) -> Option<String> {
    use crate::capabilities::sql::{Param, SqlValue};
    let mut conn = sql.connect(endpoint).await.ok()?;
    let sets = conn
        .query(
            "SELECT state_desc FROM sys.databases WHERE name = @db",
            &[Param {
                name: "db".into(),
                value: SqlValue::Text(db.to_string()),
            }],
        )
        .await
        .ok()?;
    match sets.first()?.rows.first()?.first()? {
        SqlValue::Text(state) => Some(state.clone()),
        _ => None,
    }
}

/// Why `db` is not compared: its `state` on `side`, and for a restoring one what to do.
fn not_online_because(db: &str, side: &str, state: &str) -> String {
    let mut why = format!("{db} is {state} on the {side}, not online");
    if state == "RESTORING" {
        why.push_str(RESTORING_ADVICE);
    }
    why
}

/// What to do about a database that cannot be read because it is still restoring.
const RESTORING_ADVICE: &str = "; a database RESTORING cannot be read: on the target, cut over first (sqlmig migrate cutover PLAN DB); \
on the source after an online cutover (its tail taken WITH NORECOVERY), the cutover compared the rows already \
(sqlmig migrate status PLAN), and a plan made with --option standby_folder=FOLDER leaves the source read-only to validate against (docs/migrate.md)";

/// What to compare and how.
pub struct Options {
    /// Source databases (all user databases when empty).
    pub databases: Vec<String>,
    /// (source, target) names of databases renamed on the way.
    pub renames: Vec<(String, String)>,
    /// Table patterns: `dbo.Orders`, `Orders`, `sales.*`, `*.Audit*` (all tables when empty).
    pub tables: Vec<String>,
    /// The data comparison's options (the deadline is set from `time_budget`).
    pub data: DataOptions,
    pub time_budget: Option<Duration>,
    /// Tables compared at once.
    pub parallel: usize,
    /// The workload file's name and queries.
    pub workload: Option<(String, Vec<WorkloadQuery>)>,
    pub runs: u32,
    pub slower_than: f64,
    pub source_label: String,
    pub target_label: String,
    /// No progress at all (bars on a terminal, lines in a log otherwise).
    pub quiet: bool,
}

/// Why validation could not go on.
#[derive(Debug)]
pub enum ValidateError {
    /// What was asked for does not exist (a database, a table pattern): exit code 2.
    BadInput(String),
    /// A server or the plugin failed: exit code 3.
    Failed(String),
}

/// Validates as the operator asks: both passwords read and both sides logged in to, then the
/// validator plugin `plugin` loaded (granted `source` and `target` only) and run.
pub async fn run(
    session: &Session,
    servers: &Servers<'_>,
    plugin: &str,
    o: &Options,
) -> Result<Report, Failure> {
    let LoggedIn { sql, .. } = log_in(servers, servers.passwords()?).await?;
    let sql = Arc::new(sql);
    let granted = CapabilitySet {
        sql: vec![SOURCE.into(), TARGET.into()],
        ..Default::default()
    };
    let loaded = session.load(
        &session.plugin_of_kind(plugin, PluginKind::Validate)?,
        &granted,
    )?;
    let services = Services {
        sql: Some(sql.clone()),
        ..Default::default()
    };
    validate(&loaded, &services, sql.as_ref(), o)
        .await
        .map_err(|e| match e {
            ValidateError::BadInput(m) => Failure::bad_input(m),
            ValidateError::Failed(m) => Failure::io(m),
        })
}

/// Runs a validation with `plugin` (granted `source` and `target`).
pub async fn validate(
    plugin: &LoadedPlugin,
    services: &Services,
    sql: &dyn SqlBackend,
    o: &Options,
) -> Result<Report, ValidateError> {
    let started = Instant::now();
    let deadline_ms = o.time_budget.map(|b| now_ms() + b.as_millis() as u64);
    let say = |line: &str| {
        if !o.quiet {
            eprintln!("{line}");
        }
    };
    let Answer::Databases { source, target } = ask(plugin, services, Action::Databases).await?
    else {
        return Err(ValidateError::Failed(format!(
            "{}: answered something other than the databases",
            plugin.label
        )));
    };
    // A named database the source holds but not online (RESTORING after an online cutover)
    // is reported as not compared, with what to do; one it does not hold is a typo.
    let mut not_online = Vec::new();
    let chosen: Vec<String> = if o.databases.is_empty() {
        source.clone()
    } else {
        let mut chosen = Vec::new();
        for want in &o.databases {
            match source.iter().find(|s| s.eq_ignore_ascii_case(want)) {
                Some(s) => chosen.push(s.clone()),
                None => match state_on(sql, "source", want).await {
                    Some(state) => not_online.push((want.clone(), state)),
                    None => {
                        return Err(ValidateError::BadInput(format!(
                            "--databases: the source has no database {want} (its online ones: {})",
                            source.join(", ")
                        )));
                    }
                },
            }
        }
        chosen
    };
    if chosen.is_empty() && not_online.is_empty() {
        return Err(ValidateError::BadInput(
            "the source has no online user database to validate".into(),
        ));
    }
    let target_name = |db: &str| -> String {
        o.renames
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(db))
            .map_or_else(|| db.to_string(), |(_, t)| t.clone())
    };

    // Schemas first: they name the tables.
    let mut reports = Vec::new();
    // A database that cannot be compared at all is reported on its own; the others go on.
    let not_compared = |reports: &mut Vec<DatabaseReport>, pair: DatabasePair, why: String| {
        say(&format!(
            "{} → {}: not compared: {why}",
            pair.source, pair.target
        ));
        reports.push(DatabaseReport::not_compared(pair.source, pair.target, why));
    };
    for (db, state) in not_online {
        let pair = DatabasePair {
            target: target_name(&db),
            source: db,
        };
        let why = not_online_because(&pair.source, "source", &state);
        not_compared(&mut reports, pair, why);
    }
    let mut work: Vec<(usize, DatabasePair, TableSpec)> = Vec::new();
    let mut matched = vec![false; o.tables.len()];
    for db in &chosen {
        let pair = DatabasePair {
            source: db.clone(),
            target: target_name(db),
        };
        if !target.iter().any(|t| t.eq_ignore_ascii_case(&pair.target)) {
            // Not online is not missing: a database LRS is still restoring is there.
            if let Some(state) = state_on(sql, "target", &pair.target).await {
                let why = not_online_because(&pair.target, "target", &state);
                not_compared(&mut reports, pair, why);
                continue;
            }
            say(&format!(
                "{} → {}: the target has no such database",
                pair.source, pair.target
            ));
            reports.push(DatabaseReport {
                source: pair.source,
                target: pair.target,
                missing_on_target: true,
                schema: None,
                tables: Vec::new(),
                error: None,
            });
            continue;
        }
        say(&format!(
            "{} → {}: comparing the schema…",
            pair.source, pair.target
        ));
        // A database that cannot be read fails on its own: the others are still compared and
        // the report is still written.
        let schema = match ask(
            plugin,
            services,
            Action::Schema {
                database: pair.clone(),
            },
        )
        .await
        {
            Ok(Answer::Schema(schema)) => schema,
            Ok(_) => {
                return Err(ValidateError::Failed(format!(
                    "{}: answered something other than a schema comparison",
                    plugin.label
                )));
            }
            Err(ValidateError::Failed(why)) => {
                not_compared(&mut reports, pair, why);
                continue;
            }
            Err(e) => return Err(e),
        };
        let SchemaComparison { tables, .. } = &schema;
        for t in tables {
            let hits: Vec<usize> = (0..o.tables.len())
                .filter(|i| table_matches(&o.tables[*i], &t.schema, &t.name))
                .collect();
            for i in &hits {
                matched[*i] = true;
            }
            if o.tables.is_empty() || !hits.is_empty() {
                work.push((reports.len(), pair.clone(), t.clone()));
            }
        }
        say(&format!(
            "{} → {}: schema {}",
            pair.source,
            pair.target,
            if schema.differences.is_empty() {
                "equal".to_string()
            } else {
                format!("{} difference(s)", schema.differences.len())
            }
        ));
        reports.push(DatabaseReport {
            source: pair.source,
            target: pair.target,
            missing_on_target: false,
            schema: Some(schema),
            tables: Vec::new(),
            error: None,
        });
    }
    if let Some(i) = matched.iter().position(|m| !m) {
        return Err(ValidateError::BadInput(format!(
            "--tables {}: no table on both sides matches it (write schema.table, a table name, or a pattern with *)",
            o.tables[i]
        )));
    }

    // Then the data, several tables at once, within the budgets.
    let board = Board::new(o.quiet);
    let remaining = AtomicU64::new(o.data.max_diffs);
    let results: Vec<(usize, TableReport)> = futures::stream::iter(work)
        .map(|(at, pair, table)| {
            let board = board.clone();
            let remaining = &remaining;
            async move {
                let label = format!("{}.{}", pair.source, table.label());
                let report = compare_table(
                    plugin,
                    services,
                    &board,
                    &label,
                    &pair,
                    &table,
                    o,
                    deadline_ms,
                    remaining,
                )
                .await;
                (at, report)
            }
        })
        .buffer_unordered(o.parallel.max(1))
        .collect()
        .await;
    for (at, t) in results {
        reports[at].tables.push(t);
    }
    for r in &mut reports {
        r.tables.sort_by(|a, b| a.table.cmp(&b.table));
    }

    let performance = match &o.workload {
        Some((file, queries)) => {
            say(&format!(
                "running the workload {file} ({} queries)…",
                queries.len()
            ));
            Some(
                workload::run(
                    sql,
                    queries,
                    &chosen[0],
                    &target_name,
                    o.runs,
                    o.slower_than,
                    file,
                )
                .await
                .map_err(|e| ValidateError::Failed(e.to_string()))?,
            )
        }
        None => None,
    };
    let mut report = Report {
        schema: report::SCHEMA.into(),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source: o.source_label.clone(),
        target: o.target_label.clone(),
        mode: serde_json::to_value(o.data.mode)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        equal: false,
        summary: Default::default(),
        databases: reports,
        performance,
    };
    report.conclude(started.elapsed().as_secs_f64());
    Ok(report)
}

/// Compares one table unless a budget is spent.
#[allow(clippy::too_many_arguments)]
async fn compare_table(
    plugin: &LoadedPlugin,
    services: &Services,
    board: &Arc<Board>,
    label: &str,
    pair: &DatabasePair,
    table: &TableSpec,
    o: &Options,
    deadline_ms: Option<u64>,
    remaining: &AtomicU64,
) -> TableReport {
    let not_compared = |why: &str| TableReport {
        table: table.label(),
        comparison: None,
        not_compared: Some(why.to_string()),
        failed: false,
    };
    let left = remaining.load(Ordering::SeqCst);
    if left == 0 {
        return not_compared("the --max-diffs budget was spent on other tables");
    }
    if deadline_ms.is_some_and(|d| now_ms() > d) {
        return not_compared("the --time-budget ran out before this table");
    }
    let mut options = o.data.clone();
    options.max_diffs = left;
    options.deadline_ms = deadline_ms;
    let mut services = services.clone();
    if !o.quiet {
        services.progress = Some(board.sink(label));
    }
    let action = Action::Table {
        database: pair.clone(),
        table: table.clone(),
        options,
    };
    match ask(plugin, &services, action).await {
        Ok(Answer::Table(c)) => {
            let named = c.differences.len() as u64;
            let _ = remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| {
                Some(r.saturating_sub(named))
            });
            if !o.quiet {
                board.finish(label, &summary_line(label, &c));
            }
            TableReport {
                table: c.table.clone(),
                comparison: Some(c),
                not_compared: None,
                failed: false,
            }
        }
        Ok(_) => TableReport {
            failed: true,
            ..not_compared(&format!(
                "{}: answered something other than a table comparison",
                plugin.label
            ))
        },
        Err(ValidateError::BadInput(e) | ValidateError::Failed(e)) => {
            if !o.quiet {
                board.finish(label, &format!("{label}: FAILED — {e}"));
            }
            TableReport {
                failed: true,
                ..not_compared(&e)
            }
        }
    }
}

fn summary_line(label: &str, c: &TableComparison) -> String {
    format!(
        "{label}: {} ({} / {} rows, {} queries, {} read)",
        report::Verdict::of(c).words(),
        c.rows_source,
        c.rows_target,
        c.queries,
        report::bytes(c.bytes_read)
    ) + &c
        .incomplete
        .as_ref()
        .map_or(String::new(), |why| format!(" — stopped: {why}"))
}

/// Calls the plugin's `validate` hook.
async fn ask(
    plugin: &LoadedPlugin,
    services: &Services,
    action: Action,
) -> Result<Answer, ValidateError> {
    let doc = serde_json::to_string(&ValidateRequest {
        schema: VALIDATE_REQUEST.into(),
        action,
    })
    .expect("a validation request serializes");
    let out = plugin
        .call(services, HookCall::Validate(doc))
        .await
        .map_err(|e| ValidateError::Failed(e.to_string()))?;
    let HookOutput::Document(d) = out else {
        return Err(ValidateError::Failed(format!(
            "{}: validate answered no document",
            plugin.label
        )));
    };
    let result: ValidateResult = serde_json::from_str(&d).map_err(|e| {
        ValidateError::Failed(format!(
            "{}: validate answered a malformed result: {e}",
            plugin.label
        ))
    })?;
    if result.schema != VALIDATE_RESULT {
        return Err(ValidateError::Failed(format!(
            "{}: answered {:?} for a validation result; update the plugin",
            plugin.label, result.schema
        )));
    }
    Ok(result.answer)
}

/// Whether `pattern` (`schema.table`, `table`, with `*` for any run of characters) names
/// `schema.name`; case does not matter, as in SQL Server's default collations.
pub fn table_matches(pattern: &str, schema: &str, name: &str) -> bool {
    let pattern = pattern.trim().trim_matches(['[', ']']).to_lowercase();
    let (s, n) = (schema.to_lowercase(), name.to_lowercase());
    match pattern.split_once('.') {
        Some((ps, pn)) => {
            glob(ps.trim_matches(['[', ']']), &s) && glob(pn.trim_matches(['[', ']']), &n)
        }
        None => glob(&pattern, &n),
    }
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_patterns_match_as_a_dba_writes_them() {
        assert!(table_matches("dbo.Orders", "dbo", "Orders"));
        assert!(table_matches("orders", "sales", "Orders"));
        assert!(table_matches("[dbo].[Orders]", "dbo", "Orders"));
        assert!(table_matches("sales.*", "Sales", "Lines"));
        assert!(table_matches("*.Audit*", "dbo", "AuditLog"));
        assert!(!table_matches("dbo.Orders", "sales", "Orders"));
        assert!(!table_matches("Order", "dbo", "Orders"));
    }
}
