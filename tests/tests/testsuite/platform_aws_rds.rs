//! The AWS RDS platform plugin against moto: RDS's SQL Server instances listed through the RDS
//! API with the operator's credentials (handed to the plugin by name, never shown), and the
//! failures a DBA meets.

use sqlmig_tests::cli::{Sqlmig, assert_code, stderr, stdout};
use sqlmig_tests::moto::Moto;

/// Credentials moto accepts (it checks no signature); distinctive so a leak is found.
const KEY_ID: &str = "AKIASQLMIGTESTKEY123";
const SECRET: &str = "s3cr3t/SQLMIG+test+secret+access+key0";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsqlmigSESSIONtoken";

fn create(moto: &Moto, id: &str, engine: &str) {
    let (status, body) = moto.request(
        "rds",
        "POST",
        "/",
        &format!(
            "Action=CreateDBInstance&Version=2014-10-31&DBInstanceIdentifier={id}&Engine={engine}\
             &DBInstanceClass=db.m5.large&MasterUsername=admin&MasterUserPassword=Adm1nPassw0rd\
             &AllocatedStorage=100"
        ),
        "application/x-www-form-urlencoded",
    );
    assert_eq!(status, 200, "{body}");
}

/// `sqlmig` with the AWS variables pointing at moto.
fn aws_command(sqlmig: &Sqlmig, moto: &Moto, args: &[&str]) -> std::process::Command {
    let mut c = sqlmig.command(args);
    c.env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("SQLMIG_LOG", "debug");
    c
}

#[test]
fn discover_lists_the_sql_servers_rds_runs_and_not_the_postgres_one() {
    let moto = Moto::start();
    create(&moto, "sales", "sqlserver-se");
    create(&moto, "orders-pg", "postgres");
    create(&moto, "hr", "sqlserver-ee");
    let sqlmig = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let out = aws_command(
        &sqlmig,
        &moto,
        &["discover", "--platform", "aws-rds", "--list", "-o", "json"],
    )
    .output()
    .unwrap();
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["platform"], "aws-rds");
    let instances = v["instances"].as_array().unwrap();
    let names: Vec<&str> = instances
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sales", "hr"], "{v:#}");
    let sales = &instances[0];
    assert!(
        sales["address"]["host"]
            .as_str()
            .unwrap()
            .starts_with("sales."),
        "{sales}"
    );
    assert_eq!(sales["address"]["port"], 1433);
    assert_eq!(sales["confidence"], "listed");
    assert_eq!(sales["cloud"]["service"], "aws-rds");
    assert_eq!(sales["cloud"]["engine"], "sqlserver-se");
    assert_eq!(sales["cloud"]["region"], "us-east-1");
    assert_eq!(instances[1]["cloud"]["engine"], "sqlserver-ee");

    // The plugin signed with the credentials, and none of them reached the output or the log.
    let everything = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        everything.contains("RDS in us-east-1 lists 2"),
        "{everything}"
    );
    for secret in [SECRET, TOKEN] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
    }

    // The table a DBA reads.
    let out = aws_command(
        &sqlmig,
        &moto,
        &["discover", "--platform", "aws-rds", "--list"],
    )
    .output()
    .unwrap();
    assert_code(&out, 0);
    let table = stdout(&out);
    assert!(table.contains("sales") && table.contains("hr"), "{table}");
    assert!(!table.contains("orders-pg"), "{table}");
}

