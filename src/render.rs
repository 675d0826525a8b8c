//! Compiles a document's data with its Typst template into a PDF/A-2b + PDF/UA-1 file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use typst::World;
use typst::WorldExt;
use typst::diag::{Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::clock;
use crate::edition::DocData;
use crate::error::{Error, Result};
use crate::world::DocWorld;

/// How long one document may take before it is given up (a runaway layout).
pub const RENDER_LIMIT: Duration = Duration::from_secs(120);

/// Renders documents on a worker thread that keeps one warm world, so later renders reuse
/// fonts and caches. A render that panics is caught, one that runs past the time limit is
/// abandoned; either way the error is reported and the next document gets a fresh worker.
pub struct Renderer {
    worker: Worker,
    /// Render in a worker process (`kkr __render`); otherwise on a thread of this process.
    process: bool,
    templates: Option<PathBuf>,
    attachments: Vec<PathBuf>,
    limit: Duration,
    /// Recent PDFs by input hash: an unchanged document is not exported again.
    recent: Vec<([u8; 32], Vec<u8>)>,
}

/// How many recent PDFs are kept.
const RECENT: usize = 8;

/// The channel ends of a render worker, and its process if it runs in one.
struct Worker {
    jobs: mpsc::Sender<DocData>,
    results: mpsc::Receiver<Result<Vec<u8>>>,
    _process: Option<crate::renderproc::ChildGuard>,
}

impl Worker {
    /// A worker process (see [`crate::renderproc`]) when `process` and the running binary
    /// is kkr, otherwise a thread.
    fn spawn(
        templates: Option<PathBuf>,
        attachments: Vec<PathBuf>,
        process: bool,
    ) -> Self {
        if process
            && let Some((jobs, results, child)) =
                crate::renderproc::spawn(&templates, &attachments)
        {
            return Self { jobs, results, _process: Some(child) };
        }
        let (jobs, job_rx) = mpsc::channel::<DocData>();
        let (result_tx, results) = mpsc::channel();
        let spawned = thread::Builder::new()
            .name("typst".into())
            .stack_size(64 << 20)
            .spawn(move || {
                let mut world = DocWorld::new(templates.clone(), attachments.clone());
                for doc in job_rx {
                    let result = render_in(&mut world, &doc);
                    if result.is_err() && world_is_suspect(&result) {
                        world = DocWorld::new(templates.clone(), attachments.clone());
                    }
                    if result_tx.send(result).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("kunne ikke starte Typst-tråden: {e}");
        }
        Self { jobs, results, _process: None }
    }
}

fn world_is_suspect(result: &Result<Vec<u8>>) -> bool {
    matches!(result, Err(Error::Render { diagnostics, .. }) if diagnostics.contains("panic"))
}

impl Renderer {
    /// A renderer for a workspace's templates folder (if any) and attachment stores.
    /// Renders run in a worker process of kkr's own binary (`kkr __render`), so a render that
    /// crashes ends only that process.
    pub fn new(templates: Option<PathBuf>, attachments: Vec<PathBuf>) -> Self {
        let worker = Worker::spawn(templates.clone(), attachments.clone(), true);
        Self {
            worker,
            process: true,
            templates,
            attachments,
            limit: RENDER_LIMIT,
            recent: Vec::new(),
        }
    }

    /// A renderer on a thread of this process (the render worker process's own).
    pub(crate) fn in_process(
        templates: Option<PathBuf>,
        attachments: Vec<PathBuf>,
    ) -> Self {
        let worker = Worker::spawn(templates.clone(), attachments.clone(), false);
        Self {
            worker,
            process: false,
            templates,
            attachments,
            limit: RENDER_LIMIT,
            recent: Vec::new(),
        }
    }

    /// The same renderer with another time limit per document.
    pub fn with_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Renders one document to PDF bytes.
    pub fn render(&mut self, doc: &DocData) -> Result<Vec<u8>> {
        let key = self.input_hash(doc);
        if let Some((_, pdf)) = self.recent.iter().find(|(k, _)| *k == key) {
            return Ok(pdf.clone());
        }
        let pdf = self.render_uncached(doc)?;
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push((key, pdf.clone()));
        Ok(pdf)
    }

    /// A hash of everything a render reads: the data, the document's identity and date, and
    /// the templates folder's files and subfolders (name, size, modification time).
    /// Attachments are served by content hash, so their paths in the data stand for their
    /// content.
    fn input_hash(&self, doc: &DocData) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(doc.template.as_bytes());
        h.update(doc.ident.as_bytes());
        h.update(doc.title.as_bytes());
        h.update(doc.date.to_string().as_bytes());
        for (path, bytes) in &doc.files {
            h.update(path.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes.as_slice());
        }
        if let Some(dir) = &self.templates {
            hash_folder(&mut h, dir, 0);
        }
        h.finalize().into()
    }

    /// The workspace's logo as a template path, if `templates/` has one.
    fn logo(&self) -> Option<&'static str> {
        let dir = self.templates.as_ref()?;
        ["logo.svg", "logo.png"]
            .into_iter()
            .find(|n| dir.join(n).is_file())
            .map(|n| if n == "logo.svg" { "/logo.svg" } else { "/logo.png" })
    }

    fn render_uncached(&mut self, doc: &DocData) -> Result<Vec<u8>> {
        let mut patched;
        let doc = match (self.logo(), doc.files.get("data/meeting.json")) {
            (Some(logo), Some(bytes)) => {
                let mut meeting: serde_json::Value =
                    serde_json::from_slice(bytes.as_slice()).unwrap_or_default();
                meeting["logo"] = logo.into();
                patched = doc.clone();
                let bytes = serde_json::to_vec(&meeting).expect("JSON values serialize");
                patched.files.insert("data/meeting.json".into(), bytes);
                &patched
            }
            _ => doc,
        };
        // A worker that died (on this document, or before it, killed from outside) gets
        // one fresh successor: only a document that ends two workers is reported.
        match self.attempt(doc) {
            Err(Error::Render { diagnostics, .. })
                if diagnostics == crate::renderproc::DIED =>
            {
                self.respawn();
                self.attempt(doc)
            }
            result => result,
        }
    }

    fn respawn(&mut self) {
        self.worker =
            Worker::spawn(self.templates.clone(), self.attachments.clone(), self.process);
    }

    /// One render on the current worker, which is replaced when it is gone or too slow.
    fn attempt(&mut self, doc: &DocData) -> Result<Vec<u8>> {
        let failed =
            |why: String| Error::Render { document: doc.title.clone(), diagnostics: why };
        if self.worker.jobs.send(doc.clone()).is_err() {
            self.respawn();
            self.worker
                .jobs
                .send(doc.clone())
                .map_err(|_| failed("Typst kunne ikke startes".into()))?;
        }
        match self.worker.results.recv_timeout(self.limit) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // A thread finishes on its own and then finds nobody listening; a process
                // is killed with its worker.
                self.respawn();
                Err(failed(format!(
                    "opsætningen tog mere end {} sekunder og blev opgivet",
                    self.limit.as_secs()
                )))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.respawn();
                Err(failed(crate::renderproc::DIED.into()))
            }
        }
    }
}

