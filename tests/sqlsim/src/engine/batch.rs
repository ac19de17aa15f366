//! Control flow of a batch: local variables (`DECLARE`, `SET @v =`, `SELECT @v = …`), table
//! variables (`DECLARE @t TABLE (…)`), `IF … [ELSE …]` and `WHILE …` with `BEGIN … END` blocks,
//! and EXEC (see `exec`). A variable lives until the batch ends, as in T-SQL;
//! statements read it as a bound parameter, the way they read sp_executesql's.

use sqlparser::ast::{
    ConditionalStatements, DeclareAssignment, Expr, SelectItem, SetExpr, Spanned, Statement,
};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;

use super::{Engine, Outcome, Param, Session, errors, parse_error};
use crate::tds::tokens::ServerMessage;
use crate::tds::types::{ColumnType, Value};

/// WHILE loops stop with an error after this many rounds (a simulator must not spin forever).
const MAX_LOOPS: usize = 1_000_000;

/// 137: a variable used or assigned without being declared.
fn undeclared(line: i32, name: &str) -> ServerMessage {
    errors::error(
        137,
        15,
        line,
        format!("Must declare the scalar variable \"{name}\"."),
    )
}

fn find<'v>(vars: &'v mut [Param], name: &str) -> Option<&'v mut Param> {
    vars.iter_mut().find(|p| p.name.eq_ignore_ascii_case(name))
}

fn line_of(stmt: &Statement) -> i32 {
    let line = match stmt {
        // sqlparser gives DECLARE no span; its first variable's is as good.
        Statement::Declare { stmts, .. } => stmts
            .first()
            .and_then(|d| d.names.first())
            .map_or(0, |n| n.span.start.line),
        other => other.span().start.line,
    };
    (line as i32).max(1)
}

