//! The well-behaved `full` plugin uses every capability through the real runtime; each
//! capability works when asked and granted, and is refused naming the missing side otherwise.

use std::sync::Arc;

use serde_json::Value;
use sqlmig::capabilities::state::SqliteStateStore;
use sqlmig::capabilities::{CapabilityError, CapabilitySet, Services};
use sqlmig::runtime::instance::FindingLevel;
use sqlmig::runtime::{HookCall, HookOutput, Limits, LoadedPlugin, PluginError};
use sqlmig_tests::doubles::{EchoHttp, MemoryBlobs, RecordedProgress, ScriptedSql};
use sqlmig_tests::plugins::{FULL_MANIFEST, FULL_WASM};
use sqlmig_tests::{load, manifest, runtime};

/// Grants everything the `full` plugin asks for.
fn all_asked() -> CapabilitySet {
    manifest(FULL_MANIFEST).capabilities
}

fn full(granted: CapabilitySet) -> LoadedPlugin {
    load(
        &runtime(),
        FULL_WASM,
        FULL_MANIFEST,
        granted,
        Limits::default(),
    )
    .unwrap()
}

fn doc(out: HookOutput) -> Value {
    match out {
        HookOutput::Document(d) => serde_json::from_str(&d).unwrap(),
        other => panic!("expected a document, got {other:?}"),
    }
}

#[tokio::test]
async fn describe_names_the_plugin() {
    let p = full(CapabilitySet::default());
    match p
        .call(&Services::default(), HookCall::Describe)
        .await
        .unwrap()
    {
        HookOutput::Info(info) => {
            assert_eq!(info.name, "full");
            assert_eq!(info.version, "0.1.0");
            assert_eq!(info.summary, "uses every capability");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.api.to_string(), "0.1.1");
}

#[tokio::test]
async fn sql_queries_carry_parameters_and_stream_in_batches() {
    let sql = Arc::new(ScriptedSql {
        stream_rows: 2500,
        ..Default::default()
    });
    let services = Services {
        sql: Some(sql.clone()),
        ..Default::default()
    };
    let out = full(all_asked())
        .call(&services, HookCall::Discover("{}".into()))
        .await
        .unwrap();
    let d = doc(out);
    assert_eq!(d["databases"][0]["name"], "Sales");
    assert_eq!(d["databases"][1]["id"], 6);
    assert_eq!(d["streamed"], 2500);
    assert_eq!(d["affected"], 3);
    let sent = sql.sent.lock().unwrap();
    assert!(sent[0].0.contains("WHERE database_id > @min"));
    assert_eq!(sent[0].1[0].name, "min");
    assert_eq!(
        sent[0].1[0].value,
        sqlmig::capabilities::sql::SqlValue::Int(4)
    );
}

#[tokio::test]
async fn sql_without_the_operators_grant_is_denied_naming_the_operator() {
    let services = Services {
        sql: Some(Arc::new(ScriptedSql::default())),
        ..Default::default()
    };
    let err = full(CapabilitySet::default())
        .call(&services, HookCall::Discover("{}".into()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            &err,
            PluginError::Failed {
                error: CapabilityError::AccessDenied(_),
                hook: "discover",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(text.contains("plugin full 0.1.0"), "{text}");
    assert!(text.contains("capability sql endpoint 'source'"), "{text}");
    assert!(text.contains("not granted"), "{text}");
    assert!(text.contains("[plugins.full.grants]"), "{text}");
}

#[tokio::test]
async fn fs_reads_inside_the_granted_folder_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("proc.sql"), "SELECT 1;").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let mut services = Services::default();
    services
        .folders
        .insert("scripts".into(), dir.path().to_path_buf());
    let p = full(all_asked());

    let d = doc(p
        .call(
            &services,
            HookCall::Collect(r#"{"path":"proc.sql"}"#.into()),
        )
        .await
        .unwrap());
    assert_eq!(d["text"], "SELECT 1;");
    assert_eq!(d["entries"], serde_json::json!(["proc.sql", "sub"]));

    let err = p
        .call(
            &services,
            HookCall::Collect(r#"{"path":"../../etc/passwd"}"#.into()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PluginError::Failed { error: CapabilityError::AccessDenied(m), .. } if m.contains("leaves granted folder 'scripts'")),
        "{err:?}"
    );
}

#[tokio::test]
async fn assess_returns_findings_and_reports_progress() {
    let progress = Arc::new(RecordedProgress::default());
    let services = Services {
        progress: Some(progress.clone()),
        ..Default::default()
    };
    let inventory = r#"{"schema":"sqlmig.inventory/1","instances":[
        {"name":"SQL01","databases":[{"name":"Old","compatibility_level":90},{"name":"New","compatibility_level":160}]},
        {"name":"SQL02","databases":[]}]}"#;
    let out = full(CapabilitySet::default())
        .call(
            &services,
            HookCall::Assess {
                inventory: inventory.into(),
                options: "{}".into(),
            },
        )
        .await
        .unwrap();
    let HookOutput::Findings(f) = out else {
        panic!("{out:?}")
    };
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "DbCompatLevelLowerThan100");
    assert_eq!(f[0].database.as_deref(), Some("Old"));
    assert!(matches!(f[0].level, FindingLevel::Warning));
    let reports = progress.reports.lock().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        reports[1],
        ("full 0.1.0".into(), 1, Some(2), "SQL02".into())
    );
}

