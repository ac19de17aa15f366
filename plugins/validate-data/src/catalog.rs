//! One side's schema, read from the catalog views: tables and columns, indexes and keys,
//! constraints, modules, users, role members and permissions, and the database's settings.
//! Every query names the database (`[db].sys.…`), so one connection reads any database.

use std::collections::{BTreeMap, BTreeSet};

use sqlmig_plugin_sdk::sql::Connection;
use sqlmig_plugin_sdk::tsql::{
    COLUMN_TYPE_SELECT, column_type, column_type_joins, first_result, quote_name, text_param,
};
use sqlmig_plugin_sdk::{Error, Rows};

/// A database's schema as one side has it.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub compatibility_level: Option<i64>,
    pub collation: Option<String>,
    /// By `schema.table`.
    pub tables: BTreeMap<String, Table>,
    /// Views, procedures, functions and triggers by `schema.name`: (type, definition).
    pub modules: BTreeMap<String, (String, String)>,
    /// Users and user-defined roles by name: what describes each.
    pub principals: BTreeMap<String, String>,
    /// `role ← member`.
    pub role_members: BTreeSet<String>,
    /// `GRANT SELECT ON dbo.Orders TO app`.
    pub permissions: BTreeSet<String>,
}

/// A table.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub columns: Vec<Column>,
    /// By name; the primary key under `PRIMARY KEY` (its name differs between servers when the
    /// system named it).
    pub indexes: BTreeMap<String, Index>,
    /// Check and foreign-key constraints by name: their definition.
    pub constraints: BTreeMap<String, String>,
    /// Defaults by column: their definition.
    pub defaults: BTreeMap<String, String>,
}

/// A column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The system type its values have, as T-SQL writes it: `nvarchar(40)`, `decimal(10,2)`
    /// (an alias type's base; a CLR type's quoted name). What casts and checksums use.
    pub type_text: String,
    /// As declared: an alias type's `[schema].[name]`, `type_text` otherwise. What the schema
    /// comparison compares.
    pub declared_type: String,
    pub collation: Option<String>,
    pub nullable: bool,
    pub identity: bool,
    /// The definition of a computed column.
    pub computed: Option<String>,
}

/// An index or key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub type_desc: String,
    pub unique: bool,
    pub primary_key: bool,
    pub filter: Option<String>,
    /// Key columns in order, `DESC` written after a descending one.
    pub key: Vec<String>,
    pub include: Vec<String>,
}

impl Index {
    /// `UNIQUE NONCLUSTERED (a, b DESC) INCLUDE (c) WHERE …`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if self.primary_key {
            s.push_str("PRIMARY KEY ");
        } else if self.unique {
            s.push_str("UNIQUE ");
        }
        s.push_str(&self.type_desc);
        s.push_str(&format!(" ({})", self.key.join(", ")));
        if !self.include.is_empty() {
            s.push_str(&format!(" INCLUDE ({})", self.include.join(", ")));
        }
        if let Some(f) = &self.filter {
            s.push_str(&format!(" WHERE {f}"));
        }
        s
    }
}

fn rows(conn: &Connection, sql: &str, db: &str) -> Result<Rows, Error> {
    first_result(conn, &sql.replace("[db]", &quote_name(db)), &[])
}

