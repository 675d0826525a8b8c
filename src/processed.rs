//! `inbox/behandlet/<meeting>/`: one current file per item, under the name it was first
//! dropped with, and its earlier versions in `tidligere/` (SPEC §6); tidying a workspace of
//! an earlier release that kept every version side by side (`x.md`, `x-2.md`, …).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::workspace::Workspace;

/// The folder of earlier versions inside a meeting's `behandlet/` folder.
pub(crate) const EARLIER: &str = "tidligere";

/// Reads the `id` of an item file without checking anything else.
pub(crate) fn peek_id(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("\u{feff}").unwrap_or(text).strip_prefix("+++")?;
    let end = rest.find("\n+++")?;
    let doc = toml_edit::ImDocument::parse(rest[..end].to_owned()).ok()?;
    doc.get("id")?.as_str().map(str::to_owned)
}

/// The item files directly in `dir` (not in `tidligere/`) with their ids.
fn items_in(dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let is_md = path.extension().is_some_and(|x| x == "md");
        if !is_md || !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let id = crate::fs::read_bounded(&path, crate::item::MAX_ITEM_BYTES)
            .ok()
            .flatten()
            .and_then(|b| peek_id(&b));
        if let Some(id) = id {
            out.push((path, id));
        }
    }
    out.sort();
    out
}

/// The current file of item `id` in a meeting's `behandlet/` folder, if there is one.
pub(crate) fn current(
    ws: &Workspace,
    meeting: jiff::civil::Date,
    id: &str,
) -> Option<PathBuf> {
    let dir = ws.processed().join(meeting.to_string());
    items_in(&dir).into_iter().find(|(_, i)| i == id).map(|(p, _)| p)
}

/// Moves `file` (the current version of an item) into `tidligere/` as `NAME-udgave-N.md`.
fn retire(file: &Path) -> Result<()> {
    let dir = file.parent().unwrap_or(Path::new(".")).join(EARLIER);
    let name =
        file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".md").unwrap_or(&name);
    let n = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(&format!("{stem}-udgave-"))
                })
                .count()
        })
        .unwrap_or(0);
    let to = crate::fs::free_name(&dir, &format!("{stem}-udgave-{}.md", n + 1));
    crate::fs::rename(file, &to)
}

/// Files a newly accepted item file `from` (named `name` when dropped): it becomes the
/// item's current file, under the name of the one it replaces, which goes to `tidligere/`.
pub(crate) fn file_item(
    ws: &Workspace,
    from: &Path,
    name: &str,
    meeting: jiff::civil::Date,
    id: &str,
) -> Result<()> {
    let dir = ws.processed().join(meeting.to_string());
    crate::fs::create_dir_all(&dir)?;
    match current(ws, meeting, id) {
        Some(cur) if !ws.is_rehearsal() => {
            retire(&cur)?;
            ws.hand_over(from, &cur)
        }
        _ => ws.hand_over(from, &crate::fs::free_name(&dir, name)),
    }
}

/// The drop order of an earlier release's side-by-side versions: it named them `x.md`,
/// `x-2.md`, `x-3.md`, … (so the counter is the order, whatever happened to the files'
/// times since); files under other names fall back on when they were filed.
fn drop_order(path: &Path, group: &[PathBuf]) -> (u32, Option<(i64, i64)>) {
    let stem =
        path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let counter = stem.rsplit_once('-').and_then(|(base, n)| {
        let n: u32 = n.parse().ok()?;
        let first = path.with_file_name(format!("{base}.md"));
        group.contains(&first).then_some(n)
    });
    (counter.unwrap_or(1), filed_at(path))
}

/// When a file was moved into `behandlet/` (the rename sets its status-change time).
fn filed_at(path: &Path) -> Option<(i64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.ctime(), meta.ctime_nsec()))
    }
    #[cfg(not(unix))]
    {
        let t = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some((t.as_secs() as i64, t.subsec_nanos() as i64))
    }
}

/// Tidies a workspace of an earlier release: where a meeting's `behandlet/` folder holds
/// several files of one item, the newest becomes the current file under the first one's
/// name and the others go to `tidligere/`. No file is lost; an already tidy workspace is
/// left as it is. Returns how many files were moved.
pub(crate) fn tidy(ws: &Workspace) -> Result<usize> {
    let Ok(meetings) = std::fs::read_dir(ws.processed()) else { return Ok(0) };
    let mut moved = 0;
    for m in meetings.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())) {
        recover(&m.path())?;
        let mut by_id: std::collections::BTreeMap<String, Vec<PathBuf>> =
            Default::default();
        for (path, id) in items_in(&m.path()) {
            by_id.entry(id).or_default().push(path);
        }
        for mut files in by_id.into_values().filter(|f| f.len() > 1) {
            let group = files.clone();
            files.sort_by_key(|p| (drop_order(p, &group), p.clone()));
            let first = files[0].clone();
            let newest = files.pop().expect("more than one");
            let held = first.with_extension("md.kkr-ny");
            crate::fs::rename(&newest, &held)?;
            for older in &files {
                retire(older)?;
                moved += 1;
            }
            crate::fs::rename(&held, &first)?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Puts back a current file a crash left under its temporary name during [`tidy`].
fn recover(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(target) = name.strip_suffix(".kkr-ny") {
            crate::fs::rename(&e.path(), &crate::fs::free_name(dir, target))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, title: &str) -> String {
        format!("+++\nid = \"{id}\"\ntitle = \"{title}\"\n+++\n")
    }

    #[test]
    fn an_earlier_release_is_tidied_without_losing_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path());
        let m = ws.processed().join("2027-01-28");
        std::fs::create_dir_all(&m).unwrap();
        // Filed in this order: the first name, then -2, then -3 (the newest).
        for (name, title) in
            [("06-trafik.md", "v1"), ("06-trafik-2.md", "v2"), ("06-trafik-3.md", "v3")]
        {
            std::fs::write(m.join(name), item("trafik", title)).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::fs::write(m.join("07-andet.md"), item("andet", "a")).unwrap();
        assert_eq!(tidy(&ws).unwrap(), 3);
        let current = std::fs::read_to_string(m.join("06-trafik.md")).unwrap();
        assert!(current.contains("v3"), "the newest is current: {current}");
        let mut earlier: Vec<String> = std::fs::read_dir(m.join(EARLIER))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        earlier.sort();
        assert_eq!(earlier.len(), 2);
        assert!(earlier[0].contains("v1") && earlier[1].contains("v2"), "{earlier:?}");
        assert!(m.join("07-andet.md").is_file());
        assert_eq!(std::fs::read_dir(&m).unwrap().count(), 3, "06, 07 and tidligere/");
        assert_eq!(tidy(&ws).unwrap(), 0, "tidy is tidy");

        // kkr's own counter is the order, even when a file's times changed since (chmod,
        // a restore): x.md, x-2.md, x-10.md.
        let m = ws.processed().join("2027-03-18");
        std::fs::create_dir_all(&m).unwrap();
        for (name, title) in [("x-10.md", "v10"), ("x-2.md", "v2"), ("x.md", "v1")] {
            std::fs::write(m.join(name), item("x", title)).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::fs::write(m.join("y.md.kkr-ny"), item("y", "y")).unwrap();
        tidy(&ws).unwrap();
        assert!(std::fs::read_to_string(m.join("x.md")).unwrap().contains("v10"));
        assert!(m.join("y.md").is_file(), "a crash's leftover is put back");
    }
}
