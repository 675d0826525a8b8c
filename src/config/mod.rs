//! The workspace's `council.toml`, read and validated with every problem located; the
//! placeholders `kkr init` writes and `kkr check` reports.

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use jiff::Zoned;
use jiff::civil::{Date, Time};
use lettre::message::Mailbox;

use crate::clock;
use crate::report::Problem;
use crate::spanned::TomlReader;

mod dkim;
mod smtp;
pub(crate) use dkim::is_dns_name;
pub use dkim::{DkimConfig, DkimKey};
use smtp::read_smtp;
pub use smtp::{SmtpConfig, Tls};

/// Placeholder text that `kkr check` reports as not filled in.
pub const PLACEHOLDER: &str = "UDFYLD";

/// The domain of placeholder addresses (reserved, never delivered).
pub const PLACEHOLDER_DOMAIN: &str = "example.invalid";

/// The council and how its documents are scheduled, mailed and published.
#[derive(Debug, Clone)]
pub struct Config {
    /// The council itself.
    pub council: Council,
    /// Its meetings, in date order.
    pub meetings: Vec<MeetingConfig>,
    /// When documents go out.
    pub schedule: ScheduleConfig,
    /// How mail is sent.
    pub mail: MailConfig,
    /// Where the public documents go, if anywhere.
    pub publish: Option<PublishConfig>,
}

/// `[council]`.
#[derive(Debug, Clone)]
pub struct Council {
    /// Display name, e.g. `KKR Hovedstaden`.
    pub name: String,
    /// Short id used in file names and Message-IDs, e.g. `kkr-hovedstaden`.
    pub slug: String,
}

/// One `[[meeting]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingConfig {
    /// The meeting's date, which is also its id.
    pub date: Date,
    /// Local start time.
    pub starts: Time,
    /// Local end time.
    pub ends: Time,
    /// Where it is held.
    pub place: String,
    /// The day it was moved to (`moved_to`); the meeting keeps `date` as its id.
    pub moved_to: Option<Date>,
    /// The meeting is cancelled (aflyst): nothing more is sent for it (SPEC §3.5).
    pub cancelled: bool,
}

impl MeetingConfig {
    /// A meeting on `date` from `starts` to `ends` at `place`, neither moved nor cancelled.
    pub fn new(date: Date, starts: Time, ends: Time, place: &str) -> Self {
        Self {
            date,
            starts,
            ends,
            place: place.to_owned(),
            moved_to: None,
            cancelled: false,
        }
    }

    /// The day it is held: `moved_to`, else its date.
    pub fn held_on(&self) -> Date {
        self.moved_to.unwrap_or(self.date)
    }

    /// The moment the meeting starts.
    pub fn starts_at(&self) -> Zoned {
        clock::at(self.held_on(), self.starts)
    }

    /// The moment the meeting ends (after which it is *held*).
    pub fn ends_at(&self) -> Zoned {
        clock::at(self.held_on(), self.ends)
    }
}

/// `[schedule]`.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// Days between the agenda mail and the meeting.
    pub agenda_days_before: i64,
    /// Local time of day the agenda goes out.
    pub send_time: Time,
    /// Whether minutes go out by themselves once every item has its decision.
    pub minutes_after_decisions: bool,
    /// The minutes wait for the chair's approval (SPEC §3.4).
    pub minutes_approval: bool,
    /// Hours before the agenda's moment the secretariat is told what goes (0: not told).
    pub notice_hours_before: i64,
}

impl ScheduleConfig {
    /// The moment the agenda for `meeting` is due.
    pub fn agenda_due(&self, meeting: &MeetingConfig) -> Zoned {
        let day = meeting.held_on() - jiff::Span::new().days(self.agenda_days_before);
        clock::at(day, self.send_time)
    }
}

/// `[mail]`.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The sender.
    pub from: Mailbox,
    /// Where replies go.
    pub reply_to: Option<Mailbox>,
    /// The SMTP server; `None` means dry run (`.eml` files in `outbox/mail/`).
    pub smtp: Option<SmtpConfig>,
    /// Largest PDF attached to a mail, in bytes; a larger one is replaced by a note.
    pub max_attachment_bytes: u64,
    /// DKIM signing, if configured.
    pub dkim: Option<DkimConfig>,
}

