//! Compiled components cached on disk, so a plugin is compiled once per machine and engine.
//!
//! Entries are keyed by the wasm's sha256 and the engine's precompile compatibility hash, and are
//! read back only from the host's own cache directory: deserializing precompiled code trusts its
//! bytes, so a directory others can write to is refused.

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
    /// A cache in `dir`, created (private to this user) if missing.
    pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let meta = std::fs::metadata(&dir)?;
            // SAFETY-relevant: deserialized code runs natively, so nobody else may write here.
            // SAFETY: getuid has no preconditions and cannot fail.
            let uid = unsafe { libc::getuid() };
            if meta.uid() != uid || meta.mode() & 0o022 != 0 {
                if meta.uid() == uid {
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                } else {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::PermissionDenied,
                        format!(
                            "component cache {} belongs to another user; \
                             refusing to load precompiled code from it",
                            dir.display()
                        ),
                    ));
                }
            }
        }
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
        if path.is_file() {
            // SAFETY: the file is in our private cache directory and was written by
            // `Engine::precompile_component` of an engine with the same compatibility hash.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, CacheOutcome::Hit)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "dropping unreadable cache entry");
                    let _ = std::fs::remove_file(&path);
                }
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
