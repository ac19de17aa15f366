//! Text rules for MI_RULES.md part B: documented differences without a Microsoft id, with ids of
//! ours (SQLMIG02xx), plus the text forms of catalog rules (job subsystems, linked servers,
//! Windows logins, Service Broker routes) for scripts.

use sqlmig_plugin_sdk::FindingLevel;
use sqlparser::tokenizer::Token;

use crate::catalog_rules::{JOB_RULES, LINKED, WINDOWS, route_rule};
use crate::limits::{REFUSED_OPTION_DEFAULTS, Target};
use crate::rules::{FILESTREAM, LOGS, Rule};
use crate::text_rules::{DeclaredLinkedServer, Scan, is_sql_provider};
use crate::tsql::Code;

/// Rules triggered by an unquoted keyword at `i`.
pub fn keyword_rules(code: &Code, i: usize, upper: &str, scan: &mut Scan) {
    let prev = |kw: &str| i >= 1 && code.kw(i - 1, kw);
    let created = prev("CREATE") || prev("ALTER");
    match upper {
        "DATABASE" if prev("CREATE") => create_database(code, i, scan),
        "DATABASE" if prev("ALTER") => alter_database(code, i, scan),
        "FILETABLE" if prev("AS") => scan.hit(code, &FILESTREAM, i, "FileTable (AS FILETABLE)"),
        "BACKUP" | "RESTORE" => backup_or_restore(code, i, scan),
        "CERTIFICATE" if prev("CREATE") => {
            if let Some(j) = find_in_statement(code, i, |j| {
                code.kws(j, &["FROM", "FILE"]) || code.kws(j, &["EXECUTABLE", "FILE"])
            }) {
                scan.hit(
                    code,
                    &KEY_FILES,
                    j,
                    format!("certificate {} created from a file", code.toks_name(i + 1)),
                );
            }
        }
        "LOGIN" if prev("CREATE") && code.kws(i + 2, &["FROM", "WINDOWS"]) => scan.hit(
            code,
            &WINDOWS,
            i,
            format!("Windows login {}", code.toks_name(i + 1)),
        ),
        "AUDIT"
            if prev("SERVER")
                && i >= 2
                && (code.kw(i - 2, "CREATE") || code.kw(i - 2, "ALTER")) =>
        {
            let to_os = |j: usize| {
                code.kw(j, "TO")
                    && ["FILE", "APPLICATION_LOG", "SECURITY_LOG"]
                        .iter()
                        .any(|k| code.kw(j + 1, k))
            };
            if let Some(j) = find_in_statement(code, i, to_os) {
                scan.hit(
                    code,
                    &AUDIT,
                    j,
                    format!(
                        "server audit {} writes TO {}",
                        code.toks_name(i + 1),
                        code.toks_name(j + 1)
                    ),
                );
            }
        }
        "BUFFER" if code.kws(i + 1, &["POOL", "EXTENSION"]) => {
            scan.hit(code, &BUFFER_POOL, i, "BUFFER POOL EXTENSION")
        }
        "PARTNER" | "WITNESS" if prev("SET") => scan.hit(
            code,
            &MIRRORING,
            i,
            format!("database mirroring (SET {upper})"),
        ),
        "HADR" if prev("SET") => scan.hit(
            code,
            &MIRRORING,
            i,
            "availability group membership (SET HADR)",
        ),
        "AVAILABILITY" if code.kw(i + 1, "GROUP") && created => {
            scan.hit(code, &MIRRORING, i, "availability group DDL")
        }
        "DATABASE_MIRRORING" if prev("FOR") => {
            scan.hit(code, &MIRRORING, i, "database mirroring endpoint")
        }
        "SEMANTICKEYPHRASETABLE"
        | "SEMANTICSIMILARITYTABLE"
        | "SEMANTICSIMILARITYDETAILSTABLE"
        | "STATISTICAL_SEMANTICS" => scan.hit(
            code,
            &SEMANTIC,
            i,
            format!("semantic search ({})", code.toks_name(i)),
        ),
        "DBCC" if code.kw(i + 1, "TRACEON") || code.kw(i + 1, "TRACEOFF") => {
            trace_flags(code, i, scan)
        }
        "REMOTE" if prev("CREATE") && code.kws(i + 1, &["SERVICE", "BINDING"]) => scan.hit(
            code,
            &REMOTE_SERVICE_BINDING,
            i,
            format!("remote service binding {}", code.toks_name(i + 3)),
        ),
        "EVENT" if prev("CREATE") && code.kw(i + 1, "NOTIFICATION") => scan.hit(
            code,
            &EVENT_NOTIFICATION,
            i,
            format!("event notification {}", code.toks_name(i + 2)),
        ),
        "DBCC" => {
            if let Some(command) = code.ident(i + 1)
                && !DOCUMENTED_DBCC.iter().any(|d| d.eq_ignore_ascii_case(command))
                // `DBCC xp_name (FREE)` unloads an extended procedure's DLL: documented.
                && !(code.is(i + 2, &Token::LParen) && code.kw(i + 3, "FREE"))
            {
                scan.hit(code, &DBCC, i, format!("DBCC {command}"));
            }
        }
        // CREATE, ALTER and CREATE OR ALTER TRIGGER.
        "TRIGGER" if created => {
            let header_end = (i + 1..code.statement_end(i))
                .find(|&j| code.kw(j, "AS"))
                .unwrap_or(i);
            if (i + 1..header_end).any(|j| code.kws(j, &["ON", "ALL", "SERVER"])) {
                scan.hit(
                    code,
                    &SERVER_TRIGGER,
                    i,
                    format!("server-level trigger {}", code.toks_name(i + 1)),
                );
            }
        }
        "EVENT" if code.kw(i + 1, "SESSION") && created => event_session(code, i, scan),
        "EXTERNAL" if code.kws(i + 1, &["DATA", "SOURCE"]) && prev("CREATE") => {
            if let Some(j) = find_in_statement(code, i, |j| {
                code.kw(j, "TYPE") && code.is(j + 1, &Token::Eq) && code.kw(j + 2, "HADOOP")
            }) {
                scan.hit(
                    code,
                    &POLYBASE,
                    j,
                    format!(
                        "external data source {} of TYPE = HADOOP",
                        code.toks_name(i + 3)
                    ),
                );
            }
        }
        "ROUTE" if created => {
            if let Some(j) = find_in_statement(code, i, |j| {
                code.kw(j, "ADDRESS") && code.is(j + 1, &Token::Eq)
            }) && let Some(address) = code.string(j + 2)
                && let Some(rule) = route_rule(address)
            {
                scan.hit(
                    code,
                    rule,
                    j,
                    format!("route {} sends to {address}", code.toks_name(i + 1)),
                );
            }
        }
        "CREDENTIAL" if created => {
            if let Some(j) = find_in_statement(code, i, |j| {
                code.kw(j, "IDENTITY") && code.is(j + 1, &Token::Eq)
            }) && let Some(identity) = code.string(j + 2)
                && !["SHARED ACCESS SIGNATURE", "Managed Identity"]
                    .iter()
                    .any(|l| l.eq_ignore_ascii_case(identity))
            {
                scan.hit(
                    code,
                    &CREDENTIAL,
                    j,
                    format!(
                        "credential {} with IDENTITY = '{identity}'",
                        code.toks_name(i + 1)
                    ),
                );
            }
        }
        "MEMORY_OPTIMIZED" if code.is(i + 1, &Token::Eq) && code.kw(i + 2, "ON") => {
            scan.hit(code, &IN_MEMORY, i, "memory-optimized table")
        }
        "MEMORY_OPTIMIZED_DATA" if prev("CONTAINS") => {
            scan.hit(code, &IN_MEMORY, i, "MEMORY_OPTIMIZED_DATA filegroup")
        }
        _ => {}
    }
}

