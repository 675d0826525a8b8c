//! Attachments as tables (SPEC §2): `{ file, title, public }`. The title is what readers see;
//! `public = false` keeps a bilag of an open item out of every public byte, its title shown
//! as not public.

use std::fs;

use crate::check::{OK, item};
use crate::harness::{Test, fold, poppler};

const SECRET: &str = "INTERNVURDERING4417";

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            walk(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

#[test]
fn a_titled_bilag_shows_its_title_and_a_non_public_one_stays_out_of_everything_public() {
    let t = Test::example();
    t.write("inbox/bilag/plan.pdf", crate::minutes::tiny_pdf("Planen for 2027"));
    t.write(
        "inbox/bilag/intern.pdf",
        crate::minutes::tiny_pdf(&format!("Vurdering {SECRET}")),
    );
    let mut front = OK.to_vec();
    front[2] = "title = \"Punkt med bilag\"";
    front.push("attachments = [{ file = \"bilag/plan.pdf\", title = \"Plan for kapaciteten\" }, { file = \"bilag/intern.pdf\", title = \"Intern vurdering\", public = false }]");
    t.write("inbox/bilag-punkt.md", item(&front, "Tekst.\n"));
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);

    let member =
        fold(&poppler("pdftotext", &[], &t.path("outbox/2027-01-28/dagsorden.pdf")));
    assert!(member.contains("– Plan for kapaciteten"), "the title, not the file name");
    assert!(!member.contains("plan.pdf"), "{member}");
    let pages = |f: &std::path::Path| {
        let info = poppler("pdfinfo", &[], f);
        let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap().to_owned();
        line.split_whitespace().last().unwrap().parse::<u32>().unwrap()
    };

    let public = t.path("outbox/public/2027-01-28/dagsorden-offentlig.pdf");
    let text = fold(&poppler("pdftotext", &[], &public));
    assert!(text.contains("Intern vurdering (ikke offentligt)"), "{text}");
    assert_eq!(
        pages(&t.path("outbox/2027-01-28/dagsorden.pdf")),
        pages(&public) + 1,
        "members get the non-public bilag's page, the public does not"
    );
    let mut files = Vec::new();
    walk(&t.path("outbox/public"), &mut files);
    assert!(!files.is_empty());
    for f in files {
        let bytes = fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "{} carries the non-public bilag",
            f.display()
        );
        if f.extension().is_some_and(|e| e == "pdf") {
            let text = poppler("pdftotext", &[], &f);
            let meta = poppler("pdfinfo", &["-meta"], &f);
            assert!(!text.contains(SECRET) && !meta.contains(SECRET), "{}", f.display());
        }
    }
}

#[test]
fn a_bilag_table_with_a_mistake_is_a_located_danish_error() {
    let t = Test::example_without_items();
    let mut front = OK.to_vec();
    front.push("attachments = [{ fil = \"bilag/plan.pdf\" }, 3]");
    t.write("inbox/forkert.md", item(&front, "Tekst.\n"));
    let out = crate::harness::stdout(&t.must(&["check"], 1));
    assert!(
        out.contains("ukendt felt `fil` i et bilag") || out.contains("`fil`"),
        "{out}"
    );
    assert!(out.contains("`file` mangler") || out.contains("file"), "{out}");
    assert!(out.contains("et bilag skrives som en sti i anførselstegn"), "{out}");
}
