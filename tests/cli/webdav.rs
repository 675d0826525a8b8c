//! Publishing to a real WebDAV server (wsgidav) on 127.0.0.1: complete files under their
//! final names only, and a server that is down is caught up with on the next run.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::{Test, daemon, wait_until};
use crate::minutes::{CANARY, assert_no_canary, decide_all, plant_canary};
use crate::smtp::free_port;
use crate::tls::{Certs, fixture, spawn_ready};

/// A wsgidav server serving `root`; stopped on drop.
struct WebDav(Child);

impl WebDav {
    fn start(port: u16, root: &Path) -> Self {
        let port_s = port.to_string();
        let args = [
            "--host",
            "127.0.0.1",
            "--port",
            &port_s,
            "--auth",
            "anonymous",
            "--no-config",
            "-q",
            "--root",
        ];
        Self::spawn(port, &args, Some(root))
    }

    /// A server that wants the user `kkr` with the password `hemmelig` (basic auth).
    fn start_with_login(port: u16, root: &Path, config_dir: &Path) -> Self {
        let config = config_dir.join("wsgidav.yaml");
        let yaml = format!(
            "host: 127.0.0.1\nport: {port}\nverbose: 1\nprovider_mapping:\n  \"/\": \"{}\"\nhttp_authenticator:\n  accept_basic: true\n  accept_digest: false\n  default_to_digest: false\nsimple_dc:\n  user_mapping:\n    \"*\":\n      \"kkr\":\n        password: \"hemmelig\"\n",
            root.display()
        );
        fs::write(&config, yaml).unwrap();
        Self::spawn(port, &["--config", config.to_str().unwrap()], None)
    }

