//! BACKUP, RESTORE and CREDENTIAL statements, which sqlparser does not read: a small reader of
//! their T-SQL grammar (names bracketed or plain, values as literals or `@variables`).

use crate::engine::Param;
use crate::tds::types::Value;

/// Where a backup goes or comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Device {
    /// `URL = 'https://account/container/file.bak'`
    Url(String),
    /// `DISK = 'D:\backups\file.bak'`
    Disk(String),
}

impl Device {
    /// The device's name as SQL Server's messages print it.
    pub fn name(&self) -> &str {
        match self {
            Device::Url(s) | Device::Disk(s) => s,
        }
    }
}

/// The WITH options of BACKUP and RESTORE sqlsim acts on; the rest are accepted and listed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub compression: bool,
    pub checksum: bool,
    pub copy_only: bool,
    pub differential: bool,
    pub format: bool,
    pub init: bool,
    pub norecovery: bool,
    pub recovery: bool,
    pub replace: bool,
    pub stats: Option<u32>,
    /// RESTORE … WITH FILE = n: the backup set's position.
    pub file: Option<u32>,
    /// MOVE 'logical' TO 'physical'.
    pub moves: Vec<(String, String)>,
    pub name: Option<String>,
    /// MAXTRANSFERSIZE in bytes, when given.
    pub max_transfer_size: Option<u64>,
    /// BLOCKSIZE in bytes, when given.
    pub block_size: Option<u64>,
    /// WITH CREDENTIAL = 'name': a page-blob backup with a storage-key credential.
    pub credential: Option<String>,
    /// BACKUP LOG … WITH STANDBY = 'undo file': the tail, leaving the database read-only.
    pub standby: Option<String>,
    /// Every option named, upper-cased, in order.
    pub named: Vec<String>,
}

/// What RESTORE is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreKind {
    Database,
    Log,
    HeaderOnly,
    FileListOnly,
    VerifyOnly,
}

/// One statement of this family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    CreateCredential {
        name: String,
        identity: String,
        secret: Option<String>,
        alter: bool,
    },
    DropCredential {
        name: String,
    },
    Backup {
        log: bool,
        database: String,
        devices: Vec<Device>,
        options: Options,
    },
    Restore {
        kind: RestoreKind,
        database: Option<String>,
        devices: Vec<Device>,
        options: Options,
    },
}

/// A syntax error, with the token it stopped at.
#[derive(Debug, PartialEq, Eq)]
pub struct SyntaxError(pub String);

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    /// A bracketed or double-quoted name.
    Quoted(String),
    Str(String),
    Num(String),
    Var(String),
    Punct(char),
}

