//! Secrets (passwords, SAS tokens, account keys): kept out of `Debug`, logs and error texts.

use std::fmt;

/// A secret value. It prints as `***`; only [`Secret::expose`] gives the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `text` with every SAS signature (`sig=…`) and any of `secrets` replaced by `***`, for
/// messages that may quote a URL or a server's answer.
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if !s.expose().is_empty() {
            out = out.replace(s.expose(), "***");
        }
    }
    // A signature in any URL, encoded or not.
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("sig=") {
        result.push_str(&rest[..i + 4]);
        result.push_str("***");
        let tail = &rest[i + 4..];
        let end = tail
            .find(['&', ' ', '"', '\'', ')', '\n'])
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
    }

    #[test]
    fn signatures_and_known_secrets_are_redacted() {
        let key = Secret::new("c2VjcmV0");
        let t = redact(
            "GET https://a.blob.core.windows.net/c?sv=2022&sig=abc%2Fdef&se=x failed; key c2VjcmV0",
            &[&key],
        );
        assert_eq!(
            t,
            "GET https://a.blob.core.windows.net/c?sv=2022&sig=***&se=x failed; key ***"
        );
    }
}