/// `[publish]`.
#[derive(Debug, Clone)]
pub struct PublishConfig {
    /// Where to publish.
    pub target: PublishTarget,
    /// Environment variable with the WebDAV user.
    pub user_env: Option<String>,
    /// Environment variable with the WebDAV password.
    pub password_env: Option<String>,
    /// The public address of the published folder, for links in the feed and meetings.json
    /// (without it, links are relative).
    pub base_url: Option<String>,
    /// The CA (PEM) that the WebDAV server's certificate is issued by, for an internal
    /// server; relative to the workspace. Certificates are still verified.
    pub ca_file: Option<PathBuf>,
}

/// A publish destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishTarget {
    /// A folder (relative paths are relative to the workspace).
    Dir(PathBuf),
    /// A WebDAV collection URL (`https://…`, or `http://` on loopback).
    WebDav(String),
}

/// Whether a host name or address is this machine.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a value may go into a mail header: no line breaks or other control characters.
pub fn is_header_safe(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

impl Config {
    /// The configured meeting on `date`.
    pub fn meeting(&self, date: Date) -> Option<&MeetingConfig> {
        self.meetings.iter().find(|m| m.date == date)
    }

    /// Reads and validates `council.toml` text; every problem is reported.
    pub fn parse(text: &str) -> Result<Self, Vec<Problem>> {
        let mut r = TomlReader::new(text, 0);
        let Some(doc) = r.parse(text) else { return Err(r.problems) };
        let root = doc.as_table();
        r.unknown_keys(root, &["council", "meeting", "schedule", "mail", "publish"], "");
        let council = read_council(&mut r, root);
        let meetings = read_meetings(&mut r, root);
        let schedule = read_schedule(&mut r, root);
        let mail = read_mail(&mut r, root, council.as_ref());
        let publish = read_publish(&mut r, root);
        match (council, schedule, mail) {
            (Some(council), Some(schedule), Some(mail)) if r.problems.is_empty() => {
                Ok(Self { council, meetings, schedule, mail, publish: publish.flatten() })
            }
            _ => Err(r.problems),
        }
    }
}

fn read_council(r: &mut TomlReader, root: &dyn toml_edit::TableLike) -> Option<Council> {
    let Some(t) = r.table(root, "council") else {
        r.problem(
            None,
            "sektionen [council] mangler",
            "tilføj [council] med name, slug og timezone",
        );
        return None;
    };
    r.unknown_keys(t, &["name", "slug", "timezone"], " i [council]");
    let name = r.string(t, "name", true);
    let slug = r.string(t, "slug", true);
    if let Some(tz) = r.string(t, "timezone", false)
        && tz.value != clock::TZ_NAME
    {
        r.problem(
            tz.span,
            format!("tidszonen \"{}\" understøttes ikke", tz.value),
            "skriv timezone = \"Europe/Copenhagen\"",
        );
    }
    if let Some(name) = &name
        && (name.value.trim().is_empty() || !is_header_safe(&name.value))
    {
        r.problem(
            name.span.clone(),
            "rådets navn er tomt eller indeholder linjeskift",
            "skriv fx name = \"KKR Hovedstaden\"",
        );
    }
    if let Some(slug) = &slug {
        let ok = !slug.value.is_empty()
            && slug
                .value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            r.problem(
                slug.span.clone(),
                format!("slug \"{}\" må kun bestå af a-z, 0-9 og -", slug.value),
                "skriv fx slug = \"kkr-hovedstaden\"",
            );
        }
    }
    Some(Council { name: name?.value.trim().to_owned(), slug: slug?.value })
}

const MEETING_KEYS: [&str; 6] =
    ["date", "starts", "ends", "place", "moved_to", "cancelled"];

