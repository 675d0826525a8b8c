//! Problems with input files, located by line and column and rendered in Danish.

use std::fmt;

/// One thing wrong with an input file, with where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file (0 when the problem concerns the whole file).
    pub line: usize,
    /// 1-based column in characters.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem at a position.
    pub fn at(pos: (usize, usize), message: impl Into<String>) -> Self {
        Self { line: pos.0, col: pos.1, message: message.into(), hint: None }
    }

    /// A problem with the file as a whole (reported at line 1, column 1).
    pub fn file(message: impl Into<String>) -> Self {
        Self::at((1, 1), message)
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Every problem of one file, printable as `file:line:col: fejl: …` lines with hints.
#[derive(Debug, Clone)]
pub struct FileReport<'a> {
    /// The file as the user knows it (relative to the workspace).
    pub path: &'a str,
    /// Its problems, in file order.
    pub problems: &'a [Problem],
}

impl fmt::Display for FileReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut problems: Vec<&Problem> = self.problems.iter().collect();
        problems.sort_by_key(|p| (p.line, p.col));
        for p in problems {
            writeln!(f, "{}:{}:{}: fejl: {}", self.path, p.line, p.col, p.message)?;
            if let Some(hint) = &p.hint {
                writeln!(f, "  hjælp: {hint}")?;
            }
        }
        Ok(())
    }
}

/// Maps byte offsets in a text to 1-based line and character column.
#[derive(Debug, Clone)]
pub struct Lines {
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
}

impl Lines {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// The 1-based (line, column) of byte `offset` in `text`.
    pub fn pos(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col =
            text.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let text = "ab\næøå x\n";
        let lines = Lines::new(text);
        assert_eq!(lines.pos(text, 0), (1, 1));
        assert_eq!(lines.pos(text, 3), (2, 1));
        assert_eq!(lines.pos(text, text.find('x').unwrap()), (2, 5));
    }

    #[test]
    fn report_renders_file_line_col() {
        let problems =
            [Problem::at((3, 9), "ukendt møde").hint("brug en dato fra council.toml")];
        let out = FileReport { path: "inbox/a.md", problems: &problems }.to_string();
        assert_eq!(
            out,
            "inbox/a.md:3:9: fejl: ukendt møde\n  hjælp: brug en dato fra council.toml\n"
        );
    }
}
