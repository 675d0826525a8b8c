//! The meeting as an iCalendar invitation (METHOD:PUBLISH, Europe/Copenhagen, stable UID).

use std::fmt::Write;

use jiff::Timestamp;

use crate::config::{Council, MeetingConfig};

/// The VTIMEZONE block for Europe/Copenhagen (EU rules since 1996).
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Copenhagen\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// The stable UID of a meeting's calendar entry.
pub(crate) fn uid(council: &Council, meeting: &MeetingConfig) -> String {
    format!("{}-{}@kkr", council.slug, meeting.date)
}

/// The invitation; `stamp` is when the meeting's content last changed.
pub(crate) fn calendar(
    council: &Council,
    meeting: &MeetingConfig,
    stamp: Timestamp,
) -> String {
    let local = |t: jiff::civil::Time| {
        meeting.date.to_datetime(t).strftime("%Y%m%dT%H%M%S").to_string()
    };
    let mut out = String::new();
    out.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//KL//kkr//DA\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n");
    out.push_str(VTIMEZONE);
    out.push_str("BEGIN:VEVENT\r\n");
    let lines = [
        format!("UID:{}", uid(council, meeting)),
        format!("DTSTAMP:{}", stamp.strftime("%Y%m%dT%H%M%SZ")),
        format!("DTSTART;TZID=Europe/Copenhagen:{}", local(meeting.starts)),
        format!("DTEND;TZID=Europe/Copenhagen:{}", local(meeting.ends)),
        format!("SUMMARY:{}", escape(&format!("{} – møde", council.name))),
        format!("LOCATION:{}", escape(&meeting.place)),
    ];
    for line in lines {
        fold(&mut out, &line);
    }
    out.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
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
        let meeting = MeetingConfig {
            date: jiff::civil::date(2027, 1, 28),
            starts: jiff::civil::time(9, 0, 0, 0),
            ends: jiff::civil::time(11, 30, 0, 0),
            place: "Gentofte Rådhus, Bernstorffsvej 161, 2920 Charlottenlund".into(),
        };
        let ics = calendar(&council, &meeting, Timestamp::UNIX_EPOCH);
        assert!(ics.contains("METHOD:PUBLISH\r\n"));
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
