//! The SQL Server type and name of each result column, as the server derives them before it runs
//! a query: casts, parameters, literals and declared column types carried through SQL Server's
//! rules for operators and aggregates. SQLite's own answer (decimals as text summed into floats,
//! `COUNT_BIG` as a 64-bit integer of no declared type) is not what a client of a real server
//! reads, so it is used only where these rules give nothing.
//!
//! Sources (MicrosoftDocs/sql-docs): `docs/t-sql/data-types/data-type-precedence-transact-sql.md`,
//! `docs/t-sql/data-types/precision-scale-and-length-transact-sql.md`, and the aggregate pages
//! `docs/t-sql/functions/{sum,avg,count,count-big,max,min}-transact-sql.md`.

use sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Query,
    SelectItem, SetExpr, Statement, TableFactor, UnaryOperator, Value,
};

use crate::engine::Param;
use crate::tds::types::ColumnType;

/// One result column of a query as written.
pub struct Projected<'a> {
    pub expr: &'a Expr,
    /// Its alias, or the name of the column it is; `None` for an expression with no alias, which
    /// the server sends without a name.
    pub name: Option<&'a str>,
}

/// A result column's type and naming, as the server decides them before the query runs.
pub struct ResultColumn {
    /// `None` leaves it to the column's declared type in SQLite, or to its values.
    pub ty: Option<ColumnType>,
    /// Sent with an empty name.
    pub unnamed: bool,
    /// Which of its arithmetic operations are typed int or smaller, in [`arithmetic`]'s order:
    /// SQL Server overflows there (8115), where SQLite computes on in 64 bits.
    pub int_ops: Vec<bool>,
}

/// Visits the arithmetic operations of `e` (outside subqueries) children first, the order
/// [`int_arithmetic`] and [`guard_int_arithmetic`] share.
fn arithmetic_children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => vec![inner],
        Expr::BinaryOp { left, right, .. } => vec![left, right],
        Expr::Function(f) => args(f),
        _ => vec![],
    }
}

fn is_arithmetic(e: &Expr) -> bool {
    matches!(
        e,
        Expr::BinaryOp {
            op: BinaryOperator::Plus
                | BinaryOperator::Minus
                | BinaryOperator::Multiply
                | BinaryOperator::Divide,
            ..
        }
    )
}

/// For each arithmetic operation in `e`, whether SQL Server types it int or smaller.
pub fn int_arithmetic(e: &Expr, scope: &Scope, out: &mut Vec<bool>) {
    for child in arithmetic_children(e) {
        int_arithmetic(child, scope, out);
    }
    if is_arithmetic(e) {
        out.push(matches!(
            expr_type(e, scope),
            Some(ColumnType::Int | ColumnType::SmallInt | ColumnType::TinyInt)
        ));
    }
}

/// Wraps the operations `marks` says are int in `SQLSIM_INT(…)`, which raises 8115 past int's
/// range as the server's int arithmetic does.
pub fn guard_int_arithmetic(e: &mut Expr, marks: &mut impl Iterator<Item = bool>) {
    match e {
        Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => {
            guard_int_arithmetic(inner, marks)
        }
        Expr::BinaryOp { left, right, .. } => {
            guard_int_arithmetic(left, marks);
            guard_int_arithmetic(right, marks);
        }
        Expr::Function(f) => {
            if let FunctionArguments::List(l) = &mut f.args {
                for a in &mut l.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(arg)) = a {
                        guard_int_arithmetic(arg, marks);
                    }
                }
            }
        }
        _ => {}
    }
    if is_arithmetic(e) && marks.next() == Some(true) {
        let inner = std::mem::replace(e, Expr::value(Value::Null));
        *e = Expr::Function(Function {
            name: sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new("SQLSIM_INT")]),
            uses_odbc_syntax: false,
            parameters: FunctionArguments::None,
            args: FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
                duplicate_treatment: None,
                args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(inner))],
                clauses: vec![],
            }),
            filter: None,
            null_treatment: None,
            over: None,
            within_group: vec![],
        });
    }
}

