//! Talking to Google Cloud: the operator's access token and project (handed over by the host by
//! the names the manifest lists), JSON requests through the `http` capability, and Google's
//! error shape.

use serde_json::Value;
use sqlmig_plugin_sdk::{Error, credentials, http};

/// What requests carry and where they go.
pub struct Gcp {
    token: String,
    /// The project whose instances are listed.
    pub project: String,
    /// The Cloud SQL Admin API root, ending in `/`.
    pub sqladmin: String,
    /// The Cloud Storage API root, ending in `/`.
    pub storage: String,
}

fn setting(name: &str) -> Result<Option<String>, Error> {
    credentials::get(name)
}

/// A root URL with exactly one trailing slash.
fn root(url: &str) -> String {
    format!("{}/", url.trim_end_matches('/'))
}

impl Gcp {
    /// The operator's settings: `GOOGLE_OAUTH_ACCESS_TOKEN` (`gcloud auth print-access-token`),
    /// `GOOGLE_CLOUD_PROJECT` (or `CLOUDSDK_CORE_PROJECT`), and
    /// `CLOUDSDK_API_ENDPOINT_OVERRIDES_SQL` to point the Admin API elsewhere.
    pub fn from_operator() -> Result<Gcp, Error> {
        let token = setting("GOOGLE_OAUTH_ACCESS_TOKEN")?.ok_or_else(|| {
            Error::InvalidInput(
                "no Google access token: set GOOGLE_OAUTH_ACCESS_TOKEN (e.g. to the output of \
                 `gcloud auth print-access-token`) in the environment, or under [cloud] in the \
                 file given with --secrets"
                    .into(),
            )
        })?;
        let project = match setting("GOOGLE_CLOUD_PROJECT")? {
            Some(p) => p,
            None => setting("CLOUDSDK_CORE_PROJECT")?.ok_or_else(|| {
                Error::InvalidInput(
                    "no Google Cloud project: set GOOGLE_CLOUD_PROJECT to the project of the \
                     Cloud SQL instances"
                        .into(),
                )
            })?,
        };
        let sqladmin = setting("CLOUDSDK_API_ENDPOINT_OVERRIDES_SQL")?
            .map(|u| root(&u))
            .unwrap_or_else(|| "https://sqladmin.googleapis.com/".into());
        let storage = setting("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE")?
            .map(|u| root(&u))
            .unwrap_or_else(|| "https://storage.googleapis.com/".into());
        Ok(Gcp {
            token,
            project,
            sqladmin,
            storage,
        })
    }

    /// `GET {url}`, answered JSON; Google's errors in the DBA's terms.
    pub fn get(&self, url: &str, what: &str) -> Result<Value, Error> {
        self.send("GET", url, None, what)
    }

    /// `POST {url}` with a JSON body.
    pub fn post(&self, url: &str, body: &Value, what: &str) -> Result<Value, Error> {
        self.send("POST", url, Some(body), what)
    }

    /// The header a Cloud Storage download carries (for the host's copy, which sends it only to
    /// the storage API).
    pub fn auth_header(&self) -> (String, String) {
        ("authorization".into(), format!("Bearer {}", self.token))
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, Error> {
        let mut headers = vec![(
            "authorization".to_string(),
            format!("Bearer {}", self.token),
        )];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        let resp = http::send(&http::Request {
            method: method.into(),
            url: url.into(),
            headers,
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        })?;
        let text = String::from_utf8_lossy(&resp.body);
        if (200..300).contains(&resp.status) {
            serde_json::from_str(&text).map_err(|e| {
                Error::Unavailable(format!("{what}: Google answered something not JSON: {e}"))
            })
        } else {
            Err(google_error(what, resp.status, &text))
        }
    }
}

/// Google's `{"error": {"code", "message", "errors": [{"reason"}]}}` as an error that says what to
/// do: an expired or wrong token and a missing permission are the operator's to fix.
pub fn google_error(what: &str, status: u16, body: &str) -> Error {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let message = v["error"]["message"].as_str().unwrap_or("").to_string();
    let said = if message.is_empty() {
        format!("{what}: HTTP {status}")
    } else {
        format!("{what}: HTTP {status}: {message}")
    };
    match status {
        401 => Error::AccessDenied(format!(
            "{said}; the access token is wrong or expired: set GOOGLE_OAUTH_ACCESS_TOKEN anew \
             (`gcloud auth print-access-token`)"
        )),
        403 => Error::AccessDenied(format!(
            "{said}; the identity needs the Cloud SQL Viewer role (cloudsql.instances.list) on \
             the project, and Cloud SQL Admin for exports"
        )),
        404 => Error::NotFound(said),
        429 | 500.. => Error::Unavailable(said),
        _ => Error::InvalidInput(said),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_errors_say_what_to_fix() {
        let body =
            r#"{"error":{"code":401,"message":"Request had invalid authentication credentials."}}"#;
        let Error::AccessDenied(m) = google_error("instances.list", 401, body) else {
            panic!()
        };
        assert!(
            m.contains("invalid authentication") && m.contains("GOOGLE_OAUTH_ACCESS_TOKEN"),
            "{m}"
        );
        assert!(matches!(google_error("x", 503, ""), Error::Unavailable(_)));
        assert_eq!(root("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
        assert_eq!(root("https://a.example"), "https://a.example/");
    }
}
