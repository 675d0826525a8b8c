//! Hostile and broken input: every case gives a clear Danish rejection (or is taken in
//! literally), nothing panics, and the other files are not affected.

use std::fs;

use crate::check::{OK, item};
use crate::harness::{Test, fold, poppler, repo, stderr, stdout};

/// The cases in `tests/fixtures/hostile/`: (file name, expected report text or `ok`).
fn cases() -> Vec<(String, String)> {
    let dir = repo().join("tests/fixtures/hostile");
    let mut out = Vec::new();
    for e in fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".md")
            && stem != "README"
        {
            let expect = fs::read_to_string(dir.join(format!("{stem}.expect"))).unwrap();
            out.push((name, expect.trim().to_owned()));
        }
    }
    out.sort();
    out
}

/// A workspace with every hostile case, a 50 MB item and a symlink out of the workspace.
fn hostile_workspace() -> Test {
    let t = Test::example();
    let dir = repo().join("tests/fixtures/hostile");
    for (name, _) in cases() {
        t.write(&format!("inbox/{name}"), fs::read(dir.join(&name)).unwrap());
    }
    for e in fs::read_dir(dir.join("bilag")).unwrap().flatten() {
        t.write(
            &format!("inbox/bilag/{}", e.file_name().to_string_lossy()),
            fs::read(e.path()).unwrap(),
        );
    }
    // 50 MB: refused from its size, without reading it all.
    let big = fs::File::create(t.path("inbox/stor.md")).unwrap();
    big.set_len(50 << 20).unwrap();
    drop(big);
    crate::harness::age(&t.path("inbox/stor.md"));
    // A symlink that points out of the workspace.
    let outside = tempfile::NamedTempFile::new().unwrap();
    fs::write(outside.path(), crate::minutes::tiny_pdf("udenfor")).unwrap();
    std::os::unix::fs::symlink(outside.path(), t.path("inbox/bilag/link.pdf")).unwrap();
    let mut front = OK.to_vec();
    front[0] = "id = \"symlink\"";
    front.push("attachments = [\"bilag/link.pdf\"]");
    t.write("inbox/symlink.md", item(&front, "x\n"));
    std::mem::forget(outside);
    t
}

fn expected_reports() -> Vec<(String, String)> {
    let mut v: Vec<_> = cases().into_iter().filter(|(_, e)| e != "ok").collect();
    v.push(("stor.md".into(), "filen er større end 1 MiB".into()));
    v.push(("symlink.md".into(), "kkr følger ikke links".into()));
    v
}

#[test]
fn check_names_every_hostile_file_and_changes_nothing() {
    let t = hostile_workspace();
    let out = t.must(&["check"], 1);
    let text = stdout(&out);
    for (name, expect) in expected_reports() {
        let lines: Vec<&str> =
            text.lines().filter(|l| l.starts_with(&format!("inbox/{name}:"))).collect();
        assert!(
            lines.iter().any(|l| l.contains(&expect)),
            "{name}: expected `{expect}` in {lines:?}\n{text}"
        );
    }
    for (name, _) in cases().iter().filter(|(_, e)| e == "ok") {
        assert!(!text.contains(&format!("inbox/{name}:")), "{name} is fine:\n{text}");
    }
    assert!(!stderr(&out).contains("panicked"));
    assert!(!t.path("state").exists());
}

#[test]
fn run_rejects_each_with_a_report_takes_in_the_rest_and_renders_titles_literally() {
    let t = hostile_workspace();
    let out = t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 1);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    for (name, expect) in expected_reports() {
        let report = fs::read_to_string(t.path(&format!("inbox/afvist/{name}.fejl.txt")))
            .unwrap_or_else(|_| panic!("{name} has a report"));
        assert!(report.contains(&expect), "{name}: {report}");
        assert!(
            t.path(&format!("inbox/afvist/{name}")).exists(),
            "{name} is kept, not lost"
        );
    }
    // The example's twelve items and the literal-title cases went through.
    let taken = t.files("inbox/behandlet/2027-01-28");
    assert_eq!(
        taken.len(),
        12 + cases().iter().filter(|(_, e)| e == "ok").count(),
        "{taken:?}"
    );
    let text =
        fold(&poppler("pdftotext", &[], &t.path("outbox/2027-01-28/dagsorden.pdf")));
    assert!(
        text.contains("#read(\"/etc/passwd\") #panic() $x$ ] \\"),
        "typst syntax is text"
    );
    assert!(
        text.contains("{{#each members}}{{email}}{{/each}}"),
        "handlebars syntax is text"
    );
    assert!(text.contains("<script>alert(1)</script>"), "HTML is text");
    let mail =
        fs::read_dir(t.path("outbox/mail")).unwrap().flatten().next().unwrap().path();
    let raw = fs::read(mail).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = msg.body_html(0).unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped in the HTML mail"
    );
    assert!(!html.contains("<script>"), "no markup from a title in the HTML mail");
}

