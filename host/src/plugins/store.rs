//! Installed plugins under the data dir, one folder per name and version
//! (`plugins/rules-acme/1.2.0/{plugin.toml, plugin.wasm, receipt.json}`), plus the plugins
//! bundled into the binary. An installed version newer than the bundled one overrides it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use semver::Version;
use serde::{Deserialize, Serialize};

use super::bundled;
use super::manifest::{COMPONENT_FILE, MANIFEST_FILE, Manifest};
use crate::capabilities::Grants;
use crate::runtime::cache::sha256_hex;
use crate::runtime::{LoadedPlugin, Runtime, versions};

/// Where a plugin comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Installed with `sqlmig plugin install`.
    Installed,
    /// Built into this sqlmig binary.
    Bundled,
}

/// What an install recorded about a plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// sha256 of `plugin.wasm`.
    pub sha256: String,
    /// The contract version the component was built against.
    pub api: Version,
    /// Where it was installed from.
    pub installed_from: String,
}

/// How `install` may proceed.
#[derive(Clone, Copy, Debug, Default)]
pub struct InstallOptions {
    /// Install an older version over a newer one.
    pub force: bool,
}

/// A plugin the store can run.
#[derive(Clone, Debug)]
pub struct InstalledPlugin {
    pub manifest: Manifest,
    pub origin: Origin,
    /// Its folder, for installed plugins.
    pub dir: Option<PathBuf>,
    pub receipt: Receipt,
    bundled_wasm: Option<&'static [u8]>,
}

impl InstalledPlugin {
    /// The component's bytes.
    pub fn wasm(&self) -> std::io::Result<Cow<'static, [u8]>> {
        match (&self.bundled_wasm, &self.dir) {
            (Some(b), _) => Ok(Cow::Borrowed(b)),
            (None, Some(dir)) => {
                // The plugin runs with what the operator granted it: only files this user alone
                // could have written are run under its name.
                crate::private_files::check_folder(dir, "plugin store")?;
                let path = dir.join(COMPONENT_FILE);
                match crate::private_files::read(&path) {
                    Ok(Some(bytes)) => Ok(Cow::Owned(bytes)),
                    Ok(None) => Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{}: no such file", path.display()),
                    )),
                    Err(why) => Err(std::io::Error::new(
                        std::io::ErrorKind::PermissionDenied,
                        format!(
                            "{}: {why}; refusing to run it: reinstall the plugin (sqlmig plugin install)",
                            path.display()
                        ),
                    )),
                }
            }
            (None, None) => unreachable!("a plugin is bundled or installed"),
        }
    }
}

/// A store operation that failed; `bad_input` marks the user's mistakes (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    pub message: String,
    pub bad_input: bool,
}

fn bad(message: impl Into<String>) -> StoreError {
    StoreError {
        message: message.into(),
        bad_input: true,
    }
}

fn io(what: impl std::fmt::Display, e: std::io::Error) -> StoreError {
    StoreError {
        message: format!("{what}: {e}"),
        bad_input: false,
    }
}

/// What an install did.
#[derive(Clone, Debug, Serialize)]
pub struct InstallOutcome {
    pub name: String,
    pub version: Version,
    pub api: Version,
    pub sha256: String,
    /// Versions of the same plugin it replaced.
    pub replaced: Vec<Version>,
    pub dir: PathBuf,
}

/// The installed plugins of this user.
#[derive(Clone, Debug)]
pub struct PluginStore {
    root: PathBuf,
}

