//! House rules (`assess --rules FILE.toml`): each rule fires on exactly the targets whose fields
//! match, beside the bundled pack; a broken rule file is bad input naming the file and the rule.

use sqlmig_tests::cli::{Sqlmig, stderr};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

const EXAMPLE_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/house-rules.toml");

/// Two instances: OLD (2008 R2) with a SIMPLE database never backed up and a sysadmin SQL login,
/// NEW (2019) with a FULL database backed up and only `sa` as a SQL sysadmin.
const INVENTORY: &str = r#"{"schema":"sqlmig.inventory/1","instances":[
 {"name":"OLD","server":{"product_version":"10.50.6000.0","major_version":10,"edition":"Standard","engine_edition":2,"collation":"x","host_platform":"Windows","version_text":"x"},
  "logins":[{"name":"app","type_desc":"SQL_LOGIN","is_disabled":false,"is_sysadmin":true},
            {"name":"sa","type_desc":"SQL_LOGIN","is_disabled":false,"is_sysadmin":true},
            {"name":"CONTOSO\\dba","type_desc":"WINDOWS_LOGIN","is_disabled":false,"is_sysadmin":true}],
  "jobs":[{"name":"purge","enabled":true,"steps":[{"step_id":1,"step_name":"tmp","subsystem":"TSQL","command":"SELECT 1","database_name":"tempdb"}]}],
  "databases":[{"name":"master","database_id":1,"compatibility_level":100,"recovery_model_desc":"SIMPLE"},
               {"name":"Shop","database_id":5,"compatibility_level":100,"recovery_model_desc":"SIMPLE"}]},
 {"name":"NEW","server":{"product_version":"15.0.4360.2","major_version":15,"edition":"Enterprise","engine_edition":3,"collation":"x","host_platform":"Linux","version_text":"x"},
  "logins":[{"name":"sa","type_desc":"SQL_LOGIN","is_disabled":false,"is_sysadmin":true}],
  "jobs":[{"name":"stats","enabled":true,"steps":[{"step_id":1,"step_name":"upd","subsystem":"TSQL","command":"SELECT 1","database_name":"Books"}]}],
  "databases":[{"name":"Books","database_id":5,"compatibility_level":150,"recovery_model_desc":"FULL",
    "backups":{"last_full":{"finish_date":"2026-11-01T00:00:00","size_bytes":1,"first_lsn":"1","last_lsn":"2","device":"x","has_checksum":true},"per_day":[]}}]}
]}"#;

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn each_house_rule_fires_on_the_targets_that_match() {
    let s = sqlmig();
    let inv = write(s.home.path(), "inv.json", INVENTORY);
    let report = s.json_with_code(
        &[
            "assess",
            "--inventory",
            &inv,
            "--rules",
            EXAMPLE_RULES,
            "-o",
            "json",
        ],
        1,
    );
    assert_eq!(
        report["rule_packs"],
        serde_json::json!(["contoso-house-rules 1.0.0"])
    );
    let mut got: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["rule_id"].as_str().unwrap(),
                f["instance"].as_str().unwrap(),
                f["database"]
                    .as_str()
                    .or(f["object"].as_str())
                    .unwrap_or("-"),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "CONTOSO001 OLD Shop Shop uses SIMPLE recovery; the online method needs FULL",
            "CONTOSO002 OLD app SQL login app is sysadmin on OLD",
            "CONTOSO003 OLD Shop Shop has no full backup in msdb",
            "CONTOSO004 OLD - OLD runs SQL Server 10.50.6000.0",
            "CONTOSO005 OLD purge / step 1 (tmp) step tmp runs in tempdb",
        ]
    );
    let never = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "CONTOSO003")
        .unwrap();
    assert_eq!(never["level"], "issue");
    assert_eq!(never["scope"], "database");
    assert_eq!(never["rule_pack"], "contoso-house-rules 1.0.0");
    // Blocked by the house rule alone: Shop has an issue.
    let old = report["readiness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "OLD")
        .unwrap();
    assert_eq!(old["databases"][0]["readiness"], "blocked");
}

#[test]
fn house_rules_run_beside_the_bundled_pack() {
    let s = sqlmig();
    let inv = write(s.home.path(), "inv.json", INVENTORY);
    let report = s.json_with_code(
        &[
            "assess",
            "--inventory",
            &inv,
            "--rules",
            "rules-mi",
            "--rules",
            EXAMPLE_RULES,
            "-o",
            "json",
        ],
        1,
    );
    assert_eq!(
        report["rule_packs"],
        serde_json::json!(["rules-mi 0.1.0", "contoso-house-rules 1.0.0"])
    );
    let packs: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_pack"].as_str().unwrap())
        .collect();
    assert_eq!(packs.len(), 2, "{packs:?}");
}

#[test]
fn a_broken_rule_file_is_bad_input_naming_the_file_and_rule() {
    let s = sqlmig();
    let inv = write(s.home.path(), "inv.json", INVENTORY);
    let head = "[pack]\nname = \"x\"\nversion = \"1\"\n[[rule]]\nid = \"X1\"\ntarget = \"database\"\nlevel = \"warning\"\ntitle = \"t\"\n";
    for (name, body, says) in [
        (
            "op.toml",
            "when = { field = \"name\", op = \"resembles\", value = \"x\" }\n",
            "op.toml",
        ),
        (
            "novalue.toml",
            "when = { field = \"name\", op = \"eq\" }\n",
            "rule X1: the test on name has no value",
        ),
        (
            "target.toml",
            "when = { field = \"name\", op = \"exists\" }\n",
            "",
        ),
        (
            "list.toml",
            "when = { field = \"name\", op = \"in\", value = \"a\" }\n",
            "needs a list",
        ),
    ] {
        let text = if name == "target.toml" {
            head.replace("database", "galaxy") + body
        } else {
            format!("{head}{body}")
        };
        let file = write(s.home.path(), name, &text);
        let out = s.run(&["assess", "--inventory", &inv, "--rules", &file]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
    }
    let dup = write(
        s.home.path(),
        "dup.toml",
        &format!(
            "{head}when = {{ field = \"name\", op = \"exists\" }}\n{}when = {{ field = \"name\", op = \"exists\" }}\n",
            &head[head.find("[[rule]]").unwrap()..]
        ),
    );
    let out = s.run(&["assess", "--inventory", &inv, "--rules", &dup]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("X1 appears twice"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["assess", "--inventory", &inv, "--rules", "missing.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.toml"), "{}", stderr(&out));
}
