//! The public site: `index.html`, `feed.atom` and `meetings.json`, made only from public data
//! (closed items appear with their public title and public decision and nothing else).

pub mod page;
pub mod search;

use std::fmt::Write;

use jiff::{Timestamp, Zoned};
use serde_json::json;

use crate::clock;
use crate::kind::DocKind;

/// An item as the public may see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublicItem {
    /// Its number on the agenda.
    pub number: usize,
    /// Its title (a closed item's public title).
    pub title: String,
    /// Whether the item is open (`false` for a lukket punkt).
    pub public: bool,
    /// The published decision, once there is one.
    pub result: Option<String>,
}

/// A published file.
#[derive(Debug, Clone)]
pub struct SiteFile {
    /// Path under the site root, e.g. `2027-01-28/referat-offentlig.pdf`.
    pub path: String,
    /// Which document it is.
    pub kind: DocKind,
    /// What it is, in Danish (`Dagsorden`, `Beslutningsreferat`).
    pub label: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// How many times it has been published (2 and up: corrected).
    pub revision: i64,
    /// When this revision was published.
    pub published_at: Timestamp,
    /// When the first revision was published.
    pub first_at: Timestamp,
}

/// A meeting on the public site.
#[derive(Debug, Clone)]
pub struct SiteMeeting {
    /// The meeting's id (its first date; the folder of its files).
    pub id: jiff::civil::Date,
    /// Start.
    pub starts: Zoned,
    /// End.
    pub ends: Zoned,
    /// Where.
    pub place: String,
    /// Its items, public view.
    pub items: Vec<PublicItem>,
    /// Its published files.
    pub files: Vec<SiteFile>,
    /// The meeting is cancelled (aflyst).
    pub cancelled: bool,
    /// The day it was first set for, when it was moved.
    pub moved_from: Option<jiff::civil::Date>,
}

/// Escapes text for HTML and XML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

fn url(base: &str, path: &str) -> String {
    format!("{base}{path}")
}

