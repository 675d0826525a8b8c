//! The workspace's `members.csv`: who receives the documents, read and validated with every
//! problem located.

use std::path::Path;
use std::str::FromStr;

use lettre::Address;
use lettre::message::Mailbox;

use crate::config::{PLACEHOLDER, PLACEHOLDER_DOMAIN, is_header_safe};
use crate::report::Problem;

/// A roster row's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Role {
    /// Chair.
    #[serde(rename = "formand")]
    Formand,
    /// Vice-chair.
    #[serde(rename = "næstformand")]
    Naestformand,
    /// Member.
    #[serde(rename = "medlem")]
    Medlem,
    /// Observer without a vote.
    #[serde(rename = "observatør")]
    Observator,
    /// The KL secretariat.
    #[serde(rename = "sekretariat")]
    Sekretariat,
}

impl Role {
    /// Parses the roster's Danish word.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "formand" => Self::Formand,
            "næstformand" => Self::Naestformand,
            "medlem" => Self::Medlem,
            "observatør" => Self::Observator,
            "sekretariat" => Self::Sekretariat,
            _ => return None,
        })
    }
}

/// One row of `members.csv`: every row receives every document.
#[derive(Debug, Clone)]
pub struct Member {
    /// Full name.
    pub name: String,
    /// Validated address.
    pub email: Address,
    /// Role in the council.
    pub role: Role,
    /// Party (may be empty).
    pub party: String,
    /// Municipality (may be empty).
    pub municipality: String,
    /// Whether the member votes.
    pub vote: bool,
}

impl Member {
    /// The member as a mail recipient.
    pub fn mailbox(&self) -> Mailbox {
        Mailbox::new(Some(self.name.clone()), self.email.clone())
    }
}

/// The columns of `members.csv`, by name; the constants below are their positions here.
const COLUMNS: [&str; 6] = ["name", "email", "role", "party", "municipality", "vote"];
/// Position of `name` in [`COLUMNS`].
const NAME: usize = 0;
/// Position of `email` in [`COLUMNS`].
const EMAIL: usize = 1;
/// Position of `role` in [`COLUMNS`].
const ROLE: usize = 2;
/// Position of `party` in [`COLUMNS`].
const PARTY: usize = 3;
/// Position of `municipality` in [`COLUMNS`].
const MUNICIPALITY: usize = 4;
/// Position of `vote` in [`COLUMNS`].
const VOTE: usize = 5;

/// For each of [`COLUMNS`], its field number in the file.
type ColumnIndex = [usize; COLUMNS.len()];

/// Reads `members.csv` (UTF-8, an Excel BOM allowed); every problem is reported with its line.
pub fn parse_roster(bytes: &[u8]) -> Result<Vec<Member>, Vec<Problem>> {
    let (members, problems) = read_rows(bytes)?;
    if problems.is_empty() { Ok(members) } else { Err(problems) }
}

/// The valid `sekretariat` rows of a roster that may be invalid elsewhere: who is told that
/// `members.csv` is invalid (SPEC §7). Empty when the file cannot be read at all.
pub fn valid_secretariat(path: &Path) -> Vec<Member> {
    let Ok(Some(bytes)) = crate::fs::read_bounded(path, 4 << 20) else {
        return Vec::new();
    };
    let Ok((members, _)) = read_rows(&bytes) else { return Vec::new() };
    members.into_iter().filter(|m| m.role == Role::Sekretariat).collect()
}

/// The valid rows and the problems of the others; an unreadable file or header is an error.
fn read_rows(bytes: &[u8]) -> Result<(Vec<Member>, Vec<Problem>), Vec<Problem>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    check_utf8(bytes)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter(bytes))
        .from_reader(bytes);
    let index = read_header(&mut rdr)?;
    let columns = rdr.headers().map_or(0, csv::StringRecord::len);
    let mut problems = Vec::new();
    let mut members: Vec<Member> = Vec::new();
    for record in rdr.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                problems.push(
                    Problem::at((line, 1), format!("ulæselig linje: {e}"))
                        .hint("tjek anførselstegn og kommaer"),
                );
                continue;
            }
        };
        let row = Row::new(&record, &index);
        // A comma inside a field (`Hansen, Jens`) shifts every field after it: one problem
        // with the cause, not one for each field it moved.
        let filled = record
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.trim().is_empty())
            .last()
            .map_or(0, |(i, _)| i + 1);
        if filled > columns {
            problems.push(
                Problem::at((row.line, 1), format!("rækken har {filled} kolonner, overskriften {columns}"))
                    .hint("står der et komma i et felt, fx i et navn eller en kommune? Sæt feltet i anførselstegn: \"Hansen, Jens\""),
            );
            continue;
        }
        if let Some(member) = read_member(&row, &members, &mut problems) {
            members.push(member);
        }
    }
    let mut problems = unfilled_runs(problems);
    if members.is_empty() && problems.is_empty() {
        problems.push(
            Problem::file("medlemslisten er tom")
                .hint("tilføj én linje pr. medlem under overskriftslinjen"),
        );
    }
    Ok((members, problems))
}

