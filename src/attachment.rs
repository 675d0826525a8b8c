//! Attachments: reading and checking the files an item names, PDF page counts, and storing
//! them by content hash under `state/attachments/`.

use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

use crate::hash::sha256_hex;
use crate::spanned::{At, TomlReader};

/// Largest attachment.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 << 20;
const _: () = assert!(MAX_ATTACHMENT_BYTES <= crate::sandbox::MAX_INPUT);

/// An attachment kept by content hash under `state/attachments/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The path as written in the item (shown as the attachment's name).
    pub name: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// `pdf`, `png` or `jpg`.
    pub format: String,
    /// Number of pages (1 for images).
    pub pages: u32,
    /// The title readers see (`{ file, title }`), instead of the file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Whether the public edition may carry it (`public = false` keeps a bilag of an open
    /// item out of everything public; its title stays, marked as not public). Left out of
    /// the stored JSON when true, so items stored before it hash as they did.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub public: bool,
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if")]
fn is_true(b: &bool) -> bool {
    *b
}

/// An attachment as an item names it: a path, or `{ file, title, public }` (SPEC §2).
#[derive(Debug, Clone)]
pub(crate) struct AttachmentRef {
    /// The path, relative to the item's file.
    pub(crate) file: At<String>,
    /// Its title, if given.
    pub(crate) title: Option<String>,
    /// Whether the public may see it (default true).
    pub(crate) public: bool,
}

