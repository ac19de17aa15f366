//! What Azure SQL Managed Instance refuses that SQL Server accepts, with MI's error numbers and
//! texts (sys.messages on MI). Checked on the batch text before it is parsed, as MI refuses
//! these statements by their shape, whatever they name.

use super::errors;
use crate::tds::tokens::ServerMessage;

/// The words of `sql`, upper-cased, with `=`, `,` and parentheses as words of their own.
fn words(sql: &str) -> Vec<String> {
    let spaced: String = sql
        .chars()
        .flat_map(|c| match c {
            '=' | ',' | '(' | ')' | ';' => vec![' ', c, ' '],
            c => vec![c.to_ascii_uppercase()],
        })
        .collect();
    spaced.split_whitespace().map(str::to_string).collect()
}

fn mi_error(number: i32, text: impl Into<String>) -> ServerMessage {
    errors::error(number, 16, 1, text)
}

/// Options RESTORE takes on SQL Server but not on MI, where MI places the files and recovers
/// the database itself.
const RESTORE_OPTIONS_REFUSED: &[&str] = &[
    "MOVE",
    "REPLACE",
    "RECOVERY",
    "NORECOVERY",
    "STANDBY",
    "STATS",
    "FILE",
];

/// MI's refusal of `sql`, if MI refuses it.
pub fn mi_refusal(sql: &str) -> Option<ServerMessage> {
    let w = words(sql);
    let has = |s: &str| w.iter().any(|x| x == s);
    let starts = |a: &str, b: &str| w.len() >= 2 && w[0] == a && w[1] == b;
    if starts("CREATE", "DATABASE") && (has("ON") || has("FILENAME") || has("LOG")) {
        return Some(mi_error(
            41918,
            "Specifying files and filegroups in CREATE DATABASE statement is not supported on SQL Database Managed Instance.",
        ));
    }
    if starts("ALTER", "DATABASE") && has("FILENAME") {
        return Some(mi_error(
            41903,
            "FILENAME option is not allowed in SQL Database Managed Instance.",
        ));
    }
    if w.first().is_some_and(|x| x == "BACKUP") {
        let full_copy_only = w.get(1).is_some_and(|x| x == "DATABASE") && has("COPY_ONLY");
        if !full_copy_only {
            return Some(mi_error(
                41904,
                "BACKUP DATABASE failed. SQL Database Managed Instance supports only COPY_ONLY full database backups which are initiated by user.",
            ));
        }
        if has("DISK") || has("TAPE") {
            let device = if has("DISK") { "disk" } else { "tape" };
            return Some(options_refused(&[device.to_string()]));
        }
    }
    if w.first().is_some_and(|x| x == "RESTORE") {
        if has("DISK") || has("TAPE") {
            return Some(mi_error(
                41902,
                "Unsupported device type. SQL Database Managed Instance supports database restore from URI backup device only.",
            ));
        }
        // Options are the words after WITH that open an option (first word, or after a comma).
        if let Some(with) = w.iter().position(|x| x == "WITH") {
            let mut refused = Vec::new();
            let mut expect_option = true;
            for x in &w[with + 1..] {
                if expect_option && RESTORE_OPTIONS_REFUSED.contains(&x.as_str()) {
                    refused.push(x.to_ascii_lowercase());
                }
                expect_option = x == ",";
            }
            if !refused.is_empty() {
                return Some(options_refused(&refused));
            }
        }
    }
    if w.first().is_some_and(|x| x == "EXEC" || x == "EXECUTE")
        && w.iter().skip(1).take(1).any(|p| {
            p.trim_start_matches("MASTER..")
                .trim_start_matches("MASTER.DBO.")
                == "XP_CMDSHELL"
        })
    {
        return Some(mi_error(
            41905,
            "Stored procedure xp_cmdshell is not supported in SQL Database Managed Instance.",
        ));
    }
    None
}

/// 41901: the options MI does not take, named as MI names them.
fn options_refused(options: &[String]) -> ServerMessage {
    mi_error(
        41901,
        format!(
            "One or more of the options ({}) are not supported for this statement in SQL Database Managed Instance. Review the documentation for supported options.",
            options.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::mi_refusal;

    fn number(sql: &str) -> Option<i32> {
        mi_refusal(sql).map(|e| e.number)
    }

    #[test]
    fn mi_refuses_file_placement_and_disk_devices() {
        assert_eq!(
            number("CREATE DATABASE x ON (NAME = x, FILENAME = 'D:\\x.mdf')"),
            Some(41918)
        );
        assert_eq!(number("CREATE DATABASE x"), None);
        assert_eq!(
            number("ALTER DATABASE x ADD FILE (NAME = y, FILENAME = 'D:\\y.ndf')"),
            Some(41903)
        );
        assert_eq!(
            number("RESTORE DATABASE x FROM DISK = 'D:\\x.bak'"),
            Some(41902)
        );
        assert_eq!(
            number("BACKUP LOG x TO URL = 'https://a/b/x.trn'"),
            Some(41904)
        );
        assert_eq!(
            number("BACKUP DATABASE x TO URL = 'https://a/b/x.bak'"),
            Some(41904)
        );
        assert_eq!(
            number("BACKUP DATABASE x TO URL = 'https://a/b/x.bak' WITH COPY_ONLY"),
            None
        );
        assert_eq!(number("EXEC master..xp_cmdshell 'dir'"), Some(41905));
    }

    #[test]
    fn mi_restores_from_url_without_file_options() {
        assert_eq!(
            number("RESTORE DATABASE x FROM URL = 'https://a.blob.core.windows.net/c/x.bak'"),
            None
        );
        let e = mi_refusal(
            "RESTORE DATABASE x FROM URL = 'https://a/c/x.bak' WITH STATS = 10, MOVE 'x' TO 'y'",
        )
        .unwrap();
        assert_eq!(e.number, 41901);
        assert!(e.text.contains("(stats, move)"), "{}", e.text);
    }
}
