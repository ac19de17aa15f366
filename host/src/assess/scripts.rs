//! T-SQL script folders as an inventory, so rule packs assess scripts like module definitions:
//! each `--scripts` path becomes a database of an instance named `scripts`, each file a module
//! whose findings carry the file and line.
//!
//! sqlcmd mode is understood as sqlcmd runs it: `:setvar` defines a variable from its line on,
//! `$(NAME)` is replaced (values also come from `--var` and an SSDT project's SqlCmdVariables),
//! `:r FILE` reads another script (assessed as its own file), and other sqlcmd commands
//! (`:on error`, `:connect`, `!!`) are not T-SQL. Command lines are blanked rather than removed so
//! line numbers stay those of the file. SSMS template parameters (`<name, type, value>`) take
//! their values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sqlmig_protocol::{Database, Instance, Module};

/// The instance name script databases are reported under.
pub const SCRIPTS_INSTANCE: &str = "scripts";

/// A script set that could not be read; the message names the file and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScriptError(pub String);

/// sqlcmd variables, by upper-case name (sqlcmd names are case-insensitive).
pub type Vars = BTreeMap<String, String>;

/// Reads every `--scripts` path into one instance, a database per path.
pub fn read_all(paths: &[PathBuf], vars: &Vars) -> Result<Instance, ScriptError> {
    let mut databases = Vec::new();
    for (n, path) in paths.iter().enumerate() {
        let mut db = read(path, vars)?;
        db.database_id = 5 + n as i64;
        if databases.iter().any(|d: &Database| d.name == db.name) {
            db.name = format!("{} ({})", db.name, path.display());
        }
        databases.push(db);
    }
    Ok(Instance {
        name: SCRIPTS_INSTANCE.into(),
        platform: "scripts".into(),
        databases,
        ..Default::default()
    })
}

/// Reads one path: a .sql file, an SSDT project (.sqlproj, or a folder holding one), or a
/// folder of .sql files (recursively, skipping bin/ and obj/).
pub fn read(path: &Path, vars: &Vars) -> Result<Database, ScriptError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        ScriptError(format!(
            "cannot read scripts at {}: {e}; give a .sql file, a folder of them or an SSDT .sqlproj",
            path.display()
        ))
    })?;
    let (root, name, files, mut vars) = if meta.is_dir() {
        match single_project(path)? {
            Some(project) => project_files(&project, vars)?,
            None => {
                let mut files = Vec::new();
                sql_files(path, &mut files)?;
                (path.to_path_buf(), folder_name(path), files, vars.clone())
            }
        }
    } else if has_extension(path, "sqlproj") {
        project_files(path, vars)?
    } else {
        let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let name = path
            .file_stem()
            .map_or("script".into(), |s| s.to_string_lossy().into_owned());
        (root, name, vec![path.to_path_buf()], vars.clone())
    };
    if files.is_empty() {
        return Err(ScriptError(format!(
            "no .sql files in {}; give a .sql file, a folder of them or an SSDT .sqlproj",
            path.display()
        )));
    }
    let mut reader = Reader {
        root: &root,
        modules: Vec::new(),
        seen: Vec::new(),
    };
    for file in &files {
        reader.read_file(file, &mut vars)?;
    }
    Ok(Database {
        name,
        state_desc: "ONLINE".into(),
        modules: reader.modules,
        ..Default::default()
    })
}

/// Reads files and the `:r` files they include, once each.
struct Reader<'a> {
    root: &'a Path,
    modules: Vec<Module>,
    seen: Vec<PathBuf>,
}

impl Reader<'_> {
    fn read_file(&mut self, file: &Path, vars: &mut Vars) -> Result<(), ScriptError> {
        let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
        if self.seen.contains(&canonical) {
            return Ok(());
        }
        self.seen.push(canonical);
        let bytes = std::fs::read(file)
            .map_err(|e| ScriptError(format!("cannot read script {}: {e}", file.display())))?;
        let text = decode(&bytes).ok_or_else(|| {
            ScriptError(format!(
                "script {} is neither UTF-8 nor UTF-16 with a byte order mark; save it as UTF-8",
                file.display()
            ))
        })?;
        let mut includes = Vec::new();
        let definition = preprocess(&text, vars, &mut includes);
        let shown = file
            .strip_prefix(self.root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        self.modules.push(Module {
            schema: String::new(),
            name: shown.clone(),
            type_desc: "SQL_SCRIPT".into(),
            definition: Some(definition),
            file: Some(shown),
        });
        let dir = file.parent().unwrap_or(Path::new("."));
        for include in includes {
            let included = dir.join(include.replace('\\', "/"));
            if !included.is_file() {
                return Err(ScriptError(format!(
                    "script {} reads {} with :r, which does not exist; fix the path or pass the folder that holds it",
                    file.display(),
                    included.display()
                )));
            }
            self.read_file(&included, vars)?;
        }
        Ok(())
    }
}

