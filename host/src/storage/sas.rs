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

/// A storage account key that is not one (keys are base64).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the storage account key is not base64")]
pub struct KeyNotBase64;

fn sign(key: &Secret, string_to_sign: &str) -> Result<String, KeyNotBase64> {
    let key = STANDARD.decode(key.expose()).map_err(|_| KeyNotBase64)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

/// A query value: everything but RFC 3986's unreserved characters percent-encoded.
fn encode(v: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(v, UNRESERVED).to_string()
}

/// An account SAS for the blob service over service, container and object resources.
/// `permissions` in Azure's order, e.g. `rwdlac`; `expiry` as `2026-11-28T00:00:00Z`.
pub fn account_sas(
    account: &str,
    key: &Secret,
    permissions: &str,
    expiry: &str,
) -> Result<Secret, KeyNotBase64> {
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
) -> Result<Secret, KeyNotBase64> {
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

/// What a SAS token grants, as its query says (the service decides; a stored access policy's
/// permissions are not in the token at all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grants {
    /// `sp`: the permission letters.
    pub permissions: String,
    /// `sr` for a service SAS (`c` container, `b` blob); `None` for an account SAS.
    pub resource: Option<String>,
    /// An account SAS's `ss` (services) and `srt` (resource types).
    pub account: Option<(String, String)>,
    /// `se`, as written.
    pub expiry: Option<String>,
    /// `si`: the stored access policy the permissions come from.
    pub policy: Option<String>,
    /// The token's length (SQL Server 2019 and earlier take 256 characters at most).
    pub len: usize,
}

/// Reads what `sas` grants.
pub fn grants(sas: &str) -> Grants {
    let sas = sas.trim_start_matches('?');
    let account = param(sas, "ss").map(|ss| (ss, param(sas, "srt").unwrap_or_default()));
    Grants {
        permissions: param(sas, "sp").unwrap_or_default(),
        resource: param(sas, "sr"),
        account,
        expiry: param(sas, "se"),
        policy: param(sas, "si"),
        len: sas.len(),
    }
}

/// Who uses a SAS on the migration's container, and what for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The source's BACKUP TO URL credential (and sqlmig's own uploads and checks): "at least
    /// read, write, and list" (tutorial-use-azure-blob-storage-service-with-sql-server.md).
    Source,
    /// MI's Log Replay Service: read and list only, for the whole container (see
    /// [`lrs_refusal`]).
    LogReplay,
}

impl Party {
    /// The permission letters it needs.
    pub fn needs(self) -> &'static str {
        match self {
            Party::Source => "rwl",
            Party::LogReplay => "rl",
        }
    }
}

/// What keeps `sas` from serving `party` until `until` (a migration's end): missing
/// permissions, the wrong scope, an expiry before then, a length its source cannot take
/// (`source_major`: SQL Server's major version, when known). Empty when it serves.
pub fn shortfall(
    party: Party,
    sas: &str,
    now: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
    source_major: Option<u32>,
) -> Vec<String> {
    let g = grants(sas);
    let mut out = Vec::new();
    match party {
        Party::LogReplay => out.extend(lrs_refusal(sas)),
        Party::Source => {
            if g.policy.is_none() {
                let missing: String = party
                    .needs()
                    .chars()
                    .filter(|c| !g.permissions.contains(*c))
                    .collect();
                if !missing.is_empty() {
                    out.push(format!(
                        "it grants sp={:?}; BACKUP TO URL needs at least read, write and list: {missing} missing",
                        g.permissions
                    ));
                }
            }
            match (&g.resource, &g.account) {
                (Some(sr), _) if sr != "c" => out.push(format!(
                    "it is for a single {} (sr={sr}); the backups are many blobs: make it for the container (sr=c)",
                    if sr == "b" { "blob" } else { "resource" }
                )),
                (None, Some((ss, srt))) if !ss.contains('b') || !srt.contains('o') => out.push(format!(
                    "it is an account SAS for services {ss:?} and resource types {srt:?}; blobs need ss with b and srt with o"
                )),
                _ => {}
            }
            if g.len > 256 && source_major.is_some_and(|m| m <= 15) {
                out.push(format!(
                    "it is {} characters; SQL Server 2019 and earlier take a SAS of 256 at most (sql-server-backup-to-url.md)",
                    g.len
                ));
            }
        }
    }
    match g
        .expiry
        .as_deref()
        .map(chrono::DateTime::parse_from_rfc3339)
    {
        None if g.policy.is_none() => out.push("it has no expiry (se=)".into()),
        None => {}
        Some(Err(_)) => out.push(format!(
            "its expiry se={:?} is not a UTC time",
            g.expiry.unwrap_or_default()
        )),
        Some(Ok(se)) if se <= now => {
            out.push(format!("it expired at {}", se.format("%Y-%m-%d %H:%M UTC")))
        }
        Some(Ok(se)) if se < until => out.push(format!(
            "it expires at {}, before the migration should end ({}): make one that lasts",
            se.format("%Y-%m-%d %H:%M UTC"),
            until.format("%Y-%m-%d %H:%M UTC")
        )),
        Some(Ok(_)) => {}
    }
    out
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
    fn each_party_is_told_what_its_sas_lacks() {
        let key = Secret::new(STANDARD.encode(b"0123456789abcdef"));
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z")
            .unwrap()
            .to_utc();
        let week = now + chrono::Duration::days(7);
        let sas = |sp: &str, se: &str| {
            container_sas("acct", "c", &key, sp, se)
                .unwrap()
                .expose()
                .to_string()
        };
        let later = "2027-01-01T00:00:00Z";
        assert!(shortfall(Party::Source, &sas("rwdl", later), now, week, Some(15)).is_empty());
        assert!(shortfall(Party::LogReplay, &sas("rl", later), now, week, None).is_empty());
        let read_only = shortfall(Party::Source, &sas("rl", later), now, week, None);
        assert_eq!(
            read_only,
            ["it grants sp=\"rl\"; BACKUP TO URL needs at least read, write and list: w missing"]
        );
        let writes = shortfall(Party::LogReplay, &sas("rwdl", later), now, week, None);
        assert!(
            writes[0].contains("LRS starts only with read and list"),
            "{writes:?}"
        );
        let expired = shortfall(
            Party::Source,
            &sas("rwl", "2026-12-01T00:00:00Z"),
            now,
            week,
            None,
        );
        assert_eq!(expired, ["it expired at 2026-12-01 00:00 UTC"]);
        let soon = shortfall(
            Party::Source,
            &sas("rwl", "2026-12-08T00:00:00Z"),
            now,
            week,
            None,
        );
        assert!(
            soon[0].starts_with("it expires at 2026-12-08 00:00 UTC, before"),
            "{soon:?}"
        );
        let blob = shortfall(
            Party::Source,
            "sv=1&sr=b&sp=rwl&se=2027-01-01T00:00:00Z&sig=x",
            now,
            week,
            None,
        );
        assert!(blob[0].contains("single blob"), "{blob:?}");
        let long = format!("{}&x={}", sas("rwl", later), "y".repeat(200));
        assert!(shortfall(Party::Source, &long, now, week, Some(15))[0].contains("256 at most"));
        assert!(shortfall(Party::Source, &long, now, week, Some(16)).is_empty());
        assert_eq!(
            shortfall(Party::Source, "sv=1&sr=c&sp=rwl&sig=x", now, week, None),
            ["it has no expiry (se=)"]
        );
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
