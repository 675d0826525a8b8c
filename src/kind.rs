//! The kinds of document kkr makes: one enum, stored typed in the ledger, that answers every
//! question about a kind (its file, its Danish names, who gets it, until when, its template).

use jiff::Zoned;
use rusqlite::types::{
    FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef,
};

use crate::config::MeetingConfig;

/// Which document is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// The draft agenda, updated on every change (never sent, never in the ledger).
    Draft,
    /// The agenda as sent.
    Agenda,
    /// Supplementary agenda number N (from 1).
    Supplement(u32),
    /// Corrected agenda number N (from 1).
    Correction(u32),
    /// The decision minutes.
    Minutes,
    /// Corrected minutes number N (from 1): a decision or the attendance changed after the
    /// minutes were sent (SPEC §3.4).
    MinutesCorrection(u32),
    /// Notice number N that the meeting was moved or changed (day, time or place) after the
    /// agenda was sent, with the calendar invitation updated (SPEC §3.5). Mail only.
    MeetingChange(u32),
    /// Notice number N that the meeting is cancelled, with a cancelling invitation (a
    /// meeting cancelled, held after all, and cancelled again has two). Mail only.
    Cancellation(u32),
    /// Draft N of the minutes (or of their correction) for the chair's approval, sent to
    /// the formand, the næstformand and the secretariat only (`minutes_approval`, SPEC §3.4).
    MinutesDraft(u32),
}

/// Who the document is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edition {
    /// Members, observers and the secretariat: everything.
    Member,
    /// The public: closed items reduced to their public title and decision.
    Public,
}

/// Who receives a kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Nobody: the document is only written to `outbox/` (the draft).
    Nobody,
    /// Every roster row: members, observers and the secretariat (SPEC §6).
    Roster,
    /// Those who approve the minutes: the formand, the næstformand and the secretariat.
    Approvers,
}

/// Every kind's name in the ledger, without its number.
const NAMES: [&str; 9] = [
    "draft",
    "agenda",
    "supplement",
    "correction",
    "minutes",
    "minutes-correction",
    "meeting-change",
    "cancellation",
    "minutes-draft",
];

