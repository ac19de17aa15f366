//! Cloud control-plane calls: the `http` capability's real backend (reqwest), which adds the
//! operator's bearer token to requests for the origins it was given — plugins call the Azure
//! Resource Manager without ever seeing the token — the ARM call that starts MI's Log Replay
//! Service, which the host makes itself because its body carries the container's SAS, and the
//! cloud access a source platform's plugin gets (its credentials by name, its API hosts). The
//! host knows no source cloud: AWS and GCP live in their plugins.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use crate::capabilities::http::{HttpBackend, HttpRequest, HttpResponse, origin_of};
use crate::capabilities::{CapabilityError, CapabilitySet, Services};
use crate::config::Config;
use crate::credentials::cloud_values;
use crate::plugins::store::{InstalledPlugin, Origin};
use crate::secret::{Secret, redact};

/// Outbound HTTP(S) with per-origin bearer tokens.
pub struct CloudHttp {
    client: reqwest::Client,
    /// origin (`https://management.azure.com`) → token.
    tokens: BTreeMap<String, Secret>,
    /// origin → the one resource path whose requests the origin's token is for (ARM paths are
    /// case-insensitive); requests to the origin outside it are refused, not sent.
    scopes: BTreeMap<String, String>,
}

impl CloudHttp {
    /// A client adding `tokens[origin]` as `Authorization: Bearer …` to requests for that origin.
    pub fn new(tokens: BTreeMap<String, Secret>) -> Result<CloudHttp, CloudError> {
        // Redirects are not followed: a hop to another origin would carry the body (a SAS) and
        // escape the allow-list the request was checked against. The caller sees the 3xx.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(CloudError::HttpClient)?;
        Ok(CloudHttp {
            client,
            tokens,
            scopes: BTreeMap::new(),
        })
    }

    /// A client adding `token` to requests for `origin`, and refusing requests to `origin` for
    /// anything but `resource` and what is under it: the operator's ARM token reaches the
    /// target's managed instance and its databases, not the subscription's other resources
    /// (a storage account's `listKeys`).
    pub fn for_resource(
        origin: &str,
        token: Secret,
        resource: &str,
    ) -> Result<CloudHttp, CloudError> {
        let origin = origin_of(origin).map_err(CloudError::Origin)?;
        let mut http = CloudHttp::new(BTreeMap::from([(origin.clone(), token)]))?;
        http.scopes
            .insert(origin, resource.trim_end_matches('/').to_ascii_lowercase());
        Ok(http)
    }

