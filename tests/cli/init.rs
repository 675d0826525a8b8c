//! `kkr init` for each of the five councils, then check and a dry run; several councils in
//! one run, with a failure in one.

use std::fs;
use std::process::Command;
use std::time::Duration;

use crate::harness::{Test, daemon, stderr, stdout, wait_until};

fn kkr(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kkr")).args(args).output().unwrap()
}

#[test]
fn init_check_and_a_dry_run_for_each_council() {
    for (council, members) in [
        ("Nordjylland", 22),
        ("Midtjylland", 38),
        ("Syddanmark", 44),
        ("Hovedstaden", 58),
        ("Sjælland", 34),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws");
        let d = dir.to_str().unwrap();
        let out = kkr(&["init", d, "--council", council, "--now", "2026-11-25T10:00"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let roster = fs::read_to_string(dir.join("members.csv")).unwrap();
        assert_eq!(
            roster.lines().count(),
            1 + members + 1,
            "{council}: header, members, secretariat"
        );
        assert!(roster.contains(",formand,") && roster.contains(",næstformand,"));
        assert!(
            dir.join("templates/agenda.typ").exists()
                && dir.join("templates/mail/agenda.html.hbs").exists()
        );

        // A fresh workspace explains what is left to fill in.
        let out = kkr(&["-C", d, "check"]);
        assert_eq!(out.status.code(), Some(1));
        let text = stdout(&out);
        assert!(
            text.contains("mødestedet for") && text.contains("er ikke udfyldt"),
            "{text}"
        );
        assert!(
            text.contains("members.csv:2:1: fejl: rækkerne 2–")
                && text.contains("er ikke udfyldt endnu ("),
            "one line for the run of unfilled rows: {text}"
        );
        assert!(
            text.contains(&format!("fx \"KKR {council} <kkr-")),
            "the example address is the council's own: {text}"
        );

        // Filled in, with the example item in the inbox, it runs.
        let send = fill_in(&dir);
        let out = kkr(&["-C", d, "check"]);
        assert_eq!(out.status.code(), Some(0), "{council}: {}", stdout(&out));
        let out = kkr(&["-C", d, "run", "--once", "--now", &send]);
        assert_eq!(out.status.code(), Some(0), "{council}: {}", stderr(&out));
        assert_eq!(
            fs::read_dir(dir.join("outbox/mail")).unwrap().count(),
            members + 1,
            "{council}"
        );
    }
}

/// Fills in a new workspace's placeholders (place, addresses, roster rows) and drops the
/// example item for its first meeting; returns that meeting's send moment.
fn fill_in(dir: &std::path::Path) -> String {
    let roster = fs::read_to_string(dir.join("members.csv")).unwrap();
    let config = fs::read_to_string(dir.join("council.toml")).unwrap();
    let config = config
        .replace("UDFYLD: mødested med adresse", "Rådhuset, Torvet 1")
        .replace("UDFYLD@example.invalid", "kkr@example.org");
    fs::write(dir.join("council.toml"), &config).unwrap();
    let mut n = 0;
    let roster: String = roster
        .lines()
        .map(|l| {
            n += 1;
            l.replacen("UDFYLD,UDFYLD", &format!("Person {n},person{n}"), 1)
                .replace("example.invalid", "example.org")
                + "\n"
        })
        .collect();
    fs::write(dir.join("members.csv"), roster).unwrap();
    let first =
        config.lines().find(|l| l.starts_with("date = ")).unwrap()[8..18].to_owned();
    let example = fs::read_to_string(dir.join("eksempler/punkt.md"))
        .unwrap()
        .replace("MØDEDATO", &first);
    fs::write(dir.join("inbox/punkt.md"), example).unwrap();
    crate::harness::age(&dir.join("inbox/punkt.md"));
    format!(
        "{}T09:00",
        jiff::civil::Date::strptime("%Y-%m-%d", &first).unwrap()
            - jiff::Span::new().days(7)
    )
}

#[test]
fn init_for_another_body_puts_its_name_on_every_document_and_mail() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("k29");
    let d = dir.to_str().unwrap();
    let name = "K29 – kommunaldirektørkredsen";
    let out =
        kkr(&["init", d, "--body", name, "--slug", "k29", "--now", "2026-11-25T10:00"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("Arbejdsmappen for {name} er oprettet")));
    let config = fs::read_to_string(dir.join("council.toml")).unwrap();
    assert!(
        config.contains(&format!("name = \"{name}\""))
            && config.contains("slug = \"k29\"")
    );
    let out = kkr(&["-C", d, "check"]);
    assert_eq!(out.status.code(), Some(1), "placeholders are reported");
    let send = fill_in(&dir);
    let out = kkr(&["-C", d, "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = kkr(&["-C", d, "run", "--once", "--now", &send]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mails: Vec<_> =
        fs::read_dir(dir.join("outbox/mail")).unwrap().flatten().collect();
    assert_eq!(mails.len(), 21, "20 rows and the secretariat");
    let mail = fs::read(mails[0].path()).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&mail).unwrap();
    assert!(
        msg.subject().unwrap().starts_with(&format!("{name} – dagsorden")),
        "{:?}",
        msg.subject()
    );
    let pdf = fs::read_dir(dir.join("outbox"))
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir() && e.file_name() != "mail")
        .unwrap()
        .path()
        .join("dagsorden.pdf");
    let text = crate::harness::poppler("pdftotext", &[], &pdf);
    assert!(text.contains(name), "{text}");
    // Both --body and --slug, or neither.
    let out = kkr(&["init", tmp.path().join("x").to_str().unwrap(), "--body", "K29"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_refuses_an_existing_workspace_and_unknown_councils() {
    let t = Test::example();
    let d = t.path("");
    let out = kkr(&["init", d.to_str().unwrap(), "--council", "Hovedstaden"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("overskriver ikke"));
    let tmp = tempfile::tempdir().unwrap();
    let out = kkr(&["init", tmp.path().join("x").to_str().unwrap(), "--council", "Fyn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("Nordjylland, Midtjylland, Syddanmark, Hovedstaden, Sjælland")
    );
}

#[test]
fn two_councils_in_one_run_and_a_failure_in_one_does_not_stop_the_other() {
    let good = Test::example();
    let bad = Test::example();
    bad.write(
        "members.csv",
        "name,email,role,party,municipality,vote\nA,ikke-en-adresse,medlem,,,ja\n",
    );
    let (g, b) = (good.path(""), bad.path(""));
    let out = Command::new(env!("CARGO_BIN_EXE_kkr"))
        .args([
            "-C",
            g.to_str().unwrap(),
            "-C",
            b.to_str().unwrap(),
            "run",
            "--once",
            "--now",
            "2027-01-21T09:00",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the worst of the two: {}", stderr(&out));
    assert_eq!(good.mails("outbox/mail").len(), 62, "the good council sent everything");
    assert!(bad.mails("outbox/mail").is_empty());
    assert!(
        bad.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists(),
        "the other still took in its items"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_kkr"))
        .args([
            "-C",
            g.to_str().unwrap(),
            "-C",
            b.to_str().unwrap(),
            "status",
            "--now",
            "2027-01-21T09:00",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).matches("KKR Hovedstaden – status").count(), 2);
}

#[test]
fn one_daemon_two_councils_a_hanging_mail_server_in_one_does_not_delay_the_other() {
    // The bad council's mail server accepts connections and never says a word.
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hang.local_addr().unwrap().port();
    let good = Test::example();
    let bad = Test::example();
    let config = fs::read_to_string(bad.path("council.toml")).unwrap();
    bad.write(
        "council.toml",
        format!("{config}\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_secs = 120\n"),
    );
    let d = daemon(&[&good, &bad], "2027-01-21T09:00");
    wait_until("the good council's 62 mails", Duration::from_secs(60), || {
        good.files("outbox/mail").len() == 62
    });
    // The bad council took in its items and made its documents; it is stuck in SMTP only.
    assert!(bad.path("outbox/2027-01-28/dagsorden.pdf").exists());
    drop(d);
    drop(hang);
    // Nothing was recorded as sent for the bad council; its deliveries wait for a retry.
    let out = Command::new(env!("CARGO_BIN_EXE_kkr"))
        .args(["-C", bad.path("").to_str().unwrap(), "status", "2027-01-28", "--json"])
        .args(["--now", "2027-01-21T09:10"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let states: Vec<&str> = status["meetings"][0]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["deliveries"].as_array().unwrap())
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.len(), 62, "{status}");
    assert!(states.iter().all(|s| *s != "sent"), "{states:?}");
}

#[test]
fn the_daemon_starts_a_council_once_its_broken_council_toml_is_fixed() {
    let good = Test::example();
    let bad = Test::example();
    let valid = fs::read_to_string(bad.path("council.toml")).unwrap();
    bad.write("council.toml", valid.replace("[council]", "[council"));
    let _d = daemon(&[&good, &bad], "2027-01-10T09:00");
    wait_until("the good council runs", Duration::from_secs(60), || {
        good.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists()
    });
    assert!(!bad.path("state").exists(), "the broken council did not start");
    bad.write("council.toml", valid);
    wait_until(
        "the fixed council starts without a restart",
        Duration::from_secs(60),
        || bad.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists(),
    );
}

#[test]
fn restyled_templates_logo_and_template_errors_are_checked() {
    let t = Test::example();
    let repo = crate::harness::repo();
    for name in [
        "agenda.typ",
        "common.typ",
        "minutes.typ",
        "mail/agenda.txt.hbs",
        "mail/agenda.html.hbs",
    ] {
        t.write(
            &format!("templates/{name}"),
            fs::read(repo.join("templates").join(name)).unwrap(),
        );
    }
    // A new accent colour and a logo: still valid, and the logo is in the PDF.
    let common = fs::read_to_string(t.path("templates/common.typ")).unwrap();
    assert!(common.contains("#let accent = rgb(\"#1b365d\")"));
    t.write(
        "templates/common.typ",
        common
            .replace("#let accent = rgb(\"#1b365d\")", "#let accent = rgb(\"#7a1f2b\")"),
    );
    t.write("templates/logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"60\"><rect width=\"200\" height=\"60\" fill=\"#7a1f2b\"/></svg>");
    t.must(&["check"], 0);
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 0);
    let tags = crate::harness::poppler(
        "pdfinfo",
        &["-struct-text"],
        &t.path("outbox/2027-01-28/dagsorden-udkast.pdf"),
    );
    let first: Vec<&str> = tags.lines().take(2).collect();
    assert_eq!(
        first,
        ["Document", "  Figure:"],
        "the logo comes first, as a tagged figure"
    );

    // A Typst error points at the template line; a Handlebars error at the mail template.
    let broken =
        common.replace("#let accent = rgb(\"#1b365d\")", "#let accent = rgb(\"#1b365d\"");
    t.write("templates/common.typ", broken);
    t.write("templates/mail/agenda.txt.hbs", "Kære {{recipient}\n");
    let text = stdout(&t.must(&["check"], 1));
    assert!(text.contains("templates/common.typ:"), "{text}");
    assert!(text.contains("templates/mail/agenda.txt.hbs"), "{text}");
}
