//! Reaching other servers and files: linked servers, distributed transactions, Service Broker
//! routes, mirroring, availability groups and replication, OPENROWSET, BULK INSERT, PolyBase.

use crate::limits;
use crate::rule::{Rule, database_finding, instance_finding, instance_findings};
use crate::scan::{DeclaredLinkedServer, Hit, Scan, has_option};
use crate::tsql::Code;
use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel};
use sqlparser::tokenizer::Token;

pub(crate) const LINKED: Rule = Rule {
    id: "LinkedServerWithNonSQLProvider",
    level: FindingLevel::Issue,
    title: "Linked server with a provider other than SQL Server's",
    impact: "Managed Instance supports linked servers to SQL Server and Azure SQL only.",
    remediation: "Reach the other source another way (Data Factory, an application service) or move that data to Azure SQL.",
};

/// Linked servers whose OLE DB provider is not SQL Server's.
pub fn linked_servers(inst: &Instance, out: &mut Vec<Finding>) {
    for ls in &inst.linked_servers {
        let sql = limits::SQL_SERVER_PROVIDERS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&ls.provider));
        if !sql {
            out.push(instance_finding(
                &LINKED,
                inst,
                Some(ls.name.clone()),
                format!(
                    "linked server {} uses provider {} ({})",
                    ls.name, ls.provider, ls.product
                ),
            ));
        }
    }
}

pub(crate) const LINKED_SQL: Rule = Rule {
    id: "SQLMIG0221",
    level: FindingLevel::Info,
    title: "Linked server to SQL Server",
    impact: "Linked servers to SQL Server and Azure SQL work on Managed Instance; the remote must be reachable from its virtual network. Distributed transactions over them need DTC for Managed Instance enabled (to SQL Server) or a server trust group (to another managed instance).",
    remediation: "Recreate the linked server with a SQL login or Microsoft Entra authentication after the move.",
};

/// sp_addlinkedserver @server, @srvproduct, @provider, @datasrc: SQL Server when the product is
/// 'SQL Server' or the provider is SQL Server's.
pub(crate) fn linked_server(code: &Code, i: usize, scan: &mut Scan) {
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

/// SQL Server's own OLE DB providers.
pub fn is_sql_provider(provider: &str) -> bool {
    crate::limits::SQL_SERVER_PROVIDERS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(provider.trim()))
}

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

/// BEGIN DISTRIBUTED TRANSACTION: the remotes are the linked servers its batch reaches through
/// four-part names, OPENQUERY or EXEC … AT; whether they are SQL Server is decided per instance.
pub(crate) fn distributed_transaction(code: &Code, i: usize, scan: &mut Scan) {
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

/// T-SQL differences, Service broker: "`CREATE ROUTE`: You can't use `CREATE ROUTE` with
/// `ADDRESS` other than `LOCAL` or DNS name of another SQL Managed Instance. Port is always
/// 4022."
pub(crate) const BROKER: Rule = Rule {
    id: "ServiceBrokerWithNonLocalAddress",
    level: FindingLevel::Issue,
    title: "Service Broker route Managed Instance cannot use",
    impact: "A route on Managed Instance goes to LOCAL or to another managed instance on port 4022; this one does not, and its messages stay queued.",
    remediation: "Point the route at the other managed instance's DNS name on port 4022 (TCP://name.zone.database.windows.net:4022), or replace it with another messaging service.",
};

/// sql-server-service-broker.md (ms.date 2025-09-23): "message exchange between SQL Server and
/// Azure SQL Managed Instance is currently in public preview".
pub(crate) const BROKER_TO_SQL_SERVER: Rule = Rule {
    level: FindingLevel::Warning,
    title: "Service Broker route to a SQL Server",
    impact: "Service Broker between Managed Instance and SQL Server is in public preview; routes to another managed instance are supported.",
    remediation: "Check the preview's terms before relying on it (port 4022, transport security only), or move the other end to a managed instance.",
    ..BROKER
};

/// What a route's ADDRESS means on Managed Instance: nothing to say for LOCAL, TRANSPORT or
/// another managed instance on port 4022; a preview for a SQL Server on 4022; a route that does
/// not work otherwise.
pub(crate) fn route_rule(address: &str) -> Option<&'static Rule> {
    if ["LOCAL", "TRANSPORT"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(address))
    {
        return None;
    }
    let rest = address
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("TCP://"))
        .map(|_| &address[6..]);
    let Some((host, port)) = rest.and_then(|r| r.trim_end_matches('/').rsplit_once(':')) else {
        return Some(&BROKER);
    };
    if port != "4022" {
        return Some(&BROKER);
    }
    if host.to_ascii_lowercase().ends_with(".database.windows.net") {
        None
    } else {
        Some(&BROKER_TO_SQL_SERVER)
    }
}

/// Routes Managed Instance cannot use, or only in preview.
pub fn broker_routes(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    for r in &db.service_broker_routes {
        if let Some(rule) = route_rule(&r.address) {
            let mut f = database_finding(
                rule,
                inst,
                db,
                format!("route {} sends to {}", r.name, r.address),
            );
            f.object = Some(r.name.clone());
            out.push(f);
        }
    }
}

