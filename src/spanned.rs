//! Typed reading of TOML that keeps line and column and collects every problem in Danish.

use std::ops::Range;

use toml_edit::{ImDocument, Item, TableLike, Value};

use crate::report::{Lines, Problem};

/// A TOML text inside a file (the whole file, or an item's front matter), with the problems
/// found while reading it.
#[derive(Debug)]
pub(crate) struct TomlReader<'a> {
    /// The whole file, for positions.
    file: &'a str,
    /// Byte offset of the TOML text within the file.
    base: usize,
    /// Line index of the whole file.
    lines: Lines,
    /// Problems found so far.
    pub(crate) problems: Vec<Problem>,
}

/// Longest title (of an item or a bilag), in Unicode code points.
pub const MAX_TITLE_CHARS: usize = 300;

/// The quotation marks Word and other office programs type instead of `"`.
const TYPOGRAPHIC: [char; 9] = ['„', '“', '”', '«', '»', '‘', '’', '‚', '″'];

/// Office mistakes in TOML, line by line: (byte range in `toml`, message, hint), in Danish.
fn mistakes(toml: &str) -> Vec<(Range<usize>, String, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in toml.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some((key, value)) = line.split_once('=') else { continue };
        if key.trim_start().starts_with('#') {
            continue;
        }
        let (key, at) = (key.trim(), start + key.len() + 1);
        let value = value.trim_end();
        let lead = value.len() - value.trim_start().len();
        let v = value.trim_start();
        let span = at + lead..at + value.len();
        if v.starts_with(TYPOGRAPHIC)
            || (v.starts_with('[') && v[1..].trim_start().starts_with(TYPOGRAPHIC))
        {
            out.push((
                span,
                format!("`{key}` står i typografiske anførselstegn (fx „…“ eller ”…”), som kkr ikke kan læse"),
                "skriv lige anførselstegn: \"…\". Word laver dem om af sig selv; brug en teksteditor (Notesblok, TextEdit)".to_owned(),
            ));
        } else if matches!(v.to_lowercase().as_str(), "ja" | "nej") {
            let fix = if v.eq_ignore_ascii_case("ja") { "true" } else { "false" };
            out.push((
                span,
                format!("`{key} = {v}`: ja og nej skrives true og false"),
                format!("skriv {key} = {fix} (uden anførselstegn)"),
            ));
        } else if let Some(bad) = bad_escape(v) {
            out.push((
                span,
                format!("`{key}` indeholder en omvendt skråstreg (\\) i \"{bad}\""),
                "brug almindelig skråstreg i stier, fx \"bilag/plan.pdf\"".to_owned(),
            ));
        }
    }
    out
}

/// The first quoted string of a value with a backslash TOML does not read as an escape.
fn bad_escape(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('"') {
        let after = &rest[open + 1..];
        let close = after.find('"').unwrap_or(after.len());
        let inner = &after[..close];
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\'
                && !matches!(
                    chars.next(),
                    Some('b' | 't' | 'n' | 'f' | 'r' | '"' | '\\' | 'u' | 'U')
                )
            {
                return Some(inner.to_owned());
            }
        }
        rest = &after[(close + 1).min(after.len())..];
    }
    None
}

/// The years a date may have (SPEC: no date can panic anything; schedules reach a few weeks
/// either side of a meeting).
pub(crate) const DATES: std::ops::RangeInclusive<i16> = 2000..=2100;

/// A value read from TOML with its byte range in the TOML text.
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    /// The value.
    pub(crate) value: T,
    /// Where it stands.
    pub(crate) span: Option<Range<usize>>,
}

impl<'a> TomlReader<'a> {
    /// A reader for the TOML text `file[base..]` (the TOML may end before the file does).
    pub(crate) fn new(file: &'a str, base: usize) -> Self {
        Self { file, base, lines: Lines::new(file), problems: Vec::new() }
    }

    /// Parses `toml`; a syntax error becomes a problem and `None`. The common mistakes of
    /// people who write TOML in an office (typographic quotes, `\` in paths, `ja`/`nej`)
    /// are each named with the fix instead of the parser's words.
    pub(crate) fn parse(&mut self, toml: &str) -> Option<ImDocument<String>> {
        match ImDocument::parse(toml.to_owned()) {
            Ok(doc) => Some(doc),
            Err(_) if !mistakes(toml).is_empty() => {
                for (span, message, hint) in mistakes(toml) {
                    self.problem(Some(span), message, hint);
                }
                None
            }
            Err(e) => {
                let msg = match e.message().trim() {
                    "recursion limit exceeded" => {
                        "for mange [ ] eller { } i hinanden".to_owned()
                    }
                    m => m.replace('\n', " "),
                };
                self.problem(
                    e.span(),
                    format!("ugyldig TOML: {msg}"),
                    "tjek anførselstegn (\"…\"), lighedstegn og [sektioner] på linjen",
                );
                None
            }
        }
    }

