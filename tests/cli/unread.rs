//! Files kkr does not read (SPEC §6): named with the fix by `check`, `run`'s log, `status`
//! and the secretariat's notice, and never moved.

use crate::harness::{Test, stderr, stdout};

#[test]
fn files_meant_as_input_but_not_read_are_named_and_left_where_they_are() {
    let t = Test::example();
    t.write("inbox/13-notat.md.txt", "+++\nid = \"x\"\n+++\n");
    t.write("inbox/sub/14-PUNKT.MD", "+++\nid = \"y\"\n+++\n");
    t.write("inbox/15-sag.docx", b"PK\x03\x04");
    let out = t.must(&["check"], 1);
    let text = stdout(&out);
    for (file, fix) in [
        ("inbox/13-notat.md.txt", "omdøb den til 13-notat.md"),
        ("inbox/sub/14-PUNKT.MD", "omdøb den til 14-PUNKT.md"),
        ("inbox/15-sag.docx", "DOCX-filer"),
    ] {
        assert!(
            text.contains(&format!("{file}:1:1: fejl: kkr læser ikke denne fil")),
            "{text}"
        );
        assert!(text.contains(fix), "{fix}: {text}");
    }
    assert!(!text.contains("Alt i orden"), "{text}");

    let out = t.must(&["run", "--once", "--now", "2027-01-21T08:00"], 0);
    let log = stderr(&out);
    assert!(log.contains("inbox/15-sag.docx: kkr læser ikke denne fil"), "{log}");
    for f in ["13-notat.md.txt", "15-sag.docx"] {
        assert!(t.path(&format!("inbox/{f}")).is_file(), "{f} is never moved");
    }
    assert!(t.path("inbox/sub/14-PUNKT.MD").is_file());
    let status = stdout(&t.must(&["status", "--now", "2027-01-21T08:00"], 0));
    assert!(
        status.contains("som kkr ikke læser") && status.contains("inbox/13-notat.md.txt"),
        "{status}"
    );

    // The notice names each once (with the notice before the agenda, in one message).
    let told = t.notice_texts("outbox/mail");
    assert_eq!(told.len(), 2, "one message per pass to each secretariat row");
    let all = told.join("\n");
    for f in ["inbox/13-notat.md.txt", "inbox/sub/14-PUNKT.MD", "inbox/15-sag.docx"] {
        assert!(all.contains(&format!("kkr læser ikke {f}")), "{f}: {all}");
    }
    t.must(&["run", "--once", "--now", "2027-01-21T08:10"], 0);
    assert_eq!(t.notices("outbox/mail").len(), 2, "told once");
}
