//! The agenda PDF read back: Danish text, embedded fonts, reproducible bytes, literal titles.

use std::fs;

use crate::check::{OK, item};
use crate::harness::{Test, fold, poppler, stdout};

fn titles(t: &Test) -> Vec<String> {
    let mut v = Vec::new();
    for name in t.files("inbox") {
        let text = fs::read_to_string(t.path(&format!("inbox/{name}"))).unwrap();
        let line = text.lines().find(|l| l.starts_with("title = ")).unwrap();
        v.push(line.trim_start_matches("title = ").trim_matches('"').to_owned());
    }
    v
}

#[test]
fn the_agenda_has_council_date_every_title_and_page_numbers() {
    let t = Test::example();
    let titles = titles(&t);
    assert_eq!(titles.len(), 12);
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let pdf = t.path("outbox/2027-01-28/dagsorden.pdf");
    let text = fold(&poppler("pdftotext", &[], &pdf));
    assert!(text.contains("KKR Hovedstaden"));
    assert!(text.contains("torsdag den 28. januar 2027 kl. 9.00"), "{text}");
    assert!(text.contains("Side 1 af"));
    assert!(!text.contains("UDKAST"), "the sent agenda is not a draft");
    for title in &titles {
        assert!(text.contains(&fold(title)), "missing title {title}");
    }
    assert!(text.contains("Lukket punkt"), "the closed item is marked");
    assert!(text.contains("Bilag 3.1 – Fordeling af praktikpladser pr. kommune"));

    let info = poppler("pdfinfo", &[], &pdf);
    assert!(
        info.contains(
            "Title:           KKR Hovedstaden – dagsorden til mødet 28. januar 2027"
        ),
        "{info}"
    );
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(info.contains("Page size:       595.276 x 841.89 pts (A4)"), "{info}");
    let meta = poppler("pdfinfo", &["-meta"], &pdf);
    assert!(
        meta.contains("<pdfaid:part>2</pdfaid:part>")
            && meta.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
        "PDF/A-2b is declared"
    );
    assert!(meta.contains("pdfuaid:part>1<"), "PDF/UA-1 is declared");
    assert!(meta.contains(">da<"), "the language is Danish");

    let fonts = poppler("pdffonts", &[], &pdf);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty());
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(cols[n - 5], "yes", "font not embedded: {row}");
    }
}

#[test]
fn renders_are_byte_identical() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-20T12:00"], 0);
    let (a, b) = (t.path("a.pdf"), t.path("b.pdf"));
    t.must(
        &["render", "2027-01-28", "-o", a.to_str().unwrap(), "--now", "2027-01-20T13:00"],
        0,
    );
    t.must(
        &["render", "2027-01-28", "-o", b.to_str().unwrap(), "--now", "2027-01-25T08:00"],
        0,
    );
    let a = fs::read(t.path("a.pdf")).unwrap();
    assert!(a.starts_with(b"%PDF-"));
    assert_eq!(
        a,
        fs::read(t.path("b.pdf")).unwrap(),
        "same input, same bytes, whatever the time"
    );
    let info = poppler("pdfinfo", &[], &t.path("a.pdf"));
    assert!(
        info.contains("CreationDate:    Wed Jan 20 11:00:00 2027 UTC"),
        "the date is when the content changed: {info}"
    );
}

#[test]
fn typst_and_handlebars_syntax_in_a_title_appear_literally() {
    let t = Test::example_without_items();
    let mut front = OK.to_vec();
    let title = r#"Budget #panic("x") $x$ ] \ {{x}} <script>"#;
    let line = format!("title = '{title}'");
    front[2] = &line;
    t.write(
        "inbox/evil.md",
        item(&front, "Brødtekst med #read(\"/etc/passwd\") og *stjerner*.\n"),
    );
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let text =
        fold(&poppler("pdftotext", &[], &t.path("outbox/2027-01-28/dagsorden.pdf")));
    assert!(text.contains(title), "{text}");
    assert!(text.contains("#read(\"/etc/passwd\")"), "{text}");
}

#[test]
fn render_previews_inbox_items_without_taking_them_in() {
    let t = Test::example();
    let out = t.must(&["render", "2027-01-28", "--now", "2027-01-10T09:00"], 0);
    assert!(stdout(&out).contains("12 punkter"), "{}", stdout(&out));
    assert!(t.path("outbox/2027-01-28/visning-dagsorden.pdf").exists());
    assert_eq!(t.files("inbox").len(), 12, "nothing was taken in");
    assert!(!t.path("state/kkr.sqlite").exists());
}

