//! Compiled components cached on disk, so a plugin is compiled once per machine and engine.
//!
//! Entries are keyed by the wasm's sha256 and the engine's precompile compatibility hash, and are
//! read back only from the host's own cache directory: deserializing precompiled code trusts its
//! bytes (it runs natively), so a folder others can write to, or one below such a folder, is
//! refused, and an entry that is a link, belongs to another user or others can write is never
//! loaded (the checks ssh makes of its keys, `private_files`).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a component came from on a load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Read from the on-disk cache: no compilation.
    Hit,
    /// Compiled now (and stored when a cache directory is set).
    Compiled,
}

/// The on-disk cache of precompiled components.
#[derive(Clone, Debug)]
pub struct ComponentCache {
    dir: PathBuf,
}

/// The hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ComponentCache {
    /// A cache in `dir`, created (private to this user) if missing. Refused, saying what to
    /// fix, when the folder or one above it lets another user replace what is in it.
    pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)?;
        }
        #[cfg(not(unix))]
        std::fs::create_dir_all(&dir)?;
        crate::private_files::check_folder(&dir, "component cache")?;
        Ok(ComponentCache { dir })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(&self, engine: &Engine, wasm_sha256: &str) -> PathBuf {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        self.dir
            .join(format!("{wasm_sha256}-{:016x}.cwasm", h.finish()))
    }

    /// The compiled component for `wasm`, from the cache or compiled now and stored.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.entry_path(engine, &sha256_hex(wasm));
        match crate::private_files::read(&path) {
            Ok(Some(bytes)) => {
                // SAFETY: the bytes are a file this user owns and only this user can write, in a
                // folder only this user can write, written by `Engine::precompile_component` of
                // an engine with the same compatibility hash (or rejected by deserialize).
                match unsafe { Component::deserialize(engine, &bytes) } {
                    Ok(c) => return Ok((c, CacheOutcome::Hit)),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "dropping unreadable cache entry");
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            Ok(None) => {}
            Err(why) => {
                // Not loaded: replaced by an entry compiled now.
                tracing::warn!(path = %path.display(), %why, "dropping a cache entry this user did not write");
                let _ = std::fs::remove_file(&path);
            }
        }
        let compiled = engine.precompile_component(wasm)?;
        if let Err(e) = self.store(&path, &compiled) {
            tracing::warn!(path = %path.display(), error = %e, "could not write the component cache");
        }
        // SAFETY: the bytes were just produced by this engine.
        let component = unsafe { Component::deserialize(engine, &compiled)? };
        Ok((component, CacheOutcome::Compiled))
    }

    /// Writes an entry atomically: a reader sees the whole file or none.
    fn store(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
