//! Each text rule fires on its feature and not on look-alikes: the same words in comments and
//! strings, in branches that never run on MI, or in syntax that only resembles the feature.

use crate::guards;
use crate::text_scan::{scan, worth_scanning};
use crate::tsql::Code;

/// The rule ids and lines the text rules report for `sql`.
fn fired(sql: &str) -> Vec<(&'static str, u32)> {
    let code = guards::parse(sql).expect("test T-SQL tokenizes");
    scan(&code)
        .hits
        .iter()
        .map(|h| (h.rule.id, h.line))
        .collect()
}

fn ids(sql: &str) -> Vec<&'static str> {
    fired(sql).into_iter().map(|(id, _)| id).collect()
}

/// (rule, T-SQL that uses the feature once, T-SQL that must not fire it)
const CASES: &[(&str, &str, &str)] = &[
    (
        "XpCmdshell",
        "EXEC master..xp_cmdshell 'dir c:\\'",
        "PRINT 'xp_cmdshell is off' -- xp_cmdshell",
    ),
    (
        "SystemProcedures110",
        "exec sp_dboption 'pubs','trunc. log on chkpt.','true'",
        "ALTER DATABASE pubs SET RECOVERY FULL",
    ),
    (
        "SystemProcedures110",
        "sp_addserver 'S2', 'local'",
        "SELECT 'sp_addserver' AS x",
    ),
    (
        "DatabasePrincipalAlias",
        "EXEC sp_addalias 'bob', 'dbo'",
        "EXEC sp_adduser 'bob'",
    ),
    (
        "SqlMail",
        "EXEC master.dbo.xp_sendmail @recipients = 'a@b.c'",
        "EXEC msdb.dbo.sp_send_dbmail @recipients = 'a@b.c'",
    ),
    (
        "AssemblyFromFile",
        "CREATE ASSEMBLY Curl FROM 'C:\\bin\\Curl.dll' WITH PERMISSION_SET = SAFE",
        "CREATE ASSEMBLY Curl FROM 0x4D5A9000 WITH PERMISSION_SET = SAFE",
    ),
    (
        "BulkInsert",
        "BULK INSERT dbo.t FROM '\\\\share\\t.csv' WITH (FIELDTERMINATOR = ',')",
        "BULK INSERT dbo.t FROM 't.csv' WITH (DATA_SOURCE = 'MyBlob', FORMAT = 'CSV')",
    ),
    (
        "ComputeClause",
        "SELECT a, b FROM t ORDER BY a COMPUTE SUM(b) BY a",
        "SELECT compute FROM t",
    ),
    (
        "CryptographicProvider",
        "CREATE CRYPTOGRAPHIC PROVIDER ekm FROM FILE = 'c:\\ekm.dll'",
        "SELECT * FROM sys.cryptographic_providers",
    ),
    (
        "DisableDefCNSTCHK",
        "SET DISABLE_DEF_CNST_CHK ON",
        "SET NOCOUNT ON",
    ),
    (
        "FastFirstRowHint",
        "SELECT * FROM t WITH (FASTFIRSTROW)",
        "SELECT * FROM t OPTION (FAST 1)",
    ),
    (
        "MIHomogeneousMSDTCTransactSQL",
        "BEGIN DISTRIBUTED TRANSACTION; UPDATE S2.db.dbo.t SET a = 1; COMMIT",
        "BEGIN TRANSACTION; UPDATE db.dbo.t SET a = 1; COMMIT",
    ),
    (
        "NextColumn",
        "CREATE TABLE dbo.t (id int, next int)",
        "SELECT NEXT VALUE FOR dbo.seq",
    ),
    (
        "NextColumn",
        "CREATE TABLE dbo.[next] (id int)",
        "CREATE TABLE dbo.t (id int, next_id int)",
    ),
    (
        "NonANSILeftOuterJoinSyntax",
        "SELECT * FROM a, b WHERE a.id *= b.id",
        "UPDATE t SET @x *= 2",
    ),
    (
        "NonANSIRightOuterJoinSyntax",
        "SELECT * FROM a, b WHERE a.id =* b.id",
        "SELECT * FROM a WHERE a.id = 2 * 3",
    ),
    (
        "OpenRowsetWithNonBlobDataSourceBulk",
        "SELECT * FROM OPENROWSET(BULK N'c:\\JSON\\log.txt', SINGLE_CLOB) AS j",
        "SELECT * FROM OPENROWSET(BULK 'p.bcp', DATA_SOURCE = 'MyBlob', FORMATFILE = 'p.fmt') AS p",
    ),
    (
        "OpenRowsetWithNonSQLProvider",
        "SELECT * FROM OPENROWSET('Microsoft.ACE.OLEDB.12.0', 'Excel 12.0;Database=c:\\x.xlsx', 'SELECT * FROM [S$]')",
        "SELECT * FROM OPENROWSET('MSOLEDBSQL', 'Server=S2;Trusted_Connection=yes;', 'SELECT 1')",
    ),
    (
        "OpenRowsetWithNonSQLProvider",
        "SELECT * FROM OPENDATASOURCE('Microsoft.Jet.OLEDB.4.0', 'Data Source=c:\\x.mdb')...t",
        "SELECT * FROM OPENDATASOURCE('SQLNCLI', 'Data Source=S2')...t",
    ),
    (
        "RAISERROR",
        "RAISERROR 50001 'The order is late'",
        "RAISERROR('The order is late', 16, 1)",
    ),
    (
        "SQLMIG0201",
        "CREATE DATABASE Sales ON (NAME = Sales, FILENAME = 'D:\\Sales.mdf')",
        "CREATE DATABASE Sales",
    ),
    // The catalog rules' DDL forms, for scripts.
    (
        "MultipleLogFiles",
        "CREATE DATABASE Sales ON (NAME = Sales, FILENAME = 'D:\\Sales.mdf')\nLOG ON (NAME = L1, FILENAME = 'E:\\L1.ldf'),\n (NAME = L2, FILENAME = 'F:\\L2.ldf')",
        "CREATE DATABASE Sales ON (NAME = Sales, FILENAME = 'D:\\Sales.mdf')\nLOG ON (NAME = L1, FILENAME = 'E:\\L1.ldf')",
    ),
    (
        "MultipleLogFiles",
        "ALTER DATABASE Sales ADD LOG FILE (NAME = L2, FILENAME = 'F:\\L2.ldf')",
        "ALTER DATABASE Sales ADD FILE (NAME = D2, FILENAME = 'F:\\D2.ndf')",
    ),
    (
        "FileStream",
        "CREATE DATABASE Docs ON PRIMARY (NAME = D, FILENAME = 'D:\\D.mdf'),\nFILEGROUP Blobs CONTAINS FILESTREAM (NAME = B, FILENAME = 'D:\\Blobs')",
        "CREATE DATABASE Docs ON PRIMARY (NAME = D, FILENAME = 'D:\\D.mdf') -- no FILESTREAM",
    ),
    (
        "FileStream",
        "ALTER DATABASE Docs ADD FILEGROUP Blobs CONTAINS FILESTREAM",
        "ALTER DATABASE Docs ADD FILEGROUP Blobs",
    ),
    (
        "FileStream",
        "CREATE TABLE dbo.Files AS FILETABLE WITH (FILETABLE_DIRECTORY = 'Files')",
        "CREATE TABLE dbo.Files (id INT)",
    ),
    (
        "SQLMIG0202",
        "BACKUP DATABASE Sales TO DISK = 'D:\\Sales.bak'",
        "BACKUP DATABASE Sales TO URL = 'https://a.blob.core.windows.net/b/Sales.bak' WITH COPY_ONLY",
    ),
    (
        "SQLMIG0202",
        "RESTORE LOG Sales FROM TAPE = '\\\\.\\tape0'",
        "RESTORE DATABASE Sales FROM URL = 'https://a.blob.core.windows.net/b/Sales.bak'",
    ),
    (
        "SQLMIG0203",
        "CREATE CERTIFICATE c FROM FILE = 'c:\\c.cer'",
        "CREATE CERTIFICATE c WITH SUBJECT = 'signing'",
    ),
    (
        "SQLMIG0203",
        "BACKUP CERTIFICATE c TO FILE = 'c:\\c.cer'",
        "BACKUP CERTIFICATE c TO URL = 'https://a.blob.core.windows.net/c/c.cer'",
    ),
    (
        "SQLMIG0204",
        "BACKUP SERVICE MASTER KEY TO FILE = 'c:\\smk' ENCRYPTION BY PASSWORD = 'x'",
        "OPEN MASTER KEY DECRYPTION BY PASSWORD = 'x'",
    ),
    (
        "WindowsAuthentication",
        "CREATE LOGIN [CONTOSO\\ann] FROM WINDOWS",
        "CREATE LOGIN ann WITH PASSWORD = 'x'",
    ),
    (
        "SQLMIG0205",
        "CREATE SERVER AUDIT a TO FILE (FILEPATH = 'D:\\audit')",
        "CREATE SERVER AUDIT a TO URL (PATH = 'https://a.blob.core.windows.net/audit')",
    ),
    (
        "SQLMIG0206",
        "ALTER SERVER CONFIGURATION SET BUFFER POOL EXTENSION ON (FILENAME = 'F:\\x.BPE', SIZE = 50 GB)",
        "ALTER SERVER CONFIGURATION SET PROCESS AFFINITY CPU = AUTO",
    ),
    (
        "SQLMIG0207",
        "ALTER DATABASE Sales SET PARTNER = 'TCP://s2:5022'",
        "ALTER DATABASE Sales SET RECOVERY FULL",
    ),
    (
        "SQLMIG0207",
        "CREATE AVAILABILITY GROUP ag1 FOR DATABASE Sales REPLICA ON 'S1' WITH (ENDPOINT_URL = 'TCP://s1:5022')",
        "SELECT * FROM sys.availability_groups",
    ),
    (
        "SQLMIG0208",
        "SELECT * FROM SEMANTICKEYPHRASETABLE(dbo.docs, body)",
        "SELECT * FROM CONTAINSTABLE(dbo.docs, body, 'x')",
    ),
    (
        "SQLMIG0209",
        "EXEC master.dbo.xp_regread 'HKEY_LOCAL_MACHINE', 'x'",
        "EXEC dbo.usp_xp_wrapper",
    ),
    (
        "SQLMIG0209",
        "EXEC sp_addextendedproc 'xp_hello', 'xp_hello.dll'",
        "EXEC sp_addmessage 50001, 16, 'x'",
    ),
    (
        "SQLMIG0210",
        "EXEC sp_attach_db 'Sales', 'D:\\Sales.mdf'",
        "EXEC sp_helpdb 'Sales'",
    ),
    (
        "SQLMIG0210",
        "CREATE DATABASE Sales ON (FILENAME = 'D:\\Sales.mdf') FOR ATTACH",
        "CREATE DATABASE Sales COLLATE Latin1_General_CI_AS",
    ),
    (
        "SQLMIG0211",
        "EXEC sp_configure 'remote access', 0",
        "EXEC sp_configure 'clr enabled', 1",
    ),
    (
        "SQLMIG0212",
        "CREATE EVENT SESSION s ON SERVER ADD EVENT sqlserver.error_reported ADD TARGET package0.event_file (SET filename = N'D:\\xe\\s.xel')",
        "CREATE EVENT SESSION s ON SERVER ADD EVENT sqlserver.error_reported ADD TARGET package0.event_file (SET filename = N'https://a.blob.core.windows.net/xe/s.xel')",
    ),
    (
        "SQLMIG0213",
        "EXEC sp_addmergepublication @publication = N'p'",
        "EXEC sp_addpublication @publication = N'p', @enabled_for_p2p = N'false'",
    ),
    (
        "SQLMIG0213",
        "EXEC sp_addsubscription @publication = N'p', @update_mode = N'queued failover'",
        "EXEC sp_addsubscription @publication = N'p', @update_mode = N'read only'",
    ),
    (
        "SQLMIG0214",
        "EXEC msdb.dbo.sp_send_dbmail @recipients = 'a@b.c', @file_attachments = 'c:\\r.txt'",
        "EXEC msdb.dbo.sp_send_dbmail @recipients = 'a@b.c', @query = 'SELECT 1'",
    ),
    (
        "SQLMIG0215",
        "DBCC PAGE (Sales, 1, 1, 3)",
        "DBCC CHECKDB (Sales) WITH NO_INFOMSGS",
    ),
    (
        "SQLMIG0216",
        "CREATE TRIGGER audit_logins ON ALL SERVER FOR LOGON AS PRINT 1",
        "CREATE TRIGGER t_ins ON dbo.t AFTER INSERT AS PRINT 1",
    ),
    (
        "SQLMIG0217",
        "EXEC sp_procoption @ProcName = N'dbo.warmup', @OptionName = 'startup', @OptionValue = 'on'",
        "EXEC sp_recompile N'dbo.warmup'",
    ),
    (
        "SQLMIG0218",
        "CREATE EXTERNAL DATA SOURCE h WITH (TYPE = HADOOP, LOCATION = 'hdfs://h:8020')",
        "CREATE EXTERNAL DATA SOURCE b WITH (LOCATION = 'abs://c@a.blob.core.windows.net')",
    ),
    (
        "ServiceBrokerWithNonLocalAddress",
        "CREATE ROUTE r WITH SERVICE_NAME = 's', ADDRESS = 'TCP://s2:4022'",
        "CREATE ROUTE r WITH SERVICE_NAME = 's', ADDRESS = 'LOCAL'",
    ),
    (
        "SQLMIG0219",
        "CREATE CREDENTIAL c WITH IDENTITY = 'CONTOSO\\svc', SECRET = 'x'",
        "CREATE CREDENTIAL c WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = 'x'",
    ),
    (
        "SQLMIG0220",
        "CREATE TABLE dbo.s (id int PRIMARY KEY NONCLUSTERED) WITH (MEMORY_OPTIMIZED = ON)",
        "CREATE TABLE dbo.s (id int PRIMARY KEY) WITH (DATA_COMPRESSION = PAGE)",
    ),
    (
        "LinkedServerWithNonSQLProvider",
        "EXEC sp_addlinkedserver @server = N'ORA', @srvproduct = N'Oracle', @provider = N'OraOLEDB.Oracle'",
        "EXEC sp_addlinkedserver N'dtc2', N'SQL Server'",
    ),
    (
        "SQLMIG0221",
        "EXEC sp_addlinkedserver N'dtc2', N'SQL Server'",
        "EXEC sp_dropserver N'dtc2'",
    ),
    (
        "PowerShellJob",
        "EXEC msdb.dbo.sp_add_jobstep @job_id = @j, @step_name = N'ps', @subsystem = N'PowerShell', @command = N'dir'",
        "EXEC msdb.dbo.sp_add_jobstep @job_id = @j, @step_name = N'sql', @subsystem = N'TSQL', @command = N'SELECT 1'",
    ),
    (
        "SQLMIG0222",
        "EXEC sp_execute_external_script @language = N'R', @script = N'x <- 1'",
        "EXEC sp_executesql N'SELECT 1'",
    ),
    (
        "SQLMIG0224",
        "BACKUP DATABASE Sales TO URL = 'https://a.blob.core.windows.net/c/s.bak'",
        "BACKUP DATABASE Sales TO URL = 'https://a.blob.core.windows.net/c/s.bak' WITH COPY_ONLY, CHECKSUM",
    ),
    (
        "SQLMIG0224",
        "BACKUP DATABASE Sales TO URL = 'https://a/c/s.bak' WITH COPY_ONLY, CREDENTIAL = 'c'",
        "RESTORE FILELISTONLY FROM URL = 'https://a/c/s.bak'",
    ),
    (
        "SQLMIG0225",
        "BACKUP LOG Sales TO URL = 'https://a.blob.core.windows.net/c/s.trn'",
        "BACKUP DATABASE Sales TO URL = 'https://a/c/s.bak' WITH COPY_ONLY",
    ),
    (
        "SQLMIG0225",
        "BACKUP DATABASE Sales TO URL = 'https://a/c/d.bak' WITH DIFFERENTIAL, COPY_ONLY",
        "SELECT differential_base_lsn FROM sys.database_files",
    ),
    (
        "SQLMIG0226",
        "RESTORE LOG Sales FROM URL = 'https://a/c/s.trn'",
        "RESTORE DATABASE Sales FROM URL = 'https://a/c/s.bak'",
    ),
    (
        "SQLMIG0226",
        "RESTORE DATABASE Sales FROM URL = 'https://a/c/s.bak' WITH REPLACE",
        "RESTORE HEADERONLY FROM URL = 'https://a/c/s.bak'",
    ),
    (
        "SQLMIG0227",
        "DBCC TRACEON (2453)",
        "DBCC TRACEON (2453, -1)",
    ),
    (
        "SQLMIG0227",
        "DBCC TRACEON (1222, -1)",
        "DBCC TRACESTATUS (-1)",
    ),
    (
        "SQLMIG0228",
        "ALTER DATABASE Sales SET SINGLE_USER WITH ROLLBACK IMMEDIATE",
        "ALTER DATABASE Sales SET MULTI_USER",
    ),
    (
        "SQLMIG0228",
        "ALTER DATABASE Sales SET RECOVERY SIMPLE",
        "ALTER DATABASE Sales SET RECOVERY FULL",
    ),
    (
        "SQLMIG0228",
        "ALTER DATABASE Sales SET ENABLE_BROKER",
        "SELECT is_broker_enabled FROM sys.databases",
    ),
    (
        "SQLMIG0229",
        "DECLARE @o int; EXEC sp_OACreate 'Scripting.FileSystemObject', @o OUT",
        "EXEC sp_configure 'show advanced options', 1",
    ),
    (
        "SQLMIG0229",
        "EXEC sp_configure 'Ole Automation Procedures', 1",
        "EXEC sp_configure 'clr enabled', 1",
    ),
    (
        "SQLMIG0230",
        "CREATE REMOTE SERVICE BINDING APBinding TO SERVICE '//Adventure-Works.com/Accounts' WITH USER = APUser",
        "CREATE SERVICE [//Adventure-Works.com/Accounts] ON QUEUE q",
    ),
    (
        "SQLMIG0231",
        "CREATE EVENT NOTIFICATION log_ddl ON SERVER FOR DDL_DATABASE_LEVEL_EVENTS TO SERVICE 'NotifyService', 'current database'",
        "SELECT * FROM sys.event_notifications",
    ),
    (
        "SQLMIG0232",
        "CREATE DATABASE Sales_snap ON (NAME = Sales, FILENAME = 'C:\\s.ss') AS SNAPSHOT OF Sales",
        "CREATE DATABASE Sales2",
    ),
    (
        "SQLMIG0233",
        "EXEC msdb.dbo.sp_msx_enlist N'MSXSERVER'",
        "EXEC msdb.dbo.sp_add_jobserver @job_name = N'nightly', @server_name = N'(local)'",
    ),
    (
        "SQLMIG0233",
        "EXEC msdb.dbo.sp_add_jobserver @job_name = N'nightly', @server_name = N'SQL02'",
        "EXEC msdb.dbo.sp_add_job @job_name = N'nightly'",
    ),
    (
        "SQLMIG0211",
        "EXEC sp_configure 'allow polybase export', 1",
        "EXEC sp_configure 'polybase enabled', 1",
    ),
    (
        "ServiceBrokerWithNonLocalAddress",
        "CREATE ROUTE r WITH SERVICE_NAME = 's', ADDRESS = 'TCP://mi2.abc123.database.windows.net:4023'",
        "CREATE ROUTE r WITH SERVICE_NAME = 's', ADDRESS = 'TCP://mi2.abc123.database.windows.net:4022'",
    ),
];