/// Renders documents, results in their order. With a `second` renderer (an archive
/// rebuild, hundreds of documents) both cores work: the council's warm renderer and the
/// second one each take the next document until all are done. `tick` is called after each.
pub fn render_many(
    renderer: &mut Renderer,
    second: Option<Renderer>,
    docs: &[&DocData],
    tick: &(dyn Fn() + Sync),
) -> Vec<Result<Vec<u8>>> {
    let Some(mut second) = second else {
        return docs
            .iter()
            .map(|d| {
                let pdf = renderer.render(d);
                tick();
                pdf
            })
            .collect();
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<Vec<u8>>>>> =
        std::sync::Mutex::new(docs.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for r in [renderer, &mut second] {
            let (next, results, tick) = (&next, &results, &tick);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(doc) = docs.get(i) else { break };
                    let pdf = r.render(doc);
                    tick();
                    if let Ok(mut results) = results.lock() {
                        results[i] = Some(pdf);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(Error::Render {
                    document: String::new(),
                    diagnostics: "Typst stoppede uventet under opsætningen".into(),
                })
            })
        })
        .collect()
}

/// Hashes a folder's files (relative name, size, modification time) and those of its
/// subfolders, which templates may import from, in name order; at most four levels deep.
fn hash_folder(h: &mut sha2::Sha256, dir: &std::path::Path, depth: usize) {
    use sha2::Digest;
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let meta = e.metadata().ok();
        h.update(e.file_name().as_encoded_bytes());
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            h.update(b"/");
            if depth < 4 {
                hash_folder(h, &e.path(), depth + 1);
            }
            h.update(b"..");
            continue;
        }
        h.update(meta.as_ref().map_or(0, |m| m.len()).to_le_bytes());
        let modified = meta.and_then(|m| m.modified().ok());
        let nanos = modified.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        h.update(nanos.map_or(0, |d| d.as_nanos()).to_le_bytes());
    }
}

/// One render in a world, with a panic inside Typst caught and reported.
fn render_in(world: &mut DocWorld, doc: &DocData) -> Result<Vec<u8>> {
    let local = doc.date.to_zoned(clock::tz().clone());
    let dt = local.datetime();
    let today = Datetime::from_ymd(dt.year().into(), dt.month() as u8, dt.day() as u8);
    let data =
        doc.files.iter().map(|(path, bytes)| (path.clone(), Bytes::new(bytes.clone())));
    world.prepare(doc.template, data.collect(), today);
    let world = &*world;
    let result = catch_unwind(AssertUnwindSafe(|| compile(world, doc, &local)));
    typst::comemo::evict(10);
    result.unwrap_or_else(|_| {
        Err(Error::Render {
            document: doc.title.clone(),
            diagnostics: "Typst stoppede uventet (panic) under opsætningen".into(),
        })
    })
}

