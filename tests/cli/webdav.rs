//! Publishing to a real WebDAV server (wsgidav) on 127.0.0.1: complete files under their
//! final names only, and a server that is down is caught up with on the next run.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::Test;
use crate::minutes::{CANARY, assert_no_canary, decide_all, plant_canary};
use crate::smtp::free_port;

/// A wsgidav server serving `root`; stopped on drop.
struct WebDav(Child);

impl WebDav {
    fn start(port: u16, root: &Path) -> Self {
        let child = Command::new("python3")
            .args([
                "-m",
                "wsgidav.server.server_cli",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--auth",
                "anonymous",
                "--no-config",
                "-q",
                "--root",
            ])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "wsgidav is needed (pip install wsgidav cheroot; .ci/run installs it)",
            );
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "wsgidav did not start");
            thread::sleep(Duration::from_millis(50));
        }
        Self(child)
    }
}

impl Drop for WebDav {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out.sort();
    out
}

#[test]
fn publishes_complete_files_to_webdav_and_catches_up_after_an_outage() {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let t = Test::example();
    plant_canary(&t);
    let config = fs::read_to_string(t.path("council.toml")).unwrap();
    let config = config.replace(
        "target = \"dir:outbox/public\"",
        &format!("target = \"webdav+http://127.0.0.1:{port}/kkr-hovedstaden/\""),
    );
    assert!(config.contains("webdav+http"));
    t.write("council.toml", config);

    let server = WebDav::start(port, root.path());
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let agenda = root.path().join("kkr-hovedstaden/2027-01-28/dagsorden-offentlig.pdf");
    assert_eq!(
        fs::read(&agenda).unwrap(),
        fs::read(t.path("outbox/2027-01-28/dagsorden-offentlig.pdf")).unwrap()
    );
    for site in ["index.html", "feed.atom", "meetings.json"] {
        assert!(root.path().join("kkr-hovedstaden").join(site).exists(), "{site}");
    }

    // The server goes down before the minutes: nothing half-written, a retry later.
    drop(server);
    decide_all(&t);
    let out = t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 3);
    assert!(
        crate::harness::stderr(&out).contains("kunne ikke publicere"),
        "{}",
        crate::harness::stderr(&out)
    );
    let minutes = root.path().join("kkr-hovedstaden/2027-01-28/referat-offentlig.pdf");
    assert!(!minutes.exists());

    let _server = WebDav::start(port, root.path());
    t.must(&["run", "--once", "--now", "2027-01-28T12:10"], 0);
    assert_eq!(
        fs::read(&minutes).unwrap(),
        fs::read(t.path("outbox/2027-01-28/referat-offentlig.pdf")).unwrap(),
        "complete"
    );
    let all = files(root.path());
    assert!(
        all.iter().all(|f| !f.to_string_lossy().contains(".kkr-upload")),
        "no temporary files left: {all:?}"
    );
    assert_no_canary(&all);
    assert!(
        !fs::read_to_string(root.path().join("kkr-hovedstaden/meetings.json"))
            .unwrap()
            .contains(CANARY)
    );
}
