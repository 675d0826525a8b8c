//! `kkr status` as a checklist at each stage of a meeting's life, and `--json` as Python's
//! `json` and `datetime.fromisoformat` read it (RFC 3339 times, SPEC §6).

use std::fs;

use crate::harness::{Test, stdout};

/// `status --json` at `now`, checked by Python: every time parses with
/// `datetime.fromisoformat` and has an offset. Returns (agenda, minutes) of the first
/// meeting, and the JSON.
fn stage(t: &Test, now: &str) -> (String, String, String) {
    let json = stdout(&t.must(&["status", "--json", "--now", now], 0));
    let script = r#"
import json, sys, datetime
d = json.load(sys.stdin)
times = 0
def walk(v, key=""):
    global times
    if isinstance(v, dict):
        for k, x in v.items(): walk(x, k)
    elif isinstance(v, list):
        for x in v: walk(x, key)
    elif isinstance(v, str) and key in ("now", "starts", "agenda_due", "created_at", "updated_at", "sent_at", "since", "at", "clock_behind"):
        t = datetime.datetime.fromisoformat(v)
        assert t.utcoffset() is not None, v
        times += 1
walk(d)
m = d["meetings"][0]
print(m["agenda"]); print(m["minutes"]); print(times)
"#;
    let text = crate::harness::python(script, json.as_bytes());
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[2].parse::<usize>().unwrap() >= 3, "times were checked");
    (lines[0].to_owned(), lines[1].to_owned(), json)
}

#[test]
fn status_follows_a_meeting_from_its_items_to_its_minutes_in_text_and_rfc3339_json() {
    let t = Test::example();
    // Before the send: scheduled, with the items as they will be numbered.
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    let (agenda, minutes, _) = stage(&t, "2027-01-10T09:05");
    assert_eq!((agenda.as_str(), minutes.as_str()), ("scheduled", "not-held"));
    let text = stdout(&t.must(&["status", "--now", "2027-01-10T09:05"], 0));
    assert!(text.contains("12 punkter") && text.contains("    10. Udpegning"), "{text}");
    assert!(text.contains("(lukket)"), "{text}");
    assert!(!text.contains("MANGLER BESLUTNING"), "not before the meeting: {text}");

    // A broken roster: nothing is promised that will not happen.
    let roster = fs::read_to_string(t.path("members.csv")).unwrap();
    fs::write(t.path("members.csv"), format!("{roster}Uden Adresse,,medlem,,,ja\n"))
        .unwrap();
    let text = stdout(&t.must(&["status", "--now", "2027-01-21T09:00"], 0));
    assert!(text.contains("sendes ikke, før members.csv er rettet"), "{text}");
    assert!(!text.contains("sendes ved næste kørsel"), "{text}");
    fs::write(t.path("members.csv"), roster).unwrap();

    // Sent; the meeting has not ended.
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let (agenda, minutes, _) = stage(&t, "2027-01-21T10:00");
    assert_eq!((agenda.as_str(), minutes.as_str()), ("sent", "not-held"));

    // After the meeting: which items lack their decision, and no attendance file yet.
    let (_, minutes, json) = stage(&t, "2027-01-28T12:00");
    assert_eq!(minutes, "waiting-decisions");
    assert!(json.contains("\"decided\": false"), "{json}");
    let text = stdout(&t.must(&["status", "--now", "2027-01-28T12:00"], 0));
    assert!(text.contains("referat: VENTER på beslutningerne i punkt 1, 2, 3"), "{text}");
    assert!(
        text.contains(
            "3. Fordeling af praktikpladser på SOSU-området 2027 (MANGLER BESLUTNING)"
        ),
        "{text}"
    );
    assert!(text.contains("ingen fremmødefil endnu"), "{text}");

    // Decided, and sent: the minutes are there, nothing waits.
    crate::minutes::decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T12:30"], 0);
    let (_, minutes, _) = stage(&t, "2027-01-28T12:35");
    assert_eq!(minutes, "sent");
    let text = stdout(&t.must(&["status", "--now", "2027-01-28T12:35"], 0));
    assert!(text.contains("outbox/2027-01-28/referat.pdf: lavet"), "{text}");
    assert!(!text.contains("MANGLER BESLUTNING") && !text.contains("VENTER"), "{text}");
}

#[test]
fn a_rejected_file_that_was_fixed_is_no_longer_listed() {
    let t = Test::example();
    let good = fs::read_to_string(t.path("inbox/03-praktikpladser.md")).unwrap();
    t.write("inbox/03-praktikpladser.md", good.replace("area = ", "areal = "));
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 1);
    let text = stdout(&t.must(&["status", "--now", "2027-01-10T09:01"], 0));
    assert!(text.contains("inbox/03-praktikpladser.md"), "listed while rejected: {text}");
    // Fixed and dropped again: accepted, and no longer listed as rejected.
    t.write("inbox/03-praktikpladser.md", &good);
    t.must(&["run", "--once", "--now", "2027-01-10T09:10"], 0);
    let text = stdout(&t.must(&["status", "--now", "2027-01-10T09:11"], 0));
    assert!(!text.contains("Seneste afviste filer"), "{text}");
}

#[test]
fn held_and_waiting_for_approval_are_stages_of_their_own() {
    let t = Test::example_without_items();
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let (agenda, _, _) = stage(&t, "2027-01-21T09:05");
    assert_eq!(agenda, "held");

    let t = Test::example();
    let toml = fs::read_to_string(t.path("council.toml")).unwrap();
    fs::write(
        t.path("council.toml"),
        toml.replace("minutes_approval = false", "minutes_approval = true"),
    )
    .unwrap();
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    crate::minutes::decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 0);
    let (_, minutes, json) = stage(&t, "2027-01-28T12:05");
    assert_eq!(minutes, "waiting-approval");
    assert!(
        json.contains("\"draft\": \"outbox/2027-01-28/referat-udkast.pdf\""),
        "{json}"
    );
}