/// Consecutive rows that are not filled in yet (the placeholders `kkr init` writes) as one
/// problem: `rækkerne 4–38 er ikke udfyldt endnu (35 rækker)`.
fn unfilled_runs(problems: Vec<Problem>) -> Vec<Problem> {
    const UNFILLED: &str = "rækken er ikke udfyldt endnu";
    let mut out: Vec<(Problem, usize)> = Vec::new();
    for p in problems {
        match out.last_mut() {
            Some((first, last))
                if p.message == UNFILLED
                    && first.message.starts_with("række")
                    && first.message.contains("ikke udfyldt")
                    && p.line == *last + 1 =>
            {
                *last = p.line;
                first.message = format!(
                    "rækkerne {}–{} er ikke udfyldt endnu ({} rækker)",
                    first.line,
                    p.line,
                    p.line - first.line + 1
                );
            }
            _ => {
                let line = p.line;
                out.push((p, line));
            }
        }
    }
    out.into_iter().map(|(p, _)| p).collect()
}

/// Refuses bytes that are not UTF-8, with the position of the first bad byte.
fn check_utf8(bytes: &[u8]) -> Result<(), Vec<Problem>> {
    let Err(e) = std::str::from_utf8(bytes) else { return Ok(()) };
    let text = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned();
    let pos = crate::report::Lines::new(&text).pos(&text, text.len());
    Err(vec![
        Problem::at(pos, "filen er ikke UTF-8")
            .hint("gem filen som \"CSV UTF-8\" i Excel"),
    ])
}

/// The field separator: `;` if the header line has semicolons and no commas, else `,`.
fn delimiter(bytes: &[u8]) -> u8 {
    // Excel with Danish settings saves "CSV" with semicolons: a header line with
    // semicolons and no commas is read that way.
    let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    if header.contains(&b';') && !header.contains(&b',') { b';' } else { b',' }
}

/// Finds every one of [`COLUMNS`] in the header line; unknown and missing columns are
/// all reported.
fn read_header(rdr: &mut csv::Reader<&[u8]>) -> Result<ColumnIndex, Vec<Problem>> {
    let headers = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_lowercase()).collect::<Vec<_>>(),
        Err(e) => {
            return Err(vec![Problem::file(format!(
                "kan ikke læse overskriftslinjen: {e}"
            ))]);
        }
    };
    let mut problems = Vec::new();
    let mut index = [usize::MAX; COLUMNS.len()];
    for (i, h) in headers.iter().enumerate() {
        match COLUMNS.iter().position(|c| c == h) {
            Some(c) => index[c] = i,
            None => problems.push(
                Problem::at((1, 1), format!("ukendt kolonne \"{h}\""))
                    .hint(format!("kolonnerne er: {}", COLUMNS.join(","))),
            ),
        }
    }
    for (c, i) in COLUMNS.iter().zip(index) {
        if i == usize::MAX {
            problems.push(
                Problem::at((1, 1), format!("kolonnen \"{c}\" mangler"))
                    .hint(format!("første linje skal være: {}", COLUMNS.join(","))),
            );
        }
    }
    if problems.is_empty() { Ok(index) } else { Err(problems) }
}

/// One data line of `members.csv`, with its line number and where each column is.
struct Row<'a> {
    /// The line's fields.
    record: &'a csv::StringRecord,
    /// Where each of [`COLUMNS`] is among the fields.
    index: &'a ColumnIndex,
    /// The line number, for problems.
    line: usize,
}

impl<'a> Row<'a> {
    /// The line `record`, whose columns are where `index` says.
    fn new(record: &'a csv::StringRecord, index: &'a ColumnIndex) -> Self {
        let line = record.position().map_or(0, |p| p.line() as usize);
        Self { record, index, line }
    }

    /// Whether every field is blank, as on the empty lines a spreadsheet leaves.
    fn is_blank(&self) -> bool {
        self.record.iter().all(|f| f.trim().is_empty())
    }

