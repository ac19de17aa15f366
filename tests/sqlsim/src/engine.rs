//! The engine: SQLite underneath, one attached SQLite database per SQL Server database, T-SQL
//! parsed by sqlparser (MS SQL dialect) and rewritten before SQLite sees it.

mod alias_types;
pub mod backup;
mod batch;
mod batch_text;
pub mod catalog;
mod declared_rows;
pub mod errors;
mod exec;
pub mod functions;
pub mod indexes;
pub mod modules;
pub mod platform;
mod rds;
mod result_types;
pub mod rewrite;
mod scalar;
mod surface;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::ValueRef;
use sqlparser::ast::{Expr, ObjectType, SelectItem, SetExpr, Statement, Use, VisitMut};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;

use crate::instance::{Instance, SYSTEM_DATABASES};
use crate::tds::tokens::{ColumnMeta, ServerMessage, cmd};
use crate::tds::types::{ColumnType, Value};

/// What a session carries between batches.
#[derive(Clone, Debug)]
pub struct Session {
    /// The SPID (`@@SPID`); 0 for the engine's own work (fixture setup).
    pub id: u16,
    pub login: String,
    pub database: String,
    /// Set by the server when the client sends ATTENTION: the running batch stops.
    pub cancel: Arc<AtomicBool>,
    /// The running batch executed RETURN: it ends, without error.
    returned: bool,
    /// The client's batch declared table variables (dropped when it ends).
    table_variables: bool,
    /// The running batch's CREATE TABLE columns written with an alias type.
    alias_columns: Vec<alias_types::AliasColumn>,
}

impl Session {
    /// An internal session of `login` in `database` (not listed in the activity DMVs).
    pub fn new(login: &str, database: &str) -> Session {
        Session {
            id: 0,
            login: login.to_string(),
            database: database.to_string(),
            cancel: Arc::new(AtomicBool::new(false)),
            returned: false,
            table_variables: false,
            alias_columns: Vec::new(),
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Ends an sp_executesql call begun in database `before`: "Changes in database context last
    /// only to the end of the sp_executesql statement" (sp-executesql-transact-sql.md), so a USE
    /// inside it is undone, and the client told (`outcomes`).
    pub fn end_sp_executesql(&mut self, before: String, outcomes: &mut Vec<Outcome>) {
        if self.database != before {
            outcomes.push(Outcome::DatabaseChanged {
                old: std::mem::replace(&mut self.database, before.clone()),
                new: before,
            });
        }
    }
}

/// A parameter of a batch (`@P1`), with the type its declaration gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Name with its `@`.
    pub name: String,
    /// The declared type (sp_executesql's parameter type), when known.
    pub ty: Option<ColumnType>,
    pub value: Value,
}

impl Param {
    /// An untyped parameter.
    pub fn new(name: &str, value: Value) -> Param {
        Param {
            name: name.to_string(),
            ty: None,
            value,
        }
    }
}

/// What one statement produced, in order.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// A result set.
    Rows {
        columns: Vec<ColumnMeta>,
        rows: Vec<Vec<Value>>,
    },
    /// A statement that affected rows (INSERT, UPDATE, DELETE).
    Count { cmd: u16, rows: u64 },
    /// A statement with no rows to report (DDL, SET).
    Done,
    /// The session's database changed (USE).
    DatabaseChanged { old: String, new: String },
    /// An informational message.
    Info(ServerMessage),
}

/// The outcomes of a batch, and the error that stopped it, if any.
#[derive(Debug, Default, PartialEq)]
pub struct BatchResult {
    pub outcomes: Vec<Outcome>,
    pub error: Option<ServerMessage>,
    /// The client cancelled the batch (ATTENTION) before it finished.
    pub cancelled: bool,
}

impl BatchResult {
    /// The outcomes, or the error that ended the batch (a batch run inside another statement).
    fn into_result(self) -> Result<Vec<Outcome>, ServerMessage> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.outcomes),
        }
    }
}

/// The simulated instance's data.
pub struct Engine {
    pub instance: Instance,
    conn: Mutex<rusqlite::Connection>,
    databases: Mutex<Vec<String>>,
    activity: catalog::activity::Activity,
    /// What the clients' work cost (CPU, log, file IO), for the DMVs that show it.
    workload: catalog::workload::Workload,
    /// LSNs, log chains, databases being restored and credentials: BACKUP and RESTORE.
    backup: backup::State,
    /// RDS's native backup tasks (`rds` mode).
    rds_tasks: rds::Tasks,
    /// The server's shared handle on this engine, for work that outlives a batch.
    me: std::sync::OnceLock<std::sync::Weak<Engine>>,
}

/// The most databases (system ones included) an instance holds: SQLite's attachment limit.
pub const MAX_DATABASES: usize = 125;

