//! The `fs` capability: read-only access to folders the operator granted by name. Paths are
//! relative to the folder; `..` and absolute paths are refused. Everything is opened through the
//! granted folder's own descriptor (cap-std: `openat` beneath it, never by a path name checked
//! first and opened later), so a symlink or a rename inside the folder can lead nowhere outside
//! it, even while the plugin reads.

use std::path::{Component, Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::{CallContext, Capability, CapabilityError};

/// The most one read may return.
const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// The granted folder `root` opened, and `rel` checked to be a path inside it by its words.
fn open_root(root: &Path, folder: &str, rel: &str) -> Result<Dir, CapabilityError> {
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            _ => return Err(escape(folder, rel)),
        }
    }
    Dir::open_ambient_dir(root, ambient_authority()).map_err(|e| {
        CapabilityError::Unavailable(format!(
            "granted folder '{folder}' ({}) cannot be opened: {e}",
            root.display()
        ))
    })
}

fn escape(folder: &str, rel: &str) -> CapabilityError {
    CapabilityError::AccessDenied(format!(
        "path '{rel}' leaves granted folder '{folder}'; use a path relative to the folder"
    ))
}

/// An error of an open beneath the folder, as the plugin should see it: a path that would lead
/// outside (a symlink out, cap-std's refusal) is access denied.
fn beneath_error(e: std::io::Error, folder: &str, rel: &str) -> CapabilityError {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            CapabilityError::NotFound(format!("'{rel}' in folder '{folder}'"))
        }
        // cap-std refuses a path leading out as "a path led outside of the filesystem".
        std::io::ErrorKind::PermissionDenied if e.to_string().contains("outside") => {
            escape(folder, rel)
        }
        std::io::ErrorKind::PermissionDenied => {
            CapabilityError::AccessDenied(format!("'{rel}' in folder '{folder}': {e}"))
        }
        _ => CapabilityError::InvalidInput(format!("'{rel}' in folder '{folder}': {e}")),
    }
}

/// Runs blocking file work off the async executor.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CapabilityError> + Send + 'static,
) -> Result<T, CapabilityError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CapabilityError::Unavailable(format!("file work stopped: {e}")))?
}

/// A file or folder in a listing; `path` is relative to the granted folder, with `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub is_dir: bool,
    pub size: u64,
}

/// Where the folder granted as `folder` is on this machine.
fn folder_root(cx: &CallContext, folder: &str) -> Result<PathBuf, CapabilityError> {
    cx.grants.check(Capability::Fs, folder)?;
    cx.services.folders.get(folder).cloned().ok_or_else(|| {
        CapabilityError::NotFound(format!(
            "folder '{folder}' is granted but this command set up no path for it \
                 (add it under [folders] in sqlmig.toml)"
        ))
    })
}

async fn list_folder(
    root: PathBuf,
    folder: &str,
    rel: &str,
) -> Result<Vec<Entry>, CapabilityError> {
    let (folder, rel) = (folder.to_string(), rel.to_string());
    blocking(move || {
        let dir = open_root(&root, &folder, &rel)?;
        // The folder itself is `.` beneath its descriptor.
        let base = Path::new(if rel.is_empty() { "." } else { rel.as_str() });
        let entries = dir
            .read_dir(base)
            .map_err(|e| beneath_error(e, &folder, &rel))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| CapabilityError::Unavailable(e.to_string()))?;
            let path = base.join(entry.file_name());
            // A symlink is judged by where it leads, beneath the folder only: one leading out (or
            // nowhere) is not listed, and nothing of its target is shown.
            let Ok(meta) = dir.metadata(&path) else {
                continue;
            };
            out.push(Entry {
                path: path
                    .components()
                    .filter(|c| !matches!(c, Component::CurDir))
                    .collect::<PathBuf>()
                    .to_string_lossy()
                    .replace('\\', "/"),
                is_dir: meta.is_dir(),
                size: meta.len(),
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    })
    .await
}

async fn read_file(
    root: PathBuf,
    folder: &str,
    rel: &str,
    offset: u64,
    length: u64,
) -> Result<Vec<u8>, CapabilityError> {
    use std::io::{Read, Seek};
    let (folder, rel) = (folder.to_string(), rel.to_string());
    blocking(move || {
        let dir = open_root(&root, &folder, &rel)?;
        let mut f = dir
            .open(&rel)
            .map_err(|e| beneath_error(e, &folder, &rel))?;
        f.seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| CapabilityError::Unavailable(e.to_string()))?;
        let mut buf = Vec::new();
        f.take(length.min(MAX_READ_BYTES))
            .read_to_end(&mut buf)
            .map_err(|e| CapabilityError::InvalidInput(format!("'{rel}' in '{folder}': {e}")))?;
        Ok(buf)
    })
    .await
}

/// The entries of `path` in the granted folder `folder`.
pub async fn list(
    cx: &CallContext,
    folder: &str,
    path: &str,
) -> Result<Vec<Entry>, CapabilityError> {
    list_folder(folder_root(cx, folder)?, folder, path).await
}

/// Up to `length` bytes of file `path` in the granted folder `folder`, from `offset`.
pub async fn read(
    cx: &CallContext,
    folder: &str,
    path: &str,
    offset: u64,
    length: u64,
) -> Result<Vec<u8>, CapabilityError> {
    read_file(folder_root(cx, folder)?, folder, path, offset, length).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn paths_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.bak"), b"abc").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.bak"), b"b").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), vec![b's'; 1234]).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink("a.bak", dir.path().join("inside")).unwrap();
        let root = dir.path().to_path_buf();
        let read = |rel: &'static str| read_file(root.clone(), "b", rel, 0, 100);

        assert_eq!(read("a.bak").await.unwrap(), b"abc");
        assert_eq!(read("sub/b.bak").await.unwrap(), b"b");
        // A link that stays in the folder is the folder's file.
        assert_eq!(read("inside").await.unwrap(), b"abc");
        for bad in ["../x", "/etc/passwd", "sub/../../x", "link", "out/secret"] {
            let err = read(bad).await.unwrap_err();
            assert!(
                matches!(err, CapabilityError::AccessDenied(_)),
                "{bad}: {err}"
            );
        }
        assert!(matches!(
            read("missing").await.unwrap_err(),
            CapabilityError::NotFound(_)
        ));
        // A listing shows nothing of what a link outside points at.
        let listed = list_folder(root.clone(), "b", "").await.unwrap();
        let shown: Vec<(String, bool, u64)> = listed
            .iter()
            .map(|e| (e.path.clone(), e.is_dir, if e.is_dir { 0 } else { e.size }))
            .collect();
        assert_eq!(
            shown,
            [
                ("a.bak".to_string(), false, 3),
                ("inside".to_string(), false, 3),
                ("sub".to_string(), true, 0),
            ]
        );
        assert_eq!(
            list_folder(root.clone(), "b", "sub").await.unwrap()[0].path,
            "sub/b.bak"
        );
        assert!(matches!(
            list_folder(root, "b", "out").await.unwrap_err(),
            CapabilityError::AccessDenied(_)
        ));
    }
}
