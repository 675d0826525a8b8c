//! Agenda items and attendance files: parsed from the inbox and checked, every problem located.

use std::path::Path;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use toml_edit::TableLike;

use crate::attachment::{self, Attachment, LoadedAttachment};
use crate::config::{Config, is_header_safe};
use crate::report::{Lines, Problem};
use crate::spanned::{At, TomlReader};

mod attendance;
mod mistakes;
pub use attendance::{Attendance, check_attendance};

/// Largest item file taken in.
pub const MAX_ITEM_BYTES: u64 = 1 << 20;
/// Longest title, in Unicode code points.
pub use crate::spanned::MAX_TITLE_CHARS;
/// Most items on one meeting.
pub const MAX_ITEMS_PER_MEETING: usize = 200;

/// The subject areas (sagsområder).
pub const AREAS: [&str; 7] = [
    "Sundhed",
    "Social",
    "Vækst og beskæftigelse",
    "Uddannelse",
    "Trafik og infrastruktur",
    "Klima og miljø",
    "Andet",
];

/// What the council is asked to do with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A decision.
    Beslutning,
    /// A discussion.
    Drøftelse,
    /// For information.
    Orientering,
}

impl Kind {
    /// The display word: `Beslutning`, `Drøftelse`, `Orientering`.
    pub fn display(self) -> &'static str {
        match self {
            Self::Beslutning => "Beslutning",
            Self::Drøftelse => "Drøftelse",
            Self::Orientering => "Orientering",
        }
    }
}

/// An accepted agenda item, as stored in the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id; a file with the same id replaces the item.
    pub id: String,
    /// The meeting's date.
    pub meeting: Date,
    /// The title members see.
    pub title: String,
    /// Subject area, one of [`AREAS`].
    pub area: String,
    /// Decision, discussion or information.
    pub kind: Kind,
    /// Explicit position on the agenda.
    pub order: Option<i64>,
    /// KL case number.
    pub case: Option<String>,
    /// The recommendation (indstilling).
    pub recommendation: String,
    /// Attachments, by content hash.
    pub attachments: Vec<Attachment>,
    /// A closed item (lukket punkt).
    pub closed: bool,
    /// The only title the public sees of a closed item.
    pub public_title: String,
    /// Why the item comes after the agenda was sent.
    pub late_reason: String,
    /// The item is withdrawn from a sent agenda.
    pub withdrawn: bool,
    /// The decision, once taken.
    pub decision: Option<Decision>,
    /// The case presentation (CommonMark).
    pub body: String,
}

/// An item's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The decision as members read it.
    pub text: String,
    /// The decision as the public reads it (required for closed items).
    pub public_text: String,
}

/// Where a meeting stands, which decides what an item may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The agenda has not been sent: changes update the draft.
    Draft,
    /// The agenda is sent and the meeting has not started.
    Sent,
    /// The meeting has started.
    Started,
}

/// Whether the PDF's fonts can show a character (given by the render layer, not imported).
pub type Printable = dyn Fn(char) -> bool;

/// What the checker needs to know beyond the file itself.
pub trait Context {
    /// The workspace configuration.
    fn config(&self) -> &Config;
    /// The accepted version of an item, if any.
    fn previous(&self, id: &str) -> Option<Item>;
    /// Where the meeting stands now.
    fn phase(&self, meeting: Date) -> Phase;
}

/// A checked item with its attachments' bytes.
#[derive(Debug, Clone)]
pub struct CheckedItem {
    /// The item.
    pub item: Item,
    /// Attachments to store.
    pub attachments: Vec<LoadedAttachment>,
}

/// Splits `+++`-delimited front matter from the body: (front matter, its byte offset, body).
fn split_front_matter(text: &str) -> Result<(&str, usize, &str), Problem> {
    let hint = "filen skal begynde med en linje +++, så felterne (title = \"…\" osv.), så en linje +++ og derefter teksten";
    let first_end = text.find('\n').unwrap_or(text.len());
    if text[..first_end].trim_end() != "+++" {
        return Err(Problem::file("filen begynder ikke med +++").hint(hint));
    }
    let start = (first_end + 1).min(text.len());
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let body = &text[offset + line.len()..];
            return Ok((&text[start..offset], start, body));
        }
        offset += line.len();
    }
    Err(Problem::file("den afsluttende +++-linje mangler").hint(hint))
}

