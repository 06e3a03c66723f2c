//! The monitor's supervisor (on the service's background thread): runs the monitor, and
//! when it fails, says so at once (error level, what to do), counts it, and starts a new
//! one with backoff if the cause can pass (disk full, read-only or locked database, I/O,
//! the node gone); a new monitor resumes at the store's checkpoint. A failure retrying
//! cannot fix stops it; `/health` then answers 503 with the reason.

use super::system::Metrics;
use crate::ingest::monitor::MonitorState;
use crate::ingest::{IngestError, Monitor, MonitorConfig, StopHandle};
use crate::policy::{Param, Policy};
use crate::registry::Registry;
use crate::store::StoreError;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a new monitor is made of.
pub(super) struct MonitorParts {
    pub cfg: MonitorConfig,
    pub registry: Arc<Registry>,
    pub params: Vec<Param>,
    pub fallback: Arc<Policy>,
    pub metrics: Arc<Metrics>,
    /// Longest wait between restarts.
    pub max_backoff: Duration,
}

impl MonitorParts {
    pub fn build(&self) -> Result<Monitor, IngestError> {
        super::wiring::monitor(
            self.cfg.clone(),
            &self.registry,
            self.params.clone(),
            self.fallback.clone(),
            self.metrics.monitor.clone(),
        )
    }
}

/// Whether a failure can pass by itself, and what the operator should do about it.
pub(super) fn diagnose(e: &IngestError) -> (bool, &'static str) {
    use rusqlite::ErrorCode as C;
    if let IngestError::Store(StoreError::Sqlite {
        source: rusqlite::Error::SqliteFailure(f, _),
        ..
    }) = e
    {
        return match f.code {
            C::DiskFull => (
                true,
                "free space on the database's disk (or raise the volume's quota)",
            ),
            C::ReadOnly => (
                true,
                "make the database, its -wal and -shm files and their folder writable by \
                 this user (and check the volume is not mounted read-only)",
            ),
            C::DatabaseBusy | C::DatabaseLocked => (
                true,
                "another process holds the database's write lock: stop it or let it finish",
            ),
            C::SystemIoFailure | C::CannotOpen => (
                true,
                "check the database's disk and path (free space, permissions, the kernel log)",
            ),
            C::OutOfMemory => (true, "the machine is out of memory"),
            C::DatabaseCorrupt | C::NotADatabase => (
                false,
                "the database is damaged: stop the service and restore it from a backup \
                 (see README, Running it in production)",
            ),
            _ => (
                false,
                "fix the cause, then restart the service (it resumes at the checkpoint)",
            ),
        };
    }
    if e.is_transient() {
        return (
            true,
            "check that the node is up and reachable at the configured endpoint",
        );
    }
    match e {
        IngestError::Config(_) => (false, "fix the configuration, then restart the service"),
        IngestError::Corrupt(_) => (
            false,
            "the database is inconsistent: restore it from a backup (see README, Running it \
             in production)",
        ),
        _ => (
            false,
            "fix the cause, then restart the service (it resumes at the checkpoint)",
        ),
    }
}