/// Reads `attachments`: paths, or tables `{ file = "…", title = "…", public = false }`.
pub(crate) fn read_refs(
    r: &mut TomlReader,
    t: &dyn toml_edit::TableLike,
) -> Vec<AttachmentRef> {
    use toml_edit::Value;
    let Some(item) = t.get("attachments") else { return Vec::new() };
    let Some(array) = item.as_array() else {
        r.problem(
            item.span(),
            "`attachments` skal være en liste, fx [\"bilag/plan.pdf\"]",
            "skriv bilagene mellem [ og ], adskilt af komma",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for v in array.iter() {
        match v {
            Value::String(s) => out.push(AttachmentRef {
                file: At { value: s.value().clone(), span: v.span() },
                title: None,
                public: true,
            }),
            Value::InlineTable(table) => {
                r.unknown_keys(table, &["file", "title", "public"], " i et bilag");
                let file = r.string(table, "file", true);
                let title = r.string(table, "title", false);
                if let Some(t) = &title
                    && (t.value.trim().is_empty()
                        || !crate::config::is_header_safe(&t.value)
                        || t.value.chars().count() > crate::spanned::MAX_TITLE_CHARS)
                {
                    r.problem(
                        t.span.clone(),
                        "bilagets titel er tom, for lang eller indeholder linjeskift",
                        "skriv titlen på én linje, fx title = \"Fordeling pr. kommune\"",
                    );
                }
                let public = r.boolean(table, "public").is_none_or(|b| b.value);
                if let Some(file) = file {
                    let title = title.map(|t| t.value.trim().to_owned()).filter(|t| !t.is_empty());
                    out.push(AttachmentRef { file, title, public });
                }
            }
            _ => r.problem(
                v.span(),
                "et bilag skrives som en sti i anførselstegn eller som { file = \"…\", title = \"…\" }",
                "skriv fx [\"bilag/plan.pdf\"] eller [{ file = \"bilag/plan.pdf\", title = \"Plan\" }]",
            ),
        }
    }
    out
}

impl Attachment {
    /// The file name under `state/attachments/`.
    pub fn stored_name(&self) -> String {
        format!("{}.{}", self.sha256, self.format)
    }

    /// The name shown to readers: its title, else the file name without folders.
    pub fn display_name(&self) -> &str {
        match &self.title {
            Some(title) => title,
            None => self.name.rsplit('/').next().unwrap_or(&self.name),
        }
    }
}

/// An attachment read and checked at intake, ready to be stored.
#[derive(Debug, Clone)]
pub struct LoadedAttachment {
    /// Its metadata.
    pub meta: Attachment,
    /// Its bytes (absent when reused from the previous version).
    pub bytes: Option<Vec<u8>>,
    /// A PDF's pages as SVG images, which PDF/A and PDF/UA output can embed.
    pub page_svgs: Vec<String>,
}

impl LoadedAttachment {
    /// Stores the attachment (and a PDF's page images) by content hash in `dir`; the
    /// original is written last, so its presence means the pages are there too.
    pub fn store(&self, dir: &Path) -> crate::error::Result<()> {
        let Some(data) = &self.bytes else { return Ok(()) };
        for (k, svg) in self.page_svgs.iter().enumerate() {
            let page = dir.join(format!("{}-{}.svg", self.meta.sha256, k + 1));
            if !page.exists() {
                crate::fs::write_atomic(&page, svg.as_bytes())?;
            }
        }
        let path = dir.join(self.meta.stored_name());
        if !path.exists() {
            crate::fs::write_atomic(&path, data)?;
        }
        Ok(())
    }
}

/// Resolves, reads and checks each attachment an item names, recording problems in `r`;
/// an attachment missing at a re-drop is taken from `previous` (the accepted version's
/// attachments) when it named the same path.
pub(crate) fn load_all(
    r: &mut TomlReader,
    refs: &[AttachmentRef],
    dir: &Path,
    root: &Path,
    previous: &[Attachment],
) -> Vec<LoadedAttachment> {
    let mut out = Vec::new();
    for spec in refs {
        let a = &spec.file;
        let name = a.value.trim();
        let path = Path::new(name);
        let hint = "skriv stien relativt til punktets fil, fx \"bilag/plan.pdf\", uden .. og ikke som absolut sti";
        if name.is_empty()
            || path.is_absolute()
            || path.components().any(|c| !matches!(c, Component::Normal(_)))
            || name.contains('\\')
        {
            r.problem(
                a.span.clone(),
                format!("bilagsstien \"{name}\" er ikke tilladt"),
                hint,
            );
            continue;
        }
        let full = dir.join(path);
        if !full.exists()
            && let Some(prev) = previous.iter().find(|x| x.name == name)
        {
            let meta = Attachment {
                title: spec.title.clone(),
                public: spec.public,
                ..prev.clone()
            };
            out.push(LoadedAttachment { meta, bytes: None, page_svgs: Vec::new() });
            continue;
        }
        match load_one(&full, root) {
            Ok((format, pages, bytes, page_svgs)) => {
                let sha256 = sha256_hex(&bytes);
                let meta = Attachment {
                    name: name.to_owned(),
                    sha256,
                    format,
                    pages,
                    title: spec.title.clone(),
                    public: spec.public,
                };
                out.push(LoadedAttachment { meta, bytes: Some(bytes), page_svgs });
            }
            Err((message, hint)) => {
                r.problem(a.span.clone(), format!("bilaget \"{name}\": {message}"), hint)
            }
        }
    }
    out
}

/// Reads one attachment, refusing escapes from the workspace, oversized, empty and broken files.
#[allow(clippy::type_complexity, reason = "the parts of one attachment")]
fn load_one(
    path: &Path,
    root: &Path,
) -> Result<(String, u32, Vec<u8>, Vec<String>), (String, String)> {
    let missing = || {
        (
            "findes ikke".to_owned(),
            "læg filen ved siden af punktet, fx i inbox/bilag/, eller ret stien"
                .to_owned(),
        )
    };
    let file = open_confined(root, path)?;
    let meta = file.metadata().map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(("er ikke en fil".into(), "angiv en PDF- eller billedfil".into()));
    }
    #[cfg(unix)]
    if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
        // A hard link may be a file from anywhere on the disk.
        return Err((
            "er et hårdt link til en anden fil".into(),
            "kopiér selve filen ind i inbox/bilag/".into(),
        ));
    }
    if meta.len() > MAX_ATTACHMENT_BYTES {
        return Err((
            format!("er {} MiB; grænsen er 20 MiB", meta.len() >> 20),
            "gør filen mindre (fx komprimér PDF'en) eller del den op".into(),
        ));
    }
    // Read from the handle that was checked, never by the path again.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&file, MAX_ATTACHMENT_BYTES + 1),
        &mut bytes,
    )
    .map_err(|_| missing())?;
    if bytes.len() as u64 > MAX_ATTACHMENT_BYTES {
        return Err((
            "er større end 20 MiB".into(),
            "gør filen mindre (fx komprimér PDF'en) eller del den op".into(),
        ));
    }
    if bytes.is_empty() {
        return Err(("er tom".into(), "læg den rigtige fil ind".into()));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    let (format, pages, svgs) = if bytes.starts_with(b"%PDF-") {
        let (pages, svgs) = pdf_pages(&bytes)?;
        ("pdf", pages, svgs)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ("png", 1, Vec::new())
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        ("jpg", 1, Vec::new())
    } else {
        return Err((
            "er hverken en PDF, PNG eller JPEG".into(),
            "bilag skal være PDF eller billeder (PNG/JPEG)".into(),
        ));
    };
    let ext_ok = match format {
        "jpg" => ext == "jpg" || ext == "jpeg",
        f => ext == f,
    };
    if !ext_ok {
        return Err((
            format!("filen er en {} men hedder .{ext}", format.to_uppercase()),
            "ret filnavnets endelse".into(),
        ));
    }
    if let Some(problem) = crate::image::too_large(&bytes, format) {
        return Err(problem);
    }
    Ok((format.to_owned(), pages, bytes, svgs))
}

