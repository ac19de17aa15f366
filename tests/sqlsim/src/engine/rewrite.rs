//! T-SQL to SQLite: names become `"database"."schema.table"` (every SQL Server database is an
//! attached SQLite database), TOP becomes LIMIT, and the functions and globals SQLite lacks become
//! SQLite expressions or literals from the instance description.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, LimitClause, ObjectName, ObjectNamePart, Query, SetExpr, Statement,
    TableAlias, TableFactor, TopQuantity, Value, ValueWithSpan, VisitorMut,
};

use crate::engine::{Param, Session};
use crate::instance::Instance;
use crate::tds::types::ColumnType;

/// Rewrites one statement's AST in place.
pub struct Rewriter<'a> {
    /// The session's database (`USE`).
    pub current_db: &'a str,
    /// The session's SPID (`@@SPID`).
    pub spid: u16,
    pub instance: &'a Instance,
    /// (name SQLite will report, name the user wrote), for error messages.
    pub names: Vec<(String, String)>,
    /// Names of common table expressions in scope: they are not tables to resolve.
    pub ctes: Vec<String>,
    /// Parameters and variables declared with a character type: `+` on them concatenates.
    pub text_params: Vec<String>,
    /// `@@CPU_BUSY` now.
    pub cpu_busy_ticks: i64,
}

impl<'a> Rewriter<'a> {
    /// A rewriter for a statement run by `session`.
    pub fn new(session: &'a Session, instance: &'a Instance) -> Rewriter<'a> {
        Rewriter {
            current_db: &session.database,
            spid: session.id,
            instance,
            names: Vec::new(),
            ctes: Vec::new(),
            text_params: Vec::new(),
            cpu_busy_ticks: 0,
        }
    }

    /// The rewriter knowing the server's busy time so far (`@@CPU_BUSY`).
    pub fn with_cpu_busy(mut self, ticks: i64) -> Rewriter<'a> {
        self.cpu_busy_ticks = ticks;
        self
    }

    /// The rewriter knowing the types of the batch's parameters and variables.
    pub fn with_params(mut self, params: &[Param]) -> Rewriter<'a> {
        self.text_params = params
            .iter()
            .filter(|p| p.ty.as_ref().is_some_and(is_text_type))
            .map(|p| p.name.clone())
            .collect();
        self
    }

    /// Whether `e` is character data as T-SQL types it before evaluation, so `+` on it means
    /// concatenation. Column references are not looked up: `col + col` stays numeric.
    fn is_textual(&self, e: &Expr) -> bool {
        match e {
            Expr::Value(v) => matches!(
                v.value,
                Value::SingleQuotedString(_) | Value::NationalStringLiteral(_)
            ),
            Expr::Nested(inner) => self.is_textual(inner),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Plus,
                right,
            } => self.is_textual(left) || self.is_textual(right),
            Expr::Cast { data_type, .. }
            | Expr::Convert {
                data_type: Some(data_type),
                ..
            } => ColumnType::parse(&data_type.to_string()).is_some_and(|t| is_text_type(&t)),
            Expr::Identifier(id) if id.value.starts_with("@@") => matches!(
                id.value.to_ascii_uppercase().as_str(),
                "@@VERSION" | "@@SERVERNAME"
            ),
            Expr::Identifier(id) => self
                .text_params
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&id.value)),
            Expr::Function(f) => TEXT_FUNCTIONS
                .iter()
                .any(|n| f.name.to_string().eq_ignore_ascii_case(n)),
            _ => false,
        }
    }
}

/// Functions whose result is character data.
const TEXT_FUNCTIONS: &[&str] = &[
    "DB_NAME",
    "OBJECT_NAME",
    "SCHEMA_NAME",
    "SUSER_SNAME",
    "SUSER_NAME",
    "USER_NAME",
    "QUOTENAME",
    "UPPER",
    "LOWER",
    "LTRIM",
    "RTRIM",
    "TRIM",
    "SUBSTRING",
    "LEFT",
    "RIGHT",
    "REPLACE",
    "CONCAT",
    "FORMAT",
];

fn is_text_type(t: &ColumnType) -> bool {
    matches!(
        t,
        ColumnType::Char(_)
            | ColumnType::VarChar(_)
            | ColumnType::NChar(_)
            | ColumnType::NVarChar(_)
    )
}