impl DocKind {
    /// The kind's name in the ledger and in the templates' data (`agenda`, `supplement`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Draft => NAMES[0],
            Self::Agenda => NAMES[1],
            Self::Supplement(_) => NAMES[2],
            Self::Correction(_) => NAMES[3],
            Self::Minutes => NAMES[4],
            Self::MinutesCorrection(_) => NAMES[5],
            Self::MeetingChange(_) => NAMES[6],
            Self::Cancellation(_) => NAMES[7],
            Self::MinutesDraft(_) => NAMES[8],
        }
    }

    /// The kind's name in the templates' data (`meeting.json`'s `document`): the draft is
    /// an agenda there.
    pub fn data_name(self) -> &'static str {
        if self == Self::Draft { Self::Agenda.name() } else { self.name() }
    }

    /// Its number among the documents of its kind for a meeting (1 for the one-off kinds).
    pub fn seq(self) -> u32 {
        match self {
            Self::Supplement(n)
            | Self::Correction(n)
            | Self::MinutesCorrection(n)
            | Self::MeetingChange(n)
            | Self::Cancellation(n)
            | Self::MinutesDraft(n) => n,
            _ => 1,
        }
    }

    /// The same kind with number `n` (the one-off kinds ignore it).
    pub fn numbered(self, n: u32) -> Self {
        match self {
            Self::Supplement(_) => Self::Supplement(n),
            Self::Correction(_) => Self::Correction(n),
            Self::MinutesCorrection(_) => Self::MinutesCorrection(n),
            Self::MeetingChange(_) => Self::MeetingChange(n),
            Self::MinutesDraft(_) => Self::MinutesDraft(n),
            Self::Cancellation(_) => Self::Cancellation(n),
            other => other,
        }
    }

    /// The agenda, its supplements and its corrections: what members get before the meeting.
    pub fn is_agenda_family(self) -> bool {
        matches!(self, Self::Agenda | Self::Supplement(_) | Self::Correction(_))
    }

    /// The minutes and their corrections: what members get after the meeting.
    pub fn is_minutes_family(self) -> bool {
        matches!(self, Self::Minutes | Self::MinutesCorrection(_))
    }

    /// A draft of the minutes for approval.
    pub fn is_minutes_draft(self) -> bool {
        matches!(self, Self::MinutesDraft(_))
    }

    /// A draft (the agenda's, or the minutes' for approval): marked UDKAST.
    pub fn is_draft(self) -> bool {
        matches!(self, Self::Draft | Self::MinutesDraft(_))
    }

    /// A notice about the meeting itself (moved, changed, cancelled): a mail without a PDF.
    pub fn is_meeting_notice(self) -> bool {
        matches!(self, Self::MeetingChange(_) | Self::Cancellation(_))
    }

    /// Whether its mail carries a PDF (every kind but the meeting notices).
    pub fn has_pdf(self) -> bool {
        !self.is_meeting_notice()
    }

    /// A meeting has at most one document of this kind (its number is always 1).
    pub fn is_once(self) -> bool {
        matches!(self, Self::Draft | Self::Agenda | Self::Minutes)
    }

    /// The file name under `outbox/<meeting>/` for an edition.
    pub fn file_name(self, edition: Edition) -> String {
        let public = if edition == Edition::Public { "-offentlig" } else { "" };
        match self {
            Self::Draft => "dagsorden-udkast.pdf".into(),
            Self::Agenda => format!("dagsorden{public}.pdf"),
            Self::Supplement(n) => format!("supplerende-dagsorden-{n}{public}.pdf"),
            Self::Correction(n) => format!("rettet-dagsorden-{n}{public}.pdf"),
            Self::Minutes => format!("referat{public}.pdf"),
            Self::MinutesCorrection(n) => format!("rettet-referat-{n}{public}.pdf"),
            Self::MinutesDraft(1) => "referat-udkast.pdf".into(),
            Self::MinutesDraft(n) => format!("referat-udkast-{n}.pdf"),
            // Mail only: the name is the mail's, never a file's.
            Self::MeetingChange(n) => format!("moedeaendring-{n}"),
            Self::Cancellation(1) => "aflysning".into(),
            Self::Cancellation(n) => format!("aflysning-{n}"),
        }
    }

    /// The kind and edition of a file name that [`DocKind::file_name`] made.
    pub fn from_file_name(name: &str) -> Option<(Self, Edition)> {
        let stem = name.strip_suffix(".pdf")?;
        let (stem, edition) = match stem.strip_suffix("-offentlig") {
            Some(s) => (s, Edition::Public),
            None => (stem, Edition::Member),
        };
        let numbered = |prefix: &str| stem.strip_prefix(prefix)?.parse::<u32>().ok();
        let kind = match stem {
            "dagsorden-udkast" if edition == Edition::Member => Self::Draft,
            "referat-udkast" if edition == Edition::Member => Self::MinutesDraft(1),
            "dagsorden" => Self::Agenda,
            "referat" => Self::Minutes,
            _ if edition == Edition::Member && numbered("referat-udkast-").is_some() => {
                Self::MinutesDraft(numbered("referat-udkast-")?)
            }
            _ => {
                match (numbered("supplerende-dagsorden-"), numbered("rettet-referat-")) {
                    (Some(n), _) => Self::Supplement(n),
                    (None, Some(n)) => Self::MinutesCorrection(n),
                    (None, None) => Self::Correction(numbered("rettet-dagsorden-")?),
                }
            }
        };
        Some((kind, edition))
    }

    /// The Danish label: the cover heading and what the public site calls the file.
    pub fn label(self) -> String {
        match self {
            Self::Draft | Self::Agenda => "Dagsorden".into(),
            Self::Supplement(n) => format!("Supplerende dagsorden nr. {n}"),
            Self::Correction(n) => format!("Rettet dagsorden nr. {n}"),
            Self::Minutes => "Beslutningsreferat".into(),
            Self::MinutesCorrection(n) => format!("Rettet beslutningsreferat nr. {n}"),
            Self::MeetingChange(n) => format!("Ændring af mødet nr. {n}"),
            Self::Cancellation(_) => "Aflysning af mødet".into(),
            Self::MinutesDraft(_) => "Beslutningsreferat".into(),
        }
    }

    /// What an attachment of this kind is called in the member's Downloads folder, between
    /// the council's name and the date: `dagsorden`, `supplerende dagsorden 1`, ….
    pub fn attachment_word(self) -> String {
        match self {
            Self::Draft => "dagsorden udkast".into(),
            Self::Agenda => "dagsorden".into(),
            Self::Supplement(n) => format!("supplerende dagsorden {n}"),
            Self::Correction(n) => format!("rettet dagsorden {n}"),
            Self::Minutes => "beslutningsreferat".into(),
            Self::MinutesCorrection(n) => format!("rettet beslutningsreferat {n}"),
            Self::MinutesDraft(1) => "beslutningsreferat udkast".into(),
            Self::MinutesDraft(n) => format!("beslutningsreferat udkast {n}"),
            Self::MeetingChange(_) | Self::Cancellation(_) => "møde".into(),
        }
    }

    /// The phrase used in titles and mail subjects: `dagsorden til mødet`.
    pub fn phrase(self) -> String {
        match self {
            Self::Draft | Self::Agenda => "dagsorden til mødet".into(),
            Self::Supplement(n) => format!("supplerende dagsorden nr. {n} til mødet"),
            Self::Correction(n) => format!("rettet dagsorden nr. {n} til mødet"),
            Self::Minutes => "beslutningsreferat fra mødet".into(),
            Self::MinutesCorrection(n) => {
                format!("rettet beslutningsreferat nr. {n} fra mødet")
            }
            Self::MeetingChange(_) => "besked om ændring af mødet".into(),
            Self::Cancellation(_) => "besked om aflysning af mødet".into(),
            Self::MinutesDraft(_) => "beslutningsreferat fra mødet".into(),
        }
    }

    /// The Typst template that lays the kind out.
    pub fn template(self) -> &'static str {
        if self.is_minutes_family() || self.is_minutes_draft() {
            "minutes.typ"
        } else {
            "agenda.typ"
        }
    }

    /// Who receives it.
    pub fn audience(self) -> Audience {
        match self {
            Self::Draft => Audience::Nobody,
            Self::MinutesDraft(_) => Audience::Approvers,
            _ => Audience::Roster,
        }
    }

    /// Until when it may be sent: the agenda family and the meeting notices only before the
    /// meeting starts (SPEC §6); the minutes at any time after.
    pub fn sendable_until(self, meeting: &MeetingConfig) -> Option<Zoned> {
        (self.is_agenda_family() || self.is_meeting_notice()).then(|| meeting.starts_at())
    }

    /// Whether its mail carries the meeting as a calendar invitation.
    pub fn has_calendar(self) -> bool {
        self.is_agenda_family() || self.is_meeting_notice()
    }

    /// The kind stored as `name` with number `seq` in the ledger.
    fn from_stored(name: &str, seq: u32) -> Option<Self> {
        Some(match name {
            "agenda" => Self::Agenda,
            "supplement" => Self::Supplement(seq),
            "correction" => Self::Correction(seq),
            "minutes" => Self::Minutes,
            "minutes-correction" => Self::MinutesCorrection(seq),
            "meeting-change" => Self::MeetingChange(seq),
            "cancellation" => Self::Cancellation(seq),
            "minutes-draft" => Self::MinutesDraft(seq),
            _ => return None,
        })
    }
}

