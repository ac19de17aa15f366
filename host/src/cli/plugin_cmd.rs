//! `sqlmig plugin …`: install, list, info, remove.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{Value, json};

use super::output::{Table, write_json};
use super::{Context, Failure, OutputFormat};
use crate::plugins::scaffold;
use crate::plugins::store::{InstallOptions, InstalledPlugin, PluginStore};

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install a plugin from a folder or file.
    ///
    /// PATH is a folder holding plugin.toml and the component (.wasm), a plugin.toml, or a .wasm
    /// with plugin.toml beside it. The component is checked (a valid component, built against a
    /// contract version this sqlmig supports, matching the manifest's api range) and compiled
    /// once; a newer version replaces older ones.
    Install {
        /// The plugin folder or file.
        path: PathBuf,
        /// Allow installing an older version over a newer one.
        #[arg(long)]
        force: bool,
    },
    /// List the plugins available: installed ones and those bundled with sqlmig.
    List,
    /// Show one plugin: manifest, contract version, capabilities asked, limits, checksum.
    Info {
        /// The plugin's name.
        name: String,
    },
    /// Remove every installed version of a plugin.
    Remove {
        /// The plugin's name.
        name: String,
    },
    /// Write a new plugin crate that builds and passes its own tests.
    ///
    /// The crate carries the plugin SDK it builds against (under sdk/), so it needs only Rust,
    /// the wasm32-wasip2 target and crates.io. Its README says how to test, build and install it.
    ///
    /// Examples:
    ///   sqlmig plugin new --kind rules acme-rules
    ///   sqlmig plugin new --kind rules acme-rules --dir ~/src/acme-rules
    ///   sqlmig plugin new --kind platform acme-cloud
    ///   sqlmig plugin new --kind validator acme-counts
    ///   sqlmig plugin new --kind method acme-move
    #[command(verbatim_doc_comment)]
    New {
        /// What the plugin is: a rule pack for `sqlmig assess`, a source platform for
        /// `sqlmig discover`, a validator for `sqlmig validate`, or a migration method for
        /// `sqlmig migrate`.
        #[arg(long, value_enum)]
        kind: NewKind,
        /// The plugin's name: lower-case letters, digits and hyphens.
        name: String,
        /// The folder to write (new or empty); default ./NAME.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Kinds of plugin `plugin new` writes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum NewKind {
    /// A rule pack (the `rules` world: assess).
    Rules,
    /// A source platform (the `platform` world: discover, collect).
    Platform,
    /// A validator (the `validator` world: validate).
    Validator,
    /// A migration method (the `method` world: plan, run-step).
    Method,
}

