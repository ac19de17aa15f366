//! The header reader on a real backup written by SQL Server (not by this project).

use sqlmig_backup_format::container::ReadAt;
use sqlmig_backup_format::{
    BackupType, ReadError, read_backup, read_backup_file, read_backup_head,
};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/backups")
        .join(name)
}

#[test]
fn compressed_tutorialdb_backup_reads_as_restore_headeronly_would() {
    let file = read_backup_file(&fixture("TutorialDB.bak")).expect("a real compressed backup");
    assert!(file.compressed);
    assert!(!file.has_media_password);
    assert_eq!(file.software_name.as_deref(), Some("Microsoft SQL Server"));
    assert_eq!(file.block_size, 1024);
    assert_eq!(file.sets.len(), 1, "{file:#?}");
    let set = &file.sets[0];
    assert_eq!(set.position, 1);
    assert_eq!(set.database_name, "TutorialDB");
    assert_eq!(set.server_name, "NELLIELAPTOP");
    assert_eq!(set.backup_type, BackupType::Full);
    assert!(!set.copy_only);
    assert_eq!(set.first_lsn.to_string(), "34000000054200037");
    assert_eq!(set.last_lsn.to_string(), "34000000055900001");
    assert_eq!(set.checkpoint_lsn.to_string(), "34000000054200037");
    assert_eq!(set.database_backup_lsn.to_string(), "34000000043900205");
    assert_eq!(set.software_version, "13.0.1708");
    assert_eq!(set.compatibility_level, 130);
    assert_eq!(set.database_version, 852);
    assert_eq!(
        set.backup_start_date.as_deref(),
        Some("2016-11-09T15:27:49")
    );
    assert_eq!(
        set.database_creation_date.as_deref(),
        Some("2016-11-08T20:39:05")
    );
    assert_eq!(
        set.backup_name.as_deref(),
        Some("TutorialDB-Full Database Backup")
    );
    assert_eq!(set.unicode_locale_id, 1033);
    let names: Vec<_> = set.files.iter().map(|f| f.logical_name.as_str()).collect();
    assert_eq!(names, ["TutorialDB", "TutorialDB_log"]);
    assert!(
        set.files[1]
            .physical_name
            .ends_with(r"\MSSQL\DATA\TutorialDB_log.ldf")
    );
    assert_eq!(set.log_file_count(), 1);
    assert!(file.notes.is_empty(), "{:?}", file.notes);
}

#[test]
fn damaged_and_foreign_files_are_refused_with_why() {
    let real = std::fs::read(fixture("TutorialDB.bak")).unwrap();
    // Not a backup at all.
    let err = read_backup(&b"PK\x03\x04 a zip file, not a backup"[..]).unwrap_err();
    assert!(matches!(err, ReadError::NotABackup(_)), "{err}");
    // Cut short inside the first compressed chunk.
    let err = read_backup(&real[..700]).unwrap_err();
    assert!(matches!(err, ReadError::Corrupt(_)), "{err}");
    // A flipped byte inside the chunk holding the set's header: an error, never a panic.
    for at in [0x640usize, 0x700, 0x800, 0x900] {
        let mut bad = real.clone();
        bad[at] ^= 0x5a;
        let err = read_backup(&bad[..]).expect_err("a damaged chunk");
        assert!(matches!(err, ReadError::Corrupt(_)), "{err}");
    }
    // Header only: everything after the set's header gone.
    let head = read_backup(&real[..0xa15]).expect("the header chunks are all there");
    assert_eq!(head.sets[0].database_name, "TutorialDB");
    assert!(
        head.notes.iter().any(|n| n.contains("cut short")),
        "{:?}",
        head.notes
    );
}

/// Bytes served, and the furthest byte asked for: what a reader costs over a network.
struct Counting<'a> {
    data: &'a [u8],
    read: u64,
    furthest: u64,
}

impl ReadAt for Counting<'_> {
    fn size(&mut self) -> std::io::Result<u64> {
        Ok(self.data.len() as u64)
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (&self.data[..]).read_at(offset, buf)?;
        self.read += n as u64;
        self.furthest = self.furthest.max(offset + n as u64);
        Ok(n)
    }
}

#[test]
fn the_head_reader_stops_after_the_first_set_header() {
    let real = std::fs::read(fixture("TutorialDB.bak")).unwrap();
    let mut whole = Counting {
        data: &real,
        read: 0,
        furthest: 0,
    };
    let all = read_backup(&mut whole).unwrap();
    let mut part = Counting {
        data: &real,
        read: 0,
        furthest: 0,
    };
    let head = read_backup_head(&mut part).unwrap();
    assert_eq!(head.sets, all.sets[..1].to_vec());
    assert!(head.compressed);
    // The full walk goes to the end of the file; the head reads no further than the 64 KiB
    // searched for the first compressed chunk (the file is 421 KiB).
    assert!(
        whole.furthest > real.len() as u64 * 9 / 10,
        "{}",
        whole.furthest
    );
    assert!(part.furthest <= 64 * 1024 + 300, "{}", part.furthest);
    assert!(part.read < whole.read, "{} of {}", part.read, whole.read);
}
