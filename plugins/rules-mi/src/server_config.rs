//! Instance configuration and server features: trace flags, sp_configure and ALTER DATABASE
//! options, extended and system procedures, xp_cmdshell and OLE Automation, server triggers and
//! event sessions, the buffer pool extension, In-Memory OLTP, Machine Learning Services, full-text
//! semantics, DBCC.

use crate::limits::{self, Target};
use crate::rule::{Rule, database_findings, instance_finding, instance_findings};
use crate::scan::{Scan, find_in_statement};
use crate::storage::{LOGS, declared_filestream};
use crate::tsql::Code;
use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel};
use sqlparser::tokenizer::Token;

pub(crate) const TRACE: Rule = Rule {
    id: "TraceFlags",
    level: FindingLevel::Warning,
    title: "Global trace flags Managed Instance does not support",
    impact: "These trace flags cannot be set on Managed Instance; behaviour that depends on them changes.",
    remediation: "Check what each flag was for and whether Managed Instance's defaults cover it.",
};

/// Global trace flags MI does not let you set.
pub fn trace_flags(inst: &Instance, out: &mut Vec<Finding>) {
    let unsupported: Vec<String> = inst
        .trace_flags
        .iter()
        .filter(|f| !limits::SUPPORTED_TRACE_FLAGS.contains(f))
        .map(|f| f.to_string())
        .collect();
    if !unsupported.is_empty() {
        out.push(instance_finding(
            &TRACE,
            inst,
            None,
            format!("trace flags {} are on", unsupported.join(", ")),
        ));
    }
}

pub(crate) const TRACE_FLAG_STATEMENT: Rule = Rule {
    id: "SQLMIG0227",
    level: FindingLevel::Issue,
    title: "Session or unsupported trace flag",
    impact: "Managed Instance sets only global trace flags (DBCC TRACEON (flag, -1)) from its list of supported ones; session trace flags are not supported (dbcc-traceon-trace-flags-transact-sql.md, ms.date 2026-04-20).",
    remediation: "Make the flag global with -1 if Managed Instance supports it (460, 2301, 2389, 2390, 2453, 2467, 7471, 8207, 9389, 10316, 11024); otherwise use a database scoped configuration or a query hint instead.",
};

pub(crate) const CONFIGURE: Rule = Rule {
    id: "SQLMIG0211",
    level: FindingLevel::Warning,
    title: "sp_configure option Managed Instance refuses",
    impact: "The option cannot be changed on Managed Instance; the call fails.",
    remediation: "Remove the call; Managed Instance keeps this option at its default.",
};

pub(crate) const DATABASE_OPTION: Rule = Rule {
    id: "SQLMIG0228",
    level: FindingLevel::Issue,
    title: "ALTER DATABASE option Managed Instance refuses",
    impact: "Managed Instance keeps databases online, read-write, multi-user, in the full recovery model with CHECKSUM page verification and its own Service Broker settings; these options can't be modified (T-SQL differences, ALTER DATABASE statement).",
    remediation: "Remove the option from the code; for maintenance that needed SINGLE_USER or OFFLINE, use the managed instance's own operations.",
};

/// ALTER DATABASE … SET options Managed Instance refuses (T-SQL differences, "ALTER DATABASE
/// statement": "The following options can't be modified"), as the words that set them.
pub(crate) const REFUSED_DATABASE_OPTIONS: &[&[&str]] = &[
    &["AUTO_CLOSE"],
    &["DISABLE_BROKER"],
    &["EMERGENCY"],
    &["ENABLE_BROKER"],
    &["NEW_BROKER"],
    &["OFFLINE"],
    &["PAGE_VERIFY"],
    &["READ_ONLY"],
    &["RECOVERY", "BULK_LOGGED"],
    &["RECOVERY", "SIMPLE"],
    &["REMOTE_DATA_ARCHIVE"],
    &["RESTRICTED_USER"],
    &["SINGLE_USER"],
];

