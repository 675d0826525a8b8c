//! Compiles a document's data with its Typst template into a PDF/A-2b + PDF/UA-1 file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use typst::World;
use typst::WorldExt;
use typst::diag::{Severity, SourceDiagnostic};
use typst::foundations::{Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::clock;
use crate::edition::DocData;
use crate::error::{Error, Result};
use crate::world::DocWorld;

/// Renders documents, keeping one warm world so later renders reuse fonts and caches.
pub struct Renderer {
    world: DocWorld,
    templates: Option<PathBuf>,
    attachments: Vec<PathBuf>,
}

impl Renderer {
    /// A renderer for a workspace's templates folder (if any) and attachment stores.
    pub fn new(templates: Option<PathBuf>, attachments: Vec<PathBuf>) -> Self {
        let world = DocWorld::new(templates.clone(), attachments.clone());
        Self { world, templates, attachments }
    }

    /// Renders one document to PDF bytes. A panic inside Typst is caught and reported, and
    /// the world is rebuilt so the next document starts clean.
    pub fn render(&mut self, doc: &DocData) -> Result<Vec<u8>> {
        let local = doc.date.to_zoned(clock::tz().clone());
        let dt = local.datetime();
        let today =
            Datetime::from_ymd(dt.year().into(), dt.month() as u8, dt.day() as u8);
        self.world.prepare(doc.template, doc.files.clone(), today);
        let world = &self.world;
        let result = catch_unwind(AssertUnwindSafe(|| compile(world, doc, &local)));
        typst::comemo::evict(10);
        match result {
            Ok(r) => r,
            Err(_) => {
                self.world =
                    DocWorld::new(self.templates.clone(), self.attachments.clone());
                Err(Error::Render {
                    document: doc.title.clone(),
                    diagnostics: "Typst stoppede uventet (panic) under opsætningen"
                        .into(),
                })
            }
        }
    }
}

fn compile(world: &DocWorld, doc: &DocData, local: &jiff::Zoned) -> Result<Vec<u8>> {
    let fail = |diags: &[SourceDiagnostic]| Error::Render {
        document: doc.title.clone(),
        diagnostics: format_diagnostics(world, diags),
    };
    let warned = typst::compile::<PagedDocument>(world);
    let document = warned.output.map_err(|d| fail(&d))?;
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
    typst_pdf::pdf(&document, &options).map_err(|d| fail(&d))
}

/// Formats Typst diagnostics as `templates/agenda.typ:12:5: fejl: …` lines.
pub fn format_diagnostics(world: &DocWorld, diags: &[SourceDiagnostic]) -> String {
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
