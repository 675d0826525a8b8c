//! `kkr preview` (SPEC §5): what the next send would be, byte for byte, and nothing else.

use std::fs;

use mail_parser::MessageParser;

use crate::check::{OK, item};
use crate::harness::{Test, stdout};

const SEND: &str = "2027-01-21T09:00";

fn body(raw: &[u8]) -> String {
    MessageParser::default().parse(raw).unwrap().body_text(0).unwrap().into_owned()
}

#[test]
fn the_preview_is_the_following_send_and_changes_nothing() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-20T08:00"], 0);
    let before = crate::rehearsal::tree(&t.path(""));
    let out = t.must(&["preview", "2027-01-28", "--now", SEND], 0);
    assert!(stdout(&out).contains("dagsorden.pdf til 62 modtagere"), "{}", stdout(&out));
    let mut after = crate::rehearsal::tree(&t.path(""));
    let shown: Vec<String> =
        after.keys().filter(|k| k.starts_with("outbox/visning/")).cloned().collect();
    assert_eq!(
        shown,
        [
            "outbox/visning/2027-01-28/dagsorden-sofie.lund@example.org.eml",
            "outbox/visning/2027-01-28/dagsorden.pdf",
            "outbox/visning/2027-01-28/modtagere.txt",
        ]
    );
    after.retain(|k, _| !k.starts_with("outbox/visning/"));
    let changed: Vec<&String> = after
        .keys()
        .chain(before.keys())
        .filter(|k| after.get(*k) != before.get(*k))
        // SQLite's own -wal/-shm files, which any reader of a WAL database may create.
        .filter(|k| !k.ends_with("-wal") && !k.ends_with("-shm"))
        .collect();
    assert!(
        changed.is_empty(),
        "preview writes nothing but outbox/visning/: {changed:?}"
    );
    let list =
        fs::read_to_string(t.path("outbox/visning/2027-01-28/modtagere.txt")).unwrap();
    assert_eq!(list.lines().count(), 63, "{list}");

    t.must(&["run", "--once", "--now", SEND], 0);
    assert_eq!(
        fs::read(t.path("outbox/visning/2027-01-28/dagsorden.pdf")).unwrap(),
        fs::read(t.path("outbox/2027-01-28/dagsorden.pdf")).unwrap(),
        "the previewed PDF is the one sent"
    );
    let shown = fs::read(
        t.path("outbox/visning/2027-01-28/dagsorden-sofie.lund@example.org.eml"),
    )
    .unwrap();
    let sent =
        fs::read(t.path("outbox/mail/2027-01-28-dagsorden-sofie.lund@example.org.eml"))
            .unwrap();
    assert_eq!(body(&shown), body(&sent), "the same mail text");
    let id = |raw: &[u8]| {
        MessageParser::default().parse(raw).unwrap().message_id().unwrap().to_owned()
    };
    assert_eq!(id(&shown), id(&sent), "the same message");

    // After the send: a changed item previews as the correction, numbered as it will be sent.
    let out = t.must(&["preview", "2027-01-28", "--now", "2027-01-21T10:00"], 0);
    assert!(stdout(&out).contains("Intet at vise"), "{}", stdout(&out));
    let mut front = OK.to_vec();
    front[0] = "id = \"2027-01-28-sen\"";
    front.push("late_reason = \"Kom sent.\"");
    t.write("inbox/sen.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-21T10:00"], 0);
    front[2] = "title = \"Ny titel\"";
    t.write("inbox/sen.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-21T10:05"], 0);
    assert!(t.path("outbox/2027-01-28/rettet-dagsorden-1.pdf").is_file());
    front[2] = "title = \"Endnu en titel\"";
    t.write("inbox/sen.md", item(&front, "x\n"));
    let out = t.must(&["preview", "2027-01-28", "--now", "2027-01-21T10:10"], 0);
    assert!(stdout(&out).contains("rettet-dagsorden-2.pdf"), "{}", stdout(&out));
    assert!(t.path("inbox/sen.md").is_file(), "the preview takes nothing in");
}
