//! The minutes family's side of a meeting's facts: what the last minutes (or draft for
//! approval) showed, whether the minutes now differ from it, the approval of the current
//! draft, and the cover notes of corrected minutes and drafts (SPEC §3.4).

use std::collections::HashMap;

use jiff::Timestamp;

use super::{Change, Facts, Plan};
use crate::hash::sha256_hex;
use crate::item::Item;
use crate::kind::DocKind;
use crate::ledger::{Document, StoredItem};

/// Hash of everything the minutes show of an item: its agenda content and its decision.
pub fn minutes_hash(item: &Item) -> String {
    sha256_hex(&serde_json::to_vec(item).expect("items serialize"))
}

/// What a minutes document (or draft) showed of each item, by id; `None` for a document of
/// an earlier kkr that did not record it (never compared).
fn shown_of(doc: &Document) -> Option<HashMap<String, String>> {
    doc.attendance.as_ref()?;
    Some(doc.shown.iter().map(|s| (s.id.clone(), s.hash.clone())).collect())
}

impl Facts {
    /// A hash of the attendance the minutes show (`""` when there is no attendance file).
    pub fn attendance_hash(&self) -> String {
        self.attendance.as_ref().map_or_else(String::new, |a| {
            sha256_hex(&serde_json::to_vec(a).expect("attendance serializes"))
        })
    }

    /// The last minutes document sent (the minutes or a correction).
    fn last_minutes(&self) -> Option<&Document> {
        self.documents.iter().rev().find(|d| d.kind.is_minutes_family())
    }

    /// What the last minutes document showed of each item (its minutes hash by id), if one
    /// was sent and recorded what it showed.
    pub(super) fn minutes_shown(&self) -> Option<HashMap<String, String>> {
        self.last_minutes().and_then(shown_of)
    }

    /// Whether the attendance changed since the last minutes document showed it.
    pub(super) fn attendance_changed(&self) -> bool {
        self.last_minutes()
            .and_then(|d| d.attendance.as_deref())
            .is_some_and(|shown| shown != self.attendance_hash())
    }

    /// Whether the minutes would show `item` otherwise than the last minutes document did.
    pub(super) fn minutes_change(
        &self,
        shown: &HashMap<String, String>,
        item: &Item,
    ) -> bool {
        shown.get(&item.id).is_none_or(|h| *h != minutes_hash(item))
    }

    /// Whether the minutes made now from `list` would show something else than `doc` did:
    /// an item's decision or text, an item gone, or the attendance.
    fn differs(&self, doc: &Document, list: &[(StoredItem, Change)]) -> bool {
        let Some(shown) = shown_of(doc) else { return false };
        let active: Vec<&Item> =
            list.iter().map(|(s, _)| &s.item).filter(|i| !i.withdrawn).collect();
        let gone = shown.keys().any(|id| !active.iter().any(|i| i.id == *id));
        gone || doc.attendance.as_deref() != Some(self.attendance_hash().as_str())
            || active.iter().any(|i| self.minutes_change(&shown, i))
    }

    /// Something the last minutes document showed has changed since: corrected minutes
    /// are owed.
    pub(super) fn minutes_changed(&self, list: &[(StoredItem, Change)]) -> bool {
        self.last_minutes().is_some_and(|d| self.differs(d, list))
    }

    /// The draft for approval that shows what the minutes would show now, made after the
    /// last minutes document (`minutes_approval`).
    pub(super) fn current_draft(
        &self,
        list: &[(StoredItem, Change)],
    ) -> Option<&Document> {
        let after = self.last_minutes().map_or(0, |d| d.id);
        let draft = self.documents.iter().rev().find(|d| d.kind.is_minutes_draft())?;
        (draft.id > after && !self.differs(draft, list)).then_some(draft)
    }

    /// Who approved the minutes as they would be made now, and when: the latest approved
    /// draft that shows the same (also once those minutes are sent, for their public
    /// edition).
    pub fn approval(
        &self,
        list: &[(StoredItem, Change)],
    ) -> Option<&(String, Timestamp)> {
        let approved =
            self.documents.iter().rev().filter(|d| self.approvals.contains_key(&d.id));
        approved
            .take(1)
            .find(|d| !self.differs(d, list))
            .and_then(|d| self.approvals.get(&d.id))
    }
}

impl Facts {
    /// The public view of the items for the site, numbered as sent; decisions only when
    /// `with_decisions`. While a correction of the minutes is owed (not yet sent, or waiting
    /// for its approval), the site shows the decisions as the last minutes did.
    pub fn site_items(&self, with_decisions: bool) -> Vec<crate::site::PublicItem> {
        let plan = self.plan();
        let shown = plan.minutes_changed.then(|| self.minutes_shown()).flatten();
        let entries = plan.entries(DocKind::Agenda);
        entries
            .into_iter()
            .map(|(s, _, number)| {
                let item = match &shown {
                    Some(_) => self.minutes_before.get(&s.item.id).unwrap_or(&s.item),
                    None => &s.item,
                };
                let entry = crate::edition::Entry { item, status: "", number };
                let mut p = crate::edition::public_item(&entry);
                let unsent = shown.as_ref().is_some_and(|m| !m.contains_key(&s.item.id));
                if !with_decisions || unsent {
                    p.result = None;
                }
                p
            })
            .collect()
    }
}

/// What differs in the minutes between two versions of an item, in Danish.
fn minutes_fields(old: &Item, new: &Item) -> Vec<&'static str> {
    let text = |i: &Item| i.decision.as_ref().map(|d| d.text.clone());
    let public = |i: &Item| i.decision.as_ref().map(|d| d.public_text.clone());
    let mut what = Vec::new();
    if text(old) != text(new) {
        what.push("beslutningen er rettet");
    }
    if new.closed && public(old) != public(new) {
        what.push("den offentlige beslutning er rettet");
    }
    if !super::changed_fields(old, new).is_empty() || old.public_title != new.public_title
    {
        what.push("punktets tekst er rettet");
    }
    if what.is_empty() {
        what.push("rettet");
    }
    what
}

/// The cover note of corrected minutes, or of a draft for approval (which says what the
/// correction it drafts will say).
pub(super) fn note(facts: &Facts, plan: &Plan, kind: DocKind) -> String {
    let approval = "Udkastet er sendt til formand, næstformand og sekretariatet til godkendelse. Når det er godkendt, sendes referatet til alle.";
    if kind.is_minutes_draft() && !plan.minutes_sent {
        return approval.into();
    }
    let mut lines = Vec::new();
    let shown = facts.minutes_shown().unwrap_or_default();
    for (s, _, n) in plan.entries(kind) {
        if !facts.minutes_change(&shown, &s.item) {
            continue;
        }
        let what = match facts.minutes_before.get(&s.item.id) {
            Some(old) => minutes_fields(old, &s.item),
            None => vec!["nyt i referatet"],
        };
        lines.push(format!("Punkt {n} ({}): {}.", s.item.title, what.join(", ")));
    }
    if facts.attendance_changed() {
        lines.push("Afbud og øvrige deltagere er rettet.".into());
    }
    let note =
        format!("Dette referat erstatter det tidligere udsendte. {}", lines.join(" "));
    if kind.is_minutes_draft() { format!("{approval} {note}") } else { note }
}
