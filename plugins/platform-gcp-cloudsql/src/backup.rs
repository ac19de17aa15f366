//! Cloud SQL's route for native backups into the migration's container: the instance cannot
//! write to Azure, so the Admin API's `instances.export` writes a BAK (full or differential,
//! striped when asked) to the operator's Cloud Storage bucket, `operations.get` is polled until
//! it is done, and each file is copied into the container by the host (`blob.copy-from`).

use serde::Deserialize;
use serde_json::{Value, json};
use sqlmig_plugin_sdk::method::{answer_offer, step_args, step_request, step_result, text};
use sqlmig_plugin_sdk::protocol::migration::{BackupOffer, CONTAINER, StepKind};
use sqlmig_plugin_sdk::{Error, blob, clock, invalid_input, log, state, unsupported};

use sqlmig_plugin_sdk::url::percent_encode;

use crate::gcp::Gcp;

/// Files one export is striped over, at most.
const MAX_STRIPES: u32 = 10;
/// How often a running export is asked about.
const POLL_MS: u64 = 2000;

/// Answers a backup-offer request: the route, once the operator named the bucket.
pub fn offer(request: &str) -> Result<String, Error> {
    answer_offer(
        request,
        &["gcs_bucket", "gcs_prefix"],
        "platform-gcp-cloudsql",
        |req| {
            let bucket = text(&req.options, "gcs_bucket").ok_or_else(|| {
                invalid_input(
                    "Cloud SQL exports to Cloud Storage first: name the bucket with \
                     --source-option gcs_bucket=NAME (one the instance's service account may write)",
                )
            })?;
            let prefix = text(&req.options, "gcs_prefix")
                .unwrap_or("sqlmig")
                .trim_matches('/')
                .to_string();
            let instance = req
                .cloud
                .as_ref()
                .map_or(req.instance.as_str(), |c| c.id.as_str());
            Ok(BackupOffer {
                route: format!(
                    "instances.export (BAK) to gs://{bucket}/{prefix}/, copied into the container by sqlmig"
                ),
                kinds: vec!["full".into(), "diff".into()],
                max_stripes: MAX_STRIPES,
                parameters: json!({ "gcs_bucket": bucket, "gcs_prefix": prefix, "instance": instance }),
                ..Default::default()
            })
        },
    )
}

#[derive(Deserialize)]
struct BackupArgs {
    database: String,
    #[serde(rename = "type")]
    kind: String,
    stripes: u32,
    blobs: Vec<String>,
    route: Route,
}

#[derive(Deserialize)]
struct Route {
    gcs_bucket: String,
    gcs_prefix: String,
    /// The Cloud SQL instance id.
    instance: String,
}

/// Runs a step request: `backup` only.
pub fn run_step(request: &str) -> Result<String, Error> {
    let req = step_request(request)?;
    if req.step.kind != StepKind::Backup {
        return Err(unsupported(&format!(
            "step kind {} (platform-gcp-cloudsql runs backup)",
            req.step.kind
        )));
    }
    let a: BackupArgs = step_args(&req)?;
    let (message, output) = backup(&req.step.id, &a, req.resumed)?;
    Ok(step_result(message, output))
}

/// What an export of this step was started as.
#[derive(serde::Serialize, Deserialize)]
struct Started {
    operation: String,
    object: String,
}

fn backup(step_id: &str, a: &BackupArgs, resumed: bool) -> Result<(String, Value), Error> {
    if a.blobs.len() != a.stripes as usize || a.stripes == 0 || a.stripes > MAX_STRIPES {
        return Err(invalid_input(format!(
            "backup of {}: {} stripe(s) for {} blob(s)",
            a.database,
            a.stripes,
            a.blobs.len()
        )));
    }
    let bak_type = match a.kind.as_str() {
        "full" => "FULL",
        "diff" => "DIFF",
        other => {
            return Err(unsupported(&format!(
                "backup type {other} (this route exports full or differential BAKs)"
            )));
        }
    };
    let gcp = Gcp::from_operator()?;
    let key = format!("export/{step_id}");
    let earlier: Option<Started> = state::get(&key)?
        .and_then(|v| serde_json::from_slice(&v).ok())
        .filter(|_| resumed);
    // An export the earlier attempt started is followed, unless it failed: Cloud SQL refuses to
    // write over an object, so each new export gets an object name of its own.
    let started = match earlier {
        Some(s) if operation(&gcp, &s.operation)?["error"].is_null() => s,
        _ => {
            let s = start_export(&gcp, step_id, a, bak_type)?;
            state::set(&key, &serde_json::to_vec(&s).expect("serializes"))?;
            s
        }
    };
    wait_for(&gcp, &started.operation, &a.database)?;

    let listed = gcp.get(
        &format!(
            "{}storage/v1/b/{}/o?prefix={}",
            gcp.storage,
            a.route.gcs_bucket,
            percent_encode(&started.object, false)
        ),
        "Cloud Storage objects.list",
    )?;
    let mut objects: Vec<(String, u64, Option<String>)> = listed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["name"].as_str().unwrap_or_default().to_string(),
                o["size"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
                o["md5Hash"].as_str().and_then(base64_to_hex),
            )
        })
        .collect();
    objects.sort();
    if objects.len() != a.blobs.len() {
        return Err(Error::Unavailable(format!(
            "the export of {} wrote {} file(s) under gs://{}/{}, {} expected",
            a.database,
            objects.len(),
            a.route.gcs_bucket,
            started.object,
            a.blobs.len()
        )));
    }
    let container = blob::open(CONTAINER)?;
    let mut bytes = 0;
    let mut files = Vec::new();
    for ((name, size, md5), blob_name) in objects.iter().zip(&a.blobs) {
        let report = container.copy_from(
            blob_name,
            &blob::CopySource {
                url: format!(
                    "{}storage/v1/b/{}/o/{}?alt=media",
                    gcp.storage,
                    a.route.gcs_bucket,
                    percent_encode(name, false)
                ),
                headers: vec![gcp.auth_header()],
                size: *size,
                md5: md5.clone(),
            },
        )?;
        bytes += report.bytes;
        files.push(json!({
            "gcs": format!("gs://{}/{name}", a.route.gcs_bucket),
            "blob": blob_name,
            "bytes": report.bytes,
            "md5": report.md5,
            "blocks_skipped": report.blocks_skipped,
        }));
    }
    Ok((
        format!(
            "{} exported by Cloud SQL and {} file(s), {bytes} bytes, copied from gs://{}/{} into the container",
            a.database,
            files.len(),
            a.route.gcs_bucket,
            started.object
        ),
        json!({ "operation": started.operation, "bytes": bytes, "files": files }),
    ))
}

