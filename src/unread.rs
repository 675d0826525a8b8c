//! Files in `inbox/` that look meant as input but that kkr does not read (SPEC §6): Notepad's
//! `x.md.txt`, `X.MD`, Word and other text files. They are named, with the fix, by `check`,
//! `run`'s log, `status` and the secretariat's notice, and left where they are.

use crate::workspace::Workspace;

/// One such file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unread {
    /// Path relative to `inbox/`, with `/` separators.
    pub(crate) rel: String,
    /// What to do, in Danish.
    pub(crate) fix: String,
    /// Its size, so a changed file is told again.
    pub(crate) size: u64,
}

/// What to do with a file named `name`, if it looks meant as input but is not `*.md` or
/// `*.toml`; `None` for anything else (attachments, images, the reports in `afvist/`).
pub(crate) fn fix(name: &str) -> Option<String> {
    if crate::fs::is_temporary(name) || name.ends_with(".md") || name.ends_with(".toml") {
        return None;
    }
    let rename = |ext: &str, stem: &str| {
        format!("omdøb den til {stem}.{ext}, så læser kkr den (kun *.{ext} læses)")
    };
    // Split the name itself (never by positions found in a lower-cased copy, whose byte
    // lengths can differ: K, Å, İ).
    let (stem, ext) = name.rsplit_once('.')?;
    for want in ["md", "toml"] {
        // `x.MD`, `x.Toml`; `x.md.txt` (Notepad adds .txt).
        if ext.eq_ignore_ascii_case(want) {
            return Some(rename(want, stem));
        }
        if ext.eq_ignore_ascii_case("txt")
            && let Some((inner, e)) = stem.rsplit_once('.')
            && e.eq_ignore_ascii_case(want)
        {
            return Some(rename(want, inner));
        }
    }
    let ext = ext.to_ascii_lowercase();
    match ext.as_str() {
        "txt" => Some(format!(
            "er det et dagsordenspunkt, så omdøb den til {stem}.md (kkr læser kun *.md og *.toml)"
        )),
        "docx" | "doc" | "odt" | "rtf" => Some(format!(
            "kkr læser ikke {}-filer: kopiér teksten ind i en {stem}.md med felterne øverst (se vejledningen, afsnit 2)",
            ext.to_uppercase()
        )),
        _ => None,
    }
}

/// Every such file in the inbox (outside `behandlet/`, `afvist/` and hidden folders), in path
/// order.
pub(crate) fn find(ws: &Workspace) -> Vec<Unread> {
    let mut out = Vec::new();
    crate::fs::walk_files(&ws.inbox(), &["behandlet", "afvist"], &mut |rel, entry| {
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        if let Some(fix) = fix(name) {
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(Unread { rel, fix, size });
        }
    });
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_meant_as_input_are_named_with_the_fix() {
        assert!(fix("x.md.txt").unwrap().contains("omdøb den til x.md"));
        assert!(fix("X.MD").unwrap().contains("omdøb den til X.md"));
        assert!(fix("fremmøde.TOML").unwrap().contains("omdøb den til fremmøde.toml"));
        assert!(fix("noter.txt").unwrap().contains("noter.md"));
        assert!(fix("Punkt 3.docx").unwrap().contains("DOCX"));
        assert_eq!(
            fix("\u{212a}.pdf"),
            None,
            "no panic on a name whose lower case is longer"
        );
        assert!(
            fix("\u{212a}\u{130}.MD")
                .unwrap()
                .contains("omdøb den til \u{212a}\u{130}.md")
        );
        for name in
            ["x.md", "a.toml", "bilag.pdf", "kort.png", "~x.docx", ".x.txt", "x.part"]
        {
            assert_eq!(fix(name), None, "{name}");
        }
    }
}
