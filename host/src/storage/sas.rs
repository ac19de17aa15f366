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
}
