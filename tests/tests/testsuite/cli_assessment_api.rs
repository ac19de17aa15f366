//! Microsoft's SQL Assessment API rules (tests/fixtures/sql-assessment-api, MIT): the ruleset
//! and the custom samples load; rules evaluate over captured T-SQL probe results; overrides
//! disable rules by id and tag and change thresholds; rules whose probes are not T-SQL are listed
//! as not run with their probe kind, never dropped.

use sqlmig_tests::cli::{Sqlmig, stderr};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

fn fixture(name: &str) -> String {
    format!(
        "{}/fixtures/sql-assessment-api/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// SQL Server 2016 Enterprise on Windows with databases Sales and Books.
const INVENTORY: &str = r#"{"schema":"sqlmig.inventory/1","instances":[{"name":"SQL16",
 "server":{"product_version":"13.0.6300.2","major_version":13,"edition":"Enterprise Edition (64-bit)","engine_edition":3,"collation":"x","host_platform":"Windows","version_text":"x"},
 "databases":[{"name":"master","database_id":1,"compatibility_level":130},
              {"name":"Sales","database_id":5,"compatibility_level":130},
              {"name":"Books","database_id":6,"compatibility_level":130}]}]}"#;

/// `assess` with these rulesets over INVENTORY and the captured probe results; (rule, database,
/// message) of each finding, and the report.
fn run(s: &Sqlmig, rulesets: &[&str]) -> (Vec<(String, String, String)>, serde_json::Value) {
    let inv = s.home.path().join("inv.json");
    std::fs::write(&inv, INVENTORY).unwrap();
    let mut args = vec![
        "assess".to_string(),
        "--inventory".into(),
        inv.to_string_lossy().into_owned(),
    ];
    for r in rulesets {
        args.extend(["--rules".to_string(), fixture(r)]);
    }
    args.extend([
        "--probe-results".to_string(),
        fixture("probe-results.json"),
        "-o".into(),
        "json".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = s.json(&args);
    let found = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["database"].as_str().unwrap_or("-").to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (found, report)
}

fn ids(found: &[(String, String, String)]) -> Vec<&str> {
    found.iter().map(|(id, ..)| id.as_str()).collect()
}

#[test]
fn microsofts_rules_evaluate_over_captured_probe_results() {
    let s = sqlmig();
    let (found, report) = run(&s, &["ruleset.json"]);
    assert_eq!(
        report["rule_packs"],
        serde_json::json!(["Microsoft ruleset 1.1.17"])
    );
    // Trace flags 1117 and 3226 are on: TF1117's override for 2016+ says to turn it off, TF3226
    // says to turn it off; TF174 and TF7412 say what to turn on. TF1118 (off) passes.
    let tf: Vec<&str> = ids(&found)
        .into_iter()
        .filter(|id| id.starts_with("TF"))
        .collect();
    assert_eq!(tf, ["TF1117", "TF174", "TF3226", "TF7412"]);
    let tf1117 = found.iter().find(|f| f.0 == "TF1117").unwrap();
    assert_eq!(
        tf1117.2,
        "Disable trace flag 1117 in SQL Server 2016 and higher versions"
    );
    // Every other rule for this server is listed as not run, with why.
    let not_run = report["not_run"].as_array().unwrap();
    let reason = |id: &str| {
        not_run
            .iter()
            .find(|n| n["rule_id"] == id)
            .map(|n| n["reason"].as_str().unwrap().to_string())
    };
    assert_eq!(
        reason("AutoCreateStats").unwrap(),
        "probe DatabaseConfiguration has no captured result here"
    );
    assert!(not_run.iter().any(|n| {
        n["reason"]
            .as_str()
            .unwrap()
            .contains("of kind WMI, which sqlmig cannot run")
    }));
    // Performance counters captured as samples: rates from two samples ten seconds apart.
    // Batch requests 1,000 → 3,000 is 200/s; compilations 0 → 500 is 50/s, over 10% of them.
    assert!(ids(&found).contains(&"CompilationsPerSec"), "{found:?}");
    assert!(
        !ids(&found).contains(&"PageLifeExpectancy"),
        "3,600 s is above 700"
    );
    let places = not_run
        .iter()
        .find(|n| n["rule_id"] == "AutoCreateStats")
        .unwrap()["places"]
        .clone();
    assert_eq!(
        places,
        serde_json::json!(["SQL16/Sales", "SQL16/Books"]),
        "database rules skip master"
    );
}

#[test]
fn custom_rulesets_add_rules_change_thresholds_and_disable_by_id_and_tag() {
    let s = sqlmig();
    let (found, _) = run(&s, &["ruleset.json", "CustomRuleTSQLProbe.json"]);
    let space: Vec<&(String, String, String)> =
        found.iter().filter(|f| f.0 == "DBSpaceAvailable").collect();
    assert_eq!(space.len(), 1, "Books has 30% free, over the 25% threshold");
    assert_eq!(space[0].1, "Sales");
    assert_eq!(
        space[0].2,
        "Database has only 10% of free space (threshold is set to 25%). Total space: 1000.00 MB. Free space: 100.00 MB"
    );
    // The threshold override raises it to 50%: Books is reported too.
    let (found, _) = run(
        &s,
        &[
            "ruleset.json",
            "CustomRuleTSQLProbe.json",
            "CustomRuleThresholdChange.json",
        ],
    );
    let dbs: Vec<&str> = found
        .iter()
        .filter(|f| f.0 == "DBSpaceAvailable")
        .map(|f| f.1.as_str())
        .collect();
    assert_eq!(dbs, ["Books", "Sales"]);
    // Disabling one rule by id, then every rule tagged TraceFlag.
    let (found, _) = run(&s, &["ruleset.json", "DisableTF634.json"]);
    assert!(ids(&found).contains(&"TF1117"));
    let (found, report) = run(&s, &["ruleset.json", "DisableAllTF.json"]);
    assert!(
        !ids(&found).iter().any(|id| id.starts_with("TF")),
        "{found:?}"
    );
    assert!(
        !report["not_run"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["rule_id"] == "TF174")
    );
}

#[test]
fn the_samples_load_and_probes_that_are_not_t_sql_are_listed_as_such() {
    let s = sqlmig();
    let samples = [
        "CustomRuleCLRProbe.json",
        "CustomRuleCmdShellProbe.json",
        "CustomRulePowerShellProbe.json",
        "CustomRuleRegistryProbe.json",
        "CustomRuleWMIprobe.json",
        "DisablingBuiltInChecks_sample.json",
        "EnablePerformance.json",
        "MakingCustomChecks_sample.json",
    ];
    let (_, report) = run(&s, &[&["ruleset.json"][..], &samples[..]].concat());
    assert_eq!(
        report["rule_packs"].as_array().unwrap().len(),
        1 + samples.len()
    );
    let reasons: Vec<String> = report["not_run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["reason"].as_str().unwrap().to_string())
        .collect();
    for kind in ["WMI", "Registry", "PowerShell", "CmdShell", "External"] {
        assert!(
            reasons
                .iter()
                .any(|r| r.contains(&format!("of kind {kind}, which sqlmig cannot run"))),
            "{kind}: {reasons:#?}"
        );
    }
}

#[test]
fn a_broken_ruleset_is_bad_input_naming_the_file() {
    let s = sqlmig();
    let inv = s.home.path().join("inv.json");
    std::fs::write(&inv, INVENTORY).unwrap();
    for (name, text, says) in [
        ("notjson.json", "{ nope", "is not JSON"),
        ("noschema.json", r#"{"rules": []}"#, "schemaVersion"),
        (
            "badtype.json",
            r#"{"schemaVersion": "1.0", "rules": [{"id": "X", "itemType": "rule"}]}"#,
            "itemType",
        ),
    ] {
        let file = s.home.path().join(name);
        std::fs::write(&file, text).unwrap();
        let out = s.run(&[
            "assess",
            "--inventory",
            inv.to_str().unwrap(),
            "--rules",
            file.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            stderr(&out).contains(name) && stderr(&out).contains(says),
            "{name}: {}",
            stderr(&out)
        );
    }
}

/// With --server, the rulesets' T-SQL probes run on the server (sqlsim serving the 2016 estate):
/// those sqlsim answers are evaluated; a probe the server refuses is recorded with the server's
/// error and its rules are listed as not run with it. The results saved with
/// --save-probe-results assess the same offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t_sql_probes_run_on_a_live_server() {
    use sqlmig_tests::estate::{SA_PASSWORD, fixture as instance, serve};
    let _server = serve(instance("onprem-2016-estate.json"), "127.77.9.4", 1433).await;
    let s = sqlmig();
    let saved = s.home.path().join("probes.json");
    let ruleset = fixture("ruleset.json");
    let mut cmd = tokio::process::Command::from(s.command(&[
        "assess",
        "--server",
        "127.77.9.4",
        "--user",
        "sa",
        "--trust-server-certificate",
        "--rules",
        &ruleset,
        "--save-probe-results",
        saved.to_str().unwrap(),
        "-o",
        "json",
    ]));
    cmd.env("SQLMIG_PASSWORD", SA_PASSWORD);
    let out = cmd.output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let live: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let probes: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    let server = &probes["SQLPROD01\\SALES"]["server"];
    // SERVERPROPERTY and the audit catalog: answered.
    assert_eq!(
        server["ServerProperties"].as_array().map(Vec::len),
        Some(1),
        "{server:#}"
    );
    assert!(server["ServerAudits"].is_array());
    // Schedulers and memory: answered (one row of sys.dm_os_sys_memory).
    assert_eq!(
        server["OsSysMemory"].as_array().map(Vec::len),
        Some(1),
        "{server:#}"
    );
    // Availability groups: answered, none on this server.
    assert_eq!(server["AGListener"], serde_json::json!([]), "{server:#}");
    // Probes that need table variables, INSERT … EXEC, WHILE and the error log: answered.
    assert!(server["EnabledGlobalTraceFlags"].is_array(), "{server:#}");
    assert!(
        server["ErrorLog(history_days=7, language=null, max_log_size_mb=50)"].is_array(),
        "{server:#}"
    );
    // Performance counters: sampled twice, as the probe says.
    let samples = server["BasicPerformance"].as_array().unwrap();
    assert!(samples.iter().any(|r| r["sample"] == 1), "{samples:?}");
    // A view sqlsim does not have: refused with SQL Server's error 208, recorded.
    let refused = server["DatabaseMirroring"]["error"].as_str().unwrap();
    assert!(
        refused.contains("Invalid object name 'sys.database_mirroring'"),
        "{refused}"
    );
    let not_run = live["not_run"].as_array().unwrap();
    assert!(not_run.iter().any(|n| {
        n["reason"]
            .as_str()
            .unwrap()
            .starts_with("probe DatabaseMirroring failed: ")
    }));
    // The estate's trace flags, its error log's 825 and its tempdb files are findings.
    let findings = live["findings"].as_array().unwrap();
    let message = |id: &str| {
        findings
            .iter()
            .find(|f| f["rule_id"] == id)
            .map(|f| f["message"].as_str().unwrap().to_string())
    };
    assert_eq!(
        message("ErrorLog825")
            .as_deref()
            .map(|m| m.split(" Last").next().unwrap()),
        Some("Database engine error 825 occurred 1 times in the last 7 days."),
        "{findings:#?}"
    );
    assert!(message("TF1117").is_some());
    assert!(
        message("TempDBFilesNotLess8").is_some(),
        "one tempdb data file on 8 CPUs"
    );
    // Performance rules evaluated: a quiet server keeps its pages (no PageLifeExpectancy).
    assert!(message("PageLifeExpectancy").is_none());
    assert!(!not_run.iter().any(|n| n["rule_id"] == "PageLifeExpectancy"));
    // What cannot run here says why: Windows services and WMI.
    let reasons: Vec<&str> = not_run
        .iter()
        .map(|n| n["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("Windows service settings"))
    );
    assert!(reasons.iter().any(|r| r.contains("of kind WMI")));

    // The saved results give the same assessment offline.
    let inv = s.home.path().join("inv.json");
    let collected = {
        let mut cmd = tokio::process::Command::from(s.command(&[
            "discover",
            "--server",
            "127.77.9.4",
            "--user",
            "sa",
            "--trust-server-certificate",
            "--out",
            inv.to_str().unwrap(),
        ]));
        cmd.env("SQLMIG_PASSWORD", SA_PASSWORD);
        cmd.output().await.unwrap()
    };
    assert_eq!(collected.status.code(), Some(0), "{}", stderr(&collected));
    let offline = s.json(&[
        "assess",
        "--inventory",
        inv.to_str().unwrap(),
        "--rules",
        &ruleset,
        "--probe-results",
        saved.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(offline["findings"], live["findings"]);
    assert_eq!(offline["not_run"], live["not_run"]);
}
