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

/// Whether any file of the site's search index, unpacked, contains `word` (any case).
fn index_contains(t: &Test, word: &str) -> bool {
    let script = r#"
import gzip, os, sys
word = sys.stdin.read().lower().encode()
n = found = 0
for root, _, files in os.walk("outbox/public/pagefind"):
    for f in files:
        data = open(os.path.join(root, f), "rb").read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        found += word in data.lower()
        n += 1
assert n > 5, n
print(found)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .current_dir(t.path(""))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(word.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "the index could not be read");
    String::from_utf8_lossy(&out.stdout).trim() != "0"
}

/// A static HTTP server (Python's) serving `dir` on loopback; stopped when dropped.
struct Served(std::process::Child, u16);

impl Served {
    fn start(dir: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1"])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        crate::harness::wait_until(
            "the HTTP server",
            std::time::Duration::from_secs(10),
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        Self(child, port)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a reader finds typing `query` into the site's search: result links and titles,
/// all the text the results show, and axe-core's violations with the results showing.
fn search(
    served: &Served,
    query: &str,
) -> (Vec<(String, String)>, String, Vec<serde_json::Value>) {
    let out = std::process::Command::new("node")
        .arg(crate::harness::repo().join("tests/axe/search.mjs"))
        .arg(format!("http://127.0.0.1:{}/public/soeg.html", served.1))
        .arg(query)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["href"].as_str().unwrap().to_owned(),
                r["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let text = v["text"].as_str().unwrap().to_owned();
    (results, text, v["violations"].as_array().unwrap().clone())
}

#[test]
fn the_site_search_finds_public_words_and_nothing_of_a_closed_item() {
    let t = Test::example();
    plant_canary(&t);
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 0);
    assert!(
        !index_contains(&t, crate::minutes::CANARY),
        "the canary is in the search index"
    );

    // Served in a folder of its host, as on kl.dk: results link inside that folder.
    let served = Served::start(&t.path("outbox"));
    let (results, _, violations) = search(&served, "praktikpladser");
    assert!(violations.is_empty(), "{violations:?}");
    assert!(
        results
            .iter()
            .any(|(href, title)| href == "/public/2027-01-28/index.html#punkt-3-titel"
                && title.contains("Fordeling af praktikpladser")),
        "{results:?}"
    );
    // The closed item is found by its public title, and by nothing else of it.
    let (results, text, _) = search(&served, "Udpegning");
    assert!(
        results.iter().any(|(href, _)| href.ends_with("#punkt-10-titel")),
        "{results:?}"
    );
    assert!(text.contains("Udpegning til bestyrelse"), "{text}");
    // Pagefind shows its nearest pages for a word it does not have; none says the canary.
    let (_, text, _) = search(&served, crate::minutes::CANARY);
    // (The UI says back what was searched for: that line is the reader's own words.)
    let text: String = text.lines().filter(|l| !l.contains(" for KANARIE")).collect();
    assert!(
        !text.to_lowercase().contains(&crate::minutes::CANARY.to_lowercase()),
        "{text}"
    );
}

#[test]
fn decisions_reach_the_site_only_with_the_published_minutes() {
    let t = Test::example();
    let toml = fs::read_to_string(t.path("council.toml")).unwrap();
    t.write(
        "council.toml",
        toml.replacen("minutes_approval = false", "minutes_approval = true", 1),
    );
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    decide_all(&t);
    let no_decision = |when: &str| {
        let html = page(&t);
        assert!(!html.contains("Beslutning i punkt"), "{when}: {html}");
        assert!(!html.contains("<h3>Beslutning</h3>"), "{when}");
        assert!(!index_contains(&t, "Beslutning i punkt"), "{when}: in the search index");
    };
    // During the meeting, and after it while the chair has not approved the draft.
    t.must(&["run", "--once", "--now", "2027-01-28T10:00"], 0);
    no_decision("during the meeting");
    t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 0);
    assert!(t.files("outbox/2027-01-28").iter().any(|f| f.starts_with("referat-udkast")));
    no_decision("awaiting approval");
    t.must(
        &[
            "approve",
            "2027-01-28",
            "--minutes",
            "--by",
            "Christian Løvgreen Berg",
            "--now",
            "2027-01-29T09:00",
        ],
        0,
    );
    t.must(&["run", "--once", "--now", "2027-01-29T09:05"], 0);
    let html = page(&t);
    assert!(html.contains("Beslutning i punkt"), "approved: {html}");
    assert!(index_contains(&t, "Beslutning i punkt"));
}
