//! A run's results for the notebook's output cells, kept when the graph is saved: in
//! `<graph file>.results` next to the graph (not inside it, so the graph file stays a clean
//! description that diffs well). Series are thinned to a few hundred points, so the file stays
//! small whatever the run's length.

use crate::graph::{Cell, SaveError, write_atomically};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Format of the results file; a newer one is ignored rather than misread.
const RESULTS_VERSION: u32 = 1;

/// At most this many points per series are stored (the envelope of the curve is kept).
pub const STORED_POINTS: usize = 600;

/// The outputs of the last run, one per output cell that had something to show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NotebookResults {
    pub version: u32,
    pub run: Option<RunInfo>,
    pub outputs: Vec<CellResult>,
}

/// How the run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// "finished", "stopped" or "failed at node 'x': …".
    pub outcome: String,
    pub seconds: f64,
    /// UTC time the results were taken, RFC 3339.
    pub taken_at: String,
}

/// One output cell and what it showed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub cell: Cell,
    pub output: CellOutput,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CellOutput {
    /// Curves over a common x axis.
    Plot {
        x_label: String,
        series: Vec<SeriesData>,
    },
    Table(Table),
}

/// One curve: (x, y) points in x order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesData {
    pub name: String,
    pub points: Vec<(f32, f32)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl NotebookResults {
    /// The stored output of `cell`, if the run produced one.
    pub fn output(&self, cell: &Cell) -> Option<&CellOutput> {
        self.outputs
            .iter()
            .find(|r| &r.cell == cell)
            .map(|r| &r.output)
    }

    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty() && self.run.is_none()
    }
}

impl SeriesData {
    /// A series from (x, y) pairs, thinned to at most [`STORED_POINTS`] points by keeping the
    /// lowest and highest point of each bucket (spikes survive, unlike averaging), values to
    /// four significant digits (more than a plot shows; the file stays small).
    pub fn thinned(name: impl Into<String>, points: &[[f64; 2]]) -> Self {
        let keep = |p: &[f64; 2]| (p[0] as f32, round_significant(p[1], 4) as f32);
        let points = if points.len() <= STORED_POINTS {
            points.iter().map(keep).collect()
        } else {
            let buckets = STORED_POINTS / 2;
            let per_bucket = points.len().div_ceil(buckets);
            points
                .chunks(per_bucket)
                .flat_map(extremes)
                .map(|p| keep(&p))
                .collect()
        };
        Self {
            name: name.into(),
            points,
        }
    }
}

/// `value` rounded to `digits` significant decimal digits.
fn round_significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(digits - 1 - value.abs().log10().floor() as i32);
    let rounded = (value * scale).round() / scale;
    if rounded.is_finite() { rounded } else { value }
}

/// Where the results of the graph saved at `graph_path` are kept: `<file>.results` beside it.
pub fn results_path(graph_path: &Path) -> PathBuf {
    let mut name = graph_path.file_name().unwrap_or_default().to_os_string();
    name.push(".results");
    graph_path.with_file_name(name)
}

/// Writes the results beside the graph, atomically.
pub fn save_results(graph_path: &Path, results: &NotebookResults) -> Result<(), SaveError> {
    let path = results_path(graph_path);
    let mut stored = results.clone();
    stored.version = RESULTS_VERSION;
    let text =
        ron::ser::to_string_pretty(&stored, ron::ser::PrettyConfig::new().compact_arrays(true))
            .map_err(|e| SaveError::Encode(e.to_string()))?;
    write_atomically(&path, text.as_bytes())
}

