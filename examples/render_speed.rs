//! Benchmark (not a test): agenda render times for the example meeting, in-process cold and
//! warm, against the Typst compiler run as a separate process on the same files.
//!
//! `cargo run --release --example render_speed` (or without `--release`: dependencies are
//! optimised in the dev profile too). The comparison needs `pip install typst`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use kkr::clock::{self, Clock};
use kkr::daemon::Council;
use kkr::deliver;
use kkr::edition::{self, DocInput, DocKind, Edition, Entry};
use kkr::render::Renderer;
use kkr::workspace::Workspace;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name();
        if name == "behandlet" || name == "afvist" || name == ".work" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for f in ["council.toml", "members.csv"] {
        std::fs::copy(repo.join(f), dir.path().join(f)).unwrap();
    }
    copy_dir(&repo.join("inbox"), &dir.path().join("inbox"));
    let old =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    for e in std::fs::read_dir(dir.path().join("inbox")).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::File::options()
                .write(true)
                .open(e.path())
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
    }
    let ws = Workspace::new(dir.path());
    let start = clock::parse_now("2027-01-10T09:00").unwrap().timestamp();
    let mut council = Council::open(ws.clone(), Clock::starting_at(start), true).unwrap();
    council.pass(&Default::default()).unwrap();
    let meeting = jiff::civil::date(2027, 1, 28);
    let m = council.config.meeting(meeting).unwrap().clone();
    let items = deliver::agenda_items(&council.ledger, meeting).unwrap();
    let make = |items: &[kkr::item::Item]| {
        edition::build(&DocInput {
            council: &council.config.council,
            meeting: &m,
            entries: items
                .iter()
                .enumerate()
                .map(|(i, item)| Entry { item, status: "", number: i + 1 })
                .collect(),
            attendance: None,
            kind: DocKind::Agenda,
            edition: Edition::Member,
            note: String::new(),
            changed_at: start,
        })
    };
    let mut items: Vec<_> = items.into_iter().map(|s| s.item).collect();
    let data = make(&items);

    let t = Instant::now();
    let mut renderer = Renderer::new(None, vec![ws.attachments()]);
    let pdf = renderer.render(&data).unwrap();
    let cold = t.elapsed().as_secs_f64() * 1e3;

    let mut same = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        renderer.render(&data).unwrap();
        same.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut changed = Vec::new();
    for k in 0..9 {
        items[5].title = format!("Kapacitet på de gymnasiale uddannelser, version {k}");
        let data = make(&items);
        let t = Instant::now();
        renderer.render(&data).unwrap();
        changed.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("agenda of the example meeting: {} items, {} bytes", items.len(), pdf.len());
    println!("| case | median ms |\n|---|---|");
    println!(
        "| kkr in-process, first render (fonts, parse, layout, export) | {cold:.0} |"
    );
    println!("| kkr warm, identical input | {:.0} |", median(same.clone()));
    println!("| kkr warm, one item changed | {:.0} |", median(changed.clone()));

    // The same template and data as files, for the Typst compiler as its own process.
    let root = tempfile::tempdir().unwrap();
    for name in ["agenda.typ", "common.typ"] {
        std::fs::copy(repo.join("templates").join(name), root.path().join(name)).unwrap();
    }
    for (path, bytes) in &data.files {
        let p = root.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes.as_slice()).unwrap();
    }
    copy_dir(&ws.attachments(), &root.path().join("attachments"));
    let script = format!(
        "import typst,time\nt=time.time()\ntypst.compile('{0}/agenda.typ', output='{0}/out.pdf', root='{0}', font_paths=[], ignore_system_fonts=True, pdf_standards=['a-2b','ua-1'])\n",
        root.path().display()
    );
    let mut cli = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let ok = Command::new("python3")
            .args(["-c", &script])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!(
                "(typst as a separate process: not available; `pip install typst` to compare)"
            );
            return;
        }
        cli.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let cli = median(cli);
    println!(
        "| typst compiler as a separate process (python `typst` package) | {cli:.0} |"
    );
    println!("ratio separate process / kkr warm changed: {:.1}x", cli / median(changed));
}