/// Reads database `db`'s schema through `conn`.
pub fn read(conn: &Connection, db: &str, major: u32) -> Result<Snapshot, Error> {
    let mut snap = Snapshot::default();
    let settings = first_result(
        conn,
        "SELECT compatibility_level, collation_name FROM sys.databases WHERE name = @db",
        &[text_param("db", db)],
    )?;
    if let Some(r) = settings.iter().next() {
        snap.compatibility_level = r.get::<Option<i64>>("compatibility_level")?;
        snap.collation = r.get::<Option<String>>("collation_name")?;
    }
    for r in rows(
        conn,
        &format!(
            "SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name, \
                    {COLUMN_TYPE_SELECT}, c.collation_name, c.is_nullable, c.is_identity, \
                    c.is_computed \
             FROM [db].sys.tables t JOIN [db].sys.schemas s ON s.schema_id = t.schema_id \
             JOIN [db].sys.columns c ON c.object_id = t.object_id {} \
             WHERE t.is_ms_shipped = 0 ORDER BY s.name, t.name, c.column_id",
            column_type_joins("[db]")
        ),
        db,
    )?
    .iter()
    {
        let (schema, name) = (
            r.get::<String>("schema_name")?,
            r.get::<String>("table_name")?,
        );
        let table = snap
            .tables
            .entry(format!("{schema}.{name}"))
            .or_insert_with(|| Table {
                schema: schema.clone(),
                name: name.clone(),
                ..Table::default()
            });
        let ty = column_type(&r)?;
        table.columns.push(Column {
            name: r.get("column_name")?,
            type_text: ty.text,
            declared_type: ty.declared,
            collation: r.get("collation_name")?,
            nullable: r.get("is_nullable")?,
            identity: r.get("is_identity")?,
            computed: None,
        });
    }
    for r in rows(
        conn,
        "SELECT s.name AS schema_name, t.name AS table_name, cc.name AS column_name, cc.definition \
         FROM [db].sys.computed_columns cc JOIN [db].sys.tables t ON t.object_id = cc.object_id \
         JOIN [db].sys.schemas s ON s.schema_id = t.schema_id",
        db,
    )?
    .iter()
    {
        let key = format!(
            "{}.{}",
            r.get::<String>("schema_name")?,
            r.get::<String>("table_name")?
        );
        let column: String = r.get("column_name")?;
        if let Some(c) = snap
            .tables
            .get_mut(&key)
            .and_then(|t| t.columns.iter_mut().find(|c| c.name == column))
        {
            c.computed = Some(r.get::<Option<String>>("definition")?.unwrap_or_default());
        }
    }
    read_indexes(conn, db, &mut snap)?;
    read_constraints(conn, db, &mut snap)?;
    for r in rows(
        conn,
        "SELECT s.name AS schema_name, o.name, o.type_desc, m.definition \
         FROM [db].sys.sql_modules m JOIN [db].sys.objects o ON o.object_id = m.object_id \
         JOIN [db].sys.schemas s ON s.schema_id = o.schema_id WHERE o.is_ms_shipped = 0",
        db,
    )?
    .iter()
    {
        snap.modules.insert(
            format!(
                "{}.{}",
                r.get::<String>("schema_name")?,
                r.get::<String>("name")?
            ),
            (
                r.get("type_desc")?,
                r.get::<Option<String>>("definition")?.unwrap_or_default(),
            ),
        );
    }
    read_security(conn, db, major, &mut snap)?;
    Ok(snap)
}

fn read_indexes(conn: &Connection, db: &str, snap: &mut Snapshot) -> Result<(), Error> {
    for r in rows(
        conn,
        "SELECT s.name AS schema_name, t.name AS table_name, i.name AS index_name, i.type_desc, \
                i.is_unique, i.is_primary_key, i.has_filter, i.filter_definition, c.name AS column_name, \
                ic.is_descending_key, ic.is_included_column \
         FROM [db].sys.indexes i JOIN [db].sys.tables t ON t.object_id = i.object_id \
         JOIN [db].sys.schemas s ON s.schema_id = t.schema_id \
         JOIN [db].sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id \
         JOIN [db].sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id \
         WHERE i.index_id > 0 AND i.is_hypothetical = 0 AND t.is_ms_shipped = 0 \
         ORDER BY s.name, t.name, i.index_id, ic.is_included_column, ic.key_ordinal, ic.index_column_id",
        db,
    )?
    .iter()
    {
        let key = format!("{}.{}", r.get::<String>("schema_name")?, r.get::<String>("table_name")?);
        let Some(table) = snap.tables.get_mut(&key) else {
            continue;
        };
        let primary_key: bool = r.get("is_primary_key")?;
        let name: String = r.get("index_name")?;
        let slot = if primary_key {
            "PRIMARY KEY".to_string()
        } else {
            name.clone()
        };
        let index = table.indexes.entry(slot).or_insert_with(|| Index {
            name,
            primary_key,
            ..Index::default()
        });
        index.type_desc = r.get("type_desc")?;
        index.unique = r.get("is_unique")?;
        if r.get::<bool>("has_filter")? {
            index.filter = r.get("filter_definition")?;
        }
        let column: String = r.get("column_name")?;
        if r.get::<bool>("is_included_column")? {
            index.include.push(column);
        } else if r.get::<bool>("is_descending_key")? {
            index.key.push(format!("{column} DESC"));
        } else {
            index.key.push(column);
        }
    }
    Ok(())
}