/// ALTER DATABASE … SET of an option Managed Instance refuses, ADD LOG FILE (a second log
/// file), ADD FILEGROUP … CONTAINS FILESTREAM.
pub(crate) fn alter_database(code: &Code, i: usize, scan: &mut Scan) {
    let name = code.toks_name(i + 1);
    if let Some(set) = find_in_statement(code, i, |j| code.kw(j, "SET")) {
        let end = code.statement_end(i);
        for j in set + 1..end {
            if let Some(words) = REFUSED_DATABASE_OPTIONS.iter().find(|w| code.kws(j, w)) {
                scan.hit(
                    code,
                    &DATABASE_OPTION,
                    j,
                    format!("ALTER DATABASE {name} SET {}", words.join(" ")),
                );
                break;
            }
        }
    }
    if let Some(j) = find_in_statement(code, i, |j| code.kws(j, &["ADD", "LOG", "FILE"])) {
        scan.hit(
            code,
            &LOGS,
            j,
            format!("ALTER DATABASE {name} ADD LOG FILE: another log file"),
        );
    }
    declared_filestream(code, i, name, scan);
}

pub(crate) const STARTUP_PROC: Rule = Rule {
    id: "SQLMIG0217",
    level: FindingLevel::Warning,
    title: "Startup procedure",
    impact: "Managed Instance does not run startup procedures ('scan for startup procs' cannot be set).",
    remediation: "Run the procedure from a SQL Agent job scheduled 'Start automatically when SQL Server Agent starts'.",
};

/// Adding or dropping an extended procedure: always refused.
pub(crate) const EXTENDED_PROCS: Rule = Rule {
    id: "SQLMIG0209",
    level: FindingLevel::Issue,
    title: "Extended stored procedures",
    impact: "Managed Instance supports no custom extended stored procedures and few system ones.",
    remediation: "Replace the extended procedure with CLR (from binary), T-SQL or a service outside the database.",
};

/// Calling one: a custom one fails, a few system ones (xp_readerrorlog, xp_msver) still work.
pub(crate) const EXTENDED_PROC_CALL: Rule = Rule {
    level: FindingLevel::Warning,
    impact: "Custom extended stored procedures do not exist on Managed Instance; most system ones (registry, file system) fail there.",
    ..EXTENDED_PROCS
};

pub const XP_CMDSHELL: Rule = Rule {
    id: "XpCmdshell",
    level: FindingLevel::Issue,
    title: "xp_cmdshell",
    impact: "Managed Instance does not support xp_cmdshell.",
    remediation: "Move the operating-system work to Azure Automation, Azure Functions or the application.",
};

pub(crate) const OLE_AUTOMATION: Rule = Rule {
    id: "SQLMIG0229",
    level: FindingLevel::Issue,
    title: "OLE Automation procedures",
    impact: "Managed Instance has no OLE Automation: 'Ole Automation Procedures' is ignored and sp_OA* calls fail (T-SQL differences; features comparison).",
    remediation: "Move the work out of the database (an Azure Function or an application), or use sp_invoke_external_rest_endpoint for HTTP calls.",
};

pub(crate) const SYSTEM_PROCEDURES: Rule = Rule {
    id: "SystemProcedures110",
    level: FindingLevel::Warning,
    title: "System procedures removed from SQL Server",
    impact: "sp_dboption, sp_addserver, sp_dropalias and sp_activedirectory_* do not exist on Managed Instance.",
    remediation: "Use ALTER DATABASE … SET for database options, sp_addlinkedserver for servers, database users for aliases.",
};

pub(crate) const ALIAS: Rule = Rule {
    id: "DatabasePrincipalAlias",
    level: FindingLevel::Issue,
    title: "Database principal aliases",
    impact: "Aliases (sp_addalias) are not supported on Managed Instance.",
    remediation: "Replace each alias with a database user, and grant it the permissions or roles the alias relied on.",
};

pub(crate) const SERVER_TRIGGER: Rule = Rule {
    id: "SQLMIG0216",
    level: FindingLevel::Warning,
    title: "Server-level trigger",
    impact: "Server triggers move with the instance, not with a database backup; events they rely on may differ on MI.",
    remediation: "Script the trigger to the managed instance and test the events it handles.",
};

pub(crate) const XEVENT_TARGET: Rule = Rule {
    id: "SQLMIG0212",
    level: FindingLevel::Issue,
    title: "Extended Events target on disk or ETW",
    impact: "Managed Instance writes event_file targets only to Azure Blob Storage and has no ETW target.",
    remediation: "Point event_file at an https:// blob URL (with a SAS credential), or use ring_buffer.",
};