/// Applies sqlcmd mode to a script: returns the T-SQL with the same line count, and the files it
/// reads with `:r`.
pub fn preprocess(text: &str, vars: &mut Vars, includes: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        let ending = &line[body.len()..];
        let command = body.trim_start();
        if let Some(rest) = strip_command(command, ":setvar") {
            if let Some((name, value)) = setvar(rest) {
                vars.insert(name.to_ascii_uppercase(), value);
            }
        } else if let Some(rest) = strip_command(command, ":r") {
            includes.push(unquote(rest.trim()).to_string());
        } else if command.starts_with(':')
            && command[1..].starts_with(|c: char| c.is_ascii_alphabetic())
            || command.starts_with("!!")
        {
            // Another sqlcmd command (:on error, :connect, :out, !! shell): not T-SQL.
        } else {
            out.push_str(&template_defaults(&substitute(body, vars)));
        }
        out.push_str(ending);
    }
    out
}

/// SSMS template parameters, `<parameter_name, data_type, value>`, replaced by their values as
/// SSMS's "Specify Values for Template Parameters" does with the defaults the template gives,
/// so a template is assessed as the script it becomes (in strings too, as SSMS replaces them).
fn template_defaults(line: &str) -> String {
    static PARAMETER: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let parameter = PARAMETER.get_or_init(|| {
        regex::Regex::new(
            r"<\s*[A-Za-z_][A-Za-z0-9_ ]*\s*,\s*[A-Za-z][A-Za-z0-9_ ()]*\s*,([^<>\r\n]*)>",
        )
        .expect("a valid pattern")
    });
    parameter
        .replace_all(line, |c: &regex::Captures| c[1].trim().to_string())
        .into_owned()
}

/// The rest of `line` after the sqlcmd command `cmd` (case-insensitive, followed by a space).
fn strip_command<'a>(line: &'a str, cmd: &str) -> Option<&'a str> {
    let head = line.get(..cmd.len())?;
    let rest = &line[cmd.len()..];
    (head.eq_ignore_ascii_case(cmd) && rest.starts_with([' ', '\t'])).then_some(rest)
}

