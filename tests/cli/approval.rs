//! Minutes approved by the chair (`minutes_approval`, SPEC §3.4): a draft to the formand,
//! the næstformand and the secretariat only; nothing to the members or the public before
//! the approval; then the minutes, saying who approved them, once to everyone.

use std::fs;

use crate::harness::{Test, fold, poppler, stdout};
use crate::minutes::decide_all;

const SEND: &str = "2027-01-21T09:00";
const AFTER: &str = "2027-01-28T12:00";
const CHAIR: &str = "Kirsten Løje Frandsen";

/// The mails of one document (`2027-01-28-<stem>-<address>.eml`, the address a roster's).
fn mails_of(t: &Test, stem: &str) -> Vec<String> {
    let roster = fs::read_to_string(crate::harness::repo().join("members.csv")).unwrap();
    let prefix = format!("2027-01-28-{stem}-");
    t.mails("outbox/mail")
        .into_iter()
        .filter(|f| {
            f.strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".eml"))
                .is_some_and(|address| roster.contains(&format!(",{address},")))
        })
        .collect()
}

/// The roster's approvers' addresses: formand, næstformand and secretariat rows.
fn approvers() -> Vec<String> {
    let roster = fs::read_to_string(crate::harness::repo().join("members.csv")).unwrap();
    let mut v: Vec<String> = roster
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ["formand", "næstformand", "sekretariat"]
                .contains(&f[2])
                .then(|| f[1].to_owned())
        })
        .collect();
    v.sort();
    v
}

fn with_approval() -> Test {
    let t = Test::example();
    let toml = fs::read_to_string(t.path("council.toml")).unwrap();
    assert!(toml.contains("minutes_approval = false"));
    fs::write(
        t.path("council.toml"),
        toml.replace("minutes_approval = false", "minutes_approval = true"),
    )
    .unwrap();
    t
}

fn redrop(t: &Test, name: &str, from: &str, to: &str) {
    let text = fs::read_to_string(t.path(&format!("inbox/behandlet/2027-01-28/{name}")))
        .unwrap();
    assert!(text.contains(from), "{name} has {from}");
    t.write(&format!("inbox/{name}"), text.replace(from, to));
}

