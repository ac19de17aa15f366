//! The description of the simulated instance: version, platform, logins, databases. Fixtures
//! (JSON) describe estates; `Instance::default_with_sa` is the instance `sqlsim` serves without
//! one.

use serde::{Deserialize, Serialize};

/// Where the instance claims to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// SQL Server on a machine of the customer's.
    #[default]
    Onprem,
    /// Azure SQL Managed Instance (EngineEdition 8).
    Mi,
    /// Amazon RDS for SQL Server.
    Rds,
    /// Google Cloud SQL for SQL Server.
    Cloudsql,
}

/// A SQL login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub name: String,
    /// The test fixture's password; a simulator compares it in plain text.
    pub password: String,
    #[serde(default)]
    pub sysadmin: bool,
    #[serde(default)]
    pub view_server_state: bool,
    #[serde(default)]
    pub disabled: bool,
}

/// A database the instance starts with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSpec {
    pub name: String,
    #[serde(default = "default_compat")]
    pub compatibility_level: u32,
}

fn default_compat() -> u32 {
    160
}

/// The simulated instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// `@@SERVERNAME`, `MACHINE\INSTANCE`.
    pub server_name: String,
    pub platform: Platform,
    /// Product version: major, minor, build (16.0.4135 is SQL Server 2022 CU).
    pub version: (u8, u8, u16),
    pub edition: String,
    pub logins: Vec<Login>,
    /// User databases (master, tempdb, model and msdb always exist).
    pub databases: Vec<DatabaseSpec>,
}

/// The system databases, in database_id order.
pub const SYSTEM_DATABASES: [&str; 4] = ["master", "tempdb", "model", "msdb"];

impl Instance {
    /// A SQL Server 2022 on-prem instance with login `sa` and one sample database.
    pub fn default_with_sa(password: &str) -> Instance {
        Instance {
            server_name: "SQLSIM".into(),
            platform: Platform::Onprem,
            version: (16, 0, 4135),
            edition: "Developer Edition (64-bit)".into(),
            logins: vec![Login {
                name: "sa".into(),
                password: password.into(),
                sysadmin: true,
                view_server_state: true,
                disabled: false,
            }],
            databases: vec![DatabaseSpec {
                name: "Sales".into(),
                compatibility_level: 160,
            }],
        }
    }

    /// SERVERPROPERTY('EngineEdition'): 8 on MI, 3 (Enterprise/Developer) elsewhere.
    pub fn engine_edition(&self) -> i64 {
        match self.platform {
            Platform::Mi => 8,
            _ => 3,
        }
    }

    /// `@@VERSION` text, in SQL Server's shape.
    pub fn version_text(&self) -> String {
        let (ma, mi, b) = self.version;
        let product = match ma {
            10 => "Microsoft SQL Server 2008 R2",
            11 => "Microsoft SQL Server 2012",
            12 => "Microsoft SQL Server 2014",
            13 => "Microsoft SQL Server 2016",
            14 => "Microsoft SQL Server 2017",
            15 => "Microsoft SQL Server 2019",
            _ => "Microsoft SQL Server 2022",
        };
        format!(
            "{product} (RTM) - {ma}.{mi}.{b}.0 (X64) \n\tCopyright (C) Microsoft Corporation\n\t{} on Linux (sqlsim test double)\n",
            self.edition
        )
    }
}
