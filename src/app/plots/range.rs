//! Rules that make a plot read right at first sight, as pure functions: which y values the
//! axis must include (a constant or nearly empty series gets an axis from zero, not a sliver
//! around its value), where ticks go (1-2-5 steps, so a short axis still gets several labels)
//! and how they read, how many legend rows fit, and which keys of a many-key plot get a band.

/// The finite y values a plot draws: their extent and how many there are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YExtent {
    pub min: f64,
    pub max: f64,
    pub samples: usize,
}

impl YExtent {
    /// The extent of `ys`, NaN and infinities left out; `None` when nothing is finite.
    pub fn of(ys: impl IntoIterator<Item = f64>) -> Option<Self> {
        ys.into_iter()
            .filter(|y| y.is_finite())
            .fold(None, |acc: Option<Self>, y| {
                Some(match acc {
                    None => Self {
                        min: y,
                        max: y,
                        samples: 1,
                    },
                    Some(e) => Self {
                        min: e.min.min(y),
                        max: e.max.max(y),
                        samples: e.samples + 1,
                    },
                })
            })
    }

    /// Both extents together.
    pub fn merge(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Self {
                min: a.min.min(b.min),
                max: a.max.max(b.max),
                samples: a.samples + b.samples,
            }),
            (a, None) => a,
            (None, b) => b,
        }
    }

    /// All values equal (within rounding).
    pub fn is_constant(&self) -> bool {
        let scale = self.min.abs().max(self.max.abs());
        self.max - self.min <= 1e-9 * scale
    }
}

/// Fewer samples than this say too little for an axis fitted to their spread.
pub const MIN_SAMPLES_FOR_SPREAD: usize = 3;

/// The y range the axis must cover. A constant series (or one with fewer than three samples)
/// is drawn from zero to 10 % beyond its value (`0 … 52·1.1` for a constant 52; a negative one
/// mirrored); all zeros get `0 … 1`. Otherwise the data's own extent (the plot adds a margin).
pub fn y_span(extent: YExtent) -> (f64, f64) {
    if !extent.is_constant() && extent.samples >= MIN_SAMPLES_FOR_SPREAD {
        return (extent.min, extent.max);
    }
    let low = extent.min.min(0.0);
    let high = extent.max.max(0.0);
    if low == 0.0 && high == 0.0 {
        return (0.0, 1.0);
    }
    (low * 1.1, high * 1.1)
}

/// Where the y axis stops when a few values lie far from all the others (one huge window
/// mean squashing every other line to the floor). Values beyond the limits are drawn as
/// marks on the plot's edge and counted; the axis covers every other value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutlierClip {
    /// The lowest and highest values kept on the axis.
    pub low: f64,
    pub high: f64,
    /// Values are outliers below `low_limit` and above `high_limit`.
    pub low_limit: f64,
    pub high_limit: f64,
    pub below: usize,
    pub above: usize,
}

impl OutlierClip {
    /// Whether `y` is drawn as a mark on an edge (above or below the axis).
    pub fn clips(&self, y: f64) -> bool {
        y > self.high_limit || y < self.low_limit
    }
}

/// The typical range runs from this quantile to its mirror (the quartiles).
const OUTLIER_QUANTILE: f64 = 0.25;
/// Fewer values than this say too little about what is typical.
pub const MIN_SAMPLES_FOR_OUTLIERS: usize = 20;
/// More than this share of the values beyond the fences are not "a few outliers" but the
/// data's own shape (a falling loss curve): nothing is clipped then. A plot of heavy-tailed
/// statistics (session means) may allow more, see [`outlier_clip_with`].
pub const MAX_OUTLIER_SHARE: f64 = 0.1;
/// How far past the quartiles, in interquartile ranges, a value must lie to be an outlier
/// (Tukey's fences).
const OUTLIER_DISTANCE: f64 = 1.5;

/// The robust y range of `values` (reordered in place), or `None` when every value sits
/// within Tukey's fences: 1.5 interquartile ranges beyond the quartiles (the range taken at
/// least a tenth of the values' magnitude wide, so a constant series still has one). Heavy
/// tails (session means from 3 s to 6 min) keep the typical values readable.
pub fn outlier_clip(values: &mut Vec<f64>) -> Option<OutlierClip> {
    outlier_clip_with(values, MAX_OUTLIER_SHARE)
}

