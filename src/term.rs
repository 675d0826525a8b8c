//! What the terminal sees: standard output that survives a closed pipe, and the exit codes
//! (SPEC §5), owned here for the crate root, the commands and the daemon alike.

/// Exit code: invalid input.
pub const EXIT_INVALID: u8 = 1;
/// Exit code: usage error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: a temporary failure; it will be retried.
pub const EXIT_TRANSIENT: u8 = 3;
/// Exit code: anything else.
pub const EXIT_OTHER: u8 = 4;

/// Writes to standard output. When the reader has gone (`kkr check | head`), the rest of
/// the output is dropped and the command still finishes with its own exit code; another
/// output error is reported once on standard error.
pub fn out(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    static GONE: AtomicBool = AtomicBool::new(false);
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        GONE.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("fejl: kunne ikke skrive til standard output: {e}");
        }
    }
}

/// `print!` through [`out`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::term::out(format_args!($($arg)*)) };
}

/// `println!` through [`out`].
#[macro_export]
macro_rules! outln {
    () => { $crate::term::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::term::out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// A count with its Danish noun in the right number: `count(1, "punkt", "punkter")` is
/// `1 punkt`, `count(12, "punkt", "punkter")` is `12 punkter`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
