//! One writer per database: `vesting run`, `ingest` and `backfill` hold an exclusive OS
//! advisory lock on `<db>.lock` (next to the database, holding the writer's pid) for as
//! long as they run. The OS drops the lock when the process ends however it ends (even
//! SIGKILL), so a killed writer never leaves a stale lock; the file itself stays (removing
//! it would let two writers lock two different files). Readers never touch it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock of a database, held until dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// The database's real path: every spelling of it (relative, `./`, through a symbolic
/// link) names the same lock. A file not created yet: its folder's real path.
fn canonical(db: &Path) -> PathBuf {
    if let Ok(p) = db.canonicalize() {
        return p;
    }
    match (folder(db).canonicalize(), db.file_name()) {
        (Ok(f), Some(name)) => f.join(name),
        _ => db.to_path_buf(),
    }
}

/// The lock file of a database: `<db>.lock`, next to the database's real path.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut s = canonical(db).into_os_string();
    s.push(".lock");
    PathBuf::from(s)
}

/// The database path as the messages name it: its real path, else absolute.
pub fn shown(db: &Path) -> String {
    let c = canonical(db);
    if c.is_absolute() {
        return c.display().to_string();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(db).display().to_string(),
        Err(_) => db.display().to_string(),
    }
}

/// The folder a database lives in ("." for a bare file name).
fn folder(db: &Path) -> &Path {
    match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Why a database cannot be written, from the I/O error of writing at or next to it.
pub fn cause(db: &Path, at: &Path, e: &std::io::Error) -> String {
    let db_shown = shown(db);
    match e.kind() {
        ErrorKind::ReadOnlyFilesystem => format!(
            "cannot write database {db_shown}: the file system is read-only ({}: {e}); \
             remount it read-write or point --db at a writable disk",
            at.display()
        ),
        ErrorKind::PermissionDenied => format!(
            "cannot write database {db_shown}: permission denied on {} ({e}); run as a user \
             who may write there, or point --db at a writable location",
            at.display()
        ),
        ErrorKind::NotFound => format!(
            "cannot create database {db_shown}: the folder {} does not exist; create it, or \
             point --db at a file in an existing folder",
            shown(folder(db))
        ),
        ErrorKind::NotADirectory => format!(
            "cannot create database {db_shown}: {} is not a folder; point --db at a file in \
             an existing folder",
            shown(folder(db))
        ),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => format!(
            "cannot write database {db_shown}: the disk is full ({}: {e}); free space or point \
             --db at another disk",
            at.display()
        ),
        _ => format!("cannot write database {db_shown}: {}: {e}", at.display()),
    }
}

/// Checks that the database (and its WAL files, if present) can be opened for writing,
/// with a message naming the file and the cause if not.
pub fn check_writable(db: &Path) -> anyhow::Result<()> {
    if db.is_dir() {
        anyhow::bail!(
            "cannot open database {}: it is a folder; point --db at a file",
            shown(db)
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut s = db.as_os_str().to_os_string();
        s.push(suffix);
        let f = PathBuf::from(s);
        if f.exists()
            && let Err(e) = OpenOptions::new().write(true).open(&f)
        {
            anyhow::bail!("{}", cause(db, &f, &e));
        }
    }
    Ok(())
}

/// Takes the exclusive writer lock of `db` for `command` (run, ingest, backfill), or says
/// who holds it and what to do.
pub fn acquire(db: &Path, command: &str) -> anyhow::Result<WriterLock> {
    let path = lock_path(db);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("{}", cause(db, &path, &e)))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let mut words = text.split_whitespace();
            let holder = match (words.next(), words.next()) {
                (Some(pid), Some(cmd)) => format!("pid {pid} (`vesting {cmd}`)"),
                (Some(pid), None) => format!("pid {pid}"),
                _ => "another process (pid not written yet)".to_string(),
            };
            let pid = text.split_whitespace().next().unwrap_or("<pid>");
            anyhow::bail!(
                "database {} is already being written by {holder}, which holds {}; one \
                 writer (`vesting run`, `ingest` or `backfill`) per database: stop it first \
                 (kill {pid}), or give this one another --db. Readers (stats, explain, \
                 replay, miner, policy list) may run beside it.",
                shown(db),
                shown(&path)
            );
        }
        Err(TryLockError::Error(e)) => {
            anyhow::bail!(
                "cannot lock database {}: {}: {e}",
                shown(db),
                path.display()
            );
        }
    }
    // Locked: nobody else writes the file now.
    let pid = format!("{} {command}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(pid.as_bytes()))
        .and_then(|()| file.flush())
        .map_err(|e| anyhow::anyhow!("{}", cause(db, &path, &e)))?;
    check_writable(db)?;
    Ok(WriterLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_and_released_on_drop() {
        let dir = std::env::temp_dir().join(format!("vesting-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("v.db");
        let held = acquire(&db, "run").unwrap();
        let e = acquire(&db, "ingest").unwrap_err().to_string();
        assert!(
            e.contains(&db.display().to_string())
                && e.contains(&format!("pid {} (`vesting run`)", std::process::id()))
                && e.contains("another --db"),
            "{e}"
        );
        drop(held);
        let again = acquire(&db, "ingest").unwrap();
        drop(again);
        let e = acquire(&dir.join("no/such/dir/v.db"), "run")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("does not exist") && e.contains("no/such/dir"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
