//! Mail: messages composed from Handlebars templates with lettre, the `Transport` seam they are
//! handed to, and the dry-run transport that writes them as `.eml` files.

use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use jiff::Timestamp;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::MailConfig;
use crate::error::{Error, Result};
use crate::hash::hex;

/// The built-in mail templates; `templates/mail/NAME` in the workspace overrides each.
pub const BUILTIN: [(&str, &str); 4] = [
    ("agenda.txt", include_str!("../templates/mail/agenda.txt.hbs")),
    ("agenda.html", include_str!("../templates/mail/agenda.html.hbs")),
    ("failures.txt", include_str!("../templates/mail/failures.txt.hbs")),
    ("notice.txt", include_str!("../templates/mail/notice.txt.hbs")),
];

/// `Auto-Submitted: auto-generated` (RFC 3834): on kkr's notices to the secretariat, never
/// on the members' documents, so auto-responders and vacation replies stay quiet.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(
        _: &str,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// One agenda line in a mail.
#[derive(Debug, Clone, Serialize)]
pub struct MailItem {
    /// Item number.
    pub number: usize,
    /// Title.
    pub title: String,
    /// Subject area (`Uddannelse`).
    pub area: String,
    /// Kind, as shown (`Beslutning`).
    pub kind: String,
    /// A closed item (lukket punkt).
    pub closed: bool,
    /// How it stands against what was sent: `Nyt punkt`, `Ændret`, `Trukket`, `Rettet` or
    /// `""`.
    pub status: String,
    /// The recommendation (agendas; not for closed items), or `""`.
    pub recommendation: String,
    /// Why it came late (supplements), or `""`.
    pub late_reason: String,
    /// The decision (minutes; a closed item's public decision).
    pub decision: Option<String>,
}

/// What a document mail says, the same for every recipient.
#[derive(Debug, Clone, Serialize)]
pub struct Letter {
    /// Subject line.
    pub subject: String,
    /// Council name.
    pub council: String,
    /// E.g. `dagsorden til mødet`.
    pub phrase: String,
    /// E.g. `torsdag den 28. januar 2027 kl. 9.00`.
    pub when: String,
    /// Where.
    pub place: String,
    /// A note (supplements, corrections).
    pub note: String,
    /// `torsdag den 28. januar 2027`.
    pub day: String,
    /// `kl. 9.00–11.30`.
    pub time_range: String,
    /// Absent members (minutes).
    pub absent: Vec<String>,
    /// Guests (minutes).
    pub guests: Vec<String>,
    /// The items.
    pub items: Vec<MailItem>,
    /// The attached PDF's file name, as the member's machine saves it
    /// (`KKR Hovedstaden dagsorden 2027-01-28.pdf`); `""` for a mail without a PDF.
    pub file: String,
    /// The calendar invitation's file name (`KKR Hovedstaden møde 2027-01-28.ics`).
    #[serde(skip)]
    pub calendar_file: String,
    /// Reply address, if any.
    pub reply_to: String,
    /// The recipient's mail server refused the message with the PDF as too large (552):
    /// send it without the PDF and say so.
    #[serde(skip)]
    pub size_refused: bool,
}

/// The address replies go to (`[mail] reply_to`), or `""`, as the letters show it.
pub fn reply_address(config: &MailConfig) -> String {
    config.reply_to.as_ref().map(|r| r.email.to_string()).unwrap_or_default()
}

/// Plain text wrapped at 72 columns for a mail body: the first line continues where the
/// template put it (`indent` columns in), the following ones are indented by `indent`.
/// Line breaks in `s` are kept; a word longer than a line stands alone.
pub fn wrap_text(s: &str, indent: usize) -> String {
    const WIDTH: usize = 72;
    let width = WIDTH.saturating_sub(indent).max(20);
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    for paragraph in s.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width
            {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines.join(&format!("\n{pad}"))
}

/// Per-recipient template data.
#[derive(Serialize)]
struct View<'a> {
    #[serde(flatten)]
    letter: &'a Letter,
    recipient: &'a str,
    /// A calendar invitation is attached.
    calendar: bool,
    /// Why the PDF is not attached (too large), or empty.
    too_large: String,
}

/// A document's attachments, encoded once and cloned into every recipient's message (the
/// PDF's base64 is most of a message's bytes).
#[derive(Debug, Clone, Default)]
pub struct Parts {
    /// The PDF, if the document has one.
    pdf: Option<SinglePart>,
    /// Its size in bytes before encoding.
    pdf_len: usize,
    /// The calendar invitation.
    ics: Option<SinglePart>,
}

