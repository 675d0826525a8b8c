//! `kkr init`: a new workspace for one of the five councils, or another body the same
//! secretariat serves (the K29 director circle, a fagdirektørforum), with everything left to
//! fill in marked `UDFYLD` so that `kkr check` can say what remains.

use std::path::Path;

use crate::config::{PLACEHOLDER, PLACEHOLDER_DOMAIN};
use crate::error::{Error, Result};

/// One of the five councils.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CouncilInfo {
    /// Region, e.g. `Hovedstaden`.
    pub(crate) region: &'static str,
    /// Slug, e.g. `kkr-hovedstaden`.
    pub(crate) slug: &'static str,
    /// Members (two per municipality).
    pub(crate) members: usize,
}

/// The five KKRs, 2026–2030.
pub(crate) const COUNCILS: [CouncilInfo; 5] = [
    CouncilInfo { region: "Nordjylland", slug: "kkr-nordjylland", members: 22 },
    CouncilInfo { region: "Midtjylland", slug: "kkr-midtjylland", members: 38 },
    CouncilInfo { region: "Syddanmark", slug: "kkr-syddanmark", members: 44 },
    CouncilInfo { region: "Hovedstaden", slug: "kkr-hovedstaden", members: 58 },
    CouncilInfo { region: "Sjælland", slug: "kkr-sjaelland", members: 34 },
];

/// Finds a council by region (`Hovedstaden`, any case) or slug (`kkr-hovedstaden`).
pub(crate) fn find(name: &str) -> Option<CouncilInfo> {
    let n = name.trim().to_lowercase();
    let n = n.strip_prefix("kkr ").unwrap_or(&n);
    COUNCILS.iter().copied().find(|c| {
        c.region.to_lowercase() == n || c.slug == n || c.slug == format!("kkr-{n}")
    })
}

/// What a new workspace is for: its name on every document and mail, its slug, and how many
/// roster rows to prepare.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    /// E.g. `KKR Hovedstaden` or `K29 – kommunaldirektørkredsen`.
    pub(crate) name: String,
    /// E.g. `kkr-hovedstaden`.
    pub(crate) slug: String,
    /// Roster rows to prepare (members; the secretariat's row comes on top).
    pub(crate) members: usize,
}

impl From<CouncilInfo> for Body {
    fn from(c: CouncilInfo) -> Self {
        Self {
            name: format!("KKR {}", c.region),
            slug: c.slug.into(),
            members: c.members,
        }
    }
}

/// Rows prepared for another body than a KKR: add or delete rows as it has members.
const BODY_MEMBERS: usize = 20;

fn council_toml(c: &Body, year: i16) -> String {
    let mut meetings = String::new();
    // Five Thursdays spread over the year as placeholders: February, April, June,
    // September, November.
    for month in [2, 4, 6, 9, 11] {
        let first = jiff::civil::date(year, month, 1);
        let offset = (4 - first.weekday().to_monday_one_offset() as i8 + 7) % 7;
        let thursday = first + jiff::Span::new().days(i64::from(offset) + 7);
        meetings.push_str(&format!(
            "[[meeting]]\ndate = \"{thursday}\"\nstarts = \"09:00\"\nends = \"12:00\"\nplace = \"{PLACEHOLDER}: mødested med adresse\"\n\n"
        ));
    }
    format!(
        r#"# Opsætning af {name} til kkr. Linjer, der begynder med #, er kommentarer.
# Ret alt, der er markeret {PLACEHOLDER}, og kontrollér filen med:  kkr check

[council]
# Rådets navn, som det står på dagsorden, referat og i mailenes emnelinje.
name = {name_toml}
# Kort maskinnavn (ændres ikke).
slug = "{slug}"
timezone = "Europe/Copenhagen"

# Årets møder: ret datoer (ÅÅÅÅ-MM-DD), tider (TT:MM) og sted. Datoen er mødets id.
{meetings}[schedule]
# Dagsordenen sendes så mange dage før mødet ...
agenda_days_before = 7
# ... på dette klokkeslæt (dansk tid).
send_time = "09:00"
# Referatet sendes og offentliggøres, så snart alle punkter har en beslutning.
minutes_after_decisions = true
# true: formand og næstformand godkender referatet, før det sendes til alle.
minutes_approval = false
# Sekretariatet får besked så mange timer før udsendelsen, med udkastet (0 = ingen besked).
notice_hours_before = 24

[mail]
# Afsender og svaradresse.
from = {from_toml}
reply_to = "{PLACEHOLDER}@{PLACEHOLDER_DOMAIN}"
# Uden en [mail.smtp]-sektion sendes intet rigtigt: mails gemmes i outbox/mail/.
# Til rigtig afsendelse (udfyldes af KL's IT, se docs/OPERATIONS.md):
# [mail.smtp]
# host = "smtp.kl.dk"
# port = 587
# tls = "starttls"
# user = "kkr"
# password_env = "KKR_SMTP_PASSWORD"

[publish]
# Hvor det offentlige referat lægges; "dir:outbox/public" er en mappe til gennemsyn.
target = "dir:outbox/public"
"#,
        name = c.name,
        name_toml = toml_string(&c.name),
        from_toml =
            toml_string(&format!("{} <{PLACEHOLDER}@{PLACEHOLDER_DOMAIN}>", c.name)),
        slug = c.slug,
    )
}

/// A TOML basic string of `s` (JSON's string syntax is TOML's): never spliced in raw.
fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

