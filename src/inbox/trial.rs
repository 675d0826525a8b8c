//! Acceptance means it renders: new items tried in their meeting's draft before they are accepted.

use std::collections::BTreeMap;

use jiff::civil::Date;

use super::{Candidate, Verdict};
use crate::error::Result;
use crate::item::Item;
use crate::ledger::Ledger;
use crate::report::Problem;

/// Renders a meeting's draft with `items` added; `Some(why)` when it cannot be made because
/// of them (a draft that fails without them too is not their fault).
pub(crate) type Trial<'a> = &'a mut dyn FnMut(&Ledger, Date, &[Item]) -> Option<String>;

/// Acceptance means it renders (issue 13): each meeting's new items are tried together in
/// its draft (the render the draft then reuses); when that fails, each alone, and an item
/// whose draft cannot be made is rejected with the reason. New attachments are stored in
/// `store` first (the workspace's store; `kkr check` a temporary one).
pub(crate) fn try_drafts(
    store: &std::path::Path,
    ledger: &Ledger,
    judged: &mut [(Candidate, Verdict)],
    trial: Trial,
) -> Result<()> {
    let mut meetings: BTreeMap<Date, Vec<usize>> = BTreeMap::new();
    for (i, (_, v)) in judged.iter().enumerate() {
        if let Verdict::Item(checked) = v {
            for a in &checked.attachments {
                a.store(store)?;
            }
            meetings.entry(checked.item.meeting).or_default().push(i);
        }
    }
    let item = |v: &Verdict| match v {
        Verdict::Item(c) => Some(c.item.clone()),
        _ => None,
    };
    for (meeting, idx) in meetings {
        let all: Vec<Item> = idx.iter().filter_map(|&i| item(&judged[i].1)).collect();
        if trial(ledger, meeting, &all).is_none() {
            continue;
        }
        for i in idx {
            let Some(one) = item(&judged[i].1) else { continue };
            if let Some(why) = trial(ledger, meeting, std::slice::from_ref(&one)) {
                judged[i].1 = Verdict::Rejected(vec![unrenderable(
                    ledger, meeting, one, &why, trial,
                )]);
            }
        }
    }
    Ok(())
}

/// Why an item's draft cannot be made, in Danish: the bilag at fault when the item renders
/// without it (each tried alone), else the text; Typst's own words follow as the cause.
fn unrenderable(
    ledger: &Ledger,
    meeting: Date,
    item: Item,
    why: &str,
    trial: Trial,
) -> Problem {
    let without = Item { attachments: Vec::new(), ..item.clone() };
    let culprit = if item.attachments.is_empty()
        || trial(ledger, meeting, std::slice::from_ref(&without)).is_some()
    {
        None
    } else if let [only] = item.attachments.as_slice() {
        Some(only.name.clone())
    } else {
        item.attachments.iter().find_map(|a| {
            let alone = Item { attachments: vec![a.clone()], ..item.clone() };
            trial(ledger, meeting, std::slice::from_ref(&alone)).map(|_| a.name.clone())
        })
    };
    let (message, hint) = match culprit {
        Some(name) => (
            format!(
                "bilaget \"{name}\" kan ikke sættes op i dagsordenen (teknisk årsag: {why})"
            ),
            "bilaget er beskadiget eller for indviklet: gem det igen som PDF (fx »Udskriv til PDF«) eller PNG. Dagsordenens tidligere udkast gælder stadig",
        ),
        None if item.attachments.is_empty() => (
            format!("punktet kan ikke sættes op i dagsordenen (teknisk årsag: {why})"),
            "ret teksten, fx færre lister eller citater i hinanden. Dagsordenens tidligere udkast gælder stadig",
        ),
        None => (
            format!("punktet kan ikke sættes op i dagsordenen (teknisk årsag: {why})"),
            "gem bilagene igen som PDF (fx »Udskriv til PDF«) eller PNG, eller ret teksten. Dagsordenens tidligere udkast gælder stadig",
        ),
    };
    Problem::file(message).hint(hint)
}
