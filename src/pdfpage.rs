//! A PDF attachment's pages as SVG images, in the form Typst's PDF export writes fastest.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Range;

/// Converts each page of a PDF to SVG (as Typst's own SVG export does), using the standard
/// PDF fonts that Typst embeds. Typst 0.15 cannot place PDF pages in PDF/A or PDF/UA output;
/// SVG pages it can. The glyph outlines are then given integer coordinates
/// ([`integer_glyph_outlines`]).
#[cfg(test)]
pub(crate) fn page_svgs(bytes: &[u8]) -> Vec<String> {
    let Ok(pdf) = hayro_syntax::Pdf::new(bytes.to_vec()) else { return Vec::new() };
    page_svgs_of(&pdf)
}

/// Most pages an attachment may have.
pub(crate) const MAX_PAGES: usize = 500;

/// What the worker job `pdf-pages` answers, as JSON.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum PagesAnswer {
    /// The page count and each page as SVG.
    Pages(u32, Vec<String>),
    /// Encrypted or password-protected.
    Encrypted,
    /// Cannot be read.
    Damaged,
    /// No pages.
    Empty,
    /// More than [`MAX_PAGES`] pages.
    TooManyPages(usize),
}

/// The worker job `pdf-pages` (run behind [`crate::sandbox`]): a PDF's page count and pages
/// as SVG, as JSON.
pub(crate) fn pages_job(bytes: &[u8]) -> Vec<u8> {
    let answer = match hayro_syntax::Pdf::new(bytes.to_vec()) {
        Err(hayro_syntax::LoadPdfError::Decryption(_)) => PagesAnswer::Encrypted,
        Err(_) => PagesAnswer::Damaged,
        Ok(pdf) if pdf.pages().is_empty() => PagesAnswer::Empty,
        Ok(pdf) if pdf.pages().len() > MAX_PAGES => {
            PagesAnswer::TooManyPages(pdf.pages().len())
        }
        Ok(pdf) => PagesAnswer::Pages(pdf.pages().len() as u32, page_svgs_of(&pdf)),
    };
    serde_json::to_vec(&answer).expect("answers serialize")
}

fn page_svgs_of(pdf: &hayro_syntax::Pdf) -> Vec<String> {
    hayro_page_svgs(pdf).iter().map(|svg| integer_glyph_outlines(svg)).collect()
}

/// Each page as `hayro_svg` writes it.
fn hayro_page_svgs(pdf: &hayro_syntax::Pdf) -> Vec<String> {
    use hayro_svg::hayro_interpret::InterpreterSettings;
    use hayro_svg::hayro_interpret::font::{FontData, FontQuery, StandardFont};
    use std::sync::Arc;
    let standard = |font: StandardFont| -> Option<(FontData, u32)> {
        use typst_assets::pdf as f;
        let bytes: &'static [u8] = match font {
            StandardFont::Helvetica => f::SANS,
            StandardFont::HelveticaBold => f::SANS_BOLD,
            StandardFont::HelveticaOblique => f::SANS_ITALIC,
            StandardFont::HelveticaBoldOblique => f::SANS_BOLD_ITALIC,
            StandardFont::Courier => f::FIXED,
            StandardFont::CourierBold => f::FIXED_BOLD,
            StandardFont::CourierOblique => f::FIXED_ITALIC,
            StandardFont::CourierBoldOblique => f::FIXED_BOLD_ITALIC,
            StandardFont::TimesRoman => f::SERIF,
            StandardFont::TimesBold => f::SERIF_BOLD,
            StandardFont::TimesItalic => f::SERIF_ITALIC,
            StandardFont::TimesBoldItalic => f::SERIF_BOLD_ITALIC,
            StandardFont::ZapfDingBats => f::DING_BATS,
            StandardFont::Symbol => f::SYMBOL,
        };
        Some((Arc::new(bytes), 0))
    };
    let settings = InterpreterSettings {
        font_resolver: Arc::new(move |query| match query {
            FontQuery::Standard(s) => standard(*s),
            FontQuery::Fallback(f) => standard(f.pick_standard_font()),
        }),
        cmap_resolver: Arc::new(|_| None),
        warning_sink: Arc::new(|_| {}),
        render_annotations: false,
    };
    let cache = hayro_svg::RenderCache::new();
    let render = hayro_svg::SvgRenderSettings { bg_color: [255, 255, 255, 255] };
    pdf.pages()
        .iter()
        .map(|page| hayro_svg::convert(page, &cache, &settings, &render))
        .collect()
}