/// `index.html`: every meeting with published files, newest first; Danish, accessible, no
/// JavaScript.
pub fn index_html(council: &str, meetings: &[SiteMeeting]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"da\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{0} – dagsordener og referater</title>\n<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{0} – referater\" href=\"feed.atom\">\n<link rel=\"alternate\" type=\"text/calendar\" title=\"{0} – møder\" href=\"kalender.ics\">\n<style>body{{font-family:Georgia,serif;max-width:46em;margin:0 auto;padding:1em;line-height:1.5;color:#1a1a1a}}h1,h2{{color:#1b365d}}a{{color:#1b365d}}li{{margin:.2em 0}}.meta{{color:#4a4a4a}}</style>\n</head>\n<body>\n<header><h1>{0}</h1><p>Dagsordener og beslutningsreferater fra rådets møder. Lukkede punkter vises kun med deres offentlige titel og beslutning.</p><p><a href=\"soeg.html\">Søg i dagsordener og referater</a> · <a href=\"kalender.ics\">Abonnér på rådets møder i din kalender</a> · <a href=\"feed.atom\">Nyhedsfeed med referaterne</a></p></header>\n<main>\n",
        esc(council)
    );
    let mut sorted: Vec<&SiteMeeting> = meetings.iter().collect();
    sorted.sort_by(|a, b| b.starts.cmp(&a.starts));
    if sorted.is_empty() {
        h.push_str("<p>Der er ikke publiceret noget endnu.</p>\n");
    }
    for m in sorted {
        let date = m.starts.date();
        let _ = write!(
            h,
            "<section aria-labelledby=\"m-{date}\">\n<h2 id=\"m-{date}\">Møde {}</h2>\n<p class=\"meta\">{} kl. {}–{}, {}</p>\n<ul>\n",
            esc(&clock::danish_long_date(date)),
            esc(&clock::danish_long_date(date)),
            clock::danish_time(m.starts.time()),
            clock::danish_time(m.ends.time()),
            esc(&m.place)
        );
        if m.cancelled {
            h.push_str("<p><strong>Mødet er aflyst.</strong></p>\n");
        } else if let Some(from) = m.moved_from {
            let _ = writeln!(
                h,
                "<p><strong>Mødet er flyttet fra {}.</strong></p>",
                esc(&clock::danish_long_date(from))
            );
        }
        for f in &m.files {
            let corrected = if f.revision > 1 { " (rettet)" } else { "" };
            let _ = writeln!(
                h,
                "<li><a href=\"{}\">{}{corrected}</a> (PDF, {} kB)</li>",
                esc(&f.path),
                esc(&f.label),
                f.size.div_ceil(1024)
            );
        }
        if !m.files.is_empty() {
            let _ = writeln!(
                h,
                "<li><a href=\"{}/index.html\">Mødets side: punkterne{} som tekst</a></li>",
                m.id,
                if m.items.iter().any(|i| i.result.is_some()) {
                    " og beslutningerne"
                } else {
                    ""
                }
            );
        }
        h.push_str("</ul>\n");
        if !m.items.is_empty() {
            h.push_str("<h3>Punkter</h3>\n<ol>\n");
            for i in &m.items {
                let closed = if i.public {
                    ""
                } else {
                    " <span class=\"meta\">(lukket punkt)</span>"
                };
                let result = i
                    .result
                    .as_deref()
                    .map(|r| {
                        format!("<br><span class=\"meta\">Beslutning:</span> {}", esc(r))
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    h,
                    "<li value=\"{}\">{}{closed}{result}</li>",
                    i.number,
                    esc(&i.title)
                );
            }
            h.push_str("</ol>\n");
        }
        h.push_str("</section>\n");
    }
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// `feed.atom`: one entry per published minutes; a correction updates its entry.
pub fn feed_atom(
    council: &str,
    slug: &str,
    base: &str,
    meetings: &[SiteMeeting],
) -> String {
    let minutes: Vec<(&SiteMeeting, &SiteFile)> = meetings
        .iter()
        .flat_map(|m| {
            m.files.iter().filter(|f| f.kind == DocKind::Minutes).map(move |f| (m, f))
        })
        .collect();
    // Without minutes yet, the feed was last changed when anything was last published.
    let any = meetings.iter().flat_map(|m| &m.files).map(|f| f.published_at).max();
    let updated = minutes
        .iter()
        .map(|(_, f)| f.published_at)
        .max()
        .or(any)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let mut x = String::new();
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"da\">\n<title>{} – beslutningsreferater</title>\n<id>tag:kkr,2026:{slug}</id>\n<updated>{updated}</updated>\n<author><name>{}</name></author>\n<link rel=\"self\" href=\"{}\"/>\n<link rel=\"alternate\" href=\"{}\"/>\n",
        esc(council),
        esc(council),
        esc(&url(base, "feed.atom")),
        esc(&url(base, "index.html")),
    );
    let mut sorted = minutes;
    sorted.sort_by(|a, b| b.0.starts.cmp(&a.0.starts));
    for (m, f) in sorted {
        let date = m.starts.date();
        let corrected = if f.revision > 1 {
            format!(" (rettet, udgave {})", f.revision)
        } else {
            String::new()
        };
        let summary: Vec<String> =
            m.items.iter().map(|i| format!("{}. {}", i.number, i.title)).collect();
        let _ = write!(
            x,
            "<entry>\n<title>Beslutningsreferat fra mødet {}{corrected}</title>\n<id>tag:kkr,2026:{slug}/{date}/referat</id>\n<published>{}</published>\n<updated>{}</updated>\n<link rel=\"alternate\" type=\"application/pdf\" href=\"{}\"/>\n<summary>{}</summary>\n</entry>\n",
            esc(&clock::danish_date(date)),
            f.first_at,
            f.published_at,
            esc(&url(base, &f.path)),
            esc(&summary.join("; ")),
        );
    }
    x.push_str("</feed>\n");
    x
}

