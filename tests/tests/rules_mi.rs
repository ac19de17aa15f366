//! The bundled MI rule pack, run through the store and the sandbox like any plugin: each rule
//! fires exactly where its feature is, and nowhere on a clean database or a system database.

use sqlmig::capabilities::{CapabilitySet, Services};
use sqlmig::config::Config;
use sqlmig::plugins::{PluginStore, load_plugin};
use sqlmig::runtime::instance::{Finding, FindingLevel, FindingScope};
use sqlmig::runtime::{HookCall, HookOutput, LoadedPlugin};

/// The bundled rules-mi, found through an empty store like a fresh user's.
fn rules_mi() -> LoadedPlugin {
    let home = tempfile::tempdir().unwrap();
    let plugin = PluginStore::new(home.path()).find("rules-mi").unwrap();
    load_plugin(
        &sqlmig_tests::runtime(),
        &plugin,
        &Config::default(),
        &CapabilitySet::default(),
    )
    .unwrap()
}

async fn assess(inventory: &str) -> Vec<Finding> {
    let out = rules_mi()
        .call(
            &Services::default(),
            HookCall::Assess {
                inventory: inventory.to_string(),
                options: "{}".into(),
            },
        )
        .await
        .unwrap();
    match out {
        HookOutput::Findings(f) => f,
        other => panic!("{other:?}"),
    }
}

fn fixture() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/inventories/mi-seed.json"
    ))
    .unwrap()
}

fn fired(findings: &[Finding], rule: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.rule_id == rule)
        .map(|f| f.database.clone().unwrap_or_else(|| f.instance.clone()))
        .collect()
}

#[tokio::test]
async fn each_rule_fires_exactly_where_its_feature_is() {
    let f = assess(&fixture()).await;
    assert_eq!(fired(&f, "DbCompatLevelLowerThan100"), ["OldCompat"]);
    assert_eq!(fired(&f, "MultipleLogFiles"), ["TwoLogs"]);
    assert_eq!(fired(&f, "FileStream"), ["Docs"]);
    assert!(fired(&f, "NumDbExceeds100").is_empty());
    // Catalog rules on SQL02: one finding per feature, none for its SQL-only twin (a T-SQL
    // step, a SQL login, a SQL Server linked server, trace flag 460, a signed assembly, the
    // LOCAL route, the Tidy database).
    for rule in [
        "AnalysisCommandJob",
        "AnalysisQueryJob",
        "PowerShellJob",
        "MergeJob",
        "QueueReaderJob",
        "SQLMIG0101",
        "SQLMIG0102",
        "WindowsAuthentication",
        "LinkedServerWithNonSQLProvider",
        "TraceFlags",
        "MIInstanceSize",
    ] {
        assert_eq!(fired(&f, rule), ["SQL02"], "{rule}");
    }
    assert_eq!(fired(&f, "ClrStrictSecurity"), ["Clr"]);
    assert_eq!(fired(&f, "ServiceBrokerWithNonLocalAddress"), ["Broker"]);
    assert_eq!(fired(&f, "MIDatabaseSize"), ["Huge"]);
    assert_eq!(f.len(), 3 + 14, "nothing on Clean, Tidy or master: {f:#?}");
    let by = |id: &str| f.iter().find(|x| x.rule_id == id).unwrap();
    assert_eq!(
        by("PowerShellJob").object.as_deref(),
        Some("Everything / step 4 (ps)")
    );
    assert!(
        by("WindowsAuthentication")
            .message
            .contains("CONTOSO\\dba, CONTOSO\\readers")
    );
    assert_eq!(
        by("LinkedServerWithNonSQLProvider").object.as_deref(),
        Some("ORA")
    );
    assert_eq!(by("TraceFlags").message, "trace flags 1117 are on");
    assert!(by("ClrStrictSecurity").message.ends_with("Unsigned"));
    assert_eq!(
        by("ServiceBrokerWithNonLocalAddress").object.as_deref(),
        Some("ToWarehouse")
    );

    let logs = f.iter().find(|x| x.rule_id == "MultipleLogFiles").unwrap();
    assert!(matches!(logs.level, FindingLevel::Issue));
    assert!(matches!(logs.scope, FindingScope::Database));
    assert_eq!(logs.instance, "SQL01\\LEGACY");
    assert!(
        logs.message.contains("TwoLogs_log, TwoLogs_log2"),
        "{}",
        logs.message
    );
}

#[tokio::test]
async fn more_than_100_user_databases_is_an_instance_warning() {
    let dbs = |n: usize| {
        (0..n)
            .map(|i| {
                format!(
                    r#"{{"name":"db{i}","database_id":{},"compatibility_level":150}}"#,
                    i + 5
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let inv = |n| {
        format!(
            r#"{{"schema":"sqlmig.inventory/1","instances":[{{"name":"BIG","databases":[{}]}}]}}"#,
            dbs(n)
        )
    };
    assert!(
        assess(&inv(100)).await.is_empty(),
        "100 is the limit, not over it"
    );
    let f = assess(&inv(101)).await;
    assert_eq!(fired(&f, "NumDbExceeds100"), ["BIG"]);
    assert!(matches!(f[0].scope, FindingScope::Instance));
}

#[tokio::test]
async fn an_inventory_without_the_fields_is_refused_with_the_place() {
    let err = rules_mi()
        .call(
            &Services::default(),
            HookCall::Assess {
                inventory: r#"{"instances":[{"name":"X","databases":[{"name":"d"}]}]}"#.into(),
                options: "{}".into(),
            },
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("plugin rules-mi 0.1.0: hook assess failed"),
        "{err}"
    );
    assert!(
        err.contains("database_id") && err.contains("column"),
        "{err}"
    );
}