pub(crate) const REMOTE_SERVICE_BINDING: Rule = Rule {
    id: "SQLMIG0230",
    level: FindingLevel::Issue,
    title: "Service Broker dialog security (CREATE REMOTE SERVICE BINDING)",
    impact: "\"Transport security is supported, dialog security isn't\": CREATE REMOTE SERVICE BINDING fails on Managed Instance (T-SQL differences, Service broker).",
    remediation: "Drop the binding and its certificates; rely on transport security between the instances.",
};

pub(crate) const EVENT_NOTIFICATION: Rule = Rule {
    id: "SQLMIG0231",
    level: FindingLevel::Issue,
    title: "Event notification",
    impact: "Managed Instance does not support event notifications (features comparison).",
    remediation: "Use Extended Events, DDL triggers writing to a table, or Azure Monitor alerts instead.",
};

pub(crate) const MIRRORING: Rule = Rule {
    id: "SQLMIG0207",
    level: FindingLevel::Issue,
    title: "Database mirroring or availability group DDL",
    impact: "Managed Instance provides high availability itself; mirroring and AG statements are refused.",
    remediation: "Remove the DDL; use auto-failover groups or the Managed Instance link for disaster recovery.",
};

pub(crate) const REPLICATION: Rule = Rule {
    id: "SQLMIG0213",
    level: FindingLevel::Issue,
    title: "Merge, peer-to-peer or updatable-subscription replication",
    impact: "Managed Instance supports snapshot, transactional and bi-directional transactional replication; merge, peer-to-peer and updatable subscriptions are not supported (T-SQL differences, Replication).",
    remediation: "Replace the topology with transactional (or bi-directional transactional) replication or another synchronisation method; keep the publisher and the distributor both in the cloud or both on-premises.",
};

/// The catalog half of high availability: a source set up for mirroring or availability groups
/// is information (Managed Instance has its own; the MI link even uses the source's
/// availability groups), unlike the statements that set it up (SQLMIG0207).
pub(crate) const HA_ON_SOURCE: Rule = Rule {
    id: "SQLMIG0223",
    level: FindingLevel::Info,
    title: "High availability set up on the source",
    impact: "The mirroring endpoint or availability groups do not move: Managed Instance provides high availability itself, and failover groups give disaster recovery; the Managed Instance link uses the source's Always On feature to replicate.",
    remediation: "Plan disaster recovery with failover groups; keep the source's availability groups if you migrate with the Managed Instance link.",
};

pub(crate) const OPENROWSET_BULK: Rule = Rule {
    id: "OpenRowsetWithNonBlobDataSourceBulk",
    level: FindingLevel::Issue,
    title: "OPENROWSET(BULK …) from a local or network file",
    impact: "Managed Instance reads bulk data only from Azure Blob Storage.",
    remediation: "Put the file in Azure Blob Storage and add DATA_SOURCE = <external data source> to OPENROWSET.",
};

pub(crate) const OPENROWSET_PROVIDER: Rule = Rule {
    id: "OpenRowsetWithNonSQLProvider",
    level: FindingLevel::Issue,
    title: "OPENROWSET / OPENDATASOURCE with a provider other than SQL Server's",
    impact: "Managed Instance supports OPENROWSET only to SQL Server and Azure SQL.",
    remediation: "Load the data another way (Data Factory, BULK INSERT from blob storage).",
};

pub(crate) fn openrowset(code: &Code, i: usize, scan: &mut Scan) {
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

pub(crate) const BULK_INSERT: Rule = Rule {
    id: "BulkInsert",
    level: FindingLevel::Issue,
    title: "BULK INSERT from a local or network file",
    impact: "Managed Instance reads bulk data only from Azure Blob Storage.",
    remediation: "Put the file in Azure Blob Storage and add WITH (DATA_SOURCE = <external data source>).",
};

pub(crate) fn bulk_insert(code: &Code, i: usize, scan: &mut Scan) {
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

pub(crate) const POLYBASE: Rule = Rule {
    id: "SQLMIG0218",
    level: FindingLevel::Issue,
    title: "PolyBase external data source of TYPE = HADOOP",
    impact: "Managed Instance's data virtualization reads Azure Storage and S3 (abs://, adls://, s3://), not Hadoop.",
    remediation: "Recreate the data source with a LOCATION Managed Instance supports, without TYPE = HADOOP.",
};

/// High availability on the source: mirroring/availability group endpoints, HADR enabled.
pub(crate) fn instance(inst: &Instance, out: &mut Vec<Finding>) {
    let mut push = instance_findings(inst, out);
    for e in inst
        .endpoints
        .iter()
        .filter(|e| e.type_desc == "DATABASE_MIRRORING")
    {
        push(
            &HA_ON_SOURCE,
            Some(&e.name),
            format!(
                "database mirroring / availability group endpoint {}",
                e.name
            ),
        );
    }
    if inst.server.as_ref().is_some_and(|s| s.is_hadr_enabled) {
        push(
            &HA_ON_SOURCE,
            None,
            "Always On availability groups are enabled".into(),
        );
    }
}
