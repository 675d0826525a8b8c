//! Untrusted bytes behind a process boundary (issue 13): a job on a dropped file (a PDF
//! attachment's pages) runs in a child process of kkr's own binary (`kkr __worker JOB`) with
//! OS limits (address space, CPU time) and a deadline, so a stack overflow, an allocation
//! failure or a hang in a parser ends only that child. kkr then names the file and goes on.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The hidden subcommand that runs a job in a child.
pub(crate) const WORKER_ARG: &str = "__worker";

/// Address space of a worker: room for a legitimate 20 MiB PDF's pages, not for a bomb, and
/// well under the 1 GiB the shipped service unit allows the whole process tree.
const ADDRESS_SPACE: u64 = 768 << 20;

/// CPU seconds of a worker.
const CPU_SECONDS: u64 = 60;

/// Wall-clock deadline of a job.
const DEADLINE: Duration = Duration::from_secs(90);

/// The most a job reads: the largest attachment.
pub(crate) const MAX_INPUT: u64 = 20 << 20;

/// The most a job may answer. A PDF's pages become SVG images of about 1 MB per page of
/// dense text; a render worker (768 MiB) can place about this much, so a bilag whose pages
/// are larger is refused at intake, saying so, rather than failing every render later.
pub(crate) const MAX_OUTPUT: usize = 96 << 20;

/// Why a job gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The worker died (a crash, a stack overflow, the memory limit) or answered nonsense.
    Died(String),
    /// It ran past the deadline and was killed.
    TimedOut,
    /// Its answer was larger than [`MAX_OUTPUT`].
    TooLarge,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Died(why) => write!(f, "arbejdsprocessen stoppede ({why})"),
            Self::TimedOut => write!(f, "arbejdsprocessen nåede ikke at blive færdig"),
            Self::TooLarge => write!(f, "svaret var for stort"),
        }
    }
}

/// A job a worker can run: a name and a function from input bytes to output bytes.
type Job = fn(&[u8]) -> Vec<u8>;

/// The jobs, by name.
const JOBS: [(&str, Job); 1] = [("pdf-pages", crate::pdfpage::pages_job)];

/// Runs `job` on `input` in a worker process, or in this process when the running binary is
/// not kkr itself (unit tests, the benchmark linking the library).
///
/// One job runs at a time in the whole process (every council's thread waits its turn), so
/// the process tree's memory is bounded: kkr itself, its render workers, and one job worker
/// of at most [`ADDRESS_SPACE`].
pub(crate) fn run(job: &str, input: &[u8]) -> Result<Vec<u8>, Failure> {
    let Some(exe) = worker_exe() else {
        let f = JOBS.iter().find(|(n, _)| *n == job).map(|(_, f)| *f);
        return f
            .map(|f| f(input))
            .ok_or_else(|| Failure::Died(format!("ukendt job {job}")));
    };
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut child = Command::new(exe)
        .args([WORKER_ARG, job])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure::Died(format!("kunne ikke starte: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let read = (&mut stdout).take(MAX_OUTPUT as u64 + 1).read_to_end(&mut out);
        read.map(|_| out)
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() < DEADLINE => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => break None,
        }
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Failure::TimedOut);
    };
    let _ = writer.join();
    let out = reader.join().map_err(|_| Failure::Died("læsningen stoppede".into()))?;
    let out = out.map_err(|e| Failure::Died(e.to_string()))?;
    if out.len() > MAX_OUTPUT {
        return Err(Failure::TooLarge);
    }
    if !status.success() {
        return Err(Failure::Died(format!("{status}")));
    }
    Ok(out)
}

/// A worker ignores SIGINT/SIGTERM (a Ctrl-C or `systemctl stop` reaches the whole process
/// group): its parent finishes the job in hand and ends it, so a stop never turns a valid
/// file into a "damaged" one.
pub(crate) fn ignore_stop_signals() {
    let _ = ctrlc::set_handler(|| {});
}

/// The binary to start workers from: this very executable (`/proc/self/exe` even after an
/// upgrade replaced the file), or `None` when the running binary is not kkr (unit tests and
/// the benchmark, which link the library, run jobs in-process).
pub(crate) fn worker_exe() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let name = exe.file_name()?.to_string_lossy().into_owned();
    if name != "kkr" && name != "kkr (deleted)" {
        return None;
    }
    let proc_self = std::path::PathBuf::from("/proc/self/exe");
    Some(if proc_self.exists() { proc_self } else { exe })
}

/// `kkr __worker JOB`: sets the limits, reads the input from standard input, runs the job
/// and writes its answer to standard output. Any failure ends this process only.
pub(crate) fn serve(job: &str) -> std::process::ExitCode {
    ignore_stop_signals();
    #[cfg(unix)]
    {
        let _ = rlimit::setrlimit(rlimit::Resource::AS, ADDRESS_SPACE, ADDRESS_SPACE);
        let _ = rlimit::setrlimit(rlimit::Resource::CPU, CPU_SECONDS, CPU_SECONDS);
        let _ = rlimit::setrlimit(rlimit::Resource::CORE, 0, 0);
    }
    let Some(f) = JOBS.iter().find(|(n, _)| *n == job).map(|(_, f)| *f) else {
        return std::process::ExitCode::from(2);
    };
    let mut input = Vec::new();
    let limit = MAX_INPUT + 1;
    if std::io::stdin().take(limit).read_to_end(&mut input).is_err() {
        return std::process::ExitCode::from(2);
    }
    // A thread with a stack sized for legitimate nesting; an overflow aborts this worker.
    let run = std::thread::Builder::new().stack_size(64 << 20).spawn(move || f(&input));
    let Ok(Ok(out)) = run.map(|h| h.join()) else {
        return std::process::ExitCode::from(3);
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(&out).and_then(|()| stdout.flush()).is_err() {
        return std::process::ExitCode::from(3);
    }
    std::process::ExitCode::SUCCESS
}
