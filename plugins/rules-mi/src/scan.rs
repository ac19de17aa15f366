//! What scanning one T-SQL text finds (hits, linked servers it declares), and the token helpers
//! the families' text checks share.

use crate::rule::Rule;
use crate::tsql::Code;
use sqlparser::tokenizer::Token;

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

/// The first token `j` of the statement starting at `i` for which `at(j)` holds.
pub(crate) fn find_in_statement(
    code: &Code,
    i: usize,
    at: impl Fn(usize) -> bool,
) -> Option<usize> {
    (i + 1..code.statement_end(i)).find(|&j| at(j))
}

/// Whether the option list `(`…`)` starting at `open` names `option` (DATA_SOURCE).
pub(crate) fn has_option(code: &Code, open: usize, option: &str) -> bool {
    code.is(open, &Token::LParen) && (open + 1..code.close_paren(open)).any(|j| code.kw(j, option))
}