/// A route to a SQL Server is a preview (a warning), to another managed instance on 4022 nothing,
/// on another port an issue.
#[test]
fn broker_routes_are_judged_by_where_they_lead() {
    use crate::connectivity::route_rule;
    use sqlmig_plugin_sdk::FindingLevel;
    let level = |a: &str| route_rule(a).map(|r| r.level);
    assert_eq!(level("LOCAL"), None);
    assert_eq!(level("TRANSPORT"), None);
    assert_eq!(level("TCP://mi2.abc123.database.windows.net:4022"), None);
    assert_eq!(level("tcp://MI2.ABC.DATABASE.WINDOWS.NET:4022/"), None);
    assert_eq!(
        level("TCP://sql02.contoso.com:4022"),
        Some(FindingLevel::Warning)
    );
    assert_eq!(
        level("TCP://mi2.abc123.database.windows.net:4023"),
        Some(FindingLevel::Issue)
    );
    assert_eq!(level("TCP://10.0.0.5"), Some(FindingLevel::Issue));
}

#[test]
fn each_rule_fires_on_its_feature_once_and_not_on_the_look_alike() {
    for (rule, uses, clean) in CASES {
        let hits = ids(uses);
        assert_eq!(
            hits.iter().filter(|id| *id == rule).count(),
            1,
            "{rule} on {uses}: {hits:?}"
        );
        let hits = ids(clean);
        assert!(!hits.contains(rule), "{rule} fired on {clean}: {hits:?}");
    }
}

