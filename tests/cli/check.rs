//! `kkr check`: every problem with file, line and column; nothing changes.

use crate::harness::{Test, stderr, stdout};

/// An item file whose front matter lines are given (line 1 is `+++`, so the first given
/// line is line 2).
pub(crate) fn item(front: &[&str], body: &str) -> String {
    format!("+++\n{}\n+++\n{body}", front.join("\n"))
}

pub(crate) const OK: [&str; 5] = [
    "id = \"2027-01-28-test\"",
    "meeting = \"2027-01-28\"",
    "title = \"Testpunkt\"",
    "area = \"Andet\"",
    "kind = \"orientering\"",
];

fn with(replace: usize, line: &str) -> String {
    let mut front: Vec<&str> = OK.to_vec();
    front[replace] = line;
    item(&front, "Tekst.\n")
}

fn plus(extra: &[&str]) -> String {
    let mut front: Vec<&str> = OK.to_vec();
    front.extend_from_slice(extra);
    item(&front, "Tekst.\n")
}

#[test]
fn example_workspace_is_clean() {
    let t = Test::example();
    let out = t.must(&["check"], 0);
    assert!(stdout(&out).contains("Alt i orden"), "{}", stdout(&out));
    assert!(!t.path("state").exists(), "check creates nothing");
}

#[test]
fn each_bad_item_gives_a_located_danish_message_and_nothing_changes() {
    let t = Test::example_without_items();
    let cases: Vec<(&str, String, &str)> = vec![
        ("broken-toml.md", with(2, "title = \"Testpunkt"), "inbox/broken-toml.md:4:"),
        (
            "unknown-meeting.md",
            with(1, "meeting = \"2027-02-30\""),
            "inbox/unknown-meeting.md:3:11: fejl: `meeting` er ikke en gyldig dato",
        ),
        (
            "no-meeting.md",
            with(1, "meeting = \"2027-02-04\""),
            "inbox/no-meeting.md:3:11: fejl: der er intet møde den 2027-02-04",
        ),
        (
            "unknown-area.md",
            with(3, "area = \"Kultur\""),
            "inbox/unknown-area.md:5:8: fejl: ukendt sagsområde \"Kultur\"",
        ),
        (
            "unknown-kind.md",
            with(4, "kind = \"vedtagelse\""),
            "inbox/unknown-kind.md:6:8: fejl: ukendt type \"vedtagelse\"",
        ),
        (
            "closed-no-public.md",
            plus(&["closed = true"]),
            "inbox/closed-no-public.md:2:1: fejl: et lukket punkt (closed = true) skal have en offentlig titel",
        ),
        (
            "missing-attachment.md",
            plus(&["attachments = [\"bilag/findes-ikke.pdf\"]"]),
            "inbox/missing-attachment.md:7:16: fejl: bilaget \"bilag/findes-ikke.pdf\": findes ikke",
        ),
        (
            "dotdot.md",
            plus(&["attachments = [\"../council.toml\"]"]),
            "inbox/dotdot.md:7:16: fejl: bilagsstien \"../council.toml\" er ikke tilladt",
        ),
        (
            "absolute.md",
            plus(&["attachments = [\"/etc/passwd\"]"]),
            "inbox/absolute.md:7:16: fejl: bilagsstien \"/etc/passwd\" er ikke tilladt",
        ),
        (
            "unknown-field.md",
            plus(&["titel = \"x\""]),
            "inbox/unknown-field.md:7:1: fejl: ukendt felt `titel`",
        ),
        (
            "no-end.md",
            "+++\nid = \"x\"\n".into(),
            "inbox/no-end.md:1:1: fejl: den afsluttende +++-linje mangler",
        ),
        ("empty.md", String::new(), "inbox/empty.md:1:1: fejl: filen er tom"),
        (
            "late-type.md",
            with(4, "kind = 3"),
            "inbox/late-type.md:6:8: fejl: `kind` skal være en tekst",
        ),
    ];
    for (name, content, _) in &cases {
        t.write(&format!("inbox/{name}"), content);
    }
    t.write("inbox/binary.md", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    t.write("inbox/latin1.md", b"+++\ntitle = \"R\xe5dhus\"\n+++\n");
    let out = t.must(&["check"], 1);
    let text = stdout(&out);
    for (name, _, expected) in &cases {
        assert!(text.contains(expected), "{name}: expected `{expected}` in:\n{text}");
    }
    assert!(
        text.contains("inbox/binary.md:1:1: fejl: filen er ikke en tekstfil"),
        "{text}"
    );
    assert!(
        text.contains("inbox/latin1.md:2:11: fejl: filen er ikke gemt som UTF-8"),
        "{text}"
    );
    assert!(text.contains("  hjælp: "), "every problem has a hint:\n{text}");
    assert!(!t.path("state").exists(), "check creates nothing");
    assert!(!t.path("inbox/afvist").exists(), "check moves nothing");
    assert!(t.path("inbox/unknown-area.md").exists());
}

#[test]
fn all_problems_of_a_file_are_reported_at_once() {
    let t = Test::example_without_items();
    let mut front = OK.to_vec();
    front[3] = "area = \"Kultur\"";
    front[4] = "kind = \"vedtagelse\"";
    front.push("closed = true");
    t.write("inbox/many.md", item(&front, "x\n"));
    let text = stdout(&t.must(&["check"], 1));
    assert_eq!(text.matches("inbox/many.md:").count(), 3, "{text}");
}

#[test]
fn duplicate_ids_name_each_other() {
    let t = Test::example_without_items();
    t.write("inbox/a.md", item(&OK, "a\n"));
    t.write("inbox/b.md", item(&OK, "b\n"));
    let text = stdout(&t.must(&["check"], 1));
    assert!(
        text.contains("inbox/a.md:1:1: fejl: samme id står også i inbox/b.md"),
        "{text}"
    );
    assert!(text.contains("inbox/b.md:1:1:"), "{text}");
}

#[test]
fn broken_roster_and_config_are_reported() {
    let t = Test::example();
    t.write("members.csv", "name,email,role,party,municipality,vote\nA,ikke-en-adresse,medlem,,,ja\nB,b@example.org,borgmester,,,ja\n");
    let text = stdout(&t.must(&["check"], 1));
    assert!(
        text.contains(
            "members.csv:2:3: fejl: \"ikke-en-adresse\" er ikke en gyldig mailadresse"
        ),
        "{text}"
    );
    assert!(
        text.contains("members.csv:3:17: fejl: ukendt rolle \"borgmester\""),
        "{text}"
    );

    let config = std::fs::read_to_string(t.path("council.toml"))
        .unwrap()
        .replace("send_time", "sende_tid");
    t.write("council.toml", config);
    let text = stdout(&t.must(&["check"], 1));
    assert!(text.contains("fejl: ukendt felt `sende_tid` i [schedule]"), "{text}");
}

#[test]
fn a_reader_that_goes_away_does_not_crash_kkr_or_change_its_exit_code() {
    // `kkr check | head -1`: the pipe is closed before kkr writes its report.
    let t = Test::example();
    t.write("inbox/x.md", "ingen felter\n");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kkr"))
        .arg("-C")
        .arg(t.path(""))
        .arg("check")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(1), "check still says the input is invalid");
}

