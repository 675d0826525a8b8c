//! Attendance files (`inbox/**/*.toml` with `absent`/`guests`): who sent apologies (afbud)
//! and who else took part, checked against the roster's names.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{MAX_TITLE_CHARS, as_text, read_meeting};
use crate::config::{Config, is_header_safe};
use crate::report::Problem;
use crate::spanned::TomlReader;

/// An attendance file: who sent apologies (afbud) and who else took part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    /// The meeting.
    pub meeting: Date,
    /// Names, as in members.csv.
    pub absent: Vec<String>,
    /// Guests, free text.
    pub guests: Vec<String>,
}

/// Parses and checks an attendance file against the roster's names.
pub fn check_attendance(
    bytes: &[u8],
    config: &Config,
    names: &[String],
) -> Result<Attendance, Vec<Problem>> {
    let text = as_text(bytes).map_err(|p| vec![p])?;
    let mut r = TomlReader::new(text, 0);
    let Some(doc) = r.parse(text) else { return Err(r.problems) };
    let t = doc.as_table();
    r.unknown_keys(t, &["meeting", "absent", "guests"], "");
    let meeting = read_meeting(&mut r, t, config);
    let absent = r.strings(t, "absent");
    for a in &absent {
        if !names.iter().any(|n| n == a.value.trim()) {
            r.problem(
                a.span.clone(),
                format!("\"{}\" står ikke i members.csv", a.value),
                "skriv navnet præcis som i members.csv",
            );
        }
    }
    let guests = r.strings(t, "guests");
    for g in &guests {
        if !is_header_safe(&g.value) || g.value.chars().count() > MAX_TITLE_CHARS {
            r.problem(
                g.span.clone(),
                "gæstens navn er for langt eller indeholder linjeskift",
                "skriv én gæst pr. tekst",
            );
        }
    }
    match meeting {
        Some(m) if r.problems.is_empty() => Ok(Attendance {
            meeting: m.value,
            absent: absent.into_iter().map(|a| a.value.trim().to_owned()).collect(),
            guests: guests.into_iter().map(|g| g.value.trim().to_owned()).collect(),
        }),
        _ => Err(r.problems),
    }
}
