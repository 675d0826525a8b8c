//! Accessibility of the HTML kkr writes (mail bodies, the public site), checked by axe-core
//! in headless Chromium at a phone's width, in light and dark mode (issue 16: no WCAG 2.1
//! A/AA violation, readable at 390 px). The checker is `tests/axe/check.mjs`: axe-core and
//! playwright-core from npm (`npm ci --prefix tests/axe`) and Debian's `chromium`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::check::item;
use crate::harness::{Test, repo};
use crate::minutes::decide_all;

/// What axe-core and the width measurement found in one file in one colour scheme.
#[derive(serde::Deserialize, Debug)]
struct Verdict {
    file: String,
    scheme: String,
    violations: Vec<serde_json::Value>,
    width: u32,
}

/// Runs the checker on `files` and fails with every violation found, or when a page is
/// wider than the phone's 390 px.
pub(crate) fn assert_accessible(files: &[PathBuf]) {
    let dir = repo().join("tests/axe");
    assert!(
        dir.join("node_modules/axe-core").is_dir(),
        "axe-core is missing: run `npm ci --prefix tests/axe` (and install Debian's chromium)"
    );
    let out = Command::new("node")
        .arg(dir.join("check.mjs"))
        .args(files)
        .output()
        .expect("node runs (Node.js is needed for the accessibility check)");
    assert!(
        out.status.success(),
        "the checker failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<Verdict> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(verdicts.len(), files.len() * 2, "each file in light and dark mode");
    let bad: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.violations.is_empty() || v.width > 390)
        .map(|v| {
            format!(
                "{} ({}): width {} px, violations {}",
                v.file,
                v.scheme,
                v.width,
                serde_json::to_string_pretty(&v.violations).unwrap()
            )
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The HTML body of the first mail whose file name starts with `prefix`, written to
/// `axe/<prefix>.html` in the workspace.
fn html_body(t: &Test, prefix: &str) -> PathBuf {
    let name = t
        .mails("outbox/mail")
        .into_iter()
        .find(|f| f.starts_with(prefix))
        .unwrap_or_else(|| panic!("no mail {prefix}*"));
    let bytes = std::fs::read(t.path("outbox/mail").join(name)).unwrap();
    let message = mail_parser::MessageParser::default().parse(&bytes).unwrap();
    let html = message.body_html(0).expect("an HTML body").into_owned();
    let path = t.path(&format!("axe/{prefix}.html"));
    t.write(&format!("axe/{prefix}.html"), html);
    path
}

#[test]
fn mail_bodies_and_the_public_index_pass_axe_core_at_390_px_in_light_and_dark_mode() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let mut files = vec![html_body(&t, "2027-01-28-dagsorden-")];

    // A late item (the supplement) and a changed one (the correction).
    let mut front = crate::bodies::late_item();
    t.write("inbox/sen.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 0);
    files.push(html_body(&t, "2027-01-28-supplerende-dagsorden-1-"));
    front[2] = "title = \"Sent punkt om vintervedligeholdelse af veje\"";
    t.write("inbox/sen.md", item(&front, "x\n"));
    t.must(&["run", "--once", "--now", "2027-01-22T11:00"], 0);
    files.push(html_body(&t, "2027-01-28-rettet-dagsorden-1-"));

    // A changed place: the notice without a PDF.
    let toml = std::fs::read_to_string(t.path("council.toml")).unwrap();
    t.write(
        "council.toml",
        toml.replacen(
            "place = \"Gentofte Rådhus, Bernstorffsvej 161, 2920 Charlottenlund\"",
            "place = \"Gentofte Rådhus, mødesal 2, Bernstorffsvej 161, 2920 Charlottenlund\"",
            1,
        ),
    );
    t.must(&["run", "--once", "--now", "2027-01-23T10:00"], 0);
    files.push(html_body(&t, "2027-01-28-moedeaendring-1-"));

    // The minutes, and the public site's index.
    decide_all(&t);
    t.must(&["run", "--once", "--now", "2027-01-28T12:00"], 0);
    files.push(html_body(&t, "2027-01-28-referat-"));
    files.push(t.path("outbox/public/index.html"));
    assert!(files.iter().all(|f| Path::new(f).is_file()), "{files:?}");
    assert_accessible(&files);
}