/// Stored as `name` for the one-off kinds and `name:N` for the numbered ones (migration 4).
impl ToSql for DocKind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(if self.is_once() {
            self.name().to_owned()
        } else {
            format!("{}:{}", self.name(), self.seq())
        }))
    }
}

/// An unknown kind is an error, never a guess: a ledger written by a newer kkr is refused
/// before this (`LedgerTooNew`), so one here is damage.
impl FromSql for DocKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        let (name, seq) = match text.split_once(':') {
            Some((name, n)) => (name, n.parse().map_err(|_| FromSqlError::InvalidType)?),
            None => (text, 1),
        };
        let kind = Self::from_stored(name, seq).ok_or(FromSqlError::InvalidType)?;
        if kind.is_once() == text.contains(':') {
            return Err(FromSqlError::InvalidType);
        }
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [DocKind; 10] = [
        DocKind::Draft,
        DocKind::Agenda,
        DocKind::Supplement(2),
        DocKind::Correction(11),
        DocKind::Minutes,
        DocKind::MinutesCorrection(3),
        DocKind::MeetingChange(2),
        DocKind::Cancellation(2),
        DocKind::MinutesDraft(1),
        DocKind::MinutesDraft(4),
    ];

    #[test]
    fn file_names_read_back_as_their_kind() {
        for kind in ALL.into_iter().filter(|k| k.has_pdf()) {
            for edition in [Edition::Member, Edition::Public] {
                if kind.is_draft() && edition == Edition::Public {
                    continue;
                }
                let name = kind.file_name(edition);
                assert_eq!(
                    DocKind::from_file_name(&name),
                    Some((kind, edition)),
                    "{name}"
                );
            }
        }
        assert_eq!(DocKind::from_file_name("referat.txt"), None);
        assert_eq!(DocKind::from_file_name("rettet-dagsorden-x.pdf"), None);
        assert_eq!(DocKind::from_file_name("index.html"), None);
    }

    #[test]
    fn stored_kinds_round_trip_and_unknown_ones_are_refused() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for kind in ALL.into_iter().filter(|k| *k != DocKind::Draft) {
            let back: DocKind =
                conn.query_row("SELECT ?1", [kind], |r| r.get(0)).unwrap();
            assert_eq!(back, kind);
        }
        for bad in ["draft", "brev", "supplement", "agenda:1", "correction:x", ""] {
            let r: rusqlite::Result<DocKind> =
                conn.query_row("SELECT ?1", [bad], |r| r.get(0));
            assert!(r.is_err(), "{bad} must not read as a kind");
        }
    }

    #[test]
    fn only_the_agenda_family_has_a_deadline_and_a_calendar() {
        let meeting = MeetingConfig::new(
            jiff::civil::date(2027, 1, 28),
            jiff::civil::time(9, 0, 0, 0),
            jiff::civil::time(11, 0, 0, 0),
            "Rådhuset",
        );
        assert_eq!(DocKind::Agenda.sendable_until(&meeting), Some(meeting.starts_at()));
        assert!(DocKind::Correction(1).has_calendar());
        assert_eq!(DocKind::Minutes.sendable_until(&meeting), None);
        assert!(!DocKind::Minutes.has_calendar());
        assert_eq!(DocKind::Draft.audience(), Audience::Nobody);
        assert_eq!(DocKind::Supplement(1).audience(), Audience::Roster);
    }
}
