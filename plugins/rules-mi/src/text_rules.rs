//! Rules over T-SQL text (module definitions, job step commands, server triggers, scripts):
//! Microsoft's text rules of MI_RULES.md part A. Part B's statements are in `text_rules_b`.
//!
//! Each rule looks at tokens, never at raw text, so comments and strings are not findings;
//! tokens in a branch that never runs on MI (see `guards`) are skipped.

use aho_corasick::AhoCorasick;
use sqlmig_plugin_sdk::FindingLevel;
use sqlparser::tokenizer::Token;
use std::sync::OnceLock;

use crate::rules::Rule;
use crate::text_rules_b;
use crate::tsql::Code;

/// One thing a text rule saw.
pub struct Hit {
    pub rule: &'static Rule,
    /// 1-based line within the text.
    pub line: u32,
    /// What was seen, for the finding's message.
    pub detail: String,
    /// Remote servers a distributed transaction reaches (DTC hits only).
    pub remotes: Vec<String>,
}

/// A linked server declared in the scanned text with `sp_addlinkedserver`.
#[derive(Debug)]
pub struct DeclaredLinkedServer {
    pub name: String,
    pub is_sql_server: bool,
}

/// What scanning one text found.
#[derive(Default)]
pub struct Scan {
    pub hits: Vec<Hit>,
    pub linked_servers: Vec<DeclaredLinkedServer>,
}

impl Scan {
    /// Records a hit of `rule` at token `at`.
    pub fn hit(&mut self, code: &Code, rule: &'static Rule, at: usize, detail: impl Into<String>) {
        self.hits.push(Hit {
            rule,
            line: code.line(at),
            detail: detail.into(),
            remotes: Vec::new(),
        });
    }
}

