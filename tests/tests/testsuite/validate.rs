//! `sqlmig validate` end to end on pairs of sqlsim servers: identical databases pass; a changed,
//! a missing and an extra row, a changed column type, a missing index and a changed procedure
//! are each reported exactly; case-sensitive text, NULLs, Unicode, floats, binary and max types
//! compare correctly; a 1,000,000-row table with one changed row is settled without its rows
//! crossing the wire (the bytes the servers sent are counted).

use sqlmig_tests::cli::{Sqlmig, assert_code, stderr, stdout};
use sqlmig_tests::estate::{SA_PASSWORD, million_rows, serve};
use sqlmig_tests::migration::run;
use sqlsim::instance::{DatabaseSpec, DatabaseUser, Instance, Platform};
use sqlsim::server::ServerHandle;

/// The Shop database as the source has it.
fn shop() -> Vec<String> {
    vec![
        "CREATE TABLE dbo.Customers (id INT PRIMARY KEY, name NVARCHAR(40) NOT NULL, email NVARCHAR(80))".into(),
        "DECLARE @i INT = 1; WHILE @i <= 60 BEGIN INSERT INTO dbo.Customers VALUES (@i, N'customer ' + CONVERT(NVARCHAR(10), @i), CASE WHEN @i % 7 = 0 THEN NULL ELSE N'c' + CONVERT(NVARCHAR(10), @i) + N'@example.com' END); SET @i = @i + 1; END".into(),
        "CREATE TABLE dbo.Orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL, note NVARCHAR(40))".into(),
        "DECLARE @i INT = 1; WHILE @i <= 700 BEGIN INSERT INTO dbo.Orders VALUES (@i, @i % 60 + 1, @i * 1.25, N'order ' + CONVERT(NVARCHAR(10), @i)); SET @i = @i + 1; END".into(),
        "CREATE INDEX IX_Orders_Customer ON dbo.Orders (customer_id) INCLUDE (total)".into(),
        "CREATE TABLE dbo.Log (at INT, what NVARCHAR(20))".into(),
        "INSERT INTO dbo.Log VALUES (1, N'start'), (2, N'stop')".into(),
        "CREATE PROCEDURE dbo.TopCustomers AS\nSELECT TOP (10) customer_id, SUM(total) AS spent FROM dbo.Orders GROUP BY customer_id ORDER BY spent DESC".into(),
    ]
}

fn instance(platform: Platform, setup: Vec<String>) -> Instance {
    let mut i = Instance::default_with_sa(SA_PASSWORD);
    i.platform = platform;
    i.databases = vec![DatabaseSpec {
        setup,
        users: vec![DatabaseUser {
            name: "app".into(),
            grants: vec!["SELECT ON dbo.Orders".into()],
            ..Default::default()
        }],
        ..DatabaseSpec::named("Shop")
    }];
    i
}

struct Pair {
    source: ServerHandle,
    target: ServerHandle,
    s: Sqlmig,
}

async fn pair(source_setup: Vec<String>, target_setup: Vec<String>) -> Pair {
    Pair {
        source: serve(instance(Platform::Onprem, source_setup), "127.0.0.1", 0).await,
        target: serve(instance(Platform::Mi, target_setup), "127.0.0.1", 0).await,
        s: Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test")),
    }
}

impl Pair {
    async fn validate(&self, extra: &[&str]) -> std::process::Output {
        self.validate_with(extra, SA_PASSWORD).await
    }

    /// `sqlmig validate` as sa on both sides, the source's password as given.
    async fn validate_with(&self, extra: &[&str], source_password: &str) -> std::process::Output {
        let source = format!("127.0.0.1,{}", self.source.addr.port());
        let target = format!("127.0.0.1,{}", self.target.addr.port());
        let mut args = vec![
            "validate",
            "--source",
            &source,
            "--target",
            &target,
            "--source-user",
            "sa",
            "--target-user",
            "sa",
            "--trust-server-certificate",
        ];
        args.extend(extra);
        run(
            &self.s,
            &args,
            &[
                ("SQLMIG_SOURCE_PASSWORD", source_password),
                ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD),
            ],
        )
        .await
    }

    async fn report(&self, extra: &[&str]) -> (i32, serde_json::Value) {
        let mut args = vec!["-o", "json"];
        args.extend(extra);
        let out = self.validate(&args).await;
        let json = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out)));
        (out.status.code().unwrap(), json)
    }
}