fn read_meetings(
    r: &mut TomlReader,
    root: &dyn toml_edit::TableLike,
) -> Vec<MeetingConfig> {
    let mut out: Vec<MeetingConfig> = Vec::new();
    let Some(item) = root.get("meeting") else { return out };
    let Some(array) = item.as_array_of_tables() else {
        r.problem(
            item.span(),
            "`meeting` skal skrives som [[meeting]]-sektioner",
            "skriv hvert møde som en [[meeting]]-sektion",
        );
        return out;
    };
    for t in array.iter() {
        r.unknown_keys(t, &MEETING_KEYS, " i [[meeting]]");
        let date = r.date(t, "date", true);
        let moved_to = r.date(t, "moved_to", false);
        let cancelled = r.boolean(t, "cancelled").is_some_and(|b| b.value);
        let starts = r.time(t, "starts", true);
        let ends = r.time(t, "ends", true);
        let place = r.string(t, "place", true);
        let (Some(date), Some(starts), Some(ends), Some(place)) =
            (date, starts, ends, place)
        else {
            continue;
        };
        if ends.value <= starts.value {
            r.problem(
                ends.span,
                "mødet slutter før det begynder",
                "ret starts eller ends",
            );
        }
        if place.value.starts_with(PLACEHOLDER) {
            r.problem(
                place.span.clone(),
                format!("mødestedet for {} er ikke udfyldt", date.value),
                "skriv mødestedet med adresse, og ret dato og tider",
            );
        }
        if !is_header_safe(&place.value) {
            r.problem(
                place.span,
                "stedet indeholder linjeskift eller kontroltegn",
                "skriv stedet på én linje",
            );
        }
        if out.iter().any(|m| m.date == date.value) {
            r.problem(
                date.span,
                format!("mødet {} står der to gange", date.value),
                "slet det ene [[meeting]]",
            );
            continue;
        }
        if let Some(to) = &moved_to
            && (to.value == date.value
                || out.iter().any(|m| m.held_on() == to.value || m.date == to.value))
        {
            r.problem(
                to.span.clone(),
                format!(
                    "mødet {} kan ikke flyttes til {}: der er allerede et møde den dag",
                    date.value, to.value
                ),
                "vælg en anden dato, eller slet moved_to",
            );
            continue;
        }
        out.push(MeetingConfig {
            date: date.value,
            starts: starts.value,
            ends: ends.value,
            place: place.value,
            moved_to: moved_to.map(|m| m.value),
            cancelled,
        });
    }
    out.sort_by_key(|m| m.date);
    out
}

fn read_schedule(
    r: &mut TomlReader,
    root: &dyn toml_edit::TableLike,
) -> Option<ScheduleConfig> {
    let mut s = ScheduleConfig {
        agenda_days_before: 7,
        send_time: jiff::civil::time(9, 0, 0, 0),
        minutes_after_decisions: true,
        minutes_approval: false,
        notice_hours_before: 24,
    };
    let Some(t) = r.table(root, "schedule") else { return Some(s) };
    let known = [
        "agenda_days_before",
        "send_time",
        "minutes_after_decisions",
        "minutes_approval",
        "notice_hours_before",
    ];
    r.unknown_keys(t, &known, " i [schedule]");
    if let Some(hours) = r.integer_in(
        t,
        "notice_hours_before",
        0..=336,
        "notice_hours_before skal være mellem 0 og 336 (to uger)",
        "normalt 24; 0 slår beskeden fra",
    ) {
        s.notice_hours_before = hours;
    }
    if let Some(days) = r.integer_in(
        t,
        "agenda_days_before",
        0..=60,
        "agenda_days_before skal være mellem 0 og 60",
        "normalt 7 (en uge før mødet)",
    ) {
        s.agenda_days_before = days;
    }
    if let Some(time) = r.time(t, "send_time", false) {
        s.send_time = time.value;
    }
    if let Some(b) = r.boolean(t, "minutes_approval") {
        s.minutes_approval = b.value;
    }
    if let Some(b) = r.boolean(t, "minutes_after_decisions") {
        s.minutes_after_decisions = b.value;
    }
    Some(s)
}