/// [`outlier_clip`] allowing up to `max_share` of the values beyond the fences.
pub fn outlier_clip_with(values: &mut Vec<f64>, max_share: f64) -> Option<OutlierClip> {
    values.retain(|v| v.is_finite());
    let n = values.len();
    if n < MIN_SAMPLES_FOR_OUTLIERS {
        return None;
    }
    let last = (n - 1) as f64;
    let lo_at = (last * OUTLIER_QUANTILE).floor() as usize;
    let hi_at = (last * (1.0 - OUTLIER_QUANTILE)).ceil() as usize;
    let p_lo = *values.select_nth_unstable_by(lo_at, f64::total_cmp).1;
    let p_hi = *values.select_nth_unstable_by(hi_at, f64::total_cmp).1;
    let typical = (p_hi - p_lo)
        .max(0.1 * p_hi.abs().max(p_lo.abs()))
        .max(f64::MIN_POSITIVE);
    let low_limit = p_lo - OUTLIER_DISTANCE * typical;
    let high_limit = p_hi + OUTLIER_DISTANCE * typical;
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut below, mut above) = (0, 0);
    for &v in values.iter() {
        if v < low_limit {
            below += 1;
        } else if v > high_limit {
            above += 1;
        } else {
            low = low.min(v);
            high = high.max(v);
        }
    }
    let outliers = below + above;
    let few = outliers as f64 <= max_share * n as f64;
    (outliers > 0 && few).then_some(OutlierClip {
        low,
        high,
        low_limit,
        high_limit,
        below,
        above,
    })
}

/// Three grid step sizes from the 1-2-5 series, each a multiple of the one before and at
/// least 2.5 times it, starting at the smallest one not below `base_step` (egui_plot's
/// smallest readable spacing). Powers of ten alone label a 0…1.3 axis only at 0 and 1.
pub fn nice_steps(base_step: f64) -> [f64; 3] {
    let base = if base_step.is_finite() && base_step > 0.0 {
        base_step
    } else {
        1.0
    };
    let first = nice_at_least(base);
    let second = next_nice_multiple(first);
    [first, second, next_nice_multiple(second)]
}

/// Grid steps in seconds for an event-time axis: round clock units (1, 2, 5, 10, 15, 30 s,
/// 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, days), below a second 1-2-5 fractions.
pub fn time_steps(base_s: f64) -> [f64; 3] {
    const UNITS: [f64; 21] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        10_800.0, 21_600.0, 43_200.0, 86_400.0, 172_800.0, 432_000.0, 864_000.0,
    ];
    let base = if base_s.is_finite() && base_s > 0.0 {
        base_s
    } else {
        1.0
    };
    if base < 1.0 {
        let steps = nice_steps(base);
        if steps[2] <= 1.0 {
            return steps;
        }
    }
    let at_least = |v: f64| {
        UNITS
            .iter()
            .copied()
            .find(|u| *u >= v * (1.0 - 1e-12))
            .unwrap_or_else(|| nice_at_least(v / 86_400.0) * 86_400.0)
    };
    let multiple = |step: f64| {
        let mut candidate = at_least(step * 2.5);
        for _ in 0..8 {
            let ratio = candidate / step;
            if (ratio - ratio.round()).abs() < 1e-6 {
                return candidate;
            }
            candidate = at_least(candidate * 1.01);
        }
        step * 10.0
    };
    let first = at_least(base.max(1.0));
    let second = multiple(first);
    [first, second, multiple(second)]
}

/// Grid marks `(value, step)` in `[lo, hi]` for each of `steps`, at values `v` where
/// `v + offset` is a multiple of the step (offset aligns event-time ticks to the clock); a
/// value on several steps' grids keeps the largest step. At most `limit` marks per step.
pub fn grid_marks(lo: f64, hi: f64, steps: [f64; 3], offset: f64, limit: usize) -> Vec<(f64, f64)> {
    let mut marks: Vec<(f64, f64)> = Vec::new();
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return marks;
    }
    let mut sorted = steps;
    sorted.sort_by(|a, b| b.total_cmp(a));
    for step in sorted {
        if !(step.is_finite() && step > 0.0) || (hi - lo) / step > limit as f64 {
            continue;
        }
        let shift = offset.rem_euclid(step);
        let mut k = ((lo + shift) / step).ceil();
        loop {
            let value = k * step - shift;
            if value > hi {
                break;
            }
            let taken = marks.iter().any(|(v, _)| (v - value).abs() <= step * 1e-6);
            if !taken {
                marks.push((value, step));
            }
            k += 1.0;
        }
    }
    marks
}

