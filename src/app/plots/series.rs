//! A growing numeric series with a min/max pyramid, so a plot can draw a million points by
//! visiting about two per pixel column, and a bounded size: past its capacity it keeps the
//! envelope (each bucket's lowest and highest point) at even density over the whole run, so a
//! run that goes on for hours holds as much memory as one that took a minute. Plain data (no
//! egui types); it never reorders points, and rewrites them only when it thins (`generation`).

use std::fmt;
use std::ops::Range;

/// Points per block at pyramid level 0; each further level groups this many blocks below it.
const FAN_OUT: usize = 64;
/// Levels of 64, 4,096 and 262,144 points: a column of a million-point plot visits < 300 entries.
const LEVELS: usize = 3;
/// Points a live series keeps by default before it thins (about 400 KB with its pyramid).
pub const DEFAULT_CAPACITY: usize = 1 << 14;

/// Why a point was refused by [`Series::push`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SeriesError {
    /// x went backwards: the series must stay sorted for binary search and the pyramid.
    XOutOfOrder { x: f64, last_x: f64 },
    /// x was NaN, which has no place in a sorted order.
    NanX,
}

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::XOutOfOrder { x, last_x } => {
                write!(
                    f,
                    "x = {x} comes before the last x = {last_x}; a series only grows"
                )
            }
            Self::NanX => write!(f, "x is NaN"),
        }
    }
}

impl std::error::Error for SeriesError {}

/// The smallest and largest finite y of a stretch of points, with their indices.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Extrema {
    min_y: f64,
    min_i: usize,
    max_y: f64,
    max_i: usize,
}

impl Extrema {
    fn of_point(i: usize, y: f64) -> Option<Self> {
        y.is_finite().then_some(Self {
            min_y: y,
            min_i: i,
            max_y: y,
            max_i: i,
        })
    }
}

/// Merges `later` (points after `earlier`) into `earlier`; ties keep the earlier index.
fn merge(earlier: Option<Extrema>, later: Option<Extrema>) -> Option<Extrema> {
    match (earlier, later) {
        (Some(mut a), Some(b)) => {
            if b.min_y < a.min_y {
                a.min_y = b.min_y;
                a.min_i = b.min_i;
            }
            if b.max_y > a.max_y {
                a.max_y = b.max_y;
                a.max_i = b.max_i;
            }
            Some(a)
        }
        (a, None) => a,
        (None, b) => b,
    }
}

/// How many leading points of sorted `points` have x below `boundary`, by exponential search
/// from the front: a column's end is near its start, and a plain binary search over the whole
/// rest of a million points misses the cache at every step (it dominated the frame cost).
fn gallop_below(points: &[[f64; 2]], boundary: f64) -> usize {
    let mut bound = 1;
    while bound < points.len() && points.get(bound - 1).is_some_and(|p| p[0] < boundary) {
        bound *= 2;
    }
    // Everything before bound / 2 is below the boundary; the answer lies in the window.
    let window_start = bound / 2;
    let window = points
        .get(window_start..bound.min(points.len()))
        .unwrap_or(&[]);
    window_start + window.partition_point(|p| p[0] < boundary)
}

fn block_size(level: usize) -> usize {
    FAN_OUT.pow(level as u32 + 1)
}

/// A named list of `[x, y]` points with x non-decreasing. y may be NaN or infinite (a
/// diverged loss); such points are kept but never drawn. Unbounded unless given a capacity
/// ([`Series::bounded`]); a bounded one thins to its envelope when full.
///
/// Fields are private so the min/max pyramid always matches the points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    name: String,
    points: Vec<[f64; 2]>,
    /// `levels[l][b]`: extrema of points `b * 64^(l+1) ..` (the last block may be partial).
    levels: Vec<Vec<Option<Extrema>>>,
    /// Most points kept (0: unbounded).
    capacity: usize,
    /// Raw points per kept bucket (1 until the first thinning).
    group: usize,
    /// The newest bucket, still open: its extremes and newest point so far.
    pending: Option<Bucket>,
    /// Counts thinnings: derived copies start over when it changes.
    generation: u64,
    /// Points ever pushed.
    pushed: u64,
    /// Smallest and largest finite y ever pushed.
    y_bounds: Option<(f64, f64)>,
}

