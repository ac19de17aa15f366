//! A well-behaved plugin: every hook, every capability. Each hook answers with what it saw so the
//! tests can check the host's side of each capability.
//!
//! Built against the frozen 0.1.1 contract (`wit/frozen/0.1`) with bare bindings, not the SDK
//! (which follows the newest line): it proves 0.1 plugins keep running every hook and capability.

use serde::Deserialize;
use serde_json::json;

wit_bindgen::generate!({ path: "../../../wit/frozen/0.1", world: "plugin" });

use sqlmig::plugin::types::{Error, Finding, FindingLevel, FindingScope, LogLevel, PluginInfo};
use sqlmig::plugin::{blob, clock, credentials, fs, http, progress, sql, state};

fn invalid_input(message: impl Into<String>) -> Error {
    Error::InvalidInput(message.into())
}

fn parse_document<T: serde::de::DeserializeOwned>(doc: &str, what: &str) -> Result<T, Error> {
    serde_json::from_str(doc).map_err(|e| invalid_input(format!("{what}: {e}")))
}

mod log {
    use super::LogLevel;
    use super::sqlmig::plugin::{log, progress};

    pub fn info(message: &str) {
        log::log(LogLevel::Info, message)
    }

    pub fn warn(message: &str) {
        log::log(LogLevel::Warn, message)
    }

    pub fn progress(done: u64, total: Option<u64>, message: &str) {
        progress::report(done, total, message)
    }
}

/// The value of `column` in `row` of `set`.
fn cell<'a>(set: &'a sql::RowSet, row: &'a [sql::SqlValue], column: &str) -> &'a sql::SqlValue {
    let i = set
        .columns
        .iter()
        .position(|c| c.name == column)
        .expect("the column is in the result");
    &row[i]
}

struct Full;

#[derive(Deserialize)]
struct Inventory {
    instances: Vec<Instance>,
}

#[derive(Deserialize)]
struct Instance {
    name: String,
    databases: Vec<Database>,
}

#[derive(Deserialize)]
struct Database {
    name: String,
    compatibility_level: u32,
}

