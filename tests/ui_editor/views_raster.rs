//! A tiny CPU rasterizer for looking at a view without a GPU: egui_kittest renders images
//! only with wgpu, which this crate does not build. Nearest-texel sampling, no gamma care:
//! good enough to see layout and colours, not for pixel comparisons.

use egui::epaint::{ImageData, Primitive};
use egui::{Color32, ColorImage, Pos2, RawInput, Rect, TextureId, Vec2};
use std::collections::HashMap;

/// Runs `ui` for a few frames on a `size` screen and returns the last frame as RGBA pixels.
pub fn render(size: Vec2, dark: bool, mut ui: impl FnMut(&mut egui::Ui)) -> image::RgbaImage {
    let ctx = egui::Context::default();
    let theme = if dark {
        egui::Theme::Dark
    } else {
        egui::Theme::Light
    };
    ctx.set_theme(theme);
    let mut textures: HashMap<TextureId, ColorImage> = HashMap::new();
    let mut primitives = Vec::new();
    for _ in 0..3 {
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, size)),
            ..RawInput::default()
        };
        let mut output = ctx.run_ui(input, |root| {
            egui::Frame::central_panel(root.style()).show(root, |inner| ui(inner));
        });
        for (id, deltas) in std::mem::take(&mut output.textures_delta.set) {
            for delta in deltas {
                let ImageData::Color(image) = delta.image;
                match delta.pos {
                    None => {
                        textures.insert(id, (*image).clone());
                    }
                    Some([x0, y0]) => {
                        if let Some(target) = textures.get_mut(&id) {
                            patch(target, &image, x0, y0);
                        }
                    }
                }
            }
        }
        primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
    }
    let (w, h) = (size.x as u32, size.y as u32);
    let background = ctx.style_of(theme).visuals.panel_fill;
    let mut pixels = vec![background; (w * h) as usize];
    for clipped in &primitives {
        let Primitive::Mesh(mesh) = &clipped.primitive else {
            continue;
        };
        let texture = textures.get(&mesh.texture_id);
        for tri in mesh.indices.chunks_exact(3) {
            let corners = [tri[0], tri[1], tri[2]].map(|i| mesh.vertices[i as usize]);
            fill_triangle(&mut pixels, w, h, clipped.clip_rect, corners, texture);
        }
    }
    let mut out = image::RgbaImage::new(w, h);
    for (pixel, c) in out.pixels_mut().zip(&pixels) {
        *pixel = image::Rgba(c.to_array());
    }
    out
}

fn patch(target: &mut ColorImage, image: &ColorImage, x0: usize, y0: usize) {
    let [tw, _] = target.size;
    let [w, h] = image.size;
    for y in 0..h {
        for x in 0..w {
            if let (Some(dst), Some(src)) = (
                target.pixels.get_mut((y0 + y) * tw + x0 + x),
                image.pixels.get(y * w + x),
            ) {
                *dst = *src;
            }
        }
    }
}

fn fill_triangle(
    pixels: &mut [Color32],
    w: u32,
    h: u32,
    clip: Rect,
    [a, b, c]: [egui::epaint::Vertex; 3],
    texture: Option<&ColorImage>,
) {
    let area = (b.pos - a.pos).x * (c.pos - a.pos).y - (b.pos - a.pos).y * (c.pos - a.pos).x;
    if area.abs() < 1e-6 {
        return;
    }
    let min = a.pos.min(b.pos).min(c.pos).max(clip.min).max(Pos2::ZERO);
    let max = a
        .pos
        .max(b.pos)
        .max(c.pos)
        .min(clip.max)
        .min(Pos2::new(w as f32, h as f32));
    for y in min.y.floor() as u32..max.y.ceil().min(h as f32) as u32 {
        for x in min.x.floor() as u32..max.x.ceil().min(w as f32) as u32 {
            let p = Pos2::new(x as f32 + 0.5, y as f32 + 0.5);
            let edge = |u: Pos2, v: Pos2| (v - u).x * (p - u).y - (v - u).y * (p - u).x;
            let (wa, wb, wc) = (
                edge(b.pos, c.pos) / area,
                edge(c.pos, a.pos) / area,
                edge(a.pos, b.pos) / area,
            );
            if wa < 0.0 || wb < 0.0 || wc < 0.0 {
                continue;
            }
            let mix = |f: fn(Color32) -> u8| {
                wa * f(a.color) as f32 + wb * f(b.color) as f32 + wc * f(c.color) as f32
            };
            let mut colour = [
                mix(|c| c.r()),
                mix(|c| c.g()),
                mix(|c| c.b()),
                mix(|c| c.a()),
            ];
            if let Some(t) = texture {
                let uv = a.uv.to_vec2() * wa + b.uv.to_vec2() * wb + c.uv.to_vec2() * wc;
                let [tw, th] = t.size;
                let tx = ((uv.x * tw as f32) as usize).min(tw.saturating_sub(1));
                let ty = ((uv.y * th as f32) as usize).min(th.saturating_sub(1));
                if let Some(texel) = t.pixels.get(ty * tw + tx) {
                    let texel = texel.to_array();
                    for (channel, t) in colour.iter_mut().zip(texel) {
                        *channel *= t as f32 / 255.0;
                    }
                }
            }
            if let Some(dst) = pixels.get_mut((y * w + x) as usize) {
                let keep = 1.0 - colour[3] / 255.0;
                let d = dst.to_array();
                let blend =
                    |i: usize| (colour[i] + d[i] as f32 * keep).round().clamp(0.0, 255.0) as u8;
                *dst = Color32::from_rgba_premultiplied(
                    blend(0),
                    blend(1),
                    blend(2),
                    blend(3).max(d[3]),
                );
            }
        }
    }
}