impl Series {
    /// An empty, unbounded series.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            points: Vec::new(),
            levels: vec![Vec::new(); LEVELS],
            capacity: 0,
            group: 1,
            pending: None,
            generation: 0,
            pushed: 0,
            y_bounds: None,
        }
    }

    /// An empty series that keeps at most about `capacity` points (at least 64), thinning to
    /// the envelope of the curve when full.
    pub fn bounded(name: impl Into<String>, capacity: usize) -> Self {
        Self {
            capacity: capacity.max(64),
            ..Self::new(name)
        }
    }

    /// A series of `ys` at x = 0, 1, 2, ...
    pub fn from_ys(name: impl Into<String>, ys: &[f64]) -> Self {
        let mut s = Self::new(name);
        s.points.reserve(ys.len());
        for (i, y) in ys.iter().enumerate() {
            s.push_sorted(i as f64, *y);
        }
        s
    }

    /// A series from points that must already be sorted by x.
    pub fn from_points(name: impl Into<String>, points: &[[f64; 2]]) -> Result<Self, SeriesError> {
        let mut s = Self::new(name);
        s.points.reserve(points.len());
        for [x, y] in points {
            s.push(*x, *y)?;
        }
        Ok(s)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kept points, oldest first (without the newest, still open bucket: see
    /// [`Series::pending`]).
    pub fn points(&self) -> &[[f64; 2]] {
        &self.points
    }

    /// The newest bucket of a thinned series as points to draw, in x order: its lowest and
    /// highest point and its newest (empty until the series thins).
    pub fn pending(&self) -> Vec<[f64; 2]> {
        self.pending.as_ref().map_or_else(Vec::new, Bucket::points)
    }

    /// The newest point.
    pub fn last(&self) -> Option<[f64; 2]> {
        self.pending
            .as_ref()
            .map(|b| b.last)
            .or(self.points.last().copied())
    }

    /// Points held (kept and pending).
    pub fn len(&self) -> usize {
        self.points.len() + self.pending.as_ref().map_or(0, |b| b.points().len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Points ever pushed, thinned or not.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Changes whenever the series thinned (its kept points were rewritten).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The smallest and largest finite y ever pushed.
    pub fn y_bounds(&self) -> Option<(f64, f64)> {
        self.y_bounds
    }

    /// Every point held, kept then pending, in x order.
    pub fn all_points(&self) -> impl Iterator<Item = [f64; 2]> + '_ {
        self.points.iter().copied().chain(self.pending())
    }

    /// Appends a point in O(levels); refuses an x that would break the order.
    pub fn push(&mut self, x: f64, y: f64) -> Result<(), SeriesError> {
        if x.is_nan() {
            return Err(SeriesError::NanX);
        }
        if let Some([last_x, _]) = self.last()
            && x < last_x
        {
            return Err(SeriesError::XOutOfOrder { x, last_x });
        }
        self.push_sorted(x, y);
        Ok(())
    }

    /// Appends a point the caller knows to be in order (derived series copy their source's x).
    pub(crate) fn push_sorted(&mut self, x: f64, y: f64) {
        debug_assert!(
            self.last().is_none_or(|p| p[0] <= x),
            "push_sorted got x out of order"
        );
        self.pushed += 1;
        if y.is_finite() {
            self.y_bounds = Some(
                self.y_bounds
                    .map_or((y, y), |(lo, hi)| (lo.min(y), hi.max(y))),
            );
        }
        if self.group <= 1 {
            self.keep(x, y);
        } else {
            let bucket = self.pending.get_or_insert_with(|| Bucket::new([x, y]));
            bucket.add([x, y]);
            if bucket.count >= self.group {
                let full = self.pending.take();
                for [px, py] in full.map_or_else(Vec::new, |b| b.extremes()) {
                    self.keep(px, py);
                }
            }
        }
        if self.capacity > 0 && self.points.len() > self.capacity {
            self.thin();
        }
    }

    /// Halves the kept points to the extremes of each run of four and doubles the bucket.
    fn thin(&mut self) {
        let kept: Vec<[f64; 2]> = self.points.chunks(4).flat_map(extremes).collect();
        self.points = Vec::with_capacity(self.capacity + 2);
        self.levels = vec![Vec::new(); LEVELS];
        for [x, y] in kept {
            self.keep(x, y);
        }
        self.group = if self.group <= 1 { 4 } else { self.group * 2 };
        self.generation += 1;
    }

    /// Appends a kept point and updates the pyramid.
    fn keep(&mut self, x: f64, y: f64) {
        let i = self.points.len();
        self.points.push([x, y]);
        let point = Extrema::of_point(i, y);
        for (level, blocks) in self.levels.iter_mut().enumerate() {
            let b = i / block_size(level);
            match blocks.get_mut(b) {
                Some(block) => *block = merge(*block, point),
                None => blocks.push(point),
            }
        }
    }

    /// First and last x, if any point exists.
    pub fn x_range(&self) -> Option<(f64, f64)> {
        let first = self
            .points
            .first()
            .copied()
            .or_else(|| self.pending.as_ref().map(|b| b.first))?;
        Some((first[0], self.last()?[0]))
    }

    /// Indices of the points with `x_min <= x <= x_max` (binary search).
    pub fn index_range(&self, x_min: f64, x_max: f64) -> Range<usize> {
        if x_min.is_nan() || x_max.is_nan() || x_min > x_max {
            return 0..0;
        }
        let lo = self.points.partition_point(|p| p[0] < x_min);
        let hi = self.points.partition_point(|p| p[0] <= x_max);
        lo..hi.max(lo)
    }

    /// At most two points per column for drawing `[x_min, x_max]` over `columns` pixel columns:
    /// each column's smallest and largest finite y, in their original order, so no spike is lost.
    /// Column `c` holds `x_min + span*c/columns <= x < x_min + span*(c+1)/columns` (the last one
    /// also its right edge). When the range holds few points, all finite ones are returned.
    pub fn downsample(&self, x_min: f64, x_max: f64, columns: usize) -> Vec<[f64; 2]> {
        let range = self.index_range(x_min, x_max);
        let mut out = Vec::with_capacity(range.len().min(2 * columns.max(1)));
        self.downsample_into(range, x_min, x_max, columns, &mut out);
        out
    }

    /// Like [`Self::downsample`], plus the nearest point either side of the range, so a line
    /// runs on to the plot's edges instead of stopping at the last visible point.
    pub fn downsample_for_view(&self, x_min: f64, x_max: f64, columns: usize) -> Vec<[f64; 2]> {
        let range = self.index_range(x_min, x_max);
        let mut out = Vec::with_capacity(range.len().min(2 * columns.max(1)) + 2);
        if let Some(before) = range.start.checked_sub(1).and_then(|i| self.points.get(i))
            && before[1].is_finite()
        {
            out.push(*before);
        }
        let end = range.end;
        self.downsample_into(range, x_min, x_max, columns, &mut out);
        if let Some(after) = self.points.get(end)
            && after[1].is_finite()
        {
            out.push(*after);
        }
        // The newest bucket of a thinned series: its extremes and newest point.
        let last_x = out.last().map_or(f64::NEG_INFINITY, |p| p[0]);
        out.extend(
            self.pending()
                .into_iter()
                .filter(|p| p[1].is_finite() && p[0] >= last_x && p[0] <= x_max),
        );
        out
    }

    fn downsample_into(
        &self,
        range: Range<usize>,
        x_min: f64,
        x_max: f64,
        columns: usize,
        out: &mut Vec<[f64; 2]>,
    ) {
        let columns = columns.max(1);
        let Some(visible) = self.points.get(range.clone()) else {
            return;
        };
        if visible.len() <= 2 * columns {
            out.extend(visible.iter().filter(|p| p[1].is_finite()));
            return;
        }
        let span = x_max - x_min;
        let mut start = range.start;
        for c in 0..columns {
            let end = if c + 1 == columns {
                range.end
            } else {
                let boundary = x_min + span * (c + 1) as f64 / columns as f64;
                let rest = self.points.get(start..range.end).unwrap_or(&[]);
                start + gallop_below(rest, boundary)
            };
            if let Some(e) = self.range_extrema(start, end) {
                let (first, second) = if e.min_i <= e.max_i {
                    (e.min_i, e.max_i)
                } else {
                    (e.max_i, e.min_i)
                };
                out.extend(self.points.get(first));
                if second != first {
                    out.extend(self.points.get(second));
                }
            }
            start = end;
        }
    }

    /// Extrema of points `lo..hi`, using the largest aligned pyramid blocks that fit.
    fn range_extrema(&self, lo: usize, hi: usize) -> Option<Extrema> {
        let mut acc = None;
        let mut i = lo;
        while i < hi {
            let mut level_fit = None;
            for level in 0..LEVELS {
                let size = block_size(level);
                if i.is_multiple_of(size) && i + size <= hi {
                    level_fit = Some(level);
                } else {
                    break;
                }
            }
            match level_fit {
                Some(level) => {
                    let size = block_size(level);
                    let block = self.levels.get(level).and_then(|l| l.get(i / size));
                    acc = merge(acc, block.copied().flatten());
                    i += size;
                }
                None => {
                    // Single points up to the next block boundary, in a tight loop.
                    let stop = hi.min((i / FAN_OUT + 1) * FAN_OUT);
                    for (k, p) in self.points.get(i..stop).unwrap_or(&[]).iter().enumerate() {
                        acc = merge(acc, Extrema::of_point(i + k, p[1]));
                    }
                    i = stop;
                }
            }
        }
        acc
    }
}

/// An open bucket of a thinned series: O(1) memory however many points it covers.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bucket {
    first: [f64; 2],
    low: Option<[f64; 2]>,
    high: Option<[f64; 2]>,
    last: [f64; 2],
    count: usize,
}

impl Bucket {
    fn new(first: [f64; 2]) -> Self {
        Self {
            first,
            low: None,
            high: None,
            last: first,
            count: 0,
        }
    }

    fn add(&mut self, p: [f64; 2]) {
        self.count += 1;
        self.last = p;
        if p[1].is_finite() {
            if self.low.is_none_or(|l| p[1] < l[1]) {
                self.low = Some(p);
            }
            if self.high.is_none_or(|h| p[1] > h[1]) {
                self.high = Some(p);
            }
        }
    }

    /// What the bucket keeps when it closes: its lowest and highest point in x order.
    fn extremes(&self) -> Vec<[f64; 2]> {
        let mut points: Vec<[f64; 2]> = match (self.low, self.high) {
            (Some(lo), Some(hi)) if lo == hi => vec![lo],
            (Some(lo), Some(hi)) if lo[0] <= hi[0] => vec![lo, hi],
            (Some(lo), Some(hi)) => vec![hi, lo],
            _ => vec![self.last],
        };
        points.dedup();
        points
    }

    /// What is drawn while it is open: the extremes and the newest point.
    fn points(&self) -> Vec<[f64; 2]> {
        let mut points = self.extremes();
        if points.last().is_none_or(|p| *p != self.last) && self.last[1].is_finite() {
            points.push(self.last);
        }
        points
    }
}

/// The lowest and the highest finite point of a bucket, in x order (one point if they
/// coincide; the last point when none is finite, so x keeps advancing).
fn extremes(bucket: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let by_y = |a: &&[f64; 2], b: &&[f64; 2]| a[1].total_cmp(&b[1]);
    let finite = || bucket.iter().filter(|p| p[1].is_finite());
    match (finite().min_by(by_y), finite().max_by(by_y)) {
        (Some(lo), Some(hi)) if std::ptr::eq(lo, hi) => vec![*lo],
        (Some(lo), Some(hi)) if lo[0] <= hi[0] => vec![*lo, *hi],
        (Some(lo), Some(hi)) => vec![*hi, *lo],
        _ => bucket.last().copied().into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_series_keeps_the_envelope_at_even_density() {
        let mut s = Series::bounded("loss", 1000);
        for i in 0..200_000 {
            let y = if i == 777 {
                99.0
            } else {
                1.0 / f64::from(i + 1)
            };
            s.push(f64::from(i), y).unwrap();
        }
        assert!(s.len() <= 1000 + 3, "{}", s.len());
        assert_eq!(s.pushed(), 200_000);
        assert!(s.generation() > 0);
        let all: Vec<[f64; 2]> = s.all_points().collect();
        assert!(all.windows(2).all(|w| w[0][0] <= w[1][0]), "x order");
        assert!(all.contains(&[777.0, 99.0]), "an early spike survives");
        assert_eq!(s.last(), Some([199_999.0, 1.0 / 200_000.0]));
        assert_eq!(s.y_bounds(), Some((1.0 / 200_000.0, 99.0)));
        let first = all.iter().filter(|p| p[0] < 20_000.0).count();
        let last = all.iter().filter(|p| p[0] >= 180_000.0).count();
        assert!(
            first.abs_diff(last) * 4 <= first.max(last),
            "{first} vs {last}"
        );
        // Drawing still reaches the newest point.
        let drawn = s.downsample_for_view(0.0, 200_000.0, 100);
        assert_eq!(drawn.last(), Some(&[199_999.0, 1.0 / 200_000.0]));
    }

    /// A noisy series with spikes, NaNs and infinities, x = 0..n.
    fn awkward(n: usize) -> Series {
        let ys: Vec<f64> = (0..n)
            .map(|i| match i % 997 {
                13 => f64::NAN,
                14 => f64::INFINITY,
                500 => 1e6,
                501 => -1e6,
                _ => ((i * 7919) % 101) as f64 - 50.0,
            })
            .collect();
        Series::from_ys("awkward", &ys)
    }

    /// The brute-force reference: per column, the finite min and max y.
    fn brute_columns(
        s: &Series,
        x_min: f64,
        x_max: f64,
        columns: usize,
    ) -> Vec<Option<(f64, f64)>> {
        let mut cols = vec![None; columns];
        let span = x_max - x_min;
        // The documented column edges, computed the same way as the downsampler does.
        let edges: Vec<f64> = (1..columns)
            .map(|c| x_min + span * c as f64 / columns as f64)
            .collect();
        for [x, y] in s.points() {
            if *x < x_min || *x > x_max || !y.is_finite() {
                continue;
            }
            let c = edges.partition_point(|e| *e <= *x);
            let entry: &mut Option<(f64, f64)> = &mut cols[c];
            *entry = Some(match *entry {
                None => (*y, *y),
                Some((lo, hi)) => (lo.min(*y), hi.max(*y)),
            });
        }
        cols
    }

    fn check_exact(s: &Series, x_min: f64, x_max: f64, columns: usize) {
        let out = s.downsample(x_min, x_max, columns);
        assert!(
            out.len() <= 2 * columns,
            "{} points for {columns} columns",
            out.len()
        );
        assert!(
            out.iter()
                .all(|p| p[0] >= x_min && p[0] <= x_max && p[1].is_finite())
        );
        assert!(
            out.windows(2).all(|w| w[0][0] <= w[1][0]),
            "output stays in x order"
        );
        let want = brute_columns(s, x_min, x_max, columns);
        let got = brute_columns(
            &Series::from_points("o", &out).unwrap(),
            x_min,
            x_max,
            columns,
        );
        assert_eq!(got, want, "min and max of every column are kept");
    }

    #[test]
    fn downsampling_keeps_each_columns_min_and_max() {
        let s = awkward(1_000_000);
        check_exact(&s, 0.0, 1_000_000.0, 1000);
        check_exact(&s, 0.0, 1_000_000.0, 700);
        check_exact(&s, 123_456.0, 654_321.0, 333);
        check_exact(&s, 5_000.0, 6_000.0, 100);
    }

    #[test]
    fn downsampling_a_short_range_returns_every_finite_point() {
        let s = awkward(2_000);
        let out = s.downsample(10.0, 20.0, 100);
        let want: Vec<[f64; 2]> = (10..=20)
            .filter(|i| *i != 13 && *i != 14)
            .map(|i| [i as f64, s.points()[i][1]])
            .collect();
        assert_eq!(out, want);
    }

    #[test]
    fn downsampling_keeps_a_single_spike() {
        let mut ys = vec![0.0; 100_000];
        ys[54_321] = 42.0;
        let s = Series::from_ys("spike", &ys);
        let out = s.downsample(0.0, 100_000.0, 10);
        assert!(out.contains(&[54_321.0, 42.0]));
        assert!(out.len() <= 20);
    }

    #[test]
    fn downsampling_edge_cases() {
        let empty = Series::new("e");
        assert!(empty.downsample(0.0, 1.0, 10).is_empty());
        assert!(empty.downsample_for_view(0.0, 1.0, 10).is_empty());

        let one = Series::from_points("one", &[[3.0, 7.0]]).unwrap();
        assert_eq!(one.downsample(0.0, 10.0, 10), vec![[3.0, 7.0]]);
        assert!(one.downsample(4.0, 10.0, 10).is_empty());
        assert_eq!(one.downsample_for_view(4.0, 10.0, 10), vec![[3.0, 7.0]]);

        // 10,000 points all at x = 5: one column, its min and max in order.
        let pts: Vec<[f64; 2]> = (0..10_000)
            .map(|i| [5.0, ((i * 37) % 1000) as f64])
            .collect();
        let same_x = Series::from_points("same", &pts).unwrap();
        assert_eq!(
            same_x.downsample(5.0, 5.0, 50),
            vec![[5.0, 0.0], [5.0, 999.0]]
        );
        check_exact(&same_x, 0.0, 10.0, 50);

        // Reversed or NaN ranges and zero columns do not panic.
        assert!(same_x.downsample(10.0, 0.0, 50).is_empty());
        assert!(same_x.downsample(f64::NAN, 10.0, 50).is_empty());
        assert_eq!(same_x.downsample(0.0, 10.0, 0).len(), 2);
    }

    #[test]
    fn nan_values_are_skipped_not_propagated() {
        let s = Series::from_ys("nan", &[f64::NAN; 5_000]);
        assert!(s.downsample(0.0, 5_000.0, 10).is_empty());
        let mut ys = vec![f64::NAN; 5_000];
        ys[4_000] = 1.0;
        let s = Series::from_ys("one real", &ys);
        assert_eq!(s.downsample(0.0, 5_000.0, 10), vec![[4_000.0, 1.0]]);
    }

    #[test]
    fn view_adds_the_neighbours_outside_the_range() {
        let s = Series::from_ys("s", &[0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            s.downsample_for_view(1.5, 2.5, 10),
            vec![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]
        );
    }

    #[test]
    fn gallop_agrees_with_binary_search() {
        let pts: Vec<[f64; 2]> = (0..1000).map(|i| [(i / 3) as f64, 0.0]).collect();
        for boundary in [-1.0, 0.0, 0.5, 1.0, 7.0, 100.0, 332.0, 333.0, 1e9] {
            let want = pts.partition_point(|p| p[0] < boundary);
            assert_eq!(gallop_below(&pts, boundary), want, "boundary {boundary}");
        }
        assert_eq!(gallop_below(&[], 1.0), 0);
    }

    #[test]
    fn push_refuses_x_going_backwards_and_nan_x() {
        let mut s = Series::new("s");
        assert_eq!(s.push(1.0, 0.0), Ok(()));
        assert_eq!(s.push(1.0, 2.0), Ok(()), "equal x is allowed");
        assert_eq!(
            s.push(0.5, 0.0),
            Err(SeriesError::XOutOfOrder {
                x: 0.5,
                last_x: 1.0
            })
        );
        assert_eq!(s.push(f64::NAN, 0.0), Err(SeriesError::NanX));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn pyramid_grown_by_push_matches_one_built_at_once() {
        let all = awkward(300_000);
        let mut grown = Series::new("awkward");
        for [x, y] in all.points() {
            grown.push(*x, *y).unwrap();
        }
        // Compared by bits: NaN points make `Series == Series` false.
        let bits = |s: &Series| -> Vec<[u64; 2]> {
            s.points().iter().map(|p| p.map(f64::to_bits)).collect()
        };
        assert!(bits(&grown) == bits(&all), "same points");
        assert!(grown.levels == all.levels, "same pyramid");
        assert_eq!(
            grown.downsample(0.0, 300_000.0, 640),
            all.downsample(0.0, 300_000.0, 640)
        );
    }
}
