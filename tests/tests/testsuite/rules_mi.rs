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
    assess_for(inventory, "{}").await
}

/// The pack's findings with `options` (`{"target": "mi-bc"}`).
async fn assess_for(inventory: &str, options: &str) -> Vec<Finding> {
    assess_with(&rules_mi(), inventory, options).await
}

/// The findings of `pack`, loaded once for many calls (compiling it takes seconds).
async fn assess_with(pack: &LoadedPlugin, inventory: &str, options: &str) -> Vec<Finding> {
    let out = pack
        .call(
            &Services::default(),
            HookCall::Assess {
                inventory: inventory.to_string(),
                options: options.into(),
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
    let all = assess(&fixture()).await;
    // SQL03 holds the text rules; see `text_rules_fire_in_the_module_that_uses_the_feature`.
    let f: Vec<Finding> = all
        .into_iter()
        .filter(|x| x.instance != "SQL03" && x.instance != "SQL04")
        .collect();
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
    // And the compatibility-level note on each of the 8 user databases.
    assert_eq!(fired(&f, "SQLMIG0401").len(), 8);
    assert_eq!(
        f.len(),
        3 + 14 + 8,
        "nothing on Clean, Tidy or master: {f:#?}"
    );
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

/// SQL03's database Code has one procedure per text rule feature, named `<rule id>_<n>` (built
/// from the rules-mi unit test cases); CleanCode has their look-alikes: the same text in
/// comments and strings, in a branch only a non-MI server runs, and the harmless twin statement.
#[tokio::test]
async fn text_rules_fire_in_the_module_that_uses_the_feature() {
    let inventory = fixture();
    let f: Vec<Finding> = assess(&inventory)
        .await
        .into_iter()
        .filter(|x| x.instance == "SQL03")
        .collect();
    let doc: serde_json::Value = serde_json::from_str(&inventory).unwrap();
    let sql03 = doc["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "SQL03")
        .unwrap();
    let modules: Vec<&str> = sql03["databases"][0]["modules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["definition"].is_string())
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(modules.len() > 45, "{}", modules.len());
    for module in &modules {
        let rule = module.rsplit_once('_').unwrap().0;
        let here: Vec<&str> = f
            .iter()
            .filter(|x| x.object.as_deref() == Some(&format!("dbo.{module}")))
            .map(|x| x.rule_id.as_str())
            .collect();
        assert_eq!(here, [rule], "{module}");
    }
    let on_modules = f
        .iter()
        .filter(|x| {
            x.database.as_deref() == Some("Code")
                && x.object.as_deref() != Some("dbo.queue")
                && x.rule_id != "SQLMIG0401"
        })
        .count();
    assert_eq!(
        on_modules,
        modules.len(),
        "one finding per module, none on the encrypted one"
    );
    let on_clean: Vec<&Finding> = f
        .iter()
        .filter(|x| x.database.as_deref() == Some("CleanCode"))
        .collect();
    assert_eq!(
        on_clean.len(),
        1,
        "only the compatibility note: {on_clean:#?}"
    );
    assert_eq!(on_clean[0].rule_id, "SQLMIG0401");
    assert_eq!(
        on_clean[0].message,
        "run CleanCode at compatibility level 160 (the highest Managed Instance runs under the SQL Server 2022 update policy; now 150)"
    );
    // COMPUTE in Code pins its level at 100.
    let code = f
        .iter()
        .find(|x| x.rule_id == "SQLMIG0401" && x.database.as_deref() == Some("Code"))
        .unwrap();
    assert_eq!(
        code.message,
        "run Code at compatibility level 100 (COMPUTE is gone from level 110; now 150)"
    );

    let by = |id: &str| f.iter().filter(|x| x.rule_id == id).collect::<Vec<_>>();
    let xp = by("XpCmdshell")[0];
    assert!(matches!(xp.scope, FindingScope::Object));
    assert_eq!(xp.line, Some(4), "the line inside the procedure");
    assert_eq!(xp.database.as_deref(), Some("Code"));
    let next = by("NextColumn");
    assert!(
        next.iter().any(|x| x.object.as_deref() == Some("dbo.queue")
            && x.message.contains("column dbo.queue.next"))
    );
    let dtc = by("MIHeterogeneousMSDTCTransactSQL")[0];
    assert!(dtc.message.contains("ORA"), "{}", dtc.message);
    let job = by("TransactSqlJob");
    assert_eq!(
        job.len(),
        1,
        "the step that mentions xp_cmdshell in a comment is clean"
    );
    assert_eq!(job[0].object.as_deref(), Some("Nightly / step 1 (export)"));
    assert_eq!(job[0].line, Some(2));
    assert!(job[0].message.contains("XpCmdshell"), "{}", job[0].message);
    let trigger = by("SQLMIG0216")[0];
    assert!(matches!(trigger.scope, FindingScope::Instance));
    assert_eq!(trigger.object.as_deref(), Some("SQLMIG0216_1"));
}

/// SQL04 has each part B catalog feature once (database Featured, and the instance's Agent,
/// audits, endpoints, …) beside its harmless twin (database Plain, a URL audit, a TSQL endpoint,
/// an e-mail operator, MI's mail profile, a ring_buffer session, system_health, options at their
/// defaults).
#[tokio::test]
async fn part_b_catalog_rules_fire_where_the_feature_is() {
    let mut got: Vec<(String, String)> = assess(&fixture())
        .await
        .into_iter()
        .filter(|x| x.instance == "SQL04")
        .map(|x| {
            let place = x.database.or(x.object).unwrap_or_default();
            (x.rule_id, place)
        })
        .collect();
    got.sort();
    let mut expected: Vec<(String, String)> = [
        ("SQLMIG0301", "Featured"),
        ("SQLMIG0302", "Featured"),
        ("SQLMIG0401", "Featured"),
        ("SQLMIG0401", "Plain"),
        ("SQLMIG0220", "Featured"),
        ("SQLMIG0303", ""),
        ("SQLMIG0309", "Featured"),
        ("SQLMIG0310", "Featured"),
        ("ClrStrictSecurity", "Featured"),
        ("SQLMIG0304", ""),
        ("SQLMIG0305", ""),
        ("SQLMIG0306", "oncall"),
        ("SQLMIG0307", ""),
        ("SQLMIG0205", "to_disk"),
        ("SQLMIG0308", ""),
        ("SQLMIG0212", "long_queries"),
        ("SQLMIG0211", "remote access"),
        ("SQLMIG0223", "Mirroring"),
        ("SQLMIG0223", ""),
        ("SQLMIG0216", "ddl_guard"),
    ]
    .map(|(r, p)| (r.to_string(), p.to_string()))
    .to_vec();
    expected.sort();
    assert_eq!(got, expected);
}

/// The tier changes what the tier limits: in-memory OLTP is an issue on both General Purpose
/// tiers (the default) and a note on Business Critical; Featured's 282 files pass General
/// Purpose's 280 per instance, not Next-gen's 4,096 or Business Critical's 32,767 per database.
#[tokio::test]
async fn the_target_tier_decides_in_memory_oltp_and_file_counts() {
    let pack = rules_mi();
    let sql04 = |f: Vec<Finding>| -> Vec<(String, FindingLevel, Option<String>)> {
        f.into_iter()
            .filter(|x| {
                x.instance == "SQL04" && (x.rule_id == "SQLMIG0220" || x.rule_id == "SQLMIG0303")
            })
            .map(|x| (x.rule_id, x.level, x.database))
            .collect()
    };
    let gp = sql04(assess_with(&pack, &fixture(), r#"{"target":"mi-gp"}"#).await);
    assert_eq!(
        gp,
        [
            ("SQLMIG0303".to_string(), FindingLevel::Warning, None),
            (
                "SQLMIG0220".to_string(),
                FindingLevel::Issue,
                Some("Featured".to_string())
            ),
        ]
    );
    assert_eq!(
        sql04(assess_with(&pack, &fixture(), "{}").await),
        gp,
        "General Purpose is the default"
    );
    let next_gen = sql04(assess_with(&pack, &fixture(), r#"{"target":"mi-gp-nextgen"}"#).await);
    assert_eq!(
        next_gen,
        [(
            "SQLMIG0220".to_string(),
            FindingLevel::Issue,
            Some("Featured".to_string())
        )]
    );
    let bc = sql04(assess_with(&pack, &fixture(), r#"{"target":"mi-bc"}"#).await);
    assert_eq!(
        bc,
        [(
            "SQLMIG0220".to_string(),
            FindingLevel::Info,
            Some("Featured".to_string())
        )]
    );

    for (options, says) in [
        (
            r#"{"target":"sql-db"}"#,
            "unknown target \"sql-db\"; use mi-gp, mi-gp-nextgen, mi-bc",
        ),
        (
            r#"{"update_policy":"2025"}"#,
            "unknown update policy \"2025\"; use sql-server-2022, sql-server-2025, always-up-to-date",
        ),
    ] {
        let err = pack
            .call(
                &Services::default(),
                HookCall::Assess {
                    inventory: fixture(),
                    options: options.into(),
                },
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{err}");
    }
}

/// An inventory of one instance with `n` small user databases.
fn databases(n: usize, gb_each: f64) -> String {
    let dbs: Vec<serde_json::Value> = (1..=n)
        .map(|i| {
            serde_json::json!({"name": format!("db{i}"), "database_id": 4 + i,
                "compatibility_level": 150, "size_mb": gb_each * 1024.0})
        })
        .collect();
    serde_json::json!({"schema": "sqlmig.inventory/1",
        "instances": [{"name": "BIG", "databases": dbs}]})
    .to_string()
}

/// What the tier holds, each at its boundary: 100 databases on General Purpose and Business
/// Critical and 500 on Next-gen (the rule's id carries the limit); 16 TB on General Purpose,
/// 32 TB on Next-gen, 16 TB on Business Critical's largest hardware.
#[tokio::test]
async fn each_tier_holds_what_its_page_says() {
    let pack = rules_mi();
    let rules = |f: Vec<Finding>, ids: &[&str]| -> Vec<(String, String)> {
        f.into_iter()
            .filter(|x| ids.contains(&x.rule_id.as_str()))
            .map(|x| (x.rule_id, x.message))
            .collect()
    };
    let count = ["NumDbExceeds100", "NumDbExceeds500"];
    for (n, target, expect) in [
        (100, "mi-gp", None),
        (101, "mi-gp", Some("NumDbExceeds100")),
        (101, "mi-bc", Some("NumDbExceeds100")),
        (101, "mi-gp-nextgen", None),
        (500, "mi-gp-nextgen", None),
        (501, "mi-gp-nextgen", Some("NumDbExceeds500")),
    ] {
        let options = format!(r#"{{"target":"{target}"}}"#);
        let found = rules(
            assess_with(&pack, &databases(n, 0.1), &options).await,
            &count,
        );
        assert_eq!(
            found.first().map(|(id, _)| id.as_str()),
            expect,
            "{n} on {target}: {found:?}"
        );
    }
    let found = rules(
        assess_with(&pack, &databases(150, 0.1), r#"{"target":"mi-gp"}"#).await,
        &count,
    );
    assert_eq!(
        found[0].1,
        "BIG has 150 user databases; a General Purpose instance holds at most 100"
    );
    let size = ["MIDatabaseSize", "MIInstanceSize"];
    // One database of 16 TB and one a GB more: General Purpose holds the first only.
    for (tb, target, expect) in [
        (16.0, "mi-gp", 0),
        (16.001, "mi-gp", 2),
        (16.001, "mi-gp-nextgen", 0),
        (32.0, "mi-gp-nextgen", 0),
        (32.001, "mi-gp-nextgen", 2),
        (16.0, "mi-bc", 0),
        (16.001, "mi-bc", 2),
    ] {
        let options = format!(r#"{{"target":"{target}"}}"#);
        let found = rules(
            assess_with(&pack, &databases(1, tb * 1024.0), &options).await,
            &size,
        );
        assert_eq!(found.len(), expect, "{tb} TB on {target}: {found:?}");
    }
    let found = rules(
        assess_with(&pack, &databases(1, 17.0 * 1024.0), r#"{"target":"mi-bc"}"#).await,
        &["MIDatabaseSize"],
    );
    assert_eq!(
        found[0].1,
        "db1 takes 17408 GB; a Business Critical instance holds 16384 GB at most (premium-series \
         from 64 vCores, in the regions that offer it; standard-series holds 4096 GB)"
    );
}

/// tempdb on the General Purpose tiers: 24 GB per vCore up to 1,920 GB; Business Critical's
/// takes the instance's storage.
#[tokio::test]
async fn tempdb_is_sized_against_24_gb_per_vcore() {
    let pack = rules_mi();
    let with_tempdb = |gb: f64| {
        let mut inv: serde_json::Value = serde_json::from_str(&databases(1, 0.1)).unwrap();
        inv["instances"][0]["databases"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": "tempdb", "database_id": 2,
                "compatibility_level": 150, "size_mb": gb * 1024.0}));
        inv.to_string()
    };
    let said = async |gb: f64, target: &str| {
        assess_with(
            &pack,
            &with_tempdb(gb),
            &format!(r#"{{"target":"{target}"}}"#),
        )
        .await
        .into_iter()
        .find(|f| f.rule_id == "SQLMIG0311")
        .map(|f| f.message)
    };
    assert_eq!(said(96.0, "mi-gp").await, None, "4 vCores give 96 GB");
    assert_eq!(
        said(97.0, "mi-gp").await.as_deref(),
        Some("tempdb is 97 GB; General Purpose gives 24 GB per vCore: at least 5 vCores")
    );
    assert_eq!(
        said(1921.0, "mi-gp-nextgen").await.as_deref(),
        Some("tempdb is 1921 GB; Next-gen General Purpose gives at most 1920 GB")
    );
    assert_eq!(said(1921.0, "mi-bc").await, None);
}

/// The highest compatibility level follows the update policy: 160 under SQL Server 2022 (the
/// default), 170 under SQL Server 2025 and Always-up-to-date.
#[tokio::test]
async fn the_update_policy_sets_the_highest_compatibility_level() {
    let pack = rules_mi();
    let level = async |options: &str| {
        assess_with(&pack, &databases(1, 0.1), options)
            .await
            .into_iter()
            .find(|f| f.rule_id == "SQLMIG0401")
            .unwrap()
            .message
    };
    assert_eq!(
        level("{}").await,
        "run db1 at compatibility level 160 (the highest Managed Instance runs under the SQL \
         Server 2022 update policy; now 150)"
    );
    for policy in ["sql-server-2025", "always-up-to-date"] {
        let options: &'static str =
            Box::leak(format!(r#"{{"update_policy":"{policy}"}}"#).into_boxed_str());
        assert!(
            level(options)
                .await
                .starts_with("run db1 at compatibility level 170"),
            "{policy}"
        );
    }
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
        fired(&assess(&inv(100)).await, "NumDbExceeds100").is_empty(),
        "100 is the limit, not over it"
    );
    let f = assess(&inv(101)).await;
    assert_eq!(fired(&f, "NumDbExceeds100"), ["BIG"]);
    let too_many = f.iter().find(|x| x.rule_id == "NumDbExceeds100").unwrap();
    assert!(matches!(too_many.scope, FindingScope::Instance));
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
