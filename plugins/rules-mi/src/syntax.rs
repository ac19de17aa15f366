//! T-SQL that later versions removed or changed (COMPUTE, `*=` joins, old RAISERROR, NEXT as
//! a name…), and the compatibility level to run at.

use crate::limits::{self, Target};
use crate::rule::{Rule, database_finding};
use crate::scan::Scan;
use crate::tsql::Code;
use sqlmig_mi_limits as mi_limits;
use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel, FindingScope};
use sqlparser::tokenizer::Token;

pub(crate) const COMPUTE: Rule = Rule {
    id: "ComputeClause",
    level: FindingLevel::Warning,
    title: "COMPUTE clause",
    impact: "COMPUTE / COMPUTE BY was removed from T-SQL; the statement fails.",
    remediation: "Rewrite with GROUP BY … WITH ROLLUP or GROUPING SETS.",
};

pub(crate) const FASTFIRSTROW: Rule = Rule {
    id: "FastFirstRowHint",
    level: FindingLevel::Warning,
    title: "FASTFIRSTROW table hint",
    impact: "The FASTFIRSTROW hint was removed; the query fails.",
    remediation: "Use OPTION (FAST 1) instead.",
};

pub(crate) const LEFT_JOIN: Rule = Rule {
    id: "NonANSILeftOuterJoinSyntax",
    level: FindingLevel::Warning,
    title: "Non-ANSI left outer join (*=)",
    impact: "`*=` joins fail at compatibility level 90 and above.",
    remediation: "Rewrite as LEFT OUTER JOIN … ON.",
};

pub(crate) const RIGHT_JOIN: Rule = Rule {
    id: "NonANSIRightOuterJoinSyntax",
    level: FindingLevel::Warning,
    title: "Non-ANSI right outer join (=*)",
    impact: "`=*` joins fail at compatibility level 90 and above.",
    remediation: "Rewrite as RIGHT OUTER JOIN … ON.",
};

pub(crate) const RAISERROR: Rule = Rule {
    id: "RAISERROR",
    level: FindingLevel::Warning,
    title: "Legacy RAISERROR syntax",
    impact: "`RAISERROR 50001 'text'` was removed; the statement fails.",
    remediation: "Write RAISERROR(50001, 16, 1, 'text') or THROW.",
};

pub(crate) const DISABLE_CHECK: Rule = Rule {
    id: "DisableDefCNSTCHK",
    level: FindingLevel::Issue,
    title: "SET DISABLE_DEF_CNST_CHK",
    impact: "This SET option was removed; the statement fails.",
    remediation: "Remove the SET statement; defer constraint checks by disabling constraints (ALTER TABLE … NOCHECK) instead.",
};

pub(crate) const NEXT_COLUMN: Rule = Rule {
    id: "NextColumn",
    level: FindingLevel::Issue,
    title: "Table or column named NEXT",
    impact: "NEXT is a keyword (NEXT VALUE FOR); unquoted uses of the name fail.",
    remediation: "Rename the object, or quote it as [NEXT] everywhere it is used.",
};

/// Tables named NEXT, and NEXT as a column in CREATE TABLE.
pub(crate) fn next_in_create_table(code: &Code, i: usize, scan: &mut Scan) {
    let (parts, after) = code.name_at(i + 1);
    if parts.last().is_some_and(|p| p.eq_ignore_ascii_case("NEXT")) {
        scan.hit(code, &NEXT_COLUMN, i, "table named NEXT");
    }
    if !code.is(after, &Token::LParen) {
        return;
    }
    let close = code.close_paren(after);
    let mut depth = 0;
    let mut item_start = true;
    for j in after + 1..close {
        match code.get(j) {
            Some(Token::LParen) => depth += 1,
            Some(Token::RParen) => depth -= 1,
            Some(Token::Comma) if depth == 0 => {
                item_start = true;
                continue;
            }
            _ => {}
        }
        if item_start
            && depth == 0
            && code
                .ident(j)
                .is_some_and(|c| c.eq_ignore_ascii_case("NEXT"))
        {
            scan.hit(code, &NEXT_COLUMN, j, "column named NEXT");
        }
        item_start = false;
    }
}