fn compile(world: &DocWorld, doc: &DocData, local: &jiff::Zoned) -> Result<Vec<u8>> {
    let fail = |diags: &[SourceDiagnostic]| Error::Render {
        document: doc.title.clone(),
        diagnostics: format_diagnostics(world, diags),
    };
    let started = std::time::Instant::now();
    let warned = typst::compile::<PagedDocument>(world);
    let document = warned.output.map_err(|d| fail(&d))?;
    let compiled = started.elapsed();
    let dt = local.datetime();
    let datetime = Datetime::from_ymd_hms(
        dt.year().into(),
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
    );
    let timestamp =
        datetime.and_then(|d| Timestamp::new_local(d, local.offset().seconds() / 60));
    let standards = PdfStandards::new(&[PdfStandard::A_2b, PdfStandard::Ua_1])
        .expect("PDF/A-2b and PDF/UA-1 combine");
    let options = PdfOptions {
        ident: Smart::Custom(doc.ident.clone()),
        creator: Smart::Custom(Some(format!("kkr {}", env!("CARGO_PKG_VERSION")))),
        timestamp,
        standards,
        ..Default::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|d| fail(&d))?;
    tracing::debug!(
        "{}: opsat på {} ms, PDF lavet på {} ms",
        doc.title,
        compiled.as_millis(),
        (started.elapsed() - compiled).as_millis()
    );
    Ok(pdf)
}

/// Formats Typst diagnostics as `templates/agenda.typ:12:5: fejl: …` lines.
pub(crate) fn format_diagnostics(world: &DocWorld, diags: &[SourceDiagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let severity = match d.severity {
            Severity::Error => "fejl",
            Severity::Warning => "advarsel",
        };
        let location = d
            .span
            .id()
            .and_then(|id| {
                let range = world.range(d.span)?;
                let source = world.source(id).ok()?;
                let (line, col) = source.lines().byte_to_line_column(range.start)?;
                Some(format!("{}:{}:{}: ", world.display_path(id), line + 1, col + 1))
            })
            .unwrap_or_default();
        out.push_str(&format!("{location}{severity}: {}\n", d.message));
        for hint in &d.hints {
            out.push_str(&format!("  hjælp: {}\n", hint.v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> DocData {
        let mut files = std::collections::BTreeMap::new();
        files.insert("data/meeting.json".to_owned(), b"{}".to_vec());
        DocData {
            template: "test.typ",
            files,
            title: "Test".into(),
            date: jiff::Timestamp::UNIX_EPOCH,
            ident: "test".into(),
        }
    }

    #[test]
    fn a_render_over_the_limit_is_given_up_and_the_next_one_works() {
        let dir = tempfile::tempdir().unwrap();
        // Typst's own loop guard would stop a plain infinite loop; this is just slow.
        std::fs::write(
            dir.path().join("test.typ"),
            "#set document(title: \"T\")\n#set text(lang: \"da\")\n#for i in range(2000) { for j in range(2000) { } }\nx",
        )
        .unwrap();
        let mut r = Renderer::new(Some(dir.path().to_path_buf()), vec![])
            .with_limit(Duration::from_millis(50));
        let err = r.render(&doc()).unwrap_err().to_string();
        assert!(err.contains("blev opgivet"), "{err}");
        std::fs::write(
            dir.path().join("test.typ"),
            "#set document(title: \"T\")\n#set text(lang: \"da\")\nHej",
        )
        .unwrap();
        let mut r = r.with_limit(Duration::from_secs(60));
        let pdf = r.render(&doc()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn an_edit_in_a_templates_subfolder_is_rendered_not_served_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dele")).unwrap();
        std::fs::write(
            dir.path().join("test.typ"),
            "#set document(title: \"T\")\n#set text(lang: \"da\")\n#include \"dele/tekst.typ\"",
        )
        .unwrap();
        std::fs::write(dir.path().join("dele/tekst.typ"), "Første udgave").unwrap();
        let mut r = Renderer::new(Some(dir.path().to_path_buf()), vec![]);
        let first = r.render(&doc()).unwrap();
        std::fs::write(dir.path().join("dele/tekst.typ"), "Anden udgave, længere")
            .unwrap();
        let second = r.render(&doc()).unwrap();
        assert!(first != second, "the edited subfolder file must be rendered");
    }

    #[test]
    fn a_template_error_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("test.typ"),
            "#set document(title: \"T\")\n\n#let x = (1 +\n",
        )
        .unwrap();
        let mut r = Renderer::new(Some(dir.path().to_path_buf()), vec![]);
        let err = r.render(&doc()).unwrap_err().to_string();
        assert!(err.contains("templates/test.typ:3:"), "{err}");
    }
}
