//! The shutdown flag: SIGINT/SIGTERM ask kkr to finish the message in flight and stop; a
//! second signal stops at once (the ledger is correct either way).

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Whether a stop was asked for.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Installs the handler; `wake` is called on the first signal so a sleeping loop notices.
pub fn install(wake: impl Fn() + Send + 'static) {
    let result = ctrlc::set_handler(move || {
        if STOP.swap(true, Ordering::SeqCst) {
            // The second signal: stop now.
            std::process::exit(130);
        }
        tracing::warn!(
            "stopper: gør den igangværende mail færdig (signal igen for at stoppe straks)"
        );
        wake();
    });
    if let Err(e) = result {
        tracing::warn!("kunne ikke fange signaler: {e}");
    }
}
