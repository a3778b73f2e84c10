//! What one plot shows: borrowed series plus bands, bars, markers and earlier runs. Plain data
//! with no egui types; the view borrows the app's growing series so a frame copies nothing big.

use super::range::YExtent;
use super::series::Series;

/// A vertical line at `x` with a label, e.g. "lr 0.1 → 0.5" where the learning rate changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub label: String,
}

impl Marker {
    pub fn new(x: f64, label: impl Into<String>) -> Self {
        Self {
            x,
            label: label.into(),
        }
    }
}

/// One x of a band: the spread (`min..max`) around a mean, e.g. one window's statistics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

/// A shaded min/max band with its mean drawn as a line; points sorted by x.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BandSeries {
    pub name: String,
    pub points: Vec<BandPoint>,
}

/// Counts drawn as bars (`[x, count]`), e.g. records per window.
#[derive(Clone, Debug, PartialEq)]
pub struct BarSeries {
    pub name: String,
    pub bars: Vec<[f64; 2]>,
    /// Bar width in x units (a window's length, say).
    pub width: f64,
}

/// An earlier run shown faded behind the current one, with a label such as "run 2".
#[derive(Clone, Debug, Default)]
pub struct Overlay<'a> {
    pub label: String,
    pub series: Vec<&'a Series>,
}

/// Everything one plot draws. Series are borrowed: the app owns them and appends every frame.
#[derive(Clone, Debug, Default)]
pub struct PlotView<'a> {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<&'a Series>,
    pub bands: Vec<&'a BandSeries>,
    pub bars: Vec<&'a BarSeries>,
    pub markers: &'a [Marker],
    pub overlays: Vec<Overlay<'a>>,
    /// y values the automatic bounds always include (e.g. 0 and 1 for an accuracy), so a flat
    /// series is drawn against a sensible scale instead of an arbitrary one.
    pub include_y: Vec<f64>,
    /// Keys drawn as thin mean lines (after the banded ones), busiest first; the legend names
    /// as many as fit.
    pub band_lines: Vec<&'a BandSeries>,
    /// x is event time: seconds after this epoch millisecond (ticks read as UTC clock times,
    /// CSV export writes epoch milliseconds).
    pub x_event_origin_ms: Option<i64>,
    /// y is event time, as for x.
    pub y_event_origin_ms: Option<i64>,
    /// Shown in words instead of a plot (e.g. too few samples to draw a rate).
    pub message: Option<String>,
    /// The most values that may lie beyond the outlier fences and still be clipped (`None`:
    /// the default 10 %); heavy-tailed window statistics allow more.
    pub outlier_share: Option<f64>,
}

impl<'a> PlotView<'a> {
    /// An empty view with a title; add content with the builder methods.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Keeps `y` inside the automatic bounds.
    pub fn include_y(mut self, y: f64) -> Self {
        if y.is_finite() {
            self.include_y.push(y);
        }
        self
    }

    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    pub fn series(mut self, series: &'a Series) -> Self {
        self.series.push(series);
        self
    }

    pub fn band(mut self, band: &'a BandSeries) -> Self {
        self.bands.push(band);
        self
    }

    /// A key drawn as a thin line of its means (no band).
    pub fn band_line(mut self, band: &'a BandSeries) -> Self {
        self.band_lines.push(band);
        self
    }

    /// x values are event time in seconds after `origin_ms` (epoch milliseconds).
    pub fn x_event_time(mut self, origin_ms: i64) -> Self {
        self.x_event_origin_ms = Some(origin_ms);
        self
    }

    /// y values are event time in seconds after `origin_ms` (epoch milliseconds).
    pub fn y_event_time(mut self, origin_ms: i64) -> Self {
        self.y_event_origin_ms = Some(origin_ms);
        self
    }

    /// Says `text` instead of drawing a plot.
    pub fn message(mut self, text: impl Into<String>) -> Self {
        self.message = Some(text.into());
        self
    }

    /// The finite y extent of what the current run draws (series, bands, lines, bars and the
    /// values to include), for the range rules.
    pub fn y_extent(&self) -> Option<YExtent> {
        let mut extent = YExtent::of(self.include_y.iter().copied());
        for s in &self.series {
            if let Some((lo, hi)) = s.y_bounds() {
                // The number of samples matters for the rules, not their values.
                let samples = s.len();
                extent = YExtent::merge(
                    extent,
                    Some(YExtent {
                        min: lo,
                        max: hi,
                        samples,
                    }),
                );
            }
        }
        for band in &self.bands {
            let ys = band.points.iter().flat_map(|p| [p.min, p.mean, p.max]);
            extent = YExtent::merge(extent, YExtent::of(ys));
        }
        for band in &self.band_lines {
            extent = YExtent::merge(extent, YExtent::of(band.points.iter().map(|p| p.mean)));
        }
        for bars in &self.bars {
            extent = YExtent::merge(extent, YExtent::of(bars.bars.iter().map(|b| b[1])));
        }
        extent
    }

