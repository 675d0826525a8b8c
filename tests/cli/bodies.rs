//! Mail bodies that carry the content (SPEC §3, issue 16), read with Python's `email`: the
//! agenda's items with area, kind and recommendation (a closed item marked, its
//! recommendation left in the PDF), a supplement's late reason, a correction's changed and
//! withdrawn items, the minutes' decisions and absences; plain text within 72 columns.

use std::fs;

use crate::check::{OK, item};
use crate::harness::Test;
use crate::minutes::{CANARY, decide_all, plant_canary};

/// The plain and HTML bodies of the first mail of `stem` (`2027-01-28-<stem>-…`).
fn bodies(t: &Test, stem: &str) -> (String, String) {
    let prefix = format!("2027-01-28-{stem}-");
    let file =
        t.mails("outbox/mail").into_iter().find(|f| f.starts_with(&prefix)).unwrap();
    let script = r#"
import sys, email
from email import policy
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=policy.default)
sys.stdout.write(m.get_body(("plain",)).get_content())
sys.stdout.write("\n=====HTML=====\n")
sys.stdout.write(m.get_body(("html",)).get_content())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(t.path("outbox/mail").join(file))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap().replace("\r\n", "\n");
    let (plain, html) = text.split_once("\n=====HTML=====\n").unwrap();
    for line in plain.lines() {
        assert!(line.chars().count() <= 72, "over 72 columns: {line:?}");
    }
    (plain.to_owned(), html.to_owned())
}

/// The front matter of an item dropped after the agenda went out, with its late reason.
pub(crate) fn late_item() -> Vec<&'static str> {
    let mut front = OK.to_vec();
    front[0] = "id = \"2027-01-28-sen\"";
    front[2] = "title = \"Sent punkt om vintervedligeholdelse\"";
    front.push("late_reason = \"Sagen blev klar efter udsendelsen.\"");
    front
}

#[test]
fn every_body_carries_what_its_document_says() {
    let t = Test::example();
    plant_canary(&t);
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let (plain, html) = bodies(&t, "dagsorden");
    for expected in [
        "Tid:  torsdag den 28. januar 2027 kl. 9.00–11.30",
        "3. Fordeling af praktikpladser på SOSU-området 2027",
        "    Uddannelse · Beslutning",
        "    Indstilling:\n    Det indstilles, at KKR Hovedstaden godkender fordelingen af",
        "Lukket punkt · ",
    ] {
        assert!(plain.contains(expected), "{expected}:\n{plain}");
    }
    assert!(html.contains("<strong>Indstilling:</strong> Det indstilles, at KKR Hovedstaden godkender fordelingen"));
    assert!(
        plain.contains("10. Udpegning til bestyrelse\n    Lukket punkt · "),
        "{plain}"
    );
    assert!(
        !plain.contains(CANARY) && !html.contains(CANARY),
        "a closed item stays in the PDF: {plain}"
    );

    // A late item: its reason.
    let front = late_item();
    t.write("inbox/sen.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 0);
    let (plain, _) = bodies(&t, "supplerende-dagsorden-1");
    assert!(plain.contains("13. Sent punkt om vintervedligeholdelse"), "{plain}");
    assert!(
        plain.contains(
            "Begrundelse for sen fremsendelse:\n    Sagen blev klar efter udsendelsen."
        ),
        "{plain}"
    );

    // A changed and then a withdrawn item: marked in the correction's body.
    let mut changed = front.clone();
    changed[2] = "title = \"Sent punkt om vintervedligeholdelse af veje\"";
    t.write("inbox/sen.md", item(&changed, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T11:00"], 0);
    let (plain, _) = bodies(&t, "rettet-dagsorden-1");
    assert!(
        plain.contains("13. Sent punkt om vintervedligeholdelse af veje\n    Ændret · "),
        "{plain}"
    );
    changed.push("withdrawn = true");
    t.write("inbox/sen.md", item(&changed, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T12:00"], 0);
    let (plain, _) = bodies(&t, "rettet-dagsorden-2");
    assert!(plain.contains("    Trukket · "), "{plain}");

    // The minutes: every decision and the absences; a closed item's public decision only.
    decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 0);
    let (plain, html) = bodies(&t, "referat");
    assert!(
        plain.contains(
            "    Beslutning:\n    Beslutning i punkt 03-praktikpladser.md: godkendt."
        ),
        "{plain}"
    );
    assert!(plain.contains("KKR Hovedstaden foretog udpegningen."), "{plain}");
    assert!(!plain.contains(CANARY) && !html.contains(CANARY), "{plain}");
    assert!(plain.contains("Afbud: Kirsten Løje Frandsen."), "{plain}");
    assert!(plain.contains("Deltog i øvrigt: Direktør for KL, Jane Doe."), "{plain}");
    assert!(html.contains("<strong>Afbud:</strong> Kirsten Løje Frandsen."), "{html}");
    assert!(fs::metadata(t.path("outbox/2027-01-28/referat.pdf")).is_ok());
}
