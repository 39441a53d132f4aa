//! Drawing a guide's poster: [`PosterFacts`] in, a 750×1334 PNG out. Shapes and the
//! listing's picture go on a small RGB [`canvas::Canvas`], text is drawn by
//! [`text::Pen`] from the font the function loads from the bucket on first use (CJK
//! fonts are megabytes: never in the binary, never at init), the QR code by `qrcode`,
//! and the PNG is encoded by `png`. Nothing here touches the network; the case that
//! calls it reads and stores.

pub mod canvas;
pub mod text;

use ab_glyph::FontArc;
use thiserror::Error;

use crate::domain::poster::{yuan, PosterFacts, HEIGHT, WIDTH};
use canvas::{Canvas, Rgb};
use text::Pen;

#[derive(Debug, Error)]
pub enum PosterError {
    #[error("the poster font is unreadable: {0}")]
    Font(String),
    #[error("the link does not fit a QR code: {0}")]
    Qr(String),
    #[error("the poster could not be encoded: {0}")]
    Encode(String),
}

/// Reads a TrueType/OpenType font (the poster font from the bucket).
pub fn font_from(bytes: Vec<u8>) -> Result<FontArc, PosterError> {
    FontArc::try_from_vec(bytes).map_err(|e| PosterError::Font(e.to_string()))
}

/// A drawn poster.
pub struct Rendered {
    pub png: Vec<u8>,
    /// Characters the font lacks (drawn as its blank glyph): worth a warning.
    pub missing: Vec<char>,
}

/// Where the guide's name sits: the text region the reference test compares.
pub const GUIDE_REGION: (u32, u32, u32, u32) = (40, 1080, 400, 110);

const RED: Rgb = (200, 16, 46);
const INK: Rgb = (31, 31, 31);
const GREY: Rgb = (138, 138, 138);
const PANEL: Rgb = (244, 241, 236);
const PILL: Rgb = (253, 236, 236);
const WHITE: Rgb = (255, 255, 255);

/// Draws the poster. `image` is the listing's picture (a PNG's bytes), when it has one.
pub fn render(
    facts: &PosterFacts,
    font: &FontArc,
    image: Option<&[u8]>,
) -> Result<Rendered, PosterError> {
    let mut canvas = Canvas::new(WIDTH, HEIGHT, WHITE);
    let c = &mut canvas;
    let mut pen = Pen::new(font);

    // The campaign: its name and dates on the brand's band.
    c.fill_rect(0, 0, WIDTH, 150, RED);
    let name = pen.wrap(&facts.campaign_name, 40.0, 670.0, 1).join("");
    pen.draw(c, &name, 40.0, 40.0, 72.0, WHITE);
    pen.draw(c, &facts.dates, 26.0, 40.0, 120.0, (255, 225, 228));

    // The product's picture, or its name large on a plain panel.
    let (px, py, pw, ph) = (40.0, 180.0, 670.0, 540.0);
    c.fill_rounded(px, py, pw, ph, 24.0, PANEL);
    let pictured = image.is_some_and(|b| c.draw_png(b, px, py, pw, ph));
    if !pictured {
        let lines = pen.wrap(&facts.product, 64.0, pw - 80.0, 3);
        let top = py + ph / 2.0 - (lines.len() as f32 * 80.0) / 2.0 + 56.0;
        for (i, line) in lines.iter().enumerate() {
            let w = pen.width(line, 64.0);
            let y = top + i as f32 * 80.0;
            pen.draw(c, line, 64.0, px + (pw - w) / 2.0, y, (170, 160, 148));
        }
        let w = pen.width(&facts.sku, 24.0);
        pen.draw(
            c,
            &facts.sku,
            24.0,
            px + (pw - w) / 2.0,
            py + ph - 30.0,
            GREY,
        );
    }

    // The product's name and its prices.
    let mut y = 790.0;
    for line in pen.wrap(&facts.product, 38.0, 670.0, 2) {
        pen.draw(c, &line, 38.0, 40.0, y, INK);
        y += 50.0;
    }
    let y = 940.0;
    let x = pen.draw(c, "¥", 40.0, 40.0, y, RED);
    let x = pen.draw(c, &yuan(facts.headline_fen()), 76.0, x, y, RED);
    let list = format!("¥{}", yuan(facts.list_price_fen));
    let lx = x + 18.0;
    let end = pen.draw(c, &list, 30.0, lx, y, GREY);
    c.fill_rect(
        lx as u32,
        (y - 11.0) as u32,
        (end - lx).max(0.0) as u32,
        2,
        GREY,
    );
    if let Some(slot) = &facts.slot {
        pen.draw(
            c,
            &format!("{} 限时价", slot.label),
            24.0,
            end + 18.0,
            y,
            RED,
        );
    } else if facts.headline_fen() != facts.price_fen {
        let label = format!("清仓价 ¥{}", yuan(facts.price_fen));
        pen.draw(c, &label, 24.0, end + 18.0, y, GREY);
    }

    // The brand's line of copy, in a pill.
    let w = pen.width(&facts.copy, 30.0) + 48.0;
    c.fill_rounded(40.0, 970.0, w.min(670.0), 58.0, 29.0, PILL);
    pen.draw(c, &facts.copy, 30.0, 64.0, 1010.0, RED);

    c.fill_rect(40, 1056, 670, 2, PANEL);

    // The guide, their store, and the code that scans to their link.
    let (gx, gy) = (GUIDE_REGION.0 as f32, GUIDE_REGION.1 as f32);
    pen.draw(c, "导购", 26.0, gx, gy + 40.0, GREY);
    let guide = pen.wrap(&facts.guide_name, 40.0, 300.0, 1).join("");
    pen.draw(c, &guide, 40.0, gx + 64.0, gy + 42.0, INK);
    let store = pen.wrap(&facts.store_name, 28.0, 380.0, 1).join("");
    pen.draw(c, &store, 28.0, gx, gy + 92.0, GREY);
    pen.draw(c, "长按识别二维码 · 找我购买", 24.0, 40.0, 1280.0, GREY);
    qr(c, &facts.link, 450, 1068, 260)?;

    Ok(Rendered {
        png: canvas
            .encode_png()
            .map_err(|e| PosterError::Encode(e.to_string()))?,
        missing: pen.missing,
    })
}