/// The first SELECT of a query (a UNION's columns are named and typed by its first branch).
pub fn first_select(stmt: &Statement) -> Option<&sqlparser::ast::Select> {
    fn body(b: &SetExpr) -> Option<&sqlparser::ast::Select> {
        match b {
            SetExpr::Select(s) => Some(s),
            SetExpr::SetOperation { left, .. } => body(left),
            SetExpr::Query(q) => body(&q.body),
            _ => None,
        }
    }
    match stmt {
        Statement::Query(q) => body(&q.body),
        _ => None,
    }
}

/// The first SELECT of a query, to change.
fn first_select_mut(stmt: &mut Statement) -> Option<&mut sqlparser::ast::Select> {
    fn body(b: &mut SetExpr) -> Option<&mut sqlparser::ast::Select> {
        match b {
            SetExpr::Select(s) => Some(s),
            SetExpr::SetOperation { left, .. } => body(left),
            SetExpr::Query(q) => body(&mut q.body),
            _ => None,
        }
    }
    match stmt {
        Statement::Query(q) => body(&mut q.body),
        _ => None,
    }
}

/// Guards the int arithmetic of each result column `columns` found (see [`ResultColumn`]).
pub fn guard_projection(stmt: &mut Statement, columns: &[ResultColumn]) {
    let Some(select) = first_select_mut(stmt) else {
        return;
    };
    for (item, column) in select.projection.iter_mut().zip(columns) {
        let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else {
            continue;
        };
        if column.int_ops.contains(&true) {
            guard_int_arithmetic(e, &mut column.int_ops.iter().copied());
        }
    }
}

/// The query's result columns as written; empty when a wildcard makes positions unknowable.
pub fn projection(stmt: &Statement) -> Vec<Projected<'_>> {
    let Some(select) = first_select(stmt) else {
        return vec![];
    };
    let mut out = Vec::new();
    for item in &select.projection {
        out.push(match item {
            SelectItem::UnnamedExpr(e) => Projected {
                expr: e,
                name: match e {
                    Expr::Identifier(id) if is_column_ref(e) => Some(id.value.as_str()),
                    Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.as_str()),
                    _ => None,
                },
            },
            SelectItem::ExprWithAlias { expr, alias } => Projected {
                expr,
                name: Some(alias.value.as_str()),
            },
            _ => return vec![],
        });
    }
    out
}

/// A reference to a column (`name`, `t.name`), not a variable.
pub fn is_column_ref(e: &Expr) -> bool {
    match e {
        Expr::Identifier(id) => !id.value.starts_with('@'),
        Expr::CompoundIdentifier(_) => true,
        _ => false,
    }
}

/// The column references an expression's type depends on, in order, outside subqueries (whose
/// columns are in their own scope).
pub fn column_refs<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    if is_column_ref(e) {
        out.push(e);
        return;
    }
    match e {
        Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => column_refs(inner, out),
        Expr::BinaryOp { left, right, .. } => {
            column_refs(left, out);
            column_refs(right, out);
        }
        Expr::Cast { .. } | Expr::Convert { .. } => {}
        Expr::Case {
            conditions,
            else_result,
            ..
        } => {
            for c in conditions {
                column_refs(&c.result, out);
            }
            if let Some(e) = else_result {
                column_refs(e, out);
            }
        }
        Expr::Function(f) => {
            for a in args(f) {
                column_refs(a, out);
            }
        }
        _ => {}
    }
}

