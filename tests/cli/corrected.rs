//! Corrected minutes (SPEC §3.4): a decision or the attendance changed after the minutes
//! were sent reaches every roster row once as `rettet-referat-N.pdf`, saying what changed,
//! and the public edition follows as a revision.

use std::fs;

use crate::harness::{Test, fold, poppler, stdout};
use crate::minutes::{CANARY, decide_all};

const SEND: &str = "2027-01-21T09:00";
const AFTER: &str = "2027-01-28T12:00";

/// The mails of one document (`2027-01-28-<stem>-<address>.eml`).
fn mails_of(t: &Test, stem: &str) -> usize {
    let prefix = format!("2027-01-28-{stem}-");
    t.mails("outbox/mail").iter().filter(|f| f.starts_with(&prefix)).count()
}

/// Drops an accepted item again with `from` replaced by `to`.
fn redrop(t: &Test, name: &str, from: &str, to: &str) {
    let text = fs::read_to_string(t.path(&format!("inbox/behandlet/2027-01-28/{name}")))
        .unwrap();
    assert!(text.contains(from), "{name} has {from}");
    t.write(&format!("inbox/{name}"), text.replace(from, to));
}

fn text_of(t: &Test, rel: &str) -> String {
    fold(&poppler("pdftotext", &[], &t.path(rel)))
}

#[test]
fn a_corrected_decision_or_attendance_reaches_every_member_once_and_the_public_follows() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    decide_all(&t);
    t.must(&["run", "--once", "--now", AFTER], 0);
    assert_eq!(mails_of(&t, "referat"), 62);
    let public = "outbox/public/2027-01-28/referat-offentlig.pdf";
    let first_public = fs::read(t.path(public)).unwrap();

    // The day after: one decision is corrected.
    let name = "03-praktikpladser.md";
    redrop(
        &t,
        name,
        &format!("punkt {name}: godkendt."),
        "punkt 3: godkendt med den ændring, at fristen er 1. april.",
    );
    t.must(&["run", "--once", "--now", "2027-01-29T10:00"], 0);
    assert_eq!(mails_of(&t, "rettet-referat-1"), 62, "every roster row, once");
    let pdf = "outbox/2027-01-28/rettet-referat-1.pdf";
    let text = text_of(&t, pdf);
    for expected in [
        "Rettet beslutningsreferat nr. 1",
        "Dette referat erstatter det tidligere udsendte",
        "Punkt 3 (",
        "beslutningen er rettet",
        "fristen er 1. april",
        "Punktet er rettet i forhold til det tidligere udsendte referat",
        "Kirsten Løje Frandsen",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(text.contains(CANARY), "members get the closed item's decision");
    let mail = fs::read_to_string(t.path("outbox/mail").join(
        t.mails("outbox/mail").iter().find(|f| f.contains("rettet-referat-1")).unwrap(),
    ))
    .unwrap();
    assert!(mail.contains("rettet beslutningsreferat nr. 1"), "{mail}");
    assert!(!mail.contains("BEGIN:VCALENDAR"), "no calendar invitation with minutes");
    // The public edition is published again, with the new text.
    assert_ne!(fs::read(t.path(public)).unwrap(), first_public);
    assert!(text_of(&t, public).contains("fristen er 1. april"));
    assert!(!text_of(&t, public).contains(CANARY));
    // A re-run sends nothing.
    t.must(&["run", "--once", "--now", "2027-01-29T11:00"], 0);
    assert_eq!(mails_of(&t, "rettet-referat-1"), 62);
    assert!(!t.path("outbox/2027-01-28/rettet-referat-2.pdf").exists());

    // The attendance is corrected: number 2, saying so.
    t.write(
        "inbox/fremmoede-2027-01-28.toml",
        "meeting = \"2027-01-28\"\nabsent = [\"Kirsten Løje Frandsen\", \"Allan Nørskov\"]\nguests = [\"Direktør for KL, Jane Doe\"]\n",
    );
    let out = t.kkr(&["run", "--once", "--now", "2027-01-30T10:00"]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::harness::stderr(&out));
    assert_eq!(mails_of(&t, "rettet-referat-2"), 62);
    let text = text_of(&t, "outbox/2027-01-28/rettet-referat-2.pdf");
    assert!(text.contains("Afbud og øvrige deltagere er rettet"), "{text}");
    assert!(text.contains("Allan Nørskov"), "{text}");

    // The closed item's secret decision changes: the members get number 3, the public
    // edition is not published again (it shows nothing of it).
    let before = fs::read(t.path(public)).unwrap();
    redrop(
        &t,
        "10-udpegning-erhvervshus.md",
        "KKR udpegede den indstillede kandidat.",
        "KKR udpegede en anden kandidat.",
    );
    t.must(&["run", "--once", "--now", "2027-01-31T10:00"], 0);
    assert_eq!(mails_of(&t, "rettet-referat-3"), 62);
    assert!(
        text_of(&t, "outbox/2027-01-28/rettet-referat-3.pdf")
            .contains("en anden kandidat")
    );
    assert_eq!(fs::read(t.path(public)).unwrap(), before, "the public learns nothing");

    // `send --minutes --resend` sends the current minutes again, not the first ones.
    for f in t.mails("outbox/mail") {
        fs::remove_file(t.path("outbox/mail").join(f)).unwrap();
    }
    t.must(
        &["send", "2027-01-28", "--minutes", "--resend", "--now", "2027-02-01T10:00"],
        0,
    );
    assert_eq!(mails_of(&t, "rettet-referat-3"), 62, "the current minutes again");
    assert_eq!(t.mails("outbox/mail").len(), 62, "and nothing older");
    let status = stdout(&t.must(&["status", "--now", "2027-02-01T10:05"], 0));
    assert!(status.contains("rettet-referat-3.pdf"), "{status}");
}

#[test]
fn kill_9_while_corrected_minutes_go_out_loses_nothing_and_repeats_at_most_one() {
    use crate::smtp::{Behaviour, Sink};
    let sink = Sink::start(Behaviour {
        delay: std::time::Duration::from_millis(25),
        ..Default::default()
    });
    let t = crate::deliver::with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);
    decide_all(&t);
    t.must(&["run", "--once", "--now", AFTER], 0);
    let name = "03-praktikpladser.md";
    redrop(
        &t,
        name,
        &format!("punkt {name}: godkendt."),
        "punkt 3: godkendt med en frist.",
    );
    crate::deliver::kill_half_way(
        &t,
        &sink,
        "rettet beslutningsreferat nr. 1",
        ["2027-01-29T10:00", "2027-01-29T10:05"],
    );
}