    /// The 1-based (line, column) of a span in the TOML text.
    pub(crate) fn pos(&self, span: Option<&Range<usize>>) -> (usize, usize) {
        let offset = span.map_or(0, |s| s.start) + self.base;
        self.lines.pos(self.file, offset)
    }

    /// Records a problem at a span.
    pub(crate) fn problem(
        &mut self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let p = Problem::at(self.pos(span.as_ref()), message).hint(hint);
        self.problems.push(p);
    }

    /// Reports every key of `table` that is not in `known`.
    pub(crate) fn unknown_keys(
        &mut self,
        table: &dyn TableLike,
        known: &[&str],
        section: &str,
    ) {
        for (key, item) in table.iter() {
            if !known.contains(&key) {
                let span = table.key(key).and_then(|k| k.span()).or_else(|| item.span());
                let list = known.join(", ");
                self.problem(
                    span,
                    format!("ukendt felt `{key}`{section}"),
                    format!("tilladte felter er: {list} (stavefejl?)"),
                );
            }
        }
    }

    /// A required or optional text field.
    pub(crate) fn string(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        required: bool,
    ) -> Option<At<String>> {
        let item = self.get(t, key, required)?;
        match item.as_str() {
            Some(s) => Some(At { value: s.to_owned(), span: item.span() }),
            None => {
                self.wrong_type(item, key, "en tekst i anførselstegn, fx \"…\"");
                None
            }
        }
    }

    /// A date field: `"2026-03-12"` or the bare TOML date `2026-03-12`.
    pub(crate) fn date(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        required: bool,
    ) -> Option<At<jiff::civil::Date>> {
        let item = self.get(t, key, required)?;
        let text = match (item.as_str(), item.as_datetime()) {
            (Some(s), _) => s.to_owned(),
            (_, Some(d)) if d.time.is_none() && d.offset.is_none() => d.to_string(),
            _ => {
                self.wrong_type(item, key, "en dato som \"2026-03-12\"");
                return None;
            }
        };
        match text.parse::<jiff::civil::Date>() {
            Ok(d) if text.len() == 10 && !DATES.contains(&d.year()) => {
                self.problem(
                    item.span(),
                    format!("`{key}` = \"{text}\" ligger uden for årene 2000–2100"),
                    "tjek årstallet; kkr tager kun datoer fra 2000 til 2100",
                );
                None
            }
            Ok(d) if text.len() == 10 => Some(At { value: d, span: item.span() }),
            _ => {
                self.problem(
                    item.span(),
                    format!("`{key}` er ikke en gyldig dato: \"{text}\""),
                    "skriv datoen som ÅÅÅÅ-MM-DD, fx \"2026-03-12\"",
                );
                None
            }
        }
    }

    /// A clock-time field: `"09:00"`.
    pub(crate) fn time(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        required: bool,
    ) -> Option<At<jiff::civil::Time>> {
        let s = self.string(t, key, required)?;
        let ok = s.value.len() == 5 && s.value.as_bytes()[2] == b':';
        match s.value.parse::<jiff::civil::Time>() {
            Ok(time) if ok => Some(At { value: time, span: s.span }),
            _ => {
                self.problem(
                    s.span,
                    format!("`{key}` er ikke et klokkeslæt: \"{}\"", s.value),
                    "skriv klokkeslættet som TT:MM, fx \"09:00\"",
                );
                None
            }
        }
    }

    /// A yes/no field.
    pub(crate) fn boolean(&mut self, t: &dyn TableLike, key: &str) -> Option<At<bool>> {
        let item = self.get(t, key, false)?;
        match item.as_bool() {
            Some(b) => Some(At { value: b, span: item.span() }),
            None => {
                self.wrong_type(item, key, "true eller false (uden anførselstegn)");
                None
            }
        }
    }

    /// A whole-number field.
    /// An optional integer that must lie in `range`; outside it, `message` and `hint` are
    /// reported at the value and `None` is returned.
    pub(crate) fn integer_in(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        message: &str,
        hint: &str,
    ) -> Option<i64> {
        let n = self.integer(t, key, false)?;
        if range.contains(&n.value) {
            return Some(n.value);
        }
        self.problem(n.span, message, hint);
        None
    }

    pub(crate) fn integer(
        &mut self,
        t: &dyn TableLike,
        key: &str,
        required: bool,
    ) -> Option<At<i64>> {
        let item = self.get(t, key, required)?;
        match item.as_integer() {
            Some(n) => Some(At { value: n, span: item.span() }),
            None => {
                self.wrong_type(item, key, "et helt tal uden anførselstegn, fx 3");
                None
            }
        }
    }

