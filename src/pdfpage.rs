//! A PDF attachment's pages as SVG images, in the form Typst's PDF export writes fastest.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Range;

/// Converts each page of a PDF to SVG (as Typst's own SVG export does), using the standard
/// PDF fonts that Typst embeds. Typst 0.15 cannot place PDF pages in PDF/A or PDF/UA output;
/// SVG pages it can. The glyph outlines are then given integer coordinates
/// ([`integer_glyph_outlines`]).
pub fn page_svgs(bytes: &[u8]) -> Vec<String> {
    use hayro_svg::hayro_interpret::InterpreterSettings;
    use hayro_svg::hayro_interpret::font::{FontData, FontQuery, StandardFont};
    use std::sync::Arc;
    let Ok(pdf) = hayro_syntax::Pdf::new(bytes.to_vec()) else { return Vec::new() };
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
        .map(|page| {
            integer_glyph_outlines(&hayro_svg::convert(page, &cache, &settings, &render))
        })
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
/// outline is scaled by 1000 and rounded (1/1000 pt, far below what any screen or printer
/// shows), and its `<use>` gets the inverse scale, so the page looks the same.
///
/// Only glyphs whose every `<use>` is a plain colour fill are rewritten (a stroke width, a
/// pattern or a clip in the glyph's own coordinates would need scaling too); anything else, or
/// an SVG that does not parse, is returned unchanged.
pub fn integer_glyph_outlines(svg: &str) -> String {
    let Ok(doc) = roxmltree::Document::parse(svg) else { return svg.to_owned() };
    // The glyph outlines: id → the range of their `d` value.
    let mut outlines: BTreeMap<&str, Range<usize>> = BTreeMap::new();
    for defs in doc.descendants().filter(|n| n.has_tag_name("defs")) {
        if defs.attribute("id") != Some("outline-glyph") {
            continue;
        }
        for path in defs.children().filter(|n| n.has_tag_name("path")) {
            let (Some(id), Some(d)) = (path.attribute("id"), path.attribute_node("d"))
            else {
                continue;
            };
            if verbatim(svg, &d) {
                outlines.insert(id, d.range_value());
            }
        }
    }
    if outlines.is_empty() {
        return svg.to_owned();
    }
    // Every reference to an outline, and the outlines that cannot be rewritten.
    let mut uses = Vec::new();
    let mut unsafe_ids = BTreeSet::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        for attr in node.attributes() {
            let value = attr.value();
            let Some(id) = value.strip_prefix('#').or_else(|| {
                value.strip_prefix("url(#").and_then(|v| v.strip_suffix(')'))
            }) else {
                continue;
            };
            if !outlines.contains_key(id) {
                continue;
            }
            match plain_use(svg, node) {
                Some(transform) if attr.name() == "href" => {
                    uses.push((id, node, transform))
                }
                _ => {
                    unsafe_ids.insert(id);
                }
            }
        }
    }
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for (id, range) in &outlines {
        if unsafe_ids.contains(id) {
            continue;
        }
        match scaled_path_data(&svg[range.clone()]) {
            Some(d) => edits.push((range.clone(), d)),
            None => {
                unsafe_ids.insert(id);
            }
        }
    }
    for (id, node, transform) in uses {
        if unsafe_ids.contains(id) {
            continue;
        }
        let [a, b, c, d, e, f] = transform;
        let k = 1.0 / SCALE;
        let matrix = format!("matrix({} {} {} {} {e} {f})", a * k, b * k, c * k, d * k);
        match node.attribute_node("transform") {
            Some(attr) => edits.push((attr.range_value(), matrix)),
            None => {
                // Right after `<use`.
                let at = node.range().start + 1 + node.tag_name().name().len();
                edits.push((at..at, format!(" transform=\"{matrix}\"")));
            }
        }
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(svg.len());
    let mut at = 0;
    for (range, text) in edits {
        out.push_str(&svg[at..range.start]);
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
    if !node.has_tag_name("use") {
        return None;
    }
    let mut transform = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    for attr in node.attributes() {
        match attr.name() {
            "href" => {}
            "fill" if !attr.value().contains("url(") => {}
            "fill-opacity" | "fill-rule" => {}
            "transform" if verbatim(svg, &attr) => {
                transform = parse_transform(attr.value())?
            }
            _ => return None,
        }
    }
    Some(transform)
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

/// Path data with every number scaled by [`SCALE`] and rounded; `None` if it holds anything
/// but the commands hayro writes (M, L, C, Q, Z) or a number too large for an exact `f32`.
fn scaled_path_data(d: &str) -> Option<String> {
    let bytes = d.as_bytes();
    let mut out = String::with_capacity(d.len() + d.len() / 4);
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
            let _ = write!(out, "{}", scaled as i64);
        } else if matches!(c, b'M' | b'L' | b'C' | b'Q' | b'Z' | b' ' | b',') {
            out.push(char::from(c));
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_numbers_are_scaled_to_integers() {
        assert_eq!(
            scaled_path_data("M60.67,776.48 L64.795,776.48 C-1,2e-3 3 4 5 6 Z").unwrap(),
            "M60670,776480 L64795,776480 C-1000,2 3000 4000 5000 6000 Z"
        );
        assert_eq!(scaled_path_data("M1-2L3-4").unwrap(), "M1000-2000L3000-4000");
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
        assert!(
            out.contains(r#"<path id="g0" d="M60670,776480 L64795,776480 Z"/>"#),
            "{out}"
        );
        assert!(
            out.contains(r##"<use xlink:href="#g0" transform="matrix(0.001 0 0 -0.001 0 841.89)" fill="#000000"/>"##),
            "{out}"
        );
        // No transform before: one is added.
        assert!(
            out.contains(r#"<path id="g1" d="M500,250 Q1000,1000 2000,2000 Z"/>"#),
            "{out}"
        );
        assert!(
            out.contains(
                r##"<use transform="matrix(0.001 0 0 0.001 0 0)" xlink:href="#g1""##
            ),
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
    fn anything_unparsable_is_returned_unchanged() {
        for svg in ["", "<svg", "not xml at all", "<svg/>"] {
            assert_eq!(integer_glyph_outlines(svg), svg);
        }
    }

    #[test]
    fn the_example_attachment_keeps_its_shape_with_integer_glyphs() {
        let pdf = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("inbox/bilag/fordeling-praktikpladser-2027.pdf"),
        )
        .unwrap();
        let pages = page_svgs(&pdf);
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
            }
            // Typst accepts the page as an image.
            let image = typst::visualize::SvgImage::new(typst::foundations::Bytes::new(
                svg.as_bytes().to_vec(),
            ));
            let image = image.unwrap();
            assert!((image.width() - 595.28).abs() < 0.01, "{}", image.width());
        }
    }
}
