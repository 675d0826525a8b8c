//! The one translator from the ledger to what a document shows: the plan of the agenda family
//! (what each agenda covered, what changed since), the data of each kind and edition, and the
//! item list of its mail. The PDFs, the mail bodies, the public site, `kkr render` and
//! `kkr check`'s template test all take their data from here.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::config::{Config, Council, MeetingConfig};
use crate::edition::{self, DocData, DocInput, Entry};
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::item::{Attendance, Item};
use crate::kind::{DocKind, Edition};
use crate::ledger::{Document, Hold, Ledger, Shown, StoredItem};
use crate::site::PublicItem;

mod letter;
mod minutes;
pub use letter::letter;
pub use minutes::minutes_hash;

/// How an item stands against what the sent agenda documents showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// As shown.
    Same,
    /// Not shown yet.
    New,
    /// Shown, then changed.
    Changed,
    /// Shown, then withdrawn.
    Withdrawn,
}

impl Change {
    /// The mark a document shows beside the item (`ny`, `ændret`, `trukket`).
    fn status(self) -> &'static str {
        match self {
            Self::Same => "",
            Self::New => "ny",
            Self::Changed => "ændret",
            Self::Withdrawn => "trukket",
        }
    }
}

/// Everything the ledger knows about one meeting that a document can show.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The latest version of every item, in agenda order.
    items: Vec<StoredItem>,
    /// The documents recorded for the meeting, in the order they were made.
    documents: Vec<Document>,
    /// The attendance file, if one was accepted.
    attendance: Option<Attendance>,
    /// When the meeting's content last changed.
    changed_at: Option<Timestamp>,
    /// For items changed since a sent agenda showed them: the version it showed.
    shown_before: HashMap<String, Item>,
    /// The agenda's hold, if it was held or released (SPEC §6).
    hold: Option<Hold>,
    /// For items changed since the last minutes document showed them: the version it showed.
    minutes_before: HashMap<String, Item>,
    /// Who approved each minutes draft (by document id), and when.
    approvals: HashMap<i64, (String, Timestamp)>,
}

impl Facts {
    /// Reads a meeting's facts from the ledger.
    pub fn load(ledger: &Ledger, meeting: Date) -> Result<Self> {
        let mut facts = Self {
            items: ledger.items(meeting)?,
            documents: ledger.meeting_documents(meeting)?,
            attendance: ledger.attendance(meeting)?,
            changed_at: ledger.changed_at(meeting)?,
            shown_before: HashMap::new(),
            hold: ledger.hold_of(meeting)?,
            minutes_before: HashMap::new(),
            approvals: HashMap::new(),
        };
        for d in facts.documents.iter().filter(|d| d.kind.is_minutes_draft()) {
            if let Some(approval) = ledger.minutes_approval(d.id)? {
                facts.approvals.insert(d.id, approval);
            }
        }
        let covered = facts.covered();
        for s in &facts.items {
            let Some(hash) = covered.get(&s.item.id) else { continue };
            if *hash != agenda_hash(&s.item) {
                let versions = ledger.item_versions(&s.item.id)?;
                if let Some(v) =
                    versions.into_iter().find(|v| agenda_hash(&v.item) == *hash)
                {
                    facts.shown_before.insert(s.item.id.clone(), v.item);
                }
            }
        }
        let minutes = facts.minutes_shown();
        for s in &facts.items {
            let Some(hash) = minutes.as_ref().and_then(|m| m.get(&s.item.id)) else {
                continue;
            };
            if *hash != minutes_hash(&s.item) {
                let versions = ledger.item_versions(&s.item.id)?;
                if let Some(v) =
                    versions.into_iter().find(|v| minutes_hash(&v.item) == *hash)
                {
                    facts.minutes_before.insert(s.item.id.clone(), v.item);
                }
            }
        }
        Ok(facts)
    }

