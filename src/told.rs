//! What members were told of a meeting's day, time and place: recorded with every document
//! that tells them (the agenda family, the meeting notices), compared with `council.toml` so
//! a moved, changed or cancelled meeting owes a notice (SPEC §3.5), and that notice's mail.

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::config::{Config, MeetingConfig};
use crate::kind::DocKind;
use crate::ledger::Document;
use crate::mail::Letter;

/// A meeting's day, time and place as one document told them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    /// The day it is held.
    pub day: Date,
    /// Local start time.
    pub starts: Time,
    /// Local end time.
    pub ends: Time,
    /// Where.
    pub place: String,
    /// What members had been told before (a notice records what it changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Box<Told>>,
    /// The notice tells that a meeting cancelled before is held after all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reinstated: bool,
}

impl Told {
    /// The meeting as `council.toml` says it now.
    pub fn of(m: &MeetingConfig) -> Self {
        Self {
            day: m.held_on(),
            starts: m.starts,
            ends: m.ends,
            place: m.place.clone(),
            before: None,
            reinstated: false,
        }
    }

    /// The same day, time and place (what was told before not counted).
    fn same(&self, other: &Told) -> bool {
        (self.day, self.starts, self.ends, &self.place)
            == (other.day, other.starts, other.ends, &other.place)
    }

    /// As the ledger stores it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("told serializes")
    }

    fn moment(&self) -> String {
        clock::danish_moment(self.day.to_datetime(self.starts))
    }
}

/// What a recorded document told, if it recorded it.
pub fn of_document(doc: &Document) -> Option<Told> {
    doc.told.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

/// The latest that members were told, from a meeting's documents in the order they were
/// made (`None` before the agenda, or when only documents of an earlier kkr say it).
pub fn last(docs: &[Document]) -> Option<Told> {
    docs.iter().rev().find_map(of_document)
}

/// Where a meeting stands against what its members were told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// Its day, time or place differs from what they were last told: a notice is owed.
    pub changed: bool,
    /// They were told it is cancelled.
    pub cancel_sent: bool,
}

/// A meeting's standing against its documents: what the last meeting notice said counts
/// (a meeting cancelled and then held after all is owed a notice that it is held).
pub fn standing(m: &MeetingConfig, docs: &[Document]) -> Standing {
    let last_notice = docs.iter().rev().find(|d| d.kind.is_meeting_notice());
    let cancel_sent =
        last_notice.is_some_and(|d| matches!(d.kind, DocKind::Cancellation(_)));
    Standing {
        changed: last(docs).is_some_and(|t| !t.same(&Told::of(m)))
            || (cancel_sent && !m.cancelled),
        cancel_sent,
    }
}

/// Adds to the schedule's view of a meeting whether it is cancelled and whether what its
/// members were told still holds.
pub fn apply(
    state: &mut crate::schedule::MeetingState,
    m: &MeetingConfig,
    docs: &[Document],
) {
    let standing = standing(m, docs);
    state.cancelled = m.cancelled;
    state.cancel_sent = standing.cancel_sent;
    state.told_changed = standing.changed;
}

/// The invitation's SEQUENCE for a document: the meeting notices made up to it (0 for the
/// agenda, one higher with every notice).
pub fn sequence(docs: &[Document], doc: &Document) -> u32 {
    docs.iter().filter(|d| d.kind.is_meeting_notice() && d.id <= doc.id).count() as u32
}