/// The first token `j` of the statement starting at `i` for which `at(j)` holds.
fn find_in_statement(code: &Code, i: usize, at: impl Fn(usize) -> bool) -> Option<usize> {
    (i + 1..code.statement_end(i)).find(|&j| at(j))
}

/// CREATE DATABASE … LOG ON (file), (file): more than one log file, as the catalog rule says of
/// a server's database (for scripts).
fn declared_log_files(code: &Code, i: usize, name: &str, scan: &mut Scan) {
    let end = code.statement_end(i);
    let Some(j) = (i + 1..end).find(|&j| code.kws(j, &["LOG", "ON"])) else {
        return;
    };
    // The file specifications, a parenthesis each.
    let mut files = 0;
    let mut k = j + 2;
    while k < end && code.is(k, &Token::LParen) {
        files += 1;
        k = code.close_paren(k) + 1;
        if !code.is(k, &Token::Comma) {
            break;
        }
        k += 1;
    }
    if files > crate::limits::MAX_LOG_FILES {
        scan.hit(
            code,
            &LOGS,
            j,
            format!("CREATE DATABASE {name} declares {files} log files"),
        );
    }
}

/// A FILESTREAM filegroup a CREATE or ALTER DATABASE declares (`CONTAINS FILESTREAM`).
fn declared_filestream(code: &Code, i: usize, name: &str, scan: &mut Scan) {
    if let Some(j) = find_in_statement(code, i, |j| code.kws(j, &["CONTAINS", "FILESTREAM"])) {
        scan.hit(
            code,
            &FILESTREAM,
            j,
            format!("{name} declares a FILESTREAM filegroup"),
        );
    }
}