/// The smallest of 1, 2, 5 × 10^k that is at least `v`.
fn nice_at_least(v: f64) -> f64 {
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|f| f * magnitude)
        .find(|step| *step >= v * (1.0 - 1e-12))
        .unwrap_or(10.0 * magnitude)
}

/// The smallest 1-2-5 step at least 2.5 times `step` that `step` divides.
fn next_nice_multiple(step: f64) -> f64 {
    let mut candidate = nice_at_least(step * 2.5);
    for _ in 0..6 {
        let ratio = candidate / step;
        if (ratio - ratio.round()).abs() < 1e-6 {
            return candidate;
        }
        candidate = nice_at_least(candidate * 1.5);
    }
    step * 10.0
}

/// A tick label for `value` on an axis whose ticks are `step` apart: as many decimals as the
/// step needs (0.5 → one), thousands and more with an SI prefix (`250 k`).
pub fn tick_label(value: f64, step: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    // A tick at 1e-17 is a rounding error of 0.
    let value = if step > 0.0 && value.abs() < step * 1e-6 {
        0.0
    } else {
        value
    };
    if value.abs() >= 1000.0 && step >= 1.0 {
        return crate::format::si(value);
    }
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10() - 1e-9).ceil().clamp(0.0, 12.0) as usize
    } else {
        3
    };
    format!("{value:.decimals$}")
}

/// How many legend entries fit in a plot `height_px` tall (one row is about 18 points).
pub fn legend_rows(height_px: f32) -> usize {
    if !height_px.is_finite() {
        return 1;
    }
    (((height_px - 12.0) / 18.0).floor().max(1.0)) as usize
}

/// A corner of the plot area, for the legend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendCorner {
    RightTop,
    LeftTop,
    RightBottom,
    LeftBottom,
}

/// The corner where a legend box `box_w` × `box_h` (fractions of the plot's width and height)
/// covers the fewest of `points` (data coordinates within `x` and `y`); ties go to the
/// corners in the order above (top right first, where people look for a legend).
pub fn legend_corner(
    points: impl IntoIterator<Item = [f64; 2]>,
    x: (f64, f64),
    y: (f64, f64),
    box_w: f64,
    box_h: f64,
) -> LegendCorner {
    use LegendCorner::*;
    let corners = [RightTop, LeftTop, RightBottom, LeftBottom];
    let (w, h) = (x.1 - x.0, y.1 - y.0);
    if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0) {
        return RightTop;
    }
    let mut covered = [0usize; 4];
    for [px, py] in points {
        let (u, v) = ((px - x.0) / w, (py - y.0) / h);
        if !(u.is_finite() && v.is_finite()) {
            continue;
        }
        let (left, right) = (u <= box_w, u >= 1.0 - box_w);
        let (bottom, top) = (v <= box_h, v >= 1.0 - box_h);
        for (count, inside) in
            covered
                .iter_mut()
                .zip([right && top, left && top, right && bottom, left && bottom])
        {
            *count += usize::from(inside);
        }
    }
    let best = (0..4).min_by_key(|&i| (covered[i], i)).unwrap_or(0);
    corners[best]
}

/// How a key of a many-key window plot is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStyle {
    /// Mean line with a light min/max band, named in the legend.
    Band,
    /// A thin mean line, named in the legend.
    NamedLine,
    /// A thin mean line without a legend entry (the legend would not fit).
    Line,
}

