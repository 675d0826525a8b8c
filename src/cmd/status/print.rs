//! `kkr status` as text: one meeting's checklist, in Danish.

use super::{MeetingStatus, moment};

/// One meeting of `kkr status`: its agenda, what waits, and each document's deliveries
/// (every recipient with `all`, else the failed ones).
pub(super) fn print_meeting(m: &MeetingStatus, all: bool) {
    match &m.moved_to {
        Some(_) => crate::outln!(
            "\nMøde {} (flyttet til {}), {}",
            m.date,
            moment(&m.starts),
            crate::term::count(m.items, "punkt", "punkter")
        ),
        None => {
            crate::outln!(
                "\nMøde {} ({}), {}",
                m.date,
                moment(&m.starts),
                crate::term::count(m.items, "punkt", "punkter")
            )
        }
    }
    let due = moment(&m.agenda_due);
    print_told(m);
    match m.agenda {
        "cancelled" if m.told.is_empty() => {
            crate::outln!(
                "  AFLYST: dagsordenen var ikke sendt, så ingen skal have besked; der sendes intet"
            )
        }
        "cancelled" => {}
        "scheduled" | "due" if m.roster_blocks => crate::outln!(
            "  dagsorden: sendes ikke, før members.csv er rettet (udsendelse {due})"
        ),
        "scheduled" => crate::outln!("  dagsorden: sendes {due}"),
        "empty" => {
            crate::outln!("  dagsorden: ingen punkter endnu (udsendelse {due})")
        }
        "due" if m.unmade.iter().any(|u| u.what == "dagsorden") => {
            crate::outln!(
                "  dagsorden: forfalden ({due}), men kan ikke laves (se nedenfor)"
            )
        }
        "due" => {
            crate::outln!("  dagsorden: forfalden ({due}): sendes ved næste kørsel")
        }
        "held" => crate::outln!(
            "  dagsorden: TILBAGEHOLDT: der var ingen punkter på udsendelsestidspunktet ({due});\n    den sendes, når I frigiver den: kkr send {} eller en godkendelsesfil (approve = \"dagsorden\")",
            m.date
        ),
        "missed" if m.roster_blocks => crate::outln!(
            "  dagsorden: IKKE SENDT: members.csv er ugyldig, så intet kunne sendes ({due}), og mødet er begyndt"
        ),
        "missed" => crate::outln!(
            "  dagsorden: IKKE SENDT: den blev ikke sendt på tidspunktet ({due}), fx fordi kkr ikke kørte, og mødet er begyndt"
        ),
        _ => {}
    }
    for u in &m.unmade {
        crate::outln!(
            "  {}: KAN IKKE LAVES (siden {}) og sendes ikke:",
            u.what,
            moment(&u.since)
        );
        for line in u.reason.lines().filter(|l| !l.trim().is_empty()).take(4) {
            crate::outln!("    {}", line.trim_end());
        }
        crate::outln!(
            "    ret det, der står ovenfor (et punkt, et bilag eller en skabelon i templates/); kkr prøver igen ved hver kørsel, og sekretariatet har fået besked"
        );
    }
    print_checklist(m);
    print_minutes(m);
    print_approval(m);
    for f in &m.minutes_wait_for {
        crate::outln!(
            "  referat: VENTER: fremmødefilen {f} er afvist; ret den og læg den i inbox/ igen (eller slet den fra afvist/)"
        );
    }
    for doc in &m.documents {
        let count = |s: &str| doc.deliveries.iter().filter(|d| d.state == s).count();
        let late =
            if doc.late { " (for sent: kkr kørte ikke på tidspunktet)" } else { "" };
        let waiting = count("pending") + count("sending") + count("retry");
        crate::outln!(
            "  {}: lavet {}{late}; {} sendt, {waiting} venter, {} fejlet",
            doc.file,
            moment(&doc.created_at),
            count("sent"),
            count("failed")
        );
        for d in doc.deliveries.iter().filter(|d| all || d.state == "failed") {
            let state = match d.state {
                "sent" => "sendt",
                "pending" => "venter",
                "sending" => "under afsendelse",
                "retry" => "prøves igen",
                _ => "FEJLET",
            };
            let why = d.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
            crate::outln!("    {:<48} {state}{why}", format!("{} <{}>", d.name, d.email));
        }
    }
}

