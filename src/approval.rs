//! Approval files (`inbox/**/*.toml` with `approve`, SPEC §2): reading and checking one.

use jiff::civil::Date;

use crate::config::Config;
use crate::report::Problem;
use crate::spanned::TomlReader;

/// What an approval releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Approves {
    /// A held agenda (`approve = "dagsorden"`, SPEC §6).
    Agenda,
    /// The minutes (`approve = "referat"`, SPEC §3.4).
    Minutes,
}

/// A checked approval file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Approval {
    /// The meeting.
    pub meeting: Date,
    /// What it approves.
    pub approves: Approves,
    /// Who approved it: a name as in members.csv.
    pub by: String,
    /// For the minutes: which draft (`udkast = 2` for `referat-udkast-2.pdf`), if named.
    pub draft: Option<u32>,
}

/// Whether a `.toml` file in the inbox is meant as an approval (it has an `approve` key),
/// rather than an attendance file.
pub fn is_approval(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| toml_edit::ImDocument::parse(t.to_owned()).ok())
        .is_some_and(|d| d.contains_key("approve"))
}

/// Parses and checks an approval file against the configuration and the roster's names.
pub fn check_approval(
    bytes: &[u8],
    config: &Config,
    names: &[String],
) -> Result<Approval, Vec<Problem>> {
    let text = crate::item::as_text(bytes).map_err(|p| vec![p])?;
    let mut r = TomlReader::new(text, 0);
    let Some(doc) = r.parse(text) else { return Err(r.problems) };
    let t = doc.as_table();
    r.unknown_keys(t, &["meeting", "approve", "approved_by", "udkast"], "");
    let meeting = crate::item::read_meeting(&mut r, t, config);
    let approves = r.string(t, "approve", true).and_then(|a| match a.value.as_str() {
        "dagsorden" => Some(Approves::Agenda),
        "referat" if config.schedule.minutes_approval => Some(Approves::Minutes),
        "referat" => {
            r.problem(
                a.span,
                "referatet skal ikke godkendes i dette råd: det sendes, så snart alle punkter har en beslutning",
                "fjern filen, eller sæt minutes_approval = true under [schedule] i council.toml",
            );
            None
        }
        other => {
            r.problem(
                a.span,
                format!("`approve` er \"{other}\""),
                "skriv approve = \"dagsorden\" (en tilbageholdt dagsorden) eller \"referat\"",
            );
            None
        }
    });
    let by = r.string(t, "approved_by", true);
    let draft = r.integer(t, "udkast", false).and_then(|n| {
        let ok = u32::try_from(n.value).ok().filter(|n| *n >= 1);
        if ok.is_none() {
            r.problem(
                n.span,
                "`udkast` skal være udkastets nummer, fx 2",
                "skriv fx udkast = 2",
            );
        }
        ok
    });
    if let Some(by) = &by
        && !names.iter().any(|n| n == by.value.trim())
    {
        r.problem(
            by.span.clone(),
            format!("\"{}\" står ikke i members.csv", by.value),
            "skriv navnet præcis som i members.csv",
        );
    }
    match (meeting, approves, by) {
        (Some(m), Some(approves), Some(by)) if r.problems.is_empty() => Ok(Approval {
            meeting: m.value,
            approves,
            by: by.value.trim().to_owned(),
            draft,
        }),
        _ => Err(r.problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::parse(
            "[council]\nname = \"KKR Test\"\nslug = \"kkr-test\"\n\n[[meeting]]\ndate = \"2027-01-28\"\nstarts = \"09:00\"\nends = \"11:00\"\nplace = \"Rådhuset\"\n\n[mail]\nfrom = \"KKR <kkr@example.org>\"\n",
        )
        .unwrap()
    }

    #[test]
    fn an_approval_names_meeting_what_and_who() {
        let names = vec!["Steen Christiansen".to_owned()];
        let ok = b"meeting = \"2027-01-28\"\napprove = \"dagsorden\"\napproved_by = \"Steen Christiansen\"\n";
        assert!(is_approval(ok));
        let a = check_approval(ok, &config(), &names).unwrap();
        assert_eq!(a.approves, Approves::Agenda);
        assert_eq!(a.by, "Steen Christiansen");
        assert!(!is_approval(b"meeting = \"2027-01-28\"\nabsent = []\n"));

        let bad = b"meeting = \"2027-02-01\"\napprove = \"dagsordenen\"\napproved_by = \"Steen\"\n";
        let problems = check_approval(bad, &config(), &names).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        assert_eq!(problems.len(), 3, "{text:?}");
        assert!(text[0].contains("intet møde den 2027-02-01"), "{text:?}");
        assert!(text.iter().any(|t| t.contains("står ikke i members.csv")), "{text:?}");
    }
}