/// The link's QR code in a `size` square at (`x`, `y`): whole pixels per module (sharp
/// edges scan best), as large as fits with a quiet zone of two modules inside the square
/// (the poster around it is white too). Level L: a screen or print is not torn, and
/// fewer modules make larger ones for a long signed link.
fn qr(c: &mut Canvas, link: &str, x: u32, y: u32, size: u32) -> Result<(), PosterError> {
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::L)
        .map_err(|e| PosterError::Qr(e.to_string()))?;
    let n = code.width() as u32;
    let module = (size / (n + 4)).max(1);
    let drawn = module * (n + 4);
    let (ox, oy) = (
        x + size.saturating_sub(drawn) / 2,
        y + size.saturating_sub(drawn) / 2,
    );
    c.fill_rect(ox, oy, drawn, drawn, WHITE);
    for (i, dark) in code.to_colors().iter().enumerate() {
        if *dark == qrcode::Color::Dark {
            let (cx, cy) = (i as u32 % n + 2, i as u32 / n + 2);
            c.fill_rect(ox + cx * module, oy + cy * module, module, module, INK);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Fen;
    use crate::domain::poster::{GroupFacts, SlotPrice};

    pub(crate) fn font() -> FontArc {
        font_from(include_bytes!("../../../assets/fonts/poster-sc.ttf").to_vec())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn facts() -> PosterFacts {
        let fen = |n| Fen::new(n).unwrap_or_default();
        PosterFacts {
            campaign_name: "冬季清仓 · 华东区".into(),
            dates: "12月6日 – 12月12日".into(),
            product: "轻跑鞋 云朵缓震 男女同款".into(),
            sku: "LF-1".into(),
            list_price_fen: fen(89900),
            price_fen: fen(42900),
            slot: Some(SlotPrice {
                label: "10:00–16:00".into(),
                price_fen: fen(39900),
            }),
            group: Some(GroupFacts {
                size: 3,
                price_fen: fen(37900),
                seats_left: None,
            }),
            copy: "3人成团 ¥379".into(),
            guide_name: "张小雨".into(),
            store_name: "上海徐汇店".into(),
            link: format!(
                "https://share.example.cn/acme/east/c/winter/p/LF-1?share={}",
                "x".repeat(330)
            ),
            image: None,
            listing_version: chrono::DateTime::UNIX_EPOCH,
            template_version: 0,
        }
    }

    #[test]
    fn a_poster_is_a_png_of_its_size_with_every_character_in_the_font() {
        let r = render(&facts(), &font(), None).unwrap_or_else(|e| panic!("{e}"));
        let info = png::Decoder::new(std::io::Cursor::new(&r.png))
            .read_info()
            .map(|r| (r.info().width, r.info().height));
        assert_eq!(info.ok(), Some((WIDTH, HEIGHT)));
        assert!(r.missing.is_empty(), "missing glyphs: {:?}", r.missing);
        if let Ok(path) = std::env::var("POSTER_OUT") {
            std::fs::write(path, &r.png).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
