//! The `fs` capability: read-only access to folders the operator granted by name. Paths are
//! relative to the folder; `..`, absolute paths and symlinks leading outside are refused.

use std::path::{Component, Path, PathBuf};

use super::{Capability, CapabilityError};
use crate::runtime::bindings::v0_1::sqlmig::plugin::fs as wit;
use crate::runtime::bindings::v0_1::sqlmig::plugin::types::Error as WitError;
use crate::runtime::instance::PluginState;

/// The most one read may return.
const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// Resolves `rel` inside `root`, refusing anything that would leave it.
pub async fn resolve(root: &Path, folder: &str, rel: &str) -> Result<PathBuf, CapabilityError> {
    let escape = || {
        CapabilityError::AccessDenied(format!(
            "path '{rel}' leaves granted folder '{folder}'; use a path relative to the folder"
        ))
    };
    let rel_path = Path::new(rel);
    for c in rel_path.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            _ => return Err(escape()),
        }
    }
    let root = tokio::fs::canonicalize(root).await.map_err(|e| {
        CapabilityError::Unavailable(format!(
            "granted folder '{folder}' ({}) cannot be opened: {e}",
            root.display()
        ))
    })?;
    let joined = root.join(rel_path);
    let real = tokio::fs::canonicalize(&joined).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CapabilityError::NotFound(format!("'{rel}' in folder '{folder}'"))
        } else {
            CapabilityError::Unavailable(format!("'{rel}' in folder '{folder}': {e}"))
        }
    })?;
    // A symlink inside the folder may point anywhere: judge where it really leads.
    if !real.starts_with(&root) {
        return Err(escape());
    }
    Ok(real)
}

impl PluginState {
    fn folder_root(&self, folder: &str) -> Result<PathBuf, CapabilityError> {
        self.call.grants.check(Capability::Fs, folder)?;
        self.call
            .services
            .folders
            .get(folder)
            .cloned()
            .ok_or_else(|| {
                CapabilityError::NotFound(format!(
                    "folder '{folder}' is granted but this command set up no path for it \
                 (add it under [folders] in sqlmig.toml)"
                ))
            })
    }
}

async fn list_folder(
    root: PathBuf,
    folder: &str,
    rel: &str,
) -> Result<Vec<wit::Entry>, CapabilityError> {
    let dir = resolve(&root, folder, rel).await?;
    let canonical_root = tokio::fs::canonicalize(&root)
        .await
        .map_err(|e| CapabilityError::Unavailable(e.to_string()))?;
    let mut rd = tokio::fs::read_dir(&dir)
        .await
        .map_err(|e| CapabilityError::InvalidInput(format!("'{rel}' in '{folder}': {e}")))?;
    let mut out = Vec::new();
    while let Some(entry) = rd
        .next_entry()
        .await
        .map_err(|e| CapabilityError::Unavailable(e.to_string()))?
    {
        let meta = match tokio::fs::metadata(entry.path()).await {
            Ok(m) => m,
            Err(_) => continue, // dangling symlink: nothing a plugin could read
        };
        let path = entry.path();
        let rel = path.strip_prefix(&canonical_root).unwrap_or(&path);
        out.push(wit::Entry {
            path: rel.to_string_lossy().replace('\\', "/"),
            is_dir: meta.is_dir(),
            size: meta.len(),
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

async fn read_file(
    root: PathBuf,
    folder: &str,
    rel: &str,
    offset: u64,
    length: u64,
) -> Result<Vec<u8>, CapabilityError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let path = resolve(&root, folder, rel).await?;
    let length = length.min(MAX_READ_BYTES);
    let mut f = tokio::fs::File::open(&path)
        .await
        .map_err(|e| CapabilityError::InvalidInput(format!("'{rel}' in '{folder}': {e}")))?;
    f.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(|e| CapabilityError::Unavailable(e.to_string()))?;
    let mut buf = Vec::with_capacity(length as usize);
    f.take(length)
        .read_to_end(&mut buf)
        .await
        .map_err(|e| CapabilityError::Unavailable(e.to_string()))?;
    Ok(buf)
}

impl wit::Host for PluginState {
    async fn list(
        &mut self,
        folder: String,
        path: String,
    ) -> wasmtime::Result<Result<Vec<wit::Entry>, WitError>> {
        let r = match self.folder_root(&folder) {
            Ok(root) => list_folder(root, &folder, &path).await,
            Err(e) => Err(e),
        };
        Ok(r.map_err(Into::into))
    }

    async fn read(
        &mut self,
        folder: String,
        path: String,
        offset: u64,
        length: u64,
    ) -> wasmtime::Result<Result<Vec<u8>, WitError>> {
        let r = match self.folder_root(&folder) {
            Ok(root) => read_file(root, &folder, &path, offset, length).await,
            Err(e) => Err(e),
        };
        Ok(r.map_err(Into::into))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn paths_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.bak"), b"x").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("link")).unwrap();

        assert!(resolve(dir.path(), "b", "a.bak").await.is_ok());
        for bad in ["../x", "/etc/passwd", "sub/../../x"] {
            let err = resolve(dir.path(), "b", bad).await.unwrap_err();
            assert!(
                matches!(err, CapabilityError::AccessDenied(_)),
                "{bad}: {err}"
            );
        }
        #[cfg(unix)]
        assert!(matches!(
            resolve(dir.path(), "b", "link").await.unwrap_err(),
            CapabilityError::AccessDenied(_)
        ));
        assert!(matches!(
            resolve(dir.path(), "b", "missing").await.unwrap_err(),
            CapabilityError::NotFound(_)
        ));
    }
}
