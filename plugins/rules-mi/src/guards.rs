//! MI-aware code: branches of `IF SERVERPROPERTY('EngineEdition') …` that never run on Managed
//! Instance (EngineEdition 8), and code after such a branch returns on MI, are not findings.
//!
//! sqlparser parses the condition and finds where a single-statement branch ends; `BEGIN … END`
//! blocks are matched on tokens. Where sqlparser cannot parse a branch, its end is estimated
//! (next `;` or next line starting a statement).

use sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget,
    UnaryOperator, Value,
};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::tsql::{Code, LexError};

/// SERVERPROPERTY('EngineEdition') on Managed Instance.
/// Tokenizes `text` and marks what never runs on Managed Instance: the code text rules scan.
pub fn parse(text: &str) -> Result<Code, LexError> {
    let mut code = Code::parse(text)?;
    mark(&mut code);
    Ok(code)
}

const MI_ENGINE_EDITION: f64 = 8.0;

/// Marks `code.not_on_mi` for every MI guard in the text.
pub fn mark(code: &mut Code) {
    for i in 0..code.toks.len() {
        if code.kw(i, "IF") && mentions_engine_edition(code, i + 1) {
            guard(code, i);
        }
    }
}

/// Whether the few tokens after an IF name the EngineEdition property (cheap filter before parsing).
fn mentions_engine_edition(code: &Code, from: usize) -> bool {
    (from..(from + 12).min(code.toks.len())).any(|j| {
        code.string(j)
            .is_some_and(|s| s.eq_ignore_ascii_case("EngineEdition"))
    })
}

/// Handles the IF at `at`.
fn guard(code: &mut Code, at: usize) {
    let batch_end = code.batch_of(at).1;
    let mut parser = Parser::new(&MsSqlDialect {})
        .with_tokens_with_locations(code.toks[at + 1..batch_end].to_vec());
    let Ok(condition) = parser.parse_expr() else {
        return;
    };
    let then_start = at + 1 + parser.index();
    let then_end = branch_end(code, then_start);
    let mut next = then_end;
    while code.is(next, &Token::SemiColon) {
        next += 1;
    }
    let else_branch = code
        .kw(next, "ELSE")
        .then(|| (next + 1, branch_end(code, next + 1)));
    let mark_range =
        |code: &mut Code, (s, e): (usize, usize)| code.not_on_mi[s..e.min(batch_end)].fill(true);
    match truth_on_mi(&condition) {
        Some(true) => {
            if let Some(range) = else_branch {
                mark_range(code, range);
            }
            if returns(code, then_start, then_end) {
                let after = else_branch.map_or(then_end, |(_, e)| e);
                mark_range(code, (after, batch_end));
            }
        }
        Some(false) => {
            mark_range(code, (then_start, then_end));
            if let Some((s, e)) = else_branch
                && returns(code, s, e)
            {
                mark_range(code, (e, batch_end));
            }
        }
        // A test of the edition the rules cannot evaluate: the author thought about MI.
        None => {
            mark_range(code, (then_start, else_branch.map_or(then_end, |(_, e)| e)));
        }
    }
}

/// The end (exclusive) of the statement or BEGIN … END block starting at `start`.
fn branch_end(code: &Code, start: usize) -> usize {
    if code.kw(start, "BEGIN") && !begins_transaction_or_dialog(code, start) {
        return block_end(code, start) + 1;
    }
    let batch_end = code.batch_of(start).1;
    if start >= batch_end {
        return start;
    }
    let mut parser = Parser::new(&MsSqlDialect {})
        .with_tokens_with_locations(code.toks[start..batch_end].to_vec());
    match parser.parse_statement() {
        Ok(_) => start + parser.index(),
        // Token-level fallback: sqlparser does not know this statement.
        Err(_) => code.statement_end(start),
    }
}

/// `BEGIN TRAN`, `BEGIN DISTRIBUTED TRANSACTION`, `BEGIN DIALOG` open no block.
fn begins_transaction_or_dialog(code: &Code, begin: usize) -> bool {
    [
        "TRAN",
        "TRANSACTION",
        "DISTRIBUTED",
        "DIALOG",
        "CONVERSATION",
    ]
    .iter()
    .any(|k| code.kw(begin + 1, k))
}