impl Full {
    fn summary() -> &'static str {
        "uses every capability"
    }

    /// Queries the `source` endpoint with a parameter and reads the typed rows.
    fn discover(_request: &str) -> Result<String, Error> {
        let conn = sql::connect("source")?;
        let sets = conn.query(
            "SELECT name, database_id FROM sys.databases WHERE database_id > @min",
            &[sql::Param {
                name: "min".into(),
                value: sql::SqlValue::Int(4),
            }],
        )?;
        let set = sets.into_iter().next().unwrap_or(sql::RowSet {
            columns: vec![],
            rows: vec![],
        });
        let mut names = Vec::new();
        for row in &set.rows {
            let (sql::SqlValue::Text(name), sql::SqlValue::Int(id)) =
                (cell(&set, row, "name"), cell(&set, row, "database_id"))
            else {
                return Err(invalid_input("name or database_id has another type"));
            };
            names.push(json!({"name": name, "id": id}));
        }
        let stream = conn.stream("SELECT n FROM numbers", &[])?;
        let mut streamed = 0u64;
        loop {
            let batch = stream.next_batch(1000)?;
            if batch.is_empty() {
                break;
            }
            streamed += batch.len() as u64;
        }
        let affected = conn.execute("UPDATE t SET x = 1", &[])?;
        Ok(json!({"schema": "test.discover/1", "databases": names, "streamed": streamed, "affected": affected}).to_string())
    }

    /// Lists and reads a file of the granted `scripts` folder.
    fn collect(request: &str) -> Result<String, Error> {
        let path: String = parse_document::<serde_json::Value>(request, "collect request")?["path"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let entries = fs::list("scripts", "")?;
        let bytes = fs::read("scripts", &path, 0, 1 << 20)?;
        Ok(json!({
            "entries": entries.iter().map(|e| e.path.clone()).collect::<Vec<_>>(),
            "text": String::from_utf8_lossy(&bytes),
        })
        .to_string())
    }

    fn assess(inventory: &str, _options: &str) -> Result<Vec<Finding>, Error> {
        let inv: Inventory = parse_document(inventory, "inventory")?;
        let total = inv.instances.len() as u64;
        let mut out = Vec::new();
        for (i, inst) in inv.instances.iter().enumerate() {
            log::progress(i as u64, Some(total), &inst.name);
            for db in inst
                .databases
                .iter()
                .filter(|d| d.compatibility_level < 100)
            {
                out.push(Finding {
                    rule_id: "DbCompatLevelLowerThan100".into(),
                    level: FindingLevel::Warning,
                    scope: FindingScope::Database,
                    instance: inst.name.clone(),
                    database: Some(db.name.clone()),
                    object: None,
                    file: None,
                    line: None,
                    title: "Compatibility level below 100".into(),
                    message: format!("{} is at level {}", db.name, db.compatibility_level),
                    impact: "The level is raised on restore.".into(),
                    remediation: "Test the application at level 100 or above.".into(),
                    help_url: None,
                });
            }
        }
        log::info(&format!("{} findings", out.len()));
        Ok(out)
    }

    /// Counts its runs in durable state.
    fn plan(_request: &str) -> Result<String, Error> {
        let runs = match state::get("runs")? {
            Some(b) => u64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
            None => 0,
        } + 1;
        state::set("runs", &runs.to_le_bytes())?;
        Ok(json!({"runs": runs, "keys": state::keys("")?}).to_string())
    }

    /// Stages two blocks, commits them, lists and reads back a range.
    fn run_step(_step: &str) -> Result<String, Error> {
        let c = blob::open("backups")?;
        c.put_block("db1/full.bak", "b0", b"hello ")?;
        c.put_block("db1/full.bak", "b1", b"world")?;
        c.commit_block_list("db1/full.bak", &["b0".to_string(), "b1".to_string()])?;
        let listed = c.list("db1/")?;
        let range = c.read_range("db1/full.bak", 6, 5)?;
        Ok(json!({
            "listed": listed.iter().map(|b| (b.name.clone(), b.size)).collect::<Vec<_>>(),
            "range": String::from_utf8_lossy(&range),
            "url": c.url("db1/full.bak"),
        })
        .to_string())
    }

    /// Sends a request to the request's URL (allowed or not is the host's business).
    /// GETs `url`; or stores a blob named `blob`; or, given `credential`, reads that cloud credential and tries every way of
    /// handing it on: the answer, the log and (with `store`) the state.
    fn cutover(request: &str) -> Result<String, Error> {
        let req = parse_document::<serde_json::Value>(request, "cutover request")?;
        if let Some(name) = req["credential"].as_str() {
            let value = credentials::get(name)?;
            log::info(&format!("the credential is {value:?}"));
            progress::report(0, None, &format!("signing with {value:?}"));
            if req["store"].as_bool() == Some(true) {
                state::set("leak", value.clone().unwrap_or_default().as_bytes())?;
            }
            if req["store_key"].as_bool() == Some(true) {
                state::set(&value.clone().unwrap_or_default(), b"x")?;
            }
            if req["panic"].as_bool() == Some(true) {
                panic!("giving up with {value:?}");
            }
            return Ok(json!({"value": value}).to_string());
        }
        // Text meant for the operator's terminal: reported, logged, then failed or panicked with.
        if let Some(text) = req["say"].as_str() {
            progress::report(0, None, text);
            log::warn(text);
            if req["panic"].as_bool() == Some(true) {
                panic!("{text}");
            }
            return Err(invalid_input(text));
        }
        if let Some(name) = req["blob"].as_str() {
            let c = blob::open("backups")?;
            c.put_block(name, "b0", b"x")?;
            c.commit_block_list(name, &["b0".to_string()])?;
            return Ok(json!({"stored": name}).to_string());
        }
        let url = parse_document::<serde_json::Value>(request, "cutover request")?["url"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let resp = http::send(&http::Request {
            method: "GET".into(),
            url,
            headers: vec![],
            body: vec![],
        })?;
        Ok(json!({"status": resp.status, "body": String::from_utf8_lossy(&resp.body)}).to_string())
    }

    /// Sleeps in the host and reports how long it took; or runs `queries` one-row queries on
    /// `source` (the benchmark's measure of one sql round trip); or reads the result of `query`.
    fn validate(request: &str) -> Result<String, Error> {
        let req = parse_document::<serde_json::Value>(request, "validate request")?;
        // A result as wide as `query` returns, read whole or (`batch` rows at a time) streamed:
        // the host must not hold more of it than this plugin's memory could.
        if let Some(statement) = req["query"].as_str() {
            let conn = sql::connect("source")?;
            let Some(batch) = req["batch"].as_u64() else {
                let sets = conn.query(statement, &[])?;
                return Ok(
                    json!({"rows": sets.iter().map(|s| s.rows.len()).sum::<usize>()}).to_string(),
                );
            };
            let stream = conn.stream(statement, &[])?;
            let mut batches = Vec::new();
            loop {
                let rows = stream.next_batch(batch as u32)?;
                if rows.is_empty() {
                    break;
                }
                batches.push(rows.len());
            }
            return Ok(json!({"batches": batches}).to_string());
        }
        if let Some(n) = req["queries"].as_u64() {
            let conn = sql::connect("source")?;
            let mut rows = 0;
            for _ in 0..n {
                rows += conn.query("SELECT 1", &[])?[0].rows.len();
            }
            return Ok(json!({"rows": rows}).to_string());
        }
        let ms = req["sleep_ms"].as_u64().unwrap_or(0);
        let t0 = clock::now();
        clock::sleep(ms);
        Ok(json!({"slept_ms": clock::now() - t0}).to_string())
    }
}

impl exports::sqlmig::plugin::hooks::Guest for Full {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            summary: Full::summary().into(),
        }
    }
    fn discover(request: String) -> Result<String, Error> {
        Full::discover(&request)
    }
    fn collect(request: String) -> Result<String, Error> {
        Full::collect(&request)
    }
    fn assess(inventory: String, options: String) -> Result<Vec<Finding>, Error> {
        Full::assess(&inventory, &options)
    }
    fn plan(request: String) -> Result<String, Error> {
        Full::plan(&request)
    }
    fn run_step(step: String) -> Result<String, Error> {
        Full::run_step(&step)
    }
    fn cutover(request: String) -> Result<String, Error> {
        Full::cutover(&request)
    }
    fn validate(request: String) -> Result<String, Error> {
        Full::validate(&request)
    }
}

export!(Full);
