//! The HTTP API under abuse, through the real `vesting run` on loopback: floods of idle and
//! slow-header connections (with a 256 open-file limit) leave `/health` answering; uploads
//! without the token are refused before their body is read (the answer arrives while the
//! client is still sending); every error status has a JSON body; a slow body gets 408; reads
//! keep flowing while a policy compiles. Speeds are printed, not asserted (beyond generous
//! bounds).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use vesting_e2e::CLASSIC_POLICY_WASM;
use vesting_e2e::ops::{
    Ops, Options, Raw, median_max_ms, read_response, request, rss_kib, timed_health,
};
use vesting_e2e::proc::{http_raw, wait_for};

const TOKEN: &str = "hardening-token";

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// An error answer: the status, a JSON content type and `{"error": "..."}`.
fn assert_json_error(r: &Raw, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{what}: content-type {:?}",
        r.header("content-type")
    );
    let v = json(&r.body);
    assert!(
        v["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: {v}"
    );
}

#[test]
fn idle_and_slow_header_floods_leave_health_answering() {
    // 256 open files: before, 300 idle sockets made /health unreachable.
    let ops = Ops::start(
        "http-floods",
        Options {
            config: "api_header_timeout_seconds = 3\napi_max_requests = 2\n\
                     api_request_timeout_seconds = 10\n",
            open_files: Some(256),
            ..Options::default()
        },
    );
    wait_for("/health", Duration::from_secs(60), || {
        timed_health(ops.api).0 == Some(200)
    });
    let mut before: Vec<Duration> = (0..20).map(|_| timed_health(ops.api).1).collect();

    // 500 idle connections and 200 that send their headers a line a second.
    let idle: Vec<TcpStream> = (0..500)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", ops.api)).ok())
        .collect();
    let mut slow: Vec<TcpStream> = (0..200)
        .filter_map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", ops.api)).ok()?;
            s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .ok()?;
            Some(s)
        })
        .collect();
    eprintln!(
        "flood: {} idle and {} slow-header connections open",
        idle.len(),
        slow.len()
    );
    let mut during = vec![];
    let mut statuses = vec![];
    for round in 0..8 {
        for s in &mut slow {
            let _ = s.write_all(format!("X-Slow-{round}: 1\r\n").as_bytes());
        }
        for _ in 0..5 {
            let (status, t) = timed_health(ops.api);
            statuses.push(status);
            during.push(t);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let (b50, bmax) = median_max_ms(&mut before);
    let (d50, dmax) = median_max_ms(&mut during);
    eprintln!(
        "/health latency: before the flood median {b50:.1} ms, max {bmax:.1} ms; during it \
         median {d50:.1} ms, max {dmax:.1} ms ({} requests)",
        during.len()
    );
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "/health during the flood: {statuses:?}"
    );
    assert!(dmax < 10_000.0, "a /health took {dmax:.0} ms");
    let evicted = ops.metric("vesting_http_connections_evicted_total");
    eprintln!("idle connections evicted to make room: {evicted}");
    assert!(
        evicted > 0.0,
        "700 connections over a 192 cap evict idle ones"
    );

    // The header timeout closes the idle and the slow connections the cap left open.
    let mut probe = idle.into_iter().last().expect("an idle connection");
    probe
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let closed =
        matches!(probe.read(&mut buf), Ok(0) | Err(_)) && t.elapsed() < Duration::from_secs(30);
    assert!(closed, "an idle connection is closed by the server");
    wait_for(
        "the flood's connections to close",
        Duration::from_secs(60),
        || ops.metric("vesting_http_connections") <= 2.0,
    );
    drop(slow);
    assert_eq!(timed_health(ops.api).0, Some(200));
}