/// `meetings.json`, in OParl 1.1's shapes where they fit.
pub fn meetings_json(council: &str, base: &str, meetings: &[SiteMeeting]) -> String {
    let mut sorted: Vec<&SiteMeeting> = meetings.iter().collect();
    sorted.sort_by(|a, b| b.starts.cmp(&a.starts));
    let meeting: Vec<_> = sorted
        .iter()
        .map(|m| {
            json!({
                "type": "https://schema.oparl.org/1.1/Meeting",
                "name": format!("Møde i {council} {}", clock::danish_date(m.starts.date())),
                "start": m.starts.timestamp().to_zoned(m.starts.time_zone().clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                "end": m.ends.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                "cancelled": m.cancelled,
                "location": { "type": "https://schema.oparl.org/1.1/Location", "description": m.place },
                "agendaItem": m.items.iter().map(|i| json!({
                    "type": "https://schema.oparl.org/1.1/AgendaItem",
                    "number": i.number.to_string(),
                    "name": i.title,
                    "public": i.public,
                    "result": i.result,
                })).collect::<Vec<_>>(),
                "file": m.files.iter().map(|f| json!({
                    "type": "https://schema.oparl.org/1.1/File",
                    "name": f.label,
                    "fileName": f.path.rsplit('/').next().unwrap_or(&f.path),
                    "accessUrl": url(base, &f.path),
                    "mimeType": "application/pdf",
                    "size": f.size,
                    "sha256Checksum": f.sha256,
                    "modified": f.published_at.to_string(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let body = json!({
        "body": { "type": "https://schema.oparl.org/1.1/Body", "name": council },
        "meeting": meeting,
    });
    serde_json::to_string_pretty(&body).expect("JSON values serialize") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting() -> SiteMeeting {
        let starts = clock::parse_now("2027-01-28T09:00").unwrap();
        let ends = clock::parse_now("2027-01-28T11:30").unwrap();
        SiteMeeting {
            id: jiff::civil::date(2027, 1, 28),
            starts,
            ends,
            place: "Rådhuset <store sal>".into(),
            items: vec![
                PublicItem {
                    number: 1,
                    title: "Åbent punkt & mere".into(),
                    public: true,
                    result: Some("Godkendt".into()),
                },
                PublicItem {
                    number: 2,
                    title: "Udpegning".into(),
                    public: false,
                    result: Some("Udpegning foretaget".into()),
                },
            ],
            files: vec![SiteFile {
                path: "2027-01-28/referat-offentlig.pdf".into(),
                kind: DocKind::Minutes,
                label: "Beslutningsreferat".into(),
                sha256: "ab".repeat(32),
                size: 2048,
                revision: 2,
                published_at: Timestamp::UNIX_EPOCH,
                first_at: Timestamp::UNIX_EPOCH,
            }],
            cancelled: false,
            moved_from: None,
        }
    }

    #[test]
    fn index_is_escaped_danish_html() {
        let h = index_html("KKR Hovedstaden", &[meeting()]);
        assert!(h.contains("<html lang=\"da\">"));
        assert!(h.contains("Rådhuset &lt;store sal&gt;"));
        assert!(h.contains("Åbent punkt &amp; mere"));
        assert!(h.contains("(rettet)"));
        assert!(!h.contains("<script"));
    }

    #[test]
    fn feed_has_one_entry_per_minutes() {
        let x = feed_atom(
            "KKR Hovedstaden",
            "kkr-hovedstaden",
            "https://example.org/kkr/",
            &[meeting()],
        );
        assert_eq!(x.matches("<entry>").count(), 1);
        assert!(x.contains(
            "href=\"https://example.org/kkr/2027-01-28/referat-offentlig.pdf\""
        ));
        assert!(x.contains("rettet, udgave 2"));
    }

    #[test]
    fn meetings_json_follows_oparl_shapes() {
        let v: serde_json::Value =
            serde_json::from_str(&meetings_json("KKR Hovedstaden", "", &[meeting()]))
                .unwrap();
        assert_eq!(v["body"]["name"], "KKR Hovedstaden");
        let m = &v["meeting"][0];
        assert_eq!(m["start"], "2027-01-28T09:00:00+01:00");
        assert_eq!(m["location"]["description"], "Rådhuset <store sal>");
        assert_eq!(m["agendaItem"][1]["number"], "2");
        assert_eq!(m["agendaItem"][1]["public"], false);
        assert_eq!(m["file"][0]["sha256Checksum"], "ab".repeat(32));
        assert_eq!(m["file"][0]["accessUrl"], "2027-01-28/referat-offentlig.pdf");
    }
}
