//! The shape of a wire. A wire going forward (to the right) is a smooth S curve. A wire going
//! back to the left — a long chain laid out in rows — leaves its port to the right, runs back
//! in the gap above the target's row and enters the target from the left, like a line of text
//! wrapping, instead of cutting diagonally across the cards between. Pure geometry, used both
//! to paint wires and to hit-test them.

use egui::epaint::{CubicBezierShape, QuadraticBezierShape};
use egui::{Color32, Pos2, Stroke, pos2, vec2};

/// How far a wrapping wire runs straight out of and into its ports (canvas units).
const LEAD: f32 = 30.0;
/// How far above the target port a wrapping wire runs back (canvas units).
const WRAP_ABOVE: f32 = 60.0;

/// Points along the wire from output anchor `a` to input anchor `b`; `scale` is the zoom for
/// screen points, 1 for canvas units.
pub fn wire_points(a: Pos2, b: Pos2, scale: f32) -> Vec<Pos2> {
    if b.x >= a.x + LEAD * scale {
        return forward(a, b, scale);
    }
    let lead = LEAD * scale;
    let run_y = if b.y - a.y > 2.0 * WRAP_ABOVE * scale {
        b.y - WRAP_ABOVE * scale // the target is in a lower row: run back above it
    } else if a.y - b.y > 2.0 * WRAP_ABOVE * scale {
        a.y - WRAP_ABOVE * scale // the target is in an upper row: run back above the source
    } else {
        a.y.max(b.y) + 2.0 * WRAP_ABOVE * scale // same row: loop underneath
    };
    let corners = [
        a,
        pos2(a.x + lead, a.y),
        pos2(a.x + lead, run_y),
        pos2(b.x - lead, run_y),
        pos2(b.x - lead, b.y),
        b,
    ];
    rounded(&corners, lead)
}

/// Where a wire's label goes: its middle (the back-running stretch of a wrapping wire).
pub fn label_point(points: &[Pos2]) -> Option<Pos2> {
    let lengths: Vec<f32> = points.windows(2).map(|w| w[0].distance(w[1])).collect();
    let half = lengths.iter().sum::<f32>() / 2.0;
    let mut walked = 0.0;
    for (segment, length) in points.windows(2).zip(&lengths) {
        if walked + length >= half && *length > 0.0 {
            return Some(segment[0].lerp(segment[1], (half - walked) / length));
        }
        walked += length;
    }
    points.first().copied()
}

fn forward(a: Pos2, b: Pos2, scale: f32) -> Vec<Pos2> {
    let dx = ((b.x - a.x).abs() * 0.5).max(40.0 * scale);
    let curve = CubicBezierShape::from_points_stroke(
        [a, a + vec2(dx, 0.0), b - vec2(dx, 0.0), b],
        false,
        Color32::TRANSPARENT,
        Stroke::NONE,
    );
    (0..=24).map(|i| curve.sample(i as f32 / 24.0)).collect()
}

/// A polyline through `corners` with each inner corner rounded (radius at most `radius`).
fn rounded(corners: &[Pos2], radius: f32) -> Vec<Pos2> {
    let Some(first) = corners.first() else {
        return Vec::new();
    };
    let mut points = vec![*first];
    for w in corners.windows(3) {
        let [prev, corner, next] = [w[0], w[1], w[2]];
        let r = radius
            .min(prev.distance(corner) / 2.0)
            .min(corner.distance(next) / 2.0);
        let into = corner + (prev - corner).normalized() * r;
        let out = corner + (next - corner).normalized() * r;
        let arc = QuadraticBezierShape::from_points_stroke(
            [into, corner, out],
            false,
            Color32::TRANSPARENT,
            Stroke::NONE,
        );
        points.extend((0..=6).map(|i| arc.sample(i as f32 / 6.0)));
    }
    points.extend(corners.last());
    points.dedup_by(|p, q| p.distance(*q) < 1e-3);
    points
}

/// Distance from `p` to the wire through `points`.
pub fn distance_to_path(points: &[Pos2], p: Pos2) -> f32 {
    points
        .windows(2)
        .map(|w| distance_to_segment(p, w[0], w[1]))
        .fold(f32::INFINITY, f32::min)
}

fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = if ab.length_sq() > 0.0 {
        ((p - a).dot(ab) / ab.length_sq()).clamp(0.0, 1.0)
    } else {
        0.0
    };
    p.distance(a + ab * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_a_wire_are_near_it_and_far_points_are_not() {
        let points = wire_points(pos2(0.0, 0.0), pos2(200.0, 100.0), 1.0);
        assert!(distance_to_path(&points, pos2(100.0, 50.0)) < 2.0);
        assert!(distance_to_path(&points, pos2(100.0, 0.0)) > 10.0);
    }

    #[test]
    fn a_wire_to_the_next_row_runs_back_above_the_target_not_across_the_cards() {
        // From the end of row 0 (x 690) to the start of row 1 (x 0, 300 lower).
        let (a, b) = (pos2(690.0, 35.0), pos2(0.0, 335.0));
        let corners = wire_points(a, b, 1.0);
        assert_eq!(corners.first(), Some(&a));
        assert_eq!(corners.last(), Some(&b));
        // Every point along the drawn line, not only its corners.
        let points: Vec<Pos2> = corners
            .windows(2)
            .flat_map(|w| (0..10).map(move |i| w[0].lerp(w[1], i as f32 / 10.0)))
            .collect();
        // The back-running stretch stays at one height above the target, in the row gap.
        let run: Vec<&Pos2> = points
            .iter()
            .filter(|p| p.x > 100.0 && p.x < 600.0)
            .collect();
        assert!(!run.is_empty());
        assert!(run.iter().all(|p| (p.y - (b.y - WRAP_ABOVE)).abs() < 1e-3));
        // A card in row 0's middle (y 0..90) and one in row 1 (y 300..390) are never crossed.
        assert!(
            points
                .iter()
                .all(|p| !(p.x > 250.0 && p.x < 440.0 && (p.y < 90.0 || p.y > 300.0)))
        );
        let label = label_point(&corners).unwrap();
        assert!((label.y - (b.y - WRAP_ABOVE)).abs() < 1e-3, "{label:?}");
    }
}