/// Starts `instances.export` of the database; the object name carries a per-attempt number.
fn start_export(
    gcp: &Gcp,
    step_id: &str,
    a: &BackupArgs,
    bak_type: &str,
) -> Result<Started, Error> {
    let n_key = format!("exports/{step_id}");
    let n: u64 = state::get(&n_key)?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        + 1;
    state::set(&n_key, n.to_string().as_bytes())?;
    let folder = a.blobs[0].rsplit_once('/').map_or("", |(d, _)| d);
    let object = format!(
        "{}/{folder}/{folder}_{}_{n}.bak",
        a.route.gcs_prefix, a.kind
    )
    .replace("//", "/");
    let mut options = json!({ "bakType": bak_type });
    if a.stripes > 1 {
        options["striped"] = json!(true);
        options["stripeCount"] = json!(a.stripes);
    }
    let body = json!({
        "exportContext": {
            "kind": "sql#exportContext",
            "fileType": "BAK",
            "uri": format!("gs://{}/{object}", a.route.gcs_bucket),
            "databases": [a.database],
            "bakExportOptions": options,
        }
    });
    log::info(&format!(
        "asking Cloud SQL to export {} to gs://{}/{object}",
        a.database, a.route.gcs_bucket
    ));
    let op = gcp.post(
        &format!(
            "{}v1/projects/{}/instances/{}/export",
            gcp.sqladmin, gcp.project, a.route.instance
        ),
        &body,
        "Cloud SQL instances.export",
    )?;
    let operation = op["name"]
        .as_str()
        .ok_or_else(|| Error::Unavailable("instances.export answered no operation".into()))?
        .to_string();
    Ok(Started { operation, object })
}

fn operation(gcp: &Gcp, name: &str) -> Result<Value, Error> {
    gcp.get(
        &format!(
            "{}v1/projects/{}/operations/{name}",
            gcp.sqladmin, gcp.project
        ),
        "Cloud SQL operations.get",
    )
}

/// Polls the operation until it is done; its errors explain a failure.
fn wait_for(gcp: &Gcp, name: &str, database: &str) -> Result<(), Error> {
    loop {
        let op = operation(gcp, name)?;
        let status = op["status"].as_str().unwrap_or_default().to_string();
        if status == "DONE" {
            let errors: Vec<&str> = op["error"]["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["message"].as_str())
                .collect();
            if errors.is_empty() {
                return Ok(());
            }
            return Err(Error::InvalidInput(format!(
                "Cloud SQL's export of {database} failed: {}",
                errors.join("; ")
            )));
        }
        sqlmig_plugin_sdk::log::progress(
            0,
            None,
            &format!("Cloud SQL export of {database} ({status})"),
        );
        clock::sleep(POLL_MS);
    }
}

/// Cloud Storage's base64 `md5Hash` as hex.
fn base64_to_hex(b64: &str) -> Option<String> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut bytes = Vec::new();
    let clean: Vec<u8> = b64.bytes().filter(|c| *c != b'=').collect();
    for chunk in clean.chunks(4) {
        let mut v = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            v |= value(*c)? << (18 - 6 * i);
        }
        bytes.extend_from_slice(&v.to_be_bytes()[1..chunk.len()]);
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_hashes_and_names_are_translated() {
        // The MD5 of "" in Cloud Storage's base64.
        assert_eq!(
            base64_to_hex("1B2M2Y8AsgTpgAmY7PhCfg==").as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
    }
}