    /// Column `c`'s text, trimmed; empty if the line is too short.
    fn field(&self, c: usize) -> String {
        self.record.get(self.index[c]).unwrap_or("").trim().to_owned()
    }

    /// The character column where column `c` begins, counted from 1.
    fn col(&self, c: usize) -> usize {
        1 + (0..self.index[c])
            .map(|i| self.record.get(i).map_or(0, |f| f.chars().count() + 1))
            .sum::<usize>()
    }

    /// A problem located at column `c` of this line.
    fn problem(&self, c: usize, message: impl Into<String>, hint: &str) -> Problem {
        Problem::at((self.line, self.col(c)), message).hint(hint)
    }
}

/// Reads one line as a member, adding its problems to `problems`; `members` are the rows
/// read before it, whose addresses it must not repeat.
fn read_member(
    row: &Row,
    members: &[Member],
    problems: &mut Vec<Problem>,
) -> Option<Member> {
    if row.is_blank() {
        return None;
    }
    let name = row.field(NAME);
    if name == PLACEHOLDER
        || row.field(EMAIL).ends_with(&format!("@{PLACEHOLDER_DOMAIN}"))
    {
        problems.push(row.problem(
            NAME,
            "rækken er ikke udfyldt endnu",
            "skriv medlemmets navn, mailadresse, parti og kommune",
        ));
        return None;
    }
    if name.is_empty() || !is_header_safe(&name) {
        problems.push(row.problem(
            NAME,
            "navnet er tomt eller indeholder linjeskift/kontroltegn",
            "skriv navnet på én linje",
        ));
    }
    let email = read_email(row, members, problems);
    let role = read_role(row, problems);
    let vote = read_vote(row, problems);
    let party = row.field(PARTY);
    let municipality = row.field(MUNICIPALITY);
    for (c, v) in [(PARTY, &party), (MUNICIPALITY, &municipality)] {
        if !is_header_safe(v) {
            problems.push(row.problem(
                c,
                "feltet indeholder linjeskift eller kontroltegn",
                "skriv feltet på én linje",
            ));
        }
    }
    Some(Member { name, email: email?, role: role?, party, municipality, vote: vote? })
}

/// The line's address, if valid; an address already in `members` is reported but still
/// returned.
fn read_email(
    row: &Row,
    members: &[Member],
    problems: &mut Vec<Problem>,
) -> Option<Address> {
    let text = row.field(EMAIL);
    let email = if !is_header_safe(&text) {
        problems.push(row.problem(
            EMAIL,
            "mailadressen indeholder linjeskift eller kontroltegn",
            "skriv kun adressen, fx navn@example.org",
        ));
        None
    } else {
        match Address::from_str(&text) {
            Ok(a) => match sendable(&a) {
                Ok(()) => Some(a),
                Err(why) => {
                    problems.push(row.problem(
                        EMAIL,
                        format!("\"{text}\" kan mailserveren ikke sende til: {why}"),
                        "skriv adressen som navn@domæne.dk med almindelige bogstaver",
                    ));
                    None
                }
            },
            Err(_) => {
                problems.push(row.problem(
                    EMAIL,
                    format!("\"{text}\" er ikke en gyldig mailadresse"),
                    "skriv adressen som navn@domæne.dk",
                ));
                None
            }
        }
    };
    if let Some(a) = &email
        && let Some(first) = members.iter().find(|m| {
            AsRef::<str>::as_ref(&m.email).eq_ignore_ascii_case(AsRef::<str>::as_ref(a))
        })
    {
        problems.push(row.problem(
            EMAIL,
            format!("mailadressen {a} står også ved {}", first.name),
            "hver adresse må kun stå én gang, ellers får personen alt to gange",
        ));
    }
    email
}

/// Whether an address that parses can be sent to as kkr sends (SPEC §6 "Roster errors"): as
/// the mail library builds the message and the SMTP envelope, read back from the ledger's
/// text. Refused: non-ASCII (the server may not offer SMTPUTF8), domain literals
/// (`a@[127.0.0.1]`) and quoted local parts (`"c d"@…`), which relays refuse or mangle.
fn sendable(a: &Address) -> Result<(), &'static str> {
    let text: &str = a.as_ref();
    if !text.is_ascii() {
        return Err(
            "den indeholder æ, ø, å eller andre tegn, som ikke alle mailservere tager imod",
        );
    }
    if a.domain().starts_with('[') {
        return Err("domænet er en IP-adresse i [ ]");
    }
    if a.user().starts_with('"') || a.user().contains(' ') {
        return Err("navnet før @ står i anførselstegn eller har mellemrum");
    }
    let reread: Address = text.parse().map_err(|_| "den kan ikke læses igen")?;
    let mailbox = Mailbox::new(Some("Prøve".into()), reread);
    lettre::Message::builder()
        .from(mailbox.clone())
        .to(mailbox)
        .body(String::new())
        .map(|_| ())
        .map_err(|_| "mailen kan ikke dannes")
}