#[test]
fn without_credentials_discover_says_which_variables_to_set() {
    let moto = Moto::start();
    let sqlmig = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let out = sqlmig
        .command(&["discover", "--platform", "aws-rds", "--list"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .output()
        .unwrap();
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_SECRET_ACCESS_KEY"),
        "{err}"
    );
}

#[test]
fn an_unreachable_rds_endpoint_is_reported_with_its_address() {
    let sqlmig = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let out = sqlmig
        .command(&["discover", "--platform", "aws-rds", "--list"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT_URL")
        // Nothing listens on port 9.
        .env("AWS_ENDPOINT_URL_RDS", "http://127.0.0.1:9/")
        .output()
        .unwrap();
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
}

#[test]
fn the_rds_plugin_is_installed_and_upgraded_like_any_other() {
    use sqlmig_tests::plugins::{FIRST_PARTY_DIR, FIRST_PARTY_WASM_DIR};
    let moto = Moto::start();
    create(&moto, "sales", "sqlserver-se");
    let sqlmig = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    // A newer build of the plugin, shipped as a folder: its manifest and its component.
    let release = tempfile::tempdir().unwrap();
    let manifest =
        std::fs::read_to_string(format!("{FIRST_PARTY_DIR}/platform-aws-rds/plugin.toml"))
            .unwrap()
            .replace("version = \"0.1.0\"", "version = \"0.2.0\"");
    std::fs::write(release.path().join("plugin.toml"), manifest).unwrap();
    std::fs::copy(
        format!("{FIRST_PARTY_WASM_DIR}/platform_aws_rds.wasm"),
        release.path().join("plugin.wasm"),
    )
    .unwrap();
    let out = sqlmig.run(&["plugin", "install", release.path().to_str().unwrap()]);
    assert_code(&out, 0);
    let said = stderr(&out);
    assert!(said.contains("installed platform-aws-rds 0.2.0"), "{said}");
    // The manifest's asks are shown at install: the credentials it reads, the hosts it calls.
    let info = sqlmig.json(&["plugin", "list", "-o", "json"]);
    let rds = info
        .as_array()
        .or_else(|| info["plugins"].as_array())
        .unwrap()
        .iter()
        .find(|p| p["name"] == "platform-aws-rds" && p["origin"] == "installed")
        .unwrap_or_else(|| panic!("{info}"))
        .clone();
    assert_eq!(rds["version"], "0.2.0");
    let caps = rds["capabilities"].to_string();
    assert!(caps.contains("credentials:AWS_SECRET_ACCESS_KEY"), "{caps}");
    // An installed plugin gets no cloud access by asking: the operator grants it, and install
    // says so.
    assert!(
        said.contains("note: platform-aws-rds asks for cloud access it has not been granted")
            && said.contains("credentials = [\"AWS_ACCESS_KEY_ID\", \"AWS_SECRET_ACCESS_KEY\", \"AWS_SESSION_TOKEN\"]"),
        "{said}"
    );
    let discover = || {
        aws_command(
            &sqlmig,
            &moto,
            &["discover", "--platform", "aws-rds", "--list", "-o", "json"],
        )
        .output()
        .unwrap()
    };
    let out = discover();
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not granted to plugin platform-aws-rds 0.2.0 by the operator: grant it in sqlmig.toml under [plugins.platform-aws-rds.grants] with credentials = [\"AWS_ACCESS_KEY_ID\"]"),
        "{}",
        stderr(&out)
    );
    std::fs::write(
        sqlmig.home.path().join("sqlmig.toml"),
        "[plugins.platform-aws-rds.grants]\n\
         credentials = [\"AWS_ACCESS_KEY_ID\", \"AWS_SECRET_ACCESS_KEY\", \"AWS_SESSION_TOKEN\"]\n\
         settings = [\"AWS_REGION\", \"AWS_DEFAULT_REGION\", \"AWS_ENDPOINT_URL\", \"AWS_ENDPOINT_URL_RDS\", \"AWS_ENDPOINT_URL_S3\"]\n\
         http = [\"*.amazonaws.com\", \"$AWS_ENDPOINT_URL\"]\n",
    )
    .unwrap();

    // Granted, discovery runs the installed version.
    let out = discover();
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["plugin"], "platform-aws-rds 0.2.0");
    assert_eq!(v["instances"][0]["name"], "sales");

    // An older one does not replace it unasked.
    let older = std::fs::read_to_string(release.path().join("plugin.toml"))
        .unwrap()
        .replace("version = \"0.2.0\"", "version = \"0.1.5\"");
    std::fs::write(release.path().join("plugin.toml"), older).unwrap();
    let out = sqlmig.run(&["plugin", "install", release.path().to_str().unwrap()]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
}