/// Where the minutes' approval stands.
fn print_approval(m: &MeetingStatus) {
    if let Some(a) = &m.approval {
        match &a.approved {
            Some((by, at)) => crate::outln!("  referat: godkendt af {by} {}", moment(at)),
            None if a.current => crate::outln!(
                "  referat: VENTER PÅ GODKENDELSE: {} er sendt {} til {}\n    godkend: kkr approve {} --minutes --by NAVN (eller en godkendelsesfil med approve = \"referat\")",
                a.draft,
                moment(&a.sent_at),
                a.to.join(", "),
                m.date
            ),
            None => crate::outln!(
                "  referat: en beslutning er ændret siden {}; et nyt udkast sendes til godkendelse",
                a.draft
            ),
        }
    }
}

/// What the members were told of the meeting itself, or are owed.
fn print_told(m: &MeetingStatus) {
    match m.told {
        "cancel-sent" => crate::outln!(
            "  AFLYST: medlemmerne har fået besked; der sendes ikke mere om mødet"
        ),
        "cancel-owed" => crate::outln!(
            "  AFLYST: medlemmerne får besked ved næste kørsel; derefter sendes intet mere"
        ),
        "change-owed" => crate::outln!(
            "  ÆNDRET efter udsendelsen: medlemmerne får besked med opdateret kalenderinvitation ved næste kørsel"
        ),
        _ => {}
    }
}

/// The items as the next document numbers them, with their marks.
fn print_checklist(m: &MeetingStatus) {
    if m.checklist.is_empty() || m.agenda == "cancelled" {
        return;
    }
    let held = !matches!(m.minutes, "not-held" | "cancelled");
    crate::outln!("  punkterne, som de nummereres:");
    for i in &m.checklist {
        let mut marks = Vec::new();
        if i.closed {
            marks.push("lukket");
        }
        if i.late {
            marks.push("sent punkt");
        }
        if !i.change.is_empty() {
            marks.push(i.change);
        }
        if held && !i.decided {
            marks.push("MANGLER BESLUTNING");
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        crate::outln!("    {}. {}{marks}", i.number, i.title);
    }
}

/// Where the minutes stand, and what they wait for.
fn print_minutes(m: &MeetingStatus) {
    let undecided: Vec<String> =
        m.checklist.iter().filter(|i| !i.decided).map(|i| i.number.to_string()).collect();
    let ends = "når mødet er slut, og hvert punkt har sin beslutning";
    match m.minutes {
        "not-held" if m.items > 0 => crate::outln!("  referat: laves, {ends}"),
        "waiting-decisions" => crate::outln!(
            "  referat: VENTER på {} i punkt {}: læg punkterne i inbox/ igen med en [decision]",
            if undecided.len() == 1 { "beslutningen" } else { "beslutningerne" },
            undecided.join(", ")
        ),
        "due" if m.roster_blocks => {
            crate::outln!("  referat: sendes ikke, før members.csv er rettet")
        }
        "due" => crate::outln!("  referat: sendes ved næste kørsel"),
        "manual" => crate::outln!(
            "  referat: klar; sendes med kkr send {} --minutes (minutes_after_decisions = false)",
            m.date
        ),
        _ => {}
    }
    let open = matches!(m.minutes, "not-held" | "waiting-decisions" | "due" | "manual");
    if open && m.items > 0 && !m.attendance {
        crate::outln!(
            "  fremmøde: ingen fremmødefil endnu; uden den viser referatet »Ingen afbud«"
        );
    }
}