/// The factor glyph outlines are scaled by: coordinates in 1/1000 pt.
const SCALE: f64 = 1000.0;

/// Rewrites a page SVG from `hayro_svg` so that its glyph outlines have integer coordinates.
///
/// hayro writes each glyph as its own outline (`<defs id="outline-glyph"><path id="g7" d=..>`)
/// in page coordinates with decimals (`64.795`), drawn by a `<use href="#g7">`. Typst's PDF
/// export turns every coordinate of every outline into text again on every render, and a
/// decimal takes several times longer to write than an integer (which `pdf-writer` formats
/// without `ryu`): for a page of text that was about a tenth of a warm agenda render. Here the
/// outline is scaled by 1000 and rounded (to 1/1000 of a unit of the outline's coordinates,
/// which are page points in hayro's output: far below what any screen or printer shows) and
/// moved so that it starts at 0,0, and its `<use>` gets the inverse scale and the move, so
/// the page looks the same. Moved to the origin, every `e` of a page has (nearly) the same
/// outline, which the PDF's deflate compresses about three times smaller and faster than the
/// same glyphs in page coordinates (each a different string).
///
/// Only what hayro writes is rewritten: an outline path with just `id` and `d`, whose every
/// reference is a `<use>` that only places it and fills it with a plain colour, with no
/// stroke or paint server inherited from an ancestor (a stroke width, a pattern or a clip in
/// the glyph's own coordinates would need scaling too). Anything else, an SVG with CSS
/// styles, or one that does not parse, is left unchanged.
pub(crate) fn integer_glyph_outlines(svg: &str) -> String {
    let Ok(doc) = roxmltree::Document::parse(svg) else { return svg.to_owned() };
    // CSS could paint or stroke the glyphs in their own coordinates (hayro only puts a
    // background colour on the root).
    let css = |n: roxmltree::Node| {
        n.has_tag_name("style")
            || n.attribute("style")
                .is_some_and(|s| s.contains("fill") || s.contains("stroke"))
    };
    if doc.descendants().any(css) {
        return svg.to_owned();
    }
    // The glyph outlines: id → the range of their `d` value.
    let mut outlines: BTreeMap<&str, Range<usize>> = BTreeMap::new();
    let mut unsafe_ids = BTreeSet::new();
    for defs in doc.descendants().filter(|n| n.has_tag_name("defs")) {
        if defs.attribute("id") != Some("outline-glyph") {
            continue;
        }
        for path in defs.children().filter(|n| n.has_tag_name("path")) {
            let (Some(id), Some(d)) = (path.attribute("id"), path.attribute_node("d"))
            else {
                continue;
            };
            let only_id_and_d = path
                .attributes()
                .all(|a| a.namespace().is_none() && matches!(a.name(), "id" | "d"));
            if !only_id_and_d || !verbatim(svg, &d) || outlines.contains_key(id) {
                unsafe_ids.insert(id);
            }
            outlines.insert(id, d.range_value());
        }
    }
    if outlines.is_empty() {
        return svg.to_owned();
    }
    // Every element that refers to an outline (one entry per element), and the outlines
    // that cannot be rewritten.
    let mut uses = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let refs: Vec<(&str, roxmltree::Attribute)> = node
            .attributes()
            .filter_map(|attr| {
                let value = attr.value();
                let id = value.strip_prefix('#').or_else(|| {
                    value.strip_prefix("url(#").and_then(|v| v.strip_suffix(')'))
                })?;
                outlines.contains_key(id).then_some((id, attr))
            })
            .collect();
        let plain = match refs.as_slice() {
            [(_, attr)] if attr.name() == "href" => plain_use(svg, node),
            _ => None,
        };
        match (refs.as_slice(), plain) {
            ([(id, href)], Some(transform)) => {
                uses.push((*id, node, href.range(), transform))
            }
            _ => unsafe_ids.extend(refs.iter().map(|(id, _)| *id)),
        }
    }
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    // Where each rewritten outline started, in scaled units.
    let mut origins: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (id, range) in &outlines {
        if unsafe_ids.contains(id) {
            continue;
        }
        match scaled_path_data(&svg[range.clone()]) {
            Some((d, origin)) => {
                edits.push((range.clone(), d));
                origins.insert(id, origin);
            }
            None => {
                unsafe_ids.insert(id);
            }
        }
    }
    for (id, node, href, transform) in uses {
        // Only the outlines rewritten above (none of `unsafe_ids`).
        let Some(&(x0, y0)) = origins.get(id) else { continue };
        // The use's transform, then the move back from the origin, then the inverse scale.
        let [a, b, c, d, e, f] = transform;
        let k = 1.0 / SCALE;
        let (e, f) = (e + (a * x0 + c * y0) * k, f + (b * x0 + d * y0) * k);
        let matrix = format!("matrix({} {} {} {} {e} {f})", a * k, b * k, c * k, d * k);
        match node.attribute_node("transform") {
            Some(attr) => edits.push((attr.range_value(), matrix)),
            // Right after the reference, however the element's tag is spelled.
            None => edits.push((href.end..href.end, format!(" transform=\"{matrix}\""))),
        }
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(svg.len());
    let mut at = 0;
    for (range, text) in edits {
        // Overlapping edits cannot come from the checks above; if they ever did, the page
        // stays as it was rather than broken.
        let Some(before) = svg.get(at..range.start) else { return svg.to_owned() };
        out.push_str(before);
        out.push_str(&text);
        at = range.end;
    }
    out.push_str(&svg[at..]);
    out
}

