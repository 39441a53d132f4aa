//! An opaque RGB canvas: rectangles, shapes with anti-aliased edges (outlined with
//! `ab_glyph_rasterizer`, the rasterizer the glyphs already use), coverage blending for
//! text, a picture scaled in, and PNG in and out with `png`. Posters need no more, and a
//! full 2D library would cost the function a tenth of its size budget.

use ab_glyph_rasterizer::{point, Rasterizer};

pub type Rgb = (u8, u8, u8);

pub struct Canvas {
    pub width: u32,
    pub height: u32,
    px: Vec<u8>,
}

impl Canvas {
    pub fn new(width: u32, height: u32, fill: Rgb) -> Canvas {
        let mut px = Vec::with_capacity((width * height * 3) as usize);
        for _ in 0..width * height {
            px.extend_from_slice(&[fill.0, fill.1, fill.2]);
        }
        Canvas { width, height, px }
    }

    /// Lays `c` over one pixel with `coverage` (0 to 1).
    pub fn blend(&mut self, x: i32, y: i32, c: Rgb, coverage: f32) {
        if x < 0 || y < 0 || x >= self.width as i32 || y >= self.height as i32 {
            return;
        }
        let a = coverage.clamp(0.0, 1.0);
        if a <= 0.0 {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        if let Some(p) = self.px.get_mut(i..i + 3) {
            for (dst, src) in p.iter_mut().zip([c.0, c.1, c.2]) {
                *dst = (f32::from(src) * a + f32::from(*dst) * (1.0 - a)).round() as u8;
            }
        }
    }

    /// A rectangle on whole pixels.
    pub fn fill_rect(&mut self, x: u32, y: u32, w: u32, h: u32, c: Rgb) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                let i = (yy as usize * self.width as usize + xx as usize) * 3;
                if let Some(p) = self.px.get_mut(i..i + 3) {
                    p.copy_from_slice(&[c.0, c.1, c.2]);
                }
            }
        }
    }

    /// A rectangle with corners of radius `r`, its edges anti-aliased.
    pub fn fill_rounded(&mut self, x: f32, y: f32, w: f32, h: f32, r: f32, c: Rgb) {
        let (ox, oy) = (x.floor(), y.floor());
        let (bw, bh) = ((x + w).ceil() - ox, (y + h).ceil() - oy);
        let mut raster = Rasterizer::new(bw as usize, bh as usize);
        let (x0, y0, x1, y1) = (x - ox, y - oy, x - ox + w, y - oy + h);
        let p = |x: f32, y: f32| point(x, y);
        raster.draw_line(p(x0 + r, y0), p(x1 - r, y0));
        raster.draw_quad(p(x1 - r, y0), p(x1, y0), p(x1, y0 + r));
        raster.draw_line(p(x1, y0 + r), p(x1, y1 - r));
        raster.draw_quad(p(x1, y1 - r), p(x1, y1), p(x1 - r, y1));
        raster.draw_line(p(x1 - r, y1), p(x0 + r, y1));
        raster.draw_quad(p(x0 + r, y1), p(x0, y1), p(x0, y1 - r));
        raster.draw_line(p(x0, y1 - r), p(x0, y0 + r));
        raster.draw_quad(p(x0, y0 + r), p(x0, y0), p(x0 + r, y0));
        raster.for_each_pixel_2d(|px, py, a| {
            self.blend(ox as i32 + px as i32, oy as i32 + py as i32, c, a);
        });
    }

    /// A PNG picture, scaled (bilinear) to fit inside the box and centred in it. A
    /// picture that does not decode is left out.
    pub fn draw_png(&mut self, png_bytes: &[u8], x: f32, y: f32, w: f32, h: f32) -> bool {
        let Some(pic) = decode(png_bytes) else {
            return false;
        };
        let s = (w / pic.width as f32).min(h / pic.height as f32);
        let (dw, dh) = (pic.width as f32 * s, pic.height as f32 * s);
        let (left, top) = (x + (w - dw) / 2.0, y + (h - dh) / 2.0);
        for py in top.floor() as i32..(top + dh).ceil() as i32 {
            for px in left.floor() as i32..(left + dw).ceil() as i32 {
                let (u, v) = (
                    (px as f32 + 0.5 - left) / s - 0.5,
                    (py as f32 + 0.5 - top) / s - 0.5,
                );
                let (c, a) = pic.sample(u, v);
                self.blend(px, py, c, a);
            }
        }
        true
    }

    /// The canvas as a PNG: RGB, fast compression (flat colours compress well anyway,
    /// and the guide is waiting).
    pub fn encode_png(&self) -> Result<Vec<u8>, png::EncodingError> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header()?;
        w.write_image_data(&self.px)?;
        w.finish()?;
        Ok(out)
    }
}

/// A decoded picture as RGBA (straight alpha).
struct Picture {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

/// Pictures larger than this on a side are refused (a poster's panel is 670 wide).
const MAX_SIDE: u32 = 4096;

fn decode(bytes: &[u8]) -> Option<Picture> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let (width, height) = (reader.info().width, reader.info().height);
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return None;
    }
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).ok()?;
    let data = buf.get(..frame.buffer_size())?;
    let rgba: Vec<u8> = match frame.color_type {
        png::ColorType::Rgba => data.to_vec(),
        png::ColorType::Rgb => data
            .chunks(3)
            .flat_map(|c| [c[0], c[1], c[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => data
            .chunks(2)
            .flat_map(|c| [c[0], c[0], c[0], c[1]])
            .collect(),
        png::ColorType::Grayscale => data.iter().flat_map(|g| [*g, *g, *g, 255]).collect(),
        png::ColorType::Indexed => return None,
    };
    (rgba.len() == (width * height * 4) as usize).then_some(Picture {
        width,
        height,
        rgba,
    })
}

impl Picture {
    fn at(&self, x: i64, y: i64) -> [f32; 4] {
        let x = x.clamp(0, i64::from(self.width) - 1) as usize;
        let y = y.clamp(0, i64::from(self.height) - 1) as usize;
        let i = (y * self.width as usize + x) * 4;
        let p = &self.rgba[i..i + 4];
        [p[0], p[1], p[2], p[3]].map(f32::from)
    }

    /// The colour at (`u`, `v`) in picture pixels, between its four neighbours.
    fn sample(&self, u: f32, v: f32) -> (Rgb, f32) {
        let (x0, y0) = (u.floor(), v.floor());
        let (fx, fy) = (u - x0, v - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let mut acc = [0.0f32; 4];
        for (dx, dy, w) in [
            (0, 0, (1.0 - fx) * (1.0 - fy)),
            (1, 0, fx * (1.0 - fy)),
            (0, 1, (1.0 - fx) * fy),
            (1, 1, fx * fy),
        ] {
            let p = self.at(x0 + dx, y0 + dy);
            let a = p[3] / 255.0 * w;
            for i in 0..3 {
                acc[i] += p[i] * a;
            }
            acc[3] += a;
        }
        if acc[3] <= 0.0 {
            return ((0, 0, 0), 0.0);
        }
        let c = |i: usize| (acc[i] / acc[3]).round().clamp(0.0, 255.0) as u8;
        ((c(0), c(1), c(2)), acc[3])
    }
}