#[test]
fn every_feature_text_passes_the_prefilter() {
    for (rule, uses, _) in CASES {
        assert!(
            worth_scanning(uses),
            "{rule}: the prefilter would skip {uses}"
        );
    }
    assert!(!worth_scanning(
        "CREATE PROCEDURE dbo.p AS SELECT a FROM dbo.t WHERE b = 1"
    ));
    // A needle inside a longer name is not one; nor are RAISERROR( and FETCH NEXT.
    assert!(!worth_scanning(
        "CREATE PROCEDURE dbo.usp_Orders AS EXEC dbo.usp_Lines"
    ));
    assert!(!worth_scanning(
        "RAISERROR ('x', 16, 1); FETCH  NEXT FROM c; SELECT NEXT VALUE FOR s"
    ));
    assert!(worth_scanning("EXEC master..[xp_cmdshell] 'dir'"));
    assert!(worth_scanning("RAISERROR 50001 'x'"));
    assert!(
        worth_scanning("FETCH /* then */ NEXT FROM c"),
        "unusual text still counts"
    );
    assert!(worth_scanning("CREATE TABLE t (next int)"));
    // Needles in comments and strings do not make a text worth tokenizing.
    assert!(!worth_scanning(
        "-- for the order service\nSELECT 1 /* EXEC xp_cmdshell /* nested */ 'x' */"
    ));
    assert!(!worth_scanning(
        "SELECT 'it''s xp_cmdshell', [a sp_ name] FROM t"
    ));
    assert!(worth_scanning(
        "SELECT 'it''s' FROM t; EXEC xp_cmdshell 'dir'"
    ));
    // An unterminated string or comment goes to the tokenizer, which reports it.
    assert!(worth_scanning("SELECT 'open"));
    assert!(worth_scanning("SELECT 1 /* open"));
}

