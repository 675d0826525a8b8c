//! What each document shows: the member and public editions' data, built before any template
//! sees it, so a closed item's content never reaches a public template at all.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::clock;
use crate::config::{Council, MeetingConfig};
use crate::item::{Attendance, Item};
use crate::kind::{DocKind, Edition};
use crate::markdown;
use crate::site::PublicItem;

/// An item as it appears in one document.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The item.
    pub item: &'a Item,
    /// `""`, `"ny"`, `"ændret"` or `"trukket"`.
    pub status: &'a str,
    /// Its number on the agenda.
    pub number: usize,
}

/// Everything a document is made from.
#[derive(Debug, Clone)]
pub struct DocInput<'a> {
    /// The council.
    pub council: &'a Council,
    /// The meeting.
    pub meeting: &'a MeetingConfig,
    /// The items shown, in agenda order.
    pub entries: Vec<Entry<'a>>,
    /// Attendance (minutes only).
    pub attendance: Option<&'a Attendance>,
    /// Which document.
    pub kind: DocKind,
    /// Which edition.
    pub edition: Edition,
    /// An explanatory note on the cover (supplements, corrections).
    pub note: String,
    /// When the content last changed: the PDF's date.
    pub changed_at: Timestamp,
    /// Who approved the minutes and when, in Danish (`af Kirsten Løje Frandsen den 29.
    /// januar 2027`), with `minutes_approval`.
    pub approved: Option<String>,
}

/// A document's data, ready for the Typst world.
#[derive(Debug, Clone)]
pub struct DocData {
    /// `agenda.typ` or `minutes.typ`.
    pub template: &'static str,
    /// Virtual data files by path (`data/meeting.json`, `data/items/1.json`).
    pub files: BTreeMap<String, Vec<u8>>,
    /// The document title (PDF metadata).
    pub title: String,
    /// The PDF's date.
    pub date: Timestamp,
    /// A stable identifier of the document (PDF ID).
    pub ident: String,
}

impl DocData {
    /// What the document shows, apart from its date: two documents with the same hash
    /// differ at most in their PDF date (a public edition is not published again for a
    /// change that is not public).
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in
            [self.template.as_bytes(), self.title.as_bytes(), self.ident.as_bytes()]
        {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        for (path, bytes) in &self.files {
            h.update((path.len() as u64).to_le_bytes());
            h.update(path.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        crate::hash::hex(&h.finalize())
    }
}

/// The title of a document, as in the PDF metadata and the mail subject.
pub fn title(council: &Council, meeting: &MeetingConfig, kind: DocKind) -> String {
    let draft = if kind.is_draft() { "UDKAST: " } else { "" };
    format!(
        "{draft}{} – {} {}",
        council.name,
        kind.phrase(),
        clock::danish_date(meeting.held_on())
    )
}

/// Builds the data of a document. In the public edition a closed item contributes only its
/// public title and public decision; nothing else of it is copied.
pub fn build(input: &DocInput) -> DocData {
    let public = input.edition == Edition::Public;
    let mut files = BTreeMap::new();
    let mut attachments = Vec::new();
    for (i, entry) in input.entries.iter().enumerate() {
        let number = entry.number;
        let file = i + 1;
        let value = if public && entry.item.closed {
            closed_public_json(entry, number)
        } else {
            let labels: Vec<String> = entry
                .item
                .attachments
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    let label = format!("Bilag {number}.{} – {}", k + 1, a.display_name());
                    // A bilag that is not public: its title only, and none of its bytes.
                    if public && !a.public {
                        return format!("{label} (ikke offentligt)");
                    }
                    attachments.push(json!({
                        "number": format!("{number}.{}", k + 1),
                        "label": label,
                        "path": format!("/attachments/{}", a.stored_name()),
                        "format": a.format,
                        "pages": a.pages,
                        "page_images": if a.format == "pdf" {
                            (1..=a.pages).map(|k| format!("/attachments/{}-{k}.svg", a.sha256)).collect::<Vec<_>>()
                        } else {
                            Vec::new()
                        },
                    }));
                    label
                })
                .collect();
            full_json(entry, number, labels, public)
        };
        files.insert(format!("data/items/{file}.json"), json_bytes(&value));
    }
    let m = input.meeting;
    let title = title(input.council, m, input.kind);
    let mut meeting = json!({
        "document": input.kind.data_name(),
        "edition": if public { "public" } else { "member" },
        "draft": input.kind.is_draft(),
        "title": title,
        "heading": input.kind.label(),
        "council": input.council.name,
        "date": m.date.to_string(),
        "held_on": m.held_on().to_string(),
        "when": clock::danish_moment(m.held_on().to_datetime(m.starts)),
        "time_range": format!("kl. {}–{}", clock::danish_time(m.starts), clock::danish_time(m.ends)),
        "place": m.place,
        "note": input.note,
        "item_count": input.entries.len(),
        "attachments": attachments,
    });
    if input.kind.is_minutes_family() || input.kind.is_minutes_draft() {
        let (absent, guests) = input
            .attendance
            .map_or((vec![], vec![]), |a| (a.absent.clone(), a.guests.clone()));
        meeting["attendance"] = json!({ "absent": absent, "guests": guests });
    }
    if let Some(approved) = &input.approved {
        meeting["approved"] = json!(approved);
    }
    files.insert("data/meeting.json".into(), json_bytes(&meeting));
    let edition = if public { "offentlig" } else { "medlem" };
    DocData {
        template: input.kind.template(),
        files,
        title,
        date: input.changed_at,
        ident: format!(
            "{}/{}/{}/{edition}",
            input.council.slug,
            m.date,
            input.kind.file_name(Edition::Member)
        ),
    }
}

