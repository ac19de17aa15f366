//! Built against a frozen copy of the contract as released at 0.1.0 (before `credentials`), to
//! prove a 0.1.1 host links and runs what was built against an earlier release of its line.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::sqlmig::plugin::hooks::Guest;
use sqlmig::plugin::types::{Error, Finding, LogLevel, PluginInfo};

struct OlderApi;

impl Guest for OlderApi {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "older-api".into(),
            version: "0.1.0".into(),
            summary: "built against 0.1.0".into(),
        }
    }
    /// Echoes the request after using an import, so linking against the newer host is exercised.
    fn discover(request: String) -> Result<String, Error> {
        sqlmig::plugin::log::log(LogLevel::Info, "older-api discovering");
        Ok(format!(
            "{{\"schema\":\"test/1\",\"echo\":{request},\"now\":{}}}",
            sqlmig::plugin::clock::now()
        ))
    }
    fn collect(_: String) -> Result<String, Error> {
        Err(Error::Unsupported("collect".into()))
    }
    fn assess(_: String, _: String) -> Result<Vec<Finding>, Error> {
        Err(Error::Unsupported("assess".into()))
    }
    fn plan(_: String) -> Result<String, Error> {
        Err(Error::Unsupported("plan".into()))
    }
    fn run_step(_: String) -> Result<String, Error> {
        Err(Error::Unsupported("run-step".into()))
    }
    fn cutover(_: String) -> Result<String, Error> {
        Err(Error::Unsupported("cutover".into()))
    }
    fn validate(_: String) -> Result<String, Error> {
        Err(Error::Unsupported("validate".into()))
    }
}

export!(OlderApi);