#[test]
fn the_201st_item_of_a_meeting_is_refused() {
    let t = Test::example_without_items();
    for i in 0..201 {
        let mut front = OK.to_vec();
        let id = format!("id = \"punkt-{i:03}\"");
        front[0] = &id;
        t.write(&format!("inbox/p{i:03}.md"), item(&front, "x\n"));
    }
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 1);
    assert_eq!(t.files("inbox/behandlet/2027-01-28").len(), 200);
    let report = fs::read_to_string(t.path("inbox/afvist/p200.md.fejl.txt")).unwrap();
    assert!(report.contains("200 punkter, som er grænsen"), "{report}");
}

#[test]
fn a_hostile_roster_is_refused_and_nothing_is_sent() {
    let t = Test::example();
    t.write(
        "members.csv",
        "name,email,role,party,municipality,vote\nA,\"a@example.org\r\nBcc: x@evil.example\",medlem,,,ja\nB,b@example.org,medlem,,,ja\nC,b@example.org,borgmester,,,ja\n",
    );
    let text = stdout(&t.must(&["check"], 1));
    assert!(
        text.contains("members.csv:2:3: fejl: mailadressen indeholder linjeskift"),
        "{text}"
    );
    assert!(text.contains("står også ved B"), "{text}");
    assert!(text.contains("ukendt rolle \"borgmester\""), "{text}");
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 1);
    assert!(t.mails("outbox/mail").is_empty());
}

