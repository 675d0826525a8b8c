//! One current file per item (SPEC §6): `behandlet/<meeting>/` holds the current version
//! under its first name, earlier ones are in `tidligere/`, and an old copy dropped again is
//! rejected, naming the current file; a workspace of the previous release is tidied.

use std::fs;

use crate::harness::{Test, stdout};

const FILE: &str = "06-kapacitet-gymnasier.md";
const DIR: &str = "inbox/behandlet/2027-01-28";

#[test]
fn the_current_file_keeps_its_name_and_an_old_copy_is_refused() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let original = fs::read_to_string(t.path(&format!("{DIR}/{FILE}"))).unwrap();
    let changed = original.replace("skoleåret 2027/28", "skoleåret 2027/28 (revideret)");
    t.write(&format!("inbox/{FILE}"), &changed);
    t.must(&["run", "--once", "--now", "2027-01-22T10:00"], 0);
    assert!(t.path("outbox/2027-01-28/rettet-dagsorden-1.pdf").is_file());
    assert_eq!(
        fs::read_to_string(t.path(&format!("{DIR}/{FILE}"))).unwrap(),
        changed,
        "the current version under its first name"
    );
    let earlier = t.files(&format!("{DIR}/tidligere"));
    assert_eq!(earlier, ["06-kapacitet-gymnasier-udgave-1.md"]);
    assert!(
        !t.files(DIR).iter().any(|f| f.starts_with("06-kapacitet-gymnasier-")),
        "no -2"
    );

    // The old copy with a decision added would undo the correction: it is refused.
    let stale = original.replacen(
        "\n+++\n",
        "\n[decision]\ntext = \"Taget til efterretning.\"\n+++\n",
        1,
    );
    t.write(&format!("inbox/{FILE}"), &stale);
    t.must(&["run", "--once", "--now", "2027-01-22T11:00"], 1);
    let report =
        fs::read_to_string(t.path(&format!("inbox/afvist/{FILE}.fejl.txt"))).unwrap();
    assert!(report.contains("tidligere udgave (nr. 1)"), "{report}");
    assert!(
        report.contains(&format!("{DIR}/{FILE}")),
        "names the current file: {report}"
    );
    assert!(
        !t.path("outbox/2027-01-28/rettet-dagsorden-2.pdf").exists(),
        "nothing reverted"
    );
    let status = stdout(&t.must(&["status", "--now", "2027-01-22T11:00"], 0));
    assert!(!status.contains("rettet-dagsorden-2"), "{status}");

    // The decision added to the current file is taken.
    let decided = changed.replacen(
        "\n+++\n",
        "\n[decision]\ntext = \"Taget til efterretning.\"\n+++\n",
        1,
    );
    t.write(&format!("inbox/{FILE}"), &decided);
    t.must(&["run", "--once", "--now", "2027-01-22T12:00"], 0);
    assert_eq!(fs::read_to_string(t.path(&format!("{DIR}/{FILE}"))).unwrap(), decided);
    assert_eq!(t.files(&format!("{DIR}/tidligere")).len(), 2);
}

#[test]
fn a_workspace_of_the_previous_release_is_tidied_without_losing_a_file() {
    let t = Test::example();
    t.must(&["run", "--once", "--now", "2027-01-20T08:00"], 0);
    // The previous release kept each drop side by side: x.md, x-2.md, x-3.md.
    let v1 = fs::read_to_string(t.path(&format!("{DIR}/{FILE}"))).unwrap();
    let v2 = v1.replace("2027/28", "2027/28 v2");
    let v3 = v1.replace("2027/28", "2027/28 v3");
    for (name, text) in
        [("06-kapacitet-gymnasier-2.md", &v2), ("06-kapacitet-gymnasier-3.md", &v3)]
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let p = t.path(&format!("{DIR}/{name}"));
        fs::write(&p, text).unwrap();
    }
    let before = t.files(DIR).len();
    t.must(&["run", "--once", "--now", "2027-01-20T08:10"], 0);
    assert_eq!(fs::read_to_string(t.path(&format!("{DIR}/{FILE}"))).unwrap(), v3);
    let earlier = t.files(&format!("{DIR}/tidligere"));
    assert_eq!(earlier.len(), 2, "{earlier:?}");
    assert_eq!(t.files(DIR).len() + earlier.len(), before, "no file lost");
}
