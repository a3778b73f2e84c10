//! What a plot draws instead of the raw values: TensorBoard's debiased EMA and log10 for a
//! log-scale axis, each as a pure function and as an incremental cache that only processes the
//! points appended since the last frame. Never modifies the source series.

use super::series::Series;

/// The largest smoothing weight: at 1.0 the average would never move.
pub const MAX_SMOOTHING: f64 = 0.999;

/// TensorBoard's debiased exponential moving average, fed one value at a time.
///
/// `last = last * w + (1 - w) * v`, then `smoothed = last / (1 - w^n)` with n the number of
/// finite values so far; starting from 0 and dividing by the debias term means the first smoothed
/// value equals the first raw value instead of being pulled towards 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ema {
    weight: f64,
    last: f64,
    /// `weight^n`, kept as a running product: `powi` per point cost more than the rest.
    weight_pow: f64,
}

impl Ema {
    /// `weight` is clamped to `0..=0.999` (NaN counts as 0, no smoothing).
    pub fn new(weight: f64) -> Self {
        let weight = if weight.is_nan() {
            0.0
        } else {
            weight.clamp(0.0, MAX_SMOOTHING)
        };
        Self {
            weight,
            last: 0.0,
            weight_pow: 1.0,
        }
    }

    /// The smoothed value after `v`; `None` (and no change) for NaN or infinite `v`.
    pub fn next(&mut self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        self.last = self.last * self.weight + (1.0 - self.weight) * v;
        self.weight_pow *= self.weight;
        let debias = 1.0 - self.weight_pow;
        Some(if debias > 0.0 {
            self.last / debias
        } else {
            self.last
        })
    }
}

/// The EMA of `points`' y values; non-finite points are left out.
pub fn ema_smooth(points: &[[f64; 2]], weight: f64) -> Vec<[f64; 2]> {
    let mut ema = Ema::new(weight);
    points
        .iter()
        .filter_map(|[x, y]| Some([*x, ema.next(*y)?]))
        .collect()
}

/// y replaced by log10(y) for a log-scale axis; zero, negative and non-finite y are left out.
pub fn log10_points(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    points
        .iter()
        .filter_map(|[x, y]| Some([*x, log10_y(*y)?]))
        .collect()
}

fn log10_y(y: f64) -> Option<f64> {
    (y > 0.0 && y.is_finite()).then(|| y.log10())
}

/// Which transform a [`DerivedSeries`] applies.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Stage {
    #[default]
    Log10,
    Ema(f64),
}

/// A transformed copy of a growing series' kept points, extended with only the new points
/// each frame.
///
/// It trusts the source to be append-only between thinnings; if the source thinned, is shorter
/// than before, renamed, or its last seen point changed, it starts over (another series took
/// its place).
#[derive(Clone, Debug, Default)]
pub(crate) struct DerivedSeries {
    stage: Stage,
    generation: u64,
    consumed: usize,
    last_seen: Option<[u64; 2]>,
    ema: Option<Ema>,
    out: Series,
}

