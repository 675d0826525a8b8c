//! The repository's example inbox as the tests and the benchmarks start from it.

use std::fs;
use std::path::Path;

/// Copies the example's inbox (items, attachments) from `from` to `to`, without what a local
/// run left behind. A run of the README's main command moves the items to
/// `inbox/behandlet/<meeting>/` (each under its own name; earlier versions in `tidligere/`,
/// or, as an earlier release kept them, later ones as `NAME-2.md`, …): they are taken back
/// from there, so the tests and benchmarks start from the same example after that command as
/// before it.
pub(crate) fn copy_inbox(from: &Path, to: &Path) {
    copy_inputs(from, to);
    for meeting in fs::read_dir(from.join("behandlet")).into_iter().flatten().flatten() {
        let names: Vec<String> = fs::read_dir(meeting.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        for name in &names {
            let Some(stem) = name.strip_suffix(".md") else { continue };
            let later_version = stem.rsplit_once('-').is_some_and(|(base, n)| {
                n.parse::<u32>().is_ok() && names.contains(&format!("{base}.md"))
            });
            let target = to.join(name);
            if !later_version && !target.exists() {
                fs::copy(meeting.path().join(name), target).unwrap();
            }
        }
    }
}

fn copy_inputs(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "behandlet" || name == "afvist" || name == ".work" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_inputs(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}