/// A name as SQLite sees it, double-quoted.
fn sqlite_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Engine {
    /// An engine holding the system databases and the instance's user databases.
    pub fn new(instance: Instance) -> Result<Engine, String> {
        let engine = Engine::empty(instance).map_err(|e| e.to_string())?;
        for db in &engine.instance.databases {
            let mut session = Session::new("sa", &db.name);
            for (i, batch) in db.setup.iter().enumerate() {
                let r = engine.execute(&mut session, batch, &[]);
                if let Some(e) = r.error {
                    return Err(format!(
                        "setup batch {} of database {} failed: error {} at line {}: {}",
                        i + 1,
                        db.name,
                        e.number,
                        e.line,
                        e.text
                    ));
                }
            }
            for (table, rows) in &db.declared_rows {
                engine.declare_rows(&db.name, table, *rows)?;
            }
        }
        Ok(engine)
    }

    /// Records a fixture's declared row count for `table` (`schema.name`) of database `db`.
    fn declare_rows(&self, db: &str, table: &str, rows: i64) -> Result<(), String> {
        let (schema, name) = table.split_once('.').unwrap_or(("dbo", table));
        let conn = self.conn.lock().unwrap();
        let id = catalog::table_id(&conn, db, schema, name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "declared_rows of database {db} names table {table}, which its setup does not create"
                )
            })?;
        declared_rows::declare(&conn, &sqlite_ident(db), id, rows).map_err(|e| e.to_string())
    }

    /// The instance's databases, empty.
    fn empty(instance: Instance) -> rusqlite::Result<Engine> {
        let conn = rusqlite::Connection::open_in_memory()?;
        // Every database is an attached SQLite database: allow as many as SQLite can (125, with
        // the build flag in .cargo/config.toml), i.e. 121 user databases.
        conn.set_limit(
            rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED,
            MAX_DATABASES as i32,
        )?;
        functions::register(&conn, instance.version.0)?;
        scalar::register(&conn)?;
        let engine = Engine {
            workload: catalog::workload::Workload::with_cpu_used(instance.host.cpu_used_before_ms),
            instance,
            conn: Mutex::new(conn),
            databases: Mutex::new(Vec::new()),
            activity: Default::default(),
            backup: Default::default(),
            rds_tasks: Default::default(),
            me: Default::default(),
        };
        let names: Vec<String> = SYSTEM_DATABASES
            .iter()
            .map(|s| s.to_string())
            .chain(engine.instance.databases.iter().map(|d| d.name.clone()))
            .collect();
        for name in &names {
            engine.attach(name)?;
            if name == "master" {
                let conn = engine.conn.lock().unwrap();
                catalog::install_server(&conn, engine.instance.version.0)?;
                catalog::install_master_files(&conn)?;
                catalog::workload::install(&conn)?;
                catalog::install_instance(&conn, &engine.instance)?;
            }
            if name == "msdb" {
                let conn = engine.conn.lock().unwrap();
                catalog::install_jobs(&conn, &engine.instance.jobs)?;
                catalog::agent::install(&conn, &engine.instance.agent)?;
                catalog::install_backup_history(&conn, &engine.instance)?;
                catalog::health::install_msdb(&conn)?;
                if engine.instance.platform == crate::instance::Platform::Rds {
                    rds::install(&conn)?;
                }
            }
        }
        {
            let conn = engine.conn.lock().unwrap();
            for name in &names {
                let spec = engine.instance.databases.iter().find(|d| &d.name == name);
                let defaults = crate::instance::DatabaseOptions::default();
                catalog::add_database(
                    &conn,
                    &catalog::DatabaseRecord {
                        name,
                        compatibility_level: spec
                            .map_or(engine.instance.default_compatibility(), |d| {
                                d.compatibility_level
                            }),
                        created: "2024-01-01 00:00:00.000",
                        owner: spec.and_then(|d| d.owner.as_deref()).unwrap_or("sa"),
                        options: spec.map_or(&defaults, |d| &d.options),
                    },
                )?;
                let files = spec
                    .map(|d| d.files.clone())
                    .filter(|f| !f.is_empty())
                    .unwrap_or_else(|| crate::instance::DatabaseFile::defaults(name));
                catalog::add_files(&conn, name, &files)?;
                if let Some(spec) = spec {
                    catalog::principals::add_users(&conn, name, &spec.users)?;
                    catalog::assemblies::add(&conn, name, &spec.assemblies)?;
                    catalog::storage::add_fulltext_catalogs(&conn, name, &spec.fulltext_catalogs)?;
                    catalog::broker::add_routes(&conn, name, &spec.routes)?;
                }
            }
        }
        Ok(engine)
    }

    /// Rewrites `sys.dm_db_log_stats` and `sys.database_recovery_status` from each database's
    /// log: where it ends, where its log chain stands. `last_log_backup_lsn` is "the starting
    /// log sequence number of the next log backup. If NULL, a transaction log back up cannot
    /// be performed because either the database is in SIMPLE recovery or there is no current
    /// database backup" (sys-database-recovery-status-transact-sql.md).
    fn refresh_log_stats(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        conn.execute_batch(
            "DELETE FROM master.\"sys.dm_db_log_stats\"; DELETE FROM master.\"sys.database_recovery_status\"",
        )?;
        let databases: Vec<(i64, String, String)> = conn
            .prepare("SELECT database_id, name, recovery_model_desc FROM master.\"sys.databases\"")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (id, name, recovery) in databases {
            let (end, backed_up) = self.backup.log_position(&name);
            conn.execute(
                "INSERT INTO master.\"sys.dm_db_log_stats\" VALUES (?1, ?2, ?3, ?4, ?5, 8.0, 0.5)",
                rusqlite::params![
                    id,
                    recovery,
                    backup::lsn_hex(backed_up.unwrap_or(end)),
                    backup::lsn_hex(end),
                    backed_up.map(backup::lsn_hex),
                ],
            )?;
            let next_log_backup = backed_up
                .filter(|_| recovery != "SIMPLE")
                .map(|lsn| lsn.to_string());
            conn.execute(
                "INSERT INTO master.\"sys.database_recovery_status\" (database_id, last_log_backup_lsn) VALUES (?1, ?2)",
                rusqlite::params![id, next_log_backup],
            )?;
        }
        Ok(())
    }

    /// Lets the engine start background work (RDS's backup tasks) on the server's handle.
    pub fn share(self: &Arc<Self>) {
        if self.me.set(Arc::downgrade(self)).is_ok() {
            self.start_automated_log_backups();
        }
    }

    /// The server's handle on this engine, when it serves one.
    fn shared(&self) -> Option<Arc<Engine>> {
        self.me.get().and_then(std::sync::Weak::upgrade)
    }

    /// Attaches an empty SQLite database as SQL Server database `name`, with its catalog.
    fn attach(&self, name: &str) -> rusqlite::Result<()> {
        let conn = self.conn.lock().unwrap();
        conn.execute_batch(&format!(
            "ATTACH DATABASE ':memory:' AS {}",
            sqlite_ident(name)
        ))?;
        catalog::install(&conn, name, self.instance.version.0)?;
        self.databases.lock().unwrap().push(name.to_string());
        Ok(())
    }

    /// The database named `name` (case-insensitively), as it was created.
    pub fn database(&self, name: &str) -> Option<String> {
        self.databases
            .lock()
            .unwrap()
            .iter()
            .find(|d| d.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// A new client session (listed in sys.dm_exec_sessions until `close_session`).
    pub fn open_session(&self, who: &catalog::activity::Connected) -> Session {
        let mut session = Session::new(who.login, who.database);
        session.id = self.activity.open(who);
        session
    }

    /// The client of `session` left.
    pub fn close_session(&self, spid: u16) {
        self.activity.close(spid);
    }

    /// Runs a batch with named parameters (`@P1` → value) in `session`, shown in
    /// sys.dm_exec_requests while it runs.
    pub fn execute(&self, session: &mut Session, sql: &str, params: &[Param]) -> BatchResult {
        self.activity.begin(
            session.id,
            &session.database,
            &catalog::activity::command_of(sql),
        );
        let result = self.execute_batch(session, sql, params);
        // Table variables live as long as the client's batch (dynamic SQL inside it does not
        // see them, but does not end them either).
        if std::mem::take(&mut session.table_variables) {
            self.drop_table_variables(session);
        }
        self.activity.end(session.id, &session.database);
        result
    }

    fn execute_batch(&self, session: &mut Session, sql: &str, params: &[Param]) -> BatchResult {
        let mut result = BatchResult::default();
        if self.instance.platform == crate::instance::Platform::Mi
            && let Some(refused) = platform::mi_refusal(sql)
        {
            result.error = Some(refused);
            return result;
        }
        if let Err(e) = surface::refuse_syntax(sql, self.instance.version) {
            result.error = Some(e);
            return result;
        }
        if backup::statement::is_backup_family(sql) {
            return self.backup_statement(session, sql, params);
        }
        if let Some(ddl) = modules::parse(sql) {
            return self.module(session, &ddl, sql, params);
        }
        if let Some(ddl) = indexes::parse(sql) {
            return self.index_ddl(session, &ddl);
        }
        if let Some(ct) = alias_types::parse(sql) {
            return self.create_type(session, &ct);
        }
        let substituted = {
            let conn = self.conn.lock().unwrap();
            alias_types::substitute(&conn, &session.database, sql)
        };
        if let Some((sql, columns)) = substituted {
            session.alias_columns = columns;
            let result = self.execute_statements(session, &sql, params);
            session.alias_columns.clear();
            return result;
        }
        self.execute_statements(session, sql, params)
    }

    /// Parses a batch and runs its statements in order, stopping at the first error.
    fn execute_statements(
        &self,
        session: &mut Session,
        sql: &str,
        params: &[Param],
    ) -> BatchResult {
        let mut result = BatchResult::default();
        // T-SQL sqlparser cannot read as written (statements without `;`, INSERT … EXEC, DBCC,
        // a hint after an alias) is made readable first; what parses as written stays as it is.
        let parsed = Parser::parse_sql(&MsSqlDialect {}, sql).or_else(|e| {
            batch_text::normalize(sql)
                .and_then(|n| Parser::parse_sql(&MsSqlDialect {}, &n).ok())
                .ok_or(e)
        });
        let mut statements = match parsed {
            Ok(s) => s,
            Err(e) => {
                result.error = Some(parse_error(&e.to_string()));
                return result;
            }
        };
        let mut vars = params.to_vec();
        session.returned = false;
        match self.run_block(session, &mut statements, &mut vars, &mut result.outcomes) {
            Ok(finished) => result.cancelled = !finished,
            Err(e) => result.error = Some(e),
        }
        result
    }

    fn statement(
        &self,
        session: &mut Session,
        stmt: &mut Statement,
        line: i32,
        params: &[Param],
    ) -> Result<Vec<Outcome>, ServerMessage> {
        match stmt {
            Statement::Use(u) => {
                let name = match u {
                    Use::Object(n) | Use::Database(n) => n.to_string(),
                    other => other.to_string(),
                };
                let name = name.trim_matches(['[', ']', '"']).to_string();
                let Some(db) = self.database(&name) else {
                    if self.backup.is_restoring(&name) {
                        return Err(errors::error(
                            927,
                            14,
                            line,
                            format!(
                                "Database '{name}' cannot be opened. It is in the middle of a restore."
                            ),
                        ));
                    }
                    return Err(errors::no_database(line, &name));
                };
                let old = std::mem::replace(&mut session.database, db.clone());
                return Ok(vec![
                    Outcome::DatabaseChanged {
                        old,
                        new: db.clone(),
                    },
                    Outcome::Info(errors::error(
                        5701,
                        0,
                        line,
                        format!("Changed database context to '{db}'."),
                    )),
                ]);
            }
            Statement::CreateDatabase { db_name, .. } => {
                let name = db_name
                    .to_string()
                    .trim_matches(['[', ']', '"'])
                    .to_string();
                if self.database(&name).is_some() {
                    return Err(errors::error(
                        1801,
                        16,
                        line,
                        format!(
                            "Database '{name}' already exists. Choose a different database name."
                        ),
                    ));
                }
                let sq = |e: rusqlite::Error| errors::from_sqlite(&e, line, &[]);
                if self.databases.lock().unwrap().len() >= MAX_DATABASES {
                    return Err(errors::error(
                        50000,
                        16,
                        line,
                        format!(
                            "sqlsim holds at most {MAX_DATABASES} databases (SQLite's attachment limit); '{name}' was not created."
                        ),
                    ));
                }
                self.attach(&name).map_err(sq)?;
                let conn = self.conn.lock().unwrap();
                let now: String = conn
                    .query_row("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')", [], |r| {
                        r.get(0)
                    })
                    .map_err(sq)?;
                catalog::add_database(
                    &conn,
                    &catalog::DatabaseRecord {
                        name: &name,
                        compatibility_level: self.instance.default_compatibility(),
                        created: &now,
                        owner: &session.login,
                        options: &Default::default(),
                    },
                )
                .map_err(sq)?;
                catalog::add_files(
                    &conn,
                    &name,
                    &crate::instance::DatabaseFile::defaults(&name),
                )
                .map_err(sq)?;
                return Ok(vec![Outcome::Done]);
            }
            Statement::Drop {
                object_type: ObjectType::Database,
                names,
                if_exists,
                ..
            } => {
                for n in names.iter() {
                    let name = n.to_string().trim_matches(['[', ']', '"']).to_string();
                    match self.database(&name) {
                        Some(db) => {
                            let conn = self.conn.lock().unwrap();
                            conn.execute_batch(&format!("DETACH DATABASE {}", sqlite_ident(&db)))
                                .map_err(|e| errors::from_sqlite(&e, line, &[]))?;
                            catalog::drop_database(&conn, &db)
                                .map_err(|e| errors::from_sqlite(&e, line, &[]))?;
                            self.databases.lock().unwrap().retain(|d| d != &db);
                        }
                        None if self.backup.is_restoring(&name) => {
                            let db = self.backup.drop_restoring(&name).unwrap_or(name.clone());
                            let conn = self.conn.lock().unwrap();
                            catalog::drop_database(&conn, &db)
                                .map_err(|e| errors::from_sqlite(&e, line, &[]))?;
                        }
                        None if *if_exists => {}
                        None => {
                            return Err(errors::error(
                                3701,
                                11,
                                line,
                                format!(
                                    "Cannot drop the database '{name}', because it does not exist or you do not have permission."
                                ),
                            ));
                        }
                    }
                }
                return Ok(vec![Outcome::Done]);
            }
            Statement::Set(_) => return Ok(vec![Outcome::Done]),
            Statement::WaitFor(w) if w.wait_type == sqlparser::ast::WaitForType::Delay => {
                let text = w.expr.to_string();
                let delay = parse_delay(text.trim_matches('\'')).ok_or_else(|| {
                    errors::error(
                        148,
                        15,
                        line,
                        format!("Incorrect time syntax in time string '{text}' used with WAITFOR."),
                    )
                })?;
                // Sleep in steps so an ATTENTION ends the wait, as it does on a server.
                let until = std::time::Instant::now() + delay;
                while std::time::Instant::now() < until {
                    if session.cancelled() {
                        return Err(errors::error(0, 0, line, "cancelled"));
                    }
                    std::thread::sleep(
                        Duration::from_millis(5).min(until - std::time::Instant::now()),
                    );
                }
                return Ok(vec![Outcome::Done]);
            }
            _ => {}
        }

        surface::refuse_functions(stmt, self.instance.version, line)?;
        let projected = self.result_columns(session, stmt, params);
        self.expand_row_checksums(session, stmt);
        self.skip_identity_column(session, stmt);
        let as_written = stmt.clone();
        result_types::guard_projection(stmt, &projected);
        let mut rw = rewrite::Rewriter::new(session, &self.instance)
            .with_params(params)
            .with_cpu_busy(self.workload.cpu_busy_ticks());
        let _ = stmt.visit(&mut rw);
        let names = rw.names;
        surface::refuse_views(
            names.iter().map(|(_, written)| written.as_str()),
            self.instance.version,
            line,
        )?;
        let text = stmt.to_string();
        // DMVs need VIEW SERVER STATE, as on a server.
        if names.iter().any(|(n, _)| n.contains(".sys.dm_")) && !self.may_view_server_state(session)
        {
            return Err(errors::error(
                300,
                14,
                line,
                "VIEW SERVER STATE permission was denied on object 'server', database 'master'.",
            ));
        }
        // sys.partitions reports live row counts and the activity DMVs the live sessions:
        // brought up to date before they are read.
        for (sqlite_name, _) in &names {
            let conn = self.conn.lock().unwrap();
            let refreshed = if let Some(db) = sqlite_name.strip_suffix(".sys.partitions") {
                catalog::refresh_rowcounts(&conn, db)
            } else if matches!(
                sqlite_name.as_str(),
                "master.sys.dm_exec_sessions" | "master.sys.dm_exec_requests"
            ) {
                self.activity.refresh(&conn)
            } else if sqlite_name == "master.sys.dm_os_performance_counters" {
                self.activity
                    .refresh_counters(&conn)
                    .and_then(|()| self.workload.refresh_counters(&conn))
            } else if sqlite_name == "master.sys.dm_io_virtual_file_stats" {
                self.workload.refresh_file_stats(&conn)
            } else if matches!(
                sqlite_name.as_str(),
                "master.sys.dm_db_log_stats" | "master.sys.database_recovery_status"
            ) {
                self.refresh_log_stats(&conn)
            } else if sqlite_name == "master.sys.dm_resource_governor_resource_pools" {
                self.workload.refresh_pools(&conn)
            } else if sqlite_name == "master.sys.dm_exec_query_stats" {
                self.workload.refresh_query_stats(&conn)
            } else {
                Ok(())
            };
            refreshed.map_err(|e| errors::from_sqlite(&e, line, &names))?;
        }
        let cur_cmd = match stmt {
            Statement::Insert(_) => cmd::INSERT,
            Statement::Update { .. } => cmd::UPDATE,
            Statement::Delete(_) => cmd::DELETE,
            Statement::Query(_) => cmd::SELECT,
            _ => cmd::OTHER,
        };
        let compiled = Compiled {
            text: &text,
            cur_cmd,
            line,
            names: &names,
            projected: &projected,
        };
        let started = std::time::Instant::now();
        let mut outcomes = self.run_sqlite(&compiled, params, &session.cancel)?;
        if let Some(rows) = self.declared_count(session, &as_written) {
            declared_rows::apply(&as_written, rows, line, &mut outcomes)?;
        }
        // What the statement cost, in the database its first table is in.
        let (mut written, mut read) = (0, 0);
        for o in &outcomes {
            match o {
                Outcome::Count { rows, .. } => written += rows,
                Outcome::Rows { rows, .. } => read += rows.len() as u64,
                _ => {}
            }
        }
        let database = names
            .first()
            .and_then(|(n, _)| n.split('.').next())
            .filter(|d| *d != "temp")
            .unwrap_or(&session.database);
        let elapsed_us = started.elapsed().as_micros() as i64;
        self.workload.account(database, elapsed_us, written, read);
        if cur_cmd != cmd::SELECT {
            self.backup.work(database, written.max(1));
        }
        // Clients' statements go to the plan cache (the simulator's own setup does not).
        if session.id != 0 {
            self.workload.cache(
                &as_written.to_string(),
                &session.database,
                elapsed_us,
                read as i64 / 256 + 1,
            );
        }
        self.record_ddl(session, &as_written)
            .map_err(|e| errors::from_sqlite(&e, line, &names))?;
        Ok(outcomes)
    }

    /// `INSERT t VALUES (…)` without a column list leaves out t's IDENTITY column, as SQL Server
    /// does: the column list is written out without it (SQLite numbers the column itself).
    fn skip_identity_column(&self, session: &Session, stmt: &mut Statement) {
        use sqlparser::ast::{SetExpr, TableObject};
        let Statement::Insert(ins) = stmt else {
            return;
        };
        let TableObject::TableName(name) = &ins.table else {
            return;
        };
        let width = match ins.source.as_deref().map(|q| q.body.as_ref()) {
            Some(SetExpr::Values(v)) => v.rows.first().map_or(0, |r| r.len()),
            _ => return,
        };
        if !ins.columns.is_empty() || width == 0 {
            return;
        }
        let rw = rewrite::Rewriter::new(session, &self.instance);
        let (db, schema, table) = rw.resolve(&rewrite::ident_parts(name));
        let conn = self.conn.lock().unwrap();
        let columns: Vec<(String, String, bool)> = conn
            .prepare(&format!(
                "PRAGMA {}.table_info({})",
                sqlite_ident(&db),
                sqlite_ident(&format!("{schema}.{table}"))
            ))
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get::<_, i64>(5)? == 1)))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        let identity: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|(_, (_, ty, pk))| *pk && ty.eq_ignore_ascii_case("INTEGER"))
            .map(|(i, _)| i)
            .collect();
        if columns.len() == width + 1 && identity.len() == 1 {
            ins.columns = columns
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != identity[0])
                .map(|(_, (n, _, _))| {
                    sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::with_quote(
                        '[',
                        n.clone(),
                    )])
                })
                .collect();
        }
    }

    /// `BINARY_CHECKSUM(*)` and `CHECKSUM(*)` over a single-table query become the functions of
    /// that table's columns, in column order (SQLite functions cannot take `*`).
    fn expand_row_checksums(&self, session: &Session, stmt: &mut Statement) {
        use sqlparser::ast::{
            Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, SetExpr, TableFactor,
        };
        let Statement::Query(q) = stmt else { return };
        let SetExpr::Select(select) = q.body.as_mut() else {
            return;
        };
        let [from] = select.from.as_slice() else {
            return;
        };
        if !from.joins.is_empty() {
            return;
        }
        let TableFactor::Table { name, .. } = &from.relation else {
            return;
        };
        let rw = rewrite::Rewriter::new(session, &self.instance);
        let (db, schema, table) = rw.resolve(&rewrite::ident_parts(name));
        let columns: Vec<String> = {
            let conn = self.conn.lock().unwrap();
            let sql = format!(
                "SELECT c.name FROM {}.__sqlsim_columns c JOIN {}.__sqlsim_objects o \
                 ON o.object_id = c.object_id WHERE o.schema_name = ?1 COLLATE NOCASE \
                 AND o.name = ?2 COLLATE NOCASE ORDER BY c.column_id",
                sqlite_ident(&db),
                sqlite_ident(&db)
            );
            let Ok(mut st) = conn.prepare(&sql) else {
                return;
            };
            let Ok(rows) = st.query_map([&schema, &table], |r| r.get::<_, String>(0)) else {
                return;
            };
            rows.filter_map(Result::ok).collect()
        };
        if columns.is_empty() {
            return;
        }
        let _ = sqlparser::ast::visit_expressions_mut(stmt, |e| {
            if let Expr::Function(f) = e {
                let name = f.name.to_string().to_ascii_uppercase();
                if (name == "BINARY_CHECKSUM" || name == "CHECKSUM")
                    && let FunctionArguments::List(list) = &mut f.args
                    && matches!(
                        list.args.as_slice(),
                        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
                    )
                {
                    list.args = columns
                        .iter()
                        .map(|c| {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(
                                Ident::with_quote('"', c),
                            )))
                        })
                        .collect();
                }
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }

    /// A module statement: procedures, functions and triggers are recorded with their
    /// definitions; views also become SQLite views when sqlparser can read them.
    fn module(
        &self,
        session: &mut Session,
        ddl: &modules::ModuleDdl,
        sql: &str,
        params: &[Param],
    ) -> BatchResult {
        let rw = rewrite::Rewriter::new(session, &self.instance);
        let (db, schema, name) = rw.resolve(&ddl.name);
        let written = ddl.name.join(".");
        let exists = {
            let conn = self.conn.lock().unwrap();
            conn.query_row(
                &format!(
                    "SELECT COUNT(*) FROM {}.__sqlsim_objects WHERE schema_name = ?1 COLLATE NOCASE \
                     AND name = ?2 COLLATE NOCASE",
                    sqlite_ident(&db)
                ),
                [&schema, &name],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0)
                > 0
        };
        let fail = |m: ServerMessage| BatchResult {
            error: Some(m),
            ..Default::default()
        };
        match ddl.action {
            modules::Action::Create if exists => {
                return fail(errors::error(
                    2714,
                    16,
                    1,
                    format!("There is already an object named '{name}' in the database."),
                ));
            }
            modules::Action::Drop if !exists => {
                if sql.to_ascii_uppercase().contains(" IF EXISTS ") {
                    return BatchResult {
                        outcomes: vec![Outcome::Done],
                        ..Default::default()
                    };
                }
                return fail(errors::error(
                    3701,
                    11,
                    1,
                    format!(
                        "Cannot drop the {} '{written}', because it does not exist or you do not have permission.",
                        ddl.type_desc.to_ascii_lowercase().replace('_', " ")
                    ),
                ));
            }
            _ => {}
        }
        if ddl.is_view() {
            // The SQLite view: dropped and recreated, so ALTER works too.
            let conn = self.conn.lock().unwrap();
            let _ = conn.execute_batch(&format!(
                "DROP VIEW IF EXISTS {}.{}",
                sqlite_ident(&db),
                sqlite_ident(&format!("{schema}.{name}"))
            ));
            drop(conn);
            if ddl.action != modules::Action::Drop {
                let create = if ddl.action == modules::Action::Alter {
                    replace_leading_alter(sql)
                } else {
                    sql.to_string()
                };
                let r = self.execute_statements(session, &create, params);
                if r.error.is_some() {
                    return r;
                }
            }
        }
        let conn = self.conn.lock().unwrap();
        let recorded = catalog::drop_object(&conn, &db, &schema, &name).and_then(|_| {
            if ddl.action == modules::Action::Drop {
                return Ok(());
            }
            catalog::add_object(
                &conn,
                &db,
                &schema,
                &name,
                (ddl.type_code, ddl.type_desc),
                Some(sql.trim()),
            )
            .map(|_| ())
        });
        match recorded {
            Ok(()) => BatchResult {
                outcomes: vec![Outcome::Done],
                ..Default::default()
            },
            Err(e) => fail(errors::from_sqlite(&e, 1, &[])),
        }
    }

    /// Whether the session's login holds VIEW SERVER STATE (sysadmin implies it).
    fn may_view_server_state(&self, session: &Session) -> bool {
        self.instance
            .logins
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(&session.login))
            .is_some_and(|l| l.sysadmin || l.view_server_state)
    }

    /// `DBCC TRACESTATUS`: the instance's global trace flags.
    fn trace_status(&self) -> Outcome {
        let col = |name: &str| ColumnMeta {
            name: name.into(),
            ty: ColumnType::SmallInt,
            nullable: false,
        };
        Outcome::Rows {
            columns: vec![
                col("TraceFlag"),
                col("Status"),
                col("Global"),
                col("Session"),
            ],
            rows: self
                .instance
                .trace_flags
                .iter()
                .map(|f| {
                    vec![
                        Value::Integer(*f as i64),
                        Value::Integer(1),
                        Value::Integer(1),
                        Value::Integer(0),
                    ]
                })
                .collect(),
        }
    }

    /// Keeps the catalog in step with CREATE TABLE and DROP TABLE that just succeeded.
    fn record_ddl(&self, session: &Session, stmt: &Statement) -> rusqlite::Result<()> {
        let rw = rewrite::Rewriter::new(session, &self.instance);
        let conn = self.conn.lock().unwrap();
        match stmt {
            Statement::CreateTable(ct) => {
                let (db, schema, table): (String, String, String) =
                    rw.resolve(&rewrite::ident_parts(&ct.name));
                // Temporary tables and table variables have no catalog of their own here.
                if db == "temp" {
                    return Ok(());
                }
                let upper =
                    |o: &sqlparser::ast::ColumnOptionDef| o.option.to_string().to_ascii_uppercase();
                let mut pk: Option<String> = None;
                let mut key_columns: Vec<i64> = Vec::new();
                let columns: Vec<catalog::ColumnRecord> = ct
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let is_pk = c
                            .options
                            .iter()
                            .any(|o| upper(o).starts_with("PRIMARY KEY"));
                        if is_pk {
                            key_columns = vec![i as i64 + 1];
                            pk = Some(
                                c.options
                                    .iter()
                                    .find_map(|o| o.name.as_ref().map(|n| n.value.clone()))
                                    .unwrap_or_else(|| format!("PK__{table}")),
                            );
                        }
                        let alias = session.alias_columns.iter().find(|a| {
                            a.table.eq_ignore_ascii_case(&table)
                                && a.column.eq_ignore_ascii_case(&c.name.value)
                        });
                        catalog::ColumnRecord {
                            user_type_id: alias.map(|a| a.user_type_id),
                            name: c.name.value.clone(),
                            ty: ColumnType::parse(&c.data_type.to_string())
                                .unwrap_or(ColumnType::NVarChar(None)),
                            nullable: !is_pk && !c.options.iter().any(|o| upper(o) == "NOT NULL"),
                            identity: c.options.iter().any(|o| upper(o).starts_with("IDENTITY")),
                            collation: c.options.iter().find_map(|o| match &o.option {
                                sqlparser::ast::ColumnOption::Collation(n) => {
                                    Some(n.to_string().trim_matches(['[', ']', '"']).to_string())
                                }
                                _ => None,
                            }),
                        }
                    })
                    .collect();
                for constraint in &ct.constraints {
                    let text = constraint.to_string();
                    if let Some(at) = text.to_ascii_uppercase().find("PRIMARY KEY") {
                        // `PRIMARY KEY [CLUSTERED] (a, b DESC)`: the key's columns in order.
                        let listed = text[at..]
                            .split_once('(')
                            .and_then(|(_, r)| r.split_once(')'))
                            .map(|(l, _)| l)
                            .unwrap_or_default();
                        key_columns = listed
                            .split(',')
                            .filter_map(|part| {
                                let name = part.split_whitespace().next()?;
                                let name = name.trim_matches(['[', ']', '"']);
                                ct.columns
                                    .iter()
                                    .position(|c| c.name.value.eq_ignore_ascii_case(name))
                                    .map(|p| p as i64 + 1)
                            })
                            .collect();
                        pk = Some(
                            text.strip_prefix("CONSTRAINT ")
                                .and_then(|r| r.split_whitespace().next())
                                .map(|n| n.trim_matches(['[', ']', '"']).to_string())
                                .unwrap_or_else(|| format!("PK__{table}")),
                        );
                    }
                }
                let id =
                    catalog::add_object(&conn, &db, &schema, &table, ("U", "USER_TABLE"), None)?;
                let primary_key = pk.as_deref().map(|name| (name, key_columns.as_slice()));
                catalog::add_table_details(&conn, &db, id, &columns, primary_key)
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                for n in names {
                    let (db, schema, table) = rw.resolve(&rewrite::ident_parts(n));
                    if db != "temp" {
                        catalog::drop_object(&conn, &db, &schema, &table)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The declared row count of the one table a query counts whole, if it has one.
    fn declared_count(&self, session: &Session, stmt: &Statement) -> Option<i64> {
        let rw = rewrite::Rewriter::new(session, &self.instance);
        let (db, schema, table) = declared_rows::whole_table(stmt, &rw)?;
        let conn = self.conn.lock().unwrap();
        let id = catalog::table_id(&conn, &db, &schema, &table).ok()??;
        declared_rows::of(&conn, &sqlite_ident(&db), id).ok()?
    }

    /// The query's result columns as SQL Server types and names them. Column references inside
    /// expressions are typed by what SQLite declares for them, read by preparing (not running) the
    /// same query with those references as its columns.
    fn result_columns(
        &self,
        session: &Session,
        stmt: &Statement,
        params: &[Param],
    ) -> Vec<result_types::ResultColumn> {
        let projection = result_types::projection(stmt);
        // Column references: those inside expressions are typed by a probe; a bare column has
        // SQLite's declared type anyway, so it needs none.
        let (mut inside, mut bare) = (Vec::new(), Vec::new());
        for p in &projection {
            if result_types::is_column_ref(p.expr) {
                bare.push(p.expr);
            } else {
                result_types::column_refs(p.expr, &mut inside);
            }
        }
        let declared = self.declared_types(session, stmt, &inside, params);
        // What SQLite does not declare is a derived table's or CTE's column, typed by its own
        // query: each such query typed once.
        let mut derived: Vec<(
            *const sqlparser::ast::Query,
            Vec<result_types::ResultColumn>,
        )> = Vec::new();
        let mut resolve = |e: &Expr, declared: Option<ColumnType>| {
            declared.or_else(|| {
                let (query, i) = result_types::derived_source(stmt, e)?;
                let at = match derived.iter().position(|(q, _)| std::ptr::eq(*q, query)) {
                    Some(at) => at,
                    None => {
                        let inner = Statement::Query(Box::new(query.clone()));
                        derived.push((query, self.result_columns(session, &inner, params)));
                        derived.len() - 1
                    }
                };
                derived[at].1.get(i)?.ty.clone()
            })
        };
        let mut types: Vec<(&Expr, Option<ColumnType>)> = Vec::new();
        for (i, e) in inside.iter().enumerate() {
            types.push((e, resolve(e, declared.get(i).cloned().flatten())));
        }
        for e in &bare {
            types.push((e, resolve(e, None)));
        }
        let column = |e: &Expr| {
            types
                .iter()
                .find(|(r, _)| std::ptr::eq(*r, e))
                .and_then(|(_, t)| t.clone())
        };
        let scope = result_types::Scope {
            params,
            column: &column,
        };
        projection
            .iter()
            .map(|p| {
                let mut int_ops = Vec::new();
                result_types::int_arithmetic(p.expr, &scope, &mut int_ops);
                result_types::ResultColumn {
                    ty: result_types::expr_type(p.expr, &scope),
                    unnamed: p.name.is_none(),
                    int_ops,
                }
            })
            .collect()
    }

    /// The declared types of `refs`, columns of `stmt`'s first SELECT, as that SELECT's FROM
    /// resolves them; empty when there are none or SQLite cannot prepare the probe.
    fn declared_types(
        &self,
        session: &Session,
        stmt: &Statement,
        refs: &[&Expr],
        params: &[Param],
    ) -> Vec<Option<ColumnType>> {
        let (Statement::Query(query), Some(select)) = (stmt, result_types::first_select(stmt))
        else {
            return vec![];
        };
        if refs.is_empty() {
            return vec![];
        }
        let mut select = select.clone();
        select.projection = refs
            .iter()
            .map(|e| SelectItem::UnnamedExpr((*e).clone()))
            .collect();
        let mut probe = query.clone();
        probe.body = Box::new(SetExpr::Select(Box::new(select)));
        probe.order_by = None;
        probe.limit_clause = None;
        probe.fetch = None;
        let mut probe = Statement::Query(probe);
        let mut rw = rewrite::Rewriter::new(session, &self.instance).with_params(params);
        let _ = probe.visit(&mut rw);
        let conn = self.conn.lock().unwrap();
        let Ok(prepared) = conn.prepare(&probe.to_string()) else {
            return vec![];
        };
        prepared
            .columns()
            .iter()
            .map(|c| c.decl_type().and_then(ColumnType::parse))
            .collect()
    }

    fn run_sqlite(
        &self,
        c: &Compiled,
        params: &[Param],
        cancel: &Arc<AtomicBool>,
    ) -> Result<Vec<Outcome>, ServerMessage> {
        let conn = self.conn.lock().unwrap();
        // Cancels only this statement: the connection is shared by every session.
        let flag = cancel.clone();
        conn.progress_handler(10_000, Some(move || flag.load(Ordering::Relaxed)));
        let result = self.run_locked(&conn, c, params);
        conn.progress_handler(0, None::<fn() -> bool>);
        result
    }

    fn run_locked(
        &self,
        conn: &rusqlite::Connection,
        c: &Compiled,
        params: &[Param],
    ) -> Result<Vec<Outcome>, ServerMessage> {
        let Compiled {
            text,
            cur_cmd,
            line,
            names,
            projected,
        } = *c;
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, line, names);
        let mut stmt = conn.prepare(text).map_err(sq)?;
        for i in 1..=stmt.parameter_count() {
            let Some(pname) = stmt.parameter_name(i).map(str::to_string) else {
                continue;
            };
            let value = params
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&pname))
                .map(|p| &p.value)
                .ok_or_else(|| {
                    errors::error(
                        137,
                        15,
                        line,
                        format!("Must declare the scalar variable \"{pname}\"."),
                    )
                })?;
            let bound = match value {
                Value::Null => stmt.raw_bind_parameter(i, rusqlite::types::Null),
                Value::Integer(v) => stmt.raw_bind_parameter(i, v),
                Value::Real(v) => stmt.raw_bind_parameter(i, v),
                Value::Text(v) => stmt.raw_bind_parameter(i, v),
                Value::Blob(v) => stmt.raw_bind_parameter(i, v),
            };
            bound.map_err(sq)?;
        }
        if stmt.column_count() == 0 {
            let n = stmt.raw_execute().map_err(sq)?;
            return Ok(vec![if cur_cmd == cmd::OTHER {
                Outcome::Done
            } else {
                Outcome::Count {
                    cmd: cur_cmd,
                    rows: n as u64,
                }
            }]);
        }
        let declared: Vec<(String, Option<ColumnType>)> = stmt
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let declared = c.decl_type().and_then(ColumnType::parse);
                let shape = projected.get(i);
                let name = match shape {
                    Some(s) if s.unnamed => String::new(),
                    _ => c.name().to_string(),
                };
                (name, declared.or_else(|| shape.and_then(|s| s.ty.clone())))
            })
            .collect();
        let width = declared.len();
        let mut rows = Vec::new();
        let mut q = stmt.raw_query();
        while let Some(row) = q.next().map_err(sq)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(match row.get_ref(i).map_err(sq)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Integer(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            rows.push(values);
        }
        let columns = declared
            .into_iter()
            .enumerate()
            .map(|(i, (name, ty))| ColumnMeta {
                name,
                ty: ty.unwrap_or_else(|| infer_type(rows.iter().map(|r| &r[i]))),
                nullable: true,
            })
            .collect();
        Ok(vec![Outcome::Rows { columns, rows }])
    }
}