#[test]
fn comments_and_strings_are_not_code() {
    for (rule, uses, _) in CASES {
        let commented = format!("/* {} */\n-- {}\nSELECT 1", uses, uses.replace('\n', " "));
        assert!(ids(&commented).is_empty(), "{rule} fired inside a comment");
        let quoted = format!("PRINT N'{}'", uses.replace('\'', "''"));
        assert!(
            ids(&quoted).is_empty(),
            "{rule} fired inside a string: {quoted}"
        );
    }
}

#[test]
fn a_finding_carries_the_line_it_is_on() {
    let sql = "SELECT 1\nGO\n-- xp_cmdshell here is a comment\nEXEC xp_cmdshell 'dir'\n";
    assert_eq!(fired(sql), vec![("XpCmdshell", 4)]);
}

#[test]
fn branches_that_never_run_on_mi_are_not_findings() {
    // EngineEdition 8 is MI: the ELSE branch never runs there.
    let sql = "IF SERVERPROPERTY('EngineEdition') = 8\nBEGIN\n  EXEC dbo.mi_way\nEND\nELSE\nBEGIN\n  EXEC xp_cmdshell 'dir'\nEND";
    assert!(ids(sql).is_empty(), "{:?}", ids(sql));
    // `<> 8` guards the box-only branch; the ELSE branch runs on MI and is checked.
    let sql = "IF CAST(SERVERPROPERTY('EngineEdition') AS int) <> 8 EXEC xp_cmdshell 'dir'\nELSE BULK INSERT t FROM 'c:\\t.csv'";
    assert_eq!(ids(sql), vec!["BulkInsert"]);
    // IN lists and single statements without BEGIN.
    let sql = "IF SERVERPROPERTY('EngineEdition') NOT IN (8) EXEC sp_dboption 'db', 'x', 'true'\nEXEC xp_cmdshell 'dir'";
    assert_eq!(fired(sql), vec![("XpCmdshell", 2)]);
    // The sample's `!= 5` (not Azure SQL Database) is true on MI: the THEN branch runs there.
    let sql = "IF SERVERPROPERTY('EngineEdition') != 5\nBEGIN\n  BACKUP DATABASE d TO DISK = 'd.bak'\nEND\nELSE\n  EXEC xp_cmdshell 'x'";
    assert_eq!(ids(sql), vec!["SQLMIG0202"]);
}

