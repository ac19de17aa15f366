//! `sqlmig assess` through the real binary: readiness, the JSON and CSV reports, exit codes.

use sqlmig_tests::cli::{Sqlmig, stderr, stdout};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/inventories/mi-seed.json"
);
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/inventory.json");

#[test]
fn blockers_make_exit_code_1_and_the_report_says_where() {
    let s = sqlmig();
    let out = s.run(&["assess", "--inventory", SEED, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["schema"], "sqlmig.assessment/1");
    assert_eq!(a["rule_packs"][0], "rules-mi 0.1.0");
    let dbs = a["readiness"][0]["databases"].as_array().unwrap();
    let readiness = |name: &str| {
        dbs.iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))["readiness"]
            .clone()
    };
    assert_eq!(readiness("Clean"), "ready");
    assert_eq!(readiness("TwoLogs"), "blocked");
    assert_eq!(readiness("OldCompat"), "ready_with_warnings");
    assert_eq!(readiness("Docs"), "blocked");
    assert_eq!(a["readiness"][0]["readiness"], "blocked");
    // TwoLogs and Docs on SQL01, Huge on SQL02 (Broker's route to a SQL Server is a preview,
    // a warning), Code (not CleanCode) on SQL03, Featured (in-memory OLTP on General Purpose)
    // on SQL04.
    assert_eq!(a["summary"]["blocked_databases"], 5);
    assert_eq!(a["readiness"][2]["databases"][1]["name"], "CleanCode");
    assert_eq!(a["readiness"][2]["databases"][1]["readiness"], "ready");
    assert_eq!(a["readiness"][1]["name"], "SQL02");
    assert_eq!(a["readiness"][1]["readiness"], "blocked");
    let f = a["findings"].as_array().unwrap();
    let two_logs = f
        .iter()
        .find(|f| f["rule_id"] == "MultipleLogFiles")
        .unwrap();
    assert_eq!(two_logs["database"], "TwoLogs");
    assert_eq!(two_logs["level"], "issue");
    assert!(!two_logs["remediation"].as_str().unwrap().is_empty());
}

#[test]
fn csv_has_a_row_per_finding_and_the_console_a_summary() {
    let s = sqlmig();
    let file = s.home.path().join("findings.csv");
    let out = s.run(&[
        "assess",
        "--inventory",
        SEED,
        "-o",
        "csv",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let csv = std::fs::read_to_string(&file).unwrap();
    let json = s.json_with_code(&["assess", "--inventory", SEED, "-o", "json"], 1);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("rule_id,level,scope,instance,database"));
    assert_eq!(lines.len() - 1, json["findings"].as_array().unwrap().len());
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("MultipleLogFiles,issue,database,SQL01\\LEGACY,TwoLogs")),
        "{csv}"
    );

    let out = s.run(&["assess", "--inventory", SEED]);
    let text = stdout(&out);
    assert!(text.contains("blocked"), "{text}");
    assert!(text.contains("MultipleLogFiles"), "{text}");
}

#[test]
fn the_example_estate_assesses() {
    let s = sqlmig();
    let out = s.run(&["assess", "--inventory", EXAMPLE]);
    // The example has blockers (FILESTREAM, two log files): exit 1, with a report.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("3 instances"), "{text}");
    assert!(text.contains("SQLPROD01\\SALES"), "{text}");
}

