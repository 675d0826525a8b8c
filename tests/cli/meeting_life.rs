//! Moved, changed and cancelled meetings (SPEC §3.5): one notice per roster row with the
//! calendar invitation updated or cancelled, read back with a real iCalendar parser.

use std::fs;

use mail_parser::MimeHeaders;

use crate::harness::{Test, stdout};

const SEND: &str = "2027-01-21T09:00";

/// The mails of one document (`2027-01-28-<stem>-<address>.eml`).
fn mails_of(t: &Test, stem: &str) -> Vec<String> {
    let prefix = format!("2027-01-28-{stem}-");
    t.mails("outbox/mail").into_iter().filter(|f| f.starts_with(&prefix)).collect()
}

/// Edits the first meeting of the workspace's council.toml.
fn edit_first_meeting(t: &Test, from: &str, to: &str) {
    let text = fs::read_to_string(t.path("council.toml")).unwrap();
    let text = text.replacen(from, to, 1);
    fs::write(t.path("council.toml"), text).unwrap();
}

/// A mail's subject, text body and calendar attachment (with its content type).
fn read_mail(t: &Test, file: &str) -> (String, String, Option<(String, String)>) {
    let raw = fs::read(t.path("outbox/mail").join(file)).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let ics = msg
        .attachments()
        .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".ics")))
        .map(|a| {
            let ct = a.content_type().map(|c| {
                let attrs = c.attributes().unwrap_or_default();
                let method = attrs
                    .iter()
                    .find(|a| a.name == "method")
                    .map(|a| a.value.to_string());
                method.unwrap_or_default()
            });
            (String::from_utf8_lossy(a.contents()).into_owned(), ct.unwrap_or_default())
        });
    let pdfs = msg
        .attachments()
        .filter(|a| a.attachment_name().is_some_and(|n| n.ends_with(".pdf")));
    let body = msg.body_text(0).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    let body = if pdfs.count() > 0 { format!("{body}\n[PDF]") } else { body };
    (msg.subject().unwrap_or_default().to_owned(), body, ics)
}

/// The invitation as Python's `icalendar` reads it: METHOD, UID, SEQUENCE, DTSTART,
/// LOCATION and STATUS, one per line.
fn parse_ics(ics: &str) -> Vec<String> {
    let script = "import sys, icalendar\ncal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())\nev = [c for c in cal.walk('VEVENT')][0]\nprint(cal['METHOD'])\nprint(ev['UID'])\nprint(int(ev.get('SEQUENCE', 0)))\nprint(ev.decoded('DTSTART').isoformat())\nprint(ev['LOCATION'])\nprint(ev.get('STATUS', ''))\nprint(ev['ORGANIZER'])\n";
    crate::harness::python(script, ics.as_bytes()).lines().map(str::to_owned).collect()
}

