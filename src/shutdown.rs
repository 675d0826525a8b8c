//! The shutdown flag: SIGINT/SIGTERM ask kkr to finish the message in flight and stop; a
//! second signal stops at once (the ledger is correct either way).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

static STOP: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();
type Waker = Box<dyn Fn() + Send>;
static WAKERS: Mutex<Vec<Waker>> = Mutex::new(Vec::new());

/// Whether a stop was asked for.
pub(crate) fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Installs the signal handler (once per process).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        let result = ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                // The second signal: stop now.
                std::process::exit(130);
            }
            tracing::warn!(
                "stopper: gør den igangværende mail færdig (signal igen for at stoppe straks)"
            );
            if let Ok(wakers) = WAKERS.lock() {
                for wake in wakers.iter() {
                    wake();
                }
            }
        });
        if let Err(e) = result {
            tracing::warn!("kunne ikke fange signaler: {e}");
        }
    });
}

/// Registers something to call on the first signal, so a sleeping loop notices at once.
pub(crate) fn on_stop(wake: impl Fn() + Send + 'static) {
    if let Ok(mut wakers) = WAKERS.lock() {
        wakers.push(Box::new(wake));
    }
}

/// Sleeps for `duration` unless a stop is requested first; returns whether it slept the
/// whole time (false: stop).
pub(crate) fn sleep(duration: std::time::Duration) -> bool {
    let end = std::time::Instant::now() + duration;
    while !requested() {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(200)));
    }
    false
}