    /// Refuses a request to a scoped origin outside its resource, judged on the path as the
    /// client will send it (dot segments and their percent-encoded forms already folded).
    fn check_scope(&self, origin: &str, url: &str) -> Result<(), CapabilityError> {
        let Some(scope) = self.scopes.get(origin) else {
            return Ok(());
        };
        let path = url::Url::parse(url)
            .map(|u| u.path().to_ascii_lowercase())
            .unwrap_or_default();
        let inside = path
            .strip_prefix(scope.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if inside {
            Ok(())
        } else {
            Err(CapabilityError::AccessDenied(format!(
                "{origin}{path}: the Azure token is for the target's resource {scope} and its databases only"
            )))
        }
    }

    fn secrets(&self) -> Vec<&Secret> {
        self.tokens.values().collect()
    }
}

#[async_trait]
impl HttpBackend for CloudHttp {
    async fn send_within(
        &self,
        req: HttpRequest,
        max_body: usize,
    ) -> Result<HttpResponse, CapabilityError> {
        let origin = origin_of(&req.url)?;
        self.check_scope(&origin, &req.url)?;
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| {
            CapabilityError::InvalidInput(format!("'{}' is not an HTTP method", req.method))
        })?;
        let mut builder = self.client.request(method, &req.url).body(req.body);
        let token = self.tokens.get(&origin);
        for (k, v) in &req.headers {
            // Where the host holds the token, it is the host's to add: a plugin cannot set or
            // replace it. Elsewhere a plugin signs its own requests (AWS SigV4).
            if token.is_none() || !k.eq_ignore_ascii_case("authorization") {
                builder = builder.header(k, v);
            }
        }
        if let Some(token) = token {
            builder = builder.bearer_auth(token.expose());
        }
        let resp = builder.send().await.map_err(|e| {
            let msg = redact(&format!("{} {}: {e}", req.method, req.url), &self.secrets());
            if e.is_timeout() {
                CapabilityError::Timeout(msg)
            } else {
                CapabilityError::Unavailable(msg)
            }
        })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let too_large = || {
            CapabilityError::LimitExceeded(format!(
                "the response of {} {} is larger than {} MiB, the plugin's memory limit: ask for \
                 less (a range, a page)",
                req.method,
                redact(&req.url, &self.secrets()),
                max_body >> 20
            ))
        };
        if resp.content_length().is_some_and(|n| n > max_body as u64) {
            return Err(too_large());
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            CapabilityError::Unavailable(redact(&format!("{}: {e}", req.url), &self.secrets()))
        })? {
            if body.len() + chunk.len() > max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// What a cloud platform's plugin gets for a command: its manifest's credentials, settings and
/// API hosts granted, their values, and outbound HTTP.
#[derive(Clone, Debug, Default)]
pub struct CloudAccess {
    /// Grants of the manifest's `credentials`, `settings` and `http` asks.
    pub grants: CapabilitySet,
    /// `cloud` values and an `http` backend, when the manifest asks for any.
    pub services: Services,
}

/// The cloud access for `plugin`, with values from the secrets file's `[cloud]` table or the
/// environment. A plugin bundled with sqlmig gets what its manifest asks (sqlmig ships both);
/// an installed one only what the operator's config also grants it
/// (`[plugins.NAME.grants] credentials = […], settings = […], http = […]`): naming a plugin
/// does not hand it the environment. Only granted names are looked up.
pub fn cloud_access(
    plugin: &InstalledPlugin,
    config: &Config,
    secrets: Option<&Path>,
) -> Result<CloudAccess, CloudError> {
    let granted = cloud_grants(
        &plugin.manifest.capabilities,
        plugin.origin,
        &config.plugin(&plugin.manifest.name).grants,
    );
    if granted.credentials.is_empty() && granted.settings.is_empty() && granted.http.is_empty() {
        return Ok(CloudAccess::default());
    }
    let values = cloud_values(&granted.credentials, &granted.settings, secrets)
        .map_err(|e| CloudError::Secrets(e.0))?;
    let http = CloudHttp::new(BTreeMap::new())?;
    Ok(CloudAccess {
        grants: CapabilitySet {
            credentials: granted.credentials,
            settings: granted.settings,
            http: granted.http,
            ..Default::default()
        },
        services: Services {
            cloud: Some(Arc::new(values)),
            http: Some(Arc::new(http)),
            ..Default::default()
        },
    })
}

/// The credentials, settings and hosts a plugin asking `asked` is granted: all it asks when it is
/// bundled, what `operator` also grants when it was installed.
pub fn cloud_grants(
    asked: &CapabilitySet,
    origin: Origin,
    operator: &CapabilitySet,
) -> CapabilitySet {
    let both = |asked: &[String], operator: &[String]| -> Vec<String> {
        asked
            .iter()
            .filter(|a| origin == Origin::Bundled || operator.iter().any(|o| o == *a || o == "*"))
            .cloned()
            .collect()
    };
    CapabilitySet {
        credentials: both(&asked.credentials, &operator.credentials),
        settings: both(&asked.settings, &operator.settings),
        http: both(&asked.http, &operator.http),
        ..Default::default()
    }
}

/// The cloud access `plugin` asks for that it is not granted, as sqlmig.toml's
/// `[plugins.NAME.grants]` would grant it: one `key = ["…", …]` per key with asks left.
pub fn ungranted(plugin: &InstalledPlugin, config: &Config) -> Vec<String> {
    let asked = &plugin.manifest.capabilities;
    let granted = cloud_grants(
        asked,
        plugin.origin,
        &config.plugin(&plugin.manifest.name).grants,
    );
    [
        ("credentials", &asked.credentials, &granted.credentials),
        ("settings", &asked.settings, &granted.settings),
        ("http", &asked.http, &granted.http),
    ]
    .into_iter()
    .filter_map(|(key, asked, granted)| {
        let left: Vec<String> = asked
            .iter()
            .filter(|a| !granted.contains(a))
            .map(|a| format!("\"{a}\""))
            .collect();
        (!left.is_empty()).then(|| format!("{key} = [{}]", left.join(", ")))
    })
    .collect()
}

/// How long a SAS sqlmig makes for LRS stays valid: an LRS job "can run for a maximum of 30
/// days" (log-replay-service-overview.md), and a day more for a cutover at its end.
const LRS_SAS_DAYS: i64 = 31;

/// The SAS MI's Log Replay Service reads the container with: read and list only, for the whole
/// container (LRS does not start with more). `SQLMIG_LRS_SAS` (secrets file: `lrs_sas`), checked,
/// or one made from the storage account's key (`SQLMIG_STORAGE_KEY`, `storage_key`). The
/// source's own SAS (`SQLMIG_SAS`) writes, so it cannot serve.
pub fn lrs_sas(container_url: &str, secrets: Option<&Path>) -> Result<Secret, CloudError> {
    use crate::credentials::{SecretFor, optional_secret};
    let lrs = SecretFor::LrsSas;
    let key = SecretFor::StorageKey;
    if let Some(sas) = optional_secret(lrs, secrets).map_err(|e| CloudError::Secrets(e.0))? {
        return match crate::storage::sas::lrs_refusal(sas.expose()) {
            None => Ok(Secret::new(sas.expose().trim_start_matches('?'))),
            Some(why) => Err(CloudError::LrsSasRefused {
                name: lrs.env_var(),
                why,
            }),
        };
    }
    if let Some(account_key) =
        optional_secret(key, secrets).map_err(|e| CloudError::Secrets(e.0))?
    {
        let (account, container) = crate::storage::sas::account_and_container(container_url)
            .ok_or_else(|| CloudError::NoContainer(container_url.to_string()))?;
        let expiry = (chrono::Utc::now() + chrono::Duration::days(LRS_SAS_DAYS))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        return crate::storage::sas::container_sas(
            &account,
            &container,
            &account_key,
            "rl",
            &expiry,
        )
        .map_err(|e| CloudError::StorageKey {
            name: key.env_var(),
            why: e.to_string(),
        });
    }
    Err(CloudError::NoLrsSas)
}

/// The ARM URL of the managed instance a managed database's URL is under.
fn instance_url(database_url: &str) -> &str {
    database_url
        .rfind("/databases/")
        .map_or(database_url, |i| &database_url[..i])
}

/// The region of the managed instance `database_url` is under (its `location`), which the
/// database's PUT must carry: ManagedDatabase, a TrackedResource, has `"required":
/// ["location"]` (ManagedDatabases.json, 2023-08-01).
pub async fn instance_location(http: &CloudHttp, database_url: &str) -> Result<String, ArmError> {
    let url = sqlmig_protocol::migration::arm::resource(instance_url(database_url));
    let resp = http
        .send(HttpRequest {
            method: "GET".into(),
            url: url.clone(),
            headers: Vec::new(),
            body: Vec::new(),
        })
        .await
        .map_err(|e| ArmError::no_answer(&e, &[]))?;
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    match (resp.status, body["location"].as_str()) {
        (200, Some(location)) => Ok(location.to_string()),
        (status, _) => Err(ArmError::Refused {
            status,
            message: format!(
                "reading the managed instance's location: GET {url}: HTTP {status}: {}; give it \
                 with --option location=REGION",
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("no location in the answer")
            ),
        }),
    }
}

/// What stops sqlmig from reaching a cloud for a plugin or a migration.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("cannot start the HTTP client: {0}")]
    HttpClient(reqwest::Error),
    #[error("{0}")]
    Origin(crate::capabilities::CapabilityError),
    /// The secrets file or environment could not be read.
    #[error("{0}")]
    Secrets(String),
    #[error(
        "{name} cannot start MI's Log Replay Service: {why}. Make one with read and list only: \
         az storage container generate-sas --name CONTAINER --permissions rl --expiry DATE …"
    )]
    LrsSasRefused { name: &'static str, why: String },
    #[error("{0}: no storage account and container in the URL")]
    NoContainer(String),
    #[error("{name}: {why}")]
    StorageKey { name: &'static str, why: String },
    #[error(
        "an online migration needs a SAS for MI's Log Replay Service that reads and lists only \
         (LRS does not start with the source's writing SAS): set {} (az storage container \
         generate-sas --permissions rl …; secrets file: {}), or {} for sqlmig to make one ({})",
        crate::credentials::SecretFor::LrsSas.env_var(),
        crate::credentials::SecretFor::LrsSas.file_key(),
        crate::credentials::SecretFor::StorageKey.env_var(),
        crate::credentials::SecretFor::StorageKey.file_key()
    )]
    NoLrsSas,
}