/// Whether an attribute's value stands in the file as it reads (no entities), so its range
/// can be replaced.
fn verbatim(svg: &str, attr: &roxmltree::Attribute) -> bool {
    svg.get(attr.range_value()) == Some(attr.value())
}

/// The transform of a `<use>` that only places and fills (a plain colour), as a matrix
/// `[a b c d e f]`; `None` for anything else.
fn plain_use(svg: &str, node: roxmltree::Node) -> Option<[f64; 6]> {
    const XLINK: &str = "http://www.w3.org/1999/xlink";
    if !node.has_tag_name("use") {
        return None;
    }
    let mut transform = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    for attr in node.attributes() {
        match (attr.namespace(), attr.name()) {
            (None | Some(XLINK), "href") => {}
            (None, "fill") if !attr.value().contains("url(") => {}
            (None, "fill-opacity" | "fill-rule") => {}
            (None, "transform") if verbatim(svg, &attr) => {
                transform = parse_transform(attr.value())?;
            }
            _ => return None,
        }
    }
    // Nothing inherited that is measured in the glyph's coordinates.
    let inherited = node.ancestors().skip(1).filter(|a| a.is_element()).any(|a| {
        a.attributes().any(|attr| {
            let name = attr.name();
            (name.starts_with("stroke") && attr.value() != "none")
                || (name == "fill" && attr.value().contains("url("))
        })
    });
    (!inherited).then_some(transform)
}

/// One SVG transform function (`matrix`, `translate`, `scale`, as hayro writes them).
fn parse_transform(text: &str) -> Option<[f64; 6]> {
    let (name, rest) = text.trim().split_once('(')?;
    let args: Vec<f64> = rest
        .strip_suffix(')')?
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()?;
    match (name.trim(), args.as_slice()) {
        ("matrix", &[a, b, c, d, e, f]) => Some([a, b, c, d, e, f]),
        ("translate", &[x]) => Some([1.0, 0.0, 0.0, 1.0, x, 0.0]),
        ("translate", &[x, y]) => Some([1.0, 0.0, 0.0, 1.0, x, y]),
        ("scale", &[s]) => Some([s, 0.0, 0.0, s, 0.0, 0.0]),
        ("scale", &[x, y]) => Some([x, 0.0, 0.0, y, 0.0, 0.0]),
        _ => None,
    }
}

