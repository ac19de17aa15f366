//! Logins, keys, certificates, assemblies, credentials, audits, encryption and the database
//! settings that widen trust.

use crate::rule::{Rule, database_finding, database_findings, instance_finding, instance_findings};
use crate::scan::Scan;
use crate::tsql::Code;
use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel};

pub(crate) const WINDOWS: Rule = Rule {
    id: "WindowsAuthentication",
    level: FindingLevel::Warning,
    title: "Windows logins",
    impact: "Windows logins work on Managed Instance only in the Windows authentication metadata mode, for principals synchronized to Microsoft Entra ID, with Windows Authentication for Microsoft Entra principals (Kerberos) set up; otherwise they cannot sign in.",
    remediation: "Either set the instance's authentication metadata mode to Windows and set up Kerberos for Microsoft Entra principals (the logins keep their names), or create Microsoft Entra or SQL logins and map the users to them.",
};

/// Windows logins and groups, one finding listing them.
pub fn windows_logins(inst: &Instance, out: &mut Vec<Finding>) {
    let windows: Vec<&str> = inst
        .logins
        .iter()
        .filter(|l| l.type_desc.starts_with("WINDOWS"))
        .map(|l| l.name.as_str())
        .collect();
    if !windows.is_empty() {
        out.push(instance_finding(
            &WINDOWS,
            inst,
            None,
            format!("{} Windows logins: {}", windows.len(), windows.join(", ")),
        ));
    }
}

pub(crate) const CLR: Rule = Rule {
    id: "ClrStrictSecurity",
    level: FindingLevel::Warning,
    title: "Unsigned CLR assemblies",
    impact: "Managed Instance enforces CLR strict security: unsigned SAFE and EXTERNAL_ACCESS assemblies are treated as UNSAFE and refused unless trusted.",
    remediation: "Sign the assemblies with a certificate or asymmetric key, or add them with sp_add_trusted_assembly.",
};

/// The names of a database's assemblies without a strong name.
pub(crate) fn unsigned_assembly_names(db: &Database) -> Vec<&str> {
    db.assemblies
        .iter()
        .filter(|a| !a.is_signed)
        .map(|a| a.name.as_str())
        .collect()
}

/// User assemblies without a strong name.
pub fn unsigned_assemblies(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    let unsigned = unsigned_assembly_names(db);
    if !unsigned.is_empty() {
        out.push(database_finding(
            &CLR,
            inst,
            db,
            format!(
                "{} has unsigned assemblies: {}",
                db.name,
                unsigned.join(", ")
            ),
        ));
    }
}

pub(crate) const ASSEMBLY_FROM_FILE: Rule = Rule {
    id: "AssemblyFromFile",
    level: FindingLevel::Issue,
    title: "CLR assembly created from a file",
    impact: "Managed Instance cannot read files: CREATE/ALTER ASSEMBLY FROM 'path' fails.",
    remediation: "Create the assembly from its bytes: CREATE ASSEMBLY … FROM 0x… (script it from the source server).",
};

