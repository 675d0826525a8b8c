//! The inbox watcher: file events (notify, debounced) turned into hints for the run loop to
//! rescan; the folder listing stays the truth (typst-cli's `watch.rs`).

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use crate::workspace::Workspace;

/// The watcher; dropping it stops the watching.
pub(crate) type Watcher = notify_debouncer_full::Debouncer<
    notify::RecommendedWatcher,
    notify_debouncer_full::RecommendedCache,
>;

/// What wakes the loop.
pub(crate) enum Event {
    /// The inbox changed; the paths were renamed into it (and so are complete).
    Inbox(Vec<PathBuf>),
    /// A stop was asked for.
    Stop,
}

/// Watches the inbox; events are only hints to rescan (the listing is the truth). `None`
/// when the system cannot watch it: the loop then looks every 2 seconds.
pub(crate) fn watch(ws: &Workspace, tx: mpsc::Sender<Event>) -> Option<Watcher> {
    use notify::event::{EventKind, ModifyKind, RenameMode};
    let inbox = ws.inbox();
    let skip = [ws.processed(), ws.rejected(), ws.work()];
    let handler = move |result: notify_debouncer_full::DebounceEventResult| {
        let Ok(events) = result else {
            let _ = tx.send(Event::Inbox(Vec::new()));
            return;
        };
        let mut renamed = Vec::new();
        let mut relevant = false;
        for e in events {
            for p in &e.paths {
                if skip.iter().any(|s| p.starts_with(s)) {
                    continue;
                }
                relevant = true;
                if matches!(
                    e.kind,
                    EventKind::Modify(ModifyKind::Name(
                        RenameMode::To | RenameMode::Both
                    ))
                ) {
                    renamed.push(p.clone());
                }
            }
            relevant |= e.need_rescan();
        }
        if relevant {
            let _ = tx.send(Event::Inbox(renamed));
        }
    };
    let mut debouncer = match notify_debouncer_full::new_debouncer(
        Duration::from_millis(100),
        None,
        handler,
    ) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(
                "kan ikke overvåge indbakken ({e}); kigger i stedet hvert 2. sekund"
            );
            return None;
        }
    };
    crate::fs::create_dir_all(&inbox).ok()?;
    if let Err(e) = debouncer.watch(&inbox, notify::RecursiveMode::Recursive) {
        tracing::warn!(
            "kan ikke overvåge indbakken ({e}); kigger i stedet hvert 2. sekund"
        );
        return None;
    }
    Some(debouncer)
}
