//! File-system primitives that name the path in their errors and never leave half-written files.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Reads a whole file.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| Error::Read { path: path.into(), source })
}

/// Reads at most `limit` bytes; returns `None` when the file is larger, without reading it all.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    let err = |source| Error::Read { path: path.into(), source };
    let file = File::open(path).map_err(err)?;
    let mut buf = Vec::new();
    file.take(limit + 1).read_to_end(&mut buf).map_err(err)?;
    Ok((buf.len() as u64 <= limit).then_some(buf))
}

/// A template's text: the workspace's `templates/<rel>` when there is one, else the built-in.
pub(crate) fn template(
    templates: Option<&Path>,
    rel: &str,
    builtin: &str,
) -> Result<String> {
    match templates.map(|t| t.join(rel)).filter(|f| f.exists()) {
        Some(f) => Ok(String::from_utf8_lossy(&read(&f)?).into_owned()),
        None => Ok(builtin.to_owned()),
    }
}

/// Creates a folder and its parents.
pub(crate) fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|source| Error::Write { path: path.into(), source })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    // Readable like any file kkr writes (a temporary file starts private), so the
    // secretariat can open the PDFs; the folders' permissions decide who may.
    write_whole(path, bytes, 0o644, false)
}

/// Writes a secret (a private key) as a new file only its owner can read, atomically;
/// an existing file at `path` is never replaced (an error instead).
pub(crate) fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_whole(path, bytes, 0o600, true)
}

fn write_whole(path: &Path, bytes: &[u8], mode: u32, new: bool) -> Result<()> {
    let err = |source| Error::Write { path: path.into(), source };
    let dir =
        path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".kkr-").suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    #[cfg(not(unix))]
    let _ = mode;
    let mut tmp = builder.tempfile_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    if new {
        tmp.persist_noclobber(path).map_err(|e| err(e.error))?;
    } else {
        tmp.persist(path).map_err(|e| err(e.error))?;
    }
    sync_dir(dir);
    Ok(())
}

/// Moves a file, creating the target's folder; both must be on the same file system.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        create_dir_all(dir)?;
    }
    fs::rename(from, to).map_err(|source| Error::Write { path: to.into(), source })?;
    if let Some(dir) = to.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Makes a rename durable by syncing its folder (best effort: not every platform allows it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A path under `dir` for `name` that does not exist yet: `x.md`, then `x-2.md`, `x-3.md`, ….
pub(crate) fn free_name(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .expect("an unused name exists")
}

/// Whether a file name is a temporary one, never read as input (SPEC §2: `.*`, `~*`,
/// `*.tmp`, `*.part`).
pub(crate) fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('~')
        || name.ends_with(".tmp")
        || name.ends_with(".part")
}

/// Calls `f` with every file under `dir` and its path relative to `dir` (`/` separators),
/// skipping hidden folders and, directly in `dir`, the folders named in `skip`.
pub(crate) fn walk_files(
    dir: &Path,
    skip: &[&str],
    f: &mut dyn FnMut(String, &fs::DirEntry),
) {
    fn walk(
        dir: &Path,
        prefix: &str,
        skip: &[&str],
        f: &mut dyn FnMut(String, &fs::DirEntry),
    ) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else { continue };
            let rel = format!("{prefix}{name}");
            if kind.is_dir() {
                let skipped = prefix.is_empty() && skip.contains(&name.as_str());
                if !skipped && !name.starts_with('.') {
                    walk(&entry.path(), &format!("{rel}/"), skip, f);
                }
            } else if kind.is_file() {
                f(rel, &entry);
            }
        }
    }
    walk(dir, "", skip, f);
}

/// The path relative to `base` with `/` separators, for messages and reports.
pub(crate) fn display_rel(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_name_adds_counter_before_extension() {
        let dir = tempfile::tempdir().unwrap();
        let p = free_name(dir.path(), "x.md");
        assert_eq!(p, dir.path().join("x.md"));
        fs::write(&p, "a").unwrap();
        assert_eq!(free_name(dir.path(), "x.md"), dir.path().join("x-2.md"));
        fs::write(dir.path().join("x-2.md"), "a").unwrap();
        assert_eq!(free_name(dir.path(), "x.md"), dir.path().join("x-3.md"));
    }

    #[test]
    fn read_bounded_refuses_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        fs::write(&p, vec![b'a'; 11]).unwrap();
        assert!(read_bounded(&p, 10).unwrap().is_none());
        assert_eq!(read_bounded(&p, 11).unwrap().unwrap().len(), 11);
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_readable_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dagsorden.pdf");
        write_atomic(&p, b"%PDF-").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
    }

    #[test]
    fn write_atomic_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/out.pdf");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}