/// Tables named NEXT and columns named NEXT.
pub fn next_named(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    for t in &db.tables {
        let table = format!("{}.{}", t.schema, t.name);
        let mut named = Vec::new();
        if t.name.eq_ignore_ascii_case("NEXT") {
            named.push(format!("table {table}"));
        }
        named.extend(
            t.columns
                .iter()
                .filter(|c| c.eq_ignore_ascii_case("NEXT"))
                .map(|c| format!("column {table}.{c}")),
        );
        for what in named {
            let mut f = database_finding(&NEXT_COLUMN, inst, db, format!("{what} is named NEXT"));
            f.scope = FindingScope::Object;
            f.object = Some(table.clone());
            out.push(f);
        }
    }
}

/// The COMPUTE clause's aggregates.
pub(crate) fn is_aggregate(code: &Code, i: usize) -> bool {
    [
        "SUM", "AVG", "MIN", "MAX", "COUNT", "STDEV", "STDEVP", "VAR", "VARP",
    ]
    .iter()
    .any(|k| code.kw(i, k))
}

/// Whether token `i + 1` is `next` and touches token `i` (no space between).
pub(crate) fn adjacent(code: &Code, i: usize, next: &Token) -> bool {
    code.is(i + 1, next) && code.line(i + 1) == code.line(i) && code.col(i + 1) == code.col(i) + 1
}

/// Whether token `i` is in a WHERE or HAVING clause (not `SET @x *= 2`).
pub(crate) fn in_filter(code: &Code, i: usize) -> bool {
    let start = code.batch_of(i).0;
    (start..i)
        .rev()
        .find_map(|j| {
            ["WHERE", "HAVING", "SET", "SELECT", "UPDATE", "ON"]
                .into_iter()
                .find(|k| code.kw(j, k))
        })
        .is_some_and(|k| k == "WHERE" || k == "HAVING")
}

pub(crate) const COMPAT: Rule = Rule {
    id: "DbCompatLevelLowerThan100",
    level: FindingLevel::Warning,
    title: "Compatibility level below 100",
    impact: "Managed Instance raises the compatibility level to 100 on restore; code relying on \
             older behaviour may change.",
    remediation: "Test the application at compatibility level 100 or above before the move.",
};

pub(crate) fn compat_level_lower_than_100(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    // 0: not known (scripts), nothing to judge.
    let lowest = mi_limits::compatibility_levels(mi_limits::UpdatePolicy::DEFAULT).0;
    if db.compatibility_level != 0 && db.compatibility_level < lowest {
        let msg = format!(
            "{} runs at compatibility level {}",
            db.name, db.compatibility_level
        );
        out.push(database_finding(&COMPAT, inst, db, msg));
    }
}

pub(crate) const COMPAT_RECOMMENDATION: Rule = Rule {
    id: "SQLMIG0401",
    level: FindingLevel::Info,
    title: "Compatibility level to run at on Managed Instance",
    impact: "A restored database keeps its level (raised to 100 if lower); the highest level the code allows gets the newest optimizer and language features.",
    remediation: "Restore, test the application at the recommended level (Query Store helps catch plan regressions), then ALTER DATABASE … SET COMPATIBILITY_LEVEL.",
};

/// The highest level the target's update policy runs that nothing found in the database's code
/// rules out; run after every other rule so their findings pin it.
pub(crate) fn recommend_compatibility_level(
    inst: &Instance,
    db: &Database,
    target: &Target,
    out: &mut Vec<Finding>,
) {
    let here =
        |f: &&Finding| f.instance == inst.name && f.database.as_deref() == Some(db.name.as_str());
    let compute = out
        .iter()
        .filter(here)
        .any(|f| f.rule_id == "ComputeClause");
    let (level, why) = if compute {
        (
            limits::COMPUTE_REMOVED_AT - 10,
            format!("COMPUTE is gone from level {}", limits::COMPUTE_REMOVED_AT),
        )
    } else {
        (
            mi_limits::compatibility_levels(target.policy).1,
            format!(
                "the highest Managed Instance runs under the {}",
                target.policy.label()
            ),
        )
    };
    let now = match db.compatibility_level {
        0 => "not known".to_string(),
        n => format!("now {n}"),
    };
    let msg = format!(
        "run {} at compatibility level {level} ({why}; {now})",
        db.name
    );
    out.push(database_finding(&COMPAT_RECOMMENDATION, inst, db, msg));
}
