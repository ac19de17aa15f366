//! The sizing report (`sqlmig sku recommend`, schema `sqlmig.sku/1`): per instance what was
//! measured, the recommendation or why none fits, and the move forecast.

use serde::Serialize;

use super::forecast::Forecast;
use super::per_database::DatabaseSizing;
use super::{Need, Sizing};

/// One instance's recommendation, as the JSON output carries it.
#[derive(Serialize)]
pub struct InstanceSizing {
    pub server: String,
    pub source: Source,
    pub need: Need,
    #[serde(flatten)]
    pub sizing: Sizing,
    /// How long the move takes to the recommended instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast: Option<Forecast>,
    /// Each user database's share, and the instance that would hold it alone.
    pub databases: Vec<DatabaseSizing>,
}

/// The source instance, as the collection describes it.
#[derive(Serialize)]
pub struct Source {
    pub edition: String,
    pub product_version: String,
    pub logical_cpus: f64,
    /// Samples the needs are taken from (Microsoft's windows, or sqlmig's intervals).
    pub samples: usize,
}

/// The report, as JSON writes it.
#[derive(Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub percentile: f64,
    pub scaling_factor: f64,
    pub limits_taken: String,
    pub instances: Vec<InstanceSizing>,
}