#[tokio::test]
async fn malformed_input_is_the_plugins_invalid_input() {
    let err = full(CapabilitySet::default())
        .call(
            &Services::default(),
            HookCall::Assess {
                inventory: "{not json".into(),
                options: "{}".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PluginError::Failed { error: CapabilityError::InvalidInput(m), .. } if m.contains("line 1")),
        "{err:?}"
    );
}

#[tokio::test]
async fn state_is_durable_across_calls_and_stores() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let p = full(all_asked());
    for expected in 1..=2 {
        let services = Services {
            state: Some(Arc::new(SqliteStateStore::open(&db).unwrap())),
            ..Default::default()
        };
        let d = doc(p
            .call(&services, HookCall::Plan("{}".into()))
            .await
            .unwrap());
        assert_eq!(d["runs"], expected);
        assert_eq!(d["keys"], serde_json::json!(["runs"]));
    }
}

#[tokio::test]
async fn state_must_be_granted() {
    let dir = tempfile::tempdir().unwrap();
    let services = Services {
        state: Some(Arc::new(
            SqliteStateStore::open(&dir.path().join("j.db")).unwrap(),
        )),
        ..Default::default()
    };
    // The plugin asks for state; without the operator's grant the denial names the operator.
    let mut granted = all_asked();
    granted.state = false;
    let err = full(granted)
        .call(&services, HookCall::Plan("{}".into()))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("capability state is not granted"), "{err}");
}

#[tokio::test]
async fn blob_blocks_are_staged_committed_listed_and_read() {
    let blobs = MemoryBlobs::default();
    let services = Services {
        blob: Some(Arc::new(blobs.clone())),
        ..Default::default()
    };
    let d = doc(full(all_asked())
        .call(&services, HookCall::RunStep("{}".into()))
        .await
        .unwrap());
    assert_eq!(d["range"], "world");
    assert_eq!(d["listed"], serde_json::json!([["db1/full.bak", 11]]));
    assert_eq!(
        d["url"],
        "https://account.blob.core.windows.net/backups/db1/full.bak"
    );
    assert_eq!(blobs.blobs.lock().unwrap()["db1/full.bak"], b"hello world");
}

#[tokio::test]
async fn http_reaches_only_allow_listed_hosts() {
    let http = Arc::new(EchoHttp::default());
    let services = Services {
        http: Some(http.clone()),
        ..Default::default()
    };
    let p = full(all_asked());
    let d = doc(p
        .call(
            &services,
            HookCall::Cutover(r#"{"url":"http://127.0.0.1:1/ok"}"#.into()),
        )
        .await
        .unwrap());
    assert_eq!(d["status"], 200);

    let err = p
        .call(
            &services,
            HookCall::Cutover(r#"{"url":"https://exfiltrate.example/steal"}"#.into()),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("capability http host 'https://exfiltrate.example'"),
        "{err}"
    );
    assert!(err.contains("not asked for"), "{err}");
    assert_eq!(
        http.sent.lock().unwrap().len(),
        1,
        "the refused request was never sent"
    );
}

/// A loopback listener answering every connection with `reply`; counts what reached it.
fn listener(reply: String) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    // It closes each connection after its reply, and says so: a client that pooled the
    // connection would otherwise race its next request against the close.
    let reply = reply.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(reply.as_bytes());
        }
    });
    (port, hits)
}

