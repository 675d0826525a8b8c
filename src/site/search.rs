//! The site's search (SPEC §3.6): a Pagefind index of the meeting pages, in Danish, with
//! Pagefind's own search UI, and the search page `soeg.html` that carries it. Only the
//! public pages are indexed, so the index holds nothing they do not show.

use std::path::Component;

use pagefind::api::PagefindIndex;
use pagefind::options::PagefindServiceConfig;

use crate::error::{Error, Result};

/// The search index and UI files (`pagefind/…`) for `pages`: each a path under the site
/// root (`2027-01-28/index.html`) and its HTML.
pub fn index(pages: &[(String, String)]) -> Result<Vec<(String, Vec<u8>)>> {
    let failed = |e: String| Error::Compose(format!("søgeindekset kan ikke laves: {e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let files = runtime
        .block_on(async {
            let options = PagefindServiceConfig::builder()
                .keep_index_url(true)
                .force_language("da".to_owned())
                .build();
            let mut index = PagefindIndex::new(Some(options))?;
            for (path, html) in pages {
                index.add_html_file(None, Some(format!("/{path}")), html.clone()).await?;
            }
            index.get_files().await
        })
        .map_err(|e| failed(e.to_string()))?;
    let mut out: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter_map(|f| {
            // The bundle's own relative path, whatever folder Pagefind put in front.
            let parts: Vec<String> = f
                .filename
                .components()
                .filter_map(|c| match c {
                    Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            let start = parts.iter().position(|p| p == "pagefind").map_or(0, |i| i + 1);
            let rel = parts[start..].join("/");
            (!rel.is_empty()).then(|| (format!("pagefind/{rel}"), f.contents))
        })
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_the_bundle_and_is_the_same_twice() {
        let page = |title: &str| {
            format!(
                "<!DOCTYPE html><html lang=\"da\"><head><title>{title}</title></head><body><main data-pagefind-body><h1>{title}</h1><p>Fordeling af praktikpladser på SOSU-området.</p></main></body></html>"
            )
        };
        let pages = vec![
            ("2027-01-28/index.html".to_owned(), page("Dagsorden 28. januar")),
            ("2027-03-18/index.html".to_owned(), page("Dagsorden 18. marts")),
        ];
        let files = index(&pages).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        for expected in [
            "pagefind/pagefind.js",
            "pagefind/pagefind-ui.js",
            "pagefind/pagefind-entry.json",
        ] {
            assert!(names.contains(&expected), "{names:?}");
        }
        assert!(names.iter().any(|n| n.starts_with("pagefind/fragment/")), "{names:?}");
        assert_eq!(index(&pages).unwrap(), files, "the same pages give the same bytes");
    }
}