impl PluginStore {
    /// The store in `root` (created on first install).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        PluginStore { root: root.into() }
    }

    /// Every installed plugin version, by name then version.
    pub fn installed(&self) -> Result<Vec<InstalledPlugin>, StoreError> {
        let mut out = Vec::new();
        let names = match std::fs::read_dir(&self.root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io(self.root.display(), e)),
        };
        for name in names.flatten() {
            if name.file_name().to_string_lossy().starts_with('.') {
                continue; // an install in progress, or one a crash left behind
            }
            let Ok(versions) = std::fs::read_dir(name.path()) else {
                continue;
            };
            for v in versions.flatten() {
                let dir = v.path();
                match read_installed(&dir) {
                    Ok(p) => out.push(p),
                    Err(e) => {
                        tracing::warn!("skipping damaged plugin folder {}: {e}", dir.display())
                    }
                }
            }
        }
        out.sort_by(|a, b| {
            (&a.manifest.name, &a.manifest.version).cmp(&(&b.manifest.name, &b.manifest.version))
        });
        Ok(out)
    }

    /// The plugin each name resolves to: the newest of installed and bundled versions.
    pub fn available(&self) -> Result<Vec<InstalledPlugin>, StoreError> {
        let mut all = bundled::plugins();
        all.extend(self.installed()?);
        all.sort_by(|a, b| {
            (
                &a.manifest.name,
                &a.manifest.version,
                a.origin == Origin::Installed,
            )
                .cmp(&(
                    &b.manifest.name,
                    &b.manifest.version,
                    b.origin == Origin::Installed,
                ))
        });
        let mut out: Vec<InstalledPlugin> = Vec::new();
        for p in all {
            match out.last_mut() {
                Some(last) if last.manifest.name == p.manifest.name => *last = p,
                _ => out.push(p),
            }
        }
        Ok(out)
    }

    /// The plugin `name` resolves to.
    pub fn find(&self, name: &str) -> Result<InstalledPlugin, StoreError> {
        self.available()?
            .into_iter()
            .find(|p| p.manifest.name == name)
            .ok_or_else(|| {
                bad(format!(
                    "no plugin named '{name}' is installed or bundled; `sqlmig plugin list` shows \
                     what is available, `sqlmig plugin install DIR` adds one"
                ))
            })
    }

    /// Installs the plugin at `source` (a folder holding plugin.toml and a .wasm, a plugin.toml,
    /// or a .wasm with plugin.toml beside it) after checking the manifest, the component, its
    /// world against the manifest's kind and the contract version. A newer version replaces older
    /// ones; an older one needs `force`.
    pub fn install(
        &self,
        runtime: &Runtime,
        source: &Path,
        opts: InstallOptions,
    ) -> Result<InstallOutcome, StoreError> {
        let (manifest_path, component_path) = locate(source)?;
        let manifest = Manifest::read(&manifest_path).map_err(|e| bad(e.to_string()))?;
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| bad(format!("{}: cannot read: {e}", p.display())))
        };
        let wasm = read(&component_path)?;
        let grants = Grants {
            plugin: manifest.label(),
            plugin_name: manifest.name.clone(),
            ..Default::default()
        };
        let loaded = LoadedPlugin::load(
            runtime,
            &wasm,
            &component_path.display().to_string(),
            grants,
            Default::default(),
        )
        .map_err(|e| bad(e.to_string()))?;
        manifest
            .check_world(loaded.world)
            .map_err(|e| bad(format!("{}: {e}", manifest_path.display())))?;
        let api = loaded.api;
        if !manifest.api.matches(&api) {
            return Err(bad(format!(
                "{}: api = \"{}\", but {} was built against sqlmig:plugin@{api}; fix the manifest \
                 or rebuild the plugin",
                manifest_path.display(),
                manifest.api,
                component_path.display(),
            )));
        }

        let existing: Vec<Version> = self
            .installed()?
            .into_iter()
            .filter(|p| p.manifest.name == manifest.name)
            .map(|p| p.manifest.version)
            .collect();
        if let Some(newer) = existing.iter().find(|v| **v > manifest.version)
            && !opts.force
        {
            return Err(bad(format!(
                "{} {newer} is installed; installing {} would downgrade it (pass --force to do so)",
                manifest.name, manifest.version
            )));
        }

        let sha256 = sha256_hex(&wasm);
        let receipt = Receipt {
            sha256: sha256.clone(),
            api: api.clone(),
            installed_from: source.display().to_string(),
        };
        let dir = self.put(&manifest, &manifest_path, &wasm, &receipt)?;
        let mut replaced = Vec::new();
        for v in existing.into_iter().filter(|v| *v != manifest.version) {
            let old = self.root.join(&manifest.name).join(v.to_string());
            std::fs::remove_dir_all(&old).map_err(|e| io(old.display(), e))?;
            replaced.push(v);
        }
        Ok(InstallOutcome {
            name: manifest.name,
            version: manifest.version,
            api,
            sha256,
            replaced,
            dir,
        })
    }

    /// Writes a plugin's folder atomically: staged beside the store, then renamed into place.
    fn put(
        &self,
        manifest: &Manifest,
        manifest_path: &Path,
        component: &[u8],
        receipt: &Receipt,
    ) -> Result<PathBuf, StoreError> {
        let parent = self.root.join(&manifest.name);
        std::fs::create_dir_all(&parent).map_err(|e| io(parent.display(), e))?;
        let staging = tempfile::Builder::new()
            .prefix(".staging-")
            .tempdir_in(&self.root)
            .map_err(|e| io(self.root.display(), e))?;
        let write = |name: &str, bytes: &[u8]| {
            let p = staging.path().join(name);
            std::fs::write(&p, bytes).map_err(|e| io(p.display(), e))
        };
        let manifest_text =
            std::fs::read(manifest_path).map_err(|e| io(manifest_path.display(), e))?;
        write(MANIFEST_FILE, &manifest_text)?;
        write(COMPONENT_FILE, component)?;
        write(
            "receipt.json",
            serde_json::to_string_pretty(receipt)
                .expect("a receipt serializes")
                .as_bytes(),
        )?;
        let target = parent.join(manifest.version.to_string());
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(|e| io(target.display(), e))?;
        }
        let staged = staging.keep();
        std::fs::rename(&staged, &target).map_err(|e| io(target.display(), e))?;
        Ok(target)
    }

    /// Removes every installed version of `name`; bundled plugins cannot be removed.
    pub fn remove(&self, name: &str) -> Result<Vec<Version>, StoreError> {
        let versions: Vec<Version> = self
            .installed()?
            .into_iter()
            .filter(|p| p.manifest.name == name)
            .map(|p| p.manifest.version)
            .collect();
        if versions.is_empty() {
            let is_bundled = bundled::plugins().iter().any(|p| p.manifest.name == name);
            return Err(bad(if is_bundled {
                format!("'{name}' is bundled with sqlmig and cannot be removed")
            } else {
                format!(
                    "no plugin named '{name}' is installed (`sqlmig plugin list` shows what is)"
                )
            }));
        }
        let dir = self.root.join(name);
        std::fs::remove_dir_all(&dir).map_err(|e| io(dir.display(), e))?;
        Ok(versions)
    }
}