impl Parts {
    /// The attachments of `letter`'s document: its PDF (empty: none) and calendar.
    pub fn new(letter: &Letter, pdf: &[u8], ics: Option<&str>) -> Self {
        let pdf_type = ContentType::parse("application/pdf").expect("valid content type");
        let ics = ics.map(|ics| {
            let method =
                if ics.contains("\r\nMETHOD:CANCEL\r\n") { "CANCEL" } else { "PUBLISH" };
            let ics_type = ContentType::parse(&format!(
                "text/calendar; charset=utf-8; method={method}"
            ))
            .expect("valid content type");
            Attachment::new(letter.calendar_file.clone()).body(ics.to_owned(), ics_type)
        });
        Self {
            pdf: (!pdf.is_empty()).then(|| {
                Attachment::new(letter.file.clone()).body(pdf.to_vec(), pdf_type)
            }),
            pdf_len: pdf.len(),
            ics,
        }
    }
}

/// Composes messages from the workspace's (or the built-in) mail templates.
pub struct Mailer {
    text: Handlebars<'static>,
    html: Handlebars<'static>,
    /// Signs every message (`[mail.dkim]`).
    dkim: Option<lettre::message::dkim::DkimConfig>,
}

impl Mailer {
    /// Loads and compiles the templates; an error names the template and line.
    pub fn new(templates: Option<&Path>) -> Result<Self> {
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        handlebars::handlebars_helper!(wrap: |s: str, indent: u64| wrap_text(s, indent as usize));
        text.register_helper("wrap", Box::new(wrap));
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        for (name, builtin) in BUILTIN {
            let source =
                crate::fs::template(templates, &format!("mail/{name}.hbs"), builtin)?;
            let registry = if name.ends_with(".html") { &mut html } else { &mut text };
            registry.register_template_string(name, source).map_err(|e| {
                Error::Compose(format!("skabelonen templates/mail/{name}.hbs: {e}"))
            })?;
        }
        Ok(Self { text, html, dkim: None })
    }

    /// One recipient's message with the PDF and the calendar invitation attached.
    #[allow(
        clippy::too_many_arguments,
        reason = "each is a distinct part of the message"
    )]
    pub fn compose(
        &self,
        config: &MailConfig,
        letter: &Letter,
        to: &Mailbox,
        message_id: &str,
        date: Timestamp,
        parts: &Parts,
    ) -> Result<Message> {
        let contact = || {
            if letter.reply_to.is_empty() {
                "sekretariatet".to_owned()
            } else {
                letter.reply_to.clone()
            }
        };
        let too_large = if letter.size_refused {
            format!(
                "Dokumentet fylder {:.1} MB og var for stort til din mailserver, så det er ikke vedhæftet. Skriv til {} for at få det på anden vis.",
                parts.pdf_len as f64 / (1 << 20) as f64,
                contact()
            )
        } else if parts.pdf_len as u64 > config.max_attachment_bytes {
            let contact = contact();
            format!(
                "Dokumentet fylder {:.1} MB og er for stort til at sende med mail (grænsen er {} MB). Skriv til {contact} for at få det på anden vis.",
                parts.pdf_len as f64 / (1 << 20) as f64,
                config.max_attachment_bytes >> 20
            )
        } else {
            String::new()
        };
        let view = View {
            letter,
            recipient: to.name.as_deref().unwrap_or("medlem"),
            calendar: parts.ics.is_some(),
            too_large: too_large.clone(),
        };
        let render = |hb: &Handlebars, name: &str| {
            hb.render(name, &view).map_err(|e| {
                Error::Compose(format!("skabelonen templates/mail/{name}.hbs: {e}"))
            })
        };
        let text = render(&self.text, "agenda.txt")?;
        let html = render(&self.html, "agenda.html")?;
        let mut builder = Message::builder()
            .from(config.from.clone())
            .to(to.clone())
            .subject(letter.subject.clone())
            .message_id(Some(message_id.to_owned()))
            .date(std::time::SystemTime::from(date));
        if let Some(reply_to) = &config.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let mut body =
            MultiPart::mixed().multipart(MultiPart::alternative_plain_html(text, html));
        if let Some(pdf) = parts.pdf.as_ref().filter(|_| too_large.is_empty()) {
            body = body.singlepart(pdf.clone());
        }
        if let Some(ics) = &parts.ics {
            body = body.singlepart(ics.clone());
        }
        let message =
            builder.multipart(body).map_err(|e| Error::Compose(e.to_string()))?;
        Ok(self.signed(message))
    }

    /// Signs every message it composes from now on.
    pub fn with_dkim(mut self, dkim: Option<lettre::message::dkim::DkimConfig>) -> Self {
        self.dkim = dkim;
        self
    }

    fn signed(&self, mut message: Message) -> Message {
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        message
    }
}