/// `CREATE` for the leading `ALTER` or `CREATE OR ALTER` of a module batch.
fn replace_leading_alter(sql: &str) -> String {
    let upper = sql.to_ascii_uppercase();
    for header in ["CREATE OR ALTER", "ALTER"] {
        if let Some(i) = upper.find(header) {
            return format!("{}CREATE{}", &sql[..i], &sql[i + header.len()..]);
        }
    }
    sql.to_string()
}

/// A statement rewritten for SQLite, with what its results and errors need.
#[derive(Clone, Copy)]
struct Compiled<'a> {
    /// The SQLite text.
    text: &'a str,
    /// DONE's CURCMD for it.
    cur_cmd: u16,
    /// Its line in the batch.
    line: i32,
    /// (SQLite name, name as written), for error messages.
    names: &'a [(String, String)],
    /// Result columns as SQL Server types and names them (empty when a wildcard hides them).
    projected: &'a [result_types::ResultColumn],
}

/// `hh:mm[:ss[.mmm]]` of WAITFOR DELAY.
fn parse_delay(s: &str) -> Option<Duration> {
    let ticks = crate::tds::types::time_ticks(s, 3)?;
    Some(Duration::from_millis(ticks))
}

/// The type SQL Server would give an expression column, judged from its values.
fn infer_type<'a>(values: impl Iterator<Item = &'a Value>) -> ColumnType {
    let mut ty: Option<ColumnType> = None;
    for v in values {
        let this = match v {
            Value::Null => continue,
            Value::Integer(i) if i32::try_from(*i).is_ok() => ColumnType::Int,
            Value::Integer(_) => ColumnType::BigInt,
            Value::Real(_) => ColumnType::Float,
            Value::Text(s) if s.chars().count() <= 4000 => ColumnType::NVarChar(Some(4000)),
            Value::Text(_) => ColumnType::NVarChar(None),
            Value::Blob(b) if b.len() <= 8000 => ColumnType::VarBinary(Some(8000)),
            Value::Blob(_) => ColumnType::VarBinary(None),
        };
        ty = Some(match (ty, this) {
            (None, t) => t,
            (Some(ColumnType::Int), ColumnType::BigInt) => ColumnType::BigInt,
            // A sum of decimals stored as text: whole in some groups, fractional in others.
            (Some(ColumnType::Int | ColumnType::BigInt), ColumnType::Float)
            | (Some(ColumnType::Float), ColumnType::Int | ColumnType::BigInt) => ColumnType::Float,
            (Some(ColumnType::NVarChar(Some(_))), ColumnType::NVarChar(None)) => {
                ColumnType::NVarChar(None)
            }
            (Some(ColumnType::VarBinary(Some(_))), ColumnType::VarBinary(None)) => {
                ColumnType::VarBinary(None)
            }
            (Some(t), _) => t,
        });
    }
    // SQL Server types a bare NULL as int.
    ty.unwrap_or(ColumnType::Int)
}

