//! Mistakes people make writing items in an office, each named with its root cause and fix
//! instead of the errors that follow from it.

use toml_edit::TableLike;

use super::ITEM_KEYS;
use crate::attachment::AttachmentRef;
use crate::report::Problem;
use crate::spanned::TomlReader;

/// A `[decision]` section placed above the item's fields takes them all as part of the
/// decision: one problem naming the root cause, instead of one for every field it took.
pub(super) fn decision_above_fields(
    r: &TomlReader,
    t: &dyn TableLike,
) -> Option<Problem> {
    let item = t.get("decision")?;
    let decision = item.as_table_like()?;
    let taken: Vec<&str> = decision
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !matches!(*k, "text" | "public_text") && ITEM_KEYS.contains(k))
        .collect();
    if taken.is_empty() {
        return None;
    }
    let (line, column) = r.pos(item.span().as_ref());
    Some(
        Problem::at(
            (line, column),
            format!(
                "[decision] står over punktets felter, så {} hører nu til beslutningen",
                taken.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
        )
        .hint("alt under [decision] hører til beslutningen: flyt [decision] med text (og public_text) ned, så den står sidst, lige over den nederste +++"),
    )
}

/// `"bilag\\plan.pdf"` is valid TOML (`\\p` is not, but `\\f` and `\\t` are escapes): a path
/// with a control character in it was written with Windows' backslashes. Each is reported
/// and left out.
pub(super) fn windows_paths(r: &mut TomlReader, refs: &mut Vec<AttachmentRef>) {
    refs.retain(|a| {
        let a = &a.file;
        let windows = a.value.chars().any(char::is_control);
        if windows {
            r.problem(
                a.span.clone(),
                "stien til bilaget indeholder en omvendt skråstreg (\\)",
                "brug almindelig skråstreg i stier, fx \"bilag/plan.pdf\"",
            );
        }
        !windows
    });
}