/// The line's role, if it is one of the Danish words [`Role::parse`] knows.
fn read_role(row: &Row, problems: &mut Vec<Problem>) -> Option<Role> {
    let text = row.field(ROLE).to_lowercase();
    let role = Role::parse(&text);
    if role.is_none() {
        problems.push(row.problem(
            ROLE,
            format!("ukendt rolle \"{text}\""),
            "brug formand, næstformand, medlem, observatør eller sekretariat",
        ));
    }
    role
}

/// Whether the line's member votes (`ja` or `nej`, any case).
fn read_vote(row: &Row, problems: &mut Vec<Problem>) -> Option<bool> {
    match row.field(VOTE).to_lowercase().as_str() {
        "ja" => Some(true),
        "nej" => Some(false),
        other => {
            problems.push(row.problem(
                VOTE,
                format!("vote skal være ja eller nej, ikke \"{other}\""),
                "skriv ja eller nej",
            ));
            None
        }
    }
}

/// Loads `members.csv` from a workspace; the error is the problems found.
pub fn load_roster(path: &Path) -> Result<Vec<Member>, Vec<Problem>> {
    match crate::fs::read_bounded(path, 4 << 20) {
        Ok(Some(bytes)) => parse_roster(&bytes),
        Ok(None) => Err(vec![Problem::file("filen er større end 4 MiB")]),
        Err(_) => Err(vec![
            Problem::file("filen findes ikke eller kan ikke læses")
                .hint("læg members.csv i arbejdsmappen"),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_handles_bom_quotes_and_danish() {
        let csv = "\u{feff}name,email,role,party,municipality,vote\n\"Søren Ærø, jr.\",soeren@example.org,formand,Venstre,Tårnby,ja\nÅse Øster,aase@example.org,observatør,,,nej\n";
        let m = parse_roster(csv.as_bytes()).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name, "Søren Ærø, jr.");
        assert_eq!(m[1].role, Role::Observator);
    }

    #[test]
    fn roster_saved_by_danish_excel_with_semicolons_reads_the_same() {
        let csv = "\u{feff}name;email;role;party;municipality;vote\r\n\"Søren Ærø; jr., Tårnby\";soeren@example.org;formand;Venstre;Tårnby;ja\r\nÅse Øster;aase@example.org;observatør;;;nej\r\n";
        let m = parse_roster(csv.as_bytes()).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name, "Søren Ærø; jr., Tårnby");
        assert_eq!(m[0].email.to_string(), "soeren@example.org");
        assert_eq!(m[1].role, Role::Observator);
    }

    #[test]
    fn roster_rejects_injection_duplicates_and_unknown_roles() {
        let csv = "name,email,role,party,municipality,vote\nA,\"a@example.org\r\nBcc: x@evil.example\",medlem,,,ja\nB,b@example.org,medlem,,,ja\nC,B@example.org,borgmester,,,ja\n";
        let p = parse_roster(csv.as_bytes()).unwrap_err();
        let text = format!("{p:?}");
        assert!(text.contains("linjeskift"), "{text}");
        assert!(text.contains("står også ved B"), "{text}");
        assert!(text.contains("ukendt rolle \\\"borgmester\\\""), "{text}");
        assert_eq!(p.iter().find(|p| p.message.contains("rolle")).unwrap().line, 5);
    }

    #[test]
    fn roster_reports_placeholder_rows_as_not_filled_in() {
        let csv = format!(
            "name,email,role,party,municipality,vote\n{PLACEHOLDER},{PLACEHOLDER}-1@{PLACEHOLDER_DOMAIN},formand,,,ja\nA,a@example.org,medlem,,,ja\n"
        );
        let p = parse_roster(csv.as_bytes()).unwrap_err();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].line, p[0].col), (2, 1));
        assert_eq!(p[0].message, "rækken er ikke udfyldt endnu");
    }

    #[test]
    fn roster_problems_point_at_the_column_wherever_it_is() {
        let csv =
            "vote,role,email,name,party,municipality\nja,borgmester,aa@example.org,A,,\n";
        let p = parse_roster(csv.as_bytes()).unwrap_err();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].line, p[0].col), (2, 4));
    }
}
