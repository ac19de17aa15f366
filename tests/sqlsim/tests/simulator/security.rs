//! Database principals and CLR assemblies: built into every database, and from the description;
//! orphaned users are found as on a server, by SID.

use crate::common;

use common::{all_rows, config, connect, first_row, run, texts};
use sqlsim::instance::{Assembly, DatabaseSpec, DatabaseUser, Instance, Login};
use sqlsim::server::start;

fn estate() -> Instance {
    let mut i = Instance::default_with_sa("pw");
    i.logins.push(Login {
        name: "app".into(),
        password: "pw2".into(),
        sysadmin: false,
        view_server_state: false,
        disabled: false,
    });
    let user = |name: &str, login: Option<&str>, auth: Option<&str>| DatabaseUser {
        name: name.into(),
        login: login.map(str::to_string),
        authentication: auth.map(str::to_string),
        ..Default::default()
    };
    i.databases.push(DatabaseSpec {
        users: vec![
            DatabaseUser {
                roles: vec!["db_datareader".into()],
                grants: vec![
                    "EXECUTE ON SCHEMA::dbo".into(),
                    "UPDATE ON dbo.Accounts".into(),
                ],
                ..user("app", Some("app"), None)
            },
            user("legacy", Some("legacy_login"), None),
            user("CONTOSO\\etl", Some("CONTOSO\\etl"), None),
            user("reporting", None, Some("DATABASE")),
        ],
        assemblies: vec![
            Assembly {
                name: "RegexUtils".into(),
                permission_set: "SAFE".into(),
            },
            Assembly {
                name: "FileWatcher".into(),
                permission_set: "UNSAFE".into(),
            },
        ],
        setup: vec!["CREATE TABLE dbo.Accounts (id INT PRIMARY KEY)".into()],
        ..DatabaseSpec::named("Crm")
    });
    i
}

#[tokio::test]
async fn role_members_and_permissions_are_listed_as_granted() {
    let s = start("127.0.0.1:0".parse().unwrap(), estate())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    let members = all_rows(
        &mut c,
        "SELECT r.name AS role_name, m.name AS member FROM Crm.sys.database_role_members rm \
         JOIN Crm.sys.database_principals r ON r.principal_id = rm.role_principal_id \
         JOIN Crm.sys.database_principals m ON m.principal_id = rm.member_principal_id",
    )
    .await;
    assert_eq!(texts(&members, 2), [["db_datareader", "app"]]);
    let grants = all_rows(
        &mut c,
        "SELECT p.class_desc, p.permission_name, p.state_desc, pr.name AS grantee, \
                COALESCE(s.name + '.' + o.name, sc.name, '') AS on_what \
         FROM Crm.sys.database_permissions p \
         JOIN Crm.sys.database_principals pr ON pr.principal_id = p.grantee_principal_id \
         LEFT JOIN Crm.sys.objects o ON p.class = 1 AND o.object_id = p.major_id \
         LEFT JOIN Crm.sys.schemas s ON s.schema_id = o.schema_id \
         LEFT JOIN Crm.sys.schemas sc ON p.class = 3 AND sc.schema_id = p.major_id \
         WHERE pr.name = 'app' ORDER BY p.class, p.permission_name",
    )
    .await;
    assert_eq!(
        texts(&grants, 5),
        [
            ["DATABASE", "CONNECT", "GRANT", "app", ""],
            ["OBJECT_OR_COLUMN", "UPDATE", "GRANT", "app", "dbo.Accounts"],
            ["SCHEMA", "EXECUTE", "GRANT", "app", "dbo"],
        ]
    );
}

#[tokio::test]
async fn database_principals_list_built_ins_and_described_users() {
    let s = start("127.0.0.1:0".parse().unwrap(), estate())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    run(&mut c, "USE Crm").await;
    let users = all_rows(
        &mut c,
        "SELECT name, type, type_desc, authentication_type_desc FROM sys.database_principals \
         WHERE type IN ('S', 'U') AND principal_id > 4 ORDER BY principal_id",
    )
    .await;
    let got = texts(&users, 4);
    assert_eq!(
        got,
        vec![
            ["app", "S", "SQL_USER", "INSTANCE"],
            ["legacy", "S", "SQL_USER", "INSTANCE"],
            ["CONTOSO\\etl", "U", "WINDOWS_USER", "WINDOWS"],
            ["reporting", "S", "SQL_USER", "DATABASE"],
        ]
    );
    let roles = first_row(
        &mut c,
        "SELECT COUNT(*) FROM sys.database_principals WHERE type = 'R' AND is_fixed_role = 1",
    )
    .await;
    assert_eq!(roles.get::<i32, _>(0), Some(9));
    // Every database has dbo, guest, INFORMATION_SCHEMA and sys, the new one too.
    run(&mut c, "CREATE DATABASE Fresh").await;
    let built_in = first_row(
        &mut c,
        "SELECT COUNT(*) FROM Fresh.sys.database_principals WHERE principal_id BETWEEN 1 AND 4",
    )
    .await;
    assert_eq!(built_in.get::<i32, _>(0), Some(4));
}

#[tokio::test]
async fn orphaned_users_are_those_whose_sid_no_login_has() {
    let s = start("127.0.0.1:0".parse().unwrap(), estate())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    // The usual orphan query: instance-authenticated SQL users with no login of their SID.
    let orphans = all_rows(
        &mut c,
        "SELECT dp.name FROM Crm.sys.database_principals AS dp \
         LEFT JOIN sys.server_principals AS sp ON sp.sid = dp.sid \
         WHERE dp.type = 'S' AND dp.authentication_type = 1 AND dp.principal_id > 4 \
           AND sp.sid IS NULL",
    )
    .await;
    let names: Vec<&str> = orphans.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(names, vec!["legacy"]);
    // dbo is sa's: the same SID on both sides.
    let dbo = first_row(
        &mut c,
        "SELECT sp.name FROM Crm.sys.database_principals AS dp \
         JOIN sys.server_principals AS sp ON sp.sid = dp.sid WHERE dp.name = 'dbo'",
    )
    .await;
    assert_eq!(dbo.get::<&str, _>(0), Some("sa"));
}

#[tokio::test]
async fn assemblies_show_their_permission_sets() {
    let s = start("127.0.0.1:0".parse().unwrap(), estate())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    let rows = all_rows(
        &mut c,
        "SELECT name, permission_set_desc, is_user_defined FROM Crm.sys.assemblies \
         ORDER BY assembly_id",
    )
    .await;
    let got: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Microsoft.SqlServer.Types", "UNSAFE_ACCESS", false),
            ("RegexUtils", "SAFE_ACCESS", true),
            ("FileWatcher", "UNSAFE_ACCESS", true),
        ]
    );
    let none = first_row(
        &mut c,
        "SELECT COUNT(*) FROM Sales.sys.assemblies WHERE is_user_defined = 1",
    )
    .await;
    assert_eq!(none.get::<i32, _>(0), Some(0));
}