/// The SQLite storage class that keeps a SQL Server type's values exactly as the engine stores
/// them (dates, decimals and GUIDs as text), so SQLite's numeric affinity never mangles them.
fn storage_type(ty: &ColumnType) -> DataType {
    match ty {
        ColumnType::Bit
        | ColumnType::TinyInt
        | ColumnType::SmallInt
        | ColumnType::Int
        | ColumnType::BigInt => DataType::Integer(None),
        ColumnType::Real | ColumnType::Float => DataType::Real,
        ColumnType::VarBinary(_) | ColumnType::Binary(_) => DataType::Blob(None),
        _ => DataType::Text,
    }
}

/// The parts of a name as written (`db.schema.table`).
pub fn ident_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn quoted(s: &str) -> Ident {
    Ident::with_quote('"', s)
}

fn string_lit(s: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(s.to_string()))
}

/// An SQLite expression the rewriter wrote itself (already in SQLite's terms).
fn subquery(sql: &str) -> Option<Expr> {
    sqlparser::parser::Parser::new(&sqlparser::dialect::SQLiteDialect {})
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

fn number_lit(n: i64) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

impl Rewriter<'_> {
    /// (database, schema, object) of a 1- to 4-part name.
    pub fn resolve(&self, parts: &[String]) -> (String, String, String) {
        if let [.., s, t] = parts
            && s.eq_ignore_ascii_case("sys")
            && crate::engine::catalog::SERVER_VIEWS
                .iter()
                .any(|v| v.eq_ignore_ascii_case(t))
        {
            return ("master".into(), "sys".into(), t.to_ascii_lowercase());
        }
        let non_empty = |s: &String, default: &str| {
            if s.is_empty() {
                default.to_string()
            } else {
                s.clone()
            }
        };
        match parts {
            [t] if t.starts_with('#') => ("temp".into(), "dbo".into(), t.clone()),
            // A table variable: a table of this session's, for the batch.
            [t] if t.starts_with('@') => (
                "temp".into(),
                "dbo".into(),
                crate::engine::exec::table_variable(t, self.spid),
            ),
            [t] => (self.current_db.into(), "dbo".into(), t.clone()),
            [s, t] => (self.current_db.into(), non_empty(s, "dbo"), t.clone()),
            [d, s, t] | [_, d, s, t] => (
                non_empty(d, self.current_db),
                non_empty(s, "dbo"),
                t.clone(),
            ),
            _ => (self.current_db.into(), "dbo".into(), parts.join(".")),
        }
    }

    /// A scalar function SQLite lacks, as an expression it has; `None` leaves it as it is.
    fn function(&self, f: &Function) -> Option<Expr> {
        let name = f.name.to_string().to_ascii_uppercase();
        let args = super::result_types::args(f);
        let literal_arg = |i: usize| match args.get(i) {
            Some(Expr::Value(v)) => match &v.value {
                Value::SingleQuotedString(s) | Value::NationalStringLiteral(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        };
        match name.as_str() {
            "DB_NAME" if args.is_empty() => Some(string_lit(self.current_db)),
            // The lookups read a derived table whose key column has a name of its own, so that an
            // argument naming the outer query's column (`DB_NAME(database_id)`) is not taken for
            // the lookup table's.
            "DB_NAME" => subquery(&format!(
                "(SELECT n FROM (SELECT name AS n, database_id AS __sqlsim_key FROM master.\"sys.databases\") \
                 WHERE __sqlsim_key = {})",
                args[0]
            )),
            "SUSER_SNAME" | "SUSER_NAME" if args.len() == 1 => subquery(&format!(
                "(SELECT n FROM (SELECT name AS n, sid AS __sqlsim_key FROM master.\"sys.server_principals\") \
                 WHERE __sqlsim_key = {})",
                args[0]
            )),
            "OBJECT_NAME" if args.len() == 1 => subquery(&format!(
                "(SELECT n FROM (SELECT name AS n, object_id AS __sqlsim_key FROM \"{}\".__sqlsim_objects) \
                 WHERE __sqlsim_key = {})",
                self.current_db.replace('"', "\"\""),
                args[0]
            )),
            "DB_ID" => {
                let name = match args.first() {
                    None => format!("'{}'", self.current_db.replace('\'', "''")),
                    Some(e) => e.to_string(),
                };
                subquery(&format!(
                    "(SELECT database_id FROM master.\"sys.databases\" WHERE name = {name} COLLATE NOCASE)"
                ))
            }
            "OBJECT_ID" => {
                let written = literal_arg(0)?;
                let parts: Vec<String> = written
                    .split('.')
                    .map(|p| p.trim_matches(['[', ']', '"']).to_string())
                    .collect();
                let (db, schema, object) = self.resolve(&parts);
                let type_filter = match literal_arg(1) {
                    Some(t) => format!(" AND type = '{}'", t.trim().replace('\'', "''")),
                    None => String::new(),
                };
                let q = |s: &str| s.replace('\'', "''");
                subquery(&format!(
                    "(SELECT object_id FROM \"{}\".__sqlsim_objects WHERE schema_name = '{}' \
                     COLLATE NOCASE AND name = '{}' COLLATE NOCASE{type_filter})",
                    db.replace('"', "\"\""),
                    q(&schema),
                    q(&object)
                ))
            }
            // OBJECTPROPERTY(id, 'IsMSShipped' | 'IsUserTable' | 'IsProcedure' | …) over the
            // current database's catalog; other properties are NULL.
            "OBJECTPROPERTY" if args.len() == 2 => {
                let prop = literal_arg(1)?.to_ascii_lowercase();
                let test = match prop.as_str() {
                    "ismsshipped" => "is_ms_shipped",
                    "isusertable" => "CASE WHEN type = 'U' THEN 1 ELSE 0 END",
                    "isprocedure" => "CASE WHEN type = 'P' THEN 1 ELSE 0 END",
                    "isview" => "CASE WHEN type = 'V' THEN 1 ELSE 0 END",
                    "istable" => "CASE WHEN type IN ('U', 'S') THEN 1 ELSE 0 END",
                    _ => return Some(Expr::value(Value::Null)),
                };
                subquery(&format!(
                    "(SELECT {test} FROM \"{}\".__sqlsim_objects WHERE object_id = {})",
                    self.current_db.replace('"', "\"\""),
                    args[0]
                ))
            }
            "SCHEMA_NAME" if args.len() == 1 => subquery(&format!(
                "(SELECT name FROM \"{}\".\"sys.schemas\" WHERE schema_id = {})",
                self.current_db.replace('"', "\"\""),
                args[0]
            )),
            "SCHEMA_NAME" => Some(string_lit("dbo")),
            "OBJECT_SCHEMA_NAME" if args.len() == 1 => subquery(&format!(
                "(SELECT schema_name FROM \"{}\".__sqlsim_objects WHERE object_id = {})",
                self.current_db.replace('"', "\"\""),
                args[0]
            )),
            // FILEPROPERTY(file, 'SpaceUsed'): half of a file's pages are used on sqlsim.
            "FILEPROPERTY" if args.len() == 2 => {
                let prop = literal_arg(1)?.to_ascii_lowercase();
                if prop != "spaceused" {
                    return Some(Expr::value(Value::Null));
                }
                subquery(&format!(
                    "(SELECT size / 2 FROM \"{}\".\"sys.database_files\" WHERE name = {} COLLATE NOCASE)",
                    self.current_db.replace('"', "\"\""),
                    args[0]
                ))
            }
            "SERVERPROPERTY" => {
                let prop = literal_arg(0)?.to_ascii_lowercase();
                let (ma, mi, b) = self.instance.version;
                Some(match prop.as_str() {
                    "engineedition" => number_lit(self.instance.engine_edition()),
                    "productversion" => string_lit(&format!("{ma}.{mi}.{b}.0")),
                    // serverproperty-transact-sql.md: from SQL Server 2012 (11.x); an
                    // unknown property is NULL.
                    "productmajorversion" | "ishadrenabled" if ma < 11 => Expr::value(Value::Null),
                    "productmajorversion" => string_lit(&ma.to_string()),
                    "edition" => string_lit(&self.instance.edition),
                    "servername" => string_lit(&self.instance.server_name),
                    "machinename" => string_lit(
                        self.instance
                            .server_name
                            .split('\\')
                            .next()
                            .unwrap_or_default(),
                    ),
                    "instancename" => match self.instance.server_name.split_once('\\') {
                        Some((_, i)) => string_lit(i),
                        None => Expr::value(Value::Null),
                    },
                    "collation" => string_lit("SQL_Latin1_General_CP1_CI_AS"),
                    "ishadrenabled" | "isclustered" | "isintegratedsecurityonly" => number_lit(0),
                    _ => Expr::value(Value::Null),
                })
            }
            _ => None,
        }
    }
}

/// Table-valued functions sqlsim keeps as tables keyed by their arguments, in order.
const KEYED_FUNCTIONS: &[(&str, &[&str])] = &[
    ("dm_os_volume_stats", &["database_id", "file_id"]),
    ("dm_db_stats_properties", &["object_id", "stats_id"]),
    ("dm_exec_sql_text", &["sql_handle"]),
    ("dm_exec_plan_attributes", &["plan_handle"]),
];

/// `CROSS APPLY sys.dm_os_volume_stats(a, b) [AS v]` is `JOIN sys.dm_os_volume_stats AS v ON
/// v.database_id = a AND v.file_id = b` (OUTER APPLY a LEFT JOIN): SQLite has no APPLY, and
/// these functions are tables keyed by their arguments here.
fn apply_as_join(select: &mut sqlparser::ast::Select) {
    use sqlparser::ast::{JoinConstraint, JoinOperator};
    for from in &mut select.from {
        for join in &mut from.joins {
            let outer = match join.join_operator {
                JoinOperator::CrossApply => false,
                JoinOperator::OuterApply => true,
                _ => continue,
            };
            let TableFactor::Table {
                name, args, alias, ..
            } = &mut join.relation
            else {
                continue;
            };
            let function = ident_parts(name).last().cloned().unwrap_or_default();
            let Some((_, keys)) = KEYED_FUNCTIONS
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(&function))
            else {
                continue;
            };
            let values: Vec<Expr> = args
                .as_ref()
                .map(|a| {
                    a.args
                        .iter()
                        .filter_map(|arg| match arg {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            if values.len() != keys.len() {
                continue;
            }
            let table = alias
                .get_or_insert_with(|| TableAlias {
                    explicit: true,
                    name: quoted(&function),
                    columns: vec![],
                    at: None,
                })
                .name
                .clone();
            *args = None;
            let on = keys
                .iter()
                .zip(values)
                .map(|(key, value)| Expr::BinaryOp {
                    left: Box::new(Expr::CompoundIdentifier(vec![
                        table.clone(),
                        Ident::new(*key),
                    ])),
                    op: BinaryOperator::Eq,
                    right: Box::new(value),
                })
                .reduce(|a, b| Expr::BinaryOp {
                    left: Box::new(a),
                    op: BinaryOperator::And,
                    right: Box::new(b),
                })
                .expect("a keyed function has keys");
            join.join_operator = if outer {
                JoinOperator::LeftOuter(JoinConstraint::On(on))
            } else {
                JoinOperator::Inner(JoinConstraint::On(on))
            };
        }
    }
}

/// `FROM sys.dm_io_virtual_file_stats(a, b) [AS v]` is `FROM (SELECT * FROM
/// sys.dm_io_virtual_file_stats WHERE (a IS NULL OR database_id = a) AND …) AS v`: a NULL
/// argument means all, as SQL Server reads it.
fn keyed_function_as_subquery(tf: &mut TableFactor) {
    let TableFactor::Table {
        name, args, alias, ..
    } = tf
    else {
        return;
    };
    let function = ident_parts(name).last().cloned().unwrap_or_default();
    let Some((_, keys)) = KEYED_FUNCTIONS
        .iter()
        .chain(SCANNED_FUNCTIONS)
        .find(|(f, _)| f.eq_ignore_ascii_case(&function))
    else {
        return;
    };
    let Some(values) = args.as_ref().map(|a| {
        a.args
            .iter()
            .filter_map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
    }) else {
        return;
    };
    if values.len() != keys.len() {
        return;
    }
    let filter: Vec<String> = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| format!("({v} IS NULL OR {k} = {v})"))
        .collect();
    let sql = format!("SELECT * FROM {name} WHERE {}", filter.join(" AND "));
    let Ok(mut stmts) =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::MsSqlDialect {}, &sql)
    else {
        return;
    };
    let Some(Statement::Query(q)) = stmts.pop() else {
        return;
    };
    let alias = alias.take().unwrap_or(TableAlias {
        explicit: true,
        name: quoted(&function),
        columns: vec![],
        at: None,
    });
    *tf = TableFactor::Derived {
        lateral: false,
        subquery: q,
        alias: Some(alias),
        sample: None,
    };
}

/// Table-valued functions read in a FROM clause only, as tables filtered by their arguments.
const SCANNED_FUNCTIONS: &[(&str, &[&str])] = &[
    ("dm_io_virtual_file_stats", &["database_id", "file_id"]),
    ("dm_db_log_stats", &["database_id"]),
    // RDS's list of its automated log backups, in `rds` mode.
    ("rds_fn_list_tlog_backup_metadata", &["db_name"]),
];

/// SQL Server's table hints that may stand alone in parentheses after a table name.
pub fn is_table_hint(word: &str) -> bool {
    [
        "NOLOCK",
        "READUNCOMMITTED",
        "READCOMMITTED",
        "REPEATABLEREAD",
        "SERIALIZABLE",
        "HOLDLOCK",
        "UPDLOCK",
        "ROWLOCK",
        "PAGLOCK",
        "TABLOCK",
        "TABLOCKX",
        "XLOCK",
        "READPAST",
        "NOWAIT",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(word.trim()))
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        // Table hints (`WITH (NOLOCK)`, the legacy `table (NOLOCK)`) change locking and plans,
        // never results: SQLite gets the table alone.
        keyed_function_as_subquery(tf);
        if let TableFactor::Table {
            with_hints,
            args,
            alias,
            ..
        } = tf
        {
            with_hints.clear();
            // `table alias (NOLOCK)` reads to sqlparser as an alias with a column list.
            if let Some(a) = alias
                && !a.columns.is_empty()
                && a.columns.iter().all(|c| is_table_hint(&c.to_string()))
            {
                a.columns.clear();
            }
            if args.as_ref().is_some_and(|a| {
                !a.args.is_empty() && a.args.iter().all(|arg| is_table_hint(&arg.to_string()))
            }) {
                *args = None;
            }
        }
        // Column references use the name the user wrote (`t.col`), so alias the renamed table
        // as that name unless it has an alias already.
        if let TableFactor::Table { name, alias, .. } = tf
            && alias.is_none()
            && !matches!(ident_parts(name).as_slice(), [one] if self.ctes.iter().any(|c| c.eq_ignore_ascii_case(one)))
        {
            let parts = ident_parts(name);
            if let Some(last) = parts.last() {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: quoted(last),
                    columns: vec![],
                    at: None,
                });
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
        let parts = ident_parts(name);
        if let [one] = parts.as_slice()
            && self.ctes.iter().any(|c| c.eq_ignore_ascii_case(one))
        {
            return ControlFlow::Continue(());
        }
        let (db, schema, table) = self.resolve(&parts);
        let object = format!("{schema}.{table}");
        self.names.push((format!("{db}.{object}"), parts.join(".")));
        *name = ObjectName(vec![
            ObjectNamePart::Identifier(quoted(&db)),
            ObjectNamePart::Identifier(quoted(&object)),
        ]);
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = q.body.as_mut() {
            apply_as_join(select);
        }
        if let Some(with) = &q.with {
            self.ctes
                .extend(with.cte_tables.iter().map(|c| c.alias.name.value.clone()));
        }
        if let SetExpr::Select(select) = q.body.as_mut()
            && let Some(top) = select.top.take()
        {
            let limit = match top.quantity {
                Some(TopQuantity::Constant(n)) => Some(number_lit(n as i64)),
                Some(TopQuantity::Expr(e)) => Some(e),
                None => None,
            };
            if q.limit_clause.is_none() {
                q.limit_clause = Some(LimitClause::LimitOffset {
                    limit,
                    offset: None,
                    limit_by: vec![],
                });
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_statement(&mut self, stmt: &mut Statement) -> ControlFlow<()> {
        // sqlparser does not visit DROP's names as relations.
        if let Statement::Drop { names, .. } = stmt {
            for name in names.iter_mut() {
                let _ = self.pre_visit_relation(name);
            }
        }
        if let Statement::CreateTable(ct) = stmt {
            let mut rowid_key = false;
            let primary_key = ct
                .constraints
                .iter()
                .any(|c| c.to_string().to_ascii_uppercase().contains("PRIMARY KEY"))
                || ct.columns.iter().any(|col| {
                    col.options.iter().any(|o| {
                        o.option
                            .to_string()
                            .to_ascii_uppercase()
                            .starts_with("PRIMARY KEY")
                    })
                });
            for col in &mut ct.columns {
                case_insensitive_unless_told(col);
                // IDENTITY: SQLite numbers an INTEGER PRIMARY KEY itself; the catalog keeps the
                // declared type from the statement as written.
                let before = col.options.len();
                col.options.retain(|o| {
                    !o.option
                        .to_string()
                        .to_ascii_uppercase()
                        .starts_with("IDENTITY")
                });
                let is_pk = col.options.iter().any(|o| {
                    o.option
                        .to_string()
                        .to_ascii_uppercase()
                        .starts_with("PRIMARY KEY")
                });
                if col.options.len() != before && is_pk {
                    col.data_type = DataType::Integer(None);
                    rowid_key = true;
                    continue;
                }
                // SQLite keeps the declared type text (it comes back as the column's decltype,
                // which is how results learn their SQL Server types) but its grammar allows only
                // numbers in the parentheses: (MAX) is kept as (-1).
                let declared = col.data_type.to_string();
                let upper = declared.to_ascii_uppercase();
                if let Some(i) = upper.find("(MAX)") {
                    let sqlite_decl = format!("{}(-1)", &declared[..i]);
                    col.data_type =
                        DataType::Custom(ObjectName::from(vec![Ident::new(sqlite_decl)]), vec![]);
                }
            }
            // A primary key clusters the table, as SQL Server's does by default: its rows are
            // stored in key order, so a key range reads only its rows (an IDENTITY key is
            // SQLite's rowid, clustered already).
            if primary_key && !rowid_key {
                ct.sqlite_table_options
                    .options
                    .push(sqlparser::ast::SqliteTableOption::WithoutRowid);
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_value(&mut self, v: &mut ValueWithSpan) -> ControlFlow<()> {
        // N'…' is how T-SQL writes Unicode text; SQLite text is Unicode already.
        if let Value::NationalStringLiteral(s) = &v.value {
            v.value = Value::SingleQuotedString(s.clone());
        }
        // 0x123 is 0x0123: SQLite's X'…' takes whole bytes.
        if let Value::HexStringLiteral(h) = &v.value
            && h.len() % 2 == 1
        {
            v.value = Value::HexStringLiteral(format!("0{h}"));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        // Binary constants in arithmetic convert to integers, as SQL Server converts them
        // (`@@MICROSOFTVERSION / 0x1000000`).
        if let Expr::BinaryOp { left, op, right } = e
            && matches!(
                op,
                BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide
                    | BinaryOperator::Modulo
                    | BinaryOperator::BitwiseAnd
                    | BinaryOperator::BitwiseOr
                    | BinaryOperator::BitwiseXor
            )
        {
            for side in [left, right] {
                if let Expr::Value(v) = side.as_mut()
                    && let Value::HexStringLiteral(h) = &v.value
                    && let Ok(n) = i64::from_str_radix(h, 16)
                {
                    **side = number_lit(n);
                }
            }
        }
        // `+` on character data concatenates in T-SQL; decided before the operands are
        // rewritten, while their T-SQL types still show.
        if let Expr::BinaryOp { left, op, right } = e
            && *op == BinaryOperator::Plus
            && (self.is_textual(left) || self.is_textual(right))
        {
            *op = BinaryOperator::StringConcat;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        // CONVERT(type, expr[, style]) is CAST(expr AS type) to SQLite.
        if let Expr::Convert {
            expr,
            data_type: Some(dt),
            target_before_value: true,
            ..
        } = e
        {
            *e = Expr::Cast {
                kind: CastKind::Cast,
                expr: expr.clone(),
                data_type: dt.clone(),
                format: None,
            };
        }
        match e {
            Expr::Cast {
                data_type, expr, ..
            } => {
                let ty = ColumnType::parse(&data_type.to_string());
                // To binary, a number is its bytes (as on a server: a float's IEEE 754 form),
                // not SQLite's text of it, which rounds a float to 15 digits.
                if matches!(ty, Some(ColumnType::VarBinary(_) | ColumnType::Binary(_)))
                    && let Some(call) = subquery(&format!("SQLSIM_TO_BINARY({expr})"))
                {
                    *e = call;
                    return ControlFlow::Continue(());
                }
                if let Some(ty) = ty {
                    *data_type = storage_type(&ty);
                }
            }
            // A collation named in an expression (`COLLATE DATABASE_DEFAULT`,
            // `Latin1_General_CS_AS`) compares as SQLite's nearest.
            Expr::Collate { collation, .. } => {
                let declared = collation.to_string().to_ascii_uppercase();
                let sqlite = if declared.contains("_CS") || declared.contains("_BIN") {
                    "BINARY"
                } else {
                    "NOCASE"
                };
                *collation = ObjectName::from(vec![Ident::new(sqlite)]);
            }
            Expr::Function(f) => {
                date_part_as_text(f);
                if let Some(replacement) = self.function(f) {
                    *e = replacement;
                    return ControlFlow::Continue(());
                }
                let renamed = match f.name.to_string().to_ascii_uppercase().as_str() {
                    "ISNULL" => Some("IFNULL"),
                    "LEN" => Some("LENGTH"),
                    // SQLite's count is 64-bit already.
                    "COUNT_BIG" => Some("COUNT"),
                    _ => None,
                };
                if let Some(n) = renamed {
                    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(n))]);
                }
            }
            Expr::Identifier(id) if id.value.starts_with("@@") => {
                let v = match id.value.to_ascii_uppercase().as_str() {
                    "@@VERSION" => string_lit(&self.instance.version_text()),
                    "@@SERVERNAME" => string_lit(&self.instance.server_name),
                    "@@LANGUAGE" => string_lit("us_english"),
                    "@@CPU_BUSY" => number_lit(self.cpu_busy_ticks),
                    "@@TIMETICKS" => number_lit(crate::engine::catalog::workload::TIMETICKS_US),
                    "@@SPID" => number_lit(self.spid as i64),
                    "@@MICROSOFTVERSION" => {
                        let (ma, mi, b) = self.instance.version;
                        number_lit(((ma as i64) << 24) | ((mi as i64) << 16) | b as i64)
                    }
                    _ => return ControlFlow::Continue(()),
                };
                *e = v;
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// DATEADD/DATEDIFF/DATEPART name their date part with a bare word (`HH`), which is not a
/// column: it reaches sqlsim's functions as text.
fn date_part_as_text(f: &mut sqlparser::ast::Function) {
    let name = f.name.to_string().to_ascii_uppercase();
    if !matches!(
        name.as_str(),
        "DATEADD" | "DATEDIFF" | "DATEPART" | "DATENAME"
    ) {
        return;
    }
    if let FunctionArguments::List(l) = &mut f.args
        && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) = l.args.first_mut()
        && let Expr::Identifier(id) = e
    {
        *e = string_lit(&id.value);
    }
}

/// Text compares as the column's collation says: the instance's default collation
/// (SQL_Latin1_General_CP1_CI_AS) is case-insensitive, so text columns get SQLite's NOCASE
/// unless declared with a case-sensitive or binary collation.
fn case_insensitive_unless_told(col: &mut sqlparser::ast::ColumnDef) {
    use sqlparser::ast::{ColumnOption, ColumnOptionDef};
    let is_text = matches!(
        ColumnType::parse(&col.data_type.to_string()),
        Some(
            ColumnType::Char(_)
                | ColumnType::VarChar(_)
                | ColumnType::NChar(_)
                | ColumnType::NVarChar(_)
        )
    );
    if !is_text {
        return;
    }
    let mut told = false;
    for opt in &mut col.options {
        if let ColumnOption::Collation(name) = &mut opt.option {
            told = true;
            let declared = name.to_string().to_ascii_uppercase();
            let sqlite = if declared.contains("_CS") || declared.contains("_BIN") {
                "BINARY"
            } else {
                "NOCASE"
            };
            *name = ObjectName::from(vec![Ident::new(sqlite)]);
        }
    }
    if !told {
        col.options.push(ColumnOptionDef {
            name: None,
            option: ColumnOption::Collation(ObjectName::from(vec![Ident::new("NOCASE")])),
        });
    }
}
