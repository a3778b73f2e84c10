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
    /// lowest and highest point of each bucket (spikes survive, unlike averaging).
    pub fn thinned(name: impl Into<String>, points: &[[f64; 2]]) -> Self {
        let keep = |p: &[f64; 2]| (p[0] as f32, p[1] as f32);
        let points = if points.len() <= STORED_POINTS {
            points.iter().map(keep).collect()
        } else {
            let buckets = STORED_POINTS / 2;
            let per_bucket = points.len().div_ceil(buckets);
            let mut out = Vec::with_capacity(STORED_POINTS);
            for bucket in points.chunks(per_bucket) {
                let by_y = |a: &&[f64; 2], b: &&[f64; 2]| a[1].total_cmp(&b[1]);
                let lo = bucket.iter().min_by(by_y).expect("chunks are not empty");
                let hi = bucket.iter().max_by(by_y).expect("chunks are not empty");
                let (first, second) = if lo[0] <= hi[0] { (lo, hi) } else { (hi, lo) };
                out.push(keep(first));
                if !std::ptr::eq(first, second) {
                    out.push(keep(second));
                }
            }
            out
        };
        Self {
            name: name.into(),
            points,
        }
    }
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
        let short = SeriesData::thinned("x", &[[1.0, 2.0], [2.0, 3.0]]);
        assert_eq!(short.points, vec![(1.0, 2.0), (2.0, 3.0)]);
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
    }
}