impl DerivedSeries {
    /// Brings the copy up to date with `source` and returns it.
    pub(crate) fn update(&mut self, source: &Series, stage: Stage) -> &Series {
        let seen_still_there = match self.consumed.checked_sub(1) {
            None => true,
            Some(i) => source.points().get(i).map(|p| p.map(f64::to_bits)) == self.last_seen,
        };
        if self.stage != stage
            || self.generation != source.generation()
            || source.points().len() < self.consumed
            || source.name() != self.out.name()
            || !seen_still_there
        {
            *self = Self {
                stage,
                generation: source.generation(),
                consumed: 0,
                last_seen: None,
                ema: None,
                out: Series::new(source.name()),
            };
        }
        let new = source.points().get(self.consumed..).unwrap_or(&[]);
        for [x, y] in new {
            let value = match stage {
                Stage::Log10 => log10_y(*y),
                Stage::Ema(w) => self.ema.get_or_insert_with(|| Ema::new(w)).next(*y),
            };
            if let Some(v) = value {
                self.out.push_sorted(*x, v);
            }
        }
        self.consumed = source.points().len();
        self.last_seen = source.points().last().map(|p| p.map(f64::to_bits));
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn ema_matches_hand_computed_tensorboard_numbers() {
        // w = 0.5 over 1, 2, 3 (by hand, TensorBoard's formula):
        //   last = 0.5            debias = 1 - 0.5   = 0.5   -> 1
        //   last = 0.25 + 1 = 1.25 debias = 1 - 0.25 = 0.75  -> 5/3
        //   last = 0.625 + 1.5     debias = 1 - 0.125 = 0.875 -> 2.125/0.875 = 17/7
        let out = ema_smooth(&[[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]], 0.5);
        let ys: Vec<f64> = out.iter().map(|p| p[1]).collect();
        assert_eq!(out.len(), 3);
        assert!(
            close(ys[0], 1.0) && close(ys[1], 5.0 / 3.0) && close(ys[2], 17.0 / 7.0),
            "{ys:?}"
        );

        // w = 0.9 over 10, 0: last = 1, debias 0.1 -> 10; last = 0.9, debias 0.19 -> 90/19.
        let out = ema_smooth(&[[0.0, 10.0], [1.0, 0.0]], 0.9);
        assert!(
            close(out[0][1], 10.0) && close(out[1][1], 0.9 / 0.19),
            "{out:?}"
        );
    }

    #[test]
    fn ema_skips_nan_without_counting_it() {
        let out = ema_smooth(
            &[
                [0.0, 1.0],
                [1.0, f64::NAN],
                [2.0, 2.0],
                [3.0, f64::INFINITY],
            ],
            0.5,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], [0.0, 1.0]);
        assert_eq!(out[1][0], 2.0);
        assert!(
            close(out[1][1], 5.0 / 3.0),
            "NaN neither counted nor propagated"
        );
    }

    #[test]
    fn zero_weight_is_the_identity_and_weight_is_clamped() {
        let pts = [[0.0, 3.0], [1.0, -4.0], [2.0, 8.0]];
        assert_eq!(ema_smooth(&pts, 0.0), pts.to_vec());
        assert_eq!(Ema::new(5.0).weight, MAX_SMOOTHING);
        assert_eq!(Ema::new(-1.0).weight, 0.0);
        assert_eq!(Ema::new(f64::NAN).weight, 0.0);
    }

    #[test]
    fn log10_skips_non_positive_and_non_finite_values() {
        let pts = [
            [0.0, 100.0],
            [1.0, 0.0],
            [2.0, -5.0],
            [3.0, 0.001],
            [4.0, f64::NAN],
        ];
        assert_eq!(log10_points(&pts), vec![[0.0, 2.0], [3.0, -3.0]]);
    }

    #[test]
    fn derived_series_grows_incrementally_and_matches_the_pure_function() {
        let mut source = Series::new("loss");
        let mut cache = DerivedSeries::default();
        for i in 0..1000 {
            let y = if i % 17 == 0 {
                f64::NAN
            } else {
                (i as f64 * 0.37).sin() + 2.0
            };
            source.push(i as f64, y).unwrap();
            if i % 100 == 0 {
                cache.update(&source, Stage::Ema(0.8));
            }
        }
        let got = cache.update(&source, Stage::Ema(0.8)).points().to_vec();
        assert_eq!(got, ema_smooth(source.points(), 0.8));

        // A new weight, or another series of the same name, starts over.
        let got = cache.update(&source, Stage::Ema(0.3)).points().to_vec();
        assert_eq!(got, ema_smooth(source.points(), 0.3));
        let other = Series::from_ys("loss", &[5.0; 2000]);
        assert_eq!(cache.update(&other, Stage::Ema(0.3)).len(), 2000);
        assert!(
            cache
                .update(&other, Stage::Ema(0.3))
                .points()
                .iter()
                .all(|p| close(p[1], 5.0))
        );

        let mut log_cache = DerivedSeries::default();
        let logged = log_cache.update(&source, Stage::Log10).points().to_vec();
        assert_eq!(logged, log10_points(source.points()));
    }
}