#[test]
fn a_date_far_away_is_a_located_error_and_panics_nothing() {
    let t = Test::example();
    let config = fs::read_to_string(t.path("council.toml"))
        .unwrap()
        .replace("date = \"2027-03-18\"", "date = \"9999-12-31\"");
    t.write("council.toml", config);
    let out = t.must(&["check"], 1);
    assert!(stdout(&out).contains("ligger uden for årene 2000–2100"), "{}", stdout(&out));
    assert!(stdout(&out).contains("council.toml:"), "located: {}", stdout(&out));
    for args in [&["run", "--once"][..], &["status"][..]] {
        let out = t.kkr(args);
        assert!(
            !stderr(&out).contains("panicked")
                && out.status.code().is_some_and(|c| c <= 4),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = t.kkr(&["status", "--now", "9999-12-31T09:00"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn only_web_and_mail_links_are_clickable_in_the_pdfs() {
    let t = Test::example_without_items();
    let body = "Se [KL](https://www.kl.dk), [skriv](mailto:a@example.org), [klik](javascript:alert(1)), [data](data:text/html,x) og [fil](file:///etc/passwd).\n";
    t.write("inbox/a.md", item(&OK, body));
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    for pdf in ["dagsorden-udkast.pdf"] {
        let path = t.path(&format!("outbox/2027-01-28/{pdf}"));
        let urls = poppler("pdfinfo", &["-url"], &path);
        assert!(
            urls.contains("https://www.kl.dk") && urls.contains("mailto:a@example.org"),
            "{urls}"
        );
        for bad in ["javascript:", "data:", "file:"] {
            assert!(!urls.contains(bad), "{bad} is not a link: {urls}");
        }
        let text = fold(&poppler("pdftotext", &[], &path));
        assert!(text.contains("klik") && text.contains("fil"), "shown as text: {text}");
    }
}

#[test]
fn addresses_the_mail_server_cannot_take_are_located_roster_errors() {
    let t = Test::example();
    let mut roster = fs::read_to_string(t.path("members.csv")).unwrap();
    roster.push_str("Lit,a@[127.0.0.1],medlem,,,ja\nQuoted,\"\"\"c d\"\"@example.org\",medlem,,,ja\nÆble,søren@kommune.dk,medlem,,,ja\nStor,Maria.Bendtsen@EXAMPLE.org,medlem,,,ja\n");
    t.write("members.csv", roster);
    let text = stdout(&t.must(&["check"], 1));
    for (line, what) in
        [(64, "domænet er en IP-adresse"), (65, "anførselstegn"), (66, "æ, ø, å")]
    {
        assert!(
            text.contains(&format!("members.csv:{line}:")) && text.contains(what),
            "line {line}: {what}: {text}"
        );
    }
    assert!(
        text.contains("står også ved Maria Kjær Bendtsen"),
        "case-insensitive: {text}"
    );
    // Nothing is sent while the roster is invalid: no one is silently skipped.
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 1);
    assert!(t.mails("outbox/mail").is_empty());
}

#[test]
fn a_zeroed_deleted_or_foreign_ledger_stops_kkr_instead_of_sending_everything_again() {
    for damage in ["zero", "delete", "foreign"] {
        let t = Test::example();
        t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
        let sent = fs::read(t.path("outbox/2027-01-28/dagsorden.pdf")).unwrap();
        let mails = t.mails("outbox/mail").len();
        let ledger = t.path("state/kkr.sqlite");
        match damage {
            "zero" => fs::write(&ledger, b"").unwrap(),
            "delete" => fs::remove_file(&ledger).unwrap(),
            _ => {
                fs::remove_file(&ledger).unwrap();
                let conn = rusqlite::Connection::open(&ledger).unwrap();
                conn.execute_batch("CREATE TABLE photos (id INTEGER);").unwrap();
            }
        }
        // The items dropped again, as a secretariat would after "losing" them.
        crate::example::copy_inbox(
            &crate::harness::repo().join("inbox"),
            &t.path("inbox"),
        );
        let out = t.kkr(&["run", "--once", "--now", "2027-01-22T09:00"]);
        assert_eq!(out.status.code(), Some(4), "{damage}: {}", stderr(&out));
        let err = stderr(&out);
        let expected =
            if damage == "foreign" { "ikke kkr's log" } else { "sikkerhedskopi" };
        assert!(err.contains(expected), "{damage}: {err}");
        assert_eq!(t.mails("outbox/mail").len(), mails, "{damage}: nothing sent again");
        assert_eq!(fs::read(t.path("outbox/2027-01-28/dagsorden.pdf")).unwrap(), sent);
        if damage != "foreign" {
            let status = stdout(&t.must(&["status"], 0));
            assert!(
                status.contains("ADVARSEL") && status.contains("sikkerhedskopi"),
                "{status}"
            );
            t.must(&["check"], 1);
        }
    }
}

/// A one-page PDF whose content stream is a deflate bomb: 600 KB that inflate to 300 MB of
/// drawing operators (made with Python's zlib at test time; the repository stays small).
fn deflate_bomb() -> Vec<u8> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,zlib; sys.stdout.buffer.write(zlib.compress(b'0 0 m 1 1 l S\\n'*(300*1024*1024//14), 9))",
        ])
        .output()
        .expect("python3 makes the test corpus");
    let stream = out.stdout;
    let mut content =
        format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", stream.len())
            .into_bytes();
    content.extend_from_slice(&stream);
    content.extend_from_slice(b"\nendstream");
    crate::harness::pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
            .to_vec(),
        content,
    ])
}

/// A PDF of `n` empty pages.
fn many_pages(n: usize) -> Vec<u8> {
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", i + 3)).collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes(),
    ];
    for _ in 0..n {
        objects.push(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec());
    }
    crate::harness::pdf(&objects)
}

/// A 33-byte PNG header declaring `w` × `h` pixels.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

#[test]
fn hostile_bilag_are_rejected_behind_the_process_boundary_and_the_rest_goes_on() {
    let t = Test::example();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "bombe.pdf",
            deflate_bomb(),
            "beskadiget eller for stort til at blive læst sikkert",
        ),
        ("sider.pdf", many_pages(10_000), "10000 sider; grænsen er 500"),
        ("kort.png", png_bomb(100_000, 100_000), "100000 × 100000 pixels"),
    ];
    for (i, (file, bytes, _)) in cases.iter().enumerate() {
        fs::write(t.path(&format!("inbox/bilag/{file}")), bytes).unwrap();
        crate::harness::age(&t.path(&format!("inbox/bilag/{file}")));
        let mut front = OK.to_vec();
        let id = format!("id = \"2027-01-28-fjendtlig-{i}\"");
        let bilag = format!("attachments = [\"bilag/{file}\"]");
        front[0] = &id;
        front.push(&bilag);
        t.write(&format!("inbox/fjendtlig-{i}.md"), item(&front, "Tekst.\n"));
    }
    let out = t.must(&["check"], 1);
    for (_, _, expected) in &cases {
        assert!(stdout(&out).contains(expected), "check: {expected}: {}", stdout(&out));
    }
    let out = t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 1);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    for (i, (_, _, expected)) in cases.iter().enumerate() {
        let report = fs::read_to_string(
            t.path(&format!("inbox/afvist/fjendtlig-{i}.md.fejl.txt")),
        )
        .unwrap();
        assert!(report.contains(expected), "{expected}: {report}");
    }
    // Everyone else's items went in and the agenda went out, to everyone.
    assert_eq!(t.files("inbox/behandlet/2027-01-28").len(), 12);
    assert_eq!(t.mails("outbox/mail").len(), 62);
    let state: u64 = fs::read_dir(t.path("state/attachments"))
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(state < 8 << 20, "state/ holds nothing of the rejected bilag: {state}");
}