#[test]
fn a_meeting_moved_after_the_agenda_tells_everyone_once_and_the_minutes_follow() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    let agenda = mails_of(&t, "dagsorden");
    assert_eq!(agenda.len(), 62);
    let (_, _, ics) = read_mail(&t, &agenda[0]);
    let first = parse_ics(&ics.unwrap().0);
    assert_eq!(first[0], "PUBLISH");
    assert_eq!(first[2], "0");

    edit_first_meeting(
        &t,
        "date = \"2027-01-28\"\n",
        "date = \"2027-01-28\"\nmoved_to = \"2027-02-04\"\n",
    );
    t.must(&["check"], 0);
    let status = stdout(&t.must(&["status", "--now", "2027-01-22T09:00"], 0));
    assert!(status.contains("flyttet til torsdag den 4. februar 2027"), "{status}");
    assert!(status.contains("ÆNDRET efter udsendelsen"), "{status}");
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 0);
    let moved = mails_of(&t, "moedeaendring-1");
    assert_eq!(moved.len(), 62, "one notice per roster row");
    let (subject, body, ics) = read_mail(&t, &moved[0]);
    assert!(
        subject.contains("mødet 28. januar 2027 er flyttet til 4. februar 2027"),
        "{subject}"
    );
    assert!(body.contains("Mødet er flyttet fra torsdag den 28. januar 2027 kl. 9.00 til torsdag den 4. februar 2027 kl. 9.00"), "{body}");
    assert!(
        !body.contains("[PDF]") && !body.contains("vedhæftet som PDF"),
        "a notice has no PDF: {body}"
    );
    let (ics, method) = ics.expect("the invitation, updated");
    assert_eq!(method, "PUBLISH");
    let cal = parse_ics(&ics);
    assert_eq!(cal[1], first[1], "the same UID");
    assert_eq!(cal[2], "1", "SEQUENCE one higher");
    assert!(cal[3].starts_with("2027-02-04T09:00:00"), "{cal:?}");
    assert!(cal[6].contains("mailto:"), "ORGANIZER: {cal:?}");
    // DESCRIPTION lists the items as the public sees them: a closed item by its public title.
    let unfolded = ics.replace("\r\n ", "");
    assert!(unfolded.contains("DESCRIPTION:1. Godkendelse af dagsorden"), "{ics}");
    assert!(unfolded.contains("10. Udpegning til bestyrelse"), "{ics}");
    assert!(!unfolded.contains("Udpegning af kommunal repræsentant"), "{ics}");
    // Told once.
    t.must(&["run", "--once", "--now", "2027-01-22T11:00"], 0);
    assert_eq!(mails_of(&t, "moedeaendring-1").len(), 62);
    assert!(mails_of(&t, "moedeaendring-2").is_empty());

    // A new place: notice number 2, with the new LOCATION and SEQUENCE 2.
    edit_first_meeting(
        &t,
        "place = \"Gentofte Rådhus, Bernstorffsvej 161, 2920 Charlottenlund\"",
        "place = \"Hillerød Rådhus, Trollesmindealle 27, 3400 Hillerød\"",
    );
    t.must(&["run", "--once", "--now", "2027-01-23T10:00"], 0);
    let changed = mails_of(&t, "moedeaendring-2");
    assert_eq!(changed.len(), 62);
    let (subject, body, ics) = read_mail(&t, &changed[0]);
    assert!(subject.contains("mødet 4. februar 2027 er ændret"), "{subject}");
    assert!(
        body.contains("Hillerød Rådhus") && body.contains("før: Gentofte Rådhus"),
        "{body}"
    );
    let cal = parse_ics(&ics.unwrap().0);
    assert_eq!((cal[1].as_str(), cal[2].as_str()), (first[1].as_str(), "2"));
    assert!(cal[4].starts_with("Hillerød Rådhus"), "{cal:?}");

    // The old day passes: the meeting is not held yet, so no minutes; on the new day they go.
    crate::minutes::decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 0);
    assert!(mails_of(&t, "referat").is_empty(), "not held on its first day");
    t.must(&["run", "--once", "--now", "2027-02-04T12:00"], 0);
    assert_eq!(mails_of(&t, "referat").len(), 62);
    let text = crate::harness::poppler(
        "pdftotext",
        &[],
        &t.path("outbox/2027-01-28/referat.pdf"),
    );
    let text = crate::harness::fold(&text);
    assert!(
        text.contains("torsdag den 4. februar 2027") && text.contains("Hillerød Rådhus"),
        "{text}"
    );
}

#[test]
fn a_cancelled_meeting_is_told_once_with_a_cancelling_invitation_and_then_nothing() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    let (_, _, ics) = read_mail(&t, &mails_of(&t, "dagsorden")[0]);
    let uid = parse_ics(&ics.unwrap().0)[1].clone();
    edit_first_meeting(
        &t,
        "date = \"2027-01-28\"\n",
        "date = \"2027-01-28\"\ncancelled = true\n",
    );
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 0);
    let cancelled = mails_of(&t, "aflysning");
    assert_eq!(cancelled.len(), 62, "one per roster row");
    let (subject, body, ics) = read_mail(&t, &cancelled[0]);
    assert!(subject.contains("mødet 28. januar 2027 er aflyst"), "{subject}");
    assert!(body.contains("Der sendes ikke mere om mødet"), "{body}");
    let (ics, method) = ics.unwrap();
    assert_eq!(method, "CANCEL");
    let cal = parse_ics(&ics);
    assert_eq!(cal[0], "CANCEL");
    assert_eq!(cal[1], uid, "the agenda's UID");
    assert_eq!((cal[2].as_str(), cal[5].as_str()), ("1", "CANCELLED"));
    let status = stdout(&t.must(&["status", "--now", "2027-01-22T11:00"], 0));
    assert!(status.contains("AFLYST: medlemmerne har fået besked"), "{status}");
    let index = fs::read_to_string(t.path("outbox/public/index.html")).unwrap();
    assert!(index.contains("Mødet er aflyst."), "the public site says so");
    let json = fs::read_to_string(t.path("outbox/public/meetings.json")).unwrap();
    assert!(
        json.contains("\"cancelled\": true") || json.contains("\"cancelled\":true"),
        "{json}"
    );

    // Decisions dropped afterwards are rejected, saying why, and nothing more is sent.
    crate::minutes::decide_all(&t);
    let before = t.mails("outbox/mail").len();
    let out = t.must(&["run", "--once", "--now", "2027-01-22T12:00"], 1);
    let report =
        fs::read_to_string(t.path("inbox/afvist/03-praktikpladser.md.fejl.txt")).unwrap();
    assert!(report.contains("mødet 2027-01-28 er aflyst"), "{report}");
    assert_eq!(t.mails("outbox/mail").len(), before, "{}", crate::harness::stderr(&out));
    t.must(&["run", "--once", "--now", "2027-01-23T10:00"], 0);
    assert_eq!(t.mails("outbox/mail").len(), before, "told once");
    let out = t.kkr(&["send", "2027-01-28", "--now", "2027-01-23T10:00"]);
    assert_eq!(out.status.code(), Some(2), "refused, saying it is cancelled");
    assert!(crate::harness::stderr(&out).contains("er aflyst"));
    assert_eq!(t.mails("outbox/mail").len(), before);

    // Held after all: everyone is told once, with the invitation back (SEQUENCE 2).
    edit_first_meeting(&t, "cancelled = true\n", "");
    t.must(&["run", "--once", "--now", "2027-01-24T10:00"], 0);
    let back = mails_of(&t, "moedeaendring-1");
    assert_eq!(back.len(), 62);
    let (subject, body, ics) = read_mail(&t, &back[0]);
    assert!(
        subject.contains("holdes alligevel") && body.contains("ikke længere aflyst"),
        "{subject}\n{body}"
    );
    let cal = parse_ics(&ics.unwrap().0);
    assert_eq!(
        (cal[0].as_str(), cal[2].as_str(), cal[5].as_str()),
        ("PUBLISH", "2", "CONFIRMED")
    );
}

