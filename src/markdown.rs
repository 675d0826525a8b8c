//! CommonMark case presentations turned into a block tree the templates render as plain text.

use pulldown_cmark::{Alignment, Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

/// A block of the case presentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Block {
    /// A heading inside the body.
    Heading {
        /// 1–6.
        level: u8,
        /// Its text.
        inlines: Vec<Inline>,
    },
    /// A paragraph.
    Paragraph {
        /// Its text.
        inlines: Vec<Inline>,
    },
    /// A bulleted or numbered list.
    List {
        /// Numbered.
        ordered: bool,
        /// First number of a numbered list.
        start: u64,
        /// Each entry's blocks.
        items: Vec<Vec<Block>>,
    },
    /// A block quote.
    Quote {
        /// Quoted blocks.
        blocks: Vec<Block>,
    },
    /// Preformatted text.
    Code {
        /// The text.
        text: String,
    },
    /// A table with a header row.
    Table {
        /// Column alignments.
        align: Vec<&'static str>,
        /// Header cells.
        header: Vec<Vec<Inline>>,
        /// Body rows.
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// A horizontal rule.
    Rule,
}

/// Text inside a block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Inline {
    /// Plain text.
    Text {
        /// The text, shown literally.
        text: String,
    },
    /// Bold.
    Strong {
        /// Content.
        inlines: Vec<Inline>,
    },
    /// Italic.
    Emph {
        /// Content.
        inlines: Vec<Inline>,
    },
    /// Struck through.
    Strike {
        /// Content.
        inlines: Vec<Inline>,
    },
    /// Inline code.
    Code {
        /// The text.
        text: String,
    },
    /// A hyperlink.
    Link {
        /// Target.
        url: String,
        /// Link text.
        inlines: Vec<Inline>,
    },
    /// A hard line break.
    Linebreak,
}

/// A table being built: alignments, header cells, rows, and whether the header is open.
type TableBuild = (Vec<&'static str>, Vec<Vec<Inline>>, Vec<Vec<Vec<Inline>>>, bool);

/// What is being built at one level of nesting.
enum Frame {
    Blocks(Vec<Block>),
    Inlines(Vec<Inline>),
}

/// Converts Markdown to blocks. Raw HTML and images become literal text; nothing is executed.
pub fn to_blocks(markdown: &str) -> Vec<Block> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut builder = Builder {
        stack: vec![Frame::Blocks(Vec::new())],
        tables: Vec::new(),
        lists: Vec::new(),
        links: Vec::new(),
    };
    for event in Parser::new_ext(&danish_dates(markdown), options) {
        builder.event(event);
    }
    builder.finish()
}

/// A text that wraps before a date (`… med virkning fra⏎1. april 2027.`) is one paragraph,
/// not a paragraph and a numbered list: inside a paragraph, a line that begins with a day
/// number and a Danish month gets its period escaped. A list after a blank line, and any
/// other numbered line, stays a list.
fn danish_dates(markdown: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    let mut changed = false;
    let mut previous_is_text = false;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        let date = indent <= 3
            && (1..=2).contains(&digits)
            && trimmed[digits..].starts_with(". ")
            && crate::clock::MONTHS.iter().any(|m| {
                let rest = &trimmed[digits + 2..];
                rest.starts_with(m)
                    && !rest[m.len()..].starts_with(|c: char| c.is_alphanumeric())
            });
        if date && previous_is_text {
            out.push_str(&line[..indent + digits]);
            out.push('\\');
            out.push_str(&line[indent + digits..]);
            changed = true;
        } else {
            out.push_str(line);
        }
        let t = line.trim();
        previous_is_text = !t.is_empty()
            && !t.starts_with(['#', '>', '|', '`', '~'])
            && !t.starts_with("- ")
            && !t.starts_with("* ")
            && !t.starts_with("+ ");
    }
    if changed { out.into() } else { markdown.into() }
}

/// Deepest nesting of quotes, lists, links and emphasis a body may have: far more than any
/// case presentation needs, far less than what would exhaust a stack when it is converted,
/// serialized or typeset (issue 13).
pub const MAX_DEPTH: usize = 24;

