//! Rehearsals (`--dry-run`, SPEC §6): with a real SMTP server configured, nothing leaves the
//! machine, nothing in the workspace changes, and the real run afterwards does everything.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::deliver::{assert_once_each, with_smtp};
use crate::harness::{stderr, stdout};
use crate::smtp::{Behaviour, Sink};

const SEND: &str = "2027-01-21T09:00";

/// Every file under `dir` with its bytes (empty when `dir` does not exist).
pub(crate) fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let rel = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &format!("{rel}/"), out);
            } else {
                out.insert(rel, fs::read(e.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}

#[test]
fn a_rehearsal_sends_moves_and_records_nothing_and_the_real_run_does_it_all() {
    let sink = Sink::start(Behaviour::default());
    let t = with_smtp(sink.port);
    let inbox = tree(&t.path("inbox"));
    let out = t.must(&["run", "--once", "--dry-run", "--now", SEND], 0);
    let log = stderr(&out);
    assert!(log.contains("PRØVEKØRSEL"), "{log}");
    assert!(sink.messages().is_empty(), "a rehearsal mails no one");
    assert_eq!(tree(&t.path("inbox")), inbox, "no inbox file moved");
    assert!(!t.path("state").exists(), "no ledger, not even state/");
    assert!(!t.path("outbox/public").exists(), "nothing published");
    assert!(!t.path("outbox/2027-01-28").exists(), "no real PDF");
    assert!(!t.path("outbox/mail").exists());
    let roster = crate::deliver::recipients(&t);
    let mails = t.files("outbox/prøve/mail");
    assert_eq!(mails.len(), roster.len(), "one .eml per roster row");
    for r in &roster {
        assert!(mails.iter().any(|m| m.ends_with(&format!("-{r}.eml"))), "{r}");
    }
    assert!(t.path("outbox/prøve/2027-01-28/dagsorden.pdf").is_file());
    assert!(t.path("outbox/prøve/public/2027-01-28/dagsorden-offentlig.pdf").is_file());
    assert!(t.path("outbox/prøve/inbox/behandlet/2027-01-28").is_dir());
    let status = stdout(&t.must(&["status", "--now", SEND], 0));
    assert!(status.contains("Seneste prøvekørsel"), "{status}");
    assert!(!status.contains("dagsorden.pdf"), "nothing is recorded as sent: {status}");

    // The real run does everything, as if there had been no rehearsal.
    t.must(&["run", "--once", "--now", SEND], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    assert!(t.path("outbox/public/2027-01-28/dagsorden-offentlig.pdf").is_file());
    assert_eq!(
        fs::read(t.path("outbox/2027-01-28/dagsorden.pdf")).unwrap(),
        fs::read(t.path("outbox/prøve/2027-01-28/dagsorden.pdf")).unwrap(),
        "the rehearsal showed the very PDF that was sent"
    );

    // A rehearsal of a resend after the real send leaves the ledger as it was and mails no one.
    let before = stdout(&t.must(&["status", "2027-01-28", "--json", "--now", SEND], 0));
    let sent = sink.messages().len();
    t.must(&["send", "2027-01-28", "--resend", "--dry-run", "--now", SEND], 0);
    assert_eq!(sink.messages().len(), sent);
    assert_eq!(
        t.files("outbox/prøve/mail").len(),
        roster.len(),
        "previous rehearsal replaced"
    );
    let after = stdout(&t.must(&["status", "2027-01-28", "--json", "--now", SEND], 0));
    let strip = |s: &str| {
        let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("now");
        o.remove("last_rehearsal");
        v
    };
    assert!(strip(&before) == strip(&after), "the real ledger is untouched");
}

#[test]
fn a_rehearsal_of_send_reads_each_file_once() {
    let t = crate::harness::Test::example();
    t.write("inbox/stykke.md", "ikke et punkt\n");
    t.must(&["send", "2027-01-28", "--dry-run", "--now", "2027-01-15T09:00"], 1);
    assert_eq!(t.files("outbox/prøve/inbox/afvist"), ["stykke.md", "stykke.md.fejl.txt"]);
    let told = t.notice_texts("outbox/prøve/mail");
    assert_eq!(told.len(), 2, "one notice to each secretariat row");
    assert_eq!(told[0].matches("Afvist: inbox/stykke.md").count(), 1, "{}", told[0]);
    assert!(t.path("inbox/stykke.md").is_file(), "nothing moved");
}