/// Runs monitors until `stop` is set or one fails for good; the thread's result.
pub(super) fn supervise(
    parts: MonitorParts,
    first: Monitor,
    stop: Arc<AtomicBool>,
    current: Arc<Mutex<Option<StopHandle>>>,
) -> Result<(), String> {
    let m = parts.metrics.clone();
    let fail = |e: String| {
        m.monitor.set_state(MonitorState::Stopped);
        e
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the monitor's runtime: {e}")))?;
    let mut fault = TestFault::from_env();
    let mut first = Some(first);
    let mut backoff = Duration::from_secs(1);
    loop {
        if stop.load(Ordering::SeqCst) {
            m.monitor.set_state(MonitorState::Stopped);
            return Ok(());
        }
        let monitor = match first.take() {
            Some(mon) => Ok(mon),
            None => parts.build(),
        };
        let blocks_before = m.monitor.blocks.load(Ordering::Relaxed);
        let result = match monitor {
            Ok(mut mon) => {
                fault.apply(&mon);
                if let Some(b) = mon.last_block() {
                    m.monitor.last_block.store(b, Ordering::Relaxed);
                }
                *current.lock().unwrap_or_else(|e| e.into_inner()) = Some(mon.stop_handle());
                // Checked after publishing the handle: a stop requested meanwhile is seen
                // either here or through the handle.
                if stop.load(Ordering::SeqCst) {
                    m.monitor.set_state(MonitorState::Stopped);
                    return Ok(());
                }
                let r = rt.block_on(mon.run());
                *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
                r
            }
            Err(e) => Err(e),
        };
        let e = match result {
            Ok(()) => {
                m.monitor.set_state(MonitorState::Stopped);
                return Ok(());
            }
            Err(e) => e,
        };
        if m.monitor.blocks.load(Ordering::Relaxed) > blocks_before {
            backoff = Duration::from_secs(1);
        }
        let (retry, advice) = diagnose(&e);
        m.monitor.failed(&e.to_string());
        if !retry {
            tracing::error!(
                "the monitor stopped: {e}. {advice}. Until then /health answers 503 and \
                 POST /weights/apply refuses (unless ?allow_stale=true)"
            );
            return Err(fail(e.to_string()));
        }
        m.monitor.set_state(MonitorState::Retrying);
        m.monitor_restarts.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            "the monitor cannot go on: {e}. {advice}; retrying in {backoff:?}, it resumes \
             at the checkpoint. /health answers 503 once the store is more than \
             max_lag_blocks behind or the latest decision older than max_decision_age_seconds"
        );
        let until = std::time::Instant::now() + backoff;
        while std::time::Instant::now() < until {
            if stop.load(Ordering::SeqCst) {
                m.monitor.set_state(MonitorState::Stopped);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        backoff = (backoff * 2).min(parts.max_backoff);
    }
}

/// A fault injected for tests (no root, no mount): with `VESTING_TEST_DB_FAULT=<file>`,
/// while that file exists each monitor the supervisor starts writes through a connection
/// limited by its content: `+N` (the database may grow N pages past its size when the
/// fault was first seen), `N` (at most N pages), or `readonly`. SQLite then fails the
/// monitor's writes as on a full disk (`SQLITE_FULL`) or a read-only database. Removing the
/// file clears the fault at the next restart.
struct TestFault {
    file: Option<PathBuf>,
    /// The page limit fixed when the fault was first seen.
    pages: Option<u64>,
}

impl TestFault {
    fn from_env() -> Self {
        TestFault {
            file: std::env::var_os("VESTING_TEST_DB_FAULT").map(PathBuf::from),
            pages: None,
        }
    }

    fn apply(&mut self, monitor: &Monitor) {
        let Some(file) = &self.file else { return };
        let Ok(text) = std::fs::read_to_string(file) else {
            self.pages = None;
            return;
        };
        let conn = monitor.store().conn();
        let text = text.trim();
        let r = if text == "readonly" {
            conn.pragma_update(None, "query_only", true)
        } else {
            let count: rusqlite::Result<i64> =
                conn.query_row("PRAGMA page_count", [], |r| r.get(0));
            let pages = match (self.pages, text.strip_prefix('+'), count) {
                (Some(p), _, _) => Some(p),
                (None, Some(n), Ok(c)) => n.parse::<u64>().ok().map(|n| c as u64 + n),
                (None, None, _) => text.parse::<u64>().ok(),
                (None, Some(_), Err(_)) => None,
            };
            self.pages = pages;
            match pages {
                Some(p) => conn
                    .query_row(&format!("PRAGMA max_page_count = {p}"), [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .map(|_| ()),
                None => Ok(()),
            }
        };
        tracing::warn!(
            "test fault {text:?} from {} on the monitor's connection: {r:?}",
            file.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> IngestError {
        IngestError::Store(StoreError::Sqlite {
            path: "v.db".into(),
            source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        })
    }

    #[test]
    fn failures_that_can_pass_are_retried_with_advice() {
        use rusqlite::ffi;
        for (code, advice) in [
            (ffi::SQLITE_FULL, "free space"),
            (ffi::SQLITE_READONLY, "writable"),
            (ffi::SQLITE_BUSY, "write lock"),
            (ffi::SQLITE_LOCKED, "write lock"),
            (ffi::SQLITE_IOERR, "disk"),
        ] {
            let (retry, says) = diagnose(&sqlite(code));
            assert!(retry, "{code}");
            assert!(says.contains(advice), "{code}: {says}");
        }
        for e in [
            sqlite(rusqlite::ffi::SQLITE_CORRUPT),
            IngestError::Config("database tracks netuid 2".into()),
            IngestError::Corrupt("a gap".into()),
        ] {
            let (retry, says) = diagnose(&e);
            assert!(!retry, "{e}");
            assert!(!says.is_empty());
        }
    }
}