/// Longest run of characters without a space (a word, a URL written out).
pub const MAX_WORD: usize = 500;

/// Most columns and cells of one table.
pub const MAX_COLUMNS: usize = 40;
/// Most cells of one table.
pub const MAX_CELLS: usize = 10_000;

/// Where and why a body is out of bounds, if it is: (byte offset, message, hint), in Danish.
/// It is read as the conversion reads it, without building anything.
pub fn out_of_bounds(markdown: &str) -> Option<(usize, String, String)> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let (mut depth, mut cells, mut columns) = (0usize, 0usize, 0usize);
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        let at = range.start;
        match event {
            Event::Start(tag) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some((
                        at,
                        format!(
                            "teksten er indlejret mere end {MAX_DEPTH} niveauer (citater, lister eller fremhævning i hinanden)"
                        ),
                        "gør opstillingen fladere".into(),
                    ));
                }
                match tag {
                    Tag::Table(align) => {
                        (cells, columns) = (0, align.len());
                    }
                    Tag::TableCell => cells += 1,
                    _ => {}
                }
                if columns > MAX_COLUMNS || cells > MAX_CELLS {
                    return Some((
                        at,
                        format!(
                            "tabellen er for stor (højst {MAX_COLUMNS} kolonner og {MAX_CELLS} celler)"
                        ),
                        "læg store tabeller i et PDF-bilag".into(),
                    ));
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    // Words are measured in the source: escapes and entities (`\\*`, `&amp;`) split a word
    // into several text events, but not on the page.
    let word = markdown.split_whitespace().find(|w| w.chars().count() > MAX_WORD)?;
    let offset = word.as_ptr() as usize - markdown.as_ptr() as usize;
    Some((
        offset,
        format!("et ord er over {MAX_WORD} tegn langt uden mellemrum"),
        "del ordet, eller skriv adressen som et link: [tekst](https://…)".into(),
    ))
}

/// One conversion under way: the frames being built and the extra data of open containers.
struct Builder {
    /// What is being built at each level of nesting; the first frame is the document.
    stack: Vec<Frame>,
    /// Open tables, innermost last (parallel to the tags that opened them).
    tables: Vec<TableBuild>,
    /// Open lists: numbered, first number, and the entries so far.
    lists: Vec<(bool, u64, Vec<Vec<Block>>)>,
    /// The targets of open links.
    links: Vec<String>,
}