impl Engine {
    /// Runs `statements` in order, appending what each produced to `out`; stops at the first
    /// error or at a cancel (reported as `Ok(false)`).
    pub(super) fn run_block(
        &self,
        session: &mut Session,
        statements: &mut [Statement],
        vars: &mut Vec<Param>,
        out: &mut Vec<Outcome>,
    ) -> Result<bool, ServerMessage> {
        for stmt in statements {
            if session.cancelled() {
                return Ok(false);
            }
            if session.returned {
                return Ok(true);
            }
            let line = line_of(stmt);
            match self.control(session, stmt, line, vars, out) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(_) if session.cancelled() => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// One statement, with the batch's variables in reach.
    fn control(
        &self,
        session: &mut Session,
        stmt: &mut Statement,
        line: i32,
        vars: &mut Vec<Param>,
        out: &mut Vec<Outcome>,
    ) -> Result<bool, ServerMessage> {
        match stmt {
            Statement::Declare { stmts, .. } => {
                for d in stmts.iter() {
                    if let Some(sqlparser::ast::DataType::Table(Some(columns))) = &d.data_type {
                        for name in &d.names {
                            self.declare_table(session, &name.value, columns, line, vars)?;
                        }
                        continue;
                    }
                    let ty = d
                        .data_type
                        .as_ref()
                        .and_then(|t| ColumnType::parse(&t.to_string()));
                    let declared = d.data_type.as_ref().map(|t| t.to_string());
                    for name in &d.names {
                        if find(vars, &name.value).is_some() {
                            return Err(errors::error(
                                134,
                                15,
                                line,
                                format!(
                                    "The variable name '{}' has already been declared. Variable names must be unique within a query batch or stored procedure.",
                                    name.value
                                ),
                            ));
                        }
                        let value = match &d.assignment {
                            Some(
                                DeclareAssignment::MsSqlAssignment(e)
                                | DeclareAssignment::Default(e)
                                | DeclareAssignment::Expr(e)
                                | DeclareAssignment::DuckAssignment(e),
                            ) => self.evaluate(session, e, declared.as_deref(), line, vars)?,
                            Some(_) | None => Value::Null,
                        };
                        vars.push(Param {
                            name: name.value.clone(),
                            ty: ty.clone(),
                            value,
                        });
                    }
                }
                out.push(Outcome::Done);
                Ok(true)
            }
            Statement::Set(sqlparser::ast::Set::SingleAssignment {
                variable, values, ..
            }) if variable.to_string().starts_with('@') && values.len() == 1 => {
                let name = variable.to_string();
                let Some(var) = find(vars, &name) else {
                    return Err(undeclared(line, &name));
                };
                let declared = var.ty.as_ref().map(ColumnType::name);
                let value = self.evaluate(session, &values[0], declared.as_deref(), line, vars)?;
                find(vars, &name).expect("checked above").value = value;
                out.push(Outcome::Done);
                Ok(true)
            }
            Statement::Query(q) if assigns_variables(q) => {
                self.select_into_variables(session, stmt, line, vars)?;
                out.push(Outcome::Done);
                Ok(true)
            }
            Statement::If(s) => {
                let mut chosen = None;
                for block in std::iter::once(&mut s.if_block).chain(s.elseif_blocks.iter_mut()) {
                    let Some(cond) = &block.condition else {
                        continue;
                    };
                    if self.holds(session, cond, line, vars)? {
                        chosen = Some(&mut block.conditional_statements);
                        break;
                    }
                }
                let chosen =
                    chosen.or(s.else_block.as_mut().map(|b| &mut b.conditional_statements));
                match chosen {
                    Some(ConditionalStatements::Sequence { statements }) => {
                        self.run_block(session, statements, vars, out)
                    }
                    Some(ConditionalStatements::BeginEnd(b)) => {
                        self.run_block(session, &mut b.statements, vars, out)
                    }
                    None => Ok(true),
                }
            }
            // RETURN ends the batch, without an error.
            Statement::Return(_) => {
                session.returned = true;
                out.push(Outcome::Done);
                Ok(true)
            }
            Statement::While(w) => {
                let Some(cond) = w.while_block.condition.clone() else {
                    return Ok(true);
                };
                let mut rounds = 0;
                while self.holds(session, &cond, line, vars)? {
                    if session.cancelled() {
                        return Ok(false);
                    }
                    rounds += 1;
                    if rounds > MAX_LOOPS {
                        return Err(errors::error(
                            50000,
                            16,
                            line,
                            format!("sqlsim stops a WHILE loop after {MAX_LOOPS} rounds."),
                        ));
                    }
                    // Running a statement rewrites it in place: each round runs a fresh copy.
                    let mut body = match &w.while_block.conditional_statements {
                        ConditionalStatements::Sequence { statements } => statements.clone(),
                        ConditionalStatements::BeginEnd(b) => b.statements.clone(),
                    };
                    let finished = self.run_block(session, &mut body, vars, out)?;
                    if !finished {
                        return Ok(false);
                    }
                    if session.returned {
                        return Ok(true);
                    }
                }
                Ok(true)
            }
            Statement::Execute { .. } => {
                let verb = super::catalog::activity::command_of(&stmt.to_string());
                self.activity.now_running(session.id, &verb);
                match self.exec(session, stmt, line, vars) {
                    Some(outs) => {
                        out.append(&mut outs?);
                    }
                    None => {
                        let mut outs = self.statement(session, stmt, line, vars)?;
                        out.append(&mut outs);
                    }
                }
                Ok(true)
            }
            other => {
                let verb = super::catalog::activity::command_of(&other.to_string());
                self.activity.now_running(session.id, &verb);
                let mut outs = self.statement(session, other, line, vars)?;
                out.append(&mut outs);
                Ok(true)
            }
        }
    }

    /// Whether condition `cond` (of IF or WHILE) is true in the session.
    fn holds(
        &self,
        session: &mut Session,
        cond: &Expr,
        line: i32,
        vars: &[Param],
    ) -> Result<bool, ServerMessage> {
        let one = |n: &str| Expr::value(sqlparser::ast::Value::Number(n.into(), false));
        let case = Expr::Case {
            case_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            end_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            operand: None,
            conditions: vec![sqlparser::ast::CaseWhen {
                condition: cond.clone(),
                result: one("1"),
            }],
            else_result: Some(Box::new(one("0"))),
        };
        Ok(self.evaluate(session, &case, None, line, vars)? == Value::Integer(1))
    }

    /// `DECLARE @t TABLE (…)`: a table for the batch (see `exec::table_variable`).
    fn declare_table(
        &self,
        session: &mut Session,
        name: &str,
        columns: &[sqlparser::ast::ColumnDef],
        line: i32,
        vars: &[Param],
    ) -> Result<(), ServerMessage> {
        let list: Vec<String> = columns.iter().map(ToString::to_string).collect();
        let sql = format!("CREATE TABLE {name} ({})", list.join(", "));
        let mut stmts =
            Parser::parse_sql(&MsSqlDialect {}, &sql).map_err(|e| parse_error(&e.to_string()))?;
        session.table_variables = true;
        self.statement(session, &mut stmts[0], line, vars)?;
        Ok(())
    }

    /// The value of `expr` (converted to `declared`, as assignment converts) in the session.
    pub(super) fn evaluate(
        &self,
        session: &mut Session,
        expr: &Expr,
        declared: Option<&str>,
        line: i32,
        vars: &[Param],
    ) -> Result<Value, ServerMessage> {
        let text = match declared {
            Some(ty) => format!("SELECT CAST({expr} AS {ty})"),
            None => format!("SELECT {expr}"),
        };
        let mut stmts =
            Parser::parse_sql(&MsSqlDialect {}, &text).map_err(|e| parse_error(&e.to_string()))?;
        let outs = self.statement(session, &mut stmts[0], line, vars)?;
        Ok(match outs.into_iter().next() {
            Some(Outcome::Rows { mut rows, .. }) if !rows.is_empty() => rows
                .swap_remove(0)
                .into_iter()
                .next()
                .unwrap_or(Value::Null),
            _ => Value::Null,
        })
    }

    /// `SELECT @a = x, @b = y FROM …`: the variables take the last row's values and no result
    /// set is sent; with no rows they keep what they held.
    fn select_into_variables(
        &self,
        session: &mut Session,
        stmt: &mut Statement,
        line: i32,
        vars: &mut [Param],
    ) -> Result<(), ServerMessage> {
        let Statement::Query(q) = stmt else {
            return Ok(());
        };
        let SetExpr::Select(select) = q.body.as_mut() else {
            return Ok(());
        };
        let mut targets = Vec::new();
        for item in select.projection.iter_mut() {
            if let SelectItem::ExprWithAlias { expr, alias } = item {
                let name = alias.value.clone();
                if find(vars, &name).is_none() {
                    return Err(undeclared(line, &name));
                }
                targets.push(name);
                *item = SelectItem::UnnamedExpr(expr.clone());
            }
        }
        let outs = self.statement(session, stmt, line, vars)?;
        if let Some(Outcome::Rows { rows, .. }) = outs.into_iter().next()
            && let Some(last) = rows.into_iter().last()
        {
            for (name, value) in targets.iter().zip(last) {
                find(vars, name).expect("checked above").value = value;
            }
        }
        Ok(())
    }
}

/// Whether a query is T-SQL's assignment SELECT (`SELECT @v = expr …`), which sqlparser reads
/// as columns aliased `@v`.
fn assigns_variables(q: &sqlparser::ast::Query) -> bool {
    let SetExpr::Select(select) = q.body.as_ref() else {
        return false;
    };
    !select.projection.is_empty()
        && select.projection.iter().all(|item| {
            matches!(item, SelectItem::ExprWithAlias { alias, .. } if alias.value.starts_with('@'))
        })
}
