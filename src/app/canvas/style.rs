//! Colours and port shapes: a category colour per card, a colour and a shape per port type,
//! so a wrong wire is visible before the validator says so. Painting only, no state.

use crate::catalog::{Category, PortType};
use egui::epaint::{PathShape, PathStroke};
use egui::{Color32, Painter, Pos2, Stroke, pos2, vec2};

/// The colour of a card's title strip.
pub fn category_color(category: Category) -> Color32 {
    match category {
        Category::Sources => Color32::from_rgb(0x2a, 0x9d, 0x8f),
        Category::Time => Color32::from_rgb(0xc9, 0x8b, 0x1e),
        Category::Partitioning => Color32::from_rgb(0x8e, 0x6c, 0xc8),
        Category::Transform => Color32::from_rgb(0x3d, 0x7e, 0xc9),
        Category::Windows => Color32::from_rgb(0xd8, 0x6b, 0x2d),
        Category::Learning => Color32::from_rgb(0x3f, 0x9e, 0x4d),
        Category::Layers => Color32::from_rgb(0x7a, 0xa3, 0x2e),
        Category::Sinks => Color32::from_rgb(0x8a, 0x8f, 0x98),
    }
}

/// The colour of a port and of the wires leaving it.
pub fn port_color(ty: PortType) -> Color32 {
    match ty {
        PortType::Records => Color32::from_rgb(0x4c, 0x9a, 0xff),
        PortType::Windows => Color32::from_rgb(0xf5, 0xa6, 0x23),
        PortType::Batches => Color32::from_rgb(0xb0, 0x7c, 0xff),
        PortType::Tensor => Color32::from_rgb(0x2e, 0xc4, 0x8a),
        PortType::Metrics => Color32::from_rgb(0xff, 0x6b, 0x9a),
        PortType::Model => Color32::from_rgb(0xd4, 0xc0, 0x3a),
    }
}

/// Problems, refusals and invalid values.
pub const ERROR_RED: Color32 = Color32::from_rgb(0xe5, 0x48, 0x4d);
/// A compatible connection target.
pub const OK_GREEN: Color32 = Color32::from_rgb(0x3c, 0xc8, 0x6e);

/// Paints a port: circle (Records), square (Windows), diamond (Batches), triangle (Tensor),
/// ring (Metrics) or hexagon (Model).
pub fn paint_port(painter: &Painter, center: Pos2, radius: f32, ty: PortType, outline: Stroke) {
    let fill = port_color(ty);
    let r = radius;
    let polygon = |points: Vec<Pos2>| {
        PathShape::convex_polygon(points, fill, PathStroke::from(outline)).into()
    };
    let shape: egui::Shape = match ty {
        PortType::Records => egui::Shape::circle_filled(center, r, fill),
        PortType::Windows => polygon(vec![
            center + vec2(-r, -r) * 0.85,
            center + vec2(r, -r) * 0.85,
            center + vec2(r, r) * 0.85,
            center + vec2(-r, r) * 0.85,
        ]),
        PortType::Batches => polygon(vec![
            center + vec2(0.0, -r * 1.2),
            center + vec2(r * 1.2, 0.0),
            center + vec2(0.0, r * 1.2),
            center + vec2(-r * 1.2, 0.0),
        ]),
        PortType::Tensor => polygon(vec![
            center + vec2(-r, -r),
            center + vec2(r * 1.1, 0.0),
            center + vec2(-r, r),
        ]),
        PortType::Metrics => {
            egui::Shape::circle_stroke(center, r * 0.8, Stroke::new((r * 0.45).max(1.0), fill))
        }
        PortType::Model => polygon(
            (0..6)
                .map(|i| {
                    let angle = std::f32::consts::TAU * i as f32 / 6.0;
                    pos2(center.x + r * angle.cos(), center.y + r * angle.sin())
                })
                .collect(),
        ),
    };
    painter.add(shape);
    if matches!(ty, PortType::Records) {
        painter.circle_stroke(center, r, outline);
    }
}