/// Removes the results kept beside `graph_path`, if any.
pub fn remove_results(graph_path: &Path) -> Result<(), SaveError> {
    let path = results_path(graph_path);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SaveError::Io {
            path: path.display().to_string(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// A curve of any length kept in bounded memory with an even density along its whole length:
/// past `capacity` points, neighbouring buckets merge (each keeps its lowest and highest point),
/// and new points are grouped into buckets of the same size.
#[derive(Clone, Debug)]
pub struct Envelope {
    points: Vec<[f64; 2]>,
    capacity: usize,
    /// Raw points per bucket (1: every point kept as it is).
    group: usize,
    pending: Vec<[f64; 2]>,
}

impl Envelope {
    pub fn new(capacity: usize) -> Self {
        Self {
            points: Vec::new(),
            capacity: capacity.max(8),
            group: 1,
            pending: Vec::new(),
        }
    }

    pub fn push(&mut self, point: [f64; 2]) {
        if self.group == 1 {
            self.points.push(point);
        } else {
            self.pending.push(point);
            if self.pending.len() == self.group {
                let bucket = std::mem::take(&mut self.pending);
                self.points.extend(extremes(&bucket));
            }
        }
        if self.points.len() > self.capacity {
            self.points = self.points.chunks(4).flat_map(extremes).collect();
            self.group = if self.group == 1 { 4 } else { self.group * 2 };
        }
    }

    /// The kept points and the extremes of the newest, still incomplete bucket, in x order.
    pub fn points(&self) -> Vec<[f64; 2]> {
        let mut all = self.points.clone();
        all.extend(extremes(&self.pending));
        all
    }
}

/// The lowest and the highest point of a bucket, in x order (one point if they coincide).
fn extremes(bucket: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let by_y = |a: &&[f64; 2], b: &&[f64; 2]| a[1].total_cmp(&b[1]);
    let (Some(lo), Some(hi)) = (bucket.iter().min_by(by_y), bucket.iter().max_by(by_y)) else {
        return Vec::new();
    };
    if std::ptr::eq(lo, hi) {
        vec![*lo]
    } else if lo[0] <= hi[0] {
        vec![*lo, *hi]
    } else {
        vec![*hi, *lo]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a results file this version understands: {message}")]
    Format { path: String, message: String },
}

/// Reads the results kept beside `graph_path`: `Ok(None)` when there are none.
pub fn load_results(graph_path: &Path) -> Result<Option<NotebookResults>, ResultsError> {
    let path = results_path(graph_path);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ResultsError::Io {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let format = |message: String| ResultsError::Format {
        path: path.display().to_string(),
        message,
    };
    let results: NotebookResults = ron::from_str(&text).map_err(|e| format(e.to_string()))?;
    if results.version > RESULTS_VERSION {
        return Err(format(format!("version {}", results.version)));
    }
    Ok(Some(results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_extremes_of_every_bucket() {
        let points: Vec<[f64; 2]> = (0..10_000)
            .map(|i| [i as f64, if i == 4321 { 50.0 } else { (i % 7) as f64 }])
            .collect();
        let s = SeriesData::thinned("loss", &points);
        assert!(s.points.len() <= STORED_POINTS, "{}", s.points.len());
        assert!(s.points.contains(&(4321.0, 50.0)), "the spike survives");
        assert!(s.points.windows(2).all(|w| w[0].0 <= w[1].0), "x order");
        assert_eq!(s.points.iter().map(|p| p.1).fold(f32::MAX, f32::min), 0.0);
        let short = SeriesData::thinned("x", &[[1.0, 2.0], [2.0, 0.123456789]]);
        assert_eq!(short.points, vec![(1.0, 2.0), (2.0, 0.1235)]);
        assert_eq!(round_significant(-98765.4, 4), -98770.0);
        assert_eq!(round_significant(1.5e-300, 4), 1.5e-300);
    }

    #[test]
    fn an_envelope_keeps_the_whole_curve_evenly_in_bounded_memory() {
        let mut envelope = Envelope::new(1000);
        for i in 0..100_000 {
            let y = if i == 777 {
                99.0
            } else {
                1.0 / f64::from(i + 1)
            };
            envelope.push([f64::from(i), y]);
        }
        let points = envelope.points();
        assert!(points.len() <= 1000 + 64, "{}", points.len());
        assert!(points.windows(2).all(|w| w[0][0] <= w[1][0]), "x order");
        assert!(points.contains(&[777.0, 99.0]), "an early spike survives");
        assert!(
            points.contains(&[99_999.0, 1.0 / 100_000.0]),
            "the end is there"
        );
        // Even density: the first and the last tenth of the run hold about as many points.
        let first = points.iter().filter(|p| p[0] < 10_000.0).count();
        let last = points.iter().filter(|p| p[0] >= 90_000.0).count();
        assert!(
            first.abs_diff(last) * 4 <= first.max(last),
            "{first} vs {last}"
        );
    }

    #[test]
    fn results_round_trip_beside_the_graph() {
        let dir = tempfile::tempdir().unwrap();
        let graph = dir.path().join("g.ron");
        assert_eq!(results_path(&graph), dir.path().join("g.ron.results"));
        assert!(load_results(&graph).unwrap().is_none());
        let results = NotebookResults {
            version: RESULTS_VERSION,
            run: Some(RunInfo {
                outcome: "finished".into(),
                seconds: 1.5,
                taken_at: "2026-11-26T13:00:00Z".into(),
            }),
            outputs: vec![
                CellResult {
                    cell: Cell::RunSummary,
                    output: CellOutput::Table(Table {
                        headers: vec!["node".into()],
                        rows: vec![vec!["source".into()]],
                    }),
                },
                CellResult {
                    cell: Cell::Plot {
                        node: crate::graph::NodeId(3),
                        plot: "loss".into(),
                    },
                    output: CellOutput::Plot {
                        x_label: "step".into(),
                        series: vec![SeriesData::thinned("loss", &[[1.0, 0.5], [2.0, 0.25]])],
                    },
                },
            ],
        };
        save_results(&graph, &results).unwrap();
        assert_eq!(load_results(&graph).unwrap(), Some(results));
        std::fs::write(results_path(&graph), "(version: 1, outputs: [oops").unwrap();
        let err = load_results(&graph).unwrap_err().to_string();
        assert!(err.contains("g.ron.results"), "{err}");
        remove_results(&graph).unwrap();
        assert!(!results_path(&graph).exists());
        remove_results(&graph).unwrap();
    }
}