    /// A meeting the ledger knows nothing of (no ledger yet).
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            documents: Vec::new(),
            attendance: None,
            changed_at: None,
            shown_before: HashMap::new(),
            hold: None,
            minutes_before: HashMap::new(),
            approvals: HashMap::new(),
        }
    }

    /// The facts with `items` added as the newest arrivals (replacing accepted items with
    /// the same id), and the content's date moved to `at` if that is later: what the
    /// meeting would be once they are taken in.
    pub fn with_items(mut self, items: Vec<Item>, at: Timestamp) -> Self {
        let first = self.items.iter().map(|s| s.arrival).max().unwrap_or(0) + 1;
        for (n, item) in items.into_iter().enumerate() {
            let arrival = match self.items.iter().position(|s| s.item.id == item.id) {
                Some(i) => self.items.remove(i).arrival,
                None => first + n as i64,
            };
            self.items.push(StoredItem { item, version: 0, arrival, accepted_at: at });
        }
        self.items.sort_by_key(|s| (s.item.order.unwrap_or(i64::MAX), s.arrival));
        self.changed_at = Some(self.changed_at.map_or(at, |c| c.max(at)));
        self
    }

    /// When the meeting's content last changed, if it ever did.
    pub fn changed_at(&self) -> Option<Timestamp> {
        self.changed_at
    }

    /// The documents recorded for the meeting, in the order they were made.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// What the sent agenda documents showed of each item: its agenda hash by id.
    fn covered(&self) -> HashMap<String, String> {
        self.documents
            .iter()
            .filter(|d| d.kind.is_agenda_family())
            .flat_map(|d| d.shown.iter().map(|s| (s.id.clone(), s.hash.clone())))
            .collect()
    }

    /// The meeting's agenda list compared with what was sent.
    pub fn plan(&self) -> Plan {
        let covered = self.covered();
        let sent = self.documents.iter().any(|d| d.kind.is_agenda_family());
        let minutes_sent = self.documents.iter().any(|d| d.kind == DocKind::Minutes);
        let mut list = Vec::new();
        for s in &self.items {
            let change = match covered.get(&s.item.id) {
                None if s.item.withdrawn => continue,
                None => Change::New,
                Some(h) if *h == agenda_hash(&s.item) => Change::Same,
                Some(_) if s.item.withdrawn => Change::Withdrawn,
                Some(_) => Change::Changed,
            };
            list.push((s.clone(), change));
        }
        let released = self.hold.as_ref().is_some_and(|h| h.released.is_some());
        let held = self.hold.is_some() && !released;
        let minutes_changed = self.minutes_changed(&list);
        let draft = self.current_draft(&list);
        let minutes_draft_current = draft.is_some();
        let minutes_approved = draft.is_some_and(|d| self.approvals.contains_key(&d.id));
        Plan {
            sent,
            minutes_sent,
            minutes_changed,
            minutes_draft_current,
            minutes_approved,
            held,
            released,
            list,
        }
    }

    /// The next document of `kind`'s sort: the numbered kinds count on from those recorded.
    pub fn next(&self, kind: DocKind) -> DocKind {
        let n = self.documents.iter().filter(|d| d.kind.name() == kind.name()).count();
        kind.numbered(n as u32 + 1)
    }
}

/// A meeting's agenda list: items in agenda order with how each stands against what was sent.
/// Items withdrawn before they were ever shown are not on it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Whether the agenda has been sent.
    pub sent: bool,
    /// Whether the minutes have been sent.
    pub minutes_sent: bool,
    /// Something the last minutes document showed has changed since (SPEC §3.4).
    pub minutes_changed: bool,
    /// A draft for approval shows what the next minutes document would show.
    pub minutes_draft_current: bool,
    /// That draft is approved.
    pub minutes_approved: bool,
    /// The agenda is held (no items at its send moment) and not released yet.
    pub held: bool,
    /// The agenda was released (`kkr approve`, an approval file): it goes now.
    pub released: bool,
    /// The list.
    pub list: Vec<(StoredItem, Change)>,
}

impl Plan {
    /// Items on no sent document yet.
    pub fn new_items(&self) -> usize {
        self.list.iter().filter(|(_, c)| *c == Change::New).count()
    }

    /// Items changed or withdrawn since they were sent.
    pub fn changed_items(&self) -> usize {
        self.list
            .iter()
            .filter(|(_, c)| matches!(c, Change::Changed | Change::Withdrawn))
            .count()
    }

    /// Items on the agenda now (withdrawn ones not counted).
    pub fn active(&self) -> usize {
        self.list.iter().filter(|(s, _)| !s.item.withdrawn).count()
    }

    /// Items on the agenda without a decision yet.
    pub fn undecided(&self) -> Vec<&Item> {
        self.list
            .iter()
            .map(|(s, _)| &s.item)
            .filter(|i| !i.withdrawn && i.decision.is_none())
            .collect()
    }

    /// The schedule's view of the meeting.
    pub fn state(&self) -> crate::schedule::MeetingState {
        crate::schedule::MeetingState {
            agenda_sent: self.sent,
            items: self.active(),
            new_items: self.new_items(),
            changed_items: self.changed_items(),
            decided: self.undecided().is_empty(),
            minutes_sent: self.minutes_sent,
            minutes_changed: self.minutes_changed,
            minutes_draft_current: self.minutes_draft_current,
            minutes_approved: self.minutes_approved,
            held: self.held,
            released: self.released,
            attendance_rejected: false,
            cancelled: false,
            cancel_sent: false,
            told_changed: false,
        }
    }