    /// The finite y values the outlier rule judges: series points, the keys' means (a band's
    /// min and max may run off the axis: they are spread, not the line people read) and bar
    /// heights.
    pub fn y_values(&self) -> Vec<f64> {
        let mut ys: Vec<f64> = Vec::new();
        for s in &self.series {
            ys.extend(s.all_points().map(|p| p[1]));
        }
        for band in self.bands.iter().chain(&self.band_lines) {
            ys.extend(band.points.iter().map(|p| p.mean));
        }
        for bars in &self.bars {
            ys.extend(bars.bars.iter().map(|b| b[1]));
        }
        ys.retain(|y| y.is_finite());
        ys
    }

    pub fn bars(mut self, bars: &'a BarSeries) -> Self {
        self.bars.push(bars);
        self
    }

    pub fn markers(mut self, markers: &'a [Marker]) -> Self {
        self.markers = markers;
        self
    }

    pub fn overlay(mut self, label: impl Into<String>, series: Vec<&'a Series>) -> Self {
        self.overlays.push(Overlay {
            label: label.into(),
            series,
        });
        self
    }
}

/// The band points to draw for `[x_min, x_max]` over `columns` pixel columns: all of them when
/// few, else one per column with the column's lowest min, highest max and mean of means, so
/// the band's extent is never narrowed. Points with a non-finite field are skipped.
pub fn band_for_view(
    points: &[BandPoint],
    x_min: f64,
    x_max: f64,
    columns: usize,
) -> Vec<BandPoint> {
    if x_min.is_nan() || x_max.is_nan() || x_min > x_max {
        return Vec::new();
    }
    let lo = points.partition_point(|p| p.x < x_min);
    let hi = points.partition_point(|p| p.x <= x_max).max(lo);
    let finite = |p: &&BandPoint| [p.x, p.min, p.mean, p.max].iter().all(|v| v.is_finite());
    let visible = points.get(lo..hi).unwrap_or(&[]);
    let columns = columns.max(1);
    if visible.len() <= 2 * columns {
        return visible.iter().filter(finite).copied().collect();
    }
    let span = x_max - x_min;
    let column_of = |x: f64| {
        let c = if span > 0.0 {
            (x - x_min) / span * columns as f64
        } else {
            0.0
        };
        (c as usize).min(columns - 1)
    };
    let mut out: Vec<BandPoint> = Vec::with_capacity(columns);
    let mut current: Option<(usize, BandPoint, usize)> = None;
    for p in visible.iter().filter(finite) {
        let c = column_of(p.x);
        match &mut current {
            Some((col, acc, n)) if *col == c => {
                acc.min = acc.min.min(p.min);
                acc.max = acc.max.max(p.max);
                acc.mean += p.mean;
                *n += 1;
            }
            _ => {
                if let Some((_, acc, n)) = current.take() {
                    out.push(BandPoint {
                        mean: acc.mean / n as f64,
                        ..acc
                    });
                }
                current = Some((c, *p, 1));
            }
        }
    }
    if let Some((_, acc, n)) = current {
        out.push(BandPoint {
            mean: acc.mean / n as f64,
            ..acc
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(n: usize) -> Vec<BandPoint> {
        (0..n)
            .map(|i| BandPoint {
                x: i as f64,
                min: -(i as f64),
                mean: 1.0,
                max: (i % 7) as f64,
            })
            .collect()
    }

    #[test]
    fn few_band_points_are_all_kept_within_the_range() {
        let pts = band(20);
        let out = band_for_view(&pts, 5.0, 9.0, 100);
        assert_eq!(out, pts[5..=9].to_vec());
    }

    #[test]
    fn many_band_points_keep_the_extent_per_column() {
        let pts = band(10_000);
        let out = band_for_view(&pts, 0.0, 10_000.0, 100);
        assert_eq!(out.len(), 100);
        let lowest = out.iter().map(|p| p.min).fold(f64::INFINITY, f64::min);
        let highest = out.iter().map(|p| p.max).fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((lowest, highest), (-9_999.0, 6.0));
        assert!(out.iter().all(|p| p.mean == 1.0));
    }

    #[test]
    fn band_points_with_nan_are_skipped() {
        let mut pts = band(3);
        pts[1].max = f64::NAN;
        assert_eq!(band_for_view(&pts, 0.0, 2.0, 10).len(), 2);
        assert!(band_for_view(&pts, 2.0, 0.0, 10).is_empty());
    }
}
