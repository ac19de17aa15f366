//! The T-SQL text scanner: which texts are worth tokenizing, and which family's check each
//! keyword or procedure name goes to. Each rule looks at tokens, never at raw text, so comments
//! and strings are not findings; tokens in a branch that never runs on MI (see `guards`) are
//! skipped.

use crate::agent::{JOB_RULES, MAIL_ATTACHMENTS, MULTI_SERVER_JOBS, SQL_MAIL};
use crate::backups::backup_or_restore;
use crate::connectivity::{
    EVENT_NOTIFICATION, MIRRORING, OPENROWSET_PROVIDER, POLYBASE, REMOTE_SERVICE_BINDING,
    REPLICATION, bulk_insert, distributed_transaction, is_sql_provider, linked_server, openrowset,
    route_rule,
};
use crate::limits::REFUSED_OPTION_DEFAULTS;
use crate::scan::{Scan, find_in_statement};
use crate::security::{AUDIT, CREDENTIAL, CRYPTO, KEY_FILES, WINDOWS, assembly_from_file};
use crate::server_config::{
    ALIAS, BUFFER_POOL, CONFIGURE, DBCC, DOCUMENTED_DBCC, EXTENDED_PROC_CALL, EXTENDED_PROCS,
    IN_MEMORY, ML_SERVICES, OLE_AUTOMATION, SEMANTIC, SERVER_TRIGGER, STARTUP_PROC,
    SYSTEM_PROCEDURES, XP_CMDSHELL, alter_database, event_session, trace_flag_statements,
};
use crate::storage::{ATTACH, FILESTREAM, create_database};
use crate::syntax::{
    COMPUTE, DISABLE_CHECK, FASTFIRSTROW, LEFT_JOIN, RAISERROR, RIGHT_JOIN, adjacent, in_filter,
    is_aggregate, next_in_create_table,
};
use crate::tsql::Code;
use aho_corasick::AhoCorasick;
use sqlparser::tokenizer::Token;
use std::sync::OnceLock;

/// Words one of which a text must contain for any text rule to fire; texts without them are not
/// tokenized at all (most module definitions), which keeps large estates fast.
pub(crate) const NEEDLES: &[&str] = &[
    "assembly",
    "bulk",
    "compute",
    "cryptographic",
    "disable_def_cnst_chk",
    "fastfirstrow",
    "distributed",
    "openrowset",
    "opendatasource",
    "raiserror",
    "next",
    "*=",
    "=*",
    "sp_",
    "xp_",
    "disk",
    "tape",
    "certificate",
    "service",
    "windows",
    "audit",
    "extension",
    "partner",
    "witness",
    "availability",
    "database_mirroring",
    "semantic",
    "dbcc",
    "all server",
    "event",
    "hadoop",
    "route",
    "credential",
    "memory_optimized",
    "filename",
    "attach",
    "filestream",
    "filetable",
    "backup",
    "restore",
    "binding",
    "snapshot",
    "single_user",
    "restricted_user",
    "offline",
    "emergency",
    "read_only",
    "recovery",
    "page_verify",
    "enable_broker",
    "disable_broker",
    "new_broker",
    "auto_close",
    "remote_data_archive",
];

/// Whether `text` may hold anything a text rule looks for: a needle at the start of a word (so
/// `usp_Orders` is not `sp_`). Needles are prefixes, so `NextDay` passes as `next`; that only
/// costs a tokenization.
pub fn worth_scanning(text: &str) -> bool {
    static NEEDLE_FINDER: OnceLock<AhoCorasick> = OnceLock::new();
    let finder = NEEDLE_FINDER.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(NEEDLES)
            .expect("the needles are plain words")
    });
    let bytes = text.as_bytes();
    let mut lexer = QuickLexer::default();
    let needle_in_code = finder.find_iter(text).any(|m| {
        let word_needle = bytes[m.start()].is_ascii_alphabetic();
        let starts_word =
            !word_needle || m.start() == 0 || !is_identifier_byte(bytes[m.start() - 1]);
        starts_word
            && lexer.in_code_at(bytes, m.start())
            && !common_harmless_use(bytes, m.start(), m.end())
    });
    // A string or comment left open hides what follows it: the tokenizer must look, and report
    // the text as unreadable.
    needle_in_code || lexer.left_open(bytes)
}

#[derive(Default, Clone, Copy, PartialEq)]
pub(crate) enum Lex {
    #[default]
    Code,
    LineComment,
    BlockComment,
    /// Inside '…', "…" or […], closed by this byte.
    Quoted(u8),
}