pub(crate) fn event_session(code: &Code, i: usize, scan: &mut Scan) {
    let end = code.statement_end(i);
    let mut j = i + 2;
    while j < end {
        if code.kws(j, &["ADD", "TARGET"]) {
            let (parts, after) = code.name_at(j + 2);
            let target = parts.last().copied().unwrap_or("").to_ascii_lowercase();
            if target == "etw_classic_sync_target" {
                scan.hit(
                    code,
                    &XEVENT_TARGET,
                    j,
                    "event session target etw_classic_sync_target",
                );
            } else if target == "event_file" {
                // `(SET filename = …)` or, without parentheses, up to the next ADD.
                let options_end = if code.is(after, &Token::LParen) {
                    code.close_paren(after)
                } else {
                    (after..end).find(|&k| code.kw(k, "ADD")).unwrap_or(end)
                };
                let file = (after..options_end)
                    .find(|&k| code.kw(k, "FILENAME") && code.is(k + 1, &Token::Eq))
                    .and_then(|k| code.string(k + 2));
                if let Some(file) = file.filter(|f| !f.to_ascii_lowercase().starts_with("https://"))
                {
                    scan.hit(
                        code,
                        &XEVENT_TARGET,
                        j,
                        format!("event_file target writes to {file}"),
                    );
                }
            }
            j = after;
        } else {
            j += 1;
        }
    }
}

pub(crate) const BUFFER_POOL: Rule = Rule {
    id: "SQLMIG0206",
    level: FindingLevel::Issue,
    title: "Buffer pool extension",
    impact: "Managed Instance does not support buffer pool extension.",
    remediation: "Remove the statement; size the instance's memory through its vCores instead.",
};

/// What scripts and catalogs report for memory-optimized data; the level depends on the tier
/// (`in_memory_rule`).
pub(crate) const IN_MEMORY: Rule = Rule {
    id: "SQLMIG0220",
    level: FindingLevel::Warning,
    title: "In-memory OLTP",
    impact: "Memory-optimized tables exist only on the Business Critical tier; General Purpose and Next-gen General Purpose refuse the restore.",
    remediation: "Choose Business Critical, or convert the tables to disk-based ones before the move.",
};

pub(crate) const IN_MEMORY_ON_GP: Rule = Rule {
    level: FindingLevel::Issue,
    ..IN_MEMORY
};

pub(crate) const IN_MEMORY_ON_BC: Rule = Rule {
    level: FindingLevel::Info,
    impact: "Business Critical supports memory-optimized tables; their size counts against the instance's memory.",
    remediation: "Size the instance so the memory-optimized data fits its in-memory OLTP storage.",
    ..IN_MEMORY
};

/// In-memory OLTP: an issue on a tier without it, information on one with it.
pub(crate) fn in_memory_rule(target: &Target) -> &'static Rule {
    if target.in_memory_oltp() {
        &IN_MEMORY_ON_BC
    } else {
        &IN_MEMORY_ON_GP
    }
}

pub(crate) const ML_SERVICES: Rule = Rule {
    id: "SQLMIG0222",
    level: FindingLevel::Info,
    title: "Machine Learning Services",
    impact: "Managed Instance runs R and Python through sp_execute_external_script once 'external scripts enabled' is set; packages must be reinstalled.",
    remediation: "Enable external scripts on the managed instance and install the packages the scripts need.",
};

pub(crate) const SEMANTIC: Rule = Rule {
    id: "SQLMIG0208",
    level: FindingLevel::Issue,
    title: "Semantic search",
    impact: "Managed Instance does not support statistical semantic search.",
    remediation: "Replace semantic search with full-text search or an external search service.",
};

pub(crate) const DBCC: Rule = Rule {
    id: "SQLMIG0215",
    level: FindingLevel::Warning,
    title: "Undocumented DBCC command",
    impact: "Managed Instance refuses most undocumented DBCC commands.",
    remediation: "Replace the command with a documented DBCC command or a dynamic management view.",
};

