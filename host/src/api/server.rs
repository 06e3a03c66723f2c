//! The API's connections (hyper HTTP/1.1): a request's headers must arrive within
//! `api_header_timeout_seconds` of the connection's opening or of its previous response
//! (which also closes idle keep-alive connections); at most `api_max_connections` are open
//! (kept under the process's open-file limit), and past it the oldest connection that has
//! no request in progress is closed to make room, so a flood of idle or slow connections
//! cannot lock out `/health`.

use super::router;
use crate::service::VestingSystem;
use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// File descriptors kept for the rest of the process (database, node, policy cache).
const FD_RESERVE: usize = 64;

/// Headers hyper parses before answering a bare 431.
const HYPER_MAX_HEADERS: usize = 512;

/// The open connections, oldest first.
#[derive(Default)]
struct Table {
    next: u64,
    open: BTreeMap<u64, Entry>,
}

struct Entry {
    /// Requests in progress on the connection.
    busy: Arc<AtomicUsize>,
    /// Closes it (evicted).
    close: Arc<Notify>,
}

/// A slot for a new connection: the oldest connection with no request in progress is
/// closed if `max` are open; None when every open one is busy.
fn admit(
    table: &Mutex<Table>,
    max: usize,
    system: &VestingSystem,
) -> Option<(u64, Arc<AtomicUsize>, Arc<Notify>)> {
    let mut t = table.lock().unwrap_or_else(|e| e.into_inner());
    let http = &system.metrics().http;
    if t.open.len() >= max {
        let idle = t
            .open
            .iter()
            .find(|(_, e)| e.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        match idle.and_then(|id| t.open.remove(&id)) {
            Some(e) => {
                e.close.notify_one();
                http.evicted.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                http.refused.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
    }
    let id = t.next;
    t.next += 1;
    let (busy, close) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    t.open.insert(
        id,
        Entry {
            busy: busy.clone(),
            close: close.clone(),
        },
    );
    Some((id, busy, close))
}

/// Counts a request in progress on its connection while alive.
struct Busy(Arc<AtomicUsize>);
impl Busy {
    fn new(b: &Arc<AtomicUsize>) -> Self {
        b.fetch_add(1, Ordering::AcqRel);
        Busy(b.clone())
    }
}
impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The soft limit on open files (Linux: /proc/self/limits), if known.
fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The connection cap: the configured one, under the open-file limit less a reserve.
fn max_connections(configured: usize) -> usize {
    let cap = configured.max(1);
    match open_files_limit() {
        Some(fds) => cap.min(fds.saturating_sub(FD_RESERVE).max(8)),
        None => cap,
    }
}

/// Resolves when the server starts closing.
async fn closed(rx: &mut watch::Receiver<bool>) {
    loop {
        let now = *rx.borrow_and_update();
        if now {
            return;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Serves the API on `addr` until `shutdown` resolves; connections still open then get a
/// graceful close (requests in progress finish, for up to the request timeout).
pub async fn serve(
    system: Arc<VestingSystem>,
    addr: std::net::SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let cfg = system.config();
    let max = max_connections(cfg.api_max_connections);
    let header_timeout = Duration::from_secs(cfg.api_header_timeout_seconds.max(1));
    let grace = Duration::from_secs(cfg.api_request_timeout_seconds.max(1));
    tracing::info!(
        "HTTP API on http://{} (at most {max} connections, {} requests in progress; \
         headers within {header_timeout:?})",
        listener.local_addr()?,
        cfg.api_max_requests
    );
    let app = router(system.clone());
    let table = Arc::new(Mutex::new(Table::default()));
    let (closing_tx, closing) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_accept_warning: Option<std::time::Instant> = None;
    loop {
        let (stream, _peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, say so at most
                    // once a minute.
                    if last_accept_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                        tracing::warn!("HTTP API: cannot accept a connection: {e}");
                        last_accept_warning = Some(std::time::Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some((id, busy, close)) = admit(&table, max, &system) else {
            // Every open connection is busy with a request: this one is closed at once.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let busy = Busy::new(&busy);
            let app = app.clone();
            async move {
                let r = app.oneshot(req.map(Body::new)).await;
                // Busy until the answer's body is sent (or dropped), not only until the
                // handler returned: a connection writing its answer is never evicted.
                r.map(|res| {
                    res.map(|body| {
                        Body::new(body.map_frame(move |f| {
                            let _sending = &busy;
                            f
                        }))
                    })
                })
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            // Far above `guard::MAX_HEADERS`: the guard answers 431 in JSON, hyper only
            // past this (bare).
            .max_headers(HYPER_MAX_HEADERS)
            .serve_connection(TokioIo::new(stream), service);
        let (table, system, mut closing) = (table.clone(), system.clone(), closing.clone());
        system
            .metrics()
            .http
            .connections
            .fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("HTTP connection: {e}");
                    }
                }
                // Evicted to make room: dropping the connection closes it.
                _ = close.notified() => {}
                _ = closed(&mut closing) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(grace, conn).await;
                }
            }
            table
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .open
                .remove(&id);
            system
                .metrics()
                .http
                .connections
                .fetch_sub(1, Ordering::Relaxed);
        });
    }
    let _ = closing_tx.send(true);
    // Give open connections the grace period to finish.
    let deadline = tokio::time::Instant::now() + grace;
    while system.metrics().http.connections.load(Ordering::Relaxed) > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
