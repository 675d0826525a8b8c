//! The hostile corpus, made by `tests/fixtures/hostile/corpus.py` at test time, dropped into
//! one council of a running five-council daemon: each case gets its named outcome, the other
//! councils are served in the same minute, and the whole process tree stays under 1 GiB.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::check::{OK, item};
use crate::harness::{Test, TreeMemory, daemon, fold, repo, wait_until};

/// Where a corpus file ends up: its item taken in, or rejected with a report.
enum Outcome {
    Accepted,
    Rejected(String),
}

/// Drops `bytes` at `path` under a temporary name first, as a secretariat's copy ends.
fn drop_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("kopi.tmp");
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, path).unwrap();
}

#[test]
fn every_hostile_case_gets_its_outcome_under_1_gib_while_four_other_councils_are_served()
{
    let corpus = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("python3")
        .arg(repo().join("tests/fixtures/hostile/corpus.py"))
        .arg(corpus.path())
        .status()
        .expect("python3 makes the corpus");
    assert!(made.success());
    let tsv = fs::read_to_string(corpus.path().join("corpus.tsv")).unwrap();
    let cases: Vec<(&str, &str)> =
        tsv.lines().map(|l| l.split_once('\t').expect("file<TAB>outcome")).collect();
    assert!(cases.len() >= 20, "the corpus has its cases");

    // Five councils in one daemon, as deployed.
    let councils: Vec<Test> = (0..5).map(|_| Test::example_without_items()).collect();
    let (a, others) = (&councils[0], &councils[1..]);
    let d = daemon(&councils.iter().collect::<Vec<_>>(), "2027-01-10T09:00");
    let memory = TreeMemory::watch(d.0.id());
    std::thread::sleep(Duration::from_millis(500));

    // Council A: every case, bilag first (an item naming a bilag comes after it).
    let mut items = Vec::new();
    for (n, (file, _)) in cases.iter().enumerate() {
        let bytes = fs::read(corpus.path().join(file)).unwrap();
        if file.ends_with(".md") {
            items.push((file.to_string(), bytes));
        } else {
            drop_file(&a.path(&format!("inbox/bilag/{file}")), &bytes);
            let id = format!("id = \"2027-01-28-bilag-{n}\"");
            let title = format!("title = \"Sag med {file}\"");
            let bilag = format!("attachments = [\"bilag/{file}\"]");
            let mut front = OK.to_vec();
            front[0] = &id;
            front[2] = &title;
            front.push(&bilag);
            items.push((format!("bilag-{n}.md"), item(&front, "Tekst.\n").into_bytes()));
        }
    }
    for (name, bytes) in &items {
        drop_file(&a.path(&format!("inbox/{name}")), bytes);
    }
    // The other councils, in the same moment: one ordinary item each.
    for b in others {
        drop_file(&b.path("inbox/b.md"), item(&OK, "Tekst.\n").as_bytes());
    }
    wait_until("the other councils' drafts", Duration::from_secs(120), || {
        others.iter().all(|b| b.path("outbox/2027-01-28/dagsorden-udkast.pdf").exists())
    });
    let outcome = |name: &str| {
        let report = a.path(&format!("inbox/afvist/{name}.fejl.txt"));
        if a.path(&format!("inbox/behandlet/2027-01-28/{name}")).is_file() {
            Some(Outcome::Accepted)
        } else {
            fs::read_to_string(report).ok().map(Outcome::Rejected)
        }
    };
    wait_until("every case of council A", Duration::from_secs(600), || {
        items.iter().all(|(name, _)| outcome(name).is_some())
    });
    // The draft of council A shows every bilag case that was taken in.
    let draft = a.path("outbox/2027-01-28/dagsorden-udkast.pdf");
    let taken: Vec<String> = cases
        .iter()
        .zip(&items)
        .filter(|((file, _), (name, _))| {
            !file.ends_with(".md") && matches!(outcome(name), Some(Outcome::Accepted))
        })
        .map(|((file, _), _)| format!("Sag med {file}"))
        .collect();
    wait_until(
        "council A's draft with every item taken in",
        Duration::from_secs(120),
        || {
            let text =
                std::process::Command::new("pdftotext").arg(&draft).arg("-").output();
            let text = text
                .map(|o| fold(&String::from_utf8_lossy(&o.stdout)))
                .unwrap_or_default();
            taken.iter().all(|t| text.contains(t.as_str()))
        },
    );
    let mut d = d;
    assert!(d.0.try_wait().unwrap().is_none(), "the daemon is still running");
    let peak = memory.peak();

    let mut wrong = Vec::new();
    for ((file, expected), (name, _)) in cases.iter().zip(&items) {
        match (outcome(name).unwrap(), *expected) {
            (Outcome::Accepted, "ok") => {}
            (Outcome::Accepted, e) => {
                wrong.push(format!("{file}: accepted, expected «{e}»"))
            }
            (Outcome::Rejected(r), "ok") => wrong.push(format!("{file}: rejected: {r}")),
            (Outcome::Rejected(r), e) => {
                if !r.contains(e) || !r.contains(&format!("inbox/{name}:")) {
                    wrong.push(format!("{file}: expected «{e}» located: {r}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(peak < 1 << 30, "peak memory of the process tree: {} MiB", peak >> 20);
    eprintln!("peak memory of the daemon's process tree: {} MiB", peak >> 20);
    // Nothing is left claimed, so a restart does not meet any of it again.
    let work = a.path("inbox/.work");
    assert!(!work.exists() || fs::read_dir(work).unwrap().next().is_none());
}