#[test]
fn bad_input_is_refused() {
    let s = sqlmig();
    let out = s.run(&["assess", "--inventory", "/nonexistent.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent.json"));
    let out = s.run(&["assess", "--inventory", SEED, "--rules", "no-such-pack"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-pack"), "{}", stderr(&out));
    let out = s.run(&["assess", "--inventory", SEED, "--rules", "platform-onprem"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a rule pack"), "{}", stderr(&out));
    let out = s.run(&["plugin", "list", "-o", "csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--output csv and html are for reports"));
    let out = s.run(&["plugin", "list", "-o", "html"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_html_report_is_one_self_contained_file() {
    let s = sqlmig();
    let file = s.home.path().join("report.html");
    let out = s.run(&[
        "assess",
        "--inventory",
        SEED,
        "-o",
        "html",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    // Nothing to fetch: no scripts, stylesheets, images, fonts or imports.
    for external in ["<script", "<link", "<img", "url(", "@import", " src="] {
        assert!(!html.contains(external), "{external}");
    }
    // Readiness, findings by rule with what to do, findings by database.
    assert!(html.contains("<h2 id=\"readiness\">Readiness</h2>"));
    assert!(html.contains("<code>MultipleLogFiles</code> More than one log file"));
    assert!(html.contains("Empty and remove the extra log files"));
    assert!(html.contains("<h4 id=\"db-SQL01-LEGACY-TwoLogs\">TwoLogs <span class=\"badge blocked\">blocked</span></h4>"));
    assert!(html.contains("href=\"#db-SQL01-LEGACY-TwoLogs\""));

    // Names from the inventory are text, never markup.
    let inv = s.home.path().join("inv.json");
    std::fs::write(
        &inv,
        r#"{"schema":"sqlmig.inventory/1","instances":[{"name":"S","databases":[
            {"name":"<script>alert(1)</script>","database_id":5,"compatibility_level":80}]}]}"#,
    )
    .unwrap();
    let out = s.run(&["assess", "--inventory", inv.to_str().unwrap(), "-o", "html"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = stdout(&out);
    assert!(!html.contains("<script>alert"));
    // askama writes the characters as numeric references.
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
}

#[test]
fn html_and_csv_are_for_reports_only() {
    let s = sqlmig();
    let out = s.run(&["plugin", "list", "-o", "html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("are for reports"), "{}", stderr(&out));
}

#[test]
fn the_target_tier_reaches_the_rule_pack() {
    let s = sqlmig();
    let assess = |target: &str| {
        s.json_with_code(
            &[
                "assess",
                "--inventory",
                SEED,
                "--target",
                target,
                "-o",
                "json",
            ],
            1,
        )
    };
    let blocked = |a: &serde_json::Value| {
        let mut names: Vec<String> = a["readiness"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["databases"].as_array().unwrap())
            .filter(|d| d["readiness"] == "blocked")
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    // Huge (19 TB) fits Next-gen General Purpose's 32 TB only; Featured's in-memory OLTP
    // blocks both General Purpose tiers.
    let gp = assess("mi-gp");
    assert_eq!(
        blocked(&gp),
        ["Code", "Docs", "Featured", "Huge", "TwoLogs"]
    );
    assert_eq!(
        (gp["target"].as_str(), gp["update_policy"].as_str()),
        (Some("mi-gp"), Some("sql-server-2022"))
    );
    assert_eq!(
        blocked(&assess("mi-gp-nextgen")),
        ["Code", "Docs", "Featured", "TwoLogs"]
    );
    assert_eq!(
        blocked(&assess("mi-bc")),
        ["Code", "Docs", "Huge", "TwoLogs"]
    );
    let out = s.run(&["assess", "--inventory", SEED, "--target", "sql-db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("mi-gp-nextgen"), "{}", stderr(&out));
}

/// 150 databases on one instance: more than General Purpose or Business Critical hold (a
/// warning, Microsoft's level for NumDbExceeds100: the instance can be split), within Next-gen
/// General Purpose's 500; the console says which target it assumed.
#[test]
fn an_instance_of_150_databases_fits_next_gen_only() {
    let s = sqlmig();
    let dbs: Vec<serde_json::Value> = (1..=150)
        .map(|i| serde_json::json!({"name": format!("db{i}"), "database_id": 4 + i, "compatibility_level": 150, "size_mb": 100.0}))
        .collect();
    let inv = s.home.path().join("many.json");
    std::fs::write(
        &inv,
        serde_json::json!({"schema": "sqlmig.inventory/1", "instances": [{"name": "SQL05", "databases": dbs}]}).to_string(),
    )
    .unwrap();
    for (target, readiness, rule) in [
        ("mi-gp", "ready_with_warnings", Some("NumDbExceeds100")),
        ("mi-bc", "ready_with_warnings", Some("NumDbExceeds100")),
        ("mi-gp-nextgen", "ready", None),
    ] {
        let a = s.json(&[
            "assess",
            "--inventory",
            inv.to_str().unwrap(),
            "--target",
            target,
            "-o",
            "json",
        ]);
        assert_eq!(a["readiness"][0]["readiness"], readiness, "{target}");
        let count = a["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"].as_str().unwrap().starts_with("NumDbExceeds"))
            .map(|f| f["rule_id"].as_str().unwrap().to_string());
        assert_eq!(count.as_deref(), rule, "{target}");
    }
    let out = s.run(&[
        "assess",
        "--inventory",
        inv.to_str().unwrap(),
        "--target",
        "mi-gp-nextgen",
        "--update-policy",
        "sql-server-2025",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "assessed for Next-gen General Purpose under the SQL Server 2025 update policy"
        ),
        "{}",
        stderr(&out)
    );
}