/// Words one of which a text must contain for any text rule to fire; texts without them are not
/// tokenized at all (most module definitions), which keeps large estates fast.
const NEEDLES: &[&str] = &[
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

/// Just enough of T-SQL's lexical rules to tell whether a byte is code or inside a comment,
/// string or quoted name; moves forward only. Where it errs it errs towards "code", which only
/// costs a full tokenization.
#[derive(Default)]
struct QuickLexer {
    pos: usize,
    state: Lex,
    /// Nesting of /* */ comments (T-SQL nests them).
    depth: usize,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum Lex {
    #[default]
    Code,
    LineComment,
    BlockComment,
    /// Inside '…', "…" or […], closed by this byte.
    Quoted(u8),
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
fn common_harmless_use(bytes: &[u8], start: usize, end: usize) -> bool {
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
fn is_identifier_byte(b: u8) -> bool {
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
                    text_rules_b::keyword_rules(code, i, &upper, &mut scan);
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

/// Whether token `i + 1` is `next` and touches token `i` (no space between).
fn adjacent(code: &Code, i: usize, next: &Token) -> bool {
    code.is(i + 1, next) && code.line(i + 1) == code.line(i) && code.col(i + 1) == code.col(i) + 1
}

/// Whether token `i` is in a WHERE or HAVING clause (not `SET @x *= 2`).
fn in_filter(code: &Code, i: usize) -> bool {
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

/// Rules triggered by an unquoted keyword.
fn keyword_rules(code: &Code, i: usize, upper: &str, scan: &mut Scan) {
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

/// The COMPUTE clause's aggregates.
fn is_aggregate(code: &Code, i: usize) -> bool {
    [
        "SUM", "AVG", "MIN", "MAX", "COUNT", "STDEV", "STDEVP", "VAR", "VARP",
    ]
    .iter()
    .any(|k| code.kw(i, k))
}

/// SQL Server's own OLE DB providers.
pub fn is_sql_provider(provider: &str) -> bool {
    crate::limits::SQL_SERVER_PROVIDERS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(provider.trim()))
}

/// Rules triggered by a name in call position (procedures) or anywhere (xp_cmdshell).
fn name_rules(code: &Code, i: usize, upper: &str, scan: &mut Scan) {
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
        _ => text_rules_b::procedure_rules(code, i, upper, scan),
    }
}

fn assembly_from_file(code: &Code, i: usize, scan: &mut Scan) {
    let end = code.statement_end(i);
    if let Some(from) = (i + 1..end).find(|&j| code.kw(j, "FROM"))
        && let Some(path) = code.string(from + 1)
    {
        scan.hit(
            code,
            &ASSEMBLY_FROM_FILE,
            i,
            format!("assembly {} loaded from file {path}", code.toks_name(i + 1)),
        );
    }
}

/// Whether the option list `(`…`)` starting at `open` names `option` (DATA_SOURCE).
fn has_option(code: &Code, open: usize, option: &str) -> bool {
    code.is(open, &Token::LParen) && (open + 1..code.close_paren(open)).any(|j| code.kw(j, option))
}

fn bulk_insert(code: &Code, i: usize, scan: &mut Scan) {
    let end = code.statement_end(i);
    let Some(from) = (i + 2..end).find(|&j| code.kw(j, "FROM")) else {
        return;
    };
    let Some(source) = code.string(from + 1) else {
        return;
    };
    let blob = code.kw(from + 2, "WITH") && has_option(code, from + 3, "DATA_SOURCE");
    if !blob && !source.to_ascii_lowercase().starts_with("https://") {
        scan.hit(code, &BULK_INSERT, i, format!("BULK INSERT from {source}"));
    }
}

fn openrowset(code: &Code, i: usize, scan: &mut Scan) {
    let open = i + 1;
    if code.kw(open + 1, "BULK") {
        if let Some(source) = code.string(open + 2)
            && !has_option(code, open, "DATA_SOURCE")
        {
            scan.hit(
                code,
                &OPENROWSET_BULK,
                i,
                format!("OPENROWSET(BULK {source})"),
            );
        }
    } else if let Some(provider) = code.string(open + 1)
        && !is_sql_provider(provider)
    {
        scan.hit(
            code,
            &OPENROWSET_PROVIDER,
            i,
            format!("OPENROWSET with provider {provider}"),
        );
    }
}

/// BEGIN DISTRIBUTED TRANSACTION: the remotes are the linked servers its batch reaches through
/// four-part names, OPENQUERY or EXEC … AT; whether they are SQL Server is decided per instance.
fn distributed_transaction(code: &Code, i: usize, scan: &mut Scan) {
    let (start, end) = code.batch_of(i);
    let mut remotes: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !remotes.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            remotes.push(name.to_string());
        }
    };
    let mut j = start;
    while j < end {
        if code.kw(j, "OPENQUERY") && code.is(j + 1, &Token::LParen) {
            if let Some(server) = code.ident(j + 2) {
                add(server);
            }
        } else if code.kw(j, "AT") && j >= 1 && code.is(j - 1, &Token::RParen) {
            if let Some(server) = code.ident(j + 1) {
                add(server);
            }
        } else if code.ident(j).is_some() && (j == 0 || !code.is(j - 1, &Token::Period)) {
            let (parts, next) = code.name_at(j);
            if parts.len() == 4 && !parts[0].is_empty() {
                add(parts[0]);
            }
            j = next.max(j + 1);
            continue;
        }
        j += 1;
    }
    scan.hits.push(Hit {
        rule: &DTC_HOMOGENEOUS,
        line: code.line(i),
        detail: "BEGIN DISTRIBUTED TRANSACTION".into(),
        remotes,
    });
}

/// Tables named NEXT, and NEXT as a column in CREATE TABLE.
fn next_in_create_table(code: &Code, i: usize, scan: &mut Scan) {
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

pub const XP_CMDSHELL: Rule = Rule {
    id: "XpCmdshell",
    level: FindingLevel::Issue,
    title: "xp_cmdshell",
    impact: "Managed Instance does not support xp_cmdshell.",
    remediation: "Move the operating-system work to Azure Automation, Azure Functions or the application.",
};

const SYSTEM_PROCEDURES: Rule = Rule {
    id: "SystemProcedures110",
    level: FindingLevel::Warning,
    title: "System procedures removed from SQL Server",
    impact: "sp_dboption, sp_addserver, sp_dropalias and sp_activedirectory_* do not exist on Managed Instance.",
    remediation: "Use ALTER DATABASE … SET for database options, sp_addlinkedserver for servers, database users for aliases.",
};

const ALIAS: Rule = Rule {
    id: "DatabasePrincipalAlias",
    level: FindingLevel::Issue,
    title: "Database principal aliases",
    impact: "Aliases (sp_addalias) are not supported on Managed Instance.",
    remediation: "Replace each alias with a database user, and grant it the permissions or roles the alias relied on.",
};

const SQL_MAIL: Rule = Rule {
    id: "SqlMail",
    level: FindingLevel::Warning,
    title: "SQL Mail",
    impact: "SQL Mail (xp_sendmail and friends) is removed; Managed Instance has Database Mail only.",
    remediation: "Send mail with msdb.dbo.sp_send_dbmail through a Database Mail profile.",
};

const ASSEMBLY_FROM_FILE: Rule = Rule {
    id: "AssemblyFromFile",
    level: FindingLevel::Issue,
    title: "CLR assembly created from a file",
    impact: "Managed Instance cannot read files: CREATE/ALTER ASSEMBLY FROM 'path' fails.",
    remediation: "Create the assembly from its bytes: CREATE ASSEMBLY … FROM 0x… (script it from the source server).",
};

const BULK_INSERT: Rule = Rule {
    id: "BulkInsert",
    level: FindingLevel::Issue,
    title: "BULK INSERT from a local or network file",
    impact: "Managed Instance reads bulk data only from Azure Blob Storage.",
    remediation: "Put the file in Azure Blob Storage and add WITH (DATA_SOURCE = <external data source>).",
};

const COMPUTE: Rule = Rule {
    id: "ComputeClause",
    level: FindingLevel::Warning,
    title: "COMPUTE clause",
    impact: "COMPUTE / COMPUTE BY was removed from T-SQL; the statement fails.",
    remediation: "Rewrite with GROUP BY … WITH ROLLUP or GROUPING SETS.",
};

const CRYPTO: Rule = Rule {
    id: "CryptographicProvider",
    level: FindingLevel::Issue,
    title: "Cryptographic provider (EKM)",
    impact: "Managed Instance does not support Extensible Key Management providers.",
    remediation: "Use Azure Key Vault keys (TDE with customer-managed keys) instead of an EKM provider.",
};

const DISABLE_CHECK: Rule = Rule {
    id: "DisableDefCNSTCHK",
    level: FindingLevel::Issue,
    title: "SET DISABLE_DEF_CNST_CHK",
    impact: "This SET option was removed; the statement fails.",
    remediation: "Remove the SET statement; defer constraint checks by disabling constraints (ALTER TABLE … NOCHECK) instead.",
};

const FASTFIRSTROW: Rule = Rule {
    id: "FastFirstRowHint",
    level: FindingLevel::Warning,
    title: "FASTFIRSTROW table hint",
    impact: "The FASTFIRSTROW hint was removed; the query fails.",
    remediation: "Use OPTION (FAST 1) instead.",
};

/// distributed-transaction-coordinator-dtc.md (ms.date 2025-09-11): "running distributed T-SQL
/// transactions between SQL managed instances and SQL Server and other SQL Server-based products
/// is supported"; a warning for what must be set up, not a blocker (Microsoft's assessment still
/// lists it as an issue).
pub const DTC_HOMOGENEOUS: Rule = Rule {
    id: "MIHomogeneousMSDTCTransactSQL",
    level: FindingLevel::Warning,
    title: "Distributed transaction to SQL Server",
    impact: "Distributed transactions work on Managed Instance once DTC for Azure SQL Managed Instance is enabled and the participants reach each other; between managed instances a server trust group does it without DTC.",
    remediation: "Enable DTC on the managed instance (Azure portal, Security > DTC, or the dtc ARM resource), open ports 135 and 14000-15000 inbound and 49152-65535 outbound between the participants, exchange DNS suffixes, and keep the external hosts' names to 15 characters; for managed instances only, a server trust group.",
};

pub const DTC_HETEROGENEOUS: Rule = Rule {
    id: "MIHeterogeneousMSDTCTransactSQL",
    level: FindingLevel::Issue,
    title: "Distributed transaction to a non-SQL Server",
    impact: "Managed Instance cannot take part in distributed transactions with other database engines (DTC for Managed Instance works with SQL Server-based products only).",
    remediation: "Redesign the work so each system commits on its own (outbox, compensation), or keep it off MI.",
};

const LEFT_JOIN: Rule = Rule {
    id: "NonANSILeftOuterJoinSyntax",
    level: FindingLevel::Warning,
    title: "Non-ANSI left outer join (*=)",
    impact: "`*=` joins fail at compatibility level 90 and above.",
    remediation: "Rewrite as LEFT OUTER JOIN … ON.",
};

const RIGHT_JOIN: Rule = Rule {
    id: "NonANSIRightOuterJoinSyntax",
    level: FindingLevel::Warning,
    title: "Non-ANSI right outer join (=*)",
    impact: "`=*` joins fail at compatibility level 90 and above.",
    remediation: "Rewrite as RIGHT OUTER JOIN … ON.",
};

pub(crate) const NEXT_COLUMN: Rule = Rule {
    id: "NextColumn",
    level: FindingLevel::Issue,
    title: "Table or column named NEXT",
    impact: "NEXT is a keyword (NEXT VALUE FOR); unquoted uses of the name fail.",
    remediation: "Rename the object, or quote it as [NEXT] everywhere it is used.",
};

const OPENROWSET_BULK: Rule = Rule {
    id: "OpenRowsetWithNonBlobDataSourceBulk",
    level: FindingLevel::Issue,
    title: "OPENROWSET(BULK …) from a local or network file",
    impact: "Managed Instance reads bulk data only from Azure Blob Storage.",
    remediation: "Put the file in Azure Blob Storage and add DATA_SOURCE = <external data source> to OPENROWSET.",
};

const OPENROWSET_PROVIDER: Rule = Rule {
    id: "OpenRowsetWithNonSQLProvider",
    level: FindingLevel::Issue,
    title: "OPENROWSET / OPENDATASOURCE with a provider other than SQL Server's",
    impact: "Managed Instance supports OPENROWSET only to SQL Server and Azure SQL.",
    remediation: "Load the data another way (Data Factory, BULK INSERT from blob storage).",
};

const RAISERROR: Rule = Rule {
    id: "RAISERROR",
    level: FindingLevel::Warning,
    title: "Legacy RAISERROR syntax",
    impact: "`RAISERROR 50001 'text'` was removed; the statement fails.",
    remediation: "Write RAISERROR(50001, 16, 1, 'text') or THROW.",
};
