//! A workspace in a temporary folder and a way to run `kkr` in it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A throw-away council workspace.
pub(crate) struct Test {
    dir: tempfile::TempDir,
}

/// The repository, which is the example workspace.
pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Makes a file look complete: unchanged for longer than the inbox's quiet period.
#[allow(clippy::disallowed_methods, reason = "file ages are real time")]
pub(crate) fn age(path: &Path) {
    let old = SystemTime::now() - Duration::from_secs(3600);
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(old).unwrap();
}

fn age_tree(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            age_tree(&entry.path());
        } else {
            age(&entry.path());
        }
    }
}

impl Test {
    /// A copy of the repository's example workspace (council.toml, members.csv, inbox/).
    pub(crate) fn example() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::copy(repo().join("council.toml"), dir.path().join("council.toml")).unwrap();
        fs::copy(repo().join("members.csv"), dir.path().join("members.csv")).unwrap();
        crate::example::copy_inbox(&repo().join("inbox"), &dir.path().join("inbox"));
        age_tree(&dir.path().join("inbox"));
        Self { dir }
    }

    /// The example workspace without its items (the attachment stays in `inbox/bilag/`).
    pub(crate) fn example_without_items() -> Self {
        let t = Self::example();
        for entry in fs::read_dir(t.path("inbox")).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "md") {
                fs::remove_file(p).unwrap();
            }
        }
        t
    }

    /// A path in the workspace.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file (aged, so it is complete) and returns self.
    pub(crate) fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
        age(&p);
        self
    }

    /// Runs `kkr -C <workspace> ARGS`.
    pub(crate) fn kkr(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kkr"))
            .arg("-C")
            .arg(self.dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `kkr -C <workspace> ARGS` with extra environment variables.
    pub(crate) fn kkr_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kkr"));
        cmd.arg("-C").arg(self.dir.path()).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// Runs kkr and requires the exit code.
    #[track_caller]
    pub(crate) fn must(&self, args: &[&str], code: i32) -> Output {
        let out = self.kkr(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "kkr {args:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The members' mail (`.eml` files) in a folder, without kkr's notices to the
    /// secretariat (`besked-*.eml`).
    pub(crate) fn mails(&self, rel: &str) -> Vec<String> {
        self.files(rel).into_iter().filter(|f| !f.starts_with("besked-")).collect()
    }

    /// kkr's notices to the secretariat (`besked-*.eml`) in a folder.
    pub(crate) fn notices(&self, rel: &str) -> Vec<String> {
        self.files(rel).into_iter().filter(|f| f.starts_with("besked-")).collect()
    }

    /// The decoded body text of the notices to the secretariat in a folder, one each.
    pub(crate) fn notice_texts(&self, rel: &str) -> Vec<String> {
        self.notices(rel)
            .iter()
            .map(|f| {
                let raw = fs::read(self.path(&format!("{rel}/{f}"))).unwrap();
                let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
                msg.body_text(0).unwrap().into_owned()
            })
            .collect()
    }

    /// The files in a folder of the workspace, sorted (empty when it does not exist).
    pub(crate) fn files(&self, rel: &str) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.path(rel))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// Runs a poppler tool on a PDF and returns its output.
#[track_caller]
pub(crate) fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(pdf)
        .args(if tool == "pdftotext" { &["-"][..] } else { &[][..] })
        .output()
        .unwrap_or_else(|e| panic!("{tool} is needed (poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Text with all runs of white space folded to one space.
pub(crate) fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Standard output as text.
pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running `kkr run`; killed when dropped.
pub(crate) struct Daemon(pub(crate) Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `kkr run` on one or more workspaces (`-C a -C b`); its log goes to `daemon.log`
/// in the first.
pub(crate) fn daemon(workspaces: &[&Test], now: &str) -> Daemon {
    let log = fs::File::create(workspaces[0].path("daemon.log")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kkr"));
    for t in workspaces {
        cmd.arg("-C").arg(t.path(""));
    }
    let child = cmd
        .args(["run", "--now", now])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Daemon(child)
}

/// Waits until `f` holds, failing the test after `limit`.
#[track_caller]
pub(crate) fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A minimal PDF with the given objects (1: catalog, …), written by hand.
pub(crate) fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// The peak resident memory of a process and all its descendants together, sampled every
/// 20 ms from `/proc` until [`TreeMemory::peak`] is asked.
pub(crate) struct TreeMemory {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: Option<std::thread::JoinHandle<u64>>,
}

impl TreeMemory {
    /// Starts sampling the tree under `root`.
    pub(crate) fn watch(root: u32) -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(tree_rss(root));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        Self { stop, sampler: Some(sampler) }
    }

    /// The highest sum of resident memory seen, in bytes.
    pub(crate) fn peak(mut self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.sampler.take().unwrap().join().unwrap()
    }
}

/// Resident bytes of `root` and its descendants now (from `/proc/PID/status`).
fn tree_rss(root: u32) -> u64 {
    let mut procs: Vec<(u32, u32, u64)> = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| {
                v.split_whitespace().next().and_then(|n| n.parse::<u64>().ok())
            })
        };
        let (Some(ppid), rss) = (field("PPid:"), field("VmRSS:").unwrap_or(0)) else {
            continue;
        };
        procs.push((pid, ppid as u32, rss * 1024));
    }
    let mut tree = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for &(pid, ppid, _) in &procs {
            if tree.contains(&ppid) && !tree.contains(&pid) {
                tree.push(pid);
                grew = true;
            }
        }
    }
    procs.iter().filter(|(pid, ..)| tree.contains(pid)).map(|(.., rss)| rss).sum()
}

/// Runs a Python script with `input` on its standard input (an independent checker:
/// `icalendar`, `json`, `email`, `dkim`), requires success, and returns its output.
#[track_caller]
pub(crate) fn python(script: &str, input: &[u8]) -> String {
    use std::io::Write as _;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
