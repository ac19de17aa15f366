//! A test double of Google's **Cloud SQL Admin API** (v1), the calls sqlmig's Cloud SQL platform
//! plugin makes, shaped as Google documents them:
//!
//! - `GET /v1/projects/{project}/instances` (`maxResults`, `pageToken`) — `sql#instancesList`
//!   with `items` (`DatabaseInstance`: `name`, `databaseVersion`, `state`, `region`,
//!   `ipAddresses`, `settings`…) and `nextPageToken`.
//!
//! Requests need `Authorization: Bearer <token>` (401 with Google's error shape otherwise).
//! Test infrastructure, not Google.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::http_double::{self, Request};

/// An instance the API lists: what `instances.list` reports of it.
#[derive(Clone, Debug)]
pub struct ApiInstance {
    pub name: String,
    /// `SQLSERVER_2019_STANDARD`, `MYSQL_8_0`, `POSTGRES_15`…
    pub database_version: String,
    pub region: String,
    /// The PRIMARY (public) address.
    pub ip_address: String,
    /// `RUNNABLE`, `SUSPENDED`, `PENDING_CREATE`…
    pub state: String,
}

impl ApiInstance {
    /// A running instance.
    pub fn runnable(name: &str, database_version: &str, ip_address: &str) -> ApiInstance {
        ApiInstance {
            name: name.into(),
            database_version: database_version.into(),
            region: "europe-west1".into(),
            ip_address: ip_address.into(),
            state: "RUNNABLE".into(),
        }
    }
}

/// The service's state.
struct Api {
    token: String,
    project: String,
    instances: Vec<ApiInstance>,
}

/// A running service; stops when dropped.
pub struct CloudSqlApiHandle {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl CloudSqlApiHandle {
    /// The root URL, as `CLOUDSDK_API_ENDPOINT_OVERRIDES_SQL` takes it.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for CloudSqlApiHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the Admin API for `project` on `addr`, accepting `token`.
pub async fn serve(
    addr: SocketAddr,
    token: &str,
    project: &str,
    instances: Vec<ApiInstance>,
) -> std::io::Result<CloudSqlApiHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let api = Arc::new(Api {
        token: token.into(),
        project: project.into(),
        instances,
    });
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let api = api.clone();
            tokio::spawn(async move {
                let _ = api.connection(sock).await;
            });
        }
    });
    Ok(CloudSqlApiHandle { addr, task })
}

/// Google's error shape.
fn google_error(status: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({"error": {"code": status, "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}]}}),
    )
}

impl Api {
    async fn connection(&self, mut sock: TcpStream) -> std::io::Result<()> {
        let Some(req) = http_double::read_request(&mut sock).await? else {
            return Ok(());
        };
        let (status, value) = if req.header("authorization")
            != Some(format!("Bearer {}", self.token).as_str())
        {
            google_error(
                401,
                "authError",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            )
        } else {
            self.route(&req)
        };
        http_double::respond(
            &mut sock,
            status,
            "application/json; charset=UTF-8",
            &[],
            value.to_string().as_bytes(),
        )
        .await
    }

    fn route(&self, req: &Request) -> (u16, Value) {
        let parts: Vec<String> = req
            .path()
            .split('/')
            .filter(|p| !p.is_empty())
            .map(http_double::percent_decode)
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("GET", ["v1", "projects", project, "instances"]) => self.list(project, req),
            _ => google_error(
                404,
                "notFound",
                &format!(
                    "{} {} is not a call this double serves",
                    req.method,
                    req.path()
                ),
            ),
        }
    }

    /// `instances.list`, `maxResults` at a time.
    fn list(&self, project: &str, req: &Request) -> (u16, Value) {
        if project != self.project {
            return google_error(
                403,
                "notAuthorized",
                &format!("The client is not authorized to make this request (project {project})."),
            );
        }
        let max: usize = req
            .query("maxResults")
            .and_then(|m| m.parse().ok())
            .filter(|m| *m > 0)
            .unwrap_or(500);
        let start: usize = req
            .query("pageToken")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let items: Vec<Value> = self
            .instances
            .iter()
            .skip(start)
            .take(max)
            .map(|i| self.describe(i))
            .collect();
        let mut page = json!({"kind": "sql#instancesList", "items": items});
        if start + max < self.instances.len() {
            page["nextPageToken"] = json!((start + max).to_string());
        }
        (200, page)
    }

    /// A `DatabaseInstance` resource.
    fn describe(&self, i: &ApiInstance) -> Value {
        json!({
            "kind": "sql#instance",
            "name": i.name,
            "project": self.project,
            "databaseVersion": i.database_version,
            "databaseInstalledVersion": format!("{}_CU16", i.database_version),
            "state": i.state,
            "region": i.region,
            "gceZone": format!("{}-b", i.region),
            "backendType": "SECOND_GEN",
            "instanceType": "CLOUD_SQL_INSTANCE",
            "connectionName": format!("{}:{}:{}", self.project, i.region, i.name),
            "ipAddresses": [{"type": "PRIMARY", "ipAddress": i.ip_address}],
            "settings": {
                "kind": "sql#settings",
                "tier": "db-custom-4-26624",
                "edition": "ENTERPRISE",
                "availabilityType": "ZONAL",
                "dataDiskType": "PD_SSD",
                "dataDiskSizeGb": "100",
                "databaseFlags": [{"name": "max degree of parallelism", "value": "4"}],
                "backupConfiguration": {"enabled": true, "pointInTimeRecoveryEnabled": true}
            },
            "selfLink": format!("https://sqladmin.googleapis.com/v1/projects/{}/instances/{}", self.project, i.name),
        })
    }
}
