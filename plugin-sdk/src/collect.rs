//! Collecting one instance into the inventory (`sqlmig.inventory/1`) through the `sql`
//! capability — the catalog snapshot every platform plugin takes, whether the server is on a
//! machine of the customer's or in a cloud (which adds what its API knows). What the login may
//! not read becomes a recorded gap (with SQL Server's error number), not an abort; a lost
//! connection fails the collection so the host can mark the instance failed.

mod performance;
mod queries;

use std::collections::BTreeMap;

use crate::protocol::discovery::{COLLECT_REQUEST, CollectRequest};
use crate::protocol::{
    Agent, Assembly, Audit, Backup, BackupDay, BackupHistory, CollectionStatus, Confidence,
    Configuration, Database, DatabaseFile, Endpoint, Features, Gap, Instance, Job, JobStep,
    LinkedServer, Login, Module, Operator, Route, Server, ServerTrigger, Table, XeSession,
};
use crate::sql::{self, Connection};
use crate::{Error, Rows, invalid_input, log, parse_document, progress};

use self::queries as q;

/// Runs a collect request; the answer is an inventory `Instance`, or a performance snapshot when
/// the request asks for one.
pub fn run(request: &str) -> Result<String, Error> {
    run_with(request, |_, inst| Ok(inst))
}

/// Runs a collect request, handing the collected instance to `adjust` before answering: a
/// cloud's plugin adds what its API knows and takes out its own administration database.
pub fn run_with(
    request: &str,
    adjust: impl FnOnce(&CollectRequest, Instance) -> Result<Instance, Error>,
) -> Result<String, Error> {
    let req: CollectRequest = parse_document(request, "collect request")?;
    if req.schema != COLLECT_REQUEST {
        return Err(invalid_input(format!(
            "collect request schema {:?}; this plugin reads {COLLECT_REQUEST:?}",
            req.schema
        )));
    }
    let conn = sql::connect(&req.endpoint)?;
    if req.perf_snapshot {
        let snap = performance::snapshot(&conn)?;
        return Ok(serde_json::to_string(&snap).expect("serializes"));
    }
    if let Some(top) = req.workload_top {
        let capture = performance::workload(&conn, top)?;
        return Ok(serde_json::to_string(&capture).expect("serializes"));
    }
    let mut c = Collector {
        conn,
        gaps: Vec::new(),
    };
    let inst = adjust(&req, c.instance(&req)?)?;
    Ok(serde_json::to_string(&inst).expect("serializes"))
}

struct Collector {
    conn: Connection,
    gaps: Vec<Gap>,
}

impl Collector {
    /// The first result of `sql`.
    fn rows(&self, sql: &str) -> Result<Rows, Error> {
        let mut sets = self.conn.query(sql, &[])?;
        if sets.is_empty() {
            return Err(invalid_input(format!("no result from: {sql}")));
        }
        Ok(Rows::new(sets.swap_remove(0)))
    }

