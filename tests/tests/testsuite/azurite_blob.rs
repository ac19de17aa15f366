//! The `blob` capability's real backend against Azurite: staged blocks, commit, list, ranged
//! read, delete; SAS tokens that do not allow a write are refused without quoting the token.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlmig::capabilities::blob::BlobBackend;
use sqlmig::capabilities::{CapabilityError, CapabilitySet, Services};
use sqlmig::runtime::{HookCall, HookOutput, Limits};
use sqlmig::storage::azure_blob::{AzureBlobBackend, AzureContainer, ContainerAccess};
use sqlmig::storage::sas;
use sqlmig_tests::azurite::{ACCOUNT, Azurite, EXPIRY};
use sqlmig_tests::plugins::{FULL_MANIFEST, FULL_WASM};

fn backend(az: &Azurite, name: &str, container: &str, perms: &str) -> AzureBlobBackend {
    let token = sas::container_sas(ACCOUNT, container, &az.key(), perms, EXPIRY).unwrap();
    AzureBlobBackend::new(BTreeMap::from([(
        name.to_string(),
        ContainerAccess {
            url: az.container_url(container),
            sas: token,
        },
    )]))
}

#[tokio::test]
async fn blocks_are_staged_committed_listed_read_and_deleted() {
    let az = Azurite::start();
    az.create_container("backups").await;
    let c = backend(&az, "backups", "backups", "racwdl")
        .open("backups")
        .await
        .unwrap();

    let parts: Vec<Vec<u8>> = (0..3u8).map(|i| vec![b'a' + i; 100_000]).collect();
    let ids: Vec<String> = (0..3).map(|i| format!("block-{i:05}")).collect();
    // Staged out of order: the committed list decides the content.
    for i in [2, 0, 1] {
        c.put_block("Sales/Sales_full.bak", &ids[i], parts[i].clone())
            .await
            .unwrap();
    }
    c.commit_block_list("Sales/Sales_full.bak", &ids)
        .await
        .unwrap();
    c.put_block("HR/HR_full.bak", "b0", b"hr".to_vec())
        .await
        .unwrap();
    c.commit_block_list("HR/HR_full.bak", &["b0".to_string()])
        .await
        .unwrap();

    let listed = c.list("Sales/").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Sales/Sales_full.bak");
    assert_eq!(listed[0].size, 300_000);
    assert_eq!(listed[0].blob_type, "BlockBlob");
    assert_eq!(c.list("").await.unwrap().len(), 2);

    // A range across the first block boundary.
    let range = c
        .read_range("Sales/Sales_full.bak", 99_998, 4)
        .await
        .unwrap();
    assert_eq!(range, b"aabb");
    assert_eq!(
        c.url("Sales/Sales_full.bak"),
        format!("{}/Sales/Sales_full.bak", az.container_url("backups"))
    );

    c.delete("HR/HR_full.bak").await.unwrap();
    assert!(c.list("HR/").await.unwrap().is_empty());
    let missing = c.read_range("HR/HR_full.bak", 0, 2).await.unwrap_err();
    assert!(
        matches!(missing, CapabilityError::NotFound(_)),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_read_only_sas_cannot_write_and_the_error_hides_the_token() {
    let az = Azurite::start();
    az.create_container("backups").await;
    let c = backend(&az, "backups", "backups", "rl")
        .open("backups")
        .await
        .unwrap();
    let err = c
        .put_block("x.bak", "b0", b"data".to_vec())
        .await
        .unwrap_err();
    let CapabilityError::AccessDenied(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(
        msg.contains("x.bak") && msg.contains("permissions"),
        "{msg}"
    );
    assert!(!msg.contains("sig=") || msg.contains("sig=***"), "{msg}");
    let token = sas::container_sas(ACCOUNT, "backups", &az.key(), "rl", EXPIRY).unwrap();
    let sig = token.expose().split("sig=").nth(1).unwrap();
    assert!(!msg.contains(sig), "the signature leaked: {msg}");
    // Reading is allowed.
    assert!(c.list("").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_sas_for_one_container_does_not_open_another() {
    let az = Azurite::start();
    az.create_container("alpha").await;
    az.create_container("bravo").await;
    let token = sas::container_sas(ACCOUNT, "alpha", &az.key(), "racwdl", EXPIRY).unwrap();
    let wrong = AzureBlobBackend::new(BTreeMap::from([(
        "bravo".to_string(),
        ContainerAccess {
            url: az.container_url("bravo"),
            sas: token,
        },
    )]));
    let c = wrong.open("bravo").await.unwrap();
    let err = c.put_block("x", "b0", b"1".to_vec()).await.unwrap_err();
    assert!(matches!(err, CapabilityError::AccessDenied(_)), "{err:?}");
}

#[test]
fn a_sas_inside_the_url_is_refused() {
    let err = AzureContainer::connect(&ContainerAccess {
        url: "https://acct.blob.core.windows.net/c?sv=1&sig=abc".into(),
        sas: sqlmig::secret::Secret::new(""),
    })
    .err()
    .unwrap();
    let CapabilityError::InvalidInput(msg) = err else {
        panic!()
    };
    assert!(!msg.contains("sig=abc"), "{msg}");
}

#[tokio::test]
async fn a_plugin_stages_and_reads_blocks_in_azurite_through_its_capability() {
    let az = Azurite::start();
    az.create_container("migration").await;
    let services = Services {
        blob: Some(Arc::new(backend(&az, "backups", "migration", "racwdl"))),
        ..Default::default()
    };
    let asked = sqlmig_tests::manifest(FULL_MANIFEST).capabilities;
    let plugin = sqlmig_tests::load(
        &sqlmig_tests::runtime(),
        FULL_WASM,
        FULL_MANIFEST,
        CapabilitySet {
            blob: asked.blob.clone(),
            ..Default::default()
        },
        Limits::default(),
    )
    .unwrap();
    let out = plugin
        .call(&services, HookCall::RunStep("{}".into()))
        .await
        .unwrap();
    let HookOutput::Document(d) = out else {
        panic!("{out:?}")
    };
    let d: serde_json::Value = serde_json::from_str(&d).unwrap();
    assert_eq!(d["range"], "world");
    assert_eq!(d["listed"], serde_json::json!([["db1/full.bak", 11]]));
    assert_eq!(
        d["url"],
        format!("{}/db1/full.bak", az.container_url("migration"))
    );
}