/// The query and column position that define a column reference to a derived table or common
/// table expression of `stmt`'s first SELECT (`SUM(t.x) FROM (SELECT CAST(… AS money) AS x) t`),
/// whose types SQLite does not declare.
pub fn derived_source<'a>(stmt: &'a Statement, column: &Expr) -> Option<(&'a Query, usize)> {
    let Statement::Query(query) = stmt else {
        return None;
    };
    let (qualifier, name) = match column {
        Expr::Identifier(id) => (None, &id.value),
        Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
            (Some(&parts[0].value), &parts[1].value)
        }
        _ => return None,
    };
    let select = first_select(stmt)?;
    let factors = select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    for factor in factors {
        let (source, alias) = match factor {
            TableFactor::Derived {
                subquery, alias, ..
            } => (&**subquery, alias.as_ref().map(|a| &a.name.value)),
            TableFactor::Table { name, alias, .. } => {
                let table = name.to_string();
                let Some(cte) = query.with.iter().flat_map(|w| &w.cte_tables).find(|c| {
                    c.alias
                        .name
                        .value
                        .eq_ignore_ascii_case(table.trim_matches(['[', ']', '"']))
                }) else {
                    continue;
                };
                let alias = alias.as_ref().map(|a| &a.name.value);
                (&*cte.query, alias.or(Some(&cte.alias.name.value)))
            }
            _ => continue,
        };
        if let Some(q) = qualifier
            && !alias.is_some_and(|a| a.eq_ignore_ascii_case(q))
        {
            continue;
        }
        let inner = Statement::Query(Box::new(source.clone()));
        let position = projection(&inner)
            .iter()
            .position(|p| p.name.is_some_and(|n| n.eq_ignore_ascii_case(name)));
        if let Some(i) = position {
            return Some((source, i));
        }
    }
    None
}

/// What the types of an expression's parts are looked up in.
pub struct Scope<'a> {
    pub params: &'a [Param],
    /// The declared type of a column reference (found by [`column_refs`]).
    pub column: &'a dyn Fn(&Expr) -> Option<ColumnType>,
}

/// The type SQL Server gives `e`, or `None` where these rules do not say.
pub fn expr_type(e: &Expr, scope: &Scope) -> Option<ColumnType> {
    use ColumnType as T;
    match e {
        Expr::Identifier(id) if id.value.eq_ignore_ascii_case("@@SPID") => Some(T::SmallInt),
        // A variable or parameter has its declared type.
        Expr::Identifier(id) if id.value.starts_with('@') => scope
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(&id.value))
            .and_then(|p| p.ty.clone()),
        e if is_column_ref(e) => (scope.column)(e),
        Expr::Cast { data_type, .. } => ColumnType::parse(&data_type.to_string()),
        Expr::Convert {
            data_type: Some(dt),
            ..
        } => ColumnType::parse(&dt.to_string()),
        Expr::Nested(inner) => expr_type(inner, scope),
        Expr::Value(v) => literal_type(&v.value),
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => expr_type(expr, scope),
        Expr::BinaryOp { left, op, right } => {
            let (l, r) = (expr_type(left, scope)?, expr_type(right, scope)?);
            arithmetic(&l, op, &r)
        }
        Expr::Case {
            conditions,
            else_result,
            ..
        } => {
            // The result type is the highest-precedence type of the THEN and ELSE results.
            let mut ty: Option<ColumnType> = None;
            for r in conditions
                .iter()
                .map(|c| &c.result)
                .chain(else_result.as_deref())
            {
                if matches!(r, Expr::Value(v) if v.value == Value::Null) {
                    continue;
                }
                let t = expr_type(r, scope)?;
                ty = Some(match ty {
                    None => t,
                    Some(prev) => higher(prev, t),
                });
            }
            ty
        }
        Expr::Function(f) => function_type(f, scope),
        _ => None,
    }
}

