//! sqlsim read by python-tds (PyPI, pinned in tests/python/requirements.txt), a TDS client this
//! project did not write: login, result types as the column metadata declares them, names,
//! parameters and errors. tiberius agrees with sqlsim wherever both were written from the same
//! reading; a second client catches what that reading got wrong.

use crate::common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{PW, server};
use serde_json::{Value, json};

/// Runs `cases` through tests/sqlsim/tests/python_tds/probe.py as `user`/`password`.
fn probe(port: u16, user: &str, password: &str, cases: Value) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../../target/python-venv/bin/python");
    assert!(
        python.exists(),
        "python-tds is not installed: run scripts/test, which creates target/python-venv from \
         tests/python/requirements.txt"
    );
    let mut child = Command::new(python)
        .arg(root.join("tests/python_tds/probe.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let job = json!({
        "server": "127.0.0.1", "port": port, "user": user, "password": password, "cases": cases,
    });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "probe.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// python-tds' type codes (pytds.tds_base), as its cursor.description reports them.
const INT: i64 = 56;
const BIGINT: i64 = 127;
const DECIMAL: i64 = 106;
const MONEY: i64 = 60;
const FLOAT: i64 = 62;
const DATETIME2: i64 = 42;
const NVARCHAR: i64 = 231;
/// nvarchar(max), which python-tds reports with ntext's code; it sends a str parameter as one.
const NVARCHAR_MAX: i64 = 99;
const VARBINARY: i64 = 165;

/// A case's first result set; panics on an error.
fn first(result: &Value) -> &Value {
    assert!(result.get("error").is_none(), "{result}");
    &result["sets"][0]
}

