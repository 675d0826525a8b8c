//! DocWorld: the Typst `World` serving templates, the document's JSON data and attachments.

use std::collections::BTreeMap;
use std::path::PathBuf;

use typst::diag::{FileError, FileResult, PackageError};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::files::{FileLoader, FileStore, FsRoot};
use typst_kit::fonts::FontStore;

/// The built-in templates; a workspace's `templates/` folder overrides each by name.
pub(crate) const BUILTIN_TEMPLATES: [(&str, &str); 3] = [
    ("common.typ", include_str!("../templates/common.typ")),
    ("agenda.typ", include_str!("../templates/agenda.typ")),
    ("minutes.typ", include_str!("../templates/minutes.typ")),
];

/// The fixed virtual id of a project path (interned once per process and path).
pub(crate) fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("fixed virtual paths are valid");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// Serves every file the templates may read.
#[derive(Debug)]
pub(crate) struct Assets {
    /// The workspace's `templates/` folder, if it has one.
    templates: Option<FsRoot>,
    /// Where attachments are kept by content hash, searched in order.
    attachments: Vec<PathBuf>,
    /// The document's data files, by virtual path (`data/meeting.json`, `data/items/1.json`).
    data: BTreeMap<String, Bytes>,
    /// Attachment files read for this render and the one before. Stored attachments never
    /// change (they are named by content hash), so a re-render reuses the bytes, and with
    /// them Typst's hash and parse of each page, instead of reading a megabyte again.
    attachment_cache: std::sync::Mutex<[BTreeMap<String, Bytes>; 2]>,
}

impl Assets {
    /// Starts a new render: what the last render read stays available for this one.
    fn next_render(&mut self) {
        let cache = self.attachment_cache.get_mut().unwrap_or_else(|e| e.into_inner());
        cache[1] = std::mem::take(&mut cache[0]);
    }

    /// An attachment's bytes from the cache or, once per render at most, from disk.
    fn attachment(&self, name: &str, path: &str) -> FileResult<Bytes> {
        let mut cache = self.attachment_cache.lock().unwrap_or_else(|e| e.into_inner());
        let [current, previous] = &mut *cache;
        if let Some(bytes) = current.get(name) {
            return Ok(bytes.clone());
        }
        let bytes = match previous.remove(name) {
            Some(bytes) => bytes,
            None => {
                let file =
                    self.attachments.iter().map(|d| d.join(name)).find(|f| f.exists());
                let file = file.ok_or_else(|| FileError::NotFound(path.into()))?;
                std::fs::read(&file)
                    .map(Bytes::new)
                    .map_err(|e| FileError::from_io(e, &file))?
            }
        };
        current.insert(name.to_owned(), bytes.clone());
        Ok(bytes)
    }
}

impl FileLoader for Assets {
    fn load(&self, id: FileId) -> FileResult<Bytes> {
        if let VirtualRoot::Package(spec) = id.root() {
            return Err(FileError::Package(PackageError::NotFound(spec.clone())));
        }
        let vpath = id.vpath();
        let path = vpath.get_without_slash();
        if let Some(bytes) = self.data.get(path) {
            return Ok(bytes.clone());
        }
        if path.starts_with("data/") {
            return Err(FileError::NotFound(path.into()));
        }
        if let Some(name) = path.strip_prefix("attachments/") {
            let valid = name.split_once('.').is_some_and(|(stem, ext)| {
                let (hash, page) = stem.split_once('-').unwrap_or((stem, ""));
                let page_ok = if ext == "svg" {
                    !page.is_empty() && page.bytes().all(|b| b.is_ascii_digit())
                } else {
                    page.is_empty()
                };
                hash.len() == 64
                    && hash.bytes().all(|b| b.is_ascii_hexdigit())
                    && page_ok
                    && matches!(ext, "pdf" | "png" | "jpg" | "svg")
            });
            if !valid {
                return Err(FileError::NotFound(path.into()));
            }
            return self.attachment(name, path);
        }
        if let Some(root) = &self.templates {
            match root.load(vpath) {
                Ok(bytes) => return Ok(bytes),
                Err(FileError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        BUILTIN_TEMPLATES
            .iter()
            .find(|(name, _)| *name == path)
            .map(|(_, text)| Bytes::from_string(*text))
            .ok_or_else(|| FileError::NotFound(path.into()))
    }
}

/// Whether the embedded fonts can show `c` (white space always passes); the item checks
/// get this as their glyph test, so only this module knows the fonts.
pub(crate) fn is_printable(c: char) -> bool {
    static COVERAGE: std::sync::OnceLock<Vec<typst::text::Coverage>> =
        std::sync::OnceLock::new();
    let coverage = COVERAGE.get_or_init(|| {
        typst_kit::fonts::embedded().map(|(_, info)| info.coverage).collect()
    });
    c.is_whitespace() || coverage.iter().any(|cov| cov.contains(c as u32))
}

/// The fonts in a folder (`.ttf`, `.otf`, `.ttc`, `.otc`), in name order.
pub(crate) fn workspace_fonts(
    dir: &std::path::Path,
) -> Vec<(Font, typst::text::FontInfo)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
            matches!(ext.as_str(), "ttf" | "otf" | "ttc" | "otc")
        })
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        match std::fs::read(&path) {
            Ok(data) => out.extend(Font::iter(Bytes::new(data)).map(|f| {
                let info = f.info().clone();
                (f, info)
            })),
            Err(e) => {
                tracing::warn!("skrifttypen {} kan ikke læses: {e}", path.display())
            }
        }
    }
    out
}