pub(crate) fn assembly_from_file(code: &Code, i: usize, scan: &mut Scan) {
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

pub(crate) const KEY_FILES: Rule = Rule {
    id: "SQLMIG0203",
    level: FindingLevel::Issue,
    title: "Certificate or key read from or written to a file",
    impact: "Managed Instance has no file system: certificates and keys cannot come from or go to files.",
    remediation: "Create certificates FROM BINARY = 0x… (with the private key as binary), and keep keys in Azure Key Vault.",
};

pub(crate) const SERVICE_MASTER_KEY: Rule = Rule {
    id: "SQLMIG0204",
    level: FindingLevel::Issue,
    title: "Service master key backup or restore",
    impact: "Managed Instance manages its service master key; BACKUP/RESTORE SERVICE MASTER KEY is refused.",
    remediation: "Remove the statement; protect database master keys with passwords or Azure Key Vault.",
};

pub(crate) const CRYPTO: Rule = Rule {
    id: "CryptographicProvider",
    level: FindingLevel::Issue,
    title: "Cryptographic provider (EKM)",
    impact: "Managed Instance does not support Extensible Key Management providers.",
    remediation: "Use Azure Key Vault keys (TDE with customer-managed keys) instead of an EKM provider.",
};

pub(crate) const CREDENTIALS: Rule = Rule {
    id: "SQLMIG0308",
    level: FindingLevel::Info,
    title: "Server credentials",
    impact: "Credentials do not move with database backups; on Managed Instance they hold a SAS or use the managed identity.",
    remediation: "Recreate each credential on the managed instance with a SAS or the managed identity.",
};

pub(crate) const CREDENTIAL: Rule = Rule {
    id: "SQLMIG0219",
    level: FindingLevel::Warning,
    title: "Credential other than SAS or managed identity",
    impact: "Managed Instance credentials hold a shared access signature or use the managed identity.",
    remediation: "Recreate the credential with IDENTITY = 'SHARED ACCESS SIGNATURE' or 'Managed Identity'.",
};

pub(crate) const CHAINING: Rule = Rule {
    id: "SQLMIG0309",
    level: FindingLevel::Info,
    title: "Cross-database ownership chaining",
    impact: "Works on Managed Instance between databases of one instance; not across instances.",
    remediation: "Keep the chained databases on the same managed instance.",
};

pub(crate) const TRUSTWORTHY: Rule = Rule {
    id: "SQLMIG0310",
    level: FindingLevel::Warning,
    title: "TRUSTWORTHY database with unsigned assemblies",
    impact: "Restored databases are not TRUSTWORTHY on Managed Instance; unsigned assemblies that relied on it fail to load.",
    remediation: "Sign the assemblies (or add them with sp_add_trusted_assembly) instead of relying on TRUSTWORTHY.",
};

pub(crate) const AUDIT: Rule = Rule {
    id: "SQLMIG0205",
    level: FindingLevel::Issue,
    title: "Server audit to a file or Windows event log",
    impact: "Managed Instance audits only TO URL (Azure Blob) or TO EXTERNAL_MONITOR (Log Analytics / Event Hubs).",
    remediation: "Recreate the audit TO URL or TO EXTERNAL_MONITOR.",
};

pub(crate) const TDE: Rule = Rule {
    id: "SQLMIG0302",
    level: FindingLevel::Warning,
    title: "Transparent data encryption",
    impact: "A TDE-protected backup restores only once the certificate that protects it is on the managed instance.",
    remediation: "Migrate the TDE certificate first (Add-AzSqlManagedInstanceTransparentDataEncryptionCertificate), or decrypt before the backup.",
};

/// Server audits written to the file system or a Windows log; credentials to recreate.
pub(crate) fn instance(inst: &Instance, out: &mut Vec<Finding>) {
    let mut push = instance_findings(inst, out);
    for audit in inst
        .audits
        .iter()
        .filter(|a| ["FILE", "APPLICATION LOG", "SECURITY LOG"].contains(&a.type_desc.as_str()))
    {
        push(
            &AUDIT,
            Some(&audit.name),
            format!("server audit {} writes to {}", audit.name, audit.type_desc),
        );
    }
    if !inst.credentials.is_empty() {
        push(
            &CREDENTIALS,
            None,
            format!("credentials to recreate: {}", inst.credentials.join(", ")),
        );
    }
}

/// TDE, cross-database ownership chaining, TRUSTWORTHY with unsigned assemblies.
pub(crate) fn database(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    let mut push = database_findings(inst, db, out);
    if db.features.transparent_data_encryption {
        push(&TDE, format!("{} is encrypted with TDE", db.name));
    }
    if db.is_db_chaining_on {
        push(
            &CHAINING,
            format!("{} has cross-database ownership chaining on", db.name),
        );
    }
    let unsigned = unsigned_assembly_names(db);
    if db.is_trustworthy_on && !unsigned.is_empty() {
        push(
            &TRUSTWORTHY,
            format!(
                "{} is TRUSTWORTHY for unsigned assemblies {}",
                db.name,
                unsigned.join(", ")
            ),
        );
    }
}