/// What a meeting notice says: the subject and the note naming what changed.
pub fn letter(config: &Config, m: &MeetingConfig, doc: &Document) -> Letter {
    let now = of_document(doc).unwrap_or_else(|| Told::of(m));
    let before = now.before.as_deref().cloned().unwrap_or_else(|| now.clone());
    let council = &config.council.name;
    let (subject, note) = if matches!(doc.kind, DocKind::Cancellation(_)) {
        (
            format!("{council} – mødet {} er aflyst", clock::danish_date(now.day)),
            format!(
                "Mødet {} er aflyst. Der sendes ikke mere om mødet. Kalenderinvitationen er vedhæftet som aflysning.",
                now.moment()
            ),
        )
    } else {
        let mut lines = Vec::new();
        if now.reinstated {
            lines.push(format!(
                "Mødet er ikke længere aflyst: det holdes {}.",
                now.moment()
            ));
        }
        if now.day != before.day {
            lines.push(format!(
                "Mødet er flyttet fra {} til {}.",
                before.moment(),
                now.moment()
            ));
        } else if (now.starts, now.ends) != (before.starts, before.ends) {
            lines.push(format!(
                "Mødet holdes nu kl. {}–{} (før kl. {}–{}).",
                clock::danish_time(now.starts),
                clock::danish_time(now.ends),
                clock::danish_time(before.starts),
                clock::danish_time(before.ends)
            ));
        }
        if now.place != before.place {
            lines
                .push(format!("Mødet holdes nu: {} (før: {}).", now.place, before.place));
        }
        lines.push("Kalenderinvitationen er opdateret.".into());
        let subject = if now.reinstated {
            format!("{council} – mødet {} holdes alligevel", clock::danish_date(now.day))
        } else if now.day != before.day {
            format!(
                "{council} – mødet {} er flyttet til {}",
                clock::danish_date(before.day),
                clock::danish_date(now.day)
            )
        } else {
            format!("{council} – mødet {} er ændret", clock::danish_date(now.day))
        };
        (subject, lines.join(" "))
    };
    Letter {
        subject,
        council: council.clone(),
        phrase: doc.kind.phrase(),
        when: now.moment(),
        place: now.place.clone(),
        note,
        items: Vec::new(),
        day: clock::danish_long_date(now.day),
        time_range: format!(
            "kl. {}–{}",
            clock::danish_time(now.starts),
            clock::danish_time(now.ends)
        ),
        absent: Vec::new(),
        guests: Vec::new(),
        file: String::new(),
        calendar_file: format!("{council} møde {}.ics", now.day),
        reply_to: crate::mail::reply_address(&config.mail),
        size_refused: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting() -> MeetingConfig {
        MeetingConfig::new(
            jiff::civil::date(2027, 1, 28),
            jiff::civil::time(9, 0, 0, 0),
            jiff::civil::time(11, 30, 0, 0),
            "Gentofte Rådhus",
        )
    }

    fn doc(id: i64, kind: DocKind, told: Option<&Told>) -> Document {
        Document {
            id,
            meeting: jiff::civil::date(2027, 1, 28),
            kind,
            file: String::new(),
            sha256: String::new(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            late: false,
            shown: Vec::new(),
            summary_at: None,
            attendance: None,
            told: told.map(Told::to_json),
        }
    }

    #[test]
    fn a_move_a_new_place_or_a_cancellation_is_measured_against_the_last_told() {
        let m = meeting();
        let agenda = doc(1, DocKind::Agenda, Some(&Told::of(&m)));
        assert_eq!(standing(&m, std::slice::from_ref(&agenda)), Standing::default());
        let moved =
            MeetingConfig { moved_to: Some(jiff::civil::date(2027, 2, 4)), ..m.clone() };
        assert!(standing(&moved, std::slice::from_ref(&agenda)).changed);
        let notice = doc(2, DocKind::MeetingChange(1), Some(&Told::of(&moved)));
        let docs = [agenda.clone(), notice.clone()];
        assert!(!standing(&moved, &docs).changed, "told once");
        assert_eq!((sequence(&docs, &agenda), sequence(&docs, &notice)), (0, 1));
        let elsewhere = MeetingConfig { place: "Hillerød Rådhus".into(), ..moved };
        assert!(standing(&elsewhere, &docs).changed);
        // Documents of an earlier kkr did not record it: nothing is owed.
        assert!(!standing(&elsewhere, &[doc(1, DocKind::Agenda, None)]).changed);
    }
}