fn read_mailbox(
    r: &mut TomlReader,
    t: &dyn toml_edit::TableLike,
    key: &str,
    required: bool,
    council: Option<&Council>,
) -> Option<Mailbox> {
    let s = r.string(t, key, required)?;
    if !is_header_safe(&s.value) {
        r.problem(
            s.span,
            format!("`{key}` indeholder linjeskift eller kontroltegn"),
            "skriv adressen på én linje",
        );
        return None;
    }
    match Mailbox::from_str(s.value.trim()) {
        Ok(m) if m.email.domain() == PLACEHOLDER_DOMAIN => {
            // Suggest an address in the council's own name.
            let example = match council {
                Some(c) => format!("{} <{}@kl.dk>", c.name, c.slug),
                None => "KKR Hovedstaden <kkr-hovedstaden@kl.dk>".to_owned(),
            };
            r.problem(
                s.span,
                format!("`{key}` er ikke udfyldt"),
                format!("skriv rådets rigtige mailadresse, fx \"{example}\""),
            );
            None
        }
        Ok(m) => Some(m),
        Err(_) => {
            r.problem(
                s.span,
                format!("`{key}` er ikke en gyldig mailadresse: \"{}\"", s.value),
                "skriv fx \"KKR Hovedstaden <kkr@example.org>\"",
            );
            None
        }
    }
}

fn read_mail(
    r: &mut TomlReader,
    root: &dyn toml_edit::TableLike,
    council: Option<&Council>,
) -> Option<MailConfig> {
    let Some(t) = r.table(root, "mail") else {
        r.problem(
            None,
            "sektionen [mail] mangler",
            "tilføj [mail] med from = \"Navn <adresse>\"",
        );
        return None;
    };
    r.unknown_keys(
        t,
        &["from", "reply_to", "max_attachment_mb", "smtp", "dkim"],
        " i [mail]",
    );
    let from = read_mailbox(r, t, "from", true, council);
    let reply_to = read_mailbox(r, t, "reply_to", false, council);
    let max_mb = r
        .integer_in(
            t,
            "max_attachment_mb",
            1..=100,
            "max_attachment_mb skal være mellem 1 og 100",
            "mange mailservere afviser mails over 10–25 MB; 15 er et godt valg",
        )
        .map_or(15, |mb| mb as u64);
    let smtp = r.table(t, "smtp").and_then(|s| read_smtp(r, s));
    let from = from?;
    let dkim =
        r.table(t, "dkim").and_then(|d| dkim::read_dkim(r, d, from.email.domain()));
    Some(MailConfig { from, reply_to, smtp, max_attachment_bytes: max_mb << 20, dkim })
}