/// Finds the manifest and the component a source path refers to.
fn locate(source: &Path) -> Result<(PathBuf, PathBuf), StoreError> {
    let meta = std::fs::metadata(source).map_err(|e| bad(format!("{}: {e}", source.display())))?;
    let dir = if meta.is_dir() {
        source.to_path_buf()
    } else {
        source.parent().unwrap_or(Path::new(".")).to_path_buf()
    };
    let manifest = dir.join(MANIFEST_FILE);
    if !manifest.is_file() {
        return Err(bad(format!(
            "{}: no {MANIFEST_FILE} there; a plugin folder holds {MANIFEST_FILE} and the \
             component (.wasm)",
            dir.display()
        )));
    }
    if meta.is_file() && source.extension().is_some_and(|e| e == "wasm") {
        return Ok((manifest, source.to_path_buf()));
    }
    if dir.join(COMPONENT_FILE).is_file() {
        return Ok((manifest, dir.join(COMPONENT_FILE)));
    }
    let wasms: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| bad(format!("{}: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    // A plugin crate's folder after `cargo build --release --target wasm32-wasip2`.
    let built = Manifest::read(&manifest).ok().and_then(|m| {
        let wasm = dir
            .join("target/wasm32-wasip2/release")
            .join(format!("{}.wasm", m.name.replace('-', "_")));
        wasm.is_file().then_some(wasm)
    });
    match (wasms.as_slice(), built) {
        ([], Some(wasm)) => Ok((manifest, wasm)),
        ([one], _) => Ok((manifest, one.clone())),
        ([], None) => Err(bad(format!(
            "{}: no component (.wasm) beside {MANIFEST_FILE}, and no target/wasm32-wasip2/release \
             build: run `cargo build --release --target wasm32-wasip2` first (a plugin is a \
             WebAssembly component, whatever language it is written in)",
            dir.display()
        ))),
        (_, _) => Err(bad(format!(
            "{}: several .wasm files; name the component {COMPONENT_FILE} or pass its path",
            dir.display()
        ))),
    }
}

fn read_installed(dir: &Path) -> Result<InstalledPlugin, String> {
    let manifest = Manifest::read(&dir.join(MANIFEST_FILE)).map_err(|e| e.to_string())?;
    let receipt: Receipt = serde_json::from_slice(
        &std::fs::read(dir.join("receipt.json")).map_err(|e| format!("receipt.json: {e}"))?,
    )
    .map_err(|e| format!("receipt.json: {e}"))?;
    if versions::compatible_line(&receipt.api).is_none() {
        tracing::debug!("{} was built for another contract line", dir.display());
    }
    Ok(InstalledPlugin {
        manifest,
        origin: Origin::Installed,
        dir: Some(dir.to_path_buf()),
        receipt,
        bundled_wasm: None,
    })
}

/// A bundled plugin as the store presents it.
pub(super) fn bundled_plugin(
    manifest: Manifest,
    wasm: &'static [u8],
    api: Version,
) -> InstalledPlugin {
    InstalledPlugin {
        manifest,
        origin: Origin::Bundled,
        dir: None,
        receipt: Receipt {
            sha256: sha256_hex(wasm),
            api,
            installed_from: "bundled with sqlmig".into(),
        },
        bundled_wasm: Some(wasm),
    }
}