    /// Runs `f`; a SQL error (a missing permission, a view this server lacks) or a value this
    /// plugin cannot read becomes a gap named `what`, so one odd part costs only itself; a lost
    /// connection or a timeout ends the collection.
    fn part<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&Self) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        match f(self) {
            Ok(v) => Ok(Some(v)),
            Err(Error::SqlError(e)) => {
                log::warn(&format!(
                    "{what}: not collected: error {}: {}",
                    e.number, e.message
                ));
                self.gaps.push(Gap {
                    what: what.to_string(),
                    reason: e.message,
                    error_number: Some(e.number),
                });
                Ok(None)
            }
            Err(Error::InvalidInput(m)) => {
                log::warn(&format!("{what}: not collected: {m}"));
                self.gaps.push(Gap {
                    what: what.to_string(),
                    reason: m,
                    error_number: None,
                });
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    fn instance(&mut self, req: &CollectRequest) -> Result<Instance, Error> {
        let (mut server, server_name) = self.server()?;
        let major = server.major_version;
        if let Some((cpus, memory)) = self.part("server.cpu_count", |c| {
            let rows = c.rows(q::sys_info(major))?;
            let r = rows
                .iter()
                .next()
                .ok_or_else(|| invalid_input("sys.dm_os_sys_info is empty"))?;
            Ok((r.get::<u32>("cpu_count")?, r.get::<i64>("memory_mb")?))
        })? {
            server.cpu_count = Some(cpus);
            server.physical_memory_mb = Some(memory.max(0) as u64);
        }
        let mut inst = Instance {
            name: server_name.unwrap_or_else(|| req.instance.name.clone()),
            address: req.instance.address.clone(),
            platform: "onprem".into(),
            confidence: Confidence::LoggedIn,
            server: Some(server),
            ..Default::default()
        };
        progress::report(1, None, "server configuration");
        inst.configurations = self
            .part("configurations", Self::configurations)?
            .unwrap_or_default();
        inst.trace_flags = self
            .part("trace_flags", Self::trace_flags)?
            .unwrap_or_default();
        inst.logins = self.part("logins", Self::logins)?.unwrap_or_default();
        inst.linked_servers = self
            .part("linked_servers", Self::linked_servers)?
            .unwrap_or_default();
        inst.jobs = self.part("jobs", Self::jobs)?.unwrap_or_default();
        inst.server_triggers = self
            .part("server_triggers", Self::server_triggers)?
            .unwrap_or_default();
        inst.audits = self.part("audits", Self::audits)?.unwrap_or_default();
        inst.endpoints = self.part("endpoints", Self::endpoints)?.unwrap_or_default();
        inst.credentials = self
            .part("credentials", Self::credentials)?
            .unwrap_or_default();
        inst.agent = self.part("agent", Self::agent)?.unwrap_or_default();
        inst.xevent_sessions = self
            .part("xevent_sessions", Self::xevent_sessions)?
            .unwrap_or_default();
        inst.databases = self.databases(major)?;
        if req.performance {
            progress::report(2, None, "performance counters");
            inst.performance = self
                .part("performance", |c| {
                    performance::sample(&c.conn, req.performance_interval_ms)
                })?
                .unwrap_or_default();
        }
        inst.status = if self.gaps.is_empty() {
            CollectionStatus::Complete
        } else {
            CollectionStatus::Partial
        };
        inst.gaps = std::mem::take(&mut self.gaps);
        Ok(inst)
    }

    /// Server properties and @@SERVERNAME, from one query.
    fn server(&self) -> Result<(Server, Option<String>), Error> {
        let rows = self.rows(q::SERVER)?;
        let r = rows
            .iter()
            .next()
            .ok_or_else(|| invalid_input("SERVERPROPERTY gave no row"))?;
        let product_version: String = r.get("product_version")?;
        let major_version = product_version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| {
                invalid_input(format!(
                    "ProductVersion {product_version:?} has no major version"
                ))
            })?;
        let version_text: String = r.get::<Option<String>>("version_text")?.unwrap_or_default();
        let server_name = r.get::<Option<String>>("server_name")?;
        let server = Server {
            product_version,
            major_version,
            edition: r.get::<Option<String>>("edition")?.unwrap_or_default(),
            engine_edition: r.get::<Option<i32>>("engine_edition")?.unwrap_or_default(),
            collation: r.get::<Option<String>>("collation")?.unwrap_or_default(),
            host_platform: if version_text.contains(" on Linux") {
                "Linux".into()
            } else {
                "Windows".into()
            },
            version_text,
            cpu_count: None,
            physical_memory_mb: None,
            is_clustered: r.get::<Option<i64>>("is_clustered")?.unwrap_or(0) == 1,
            is_hadr_enabled: r.get::<Option<i64>>("is_hadr_enabled")?.unwrap_or(0) == 1,
        };
        Ok((server, server_name))
    }

    fn configurations(&self) -> Result<Vec<Configuration>, Error> {
        self.rows(q::CONFIGURATIONS)?
            .iter()
            .map(|r| {
                Ok(Configuration {
                    name: r.get("name")?,
                    value: r.get::<Option<i64>>("value")?.unwrap_or(0),
                    value_in_use: r.get::<Option<i64>>("value_in_use")?.unwrap_or(0),
                })
            })
            .collect()
    }

    fn trace_flags(&self) -> Result<Vec<i32>, Error> {
        let rows = self.rows(q::TRACE_FLAGS)?;
        let mut flags: Vec<i32> = rows
            .iter()
            .filter(|r| r.get::<i64>("Global").unwrap_or(0) == 1)
            .map(|r| r.get::<i32>("TraceFlag"))
            .collect::<Result<_, _>>()?;
        flags.sort_unstable();
        Ok(flags)
    }

    fn logins(&self) -> Result<Vec<Login>, Error> {
        self.rows(q::LOGINS)?
            .iter()
            .map(|r| {
                Ok(Login {
                    name: r.get("name")?,
                    type_desc: r.get("type_desc")?,
                    is_disabled: r.get::<Option<bool>>("is_disabled")?.unwrap_or(false),
                    is_sysadmin: r.get("is_sysadmin")?,
                })
            })
            .collect()
    }

    fn linked_servers(&self) -> Result<Vec<LinkedServer>, Error> {
        self.rows(q::LINKED_SERVERS)?
            .iter()
            .map(|r| {
                Ok(LinkedServer {
                    name: r.get("name")?,
                    product: r.get::<Option<String>>("product")?.unwrap_or_default(),
                    provider: r.get::<Option<String>>("provider")?.unwrap_or_default(),
                    data_source: r.get::<Option<String>>("data_source")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    fn jobs(&self) -> Result<Vec<Job>, Error> {
        let mut jobs: Vec<Job> = Vec::new();
        for r in self.rows(q::JOBS)?.iter() {
            let name: String = r.get("name")?;
            if jobs.last().is_none_or(|j| j.name != name) {
                jobs.push(Job {
                    name,
                    enabled: r.get("enabled")?,
                    steps: Vec::new(),
                });
            }
            if let Some(step_id) = r.get::<Option<i32>>("step_id")? {
                jobs.last_mut().expect("pushed above").steps.push(JobStep {
                    step_id,
                    step_name: r.get::<Option<String>>("step_name")?.unwrap_or_default(),
                    subsystem: r.get::<Option<String>>("subsystem")?.unwrap_or_default(),
                    command: r.get::<Option<String>>("command")?.unwrap_or_default(),
                    database_name: r
                        .get::<Option<String>>("database_name")?
                        .unwrap_or_default(),
                });
            }
        }
        Ok(jobs)
    }

    fn server_triggers(&self) -> Result<Vec<ServerTrigger>, Error> {
        self.rows(q::SERVER_TRIGGERS)?
            .iter()
            .map(|r| {
                Ok(ServerTrigger {
                    name: r.get("name")?,
                    is_disabled: r.get("is_disabled")?,
                    definition: r.get::<Option<String>>("definition")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    fn audits(&self) -> Result<Vec<Audit>, Error> {
        self.rows(q::AUDITS)?
            .iter()
            .map(|r| {
                Ok(Audit {
                    name: r.get("name")?,
                    type_desc: r.get("type_desc")?,
                    is_state_enabled: r.get("is_state_enabled")?,
                })
            })
            .collect()
    }

    fn endpoints(&self) -> Result<Vec<Endpoint>, Error> {
        self.rows(q::ENDPOINTS)?
            .iter()
            .map(|r| {
                Ok(Endpoint {
                    name: r.get("name")?,
                    protocol_desc: r.get("protocol_desc")?,
                    type_desc: r.get("type_desc")?,
                    state_desc: r.get("state_desc")?,
                })
            })
            .collect()
    }

    fn credentials(&self) -> Result<Vec<String>, Error> {
        self.rows(q::CREDENTIALS)?
            .iter()
            .map(|r| r.get("name"))
            .collect()
    }

    fn agent(&self) -> Result<Agent, Error> {
        let mut sets = self.conn.query(q::AGENT, &[])?.into_iter().map(Rows::new);
        let mut next = || {
            sets.next()
                .ok_or_else(|| invalid_input("the Agent batch gave too few results"))
        };
        let names = |rows: Rows| {
            rows.iter()
                .map(|r| r.get::<String>("name"))
                .collect::<Result<Vec<_>, _>>()
        };
        let alerts = names(next()?)?;
        let operators = next()?
            .iter()
            .map(|r| {
                let set = |c: &str| {
                    r.get::<Option<String>>(c)
                        .map(|v| v.is_some_and(|s| !s.is_empty()))
                };
                Ok(Operator {
                    name: r.get("name")?,
                    uses_pager: set("pager_address")?,
                    uses_netsend: set("netsend_address")?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Agent {
            alerts,
            operators,
            proxies: names(next()?)?,
            mail_profiles: names(next()?)?,
        })
    }

    fn xevent_sessions(&self) -> Result<Vec<XeSession>, Error> {
        let mut sessions: Vec<XeSession> = Vec::new();
        for r in self.rows(q::XEVENT_SESSIONS)?.iter() {
            let name: String = r.get("session_name")?;
            if sessions.last().is_none_or(|s| s.name != name) {
                sessions.push(XeSession {
                    name,
                    targets: Vec::new(),
                });
            }
            if let Some(t) = r.get::<Option<String>>("target")? {
                sessions.last_mut().expect("pushed above").targets.push(t);
            }
        }
        Ok(sessions)
    }

    fn databases(&mut self, major: u32) -> Result<Vec<Database>, Error> {
        let Some(mut dbs) = self.part("databases", |c| c.database_list(major))? else {
            return Ok(Vec::new());
        };
        let tracked = self.part("change_tracking", |c| {
            c.rows(q::CHANGE_TRACKING)?
                .iter()
                .map(|r| r.get::<i64>("database_id"))
                .collect::<Result<Vec<_>, _>>()
        })?;
        let files = self.part("files", Self::files)?.unwrap_or_default();
        let backups = self.part("backups", Self::backups)?.unwrap_or_default();
        let total = dbs.len() as u64;
        for (i, db) in dbs.iter_mut().enumerate() {
            progress::report(i as u64, Some(total), &format!("database {}", db.name));
            db.files = files.get(&db.database_id).cloned().unwrap_or_default();
            db.size_mb = db.files.iter().map(|f| f.size_mb).sum();
            db.features.change_tracking = tracked
                .as_ref()
                .is_some_and(|t| t.contains(&db.database_id));
            db.features.filestream = db.files.iter().any(|f| f.type_desc == "FILESTREAM");
            db.backups = backups
                .get(&db.name.to_lowercase())
                .cloned()
                .unwrap_or_default();
            if db.state_desc == "ONLINE" {
                self.database_contents(db, major)?;
            }
        }
        Ok(dbs)
    }

    fn database_list(&self, major: u32) -> Result<Vec<Database>, Error> {
        self.rows(&q::databases(major))?
            .iter()
            .map(|r| {
                let flag = |name: &str| r.get::<Option<bool>>(name).map(|v| v.unwrap_or(false));
                Ok(Database {
                    name: r.get("name")?,
                    database_id: r.get("database_id")?,
                    state_desc: r.get::<Option<String>>("state_desc")?.unwrap_or_default(),
                    recovery_model_desc: r
                        .get::<Option<String>>("recovery_model_desc")?
                        .unwrap_or_default(),
                    compatibility_level: r.get("compatibility_level")?,
                    collation_name: r
                        .get::<Option<String>>("collation_name")?
                        .unwrap_or_default(),
                    owner: r.get("owner")?,
                    create_date: r.get::<Option<String>>("create_date")?.unwrap_or_default(),
                    is_read_only: flag("is_read_only")?,
                    is_trustworthy_on: flag("is_trustworthy_on")?,
                    is_db_chaining_on: flag("is_db_chaining_on")?,
                    features: Features {
                        transparent_data_encryption: flag("is_encrypted")?,
                        service_broker: flag("is_broker_enabled")?,
                        change_data_capture: flag("is_cdc_enabled")?,
                        replication: flag("is_published")?
                            || flag("is_subscribed")?
                            || flag("is_merge_published")?
                            || flag("is_distributor")?,
                        ledger: flag("is_ledger_on")?,
                        ..Default::default()
                    },
                    ..Default::default()
                })
            })
            .collect()
    }

    /// Files by database id; sizes from 8 KB pages to MB.
    fn files(&self) -> Result<BTreeMap<i64, Vec<DatabaseFile>>, Error> {
        let mut out: BTreeMap<i64, Vec<DatabaseFile>> = BTreeMap::new();
        for r in self.rows(q::FILES)?.iter() {
            let pages = |name: &str| r.get::<Option<i64>>(name).map(|v| v.unwrap_or(0));
            let percent = r.get::<Option<bool>>("is_percent_growth")?.unwrap_or(false);
            let max = pages("max_size")?;
            let growth = pages("growth")?;
            out.entry(r.get("database_id")?)
                .or_default()
                .push(DatabaseFile {
                    name: r.get("name")?,
                    type_desc: r.get("type_desc")?,
                    file_id: r.get("file_id")?,
                    physical_name: r
                        .get::<Option<String>>("physical_name")?
                        .unwrap_or_default(),
                    size_mb: pages("size")? as f64 / 128.0,
                    max_size_mb: if max < 0 { -1.0 } else { max as f64 / 128.0 },
                    growth: if percent {
                        growth as f64
                    } else {
                        growth as f64 / 128.0
                    },
                    is_percent_growth: percent,
                    filegroup: r
                        .get::<Option<i64>>("data_space_id")?
                        .filter(|id| *id > 0)
                        .map(|id| id.to_string()),
                });
        }
        Ok(out)
    }

    fn database_contents(&mut self, db: &mut Database, major: u32) -> Result<(), Error> {
        let name = db.name.clone();
        let at = |what: &str| format!("databases[{name}].{what}");
        if let Some(groups) = self.part(&at("filegroups"), |c| {
            c.rows(&q::filegroups(&name))?
                .iter()
                .map(|r| {
                    Ok((
                        r.get::<i64>("data_space_id")?,
                        r.get::<String>("name")?,
                        r.get::<String>("type")?,
                    ))
                })
                .collect::<Result<Vec<_>, Error>>()
        })? {
            for f in &mut db.files {
                // data_space_id → the filegroup's name.
                f.filegroup = f.filegroup.as_ref().and_then(|id| {
                    groups
                        .iter()
                        .find(|g| g.0.to_string() == *id)
                        .map(|g| g.1.clone())
                });
            }
            db.features.in_memory_oltp |= groups.iter().any(|g| g.2 == "FX");
            db.features.filestream |= groups.iter().any(|g| g.2 == "FD");
        }
        db.object_counts = self
            .part(&at("object_counts"), |c| {
                c.rows(&q::object_counts(&name))?
                    .iter()
                    .map(|r| {
                        Ok((
                            r.get::<String>("type_desc")?,
                            r.get::<i64>("n")?.max(0) as u64,
                        ))
                    })
                    .collect::<Result<BTreeMap<_, _>, Error>>()
            })?
            .unwrap_or_default();
        db.tables = self
            .part(&at("tables"), |c| {
                c.rows(&q::tables(&name))?
                    .iter()
                    .map(|r| {
                        Ok(Table {
                            schema: r.get("schema_name")?,
                            name: r.get("name")?,
                            rows: r.get::<Option<i64>>("row_count")?.unwrap_or(0).max(0) as u64,
                            columns: Vec::new(),
                            reserved_kb: None,
                        })
                    })
                    .collect()
            })?
            .unwrap_or_default();
        if let Some(columns) = self.part(&at("columns"), |c| {
            c.rows(&q::columns(&name))?
                .iter()
                .map(|r| {
                    Ok((
                        r.get::<String>("schema_name")?,
                        r.get::<String>("table_name")?,
                        r.get::<String>("column_name")?,
                    ))
                })
                .collect::<Result<Vec<_>, Error>>()
        })? {
            for (schema, table, column) in columns {
                if let Some(t) = db
                    .tables
                    .iter_mut()
                    .find(|t| t.schema == schema && t.name == table)
                {
                    t.columns.push(column);
                }
            }
        }
        db.service_broker_routes = self
            .part(&at("service_broker_routes"), |c| {
                c.rows(&q::routes(&name))?
                    .iter()
                    .map(|r| {
                        Ok(Route {
                            name: r.get("name")?,
                            address: r.get("address")?,
                        })
                    })
                    .collect()
            })?
            .unwrap_or_default();
        if let Some((memory, temporal)) = self.part(&at("features"), |c| {
            let rows = c.rows(&q::table_features(&name, major))?;
            let r = rows.iter().next().ok_or_else(|| invalid_input("no row"))?;
            Ok((
                r.get::<Option<i64>>("memory_optimized")?.unwrap_or(0),
                r.get::<Option<i64>>("temporal")?.unwrap_or(0),
            ))
        })? {
            db.features.in_memory_oltp |= memory > 0;
            db.features.temporal_tables = temporal > 0;
        }
        if let Some(n) = self.part(&at("full_text"), |c| {
            let rows = c.rows(&q::fulltext_catalogs(&name))?;
            let r = rows.iter().next().ok_or_else(|| invalid_input("no row"))?;
            r.get::<i64>("n")
        })? {
            db.features.full_text = n > 0;
        }
        db.modules = self
            .part(&at("modules"), |c| {
                c.rows(&q::modules(&name))?
                    .iter()
                    .map(|r| {
                        Ok(Module {
                            schema: r.get("schema_name")?,
                            name: r.get("name")?,
                            type_desc: r.get("type_desc")?,
                            definition: r.get("definition")?,
                            file: None,
                        })
                    })
                    .collect()
            })?
            .unwrap_or_default();
        db.assemblies = self
            .part(&at("assemblies"), |c| {
                c.rows(&q::assemblies(&name))?
                    .iter()
                    .map(|r| {
                        let clr: String = r.get::<Option<String>>("clr_name")?.unwrap_or_default();
                        Ok(Assembly {
                            name: r.get("name")?,
                            permission_set_desc: r.get("permission_set_desc")?,
                            // A strong name carries a public key token.
                            is_signed: !clr.to_ascii_lowercase().contains("publickeytoken=null"),
                        })
                    })
                    .collect()
            })?
            .unwrap_or_default();
        db.users_without_logins = self
            .part(&at("users_without_logins"), |c| {
                c.rows(&q::users_without_logins(&name, major))?
                    .iter()
                    .map(|r| r.get("name"))
                    .collect()
            })?
            .unwrap_or_default();
        Ok(())
    }

    /// Backup history by database name (lower-cased): the last of each type and a per-day
    /// summary.
    fn backups(&self) -> Result<BTreeMap<String, BackupHistory>, Error> {
        let mut out: BTreeMap<String, BackupHistory> = BTreeMap::new();
        // Rows come newest first.
        for r in self.rows(q::BACKUPS)?.iter() {
            let h = out
                .entry(r.get::<String>("database_name")?.to_lowercase())
                .or_default();
            let kind: String = r.get("type")?;
            let finish: String = r
                .get::<Option<String>>("backup_finish_date")?
                .unwrap_or_default();
            let backup = Backup {
                finish_date: finish.clone(),
                size_bytes: r.get::<Option<i64>>("backup_size")?.unwrap_or(0).max(0) as u64,
                compressed_size_bytes: r
                    .get::<Option<i64>>("compressed_backup_size")?
                    .map(|v| v.max(0) as u64),
                first_lsn: r.get::<Option<String>>("first_lsn")?.unwrap_or_default(),
                last_lsn: r.get::<Option<String>>("last_lsn")?.unwrap_or_default(),
                device: r
                    .get::<Option<String>>("physical_device_name")?
                    .unwrap_or_default(),
                is_copy_only: r.get::<Option<bool>>("is_copy_only")?.unwrap_or(false),
                has_checksum: r
                    .get::<Option<bool>>("has_backup_checksums")?
                    .unwrap_or(false),
            };
            let slot = match kind.as_str() {
                "D" => &mut h.last_full,
                "I" => &mut h.last_differential,
                "L" => &mut h.last_log,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(backup.clone());
            }
            let date: String = finish.chars().take(10).collect();
            match h
                .per_day
                .iter_mut()
                .find(|d| d.date == date && d.backup_type == kind)
            {
                Some(day) => {
                    day.count += 1;
                    day.size_bytes += backup.size_bytes;
                    day.first_lsn = min_lsn(&day.first_lsn, &backup.first_lsn);
                    day.last_lsn = max_lsn(&day.last_lsn, &backup.last_lsn);
                }
                None => h.per_day.push(BackupDay {
                    date,
                    backup_type: kind,
                    count: 1,
                    size_bytes: backup.size_bytes,
                    first_lsn: backup.first_lsn,
                    last_lsn: backup.last_lsn,
                }),
            }
        }
        Ok(out)
    }
}

/// LSNs are decimal numbers up to 25 digits: compare by length, then text.
fn lsn_key(l: &str) -> (usize, &str) {
    let t = l.trim_start_matches('0');
    (t.len(), t)
}

fn min_lsn(a: &str, b: &str) -> String {
    if lsn_key(b) < lsn_key(a) { b } else { a }.to_string()
}

fn max_lsn(a: &str, b: &str) -> String {
    if lsn_key(b) > lsn_key(a) { b } else { a }.to_string()
}
