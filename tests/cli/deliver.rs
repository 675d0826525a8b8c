//! Delivery through a real SMTP server on 127.0.0.1: timing, DST, refusals, outages,
//! supplements and corrections, and kill -9 in the middle of a send.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use crate::check::{OK, item};
use crate::harness::{Test, daemon, fold, poppler, stderr, stdout, wait_until};
use crate::smtp::{Behaviour, Sink, free_port};

const SEND: &str = "2027-01-21T09:00";

/// The example workspace mailing through the server on `port`.
pub(crate) fn with_smtp(port: u16) -> Test {
    let t = Test::example();
    smtp_config(&t, port);
    t
}

pub(crate) fn smtp_config(t: &Test, port: u16) {
    let mut config = fs::read_to_string(t.path("council.toml")).unwrap();
    config.push_str(&format!(
        "\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n"
    ));
    t.write("council.toml", config);
}

pub(crate) fn recipients(t: &Test) -> Vec<String> {
    let text = fs::read_to_string(t.path("members.csv")).unwrap();
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap()[1].to_owned())
        .collect()
}

/// Messages per recipient for documents whose subject contains `what`.
pub(crate) fn per_recipient(sink: &Sink, what: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in sink.messages() {
        if !subject(&m).contains(what) {
            continue;
        }
        let parsed =
            mail_parser::MessageParser::default().parse(m.data.as_bytes()).unwrap();
        for to in &m.to {
            map.entry(to.clone())
                .or_default()
                .push(parsed.message_id().unwrap().to_owned());
        }
    }
    map
}

/// Whether a message is kkr's notice to the secretariat (`Auto-Submitted`), not a document.
pub(crate) fn is_notice(m: &crate::smtp::Received) -> bool {
    let parsed = mail_parser::MessageParser::default().parse(m.data.as_bytes()).unwrap();
    parsed.header_raw("Auto-Submitted").is_some_and(|v| v.trim() == "auto-generated")
}

/// The documents the server received (kkr's notices left out).
pub(crate) fn documents(sink: &Sink) -> Vec<crate::smtp::Received> {
    sink.messages().into_iter().filter(|m| !is_notice(m)).collect()
}

/// kkr's notices to the secretariat the server received.
pub(crate) fn notices(sink: &Sink) -> Vec<crate::smtp::Received> {
    sink.messages().into_iter().filter(is_notice).collect()
}

/// A message's decoded subject.
pub(crate) fn subject(m: &crate::smtp::Received) -> String {
    let parsed = mail_parser::MessageParser::default().parse(m.data.as_bytes());
    parsed.and_then(|p| p.subject().map(str::to_owned)).unwrap_or_default()
}

#[track_caller]
pub(crate) fn assert_once_each(t: &Test, sink: &Sink, what: &str) {
    let got = per_recipient(sink, what);
    let all = recipients(t);
    for r in &all {
        assert_eq!(
            got.get(r).map(Vec::len),
            Some(1),
            "{r} should have exactly one {what}"
        );
    }
    assert_eq!(got.len(), all.len());
}

