//! The store: owns the SQLite database (rusqlite, bundled; WAL), its versioned migrations,
//! the atomic write of one processed block with the checkpoint, and the queries the
//! service needs. Amounts are u64 rao stored as INTEGER by bit-cast to i64 ([`to_sql`] /
//! [`from_sql`]), so every u64 round-trips losslessly.

mod history;
pub mod migrations;
mod params;
mod policies;
mod query;
mod records;
mod write;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, MAIN_DB, OpenFlags, OptionalExtension};

pub use params::{ParamState, describe_params, params_diff, params_json};
pub use policies::{
    DecisionRecord, NewPolicy, PolicyLogRow, PolicyRow, PolicyState, ShadowDiff, ShadowRecord,
    ShadowRun,
};
pub use query::{EpochRow, FlowRow, HolderStats, MinerHistoryRow, MultiplierRow};
pub use records::*;

/// Errors of the store, each naming the database and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path}: migrating the schema failed: {source}")]
    Migration {
        path: String,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error("database {path}: {message}")]
    Invalid { path: String, message: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Bytes the WAL file is truncated to after a checkpoint resets it (64 MiB).
pub const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// u64 -> i64 by bit-cast (lossless; values above i64::MAX become negative in SQL).
pub fn to_sql(v: u64) -> i64 {
    v as i64
}

/// i64 -> u64 by bit-cast, the inverse of [`to_sql`].
pub fn from_sql(v: i64) -> u64 {
    v as u64
}

/// The last processed finalized block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub block: u64,
    pub hash: String,
}

/// A handle to the database. One writer (the monitor); readers open their own handle.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The last ledger step written (the next step's compression dictionary).
    last_step: history::LastStep,
}

impl Store {
    /// Opens (creating if needed) the database at `path` for writing and migrates it to
    /// the latest schema. A database that cannot be written is an error naming the file
    /// and the cause (SQLite would otherwise open it read-only and fail at the first write).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(|e| open_error(&path, e))?;
        if conn.is_readonly(MAIN_DB).unwrap_or(false) {
            let cause = unwritable(&path).unwrap_or_else(|| {
                "SQLite can open it only read-only; check the file's permissions and the disk"
                    .into()
            });
            return Err(failure(&path, rusqlite::ffi::SQLITE_READONLY, cause));
        }
        Self::init(conn, path.clone()).map_err(|e| match e {
            StoreError::Sqlite { source, .. } => open_error(&path, source),
            e => e,
        })
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(|e| sqlite(Path::new(":memory:"), e))?;
        Self::init(conn, PathBuf::from(":memory:"))
    }

    /// Opens an existing database read-only (for the service's readers while the monitor writes).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(failure(
                &path,
                rusqlite::ffi::SQLITE_CANTOPEN,
                "no such file (reading never creates a database)".into(),
            ));
        }
        let s = match Self::read_only(&path, false) {
            // A WAL database needs its -shm file, which SQLite cannot create on a read-only
            // file system: with no -wal file (nobody writes it; nobody can), the database
            // file is all there is and can be read as immutable.
            Err(StoreError::Sqlite { source, .. })
                if source.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen)
                    && !with_suffix(&path, "-wal").exists()
                    && read_only_file_system(&path) =>
            {
                Self::read_only(&path, true)?
            }
            Err(StoreError::Sqlite { source, .. })
                if source.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) =>
            {
                let why = unwritable(&path).unwrap_or_else(|| "check its permissions".into());
                return Err(failure(
                    &path,
                    rusqlite::ffi::SQLITE_CANTOPEN,
                    format!("cannot be read: {why}"),
                ));
            }
            r => r?,
        };
        let want = migrations::migrations().len();
        let have: i64 = s
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| sqlite(&s.path, e))?;
        if (have as usize) < want {
            return Err(s.invalid(format!(
                "schema version {have} is older than this build's {want}; open it read-write once to migrate"
            )));
        }
        Ok(s)
    }

    /// Opens read-only and reads the schema version (where SQLite first touches the file);
    /// `immutable`: as a file nothing changes (a read-only file system).
    fn read_only(path: &Path, immutable: bool) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = if immutable {
            let mut uri = String::from("file:");
            for c in path.display().to_string().chars() {
                match c {
                    '%' => uri.push_str("%25"),
                    '?' => uri.push_str("%3f"),
                    '#' => uri.push_str("%23"),
                    c => uri.push(c),
                }
            }
            uri.push_str("?immutable=1");
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
        } else {
            Connection::open_with_flags(path, flags)
        }
        .map_err(|e| sqlite(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| sqlite(path, e))?;
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
            .map_err(|e| sqlite(path, e))?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            last_step: Default::default(),
        })
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Self> {
        // A file that is not SQLite fails here with "file is not a database".
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| sqlite(&path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| sqlite(&path, e))?;
        // A catch-up batch grows the WAL to its size; after the checkpoint that resets it,
        // SQLite truncates the file back to this limit instead of keeping it forever.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(|e| sqlite(&path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| sqlite(&path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| sqlite(&path, e))?;
        migrations::all()
            .to_latest(&mut conn)
            .map_err(|source| StoreError::Migration {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Store {
            conn,
            path,
            last_step: Default::default(),
        })
    }

    /// The database path (":memory:" for in-memory stores).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw connection (read-only use by later layers; writes go through this module).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> StoreError {
        sqlite(&self.path, e)
    }

    pub(crate) fn invalid(&self, message: String) -> StoreError {
        StoreError::Invalid {
            path: self.path.display().to_string(),
            message,
        }
    }

    /// The last processed block, if any.
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.conn
            .query_row("SELECT block, hash FROM checkpoint WHERE id = 1", [], |r| {
                Ok(Checkpoint {
                    block: from_sql(r.get(0)?),
                    hash: r.get(1)?,
                })
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// A value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Binds this database to a chain and subnet on first use; refuses a different one later.
    pub fn bind(&self, genesis: &str, netuid: u16) -> Result<()> {
        for (key, value) in [
            ("genesis_hash", genesis.to_string()),
            ("netuid", netuid.to_string()),
        ] {
            match self.meta(key)? {
                Some(v) if v == value => {}
                Some(v) => {
                    return Err(self.invalid(format!(
                        "it tracks {key} {v}, not {value}; use another --db"
                    )));
                }
                None => {
                    self.conn
                        .execute(
                            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                            [key, &value],
                        )
                        .map_err(|e| self.err(e))?;
                }
            }
        }
        Ok(())
    }
}

/// An error opening a database for writing: when SQLite cannot open or write the file,
/// the same SQLite error with the cause as the file system tells it.
fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    let cannot = matches!(
        source.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::CannotOpen
                | rusqlite::ErrorCode::ReadOnly
                | rusqlite::ErrorCode::PermissionDenied
                | rusqlite::ErrorCode::DiskFull
                | rusqlite::ErrorCode::SystemIoFailure
        )
    );
    match (cannot.then(|| unwritable(path)).flatten(), &source) {
        (Some(cause), rusqlite::Error::SqliteFailure(code, _)) => StoreError::Sqlite {
            path: path.display().to_string(),
            source: rusqlite::Error::SqliteFailure(*code, Some(cause)),
        },
        _ => sqlite(path, source),
    }
}

