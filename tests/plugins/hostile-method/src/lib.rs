//! A method plugin that plans a normal-looking migration, except for the one thing option
//! `attack` names, which it points at `at` (a loopback listener of the test's) or at a file of
//! the operator's (`file`): the tests prove the host refuses each before anything is sent.

use serde_json::{Value, json};
use sqlmig_plugin_sdk::method::{answer_plan, text};
use sqlmig_plugin_sdk::protocol::migration::{
    PLAN, Plan, PlanRequest, PlannedDatabase, Runner, Step, Watch,
};
use sqlmig_plugin_sdk::{Error, Method, export_method, invalid_input, unsupported};

struct HostileMethod;

fn step(id: &str, database: &str, kind: &str, runner: Runner, args: Value) -> Step {
    Step {
        id: id.into(),
        database: database.into(),
        kind: kind.into(),
        runner,
        description: format!("an innocent-looking {kind}"),
        args,
        ..Default::default()
    }
}

fn plan(req: &PlanRequest) -> Result<Plan, Error> {
    let attack = text(&req.options, "attack").unwrap_or("none");
    let at = text(&req.options, "at").unwrap_or("127.0.0.1:9");
    let file = text(&req.options, "file").unwrap_or("/etc/passwd");
    let db = req
        .databases
        .first()
        .ok_or_else(|| invalid_input("no database"))?;
    let (name, target) = (db.name.as_str(), db.target_name.as_str());
    let mut p = Plan {
        schema: PLAN.into(),
        method: "hostile-method".into(),
        source: req.source.clone(),
        target: req.target.clone(),
        storage: req.storage.clone(),
        parallelism: 1,
        databases: vec![PlannedDatabase {
            name: name.into(),
            target_name: target.into(),
            size_mb: db.size_mb,
            stripes: 1,
            backup_to: "url".into(),
        }],
        steps: vec![
            step(
                "credential/target",
                "",
                "create-credential",
                Runner::Host,
                json!({ "endpoint": "target" }),
            ),
            step(
                &format!("{name}/restore"),
                name,
                "restore",
                Runner::Plugin,
                json!({}),
            ),
        ],
        ..Default::default()
    };
    let push = |p: &mut Plan, s: Step| p.steps.insert(1, s);
    match attack {
        "none" => {}
        // The operator's inputs, changed in the answer.
        "container" => p.storage.container_url = format!("http://{at}/devstoreaccount1/loot"),
        "source-server" => p.source.server = at.replace(':', ","),
        "target-server" => p.target.server = at.replace(':', ","),
        "management" => p.target.management_url = Some(format!("http://{at}")),
        "platform" => p.source_platform = Some("platform-aws-rds".into()),
        // Host steps pointed elsewhere through their arguments.
        "credential-url" => {
            p.steps[0].args =
                json!({ "endpoint": "target", "container_url": format!("http://{at}/c") })
        }
        "credential-endpoint" => p.steps[0].args = json!({ "endpoint": at.replace(':', ",") }),
        "upload-path" => push(
            &mut p,
            step(
                &format!("{name}/upload"),
                name,
                "upload",
                Runner::Host,
                json!({ "files": [file], "blobs": ["loot.bak"] }),
            ),
        ),
        "upload-parent" => push(
            &mut p,
            step(
                &format!("{name}/upload"),
                name,
                "upload",
                Runner::Host,
                json!({ "files": ["../loot"], "blobs": ["loot.bak"] }),
            ),
        ),
        "upload-blob" => push(
            &mut p,
            step(
                &format!("{name}/upload"),
                name,
                "upload",
                Runner::Host,
                json!({ "files": ["Sales.bak"], "blobs": ["../other-container/loot.bak"] }),
            ),
        ),
        "lrs-url" => push(
            &mut p,
            step(
                &format!("{name}/start-replay"),
                name,
                "start-log-replay",
                Runner::Host,
                json!({
                    "database": name, "target_name": target, "folder": "x",
                    "collation": "SQL_Latin1_General_CP1_CI_AS",
                    "database_url": format!("http://{at}/subscriptions/x"),
                }),
            ),
        ),
        "lrs-folder" => push(
            &mut p,
            step(
                &format!("{name}/start-replay"),
                name,
                "start-log-replay",
                Runner::Host,
                json!({
                    "database": name, "target_name": target, "folder": "../other-container",
                    "collation": "SQL_Latin1_General_CP1_CI_AS",
                }),
            ),
        ),
        "lrs-database" => push(
            &mut p,
            step(
                &format!("{name}/start-replay"),
                name,
                "start-log-replay",
                Runner::Host,
                json!({
                    "database": name, "target_name": "SomeoneElsesDb", "folder": "x",
                    "collation": "SQL_Latin1_General_CP1_CI_AS",
                }),
            ),
        ),
        "watch" => {
            p.steps[1].watch = Some(Watch {
                endpoint: at.replace(':', ","),
                command: "RESTORE%".into(),
                database: target.into(),
            })
        }
        // A step the host runs, marked as the plugin's, to slip past the host's checks.
        "runner" => push(
            &mut p,
            step(
                &format!("{name}/upload"),
                name,
                "upload",
                Runner::Plugin,
                json!({ "files": [file], "blobs": ["loot.bak"] }),
            ),
        ),
        other => return Err(invalid_input(format!("unknown attack '{other}'"))),
    }
    Ok(p)
}

impl Method for HostileMethod {
    fn plan(request: &str) -> Result<String, Error> {
        answer_plan(request, plan)
    }

    fn run_step(_request: &str) -> Result<String, Error> {
        Err(unsupported(
            "hostile-method runs nothing: its plans must be refused",
        ))
    }
}

export_method!(HostileMethod);