    /// A server whose first `faults` PUTs fail (`mode`: `507`, or `reset`: the server dies
    /// half-way through the upload); see `tests/fixtures/webdav_faulty.py`.
    fn start_faulty(port: u16, root: &Path, mode: &str, faults: u32) -> Self {
        let script = crate::harness::repo().join("tests/fixtures/webdav_faulty.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg(root).arg(port.to_string()).arg(mode).arg(faults.to_string());
        Self::wait(port, cmd)
    }

    fn spawn(port: u16, args: &[&str], root: Option<&Path>) -> Self {
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "wsgidav.server.server_cli"]).args(args);
        if let Some(root) = root {
            cmd.arg(root);
        }
        Self::wait(port, cmd)
    }

    fn wait(port: u16, mut cmd: Command) -> Self {
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect(
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

/// wsgidav serving `root` behind a log of every request that reaches it, over HTTPS with
/// the test certificate when given `certs` (`tests/fixtures/webdav_logged.py`); stopped on
/// drop.
pub(crate) struct LoggedDav {
    child: Child,
    /// The port it listens on.
    pub(crate) port: u16,
    dir: tempfile::TempDir,
}

impl LoggedDav {
    /// Starts on a free loopback port.
    pub(crate) fn start(root: &Path, certs: Option<&Certs>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let mut cmd = Command::new("python3");
        cmd.arg(fixture("webdav_logged.py"))
            .arg(root)
            .arg(dir.path().join("requests"))
            .arg(&ready);
        if let Some(certs) = certs {
            cmd.arg(certs.cert()).arg(certs.key());
        }
        let (child, port) = spawn_ready(cmd, &ready);
        Self { child, port, dir }
    }

    /// The requests that reached the server, in order: `METHOD /path`.
    pub(crate) fn requests(&self) -> Vec<String> {
        let text =
            fs::read_to_string(self.dir.path().join("requests")).unwrap_or_default();
        text.lines().map(str::to_owned).collect()
    }
}

impl Drop for LoggedDav {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Points a workspace's `[publish]` at `url`, with `extra` lines after the target.
pub(crate) fn publish_to(t: &Test, url: &str, extra: &str) {
    let config = fs::read_to_string(t.path("council.toml")).unwrap();
    let line = config.lines().find(|l| l.starts_with("target = ")).unwrap().to_owned();
    t.write(
        "council.toml",
        config.replace(&line, &format!("target = \"webdav+{url}\"\n{extra}")),
    );
}

pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
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

#[test]
fn credentials_come_from_the_environment_and_a_refused_login_is_reported() {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let conf = tempfile::tempdir().unwrap();
    let _server = WebDav::start_with_login(port, root.path(), conf.path());
    let t = Test::example();
    let config = fs::read_to_string(t.path("council.toml")).unwrap();
    let target = format!(
        "target = \"webdav+http://127.0.0.1:{port}/kkr/\"\nuser_env = \"KKR_PUBLISH_USER\"\npassword_env = \"KKR_PUBLISH_PASSWORD\""
    );
    t.write("council.toml", config.replace("target = \"dir:outbox/public\"", &target));

    let out = t.kkr_env(&["run", "--once", "--now", "2027-01-21T09:00"], &[]);
    assert_eq!(out.status.code(), Some(1), "unset variables are a configuration problem");
    assert!(
        crate::harness::stderr(&out).contains("KKR_PUBLISH_USER"),
        "{}",
        crate::harness::stderr(&out)
    );

    let wrong = [("KKR_PUBLISH_USER", "kkr"), ("KKR_PUBLISH_PASSWORD", "forkert")];
    let out = t.kkr_env(&["run", "--once", "--now", "2027-01-21T09:05"], &wrong);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        crate::harness::stderr(&out).contains("401"),
        "{}",
        crate::harness::stderr(&out)
    );
    assert!(files(root.path()).is_empty(), "nothing was written");

    let right = [("KKR_PUBLISH_USER", "kkr"), ("KKR_PUBLISH_PASSWORD", "hemmelig")];
    let out = t.kkr_env(&["run", "--once", "--now", "2027-01-21T09:10"], &right);
    assert_eq!(out.status.code(), Some(0), "{}", crate::harness::stderr(&out));
    assert!(root.path().join("kkr/2027-01-28/dagsorden-offentlig.pdf").exists());
}

#[test]
fn a_full_server_and_a_connection_reset_mid_upload_leave_no_partial_file() {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let t = Test::example();
    let config = fs::read_to_string(t.path("council.toml")).unwrap().replace(
        "target = \"dir:outbox/public\"",
        &format!("target = \"webdav+http://127.0.0.1:{port}/kkr-hovedstaden/\""),
    );
    t.write("council.toml", config);
    let site = root.path().join("kkr-hovedstaden");

    // 507 Insufficient Storage: reported, retried, and the mail is not held up.
    let server = WebDav::start_faulty(port, root.path(), "507", 1);
    let out = t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 3);
    let err = crate::harness::stderr(&out);
    assert!(err.contains("der er ikke plads på serveren (507)"), "{err}");
    assert_eq!(t.files("outbox/mail").len(), 62, "the members got the agenda anyway");
    t.must(&["run", "--once", "--now", "2027-01-21T09:05"], 0);
    let agenda = site.join("2027-01-28/dagsorden-offentlig.pdf");
    assert!(
        fs::read(&agenda).unwrap()
            == fs::read(t.path("outbox/2027-01-28/dagsorden-offentlig.pdf")).unwrap(),
        "the public agenda arrived whole"
    );
    drop(server);

    // The server dies half-way through an upload: the client sees a reset connection.
    let mut server = WebDav::start_faulty(port, root.path(), "reset", 1);
    decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 3);
    assert!(server.0.wait().unwrap().code() == Some(17), "the server died mid-upload");
    let partial: Vec<_> = files(root.path())
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(".kkr-upload"))
        .collect();
    assert!(
        !partial.is_empty(),
        "the half upload is on the server, under its temporary name"
    );
    let minutes = site.join("2027-01-28/referat-offentlig.pdf");
    assert!(!minutes.exists(), "no final file from a broken upload");
    for f in files(root.path()) {
        if !f.to_string_lossy().contains(".kkr-upload")
            && f.extension().is_some_and(|e| e == "pdf")
        {
            let pdf = fs::read(&f).unwrap();
            assert!(
                pdf.starts_with(b"%PDF-") && pdf.trim_ascii_end().ends_with(b"%%EOF"),
                "{f:?} is a whole PDF"
            );
        }
    }

    let _server = WebDav::start(port, root.path());
    t.must(&["run", "--once", "--now", "2027-01-28T12:10"], 0);
    assert!(
        fs::read(&minutes).unwrap()
            == fs::read(t.path("outbox/2027-01-28/referat-offentlig.pdf")).unwrap(),
        "complete after the retry"
    );
    let left: Vec<_> = files(root.path())
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(".kkr-upload"))
        .collect();
    assert!(left.is_empty(), "the retry replaced the half upload: {left:?}");
}