fn members_csv(c: &Body) -> String {
    let mut out = String::from("name,email,role,party,municipality,vote\n");
    for i in 1..=c.members {
        let role = match i {
            1 => "formand",
            2 => "næstformand",
            _ => "medlem",
        };
        out.push_str(&format!(
            "{PLACEHOLDER},{PLACEHOLDER}-{i}@{PLACEHOLDER_DOMAIN},{role},,,ja\n"
        ));
    }
    out.push_str(&format!(
        "{PLACEHOLDER},{PLACEHOLDER}-sekretariat@{PLACEHOLDER_DOMAIN},sekretariat,,,nej\n"
    ));
    out
}

const EXAMPLE_ITEM: &str = r#"+++
# Et eksempel på et dagsordenspunkt. Kopiér filen til inbox/, ret felterne og teksten.
id = "MØDEDATO-kort-navn"
meeting = "MØDEDATO"
title = "Punktets titel"
area = "Sundhed"          # Sundhed | Social | Vækst og beskæftigelse | Uddannelse |
                          # Trafik og infrastruktur | Klima og miljø | Andet
kind = "beslutning"       # beslutning | drøftelse | orientering
case = "26/01234"
recommendation = "Det indstilles, at KKR godkender ..."
attachments = []          # fx ["bilag/plan.pdf"], stien er i forhold til denne fil
closed = false            # true = lukket punkt; så skal public_title udfyldes
public_title = ""
+++
## Baggrund

Skriv sagsfremstillingen her. **Fed**, *kursiv*, lister og tabeller kan bruges.

- første punkt
- andet punkt
"#;

const EXAMPLE_ATTENDANCE: &str = r#"# Fremmøde til referatet. Kopiér filen til inbox/ efter mødet og ret den.
meeting = "MØDEDATO"
absent = ["Navn som i members.csv"]
guests = ["Direktør for KL, Navn Navnesen"]
"#;

/// The body of `kkr init --council NAME` or `--body NAME --slug SLUG`.
pub(crate) fn body(
    council: Option<&str>,
    body: Option<&str>,
    slug: Option<&str>,
) -> Result<Body> {
    let names = COUNCILS.iter().map(|c| c.region).collect::<Vec<_>>().join(", ");
    match (council, body, slug) {
        (Some(name), None, None) => find(name).map(Body::from).ok_or_else(|| {
            Error::Usage(format!("ukendt råd \"{name}\"; vælg et af: {names}"))
        }),
        (None, Some(name), Some(slug)) => {
            let name = name.trim();
            let ok = !slug.is_empty()
                && slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if name.is_empty() || !crate::config::is_header_safe(name) {
                Err(Error::Usage("navnet efter --body er tomt eller har linjeskift\n  hjælp: fx --body \"K29 – kommunaldirektørkredsen\"".into()))
            } else if !ok {
                Err(Error::Usage(format!(
                    "--slug \"{slug}\" må kun bestå af a-z, 0-9 og -\n  hjælp: fx --slug k29"
                )))
            } else {
                Ok(Body { name: name.into(), slug: slug.into(), members: BODY_MEMBERS })
            }
        }
        (None, Some(_), None) => Err(Error::Usage(
            "--body kræver også --slug, fx --slug k29 (bruges i mapper og webadresser)"
                .into(),
        )),
        _ => Err(Error::Usage(format!(
            "angiv rådet med --council (et af: {names}) eller et andet organ med --body NAVN --slug SLUG"
        ))),
    }
}

/// Creates the workspace `dir` for `c`; refuses a folder that already has a `council.toml`.
pub(crate) fn init(dir: &Path, c: &Body, year: i16) -> Result<String> {
    if dir.join("council.toml").exists() {
        return Err(Error::Usage(format!(
            "`{}` har allerede en council.toml; kkr init overskriver ikke",
            dir.display()
        )));
    }
    let write =
        |rel: &str, text: &str| crate::fs::write_atomic(&dir.join(rel), text.as_bytes());
    write("council.toml", &council_toml(c, year))?;
    write("members.csv", &members_csv(c))?;
    for (name, text) in crate::world::BUILTIN_TEMPLATES {
        write(&format!("templates/{name}"), text)?;
    }
    for (name, text) in crate::mail::BUILTIN {
        write(&format!("templates/mail/{name}.hbs"), text)?;
    }
    for (name, text) in crate::site::page::BUILTIN {
        write(&format!("templates/site/{name}.hbs"), text)?;
    }
    write("eksempler/punkt.md", EXAMPLE_ITEM)?;
    write("eksempler/fremmoede.toml", EXAMPLE_ATTENDANCE)?;
    for d in ["inbox", "inbox/bilag", "fonts"] {
        crate::fs::create_dir_all(&dir.join(d))?;
    }
    Ok(format!(
        "Arbejdsmappen for {} er oprettet i {}.\nUdfyld council.toml og members.csv ({} medlemmer, felter markeret {PLACEHOLDER}), og kør så: kkr -C {} check",
        c.name,
        dir.display(),
        c.members,
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_councils_by_region_or_slug() {
        assert_eq!(find("Hovedstaden").unwrap().members, 58);
        assert_eq!(find("kkr-sjaelland").unwrap().region, "Sjælland");
        assert_eq!(find("sjælland").unwrap().slug, "kkr-sjaelland");
        assert_eq!(find("KKR Nordjylland").unwrap().members, 22);
        assert!(find("Fyn").is_none());
    }

    #[test]
    fn placeholder_meetings_are_thursdays() {
        let text = council_toml(&Body::from(COUNCILS[0]), 2027);
        for line in text.lines().filter(|l| l.starts_with("date = ")) {
            let d: jiff::civil::Date = line[8..18].parse().unwrap();
            assert_eq!(d.weekday(), jiff::civil::Weekday::Thursday, "{d}");
        }
    }
}
