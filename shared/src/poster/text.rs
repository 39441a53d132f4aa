//! Lines of text on the canvas: each character's glyph outlined by `ab_glyph` and blended
//! in with its coverage. Posters are short lines of CJK and Latin text, so there is no
//! shaping beyond advances and kerning.

use super::canvas::{Canvas, Rgb};
use ab_glyph::{Font, FontArc, Glyph, PxScale, ScaleFont};

/// A font, and the characters it was asked to draw but does not have.
pub struct Pen<'a> {
    pub font: &'a FontArc,
    pub missing: Vec<char>,
}

impl<'a> Pen<'a> {
    pub fn new(font: &'a FontArc) -> Self {
        Pen {
            font,
            missing: Vec::new(),
        }
    }

    /// How wide `text` is at `size` pixels.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let font = self.font.as_scaled(PxScale::from(size));
        let mut w = 0.0;
        let mut last = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(prev) = last {
                w += font.kern(prev, id);
            }
            w += font.h_advance(id);
            last = Some(id);
        }
        w
    }

    /// Draws `text` with its baseline at `y`, starting at `x`; returns where it ended.
    pub fn draw(
        &mut self,
        canvas: &mut Canvas,
        text: &str,
        size: f32,
        x: f32,
        y: f32,
        color: Rgb,
    ) -> f32 {
        let scale = PxScale::from(size);
        let font = self.font.as_scaled(scale);
        let mut pen_x = x;
        let mut last = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if id.0 == 0 && !c.is_whitespace() && !self.missing.contains(&c) {
                self.missing.push(c);
            }
            if let Some(prev) = last {
                pen_x += font.kern(prev, id);
            }
            let glyph: Glyph = id.with_scale_and_position(scale, ab_glyph::point(pen_x, y));
            if let Some(outlined) = self.font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    canvas.blend(
                        b.min.x as i32 + gx as i32,
                        b.min.y as i32 + gy as i32,
                        color,
                        coverage,
                    );
                });
            }
            pen_x += font.h_advance(id);
            last = Some(id);
        }
        pen_x
    }

    /// Splits `text` into at most `max_lines` lines no wider than `width`, breaking
    /// between characters (CJK has no spaces) and ending a cut line with `…`.
    pub fn wrap(&self, text: &str, size: f32, width: f32, max_lines: usize) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for c in text.chars() {
            let mut next = line.clone();
            next.push(c);
            if self.width(&next, size) > width && !line.is_empty() {
                if lines.len() + 1 == max_lines {
                    while !line.is_empty() && self.width(&format!("{line}…"), size) > width {
                        line.pop();
                    }
                    lines.push(format!("{}…", line.trim_end()));
                    return lines;
                }
                lines.push(std::mem::take(&mut line).trim_end().to_owned());
                if !c.is_whitespace() {
                    line.push(c);
                }
            } else {
                line = next;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}