/// Runs a plugin subcommand.
pub async fn run(ctx: &Context, cmd: PluginCommand) -> Result<ExitCode, Failure> {
    let store = PluginStore::new(ctx.paths.plugins_dir());
    match cmd {
        PluginCommand::Install { path, force } => {
            install(ctx, &store, path, InstallOptions { force })
        }
        PluginCommand::List => list(ctx, &store),
        PluginCommand::Info { name } => info(ctx, &store, &name).await,
        PluginCommand::Remove { name } => remove(ctx, &store, &name),
        PluginCommand::New { kind, name, dir } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            let template = match kind {
                NewKind::Rules => scaffold::Template::Rules,
                NewKind::Platform => scaffold::Template::Platform,
                NewKind::Validator => scaffold::Template::Validator,
                NewKind::Method => scaffold::Template::Method,
            };
            let files = scaffold::new_plugin(&dir, &name, template).map_err(Failure::bad_input)?;
            match ctx.output {
                OutputFormat::Json => write_json(
                    &serde_json::json!({"name": name, "dir": dir, "files": files}),
                    ctx.out.as_deref(),
                )?,
                _ => {
                    println!(
                        "wrote the {} plugin {name} in {} ({} files)",
                        template.kind(),
                        dir.display(),
                        files.len()
                    );
                    println!(
                        "next: cd {} && cargo test && cargo build --release --target wasm32-wasip2 && sqlmig plugin install .",
                        dir.display()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn store_failure(e: crate::plugins::store::StoreError) -> Failure {
    if e.bad_input {
        Failure::bad_input(e.message)
    } else {
        Failure::io(e.message)
    }
}

fn install(
    ctx: &Context,
    store: &PluginStore,
    path: PathBuf,
    opts: InstallOptions,
) -> Result<ExitCode, Failure> {
    let rt = ctx.runtime()?;
    let done = store.install(rt, &path, opts).map_err(store_failure)?;
    match ctx.output {
        OutputFormat::Json => write_json(
            &serde_json::to_value(&done).expect("serializes"),
            ctx.out.as_deref(),
        )?,
        OutputFormat::Table | OutputFormat::Csv | OutputFormat::Html => {
            if !ctx.quiet {
                let replaced = if done.replaced.is_empty() {
                    String::new()
                } else {
                    let v: Vec<String> = done.replaced.iter().map(|v| v.to_string()).collect();
                    format!(", replacing {}", v.join(", "))
                };
                eprintln!(
                    "installed {} {} (built against sqlmig:plugin@{}){replaced}",
                    done.name, done.version, done.api
                );
                cloud_access_note(ctx, store, &done.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Says what cloud access an installed plugin asks for and that it is the operator's to grant:
/// an installed plugin reads no credential, setting or host by naming it in its manifest.
fn cloud_access_note(ctx: &Context, store: &PluginStore, name: &str) {
    let (Ok(p), Ok(config)) = (store.find(name), ctx.config()) else {
        return;
    };
    let missing = crate::cloud::ungranted(&p, config);
    if !missing.is_empty() {
        eprintln!(
            "note: {name} asks for cloud access it has not been granted; it gets none until you \
             grant what you trust in {} under [plugins.{name}.grants]: {}",
            ctx.paths.config_file.display(),
            missing.join(", ")
        );
    }
}

/// The JSON shape of a plugin in `list` and `info`.
fn plugin_json(p: &InstalledPlugin) -> Value {
    let m = &p.manifest;
    json!({
        "name": m.name,
        "version": m.version.to_string(),
        "description": m.description,
        "kind": m.kind,
        "api": p.receipt.api.to_string(),
        "api_range": m.api.to_string(),
        "hooks": m.hooks,
        "capabilities": m.capabilities.summary(),
        "origin": p.origin,
        "sha256": p.receipt.sha256,
    })
}

fn list(ctx: &Context, store: &PluginStore) -> Result<ExitCode, Failure> {
    let plugins = store.available().map_err(store_failure)?;
    match ctx.output {
        OutputFormat::Json => {
            let v: Vec<Value> = plugins.iter().map(plugin_json).collect();
            write_json(&Value::Array(v), ctx.out.as_deref())?;
        }
        OutputFormat::Table | OutputFormat::Csv | OutputFormat::Html => {
            if plugins.is_empty() {
                eprintln!("no plugins installed; `sqlmig plugin install DIR` adds one");
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&["NAME", "VERSION", "API", "ORIGIN", "HOOKS", "CAPABILITIES"]);
            for p in &plugins {
                let caps = p.manifest.capabilities.summary();
                t.row(vec![
                    p.manifest.name.clone(),
                    p.manifest.version.to_string(),
                    p.receipt.api.to_string(),
                    format!("{:?}", p.origin).to_lowercase(),
                    p.manifest.hooks.join(","),
                    if caps.is_empty() {
                        "-".into()
                    } else {
                        caps.join(",")
                    },
                ]);
            }
            print!("{}", t.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn info(ctx: &Context, store: &PluginStore, name: &str) -> Result<ExitCode, Failure> {
    let p = store.find(name).map_err(store_failure)?;
    let d = ctx.describe(&p).await?;
    let granted = ctx.config()?.plugin(name).grants.summary();
    let mut v = plugin_json(&p);
    v["summary"] = json!(d.summary);
    v["limits"] = serde_json::to_value(&d.limits).expect("serializes");
    v["granted"] = json!(granted);
    v["path"] = json!(p.dir.as_ref().map(|d| d.display().to_string()));
    match ctx.output {
        OutputFormat::Json => write_json(&v, ctx.out.as_deref())?,
        OutputFormat::Table | OutputFormat::Csv | OutputFormat::Html => {
            let m = &p.manifest;
            let list = |l: &[String]| {
                if l.is_empty() {
                    "-".to_string()
                } else {
                    l.join(", ")
                }
            };
            println!("name:          {}", m.name);
            println!("version:       {}", m.version);
            println!("description:   {}", m.description);
            println!("summary:       {}", d.summary);
            println!(
                "kind:          {}",
                if m.kind.as_str().is_empty() {
                    "-"
                } else {
                    m.kind.as_str()
                }
            );
            println!(
                "api:           sqlmig:plugin@{} (manifest: {})",
                p.receipt.api, m.api
            );
            println!("hooks:         {}", m.hooks.join(", "));
            let l = &d.limits;
            println!("asks for:      {}", list(&m.capabilities.summary()));
            println!("granted:       {}", list(&granted));
            println!(
                "limits:        {} MiB memory, {} s per hook, {} fuel",
                l.memory_mib, l.timeout_secs, l.fuel
            );
            println!(
                "origin:        {}",
                format!("{:?}", p.origin).to_lowercase()
            );
            if let Some(d) = &p.dir {
                println!("path:          {}", d.display());
            }
            println!("sha256:        {}", p.receipt.sha256);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn remove(ctx: &Context, store: &PluginStore, name: &str) -> Result<ExitCode, Failure> {
    let removed = store.remove(name).map_err(store_failure)?;
    let versions: Vec<String> = removed.iter().map(|v| v.to_string()).collect();
    match ctx.output {
        OutputFormat::Json => write_json(
            &json!({"name": name, "removed": versions}),
            ctx.out.as_deref(),
        )?,
        OutputFormat::Table | OutputFormat::Csv | OutputFormat::Html => {
            if !ctx.quiet {
                eprintln!("removed {name} {}", versions.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
