//! What a window node's plots draw: per key, its window statistics (mean with min/max) and
//! records per window over event time, in bounded memory. Firings arrive slightly out of
//! order across parallel instances, so points are inserted in place, never dropped for being
//! late; a long run thins each key's curve to an even envelope instead of growing.

use crate::app::plots::{BandPoint, BandSeries, BarSeries};
use crate::exec::WindowSample;
use std::collections::HashSet;

/// Keys of one window node that get a curve (the first ones seen); the others are counted.
pub const MAX_KEYS: usize = 24;
/// Points a key's curve keeps; beyond, neighbours merge pairwise (the envelope stays).
const KEY_POINTS: usize = 2048;
/// Distinct other keys counted at most (their names are not drawn).
const COUNTED_KEYS: usize = 10_000;

/// One key's curves and how many windows it fired.
#[derive(Clone, Debug)]
struct KeyCurves {
    band: BandSeries,
    counts: BarSeries,
    windows: u64,
}

/// Every key's curves of one window node.
#[derive(Clone, Debug, Default)]
pub struct KeyedWindows {
    keys: Vec<KeyCurves>,
    /// Keys beyond [`MAX_KEYS`], by name (bounded).
    other_keys: HashSet<String>,
}

impl KeyedWindows {
    /// Adds firings; x is the window's end after `origin_ms`, in axis units of `per_unit`
    /// event-time units (1000: seconds of epoch milliseconds; 1: rows).
    pub fn add(&mut self, samples: &[WindowSample], origin_ms: i64, per_unit: f64) {
        for s in samples {
            let x = s.end.saturating_sub(origin_ms) as f64 / per_unit;
            let at = match self.keys.iter().position(|k| k.band.name == s.key) {
                Some(at) => at,
                None if self.keys.len() < MAX_KEYS => {
                    self.keys.push(KeyCurves {
                        band: BandSeries {
                            name: s.key.clone(),
                            points: Vec::new(),
                        },
                        counts: BarSeries {
                            name: format!("records per window, key {}", s.key),
                            bars: Vec::new(),
                            width: 0.0,
                        },
                        windows: 0,
                    });
                    self.keys.len() - 1
                }
                None => {
                    if self.other_keys.len() < COUNTED_KEYS {
                        self.other_keys.insert(s.key.clone());
                    }
                    continue;
                }
            };
            let Some(key) = self.keys.get_mut(at) else {
                continue;
            };
            key.windows += 1;
            // An aggregate without min or max (clickstream: count, mean, max) has NaN there:
            // the band is then just the mean, never a point left out of the plot.
            let or_mean = |v: f64| if v.is_finite() { v } else { s.mean };
            insert_band_point(
                &mut key.band.points,
                BandPoint {
                    x,
                    min: or_mean(s.min),
                    mean: s.mean,
                    max: or_mean(s.max),
                },
            );
            insert_bar(&mut key.counts.bars, [x, s.count as f64]);
            key.counts.width =
                (s.end.saturating_sub(s.start) as f64 / per_unit * 0.8).max(key.counts.width);
        }
    }

    /// The keys' mean/min/max curves, busiest first (ties: first seen first).
    pub fn ranked(&self) -> Vec<&BandSeries> {
        let mut keys: Vec<&KeyCurves> = self.keys.iter().collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.windows));
        keys.into_iter().map(|k| &k.band).collect()
    }

    /// Records per window of the busiest key.
    pub fn busiest_counts(&self) -> Option<&BarSeries> {
        self.keys
            .iter()
            .reduce(|a, b| if b.windows > a.windows { b } else { a })
            .map(|k| &k.counts)
    }

    /// Keys seen that have no curve.
    pub fn other_keys(&self) -> usize {
        self.other_keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the windows carry values (a mean) and not only counts: a window feeding a Batch
    /// node keeps its records but no statistics, so a mean/min/max plot would stay empty.
    pub fn has_values(&self) -> bool {
        self.keys
            .iter()
            .any(|k| k.band.points.last().is_some_and(|p| p.mean.is_finite()))
    }

    /// Points held over all keys (tests check the bound).
    pub fn points(&self) -> usize {
        self.keys
            .iter()
            .map(|k| k.band.points.len() + k.counts.bars.len())
            .sum()
    }
}

