//! Image attachments' declared sizes, read from their headers without decoding them: a tiny
//! PNG or JPEG can declare 100,000 × 100,000 pixels (40 GB decoded) and must be refused
//! before anything decodes it (issue 13).

/// Most pixels an image attachment may have (40 megapixels: an A4 page scanned at 600 dpi is
/// 35).
pub(crate) const MAX_PIXELS: u64 = 40_000_000;

/// Longest side in pixels.
pub(crate) const MAX_SIDE: u32 = 20_000;

/// The (width, height) a PNG or JPEG declares, if its header can be read.
pub(crate) fn dimensions(bytes: &[u8], format: &str) -> Option<(u32, u32)> {
    match format {
        "png" => {
            let ihdr = bytes.get(12..24)?;
            (&ihdr[..4] == b"IHDR").then(|| {
                let w = u32::from_be_bytes(ihdr[4..8].try_into().expect("4 bytes"));
                let h = u32::from_be_bytes(ihdr[8..12].try_into().expect("4 bytes"));
                (w, h)
            })
        }
        "jpg" => jpeg_dimensions(bytes),
        _ => None,
    }
}

/// Walks a JPEG's markers to its frame header (SOF0–SOF15 but DHT, JPG and DAC).
fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if (0xD0..=0xD9).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        let frame =
            (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker);
        if frame {
            let f = bytes.get(i + 5..i + 9)?;
            let h = u16::from_be_bytes([f[0], f[1]]) as u32;
            let w = u16::from_be_bytes([f[2], f[3]]) as u32;
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// The problem (message, hint) of an image attachment too large or damaged to decode
/// safely; `None` for a PDF or an image within the bounds.
pub(crate) fn too_large(bytes: &[u8], format: &str) -> Option<(String, String)> {
    if format == "pdf" {
        return None;
    }
    let Some((w, h)) = dimensions(bytes, format) else {
        return Some((
            "billedet er beskadiget: dets størrelse kan ikke læses".into(),
            "gem billedet igen som PNG eller JPEG".into(),
        ));
    };
    let pixels = u64::from(w) * u64::from(h);
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || pixels > MAX_PIXELS {
        return Some((
            format!(
                "billedet er {w} × {h} pixels; grænsen er {} megapixels og {MAX_SIDE} pixels på hver led",
                MAX_PIXELS / 1_000_000
            ),
            "gem billedet i en mindre opløsning (fx 300 dpi)".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0]);
        b
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8];
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[1, 1, 0x11, 0]);
        b
    }

    #[test]
    fn declared_sizes_are_read_and_bombs_refused() {
        assert_eq!(dimensions(&png(800, 600), "png"), Some((800, 600)));
        assert_eq!(dimensions(&jpeg(1024, 768), "jpg"), Some((1024, 768)));
        assert!(too_large(&png(800, 600), "png").is_none());
        assert!(
            too_large(&png(100_000, 100_000), "png")
                .unwrap()
                .0
                .contains("100000 × 100000")
        );
        assert!(too_large(&jpeg(65_500, 65_500), "jpg").is_some());
        assert!(too_large(b"\x89PNG\r\n\x1a\n", "png").unwrap().0.contains("beskadiget"));
        assert!(too_large(&[0xFF, 0xD8, 0xFF], "jpg").is_some());
    }
}