fn read_publish(
    r: &mut TomlReader,
    root: &dyn toml_edit::TableLike,
) -> Option<Option<PublishConfig>> {
    let Some(t) = r.table(root, "publish") else { return Some(None) };
    r.unknown_keys(
        t,
        &["target", "user_env", "password_env", "base_url", "ca_file"],
        " i [publish]",
    );
    let target = r.string(t, "target", true)?;
    let parsed = if let Some(dir) = target.value.strip_prefix("dir:") {
        Some(PublishTarget::Dir(PathBuf::from(dir)))
    } else if let Some(url) = target.value.strip_prefix("webdav+") {
        let host = url
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', ':']).next().unwrap_or(""));
        match (url.split_once("://").map(|(s, _)| s), host) {
            (Some("https"), Some(h)) if !h.is_empty() => {
                Some(PublishTarget::WebDav(url.to_owned()))
            }
            (Some("http"), Some(h)) if is_loopback(h) => {
                Some(PublishTarget::WebDav(url.to_owned()))
            }
            _ => None,
        }
    } else {
        None
    };
    if parsed.is_none() {
        r.problem(
            target.span,
            format!("ugyldigt publiceringsmål \"{}\"", target.value),
            "brug \"dir:outbox/public\" eller \"webdav+https://server/sti/\"",
        );
    }
    let user_env = r.string(t, "user_env", false).map(|s| s.value);
    let password_env = r.string(t, "password_env", false).map(|s| s.value);
    let base_url = r.string(t, "base_url", false).map(|b| {
        let b = b.value.trim().to_owned();
        if b.ends_with('/') { b } else { format!("{b}/") }
    });
    let ca_file = r.string(t, "ca_file", false).map(|c| {
        if matches!(parsed, Some(PublishTarget::Dir(_))) {
            r.problem(
                c.span,
                "ca_file gælder kun et webdav-mål",
                "slet ca_file, eller publicér til \"webdav+https://server/sti/\"",
            );
        }
        PathBuf::from(c.value)
    });
    Some(parsed.map(|target| PublishConfig {
        target,
        user_env,
        password_env,
        base_url,
        ca_file,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[council]
name = "KKR Hovedstaden"
slug = "kkr-hovedstaden"
timezone = "Europe/Copenhagen"

[[meeting]]
date = "2027-01-28"
starts = "09:00"
ends = "11:30"
place = "Gentofte Rådhus"

[schedule]
agenda_days_before = 7
send_time = "09:00"

[mail]
from = "KKR Hovedstaden <kkr@example.org>"
"#;

    #[test]
    fn reads_good_config() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.council.name, "KKR Hovedstaden");
        assert_eq!(c.meetings.len(), 1);
        assert!(c.mail.smtp.is_none());
        let due = c.schedule.agenda_due(&c.meetings[0]);
        assert_eq!(due.datetime().to_string(), "2027-01-21T09:00:00");
    }

    #[test]
    fn unknown_key_is_reported_with_line() {
        let text = GOOD.replace("send_time", "sendetid");
        let p = Config::parse(&text).unwrap_err();
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("ukendt felt `sendetid`"), "{p:?}");
        assert_eq!(p[0].line, 15);
    }

    #[test]
    fn tls_none_only_on_loopback() {
        let smtp =
            "\n[mail.smtp]\nhost = \"smtp.example.org\"\nport = 25\ntls = \"none\"\n";
        let p = Config::parse(&format!("{GOOD}{smtp}")).unwrap_err();
        assert!(p[0].message.contains("kun tilladt"));
        let ok = smtp.replace("smtp.example.org", "127.0.0.1");
        assert_eq!(
            Config::parse(&format!("{GOOD}{ok}")).unwrap().mail.smtp.unwrap().tls,
            Tls::None
        );
    }

    #[test]
    fn numbers_out_of_their_range_are_located_problems() {
        for (section, line, message) in [
            (
                "[schedule]",
                "agenda_days_before = 61",
                "agenda_days_before skal være mellem 0 og 60",
            ),
            (
                "[schedule]",
                "notice_hours_before = -1",
                "notice_hours_before skal være mellem 0 og 336",
            ),
            (
                "[mail]",
                "max_attachment_mb = 0",
                "max_attachment_mb skal være mellem 1 og 100",
            ),
        ] {
            let text = GOOD.replacen("agenda_days_before = 7\n", "", 1).replacen(
                &format!("{section}\n"),
                &format!("{section}\n{line}\n"),
                1,
            );
            assert_ne!(text, GOOD, "{section}");
            let p = Config::parse(&text).unwrap_err();
            assert!(p.iter().any(|p| p.message.contains(message)), "{line}: {p:?}");
        }
        let smtp =
            "\n[mail.smtp]\nhost = \"localhost\"\ntls = \"none\"\ntimeout_secs = 601\n";
        let p = Config::parse(&format!("{GOOD}{smtp}")).unwrap_err();
        assert!(
            p.iter()
                .any(|p| p.message.contains("timeout_secs skal være mellem 1 og 600")),
            "{p:?}"
        );
    }

    #[test]
    fn publish_ca_file_is_read_for_webdav_and_refused_for_a_folder() {
        let webdav = "\n[publish]\ntarget = \"webdav+https://dav.example.org/kkr/\"\nca_file = \"certs/intern-ca.pem\"\n";
        let c = Config::parse(&format!("{GOOD}{webdav}")).unwrap();
        assert_eq!(
            c.publish.unwrap().ca_file.as_deref(),
            Some(std::path::Path::new("certs/intern-ca.pem"))
        );
        let dir =
            webdav.replace("webdav+https://dav.example.org/kkr/", "dir:outbox/public");
        let p = Config::parse(&format!("{GOOD}{dir}")).unwrap_err();
        assert!(p[0].message.contains("ca_file gælder kun et webdav-mål"), "{p:?}");
    }

    #[test]
    fn from_with_header_injection_is_rejected() {
        let text = GOOD
            .replace("<kkr@example.org>", "<kkr@example.org>\\r\\nBcc: x@evil.example");
        let p = Config::parse(&text).unwrap_err();
        assert!(p[0].message.contains("linjeskift"), "{p:?}");
    }
}