/// (name, type code) of each column of a case's first result set.
fn shape(result: &Value) -> Vec<(String, i64)> {
    first(result)["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("not a result set: {result}"))
        .iter()
        .map(|c| (c[0].as_str().unwrap().to_string(), c[1].as_i64().unwrap()))
        .collect()
}

/// (precision, scale) the metadata declares for column `i`.
fn precision_scale(result: &Value, i: usize) -> (i64, i64) {
    let c = &first(result)["columns"][i];
    (c[2].as_i64().unwrap(), c[3].as_i64().unwrap())
}

fn cols(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected.iter().map(|(n, t)| (n.to_string(), *t)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn python_tds_reads_types_names_parameters_and_errors_as_a_server_sends_them() {
    let s = server().await;
    let port = s.addr.port();
    let cases = json!([
        // 0: a table of the types whose aggregates a server widens.
        {"sql": "CREATE TABLE dbo.Prices (id int, qty bigint, price decimal(12,2), cost money, \
                 ratio float, at datetime2(7));
                 INSERT INTO dbo.Prices VALUES
                   (1, 5000000000, 622.33, 622.33, 0.5, '2020-01-02 03:04:05.1234567'),
                   (2, 5000000000, 622.33, 622.33, 0.25, '2021-06-07 08:09:10.5000000')"},
        // 1: sum-transact-sql.md, avg-transact-sql.md, max-transact-sql.md.
        {"sql": "SELECT SUM(id) AS si, SUM(qty) AS sq, SUM(price) AS sp, AVG(price) AS ap, \
                 SUM(cost) AS sc, SUM(ratio) AS sr, MAX(at) AS mx FROM dbo.Prices"},
        // 2: count-transact-sql.md and count-big-transact-sql.md; sys.partitions.rows is bigint.
        {"sql": "SELECT COUNT(*) AS n, COUNT_BIG(*) AS nb, SUM(p.rows) AS r \
                 FROM sys.partitions AS p"},
        // 3: constants and an expression with no alias: no name, and the constant's type.
        {"sql": "SELECT 1 + 1, ISNULL(NULL, N'x'), CAST(10.10 AS decimal(12,2)) AS d, 3.5 AS c"},
        // 4: sp_executesql parameters (python-tds sends them by RPC).
        {"sql": "SELECT %s AS b, DATALENGTH(%s) AS n, %s AS u",
         "params": [{"binary": "00ff"}, {"binary": "00ff"}, "žluťoučký kůň"]},
        // 5: sp_executesql written in a batch, with a value by position and one by name.
        {"sql": "EXEC sp_executesql N'SELECT @a + 1 AS a, @b AS b', N'@a int, @b nvarchar(10)', \
                 41, @b = N'x'"},
        // 6: a USE inside sp_executesql ends with it (sp-executesql-transact-sql.md).
        {"sql": "EXEC sp_executesql N'USE tempdb'; SELECT DB_NAME() AS db"},
        // 7: a missing table on the batch's second line.
        {"sql": "SELECT 1 AS one;\nSELECT * FROM dbo.NoSuchTable"},
        // 8: a syntax error.
        {"sql": "SELEC 1"},
        // 9: a CTE's column is typed by the CTE's own query.
        {"sql": "WITH t AS (SELECT CAST(cost AS decimal(10,4)) AS c FROM dbo.Prices) \
                 SELECT SUM(c) AS s FROM t"},
    ]);
    // The probe waits for a child process: off the runtime sqlsim answers it on.
    let out = tokio::task::spawn_blocking(move || probe(port, "sa", PW, cases))
        .await
        .unwrap();
    let r = out["results"].as_array().unwrap_or_else(|| panic!("{out}"));
    assert!(r[0].get("error").is_none(), "{}", r[0]);
    assert_eq!(r[0]["sets"], json!([]));

    assert_eq!(
        shape(&r[1]),
        cols(&[
            ("si", INT),
            ("sq", BIGINT),
            ("sp", DECIMAL),
            ("ap", DECIMAL),
            ("sc", MONEY),
            ("sr", FLOAT),
            ("mx", DATETIME2)
        ])
    );
    // decimal(38,2) for SUM, decimal(38,6) for AVG: precision and scale from the metadata.
    assert_eq!(precision_scale(&r[1], 2), (38, 2));
    assert_eq!(precision_scale(&r[1], 3), (38, 6));
    assert_eq!(
        first(&r[1])["rows"][0],
        json!([
            3,
            10_000_000_000i64,
            "1244.66",
            "622.33",
            "1244.66",
            0.75,
            "2021-06-07T08:09:10.500000"
        ])
    );

    assert_eq!(
        shape(&r[2]),
        cols(&[("n", INT), ("nb", BIGINT), ("r", BIGINT)])
    );
    assert_eq!(first(&r[2])["rows"][0][0], first(&r[2])["rows"][0][1]);

    assert_eq!(
        shape(&r[3]),
        cols(&[("", INT), ("", NVARCHAR), ("d", DECIMAL), ("c", DECIMAL)])
    );
    assert_eq!(precision_scale(&r[3], 2), (12, 2));
    assert_eq!(precision_scale(&r[3], 3), (2, 1));
    // python-tds divides by 10^scale, so 1010 at scale 2 prints as 10.1: the scale is in the
    // metadata above, not in the printed digits.
    assert_eq!(first(&r[3])["rows"][0], json!([2, "x", "10.1", "3.5"]));

    assert_eq!(
        shape(&r[4]),
        cols(&[("b", VARBINARY), ("n", INT), ("u", NVARCHAR_MAX)])
    );
    assert_eq!(first(&r[4])["rows"][0], json!(["00ff", 2, "žluťoučký kůň"]));

    assert_eq!(shape(&r[5]), cols(&[("a", INT), ("b", NVARCHAR)]));
    assert_eq!(first(&r[5])["rows"][0], json!([42, "x"]));

    assert_eq!(first(&r[6])["rows"][0], json!(["master"]));

    // The first statement's rows arrive before the error.
    assert_eq!(r[7]["sets"][0]["rows"], json!([[1]]));
    assert_eq!(r[7]["error"]["number"], 208);
    assert_eq!(r[7]["error"]["severity"], 16);
    assert_eq!(r[7]["error"]["line"], 2);
    assert_eq!(
        r[7]["error"]["text"],
        "Invalid object name 'dbo.NoSuchTable'."
    );
    assert_eq!(r[8]["error"]["number"], 102);
    assert_eq!(r[8]["error"]["severity"], 15);

    assert_eq!(shape(&r[9]), cols(&[("s", DECIMAL)]));
    assert_eq!(precision_scale(&r[9], 0), (38, 4));
    assert_eq!(first(&r[9])["rows"], json!([["1244.66"]]));

    // A wrong password is login failure 18456, severity 14.
    let denied =
        tokio::task::spawn_blocking(move || probe(port, "sa", "not-the-password", json!([])))
            .await
            .unwrap();
    assert_eq!(denied["login_error"]["number"], 18456, "{denied}");
    assert_eq!(denied["login_error"]["severity"], 14);
    assert_eq!(denied["login_error"]["text"], "Login failed for user 'sa'.");
}
