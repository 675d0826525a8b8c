//! Minutes in two editions and the public site: a canary string in every closed field must
//! never reach anything public, while the member edition has it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::{Test, fold, poppler, stderr, stdout};

/// The canary: in the closed item's title, case, body, recommendation, decision and
/// attachment (name and content).
pub(crate) const CANARY: &str = "KANARIE7731";

const SEND: &str = "2027-01-21T09:00";
const AFTER: &str = "2027-01-28T12:00";

/// A one-page PDF whose text is `text` (ASCII), written by hand so the test owns it.
pub(crate) fn tiny_pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 18 Tf 72 720 Td ({text}) Tj ET");
    crate::harness::pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()).into_bytes(),
    ])
}

/// Puts the canary into the example's closed item (before it is taken in).
pub(crate) fn plant_canary(t: &Test) {
    let path = t.path("inbox/10-udpegning-erhvervshus.md");
    let text = fs::read_to_string(&path).unwrap();
    let text = text
        .replace(
            "title = \"Udpegning af kommunal",
            &format!("title = \"{CANARY} Udpegning af kommunal"),
        )
        .replace("case = \"26/11573\"", &format!("case = \"26/{CANARY}\""))
        .replace(
            "recommendation = \"Det indstilles, at",
            &format!("recommendation = \"{CANARY}: Det indstilles, at"),
        )
        .replace(
            "attachments = []",
            &format!("attachments = [\"bilag/{CANARY}-kandidater.pdf\"]"),
        )
        .replace("## Baggrund", &format!("## Baggrund {CANARY}"));
    assert_eq!(text.matches(CANARY).count(), 5);
    t.write("inbox/10-udpegning-erhvervshus.md", text);
    t.write(
        &format!("inbox/bilag/{CANARY}-kandidater.pdf"),
        tiny_pdf(&format!("Kandidater {CANARY}")),
    );
}

