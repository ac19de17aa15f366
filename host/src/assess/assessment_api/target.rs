//! Which servers and databases a rule or probe applies to: the `target` object of Microsoft's
//! SQL Assessment API format (type, engine edition, version ranges, platform, database name).

use serde_json::Value;

/// What a rule is evaluated against.
#[derive(Clone, Debug)]
pub struct Subject<'a> {
    /// `Server` or `Database`.
    pub kind: &'static str,
    /// SERVERPROPERTY('EngineEdition').
    pub engine_edition: i32,
    /// SERVERPROPERTY('Edition'), e.g. `Enterprise Edition (64-bit)`.
    pub edition: &'a str,
    /// SERVERPROPERTY('ProductVersion'), e.g. `13.0.6300.2`.
    pub version: &'a str,
    /// `Windows` or `Linux`.
    pub platform: &'a str,
    /// The database's name (database subjects).
    pub name: Option<&'a str>,
}

/// Whether `target` (absent: everything) applies to `s`.
pub fn matches(target: Option<&Value>, s: &Subject) -> bool {
    let Some(t) = target else {
        return true;
    };
    let field = |k: &str| t.get(k).filter(|v| !v.is_null());
    field("type")
        .and_then(Value::as_str)
        .is_none_or(|ty| ty.eq_ignore_ascii_case(s.kind))
        && field("engineEdition").is_none_or(|e| edition_matches(e, s))
        && field("platform").is_none_or(|p| {
            any_string(p, |list| {
                list.split(',')
                    .any(|x| x.trim().eq_ignore_ascii_case(s.platform))
            })
        })
        && field("version").is_none_or(|v| any_string(v, |range| in_range(s.version, range)))
        && field("name").is_none_or(|n| name_matches(n, s.name))
}

/// A string or a list of strings, any of which satisfies `f`.
fn any_string(v: &Value, f: impl Fn(&str) -> bool) -> bool {
    match v {
        Value::String(x) => f(x),
        Value::Array(a) => a.iter().filter_map(Value::as_str).any(f),
        _ => false,
    }
}

/// `"SqlServer, ManagedInstance"`: engine kinds or editions, any of which will do.
fn edition_matches(v: &Value, s: &Subject) -> bool {
    any_string(v, |list| {
        list.split(',')
            .map(str::trim)
            .any(|e| match e.to_ascii_lowercase().as_str() {
                "sqlserver" | "onpremises" => (1..=4).contains(&s.engine_edition),
                "managedinstance" => s.engine_edition == 8,
                "azuresqldatabase" | "sqldatabase" => s.engine_edition == 5,
                "enterprise" => s.engine_edition == 3,
                "standard" => s.engine_edition == 2,
                "express" => s.engine_edition == 4,
                "personal" => s.engine_edition == 1,
                other => s.edition.to_ascii_lowercase().contains(other),
            })
    })
}

/// A database name, a `/regex/`, a list of them, or `{"not": …}` of either; case-insensitive.
fn name_matches(v: &Value, name: Option<&str>) -> bool {
    let Some(name) = name else {
        return true;
    };
    match v {
        Value::Object(o) if o.contains_key("not") => !name_matches(&o["not"], Some(name)),
        other => any_string(other, |n| {
            match n.strip_prefix('/').and_then(|r| r.strip_suffix('/')) {
                Some(pattern) => regex::RegexBuilder::new(pattern)
                    .case_insensitive(true)
                    .build()
                    .is_ok_and(|re| re.is_match(name)),
                None => n.eq_ignore_ascii_case(name),
            }
        }),
    }
}

/// Whether `version` lies in `range`: `[11.0,12.0)`, `[13.0,)`, `(,12.0]` or one version.
pub fn in_range(version: &str, range: &str) -> bool {
    let r = range.trim();
    let (Some(open), Some(close)) = (r.chars().next(), r.chars().last()) else {
        return false;
    };
    if !matches!(open, '[' | '(') {
        return compare(version, r) == std::cmp::Ordering::Equal;
    }
    let inner = &r[1..r.len() - 1];
    let (low, high) = inner.split_once(',').unwrap_or((inner, inner));
    let (low, high) = (low.trim(), high.trim());
    let above = low.is_empty() || {
        let c = compare(version, low);
        c.is_gt() || (c.is_eq() && open == '[')
    };
    let below = high.is_empty() || {
        let c = compare(version, high);
        c.is_lt() || (c.is_eq() && close == ']')
    };
    above && below
}

/// Dotted versions compared part by part, missing parts as 0.
fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| -> Vec<u64> {
        v.split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect()
    };
    let (a, b) = (parts(a), parts(b));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x.cmp(&y);
        }
    }
    std::cmp::Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn server(version: &str, ee: i32) -> Subject<'_> {
        Subject {
            kind: "Server",
            engine_edition: ee,
            edition: "Enterprise Edition",
            version,
            platform: "Windows",
            name: None,
        }
    }

    #[test]
    fn version_ranges_are_interval_notation() {
        assert!(in_range("13.0.6300.2", "[13.0,)"));
        assert!(!in_range("12.0.6024.0", "[13.0,)"));
        assert!(in_range("11.0.3368", "[11.0.3368,12.0)"));
        assert!(!in_range("12.0", "[11.0.3368,12.0)"));
        assert!(in_range("12.0", "(,12.0]"));
    }

    #[test]
    fn targets_match_by_type_edition_version_platform_and_name() {
        let t = json!({"type": "Server", "engineEdition": "SqlServer, ManagedInstance", "version": ["[11.0,12.0)", "[13.0,)"], "platform": ["Windows", "Linux"]});
        assert!(matches(Some(&t), &server("13.0.1", 3)));
        assert!(matches(Some(&t), &server("16.0.1", 8)));
        assert!(
            !matches(Some(&t), &server("12.0.1", 3)),
            "between the ranges"
        );
        assert!(
            !matches(Some(&t), &server("16.0.1", 5)),
            "Azure SQL Database"
        );
        let db = json!({"type": "Database", "name": {"not": ["master", "tempdb"]}});
        let mut s = server("16.0", 3);
        s.kind = "Database";
        s.name = Some("Sales");
        assert!(matches(Some(&db), &s));
        s.name = Some("TEMPDB");
        assert!(!matches(Some(&db), &s));
        let pattern =
            json!({"name": {"not": "/^(master|tempdb|model)$/"}, "platform": "Windows, Linux"});
        assert!(!matches(Some(&pattern), &s));
        s.name = Some("Sales");
        assert!(matches(Some(&pattern), &s));
        assert!(
            !matches(Some(&db), &server("16.0", 3)),
            "a database rule is not a server rule"
        );
    }
}
