//! Never an empty agenda (SPEC §6): a meeting with no items at its send moment is held, a
//! later item is an ordinary one, and the agenda goes when released, once to every row.

use std::fs;

use crate::check::{OK, item};
use crate::deliver::{assert_once_each, documents, notices, per_recipient, smtp_config};
use crate::harness::{Test, stderr, stdout};
use crate::smtp::{Behaviour, Sink};

const SEND: &str = "2027-01-21T09:00";

fn empty_with_smtp(sink: &Sink) -> Test {
    let t = Test::example_without_items();
    smtp_config(&t, sink.port);
    t
}

#[test]
fn no_items_at_the_moment_holds_the_agenda_and_an_approval_releases_it() {
    let sink = Sink::start(Behaviour::default());
    let t = empty_with_smtp(&sink);
    t.must(&["run", "--once", "--now", SEND], 0);
    assert!(per_recipient(&sink, "dagsorden til mødet").is_empty(), "nothing sent");
    let status = stdout(&t.must(&["status", "--now", SEND], 0));
    assert!(status.contains("TILBAGEHOLDT"), "{status}");
    // The secretariat rows were warned the day before and are told it is held, once each.
    let told = notices(&sink);
    assert_eq!(told.len(), 2, "one notice per pass to each secretariat row");
    assert!(told[0].data.contains("holdt tilbage"), "{}", told[0].data);
    let mut to: Vec<String> = told.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["maria.bendtsen@example.org", "rune.thomsen@example.org"]);

    // `send` refuses an empty agenda, saying why and what to do.
    let out = t.must(&["send", "2027-01-28", "--now", SEND], 1);
    let err = stderr(&out);
    assert!(err.contains("ingen punkter") && err.contains("hjælp:"), "{err}");
    assert!(per_recipient(&sink, "dagsorden til mødet").is_empty());

    // A later item is an ordinary item (no late_reason needed), and nothing goes by itself.
    t.write("inbox/a.md", item(&OK, "Tekst.\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 0);
    assert!(t.files("inbox/afvist").is_empty(), "not rejected as late");
    assert!(per_recipient(&sink, "dagsorden til mødet").is_empty(), "still held");
    assert!(!t.path("outbox/2027-01-28/dagsorden.pdf").exists());

    // An approval naming someone not on the roster is rejected with the reason.
    t.write(
        "inbox/godkend.toml",
        "meeting = \"2027-01-28\"\napprove = \"dagsorden\"\napproved_by = \"Ingen Kendt\"\n",
    );
    t.must(&["run", "--once", "--now", "2027-01-22T10:05"], 1);
    let report =
        fs::read_to_string(t.path("inbox/afvist/godkend.toml.fejl.txt")).unwrap();
    assert!(report.contains("står ikke i members.csv"), "{report}");
    let told = notices(&sink);
    assert_eq!(told.len(), 4, "held, then the rejection, to each row");
    assert!(told[3].data.contains("Afvist: inbox/godkend.toml"), "{}", told[3].data);

    // The approval file releases it: every row gets it once, on time (not "late").
    t.write(
        "inbox/godkend.toml",
        "meeting = \"2027-01-28\"\napprove = \"dagsorden\"\napproved_by = \"Maria Kjær Bendtsen\"\n",
    );
    let out = t.must(&["run", "--once", "--now", "2027-01-22T10:10"], 0);
    assert!(!stderr(&out).contains("for sent"), "{}", stderr(&out));
    assert_once_each(&t, &sink, "dagsorden til mødet");
    assert!(t.path("inbox/behandlet/2027-01-28/godkend.toml").is_file());
    t.must(&["run", "--once", "--now", "2027-01-22T10:15"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    let status = stdout(&t.must(&["status", "--now", "2027-01-22T10:15"], 0));
    assert!(!status.contains("for sent"), "{status}");
    assert_eq!(notices(&sink).len(), 4, "each event told once");
}

#[test]
fn send_releases_a_held_agenda_and_waits_for_files_still_being_written() {
    let sink = Sink::start(Behaviour::default());
    let t = empty_with_smtp(&sink);
    t.must(&["run", "--once", "--now", SEND], 0);
    // Saved just now: inside its quiet period. `send` waits for it and sends it.
    let p = t.path("inbox/a.md");
    fs::write(&p, item(&OK, "Tekst.\n")).unwrap();
    t.must(&["send", "2027-01-28", "--now", "2027-01-22T10:00"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    let text = crate::harness::poppler(
        "pdftotext",
        &[],
        &t.path("outbox/2027-01-28/dagsorden.pdf"),
    );
    assert!(text.contains("Testpunkt"), "{text}");
}

#[test]
fn kkr_approve_releases_a_held_agenda() {
    let sink = Sink::start(Behaviour::default());
    let t = empty_with_smtp(&sink);
    t.must(&["run", "--once", "--now", SEND], 0);
    t.write("inbox/a.md", item(&OK, "Tekst.\n"));
    let out = t
        .must(&["approve", "2027-01-28", "--agenda", "--by", "Nobody", "--now", SEND], 2);
    assert!(stderr(&out).contains("står ikke i members.csv"), "{}", stderr(&out));
    // A rehearsal of the approval sends nothing and leaves inbox/ as it was.
    t.must(
        &[
            "approve",
            "2027-01-28",
            "--agenda",
            "--by",
            "Maria Kjær Bendtsen",
            "--dry-run",
            "--now",
            SEND,
        ],
        0,
    );
    assert!(documents(&sink).is_empty());
    assert_eq!(t.files("inbox"), ["a.md"]);
    assert_eq!(t.mails("outbox/prøve/mail").len(), crate::deliver::recipients(&t).len());
    t.must(
        &[
            "approve",
            "2027-01-28",
            "--agenda",
            "--by",
            "Maria Kjær Bendtsen",
            "--now",
            "2027-01-22T09:00",
        ],
        0,
    );
    assert_once_each(&t, &sink, "dagsorden til mødet");
    let kept = t.files("inbox/behandlet/2027-01-28");
    assert!(kept.iter().any(|f| f.starts_with("godkendelse-2027-01-28")), "{kept:?}");
}

#[test]
fn an_approval_of_an_agenda_that_is_not_held_is_refused() {
    let sink = Sink::start(Behaviour::default());
    let t = crate::deliver::with_smtp(sink.port);
    t.write(
        "inbox/godkend.toml",
        "meeting = \"2027-01-28\"\napprove = \"dagsorden\"\napproved_by = \"Maria Kjær Bendtsen\"\n",
    );
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 1);
    let report =
        fs::read_to_string(t.path("inbox/afvist/godkend.toml.fejl.txt")).unwrap();
    assert!(report.contains("er ikke holdt tilbage"), "{report}");
    assert!(report.contains("torsdag den 21. januar 2027 kl. 9.00"), "{report}");
    assert!(documents(&sink).is_empty(), "nothing goes two weeks early");
}