/// Drops every item of the example again with a decision (the closed one with the canary in
/// its member decision), plus an attendance file.
pub(crate) fn decide_all(t: &Test) {
    for name in t.files("inbox/behandlet/2027-01-28") {
        let text =
            fs::read_to_string(t.path(&format!("inbox/behandlet/2027-01-28/{name}")))
                .unwrap();
        let (front, body) = text[4..].split_once("\n+++\n").unwrap();
        let decision = if name.starts_with("10-") {
            format!(
                "[decision]\ntext = \"{CANARY}: KKR udpegede den indstillede kandidat.\"\npublic_text = \"KKR Hovedstaden foretog udpegningen.\""
            )
        } else {
            format!("[decision]\ntext = \"Beslutning i punkt {name}: godkendt.\"")
        };
        t.write(
            &format!("inbox/{name}"),
            format!("+++\n{front}\n{decision}\n+++\n{body}"),
        );
    }
    t.write(
        "inbox/fremmoede-2027-01-28.toml",
        "meeting = \"2027-01-28\"\nabsent = [\"Kirsten Løje Frandsen\"]\nguests = [\"Direktør for KL, Jane Doe\"]\n",
    );
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            walk(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

/// Asserts that no public byte contains the canary: raw bytes, PDF text and PDF metadata.
#[track_caller]
pub(crate) fn assert_no_canary(files: &[PathBuf]) {
    assert!(!files.is_empty());
    for f in files {
        let raw = fs::read(f).unwrap();
        let lossy = String::from_utf8_lossy(&raw).to_lowercase();
        assert!(
            !lossy.contains(&CANARY.to_lowercase()),
            "{} contains the canary in its bytes",
            f.display()
        );
        if f.extension().is_some_and(|e| e == "pdf") {
            for (tool, args) in [
                ("pdftotext", &[][..]),
                ("pdfinfo", &["-meta"][..]),
                ("pdfinfo", &[][..]),
            ] {
                let out = poppler(tool, args, f);
                assert!(
                    !out.contains(CANARY),
                    "{} leaks through {tool} {args:?}",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn closed_content_never_reaches_anything_public_and_members_get_everything() {
    let t = Test::example();
    plant_canary(&t);
    t.must(&["run", "--once", "--now", SEND], 0);
    // The public agenda is out already.
    assert!(t.path("outbox/public/2027-01-28/dagsorden-offentlig.pdf").exists());
    decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T11:00"], 0);
    assert!(
        !t.path("outbox/2027-01-28/referat.pdf").exists(),
        "not before the meeting has ended"
    );
    t.must(&["run", "--once", "--now", AFTER], 0);

    // Members: everything, including the canary, the absent and the decisions.
    let member =
        fold(&poppler("pdftotext", &[], &t.path("outbox/2027-01-28/referat.pdf")));
    assert!(member.contains(CANARY), "the member edition has the closed content");
    assert!(member.contains("Kirsten Løje Frandsen"), "absent members are listed");
    assert!(member.contains("Direktør for KL, Jane Doe"));
    assert_eq!(member.matches(": godkendt.").count(), 11, "every decision is there");
    let mails: Vec<_> =
        t.files("outbox/mail").into_iter().filter(|m| m.contains("-referat-")).collect();
    assert_eq!(mails.len(), 62, "the minutes go to every recipient");

    // The public: nothing of the closed item but its public title and decision.
    let mut public = Vec::new();
    walk(&t.path("outbox/public"), &mut public);
    public.push(t.path("outbox/2027-01-28/referat-offentlig.pdf"));
    public.push(t.path("outbox/2027-01-28/dagsorden-offentlig.pdf"));
    assert_no_canary(&public);
    let text = fold(&poppler(
        "pdftotext",
        &[],
        &t.path("outbox/public/2027-01-28/referat-offentlig.pdf"),
    ));
    assert!(
        text.contains("Udpegning til bestyrelse")
            && text.contains("KKR Hovedstaden foretog udpegningen."),
        "{text}"
    );
    assert!(
        text.contains("Kirsten Løje Frandsen"),
        "the public minutes list absent members"
    );
    assert!(!text.contains("Bilag 10.1"), "no closed attachment");

    // The site.
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(t.path("outbox/public/meetings.json")).unwrap())
            .unwrap();
    let m = &json["meeting"][0];
    let items = m["agendaItem"].as_array().unwrap();
    assert_eq!(items.len(), 12);
    let closed: Vec<_> = items.iter().filter(|i| i["public"] == false).collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["name"], "Udpegning til bestyrelse");
    assert_eq!(closed[0]["result"], "KKR Hovedstaden foretog udpegningen.");
    for f in m["file"].as_array().unwrap() {
        let bytes = fs::read(
            t.path(&format!("outbox/public/{}", f["accessUrl"].as_str().unwrap())),
        )
        .unwrap();
        use sha2::Digest;
        let sha: String =
            sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(f["sha256Checksum"], sha.as_str());
    }
    let feed = fs::read_to_string(t.path("outbox/public/feed.atom")).unwrap();
    assert_eq!(feed.matches("<entry>").count(), 1);
    let index = fs::read_to_string(t.path("outbox/public/index.html")).unwrap();
    assert!(index.contains("lang=\"da\"") && index.contains("referat-offentlig.pdf"));

    // Once is enough: another run sends and publishes nothing new.
    t.must(&["run", "--once", "--now", "2027-01-28T13:00"], 0);
    assert_eq!(
        t.files("outbox/mail").iter().filter(|m| m.contains("-referat-")).count(),
        62
    );
}

#[test]
fn a_changed_decision_republishes_and_the_feed_says_so() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    let agenda = t.path("outbox/public/2027-01-28/dagsorden-offentlig.pdf");
    let published_agenda = fs::read(&agenda).unwrap();
    decide_all(&t);
    let out = t.must(&["run", "--once", "--now", AFTER], 0);
    assert!(
        fs::read(&agenda).unwrap() == published_agenda,
        "decisions do not change the published agenda: {}",
        crate::harness::stderr(&out)
    );
    let first =
        fs::read(t.path("outbox/public/2027-01-28/referat-offentlig.pdf")).unwrap();
    let name = "10-udpegning-erhvervshus.md";
    // The version with the decision is the current file, under the item's first name.
    let text = fs::read_to_string(
        t.path("inbox/behandlet/2027-01-28/10-udpegning-erhvervshus.md"),
    )
    .unwrap();
    assert!(text.contains("KKR Hovedstaden foretog udpegningen."));
    t.write(
        &format!("inbox/{name}"),
        text.replace(
            "KKR Hovedstaden foretog udpegningen.",
            "KKR Hovedstaden foretog udpegningen (rettet).",
        ),
    );
    t.must(&["run", "--once", "--now", "2027-01-29T10:00"], 0);
    let second =
        fs::read(t.path("outbox/public/2027-01-28/referat-offentlig.pdf")).unwrap();
    assert_ne!(first, second);
    assert!(
        fold(&poppler(
            "pdftotext",
            &[],
            &t.path("outbox/public/2027-01-28/referat-offentlig.pdf")
        ))
        .contains("udpegningen (rettet)")
    );
    let feed = fs::read_to_string(t.path("outbox/public/feed.atom")).unwrap();
    assert!(feed.contains("rettet, udgave 2"), "{feed}");
    assert_eq!(feed.matches("<entry>").count(), 1);

    // The closed item's secret decision changes: the public edition shows nothing of it,
    // so it is not published again and the public learns nothing (issue 13).
    let text = fs::read_to_string(
        t.path("inbox/behandlet/2027-01-28/10-udpegning-erhvervshus.md"),
    )
    .unwrap();
    t.write(
        &format!("inbox/{name}"),
        text.replace(
            "KKR udpegede den indstillede kandidat.",
            "KKR udpegede en anden kandidat.",
        ),
    );
    let out = t.must(&["run", "--once", "--now", "2027-01-30T10:00"], 0);
    assert!(!stderr(&out).contains("udgave 3"), "{}", stderr(&out));
    let third =
        fs::read(t.path("outbox/public/2027-01-28/referat-offentlig.pdf")).unwrap();
    assert_eq!(second, third, "the public minutes are untouched");
    assert_eq!(fs::read_to_string(t.path("outbox/public/feed.atom")).unwrap(), feed);
}

#[test]
fn a_closed_decision_without_public_text_is_refused() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    let name = "10-udpegning-erhvervshus.md";
    let text = fs::read_to_string(t.path(&format!("inbox/behandlet/2027-01-28/{name}")))
        .unwrap();
    let (front, body) = text[4..].split_once("\n+++\n").unwrap();
    t.write(
        &format!("inbox/{name}"),
        format!("+++\n{front}\n[decision]\ntext = \"Hemmelig beslutning\"\n+++\n{body}"),
    );
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 1);
    let report =
        fs::read_to_string(t.path(&format!("inbox/afvist/{name}.fejl.txt"))).unwrap();
    assert!(report.contains("public_text"), "{report}");
}

#[test]
fn minutes_render_reproducibly_as_pdf_a() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T11:00"], 0);
    let (a, b) = (t.path("a.pdf"), t.path("b.pdf"));
    t.must(
        &[
            "render",
            "2027-01-28",
            "--minutes",
            "-o",
            a.to_str().unwrap(),
            "--now",
            "2027-01-28T11:05",
        ],
        0,
    );
    t.must(
        &[
            "render",
            "2027-01-28",
            "--minutes",
            "-o",
            b.to_str().unwrap(),
            "--now",
            "2027-02-05T08:00",
        ],
        0,
    );
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    let meta = poppler("pdfinfo", &["-meta"], &a);
    assert!(
        meta.contains("<pdfaid:part>2</pdfaid:part>") && meta.contains("pdfuaid:part>1<")
    );
    let info = poppler("pdfinfo", &[], &a);
    assert!(info.contains("Title:           KKR Hovedstaden – beslutningsreferat fra mødet 28. januar 2027"), "{info}");
    let text = fold(&poppler("pdftotext", &[], &a));
    assert!(text.contains("Afbud") && text.contains("Kirsten Løje Frandsen"), "{text}");
}

#[test]
fn send_minutes_needs_every_decision() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    let out = t.must(&["send", "2027-01-28", "--minutes", "--now", AFTER], 2);
    assert!(crate::harness::stderr(&out).contains("mangler en beslutning"));
    decide_all(&t);
    let mut config = fs::read_to_string(t.path("council.toml")).unwrap();
    config = config
        .replace("minutes_after_decisions = true", "minutes_after_decisions = false");
    t.write("council.toml", config);
    t.must(&["run", "--once", "--now", AFTER], 0);
    assert!(
        !t.path("outbox/2027-01-28/referat.pdf").exists(),
        "not automatic when turned off"
    );
    t.must(&["send", "2027-01-28", "--minutes", "--now", AFTER], 0);
    assert!(t.path("outbox/2027-01-28/referat.pdf").exists());
    let out = t.must(&["publish", "2027-01-28", "--now", AFTER], 0);
    assert!(stdout(&out).contains("publiceret"), "{}", stdout(&out));
}

