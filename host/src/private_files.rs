//! The checks that a file or folder could only have been written by this user, made before the
//! host runs what it reads there: precompiled components (native code) in the cache, plugins in
//! the store. As ssh checks its keys: the file is not a link, is this user's and only this
//! user's to write, and so is every folder above it (root's too; a folder others may write is
//! accepted only with its sticky bit, as /tmp has, which keeps them from replacing what is not
//! theirs). A refusal says what to fix.

#[cfg(unix)]
mod unix {
    use std::io::{Error, ErrorKind, Read};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    use std::path::Path;

    use super::NotPrivate;

    fn uid() -> u32 {
        // SAFETY: getuid has no preconditions and cannot fail.
        unsafe { libc::getuid() }
    }

    fn refused(why: String) -> Error {
        Error::new(ErrorKind::PermissionDenied, why)
    }

    /// `dir` (the `what`: "component cache", "plugin store") and every folder above it can be
    /// written by this user alone.
    pub fn check_folder(dir: &Path, what: &str) -> std::io::Result<()> {
        let dir = dir.canonicalize()?;
        let me = uid();
        let meta = std::fs::metadata(&dir)?;
        if meta.uid() != me {
            return Err(refused(format!(
                "{what} {} belongs to user {}, not to you: refusing to run code from it; set \
                 SQLMIG_HOME to a folder of your own",
                dir.display(),
                meta.uid()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(refused(format!(
                "{what} {} can be written by other users (mode {:o}): refusing to run code \
                 from it; run `chmod go-w {}`",
                dir.display(),
                meta.mode() & 0o7777,
                dir.display()
            )));
        }
        for folder in dir.ancestors().skip(1) {
            let m = std::fs::metadata(folder)?;
            let sticky = m.mode() & 0o1000 != 0;
            if m.uid() != me && m.uid() != 0 {
                return Err(refused(format!(
                    "{what} {}: the folder above it, {}, belongs to user {}, who could replace \
                     what is in it; set SQLMIG_HOME to a folder of your own",
                    dir.display(),
                    folder.display(),
                    m.uid()
                )));
            }
            if m.mode() & 0o022 != 0 && !sticky {
                return Err(refused(format!(
                    "{what} {}: the folder above it, {}, can be written by other users (mode \
                     {:o}), who could replace what is in it; run `chmod go-w {}`",
                    dir.display(),
                    folder.display(),
                    m.mode() & 0o7777,
                    folder.display()
                )));
            }
        }
        Ok(())
    }

    /// The bytes of `path`; `None` when there is no such file; `Err` saying why when it is not
    /// a regular file (a link is not followed), not this user's, or others may write it. The
    /// checks are made on the opened file, so it cannot be swapped after them.
    pub fn read(path: &Path) -> Result<Option<Vec<u8>>, NotPrivate> {
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(NotPrivate::Unopenable(e)),
        };
        let meta = file.metadata().map_err(NotPrivate::Unreadable)?;
        if !meta.is_file() {
            return Err(NotPrivate::NotAFile);
        }
        if meta.uid() != uid() {
            return Err(NotPrivate::OtherOwner(meta.uid()));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(NotPrivate::OthersWrite(meta.mode() & 0o777));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&file)
            .read_to_end(&mut bytes)
            .map_err(NotPrivate::Unreadable)?;
        Ok(Some(bytes))
    }
}

/// Elsewhere files and folders are trusted as the platform's permissions leave them.
#[cfg(not(unix))]
mod other {
    use std::path::Path;

    pub fn check_folder(_dir: &Path, _what: &str) -> std::io::Result<()> {
        Ok(())
    }

    pub fn read(path: &Path) -> Result<Option<Vec<u8>>, super::NotPrivate> {
        match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(super::NotPrivate::Unreadable(e)),
        }
    }
}

/// Why a file is not read as this user's own.
#[derive(Debug, thiserror::Error)]
pub enum NotPrivate {
    #[error("cannot open it without following links: {0}")]
    Unopenable(std::io::Error),
    #[error("{0}")]
    Unreadable(std::io::Error),
    #[error("it is not a regular file")]
    NotAFile,
    #[error("it belongs to user {0}")]
    OtherOwner(u32),
    #[error("other users can write it (mode {0:o})")]
    OthersWrite(u32),
}

#[cfg(not(unix))]
pub use other::{check_folder, read};
#[cfg(unix)]
pub use unix::{check_folder, read};
