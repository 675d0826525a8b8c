//! `kkr run --once`: intake, drafts, the agenda at its moment, one mail per recipient.

use std::collections::HashSet;
use std::fs;

use mail_parser::{MessageParser, MimeHeaders};

use crate::check::{OK, item};
use crate::harness::{Test, fold, poppler, stderr};

const SEND: &str = "2027-01-21T09:00";

fn roster(t: &Test) -> Vec<(String, String)> {
    let text = fs::read_to_string(t.path("members.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    rdr.records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_owned(), r[1].to_owned()))
        .collect()
}

#[test]
fn before_the_send_moment_only_the_draft_is_made() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-21T08:59"], 0);
    assert_eq!(t.files("inbox/behandlet/2027-01-28").len(), 12);
    assert!(
        t.files("inbox").is_empty(),
        "every item was taken in: {:?}",
        t.files("inbox")
    );
    assert!(
        t.path("inbox/bilag/fordeling-praktikpladser-2027.pdf").exists(),
        "attachments are not moved"
    );
    assert!(t.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists());
    assert!(!t.path("outbox/2027-01-28/dagsorden.pdf").exists());
    assert!(t.mails("outbox/mail").is_empty());
    let text =
        poppler("pdftotext", &[], &t.path("outbox/2027-01-28/dagsorden-udkast.pdf"));
    assert!(text.contains("UDKAST"), "the draft is marked");
}

#[test]
fn at_the_send_moment_every_recipient_gets_one_mail_with_the_agenda() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", SEND], 0);
    let members = roster(&t);
    let mails = t.files("outbox/mail");
    assert_eq!(mails.len(), members.len(), "one .eml per roster row");
    let pdf = fs::read(t.path("outbox/2027-01-28/dagsorden.pdf")).unwrap();
    let mut ids = HashSet::new();
    let mut to = HashSet::new();
    for name in &mails {
        let raw = fs::read(t.path(&format!("outbox/mail/{name}"))).unwrap();
        let msg = MessageParser::default().parse(&raw).expect("the .eml parses");
        assert_eq!(
            msg.subject(),
            Some("KKR Hovedstaden – dagsorden til mødet 28. januar 2027")
        );
        assert!(
            ids.insert(msg.message_id().unwrap().to_owned()),
            "Message-IDs are unique"
        );
        let addr = msg.to().unwrap().first().unwrap().address().unwrap().to_owned();
        to.insert(addr);
        let attachment = msg
            .attachments()
            .find(|a| {
                a.attachment_name() == Some("KKR Hovedstaden dagsorden 2027-01-28.pdf")
            })
            .expect("the PDF is attached");
        assert_eq!(
            attachment.contents(),
            &pdf[..],
            "the mailed PDF is the one in outbox/"
        );
        let ics = msg
            .attachments()
            .find(|a| a.attachment_name() == Some("KKR Hovedstaden møde 2027-01-28.ics"))
            .expect("the invitation is attached");
        assert!(
            String::from_utf8_lossy(ics.contents())
                .contains("UID:kkr-hovedstaden-2027-01-28@kkr")
        );
        assert!(
            msg.body_text(0).unwrap().contains("torsdag den 28. januar 2027 kl. 9.00")
        );
    }
    let expected: HashSet<String> = members.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(to, expected, "the To addresses are exactly the roster");

    // Running again sends nothing new.
    let before: Vec<_> = mails
        .iter()
        .map(|m| {
            fs::metadata(t.path(&format!("outbox/mail/{m}"))).unwrap().modified().unwrap()
        })
        .collect();
    t.must(&["run", "--once", "--now", "2027-01-21T09:05"], 0);
    let after: Vec<_> = mails
        .iter()
        .map(|m| {
            fs::metadata(t.path(&format!("outbox/mail/{m}"))).unwrap().modified().unwrap()
        })
        .collect();
    assert_eq!(before, after, "nothing is sent twice");
    assert_eq!(t.files("outbox/mail").len(), members.len());
}