fn table<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["databases"][0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("{name} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_databases_pass() {
    let p = pair(shop(), shop()).await;
    let out = p.validate(&[]).await;
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(
        text.starts_with("EQUAL: 1 database(s), 3 table(s) — 3 equal"),
        "{text}"
    );
    assert!(
        text.contains(
            "schema: equal (tables 3, columns 9, indexes 3, modules 1, users 1, permissions 2)"
        ),
        "{text}"
    );
    let (code, r) = p.report(&[]).await;
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["equal"], true);
    let orders = table(&r, "dbo.Orders");
    assert_eq!(
        (
            orders["rows_source"].as_u64(),
            orders["rows_target"].as_u64()
        ),
        (Some(700), Some(700))
    );
    assert_eq!(orders["equal"], true);
    // An equal table costs its key's two ends and one batch of range aggregates a side (one
    // pass); no row crosses. A table without an integer key, one aggregate a side.
    assert_eq!(orders["queries"], 4, "{orders}");
    assert_eq!(orders["rows_read"], 0, "{orders}");
    let log = table(&r, "dbo.Log");
    assert_eq!(log["queries"], 2, "{log}");
    assert!(
        log["notes"][0].as_str().unwrap().contains("no primary key"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_difference_is_reported_where_it_is() {
    let mut target = shop();
    // A changed column type, no index, a changed procedure.
    target[0] = target[0].replace("email NVARCHAR(80)", "email NVARCHAR(100)");
    target.retain(|b| !b.starts_with("CREATE INDEX"));
    let last = target.len() - 1;
    target[last] = target[last].replace("TOP (10)", "TOP (5)");
    // One changed row, one missing, one extra.
    target.push("UPDATE dbo.Orders SET total = 99.99 WHERE id = 7".into());
    target.push("DELETE FROM dbo.Orders WHERE id = 300".into());
    target.push("INSERT INTO dbo.Orders VALUES (9001, 1, 1.00, N'extra')".into());
    let p = pair(shop(), target).await;
    let (code, r) = p.report(&["--leaf-rows", "16"]).await;
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["equal"], false);
    let schema = &r["databases"][0]["schema"]["differences"];
    let find = |kind: &str, object: &str| {
        schema
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == kind && d["object"] == object)
            .unwrap_or_else(|| panic!("{kind} {object} in {schema}"))
            .clone()
    };
    let email = find("column", "dbo.Customers.email");
    assert_eq!(email["what"], "type nvarchar(80) → nvarchar(100)");
    let index = find("index", "dbo.Orders IX_Orders_Customer");
    assert_eq!(index["what"], "missing on the target");
    assert_eq!(
        index["source"],
        "NONCLUSTERED (customer_id) INCLUDE (total)"
    );
    let proc = find("module", "dbo.TopCustomers");
    let what = proc["what"].as_str().unwrap();
    assert!(
        what.contains("TOP (10)") && what.contains("TOP (5)"),
        "{what}"
    );
    assert_eq!(
        schema.as_array().unwrap().len(),
        3,
        "nothing else differs: {schema}"
    );

    let orders = table(&r, "dbo.Orders");
    assert_eq!(orders["equal"], false);
    let diffs = orders["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 3, "{orders}");
    let by_key = |id: i64| {
        diffs
            .iter()
            .find(|d| d["key"][0] == serde_json::json!(["id", id]))
            .unwrap_or_else(|| panic!("id {id} in {orders}"))
    };
    let changed = by_key(7);
    assert_eq!(changed["kind"], "changed");
    assert_eq!(
        changed["columns"],
        serde_json::json!([{"column": "total", "source": "8.75", "target": "99.99"}])
    );
    assert_eq!(by_key(300)["kind"], "missing");
    assert_eq!(by_key(9001)["kind"], "extra");
    // Found by splitting ranges: far fewer rows read than the table holds.
    assert!(orders["rows_read"].as_u64().unwrap() < 200, "{orders}");
    // The other tables are equal.
    assert_eq!(table(&r, "dbo.Customers")["equal"], true);
    // Full mode (every row read) and the SHA-2 checksums name the same rows.
    for mode in [["--mode", "full"], ["--hash", "sha2"]] {
        let (code, r) = p.report(&mode).await;
        assert_eq!(code, 1, "{r}");
        let o = table(&r, "dbo.Orders");
        let mut keys: Vec<(String, i64)> = o["differences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["kind"].as_str().unwrap().to_string(),
                    d["key"][0][1].as_i64().unwrap(),
                )
            })
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                ("changed".to_string(), 7),
                ("extra".to_string(), 9001),
                ("missing".to_string(), 300)
            ],
            "{mode:?}: {o}"
        );
    }
    let (_, r) = p.report(&["--mode", "full"]).await;
    assert_eq!(
        table(&r, "dbo.Orders")["rows_read"],
        700 + 700,
        "full mode reads every row"
    );

    // The console says the same in words.
    let out = p.validate(&["--leaf-rows", "16"]).await;
    let text = stdout(&out);
    assert!(
        text.contains("column dbo.Customers.email: type nvarchar(80) → nvarchar(100)"),
        "{text}"
    );
    assert!(text.contains("id=7: total: \"8.75\" → \"99.99\""), "{text}");
    assert!(text.contains("id=300: missing on the target"), "{text}");
    assert!(text.contains("id=9001: only on the target"), "{text}");
}