#[test]
fn agenda_goes_out_at_its_moment_once_to_everyone() {
    let sink = Sink::start(Behaviour::default());
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", "2027-01-21T08:59"], 0);
    assert!(documents(&sink).is_empty(), "nothing one minute before");
    t.must(&["run", "--once", "--now", SEND], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    let first = &documents(&sink)[0];
    assert!(
        first.data.contains("application/pdf") && first.data.contains("text/calendar")
    );
    t.must(&["run", "--once", "--now", "2027-01-21T09:01"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    assert!(t.files("outbox/mail").is_empty(), "with SMTP nothing goes to outbox/mail");
}

#[test]
fn both_dst_switches_send_once_at_local_nine() {
    // Spring: meeting 2 April 2026, agenda 26 March 09:00 CET (before the switch on 29 March).
    // Autumn: meeting 1 November 2026, agenda 25 October 09:00 CET, the day of the switch.
    for (meeting, before, at) in [
        ("2026-04-02", "2026-03-26T08:59", "2026-03-26T09:00"),
        ("2026-11-01", "2026-10-25T08:59", "2026-10-25T09:00"),
    ] {
        let sink = Sink::start(Behaviour::default());
        let t = Test::example_without_items();
        let config = fs::read_to_string(t.path("council.toml"))
            .unwrap()
            .replace("2027-01-28", meeting);
        t.write("council.toml", config);
        smtp_config(&t, sink.port);
        let mut front = OK.to_vec();
        let line = format!("meeting = \"{meeting}\"");
        front[1] = &line;
        t.write("inbox/a.md", item(&front, "x\n"));
        t.must(&["run", "--once", "--now", "2026-03-01T00:00"], 0);
        t.must(&["run", "--once", "--now", before], 0);
        assert!(documents(&sink).is_empty(), "{meeting}: nothing before 09:00 local");
        t.must(&["run", "--once", "--now", at], 0);
        assert_once_each(&t, &sink, "dagsorden til mødet");
        t.must(&["run", "--once", "--now", at], 0);
        assert_once_each(&t, &sink, "dagsorden til mødet");
    }
}

#[test]
fn a_refused_recipient_fails_alone_and_the_secretariat_is_told() {
    let refused = "allan.noerskov@example.org".to_owned();
    let sink = Sink::start(Behaviour {
        refuse: HashSet::from([refused.clone()]),
        ..Default::default()
    });
    let t = with_smtp(sink.port);
    assert!(recipients(&t).contains(&refused));
    t.must(&["run", "--once", "--now", SEND], 0);
    let got = per_recipient(&sink, "dagsorden til mødet");
    assert_eq!(got.len(), recipients(&t).len() - 1, "everyone else got theirs");
    assert!(!got.contains_key(&refused));
    let text = stdout(&t.must(&["status", "2027-01-28", "--now", SEND], 0));
    assert!(text.contains("1 fejlet"), "{text}");
    assert!(
        text.contains(&refused) && text.contains("FEJLET") && text.contains("550"),
        "{text}"
    );
    let summary: Vec<_> = notices(&sink)
        .into_iter()
        .filter(|m| m.data.contains("Fejl ved udsendelse"))
        .collect();
    assert_eq!(summary.len(), 2, "one summary to each secretariat row");
    assert!(summary[0].data.contains(&refused));
    t.must(&["run", "--once", "--now", "2027-01-21T10:00"], 0);
    assert_eq!(
        sink.messages().len(),
        recipients(&t).len() - 1 + 2,
        "the agendas that went and one summary to each secretariat row; nothing more: no retry of a 550, no second summary"
    );
}

#[test]
fn a_552_too_big_sends_the_mail_without_the_pdf_once_and_says_whom_to_ask() {
    // A server that takes mails of 60 kB and less: the agenda's PDF does not fit.
    let sink = Sink::start(Behaviour { max_size: Some(60_000), ..Default::default() });
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);
    let pdf = fs::metadata(t.path("outbox/2027-01-28/dagsorden.pdf")).unwrap().len();
    assert!(pdf > 60_000, "the test needs a PDF above the limit ({pdf} bytes)");
    assert_once_each(&t, &sink, "dagsorden til mødet");
    for m in sink.messages() {
        let parsed =
            mail_parser::MessageParser::default().parse(m.data.as_bytes()).unwrap();
        let text = parsed.body_text(0).unwrap();
        assert!(text.contains("for stort til din mailserver"), "{text}");
        assert!(text.contains("sekretariat-hovedstaden@example.org"), "{text}");
        assert!(
            !m.data.contains("application/pdf"),
            "no PDF in a mail the server refused with it"
        );
    }
    let text = stdout(&t.must(&["status", "2027-01-28", "--now", SEND], 0));
    assert!(text.contains("sendt uden PDF"), "{text}");
    assert!(text.contains("0 fejlet"), "{text}");
}

#[test]
fn a_server_down_at_the_moment_gets_everything_once_when_it_is_back() {
    let port = free_port();
    let t = with_smtp(port);
    let out = t.must(&["run", "--once", "--now", SEND], 3);
    assert!(stderr(&out).contains("prøves igen"), "{}", stderr(&out));
    let sink = Sink::start_on(port, Behaviour::default());
    t.must(&["run", "--once", "--now", "2027-01-21T09:00:30"], 3);
    assert!(sink.messages().is_empty(), "the back-off is respected");
    t.must(&["run", "--once", "--now", "2027-01-21T09:10"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
}

#[test]
fn temporary_refusals_are_retried() {
    let sink = Sink::start(Behaviour { temp_fail_first: 1, ..Default::default() });
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 3);
    t.must(&["run", "--once", "--now", "2027-01-21T09:30"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
}

#[test]
fn supplement_and_corrections_reach_everyone_once() {
    let sink = Sink::start(Behaviour::default());
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);

    // A new item without a reason is refused; with one it makes a supplement.
    let mut front = OK.to_vec();
    front[0] = "id = \"2027-01-28-sen\"";
    front[2] = "title = \"Sent punkt om vintervedligeholdelse\"";
    t.write("inbox/sen.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 1);
    let report = fs::read_to_string(t.path("inbox/afvist/sen.md.fejl.txt")).unwrap();
    assert!(report.contains("late_reason"), "{report}");
    front.push("late_reason = \"Sagen blev klar efter udsendelsen.\"");
    t.write("inbox/sen.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T10:05"], 0);
    assert!(t.path("outbox/2027-01-28/supplerende-dagsorden-1.pdf").exists());
    assert_once_each(&t, &sink, "supplerende dagsorden nr. 1");
    let text = fold(&poppler(
        "pdftotext",
        &[],
        &t.path("outbox/2027-01-28/supplerende-dagsorden-1.pdf"),
    ));
    assert!(
        text.contains("Sent punkt om vintervedligeholdelse")
            && text.contains("Sagen blev klar efter udsendelsen."),
        "{text}"
    );

    // Adding a decision is not a change; a changed title is.
    let mut decided = front.clone();
    decided.push("[decision]\ntext = \"Taget til efterretning.\"");
    t.write("inbox/sen.md", item(&decided, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T11:00"], 0);
    assert!(
        !t.path("outbox/2027-01-28/rettet-dagsorden-1.pdf").exists(),
        "a decision is not a correction"
    );
    let mut changed = front.clone();
    changed[2] = "title = \"Sent punkt om vintervedligeholdelse af veje\"";
    t.write("inbox/sen.md", item(&changed, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T12:00"], 0);
    assert_once_each(&t, &sink, "rettet dagsorden nr. 1");
    let text = fold(&poppler(
        "pdftotext",
        &[],
        &t.path("outbox/2027-01-28/rettet-dagsorden-1.pdf"),
    ));
    assert!(text.contains("ændret: titel"), "{text}");

    // Withdrawing gives the next correction.
    changed.push("withdrawn = true");
    t.write("inbox/sen.md", item(&changed, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-23T09:00"], 0);
    assert_once_each(&t, &sink, "rettet dagsorden nr. 2");
    let text = fold(&poppler(
        "pdftotext",
        &[],
        &t.path("outbox/2027-01-28/rettet-dagsorden-2.pdf"),
    ));
    assert!(text.contains("er trukket"), "{text}");
    assert_once_each(&t, &sink, "dagsorden til mødet 28. januar");

    // Four documents to every row: no two messages share a Message-ID (SPEC §6).
    let ids: HashSet<String> = documents(&sink)
        .iter()
        .map(|m| {
            let parsed =
                mail_parser::MessageParser::default().parse(m.data.as_bytes()).unwrap();
            parsed.message_id().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), documents(&sink).len(), "every message has its own id");
    assert_eq!(ids.len(), 4 * recipients(&t).len());
}

#[test]
fn nothing_is_sent_after_the_meeting_started() {
    let sink = Sink::start(Behaviour::default());
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);
    let before = documents(&sink).len();
    let mut front = OK.to_vec();
    front[0] = "id = \"2027-01-28-paa-moedet\"";
    t.write("inbox/paa-moedet.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-28T09:30"], 1);
    let report =
        fs::read_to_string(t.path("inbox/afvist/paa-moedet.md.fejl.txt")).unwrap();
    assert!(report.contains("for sent"), "{report}");
    front.push("[decision]\ntext = \"Drøftet.\"");
    t.write("inbox/paa-moedet.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-28T09:40"], 0);
    assert_eq!(
        documents(&sink).len(),
        before,
        "an item taken up at the meeting sends nothing"
    );
}

#[test]
fn kill_9_in_the_middle_of_a_send_loses_nothing_and_duplicates_at_most_the_one_in_flight()
{
    for kill_after in [5, 25, 50] {
        let sink = Sink::start(Behaviour {
            delay: Duration::from_millis(25),
            ..Default::default()
        });
        let t = with_smtp(sink.port);
        let mut d = daemon(&[&t], SEND);
        wait_until("mail to start", Duration::from_secs(60), || {
            sink.messages().len() >= kill_after
        });
        d.0.kill().unwrap(); // SIGKILL
        d.0.wait().unwrap();
        let got = sink.messages().len();
        assert!(got < recipients(&t).len(), "killed in the middle ({got})");
        t.must(&["run", "--once", "--now", "2027-01-21T09:05"], 0);
        let per = per_recipient(&sink, "dagsorden til mødet");
        let all = recipients(&t);
        assert_eq!(
            per.len(),
            all.len(),
            "every recipient got the agenda (kill after {kill_after})"
        );
        let mut duplicates = 0;
        for (r, ids) in &per {
            let distinct: HashSet<_> = ids.iter().collect();
            assert_eq!(distinct.len(), 1, "{r}: a resend carries the same Message-ID");
            duplicates += ids.len() - 1;
        }
        assert!(
            duplicates <= 1,
            "at most the message in flight is repeated ({duplicates})"
        );
    }
}

#[test]
fn the_daemon_takes_in_200_files_at_once_and_a_slowly_written_one() {
    let t = Test::example_without_items();
    let _d = daemon(&[&t], "2027-01-10T09:00");
    let staging = t.path("staging");
    fs::create_dir_all(&staging).unwrap();
    for i in 0..200 {
        let mut front = OK.to_vec();
        let id = format!("id = \"2027-01-28-punkt-{i:03}\"");
        front[0] = &id;
        fs::write(staging.join(format!("p{i:03}.md")), item(&front, "x\n")).unwrap();
    }
    for i in 0..200 {
        fs::rename(
            staging.join(format!("p{i:03}.md")),
            t.path(&format!("inbox/p{i:03}.md")),
        )
        .unwrap();
    }
    wait_until("200 files", Duration::from_secs(60), || {
        t.files("inbox/behandlet/2027-01-28").len() == 200
    });
    assert!(t.files("inbox/afvist").is_empty(), "{:?}", t.files("inbox/afvist"));

    // Written in chunks straight into the inbox, with pauses shorter than the quiet period.
    let mut front = OK.to_vec();
    front[0] = "id = \"2027-03-18-langsom\"";
    front[1] = "meeting = \"2027-03-18\""; // the January meeting is full (200 items)
    front[2] = "title = \"Langsomt skrevet\"";
    let content = item(&front, &"Et langt afsnit. ".repeat(200));
    let mut f = fs::File::create(t.path("inbox/langsom.md")).unwrap();
    for chunk in content.as_bytes().chunks(content.len() / 4 + 1) {
        std::io::Write::write_all(&mut f, chunk).unwrap();
        f.sync_all().unwrap();
        thread::sleep(Duration::from_millis(600));
    }
    drop(f);
    wait_until("the slow file", Duration::from_secs(30), || {
        t.path("inbox/behandlet/2027-03-18/langsom.md").exists()
    });
    assert!(
        t.files("inbox/afvist").is_empty(),
        "never read half-written: {:?}",
        t.files("inbox/afvist")
    );
}

#[test]
fn the_daemon_reads_an_edited_council_toml_and_keeps_the_last_valid_one() {
    let t = Test::example_without_items();
    let _d = daemon(&[&t], "2027-01-10T09:00");
    wait_until("the daemon to start", Duration::from_secs(30), || {
        t.path("state/kkr.sqlite").exists()
    });
    let drop_item = |name: &str, id: &str, meeting: &str| {
        let mut front = OK.to_vec();
        let (id, meeting) =
            (format!("id = \"{id}\""), format!("meeting = \"{meeting}\""));
        front[0] = &id;
        front[1] = &meeting;
        let staging = t.path(&format!("{name}.tmp"));
        fs::write(&staging, item(&front, "x\n")).unwrap();
        fs::rename(&staging, t.path(&format!("inbox/{name}"))).unwrap();
    };

    // A meeting added while the daemon runs is known to the next pass.
    let config = fs::read_to_string(t.path("council.toml")).unwrap();
    t.write(
        "council.toml",
        format!("{config}\n[[meeting]]\ndate = \"2027-02-11\"\nstarts = \"09:00\"\nends = \"11:00\"\nplace = \"Ekstraordinært møde\"\n"),
    );
    drop_item("ekstra.md", "2027-02-11-ekstra", "2027-02-11");
    let start = Instant::now();
    while !t.path("inbox/behandlet/2027-02-11/ekstra.md").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the item for the new meeting was not taken in; rejected: {:?}; log:\n{}",
            t.files("inbox/afvist"),
            fs::read_to_string(t.path("daemon.log")).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(20));
    }
    wait_until("the new meeting's draft", Duration::from_secs(30), || {
        t.path("outbox/2027-02-11/dagsorden-udkast.pdf").exists()
    });

    // A broken edit is logged; the last valid configuration stays in force.
    t.write("council.toml", "[council\nname = ");
    drop_item("efter.md", "2027-01-28-efter", "2027-01-28");
    wait_until("the item after the broken edit", Duration::from_secs(90), || {
        t.path("inbox/behandlet/2027-01-28/efter.md").exists()
    });
    assert!(t.files("inbox/afvist").is_empty(), "{:?}", t.files("inbox/afvist"));
}

#[test]
fn sigterm_stops_the_daemon_cleanly() {
    let t = Test::example();
    let mut d = daemon(&[&t], "2027-01-10T09:00");
    wait_until("the draft", Duration::from_secs(30), || {
        t.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists()
    });
    let status =
        Command::new("kill").args(["-TERM", &d.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let start = Instant::now();
    let code = loop {
        if let Some(s) = d.0.try_wait().unwrap() {
            break s.code();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the daemon did not stop");
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0));
}

#[test]
fn a_refused_secretariat_address_does_not_keep_the_other_from_being_told() {
    let refused = "rune.thomsen@example.org".to_owned();
    let sink =
        Sink::start(Behaviour { refuse: HashSet::from([refused]), ..Default::default() });
    let t = with_smtp(sink.port);
    t.write("inbox/stykke.md", "ikke et punkt\n");
    t.must(&["run", "--once", "--now", SEND], 1);
    let told = notices(&sink);
    assert_eq!(told.len(), 1, "the other secretariat row is told");
    assert_eq!(told[0].to, ["maria.bendtsen@example.org"]);
    assert!(told[0].data.contains("Afvist: inbox/stykke.md"), "{}", told[0].data);
    t.must(&["run", "--once", "--now", "2027-01-21T09:10"], 0);
    assert_eq!(notices(&sink).len(), 1, "told once, not retried every pass");
}

#[test]
fn sigterm_stops_run_once_after_the_message_in_flight_and_nothing_is_sent_twice() {
    let sink =
        Sink::start(Behaviour { delay: Duration::from_millis(40), ..Default::default() });
    let t = with_smtp(sink.port);
    let child = Command::new(env!("CARGO_BIN_EXE_kkr"))
        .arg("-C")
        .arg(t.path(""))
        .args(["run", "--once", "--now", SEND])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the first mails", Duration::from_secs(60), || {
        documents(&sink).len() >= 5
    });
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "stopped, the rest retried: {}", stderr(&out));
    assert!(stderr(&out).contains("resten sendes ved næste kørsel"), "{}", stderr(&out));
    let sent = documents(&sink).len();
    assert!(sent < recipients(&t).len(), "it stopped before the end ({sent})");
    t.must(&["run", "--once", "--now", "2027-01-21T09:05"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
}

#[test]
fn send_now_resend_to_one_and_to_all() {
    let sink = Sink::start(Behaviour::default());
    let t = with_smtp(sink.port);
    t.must(&["send", "2027-01-28", "--now", "2027-01-15T10:00"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    t.must(&["send", "2027-01-28", "--now", "2027-01-15T10:05"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");

    let lost = recipients(&t)[3].clone();
    t.must(&["send", "2027-01-28", "--to", &lost, "--now", "2027-01-16T10:00"], 0);
    let per = per_recipient(&sink, "dagsorden til mødet");
    assert_eq!(per[&lost].len(), 2, "the one who lost it gets it again");
    assert_ne!(per[&lost][0], per[&lost][1], "a deliberate resend is a new message");
    assert_eq!(per.values().map(Vec::len).sum::<usize>(), recipients(&t).len() + 1);

    let out = t.must(
        &[
            "send",
            "2027-01-28",
            "--to",
            "ukendt@example.org",
            "--now",
            "2027-01-16T10:00",
        ],
        2,
    );
    assert!(stderr(&out).contains("står ikke i members.csv"), "{}", stderr(&out));

    t.must(&["send", "2027-01-28", "--resend", "--now", "2027-01-17T10:00"], 0);
    assert_eq!(
        per_recipient(&sink, "dagsorden til mødet").values().map(Vec::len).sum::<usize>(),
        2 * recipients(&t).len() + 1
    );
    t.must(&["send", "2027-01-28", "--now", "2027-01-28T09:30"], 2);
}

#[test]
fn a_member_added_after_the_agenda_went_out_gets_it_too() {
    let sink = Sink::start(Behaviour::default());
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);
    let mut roster = fs::read_to_string(t.path("members.csv")).unwrap();
    roster.push_str("Ny Suppleant,ny.suppleant@example.org,medlem,Venstre,Dragør,ja\n");
    t.write("members.csv", roster);
    t.must(&["run", "--once", "--now", "2027-01-22T09:00"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
}

#[test]
fn status_json_has_every_recipient() {
    let refused = "allan.noerskov@example.org".to_owned();
    let sink = Sink::start(Behaviour {
        refuse: HashSet::from([refused.clone()]),
        ..Default::default()
    });
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);
    let out = t.must(&["status", "--json", "--now", SEND], 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["meetings"][0];
    assert_eq!(m["date"], "2027-01-28");
    assert_eq!(m["agenda"], "sent");
    let deliveries = m["documents"][0]["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), recipients(&t).len());
    let failed: Vec<_> = deliveries.iter().filter(|d| d["state"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["email"], refused.as_str());
    assert!(failed[0]["error"].as_str().unwrap().contains("550"));
}

/// The example with a short SMTP deadline, for servers that never answer.
fn with_smtp_timeout(port: u16, secs: u64) -> Test {
    let t = with_smtp(port);
    let mut config = fs::read_to_string(t.path("council.toml")).unwrap();
    config.push_str(&format!("timeout_secs = {secs}\n"));
    t.write("council.toml", config);
    t
}

#[test]
fn no_tls_trouble_ever_falls_back_to_plaintext() {
    // STARTTLS required but not offered, implicit TLS to a plaintext server, and STARTTLS
    // offered but broken: nothing is sent.
    for (tls, behaviour) in [
        ("starttls", Behaviour::default()),
        ("tls", Behaviour::default()),
        ("starttls", Behaviour { broken_starttls: true, ..Default::default() }),
    ] {
        let sink = Sink::start(behaviour);
        let t = Test::example();
        let mut config = fs::read_to_string(t.path("council.toml")).unwrap();
        config.push_str(&format!(
            "\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"{tls}\"\ntimeout_secs = 10\n",
            sink.port
        ));
        t.write("council.toml", config);
        t.must(&["run", "--once", "--now", SEND], 3);
        assert!(sink.messages().is_empty(), "{tls}: not a byte of mail in plaintext");
        let text = stdout(&t.must(&["status", "2027-01-28", "--now", SEND], 0));
        assert!(text.contains("prøves igen"), "{tls}: {text}");
    }
}

#[test]
fn a_connection_closed_in_the_middle_of_data_is_retried() {
    let sink = Sink::start(Behaviour { close_in_data_first: 1, ..Default::default() });
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 3);
    t.must(&["run", "--once", "--now", "2027-01-21T09:30"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
}

#[test]
fn a_server_that_never_answers_meets_kkrs_deadline() {
    let sink = Sink::start(Behaviour { hang: true, ..Default::default() });
    let t = with_smtp_timeout(sink.port, 2);
    let start = Instant::now();
    t.must(&["run", "--once", "--now", SEND], 3);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "the deadline fired ({:?})",
        start.elapsed()
    );
}

#[test]
fn a_second_kkr_on_the_same_workspace_refuses_to_start() {
    let t = Test::example();
    let _d = daemon(&[&t], "2027-01-10T09:00");
    wait_until("the first daemon", Duration::from_secs(30), || {
        t.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists()
    });
    let out = t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 4);
    assert!(stderr(&out).contains("en anden kkr arbejder allerede"), "{}", stderr(&out));
    t.must(&["status", "--now", "2027-01-10T09:00"], 0);
    t.must(&["check"], 0);
}

#[test]
fn a_clock_that_jumps_back_or_forward_sends_nothing_twice() {
    let sink = Sink::start(Behaviour::default());
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    // Back an hour (before the send moment), then forward again.
    t.must(&["run", "--once", "--now", "2027-01-21T08:00"], 0);
    t.must(&["run", "--once", "--now", "2027-01-21T10:00"], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    let text = stdout(&t.must(&["status", "--now", "2027-01-21T08:00"], 0));
    assert!(
        !text.contains("sendes torsdag"),
        "a sent agenda is not scheduled again: {text}"
    );
}

#[test]
fn a_server_that_refuses_the_session_fails_no_recipient_and_the_helo_name_is_configurable()
 {
    let refusing = Sink::start(Behaviour { refuse_ehlo: true, ..Default::default() });
    let t = with_smtp(refusing.port);
    let out = t.kkr(&["run", "--once", "--now", SEND]);
    assert_eq!(out.status.code(), Some(3), "a temporary failure: {}", stderr(&out));
    assert!(refusing.messages().is_empty());
    assert!(
        stderr(&out).contains("mailserveren afviste forbindelsen"),
        "{}",
        stderr(&out)
    );
    let status =
        stdout(&t.must(&["status", "2027-01-28", "--now", "2027-01-21T09:01"], 0));
    assert!(
        status.contains("0 fejlet") && !status.contains("FEJLET"),
        "no recipient failed: {status}"
    );
    // Pointed at a normal server, with helo_name: every row gets the agenda once, over one
    // connection, introduced by the configured name.
    let good = Sink::start(Behaviour::default());
    let config = fs::read_to_string(t.path("council.toml")).unwrap();
    let config = config
        .replace(&format!("port = {}", refusing.port), &format!("port = {}", good.port));
    t.write(
        "council.toml",
        config.replace(
            "tls = \"none\"\n",
            "tls = \"none\"\nhelo_name = \"kkr.example.org\"\n",
        ),
    );
    t.must(&["send", "2027-01-28", "--now", "2027-01-21T09:30"], 0);
    let per = per_recipient(&good, "dagsorden til mødet");
    assert_eq!(per.len(), recipients(&t).len());
    assert!(per.values().all(|ids| ids.len() == 1), "once each");
    assert!(good.hellos().iter().all(|h| h == "kkr.example.org"), "{:?}", good.hellos());
    assert!(
        good.connections() <= 2,
        "one connection for the agenda's 62 messages: {}",
        good.connections()
    );
}

#[test]
fn a_ca_file_that_cannot_be_read_is_a_clear_error_and_nothing_is_sent() {
    let sink = Sink::start(Behaviour::default());
    let t = with_smtp(sink.port);
    let config = fs::read_to_string(t.path("council.toml")).unwrap();
    t.write(
        "council.toml",
        config.replace(
            "tls = \"none\"\n",
            "tls = \"none\"\nca_file = \"certs/intern-ca.pem\"\n",
        ),
    );
    // check reads it as sending does.
    let checked = stdout(&t.must(&["check"], 1));
    assert!(
        checked.contains("[mail.smtp] ca_file certs/intern-ca.pem kan ikke læses"),
        "{checked}"
    );
    let out = t.kkr(&["run", "--once", "--now", SEND]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("ca_file certs/intern-ca.pem kan ikke læses"),
        "{}",
        stderr(&out)
    );
    assert!(sink.messages().is_empty());
    t.write("certs/intern-ca.pem", "ikke et certifikat\n");
    let out = t.kkr(&["run", "--once", "--now", SEND]);
    assert!(stderr(&out).contains("er ikke et PEM-certifikat"), "{}", stderr(&out));
    assert!(sink.messages().is_empty());
}

/// Starts the daemon at `now[0]`, kills it (SIGKILL) once 20 messages whose subject has
/// `what` arrived, runs once at `now[1]`, and requires that every roster row got it, each
/// with one Message-ID, and at most the one in flight twice (SPEC §6).
pub(crate) fn kill_half_way(t: &Test, sink: &Sink, what: &str, now: [&str; 2]) {
    let mut d = daemon(&[t], now[0]);
    wait_until("the send to start", Duration::from_secs(60), || {
        per_recipient(sink, what).len() >= 20
    });
    d.0.kill().unwrap(); // SIGKILL
    d.0.wait().unwrap();
    assert!(
        per_recipient(sink, what).len() < recipients(t).len(),
        "killed in the middle"
    );
    t.must(&["run", "--once", "--now", now[1]], 0);
    let per = per_recipient(sink, what);
    assert_eq!(per.len(), recipients(t).len(), "every row got it");
    let mut duplicates = 0;
    for (r, ids) in &per {
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            1,
            "{r}: the same Message-ID"
        );
        duplicates += ids.len() - 1;
    }
    assert!(duplicates <= 1, "at most the message in flight is repeated ({duplicates})");
}

#[test]
fn a_server_that_says_its_size_gets_the_mail_without_the_pdf_without_a_552() {
    let sink = Sink::start(Behaviour {
        max_size: Some(60_000),
        advertise_size: Some(60_000),
        ..Default::default()
    });
    let t = with_smtp(sink.port);
    t.must(&["run", "--once", "--now", SEND], 0);
    assert_once_each(&t, &sink, "dagsorden til mødet");
    assert!(sink.messages().iter().all(|m| !m.data.contains("application/pdf")));
    assert_eq!(sink.size_refusals(), 0, "nothing uploaded only to be refused");
    let text = stdout(&t.must(&["status", "2027-01-28", "--now", SEND], 0));
    assert!(text.contains("sendt uden PDF") && text.contains("0 fejlet"), "{text}");
}