/// The END matching the BEGIN at `begin` (CASE … END and BEGIN TRY … END TRY nest inside).
pub fn block_end(code: &Code, begin: usize) -> usize {
    let mut depth = 0usize;
    for j in begin..code.toks.len() {
        if (code.kw(j, "BEGIN") && !begins_transaction_or_dialog(code, j)) || code.kw(j, "CASE") {
            depth += 1;
        } else if code.kw(j, "END") && !code.kw(j + 1, "CONVERSATION") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return j;
            }
        }
    }
    code.toks.len().saturating_sub(1)
}

/// Whether the branch `start..end` ends by returning (`RETURN [n]`, or a block whose last
/// statement is one), so nothing after it runs.
fn returns(code: &Code, start: usize, end: usize) -> bool {
    let mut last = end;
    if code.kw(start, "BEGIN") {
        last -= 1;
    }
    while last > start
        && matches!(
            code.get(last - 1),
            Some(Token::SemiColon | Token::Number(..))
        )
    {
        last -= 1;
    }
    last > start && code.kw(last - 1, "RETURN")
}

/// A value while evaluating a condition on MI.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Num(f64),
    Text(String),
    Bool(bool),
}

/// The condition's value on Managed Instance, when it depends only on the engine edition.
fn truth_on_mi(e: &Expr) -> Option<bool> {
    match eval(e)? {
        V::Bool(b) => Some(b),
        _ => None,
    }
}

fn eval(e: &Expr) -> Option<V> {
    match e {
        Expr::Nested(x) => eval(x),
        Expr::Cast { expr, .. } => eval(expr),
        Expr::Convert { expr, .. } => eval(expr),
        Expr::Function(f) => is_engine_edition(f).then_some(V::Num(MI_ENGINE_EDITION)),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok().map(V::Num),
            Value::SingleQuotedString(s) | Value::NationalStringLiteral(s) => {
                Some(V::Text(s.clone()))
            }
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => match eval(expr)? {
            V::Bool(b) => Some(V::Bool(!b)),
            _ => None,
        },
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            ..
        } => {
            let x = eval(expr)?;
            let mut found = false;
            for item in list {
                found |= equal(&x, &eval(item)?)?;
            }
            Some(V::Bool(found != *negated))
        }
        Expr::BinaryOp { left, op, right } => binary(eval(left)?, op, eval(right)?),
        _ => None,
    }
}

/// `SERVERPROPERTY('EngineEdition')`.
fn is_engine_edition(f: &Function) -> bool {
    let FunctionArguments::List(list) = &f.args else {
        return false;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] = list.args.as_slice() else {
        return false;
    };
    f.name.to_string().eq_ignore_ascii_case("SERVERPROPERTY")
        && matches!(&v.value, Value::SingleQuotedString(s) | Value::NationalStringLiteral(s) if s.eq_ignore_ascii_case("EngineEdition"))
}

fn binary(l: V, op: &BinaryOperator, r: V) -> Option<V> {
    use BinaryOperator::*;
    let b = match op {
        And | Or => match (l, r) {
            (V::Bool(a), V::Bool(b)) => {
                if matches!(op, And) {
                    a && b
                } else {
                    a || b
                }
            }
            _ => return None,
        },
        Eq => equal(&l, &r)?,
        NotEq => !equal(&l, &r)?,
        Lt | LtEq | Gt | GtEq => {
            let (a, b) = (number(&l)?, number(&r)?);
            match op {
                Lt => a < b,
                LtEq => a <= b,
                Gt => a > b,
                _ => a >= b,
            }
        }
        _ => return None,
    };
    Some(V::Bool(b))
}

/// T-SQL compares a number with a numeric string as numbers.
fn equal(l: &V, r: &V) -> Option<bool> {
    Some(number(l)? == number(r)?)
}

fn number(v: &V) -> Option<f64> {
    match v {
        V::Num(n) => Some(*n),
        V::Text(s) => s.trim().parse().ok(),
        V::Bool(_) => None,
    }
}