/// Shedding and the request timeout, on a service of its own (not in the flood's
/// aftermath, where the open-file limit and evictions make the timing unreliable).
#[test]
fn stalled_bodies_shed_other_requests_then_time_out() {
    let ops = Ops::start(
        "http-shed",
        Options {
            config: "api_max_requests = 2\napi_request_timeout_seconds = 30\n",
            ..Options::default()
        },
    );
    wait_for("/health", Duration::from_secs(60), || {
        timed_health(ops.api).0 == Some(200)
    });
    // Two requests whose bodies stall hold api_max_requests = 2 (`/health` counts them):
    // others are shed at once (503, JSON, Retry-After), /health still answers; after the
    // request timeout (408) the API serves again.
    let stall = || -> Vec<TcpStream> {
        (0..2)
            .map(|_| {
                let mut s = TcpStream::connect(("127.0.0.1", ops.api)).unwrap();
                s.write_all(
                    b"POST /weights/apply HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \
                      application/json\r\nContent-Length: 100\r\n\r\n{",
                )
                .unwrap();
                s
            })
            .collect()
    };
    let in_progress = || {
        let (_, body) = ops.get("/health");
        json(&body)["api"]["requests_in_progress"]
            .as_u64()
            .unwrap_or_else(|| panic!("/health has no api.requests_in_progress: {body}"))
    };
    // CI once saw every probe answered 200 for 20 s after the stalled requests were sent
    // (not reproduced here): each try now first waits until /health counts both as in
    // progress, and says what the stalled sockets got when it does not.
    let mut tries = vec![];
    let stalled = loop {
        let stalled = stall();
        let t = Instant::now();
        let mut held = in_progress();
        while held < 2 && t.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(100));
            held = in_progress();
        }
        if held >= 2 {
            break stalled;
        }
        let got: Vec<String> = stalled
            .into_iter()
            .map(
                |mut s| match read_response(&mut s, Duration::from_millis(200)) {
                    Some(r) => format!("{} {}", r.status, r.body),
                    None => "nothing".into(),
                },
            )
            .collect();
        tries.push(format!(
            "{held} in progress after 15 s; the stalled sockets got {got:?}"
        ));
        eprintln!("shed test: {}", tries.last().unwrap());
        assert!(
            tries.len() < 3,
            "the stalled requests never held both slots: {tries:?}"
        );
    };
    // Both slots are held: a request now is shed at once.
    let t = Instant::now();
    let shed = TcpStream::connect(("127.0.0.1", ops.api)).and_then(|mut s| {
        s.write_all(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        Ok(read_response(&mut s, Duration::from_secs(10)))
    });
    let shed = match shed {
        Ok(Some(r)) => r,
        other => panic!(
            "no answer to a request past api_max_requests: {:?}",
            other.map(|r| r.map(|r| r.status))
        ),
    };
    assert_json_error(&shed, 503, "a request past api_max_requests");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "shed at once, not queued: {:?}",
        t.elapsed()
    );
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(timed_health(ops.api).0, Some(200));
    for mut s in stalled {
        let r = read_response(&mut s, Duration::from_secs(60)).expect("an answer");
        assert_json_error(&r, 408, "a stalled body");
    }
    wait_for("the API to serve again", Duration::from_secs(10), || {
        ops.get("/stats").0 == 200
    });
    assert!(ops.metric("vesting_http_requests_shed_total") >= 1.0);
    // The metrics request itself holds the only slot in use.
    assert_eq!(ops.metric("vesting_http_requests_in_progress"), 1.0);
}
#[test]
fn refusals_before_the_body_json_errors_timeouts_and_reads_during_a_compile() {
    let cache =
        std::env::temp_dir().join(format!("vesting-hardening-cache-{}", std::process::id()));
    let ops = Ops::start(
        "http-refusals",
        Options {
            config: &format!("api_token = \"{TOKEN}\"\napi_request_timeout_seconds = 5\n"),
            // A fresh compile cache: the policy below is compiled, not loaded.
            env: vec![("VESTING_CACHE_DIR", cache.display().to_string())],
            ..Options::default()
        },
    );
    wait_for("/health", Duration::from_secs(60), || {
        timed_health(ops.api).0 == Some(200)
    });

    // 30 uploads of 16 MB without the token, held open: each is refused before its body is
    // read (401 while the client still has most of it to send), and memory stays flat.
    let rss_before = rss_kib(ops.pid());
    let len: usize = 16_000_000;
    let chunk = vec![0u8; 64 << 10];
    let mut held = vec![];
    for i in 0..30 {
        let mut s = TcpStream::connect(("127.0.0.1", ops.api)).unwrap();
        let auth = if i % 2 == 0 {
            String::new()
        } else {
            "Authorization: Bearer wrong-token\r\n".into()
        };
        s.write_all(
            format!(
                "POST /policy/install HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: \
                 application/wasm\r\nContent-Length: {len}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        s.write_all(&chunk).unwrap();
        let r = read_response(&mut s, Duration::from_secs(30)).expect("an answer before the body");
        assert_json_error(&r, 401, "a policy upload without the token");
        let sent = chunk.len();
        assert!(sent < len, "answered after {sent} of {len} bytes");
        held.push(s);
    }
    let rss_held = rss_kib(ops.pid());
    eprintln!(
        "30 tokenless 16 MB uploads held open: resident memory {} MiB -> {} MiB; each \
         answered 401 after 64 KiB of its body",
        rss_before / 1024,
        rss_held / 1024
    );
    assert!(
        rss_held < rss_before + 200 * 1024,
        "memory grew from {rss_before} KiB to {rss_held} KiB"
    );
    drop(held);
    // With the token, a component over the 16 MiB limit: 413 before its body is read.
    let mut s = TcpStream::connect(("127.0.0.1", ops.api)).unwrap();
    s.write_all(
        format!(
            "POST /policy/install HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Length: {}\r\n\r\n",
            17 << 20
        )
        .as_bytes(),
    )
    .unwrap();
    s.write_all(&chunk).unwrap();
    let r = read_response(&mut s, Duration::from_secs(30)).expect("an answer");
    assert_json_error(&r, 413, "an oversized component with the token");

    // Every error status has a JSON body.
    let get = |path: &str, extra: &str| {
        request(
            ops.api,
            &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close"),
            b"",
        )
        .expect("an answer")
    };
    assert_json_error(&get("/no/such/endpoint", ""), 404, "404");
    assert_json_error(&get("/weights/apply", ""), 405, "405");
    assert_json_error(&get("/miners/%FF", ""), 400, "an invalid path");
    assert_json_error(
        &get(&format!("/health?pad={}", "x".repeat(20_000)), ""),
        414,
        "414",
    );
    let many: String = (0..80).map(|i| format!("X-Header-{i}: {i}\r\n")).collect();
    assert_json_error(&get("/health", &many), 431, "431");
    let mut s = TcpStream::connect(("127.0.0.1", ops.api)).unwrap();
    s.write_all(
        b"POST /weights/apply HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 8000000\r\n\r\n{\"uids\": [",
    )
    .unwrap();
    let r = read_response(&mut s, Duration::from_secs(30)).expect("an answer");
    assert_json_error(&r, 413, "413 on /weights/apply, before the body");
    // A body a little over the limit, written whole before reading: 413 too.
    let big = format!(
        r#"{{"uids":[{}1],"weights":[],"hotkeys":[]}}"#,
        "1,".repeat(600_000)
    );
    let r = request(
        ops.api,
        &format!(
            "POST /weights/apply HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close",
            big.len()
        ),
        big.as_bytes(),
    )
    .expect("an answer");
    assert_json_error(&r, 413, "413 on /weights/apply, after 1 MiB");
    let r = request(
        ops.api,
        "POST /policy/rollback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close",
        b"",
    )
    .unwrap();
    assert_json_error(&r, 401, "401");
    // A body that never finishes: 408 after the request timeout.
    let mut s = TcpStream::connect(("127.0.0.1", ops.api)).unwrap();
    s.write_all(
        b"POST /weights/apply HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"uids\"",
    )
    .unwrap();
    let t = Instant::now();
    let r = read_response(&mut s, Duration::from_secs(60)).expect("an answer");
    eprintln!(
        "a stalled body: 408 after {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert_json_error(&r, 408, "a stalled body");
    assert!(ops.metric("vesting_http_request_timeouts_total") >= 1.0);

    // Reads keep flowing while a policy compiles and is checked.
    let wasm = std::fs::read(CLASSIC_POLICY_WASM).unwrap();
    let api = ops.api;
    let install = std::thread::spawn(move || {
        let t = Instant::now();
        let r = http_raw(
            api,
            "POST",
            "/policy/install",
            &format!("Authorization: Bearer {TOKEN}\r\nContent-Type: application/wasm\r\n"),
            &wasm,
        );
        (r, t.elapsed())
    });
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = (0, 0);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let ok =
                        http_raw(api, "GET", "/policies", "", b"").is_some_and(|(s, _)| s == 200);
                    n = (n.0 + 1, n.1 + usize::from(ok));
                }
                n
            })
        })
        .collect();
    let mut health = vec![];
    let mut health_ok = true;
    while !install.is_finished() {
        let (status, t) = timed_health(api);
        health_ok &= status == Some(200);
        health.push(t);
        std::thread::sleep(Duration::from_millis(50));
    }
    let (installed, took) = install.join().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads: Vec<(usize, usize)> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    let (h50, hmax) = median_max_ms(&mut health);
    eprintln!(
        "policy install took {:.1} s; meanwhile 8 readers made {} GET /policies ({} answered \
         200) and /health answered in median {h50:.1} ms, max {hmax:.1} ms ({} requests)",
        took.as_secs_f64(),
        reads.iter().map(|r| r.0).sum::<usize>(),
        reads.iter().map(|r| r.1).sum::<usize>(),
        health.len()
    );
    let (status, out) = installed.expect("the install answers");
    assert_eq!(status, 200, "{out}");
    assert!(
        health_ok,
        "/health answered other than 200 during the install"
    );
    assert!(
        reads.iter().all(|(n, ok)| n == ok),
        "every GET /policies answered 200 during the install: {reads:?}"
    );
    let _ = std::fs::remove_dir_all(&cache);
}
