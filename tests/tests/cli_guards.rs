//! The command line refuses what would go wrong later, at start, through the real
//! binaries: a second writer on a database (while readers go on), a read of a database
//! that does not exist (nothing is created), a database a writer cannot write (the file and
//! the cause named), an HTTP endpoint (the WebSocket URL to use), a subnet the chain does
//! not have (the subnets it has named).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vesting_e2e::proc::{Proc, free_port, spawn, wait_for};
use vesting_e2e::{repo, vesting, vesting_bin};

/// A fresh folder for one test (removed first if a previous run left it).
fn folder(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vesting-guards-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `vesting args` to its end, or kills it after `limit` (None: it was still running,
/// i.e. not refused at start); (exit code, stdout, stderr).
fn vesting_within(args: &[&str], limit: Duration) -> Option<(i32, String, String)> {
    let dir = folder(&format!("out-{}", free_port()));
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(vesting_bin())
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("run the vesting binary");
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let result = status.map(|s| (s.code().unwrap_or(-1), read(&out), read(&err)));
    if result.is_none() {
        eprintln!(
            "vesting {args:?} still running after {limit:?}; its stderr:\n{}",
            read(&err)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `vesting args`, which must be refused at start (a non-zero exit within a minute);
/// its stderr.
fn refused(args: &[&str]) -> String {
    let (code, out, err) = vesting_within(args, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("vesting {args:?} was not refused at start"));
    assert_ne!(code, 0, "vesting {args:?} succeeded:\n{out}{err}");
    err
}

/// `vesting devnet` with scenario `tiny` at 20 ms blocks; its WebSocket URL.
fn devnet() -> (Proc, String) {
    let port = free_port();
    let p = spawn(&[
        "devnet",
        "--scenario",
        "tiny",
        "--port",
        &port.to_string(),
        "--block-time-ms",
        "20",
        "--archive",
    ]);
    wait_for("the devnet", Duration::from_secs(60), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (p, format!("ws://127.0.0.1:{port}"))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

#[test]
fn a_second_writer_is_refused_with_the_holders_pid_and_readers_go_on() {
    let (_devnet, url) = devnet();
    let dir = folder("lock");
    let db = dir.join("v.db");
    let ingest = |extra: &[&str]| {
        let mut a = vec![
            "ingest",
            "--netuid",
            "1",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
            "--from",
            "1",
        ];
        a.extend(extra);
        a.iter().map(|x| x.to_string()).collect::<Vec<_>>()
    };
    let args = ingest(&[]);
    let mut writer = Proc(
        Command::new(vesting_bin())
            .args(&args)
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = writer.0.id();
    // The writer ingests; the readers see its miners.
    let mut stats = serde_json::Value::Null;
    wait_for("miners in the database", Duration::from_secs(180), || {
        let (code, out, _) = vesting(&["stats", "--db", s(&db), "--json"]);
        stats = serde_json::from_str(&out).unwrap_or_default();
        code == 0 && stats["miners"].as_array().is_some_and(|m| !m.is_empty())
    });
    let lock = std::fs::read_to_string(dir.join("v.db.lock")).unwrap();
    assert!(lock.starts_with(&format!("{pid} ingest")), "{lock}");

    // Every other writer is refused at start, naming the database, the holder and the fix.
    let db_shown = db.canonicalize().unwrap().display().to_string();
    let api = format!("127.0.0.1:{}", free_port());
    let owned = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let dotted = format!("{}/./v.db", dir.display());
    for args in [
        ingest(&[]),
        ingest(&["--until", "5"]),
        owned(&[
            "backfill",
            "--netuid",
            "1",
            "--from",
            "1",
            "--no-follow",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
        ]),
        // Another spelling of the same file is the same database.
        owned(&[
            "run",
            "--netuid",
            "1",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            &dotted,
            "--api",
            &api,
        ]),
    ] {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = refused(&a);
        assert!(
            err.contains(&db_shown)
                && err.contains(&format!("pid {pid} (`vesting ingest`)"))
                && err.contains("another --db"),
            "vesting {a:?}:\n{err}"
        );
    }
    assert!(
        writer.0.try_wait().unwrap().is_none(),
        "the first writer still runs"
    );

    // Readers are not blocked by the writer.
    let hotkey = stats["miners"][0]["hotkey"].as_str().unwrap().to_string();
    for args in [
        vec!["policy", "list", "--json"],
        vec!["policy", "shadow"],
        vec!["replay"],
        vec!["explain", &hotkey],
        vec!["miner", &hotkey],
    ] {
        let mut a = args.clone();
        a.extend(["--db", s(&db)]);
        let (code, out, err) = vesting(&a);
        assert_eq!(code, 0, "vesting {a:?} beside a writer:\n{out}{err}");
    }

    // A killed writer leaves no stale lock: the next one starts and finishes.
    writer.0.kill().unwrap(); // SIGKILL
    writer.0.wait().unwrap();
    let last = stats["last_block"].as_u64().unwrap();
    let until = (last + 5).to_string();
    let args = ingest(&["--until", &until]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) =
        vesting_within(&a, Duration::from_secs(120)).expect("the next writer finishes");
    assert_eq!(code, 0, "after SIGKILL of the writer:\n{out}{err}");
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn read_commands_refuse_a_missing_database_and_create_nothing() {
    let dir = folder("missing");
    let db = dir.join("typo.db");
    let weights = dir.join("weights.json");
    std::fs::write(
        &weights,
        r#"{"uids":[0],"weights":[1.0],"hotkeys":["5Abc"]}"#,
    )
    .unwrap();
    for args in [
        vec!["stats"],
        vec!["stats", "--json"],
        vec!["policy", "list"],
        vec!["policy", "shadow"],
        vec!["replay", "--all"],
        vec!["explain", "5Abc"],
        vec!["miner", "5Abc"],
        vec!["apply", "--file", s(&weights)],
    ] {
        let mut a = args.clone();
        a.extend(["--db", s(&db)]);
        let err = refused(&a);
        let shown = dir.canonicalize().unwrap().join("typo.db");
        assert!(
            err.contains(&format!("no database at {}", shown.display())) && err.contains("--db"),
            "vesting {a:?}:\n{err}"
        );
        assert!(!db.exists(), "vesting {a:?} created {}", db.display());
    }
    // The same through VESTING_DB, and the default (vesting.db in the current folder).
    let out = Command::new(vesting_bin())
        .args(["stats"])
        .env("VESTING_DB", &db)
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no database at"),
        "{err}"
    );
    let out = Command::new(vesting_bin())
        .args(["policy", "list"])
        .env_remove("VESTING_DB")
        .env_remove("VESTING_CONFIG")
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let default = dir.canonicalize().unwrap().join("vesting.db");
    assert!(
        !out.status.success() && err.contains(&format!("no database at {}", default.display())),
        "{err}"
    );
    assert!(!default.exists() && !db.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A folder on a read-only file system: a tmpfs mounted read-only (root may do that here),
/// holding what `fill` puts in it first; None where the test cannot mount.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn mount(name: &str, fill: impl FnOnce(&Path)) -> Option<ReadOnly> {
        let dir = folder(name);
        let ok = |args: &[&str]| {
            Command::new("mount")
                .args(args)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ok(&["-t", "tmpfs", "-o", "size=16m", "tmpfs", s(&dir)]) {
            eprintln!("cannot mount a tmpfs here: the read-only file system cases are skipped");
            return None;
        }
        let ro = ReadOnly(dir.clone());
        fill(&dir);
        assert!(ok(&["-o", "remount,ro", s(&dir)]), "remount read-only");
        Some(ro)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_writer_names_the_database_and_why_it_cannot_write_it() {
    // Nothing listens on this port: the refusals come before any chain access.
    let url = format!("ws://127.0.0.1:{}", free_port());
    let dir = folder("unwritable");
    let db = dir.join("no/such/folder/v.db");
    for cmd in ["ingest", "run", "backfill"] {
        let mut a = vec![
            cmd,
            "--netuid",
            "1",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
        ];
        if cmd == "backfill" {
            a.extend(["--from", "1"]);
        }
        let err = refused(&a);
        assert!(
            err.contains(&db.display().to_string())
                && err.contains("does not exist")
                && err.contains(&dir.join("no/such/folder").display().to_string()),
            "vesting {a:?}:\n{err}"
        );
    }
    // A policy change (a writer beside the service) says the same.
    let err = refused(&["policy", "activate", "default", "--db", s(&db)]);
    assert!(
        err.contains(&db.display().to_string()) && err.contains("does not exist"),
        "{err}"
    );
    assert!(
        !err.contains("Error code 14: unable to open database file: unable"),
        "{err}"
    );

    // A database on a read-only file system: writers are refused naming the file and the
    // cause; readers read it.
    let Some(ro) = ReadOnly::mount("ro", |d| {
        drop(vesting_host::store::Store::open(d.join("v.db")).unwrap());
    }) else {
        return;
    };
    let db = ro.0.join("v.db");
    for a in [
        vec![
            "ingest",
            "--netuid",
            "1",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
        ],
        vec![
            "run",
            "--netuid",
            "1",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
        ],
        vec!["policy", "activate", "default", "--db", s(&db)],
    ] {
        let err = refused(&a);
        assert!(
            err.contains(&db.display().to_string()) && err.contains("read-only"),
            "vesting {a:?}:\n{err}"
        );
    }
    for a in [
        vec!["stats", "--json", "--db", s(&db)],
        vec!["policy", "list", "--db", s(&db)],
    ] {
        let (code, out, err) = vesting(&a);
        assert_eq!(code, 0, "vesting {a:?} on a read-only disk:\n{out}{err}");
    }
    drop(ro);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_http_endpoint_is_refused_with_the_websocket_url() {
    let dir = folder("http");
    let db = dir.join("v.db");
    for (cmd, url, want) in [
        ("run", "http://127.0.0.1:9944", "use ws://127.0.0.1:9944"),
        (
            "ingest",
            "https://node.example:443",
            "use wss://node.example:443",
        ),
    ] {
        let api = format!("127.0.0.1:{}", free_port());
        let mut a = vec![
            cmd,
            "--netuid",
            "1",
            "--subtensor.chain_endpoint",
            url,
            "--db",
            s(&db),
        ];
        if cmd == "run" {
            a.extend(["--api", &api]);
        }
        let err = refused(&a);
        assert!(
            err.contains(url) && err.contains(want),
            "vesting {a:?}:\n{err}"
        );
    }
    // The network flag takes URLs too.
    let err = refused(&[
        "ingest",
        "--netuid",
        "1",
        "--subtensor.network",
        "http://10.1.2.3:9944",
        "--db",
        s(&db),
    ]);
    assert!(err.contains("use ws://10.1.2.3:9944"), "{err}");
    assert!(!db.exists(), "a refused start created the database");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_netuid_the_chain_does_not_have_is_refused_naming_its_subnets() {
    let (_devnet, url) = devnet();
    let dir = folder("netuid");
    let db = dir.join("v.db");
    let api = format!("127.0.0.1:{}", free_port());
    for a in [
        vec![
            "ingest",
            "--netuid",
            "77",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
        ],
        vec![
            "backfill",
            "--netuid",
            "77",
            "--from",
            "1",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
        ],
        vec![
            "run",
            "--netuid",
            "77",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
            "--api",
            &api,
        ],
    ] {
        let err = refused(&a);
        assert!(
            err.contains("no subnet 77") && err.contains("its subnets are 1") && err.contains(&url),
            "vesting {a:?}:\n{err}"
        );
        assert!(!db.exists(), "vesting {a:?} created the database");
    }
    // The subnet the chain has is accepted.
    let (code, out, err) = vesting_within(
        &[
            "ingest",
            "--netuid",
            "1",
            "--subtensor.chain_endpoint",
            &url,
            "--db",
            s(&db),
            "--from",
            "1",
            "--until",
            "3",
        ],
        Duration::from_secs(120),
    )
    .expect("ingest of an existing subnet finishes");
    assert_eq!(code, 0, "{out}{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