/// A sqlparser error as SQL Server's 102, with the line it names.
fn parse_error(msg: &str) -> ServerMessage {
    let line = msg
        .split("Line: ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1);
    let near = msg
        .split("found: ")
        .nth(1)
        .map(|r| r.split(" at Line").next().unwrap_or(r).trim().to_string())
        .unwrap_or_else(|| "?".into());
    errors::syntax(line, &near)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> (Engine, Session) {
        (
            Engine::new(Instance::default_with_sa("pw")).unwrap(),
            Session::new("sa", "master"),
        )
    }

    #[test]
    fn tables_live_in_their_database_and_schema() {
        let (e, mut s) = engine();
        let r = e.execute(
            &mut s,
            "USE Sales; CREATE TABLE dbo.T (id INT NOT NULL PRIMARY KEY, name NVARCHAR(20)); \
             INSERT INTO T (id, name) VALUES (1, N'a'), (2, N'b'); \
             SELECT TOP 1 id, name FROM Sales.dbo.T ORDER BY id DESC",
            &[],
        );
        assert_eq!(r.error, None);
        assert_eq!(s.database, "Sales");
        let rows = r.outcomes.iter().find_map(|o| match o {
            Outcome::Rows { columns, rows } => Some((columns, rows)),
            _ => None,
        });
        let (cols, rows) = rows.unwrap();
        assert_eq!(cols[0].ty, ColumnType::Int);
        assert_eq!(cols[1].ty, ColumnType::NVarChar(Some(20)));
        assert_eq!(
            rows,
            &vec![vec![Value::Integer(2), Value::Text("b".into())]]
        );
        assert!(r.outcomes.contains(&Outcome::Count {
            cmd: cmd::INSERT,
            rows: 2
        }));
    }

    #[test]
    fn missing_tables_are_error_208_with_the_written_name_and_line() {
        let (e, mut s) = engine();
        let r = e.execute(&mut s, "SELECT 1;\nSELECT * FROM dbo.Missing", &[]);
        let err = r.error.unwrap();
        assert_eq!((err.number, err.class, err.line), (208, 16, 2));
        assert_eq!(err.text, "Invalid object name 'dbo.Missing'.");
    }

    #[test]
    fn parameters_bind_by_name() {
        let (e, mut s) = engine();
        let r = e.execute(
            &mut s,
            "SELECT @P1 + 1 AS n, @P2 AS s",
            &[
                Param::new("@P1", Value::Integer(41)),
                Param::new("@p2", Value::Text("x".into())),
            ],
        );
        match &r.outcomes[0] {
            Outcome::Rows { rows, .. } => {
                assert_eq!(rows[0], vec![Value::Integer(42), Value::Text("x".into())])
            }
            other => panic!("{other:?}"),
        }
        let r = e.execute(&mut s, "SELECT @nope", &[]);
        assert_eq!(r.error.unwrap().number, 137);
    }

    #[test]
    fn globals_and_serverproperty_come_from_the_instance() {
        let (e, mut s) = engine();
        let r = e.execute(
            &mut s,
            "SELECT @@SERVERNAME, SERVERPROPERTY('EngineEdition'), DB_NAME(), ISNULL(NULL, 3)",
            &[],
        );
        match &r.outcomes[0] {
            Outcome::Rows { rows, .. } => assert_eq!(
                rows[0],
                vec![
                    Value::Text("SQLSIM".into()),
                    Value::Integer(3),
                    Value::Text("master".into()),
                    Value::Integer(3)
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn casts_type_their_columns_and_keep_values_exact() {
        let (e, mut s) = engine();
        let r = e.execute(
            &mut s,
            "WITH n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 3) \
             SELECT CAST('2024-02-29' AS date) AS d, CONVERT(decimal(10,2), '1.005') AS m, \
                    CAST(i AS bigint) AS b FROM n",
            &[],
        );
        assert_eq!(r.error, None);
        match &r.outcomes[0] {
            Outcome::Rows { columns, rows } => {
                assert_eq!(columns[0].ty, ColumnType::Date);
                assert_eq!(
                    columns[1].ty,
                    ColumnType::Decimal {
                        precision: 10,
                        scale: 2
                    }
                );
                assert_eq!(columns[2].ty, ColumnType::BigInt);
                assert_eq!(rows.len(), 3);
                assert_eq!(rows[0][0], Value::Text("2024-02-29".into()));
                assert_eq!(rows[2][2], Value::Integer(3));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_compares_as_its_collation_says() {
        let (e, mut s) = engine();
        let r = e.execute(
            &mut s,
            "CREATE TABLE dbo.C (ci NVARCHAR(10), cs NVARCHAR(10) COLLATE Latin1_General_CS_AS);
             INSERT INTO dbo.C VALUES (N'Sales', N'Sales');
             SELECT (SELECT COUNT(*) FROM dbo.C WHERE ci = N'SALES'),
                    (SELECT COUNT(*) FROM dbo.C WHERE cs = N'SALES')",
            &[],
        );
        assert_eq!(r.error, None);
        match r.outcomes.last().unwrap() {
            Outcome::Rows { rows, .. } => {
                assert_eq!(rows[0], vec![Value::Integer(1), Value::Integer(0)])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_columns_are_207_and_later_versions_columns_are_missing_on_older_ones() {
        let (e, mut s) = engine();
        let err = e
            .execute(&mut s, "SELECT d.nope FROM sys.databases AS d", &[])
            .error
            .unwrap();
        assert_eq!((err.number, err.class), (207, 16));
        assert_eq!(err.text, "Invalid column name 'nope'.");
        let mut old = Instance::default_with_sa("pw");
        old.version = (10, 50, 6000);
        let e = Engine::new(old).unwrap();
        let err = e
            .execute(
                &mut s,
                "SELECT physical_memory_kb FROM sys.dm_os_sys_info",
                &[],
            )
            .error
            .unwrap();
        assert_eq!(err.text, "Invalid column name 'physical_memory_kb'.");
        let ok = e.execute(
            &mut s,
            "SELECT physical_memory_in_bytes FROM sys.dm_os_sys_info",
            &[],
        );
        assert_eq!(ok.error, None);
    }

    #[test]
    fn syntax_errors_are_102() {
        let (e, mut s) = engine();
        let err = e.execute(&mut s, "SELEC 1", &[]).error.unwrap();
        assert_eq!((err.number, err.class), (102, 15));
    }
}