fn read_constraints(conn: &Connection, db: &str, snap: &mut Snapshot) -> Result<(), Error> {
    let table_of =
        |snap: &mut Snapshot, r: &sqlmig_plugin_sdk::Row| -> Result<Option<String>, Error> {
            let key = format!(
                "{}.{}",
                r.get::<String>("schema_name")?,
                r.get::<String>("table_name")?
            );
            Ok(snap.tables.contains_key(&key).then_some(key))
        };
    for r in rows(
        conn,
        "SELECT s.name AS schema_name, t.name AS table_name, cc.name, cc.definition, cc.is_disabled \
         FROM [db].sys.check_constraints cc JOIN [db].sys.tables t ON t.object_id = cc.parent_object_id \
         JOIN [db].sys.schemas s ON s.schema_id = t.schema_id",
        db,
    )?
    .iter()
    {
        if let Some(key) = table_of(snap, &r)? {
            let disabled = if r.get::<bool>("is_disabled")? { " (disabled)" } else { "" };
            let text = format!(
                "CHECK {}{disabled}",
                r.get::<Option<String>>("definition")?.unwrap_or_default()
            );
            snap.tables.get_mut(&key).expect("checked").constraints.insert(r.get("name")?, text);
        }
    }
    for r in rows(
        conn,
        "SELECT s.name AS schema_name, t.name AS table_name, fk.name, rs.name AS ref_schema, \
                rt.name AS ref_table, pc.name AS column_name, rc.name AS ref_column, \
                fk.delete_referential_action, fk.update_referential_action, fk.is_disabled \
         FROM [db].sys.foreign_keys fk JOIN [db].sys.tables t ON t.object_id = fk.parent_object_id \
         JOIN [db].sys.schemas s ON s.schema_id = t.schema_id \
         JOIN [db].sys.tables rt ON rt.object_id = fk.referenced_object_id \
         JOIN [db].sys.schemas rs ON rs.schema_id = rt.schema_id \
         JOIN [db].sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id \
         JOIN [db].sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id \
         JOIN [db].sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id \
         ORDER BY s.name, t.name, fk.name, fkc.constraint_column_id",
        db,
    )?
    .iter()
    {
        if let Some(key) = table_of(snap, &r)? {
            let name: String = r.get("name")?;
            let column: String = r.get("column_name")?;
            let referenced = format!(
                "{}.{}({})",
                r.get::<String>("ref_schema")?,
                r.get::<String>("ref_table")?,
                r.get::<String>("ref_column")?
            );
            let actions = format!(
                " ON DELETE {} ON UPDATE {}{}",
                action(r.get("delete_referential_action")?),
                action(r.get("update_referential_action")?),
                if r.get::<bool>("is_disabled")? { " (disabled)" } else { "" }
            );
            let constraints = &mut snap.tables.get_mut(&key).expect("checked").constraints;
            let text = constraints.entry(name).or_default();
            // Several columns: FOREIGN KEY (a, b) REFERENCES t(x), t(y) — one line per key.
            if text.is_empty() {
                *text = format!("FOREIGN KEY ({column}) REFERENCES {referenced}{actions}");
            } else {
                *text = format!("{text}; ({column}) REFERENCES {referenced}");
            }
        }
    }
    for r in rows(
        conn,
        "SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name, dc.definition \
         FROM [db].sys.default_constraints dc JOIN [db].sys.tables t ON t.object_id = dc.parent_object_id \
         JOIN [db].sys.schemas s ON s.schema_id = t.schema_id \
         JOIN [db].sys.columns c ON c.object_id = dc.parent_object_id AND c.column_id = dc.parent_column_id",
        db,
    )?
    .iter()
    {
        if let Some(key) = table_of(snap, &r)? {
            snap.tables.get_mut(&key).expect("checked").defaults.insert(
                r.get("column_name")?,
                r.get::<Option<String>>("definition")?.unwrap_or_default(),
            );
        }
    }
    Ok(())
}

