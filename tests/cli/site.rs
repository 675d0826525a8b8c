//! The public site's meeting pages (SPEC §3.6): `<date>/index.html` with the public agenda
//! and, once decided, the public minutes, the public bilag as their own files, escaped text,
//! a closed item by its public title and decision only, checked by axe-core.

use std::fs;

use crate::axe::assert_accessible;
use crate::harness::Test;
use crate::minutes::{assert_no_canary, decide_all, plant_canary};

const PAGE: &str = "outbox/public/2027-01-28/index.html";

fn page(t: &Test) -> String {
    fs::read_to_string(t.path(PAGE)).unwrap()
}

#[test]
fn each_meeting_has_an_accessible_page_with_its_public_agenda_then_its_minutes() {
    let t = Test::example();
    plant_canary(&t);
    // Markup in an item is text on the page, never markup.
    let path = t.path("inbox/05-beskaeftigelsesreform.md");
    let text = fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "## Baggrund",
        "## Baggrund\n\nSe <img src=x onerror=alert(1)> & <b>fed</b>.\n",
        1,
    );
    fs::write(&path, text).unwrap();
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);

    let html = page(&t);
    assert!(
        html.contains("<h1>Dagsorden: møde torsdag den 28. januar 2027</h1>"),
        "{html}"
    );
    assert!(
        html.contains("3. Fordeling af praktikpladser på SOSU-området 2027"),
        "{html}"
    );
    assert!(html.contains("<h3>Indstilling</h3>"));
    assert!(
        html.contains(
            "Se &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; &amp; &lt;b&gt;fed&lt;/b&gt;."
        ),
        "markup stays text"
    );
    assert!(!html.contains("<img"));
    // The open item's bilag is its own file, byte for byte; the closed item's is nowhere.
    assert!(html.contains("<a href=\"bilag-3.1.pdf\">Bilag 3.1 – Fordeling af praktikpladser pr. kommune</a>"), "{html}");
    assert_eq!(
        fs::read(t.path("outbox/public/2027-01-28/bilag-3.1.pdf")).unwrap(),
        fs::read(t.path("inbox/bilag/fordeling-praktikpladser-2027.pdf")).unwrap()
    );
    let files = t.files("outbox/public/2027-01-28");
    assert!(!files.iter().any(|f| f.starts_with("bilag-10.")), "{files:?}");
    assert!(
        html.contains("10. Udpegning til bestyrelse"),
        "the closed item's public title"
    );
    assert!(html.contains("Punktet er lukket."));
    let index = fs::read_to_string(t.path("outbox/public/index.html")).unwrap();
    assert!(index.contains("<a href=\"2027-01-28/index.html\">"), "{index}");
    assert!(!html.contains("<h3>Beslutning</h3>"), "no decisions before the minutes");

    // The minutes: the page shows every public decision and the attendance.
    decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 0);
    let html = page(&t);
    assert!(
        html.contains("<h1>Beslutningsreferat: møde torsdag den 28. januar 2027</h1>"),
        "{html}"
    );
    assert_eq!(html.matches("<h3>Beslutning</h3>").count(), 12, "{html}");
    assert!(html.contains("KKR Hovedstaden foretog udpegningen."));
    assert!(html.contains("<strong>Afbud:</strong> Kirsten Løje Frandsen."), "{html}");
    assert!(html.contains("<a href=\"referat-offentlig.pdf\">"), "{html}");
    let mut public = Vec::new();
    for f in t.files("outbox/public/2027-01-28") {
        public.push(t.path("outbox/public/2027-01-28").join(f));
    }
    assert_no_canary(&public);
    assert_accessible(&[t.path(PAGE)]);
}

#[test]
fn a_bilag_that_stops_being_public_leaves_the_site() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let bilag = t.path("outbox/public/2027-01-28/bilag-3.1.pdf");
    assert!(bilag.exists());
    // The secretariat marks the bilag as not public: a corrected agenda, and the file goes.
    let current = "inbox/behandlet/2027-01-28/03-praktikpladser.md";
    let text = fs::read_to_string(t.path(current)).unwrap();
    let text = text.replacen(
        "title = \"Fordeling af praktikpladser pr. kommune\" }",
        "title = \"Fordeling af praktikpladser pr. kommune\", public = false }",
        1,
    );
    assert!(text.contains("public = false"));
    t.write("inbox/03-praktikpladser.md", text);
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 0);
    assert!(!bilag.exists(), "{:?}", t.files("outbox/public/2027-01-28"));
    let html = page(&t);
    assert!(html.contains("<li>Bilag 3.1 – Fordeling af praktikpladser pr. kommune (ikke offentligt)</li>"), "{html}");
}

#[test]
fn kalender_ics_lists_every_meeting_with_public_titles_and_follows_a_cancellation() {
    let t = Test::example();
    plant_canary(&t);
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let read = || {
        let script = r#"
import sys, icalendar
c = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
for e in c.walk("VEVENT"):
    d = str(e.get("DESCRIPTION", "")).replace("\n", "|")
    print(e["UID"], e.decoded("DTSTART").isoformat(), e["STATUS"], d, sep="\t")
"#;
        crate::harness::python(
            script,
            &fs::read(t.path("outbox/public/kalender.ics")).unwrap(),
        )
    };
    let cal = read();
    let lines: Vec<&str> = cal.lines().collect();
    assert_eq!(lines.len(), 5, "every meeting of council.toml, past and coming: {cal}");
    let first: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(first[0], "kkr-hovedstaden-2027-01-28-offentlig@kkr");
    assert_eq!(first[1], "2027-01-28T09:00:00+01:00");
    assert_eq!(first[2], "CONFIRMED");
    assert!(first[3].contains("|10. Udpegning til bestyrelse|"), "{cal}");
    assert!(!cal.contains(crate::minutes::CANARY));
    assert!(lines[1].split('\t').nth(3) == Some(""), "no items before its agenda: {cal}");

    // A coming meeting cancelled in council.toml: the calendar says so at the next pass.
    let toml = fs::read_to_string(t.path("council.toml")).unwrap();
    let toml = toml.replacen(
        "date = \"2027-03-18\"",
        "date = \"2027-03-18\"\ncancelled = true",
        1,
    );
    t.write("council.toml", toml);
    t.must(&["run", "--once", "--now", "2027-01-21T10:00"], 0);
    let cal = read();
    let march = cal.lines().find(|l| l.contains("2027-03-18-offentlig")).unwrap();
    assert!(
        march.contains("\tCANCELLED\t") && march.contains("Mødet er aflyst."),
        "{cal}"
    );
}