/// A table of the types that trip comparisons up, keyed by case-sensitive text.
fn kinds() -> Vec<String> {
    let mut setup = vec![
        "CREATE TABLE dbo.Kinds (code VARCHAR(10) COLLATE Latin1_General_CS_AS NOT NULL PRIMARY KEY, label NVARCHAR(40) NULL, ratio FLOAT NULL, small VARBINARY(16) NULL, body NVARCHAR(MAX) NULL, raw VARBINARY(MAX) NULL)".to_string(),
    ];
    for c in "abcdefghij".chars() {
        for code in [c.to_string(), c.to_ascii_uppercase().to_string()] {
            setup.push(format!(
                "INSERT INTO dbo.Kinds VALUES ('{code}', N'Ünïcödé 日本 {code}', CAST(0.1 AS FLOAT) + CAST(0.2 AS FLOAT), 0x00FF, REPLICATE(N'x', 1000), 0x0102030405)"
            ));
        }
    }
    setup.push("INSERT INTO dbo.Kinds VALUES ('nulls', NULL, NULL, NULL, NULL, NULL)".into());
    setup
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_nulls_unicode_floats_binary_and_max_types_compare_exactly() {
    // Equal data of every kind is equal…
    let p = pair(kinds(), kinds()).await;
    let (code, r) = p.report(&["--leaf-rows", "2"]).await;
    assert_eq!(code, 0, "{r}");
    assert_eq!(table(&r, "dbo.Kinds")["rows_source"], 21);

    // …and each kind of change is found, on its key, in its column.
    let mut target = kinds();
    for change in [
        // Case: 'a' and 'A' are different keys, and 'b''s label changes only in case.
        "UPDATE dbo.Kinds SET label = N'ÜNÏCÖDÉ 日本 b' WHERE code = 'b'",
        // NULL against an empty string.
        "UPDATE dbo.Kinds SET label = N'' WHERE code = 'nulls'",
        // Unicode: one accent gone.
        "UPDATE dbo.Kinds SET label = N'Unïcödé 日本 C' WHERE code = 'C'",
        // A float's last bit: 0.1 + 0.2 is not 0.3.
        "UPDATE dbo.Kinds SET ratio = CAST(0.3 AS FLOAT) WHERE code = 'd'",
        "UPDATE dbo.Kinds SET small = 0x00FE WHERE code = 'E'",
        // Past the 255 characters BINARY_CHECKSUM reads of a string.
        "UPDATE dbo.Kinds SET body = REPLICATE(N'x', 899) + N'y' + REPLICATE(N'x', 100) WHERE code = 'f'",
        "UPDATE dbo.Kinds SET raw = 0x0102030406 WHERE code = 'G'",
    ] {
        target.push(change.into());
    }
    let p = pair(kinds(), target).await;
    let (code, r) = p.report(&["--leaf-rows", "2"]).await;
    assert_eq!(code, 1, "{r}");
    let t = table(&r, "dbo.Kinds");
    let diffs = t["differences"].as_array().unwrap();
    let changed: Vec<(String, String)> = diffs
        .iter()
        .map(|d| {
            assert_eq!(d["kind"], "changed", "{d}");
            let columns = d["columns"].as_array().unwrap();
            assert_eq!(columns.len(), 1, "{d}");
            (
                d["key"][0][1].as_str().unwrap().to_string(),
                columns[0]["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = [
        ("b", "label"),
        ("nulls", "label"),
        ("C", "label"),
        ("d", "ratio"),
        ("E", "small"),
        ("f", "body"),
        ("G", "raw"),
    ]
    .iter()
    .map(|(k, c)| (k.to_string(), c.to_string()))
    .collect();
    let mut got = changed.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{t}");
    let value = |key: &str| {
        diffs
            .iter()
            .find(|d| d["key"][0][1] == key)
            .map(|d| d["columns"][0].clone())
            .unwrap()
    };
    assert_eq!(value("nulls")["source"], serde_json::Value::Null);
    assert_eq!(value("nulls")["target"], "");
    assert_eq!(value("d")["source"], 0.30000000000000004);
    assert_eq!(value("d")["target"], 0.3);
    assert_eq!(value("E")["target"], "0x00FE");
    // The SHA-2 checksums find the same.
    let (_, r) = p.report(&["--leaf-rows", "2", "--hash", "sha2"]).await;
    assert_eq!(
        table(&r, "dbo.Kinds")["differences"]
            .as_array()
            .unwrap()
            .len(),
        7,
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_changed_row_of_a_million_is_found_without_moving_the_table() {
    let mut target = million_rows("Big");
    target.push("UPDATE dbo.Big SET amount = 0.01 WHERE id = 654321".into());
    let p = pair(million_rows("Big"), target).await;
    let sent = || p.source.bytes_sent() + p.target.bytes_sent();
    let before = sent();
    let (code, r) = p.report(&["--tables", "dbo.Big"]).await;
    let moved = sent() - before;
    assert_eq!(code, 1, "{r}");
    let t = table(&r, "dbo.Big");
    assert_eq!(t["rows_source"], 1_000_000);
    assert_eq!(
        t["differences"],
        serde_json::json!([{"kind": "changed", "key": [["id", 654321]], "columns": [{"column": "amount", "source": "817901.25", "target": "0.01"}]}])
    );
    // The ids alone are 4 MB a side; everything the servers sent for the whole run (schema
    // included) is a small fraction of that.
    assert!(moved < 200_000, "{moved} bytes sent for {t}");
    assert!(t["rows_read"].as_u64().unwrap() <= 2 * 256, "{t}");
    eprintln!(
        "1,000,000 rows, one changed: {moved} bytes sent by the servers, {} queries",
        t["queries"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_names_budgets_and_a_wrong_password_are_reported_as_such() {
    let mut target = shop();
    for id in [10, 20, 30] {
        target.push(format!(
            "UPDATE dbo.Orders SET note = N'changed' WHERE id = {id}"
        ));
    }
    let p = pair(shop(), target).await;
    // Names that do not exist: exit 2, with what does.
    let out = p.validate(&["--databases", "Shopp"]).await;
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("the source has no database Shopp (its online ones: Shop)"),
        "{}",
        stderr(&out)
    );
    let out = p.validate(&["--tables", "dbo.Nope"]).await;
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("--tables dbo.Nope: no table on both sides matches it"),
        "{}",
        stderr(&out)
    );
    let out = p.validate(&["--time-budget", "soon"]).await;
    assert_code(&out, 2);

    // The differences budget: two named, the rest said to be cut off.
    let (code, r) = p.report(&["--max-diffs", "2", "--tables", "Orders"]).await;
    assert_eq!(code, 1, "{r}");
    let orders = table(&r, "dbo.Orders");
    assert_eq!(
        orders["differences"].as_array().unwrap().len(),
        2,
        "{orders}"
    );
    assert_eq!(orders["truncated"], true);

    // The time budget: a slow target, a budget spent before the ranges are settled.
    p.target
        .faults()
        .delay_responses(Some(std::time::Duration::from_millis(300)));
    let (code, r) = p
        .report(&["--time-budget", "1s", "--leaf-rows", "4", "--parallel", "1"])
        .await;
    p.target.faults().delay_responses(None);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["equal"], false);
    let unfinished: Vec<&serde_json::Value> = r["databases"][0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["incomplete"].is_string() || t["not_compared"].is_string())
        .collect();
    assert!(!unfinished.is_empty(), "{r}");
    assert!(
        r["summary"]["tables_not_compared"].as_u64().unwrap() >= 1,
        "{r}"
    );

    // A wrong password: refused before anything is compared, naming the side, the server's
    // refusal and where the password came from, exit 2; the password appears nowhere.
    let out = p.validate_with(&[], "Wrong-Passw0rd-123").await;
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("the source refused the login sa")
            && stderr(&out).contains("18456")
            && stderr(&out)
                .contains("check --source-user and its password (SQLMIG_SOURCE_PASSWORD)"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("Wrong-Passw0rd-123")
            && !stdout(&out).contains("Wrong-Passw0rd-123")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_database_a_slower_target_and_the_html_report() {
    let p = pair(shop(), shop()).await;
    // The workload: one query flagged slower on a target that answers 40 ms late, one failing.
    let dir = tempfile::tempdir().unwrap();
    let workload = dir.path().join("workload.sql");
    std::fs::write(
        &workload,
        concat!(
            "-- name: spend by customer\n-- database: Shop\n",
            "SELECT customer_id, SUM(total) FROM dbo.Orders GROUP BY customer_id\nGO\n",
            "-- name: broken\nSELECT * FROM dbo.NoSuchTable\nGO\n",
            // GO lines inside a comment and a string are the statement's own: read as
            // separators, they would run the statements between them (a second failure).
            "-- name: commented\nSELECT COUNT(*) FROM dbo.Orders /*\nGO\nSELECT * FROM dbo.Smuggled\nGO\n*/\nGO\n",
            "-- name: quoted\nSELECT 'a\nGO\nSELECT * FROM dbo.Smuggled\nGO\n' AS s\nGO\n",
        ),
    )
    .unwrap();
    p.target
        .faults()
        .delay_responses(Some(std::time::Duration::from_millis(40)));
    let html = dir.path().join("validation.html");
    let out = p
        .validate(&[
            "--workload",
            workload.to_str().unwrap(),
            "--runs",
            "3",
            "-o",
            "html",
            "--out",
            html.to_str().unwrap(),
        ])
        .await;
    p.target.faults().delay_responses(None);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("DIFFERENT: 3 of 3 table(s) equal, 0 schema difference(s)"),
        "{}",
        stderr(&out)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<b>DIFFERENT</b>"), "{page}");
    assert!(
        page.contains("spend by customer") && page.contains("badge blocked"),
        "{page}"
    );
    // Only the broken query fails: the other runs in Shop (its USE in the same request), not in
    // the login's default database.
    assert_eq!(page.matches("Invalid object name").count(), 1, "{page}");
    assert!(
        page.contains("commented") && page.contains("quoted"),
        "{page}"
    );
    assert!(
        page.contains("NoSuchTable") && !page.contains("'dbo.Orders'"),
        "{page}"
    );
    assert!(page.contains("schema equal"), "{page}");

    // A database the target lacks.
    let p = pair(shop(), Vec::new()).await;
    let mut target = instance(Platform::Mi, Vec::new());
    target.databases.clear();
    let t = serve(target, "127.0.0.1", 0).await;
    let p = Pair { target: t, ..p };
    let (code, r) = p.report(&[]).await;
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["databases"][0]["missing_on_target"], true);
}

/// A database the login cannot open fails on its own: the others are compared, the report is
/// written, and the exit code says the worst (3, a server failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_that_cannot_be_read_fails_alone_and_the_report_is_written() {
    let with_locked = |platform| {
        let mut i = instance(platform, shop());
        i.databases.push(DatabaseSpec {
            setup: vec!["CREATE TABLE dbo.T (id INT PRIMARY KEY)".into()],
            ..DatabaseSpec::named("Locked")
        });
        i
    };
    let p = Pair {
        source: serve(with_locked(Platform::Onprem), "127.0.0.1", 0).await,
        target: serve(with_locked(Platform::Mi), "127.0.0.1", 0).await,
        s: Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test")),
    };
    p.source.faults().fail_requests_naming(
        "Locked",
        916,
        14,
        "The server principal \"sa\" is not able to access the database \"Locked\" under the current security context.",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("validation.json");
    let out = p
        .validate(&[
            "--databases",
            "Locked,Shop",
            "-o",
            "json",
            "--out",
            file.to_str().unwrap(),
        ])
        .await;
    assert_code(&out, 3);
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let db = |name: &str| {
        r["databases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["source"] == name)
            .unwrap_or_else(|| panic!("{name} in {r}"))
            .clone()
    };
    let locked = db("Locked");
    assert!(
        locked["error"].as_str().unwrap().contains("916"),
        "{locked}"
    );
    let shop_report = db("Shop");
    assert!(shop_report.get("error").is_none(), "{shop_report}");
    let tables = shop_report["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 3, "{shop_report}");
    assert!(tables.iter().all(|t| t["equal"] == true), "{shop_report}");
    assert_eq!(r["equal"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn users_roles_and_permissions_are_compared() {
    let with_users = |platform, users: Vec<DatabaseUser>| {
        let mut i = instance(platform, shop());
        i.databases[0].users = users;
        i
    };
    let app = |roles: Vec<&str>, grants: Vec<&str>| DatabaseUser {
        name: "app".into(),
        roles: roles.into_iter().map(str::to_string).collect(),
        grants: grants.into_iter().map(str::to_string).collect(),
        ..Default::default()
    };
    let source = with_users(
        Platform::Onprem,
        vec![app(
            vec!["db_datareader"],
            vec!["SELECT ON dbo.Orders", "EXECUTE ON SCHEMA::dbo"],
        )],
    );
    let target = with_users(
        Platform::Mi,
        vec![
            app(vec![], vec!["EXECUTE ON SCHEMA::dbo"]),
            DatabaseUser {
                name: "intruder".into(),
                ..Default::default()
            },
        ],
    );
    let p = Pair {
        source: serve(source, "127.0.0.1", 0).await,
        target: serve(target, "127.0.0.1", 0).await,
        s: Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test")),
    };
    let (code, r) = p.report(&["--mode", "counts"]).await;
    assert_eq!(code, 1, "{r}");
    let got: Vec<(String, String, String)> = r["databases"][0]["schema"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["object"].as_str().unwrap().to_string(),
                d["what"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |k: &str, o: &str, w: &str| (k.to_string(), o.to_string(), w.to_string());
    assert_eq!(
        got,
        [
            expect("user", "intruder", "only on the target"),
            expect(
                "role_member",
                "db_datareader ← app",
                "missing on the target"
            ),
            expect(
                "permission",
                "GRANT SELECT ON dbo.Orders TO app",
                "missing on the target"
            ),
            expect(
                "permission",
                "GRANT CONNECT TO intruder",
                "only on the target"
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn composite_keys_are_split_and_named_column_by_column() {
    let lines = || {
        vec![
            "CREATE TABLE dbo.Lines (order_id INT NOT NULL, line INT NOT NULL, qty INT NOT NULL, PRIMARY KEY (order_id, line))".to_string(),
            "DECLARE @o INT = 1; WHILE @o <= 40 BEGIN INSERT INTO dbo.Lines VALUES (@o, 1, @o), (@o, 2, @o * 2), (@o, 3, @o * 3); SET @o = @o + 1; END".to_string(),
        ]
    };
    let mut target = lines();
    target.push("UPDATE dbo.Lines SET qty = 0 WHERE order_id = 17 AND line = 2".into());
    target.push("DELETE FROM dbo.Lines WHERE order_id = 33 AND line = 3".into());
    let p = pair(lines(), target).await;
    let (code, r) = p.report(&["--leaf-rows", "4"]).await;
    assert_eq!(code, 1, "{r}");
    let t = table(&r, "dbo.Lines");
    assert_eq!(
        t["differences"],
        serde_json::json!([
            {"kind": "changed", "key": [["order_id", 17], ["line", 2]], "columns": [{"column": "qty", "source": 34, "target": 0}]},
            {"kind": "missing", "key": [["order_id", 33], ["line", 3]]},
        ]),
        "{t}"
    );
    // Split at boundaries (a composite key has no arithmetic): far fewer rows read than 240.
    assert!(t["rows_read"].as_u64().unwrap() < 60, "{t}");
}

/// `--hash sha2` where HASHBYTES cannot do it: SQL Server 2008 R2 has no SHA2_256 (it answers
/// NULL, so every row would hash alike), and before 2016 HASHBYTES takes at most 8,000 bytes.
/// Each table that cannot be hashed is not compared, saying why and what to use; the others are.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sha2_where_hashbytes_cannot_says_why() {
    let setup = vec![
        "CREATE TABLE dbo.Plain (id INT PRIMARY KEY, name NVARCHAR(40))".to_string(),
        "INSERT INTO dbo.Plain VALUES (1, N'a'), (2, N'b')".to_string(),
        "CREATE TABLE dbo.Notes (id INT PRIMARY KEY, body NVARCHAR(MAX))".to_string(),
        "INSERT INTO dbo.Notes VALUES (1, REPLICATE(CONVERT(NVARCHAR(MAX), N'x'), 5000))"
            .to_string(),
    ];
    // The target differs in the long note past its 4,000th character.
    let mut target_setup = setup.clone();
    target_setup[3] =
        "INSERT INTO dbo.Notes VALUES (1, REPLICATE(CONVERT(NVARCHAR(MAX), N'x'), 4999) + N'y')"
            .into();
    for (version, plain_compared) in [((10u8, 50u8, 6000u16), false), ((12, 0, 6024), true)] {
        let mut source = instance(Platform::Onprem, setup.clone());
        source.version = version;
        let p = Pair {
            source: serve(source, "127.0.0.1", 0).await,
            target: serve(instance(Platform::Mi, target_setup.clone()), "127.0.0.1", 0).await,
            s: Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test")),
        };
        let (code, r) = p.report(&["--hash", "sha2"]).await;
        assert_ne!(code, 0, "{version:?}: never reported equal: {r}");
        let notes = table(&r, "dbo.Notes");
        let why = notes["not_compared"].as_str().unwrap_or_default();
        assert!(why.contains("--hash checksum"), "{version:?}: {notes}");
        let plain = table(&r, "dbo.Plain");
        if plain_compared {
            assert_eq!(plain["equal"], true, "{plain}");
            assert!(
                why.contains("column body is hashed as nvarchar(max)")
                    && why.contains("8,000 bytes"),
                "{why}"
            );
        } else {
            assert!(
                plain["not_compared"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("no SHA2_256"),
                "{plain}"
            );
        }
        // The default checksum reads the long note whole and finds the difference.
        let (code, r) = p.report(&[]).await;
        assert_eq!(code, 1, "{r}");
        assert_eq!(table(&r, "dbo.Notes")["equal"], false, "{r}");
    }
}

/// A source owner names a type as SQL: a key column of an alias type whose quoted name holds
/// `)`, `]` and `'` — pasted into the key range's `CAST(@p0 AS …)`, it would end the cast and run
/// an EXEC with the validating login. The type is rebuilt from the catalog (its base system
/// type), so validate splits the key range, finds the changed row, and runs nothing it carries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_type_named_as_sql_is_a_name_not_sql() {
    let setup = || {
        vec![
            "CREATE TYPE [int]])));EXEC('CREATE TABLE dbo.Pwned (x int)')--] FROM int NOT NULL".to_string(),
            "CREATE TYPE dbo.[Phone'] FROM nvarchar(20)".to_string(),
            "CREATE TABLE dbo.Calls (id [int]])));EXEC('CREATE TABLE dbo.Pwned (x int)')--] PRIMARY KEY, phone dbo.[Phone'])".to_string(),
            "DECLARE @i INT = 1; WHILE @i <= 40 BEGIN INSERT INTO dbo.Calls VALUES (@i, N'+44 ' + CONVERT(NVARCHAR(10), @i)); SET @i = @i + 1; END".to_string(),
        ]
    };
    let mut target = setup();
    target.push("UPDATE dbo.Calls SET phone = N'changed' WHERE id = 23".into());
    let p = pair(setup(), target).await;
    let (code, r) = p.report(&["--leaf-rows", "4"]).await;
    assert_eq!(code, 1, "{r}");
    let t = table(&r, "dbo.Calls");
    assert_eq!(
        t["differences"],
        serde_json::json!([
            {"kind": "changed", "key": [["id", 23]], "columns": [{"column": "phone", "source": "+44 23", "target": "changed"}]},
        ]),
        "{t}"
    );
    assert!(
        t["rows_read"].as_u64().unwrap() < 40,
        "the key range was split: {t}"
    );
    for server in [&p.source, &p.target] {
        let mut s = sqlsim::engine::Session::new("sa", "Shop");
        let r = server.engine.execute(
            &mut s,
            "SELECT COUNT(*) FROM sys.tables WHERE name = 'Pwned'",
            &[],
        );
        assert!(r.error.is_none(), "{:?}", r.error);
        assert!(
            matches!(&r.outcomes[0], sqlsim::engine::Outcome::Rows { rows, .. } if rows[0][0] == sqlsim::tds::types::Value::Integer(0)),
            "nothing the type's name carries ran: {:?}",
            r.outcomes
        );
    }
}