#[tokio::test]
async fn a_redirect_or_a_backslash_does_not_carry_a_request_past_the_grant() {
    // B is what a hostile server would send the plugin's request on to; A is granted.
    let (b, b_hits) = listener("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".into());
    let (a, a_hits) = listener(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{b}/steal\r\n\
         Content-Length: 0\r\n\r\n"
    ));
    let http = sqlmig::cloud::CloudHttp::new(Default::default()).unwrap();
    let services = Services {
        http: Some(Arc::new(http)),
        ..Default::default()
    };
    let granted = CapabilitySet {
        http: vec![format!("http://127.0.0.1:{a}")],
        ..Default::default()
    };
    let p = full(granted);
    // The 307 comes back to the plugin; its Location is not followed.
    let d = doc(p
        .call(
            &services,
            HookCall::Cutover(format!(r#"{{"url":"http://127.0.0.1:{a}/ok"}}"#)),
        )
        .await
        .unwrap());
    assert_eq!(d["status"], 307);
    assert_eq!(a_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Read naively, this URL's host is 127.0.0.1:{a}; a URL parser connects to B.
    let err = p
        .call(
            &services,
            HookCall::Cutover(format!(
                r#"{{"url":"http://127.0.0.1:{b}\\@127.0.0.1:{a}/"}}"#
            )),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("backslash"), "{err}");
    // A port the grant does not name.
    let err = p
        .call(
            &services,
            HookCall::Cutover(format!(r#"{{"url":"http://127.0.0.1:{b}/"}}"#)),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not granted"), "{err}");
    assert_eq!(
        b_hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached the listener the grant does not name"
    );
}

/// A loopback listener answering each request with `head` and then `body_bytes` zero bytes,
/// written as the reader takes them; counts the bytes of body it got out.
fn endless_body(head: String, body_bytes: u64) -> (u16, Arc<std::sync::atomic::AtomicU64>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = written.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            if s.write_all(head.as_bytes()).is_err() {
                continue;
            }
            let zeros = vec![0u8; 64 << 10];
            let mut left = body_bytes;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                if s.write_all(&zeros[..n]).is_err() {
                    break;
                }
                left -= n as u64;
                counted.fetch_add(n as u64, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    (port, written)
}

/// A plugin asking for a 1 GiB body gets `limit-exceeded`; the host read about as much as the
/// plugin's memory limit, announced or not.
#[tokio::test]
async fn a_response_larger_than_the_plugins_memory_is_not_read() {
    const GIB: u64 = 1 << 30;
    let (announced, announced_sent) = endless_body(
        format!("HTTP/1.1 200 OK\r\nContent-Length: {GIB}\r\n\r\n"),
        GIB,
    );
    let (unannounced, unannounced_sent) =
        endless_body("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".into(), GIB);
    let services = Services {
        http: Some(Arc::new(
            sqlmig::cloud::CloudHttp::new(Default::default()).unwrap(),
        )),
        ..Default::default()
    };
    let granted = CapabilitySet {
        http: vec!["http://127.0.0.1:*".into()],
        ..Default::default()
    };
    let limits = Limits {
        memory_mib: 8,
        ..Limits::default()
    };
    let p = load(&runtime(), FULL_WASM, FULL_MANIFEST, granted, limits).unwrap();
    for (port, sent) in [(announced, announced_sent), (unannounced, unannounced_sent)] {
        let err = p
            .call(
                &services,
                HookCall::Cutover(format!(r#"{{"url":"http://127.0.0.1:{port}/big"}}"#)),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than 8 MiB"), "{err}");
        // What the host read, plus what the sockets' buffers took.
        let sent = sent.load(std::sync::atomic::Ordering::SeqCst);
        assert!(sent < 64 << 20, "the listener got {} MiB out", sent >> 20);
    }
}

/// The operator's ARM token goes to the target's managed instance and its databases only: a
/// request for another resource of the same origin (a storage account's keys), however its path
/// is dressed up, is refused and never sent.
#[tokio::test]
async fn the_arm_token_reaches_only_the_targets_resource() {
    let (port, hits) = listener("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".into());
    let origin = format!("http://127.0.0.1:{port}");
    let mi = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01";
    let http = sqlmig::cloud::CloudHttp::for_resource(
        &origin,
        sqlmig::secret::Secret::new("arm-token"),
        mi,
    )
    .unwrap();
    let services = Services {
        http: Some(Arc::new(http)),
        ..Default::default()
    };
    let p = full(CapabilitySet {
        http: vec![origin.clone()],
        ..Default::default()
    });
    let get = |path: String| {
        p.call(
            &services,
            HookCall::Cutover(serde_json::json!({ "url": format!("{origin}{path}") }).to_string()),
        )
    };
    for inside in [
        format!("{mi}/databases/Sales/restoreDetails/Default?api-version=2023-08-01"),
        format!("{}?api-version=2023-08-01", mi.to_uppercase()),
    ] {
        assert_eq!(doc(get(inside).await.unwrap())["status"], 200);
    }
    let storage = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/listKeys";
    for outside in [
        storage.to_string(),
        format!("{mi}/../../../Microsoft.Storage/storageAccounts/acct/listKeys"),
        format!("{mi}/%2e%2e/%2E%2E/../Microsoft.Storage/storageAccounts/acct/listKeys"),
        format!("{mi}01/databases/Sales"),
    ] {
        let err = get(outside.clone()).await.unwrap_err().to_string();
        assert!(
            err.contains("the Azure token is for the target's resource"),
            "{outside}: {err}"
        );
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "only the two requests inside the resource were sent"
    );
}

/// A plugin names blobs inside its container: a name that a URL parser would fold out of it
/// (`..`), or that a parser reads as something else (`\\`, `?`), is refused before the backend
/// sees it.
#[tokio::test]
async fn blob_names_stay_inside_the_container() {
    let blobs = MemoryBlobs::default();
    let services = Services {
        blob: Some(Arc::new(blobs.clone())),
        ..Default::default()
    };
    let p = full(all_asked());
    let put = |name: &str| {
        p.call(
            &services,
            HookCall::Cutover(serde_json::json!({ "blob": name }).to_string()),
        )
    };
    assert_eq!(
        doc(put("Sales/ok.bak").await.unwrap())["stored"],
        "Sales/ok.bak"
    );
    for bad in [
        "../other-container/x.bak",
        "Sales/../../x",
        "Sales/./x",
        "Sales//x",
        "/x",
        "Sales\\..\\x",
        "x?comp=list",
        "x.",
    ] {
        let err = put(bad).await.unwrap_err().to_string();
        assert!(err.contains("blob name"), "{bad}: {err}");
    }
    assert_eq!(
        blobs.blobs.lock().unwrap().keys().collect::<Vec<_>>(),
        ["Sales/ok.bak"]
    );
}

#[tokio::test]
async fn cloud_credentials_reach_the_plugin_but_nothing_it_hands_on() {
    use sqlmig::capabilities::credentials::CloudValues;
    let dir = tempfile::tempdir().unwrap();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSQLMIG";
    let services = Services {
        cloud: Some(Arc::new(CloudValues::resolve(
            &["TEST_SECRET".into()],
            &["TEST_REGION".into()],
            |n| match n {
                "TEST_SECRET" => Some(secret.into()),
                "TEST_REGION" => Some("eu-west-1".into()),
                _ => None,
            },
        ))),
        state: Some(Arc::new(
            SqliteStateStore::open(&dir.path().join("state.db")).unwrap(),
        )),
        ..Default::default()
    };
    let p = full(all_asked());
    let call = |body: &'static str| p.call(&services, HookCall::Cutover(body.into()));

    // A setting is plain; a credential is the plugin's to use, and comes back out as ***.
    let d = doc(call(r#"{"credential":"TEST_REGION"}"#).await.unwrap());
    assert_eq!(d["value"], "eu-west-1");
    let d = doc(call(r#"{"credential":"TEST_SECRET"}"#).await.unwrap());
    assert_eq!(d["value"], "***");

    // State goes to the journal: a value holding a credential is refused, naming it.
    let err = call(r#"{"credential":"TEST_SECRET","store":true}"#)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds the credential TEST_SECRET"), "{err}");
    assert!(!err.contains(secret), "{err}");
    // …and so is a key holding one, without the error quoting it.
    let err = call(r#"{"credential":"TEST_SECRET","store_key":true}"#)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds the credential TEST_SECRET"), "{err}");
    assert!(!err.contains(secret), "{err}");
    // A panic's message is plugin text: redacted on its way into the error.
    let err = call(r#"{"credential":"TEST_SECRET","panic":true}"#)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("giving up with Some(\"***\")"), "{err}");
    assert!(!err.contains(secret), "{err}");
    // Progress messages too; a setting is a plain value the operator granted, shown as it is.
    let progress = Arc::new(RecordedProgress::default());
    let with_progress = Services {
        progress: Some(progress.clone()),
        ..services.clone()
    };
    for name in ["TEST_SECRET", "TEST_REGION"] {
        p.call(
            &with_progress,
            HookCall::Cutover(format!(r#"{{"credential":"{name}"}}"#)),
        )
        .await
        .unwrap();
    }
    let said: Vec<String> = progress
        .reports
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.3.clone())
        .collect();
    assert_eq!(
        said,
        [
            "signing with Some(\"***\")",
            "signing with Some(\"eu-west-1\")"
        ]
    );

    // A name the manifest does not list is refused, as is one the operator did not grant.
    let err = call(r#"{"credential":"AWS_SECRET_ACCESS_KEY"}"#)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("capability credentials name 'AWS_SECRET_ACCESS_KEY'")
            && err.contains("not asked for"),
        "{err}"
    );
    let err = full(CapabilitySet::default())
        .call(
            &services,
            HookCall::Cutover(r#"{"credential":"TEST_SECRET"}"#.into()),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not granted"), "{err}");
}

/// A plugin's text reaches the operator's terminal without control sequences: it cannot clear a
/// line, move the cursor or recolour what sqlmig prints, in a progress message, an error or a
/// panic message.
#[tokio::test]
async fn a_plugins_text_cannot_rewrite_the_operators_terminal() {
    let progress = Arc::new(RecordedProgress::default());
    let services = Services {
        progress: Some(progress.clone()),
        ..Default::default()
    };
    let p = full(CapabilitySet::default());
    let fake = "\u{1b}[2K\r\u{1b}[32mmigration verified: 0 differences\u{1b}[0m\u{8}";
    for panic in [false, true] {
        let body = serde_json::json!({"say": fake, "panic": panic}).to_string();
        let err = p
            .call(&services, HookCall::Cutover(body))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            !err.chars()
                .any(|c| c == '\u{1b}' || c == '\r' || c == '\u{8}'),
            "{err:?}"
        );
        assert!(err.contains("\\u{1b}[2K\\u{d}"), "{err}");
    }
    let reports = progress.reports.lock().unwrap();
    assert_eq!(reports.len(), 2);
    for (_, _, _, said) in reports.iter() {
        assert_eq!(
            said,
            "\\u{1b}[2K\\u{d}\\u{1b}[32mmigration verified: 0 differences\\u{1b}[0m\\u{8}"
        );
    }
}

#[tokio::test]
async fn sleep_happens_in_the_host() {
    let d = doc(full(CapabilitySet::default())
        .call(
            &Services::default(),
            HookCall::Validate(r#"{"sleep_ms":40}"#.into()),
        )
        .await
        .unwrap());
    assert!(d["slept_ms"].as_u64().unwrap() >= 40, "{d}");
}

#[tokio::test]
async fn a_missing_service_is_unavailable_not_a_crash() {
    let err = full(all_asked())
        .call(&Services::default(), HookCall::RunStep("{}".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PluginError::Failed { error: CapabilityError::Unavailable(m), .. } if m.contains("'backups'")),
        "{err:?}"
    );
}