/// Styles for keys ranked busiest first: the first `bands` get a band, then lines named while
/// `legend` rows last, the rest unnamed thin lines.
pub fn key_styles(keys: usize, bands: usize, legend: usize) -> Vec<KeyStyle> {
    (0..keys)
        .map(|i| {
            if i < bands {
                KeyStyle::Band
            } else if i < legend.max(bands) {
                KeyStyle::NamedLine
            } else {
                KeyStyle::Line
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extent(ys: &[f64]) -> YExtent {
        YExtent::of(ys.iter().copied()).unwrap()
    }

    #[test]
    fn a_constant_series_gets_an_axis_from_zero() {
        assert_eq!(y_span(extent(&[52.0; 40])), (0.0, 52.0 * 1.1));
        assert_eq!(y_span(extent(&[-3.0; 5])), (-3.0 * 1.1, 0.0));
        assert_eq!(y_span(extent(&[0.0; 5])), (0.0, 1.0));
        // Tiny wobble from rounding is still constant.
        assert_eq!(
            y_span(extent(&[52.0, 52.0 + 1e-12, 52.0])),
            (0.0, (52.0 + 1e-12) * 1.1)
        );
    }

    #[test]
    fn one_or_two_samples_are_drawn_from_zero_too() {
        assert_eq!(y_span(extent(&[490_000.0])), (0.0, 539_000.0));
        assert_eq!(y_span(extent(&[5.0, 7.0])), (0.0, 7.0 * 1.1));
        assert_eq!(y_span(extent(&[-2.0, 4.0])), (-2.0 * 1.1, 4.0 * 1.1));
        // Three varying samples: the data's own spread.
        assert_eq!(y_span(extent(&[5.0, 7.0, 6.0])), (5.0, 7.0));
    }

    #[test]
    fn nothing_finite_has_no_extent() {
        assert_eq!(YExtent::of([f64::NAN, f64::INFINITY]), None);
        let one = YExtent::of([2.0, f64::NAN]).unwrap();
        assert_eq!(one.samples, 1);
        assert_eq!(YExtent::merge(None, Some(one)), Some(one));
        let both = YExtent::merge(Some(one), YExtent::of([-1.0])).unwrap();
        assert_eq!((both.min, both.max, both.samples), (-1.0, 2.0, 2));
    }

    #[test]
    fn ticks_step_by_one_two_five_and_read_with_the_decimals_they_need() {
        let close = |got: [f64; 3], want: [f64; 3]| {
            assert!(
                got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-9 * w),
                "{got:?} != {want:?}"
            );
        };
        close(nice_steps(0.08), [0.1, 0.5, 2.0]);
        close(nice_steps(0.15), [0.2, 1.0, 5.0]);
        close(nice_steps(0.5), [0.5, 2.0, 10.0]);
        close(nice_steps(3000.0), [5000.0, 20_000.0, 100_000.0]);
        close(nice_steps(0.0), [1.0, 5.0, 20.0]);
        assert_eq!(tick_label(0.5, 0.5), "0.5");
        assert_eq!(tick_label(1.0, 0.5), "1.0");
        assert_eq!(tick_label(0.02, 0.01), "0.02");
        assert_eq!(tick_label(250_000.0, 50_000.0), "250 k");
        assert_eq!(tick_label(4.0e-17, 0.2), "0.0");
        assert_eq!(tick_label(12.0, 2.0), "12");
    }

    #[test]
    fn event_time_ticks_fall_on_round_clock_times() {
        assert_eq!(time_steps(0.8), [1.0, 5.0, 15.0]);
        assert_eq!(time_steps(40.0), [60.0, 300.0, 900.0]);
        assert_eq!(time_steps(3000.0), [3600.0, 10_800.0, 43_200.0]);
        // Seconds after an origin at 22:13:20.250: ticks at whole 5 s of the clock.
        let marks = grid_marks(0.0, 20.0, [5.0, 10.0, 30.0], 80_000.25, 100);
        let clock: Vec<f64> = marks.iter().map(|(v, _)| v + 80_000.25).collect();
        assert!(
            clock
                .iter()
                .all(|t| (t / 5.0 - (t / 5.0).round()).abs() < 1e-6),
            "{clock:?}"
        );
        assert_eq!(marks.len(), 4);
        assert!(grid_marks(1.0, 0.0, [1.0, 2.0, 5.0], 0.0, 100).is_empty());
        // Too many marks for a step: that step is left out, the coarser ones stay.
        let coarse = grid_marks(0.0, 1000.0, [1.0, 100.0, 500.0], 0.0, 50);
        assert!(coarse.iter().all(|(_, step)| *step >= 100.0));
    }

    #[test]
    fn many_keys_get_a_few_bands_and_thin_lines_with_a_legend_that_fits() {
        use KeyStyle::*;
        assert_eq!(legend_rows(200.0), 10);
        assert_eq!(legend_rows(10.0), 1);
        assert_eq!(
            key_styles(8, 3, 5),
            [Band, Band, Band, NamedLine, NamedLine, Line, Line, Line]
        );
        assert_eq!(key_styles(2, 3, 5), [Band, Band]);
        assert_eq!(key_styles(4, 3, 1), [Band, Band, Band, Line]);
    }

    #[test]
    fn one_huge_value_is_clipped_so_the_typical_values_read() {
        let mut values: Vec<f64> = (0..200).map(|i| 10.0 + f64::from(i % 7)).collect();
        values.push(5_000.0);
        let clip = outlier_clip(&mut values).expect("5000 among 10..16 is an outlier");
        assert_eq!((clip.low, clip.high), (10.0, 16.0));
        assert_eq!((clip.below, clip.above), (0, 1));
        assert!(clip.clips(5_000.0) && !clip.clips(16.0));
        // Far below counts too.
        let mut values: Vec<f64> = (0..100).map(|i| 100.0 + f64::from(i % 5)).collect();
        values.extend([-9_000.0, f64::NAN]);
        let clip = outlier_clip(&mut values).unwrap();
        assert_eq!((clip.below, clip.above, clip.low), (1, 0, 100.0));
    }

    #[test]
    fn spread_out_data_and_short_series_are_not_clipped() {
        let mut linear: Vec<f64> = (0..1000).map(f64::from).collect();
        assert_eq!(outlier_clip(&mut linear), None);
        // Two groups of values, each a large share of the data, are data, not outliers.
        let mut two_groups: Vec<f64> = (0..70).map(|_| 1.0).chain((0..30).map(|_| 900.0)).collect();
        assert_eq!(outlier_clip(&mut two_groups), None);
        // Normal-ish noise: within the fences.
        let mut noise: Vec<f64> = (0..500).map(|i| (f64::from(i) * 0.7).sin()).collect();
        assert_eq!(outlier_clip(&mut noise), None);
        let mut few = vec![1.0, 1.0, 1.0, 1e9];
        assert_eq!(outlier_clip(&mut few), None);
        // A loss falling from 2.3 to 0.05 over the first fifth of the run: its start is the
        // curve people watch, not outliers.
        let mut loss: Vec<f64> = (0..1000)
            .map(|i| 0.05 + 2.25 * (-f64::from(i) / 60.0).exp())
            .collect();
        assert_eq!(outlier_clip(&mut loss.clone()), None);
        // A plot of heavy-tailed statistics may allow more: then the tail is clipped.
        let clip = outlier_clip_with(&mut loss, 0.25).expect("the steep start is a fifth");
        assert!(clip.above > 100 && clip.high < 0.2, "{clip:?}");
    }

    #[test]
    fn a_constant_series_with_one_spike_keeps_its_axis_from_zero() {
        let mut values = vec![52.0; 60];
        values.push(52_000.0);
        let clip = outlier_clip(&mut values).unwrap();
        assert_eq!((clip.low, clip.high, clip.above), (52.0, 52.0, 1));
        let kept = YExtent {
            min: clip.low,
            max: clip.high,
            samples: 60,
        };
        assert_eq!(y_span(kept), (0.0, 52.0 * 1.1));
    }

    #[test]
    fn the_legend_goes_to_the_corner_it_covers_least() {
        use LegendCorner::*;
        let x = (0.0, 100.0);
        let y = (0.0, 10.0);
        // A flat line along the top (a watermark that caught up at once): a bottom corner.
        let top: Vec<[f64; 2]> = (0..=100).map(|i| [f64::from(i), 9.8]).collect();
        assert_eq!(legend_corner(top, x, y, 0.3, 0.3), RightBottom);
        // A falling loss curve: high on the left, low on the right: top right is free.
        let falling: Vec<[f64; 2]> = (0..=100)
            .map(|i| [f64::from(i), 10.0 * (-f64::from(i) / 10.0).exp()])
            .collect();
        assert_eq!(legend_corner(falling, x, y, 0.3, 0.3), RightTop);
        // A rising accuracy that levels off high early: the bottom right is free.
        let rising: Vec<[f64; 2]> = (0..=100)
            .map(|i| [f64::from(i), 10.0 - 10.0 * (-f64::from(i) / 10.0).exp()])
            .collect();
        assert_eq!(legend_corner(rising, x, y, 0.3, 0.3), RightBottom);
        // A diagonal leaves the top left and bottom right free: top first.
        let diagonal: Vec<[f64; 2]> = (0..=100)
            .map(|i| [f64::from(i), f64::from(i) / 10.0])
            .collect();
        assert_eq!(legend_corner(diagonal, x, y, 0.3, 0.3), LeftTop);
        // Nothing to go by: top right.
        assert_eq!(legend_corner([], x, y, 0.3, 0.3), RightTop);
        assert_eq!(
            legend_corner([[1.0, 1.0]], (0.0, 0.0), y, 0.3, 0.3),
            RightTop
        );
    }
}