/// Opens `path` (under `root/inbox/`) for reading without following a symbolic link on any
/// component below the inbox, and without blocking on a FIFO: a folder swapped for a link
/// between a check and the open can no longer reach a file outside the workspace.
fn open_confined(root: &Path, path: &Path) -> Result<std::fs::File, (String, String)> {
    use rustix::fs::{Mode, OFlags, openat};
    let outside = || {
        (
            "er et symbolsk link eller peger uden for inbox/; kkr følger ikke links"
                .to_owned(),
            "kopiér selve filen ind i inbox/bilag/".to_owned(),
        )
    };
    let missing = || {
        (
            "findes ikke".to_owned(),
            "læg filen ved siden af punktet, fx i inbox/bilag/, eller ret stien"
                .to_owned(),
        )
    };
    let inbox = root.join("inbox");
    let rel = path.strip_prefix(&inbox).map_err(|_| outside())?;
    let parts: Vec<_> = rel.components().collect();
    if parts.is_empty() || parts.iter().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(outside());
    }
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut fd =
        rustix::fs::open(&inbox, dir_flags, Mode::empty()).map_err(|_| missing())?;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let flags = if last {
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC
        } else {
            dir_flags | OFlags::NOFOLLOW
        };
        fd = openat(&fd, part.as_os_str(), flags, Mode::empty()).map_err(|e| {
            if e == rustix::io::Errno::LOOP || e == rustix::io::Errno::NOTDIR {
                outside()
            } else {
                missing()
            }
        })?;
    }
    Ok(std::fs::File::from(fd))
}

/// A PDF's pages (count and SVG images), read behind the process boundary of
/// [`crate::sandbox`]: encrypted, damaged, hostile and oversized files are refused.
fn pdf_pages(bytes: &[u8]) -> Result<(u32, Vec<String>), (String, String)> {
    use crate::pdfpage::PagesAnswer;
    let broken = || {
        (
            "bilaget er beskadiget eller for stort til at blive læst sikkert".to_owned(),
            "gem det som PDF igen (fx »Udskriv til PDF«), eller del det i flere filer"
                .to_owned(),
        )
    };
    use crate::sandbox::Failure;
    let out = match crate::sandbox::run("pdf-pages", bytes) {
        Ok(out) => out,
        Err(Failure::TooLarge) => {
            return Err((
                format!(
                    "bilagets sider fylder mere end {} MiB som billeder, som er grænsen",
                    crate::sandbox::MAX_OUTPUT >> 20
                ),
                "del bilaget i flere filer, eller gem det med færre detaljer".into(),
            ));
        }
        Err(Failure::TimedOut) => {
            return Err((
                "bilaget tog for lang tid at læse (over 90 sekunder)".into(),
                "gem det som PDF igen (fx »Udskriv til PDF«), eller del det i flere filer".into(),
            ));
        }
        Err(failure) => {
            let size = bytes.len() >> 10;
            tracing::warn!("et PDF-bilag på {size} KiB blev afvist: {failure}");
            return Err(broken());
        }
    };
    match serde_json::from_slice::<PagesAnswer>(&out) {
        Ok(PagesAnswer::Pages(n, svgs))
            if svgs.len() == n as usize && svgs.len() <= crate::pdfpage::MAX_PAGES =>
        {
            Ok((n, svgs))
        }
        Ok(PagesAnswer::Empty) => {
            Err(("PDF'en har ingen sider".into(), "læg en PDF med indhold".into()))
        }
        Ok(PagesAnswer::Encrypted) => Err((
            "PDF'en er krypteret eller beskyttet med adgangskode".into(),
            "gem en udgave uden adgangskode".into(),
        )),
        Ok(PagesAnswer::Damaged) => Err((
            "PDF'en er beskadiget og kan ikke læses".into(),
            "gem PDF'en igen fra programmet der lavede den".into(),
        )),
        Ok(PagesAnswer::TooManyPages(n)) => Err((
            format!("PDF'en har {n} sider; grænsen er {}", crate::pdfpage::MAX_PAGES),
            "del bilaget i flere filer".into(),
        )),
        Ok(PagesAnswer::Pages(..)) | Err(_) => Err(broken()),
    }
}
