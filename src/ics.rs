//! The meeting as an iCalendar invitation (Europe/Copenhagen, stable UID): PUBLISH with a
//! SEQUENCE one higher after every change notice, CANCEL when the meeting is cancelled.

use std::fmt::Write;

use jiff::Timestamp;

use crate::config::{Council, MeetingConfig};

/// The VTIMEZONE block for Europe/Copenhagen (EU rules since 1996).
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Copenhagen\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// The stable UID of a meeting's calendar entry.
pub(crate) fn uid(council: &Council, meeting: &MeetingConfig) -> String {
    format!("{}-{}@kkr", council.slug, meeting.date)
}

/// What one invitation says beyond the meeting itself.
pub(crate) struct Invitation<'a> {
    /// When it was made (the document's moment).
    pub(crate) stamp: Timestamp,
    /// The meeting notices sent so far, this one included: 0 for the agenda.
    pub(crate) sequence: u32,
    /// The meeting is cancelled: METHOD:CANCEL, STATUS:CANCELLED.
    pub(crate) cancel: bool,
    /// The council's From address.
    pub(crate) organizer: &'a lettre::message::Mailbox,
    /// The items' titles, one per line.
    pub(crate) description: String,
}

/// The invitation of a meeting.
pub(crate) fn calendar(
    council: &Council,
    meeting: &MeetingConfig,
    inv: &Invitation,
) -> String {
    let local = |t: jiff::civil::Time| {
        meeting.held_on().to_datetime(t).strftime("%Y%m%dT%H%M%S").to_string()
    };
    let method = if inv.cancel { "CANCEL" } else { "PUBLISH" };
    let mut out = String::new();
    out.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//KL//kkr//DA\r\nCALSCALE:GREGORIAN\r\n");
    out.push_str(&format!("METHOD:{method}\r\n"));
    out.push_str(VTIMEZONE);
    out.push_str("BEGIN:VEVENT\r\n");
    let organizer = match &inv.organizer.name {
        Some(name) => format!(
            "ORGANIZER;CN=\"{}\":mailto:{}",
            name.replace('"', "'"),
            inv.organizer.email
        ),
        None => format!("ORGANIZER:mailto:{}", inv.organizer.email),
    };
    let lines = [
        format!("UID:{}", uid(council, meeting)),
        format!("SEQUENCE:{}", inv.sequence),
        format!("DTSTAMP:{}", inv.stamp.strftime("%Y%m%dT%H%M%SZ")),
        format!("DTSTART;TZID=Europe/Copenhagen:{}", local(meeting.starts)),
        format!("DTEND;TZID=Europe/Copenhagen:{}", local(meeting.ends)),
        format!("SUMMARY:{}", escape(&format!("{} – møde", council.name))),
        format!("LOCATION:{}", escape(&meeting.place)),
        organizer,
        format!("STATUS:{}", if inv.cancel { "CANCELLED" } else { "CONFIRMED" }),
        format!("DESCRIPTION:{}", escape(&inv.description)),
    ];
    for line in lines {
        fold(&mut out, &line);
    }
    out.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    out
}

/// One meeting in the public calendar.
pub(crate) struct PublicEvent<'a> {
    /// The meeting as council.toml has it now (moved: the new day).
    pub(crate) meeting: &'a MeetingConfig,
    /// The items' public titles, numbered, once the agenda is published.
    pub(crate) titles: Vec<String>,
    /// The meeting's page on the site, once there is one.
    pub(crate) url: Option<String>,
}