#[test]
fn code_after_an_mi_return_does_not_run_on_mi() {
    let sql = "IF SERVERPROPERTY('EngineEdition') = 8 RETURN;\nEXEC xp_cmdshell 'dir'\nGO\nEXEC xp_cmdshell 'next batch'";
    assert_eq!(fired(sql), vec![("XpCmdshell", 4)]);
    let sql = "IF SERVERPROPERTY('EngineEdition') = 8\nBEGIN\n  PRINT 'not here';\n  RETURN;\nEND\nEXEC xp_cmdshell 'dir'";
    assert!(ids(sql).is_empty());
}

#[test]
fn an_edition_test_the_rules_cannot_evaluate_marks_the_code_mi_aware() {
    let sql = "IF SERVERPROPERTY('EngineEdition') = @expected EXEC xp_cmdshell 'dir' ELSE EXEC xp_cmdshell 'x'";
    assert!(ids(sql).is_empty());
    // Other conditions are not guards.
    let sql = "IF OBJECT_ID('dbo.t') IS NULL EXEC xp_cmdshell 'dir'";
    assert_eq!(ids(sql), vec!["XpCmdshell"]);
}

#[test]
fn a_branch_sqlparser_cannot_parse_ends_at_the_next_statement() {
    // RAISERROR's legacy form is beyond sqlparser: the branch ends at the line break before EXEC.
    let sql = "IF SERVERPROPERTY('EngineEdition') <> 8 RAISERROR 50001 'box only'\nEXEC xp_cmdshell 'dir'";
    assert_eq!(ids(sql), vec!["XpCmdshell"]);
}

#[test]
fn go_separates_batches_only_alone_at_the_start_of_a_line() {
    let code = Code::parse("SELECT 1\nGO\nSELECT 2\n  go 3\nSELECT go FROM t").unwrap();
    assert_eq!(code.batches.len(), 3);
    // A procedure called without EXEC first in a batch is a call.
    assert_eq!(
        ids("SELECT 1\nGO\nsp_dboption 'db', 'x', 'true'"),
        vec!["SystemProcedures110"]
    );
    assert!(ids("SELECT 1 sp_dboption").is_empty());
}

#[test]
fn an_unterminated_string_is_an_error_with_its_line() {
    let err = Code::parse("SELECT 1\nSELECT 'open")
        .err()
        .expect("refused");
    assert_eq!(err.line, 2);
}