/// The world one document is compiled in. Kept alive and reused: fonts are loaded once, and
/// Typst's caches make a re-render after a changed item cheap.
pub(crate) struct DocWorld {
    library: LazyHash<Library>,
    fonts: FontStore,
    files: FileStore<Assets>,
    main: FileId,
    today: Option<Datetime>,
}

impl DocWorld {
    /// A world with the embedded fonts, the workspace's templates and attachment store.
    pub(crate) fn new(templates: Option<PathBuf>, attachments: Vec<PathBuf>) -> Self {
        let mut fonts = FontStore::new();
        fonts.extend(typst_kit::fonts::embedded());
        // The workspace's own fonts (fonts/ beside templates/); system fonts are never used.
        if let Some(dir) =
            templates.as_ref().and_then(|t| t.parent()).map(|w| w.join("fonts"))
        {
            fonts.extend(workspace_fonts(&dir));
        }
        let assets = Assets {
            templates: templates.map(FsRoot::new),
            attachments,
            data: BTreeMap::new(),
            attachment_cache: Default::default(),
        };
        Self {
            library: LazyHash::new(Library::default()),
            fonts,
            files: FileStore::new(assets),
            main: file_id("/agenda.typ"),
            today: None,
        }
    }

    /// Prepares the next compile: the template, its data files and the document date.
    pub(crate) fn prepare(
        &mut self,
        template: &str,
        data: BTreeMap<String, Bytes>,
        today: Option<Datetime>,
    ) {
        self.main = file_id(&format!("/{template}"));
        self.today = today;
        let assets = self.files.loader_mut();
        assets.data = data;
        assets.next_render();
        self.files.reset();
    }

    /// The path of a file id as the user knows it (`templates/agenda.typ`).
    pub(crate) fn display_path(&self, id: FileId) -> String {
        let path = id.vpath().get_without_slash();
        if path.starts_with("data/") || path.starts_with("attachments/") {
            path.to_owned()
        } else {
            format!("templates/{path}")
        }
    }
}

impl World for DocWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.fonts.book()
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.files.source(id)
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.file(id)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fonts_show_danish_greek_and_cyrillic_but_not_emoji() {
        assert!("æøåÆØÅ αβγ жзи –€§".chars().all(is_printable));
        assert!(is_printable('\u{3000}'), "white space always passes");
        assert!(!is_printable('🎉'));
    }

    #[test]
    fn attachments_are_read_once_and_kept_for_one_more_render_only() {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("{}-1.svg", "a".repeat(64));
        std::fs::write(dir.path().join(&name), "<svg/>").unwrap();
        let mut world = DocWorld::new(None, vec![dir.path().to_path_buf()]);
        let id = file_id(&format!("/attachments/{name}"));
        world.prepare("agenda.typ", BTreeMap::new(), None);
        assert_eq!(world.file(id).unwrap().as_slice(), b"<svg/>");
        // Stored attachments never change: the next render uses the bytes it has.
        std::fs::remove_file(dir.path().join(&name)).unwrap();
        world.prepare("agenda.typ", BTreeMap::new(), None);
        assert_eq!(world.file(id).unwrap().as_slice(), b"<svg/>");
        // A render that does not use it lets it go, so memory stays bounded.
        world.prepare("agenda.typ", BTreeMap::new(), None);
        world.prepare("agenda.typ", BTreeMap::new(), None);
        assert!(world.file(id).is_err());
    }
}