impl Builder {
    /// Takes one parser event.
    fn event(&mut self, event: Event<'_>) {
        let stack = &mut self.stack;
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(end) => self.end(end),
            Event::Text(t)
            | Event::Html(t)
            | Event::InlineHtml(t)
            | Event::InlineMath(t)
            | Event::DisplayMath(t)
            | Event::FootnoteReference(t) => {
                push_inline(stack, Inline::Text { text: t.into_string() })
            }
            Event::Code(t) => push_inline(stack, Inline::Code { text: t.into_string() }),
            Event::SoftBreak => push_inline(stack, Inline::Text { text: " ".into() }),
            Event::HardBreak => push_inline(stack, Inline::Linebreak),
            Event::Rule => push_block(stack, Block::Rule),
            Event::TaskListMarker(done) => push_inline(
                stack,
                Inline::Text { text: if done { "☒ " } else { "☐ " }.into() },
            ),
        }
    }

    /// Opens a frame for a tag, or records a list's, table's or link's data.
    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph
            | Tag::Heading { .. }
            | Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::TableCell
            | Tag::Image { .. } => self.stack.push(Frame::Inlines(Vec::new())),
            Tag::Link { dest_url, .. } => {
                self.links.push(dest_url.into_string());
                self.stack.push(Frame::Inlines(Vec::new()));
            }
            Tag::BlockQuote(_)
            | Tag::Item
            | Tag::FootnoteDefinition(_)
            | Tag::HtmlBlock => self.stack.push(Frame::Blocks(Vec::new())),
            Tag::CodeBlock(_) => self.stack.push(Frame::Inlines(Vec::new())),
            Tag::List(start) => {
                self.lists.push((start.is_some(), start.unwrap_or(1), Vec::new()))
            }
            Tag::Table(align) => {
                let align = align.iter().map(|a| match a {
                    Alignment::None => "none",
                    Alignment::Left => "left",
                    Alignment::Center => "center",
                    Alignment::Right => "right",
                });
                self.tables.push((align.collect(), Vec::new(), Vec::new(), false));
            }
            Tag::TableHead => {
                if let Some(t) = self.tables.last_mut() {
                    t.3 = true;
                }
            }
            Tag::TableRow => {
                if let Some(t) = self.tables.last_mut() {
                    t.2.push(Vec::new());
                }
            }
            _ => self.stack.push(Frame::Inlines(Vec::new())),
        }
    }

    /// Closes a list or table, or the frame the tag opened.
    fn end(&mut self, end: TagEnd) {
        match end {
            TagEnd::List(_) => {
                if let Some((ordered, start, items)) = self.lists.pop() {
                    push_block(&mut self.stack, Block::List { ordered, start, items });
                }
            }
            TagEnd::Table => {
                if let Some((align, header, rows, _)) = self.tables.pop() {
                    push_block(&mut self.stack, Block::Table { align, header, rows });
                }
            }
            TagEnd::TableHead => {
                if let Some(t) = self.tables.last_mut() {
                    t.3 = false;
                }
            }
            TagEnd::TableRow => {}
            _ => {
                let frame = self.stack.pop().unwrap_or(Frame::Inlines(Vec::new()));
                self.close(end, frame);
            }
        }
    }

    /// Turns a closed frame into what its tag makes and adds it to the enclosing frame.
    fn close(&mut self, end: TagEnd, frame: Frame) {
        let stack = &mut self.stack;
        match (end, frame) {
            (TagEnd::Paragraph, Frame::Inlines(inlines)) => {
                push_block(stack, Block::Paragraph { inlines })
            }
            (TagEnd::Heading(level), Frame::Inlines(inlines)) => {
                push_block(stack, Block::Heading { level: level as u8, inlines })
            }
            (TagEnd::Emphasis, Frame::Inlines(inlines)) => {
                push_inline(stack, Inline::Emph { inlines })
            }
            (TagEnd::Strong, Frame::Inlines(inlines)) => {
                push_inline(stack, Inline::Strong { inlines })
            }
            (TagEnd::Strikethrough, Frame::Inlines(inlines)) => {
                push_inline(stack, Inline::Strike { inlines })
            }
            (TagEnd::Link, Frame::Inlines(inlines)) => {
                let url = self.links.pop().unwrap_or_default();
                if is_safe_link(&url) {
                    push_inline(stack, Inline::Link { url, inlines });
                } else {
                    // `javascript:`, `data:`, `file:`, relative paths: shown as text only.
                    for i in inlines {
                        push_inline(stack, i);
                    }
                }
            }
            (TagEnd::Image, Frame::Inlines(inlines)) => {
                // Images in the body are not fetched; their description stays as text.
                for i in inlines {
                    push_inline(stack, i);
                }
            }
            (TagEnd::CodeBlock, Frame::Inlines(inlines)) => {
                let text = inlines.iter().map(plain).collect::<String>();
                push_block(
                    stack,
                    Block::Code { text: text.trim_end_matches('\n').to_owned() },
                );
            }
            (TagEnd::TableCell, Frame::Inlines(inlines)) => {
                if let Some(t) = self.tables.last_mut() {
                    if t.3 {
                        t.1.push(inlines);
                    } else if let Some(row) = t.2.last_mut() {
                        row.push(inlines);
                    }
                }
            }
            (TagEnd::Item, Frame::Blocks(blocks)) => {
                if let Some(l) = self.lists.last_mut() {
                    l.2.push(blocks);
                }
            }
            (TagEnd::BlockQuote(_), Frame::Blocks(blocks)) => {
                push_block(stack, Block::Quote { blocks })
            }
            (_, Frame::Blocks(blocks)) => {
                blocks.into_iter().for_each(|b| push_block(stack, b))
            }
            (_, Frame::Inlines(inlines)) => {
                inlines.into_iter().for_each(|i| push_inline(stack, i))
            }
        }
    }

    /// Closes what the document left open and returns its blocks.
    fn finish(mut self) -> Vec<Block> {
        let stack = &mut self.stack;
        while stack.len() > 1 {
            match stack.pop() {
                Some(Frame::Blocks(b)) => {
                    b.into_iter().for_each(|b| push_block(stack, b))
                }
                Some(Frame::Inlines(i)) => {
                    i.into_iter().for_each(|i| push_inline(stack, i))
                }
                None => {}
            }
        }
        match stack.pop() {
            Some(Frame::Blocks(blocks)) => blocks,
            _ => Vec::new(),
        }
    }
}

