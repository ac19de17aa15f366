//! Conditions of Microsoft's SQL Assessment API rules: JSON expressions over a probe row's
//! columns and the rule's own values (`@name`). A rule's check passes when its condition is true;
//! a list of conditions must all be true.

use serde_json::{Number, Value};

/// Why a condition cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum ConditionError {
    #[error("the condition uses {0}, which neither the probe nor the rule gives")]
    UnknownName(String),
    #[error("{0} takes two operands")]
    NotTwoOperands(String),
    #[error("{op}: {value} is not a number")]
    NotANumber { op: String, value: Value },
    #[error("{op}: {pattern:?} is not a pattern sqlmig can run: {error}")]
    BadPattern {
        op: String,
        pattern: String,
        error: regex::Error,
    },
    #[error("interval takes a value, then values and limits in turn")]
    IntervalShape,
    #[error("{0}: division by zero")]
    DivisionByZero(String),
    #[error("{0}: not comparable")]
    NotComparable(String),
    #[error("the condition operator {0:?} is not one sqlmig knows")]
    UnknownOperator(String),
}

/// Looks a `@name` up (without the `@`).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<Value>;

/// Whether `condition` holds for the values `vars` gives; a list of conditions must all hold.
pub fn holds(condition: &Value, vars: Lookup) -> Result<bool, ConditionError> {
    match condition {
        Value::Array(all) => {
            for c in all {
                if !holds(c, vars)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        c => Ok(truthy(&eval(c, vars)?)),
    }
}

/// The value of an expression.
pub fn eval(e: &Value, vars: Lookup) -> Result<Value, ConditionError> {
    match e {
        Value::String(s) if s.starts_with('@') => {
            vars(&s[1..]).ok_or_else(|| ConditionError::UnknownName(s.clone()))
        }
        // Inside an expression a list is a value (`in`'s right-hand side).
        Value::Array(items) => Ok(Value::Array(
            items
                .iter()
                .map(|x| eval(x, vars))
                .collect::<Result<_, _>>()?,
        )),
        Value::Object(o) if o.len() == 1 => {
            let (op, args) = o.iter().next().expect("one entry");
            // `{"@column": value}`: the column equals the value.
            if op.starts_with('@') {
                let column = eval(&Value::from(op.as_str()), vars)?;
                return Ok(Value::Bool(equal(&column, &eval(args, vars)?, false)));
            }
            apply(op, args, vars)
        }
        other => Ok(other.clone()),
    }
}

fn apply(op: &str, args: &Value, vars: Lookup) -> Result<Value, ConditionError> {
    // Operands: a list for most operators, one value for `not`, `ceiling` and `floor`.
    let operands: Vec<Value> = match args {
        Value::Array(a) if !matches!(op, "not" | "ceiling" | "floor") => {
            a.iter().map(|x| eval(x, vars)).collect::<Result<_, _>>()?
        }
        other => vec![eval(other, vars)?],
    };
    let two = || -> Result<(&Value, &Value), ConditionError> {
        match operands.as_slice() {
            [a, b] => Ok((a, b)),
            _ => Err(ConditionError::NotTwoOperands(op.to_string())),
        }
    };
    let num = |v: &Value| {
        number(v).ok_or_else(|| ConditionError::NotANumber {
            op: op.to_string(),
            value: v.clone(),
        })
    };
    let b = |x: bool| Ok(Value::Bool(x));
    match op {
        "and" => b(operands.iter().all(truthy)),
        "or" => b(operands.iter().any(truthy)),
        "not" => b(!truthy(&operands[0])),
        "eq" | "equal" => {
            let (x, y) = two()?;
            b(equal(x, y, false))
        }
        "ne" | "notequal" => {
            let (x, y) = two()?;
            b(!equal(x, y, false))
        }
        "ieq" => {
            let (x, y) = two()?;
            b(equal(x, y, true))
        }
        "ine" => {
            let (x, y) = two()?;
            b(!equal(x, y, true))
        }
        "lt" | "less" => compare(two()?, |o| o.is_lt(), op),
        "le" | "lessequal" => compare(two()?, |o| o.is_le(), op),
        "gt" | "greater" => compare(two()?, |o| o.is_gt(), op),
        "ge" | "greaterequal" => compare(two()?, |o| o.is_ge(), op),
        "in" | "iin" => {
            let (x, list) = two()?;
            b(items(list).iter().any(|i| equal(x, i, op == "iin")))
        }
        "intersect" => {
            let (x, y) = two()?;
            b(items(x)
                .iter()
                .any(|i| items(y).iter().any(|j| equal(i, j, false))))
        }
        "imatch" | "match" => {
            let (x, pattern) = two()?;
            let pattern = text(pattern);
            let re = regex::RegexBuilder::new(&pattern)
                .case_insensitive(op == "imatch")
                .build()
                .map_err(|error| ConditionError::BadPattern {
                    op: op.to_string(),
                    pattern: pattern.clone(),
                    error,
                })?;
            b(re.is_match(&text(x)))
        }
        "istartswith" | "startswith" => {
            let (x, y) = two()?;
            let (x, y) = (text(x), text(y));
            b(if op == "istartswith" {
                x.to_lowercase().starts_with(&y.to_lowercase())
            } else {
                x.starts_with(&y)
            })
        }
        // Sums, products, least and greatest of any number of operands.
        "add" | "mul" | "min" | "max" if operands.len() != 2 => {
            let xs = operands.iter().map(num).collect::<Result<Vec<f64>, _>>()?;
            let r = match op {
                "add" => xs.iter().sum(),
                "mul" => xs.iter().product(),
                "min" => xs.iter().copied().fold(f64::INFINITY, f64::min),
                _ => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            };
            Ok(to_value(r))
        }
        "min" | "max" => {
            let (x, y) = two()?;
            let (x, y) = (num(x)?, num(y)?);
            Ok(to_value(if op == "min" { x.min(y) } else { x.max(y) }))
        }
        // `interval: [x, v0, t1, v1, …, tn, vn]`: v0 up to t1, v1 up to t2, …, vn above tn.
        "interval" => {
            let x = num(operands.first().ok_or(ConditionError::IntervalShape)?)?;
            let rest = &operands[1..];
            if rest.len().is_multiple_of(2) {
                return Err(ConditionError::IntervalShape);
            }
            let mut chosen = &rest[0];
            for pair in rest[1..].chunks(2) {
                if x <= num(&pair[0])? {
                    break;
                }
                chosen = &pair[1];
            }
            Ok(chosen.clone())
        }
        "add" | "sub" | "mul" | "div" | "mod" | "bitand" => {
            let (x, y) = two()?;
            let (x, y) = (num(x)?, num(y)?);
            let r = match op {
                "add" => x + y,
                "sub" => x - y,
                "mul" => x * y,
                "div" | "mod" if y == 0.0 => {
                    return Err(ConditionError::DivisionByZero(op.to_string()));
                }
                "div" => x / y,
                "mod" => x % y,
                _ => ((x as i64) & (y as i64)) as f64,
            };
            Ok(to_value(r))
        }
        "ceiling" => Ok(to_value(num(&operands[0])?.ceil())),
        "floor" => Ok(to_value(num(&operands[0])?.floor())),
        _ => Err(ConditionError::UnknownOperator(op.to_string())),
    }
}

fn compare(
    (x, y): (&Value, &Value),
    test: impl Fn(std::cmp::Ordering) -> bool,
    op: &str,
) -> Result<Value, ConditionError> {
    let ord = match (number(x), number(y)) {
        (Some(a), Some(b)) => a
            .partial_cmp(&b)
            .ok_or_else(|| ConditionError::NotComparable(op.to_string()))?,
        _ => text(x).cmp(&text(y)),
    };
    Ok(Value::Bool(test(ord)))
}

/// A list's items, or the value itself as a one-item list.
fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// Whether two values are equal: as numbers where both are, else as text.
pub fn equal(x: &Value, y: &Value, ignore_case: bool) -> bool {
    match (number(x), number(y)) {
        (Some(a), Some(b)) => a == b,
        _ if ignore_case => text(x).to_lowercase() == text(y).to_lowercase(),
        _ => text(x) == text(y) && !(x.is_null() ^ y.is_null()),
    }
}

/// A number, from a number, a numeric string or a boolean (SQL's bit).
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// The text of a value as a message shows it.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !(s.is_empty() || s == "0" || s.eq_ignore_ascii_case("false")),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn to_value(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        Value::from(x as i64)
    } else {
        Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(c: Value, row: Value) -> Result<bool, ConditionError> {
        let lookup = |name: &str| row.get(name).cloned();
        holds(&c, &lookup)
    }

    #[test]
    fn microsofts_operators_evaluate() {
        let row = json!({"TraceFlag": [1117, 3226], "recovery_model": 3, "name": "Sales", "cpus": 12, "numa": 2, "threshold": 0.25, "rel": "0.1"});
        assert!(!check(json!({"not": {"in": [1117, "@TraceFlag"]}}), row.clone()).unwrap());
        assert!(check(json!({"in": [3226, "@TraceFlag"]}), row.clone()).unwrap());
        assert!(check(json!({"eq": ["@recovery_model", 3]}), row.clone()).unwrap());
        assert!(
            check(
                json!([{"gt": [8, {"div": ["@cpus", "@numa"]}]}, {"ine": ["@name", "SALES2"]}]),
                row.clone()
            )
            .unwrap()
        );
        assert!(
            check(
                json!({"eq": [{"ceiling": {"div": [13, 2]}}, 7]}),
                row.clone()
            )
            .unwrap()
        );
        assert!(
            !check(json!({"greater": ["@rel", "@threshold"]}), row.clone()).unwrap(),
            "numeric strings compare as numbers"
        );
        assert!(check(json!({"iin": ["sales", ["x", "SALES"]]}), row.clone()).unwrap());
        assert!(check(json!({"imatch": ["@name", "^sal"]}), row.clone()).unwrap());
        assert!(check(json!({"eq": [{"bitand": [6, 3]}, 2]}), row.clone()).unwrap());
        assert!(!check(json!({"intersect": [[1, 2], "@TraceFlag"]}), row.clone()).unwrap());
        assert!(check(json!({"intersect": [[2, 3226], "@TraceFlag"]}), row.clone()).unwrap());
        assert!(check(json!({"or": [false, {"le": [1, 2]}]}), row.clone()).unwrap());
        // `{"@column": value}` is equality.
        assert!(check(json!({"@recovery_model": 3}), row.clone()).unwrap());
        assert!(!check(json!({"@name": "Books"}), row.clone()).unwrap());
        // n-ary arithmetic, floor, min/max and interval (the memory rules' locals).
        assert!(
            check(
                json!({"eq": [{"mul": [2, 1024, 1024]}, 2097152]}),
                row.clone()
            )
            .unwrap()
        );
        assert!(check(json!({"eq": [{"floor": 7.9}, 7]}), row.clone()).unwrap());
        assert!(check(json!({"eq": [{"min": [5, "@cpus", 9]}, 5]}), row.clone()).unwrap());
        let reserve = |mb: i64| {
            eval(
                &json!({"interval": [mb, 512, 2048, 819, 4096, 1228]}),
                &|_: &str| None,
            )
            .unwrap()
        };
        assert_eq!(reserve(2048), json!(512), "up to and including the limit");
        assert_eq!(reserve(3000), json!(819));
        assert_eq!(reserve(65536), json!(1228), "above the last limit");
    }

    #[test]
    fn unknown_variables_and_operators_are_errors_not_passes() {
        let row = json!({});
        assert!(matches!(
            check(json!("@missing"), row.clone()).unwrap_err(),
            ConditionError::UnknownName(n) if n == "@missing"
        ));
        assert!(matches!(
            check(json!({"frobnicate": [1, 2]}), row.clone()).unwrap_err(),
            ConditionError::UnknownOperator(op) if op == "frobnicate"
        ));
        let err = check(json!({"div": [1, 0]}), row).unwrap_err();
        assert!(matches!(&err, ConditionError::DivisionByZero(op) if op == "div"));
        assert_eq!(err.to_string(), "div: division by zero");
    }
}