    /// A list of texts: `["a", "b"]`.
    pub(crate) fn strings(&mut self, t: &dyn TableLike, key: &str) -> Vec<At<String>> {
        let Some(item) = self.get(t, key, false) else { return Vec::new() };
        let Some(array) = item.as_array() else {
            self.wrong_type(item, key, "en liste af tekster, fx [\"a\", \"b\"]");
            return Vec::new();
        };
        let mut out = Vec::new();
        for v in array.iter() {
            match v {
                Value::String(s) => {
                    out.push(At { value: s.value().clone(), span: v.span() })
                }
                _ => self.problem(
                    v.span(),
                    format!("`{key}` må kun indeholde tekster i anførselstegn"),
                    "skriv fx [\"bilag/plan.pdf\"]",
                ),
            }
        }
        out
    }

    /// A sub-table, `[name]` or an inline `{ … }`.
    pub(crate) fn table<'t>(
        &mut self,
        t: &'t dyn TableLike,
        key: &str,
    ) -> Option<&'t dyn TableLike> {
        let item = t.get(key)?;
        match item.as_table_like() {
            Some(table) => Some(table),
            None => {
                self.wrong_type(item, key, &format!("en sektion [{key}]"));
                None
            }
        }
    }

    /// Looks up a field; a missing required field is a problem at the start of the table.
    fn get<'t>(
        &mut self,
        t: &'t dyn TableLike,
        key: &str,
        required: bool,
    ) -> Option<&'t Item> {
        let item = t.get(key);
        if item.is_none() && required {
            self.problem(
                None,
                format!("feltet `{key}` mangler"),
                format!(
                    "tilføj en linje `{key} = …` mellem +++-linjerne eller i sektionen"
                ),
            );
        }
        item
    }

    /// Records a value of the wrong type.
    fn wrong_type(&mut self, item: &Item, key: &str, expected: &str) {
        let found = match item.type_name() {
            "string" => "en tekst",
            "integer" => "et tal",
            "float" => "et decimaltal",
            "boolean" => "en sandhedsværdi",
            "datetime" => "en dato/tid",
            "array" => "en liste",
            "table" | "inline table" => "en sektion",
            "array of tables" => "en liste af sektioner",
            _ => "en anden type",
        };
        self.problem(
            item.span(),
            format!("`{key}` skal være {expected}, men er {found}"),
            "ret værdien efter =",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_type_errors_with_positions() {
        let text = "title = 3\nclosed = \"ja\"\n";
        let mut r = TomlReader::new(text, 0);
        let doc = r.parse(text).unwrap();
        assert!(r.string(doc.as_table(), "title", true).is_none());
        assert!(r.boolean(doc.as_table(), "closed").is_none());
        assert_eq!((r.problems[0].line, r.problems[0].col), (1, 9));
        assert_eq!((r.problems[1].line, r.problems[1].col), (2, 10));
        assert!(r.problems[1].message.contains("true eller false"));
    }

    #[test]
    fn syntax_error_has_line() {
        let text = "+++\ntitle = \"a\"\nkind = beslutning\n+++\n";
        let mut r = TomlReader::new(text, 4);
        assert!(r.parse(&text[4..text.len() - 4]).is_none());
        assert_eq!(r.problems[0].line, 3);
        assert!(r.problems[0].message.starts_with("ugyldig TOML"));
    }

    #[test]
    fn office_mistakes_are_named_with_their_fix_each_one() {
        let text = "title = „Praktikpladser“\nclosed = ja\nattachments = [\"bilag\\plan.pdf\"]\n";
        let mut r = TomlReader::new(text, 0);
        assert!(r.parse(text).is_none());
        let messages: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("typografiske anførselstegn"), "{messages:?}");
        assert!(messages[1].contains("ja og nej skrives true og false"), "{messages:?}");
        assert!(messages[2].contains("omvendt skråstreg"), "{messages:?}");
        // A valid escape is not a mistake.
        assert_eq!(bad_escape("\"linje\\nny\""), None);
    }

    #[test]
    fn dates_accept_bare_and_quoted() {
        let text = "a = 2026-03-12\nb = \"2026-03-12\"\nc = \"12-03-2026\"\n";
        let mut r = TomlReader::new(text, 0);
        let doc = r.parse(text).unwrap();
        assert!(r.date(doc.as_table(), "a", true).is_some());
        assert!(r.date(doc.as_table(), "b", true).is_some());
        assert!(r.date(doc.as_table(), "c", true).is_none());
        assert_eq!(r.problems[0].line, 3);
    }
}