fn tokens(sql: &str) -> Result<Vec<Tok>, SyntaxError> {
    let c: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '-' && c.get(i + 1) == Some(&'-') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if ch == '[' || ch == '"' {
            let close = if ch == '[' { ']' } else { '"' };
            let mut s = String::new();
            i += 1;
            loop {
                match c.get(i) {
                    None => {
                        return Err(SyntaxError(format!(
                            "Unclosed quotation mark after the character string '{s}'."
                        )));
                    }
                    Some(&x) if x == close && c.get(i + 1) == Some(&close) => {
                        s.push(close);
                        i += 2;
                    }
                    Some(&x) if x == close => {
                        i += 1;
                        break;
                    }
                    Some(&x) => {
                        s.push(x);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Quoted(s));
        } else if ch == '\'' || ((ch == 'N' || ch == 'n') && c.get(i + 1) == Some(&'\'')) {
            i += if ch == '\'' { 1 } else { 2 };
            let mut s = String::new();
            loop {
                match c.get(i) {
                    None => {
                        return Err(SyntaxError(format!(
                            "Unclosed quotation mark after the character string '{s}'."
                        )));
                    }
                    Some('\'') if c.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&x) => {
                        s.push(x);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if ch == '@' {
            let start = i;
            i += 1;
            while i < c.len()
                && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '@' || c[i] == '#')
            {
                i += 1;
            }
            out.push(Tok::Var(c[start..i].iter().collect()));
        } else if ch.is_ascii_digit() {
            let start = i;
            while i < c.len() && c[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tok::Num(c[start..i].iter().collect()));
        } else if ch.is_alphanumeric() || ch == '_' || ch == '#' {
            let start = i;
            while i < c.len()
                && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '#' || c[i] == '$')
            {
                i += 1;
            }
            out.push(Tok::Word(c[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    Ok(out)
}

/// True when `sql` is a statement of this family (the batch is one of them).
pub fn is_backup_family(sql: &str) -> bool {
    let Ok(t) = tokens(sql) else { return false };
    let word = |i: usize| match t.get(i) {
        Some(Tok::Word(w)) => w.to_ascii_uppercase(),
        _ => String::new(),
    };
    match word(0).as_str() {
        "BACKUP" | "RESTORE" => true,
        "CREATE" | "ALTER" | "DROP" => word(1) == "CREDENTIAL",
        _ => false,
    }
}

struct Reader<'a> {
    t: Vec<Tok>,
    i: usize,
    params: &'a [Param],
}

impl Reader<'_> {
    fn peek_word(&self) -> Option<String> {
        match self.t.get(self.i) {
            Some(Tok::Word(w)) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    fn near(&self) -> String {
        match self.t.get(self.i) {
            Some(Tok::Word(w) | Tok::Num(w) | Tok::Var(w)) => w.clone(),
            Some(Tok::Quoted(q)) => q.clone(),
            Some(Tok::Str(s)) => s.clone(),
            Some(Tok::Punct(p)) => p.to_string(),
            None => String::new(),
        }
    }

    fn near_err(&self) -> SyntaxError {
        SyntaxError(format!("Incorrect syntax near '{}'.", self.near()))
    }

    fn err<T>(&self) -> Result<T, SyntaxError> {
        Err(self.near_err())
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if self.peek_word().as_deref() == Some(kw) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kw: &str) -> Result<(), SyntaxError> {
        if self.keyword(kw) { Ok(()) } else { self.err() }
    }

    fn punct(&mut self, p: char) -> bool {
        if self.t.get(self.i) == Some(&Tok::Punct(p)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn var(&self, name: &str) -> Result<String, SyntaxError> {
        let p = self
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| SyntaxError(format!("Must declare the scalar variable \"{name}\".")))?;
        Ok(match &p.value {
            Value::Text(s) => s.clone(),
            Value::Integer(n) => n.to_string(),
            Value::Real(f) => f.to_string(),
            Value::Null => String::new(),
            Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        })
    }

    /// A name: plain, bracketed, quoted or a variable holding it.
    fn name(&mut self) -> Result<String, SyntaxError> {
        let v = match self.t.get(self.i).cloned() {
            Some(Tok::Word(w)) => w,
            Some(Tok::Quoted(q)) => q,
            Some(Tok::Var(v)) => self.var(&v)?,
            _ => return self.err(),
        };
        self.i += 1;
        Ok(v)
    }

    /// A value: a string or number literal, or a variable.
    fn value(&mut self) -> Result<String, SyntaxError> {
        let v = match self.t.get(self.i).cloned() {
            Some(Tok::Str(s) | Tok::Num(s)) => s,
            Some(Tok::Var(v)) => self.var(&v)?,
            _ => return self.err(),
        };
        self.i += 1;
        Ok(v)
    }

    fn devices(&mut self) -> Result<Vec<Device>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            let kind = self.peek_word();
            let url = match kind.as_deref() {
                Some("URL") => true,
                Some("DISK") => false,
                _ => return self.err(),
            };
            self.i += 1;
            if !self.punct('=') {
                return self.err();
            }
            let v = self.value()?;
            out.push(if url { Device::Url(v) } else { Device::Disk(v) });
            // A comma followed by another device, or the end of the device list.
            let save = self.i;
            if self.punct(',') && matches!(self.peek_word().as_deref(), Some("URL" | "DISK")) {
                continue;
            }
            self.i = save;
            return Ok(out);
        }
    }

    fn options(&mut self) -> Result<Options, SyntaxError> {
        let mut o = Options::default();
        if !self.keyword("WITH") {
            return Ok(o);
        }
        loop {
            let Some(opt) = self.peek_word() else {
                return self.err();
            };
            self.i += 1;
            o.named.push(opt.clone());
            match opt.as_str() {
                "COMPRESSION" => o.compression = true,
                "NO_COMPRESSION" => o.compression = false,
                "CHECKSUM" => o.checksum = true,
                "COPY_ONLY" => o.copy_only = true,
                "DIFFERENTIAL" => o.differential = true,
                "FORMAT" => o.format = true,
                "INIT" => o.init = true,
                "NORECOVERY" => o.norecovery = true,
                "RECOVERY" => o.recovery = true,
                "REPLACE" => o.replace = true,
                "STATS" => {
                    o.stats = Some(if self.punct('=') {
                        self.value()?.parse().unwrap_or(10)
                    } else {
                        10
                    });
                }
                "FILE" => {
                    if !self.punct('=') {
                        return self.err();
                    }
                    o.file = self.value()?.parse().ok();
                }
                "NAME" | "DESCRIPTION" | "MEDIANAME" | "MEDIADESCRIPTION" | "MAXTRANSFERSIZE"
                | "BLOCKSIZE" | "BUFFERCOUNT" | "CREDENTIAL" | "STANDBY" => {
                    if !self.punct('=') {
                        return self.err();
                    }
                    let v = self.value()?;
                    match opt.as_str() {
                        "NAME" => o.name = Some(v),
                        "MAXTRANSFERSIZE" => {
                            o.max_transfer_size = Some(v.parse().map_err(|_| self.near_err())?)
                        }
                        "BLOCKSIZE" => o.block_size = Some(v.parse().map_err(|_| self.near_err())?),
                        "CREDENTIAL" => o.credential = Some(v),
                        "STANDBY" => o.standby = Some(v),
                        _ => {}
                    }
                }
                "MOVE" => {
                    let from = self.value()?;
                    self.expect("TO")?;
                    let to = self.value()?;
                    o.moves.push((from, to));
                }
                _ => {
                    // Options sqlsim does not act on (NOFORMAT, NOINIT, SKIP, NOUNLOAD, …), with
                    // any `= value` they carry.
                    if self.punct('=') {
                        self.value()?;
                    }
                }
            }
            if !self.punct(',') {
                return Ok(o);
            }
        }
    }

    fn end(&mut self) -> Result<(), SyntaxError> {
        self.punct(';');
        if self.i < self.t.len() {
            self.err()
        } else {
            Ok(())
        }
    }
}

/// Reads one statement of the family; `params` give the values of `@variables`.
pub fn parse(sql: &str, params: &[Param]) -> Result<Stmt, SyntaxError> {
    let mut r = Reader {
        t: tokens(sql)?,
        i: 0,
        params,
    };
    let stmt = match r.peek_word().as_deref() {
        Some("CREATE") | Some("ALTER") => {
            let alter = r.peek_word().as_deref() == Some("ALTER");
            r.i += 1;
            r.expect("CREDENTIAL")?;
            let name = r.name()?;
            r.expect("WITH")?;
            r.expect("IDENTITY")?;
            if !r.punct('=') {
                return r.err();
            }
            let identity = r.value()?;
            let mut secret = None;
            if r.punct(',') {
                r.expect("SECRET")?;
                if !r.punct('=') {
                    return r.err();
                }
                secret = Some(r.value()?);
            }
            Stmt::CreateCredential {
                name,
                identity,
                secret,
                alter,
            }
        }
        Some("DROP") => {
            r.i += 1;
            r.expect("CREDENTIAL")?;
            Stmt::DropCredential { name: r.name()? }
        }
        Some("BACKUP") => {
            r.i += 1;
            let log = match r.peek_word().as_deref() {
                Some("DATABASE") => false,
                Some("LOG") => true,
                _ => return r.err(),
            };
            r.i += 1;
            let database = r.name()?;
            r.expect("TO")?;
            let devices = r.devices()?;
            let options = r.options()?;
            Stmt::Backup {
                log,
                database,
                devices,
                options,
            }
        }
        Some("RESTORE") => {
            r.i += 1;
            let kind = match r.peek_word().as_deref() {
                Some("DATABASE") => RestoreKind::Database,
                Some("LOG") => RestoreKind::Log,
                Some("HEADERONLY") => RestoreKind::HeaderOnly,
                Some("FILELISTONLY") => RestoreKind::FileListOnly,
                Some("VERIFYONLY") => RestoreKind::VerifyOnly,
                _ => return r.err(),
            };
            r.i += 1;
            let database = if matches!(kind, RestoreKind::Database | RestoreKind::Log) {
                Some(r.name()?)
            } else {
                None
            };
            // RESTORE DATABASE x WITH RECOVERY recovers a database left restoring: no FROM.
            let devices = if r.keyword("FROM") {
                r.devices()?
            } else {
                Vec::new()
            };
            let options = r.options()?;
            if devices.is_empty() && !matches!(kind, RestoreKind::Database | RestoreKind::Log) {
                return r.err();
            }
            Stmt::Restore {
                kind,
                database,
                devices,
                options,
            }
        }
        _ => return r.err(),
    };
    r.end()?;
    Ok(stmt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_backup_and_restore_as_sqlmig_and_dbas_write_them() {
        let s = parse(
            "BACKUP DATABASE [Sales]]x] TO URL = N'https://a/c/s_1.bak', URL = 'https://a/c/s_2.bak' \
             WITH COMPRESSION, CHECKSUM, FORMAT, INIT, STATS = 5, NAME = 'it''s';",
            &[],
        )
        .unwrap();
        let Stmt::Backup {
            log,
            database,
            devices,
            options,
        } = s
        else {
            panic!()
        };
        assert!(!log);
        assert_eq!(database, "Sales]x");
        assert_eq!(
            devices,
            [
                Device::Url("https://a/c/s_1.bak".into()),
                Device::Url("https://a/c/s_2.bak".into())
            ]
        );
        assert!(options.compression && options.checksum && options.format && options.init);
        assert_eq!(options.stats, Some(5));
        assert_eq!(options.name.as_deref(), Some("it's"));

        let params = [
            Param::new("@db", Value::Text("O'Brien".into())),
            Param::new("@url", Value::Text("https://a/c/o.trn".into())),
        ];
        let s = parse("RESTORE LOG @db FROM URL = @url WITH NORECOVERY", &params).unwrap();
        assert_eq!(
            s,
            Stmt::Restore {
                kind: RestoreKind::Log,
                database: Some("O'Brien".into()),
                devices: vec![Device::Url("https://a/c/o.trn".into())],
                options: Options {
                    norecovery: true,
                    named: vec!["NORECOVERY".into()],
                    ..Options::default()
                },
            }
        );
        assert!(
            matches!(parse("RESTORE DATABASE x WITH RECOVERY", &[]).unwrap(), Stmt::Restore { devices, .. } if devices.is_empty())
        );
        let s = parse("CREATE CREDENTIAL [https://a/c] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = 'sv=1&sig=x'", &[]).unwrap();
        assert!(
            matches!(s, Stmt::CreateCredential { name, secret: Some(_), alter: false, .. } if name == "https://a/c")
        );
        assert!(is_backup_family("  -- note\n BACKUP LOG x TO DISK = 'x'"));
        assert!(!is_backup_family("SELECT 1"));
    }

    #[test]
    fn bad_syntax_names_where() {
        assert_eq!(
            parse("BACKUP DATABASE x TO TAPE = 'x'", &[]).unwrap_err().0,
            "Incorrect syntax near 'TAPE'."
        );
        assert!(
            parse("BACKUP DATABASE @x TO DISK = 'y'", &[])
                .unwrap_err()
                .0
                .contains("@x")
        );
        assert!(parse("RESTORE HEADERONLY", &[]).is_err());
    }
}
