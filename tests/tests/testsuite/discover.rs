//! `sqlmig discover` end to end: sqlsim instances of three SQL Server versions (one a named
//! instance behind SQL Server Browser) on loopback addresses, found by a scan and collected into
//! an inventory that must hold exactly what the fixtures describe, plus what the test created
//! over TDS. Also: a login without VIEW SERVER STATE, an instance killed mid-collection, and the
//! inventory against its published JSON Schema.

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use sqlmig::capabilities::sql::SqlBackend;
use sqlmig::secret::Secret;
use sqlmig::sqlserver::{Encrypt, Endpoint, ServerName, TdsBackend};
use sqlmig_protocol::{
    Audit, CollectionStatus, Confidence, Instance, Inventory, Job, JobStep, LinkedServer, Login,
    ServerTrigger,
};
use sqlmig_tests::cli::{Sqlmig, stderr};
use sqlmig_tests::estate::{SA_PASSWORD, fixture, serve, serve_named};
use sqlsim::engine::{Outcome, Session};
use sqlsim::instance::Instance as Fixture;
use sqlsim::server::ServerHandle;
use sqlsim::tds::types::Value;

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

/// Runs `sqlmig discover ARGS --user USER --trust-server-certificate --out FILE` without blocking
/// the runtime the simulated servers run on.
async fn discover(
    s: &Sqlmig,
    args: &[&str],
    user: &str,
    password: &str,
) -> (Output, Option<Inventory>) {
    let out_file = s.home.path().join("inventory.json");
    let mut all: Vec<&str> = vec!["discover"];
    all.extend(args);
    let out_arg = out_file.to_str().unwrap().to_string();
    all.extend([
        "--user",
        user,
        "--trust-server-certificate",
        "--out",
        &out_arg,
    ]);
    let std_cmd = s.command(&all);
    let mut cmd = tokio::process::Command::from(std_cmd);
    cmd.env("SQLMIG_PASSWORD", password);
    let out = cmd.output().await.unwrap();
    let inv = std::fs::read_to_string(&out_file)
        .ok()
        .map(|t| sqlmig_protocol::parse(&t, "inventory.json").unwrap());
    (out, inv)
}

/// Runs T-SQL on a simulated server through sqlmig's own TDS backend.
async fn tsql(server: &ServerHandle, sql: &str) {
    let mut e = Endpoint::new(
        ServerName::parse(&format!("{},{}", server.addr.ip(), server.addr.port())).unwrap(),
        "sa",
        Secret::new(SA_PASSWORD),
    );
    e.encrypt = Encrypt::Strict;
    e.trust_server_certificate = true;
    let backend = TdsBackend::new(BTreeMap::from([("s".to_string(), e)]));
    let mut c = backend.connect("s").await.unwrap();
    c.execute(sql, &[]).await.unwrap();
}

/// A single integer from the simulated server's own engine: the ground truth.
fn count(server: &ServerHandle, sql: &str) -> u64 {
    let mut session = Session::new("sa", "master");
    let r = server.engine.execute(&mut session, sql, &[]);
    assert_eq!(r.error, None, "{sql}");
    match r
        .outcomes
        .into_iter()
        .find(|o| matches!(o, Outcome::Rows { .. }))
    {
        Some(Outcome::Rows { rows, .. }) => match rows[0][0] {
            Value::Integer(n) => n as u64,
            ref other => panic!("{sql}: {other:?}"),
        },
        _ => panic!("{sql}: no rows"),
    }
}

/// The item of `items` whose `key` is `wanted`; a missing one fails the test naming `what` and
/// what there was.
fn named<'a, T>(items: &'a [T], key: impl Fn(&T) -> &str, wanted: &str, what: &str) -> &'a T {
    items.iter().find(|i| key(i) == wanted).unwrap_or_else(|| {
        panic!(
            "{what}: no {wanted:?} among {:?}",
            items.iter().map(&key).collect::<Vec<_>>()
        )
    })
}

fn instance<'a>(inv: &'a Inventory, name: &str) -> &'a Instance {
    named(&inv.instances, |i| &i.name, name, "the inventory")
}