#[test]
fn one_minute_before_nothing_is_sent_and_at_the_moment_it_is() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-21T08:59"], 0);
    assert!(t.mails("outbox/mail").is_empty());
    // The secretariat was told a day ahead what goes, once, with the draft (SPEC §3.2).
    t.must(&["run", "--once", "--now", "2027-01-21T08:59:30"], 0);
    let told = t.notices("outbox/mail");
    assert_eq!(told.len(), 2, "one to each secretariat row: {told:?}");
    let mut to = Vec::new();
    for name in &told {
        let raw = fs::read(t.path(&format!("outbox/mail/{name}"))).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            msg.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
        to.extend(
            msg.to().unwrap().iter().filter_map(|a| a.address().map(str::to_owned)),
        );
    }
    to.sort();
    assert_eq!(
        to,
        ["maria.bendtsen@example.org", "rune.thomsen@example.org"],
        "the secretariat rows only"
    );
    let raw = fs::read(t.path(&format!("outbox/mail/{}", told[0]))).unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    let body = msg.body_text(0).unwrap();
    assert!(
        body.contains("sendes torsdag den 21. januar 2027 kl. 9.00")
            && body.contains(&format!("går til {} modtagere", roster(&t).len()))
            && body.contains("12 punkter"),
        "{body}"
    );
    let draft = msg.attachments().next().expect("the draft is attached");
    assert_eq!(
        draft.contents(),
        &fs::read(t.path("outbox/2027-01-28/dagsorden-udkast.pdf")).unwrap()[..]
    );
    t.must(&["run", "--once", "--now", SEND], 0);
    assert_eq!(t.mails("outbox/mail").len(), roster(&t).len());
    assert_eq!(t.notices("outbox/mail").len(), 2, "told once");
    for name in t.mails("outbox/mail") {
        let raw = fs::read(t.path(&format!("outbox/mail/{name}"))).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        assert!(
            msg.header_raw("Auto-Submitted").is_none(),
            "documents are not auto-submitted"
        );
    }
}

#[test]
fn invalid_files_go_to_afvist_with_a_report_and_the_rest_is_taken_in() {
    let t = Test::example();
    let mut front = OK.to_vec();
    front[3] = "area = \"Kultur\"";
    t.write("inbox/sub/bad.md", item(&front, "x\n"));
    let out = t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 1);
    assert!(stderr(&out).contains("afvist: inbox/sub/bad.md"), "{}", stderr(&out));
    assert_eq!(t.files("inbox/afvist/sub"), ["bad.md", "bad.md.fejl.txt"]);
    let report = fs::read_to_string(t.path("inbox/afvist/sub/bad.md.fejl.txt")).unwrap();
    assert!(
        report.contains("inbox/sub/bad.md:5:8: fejl: ukendt sagsområde \"Kultur\""),
        "{report}"
    );
    assert_eq!(
        t.files("inbox/behandlet/2027-01-28").len(),
        12,
        "the good files are taken in"
    );

    // The same name rejected again gets a counter.
    t.write("inbox/sub/bad.md", item(&front, "y\n"));
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 1);
    assert_eq!(
        t.files("inbox/afvist/sub"),
        ["bad-2.md", "bad-2.md.fejl.txt", "bad.md", "bad.md.fejl.txt"]
    );
}

#[test]
fn two_files_with_one_id_are_both_rejected() {
    let t = Test::example_without_items();
    t.write("inbox/a.md", item(&OK, "a\n"));
    t.write("inbox/b.md", item(&OK, "b\n"));
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 1);
    assert_eq!(
        t.files("inbox/afvist"),
        ["a.md", "a.md.fejl.txt", "b.md", "b.md.fejl.txt"]
    );
    let report = fs::read_to_string(t.path("inbox/afvist/a.md.fejl.txt")).unwrap();
    assert!(report.contains("samme id står også i inbox/b.md"), "{report}");
}

