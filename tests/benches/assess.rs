//! Assessment at scale, through the real `sqlmig` binary and the bundled rules-mi: an inventory
//! of 10 instances × 100 databases (1,000) with 100 procedures each (100,000 module definitions,
//! about 1 KB of T-SQL apiece). Every procedure raises errors with `RAISERROR(…)`, a fifth use a
//! cursor (`FETCH NEXT`), and one in a hundred uses each of xp_cmdshell, legacy RAISERROR and a
//! `*=` join (real findings). Two runs: as written, where the text rules' prefilter lets only the
//! procedures with findings through to the tokenizer, and a worst case where every procedure
//! also calls `sp_executesql`, so all 100,000 are tokenized and scanned.
//!
//! `cargo bench -p sqlmig-tests --bench assess`; prints a table for docs/benchmarks.md.

use std::time::{Duration, Instant};

const INSTANCES: usize = 10;
const DATABASES: usize = 100;
const MODULES: usize = 100;
const RUNS: usize = 3;

/// The body of procedure `m`: ordinary code, some with a cursor, a few with MI findings.
fn procedure(m: usize, every_scanned: bool) -> String {
    let mut body = format!(
        "CREATE PROCEDURE dbo.usp_Order{m}\n    @CustomerId INT,\n    @From DATE = NULL\nAS\n\
         -- Returns the customer's orders since @From; written for the order service.\n\
         BEGIN\n    SET NOCOUNT ON;\n    DECLARE @since DATE = COALESCE(@From, DATEADD(DAY, -30, SYSDATETIME()));\n\
         \n    IF NOT EXISTS (SELECT 1 FROM dbo.Customers WHERE CustomerId = @CustomerId)\n    BEGIN\n\
         \x20       RAISERROR('Customer %d not found', 16, 1, @CustomerId);\n        RETURN;\n    END\n\
         \n    SELECT o.OrderId, o.OrderDate, o.Status, SUM(l.Quantity * l.UnitPrice) AS Total\n\
         \x20   FROM dbo.Orders AS o\n    JOIN dbo.OrderLines AS l ON l.OrderId = o.OrderId\n\
         \x20   WHERE o.CustomerId = @CustomerId AND o.OrderDate >= @since\n\
         \x20   GROUP BY o.OrderId, o.OrderDate, o.Status\n    ORDER BY o.OrderDate DESC;\n\
         \n    UPDATE dbo.Customers SET LastSeen = SYSDATETIME() WHERE CustomerId = @CustomerId;\n"
    );
    if m.is_multiple_of(5) {
        body.push_str(
            "\n    DECLARE @id INT;\n    DECLARE c CURSOR LOCAL FAST_FORWARD FOR\n\
             \x20       SELECT OrderId FROM dbo.Orders WHERE Status = 'open';\n    OPEN c;\n\
             \x20   FETCH NEXT FROM c INTO @id;\n    WHILE @@FETCH_STATUS = 0\n    BEGIN\n\
             \x20       EXEC dbo.usp_Touch @id;\n        FETCH NEXT FROM c INTO @id;\n    END\n\
             \x20   CLOSE c;\n    DEALLOCATE c;\n",
        );
    }
    match m % 100 {
        7 => body.push_str(
            "    EXEC master..xp_cmdshell 'bcp dbo.Orders out c:\\export\\orders.dat -T -n';\n",
        ),
        8 => body.push_str("    RAISERROR 50001 'The order service is closed';\n"),
        9 => body.push_str(
            "    SELECT * FROM dbo.Orders o, dbo.Returns r WHERE o.OrderId *= r.OrderId;\n",
        ),
        _ => {}
    }
    if every_scanned {
        body.push_str("    EXEC sp_executesql N'SELECT 1';\n");
    }
    body.push_str("END\n");
    body
}

/// The inventory as JSON, and its total module text in bytes.
fn inventory(every_scanned: bool) -> (String, usize) {
    let mut text_bytes = 0;
    let mut instances = Vec::new();
    for i in 0..INSTANCES {
        let mut databases = Vec::new();
        for d in 0..DATABASES {
            let modules: Vec<serde_json::Value> = (0..MODULES)
                .map(|m| {
                    let definition = procedure(m, every_scanned);
                    text_bytes += definition.len();
                    serde_json::json!({
                        "schema": "dbo", "name": format!("usp_Order{m}"),
                        "type_desc": "SQL_STORED_PROCEDURE", "definition": definition,
                    })
                })
                .collect();
            databases.push(serde_json::json!({
                "name": format!("App{d:03}"), "database_id": d + 5, "compatibility_level": 130,
                "size_mb": 2048.0, "modules": modules,
            }));
        }
        instances.push(serde_json::json!({ "name": format!("SQL{i:02}"), "databases": databases }));
    }
    let doc = serde_json::json!({ "schema": "sqlmig.inventory/1", "instances": instances });
    (serde_json::to_string(&doc).unwrap(), text_bytes)
}

/// Median wall time of `sqlmig assess` over the inventory, and its fastest and slowest runs.
fn measure(home: &std::path::Path, json: &str) -> (Duration, Duration, Duration) {
    let path = home.join("inventory.json");
    std::fs::write(&path, json).unwrap();
    let report = home.join("assessment.json");
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
            .env("SQLMIG_HOME", home)
            .args([
                "assess",
                "--inventory",
                path.to_str().unwrap(),
                "-o",
                "json",
                "--out",
            ])
            .arg(&report)
            .output()
            .unwrap();
        times.push(started.elapsed());
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let a: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        // Every database has one procedure of each finding kind, and a compatibility note.
        assert_eq!(
            a["findings"].as_array().unwrap().len(),
            INSTANCES * DATABASES * 4
        );
    }
    times.sort();
    (times[RUNS / 2], times[0], times[RUNS - 1])
}

fn main() {
    let home = tempfile::tempdir().unwrap();
    let modules = INSTANCES * DATABASES * MODULES;
    println!(
        "{INSTANCES} instances, {} databases, {modules} modules, {} findings; median of {RUNS} runs",
        INSTANCES * DATABASES,
        INSTANCES * DATABASES * 4
    );
    println!();
    println!(
        "| modules tokenized | inventory JSON | T-SQL | assess, wall | per module | fastest / slowest |"
    );
    println!("|---|---|---|---|---|---|");
    for every_scanned in [false, true] {
        let (json, text_bytes) = inventory(every_scanned);
        let (median, fastest, slowest) = measure(home.path(), &json);
        println!(
            "| {} | {:.1} MiB | {:.1} MiB | {:.2} s | {:.1} µs | {:.2} s / {:.2} s |",
            if every_scanned {
                "all (worst case)"
            } else {
                "3% (those with findings)"
            },
            json.len() as f64 / 1048576.0,
            text_bytes as f64 / 1048576.0,
            median.as_secs_f64(),
            median.as_secs_f64() * 1e6 / modules as f64,
            fastest.as_secs_f64(),
            slowest.as_secs_f64(),
        );
    }
}