#[test]
fn a_base_path_whose_parents_are_missing_is_created_folder_by_folder() {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let t = Test::example();
    let config = fs::read_to_string(t.path("council.toml")).unwrap();
    t.write(
        "council.toml",
        config.replace(
            "target = \"dir:outbox/public\"",
            &format!("target = \"webdav+http://127.0.0.1:{port}/kl/kkr/hovedstaden/\""),
        ),
    );
    let _server = WebDav::start(port, root.path());
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let base = root.path().join("kl/kkr/hovedstaden");
    assert!(
        base.join("2027-01-28/dagsorden-offentlig.pdf").is_file(),
        "{:?}",
        files(root.path())
    );
    assert!(base.join("index.html").is_file());
}

#[test]
fn a_running_kkr_creates_a_deep_base_path_once_and_sends_no_mkcol_for_it_again() {
    let root = tempfile::tempdir().unwrap();
    let server = LoggedDav::start(root.path(), None);
    let t = Test::example();
    let base = "/a/b/c/kkr-hovedstaden/";
    publish_to(&t, &format!("http://127.0.0.1:{}{base}", server.port), "");
    let site = root.path().join("a/b/c/kkr-hovedstaden");
    let moves = format!("MOVE {base}2027-01-28/.dagsorden-offentlig.pdf.kkr-upload");
    let public = |n: usize| {
        let (server, moves) = (&server, &moves);
        move || server.requests().iter().filter(|r| *r == moves).count() >= n
    };

    // The agenda goes at the daemon's first pass: every folder of the base path is made.
    let _d = daemon(&[&t], "2027-01-21T09:00");
    wait_until("the public agenda", Duration::from_secs(120), public(1));
    wait_until("the site files", Duration::from_secs(60), || {
        ["index.html", "feed.atom", "meetings.json"]
            .iter()
            .all(|f| site.join(f).is_file())
    });
    let mkcols = |requests: &[String]| -> Vec<String> {
        requests
            .iter()
            .filter_map(|r| r.strip_prefix("MKCOL "))
            .map(str::to_owned)
            .collect()
    };
    let first = server.requests();
    let made = mkcols(&first);
    for dir in ["/a/", "/a/b/", "/a/b/c/", base, &format!("{base}2027-01-28/")] {
        assert!(made.iter().any(|m| m == dir), "MKCOL {dir}: {made:?}");
    }
    assert!(site.join("2027-01-28/dagsorden-offentlig.pdf").is_file());

    // An item changes after the agenda went: the corrected public agenda is published by
    // the same process, which knows its folders exist.
    let name = "02-sundhedsraad.md";
    let text = fs::read_to_string(t.path(&format!("inbox/behandlet/2027-01-28/{name}")))
        .unwrap();
    assert!(text.contains("fælles prioriteter"));
    t.write(
        &format!("inbox/{name}"),
        text.replace("fælles prioriteter", "fælles prioriteter og økonomi"),
    );
    wait_until("the corrected public agenda", Duration::from_secs(120), public(2));
    let again = server.requests()[first.len()..].to_vec();
    assert!(again.iter().any(|r| r.starts_with("PUT ")), "{again:?}");
    assert_eq!(mkcols(&again), Vec::<String>::new(), "no MKCOL on the next pass");
}
