//! Each meeting's accessible page, `<date>/index.html`: the public edition's own data files
//! (the same JSON the public PDF is made from, so a closed item is already reduced to its public
//! title and decision) rendered by the site's Handlebars templates, which escape every text.

use std::collections::BTreeMap;
use std::path::Path;

use handlebars::Handlebars;
use serde_json::{Value, json};

use crate::error::{Error, Result};

use super::SiteMeeting;

/// The site's templates, as `kkr init` writes them to `templates/site/`.
pub const BUILTIN: [(&str, &str); 4] = [
    ("meeting.html", include_str!("../../templates/site/meeting.html.hbs")),
    ("search.html", include_str!("../../templates/site/search.html.hbs")),
    ("blocks.html", include_str!("../../templates/site/blocks.html.hbs")),
    ("inlines.html", include_str!("../../templates/site/inlines.html.hbs")),
];

/// A document's data files by virtual path (`data/meeting.json`, `data/items/1.json`).
pub type Files = BTreeMap<String, Vec<u8>>;

/// The compiled page templates.
pub struct Pages {
    registry: Handlebars<'static>,
}

/// A public bilag published as its own file.
#[derive(Debug, Clone)]
pub struct PublicBilag {
    /// `3.1`.
    pub number: String,
    /// `Bilag 3.1 – Fordeling pr. kommune`.
    pub label: String,
    /// Its name on the site, beside the page: `bilag-3.1.pdf`.
    pub file: String,
    /// Its name in the attachment store.
    pub stored: String,
}

impl Pages {
    /// Loads the templates of `templates/site/` (each one the workspace lacks is the built-in
    /// one); an error names the template.
    pub fn new(templates: Option<&Path>) -> Result<Self> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        for (name, builtin) in BUILTIN {
            let source =
                crate::fs::template(templates, &format!("site/{name}.hbs"), builtin)?;
            let partial = name.trim_end_matches(".html");
            let result = if matches!(name, "meeting.html" | "search.html") {
                registry.register_template_string(name, source)
            } else {
                // A partial's final newline would put a space inside `<em>…</em>`.
                registry.register_partial(partial, source.trim_end())
            };
            result.map_err(|e| {
                Error::Compose(format!("skabelonen templates/site/{name}.hbs: {e}"))
            })?;
        }
        Ok(Self { registry })
    }

    /// The search page, `soeg.html`.
    pub fn search(&self, council: &str) -> Result<String> {
        self.registry.render("search.html", &json!({ "council": council })).map_err(|e| {
            Error::Compose(format!("skabelonen templates/site/search.html.hbs: {e}"))
        })
    }

    /// The page of `meeting` from the published public edition's data files; `decisions`:
    /// the data are the minutes' (an agenda's page shows none); `unavailable`: bilag files
    /// that are not on the site (named, not linked).
    pub fn meeting(
        &self,
        council: &str,
        meeting: &SiteMeeting,
        data: &Files,
        decisions: bool,
        unavailable: &[String],
    ) -> Result<String> {
        let mut context = context(council, meeting, data)?;
        for item in context["items"].as_array_mut().into_iter().flatten() {
            if !decisions {
                item["decision"] = Value::Null;
            }
            for b in item["bilag"].as_array_mut().into_iter().flatten() {
                if b["href"].as_str().is_some_and(|h| unavailable.iter().any(|u| u == h))
                {
                    b["href"] = Value::Null;
                }
            }
        }
        self.registry.render("meeting.html", &context).map_err(|e| {
            Error::Compose(format!("skabelonen templates/site/meeting.html.hbs: {e}"))
        })
    }
}

/// The public bilag of a public edition: those its data lists (an open item's bilag that
/// is not `public = false`), named by their number.
pub fn public_bilag(data: &Files) -> Vec<PublicBilag> {
    let Some(meeting) = file_json(data, "data/meeting.json") else { return Vec::new() };
    meeting["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let number = a["number"].as_str()?.to_owned();
            let stored = a["path"].as_str()?.strip_prefix("/attachments/")?.to_owned();
            let ext = a["format"]
                .as_str()
                .filter(|f| f.bytes().all(|b| b.is_ascii_alphanumeric()))?;
            Some(PublicBilag {
                file: format!("bilag-{number}.{ext}"),
                label: a["label"].as_str()?.to_owned(),
                number,
                stored,
            })
        })
        .collect()
}

fn file_json(data: &Files, path: &str) -> Option<Value> {
    serde_json::from_slice(data.get(path)?).ok()
}

fn context(council: &str, m: &SiteMeeting, data: &Files) -> Result<Value> {
    let broken = || Error::Compose("den offentlige udgaves data mangler".into());
    let meeting = file_json(data, "data/meeting.json").ok_or_else(broken)?;
    let bilag = public_bilag(data);
    let count = meeting["item_count"].as_u64().unwrap_or(0);
    let mut items = Vec::new();
    for n in 1..=count {
        let mut item =
            file_json(data, &format!("data/items/{n}.json")).ok_or_else(broken)?;
        let links: Vec<Value> = item["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|label| {
                let href =
                    bilag.iter().find(|b| b.label == label).map(|b| b.file.clone());
                json!({ "label": label, "href": href })
            })
            .collect();
        item["bilag"] = Value::Array(links);
        if let Some(body) = item.get_mut("body") {
            heading_levels(body);
        }
        items.push(item);
    }
    let date = m.starts.date();
    let files: Vec<Value> = m
        .files
        .iter()
        .map(|f| {
            json!({
                "href": f.path.rsplit('/').next().unwrap_or(&f.path),
                "label": f.label,
                "kb": f.size.div_ceil(1024),
                "corrected": f.revision > 1,
            })
        })
        .collect();
    Ok(json!({
        "council": council,
        "heading": meeting["heading"],
        "date_long": crate::clock::danish_long_date(date),
        "date_text": crate::clock::danish_date(date),
        "time_range": meeting["time_range"],
        "place": meeting["place"],
        "approved": meeting.get("approved").cloned().unwrap_or(Value::Null),
        "attendance": meeting.get("attendance").cloned().unwrap_or(Value::Null),
        "cancelled": m.cancelled,
        "moved_from": m.moved_from.map(crate::clock::danish_long_date),
        "files": files,
        "items": items,
    }))
}

/// The body's headings sit below the item's own (`h2`) and its parts (`h3`): `#` and `##`
/// (the items' usual top level) become `h4`, `###` `h5`, deeper ones `h6`.
fn heading_levels(blocks: &mut Value) {
    for block in blocks.as_array_mut().into_iter().flatten() {
        if block["kind"] == "heading" {
            let level = block["level"].as_u64().unwrap_or(1);
            block["h"] = json!((level.max(2) + 2).min(6));
        }
        // A quote's blocks, and each list entry's.
        if let Some(inner) = block.get_mut("blocks") {
            heading_levels(inner);
        }
        if let Some(entries) = block.get_mut("items").and_then(Value::as_array_mut) {
            for entry in entries {
                heading_levels(entry);
            }
        }
    }
}