/// The expression arguments of a call (not `*`).
pub fn args(f: &Function) -> Vec<&Expr> {
    match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

fn function_type(f: &Function, scope: &Scope) -> Option<ColumnType> {
    use ColumnType as T;
    let name = f.name.to_string().to_ascii_uppercase();
    let args = args(f);
    let arg = |i: usize| args.get(i).and_then(|a| expr_type(a, scope));
    Some(match name.as_str() {
        "COUNT" => T::Int,
        "COUNT_BIG" | "ROW_NUMBER" | "RANK" | "DENSE_RANK" => T::BigInt,
        "CHECKSUM_AGG" | "CHECKSUM" | "BINARY_CHECKSUM" | "DB_ID" | "OBJECT_ID" | "SCHEMA_ID" => {
            T::Int
        }
        "MIN" | "MAX" | "ABS" | "ROUND" | "FLOOR" | "CEILING" | "ISNULL" => arg(0)?,
        // sum-transact-sql.md and avg-transact-sql.md: integers widen to int, decimals to
        // precision 38 (AVG keeps at least six decimals), money to money, the rest to float.
        "SUM" | "AVG" => match arg(0)? {
            T::TinyInt | T::SmallInt | T::Int | T::Bit => T::Int,
            T::BigInt => T::BigInt,
            T::Decimal { scale, .. } | T::Numeric { scale, .. } => T::Decimal {
                precision: 38,
                scale: if name == "AVG" { scale.max(6) } else { scale },
            },
            T::Money | T::SmallMoney => T::Money,
            T::Real | T::Float => T::Float,
            _ => return None,
        },
        "COALESCE" => {
            let mut ty = arg(0)?;
            for i in 1..args.len() {
                ty = higher(ty, arg(i)?);
            }
            ty
        }
        "GETDATE" | "GETUTCDATE" | "CURRENT_TIMESTAMP" => T::DateTime,
        "SYSDATETIME" | "SYSUTCDATETIME" => T::DateTime2 { scale: 7 },
        "SYSDATETIMEOFFSET" => T::DateTimeOffset { scale: 7 },
        "DB_NAME" | "OBJECT_NAME" | "SCHEMA_NAME" | "SUSER_SNAME" | "SUSER_NAME" | "USER_NAME" => {
            T::NVarChar(Some(128))
        }
        _ => return None,
    })
}

/// A literal's type (constants-transact-sql.md): integers are int (numeric past int's range),
/// `1.50` is numeric(3,2), `'ab'` varchar(2), `N'ab'` nvarchar(2); NULL has none of its own.
fn literal_type(v: &Value) -> Option<ColumnType> {
    match v {
        Value::Number(n, _) => {
            if n.contains(['e', 'E']) {
                return Some(ColumnType::Float);
            }
            if !n.contains('.') && n.parse::<i32>().is_ok() {
                return Some(ColumnType::Int);
            }
            let digits = n.trim_start_matches('-');
            let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
            let int = int.trim_start_matches('0');
            let scale = frac.len() as u8;
            let precision = ((int.len() + frac.len()) as u8).max(scale).max(1);
            Some(ColumnType::Numeric { precision, scale })
        }
        // Past 8,000 bytes (4,000 characters) a literal is (max).
        Value::SingleQuotedString(s) => Some(ColumnType::VarChar(
            (s.len() <= 8000).then_some(s.len().max(1) as u16),
        )),
        Value::NationalStringLiteral(s) => {
            let n = s.chars().count();
            Some(ColumnType::NVarChar((n <= 4000).then_some(n.max(1) as u16)))
        }
        _ => None,
    }
}

/// Rank in data-type-precedence-transact-sql.md: higher wins a conversion.
fn precedence(t: &ColumnType) -> u8 {
    use ColumnType as T;
    match t {
        T::DateTimeOffset { .. } => 30,
        T::DateTime2 { .. } => 29,
        T::DateTime => 28,
        T::SmallDateTime => 27,
        T::Date => 26,
        T::Time { .. } => 25,
        T::Float => 24,
        T::Real => 23,
        T::Decimal { .. } | T::Numeric { .. } => 22,
        T::Money => 21,
        T::SmallMoney => 20,
        T::BigInt => 19,
        T::Int => 18,
        T::SmallInt => 17,
        T::TinyInt => 16,
        T::Bit => 15,
        T::UniqueIdentifier => 12,
        T::NVarChar(_) => 11,
        T::NChar(_) => 10,
        T::VarChar(_) => 9,
        T::Char(_) => 8,
        T::VarBinary(_) => 7,
        T::Binary(_) => 6,
    }
}

fn higher(a: ColumnType, b: ColumnType) -> ColumnType {
    if precedence(&b) > precedence(&a) {
        b
    } else {
        a
    }
}

/// Precision and scale of a type taking part in decimal arithmetic.
fn as_decimal(t: &ColumnType) -> Option<(i32, i32)> {
    use ColumnType as T;
    Some(match t {
        T::Decimal { precision, scale } | T::Numeric { precision, scale } => {
            (*precision as i32, *scale as i32)
        }
        T::BigInt => (19, 0),
        T::Int => (10, 0),
        T::SmallInt => (5, 0),
        T::TinyInt => (3, 0),
        T::Bit => (1, 0),
        _ => return None,
    })
}

/// The type of `l op r` for the arithmetic operators; precision-scale-and-length-transact-sql.md
/// for decimals, data type precedence for the rest.
fn arithmetic(l: &ColumnType, op: &BinaryOperator, r: &ColumnType) -> Option<ColumnType> {
    use BinaryOperator as B;
    if !matches!(op, B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo) {
        return None;
    }
    let winner = higher(l.clone(), r.clone());
    if !matches!(
        winner,
        ColumnType::Decimal { .. } | ColumnType::Numeric { .. }
    ) {
        // Character `+` is concatenation, whose length rules are not needed here.
        return (precedence(&winner) >= 15).then_some(winner);
    }
    let ((p1, s1), (p2, s2)) = (as_decimal(l)?, as_decimal(r)?);
    let (p, s) = match op {
        B::Plus | B::Minus => (s1.max(s2) + (p1 - s1).max(p2 - s2) + 1, s1.max(s2)),
        B::Multiply => (p1 + p2 + 1, s1 + s2),
        B::Divide => {
            let s = 6.max(s1 + p2 + 1);
            (p1 - s1 + s2 + s, s)
        }
        _ => ((p1 - s1).min(p2 - s2) + s1.max(s2), s1.max(s2)),
    };
    let (p, s) = if p <= 38 {
        (p, s)
    } else if matches!(op, B::Plus | B::Minus) {
        // The integral part is kept; the scale gives way.
        (38, 38 - (p1 - s1).max(p2 - s2))
    } else {
        let integral = p - s;
        let s = if integral < 32 {
            s.min(38 - integral)
        } else if s < 6 {
            s
        } else {
            6
        };
        (38, s)
    };
    Some(ColumnType::Decimal {
        precision: p as u8,
        scale: s.max(0) as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType as T;

    fn dec(precision: u8, scale: u8) -> ColumnType {
        T::Decimal { precision, scale }
    }

    #[test]
    fn decimal_arithmetic_follows_the_documented_table_and_its_examples() {
        // The page's two examples.
        assert_eq!(
            arithmetic(&dec(30, 20), &BinaryOperator::Multiply, &dec(30, 20)),
            Some(dec(38, 17))
        );
        assert_eq!(
            arithmetic(&dec(30, 10), &BinaryOperator::Multiply, &dec(30, 10)),
            Some(dec(38, 6))
        );
        assert_eq!(
            arithmetic(&dec(12, 2), &BinaryOperator::Plus, &T::Int),
            Some(dec(13, 2))
        );
        assert_eq!(
            arithmetic(&T::Int, &BinaryOperator::Plus, &T::BigInt),
            Some(T::BigInt)
        );
        assert_eq!(
            arithmetic(&T::Money, &BinaryOperator::Multiply, &T::Int),
            Some(T::Money)
        );
    }

    #[test]
    fn literals_are_typed_as_the_server_types_them() {
        let n = |s: &str| literal_type(&Value::Number(s.into(), false));
        assert_eq!(n("1"), Some(T::Int));
        assert_eq!(
            n("2147483648"),
            Some(T::Numeric {
                precision: 10,
                scale: 0
            })
        );
        assert_eq!(
            n("10.10"),
            Some(T::Numeric {
                precision: 4,
                scale: 2
            })
        );
        assert_eq!(
            n("0.5"),
            Some(T::Numeric {
                precision: 1,
                scale: 1
            })
        );
        assert_eq!(
            literal_type(&Value::NationalStringLiteral("ab".into())),
            Some(T::NVarChar(Some(2)))
        );
    }
}
