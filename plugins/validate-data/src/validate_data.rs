//! Validation: proves a migrated database equal to its source. The host asks, in turn, for the
//! databases, each database's schema comparison (which names the tables to compare) and each
//! table's data comparison; the two servers do the counting and checksumming, and only
//! aggregates, range boundaries and the rows of small differing ranges cross the wire.

mod catalog;
mod data;
mod schema;
mod values;

use sqlmig_plugin_sdk::protocol::migration::{SOURCE, TARGET};
use sqlmig_plugin_sdk::protocol::validation::{
    Action, Answer, VALIDATE_REQUEST, VALIDATE_RESULT, ValidateRequest, ValidateResult,
};
use sqlmig_plugin_sdk::sql::{self, Connection};
use sqlmig_plugin_sdk::tsql::{first_result, major_version};
use sqlmig_plugin_sdk::{Error, Validator, export_validator, invalid_input, parse_document};

struct ValidateData;

impl Validator for ValidateData {
    fn summary() -> &'static str {
        "Schema compared object by object; data by checksums of key ranges computed in both databases, split until the differing rows are named"
    }

    fn validate(request: &str) -> Result<String, Error> {
        let req: ValidateRequest = parse_document(request, "validation request")?;
        if req.schema != VALIDATE_REQUEST {
            return Err(invalid_input(format!(
                "validation request schema {:?}; this plugin reads {VALIDATE_REQUEST:?}",
                req.schema
            )));
        }
        let answer = match req.action {
            Action::Databases => Answer::Databases {
                source: databases(&sql::connect(SOURCE)?)?,
                target: databases(&sql::connect(TARGET)?)?,
            },
            Action::Schema { database } => {
                let source = sql::connect(SOURCE)?;
                let target = sql::connect(TARGET)?;
                let s = catalog::read(&source, &database.source, major_version(&source)?)?;
                let t = catalog::read(&target, &database.target, major_version(&target)?)?;
                Answer::Schema(schema::compare(&s, &t))
            }
            Action::Table {
                database,
                table,
                options,
            } => Answer::Table(data::compare(&database, &table, &options)?),
        };
        Ok(serde_json::to_string(&ValidateResult {
            schema: VALIDATE_RESULT.into(),
            answer,
        })
        .expect("a validation result serializes"))
    }
}

/// A server's online user databases.
fn databases(conn: &Connection) -> Result<Vec<String>, Error> {
    first_result(
        conn,
        "SELECT name FROM sys.databases WHERE database_id > 4 AND state_desc = 'ONLINE' ORDER BY name",
        &[],
    )?
    .iter()
    .map(|r| r.get::<String>("name"))
    .collect()
}

export_validator!(ValidateData);