/// A message to the secretariat about kkr's own work, its plain text from the template
/// `name` (`templates/mail/NAME.txt.hbs`) with `data`.
pub struct Notice<'a, T: Serialize> {
    /// Who gets it.
    pub to: Vec<Mailbox>,
    /// Subject line.
    pub subject: String,
    /// Our Message-ID.
    pub message_id: String,
    /// The Date header.
    pub date: Timestamp,
    /// The text template, without `.txt`.
    pub template: &'a str,
    /// What the template shows.
    pub data: &'a T,
    /// Files attached (name, PDF bytes), e.g. the draft agenda.
    pub attachments: Vec<(String, Vec<u8>)>,
}

impl Mailer {
    /// Renders a text template (`templates/mail/NAME.txt.hbs`) with `data`.
    pub fn text<T: Serialize>(&self, template: &str, data: &T) -> Result<String> {
        let name = format!("{template}.txt");
        self.text.render(&name, data).map_err(|e| {
            Error::Compose(format!("skabelonen templates/mail/{name}.hbs: {e}"))
        })
    }

    /// Composes a notice to the secretariat: plain text, its attachments, and
    /// `Auto-Submitted: auto-generated`.
    pub fn notice<T: Serialize>(&self, from: &Mailbox, n: &Notice<T>) -> Result<Message> {
        let body = self.text(n.template, n.data)?;
        let mut builder = Message::builder()
            .from(from.clone())
            .subject(n.subject.clone())
            .message_id(Some(n.message_id.clone()))
            .date(std::time::SystemTime::from(n.date))
            .header(AutoSubmitted);
        for to in &n.to {
            builder = builder.to(to.clone());
        }
        if n.attachments.is_empty() {
            let message =
                builder.body(body).map_err(|e| Error::Compose(e.to_string()))?;
            return Ok(self.signed(message));
        }
        let pdf_type = ContentType::parse("application/pdf").expect("valid content type");
        let mut parts = MultiPart::mixed().singlepart(
            lettre::message::SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body),
        );
        for (name, bytes) in &n.attachments {
            parts = parts.singlepart(
                Attachment::new(name.clone()).body(bytes.clone(), pdf_type.clone()),
            );
        }
        let message =
            builder.multipart(parts).map_err(|e| Error::Compose(e.to_string()))?;
        Ok(self.signed(message))
    }
}

/// The Message-ID of a document for a recipient (SPEC §6): the same on every attempt, so a
/// resend after a crash can be recognised by mail systems, and never the same for two
/// documents: `content` is the document's SHA-256, so a document with other bytes under the
/// same name (an empty agenda and the real one) gets other ids.
pub fn message_id(
    slug: &str,
    meeting: &str,
    file: &str,
    content: &str,
    recipient: &str,
    from: &Mailbox,
) -> String {
    let digest = hex(&Sha256::digest(format!(
        "{slug}/{meeting}/{file}/{content}/{}",
        recipient.to_lowercase()
    )));
    let stem = file.trim_end_matches(".pdf");
    format!("<{slug}.{meeting}.{stem}.{}@{}>", &digest[..20], from.email.domain())
}

/// What became of one message handed to a transport: the server's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Accepted (or written, in a dry run).
    Sent,
    /// Refused for now (a 4xx, a timeout, no connection): try again later.
    Defer(String),
    /// Refused for good (a 5xx): this recipient will not get it this way.
    Bounce(String),
    /// Refused because the message is too large (552, 5.3.4).
    TooLarge(String),
    /// The server refused the session (greeting, EHLO, STARTTLS, authentication, MAIL
    /// FROM): nothing about this recipient; every message waits and is tried again.
    Session(String),
}

/// Where messages go: one required primitive. A pass hands mail over on a thread of its own
/// while it publishes, so a transport can be sent there.
pub trait Transport: Send {
    /// Hands one message for one recipient to the transport. `key` names it uniquely. An
    /// error is a local failure (a file that could not be written), not the server's word.
    fn send(&mut self, key: &str, message: &Message) -> Result<Attempt>;
}

/// A dry run: each message becomes an `.eml` file, written atomically.
#[derive(Debug)]
pub struct DryRun {
    dir: PathBuf,
}