#[test]
fn publish_alle_rebuilds_the_lost_public_archive_of_several_councils() {
    let t = Test::example();
    plant_canary(&t);
    t.must(&["run", "--once", "--now", SEND], 0);
    decide_all(&t);
    t.must(&["run", "--once", "--now", AFTER], 0);
    let mut before = Vec::new();
    walk(&t.path("outbox/public"), &mut before);
    before.sort();
    let bytes: Vec<Vec<u8>> = before.iter().map(|p| fs::read(p).unwrap()).collect();
    let mails = t.files("outbox/mail").len();
    // A second council whose agenda is out but whose meeting is not held yet.
    let other = Test::example();
    other.must(&["run", "--once", "--now", SEND], 0);

    // The web server's copy and the local public PDFs are lost.
    fs::remove_dir_all(t.path("outbox/public")).unwrap();
    fs::remove_file(t.path("outbox/2027-01-28/referat-offentlig.pdf")).unwrap();
    fs::remove_dir_all(other.path("outbox/public")).unwrap();
    let o = other.path("");
    let out =
        t.must(&["-C", o.to_str().unwrap(), "publish", "--alle", "--now", AFTER], 0);
    // Each council's count is every file of its site: PDFs, bilag, page, site files, search.
    let count = |t: &Test| {
        let mut all = Vec::new();
        walk(&t.path("outbox/public"), &mut all);
        all.len()
    };
    let lines: Vec<_> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            format!("KKR Hovedstaden: {} filer publiceret.", count(&t)),
            format!("KKR Hovedstaden: {} filer publiceret.", count(&other)),
        ],
        "{}",
        stderr(&out)
    );
    assert!(count(&t) > count(&other) && count(&other) > 7, "{lines:?}");

    // Every public file is back, byte for byte (the PDFs render reproducibly); the site
    // lists the same files; nothing closed leaks; nobody is mailed.
    let mut after = Vec::new();
    walk(&t.path("outbox/public"), &mut after);
    after.sort();
    assert_eq!(after, before);
    for (p, b) in after.iter().zip(&bytes) {
        let name = p.file_name().unwrap().to_string_lossy();
        if name.ends_with(".pdf") || name == "meetings.json" {
            assert!(fs::read(p).unwrap() == *b, "{} differs", p.display());
        }
    }
    assert!(t.path("outbox/2027-01-28/referat-offentlig.pdf").exists());
    assert_no_canary(&after);
    assert_eq!(t.files("outbox/mail").len(), mails);
    assert!(other.path("outbox/public/2027-01-28/dagsorden-offentlig.pdf").exists());
    assert!(!other.path("outbox/public/2027-01-28/referat-offentlig.pdf").exists());
    assert!(other.path("outbox/public/meetings.json").exists());

    // One meeting or all of them, not both; several workspaces only with --alle.
    t.must(&["publish", "--now", AFTER], 2);
    t.must(&["publish", "--alle", "2027-01-28", "--now", AFTER], 2);
    t.must(&["-C", o.to_str().unwrap(), "publish", "2027-01-28", "--now", AFTER], 2);
}

