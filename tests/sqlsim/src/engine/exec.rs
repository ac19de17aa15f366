//! EXEC inside a batch: dynamic SQL (`EXEC ('…')`, `EXEC (@sql)`), `INSERT … EXEC` and `DBCC`
//! (rewritten by `batch_text` into calls sqlsim recognises), and the system procedures health
//! checks read: `xp_enumerrorlogs`, `xp_readerrorlog`/`sp_readerrorlog`, `DBCC TRACESTATUS`,
//! `DBCC LOGINFO` and `DBCC DBINFO … WITH TABLERESULTS`. Table variables (`DECLARE @t TABLE`)
//! live in SQLite's temp schema under a per-session name until the batch ends.

use sqlparser::ast::{BinaryOperator, Expr, Statement};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;

use super::batch_text::{DBCC, INSERT_EXEC};
use super::{Engine, Outcome, Param, Session, errors, parse_error};
use crate::tds::tokens::{ColumnMeta, ServerMessage};
use crate::tds::types::{ColumnType, Value};

/// Rows inserted per INSERT statement by `INSERT … EXEC`.
const INSERT_CHUNK: usize = 200;

impl Engine {
    /// Runs an EXEC statement; `None` when it is not one sqlsim runs itself (the caller goes on
    /// as before).
    pub(super) fn exec(
        &self,
        session: &mut Session,
        stmt: &Statement,
        line: i32,
        vars: &[Param],
    ) -> Option<Result<Vec<Outcome>, ServerMessage>> {
        let Statement::Execute {
            name, parameters, ..
        } = stmt
        else {
            return None;
        };
        let Some(name) = name else {
            // EXEC ('…') / EXEC (@sql): a batch of its own, run in this session.
            return Some(self.dynamic(session, parameters, line, vars));
        };
        let proc = name
            .0
            .last()
            .map(|p| p.to_string().trim_matches(['[', ']']).to_ascii_lowercase())
            .unwrap_or_default();
        Some(match proc.as_str() {
            INSERT_EXEC => self.insert_exec(session, parameters, line, vars),
            DBCC => match self.arguments(session, parameters, line, vars) {
                Ok(a) => self.dbcc(session, &text(a.first()), line, vars),
                Err(e) => Err(e),
            },
            "sp_executesql" => self.executesql(session, parameters, line, vars),
            "xp_enumerrorlogs" | "sp_enumerrorlogs" => Ok(vec![self.error_logs()]),
            "xp_readerrorlog" | "sp_readerrorlog" => self
                .arguments(session, parameters, line, vars)
                .map(|a| vec![self.read_error_log(&a)]),
            _ => return self.rds_procedure(&proc, session, parameters, line, vars),
        })
    }

    /// The values of a procedure call's arguments.
    fn arguments(
        &self,
        session: &mut Session,
        parameters: &[Expr],
        line: i32,
        vars: &[Param],
    ) -> Result<Vec<Value>, ServerMessage> {
        parameters
            .iter()
            .map(|e| self.evaluate(session, e, None, line, vars))
            .collect()
    }

    fn dynamic(
        &self,
        session: &mut Session,
        parameters: &[Expr],
        line: i32,
        vars: &[Param],
    ) -> Result<Vec<Outcome>, ServerMessage> {
        let mut sql = String::new();
        for p in parameters {
            sql.push_str(&text(Some(&self.evaluate(session, p, None, line, vars)?)));
        }
        self.execute_batch(session, &sql, &[]).into_result()
    }