/// The plain text of an inline, for code blocks.
fn plain(inline: &Inline) -> String {
    match inline {
        Inline::Text { text } | Inline::Code { text } => text.clone(),
        Inline::Strong { inlines }
        | Inline::Emph { inlines }
        | Inline::Strike { inlines }
        | Inline::Link { inlines, .. } => inlines.iter().map(plain).collect(),
        Inline::Linebreak => "\n".into(),
    }
}

/// Adds a block to the innermost block container; inside inline context (tight list items)
/// the block's text is kept as inlines.
fn push_block(stack: &mut [Frame], block: Block) {
    match stack.last_mut() {
        Some(Frame::Blocks(blocks)) => blocks.push(block),
        Some(Frame::Inlines(inlines)) => {
            if let Block::Paragraph { inlines: more }
            | Block::Heading { inlines: more, .. } = block
            {
                inlines.extend(more);
            }
        }
        None => {}
    }
}

/// Adds an inline to the innermost inline container, opening a paragraph when a block
/// container (a tight list item) receives text directly.
fn push_inline(stack: &mut [Frame], inline: Inline) {
    match stack.last_mut() {
        Some(Frame::Inlines(inlines)) => {
            // Merge adjacent text so templates get whole sentences.
            if let (Some(Inline::Text { text: prev }), Inline::Text { text }) =
                (inlines.last_mut(), &inline)
            {
                prev.push_str(text);
            } else {
                inlines.push(inline);
            }
        }
        Some(Frame::Blocks(blocks)) => match blocks.last_mut() {
            Some(Block::Paragraph { inlines }) => inlines.push(inline),
            _ => blocks.push(Block::Paragraph { inlines: vec![inline] }),
        },
        None => {}
    }
}