impl DryRun {
    /// Writes into `dir` (usually `outbox/mail/`).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

impl Transport for DryRun {
    fn send(&mut self, key: &str, message: &Message) -> Result<Attempt> {
        let name: String = key
            .chars()
            .map(|c| if c.is_alphanumeric() || "@.-_".contains(c) { c } else { '_' })
            .collect();
        crate::fs::write_atomic(
            &self.dir.join(format!("{name}.eml")),
            &message.formatted(),
        )?;
        Ok(Attempt::Sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_and_distinct() {
        let from: Mailbox = "KKR <kkr@example.org>".parse().unwrap();
        let id = |content: &str, to: &str| {
            message_id("kkr-h", "2027-01-28", "dagsorden.pdf", content, to, &from)
        };
        let a = id("ab12", "a@example.org");
        assert_eq!(a, id("ab12", "A@example.org"), "the same document, the same id");
        assert_ne!(a, id("ab12", "b@example.org"), "another recipient");
        assert_ne!(
            a,
            id("cd34", "a@example.org"),
            "another document under the same name"
        );
        assert!(
            a.starts_with("<kkr-h.2027-01-28.dagsorden.") && a.ends_with("@example.org>")
        );
    }

    #[test]
    fn composes_with_pdf_and_calendar() {
        let mailer = Mailer::new(None).unwrap();
        let config = MailConfig {
            from: "KKR <kkr@example.org>".parse().unwrap(),
            reply_to: None,
            smtp: None,
            max_attachment_bytes: 1 << 20,
            dkim: None,
        };
        let letter = Letter {
            subject: "KKR – dagsorden til mødet 28. januar 2027".into(),
            council: "KKR".into(),
            phrase: "dagsorden til mødet".into(),
            when: "torsdag den 28. januar 2027 kl. 9.00".into(),
            place: "Rådhuset".into(),
            note: String::new(),
            items: vec![MailItem {
                number: 1,
                title: "Godkendelse af <dagsorden>".into(),
                area: "Andet".into(),
                kind: "Beslutning".into(),
                closed: false,
                status: String::new(),
                recommendation: "Det indstilles, at <dagsordenen> godkendes.".into(),
                late_reason: String::new(),
                decision: None,
            }],
            day: "torsdag den 28. januar 2027".into(),
            time_range: "kl. 9.00–11.30".into(),
            absent: vec![],
            guests: vec![],
            file: "KKR Nordjylland dagsorden 2027-01-28.pdf".into(),
            calendar_file: "KKR Nordjylland møde 2027-01-28.ics".into(),
            reply_to: String::new(),
            size_refused: false,
        };
        let to: Mailbox = "Åse Ørum <aase@example.org>".parse().unwrap();
        let msg = mailer
            .compose(
                &config,
                &letter,
                &to,
                "<x@example.org>",
                Timestamp::UNIX_EPOCH,
                &Parts::new(&letter, b"%PDF-1.7", Some("BEGIN:VCALENDAR")),
            )
            .unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <x@example.org>"));
        assert!(raw.contains("application/pdf"));
        assert!(raw.contains("method=PUBLISH"));
        assert!(raw.contains("&lt;dagsorden&gt;"), "HTML is escaped");
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn a_pdf_over_the_limit_becomes_a_note() {
        let mailer = Mailer::new(None).unwrap();
        let config = MailConfig {
            from: "KKR <kkr@example.org>".parse().unwrap(),
            reply_to: Some("sek@example.org".parse().unwrap()),
            smtp: None,
            max_attachment_bytes: 1 << 20,
            dkim: None,
        };
        let letter = Letter {
            subject: "S".into(),
            council: "KKR".into(),
            phrase: "beslutningsreferat fra mødet".into(),
            when: "w".into(),
            place: "p".into(),
            note: String::new(),
            items: vec![],
            day: String::new(),
            time_range: String::new(),
            absent: vec![],
            guests: vec![],
            file: "referat.pdf".into(),
            calendar_file: String::new(),
            reply_to: "sek@example.org".into(),
            size_refused: false,
        };
        let to: Mailbox = "A <a@example.org>".parse().unwrap();
        let big = vec![b'x'; (1 << 20) + 1];
        let msg = mailer
            .compose(
                &config,
                &letter,
                &to,
                "<x@example.org>",
                Timestamp::UNIX_EPOCH,
                &Parts::new(&letter, &big, None),
            )
            .unwrap();
        let raw = String::from_utf8_lossy(&msg.formatted()).into_owned();
        assert!(!raw.contains("application/pdf"), "not attached");
        assert!(raw.contains("for stort til at sende med mail"), "{raw}");
        assert!(!raw.contains("kalenderinvitation"), "no calendar mentioned without one");
    }
}