#[test]
fn minutes_wait_for_the_chair_and_then_reach_everyone_once_saying_who_approved_them() {
    let t = with_approval();
    t.must(&["run", "--once", "--now", SEND], 0);
    decide_all(&t);
    t.must(&["run", "--once", "--now", AFTER], 0);
    // The draft goes to the approvers only; nothing to the members, nothing public.
    assert!(mails_of(&t, "referat").is_empty(), "no minutes before the approval");
    let drafts = mails_of(&t, "referat-udkast");
    let mut to: Vec<String> = drafts
        .iter()
        .map(|f| {
            f.trim_start_matches("2027-01-28-referat-udkast-")
                .trim_end_matches(".eml")
                .to_owned()
        })
        .collect();
    to.sort();
    assert_eq!(to, approvers(), "formand, næstformand and the secretariat only");
    let draft =
        fold(&poppler("pdftotext", &[], &t.path("outbox/2027-01-28/referat-udkast.pdf")));
    assert!(draft.contains("UDKAST") && draft.contains("til godkendelse"), "{draft}");
    let mail = fs::read_to_string(t.path("outbox/mail").join(&drafts[0])).unwrap();
    assert!(mail.contains("Giv sekretariatet besked"), "the mail says what to do");
    assert!(
        !t.path("outbox/public/2027-01-28/referat-offentlig.pdf").exists(),
        "nothing public"
    );
    let status = stdout(&t.must(&["status", "--now", "2027-01-28T12:05"], 0));
    assert!(status.contains("VENTER PÅ GODKENDELSE"), "{status}");

    // A bad approval is rejected: a name not in the roster.
    t.write("inbox/godkend.toml", "meeting = \"2027-01-28\"\napprove = \"referat\"\napproved_by = \"Ukendt Person\"\n");
    t.must(&["run", "--once", "--now", "2027-01-28T13:00"], 1);
    let report =
        fs::read_to_string(t.path("inbox/afvist/godkend.toml.fejl.txt")).unwrap();
    assert!(report.contains("står ikke i members.csv"), "{report}");
    assert!(mails_of(&t, "referat").is_empty());

    // Only the formand or the næstformand approves the minutes.
    t.write("inbox/medlem.toml", "meeting = \"2027-01-28\"\napprove = \"referat\"\napproved_by = \"Sofie Kjærgaard Lund\"\n");
    t.must(&["run", "--once", "--now", "2027-01-28T13:10"], 1);
    let report = fs::read_to_string(t.path("inbox/afvist/medlem.toml.fejl.txt")).unwrap();
    assert!(report.contains("ikke formand eller næstformand"), "{report}");

    // A decision changed while it waits: a new draft to the approvers, and an approval of
    // the first draft no longer counts.
    redrop(&t, "03-praktikpladser.md", "godkendt.", "godkendt med en frist.");
    t.must(&["run", "--once", "--now", "2027-01-28T14:00"], 0);
    assert_eq!(mails_of(&t, "referat-udkast-2").len(), approvers().len());
    t.write("inbox/gammel.toml", format!("meeting = \"2027-01-28\"\napprove = \"referat\"\napproved_by = \"{CHAIR}\"\nudkast = 1\n"));
    t.must(&["run", "--once", "--now", "2027-01-28T14:10"], 1);
    let report = fs::read_to_string(t.path("inbox/afvist/gammel.toml.fejl.txt")).unwrap();
    assert!(report.contains("det nyeste er udkast 2"), "{report}");
    assert!(mails_of(&t, "referat").is_empty());

    // Approved: the minutes go to every roster row, once, saying so; the public edition too.
    t.must(
        &[
            "approve",
            "2027-01-28",
            "--minutes",
            "--by",
            CHAIR,
            "--now",
            "2027-01-29T09:00",
        ],
        0,
    );
    assert_eq!(mails_of(&t, "referat").len(), 62);
    let minutes =
        fold(&poppler("pdftotext", &[], &t.path("outbox/2027-01-28/referat.pdf")));
    let approved = format!("af {CHAIR} den 29. januar 2027");
    assert!(minutes.contains("Godkendt") && minutes.contains(&approved), "{minutes}");
    assert!(minutes.contains("godkendt med en frist"), "{minutes}");
    assert!(t.path("outbox/public/2027-01-28/referat-offentlig.pdf").exists());
    t.must(&["run", "--once", "--now", "2027-01-29T10:00"], 0);
    assert_eq!(mails_of(&t, "referat").len(), 62, "once");
    // Nothing waits now: an approval is rejected, saying so.
    t.write(
        "inbox/igen.toml",
        format!(
            "meeting = \"2027-01-28\"\napprove = \"referat\"\napproved_by = \"{CHAIR}\"\n"
        ),
    );
    t.must(&["run", "--once", "--now", "2027-01-29T11:00"], 1);
    let report = fs::read_to_string(t.path("inbox/afvist/igen.toml.fejl.txt")).unwrap();
    assert!(report.contains("venter på godkendelse"), "{report}");

    // A correction waits for approval too, and the public edition with it.
    let public =
        fs::read(t.path("outbox/public/2027-01-28/referat-offentlig.pdf")).unwrap();
    redrop(
        &t,
        "03-praktikpladser.md",
        "godkendt med en frist.",
        "godkendt med fristen 1. april.",
    );
    t.must(&["run", "--once", "--now", "2027-01-30T10:00"], 0);
    assert!(mails_of(&t, "rettet-referat-1").is_empty(), "waits for the approval");
    assert_eq!(mails_of(&t, "referat-udkast-3").len(), approvers().len());
    assert_eq!(
        fs::read(t.path("outbox/public/2027-01-28/referat-offentlig.pdf")).unwrap(),
        public
    );
    for site in ["index.html", "meetings.json"] {
        let text = fs::read_to_string(t.path(&format!("outbox/public/{site}"))).unwrap();
        assert!(!text.contains("fristen 1. april"), "{site} waits for the approval too");
        assert!(
            text.contains("godkendt med en frist"),
            "{site} shows what was published"
        );
    }
    t.write(
        "inbox/godkend-rettelse.toml",
        format!(
            "meeting = \"2027-01-28\"\napprove = \"referat\"\napproved_by = \"{CHAIR}\"\n"
        ),
    );
    t.must(&["run", "--once", "--now", "2027-01-30T11:00"], 0);
    assert_eq!(mails_of(&t, "rettet-referat-1").len(), 62);
    let text = fold(&poppler(
        "pdftotext",
        &[],
        &t.path("outbox/2027-01-28/rettet-referat-1.pdf"),
    ));
    assert!(text.contains("fristen 1. april") && text.contains("Godkendt"), "{text}");
    assert_ne!(
        fs::read(t.path("outbox/public/2027-01-28/referat-offentlig.pdf")).unwrap(),
        public
    );
    let index = fs::read_to_string(t.path("outbox/public/index.html")).unwrap();
    assert!(
        index.contains("fristen 1. april"),
        "the site follows the approved correction"
    );
}

#[test]
fn an_approval_where_minutes_are_not_approved_is_refused() {
    let t = Test::example();
    let out = t.kkr(&["approve", "2027-01-28", "--minutes", "--by", CHAIR]);
    assert_eq!(out.status.code(), Some(2), "{}", crate::harness::stderr(&out));
    assert!(crate::harness::stderr(&out).contains("minutes_approval"));
}