    /// What a document of `kind` shows from the plan, with statuses and agenda numbers.
    /// Numbers follow the agenda as sent: an item withdrawn after it was shown keeps its
    /// number, so the items after it keep theirs.
    fn entries(&self, kind: DocKind) -> Vec<(&StoredItem, Change, usize)> {
        let numbered = self.list.iter().enumerate().map(|(i, (s, c))| (s, *c, i + 1));
        match kind {
            DocKind::Supplement(_) => {
                numbered.filter(|(_, c, _)| *c == Change::New).collect()
            }
            DocKind::Correction(_) => numbered.collect(),
            DocKind::Draft if self.sent => numbered.collect(),
            _ => numbered.filter(|(s, _, _)| !s.item.withdrawn).collect(),
        }
    }

    /// The public view of the items on the agenda, numbered as sent; decisions only when
    /// `with_decisions` (once the minutes are public).
    pub fn public_items(&self, with_decisions: bool) -> Vec<PublicItem> {
        self.entries(DocKind::Agenda)
            .into_iter()
            .map(|(s, _, number)| {
                let mut p =
                    edition::public_item(&Entry { item: &s.item, status: "", number });
                if !with_decisions {
                    p.result = None;
                }
                p
            })
            .collect()
    }
}

/// The agenda list of a meeting, compared with what was sent.
pub fn plan(ledger: &Ledger, meeting: Date) -> Result<Plan> {
    Ok(Facts::load(ledger, meeting)?.plan())
}

/// Renders a meeting's draft with `items` added (as if taken in `at`): `Some(why)` when it
/// cannot be made because of them, `None` when it can, or when it cannot be made without
/// them either (a template error is not an item's fault). Acceptance means it renders.
pub fn trial_draft(
    config: &Config,
    renderer: &mut crate::render::Renderer,
    ledger: &Ledger,
    meeting: Date,
    items: &[Item],
    at: Timestamp,
) -> Option<String> {
    let m = config.meeting(meeting)?;
    let draft = |facts: Facts| {
        data(&config.council, m, &facts, DocKind::Draft, Edition::Member).map(|(d, _)| d)
    };
    let facts = Facts::load(ledger, meeting).ok()?;
    let with = draft(facts.clone().with_items(items.to_vec(), at)).ok()?;
    let why = renderer.render(&with).err()?;
    renderer.render(&draft(facts).ok()?).ok()?;
    let why = match why {
        Error::Render { diagnostics, .. } => diagnostics,
        e => e.to_string(),
    };
    // Typst's first diagnostic, without its "fejl: " and the hints that follow.
    let first = why.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let first = first.strip_prefix("fejl:").unwrap_or(first).trim();
    let first = first.strip_prefix("PDF/A-2b error:").unwrap_or(first).trim();
    Some(first.to_owned())
}

/// Hash of what an agenda shows of an item: everything but its decision (adding a decision
/// is not a change of the agenda).
pub fn agenda_hash(item: &Item) -> String {
    let mut item = item.clone();
    item.decision = None;
    sha256_hex(&serde_json::to_vec(&item).expect("items serialize"))
}

/// The fields of an item that differ between two versions, in Danish.
fn changed_fields(old: &Item, new: &Item) -> Vec<&'static str> {
    let pairs: [(&str, bool); 8] = [
        ("titel", old.title != new.title),
        ("sagsområde", old.area != new.area),
        ("type", old.kind != new.kind),
        ("sagsnummer", old.case != new.case),
        ("indstilling", old.recommendation != new.recommendation),
        ("sagsfremstilling", old.body != new.body),
        ("bilag", old.attachments != new.attachments),
        ("lukket/åbent", old.closed != new.closed),
    ];
    pairs.into_iter().filter(|(_, differs)| *differs).map(|(name, _)| name).collect()
}

/// The cover note of a supplement or a correction.
fn note(facts: &Facts, plan: &Plan, kind: DocKind) -> String {
    match kind {
        DocKind::Supplement(_) => "Punkterne herunder er kommet til, efter at dagsordenen blev sendt. Begrundelsen for den sene fremsendelse står ved hvert punkt.".into(),
        DocKind::Correction(_) => {
            let mut lines = Vec::new();
            for (s, c, n) in plan.entries(kind) {
                match c {
                    Change::Withdrawn => {
                        lines.push(format!("Punkt {n} ({}) er trukket.", s.item.title))
                    }
                    Change::Changed => {
                        let what = facts
                            .shown_before
                            .get(&s.item.id)
                            .map(|old| changed_fields(old, &s.item))
                            .unwrap_or_default();
                        let what = if what.is_empty() {
                            String::new()
                        } else {
                            format!(" (ændret: {})", what.join(", "))
                        };
                        lines.push(format!("Punkt {n} ({}) er ændret{what}.", s.item.title));
                    }
                    _ => {}
                }
            }
            format!("Denne dagsorden erstatter den tidligere udsendte. {}", lines.join(" "))
        }
        DocKind::MinutesCorrection(_) | DocKind::MinutesDraft(_) => minutes::note(facts, plan, kind),
        _ => String::new(),
    }
}