/// The site's subscribable `kalender.ics`: every meeting of council.toml, past and coming,
/// with public content only (a closed item by its public title). Its own UIDs, so it never
/// merges with the members' invitations; `stamp` (the site's last publication) keeps the
/// bytes the same until something changes.
pub(crate) fn public_calendar(
    council: &Council,
    events: &[PublicEvent],
    stamp: Timestamp,
) -> String {
    let mut out = String::new();
    out.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//KL//kkr//DA\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n");
    fold(
        &mut out,
        &format!("X-WR-CALNAME:{}", escape(&format!("{} – møder", council.name))),
    );
    out.push_str("X-WR-TIMEZONE:Europe/Copenhagen\r\n");
    out.push_str(VTIMEZONE);
    for e in events {
        let m = e.meeting;
        let local = |t: jiff::civil::Time| {
            m.held_on().to_datetime(t).strftime("%Y%m%dT%H%M%S").to_string()
        };
        let mut description = String::new();
        if m.cancelled {
            description.push_str("Mødet er aflyst.\n");
        } else if m.moved_to.is_some() {
            description.push_str(&format!(
                "Mødet er flyttet fra {}.\n",
                crate::clock::danish_long_date(m.date)
            ));
        }
        if let Some(url) = &e.url {
            description.push_str(&format!("Dagsorden og referat: {url}\n"));
        }
        if !e.titles.is_empty() {
            description.push_str("\nPunkter:\n");
            description.push_str(&e.titles.join("\n"));
        }
        out.push_str("BEGIN:VEVENT\r\n");
        let summary = if m.cancelled { " (aflyst)" } else { "" };
        let mut lines = vec![
            format!("UID:{}-{}-offentlig@kkr", council.slug, m.date),
            format!("DTSTAMP:{}", stamp.strftime("%Y%m%dT%H%M%SZ")),
            format!("DTSTART;TZID=Europe/Copenhagen:{}", local(m.starts)),
            format!("DTEND;TZID=Europe/Copenhagen:{}", local(m.ends)),
            format!("SUMMARY:{}", escape(&format!("{} – møde{summary}", council.name))),
            format!("LOCATION:{}", escape(&m.place)),
            format!("STATUS:{}", if m.cancelled { "CANCELLED" } else { "CONFIRMED" }),
            "TRANSP:OPAQUE".to_owned(),
        ];
        if !description.is_empty() {
            lines.push(format!("DESCRIPTION:{}", escape(description.trim())));
        }
        if let Some(url) = &e.url {
            lines.push(format!("URL:{url}"));
        }
        for line in lines {
            fold(&mut out, &line);
        }
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | ';' | ',' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes a content line folded at 75 octets, never inside a UTF-8 character.
fn fold(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        width += c.len_utf8();
        let _ = out.write_char(c);
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_has_local_times_and_stable_uid() {
        let council =
            Council { name: "KKR Hovedstaden".into(), slug: "kkr-hovedstaden".into() };
        let meeting = MeetingConfig::new(
            jiff::civil::date(2027, 1, 28),
            jiff::civil::time(9, 0, 0, 0),
            jiff::civil::time(11, 30, 0, 0),
            "Gentofte Rådhus, Bernstorffsvej 161, 2920 Charlottenlund",
        );
        let organizer: lettre::message::Mailbox =
            "KKR Hovedstaden <kkr@example.org>".parse().unwrap();
        let inv = Invitation {
            stamp: Timestamp::UNIX_EPOCH,
            sequence: 0,
            cancel: false,
            organizer: &organizer,
            description: "1. Godkendelse af dagsorden\n2. Sundhedsråd".into(),
        };
        let ics = calendar(&council, &meeting, &inv);
        assert!(ics.contains("METHOD:PUBLISH\r\n"));
        assert!(ics.contains("SEQUENCE:0\r\n") && ics.contains("STATUS:CONFIRMED\r\n"));
        assert!(
            ics.contains("ORGANIZER;CN=\"KKR Hovedstaden\":mailto:kkr@example.org\r\n")
        );
        assert!(
            ics.contains("DESCRIPTION:1. Godkendelse af dagsorden\\n2. Sundhedsråd\r\n")
        );
        let cancel = calendar(
            &council,
            &meeting,
            &Invitation { cancel: true, sequence: 2, ..inv },
        );
        assert!(
            cancel.contains("METHOD:CANCEL\r\n")
                && cancel.contains("STATUS:CANCELLED\r\n")
        );
        assert!(ics.contains("UID:kkr-hovedstaden-2027-01-28@kkr\r\n"));
        assert!(ics.contains("DTSTART;TZID=Europe/Copenhagen:20270128T090000\r\n"));
        assert!(
            ics.contains(
                "LOCATION:Gentofte Rådhus\\, Bernstorffsvej 161\\, 2920 Charlott"
            )
        );
        assert!(ics.lines().all(|l| l.len() <= 75), "{ics}");
    }
}