/// Every field the fixture describes, as the inventory must hold it.
fn assert_matches_fixture(got: &Instance, fx: &Fixture, server: &ServerHandle) {
    let who = &fx.server_name;
    assert_eq!(
        got.status,
        CollectionStatus::Complete,
        "{who}: {:?}",
        got.gaps
    );
    assert_eq!(got.confidence, Confidence::LoggedIn, "{who}");
    let s = got.server.as_ref().expect("server properties");
    let (ma, mi, b) = fx.version;
    assert_eq!(s.product_version, format!("{ma}.{mi}.{b}.0"), "{who}");
    assert_eq!(s.major_version, ma as u32, "{who}");
    assert_eq!(s.edition, fx.edition, "{who}");
    assert_eq!(s.engine_edition, 3, "{who}");
    assert_eq!(s.cpu_count, Some(fx.host.cpu_count), "{who}");
    assert_eq!(
        s.physical_memory_mb,
        Some(fx.host.physical_memory_mb),
        "{who}"
    );

    for c in &fx.configurations {
        let g = named(&got.configurations, |g| &g.name, &c.name, who);
        assert_eq!(
            (g.value, g.value_in_use),
            (c.value, c.value),
            "{who}: {}",
            c.name
        );
    }
    assert_eq!(
        got.configurations.len(),
        sqlsim::instance::CONFIGURATION_DEFAULTS
            .iter()
            .filter(|option| fx.version.0 >= option.6)
            .count(),
        "{who}"
    );
    let mut flags: Vec<i32> = fx.trace_flags.iter().map(|f| *f as i32).collect();
    flags.sort_unstable();
    assert_eq!(got.trace_flags, flags, "{who}");

    // Logins, linked servers and jobs as the inventory types them, in the collector's order.
    let mut logins: Vec<Login> = fx
        .logins
        .iter()
        .map(|l| Login {
            name: l.name.clone(),
            type_desc: if l.name.contains('\\') {
                "WINDOWS_LOGIN"
            } else {
                "SQL_LOGIN"
            }
            .into(),
            is_disabled: l.disabled,
            is_sysadmin: l.sysadmin,
        })
        .collect();
    logins.sort_by_key(|l| l.name.to_lowercase());
    assert_eq!(got.logins, logins, "{who}");
    let mut linked: Vec<LinkedServer> = fx
        .linked_servers
        .iter()
        .map(|l| LinkedServer {
            name: l.name.clone(),
            product: l.product.clone(),
            provider: l.provider.clone(),
            data_source: l.data_source.clone(),
        })
        .collect();
    linked.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(got.linked_servers, linked, "{who}");
    for job in &fx.jobs {
        let want = Job {
            name: job.name.clone(),
            enabled: job.enabled,
            steps: job
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| JobStep {
                    step_id: i as i32 + 1,
                    step_name: s.step_name.clone(),
                    subsystem: s.subsystem.clone(),
                    command: s.command.clone(),
                    database_name: s.database_name.clone(),
                })
                .collect(),
        };
        assert!(
            got.jobs.contains(&want),
            "{who}: job {want:?} in {:?}",
            got.jobs
        );
    }

    let triggers: Vec<ServerTrigger> = fx
        .server_triggers
        .iter()
        .map(|t| ServerTrigger {
            name: t.name.clone(),
            is_disabled: t.disabled,
            definition: t.definition.clone(),
        })
        .collect();
    assert_eq!(got.server_triggers, triggers, "{who}");
    let audits: Vec<Audit> = fx
        .audits
        .iter()
        .map(|a| Audit {
            name: a.name.clone(),
            type_desc: a.type_desc.clone(),
            is_state_enabled: a.enabled,
        })
        .collect();
    assert_eq!(got.audits, audits, "{who}");
    for e in &fx.endpoints {
        assert!(
            got.endpoints
                .iter()
                .any(|g| g.name == e.name && g.type_desc == e.type_desc),
            "{who}: endpoint {}",
            e.name
        );
    }
    let credentials: Vec<String> = fx.credentials.iter().map(|c| c.name.clone()).collect();
    assert_eq!(got.credentials, credentials, "{who}");
    let a = &fx.agent;
    assert_eq!(got.agent.alerts, a.alerts, "{who}");
    assert_eq!(got.agent.proxies, a.proxies, "{who}");
    assert_eq!(got.agent.mail_profiles, a.mail_profiles, "{who}");
    let operators: Vec<(String, bool, bool)> = a
        .operators
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                !o.pager_address.is_empty(),
                !o.netsend_address.is_empty(),
            )
        })
        .collect();
    let got_operators: Vec<(String, bool, bool)> = got
        .agent
        .operators
        .iter()
        .map(|o| (o.name.clone(), o.uses_pager, o.uses_netsend))
        .collect();
    assert_eq!(got_operators, operators, "{who}");
    // system_health on every instance, plus the described sessions.
    let health = got
        .xevent_sessions
        .iter()
        .find(|x| x.name == "system_health");
    assert_eq!(
        health.map(|h| h.targets.clone()),
        Some(vec![
            "package0.event_file".to_string(),
            "package0.ring_buffer".to_string()
        ]),
        "{who}"
    );
    for x in &fx.xevent_sessions {
        let g = named(&got.xevent_sessions, |g| &g.name, &x.name, who);
        let targets: Vec<String> = x.targets.iter().map(|t| format!("package0.{t}")).collect();
        assert_eq!(g.targets, targets, "{who}");
    }

    for db in &fx.databases {
        let g = named(&got.databases, |d| &d.name, &db.name, who);
        let at = format!("{who}.{}", db.name);
        assert!(g.is_user(), "{at}");
        assert_eq!(g.compatibility_level, db.compatibility_level, "{at}");
        assert_eq!(
            g.owner.as_deref(),
            Some(db.owner.as_deref().unwrap_or("sa")),
            "{at}"
        );
        assert_eq!(
            g.recovery_model_desc,
            db.options.recovery_model.clone().unwrap_or("FULL".into()),
            "{at}"
        );
        let o = &db.options;
        let f = &g.features;
        assert_eq!(
            (
                f.ledger,
                f.service_broker,
                f.change_tracking,
                f.transparent_data_encryption,
                f.change_data_capture,
                f.replication,
                f.full_text
            ),
            (
                o.ledger,
                o.broker,
                o.change_tracking,
                o.encrypted,
                o.cdc,
                o.published || o.subscribed || o.merge_published || o.distributor,
                !db.fulltext_catalogs.is_empty()
            ),
            "{at}"
        );
        if !db.files.is_empty() {
            let files: Vec<_> = db
                .files
                .iter()
                .map(|f| {
                    (
                        f.name.clone(),
                        f.type_desc.clone(),
                        f.physical_name.clone(),
                        f.size_mb as f64,
                        f.growth as f64,
                        f.is_percent_growth,
                    )
                })
                .collect();
            let got_files: Vec<_> = g
                .files
                .iter()
                .map(|f| {
                    (
                        f.name.clone(),
                        f.type_desc.clone(),
                        f.physical_name.clone(),
                        f.size_mb,
                        f.growth,
                        f.is_percent_growth,
                    )
                })
                .collect();
            assert_eq!(got_files, files, "{at}");
            assert_eq!(
                g.size_mb,
                db.files.iter().map(|f| f.size_mb as f64).sum::<f64>(),
                "{at}"
            );
        }
        // Modules: every CREATE PROCEDURE/VIEW/FUNCTION batch, its text as the definition.
        for batch in &db.setup {
            let upper = batch.to_ascii_uppercase();
            if !["CREATE PROCEDURE", "CREATE VIEW", "CREATE FUNCTION"]
                .iter()
                .any(|k| upper.contains(k))
            {
                continue;
            }
            assert!(
                g.modules
                    .iter()
                    .any(|m| m.definition.as_deref() == Some(batch.trim())),
                "{at}: module {batch:?}"
            );
        }
        for t in &g.tables {
            let rows = count(
                server,
                &format!(
                    "SELECT COUNT(*) FROM [{}].[{}].[{}]",
                    db.name, t.schema, t.name
                ),
            );
            assert_eq!(t.rows, rows, "{at}.{}", t.name);
        }
        assert_eq!(g.is_db_chaining_on, db.options.db_chaining, "{at}");
        let routes: Vec<(String, String)> = db
            .routes
            .iter()
            .map(|r| (r.name.clone(), r.address.clone()))
            .collect();
        let got_routes: Vec<(String, String)> = g
            .service_broker_routes
            .iter()
            .map(|r| (r.name.clone(), r.address.clone()))
            .collect();
        assert_eq!(got_routes, routes, "{at}");
        for t in &g.tables {
            let n = count(
                server,
                &format!(
                    "SELECT COUNT(*) FROM [{}].sys.columns WHERE object_id = OBJECT_ID('{}.{}.{}')",
                    db.name, db.name, t.schema, t.name
                ),
            );
            assert!(
                n > 0 && t.columns.len() as u64 == n,
                "{at}.{}: {:?}",
                t.name,
                t.columns
            );
        }
        let assemblies: Vec<_> = db.assemblies.iter().map(|a| a.name.clone()).collect();
        let mut got_assemblies: Vec<_> = g.assemblies.iter().map(|a| a.name.clone()).collect();
        got_assemblies.sort();
        let mut want = assemblies.clone();
        want.sort();
        assert_eq!(got_assemblies, want, "{at}");
        let mut orphans: Vec<String> = db
            .users
            .iter()
            .filter(|u| u.authentication.as_deref() != Some("DATABASE"))
            .filter(|u| {
                u.login
                    .as_ref()
                    .is_none_or(|l| !fx.logins.iter().any(|x| x.name.eq_ignore_ascii_case(l)))
            })
            .map(|u| u.name.clone())
            .collect();
        orphans.sort();
        assert_eq!(g.users_without_logins, orphans, "{at}");
        let last = |t: &str| {
            db.backups
                .iter()
                .filter(|b| b.backup_type == t)
                .max_by(|a, b| a.finish.cmp(&b.finish))
        };
        match (last("D"), &g.backups.last_full) {
            (None, None) => {}
            (Some(w), Some(b)) => {
                assert_eq!(b.has_checksum, w.has_checksum, "{at}");
                assert_eq!(
                    (b.first_lsn.as_str(), b.last_lsn.as_str(), b.size_bytes),
                    (w.first_lsn.as_str(), w.last_lsn.as_str(), w.size_bytes),
                    "{at}"
                );
                assert!(
                    b.finish_date.starts_with(&w.finish[..10]),
                    "{at}: {}",
                    b.finish_date
                );
            }
            other => panic!("{at}: last full {other:?}"),
        }
        if let (Some(w), Some(b)) = (last("L"), &g.backups.last_log) {
            assert_eq!(b.last_lsn, w.last_lsn, "{at}");
        } else {
            assert_eq!(last("L").is_some(), g.backups.last_log.is_some(), "{at}");
        }
        let logs_per_day = db.backups.iter().filter(|b| b.backup_type == "L").count() as u32;
        let got_logs: u32 = g
            .backups
            .per_day
            .iter()
            .filter(|d| d.backup_type == "L")
            .map(|d| d.count)
            .sum();
        assert_eq!(got_logs, logs_per_day, "{at}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scan_finds_every_instance_and_the_inventory_holds_what_they_do() {
    let fx_2008 = fixture("onprem-2008r2.json");
    let fx_2016 = fixture("onprem-2016-estate.json");
    let fx_2022 = fixture("onprem-2022.json");
    let s2008 = serve(fx_2008.clone(), "127.77.1.2", 1433).await;
    let s2022 = serve(fx_2022.clone(), "127.77.1.3", 1433).await;
    let (s2016, _browser) = serve_named(fx_2016.clone(), "127.77.1.4").await;

    // Created over TDS during the test: a database with a table and a procedure, and a job.
    tsql(
        &s2022,
        "CREATE DATABASE Staging; USE Staging; \
         CREATE TABLE dbo.Batch (BatchId INT NOT NULL PRIMARY KEY, LoadedAt DATETIME2(3) NOT NULL); \
         INSERT INTO dbo.Batch VALUES (1, '2024-06-01 00:00:00'), (2, '2024-06-02 00:00:00')",
    )
    .await;
    tsql(&s2022, "USE Staging").await;
    let proc = "CREATE PROCEDURE dbo.usp_Load AS SELECT BatchId FROM dbo.Batch";
    {
        let mut session = Session::new("sa", "Staging");
        let r = s2022.engine.execute(&mut session, proc, &[]);
        assert_eq!(r.error, None);
    }
    tsql(
        &s2022,
        "INSERT INTO msdb.dbo.sysjobs (job_id, name, enabled, description, date_created, date_modified) \
         VALUES ('0B1C2D3E-0000-4000-8000-000000000001', 'Staging load', 1, '', '2024-06-01', '2024-06-01'); \
         INSERT INTO msdb.dbo.sysjobsteps (job_id, step_id, step_name, subsystem, command, database_name) \
         VALUES ('0B1C2D3E-0000-4000-8000-000000000001', 1, 'load', 'TSQL', 'EXEC dbo.usp_Load', 'Staging')",
    )
    .await;

    let s = sqlmig();
    let (out, inv) = discover(&s, &["--scan", "127.77.1.0/29"], "sa", SA_PASSWORD).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let inv = inv.expect("an inventory was written");

    // Exactly the three instances, the named one through the Browser at its dynamic port.
    let mut names: Vec<&str> = inv.instances.iter().map(|i| i.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["SQLNEW01", "SQLOLD01", "SQLPROD01\\SALES"],
        "{}",
        stderr(&out)
    );
    let named = instance(&inv, "SQLPROD01\\SALES");
    assert_eq!(named.address.host, "127.77.1.4");
    assert_eq!(named.address.port, s2016.addr.port());
    assert_eq!(named.address.instance.as_deref(), Some("SALES"));
    assert_eq!(instance(&inv, "SQLOLD01").address.port, 1433);

    assert_matches_fixture(instance(&inv, "SQLOLD01"), &fx_2008, &s2008);
    assert_matches_fixture(named, &fx_2016, &s2016);
    assert_matches_fixture(instance(&inv, "SQLNEW01"), &fx_2022, &s2022);

    // What the test created over TDS is there too.
    let new = instance(&inv, "SQLNEW01");
    let staging = new
        .databases
        .iter()
        .find(|d| d.name == "Staging")
        .expect("Staging");
    assert_eq!(staging.compatibility_level, 160);
    assert_eq!(staging.files.len(), 2);
    assert_eq!(staging.tables.len(), 1);
    assert_eq!(
        (staging.tables[0].name.as_str(), staging.tables[0].rows),
        ("Batch", 2)
    );
    assert_eq!(staging.modules.len(), 1);
    assert_eq!(staging.modules[0].definition.as_deref(), Some(proc));
    assert_eq!(staging.object_counts.get("SQL_STORED_PROCEDURE"), Some(&1));
    let job = new
        .jobs
        .iter()
        .find(|j| j.name == "Staging load")
        .expect("the job");
    assert_eq!(job.steps[0].command, "EXEC dbo.usp_Load");

    // 2008 R2 has no physical_memory_kb or authentication_type: the version guards worked, or
    // there would be gaps.
    assert!(instance(&inv, "SQLOLD01").gaps.is_empty());

    // The inventory validates against the published schema.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/inventory.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc = serde_json::to_value(&inv).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // And what was written is what was read back: nothing lost in between.
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.home.path().join("inventory.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written, doc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_without_view_server_state_still_yields_an_inventory_with_its_gaps() {
    let _s = serve(fixture("onprem-2016-estate.json"), "127.77.2.2", 1433).await;
    let s = sqlmig();
    let (out, inv) = discover(&s, &["--server", "127.77.2.2"], "app_sales", "App-Passw0rd").await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let inv = inv.unwrap();
    let i = &inv.instances[0];
    assert_eq!(i.status, CollectionStatus::Partial);
    let gap = i
        .gaps
        .iter()
        .find(|g| g.what == "server.cpu_count")
        .expect("the DMV gap");
    assert_eq!(gap.error_number, Some(300));
    assert!(gap.reason.contains("VIEW SERVER STATE"));
    // Everything else was still read.
    assert!(
        i.databases
            .iter()
            .any(|d| d.name == "Sales" && !d.tables.is_empty())
    );
    assert!(i.server.as_ref().unwrap().cpu_count.is_none());
    // And shown.
    assert!(
        stderr(&out).contains("collected with 1 gap"),
        "{}",
        stderr(&out)
    );
    let shown = s.run(&[
        "inventory",
        "show",
        s.home.path().join("inventory.json").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("partial (1 gaps)") && text.contains("server.cpu_count"),
        "{text}"
    );
    assert!(text.contains("(error 300)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_collection_is_marked_failed_and_the_others_complete() {
    let healthy = serve(fixture("onprem-2022.json"), "127.77.3.2", 1433).await;
    let doomed = serve(fixture("onprem-2016-estate.json"), "127.77.3.3", 1433).await;
    // Slow the doomed instance so the kill lands mid-collection.
    doomed
        .faults()
        .delay_responses(Some(Duration::from_millis(150)));
    let s = sqlmig();
    let run = discover(
        &s,
        &["--server", "127.77.3.2", "--server", "127.77.3.3"],
        "sa",
        SA_PASSWORD,
    );
    let kill = async {
        // Wait until the doomed instance is being collected: a session of sqlmig's is running.
        for _ in 0..200 {
            let mut session = Session::new("sa", "master");
            let r = doomed.engine.execute(
                &mut session,
                "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE program_name = 'sqlmig'",
                &[],
            );
            if matches!(r.outcomes.first(), Some(Outcome::Rows { rows, .. }) if rows[0][0] != Value::Integer(0))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        doomed.stop().await;
    };
    let ((out, inv), ()) = tokio::join!(run, kill);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed instance makes exit code 1: {}",
        stderr(&out)
    );
    let inv = inv.expect("the inventory is still written");
    let ok = instance(&inv, "SQLNEW01");
    assert_eq!(ok.status, CollectionStatus::Complete);
    assert!(ok.databases.iter().any(|d| d.name == "Payments"));
    let failed = inv
        .instances
        .iter()
        .find(|i| i.address.host == "127.77.3.3")
        .expect("the killed one");
    assert_eq!(failed.status, CollectionStatus::Failed);
    // Every way the connection can end (refused, reset, lost mid-result) names the server.
    let error = failed.error.as_deref().unwrap();
    assert!(error.contains("127.77.3.3,1433"), "{error}");
    assert!(!error.contains(SA_PASSWORD));
    assert!(stderr(&out).contains("failed:"), "{}", stderr(&out));
    drop(healthy);
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_runs() {
    let s = sqlmig();
    for (args, needle) in [
        (
            vec!["discover", "--scan", "10.0.0.0/8", "--user", "sa"],
            "at most a /16",
        ),
        (
            vec!["discover", "--server", "sql01,99999", "--user", "sa"],
            "not a TCP port",
        ),
        (vec!["discover", "--user", "sa"], "nothing to discover"),
        (
            vec![
                "discover",
                "--platform",
                "rules-mi",
                "--server",
                "sql01",
                "--user",
                "sa",
            ],
            "rules-mi is a rule pack, not a platform plugin",
        ),
        (
            vec![
                "discover",
                "--servers",
                "/nonexistent/servers.txt",
                "--user",
                "sa",
            ],
            "/nonexistent/servers.txt",
        ),
    ] {
        let out = s
            .command(&args)
            .env("SQLMIG_PASSWORD", "x")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    // No password anywhere and no terminal: say where one may come from.
    let out = s
        .command(&["discover", "--server", "127.0.0.1", "--user", "sa"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SQLMIG_PASSWORD"), "{}", stderr(&out));
    // A servers file with a bad line names the file and line.
    let f = s.home.path().join("servers.txt");
    std::fs::write(&f, "# estate\nsql01\nsql02,notaport\n").unwrap();
    let out = s
        .command(&["discover", "--servers", f.to_str().unwrap(), "--user", "sa"])
        .env("SQLMIG_PASSWORD", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("servers.txt: line 3"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn performance_samples_are_taken_when_asked() {
    let server = serve(fixture("onprem-2022.json"), "127.77.4.2", 1433).await;
    let s = sqlmig();
    let (out, inv) = discover(
        &s,
        &[
            "--server",
            "127.77.4.2",
            "--performance",
            "--sample-interval",
            "1",
        ],
        "sa",
        SA_PASSWORD,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let inv = inv.unwrap();
    let samples = &inv.instances[0].performance;
    let value = |name: &str| named(samples, |p| &p.counter, name, "performance").value;
    assert_eq!(
        value("SQLServer:Buffer Manager\\Page life expectancy"),
        3600.0
    );
    // sqlmig's own session is connected while it samples.
    assert!(value("SQLServer:General Statistics\\User Connections") >= 1.0);
    // A rate: batches per second between the samples, so finite and not negative.
    let rate = value("SQLServer:SQL Statistics\\Batch Requests/sec");
    assert!(rate.is_finite() && rate >= 0.0, "{rate}");
    assert!(samples.iter().all(|p| p.at.ends_with('Z')));
    // Without --performance, none.
    let (_, plain) = discover(&s, &["--server", "127.77.4.2"], "sa", SA_PASSWORD).await;
    assert!(plain.unwrap().instances[0].performance.is_empty());
    drop(server);
}

#[tokio::test]
async fn a_named_server_that_does_not_answer_is_reported_failed() {
    let s = sqlmig();
    let (out, inv) = discover(&s, &["--server", "127.77.6.2"], "sa", SA_PASSWORD).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let inv = inv.expect("the inventory records the failure");
    assert_eq!(inv.instances.len(), 1);
    let i = &inv.instances[0];
    assert_eq!(i.status, CollectionStatus::Failed);
    assert_eq!(i.confidence, Confidence::PortOpen);
    assert!(
        i.error.as_deref().unwrap().contains("127.77.6.2:1433"),
        "{:?}",
        i.error
    );
    assert!(
        stderr(&out).contains("127.77.6.2: failed:"),
        "{}",
        stderr(&out)
    );
}
