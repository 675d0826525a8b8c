//! The mistakes of people who write kkr's files in an office, each with its whole Danish
//! report as the snapshot in `tests/fixtures/mistakes/` (root cause and fix, no follow-on
//! errors, no parser English).

use std::fs;

use crate::harness::{Test, repo, stdout};

#[test]
fn each_office_mistake_gets_exactly_its_danish_report() {
    let dir = repo().join("tests/fixtures/mistakes");
    let t = Test::example_without_items();
    let mut names = Vec::new();
    for e in fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".md").filter(|s| *s != "README") {
            t.write(&format!("inbox/{name}"), fs::read(e.path()).unwrap());
            names.push(stem.to_owned());
        }
    }
    assert!(names.len() >= 4, "the fixtures are there");
    t.must(&["run", "--once", "--now", "2027-01-10T09:00"], 1);
    for stem in &names {
        let got = fs::read_to_string(t.path(&format!("inbox/afvist/{stem}.md.fejl.txt")))
            .unwrap_or_else(|_| panic!("{stem} is rejected"));
        let want = fs::read_to_string(dir.join(format!("{stem}.report"))).unwrap();
        assert_eq!(got, want, "the report for {stem}.md");
        assert!(
            !got.contains("expected") && !got.contains("invalid"),
            "no parser English"
        );
    }
}

#[test]
fn a_comma_in_a_name_and_a_run_of_unfilled_rows_are_one_problem_each() {
    let dir = repo().join("tests/fixtures/mistakes");
    let t = Test::example_without_items();
    t.write("members.csv", fs::read(dir.join("members.csv")).unwrap());
    let got = stdout(&t.must(&["check"], 1));
    let want = fs::read_to_string(dir.join("members.report")).unwrap();
    assert_eq!(got, want);
}