#[test]
fn usage_mistakes_are_explained_in_danish_with_exit_2() {
    let t = Test::example_without_items();
    for (args, expected) in [
        (&["render"][..], "fejl: mangler <MØDE>"),
        (&["--bogus"], "fejl: ukendt valg --bogus"),
        (&["stauts"], "hjælp: mente du status?"),
        (&["publish", "--alle", "2027-01-28"], "fejl: --alle kan ikke bruges sammen med"),
        (&["completions", "foo"], "fejl: ugyldig værdi \"foo\" til <SKAL> (mulige: bash"),
    ] {
        let out = t.must(args, 2);
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(err.contains("hjælp: se kkr --help"), "{args:?}: {err}");
        assert!(!err.contains("error:") && !err.contains("Usage:"), "{args:?}: {err}");
    }
    // Help stays help (exit 0), in Danish.
    let out = t.must(&["--help"], 0);
    assert!(stdout(&out).contains("Kommandoer:"));
}

#[test]
fn check_looks_at_files_a_stopped_run_left_claimed() {
    let t = Test::example();
    t.write("inbox/.work/halv.md", "ikke et punkt\n");
    let out = t.must(&["check"], 1);
    assert!(stdout(&out).contains("inbox/halv.md:"), "{}", stdout(&out));
}

#[test]
fn check_with_files_validates_just_those_and_warns_of_equal_order() {
    let t = Test::example();
    let four = std::fs::read_to_string(t.path("inbox/04-rammeaftale-social.md")).unwrap();
    assert!(four.contains("order = 4"));
    t.write("inbox/04-rammeaftale-social.md", four.replace("order = 4", "order = 3"));
    t.write("inbox/skadet.md", "ingen front matter\n");
    // Only the named file: the broken one elsewhere in the inbox is not reported.
    let out = stdout(&t.must(&["check", "inbox/03-praktikpladser.md"], 0));
    assert_eq!(out.trim(), "Alt i orden: 1 fil.", "{out}");
    let out = stdout(&t.must(&["check", "inbox/skadet.md", "inbox/findes-ikke.md"], 1));
    assert!(out.contains("inbox/skadet.md:1:1: fejl:"), "{out}");
    assert!(
        out.contains("inbox/findes-ikke.md: fejl: filen ligger ikke i inbox/"),
        "{out}"
    );
    assert!(out.contains("2 filer skal rettes"), "{out}");
    // The whole inbox: equal order is a warning, not an error.
    std::fs::remove_file(t.path("inbox/skadet.md")).unwrap();
    let out = stdout(&t.must(&["check"], 0));
    assert!(
        out.contains("advarsel: order = 3 bruges af flere punkter til mødet 2027-01-28: inbox/03-praktikpladser.md, inbox/04-rammeaftale-social.md"),
        "{out}"
    );
}