/// Inserts `p` in x order (after equal x); past [`KEY_POINTS`] merges neighbours pairwise.
fn insert_band_point(points: &mut Vec<BandPoint>, p: BandPoint) {
    if !p.x.is_finite() {
        return;
    }
    let at = points.partition_point(|q| q.x <= p.x);
    points.insert(at, p);
    if points.len() > KEY_POINTS {
        *points = points
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => BandPoint {
                    x: b.x,
                    min: a.min.min(b.min),
                    mean: (a.mean + b.mean) / 2.0,
                    max: a.max.max(b.max),
                },
                [a] => *a,
                _ => p,
            })
            .collect();
    }
}

/// Inserts a bar in x order; past [`KEY_POINTS`] merges neighbours, keeping the larger count.
fn insert_bar(bars: &mut Vec<[f64; 2]>, bar: [f64; 2]) {
    if !bar[0].is_finite() {
        return;
    }
    let at = bars.partition_point(|b| b[0] <= bar[0]);
    bars.insert(at, bar);
    if bars.len() > KEY_POINTS {
        *bars = bars
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => [b[0], a[1].max(b[1])],
                [a] => *a,
                _ => bar,
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(key: &str, end: i64, mean: f64) -> WindowSample {
        WindowSample {
            key: key.into(),
            start: end - 1000,
            end,
            count: 3,
            mean,
            min: mean - 1.0,
            max: mean + 1.0,
        }
    }

    #[test]
    fn late_firings_are_placed_in_order_not_dropped() {
        let mut w = KeyedWindows::default();
        w.add(
            &[
                sample("a", 3000, 1.0),
                sample("a", 1000, 2.0),
                sample("a", 2000, 3.0),
            ],
            0,
            1e3,
        );
        let xs: Vec<f64> = w.ranked()[0].points.iter().map(|p| p.x).collect();
        assert_eq!(xs, [1.0, 2.0, 3.0]);
    }

    #[test]
    fn keys_are_ranked_busiest_first_and_bounded() {
        let mut w = KeyedWindows::default();
        let mut samples = Vec::new();
        for k in 0..40 {
            for i in 0..=k % 5 {
                samples.push(sample(&format!("k{k}"), 1000 * (i + 1), 0.0));
            }
        }
        w.add(&samples, 0, 1e3);
        let ranked = w.ranked();
        assert_eq!(ranked.len(), MAX_KEYS);
        assert_eq!(ranked[0].name, "k4", "five windows, seen first");
        assert_eq!(w.other_keys(), 40 - MAX_KEYS);
        assert_eq!(
            w.busiest_counts().map(|c| c.name.as_str()),
            Some("records per window, key k4")
        );
    }

    #[test]
    fn a_long_run_keeps_each_key_bounded_with_its_extremes() {
        let mut w = KeyedWindows::default();
        for i in 0..50_000 {
            let mean = if i == 1234 { 500.0 } else { 1.0 };
            w.add(&[sample("a", i * 1000, mean)], 0, 1e3);
        }
        assert!(w.points() <= 2 * KEY_POINTS, "{}", w.points());
        let band = w.ranked()[0];
        assert!(
            band.points.iter().any(|p| p.max >= 501.0),
            "the spike survives"
        );
        assert!(band.points.windows(2).all(|p| p[0].x <= p[1].x));
    }

    #[test]
    fn a_window_without_min_or_max_still_draws_its_mean() {
        let mut w = KeyedWindows::default();
        let mut s = sample("a", 2000, 7.0);
        s.min = f64::NAN;
        w.add(&[s], 0, 1e3);
        let p = w.ranked()[0].points[0];
        assert_eq!((p.x, p.min, p.mean, p.max), (2.0, 7.0, 7.0, 8.0));
    }
}
