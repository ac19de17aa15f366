//! Built against a copy of the contract versioned 0.3.0.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::sqlmig::plugin::hooks::Guest;
use sqlmig::plugin::types::{Error, Finding, PluginInfo};

struct WrongApi;

impl Guest for WrongApi {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "wrong-api".into(),
            version: "0.1.0".into(),
            summary: "built against 0.3.0".into(),
        }
    }
    fn discover(_: String) -> Result<String, Error> {
        Err(Error::Unsupported("discover".into()))
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

export!(WrongApi);