/// sys.foreign_keys' referential action numbers in words.
fn action(code: i64) -> &'static str {
    match code {
        1 => "CASCADE",
        2 => "SET NULL",
        3 => "SET DEFAULT",
        _ => "NO ACTION",
    }
}

fn read_security(
    conn: &Connection,
    db: &str,
    major: u32,
    snap: &mut Snapshot,
) -> Result<(), Error> {
    // authentication_type came with SQL Server 2012 (11).
    let authentication = if major >= 11 {
        "authentication_type_desc"
    } else {
        "'' AS authentication_type_desc"
    };
    for r in rows(
        conn,
        &format!(
            "SELECT name, type_desc, default_schema_name, {authentication} \
             FROM [db].sys.database_principals \
             WHERE principal_id > 4 AND is_fixed_role = 0 AND type IN ('S', 'U', 'G', 'R', 'E', 'X', 'C', 'K')"
        ),
        db,
    )?
    .iter()
    {
        let mut description: String = r.get("type_desc")?;
        if let Some(schema) = r.get::<Option<String>>("default_schema_name")? {
            description.push_str(&format!(", default schema {schema}"));
        }
        let auth: Option<String> = r.get("authentication_type_desc")?;
        if let Some(a) = auth.filter(|a| !a.is_empty() && a != "NONE") {
            description.push_str(&format!(", authentication {a}"));
        }
        snap.principals.insert(r.get("name")?, description);
    }
    for r in rows(
        conn,
        "SELECT r.name AS role_name, m.name AS member_name FROM [db].sys.database_role_members rm \
         JOIN [db].sys.database_principals r ON r.principal_id = rm.role_principal_id \
         JOIN [db].sys.database_principals m ON m.principal_id = rm.member_principal_id",
        db,
    )?
    .iter()
    {
        snap.role_members.insert(format!(
            "{} ← {}",
            r.get::<String>("role_name")?,
            r.get::<String>("member_name")?
        ));
    }
    for r in rows(
        conn,
        "SELECT p.class, p.permission_name, p.state_desc, pr.name AS grantee, \
                os.name AS object_schema, o.name AS object_name, sc.name AS schema_name \
         FROM [db].sys.database_permissions p \
         JOIN [db].sys.database_principals pr ON pr.principal_id = p.grantee_principal_id \
         LEFT JOIN [db].sys.objects o ON p.class = 1 AND o.object_id = p.major_id \
         LEFT JOIN [db].sys.schemas os ON os.schema_id = o.schema_id \
         LEFT JOIN [db].sys.schemas sc ON p.class = 3 AND sc.schema_id = p.major_id \
         WHERE pr.principal_id > 0",
        db,
    )?
    .iter()
    {
        let on = match r.get::<i64>("class")? {
            0 => String::new(),
            1 => format!(
                " ON {}.{}",
                r.get::<Option<String>>("object_schema")?
                    .unwrap_or_default(),
                r.get::<Option<String>>("object_name")?.unwrap_or_default()
            ),
            3 => format!(
                " ON SCHEMA::{}",
                r.get::<Option<String>>("schema_name")?.unwrap_or_default()
            ),
            other => format!(" ON class {other}"),
        };
        let state: String = r.get("state_desc")?;
        let verb = if state == "GRANT_WITH_GRANT_OPTION" {
            "GRANT"
        } else {
            state.as_str()
        };
        let with = if state == "GRANT_WITH_GRANT_OPTION" {
            " WITH GRANT OPTION"
        } else {
            ""
        };
        snap.permissions.insert(format!(
            "{verb} {}{on} TO {}{with}",
            r.get::<String>("permission_name")?,
            r.get::<String>("grantee")?
        ));
    }
    Ok(())
}