/// The public view of an entry: what anyone may see. A closed item shows only its public
/// title and its public decision; nothing else of it is read.
pub fn public_item(entry: &Entry) -> PublicItem {
    let item = entry.item;
    if item.closed {
        PublicItem {
            number: entry.number,
            title: item.public_title.clone(),
            public: false,
            result: item.decision.as_ref().map(|d| d.public_text.clone()),
        }
    } else {
        let result = item.decision.as_ref().map(|d| {
            if d.public_text.is_empty() { d.text.clone() } else { d.public_text.clone() }
        });
        PublicItem {
            number: entry.number,
            title: item.title.clone(),
            public: true,
            result,
        }
    }
}

/// Refuses a public edition in which a closed item's decision has no public text: it must
/// never fall back to the closed text.
pub fn check_public(entries: &[Entry]) -> Result<(), String> {
    let missing: Vec<String> = entries
        .iter()
        .filter(|e| e.item.closed)
        .filter(|e| {
            e.item.public_title.trim().is_empty()
                || e.item
                    .decision
                    .as_ref()
                    .is_some_and(|d| d.public_text.trim().is_empty())
        })
        .map(|e| format!("punkt {} ({})", e.number, e.item.id))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "lukkede punkter mangler offentlig titel eller offentlig beslutning (public_text): {}",
            missing.join(", ")
        ))
    }
}

/// A closed item in the public edition: only fields that are public by definition.
fn closed_public_json(entry: &Entry, number: usize) -> Value {
    let item = entry.item;
    let public = public_item(entry);
    json!({
        "number": number,
        "title": public.title,
        "area": item.area,
        "kind": item.kind.display(),
        "case": null,
        "closed": true,
        "status": entry.status,
        "late_reason": "",
        "recommendation": "",
        "body": [],
        "decision": public.result,
        "attachments": [],
    })
}

/// An item in full (member edition, or an open item in the public edition).
fn full_json(
    entry: &Entry,
    number: usize,
    attachments: Vec<String>,
    public: bool,
) -> Value {
    let item = entry.item;
    let decision = item.decision.as_ref().map(|d| {
        if public && !d.public_text.is_empty() {
            d.public_text.clone()
        } else {
            d.text.clone()
        }
    });
    json!({
        "number": number,
        "title": item.title,
        "area": item.area,
        "kind": item.kind.display(),
        "case": item.case,
        "closed": item.closed,
        "status": entry.status,
        "late_reason": item.late_reason,
        "recommendation": item.recommendation,
        "body": markdown::to_blocks(&item.body),
        "decision": decision,
        "attachments": attachments,
    })
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachment::Attachment;
    use crate::item::{Decision, Kind};

    const SECRET: &str = "HEMMELIG-KANARIE";

    fn closed_item() -> Item {
        Item {
            id: "x".into(),
            meeting: jiff::civil::date(2027, 1, 28),
            title: format!("Titel {SECRET}"),
            area: "Andet".into(),
            kind: Kind::Beslutning,
            order: None,
            case: Some(format!("26/{SECRET}")),
            recommendation: format!("Indstilling {SECRET}"),
            attachments: vec![Attachment {
                title: None,
                public: true,
                name: format!("bilag/{SECRET}.pdf"),
                sha256: "ab".repeat(32),
                format: "pdf".into(),
                pages: 1,
            }],
            closed: true,
            public_title: "Udpegning".into(),
            late_reason: format!("Sen {SECRET}"),
            withdrawn: false,
            decision: Some(Decision {
                text: format!("Besluttet {SECRET}"),
                public_text: "Udpegning foretaget".into(),
            }),
            body: format!("## {SECRET}\n\nTekst {SECRET}\n"),
        }
    }

    fn input<'a>(
        council: &'a Council,
        meeting: &'a MeetingConfig,
        item: &'a Item,
        edition: Edition,
    ) -> DocInput<'a> {
        DocInput {
            council,
            meeting,
            entries: vec![Entry { item, status: "", number: 1 }],
            attendance: None,
            kind: DocKind::Minutes,
            edition,
            note: String::new(),
            changed_at: Timestamp::UNIX_EPOCH,
            approved: None,
        }
    }

    #[test]
    fn public_edition_data_has_nothing_of_closed_items() {
        let council = Council { name: "KKR Test".into(), slug: "kkr-test".into() };
        let meeting = MeetingConfig::new(
            jiff::civil::date(2027, 1, 28),
            jiff::civil::time(9, 0, 0, 0),
            jiff::civil::time(11, 0, 0, 0),
            "Rådhuset",
        );
        let item = closed_item();
        let public = build(&input(&council, &meeting, &item, Edition::Public));
        for (path, bytes) in &public.files {
            let text = std::str::from_utf8(bytes.as_slice()).unwrap();
            assert!(!text.contains(SECRET), "{path} leaks: {text}");
        }
        assert!(!public.title.contains(SECRET));
        let member = build(&input(&council, &meeting, &item, Edition::Member));
        let all: String = member
            .files
            .values()
            .map(|b| std::str::from_utf8(b.as_slice()).unwrap().to_owned())
            .collect();
        assert!(all.contains(SECRET), "the member edition has everything");
    }
}