/// The data of a meeting's document of `kind` in `edition`, ready to render, and what it
/// shows of each item (recorded with a sent document).
pub fn data(
    council: &Council,
    meeting: &MeetingConfig,
    facts: &Facts,
    kind: DocKind,
    edition: Edition,
) -> Result<(DocData, Vec<Shown>)> {
    let plan = facts.plan();
    let entries = plan.entries(kind);
    let marked = plan.sent && !matches!(kind, DocKind::Agenda | DocKind::Minutes);
    let minutes_shown = facts.minutes_shown().unwrap_or_default();
    let correcting = matches!(kind, DocKind::MinutesCorrection(_))
        || (kind.is_minutes_draft() && plan.minutes_sent);
    let status = |s: &StoredItem, c: Change| match kind {
        _ if correcting && facts.minutes_change(&minutes_shown, &s.item) => "rettet",
        _ if correcting || kind.is_minutes_draft() => "",
        _ if marked => c.status(),
        _ => "",
    };
    let minutes_kind = kind.is_minutes_family() || kind.is_minutes_draft();
    let shown = entries
        .iter()
        .map(|(s, c, n)| Shown {
            id: s.item.id.clone(),
            hash: if kind.is_minutes_family() || kind.is_minutes_draft() {
                minutes_hash(&s.item)
            } else {
                agenda_hash(&s.item)
            },
            number: *n,
            title: s.item.title.clone(),
            status: if minutes_kind { status(s, *c) } else { c.status() }.into(),
        })
        .collect();
    // The public agenda follows the agendas that were sent: its date is that of the last
    // one, so a decision added after the meeting neither changes nor republishes it.
    let last_agenda = (kind == DocKind::Agenda && edition == Edition::Public)
        .then(|| {
            let agendas = facts.documents.iter().filter(|d| d.kind.is_agenda_family());
            agendas.map(|d| d.created_at).max()
        })
        .flatten();
    let changed_at = last_agenda.or(facts.changed_at).unwrap_or(Timestamp::UNIX_EPOCH);
    let input = DocInput {
        council,
        meeting,
        entries: entries
            .iter()
            .map(|(s, c, n)| Entry { item: &s.item, status: status(s, *c), number: *n })
            .collect(),
        attendance: if kind.is_minutes_family() || kind.is_minutes_draft() {
            facts.attendance.as_ref()
        } else {
            None
        },
        kind,
        edition,
        note: note(facts, &plan, kind),
        changed_at,
        approved: kind
            .is_minutes_family()
            .then(|| facts.approval(&plan.list))
            .flatten()
            .map(|(by, at)| {
                let day = at.to_zoned(crate::clock::tz().clone()).date();
                format!("af {by} den {}", crate::clock::danish_date(day))
            }),
    };
    if edition == Edition::Public {
        edition::check_public(&input.entries).map_err(|report| Error::Invalid {
            report: format!("mødet {}: {report}\n  hjælp: læg punkterne ind igen med public_title og [decision] public_text\n", meeting.date),
        })?;
    }
    Ok((edition::build(&input), shown))
}

/// [`data`] for a meeting of the configuration, read from the ledger.
pub fn load_data(
    config: &Config,
    ledger: &Ledger,
    meeting: Date,
    kind: DocKind,
    edition: Edition,
) -> Result<(DocData, Vec<Shown>)> {
    let m = config.meeting(meeting).ok_or_else(|| {
        Error::Usage(format!("der er intet møde den {meeting} i council.toml"))
    })?;
    data(&config.council, m, &Facts::load(ledger, meeting)?, kind, edition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_decision_is_not_an_agenda_change() {
        let mut item: Item = serde_json::from_str(r#"{"id":"a","meeting":"2027-01-28","title":"T","area":"Andet","kind":"orientering","order":null,"case":null,"recommendation":"","attachments":[],"closed":false,"public_title":"","late_reason":"","withdrawn":false,"decision":null,"body":"x"}"#).unwrap();
        let before = agenda_hash(&item);
        item.decision = Some(crate::item::Decision {
            text: "Godkendt".into(),
            public_text: String::new(),
        });
        assert_eq!(before, agenda_hash(&item));
        item.title = "U".into();
        assert_ne!(before, agenda_hash(&item));
    }
}
