//! The `credentials` capability: the operator's cloud credentials and settings, by the names the
//! plugin's manifest lists, so a cloud's plugin signs its own requests (AWS Signature V4, a Google
//! bearer token) and the host holds no cloud's code. Credential values are secrets: the host takes
//! them back out of whatever the plugin hands on (see [`CloudValues::redact`]).

use std::collections::BTreeMap;

use super::{CallContext, Capability, CapabilityError};
use crate::secret::Secret;

/// The shortest credential value taken out of what a plugin hands on.
pub const MIN_REDACTED: usize = 6;

/// The values a command found for one plugin's names: credentials (secret) and settings.
#[derive(Clone, Debug, Default)]
pub struct CloudValues {
    values: BTreeMap<String, Secret>,
    /// Names whose values are secrets.
    secret: Vec<String>,
}

impl CloudValues {
    /// Values for `credentials` (secret) and `settings` (plain) names, each looked up with
    /// `lookup` (the secrets file's `[cloud]` table, then the environment); unset names are left
    /// out.
    pub fn resolve(
        credentials: &[String],
        settings: &[String],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> CloudValues {
        let mut values = BTreeMap::new();
        // sqlmig's own secrets are never looked up for a plugin, whatever let the name through.
        for name in credentials
            .iter()
            .chain(settings)
            .filter(|n| !super::grants::is_reserved(n))
        {
            if let Some(v) = lookup(name).filter(|v| !v.is_empty()) {
                values.insert(name.clone(), Secret::new(v));
            }
        }
        CloudValues {
            values,
            secret: credentials.to_vec(),
        }
    }

    /// Plain settings the host sets itself from the operator's inputs (a plan's management
    /// endpoint): no credential among them.
    pub fn settings<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> CloudValues {
        CloudValues {
            values: values
                .into_iter()
                .filter(|(name, _)| !super::grants::is_reserved(name))
                .map(|(name, value)| (name.to_string(), Secret::new(value.to_string())))
                .collect(),
            secret: Vec::new(),
        }
    }

    /// The value of `name`, if the operator set one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(Secret::expose)
    }

    /// The credential values (not the settings), for redaction. Values shorter than
    /// [`MIN_REDACTED`] are left out: no real key is that short, and replacing every `x` in a
    /// document would garble it.
    pub fn secrets(&self) -> Vec<&Secret> {
        self.secret
            .iter()
            .filter_map(|n| self.values.get(n))
            .filter(|v| v.expose().len() >= MIN_REDACTED)
            .collect()
    }

    /// `text` with every credential value replaced by `***`: what everything a plugin produces
    /// goes through before it is shown, reported or journaled — documents, state keys, and (in
    /// [`plugin_text`]) findings, errors, panic messages, log lines and progress messages. Settings (a region, an
    /// endpoint) are plain values the operator granted for plugins to show, and no name of
    /// sqlmig's own secrets can be one.
    ///
    /// Only the values: what a plugin hands on is data (an inventory holds module definitions
    /// that may well contain `sig=`), so the SAS-signature scrubbing of the host's own messages
    /// does not apply.
    pub fn redact(&self, text: &str) -> String {
        self.secrets()
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s.expose(), "***"))
    }

    /// The first credential name whose value `bytes` contain.
    pub fn found_in(&self, bytes: &[u8]) -> Option<&str> {
        self.secret.iter().map(String::as_str).find(|n| {
            self.values.get(*n).is_some_and(|v| {
                let v = v.expose().as_bytes();
                v.len() >= MIN_REDACTED && bytes.windows(v.len()).any(|w| w == v)
            })
        })
    }
}

/// What the host shows, logs or records of a plugin's text (findings, errors, panic messages,
/// log lines, progress messages): every credential value in `cloud` as `***`, and every control
/// character but newline and tab written as an escape (`\u{1b}`), so a plugin cannot move the
/// cursor, clear or recolour the operator's terminal to hide or fake what sqlmig says. Documents
/// (JSON) take [`CloudValues::redact`] alone: JSON escapes its own control characters.
pub fn plugin_text(cloud: Option<&CloudValues>, text: &str) -> String {
    let text = match cloud {
        Some(c) => c.redact(text),
        None => text.to_string(),
    };
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// The value of credential or setting `name`, when the plugin's manifest lists it and the
/// operator granted it (`None`: not set).
pub fn get(cx: &CallContext, name: &str) -> Result<Option<String>, CapabilityError> {
    cx.grants.check(Capability::Credentials, name)?;
    let Some(values) = cx.services.cloud.as_deref() else {
        return Err(CapabilityError::Unavailable(
            "this command hands no cloud credentials to plugins".into(),
        ));
    };
    Ok(values.get(name).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> CloudValues {
        CloudValues::resolve(
            &["AWS_SECRET_ACCESS_KEY".into(), "AWS_SESSION_TOKEN".into()],
            &["AWS_REGION".into()],
            |n| match n {
                "AWS_SECRET_ACCESS_KEY" => Some("wJalrXUtnFEMI/K7MDENG".into()),
                "AWS_REGION" => Some("eu-west-1".into()),
                _ => None,
            },
        )
    }

    #[test]
    fn reserved_names_are_never_looked_up() {
        // Reserved names are never looked up, whoever lists them.
        let v = CloudValues::resolve(
            &["SQLMIG_SAS".into()],
            &["sqlmig_azure_token".into()],
            |_| Some("sv=2024&sig=abcdef".into()),
        );
        assert_eq!(v.get("SQLMIG_SAS"), None);
        assert_eq!(v.get("sqlmig_azure_token"), None);
    }

    #[test]
    fn credentials_are_redacted_and_settings_are_not() {
        let v = values();
        assert_eq!(v.get("AWS_REGION"), Some("eu-west-1"));
        assert_eq!(v.get("AWS_SESSION_TOKEN"), None);
        assert_eq!(
            v.redact("key wJalrXUtnFEMI/K7MDENG in eu-west-1"),
            "key *** in eu-west-1"
        );
        assert_eq!(
            v.found_in(b"{\"k\":\"wJalrXUtnFEMI/K7MDENG\"}"),
            Some("AWS_SECRET_ACCESS_KEY")
        );
        assert_eq!(v.found_in(b"eu-west-1"), None);
        // Data passes unchanged but for the values: a definition's `sig=` stays.
        assert_eq!(
            v.redact("SELECT 'sig=abc' -- wJalrXUtnFEMI/K7MDENG"),
            "SELECT 'sig=abc' -- ***"
        );
    }
}