#[test]
fn a_meeting_moved_before_its_agenda_only_moves_the_schedule() {
    let t = Test::example();
    edit_first_meeting(
        &t,
        "date = \"2027-01-28\"\n",
        "date = \"2027-01-28\"\nmoved_to = \"2027-02-04\"\n",
    );
    t.must(&["run", "--once", "--now", SEND], 0);
    assert!(
        mails_of(&t, "dagsorden").is_empty(),
        "the agenda goes a week before the new day"
    );
    t.must(&["run", "--once", "--now", "2027-01-28T09:00"], 0);
    let agenda = mails_of(&t, "dagsorden");
    assert_eq!(agenda.len(), 62);
    assert!(mails_of(&t, "moedeaendring-1").is_empty(), "nobody had been told otherwise");
    let (subject, _, ics) = read_mail(&t, &agenda[0]);
    assert!(subject.contains("4. februar 2027"), "{subject}");
    let cal = parse_ics(&ics.unwrap().0);
    assert!(cal[3].starts_with("2027-02-04T09:00:00") && cal[2] == "0", "{cal:?}");
    // An item written for the new day is told to keep the meeting's first date.
    let item = crate::check::item(
        &[
            "id = \"ny\"",
            "meeting = \"2027-02-04\"",
            "title = \"Nyt\"",
            "area = \"Andet\"",
            "kind = \"orientering\"",
        ],
        "Tekst.\n",
    );
    t.write("inbox/ny.md", item);
    let out = stdout(&t.must(&["check"], 1));
    assert!(out.contains("skriv meeting = \"2027-01-28\""), "{out}");
}

/// A kill -9 half-way through the notice that `change` (an edit of the meeting's lines in
/// council.toml) causes, after a real agenda send: nothing lost, at most one repeated.
fn kill_9_during_notice(change: &str, phrase: &str) {
    use crate::smtp::{Behaviour, Sink};
    let sink = Sink::start(Behaviour {
        delay: std::time::Duration::from_millis(25),
        ..Default::default()
    });
    let t = crate::deliver::with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);
    edit_first_meeting(
        &t,
        "date = \"2027-01-28\"\n",
        &format!("date = \"2027-01-28\"\n{change}\n"),
    );
    crate::deliver::kill_half_way(
        &t,
        &sink,
        phrase,
        ["2027-01-22T10:00", "2027-01-22T10:05"],
    );
}

#[test]
fn kill_9_while_the_cancellation_goes_out_loses_nothing_and_repeats_at_most_one() {
    kill_9_during_notice("cancelled = true", "er aflyst");
}

#[test]
fn kill_9_while_the_move_notice_goes_out_loses_nothing_and_repeats_at_most_one() {
    kill_9_during_notice("moved_to = \"2027-02-04\"", "er flyttet til");
}