/// Why an Azure Resource Manager call failed, its message free of secrets.
#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// ARM answered with an error status.
    #[error("{message}")]
    Refused { status: u16, message: String },
    /// The call did not get an answer: transient when ARM could not be reached or did not
    /// answer in time, not when the host refused to send it.
    #[error("{message}")]
    NoAnswer { transient: bool, message: String },
}

impl ArmError {
    /// A call that got no answer: transient when the service could not be reached or did not
    /// answer in time; its message without `secrets`.
    fn no_answer(e: &crate::capabilities::CapabilityError, secrets: &[&Secret]) -> ArmError {
        use crate::capabilities::CapabilityError;
        ArmError::NoAnswer {
            transient: matches!(
                e,
                CapabilityError::Unavailable(_) | CapabilityError::Timeout(_)
            ),
            message: redact(&e.to_string(), secrets),
        }
    }

    /// Worth trying again: ARM unreachable or slow, throttling (429) or failing (5xx).
    pub fn transient(&self) -> bool {
        match self {
            ArmError::Refused { status, .. } => *status == 429 || *status >= 500,
            ArmError::NoAnswer { transient, .. } => *transient,
        }
    }
}

/// Starts MI's Log Replay Service for `database` on the folder `folder_url`, read with `sas`
/// (read and list only: [`lrs_sas`]), in the instance's `location`.
pub async fn start_log_replay(
    http: &CloudHttp,
    database_url: &str,
    folder_url: &str,
    sas: &Secret,
    collation: &str,
    location: &str,
) -> Result<(), ArmError> {
    let body = json!({
        "location": location,
        "properties": {
            "createMode": "RestoreExternalBackup",
            "storageContainerUri": folder_url,
            "storageContainerSasToken": sas.expose().trim_start_matches('?'),
            "collation": collation,
            "autoCompleteRestore": false,
        }
    });
    let resp = http
        .send(HttpRequest {
            method: "PUT".into(),
            url: sqlmig_protocol::migration::arm::resource(database_url),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        })
        .await
        .map_err(|e| ArmError::no_answer(&e, &[sas]))?;
    if (200..300).contains(&resp.status) {
        Ok(())
    } else {
        Err(ArmError::Refused {
            status: resp.status,
            message: redact(
                &format!(
                    "starting log replay: HTTP {}: {}",
                    resp.status,
                    String::from_utf8_lossy(&resp.body)
                ),
                &[sas],
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naming a platform grants a bundled plugin its manifest's asks; an installed one gets
    /// only what the operator's config grants as well.
    #[test]
    fn an_installed_plugin_gets_only_the_cloud_access_the_operator_grants() {
        let asked = CapabilitySet {
            credentials: vec!["AWS_SECRET_ACCESS_KEY".into(), "GITHUB_TOKEN".into()],
            settings: vec!["AWS_REGION".into(), "HOME".into()],
            http: vec!["*.amazonaws.com".into()],
            ..Default::default()
        };
        assert_eq!(
            cloud_grants(&asked, Origin::Bundled, &CapabilitySet::default()),
            CapabilitySet {
                credentials: asked.credentials.clone(),
                settings: asked.settings.clone(),
                http: asked.http.clone(),
                ..Default::default()
            }
        );
        assert!(cloud_grants(&asked, Origin::Installed, &CapabilitySet::default()).is_empty());
        let operator = CapabilitySet {
            credentials: vec!["AWS_SECRET_ACCESS_KEY".into()],
            settings: vec!["AWS_REGION".into(), "NOT_ASKED".into()],
            ..Default::default()
        };
        let granted = cloud_grants(&asked, Origin::Installed, &operator);
        assert_eq!(granted.credentials, ["AWS_SECRET_ACCESS_KEY"]);
        assert_eq!(granted.settings, ["AWS_REGION"]);
        assert!(granted.http.is_empty());
    }
}