#[test]
fn files_still_being_written_wait_for_the_next_run() {
    // SPEC §6: `run --once` waits (at most 10 s) for a file inside its quiet period, so a
    // file saved just before the command is taken in.
    let t = Test::example_without_items();
    fs::write(t.path("inbox/fresh.md"), item(&OK, "x\n")).unwrap();
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    assert!(
        t.path("inbox/behandlet/2027-01-28/fresh.md").exists(),
        "a file saved just before run --once is taken in"
    );
    // One still changing after the wait (its modification time ahead of the clock) is left
    // for the next run, and named.
    let mut front = OK.to_vec();
    front[0] = "id = \"2027-01-28-andet\"";
    let busy = t.path("inbox/busy.md");
    fs::write(&busy, item(&front, "x\n")).unwrap();
    let ahead = fs::metadata(&busy).unwrap().modified().unwrap()
        + std::time::Duration::from_secs(3600);
    fs::File::options().write(true).open(&busy).unwrap().set_modified(ahead).unwrap();
    let out = t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    assert!(busy.exists(), "a file still changing is left alone");
    assert!(stderr(&out).contains("inbox/busy.md ændres stadig"), "{}", stderr(&out));
    crate::harness::age(&busy);
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    assert!(t.path("inbox/behandlet/2027-01-28/busy.md").exists());
}

#[test]
fn a_replaced_item_updates_the_draft() {
    let t = Test::example_without_items();
    t.write("inbox/a.md", item(&OK, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    let mut front = OK.to_vec();
    front[2] = "title = \"Ny og bedre titel\"";
    t.write("inbox/a.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-10T10:00"], 0);
    let text = fold(&poppler(
        "pdftotext",
        &[],
        &t.path("outbox/2027-01-28/dagsorden-udkast.pdf"),
    ));
    assert!(text.contains("Ny og bedre titel"), "{text}");
    assert!(!text.contains("Testpunkt"), "{text}");
    assert_eq!(t.files("inbox/behandlet/2027-01-28"), ["a.md"], "one current file");
    assert_eq!(t.files("inbox/behandlet/2027-01-28/tidligere"), ["a-udgave-1.md"]);
}

#[test]
fn an_invalid_roster_stops_sending_but_not_intake() {
    let t = Test::example();
    t.write("members.csv", "name,email,role,party,municipality,vote\nA,\"a@example.org\r\nBcc: x@evil.example\",medlem,,,ja\n");
    let out = t.must(&["run", "--once", "--now", SEND], 1);
    assert!(stderr(&out).contains("members.csv er ugyldig"), "{}", stderr(&out));
    assert!(t.mails("outbox/mail").is_empty());
    let told = t.notice_texts("outbox/mail").join("\n");
    assert!(told.contains("Intet sendes: members.csv er ugyldig"), "{told}");
    assert!(t.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists(), "drafts go on");
}

#[test]
fn status_shows_what_was_sent_and_what_is_next() {
    let t = Test::example();
    let out = t.must(&["status", "--now", "2027-01-10T09:00"], 0);
    assert!(
        crate::harness::stdout(&out).contains("ingen punkter endnu"),
        "{}",
        crate::harness::stdout(&out)
    );
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    let text =
        crate::harness::stdout(&t.must(&["status", "--now", "2027-01-10T09:00"], 0));
    assert!(text.contains("Møde 2027-01-28"), "{text}");
    assert!(
        text.contains("dagsorden: sendes torsdag den 21. januar 2027 kl. 9.00"),
        "{text}"
    );
    t.must(&["run", "--once", "--now", SEND], 0);
    let text =
        crate::harness::stdout(&t.must(&["status", "2027-01-28", "--now", SEND], 0));
    let n = roster(&t).len();
    assert!(text.contains(&format!("{n} sendt, 0 venter, 0 fejlet")), "{text}");
}

#[test]
fn a_missed_agenda_is_not_sent_after_the_meeting_started() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    t.must(&["run", "--once", "--now", "2027-01-28T09:30"], 0);
    assert!(t.mails("outbox/mail").is_empty());
    let told = t.notice_texts("outbox/mail").join("\n");
    assert!(told.contains("blev IKKE sendt"), "the secretariat is told: {told}");
    let text =
        crate::harness::stdout(&t.must(&["status", "--now", "2027-01-28T09:30"], 0));
    assert!(text.contains("IKKE SENDT"), "{text}");
}