/// Just enough of T-SQL's lexical rules to tell whether a byte is code or inside a comment,
/// string or quoted name; moves forward only. Where it errs it errs towards "code", which only
/// costs a full tokenization.
#[derive(Default)]
pub(crate) struct QuickLexer {
    pos: usize,
    state: Lex,
    /// Nesting of /* */ comments (T-SQL nests them).
    depth: usize,
}

impl QuickLexer {
    /// Whether the text ends inside a string, quoted name or block comment.
    fn left_open(&mut self, bytes: &[u8]) -> bool {
        self.in_code_at(bytes, bytes.len());
        matches!(self.state, Lex::Quoted(_) | Lex::BlockComment)
    }

    fn in_code_at(&mut self, bytes: &[u8], at: usize) -> bool {
        while self.pos < at {
            let b = bytes[self.pos];
            let next = bytes.get(self.pos + 1).copied();
            self.pos += 1;
            match self.state {
                Lex::Code => match (b, next) {
                    (b'-', Some(b'-')) => {
                        self.state = Lex::LineComment;
                        self.pos += 1;
                    }
                    (b'/', Some(b'*')) => {
                        self.state = Lex::BlockComment;
                        self.depth = 1;
                        self.pos += 1;
                    }
                    (b'\'', _) => self.state = Lex::Quoted(b'\''),
                    (b'"', _) => self.state = Lex::Quoted(b'"'),
                    (b'[', _) => self.state = Lex::Quoted(b']'),
                    _ => {}
                },
                Lex::LineComment if b == b'\n' => self.state = Lex::Code,
                Lex::LineComment => {}
                Lex::BlockComment => match (b, next) {
                    (b'*', Some(b'/')) => {
                        self.pos += 1;
                        self.depth -= 1;
                        if self.depth == 0 {
                            self.state = Lex::Code;
                        }
                    }
                    (b'/', Some(b'*')) => {
                        self.pos += 1;
                        self.depth += 1;
                    }
                    _ => {}
                },
                // A doubled closer ('' or ]]) is an escaped one, still inside.
                Lex::Quoted(close) if b == close => {
                    if next == Some(close) {
                        self.pos += 1;
                    } else {
                        self.state = Lex::Code;
                    }
                }
                Lex::Quoted(_) => {}
            }
        }
        // A needle may follow the quote ([xp_cmdshell]): the name inside is code.
        self.state == Lex::Code
            || (self.state == Lex::Quoted(b']') && at >= 1 && bytes[at - 1] == b'[')
    }
}

/// Two needles are common in ordinary code: `RAISERROR(` (only `RAISERROR n` is legacy) and
/// `FETCH NEXT` (only NEXT as a name is a finding). Skipping exactly those keeps most modules from
/// being tokenized; anything unusual around them (a comment, a line break) still counts.
pub(crate) fn common_harmless_use(bytes: &[u8], start: usize, end: usize) -> bool {
    let needle = &bytes[start..end];
    if needle.eq_ignore_ascii_case(b"raiserror") {
        let next = bytes[end..].iter().find(|b| !matches!(b, b' ' | b'\t'));
        return next == Some(&b'(');
    }
    if needle.eq_ignore_ascii_case(b"next") {
        let before = bytes[..start].trim_ascii_end();
        let after = bytes[end..].trim_ascii_start();
        let word_after = |w: &[u8]| {
            after.len() > w.len()
                && after[..w.len()].eq_ignore_ascii_case(w)
                && !is_identifier_byte(after[w.len()])
        };
        return (before.len() >= 5 && before[before.len() - 5..].eq_ignore_ascii_case(b"fetch"))
            || word_after(b"value");
    }
    false
}

/// A byte that continues a T-SQL identifier.
pub(crate) fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'#' | b'$')
}

/// Runs every text rule over `code`.
pub fn scan(code: &Code) -> Scan {
    let mut scan = Scan::default();
    for i in 0..code.toks.len() {
        if code.not_on_mi[i] {
            continue;
        }
        match &code.toks[i].token {
            Token::Word(w) => {
                let upper = w.value.to_ascii_uppercase();
                if w.quote_style.is_none() {
                    keyword_rules(code, i, &upper, &mut scan);
                    statement_rules(code, i, &upper, &mut scan);
                }
                name_rules(code, i, &upper, &mut scan);
            }
            Token::Mul if adjacent(code, i, &Token::Eq) && in_filter(code, i) => {
                scan.hit(code, &LEFT_JOIN, i, "`*=` outer join")
            }
            Token::Eq if adjacent(code, i, &Token::Mul) && in_filter(code, i) => {
                scan.hit(code, &RIGHT_JOIN, i, "`=*` outer join")
            }
            _ => {}
        }
    }
    scan
}