/// Checks that the bytes are text and returns them as a string.
pub fn as_text(bytes: &[u8]) -> Result<&str, Problem> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.is_empty() {
        return Err(Problem::file("filen er tom").hint("gem filen igen med indhold"));
    }
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return Err(Problem::file(
            "filen er gemt som UTF-16 (\"Unicode\"), ikke som UTF-8",
        )
        .hint("gem filen som UTF-8 (i Notesblok: Gem som → Kodning: UTF-8)"));
    }
    if bytes.contains(&0) {
        return Err(Problem::file(
            "filen er ikke en tekstfil (den indeholder binære data)",
        )
        .hint("læg kun .md-tekstfiler i indbakken; bilag skal nævnes i attachments"));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or("");
        Problem::at(
            Lines::new(valid).pos(valid, valid.len()),
            "filen er ikke gemt som UTF-8",
        )
        .hint("gem filen som UTF-8 (i Notesblok: Gem som → Kodning: UTF-8)")
    })
}

/// The known fields of an item's front matter.
const ITEM_KEYS: [&str; 14] = [
    "id",
    "meeting",
    "title",
    "area",
    "kind",
    "order",
    "case",
    "recommendation",
    "attachments",
    "closed",
    "public_title",
    "late_reason",
    "withdrawn",
    "decision",
];

/// Parses and checks an item file. `dir` is the folder the file was dropped in (attachments
/// are relative to it), `root` the workspace, which attachments may not leave.
pub fn check(
    bytes: &[u8],
    dir: &Path,
    root: &Path,
    ctx: &dyn Context,
    printable: &Printable,
) -> Result<CheckedItem, Vec<Problem>> {
    let text = as_text(bytes).map_err(|p| vec![p])?;
    let (front, base, body) = split_front_matter(text).map_err(|p| vec![p])?;
    let mut r = TomlReader::new(text, base);
    let Some(doc) = r.parse(front) else { return Err(r.problems) };
    let t = doc.as_table();
    if let Some(problem) = mistakes::decision_above_fields(&r, t) {
        return Err(vec![problem]);
    }
    r.unknown_keys(t, &ITEM_KEYS, "");

    let id = read_id(&mut r, t);
    let meeting = read_meeting(&mut r, t, ctx.config());
    let title = r.string(t, "title", true);
    check_title(&mut r, title.as_ref(), "title");
    let area = read_area(&mut r, t);
    let kind = read_kind(&mut r, t);
    let order = r.integer(t, "order", false).and_then(|o| {
        if (1..=999).contains(&o.value) {
            Some(o.value)
        } else {
            r.problem(o.span, "order skal være et tal fra 1 til 999", "fx order = 3");
            None
        }
    });
    let case = read_case(&mut r, t);
    let recommendation = r.string(t, "recommendation", false);
    let closed = r.boolean(t, "closed").is_some_and(|b| b.value);
    let public_title = r.string(t, "public_title", false);
    check_public_title(&mut r, public_title.as_ref(), closed);
    let late_reason = r.string(t, "late_reason", false);
    for field in [&title, &recommendation, &public_title, &case, &late_reason] {
        check_chars(&mut r, field.as_ref(), printable);
    }
    check_body(&mut r, text, body, printable);
    let withdrawn = r.boolean(t, "withdrawn").is_some_and(|b| b.value);
    let decision = read_decision(&mut r, t, closed, printable);
    let mut refs = attachment::read_refs(&mut r, t);
    mistakes::windows_paths(&mut r, &mut refs);

    // Rules that depend on the meeting's phase and the accepted version.
    let previous = id.as_ref().and_then(|id| ctx.previous(&id.value));
    if let (Some(id), Some(prev)) = (&id, &previous)
        && let Some(m) = &meeting
        && prev.meeting != m.value
    {
        r.problem(m.span.clone(), format!("punktet {} hører allerede til mødet {}", id.value, prev.meeting), "et punkt kan ikke flyttes til et andet møde; træk det tilbage og opret et nyt id");
    }
    if previous.is_none()
        && let Some(m) = &meeting
        && ctx.config().meeting(m.value).is_some()
    {
        let phase = ctx.phase(m.value);
        check_phase(&mut r, phase, withdrawn, late_reason.as_ref(), decision.is_some());
    }

    let earlier = previous.as_ref().map_or(&[][..], |p| &p.attachments);
    let attachments = attachment::load_all(&mut r, &refs, dir, root, earlier);

    let (Some(id), Some(meeting), Some(title), Some(area), Some(kind)) =
        (id, meeting, title, area, kind)
    else {
        return Err(r.problems);
    };
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    let item = Item {
        id: id.value,
        meeting: meeting.value,
        title: title.value.trim().to_owned(),
        area: area.value,
        kind,
        order,
        case: case.map(|c| c.value.trim().to_owned()),
        recommendation: recommendation
            .map(|r| r.value.trim().to_owned())
            .unwrap_or_default(),
        attachments: attachments.iter().map(|a| a.meta.clone()).collect(),
        closed,
        public_title: public_title.map(|p| p.value.trim().to_owned()).unwrap_or_default(),
        late_reason: late_reason.map(|l| l.value.trim().to_owned()).unwrap_or_default(),
        withdrawn,
        decision,
        body: body.to_owned(),
    };
    Ok(CheckedItem { item, attachments })
}

