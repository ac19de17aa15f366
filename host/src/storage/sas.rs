//! Shared access signatures signed with a storage account key: an account SAS (what a DBA's
//! `az storage account generate-sas` makes) and a container SAS (what MI's `CREATE CREDENTIAL`
//! for RESTORE FROM URL takes). String-to-sign layouts of service version 2020-12-06 and later.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

/// The service version SAS tokens are signed for.
pub const SAS_VERSION: &str = "2022-11-02";

fn sign(key: &Secret, string_to_sign: &str) -> Result<String, String> {
    let key = STANDARD
        .decode(key.expose())
        .map_err(|_| "the storage account key is not base64".to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(string_to_sign.as_bytes());
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

fn encode(v: &str) -> String {
    // Query values: everything but unreserved characters percent-encoded.
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An account SAS for the blob service over service, container and object resources.
/// `permissions` in Azure's order, e.g. `rwdlac`; `expiry` as `2026-11-28T00:00:00Z`.
pub fn account_sas(
    account: &str,
    key: &Secret,
    permissions: &str,
    expiry: &str,
) -> Result<Secret, String> {
    let (services, resource_types) = ("b", "sco");
    let to_sign = [
        account,
        permissions,
        services,
        resource_types,
        "",
        expiry,
        "",
        "",
        SAS_VERSION,
        "",
        "",
    ]
    .join("\n");
    let sig = sign(key, &to_sign)?;
    Ok(Secret::new(format!(
        "sv={SAS_VERSION}&ss={services}&srt={resource_types}&sp={permissions}&se={}&sig={}",
        encode(expiry),
        encode(&sig)
    )))
}

/// A service SAS scoped to one container.
pub fn container_sas(
    account: &str,
    container: &str,
    key: &Secret,
    permissions: &str,
    expiry: &str,
) -> Result<Secret, String> {
    let resource = format!("/blob/{account}/{container}");
    let to_sign = [
        permissions,
        "",
        expiry,
        &resource,
        "",
        "",
        "",
        SAS_VERSION,
        "c",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    .join("\n");
    let sig = sign(key, &to_sign)?;
    Ok(Secret::new(format!(
        "sv={SAS_VERSION}&sr=c&sp={permissions}&se={}&sig={}",
        encode(expiry),
        encode(&sig)
    )))
}

/// A query parameter of a SAS token, percent-decoded.
fn param(sas: &str, name: &str) -> Option<String> {
    let url = azure_core::http::Url::parse(&format!("http://sas/?{}", sas.trim_start_matches('?')))
        .ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Why MI's Log Replay Service would not start with `sas`, if it would not: it "must be
/// generated for the entire Azure Blob Storage container, and it must have Read and List
/// permissions only" (grant Write too and "LRS won't be able to start"), and "SAS tokens
/// created with permissions that are set through defining a stored access policy" are not
/// supported (log-replay-service-overview.md, log-replay-service-migrate.md).
pub fn lrs_refusal(sas: &str) -> Option<String> {
    if param(sas, "si").is_some() {
        return Some(
            "it takes its permissions from a stored access policy (si=), which LRS does not accept"
                .into(),
        );
    }
    if let Some(sr) = param(sas, "sr")
        && sr != "c"
    {
        return Some(format!(
            "it is for a single {} (sr={sr}), not the whole container (sr=c)",
            if sr == "b" { "blob" } else { "resource" }
        ));
    }
    let sp = param(sas, "sp").unwrap_or_default();
    let mut granted: Vec<char> = sp.chars().collect();
    granted.sort_unstable();
    granted.dedup();
    (granted != ['l', 'r']).then(|| {
        format!("it grants sp={sp:?}; LRS starts only with read and list (sp=rl), nothing more")
    })
}

/// The storage account and container of a container URL: `https://ACCOUNT.blob.core.windows.net/
/// CONTAINER`, or an emulator's `http://127.0.0.1:PORT/ACCOUNT/CONTAINER` (path-style).
pub fn account_and_container(url: &str) -> Option<(String, String)> {
    let (_, rest) = url.split_once("://")?;
    let (host, path) = rest.split_once('/')?;
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let hostname = host.split(':').next().unwrap_or(host);
    let path_style = hostname == "localhost" || hostname.parse::<std::net::IpAddr>().is_ok();
    let account = if path_style {
        segments.next()?.to_string()
    } else {
        hostname.split('.').next()?.to_string()
    };
    Some((account, segments.next()?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_scope_and_an_encoded_signature() {
        let key = Secret::new(STANDARD.encode(b"0123456789abcdef"));
        let t = container_sas("acct", "backups", &key, "rwl", "2030-01-01T00:00:00Z").unwrap();
        let t = t.expose();
        assert!(
            t.starts_with("sv=2022-11-02&sr=c&sp=rwl&se=2030-01-01T00%3A00%3A00Z&sig="),
            "{t}"
        );
        assert!(!t["sig=".len()..].contains('+') && !t.contains('/'), "{t}");
        assert!(account_sas("acct", &Secret::new("not base64!"), "r", "x").is_err());
    }

    #[test]
    fn lrs_takes_read_and_list_for_the_container_only() {
        let key = Secret::new(STANDARD.encode(b"0123456789abcdef"));
        let rl = container_sas("acct", "c", &key, "rl", "2030-01-01T00:00:00Z").unwrap();
        assert_eq!(lrs_refusal(rl.expose()), None);
        assert_eq!(lrs_refusal("sv=2019-02-02&ss=b&srt=sco&sp=lr&sig=x"), None);
        let write = container_sas("acct", "c", &key, "racwdl", "2030-01-01T00:00:00Z").unwrap();
        assert!(
            lrs_refusal(write.expose())
                .unwrap()
                .contains("sp=\"racwdl\"")
        );
        assert!(
            lrs_refusal("sv=1&sr=b&sp=rl&sig=x")
                .unwrap()
                .contains("single blob")
        );
        assert!(
            lrs_refusal("sv=1&sr=c&si=p1&sig=x")
                .unwrap()
                .contains("stored access policy")
        );
        assert!(lrs_refusal("sv=1&sr=c&sp=r&sig=x").is_some());
    }

    #[test]
    fn accounts_and_containers_from_both_url_styles() {
        assert_eq!(
            account_and_container("https://acct.blob.core.windows.net/migration"),
            Some(("acct".into(), "migration".into()))
        );
        assert_eq!(
            account_and_container("http://127.0.0.1:10000/devstoreaccount1/online"),
            Some(("devstoreaccount1".into(), "online".into()))
        );
        assert_eq!(
            account_and_container("https://acct.blob.core.windows.net"),
            None
        );
    }
}