#[test]
fn minutes_wait_while_the_attendance_file_is_rejected() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    decide_all(&t);
    fs::remove_file(t.path("inbox/fremmoede-2027-01-28.toml")).unwrap();
    // The attendance names someone not in members.csv: rejected, and the minutes wait.
    t.write(
        "inbox/fremmoede.toml",
        "meeting = \"2027-01-28\"\nabsent = [\"Kirsten Frandsen\"]\n",
    );
    t.must(&["run", "--once", "--now", AFTER], 1);
    assert!(t.path("inbox/afvist/fremmoede.toml").is_file());
    assert!(!t.path("outbox/2027-01-28/referat.pdf").exists(), "the minutes wait");
    let status = stdout(&t.must(&["status", "--now", AFTER], 0));
    assert!(
        status.contains(
            "referat: VENTER: fremmødefilen inbox/afvist/fremmoede.toml er afvist"
        ),
        "{status}"
    );
    let out = t.must(&["send", "2027-01-28", "--minutes", "--now", AFTER], 1);
    assert!(stderr(&out).contains("fremmødefilen"), "{}", stderr(&out));
    t.must(&["run", "--once", "--now", "2027-01-28T12:10"], 0);
    assert!(!t.path("outbox/2027-01-28/referat.pdf").exists(), "still waiting");

    // The corrected file is taken in and the minutes go, listing the absence.
    t.write(
        "inbox/fremmoede.toml",
        "meeting = \"2027-01-28\"\nabsent = [\"Kirsten Løje Frandsen\"]\n",
    );
    t.must(&["run", "--once", "--now", "2027-01-28T12:20"], 0);
    let text = poppler("pdftotext", &[], &t.path("outbox/2027-01-28/referat.pdf"));
    assert!(text.contains("Kirsten Løje Frandsen"), "{text}");
}