/// Path data with every number scaled by [`SCALE`] and rounded, then moved so that its first
/// point is 0,0, and that first point (scaled); `None` if it holds anything but the absolute
/// commands hayro writes (M, L, C, Q, Z, each with whole coordinate pairs) or a number too
/// large for an exact `f32`.
fn scaled_path_data(d: &str) -> Option<(String, (f64, f64))> {
    let bytes = d.as_bytes();
    let mut out = String::with_capacity(d.len());
    // The first point, and how many numbers have been read (even: the next is an x).
    let mut origin = (0.0, 0.0);
    let mut numbers = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.') {
            let start = i;
            i += 1;
            while i < bytes.len() {
                let n = bytes[i];
                let exponent_sign =
                    matches!(n, b'-' | b'+') && matches!(bytes[i - 1], b'e' | b'E');
                if n.is_ascii_digit() || matches!(n, b'.' | b'e' | b'E') || exponent_sign
                {
                    i += 1;
                } else {
                    break;
                }
            }
            let value: f64 = d[start..i].parse().ok()?;
            let scaled = (value * SCALE).round();
            // f32 holds every integer up to 2^24 exactly.
            if !scaled.is_finite() || scaled.abs() >= 16_000_000.0 {
                return None;
            }
            let relative = match numbers {
                0 => {
                    origin.0 = scaled;
                    0.0
                }
                1 => {
                    origin.1 = scaled;
                    0.0
                }
                n if n.is_multiple_of(2) => scaled - origin.0,
                _ => scaled - origin.1,
            };
            if relative.abs() >= 16_000_000.0 {
                return None;
            }
            numbers += 1;
            // `1-2` read as two numbers; `0 0` must not be written as `00`.
            if relative >= 0.0 && out.ends_with(|c: char| c.is_ascii_digit()) {
                out.push(' ');
            }
            let _ = write!(out, "{}", relative as i64);
        } else if matches!(c, b'M' | b'L' | b'C' | b'Q' | b'Z') {
            // A command starts after whole pairs only.
            if !numbers.is_multiple_of(2) {
                return None;
            }
            out.push(char::from(c));
            i += 1;
        } else if matches!(c, b' ' | b',') {
            out.push(char::from(c));
            i += 1;
        } else {
            return None;
        }
    }
    numbers.is_multiple_of(2).then_some((out, origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_numbers_are_scaled_to_integers() {
        assert_eq!(
            scaled_path_data("M60.67,776.48 L64.795,776.48 C-1,2e-3 3 4 5 6 Z").unwrap(),
            (
                "M0,0 L4125,0 C-61670,-776478 -57670 -772480 -55670 -770480 Z".to_owned(),
                (60670.0, 776480.0)
            )
        );
        assert_eq!(
            scaled_path_data("M1-2L3-4").unwrap(),
            ("M0 0L2000-2000".to_owned(), (1000.0, -2000.0))
        );
        // The same outline elsewhere on the page is the same text.
        let (here, _) = scaled_path_data("M10.5 20 L11 21.25 Z").unwrap();
        let (there, _) = scaled_path_data("M300.5 -7 L301 -5.75 Z").unwrap();
        assert_eq!(here, there);
        assert_eq!(scaled_path_data("M1 2 3 L4 5"), None, "an unpaired coordinate");
        assert_eq!(
            scaled_path_data("M1 2 L4"),
            None,
            "an unpaired coordinate at the end"
        );
        assert_eq!(scaled_path_data("A1 1 0 0 1 2 2"), None, "arcs are left alone");
        assert_eq!(scaled_path_data("M1e30 0"), None, "too large for an exact f32");
        assert_eq!(scaled_path_data("M1.2.3 0"), None);
    }

    const PAGE: &str = r##"<svg viewBox="0 0 100 100" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
    <use xlink:href="#g0" transform="matrix(1 0 0 -1 0 841.89)" fill="#000000"/>
    <use xlink:href="#g1" fill="#ff0000" fill-opacity="0.5"/>
    <use xlink:href="#g2" transform="translate(1 2)" fill="none" stroke="#000000" stroke-width="0.5"/>
    <use xlink:href="#g3" transform="scale(2)" fill="url(#p0)"/>
    <path d="M1.5,2.5 L3.25,4 Z" fill="#dce4f0"/>
    <defs id="outline-glyph">
        <path id="g0" d="M60.67,776.48 L64.795,776.48 Z"/>
        <path id="g1" d="M0.5,0.25 Q1,1 2,2 Z"/>
        <path id="g2" d="M1.5,2.5 L3,4 Z"/>
        <path id="g3" d="M1.5,2.5 L3,4 Z"/>
    </defs>
</svg>"##;

    #[test]
    fn plain_filled_glyphs_get_integer_outlines_and_the_inverse_scale() {
        let out = integer_glyph_outlines(PAGE);
        let doc = roxmltree::Document::parse(&out).unwrap();
        let transform = |id: &str| {
            let node = doc
                .descendants()
                .find(|n| {
                    n.attribute(("http://www.w3.org/1999/xlink", "href")) == Some(id)
                })
                .unwrap();
            parse_transform(node.attribute("transform").unwrap()).unwrap()
        };
        let near = |got: [f64; 6], want: [f64; 6]| {
            got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-9)
        };
        assert!(out.contains(r#"<path id="g0" d="M0,0 L4125,0 Z"/>"#), "{out}");
        // The use's own transform, then the move from the origin, then the inverse scale:
        // the first point lands where it was (60.67, 841.89 - 776.48).
        let t = transform("#g0");
        assert!(near(t, [0.001, 0.0, 0.0, -0.001, 60.67, 841.89 - 776.48]), "{t:?}");
        assert!(out.contains(r##"fill="#000000"/>"##), "{out}");
        // No transform before: one is added.
        assert!(
            out.contains(r#"<path id="g1" d="M0,0 Q500,750 1500,1750 Z"/>"#),
            "{out}"
        );
        let t = transform("#g1");
        assert!(near(t, [0.001, 0.0, 0.0, 0.001, 0.5, 0.25]), "{t:?}");
        assert!(
            out.contains(r##"<use xlink:href="#g1" transform="matrix(0.001 0 0 0.001 0.5 0.25)" fill"##),
            "{out}"
        );
        // A stroked glyph and one filled with a pattern keep their form, as do other paths.
        assert!(out.contains(r#"<path id="g2" d="M1.5,2.5 L3,4 Z"/>"#), "{out}");
        assert!(out.contains(r#"transform="translate(1 2)""#), "{out}");
        assert!(out.contains(r#"<path id="g3" d="M1.5,2.5 L3,4 Z"/>"#), "{out}");
        assert!(out.contains(r#"transform="scale(2)""#), "{out}");
        assert!(out.contains(r#"<path d="M1.5,2.5 L3.25,4 Z""#), "{out}");
        assert!(roxmltree::Document::parse(&out).is_ok());
    }

    #[test]
    fn a_glyph_also_used_in_another_way_is_left_alone() {
        let page = PAGE.replace(
            "<path d=\"M1.5",
            "<use xlink:href=\"#g0\" clip-path=\"url(#c0)\"/><path d=\"M1.5",
        );
        let out = integer_glyph_outlines(&page);
        assert!(
            out.contains(r#"<path id="g0" d="M60.67,776.48 L64.795,776.48 Z"/>"#),
            "{out}"
        );
        assert!(out.contains(r#"transform="matrix(1 0 0 -1 0 841.89)""#), "{out}");
    }

    #[test]
    fn odd_references_and_styles_leave_the_glyph_alone_without_panicking() {
        let g0 = r#"<path id="g0" d="M60.67,776.48 L64.795,776.48 Z"/>"#;
        let cases = [
            // Two references on one element (one plain, one namespaced).
            PAGE.replace(r##"<use xlink:href="#g0""##, r##"<use href="#g0" xlink:href="#g0""##),
            // A glyph path with more than `id` and `d`.
            PAGE.replace(g0, r#"<path id="g0" transform="translate(5 5)" d="M60.67,776.48 L64.795,776.48 Z"/>"#),
            // Two outlines with one id.
            PAGE.replace(g0, &format!("{g0}{g0}")),
            // A stroke inherited from a group.
            PAGE.replace(r##"<use xlink:href="#g0""##, r##"<g stroke="#000" stroke-width="2"><use xlink:href="#g0""##)
                .replace(r##"fill="#000000"/>"##, r##"fill="#000000"/></g>"##),
            // A namespaced transform.
            PAGE.replace(r#"transform="matrix(1 0 0 -1 0 841.89)""#, r#"xlink:transform="matrix(1 0 0 -1 0 841.89)""#),
        ];
        for page in &cases {
            let out = integer_glyph_outlines(page);
            assert!(out.contains(r#"d="M60.67,776.48 L64.795,776.48 Z""#), "{out}");
            assert!(!out.contains("M0,0 L4125"), "{out}");
            assert!(roxmltree::Document::parse(&out).is_ok(), "{out}");
        }
        // CSS that paints: nothing is rewritten.
        let styled = PAGE.replace("<defs ", "<style>use { stroke: red }</style><defs ");
        assert_eq!(integer_glyph_outlines(&styled), styled);
        // A prefixed tag gets its transform after the reference, not inside the tag name.
        let prefixed = PAGE
            .replace("<svg ", "<svg xmlns:s=\"http://www.w3.org/2000/svg\" ")
            .replace(r##"<use xlink:href="#g1""##, r##"<s:use xlink:href="#g1""##);
        let out = integer_glyph_outlines(&prefixed);
        assert!(
            out.contains(r##"<s:use xlink:href="#g1" transform="matrix(0.001"##),
            "{out}"
        );
        assert!(roxmltree::Document::parse(&out).is_ok(), "{out}");
    }

    #[test]
    fn anything_unparsable_is_returned_unchanged() {
        for svg in ["", "<svg", "not xml at all", "<svg/>"] {
            assert_eq!(integer_glyph_outlines(svg), svg);
        }
    }

    /// The example workspace's two-page bilag.
    fn example_bilag() -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("inbox/bilag/fordeling-praktikpladser-2027.pdf"),
        )
        .unwrap()
    }

    #[test]
    fn the_example_attachment_keeps_its_shape_with_integer_glyphs() {
        let pages = page_svgs(&example_bilag());
        assert_eq!(pages.len(), 2);
        for svg in &pages {
            let doc = roxmltree::Document::parse(svg).unwrap();
            let glyphs: Vec<_> = doc
                .descendants()
                .filter(|n| n.has_tag_name("path") && n.attribute("id").is_some())
                .collect();
            assert!(glyphs.len() > 100, "a page of text has many glyphs");
            for g in glyphs {
                let d = g.attribute("d").unwrap();
                assert!(!d.contains('.'), "glyph {d}");
                assert!(
                    d.is_empty() || d.starts_with("M0,0 ") || d.starts_with("M0 0 "),
                    "{d}"
                );
            }
            // Typst accepts the page as an image.
            let image = typst::visualize::SvgImage::new(typst::foundations::Bytes::new(
                svg.as_bytes().to_vec(),
            ));
            let image = image.unwrap();
            assert!((image.width() - 595.28).abs() < 0.01, "{}", image.width());
        }
    }

    #[test]
    fn every_glyph_of_the_example_attachment_stays_where_it_was() {
        let pdf = hayro_syntax::Pdf::new(example_bilag()).unwrap();
        // Each glyph's first point on the page, by its `<use>`'s place in the page.
        let first_points = |svg: &str| -> Vec<(f64, f64)> {
            let doc = roxmltree::Document::parse(svg).unwrap();
            doc.descendants()
                .filter(|n| n.has_tag_name("use"))
                .filter_map(|u| {
                    let id = u
                        .attribute(("http://www.w3.org/1999/xlink", "href"))
                        .or(u.attribute("href"))?
                        .strip_prefix('#')?;
                    let path =
                        doc.descendants().find(|p| p.attribute("id") == Some(id))?;
                    let mut numbers = path
                        .attribute("d")?
                        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                        .filter(|s| !s.is_empty())
                        .map(|s| s.parse::<f64>().unwrap());
                    let (x, y) = (numbers.next()?, numbers.next()?);
                    let [a, b, c, d, e, f] = u
                        .attribute("transform")
                        .map_or([1.0, 0.0, 0.0, 1.0, 0.0, 0.0], |t| {
                            parse_transform(t).unwrap()
                        });
                    Some((a * x + c * y + e, b * x + d * y + f))
                })
                .collect()
        };
        for raw in hayro_page_svgs(&pdf) {
            let before = first_points(&raw);
            let after = first_points(&integer_glyph_outlines(&raw));
            assert!(before.len() > 100);
            assert_eq!(before.len(), after.len());
            for (b, a) in before.iter().zip(&after) {
                // Within the rounding to 1/1000 pt (and f64's error).
                assert!(
                    (b.0 - a.0).abs() < 1e-3 && (b.1 - a.1).abs() < 1e-3,
                    "{b:?} {a:?}"
                );
            }
        }
    }
}