/// ALTER DATABASE … SET options Managed Instance refuses (T-SQL differences, "ALTER DATABASE
/// statement": "The following options can't be modified"), as the words that set them.
const REFUSED_DATABASE_OPTIONS: &[&[&str]] = &[
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
fn alter_database(code: &Code, i: usize, scan: &mut Scan) {
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

fn create_database(code: &Code, i: usize, scan: &mut Scan) {
    let name = code.toks_name(i + 1);
    if let Some(j) = find_in_statement(code, i, |j| code.kws(j, &["AS", "SNAPSHOT", "OF"])) {
        scan.hit(
            code,
            &SNAPSHOT,
            j,
            format!("database snapshot {name} of {}", code.toks_name(j + 3)),
        );
        return;
    }
    declared_log_files(code, i, name, scan);
    declared_filestream(code, i, name, scan);
    if let Some(j) = find_in_statement(code, i, |j| {
        code.kws(j, &["FOR", "ATTACH"]) || code.kws(j, &["FOR", "ATTACH_REBUILD_LOG"])
    }) {
        scan.hit(
            code,
            &ATTACH,
            j,
            format!("CREATE DATABASE {name} FOR ATTACH"),
        );
    } else if let Some(j) = find_in_statement(code, i, |j| code.kw(j, "FILENAME")) {
        scan.hit(
            code,
            &FILE_SPECS,
            j,
            format!("CREATE DATABASE {name} places its files"),
        );
    }
}

fn backup_or_restore(code: &Code, i: usize, scan: &mut Scan) {
    let what = code.toks_name(i + 1).to_ascii_uppercase();
    match what.as_str() {
        "DATABASE" | "LOG" => {
            let device = |j: usize| {
                (code.kw(j, "TO") || code.kw(j, "FROM"))
                    && (code.kw(j + 1, "DISK") || code.kw(j + 1, "TAPE"))
            };
            let backup = code.kw(i, "BACKUP");
            let option = |kw: &str| find_in_statement(code, i, |j| code.kw(j, kw));
            let with = option("WITH");
            if find_in_statement(code, i, device).is_none() {
                // TO/FROM URL: what Managed Instance takes, with its own limits.
                if backup && what == "LOG" {
                    scan.hit(code, &BACKUP_KIND, i, "BACKUP LOG");
                } else if backup && with.is_some() && option("DIFFERENTIAL").is_some() {
                    scan.hit(code, &BACKUP_KIND, i, "BACKUP DATABASE WITH DIFFERENTIAL");
                } else if backup && option("COPY_ONLY").is_none() {
                    scan.hit(code, &COPY_ONLY, i, "BACKUP DATABASE without COPY_ONLY");
                } else if backup
                    && let Some(j) = ["FILE_SNAPSHOT", "CREDENTIAL"]
                        .iter()
                        .find_map(|kw| option(kw))
                {
                    scan.hit(
                        code,
                        &COPY_ONLY,
                        j,
                        format!("BACKUP DATABASE WITH {}", code.toks_name(j)),
                    );
                } else if !backup && what == "LOG" {
                    scan.hit(code, &RESTORE_OPTIONS, i, "RESTORE LOG");
                } else if !backup && let Some(j) = with {
                    scan.hit(
                        code,
                        &RESTORE_OPTIONS,
                        j,
                        format!("RESTORE DATABASE WITH {}", code.toks_name(j + 1)),
                    );
                }
            }
            if let Some(j) = find_in_statement(code, i, device) {
                let (verb, dev) = (
                    code.toks_name(i).to_ascii_uppercase(),
                    code.toks_name(j + 1).to_ascii_uppercase(),
                );
                scan.hit(
                    code,
                    &DISK_BACKUP,
                    i,
                    format!(
                        "{verb} {what} {} {dev}",
                        code.toks_name(j).to_ascii_uppercase()
                    ),
                );
            }
        }
        "CERTIFICATE" | "MASTER" => {
            if let Some(j) = find_in_statement(code, i, |j| {
                (code.kw(j, "TO") || code.kw(j, "FROM")) && code.kw(j + 1, "FILE")
            }) {
                scan.hit(
                    code,
                    &KEY_FILES,
                    j,
                    format!(
                        "{} {what} {} FILE",
                        code.toks_name(i).to_ascii_uppercase(),
                        code.toks_name(j).to_ascii_uppercase()
                    ),
                );
            }
        }
        "SERVICE" if code.kws(i + 2, &["MASTER", "KEY"]) => scan.hit(
            code,
            &SERVICE_MASTER_KEY,
            i,
            format!(
                "{} SERVICE MASTER KEY",
                code.toks_name(i).to_ascii_uppercase()
            ),
        ),
        _ => {}
    }
}

fn event_session(code: &Code, i: usize, scan: &mut Scan) {
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

/// Rules on procedure calls; `i` is the procedure name's last part, `upper` its upper case.
pub fn procedure_rules(code: &Code, i: usize, upper: &str, scan: &mut Scan) {
    let name = code.toks_name(i);
    match upper {
        "SP_ATTACH_DB" | "SP_ATTACH_SINGLE_FILE_DB" | "SP_DETACH_DB" => {
            scan.hit(code, &ATTACH, i, name.to_string())
        }
        "SP_ADDEXTENDEDPROC" | "SP_DROPEXTENDEDPROC" => {
            scan.hit(code, &EXTENDED_PROCS, i, name.to_string())
        }
        _ if upper.starts_with("XP_") => scan.hit(
            code,
            &EXTENDED_PROC_CALL,
            i,
            format!("extended stored procedure {name}"),
        ),
        "SP_CONFIGURE" => {
            if let Some(option) = code.argument(i, "configname", 0) {
                let option = option.trim();
                if REFUSED_OPTION_DEFAULTS
                    .iter()
                    .any(|(o, _)| o.eq_ignore_ascii_case(option))
                {
                    scan.hit(code, &CONFIGURE, i, format!("sp_configure '{option}'"));
                } else if option.eq_ignore_ascii_case("Ole Automation Procedures") {
                    scan.hit(code, &OLE_AUTOMATION, i, format!("sp_configure '{option}'"));
                }
            }
        }
        _ if upper.starts_with("SP_OA") => {
            scan.hit(code, &OLE_AUTOMATION, i, format!("OLE Automation ({name})"))
        }
        "SP_MSX_ENLIST"
        | "SP_MSX_DEFECT"
        | "SP_ADD_TARGETSERVERGROUP"
        | "SP_ADD_TARGETSVRGRP_MEMBER" => scan.hit(
            code,
            &MULTI_SERVER_JOBS,
            i,
            format!("multi-server jobs ({name})"),
        ),
        "SP_ADD_JOBSERVER"
            if code
                .argument(i, "server_name", usize::MAX)
                .is_some_and(|s| !s.eq_ignore_ascii_case("(local)")) =>
        {
            scan.hit(
                code,
                &MULTI_SERVER_JOBS,
                i,
                format!(
                    "job targeted at server {}",
                    code.argument(i, "server_name", usize::MAX).unwrap_or("?")
                ),
            )
        }
        "SP_SEND_DBMAIL" if code.argument(i, "file_attachments", usize::MAX).is_some() => scan.hit(
            code,
            &MAIL_ATTACHMENTS,
            i,
            "sp_send_dbmail with @file_attachments",
        ),
        "SP_PROCOPTION"
            if code
                .argument(i, "OptionName", 1)
                .is_some_and(|o| o.eq_ignore_ascii_case("startup")) =>
        {
            scan.hit(
                code,
                &STARTUP_PROC,
                i,
                format!(
                    "startup procedure {}",
                    code.argument(i, "ProcName", 0).unwrap_or("?")
                ),
            )
        }
        _ if upper.starts_with("SP_ADDMERGE") => {
            scan.hit(code, &REPLICATION, i, format!("merge replication ({name})"))
        }
        "SP_ADDPUBLICATION"
            if code
                .argument(i, "enabled_for_p2p", usize::MAX)
                .is_some_and(|v| v.eq_ignore_ascii_case("true")) =>
        {
            scan.hit(code, &REPLICATION, i, "peer-to-peer replication")
        }
        "SP_ADDSUBSCRIPTION"
            if code
                .argument(i, "update_mode", usize::MAX)
                .is_some_and(|v| !v.eq_ignore_ascii_case("read only")) =>
        {
            scan.hit(code, &REPLICATION, i, "updatable subscription")
        }
        "SP_ADDLINKEDSERVER" => linked_server(code, i, scan),
        "SP_ADD_JOBSTEP" => {
            if let Some(subsystem) = code.argument(i, "subsystem", usize::MAX)
                && let Some((_, rule)) = JOB_RULES
                    .iter()
                    .find(|(s, _)| s.eq_ignore_ascii_case(subsystem))
            {
                let step = code.argument(i, "step_name", usize::MAX).unwrap_or("?");
                scan.hit(
                    code,
                    rule,
                    i,
                    format!("job step \"{step}\" of subsystem {subsystem}"),
                );
            }
        }
        "SP_EXECUTE_EXTERNAL_SCRIPT" => {
            scan.hit(code, &ML_SERVICES, i, "sp_execute_external_script")
        }
        _ => {}
    }
}

/// sp_addlinkedserver @server, @srvproduct, @provider, @datasrc: SQL Server when the product is
/// 'SQL Server' or the provider is SQL Server's.
fn linked_server(code: &Code, i: usize, scan: &mut Scan) {
    let server = code.argument(i, "server", 0).unwrap_or("?").to_string();
    let product = code.argument(i, "srvproduct", 1).unwrap_or("");
    let provider = code.argument(i, "provider", 2).unwrap_or("");
    let is_sql_server = product.eq_ignore_ascii_case("SQL Server") || is_sql_provider(provider);
    if is_sql_server {
        scan.hit(
            code,
            &LINKED_SQL,
            i,
            format!("linked server {server} to SQL Server"),
        );
    } else {
        scan.hit(
            code,
            &LINKED,
            i,
            format!("linked server {server} uses provider {provider} ({product})"),
        );
    }
    scan.linked_servers.push(DeclaredLinkedServer {
        name: server,
        is_sql_server,
    });
}

/// DBCC commands Microsoft documents; any other is undocumented and may be refused on MI.
const DOCUMENTED_DBCC: &[&str] = &[
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

pub(crate) const FILE_SPECS: Rule = Rule {
    id: "SQLMIG0201",
    level: FindingLevel::Warning,
    title: "CREATE DATABASE places its files",
    impact: "Managed Instance places database files itself and refuses file specifications (error 41918).",
    remediation: "Drop the ON / LOG ON clauses (and FILENAME) from CREATE DATABASE; add filegroups with ALTER DATABASE … ADD FILE without paths.",
};

const DISK_BACKUP: Rule = Rule {
    id: "SQLMIG0202",
    level: FindingLevel::Issue,
    title: "Backup or restore to disk or tape",
    impact: "Managed Instance backs up only TO URL (COPY_ONLY) and restores only FROM URL; disk and tape devices fail.",
    remediation: "Back up TO URL with COPY_ONLY (automated backups cover the rest) and restore FROM URL.",
};

const KEY_FILES: Rule = Rule {
    id: "SQLMIG0203",
    level: FindingLevel::Issue,
    title: "Certificate or key read from or written to a file",
    impact: "Managed Instance has no file system: certificates and keys cannot come from or go to files.",
    remediation: "Create certificates FROM BINARY = 0x… (with the private key as binary), and keep keys in Azure Key Vault.",
};

const SERVICE_MASTER_KEY: Rule = Rule {
    id: "SQLMIG0204",
    level: FindingLevel::Issue,
    title: "Service master key backup or restore",
    impact: "Managed Instance manages its service master key; BACKUP/RESTORE SERVICE MASTER KEY is refused.",
    remediation: "Remove the statement; protect database master keys with passwords or Azure Key Vault.",
};

pub(crate) const AUDIT: Rule = Rule {
    id: "SQLMIG0205",
    level: FindingLevel::Issue,
    title: "Server audit to a file or Windows event log",
    impact: "Managed Instance audits only TO URL (Azure Blob) or TO EXTERNAL_MONITOR (Log Analytics / Event Hubs).",
    remediation: "Recreate the audit TO URL or TO EXTERNAL_MONITOR.",
};

const BUFFER_POOL: Rule = Rule {
    id: "SQLMIG0206",
    level: FindingLevel::Issue,
    title: "Buffer pool extension",
    impact: "Managed Instance does not support buffer pool extension.",
    remediation: "Remove the statement; size the instance's memory through its vCores instead.",
};

pub(crate) const MIRRORING: Rule = Rule {
    id: "SQLMIG0207",
    level: FindingLevel::Issue,
    title: "Database mirroring or availability group DDL",
    impact: "Managed Instance provides high availability itself; mirroring and AG statements are refused.",
    remediation: "Remove the DDL; use auto-failover groups or the Managed Instance link for disaster recovery.",
};

const SEMANTIC: Rule = Rule {
    id: "SQLMIG0208",
    level: FindingLevel::Issue,
    title: "Semantic search",
    impact: "Managed Instance does not support statistical semantic search.",
    remediation: "Replace semantic search with full-text search or an external search service.",
};

/// Adding or dropping an extended procedure: always refused.
const EXTENDED_PROCS: Rule = Rule {
    id: "SQLMIG0209",
    level: FindingLevel::Issue,
    title: "Extended stored procedures",
    impact: "Managed Instance supports no custom extended stored procedures and few system ones.",
    remediation: "Replace the extended procedure with CLR (from binary), T-SQL or a service outside the database.",
};

/// Calling one: a custom one fails, a few system ones (xp_readerrorlog, xp_msver) still work.
const EXTENDED_PROC_CALL: Rule = Rule {
    level: FindingLevel::Warning,
    impact: "Custom extended stored procedures do not exist on Managed Instance; most system ones (registry, file system) fail there.",
    ..EXTENDED_PROCS
};

const ATTACH: Rule = Rule {
    id: "SQLMIG0210",
    level: FindingLevel::Issue,
    title: "Attaching or detaching databases",
    impact: "Managed Instance cannot attach or detach database files.",
    remediation: "Move databases by backup TO URL and RESTORE FROM URL.",
};

pub(crate) const CONFIGURE: Rule = Rule {
    id: "SQLMIG0211",
    level: FindingLevel::Warning,
    title: "sp_configure option Managed Instance refuses",
    impact: "The option cannot be changed on Managed Instance; the call fails.",
    remediation: "Remove the call; Managed Instance keeps this option at its default.",
};

pub(crate) const XEVENT_TARGET: Rule = Rule {
    id: "SQLMIG0212",
    level: FindingLevel::Issue,
    title: "Extended Events target on disk or ETW",
    impact: "Managed Instance writes event_file targets only to Azure Blob Storage and has no ETW target.",
    remediation: "Point event_file at an https:// blob URL (with a SAS credential), or use ring_buffer.",
};

const REPLICATION: Rule = Rule {
    id: "SQLMIG0213",
    level: FindingLevel::Issue,
    title: "Merge, peer-to-peer or updatable-subscription replication",
    impact: "Managed Instance supports snapshot, transactional and bi-directional transactional replication; merge, peer-to-peer and updatable subscriptions are not supported (T-SQL differences, Replication).",
    remediation: "Replace the topology with transactional (or bi-directional transactional) replication or another synchronisation method; keep the publisher and the distributor both in the cloud or both on-premises.",
};

const MAIL_ATTACHMENTS: Rule = Rule {
    id: "SQLMIG0214",
    level: FindingLevel::Warning,
    title: "Database Mail with file attachments",
    impact: "Managed Instance has no file system to attach files from.",
    remediation: "Attach query results (@attach_query_result_as_file) or send a link to blob storage instead.",
};

const DBCC: Rule = Rule {
    id: "SQLMIG0215",
    level: FindingLevel::Warning,
    title: "Undocumented DBCC command",
    impact: "Managed Instance refuses most undocumented DBCC commands.",
    remediation: "Replace the command with a documented DBCC command or a dynamic management view.",
};

pub(crate) const SERVER_TRIGGER: Rule = Rule {
    id: "SQLMIG0216",
    level: FindingLevel::Warning,
    title: "Server-level trigger",
    impact: "Server triggers move with the instance, not with a database backup; events they rely on may differ on MI.",
    remediation: "Script the trigger to the managed instance and test the events it handles.",
};

const STARTUP_PROC: Rule = Rule {
    id: "SQLMIG0217",
    level: FindingLevel::Warning,
    title: "Startup procedure",
    impact: "Managed Instance does not run startup procedures ('scan for startup procs' cannot be set).",
    remediation: "Run the procedure from a SQL Agent job scheduled 'Start automatically when SQL Server Agent starts'.",
};

const POLYBASE: Rule = Rule {
    id: "SQLMIG0218",
    level: FindingLevel::Issue,
    title: "PolyBase external data source of TYPE = HADOOP",
    impact: "Managed Instance's data virtualization reads Azure Storage and S3 (abs://, adls://, s3://), not Hadoop.",
    remediation: "Recreate the data source with a LOCATION Managed Instance supports, without TYPE = HADOOP.",
};

const CREDENTIAL: Rule = Rule {
    id: "SQLMIG0219",
    level: FindingLevel::Warning,
    title: "Credential other than SAS or managed identity",
    impact: "Managed Instance credentials hold a shared access signature or use the managed identity.",
    remediation: "Recreate the credential with IDENTITY = 'SHARED ACCESS SIGNATURE' or 'Managed Identity'.",
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

const IN_MEMORY_ON_GP: Rule = Rule {
    level: FindingLevel::Issue,
    ..IN_MEMORY
};

const IN_MEMORY_ON_BC: Rule = Rule {
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

const LINKED_SQL: Rule = Rule {
    id: "SQLMIG0221",
    level: FindingLevel::Info,
    title: "Linked server to SQL Server",
    impact: "Linked servers to SQL Server and Azure SQL work on Managed Instance; the remote must be reachable from its virtual network. Distributed transactions over them need DTC for Managed Instance enabled (to SQL Server) or a server trust group (to another managed instance).",
    remediation: "Recreate the linked server with a SQL login or Microsoft Entra authentication after the move.",
};

const ML_SERVICES: Rule = Rule {
    id: "SQLMIG0222",
    level: FindingLevel::Info,
    title: "Machine Learning Services",
    impact: "Managed Instance runs R and Python through sp_execute_external_script once 'external scripts enabled' is set; packages must be reinstalled.",
    remediation: "Enable external scripts on the managed instance and install the packages the scripts need.",
};

/// DBCC TRACEON/TRACEOFF as Managed Instance runs them: global (`-1`, "This argument is required
/// in Azure SQL Managed Instance", dbcc-traceon-transact-sql.md) and only for the trace flags it
/// supports (`SUPPORTED_TRACE_FLAGS`).
fn trace_flags(code: &Code, i: usize, scan: &mut Scan) {
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

/// Statements Managed Instance refuses that T-SQL differences lists (ms.date 2025-04-23) and the
/// features comparison page (`features-comparison.md`, ms.date 2026-05-26) confirms.
const COPY_ONLY: Rule = Rule {
    id: "SQLMIG0224",
    level: FindingLevel::Issue,
    title: "BACKUP without COPY_ONLY, or with options Managed Instance refuses",
    impact: "Managed Instance takes its own backups; a user backup must be a full COPY_ONLY backup to URL, and FILE_SNAPSHOT and CREDENTIAL are not supported (T-SQL differences, Backup).",
    remediation: "Add WITH COPY_ONLY (and drop FILE_SNAPSHOT, CREDENTIAL), or rely on the instance's automated backups and point-in-time restore.",
};

const BACKUP_KIND: Rule = Rule {
    id: "SQLMIG0225",
    level: FindingLevel::Issue,
    title: "Log or differential backup",
    impact: "\"Differential, log, and file snapshot backups aren't supported\" on Managed Instance: the statement fails (T-SQL differences, Backup).",
    remediation: "Remove the job or code; Managed Instance's automated backups (full, differential and log) give point-in-time restore.",
};

const RESTORE_OPTIONS: Rule = Rule {
    id: "SQLMIG0226",
    level: FindingLevel::Issue,
    title: "RESTORE LOG or RESTORE … WITH",
    impact: "Managed Instance restores a full backup FROM URL without WITH options (\"WITH options aren't supported\"), and no log backup (T-SQL differences, RESTORE statement).",
    remediation: "Restore full backups FROM URL with no options, or use point-in-time restore or the Log Replay Service for a chain.",
};

const TRACE_FLAG_STATEMENT: Rule = Rule {
    id: "SQLMIG0227",
    level: FindingLevel::Issue,
    title: "Session or unsupported trace flag",
    impact: "Managed Instance sets only global trace flags (DBCC TRACEON (flag, -1)) from its list of supported ones; session trace flags are not supported (dbcc-traceon-trace-flags-transact-sql.md, ms.date 2026-04-20).",
    remediation: "Make the flag global with -1 if Managed Instance supports it (460, 2301, 2389, 2390, 2453, 2467, 7471, 8207, 9389, 10316, 11024); otherwise use a database scoped configuration or a query hint instead.",
};

const DATABASE_OPTION: Rule = Rule {
    id: "SQLMIG0228",
    level: FindingLevel::Issue,
    title: "ALTER DATABASE option Managed Instance refuses",
    impact: "Managed Instance keeps databases online, read-write, multi-user, in the full recovery model with CHECKSUM page verification and its own Service Broker settings; these options can't be modified (T-SQL differences, ALTER DATABASE statement).",
    remediation: "Remove the option from the code; for maintenance that needed SINGLE_USER or OFFLINE, use the managed instance's own operations.",
};

const OLE_AUTOMATION: Rule = Rule {
    id: "SQLMIG0229",
    level: FindingLevel::Issue,
    title: "OLE Automation procedures",
    impact: "Managed Instance has no OLE Automation: 'Ole Automation Procedures' is ignored and sp_OA* calls fail (T-SQL differences; features comparison).",
    remediation: "Move the work out of the database (an Azure Function or an application), or use sp_invoke_external_rest_endpoint for HTTP calls.",
};

const REMOTE_SERVICE_BINDING: Rule = Rule {
    id: "SQLMIG0230",
    level: FindingLevel::Issue,
    title: "Service Broker dialog security (CREATE REMOTE SERVICE BINDING)",
    impact: "\"Transport security is supported, dialog security isn't\": CREATE REMOTE SERVICE BINDING fails on Managed Instance (T-SQL differences, Service broker).",
    remediation: "Drop the binding and its certificates; rely on transport security between the instances.",
};

const EVENT_NOTIFICATION: Rule = Rule {
    id: "SQLMIG0231",
    level: FindingLevel::Issue,
    title: "Event notification",
    impact: "Managed Instance does not support event notifications (features comparison).",
    remediation: "Use Extended Events, DDL triggers writing to a table, or Azure Monitor alerts instead.",
};

const SNAPSHOT: Rule = Rule {
    id: "SQLMIG0232",
    level: FindingLevel::Issue,
    title: "Database snapshot",
    impact: "\"The AS SNAPSHOT OF option isn't supported\" on Managed Instance (T-SQL differences, CREATE DATABASE statement).",
    remediation: "Use point-in-time restore to a new database, or a COPY_ONLY backup, where the code took a snapshot.",
};

pub(crate) const MULTI_SERVER_JOBS: Rule = Rule {
    id: "SQLMIG0233",
    level: FindingLevel::Warning,
    title: "Multi-server (MSX/TSX) jobs",
    impact: "\"The Multi Server Administration feature for master/target (MSX/TSX) jobs aren't supported\" on Managed Instance (T-SQL differences, SQL Server Agent).",
    remediation: "Recreate the jobs on each managed instance (they can be scripted), or schedule them with Elastic Jobs or Azure Automation.",
};