/// Reads the item's id: letters, digits, `-`, `_` and `.`, at most 100 of them.
fn read_id(r: &mut TomlReader, t: &dyn TableLike) -> Option<At<String>> {
    let id = r.string(t, "id", true);
    if let Some(id) = &id {
        let ok = !id.value.is_empty()
            && id.value.chars().count() <= 100
            && id
                .value
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            r.problem(id.span.clone(), format!("id \"{}\" er ugyldigt", id.value), "brug bogstaver, tal og bindestreg, fx \"2026-03-12-praktikpladser\" (højst 100 tegn)");
        }
    }
    id
}

/// Reads the meeting's date, which must be a meeting in `council.toml` (items, attendance
/// and approval files).
pub(crate) fn read_meeting(
    r: &mut TomlReader,
    t: &dyn TableLike,
    config: &Config,
) -> Option<At<Date>> {
    let meeting = r.date(t, "meeting", true);
    let moved = meeting.as_ref().and_then(|m| {
        config.meetings.iter().find(|c| c.moved_to == Some(m.value) && c.date != m.value)
    });
    if let (Some(m), Some(moved)) = (&meeting, moved) {
        r.problem(
            m.span.clone(),
            format!(
                "mødet den {} er mødet {}, som er flyttet dertil",
                m.value, moved.date
            ),
            format!(
                "et møde beholder sin første dato: skriv meeting = \"{}\"",
                moved.date
            ),
        );
        return None;
    }
    if let Some(m) = &meeting
        && config.meeting(m.value).is_some_and(|c| c.cancelled)
    {
        r.problem(
            m.span.clone(),
            format!("mødet {} er aflyst (cancelled = true i council.toml); der sendes ikke mere om det", m.value),
            "læg punktet på et andet møde, eller slet cancelled i council.toml, hvis mødet alligevel holdes",
        );
    }
    if let Some(m) = &meeting
        && config.meeting(m.value).is_none()
    {
        let known = config
            .meetings
            .iter()
            .map(|m| m.date.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        r.problem(
            m.span.clone(),
            format!("der er intet møde den {} i council.toml", m.value),
            format!("brug en af mødedatoerne: {known}"),
        );
    }
    meeting
}

/// Reads the subject area, one of [`AREAS`].
fn read_area(r: &mut TomlReader, t: &dyn TableLike) -> Option<At<String>> {
    let area = r.string(t, "area", true);
    if let Some(a) = &area
        && !AREAS.contains(&a.value.as_str())
    {
        r.problem(
            a.span.clone(),
            format!("ukendt sagsområde \"{}\"", a.value),
            format!("brug et af: {}", AREAS.join(", ")),
        );
    }
    area
}

/// Reads what the council is asked to do: `beslutning`, `drøftelse` or `orientering`.
fn read_kind(r: &mut TomlReader, t: &dyn TableLike) -> Option<Kind> {
    r.string(t, "kind", true).and_then(|k| match k.value.as_str() {
        "beslutning" => Some(Kind::Beslutning),
        "drøftelse" => Some(Kind::Drøftelse),
        "orientering" => Some(Kind::Orientering),
        other => {
            r.problem(
                k.span,
                format!("ukendt type \"{other}\""),
                "brug beslutning, drøftelse eller orientering",
            );
            None
        }
    })
}

/// Reads the case number, which goes into mail headers: one short line, if any.
fn read_case(r: &mut TomlReader, t: &dyn TableLike) -> Option<At<String>> {
    let case = r.string(t, "case", false).filter(|c| !c.value.trim().is_empty());
    if let Some(c) = &case
        && (c.value.chars().count() > 40 || !is_header_safe(&c.value))
    {
        r.problem(
            c.span.clone(),
            "sagsnummeret er for langt eller indeholder linjeskift",
            "skriv fx \"26/01234\"",
        );
    }
    case
}

/// Reports a closed item without a public title; a given one is checked as a title.
fn check_public_title(r: &mut TomlReader, title: Option<&At<String>>, closed: bool) {
    match title {
        _ if !closed => {}
        Some(p) if !p.value.trim().is_empty() => check_title(r, title, "public_title"),
        other => r.problem(
            other.and_then(|p| p.span.clone()),
            "et lukket punkt (closed = true) skal have en offentlig titel",
            "tilføj public_title = \"…\": den eneste titel offentligheden ser",
        ),
    }
}

/// Reports the body's first character the PDF cannot show, at its place in the file `text`.
fn check_body(r: &mut TomlReader, text: &str, body: &str, printable: &Printable) {
    if let Some((offset, c)) = unprintable(body, printable) {
        let (message, hint) = unprintable_message(c);
        let pos = Lines::new(text).pos(text, text.len() - body.len() + offset);
        r.problems.push(Problem::at(pos, message).hint(hint));
    }
    if let Some((offset, message, hint)) = crate::markdown::out_of_bounds(body) {
        let pos = Lines::new(text).pos(text, text.len() - body.len() + offset);
        r.problems.push(Problem::at(pos, message).hint(hint));
    }
}

/// The meeting `phase`'s rules for a new item (one the ledger does not know): it cannot be
/// withdrawn, comes after the agenda is sent only with a reason, and after the start only
/// with its decision.
fn check_phase(
    r: &mut TomlReader,
    phase: Phase,
    withdrawn: bool,
    late_reason: Option<&At<String>>,
    decided: bool,
) {
    let unexplained = late_reason.is_none_or(|l| l.value.trim().is_empty());
    match phase {
        Phase::Draft | Phase::Sent if withdrawn => r.problem(
            None,
            "punktet kan ikke trækkes tilbage: det findes ikke",
            "tjek id'et; withdrawn = true bruges kun med id'et på et modtaget punkt",
        ),
        Phase::Sent if unexplained => r.problem(
            late_reason.and_then(|l| l.span.clone()),
            "dagsordenen er allerede sendt, så et nyt punkt skal have en begrundelse",
            "tilføj late_reason = \"…\" (kommer på den supplerende dagsorden)",
        ),
        Phase::Started if !decided => r.problem(
            None,
            "mødet er begyndt: et nyt punkt uden beslutning kommer for sent",
            "et punkt taget op på mødet skal have en [decision]-sektion",
        ),
        _ => {}
    }
}

/// Most combining marks allowed on one character; long stacks ("Zalgo text") are a known
/// way to make text layout and PDF export run away.
pub const MAX_COMBINING: usize = 8;

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// The first problem character with its byte offset: one the PDF fonts cannot show, or the
/// mark that makes a stack of combining marks too tall.
fn unprintable(text: &str, printable: &Printable) -> Option<(usize, char)> {
    let mut run = 0;
    for (i, c) in text.char_indices() {
        run = if is_combining(c) { run + 1 } else { 0 };
        if run > MAX_COMBINING || (!c.is_control() && !printable(c)) {
            return Some((i, c));
        }
    }
    None
}

fn unprintable_message(c: char) -> (String, String) {
    if is_combining(c) {
        return (
            format!("for mange kombinerende tegn (accenter) på ét bogstav (over {MAX_COMBINING})"),
            "skriv teksten med almindelige bogstaver; sådan tekst kan ikke sættes op i PDF'en".into(),
        );
    }
    (
        format!("tegnet \"{c}\" (U+{:04X}) kan ikke vises i PDF'en", c as u32),
        "fjern det (fx emoji) eller skriv det med ord; skrifttyperne dækker latinske, græske og kyrilliske bogstaver og almindelige tegn".into(),
    )
}

/// Reports a field's first character the fonts cannot show.
fn check_chars(r: &mut TomlReader, value: Option<&At<String>>, printable: &Printable) {
    if let Some(v) = value
        && let Some((_, c)) = unprintable(&v.value, printable)
    {
        let (message, hint) = unprintable_message(c);
        r.problem(v.span.clone(), message, hint);
    }
}

/// Reports a title that is empty, too long or not on one line (`key` names the field).
fn check_title(r: &mut TomlReader, title: Option<&At<String>>, key: &str) {
    let Some(title) = title else { return };
    let n = title.value.chars().count();
    if title.value.trim().is_empty() {
        r.problem(title.span.clone(), format!("`{key}` er tom"), "skriv punktets titel");
    } else if n > MAX_TITLE_CHARS {
        r.problem(
            title.span.clone(),
            format!("`{key}` er {n} tegn lang; grænsen er {MAX_TITLE_CHARS}"),
            "forkort titlen og flyt detaljer til sagsfremstillingen",
        );
    } else if !is_header_safe(&title.value) {
        r.problem(
            title.span.clone(),
            format!("`{key}` indeholder linjeskift eller kontroltegn"),
            "skriv titlen på én linje",
        );
    }
}

fn read_decision(
    r: &mut TomlReader,
    t: &dyn TableLike,
    closed: bool,
    printable: &Printable,
) -> Option<Decision> {
    let d = r.table(t, "decision")?;
    r.unknown_keys(d, &["text", "public_text"], " i [decision]");
    let text = r.string(d, "text", true);
    if let Some(text) = &text
        && text.value.trim().is_empty()
    {
        r.problem(
            text.span.clone(),
            "beslutningen er tom",
            "skriv beslutningen i text = \"…\"",
        );
    }
    let public_text = r.string(d, "public_text", false);
    check_chars(r, text.as_ref(), printable);
    check_chars(r, public_text.as_ref(), printable);
    if closed && public_text.as_ref().is_none_or(|p| p.value.trim().is_empty()) {
        r.problem(
            public_text.as_ref().and_then(|p| p.span.clone()).or(text.as_ref().and_then(|t| t.span.clone())),
            "et lukket punkts beslutning skal have en offentlig udgave",
            "tilføj public_text = \"…\" i [decision]: det eneste offentligheden ser af beslutningen",
        );
    }
    Some(Decision {
        text: text?.value.trim().to_owned(),
        public_text: public_text.map(|p| p.value.trim().to_owned()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod fuzz {
    //! A bounded property test: whatever the bytes, checking an item never panics.

    use super::*;
    use crate::config::Config;

    struct Ctx(Config);

    impl Context for Ctx {
        fn config(&self) -> &Config {
            &self.0
        }
        fn previous(&self, _: &str) -> Option<Item> {
            None
        }
        fn phase(&self, _: Date) -> Phase {
            Phase::Draft
        }
    }

    /// A stand-in for the fonts' coverage (which only the render layer knows): Latin, Greek,
    /// Cyrillic and general punctuation show, anything else (emoji) does not.
    fn printable(c: char) -> bool {
        c.is_whitespace() || c < '\u{0530}' || ('\u{2000}'..='\u{206f}').contains(&c)
    }

    /// xorshift64*: deterministic, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    const SEED_ITEM: &str = "+++\nid = \"a\"\nmeeting = \"2027-01-28\"\ntitle = \"Titel\"\narea = \"Andet\"\nkind = \"beslutning\"\norder = 3\ncase = \"26/1\"\nattachments = [\"bilag/x.pdf\"]\nclosed = true\npublic_title = \"P\"\n[decision]\ntext = \"T\"\npublic_text = \"P\"\n+++\n## Baggrund\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- *x* **y** [l](http://x)\n";
    const TOKENS: [&str; 16] = [
        "+++",
        "\n",
        "\"",
        "'",
        "[decision]",
        "=",
        "[[x]]",
        "\0",
        "\u{301}",
        "🎉",
        "\r\n",
        "#",
        "$",
        "{{x}}",
        "\\",
        "\u{feff}",
    ];

    #[test]
    fn checking_mutated_items_never_panics() {
        let config = Config::parse(
            "[council]\nname = \"K\"\nslug = \"k\"\n[[meeting]]\ndate = \"2027-01-28\"\nstarts = \"09:00\"\nends = \"10:00\"\nplace = \"R\"\n[mail]\nfrom = \"a@example.org\"\n",
        )
        .unwrap();
        let ctx = Ctx(config);
        let dir = tempfile::tempdir().unwrap();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut bytes = SEED_ITEM.as_bytes().to_vec();
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(4) {
                    0 if !bytes.is_empty() => {
                        let i = rng.below(bytes.len());
                        bytes[i] = rng.next() as u8;
                    }
                    1 => bytes.truncate(at),
                    2 => {
                        let t = TOKENS[rng.below(TOKENS.len())];
                        bytes.splice(at..at, t.bytes());
                    }
                    _ => {
                        let end = (at + rng.below(20)).min(bytes.len());
                        bytes.drain(at..end);
                    }
                }
            }
            let result = check(&bytes, dir.path(), dir.path(), &ctx, &printable);
            if let Ok(c) = &result {
                accepted += 1;
                let _ = crate::markdown::to_blocks(&c.item.body);
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let _ = crate::markdown::to_blocks(text);
            }
        }
        // The attachment never exists here, so nearly every case is a rejection; the point is
        // that none of them panics.
        assert!(accepted < 20_000);
    }
}