    /// `EXEC sp_executesql N'stmt' [, N'@a int, …' [, value | @a = value …]]` inside a batch, as
    /// the RPC form runs it (sp-executesql-transact-sql.md): the statement runs with the declared
    /// parameters, values given by position or by name, and a USE inside it ends with the call.
    fn executesql(
        &self,
        session: &mut Session,
        parameters: &[Expr],
        line: i32,
        vars: &[Param],
    ) -> Result<Vec<Outcome>, ServerMessage> {
        // `@stmt = N'…'` names what is otherwise given by position.
        let (named, positional): (Vec<_>, Vec<_>) = parameters.iter().partition(|e| {
            matches!(e, Expr::BinaryOp { left, op: BinaryOperator::Eq, .. }
                if matches!(&**left, Expr::Identifier(id) if id.value.starts_with('@')))
        });
        let value_of =
            |session: &mut Session, e: &Expr| self.evaluate(session, e, None, line, vars);
        let mut by_name = Vec::new();
        for e in &named {
            if let Expr::BinaryOp { left, right, .. } = e
                && let Expr::Identifier(id) = &**left
            {
                by_name.push((id.value.clone(), value_of(session, right)?));
            }
        }
        let mut positional = positional.into_iter();
        let mut system =
            |name: &str, session: &mut Session| -> Result<Option<String>, ServerMessage> {
                if let Some((_, v)) = by_name.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    return Ok(Some(text_of(v)));
                }
                match positional.next() {
                    Some(e) => Ok(Some(text_of(&value_of(session, e)?))),
                    None => Ok(None),
                }
            };
        let Some(sql) = system("@stmt", session)? else {
            return Err(errors::error(
                201,
                16,
                line,
                "Procedure or function 'sp_executesql' expects parameter '@statement', which was not supplied.",
            ));
        };
        let declarations = system("@params", session)?.unwrap_or_default();
        let mut params = Vec::new();
        for (name, ty) in parameter_declarations(&declarations) {
            let value = match by_name.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                Some((_, v)) => v.clone(),
                None => match positional.next() {
                    Some(e) => value_of(session, e)?,
                    None => {
                        return Err(errors::error(
                            8178,
                            16,
                            line,
                            format!(
                                "The parameterized query '({declarations})' expects the parameter '{name}', which was not supplied."
                            ),
                        ));
                    }
                },
            };
            params.push(Param {
                name,
                ty: ColumnType::parse(&ty),
                value,
            });
        }
        let before = session.database.clone();
        let mut result = self.execute_batch(session, &sql, &params);
        session.end_sp_executesql(before, &mut result.outcomes);
        result.into_result()
    }

    /// `INSERT target EXEC …`: the procedure's rows go into the target.
    fn insert_exec(
        &self,
        session: &mut Session,
        parameters: &[Expr],
        line: i32,
        vars: &[Param],
    ) -> Result<Vec<Outcome>, ServerMessage> {
        let texts: Vec<String> = self
            .arguments(session, parameters, line, vars)?
            .iter()
            .map(|v| text(Some(v)))
            .collect();
        let [target, exec] = texts.as_slice() else {
            return Err(parse_error("INSERT … EXEC needs a target and a procedure"));
        };
        let mut stmts =
            Parser::parse_sql(&MsSqlDialect {}, exec).map_err(|e| parse_error(&e.to_string()))?;
        let Some(stmt) = stmts.first_mut() else {
            return Err(parse_error("INSERT … EXEC without a procedure"));
        };
        let outcomes = match self.exec(session, stmt, line, vars) {
            Some(r) => r?,
            None => self.statement(session, stmt, line, vars)?,
        };
        let rows: Vec<Vec<Value>> = outcomes
            .into_iter()
            .filter_map(|o| match o {
                Outcome::Rows { rows, .. } => Some(rows),
                _ => None,
            })
            .flatten()
            .collect();
        let mut inserted = 0u64;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut params = vars.to_vec();
            let mut tuples = Vec::new();
            for (r, row) in chunk.iter().enumerate() {
                let mut names = Vec::new();
                for (c, value) in row.iter().enumerate() {
                    let name = format!("@__sqlsim_r{r}c{c}");
                    names.push(name.clone());
                    params.push(Param {
                        name,
                        ty: None,
                        value: value.clone(),
                    });
                }
                tuples.push(format!("({})", names.join(", ")));
            }
            let sql = format!("INSERT INTO {target} VALUES {}", tuples.join(", "));
            let mut insert = Parser::parse_sql(&MsSqlDialect {}, &sql)
                .map_err(|e| parse_error(&e.to_string()))?;
            self.statement(session, &mut insert[0], line, &params)?;
            inserted += chunk.len() as u64;
        }
        Ok(vec![Outcome::Count {
            cmd: crate::tds::tokens::cmd::INSERT,
            rows: inserted,
        }])
    }

    /// `DBCC TRACESTATUS`, `DBCC LOGINFO [(db)]`, `DBCC DBINFO [(db)] WITH TABLERESULTS`; any
    /// other DBCC is error 2526, as SQL Server answers an unknown one.
    fn dbcc(
        &self,
        session: &mut Session,
        text: &str,
        line: i32,
        vars: &[Param],
    ) -> Result<Vec<Outcome>, ServerMessage> {
        let rest = text.trim()[4..].trim_start();
        let command: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_ascii_uppercase();
        // The database argument: a name, a quoted name or a variable.
        let argument = rest[command.len()..]
            .trim_start()
            .strip_prefix('(')
            .and_then(|a| a.split_once(')'))
            .map(|(a, _)| a.trim().to_string())
            .filter(|a| !a.is_empty());
        let database = match argument {
            None => session.database.clone(),
            Some(a) if a.starts_with('@') => vars
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&a))
                .map(|p| text_of(&p.value))
                .ok_or_else(|| {
                    errors::error(
                        137,
                        15,
                        line,
                        format!("Must declare the scalar variable \"{a}\"."),
                    )
                })?,
            // 'name', N'name', [name] or a bare name.
            Some(a) => {
                let a = a
                    .strip_prefix('N')
                    .filter(|r| r.starts_with('\''))
                    .unwrap_or(&a);
                a.trim_matches(['\'', '[', ']', '"']).to_string()
            }
        };
        match command.as_str() {
            "TRACESTATUS" => Ok(vec![self.trace_status()]),
            "LOGINFO" | "DBINFO" => {
                let Some(db) = self.database(&database) else {
                    return Err(errors::no_database(line, &database));
                };
                Ok(vec![if command == "LOGINFO" {
                    self.log_info(&db)
                } else {
                    self.db_info(&db)
                }])
            }
            _ => Err(errors::error(
                2526,
                16,
                line,
                format!(
                    "Incorrect DBCC statement. Check the documentation for the correct DBCC syntax and options. ({command})"
                ),
            )),
        }
    }

    /// The virtual log files of `db`'s log: four per log file, as a new log has.
    fn log_info(&self, db: &str) -> Outcome {
        let conn = self.conn.lock().unwrap();
        let files: Vec<(i64, i64)> = conn
            .prepare(&format!(
                "SELECT file_id, size FROM {}.\"sys.database_files\" WHERE type = 1",
                super::sqlite_ident(db)
            ))
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        let mut rows = Vec::new();
        let mut seq = 30;
        for (file_id, pages) in files {
            let bytes = pages * 8192;
            let vlf = (bytes - 8192) / 4;
            for k in 0..4 {
                seq += 1;
                rows.push(vec![
                    Value::Integer(0),
                    Value::Integer(file_id),
                    Value::Integer(vlf),
                    Value::Integer(8192 + k * vlf),
                    Value::Integer(if k == 0 { seq } else { 0 }),
                    Value::Integer(if k == 0 { 2 } else { 0 }),
                    Value::Integer(if k == 0 { 64 } else { 0 }),
                    Value::Text("0".into()),
                ]);
            }
        }
        Outcome::Rows {
            columns: vec![
                column("RecoveryUnitId", ColumnType::Int),
                column("FileId", ColumnType::Int),
                column("FileSize", ColumnType::BigInt),
                column("StartOffset", ColumnType::BigInt),
                column("FSeqNo", ColumnType::Int),
                column("Status", ColumnType::Int),
                column("Parity", ColumnType::TinyInt),
                column("CreateLSN", ColumnType::NVarChar(Some(48))),
            ],
            rows,
        }
    }

    /// `DBCC DBINFO … WITH TABLERESULTS`: the boot page fields health checks read. CHECKDB has
    /// never run on a simulated database; the catalog was never updated directly.
    fn db_info(&self, db: &str) -> Outcome {
        let create_version = match self.instance.version.0 {
            10 => 661,
            11 => 706,
            12 => 782,
            13 => 852,
            14 => 869,
            15 => 904,
            _ => 957,
        };
        let fields = [
            ("dbi_dbname", db.to_string()),
            ("dbi_createVersion", create_version.to_string()),
            ("dbi_version", create_version.to_string()),
            ("dbi_dbccFlags", "2".into()),
            ("dbi_dbccLastKnownGood", "1900-01-01 00:00:00.000".into()),
            ("dbi_updSysCatalog", "1900-01-01 00:00:00.000".into()),
        ];
        Outcome::Rows {
            columns: ["ParentObject", "Object", "Field", "VALUE"]
                .map(|c| column(c, ColumnType::NVarChar(Some(255))))
                .to_vec(),
            rows: fields
                .into_iter()
                .map(|(f, v)| {
                    vec![
                        Value::Text("DBINFO STRUCTURE:".into()),
                        Value::Text("DBINFO @0x0000".into()),
                        Value::Text(f.into()),
                        Value::Text(v),
                    ]
                })
                .collect(),
        }
    }

    /// `xp_enumerrorlogs`: the current error log and six archives, a day apart.
    fn error_logs(&self) -> Outcome {
        let now = super::scalar::now();
        Outcome::Rows {
            columns: vec![
                column("Archive #", ColumnType::Int),
                column("Date", ColumnType::DateTime),
                column("Log File Size (Byte)", ColumnType::Int),
            ],
            rows: (0..7)
                .map(|k| {
                    let date = now - chrono::TimeDelta::days(k);
                    vec![
                        Value::Integer(k),
                        Value::Text(date.format("%Y-%m-%d %H:%M:%S%.3f").to_string()),
                        Value::Integer(24_576 + k * 4_096),
                    ]
                })
                .collect(),
        }
    }

    /// `xp_readerrorlog log, type, search1, search2`: the lines of error log `log` (SQL Server's,
    /// type 1) holding both search strings (case-insensitively). The current log (0) starts with
    /// the startup messages and holds the description's `error_log` lines; archives hold the
    /// startup messages only.
    fn read_error_log(&self, args: &[Value]) -> Outcome {
        let number = match args.first() {
            Some(Value::Integer(n)) => *n,
            Some(Value::Text(t)) => t.trim().parse().unwrap_or(0),
            _ => 0,
        };
        let searches: Vec<String> = args
            .iter()
            .skip(2)
            .take(2)
            .filter_map(|v| match v {
                Value::Text(t) if !t.is_empty() => Some(t.to_lowercase()),
                _ => None,
            })
            .collect();
        let day = super::scalar::now() - chrono::TimeDelta::days(number);
        let stamp = |secs: i64| {
            (day - chrono::TimeDelta::hours(1) + chrono::TimeDelta::seconds(secs))
                .format("%Y-%m-%d %H:%M:%S%.3f")
                .to_string()
        };
        let mut lines: Vec<(String, String)> = vec![
            (
                "Server".into(),
                self.instance
                    .version_text()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            ),
            ("Server".into(), "UTC adjustment: 0:00".into()),
            ("Server".into(), "(c) Microsoft Corporation.".into()),
            ("Server".into(), "All rights reserved.".into()),
            ("Server".into(), "Server process ID is 4242.".into()),
            ("spid8s".into(), "Starting up database 'master'.".into()),
        ];
        for db in &self.instance.databases {
            lines.push((
                "spid20s".into(),
                format!("Starting up database '{}'.", db.name),
            ));
        }
        lines.push((
            "spid8s".into(),
            "Recovery is complete. This is an informational message only. No user action is required.".into(),
        ));
        if number == 0 {
            lines.extend(
                self.instance
                    .error_log
                    .iter()
                    .map(|l| ("spid52".to_string(), l.clone())),
            );
        }
        Outcome::Rows {
            columns: vec![
                column("LogDate", ColumnType::DateTime),
                column("ProcessInfo", ColumnType::NVarChar(Some(64))),
                column("Text", ColumnType::NVarChar(Some(4000))),
            ],
            rows: lines
                .into_iter()
                .enumerate()
                .filter(|(_, (_, text))| {
                    let lower = text.to_lowercase();
                    searches.iter().all(|s| lower.contains(s))
                })
                .map(|(k, (who, text))| {
                    vec![
                        Value::Text(stamp(k as i64)),
                        Value::Text(who),
                        Value::Text(text),
                    ]
                })
                .collect(),
        }
    }

    /// Drops the table variables `session`'s batch declared.
    pub(super) fn drop_table_variables(&self, session: &Session) {
        let conn = self.conn.lock().unwrap();
        let names: Vec<String> = conn
            .prepare("SELECT name FROM temp.sqlite_master WHERE type = 'table' AND name LIKE ?1")
            .and_then(|mut s| {
                s.query_map([format!("dbo.@%#{}", session.id)], |r| r.get(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        for n in names {
            let _ = conn.execute_batch(&format!("DROP TABLE temp.{}", super::sqlite_ident(&n)));
        }
    }
}

/// The name a table variable's table has for `session` (`@t` → `@t#53`).
pub fn table_variable(name: &str, spid: u16) -> String {
    format!("{name}#{spid}")
}

/// A result column of a system procedure (never NULL).
fn column(name: &str, ty: ColumnType) -> ColumnMeta {
    ColumnMeta {
        name: name.into(),
        ty,
        nullable: false,
    }
}

/// `@a int, @b decimal(10, 2) OUTPUT` as (name, type) pairs.
fn parameter_declarations(text: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
        .into_iter()
        .filter_map(|p| {
            let p = p.trim();
            let (name, ty) = p.split_once(char::is_whitespace)?;
            let ty = ty.trim();
            let ty = ty
                .strip_suffix("OUTPUT")
                .or_else(|| ty.strip_suffix("OUT"))
                .unwrap_or(ty);
            Some((name.to_string(), ty.trim().to_string()))
        })
        .collect()
}

fn text(v: Option<&Value>) -> String {
    v.map(text_of).unwrap_or_default()
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(t) => t.clone(),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}