#[cfg(unix)]
#[test]
fn hard_links_fifos_devices_and_linked_folders_are_refused_as_bilag() {
    let t = Test::example_without_items();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("hemmelig.pdf");
    fs::write(&secret, crate::minutes::tiny_pdf("HEMMELIG")).unwrap();
    fs::create_dir_all(t.path("inbox/bilag")).unwrap();
    fs::hard_link(&secret, t.path("inbox/bilag/haard.pdf")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", t.path("inbox/bilag/nul.pdf")).unwrap();
    std::os::unix::fs::symlink(outside.path(), t.path("inbox/bilag/mappe")).unwrap();
    let fifo = t.path("inbox/bilag/fifo.pdf");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let cases = [
        ("bilag/haard.pdf", "hårdt link"),
        ("bilag/nul.pdf", "kkr følger ikke links"),
        ("bilag/mappe/hemmelig.pdf", "kkr følger ikke links"),
        ("bilag/fifo.pdf", "er ikke en fil"),
    ];
    for (i, (file, _)) in cases.iter().enumerate() {
        let mut front = OK.to_vec();
        let id = format!("id = \"2027-01-28-link-{i}\"");
        let bilag = format!("attachments = [\"{file}\"]");
        front[0] = &id;
        front.push(&bilag);
        t.write(&format!("inbox/link-{i}.md"), item(&front, "Tekst.\n"));
    }
    let out = t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 1);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    for (i, (_, expected)) in cases.iter().enumerate() {
        let report =
            fs::read_to_string(t.path(&format!("inbox/afvist/link-{i}.md.fejl.txt")))
                .unwrap();
        assert!(report.contains(expected), "{expected}: {report}");
    }
    assert!(
        !t.path("state/attachments").exists() || t.files("state/attachments").is_empty()
    );
}

#[test]
fn deep_quotes_endless_words_and_wide_tables_are_rejected_at_intake() {
    let t = Test::example();
    let bodies = [
        (format!("{} citat\n", ">".repeat(100_000)), "indlejret mere end 24 niveauer"),
        (format!("Se {}\n", "x".repeat(500_000)), "over 500 tegn"),
        (
            format!("|{}\n|{}\n", "a|".repeat(100_000), "-|".repeat(100_000)),
            "tabellen er for stor",
        ),
    ];
    for (i, (body, _)) in bodies.iter().enumerate() {
        let mut front = OK.to_vec();
        let id = format!("id = \"2027-01-28-dyb-{i}\"");
        front[0] = &id;
        t.write(&format!("inbox/dyb-{i}.md"), item(&front, body));
    }
    let out = t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 1);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    for (i, (_, expected)) in bodies.iter().enumerate() {
        let report =
            fs::read_to_string(t.path(&format!("inbox/afvist/dyb-{i}.md.fejl.txt")))
                .unwrap();
        assert!(report.contains(expected), "{expected}: {report}");
        assert!(report.contains(&format!("inbox/dyb-{i}.md:")), "located: {report}");
    }
    assert_eq!(t.mails("outbox/mail").len(), 62, "the agenda went out to everyone");
}

#[test]
fn a_preview_before_the_first_run_is_no_history() {
    let t = Test::example();
    t.must(&["render", "2027-01-28", "--now", "2027-01-10T09:00"], 0);
    t.must(&["check"], 0);
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
}

