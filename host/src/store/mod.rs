//! The store: owns the SQLite database (rusqlite, bundled; WAL), its versioned migrations,
//! the atomic write of one processed block with the checkpoint, and the queries the
//! service needs. Amounts are u64 rao stored as INTEGER by bit-cast to i64 ([`to_sql`] /
//! [`from_sql`]), so every u64 round-trips losslessly.

pub mod migrations;
mod policies;
mod query;
mod records;
mod write;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

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
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it to the latest schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(|e| sqlite(&path, e))?;
        Self::init(conn, path)
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(|e| sqlite(Path::new(":memory:"), e))?;
        Self::init(conn, PathBuf::from(":memory:"))
    }

    /// Opens an existing database read-only (for the service's readers while the monitor writes).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sqlite(&path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| sqlite(&path, e))?;
        let s = Store { conn, path };
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

    fn init(mut conn: Connection, path: PathBuf) -> Result<Self> {
        // A file that is not SQLite fails here with "file is not a database".
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| sqlite(&path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
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
        Ok(Store { conn, path })
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

fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod policies_tests;
#[cfg(test)]
mod tests;