#[test]
fn a_template_error_names_the_template_line() {
    let t = Test::example();
    let builtin =
        fs::read_to_string(crate::harness::repo().join("templates/agenda.typ")).unwrap();
    t.write(
        "templates/common.typ",
        fs::read(crate::harness::repo().join("templates/common.typ")).unwrap(),
    );
    t.write(
        "templates/agenda.typ",
        builtin.replacen("#cover(meeting)", "#cover(meeting)\n#let x = (1 +", 1),
    );
    let out = t.kkr(&["render", "2027-01-28", "--now", "2027-01-10T09:00"]);
    assert_ne!(out.status.code(), Some(0));
    let err = crate::harness::stderr(&out);
    assert!(err.contains("templates/agenda.typ:"), "{err}");
    assert!(err.contains(": fejl: "), "{err}");

    // In a run the agenda cannot be made: nothing is sent, and the secretariat hears why.
    let out = t.kkr(&["run", "--once", "--now", "2027-01-21T09:00"]);
    assert_eq!(out.status.code(), Some(4), "{}", crate::harness::stderr(&out));
    assert!(t.mails("outbox/mail").is_empty());
    let told = t.notice_texts("outbox/mail").join("\n");
    assert!(
        told.contains("kan ikke laves og sendes ikke")
            && told.contains("templates/agenda.typ:"),
        "{told}"
    );
}

#[test]
fn a_document_that_cannot_be_made_at_its_moment_is_held_named_in_status_and_goes_once_fixed()
 {
    let t = Test::example();
    let repo = crate::harness::repo();
    for name in ["agenda.typ", "common.typ", "minutes.typ"] {
        t.write(
            &format!("templates/{name}"),
            fs::read(repo.join("templates").join(name)).unwrap(),
        );
    }
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    // The template is broken after the items were taken in: at its moment the agenda
    // cannot be made.
    let good = fs::read_to_string(t.path("templates/common.typ")).unwrap();
    t.write("templates/common.typ", format!("{good}\n#let broken = (\n"));
    let out = t.kkr(&["run", "--once", "--now", "2027-01-21T09:00"]);
    assert_ne!(out.status.code(), Some(0), "{}", crate::harness::stderr(&out));
    assert!(t.mails("outbox/mail").is_empty(), "nothing reaches the members");
    let told = t.notice_texts("outbox/mail");
    assert!(
        told.iter().any(|n| n.contains("kan ikke laves")),
        "the secretariat is told: {told:?}"
    );
    let status = stdout(&t.must(&["status", "--now", "2027-01-21T09:01"], 0));
    assert!(
        status.contains("dagsorden: KAN IKKE LAVES") && status.contains("common.typ"),
        "{status}"
    );
    let json = stdout(&t.must(&["status", "--json", "--now", "2027-01-21T09:01"], 0));
    assert!(json.contains("\"what\": \"dagsorden\""), "{json}");
    // Fixed: it goes, once, and status no longer names it.
    t.write("templates/common.typ", &good);
    t.must(&["run", "--once", "--now", "2027-01-21T09:05"], 0);
    assert_eq!(t.mails("outbox/mail").len(), 62);
    let status = stdout(&t.must(&["status", "--now", "2027-01-21T09:06"], 0));
    assert!(!status.contains("KAN IKKE LAVES"), "{status}");
}

#[test]
fn a_text_that_wraps_before_a_danish_date_stays_one_paragraph_and_lists_stay_lists() {
    let t = Test::example();
    // Item 10 wraps "… med virkning fra⏎1. april 2027." (CommonMark alone reads a list).
    let ten = fs::read_to_string(t.path("inbox/10-udpegning-erhvervshus.md")).unwrap();
    assert!(ten.contains("med virkning fra\n1. april 2027."));
    let mut front = OK.to_vec();
    front[0] = "id = \"2027-01-28-liste\"";
    front[2] = "title = \"Punkt med en rigtig liste\"";
    t.write(
        "inbox/liste.md",
        item(&front, "Formanden foreslår:\n\n1. sundhed\n2. trafik\n"),
    );
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    let tags = poppler(
        "pdfinfo",
        &["-struct-text"],
        &t.path("outbox/2027-01-28/dagsorden-udkast.pdf"),
    );
    assert!(tags.contains("med virkning fra 1. april 2027."), "one paragraph:\n{tags}");
    let lbl = tags.lines().filter(|l| l.trim() == "\"1.\"").count();
    assert!(lbl >= 1, "the real list keeps its numbers");
    let after: Vec<&str> =
        tags.lines().skip_while(|l| !l.contains("Formanden foreslår")).take(12).collect();
    assert!(
        after.iter().any(|l| l.trim() == "Lbl (block)"),
        "a list after the paragraph: {after:?}"
    );
}