#[test]
fn a_hostile_bilag_in_one_council_never_stops_the_daemon_serving_another() {
    use std::time::Duration;
    let a = Test::example_without_items();
    let b = Test::example_without_items();
    let d = crate::harness::daemon(&[&a, &b], "2027-01-10T09:00");
    std::thread::sleep(Duration::from_millis(500));
    // In the same moment: council A gets a deflate bomb as bilag, council B a normal item.
    let bomb = a.path("inbox/bilag/bombe.pdf");
    fs::write(&bomb, deflate_bomb()).unwrap();
    let mut front = OK.to_vec();
    front.push("attachments = [\"bilag/bombe.pdf\"]");
    let tmp = a.path("tmp.md");
    fs::write(&tmp, item(&front, "Tekst.\n")).unwrap();
    fs::rename(&tmp, a.path("inbox/a.md")).unwrap();
    let tmp = b.path("tmp.md");
    fs::write(&tmp, item(&OK, "Tekst.\n")).unwrap();
    fs::rename(&tmp, b.path("inbox/b.md")).unwrap();
    crate::harness::wait_until("B's draft", Duration::from_secs(60), || {
        b.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists()
    });
    crate::harness::wait_until("A's rejection", Duration::from_secs(60), || {
        a.path("inbox/afvist/a.md.fejl.txt").exists()
    });
    let report = fs::read_to_string(a.path("inbox/afvist/a.md.fejl.txt")).unwrap();
    assert!(report.contains("beskadiget eller for stort"), "{report}");
    // The daemon lives on and still serves both.
    let mut d = d;
    assert!(d.0.try_wait().unwrap().is_none(), "the daemon is still running");
    let tmp = a.path("tmp.md");
    let mut later = OK.to_vec();
    later[0] = "id = \"2027-01-28-senere\"";
    fs::write(&tmp, item(&later, "Tekst.\n")).unwrap();
    fs::rename(&tmp, a.path("inbox/senere.md")).unwrap();
    crate::harness::wait_until("A's next item", Duration::from_secs(60), || {
        a.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists()
    });
}

#[test]
fn an_item_whose_draft_cannot_be_made_is_rejected_and_the_draft_stays() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    let draft = fs::read(t.path("outbox/2027-01-28/dagsorden-udkast.pdf")).unwrap();
    // A PNG whose header is fine and whose pixels are garbage: only decoding finds out.
    let mut png = png_bomb(100, 100);
    png.extend_from_slice(b"\0\0\0\x10IDATnot-really-deflate-data");
    fs::write(t.path("inbox/bilag/skadet.png"), &png).unwrap();
    crate::harness::age(&t.path("inbox/bilag/skadet.png"));
    let mut front = OK.to_vec();
    front.push("attachments = [\"bilag/skadet.png\"]");
    t.write("inbox/skadet.md", item(&front, "Tekst.\n"));
    let mut other = OK.to_vec();
    other[0] = "id = \"2027-01-28-andet\"";
    t.write("inbox/andet.md", item(&other, "Tekst.\n"));
    let out = t.must(&["run", "--once", "--now", "2027-01-10T10:00"], 1);
    let report = fs::read_to_string(t.path("inbox/afvist/skadet.md.fejl.txt"))
        .unwrap_or_else(|_| panic!("rejected: {}", stderr(&out)));
    assert!(report.contains("kan ikke sættes op i dagsordenen"), "{report}");
    assert!(t.path("inbox/behandlet/2027-01-28/andet.md").is_file(), "the other went in");
    let now = fs::read(t.path("outbox/2027-01-28/dagsorden-udkast.pdf")).unwrap();
    assert_ne!(now, draft, "the draft has the other item");
    assert!(
        !stderr(&out).contains("ERROR"),
        "no render fails after intake: {}",
        stderr(&out)
    );
}

#[test]
fn a_backup_of_another_councils_ledger_is_refused() {
    let a = Test::example();
    a.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    // Council B: the same files, another council.
    let b = Test::example();
    let toml = fs::read_to_string(b.path("council.toml")).unwrap();
    fs::write(
        b.path("council.toml"),
        toml.replace("name = \"KKR Hovedstaden\"", "name = \"KKR Sjælland\"")
            .replace("slug = \"kkr-hovedstaden\"", "slug = \"kkr-sjaelland\""),
    )
    .unwrap();
    b.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    // A's backup is put back in B by mistake: B refuses it, and sends nothing.
    fs::copy(a.path("state/kkr.sqlite"), b.path("state/kkr.sqlite")).unwrap();
    for wal in ["state/kkr.sqlite-wal", "state/kkr.sqlite-shm"] {
        let _ = fs::remove_file(b.path(wal));
    }
    let out = b.must(&["run", "--once", "--now", "2027-01-21T09:00"], 4);
    assert!(
        stderr(&out).contains("er loggen for kkr-hovedstaden, ikke for kkr-sjaelland"),
        "{}",
        stderr(&out)
    );
    assert!(b.mails("outbox/mail").is_empty());
}