/// Rules triggered by an unquoted keyword.
pub(crate) fn keyword_rules(code: &Code, i: usize, upper: &str, scan: &mut Scan) {
    let after_create_or_alter =
        |k: usize| i >= k && (code.kw(i - k, "CREATE") || code.kw(i - k, "ALTER"));
    match upper {
        "ASSEMBLY" if after_create_or_alter(1) => assembly_from_file(code, i, scan),
        "BULK" if code.kw(i + 1, "INSERT") => bulk_insert(code, i, scan),
        "COMPUTE" if is_aggregate(code, i + 1) && code.is(i + 2, &Token::LParen) => {
            scan.hit(code, &COMPUTE, i, "COMPUTE clause")
        }
        "CRYPTOGRAPHIC" if code.kw(i + 1, "PROVIDER") && after_create_or_alter(1) => {
            scan.hit(code, &CRYPTO, i, "CRYPTOGRAPHIC PROVIDER (EKM)")
        }
        "DISABLE_DEF_CNST_CHK" if i >= 1 && code.kw(i - 1, "SET") => {
            scan.hit(code, &DISABLE_CHECK, i, "SET DISABLE_DEF_CNST_CHK")
        }
        "FASTFIRSTROW" => scan.hit(code, &FASTFIRSTROW, i, "FASTFIRSTROW table hint"),
        "DISTRIBUTED"
            if i >= 1
                && code.kw(i - 1, "BEGIN")
                && (code.kw(i + 1, "TRAN") || code.kw(i + 1, "TRANSACTION")) =>
        {
            distributed_transaction(code, i, scan)
        }
        "OPENROWSET" if code.is(i + 1, &Token::LParen) => openrowset(code, i, scan),
        "OPENDATASOURCE" if code.is(i + 1, &Token::LParen) => {
            if let Some(provider) = code.string(i + 2).filter(|p| !is_sql_provider(p)) {
                scan.hit(
                    code,
                    &OPENROWSET_PROVIDER,
                    i,
                    format!("OPENDATASOURCE with provider {provider}"),
                )
            }
        }
        "RAISERROR" if matches!(code.get(i + 1), Some(Token::Number(..))) => scan.hit(
            code,
            &RAISERROR,
            i,
            "RAISERROR with the pre-2012 `RAISERROR n 'text'` syntax",
        ),
        "TABLE" if i >= 1 && code.kw(i - 1, "CREATE") => next_in_create_table(code, i, scan),
        _ => {}
    }
}

/// Rules triggered by an unquoted keyword at `i`.
pub fn statement_rules(code: &Code, i: usize, upper: &str, scan: &mut Scan) {
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
            trace_flag_statements(code, i, scan)
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

/// Rules triggered by a name in call position (procedures) or anywhere (xp_cmdshell).
pub(crate) fn name_rules(code: &Code, i: usize, upper: &str, scan: &mut Scan) {
    if upper == "XP_CMDSHELL" {
        scan.hit(code, &XP_CMDSHELL, i, "xp_cmdshell");
        return;
    }
    // Only the last part of a name is a procedure name, and every rule here is about an sp_ or
    // xp_ procedure (checked first: it is the cheap test, and this runs for every word).
    if !(upper.starts_with("SP_") || upper.starts_with("XP_"))
        || code.is(i + 1, &Token::Period)
        || !code.is_call_start(code.name_start(i))
    {
        return;
    }
    match upper {
        "SP_DBOPTION"
        | "SP_ADDSERVER"
        | "SP_DROPALIAS"
        | "SP_ACTIVEDIRECTORY_OBJ"
        | "SP_ACTIVEDIRECTORY_SCP"
        | "SP_ACTIVEDIRECTORY_START" => scan.hit(
            code,
            &SYSTEM_PROCEDURES,
            i,
            format!("{} (removed)", code.toks_name(i)),
        ),
        "SP_ADDALIAS" => scan.hit(code, &ALIAS, i, "sp_addalias"),
        "XP_SENDMAIL" | "XP_STARTMAIL" | "XP_STOPMAIL" | "XP_READMAIL" | "XP_FINDNEXTMSG"
        | "XP_DELETEMAIL" | "SP_PROCESSMAIL" => scan.hit(
            code,
            &SQL_MAIL,
            i,
            format!("SQL Mail procedure {}", code.toks_name(i)),
        ),
        _ => procedure_rules(code, i, upper, scan),
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