/// Whether a link may be clickable in a document: only `https:`, `http:` and `mailto:`
/// (SPEC: links in PDFs, HTML and mail); control characters and white space, which browsers
/// and viewers skip, are ignored when looking at the scheme.
pub fn is_safe_link(url: &str) -> bool {
    let clean: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    ["https:", "http:", "mailto:"].iter().any(|s| clean.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_that_wraps_to_a_new_line_stays_text_and_real_lists_stay_lists() {
        let text = to_blocks("Han udtræder med virkning fra\n1. april 2027.\n");
        assert!(matches!(text.as_slice(), [Block::Paragraph { .. }]), "{text:?}");
        let json = serde_json::to_string(&text).unwrap();
        assert!(json.contains("1. april 2027."), "{json}");
        let list = to_blocks("Formanden foreslår:\n\n1. sundhed\n2. trafik\n");
        assert!(
            matches!(list.as_slice(), [Block::Paragraph { .. }, Block::List { .. }]),
            "{list:?}"
        );
        let after = to_blocks("Fristerne er:\n1. marts for ansøgning\n");
        assert!(matches!(after.as_slice(), [Block::Paragraph { .. }]), "{after:?}");
        assert_eq!(danish_dates("Tekst\n1. aprilsnar\n"), "Tekst\n1. aprilsnar\n");
    }

    fn text(s: &str) -> Inline {
        Inline::Text { text: s.into() }
    }

    #[test]
    fn headings_paragraphs_and_emphasis() {
        let b = to_blocks("## Baggrund\n\nEn *vigtig* og **fed** sag.\n");
        assert_eq!(b[0], Block::Heading { level: 2, inlines: vec![text("Baggrund")] });
        assert_eq!(
            b[1],
            Block::Paragraph {
                inlines: vec![
                    text("En "),
                    Inline::Emph { inlines: vec![text("vigtig")] },
                    text(" og "),
                    Inline::Strong { inlines: vec![text("fed")] },
                    text(" sag."),
                ]
            }
        );
    }

    #[test]
    fn tight_and_loose_lists() {
        let b = to_blocks("- en\n- to\n\n1. a\n\n2. b\n");
        let Block::List { ordered: false, items, .. } = &b[0] else { panic!("{b:?}") };
        assert_eq!(items[1], vec![Block::Paragraph { inlines: vec![text("to")] }]);
        let Block::List { ordered: true, start: 1, items } = &b[1] else {
            panic!("{b:?}")
        };
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn tables_have_header_and_rows() {
        let b = to_blocks(
            "| Kommune | Pladser |\n|---|--:|\n| Tårnby | 12 |\n| Dragør | 4 |\n",
        );
        let Block::Table { align, header, rows } = &b[0] else { panic!("{b:?}") };
        assert_eq!(align, &["none", "right"]);
        assert_eq!(header[0], vec![text("Kommune")]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][1], vec![text("4")]);
    }

    #[test]
    fn links_keep_url_and_html_stays_text() {
        let b = to_blocks("Se [KL](https://www.kl.dk) <script>alert(1)</script>\n");
        let Block::Paragraph { inlines } = &b[0] else { panic!() };
        assert_eq!(
            inlines[1],
            Inline::Link { url: "https://www.kl.dk".into(), inlines: vec![text("KL")] }
        );
        assert!(
            matches!(&inlines[2], Inline::Text { text } if text.contains("<script>"))
        );
    }

    #[test]
    fn only_web_and_mail_links_stay_links() {
        for url in [
            "javascript:alert(1)",
            "JaVa\tScript:x",
            "data:text/html,x",
            "file:///etc/passwd",
            "bilag.pdf",
            " vbscript:x",
        ] {
            let b = to_blocks(&format!("[klik](<{url}>)\n"));
            let Block::Paragraph { inlines } = &b[0] else { panic!() };
            assert_eq!(inlines, &vec![text("klik")], "{url}");
        }
        for url in ["https://www.kl.dk", "HTTP://kl.dk", "mailto:a@example.org"] {
            assert!(is_safe_link(url), "{url}");
        }
    }

    #[test]
    fn deep_nesting_huge_tables_and_endless_words_are_out_of_bounds() {
        let deep = format!("{} citat\n", ">".repeat(100_000));
        assert!(out_of_bounds(&deep).unwrap().1.contains("indlejret"));
        let lists: String =
            (0..30).map(|i| format!("{}- punkt\n", "  ".repeat(i))).collect();
        assert!(out_of_bounds(&lists).is_some());
        let wide = format!("|{}\n|{}\n", "a|".repeat(100), "-|".repeat(100));
        assert!(out_of_bounds(&wide).unwrap().1.contains("tabellen"));
        assert!(
            out_of_bounds(&"a&amp;".repeat(60_000)).is_some(),
            "entities do not split words"
        );
        let word = format!("Se {}\n", "æ".repeat(600));
        let (at, message, _) = out_of_bounds(&word).unwrap();
        assert!(message.contains("500 tegn") && word.is_char_boundary(at));
        let normal = "## Baggrund\n\n> Et citat med **fed** og en [lænke](https://kl.dk).\n\n- en\n  - to\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        assert_eq!(out_of_bounds(normal), None);
    }

    #[test]
    fn typst_syntax_is_just_text() {
        let b = to_blocks("#panic(\"x\") $ ] \\\\ {{x}}\n");
        let Block::Paragraph { inlines } = &b[0] else { panic!() };
        assert_eq!(inlines, &vec![text("#panic(\"x\") $ ] \\ {{x}}")]);
    }
}