/// An SQLite error of `code` with a message saying the cause: callers that classify
/// store errors by SQLite code (retry a read-only or missing file) still can.
fn failure(path: &Path, code: std::os::raw::c_int, cause: String) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(cause)),
    }
}

/// Why the database at `path` cannot be written, if the file system says so: its folder
/// is missing, it is a folder, or it (or its WAL files, or its folder) cannot be written.
fn unwritable(path: &Path) -> Option<String> {
    use std::io::ErrorKind;
    let folder = folder_of(path);
    let why = |at: &Path, e: std::io::Error| match e.kind() {
        ErrorKind::ReadOnlyFilesystem => format!(
            "cannot be written: the file system is read-only ({}: {e}); remount it read-write \
             or point --db at a writable disk",
            at.display()
        ),
        ErrorKind::PermissionDenied => format!(
            "cannot be written: permission denied on {} ({e}); run as a user who may write \
             there, or point --db at a writable location",
            at.display()
        ),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => format!(
            "cannot be written: the disk is full ({}: {e}); free space or point --db at \
             another disk",
            at.display()
        ),
        _ => format!("cannot be written: {}: {e}", at.display()),
    };
    if !folder.is_dir() {
        return Some(format!(
            "cannot be created: the folder {} does not exist; create it, or point --db at a \
             file in an existing folder",
            folder.display()
        ));
    }
    if path.is_dir() {
        return Some("is a folder, not a database file; point --db at a file".into());
    }
    for suffix in ["", "-wal", "-shm"] {
        let f = with_suffix(path, suffix);
        if f.exists()
            && let Err(e) = std::fs::OpenOptions::new().write(true).open(&f)
        {
            return Some(why(&f, e));
        }
    }
    // SQLite creates the database and its WAL files next to it: the folder must be writable.
    probe(folder).err().map(|e| why(folder, e))
}

/// The folder a database lives in ("." for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Whether a file can be created in `folder` (one is created and removed).
fn probe(folder: &Path) -> std::io::Result<()> {
    let probe = folder.join(format!(".vesting-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => std::fs::remove_file(&probe),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// `path` with a suffix appended (`-wal`, `-shm`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut f = path.as_os_str().to_os_string();
    f.push(suffix);
    PathBuf::from(f)
}

/// Whether the file system holding `path` is mounted read-only.
fn read_only_file_system(path: &Path) -> bool {
    probe(folder_of(path)).is_err_and(|e| e.kind() == std::io::ErrorKind::ReadOnlyFilesystem)
}

fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod params_tests;
#[cfg(test)]
mod policies_tests;
#[cfg(test)]
mod tests;