/// `NAME "value"` or `NAME value`.
fn setvar(rest: &str) -> Option<(String, String)> {
    let rest = rest.trim();
    let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    (!name.is_empty()).then(|| (name.to_string(), unquote(value.trim()).to_string()))
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Replaces `$(NAME)` with the variable's value; unknown variables stay as written.
fn substitute(line: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("$(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find(')') {
            Some(end) if vars.contains_key(&after[..end].to_ascii_uppercase()) => {
                out.push_str(&vars[&after[..end].to_ascii_uppercase()]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("$(");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// UTF-8 (with or without BOM) or UTF-16 with a BOM, as SSMS saves scripts.
fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |bytes: &[u8], read: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = bytes.chunks_exact(2).map(|c| read([c[0], c[1]])).collect();
        String::from_utf16(&units).ok()
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn folder_name(path: &Path) -> String {
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    abs.file_name()
        .map_or("scripts".into(), |n| n.to_string_lossy().into_owned())
}

/// Every .sql file under `dir`, sorted, skipping build output (bin/, obj/) and hidden folders.
fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScriptError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ScriptError(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if p.is_dir() {
            if !(name == "bin" || name == "obj" || name.starts_with('.')) {
                sql_files(&p, out)?;
            }
        } else if has_extension(&p, "sql") {
            out.push(p);
        }
    }
    Ok(())
}

/// The one .sqlproj at the top of `dir`, if there is exactly one.
fn single_project(dir: &Path) -> Result<Option<PathBuf>, ScriptError> {
    let projects: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ScriptError(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && has_extension(p, "sqlproj"))
        .collect();
    match projects.len() {
        0 => Ok(None),
        1 => Ok(projects.into_iter().next()),
        _ => Err(ScriptError(format!(
            "{} holds several .sqlproj files; pass the one to assess",
            dir.display()
        ))),
    }
}

/// An SSDT project's scripts: its `Build`, `PreDeploy` and `PostDeploy` items (an SDK-style
/// project without Build items takes every .sql file under it, minus `Build Remove`), and its
/// SqlCmdVariables' default values.
fn project_files(
    project: &Path,
    vars: &Vars,
) -> Result<(PathBuf, String, Vec<PathBuf>, Vars), ScriptError> {
    let xml = std::fs::read(project)
        .ok()
        .and_then(|b| decode(&b))
        .ok_or_else(|| ScriptError(format!("cannot read SSDT project {}", project.display())))?;
    let root = project.parent().unwrap_or(Path::new(".")).to_path_buf();
    let name = project
        .file_stem()
        .map_or("project".into(), |s| s.to_string_lossy().into_owned());
    let items = |element: &str, attribute: &str| -> Vec<String> {
        let mut found = Vec::new();
        for chunk in xml.split(&format!("<{element} ")).skip(1) {
            let tag = chunk.split('>').next().unwrap_or("");
            if let Some(value) = attribute_value(tag, attribute) {
                found.push(value.replace('\\', "/"));
            }
        }
        found
    };
    let mut files: Vec<PathBuf> = ["Build", "PreDeploy", "PostDeploy"]
        .iter()
        .flat_map(|e| items(e, "Include"))
        .filter(|f| f.to_ascii_lowercase().ends_with(".sql"))
        .map(|f| root.join(f))
        .collect();
    if items("Build", "Include").is_empty() {
        let removed: Vec<PathBuf> = items("Build", "Remove")
            .iter()
            .map(|f| root.join(f))
            .collect();
        let mut all = Vec::new();
        sql_files(&root, &mut all)?;
        // An SDK-style project (no Build items here) lists what is left out.
        files.extend(all.into_iter().filter(|f| !removed.contains(f)));
    }
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        return Err(ScriptError(format!(
            "SSDT project {} lists {}, which does not exist",
            project.display(),
            missing.display()
        )));
    }
    let mut vars = vars.clone();
    for chunk in xml.split("<SqlCmdVariable ").skip(1) {
        let tag = chunk.split('>').next().unwrap_or("");
        let default = chunk
            .split("<DefaultValue>")
            .nth(1)
            .and_then(|d| d.split("</DefaultValue>").next())
            .filter(|_| chunk.find("<DefaultValue>") < chunk.find("</SqlCmdVariable>"));
        if let (Some(var), Some(default)) = (attribute_value(tag, "Include"), default) {
            vars.entry(var.to_ascii_uppercase())
                .or_insert_with(|| default.to_string());
        }
    }
    Ok((root, name, files, vars))
}

/// The value of `name="…"` in an XML start tag.
fn attribute_value(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[at..].find('"')?;
    Some(tag[at..at + end].replace("&amp;", "&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssms_template_parameters_take_their_values() {
        assert_eq!(
            template_defaults(
                "CREATE DATABASE <Database_Name, sysname, Sales> ON (NAME = N'<Database_Name, sysname, Sales>', FILENAME = N'<data_path, nvarchar(260), C:\\Data>\\s.mdf', SIZE = <size, int,>)"
            ),
            "CREATE DATABASE Sales ON (NAME = N'Sales', FILENAME = N'C:\\Data\\s.mdf', SIZE = )"
        );
        // Comparisons are not parameters.
        assert_eq!(
            template_defaults("IF @a < 5 AND @b > 2"),
            "IF @a < 5 AND @b > 2"
        );
    }

    #[test]
    fn sqlcmd_commands_are_blanked_and_variables_replaced_keeping_lines() {
        let mut vars = Vars::new();
        vars.insert("DB".into(), "Sales".into());
        let mut includes = Vec::new();
        let text = ":setvar Owner \"dbo\"\r\nUSE $(Db)\r\n:on error exit\r\nEXEC $(owner).p '$(Unknown)'\r\n:r .\\more.sql\r\n!!dir\r\nSELECT 1";
        let out = preprocess(text, &mut vars, &mut includes);
        assert_eq!(
            out,
            "\r\nUSE Sales\r\n\r\nEXEC dbo.p '$(Unknown)'\r\n\r\n\r\nSELECT 1"
        );
        assert_eq!(includes, [".\\more.sql"]);
        assert_eq!(vars["OWNER"], "dbo");
    }

    #[test]
    fn utf16_and_bom_scripts_decode() {
        let mut le = vec![0xFF, 0xFE];
        le.extend(
            "EXEC xp_cmdshell"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        );
        assert_eq!(decode(&le).unwrap(), "EXEC xp_cmdshell");
        assert_eq!(decode(b"\xEF\xBB\xBFSELECT 1").unwrap(), "SELECT 1");
        assert!(decode(b"SELECT \xFF\xFE\xFD").is_none());
    }
}