/// DBCC commands Microsoft documents; any other is undocumented and may be refused on MI.
pub(crate) const DOCUMENTED_DBCC: &[&str] = &[
    "CHECKALLOC",
    "CHECKCATALOG",
    "CHECKCONSTRAINTS",
    "CHECKDB",
    "CHECKFILEGROUP",
    "CHECKIDENT",
    "CHECKTABLE",
    "CLEANTABLE",
    "CLONEDATABASE",
    "DBREINDEX",
    "DROPCLEANBUFFERS",
    "FREEPROCCACHE",
    "FREESESSIONCACHE",
    "FREESYSTEMCACHE",
    "HELP",
    "INDEXDEFRAG",
    "INPUTBUFFER",
    "OPENTRAN",
    "OUTPUTBUFFER",
    "PROCCACHE",
    "SHOW_STATISTICS",
    "SHOWCONTIG",
    "SHRINKDATABASE",
    "SHRINKFILE",
    "SQLPERF",
    "TRACEOFF",
    "TRACEON",
    "TRACESTATUS",
    "UPDATEUSAGE",
    "USEROPTIONS",
];

/// DBCC TRACEON/TRACEOFF as Managed Instance runs them: global (`-1`, "This argument is required
/// in Azure SQL Managed Instance", dbcc-traceon-transact-sql.md) and only for the trace flags it
/// supports (`SUPPORTED_TRACE_FLAGS`).
pub(crate) fn trace_flag_statements(code: &Code, i: usize, scan: &mut Scan) {
    let open = i + 2;
    if !code.is(open, &Token::LParen) {
        return;
    }
    let close = code.close_paren(open);
    let mut flags = Vec::new();
    let mut global = false;
    let mut j = open + 1;
    while j < close {
        match code.get(j) {
            Some(Token::Minus) if matches!(code.get(j + 1), Some(Token::Number(n, _)) if n == "1") =>
            {
                global = true;
                j += 1;
            }
            Some(Token::Number(n, _)) => flags.extend(n.parse::<i32>()),
            _ => {}
        }
        j += 1;
    }
    let command = code.toks_name(i + 1).to_ascii_uppercase();
    let unsupported: Vec<String> = flags
        .iter()
        .filter(|f| !crate::limits::SUPPORTED_TRACE_FLAGS.contains(f))
        .map(i32::to_string)
        .collect();
    if !unsupported.is_empty() {
        scan.hit(
            code,
            &TRACE_FLAG_STATEMENT,
            i,
            format!("DBCC {command} of trace flag {}", unsupported.join(", ")),
        );
    } else if !global && !flags.is_empty() {
        scan.hit(
            code,
            &TRACE_FLAG_STATEMENT,
            i,
            format!("DBCC {command} without -1 (a session trace flag)"),
        );
    }
}

/// Event sessions writing to files, options MI keeps at their default, server triggers whose
/// definition was not read.
pub(crate) fn instance(inst: &Instance, out: &mut Vec<Finding>) {
    let mut push = instance_findings(inst, out);
    for session in inst
        .xevent_sessions
        .iter()
        .filter(|s| !limits::BUILT_IN_XEVENT_SESSIONS.contains(&s.name.as_str()))
    {
        for target in session
            .targets
            .iter()
            .filter(|t| t.ends_with("event_file") || t.ends_with("etw_classic_sync_target"))
        {
            push(
                &XEVENT_TARGET,
                Some(&session.name),
                format!("event session {} writes to {target}", session.name),
            );
        }
    }
    for (option, default) in limits::REFUSED_OPTION_DEFAULTS {
        if let Some(c) = inst
            .configurations
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(option))
            && c.value_in_use != *default
        {
            push(
                &CONFIGURE,
                Some(&c.name),
                format!(
                    "'{}' is {} here; Managed Instance keeps {default}",
                    c.name, c.value_in_use
                ),
            );
        }
    }
    // A trigger whose definition was read is judged by the text rules.
    for t in inst
        .server_triggers
        .iter()
        .filter(|t| t.definition.trim().is_empty())
    {
        push(
            &SERVER_TRIGGER,
            Some(&t.name),
            format!("server-level trigger {}", t.name),
        );
    }
}

/// Memory-optimized data on a tier without In-Memory OLTP.
pub(crate) fn database(inst: &Instance, db: &Database, target: &Target, out: &mut Vec<Finding>) {
    let mut push = database_findings(inst, db, out);
    if db.features.in_memory_oltp {
        push(
            in_memory_rule(target),
            format!("{} has memory-optimized data", db.name),
        );
    }
}