#[test]
fn an_agenda_sent_late_is_told_to_the_secretariat_once() {
    let t = Test::example();
    let out = t.must(&["run", "--once", "--now", "2027-01-24T10:00"], 0);
    assert!(crate::harness::stderr(&out).contains("for sent"));
    assert_eq!(t.mails("outbox/mail").len(), roster(&t).len());
    let told = t.notice_texts("outbox/mail").join("\n");
    assert!(told.contains("blev sendt for sent"), "{told}");
    assert!(told.contains("torsdag den 21. januar 2027 kl. 9.00"), "{told}");
    t.must(&["run", "--once", "--now", "2027-01-24T10:05"], 0);
    assert_eq!(t.notices("outbox/mail").len(), 2, "told once, to each secretariat row");
}

#[test]
fn a_clock_set_back_over_the_meetings_start_sends_nothing() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    t.must(&["run", "--once", "--now", "2027-01-28T09:30"], 0);
    // The machine's clock jumps back to before the meeting: the missed agenda stays missed.
    let out = t.must(&["run", "--once", "--now", "2027-01-27T09:00"], 0);
    assert!(
        crate::harness::stderr(&out).contains("bagud"),
        "{}",
        crate::harness::stderr(&out)
    );
    assert!(t.mails("outbox/mail").is_empty(), "nothing sent when the clock went back");
    let text =
        crate::harness::stdout(&t.must(&["status", "--now", "2027-01-27T09:00"], 0));
    assert!(text.contains("ur er gået tilbage") && text.contains("IKKE SENDT"), "{text}");
}

#[test]
fn a_render_worker_killed_from_outside_is_replaced_and_the_draft_still_updates() {
    use std::time::Duration;
    let t = Test::example();
    let d = crate::harness::daemon(&[&t], "2027-01-10T09:00");
    let draft = t.path("outbox/2027-01-28/dagsorden-udkast.pdf");
    crate::harness::wait_until("the draft", Duration::from_secs(60), || draft.exists());
    // Renders run in a child process of the daemon: kill it as an abort would.
    let out = std::process::Command::new("pgrep")
        .args(["-P", &d.0.id().to_string(), "-f", "__render"])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(!pid.is_empty(), "a render worker process runs");
    assert!(
        std::process::Command::new("kill").args(["-9", &pid]).status().unwrap().success()
    );
    let file = "inbox/behandlet/2027-01-28/03-praktikpladser.md";
    let text =
        fs::read_to_string(t.path(file)).unwrap().replace("title = \"", "title = \"Ny: ");
    let tmp = t.path("ny.md");
    fs::write(&tmp, text).unwrap();
    fs::rename(&tmp, t.path("inbox/03-praktikpladser.md")).unwrap();
    crate::harness::wait_until("the new draft", Duration::from_secs(60), || {
        poppler("pdftotext", &[], &draft).contains("Ny: ")
    });
    let log = fs::read_to_string(t.path("daemon.log")).unwrap();
    assert!(!log.contains("kunne ikke lave PDF"), "{log}");
}

#[test]
fn attachments_are_named_for_what_they_are_and_survive_python_email_with_their_letters() {
    let t = Test::example();
    let toml = fs::read_to_string(t.path("council.toml")).unwrap();
    t.write(
        "council.toml",
        toml.replace("name = \"KKR Hovedstaden\"", "name = \"KKR Sjælland\""),
    );
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let mail = t.mails("outbox/mail").into_iter().next().unwrap();
    let script = r#"
import sys, email
from email import policy
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=policy.default)
for part in m.iter_attachments():
    print(part.get_filename())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(t.path("outbox/mail").join(&mail))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        names.lines().collect::<Vec<_>>(),
        ["KKR Sjælland dagsorden 2027-01-28.pdf", "KKR Sjælland møde 2027-01-28.ics"],
        "{names}"
    );
    let raw = fs::read_to_string(t.path("outbox/mail").join(&mail)).unwrap();
    assert!(raw.contains("filename*"), "RFC 2231 encoding of the name");
}
