//! The Data set source: the seeded synthetic data sets of `datasets` as a record stream,
//! bounded or endless, drawn in fixed chunks so a seed always means the same rows.
//! It owns no clock (pacing is `exec`'s) and never emits watermarks itself.

use crate::datasets::{self, Dataset};
use crate::nn::Labels;
use crate::stream::{Item, Key, OpError, Record, Source, SourceStatus, Values};

/// Which synthetic data set a [`DatasetSource`] draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetKind {
    /// Two interleaving half circles, classes 0 and 1.
    Moons,
    /// Three spiral arms, classes 0, 1 and 2.
    Spiral,
    /// XOR of the coordinate signs, classes 0 and 1.
    Xor,
    /// y = sin(x1) + 0.5·x2² + noise.
    Regression,
}

impl DatasetKind {
    /// The kind named as in the node's `dataset` parameter (`moons`, `spiral`, `xor`,
    /// `regression`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "moons" => DatasetKind::Moons,
            "spiral" => DatasetKind::Spiral,
            "xor" => DatasetKind::Xor,
            "regression" => DatasetKind::Regression,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Moons => "moons",
            DatasetKind::Spiral => "spiral",
            DatasetKind::Xor => "xor",
            DatasetKind::Regression => "regression",
        }
    }

    /// Number of classes (0 for regression).
    pub fn class_count(self) -> usize {
        match self {
            DatasetKind::Moons | DatasetKind::Xor => 2,
            DatasetKind::Spiral => 3,
            DatasetKind::Regression => 0,
        }
    }
}

const CLASSIFICATION_FIELDS: &[&str] = &["x1", "x2", "label"];
const REGRESSION_FIELDS: &[&str] = &["x1", "x2", "y"];

/// The fields of the records a [`DatasetSource`] of this kind emits, in order.
pub fn field_names(kind: DatasetKind) -> &'static [&'static str] {
    match kind {
        DatasetKind::Moons | DatasetKind::Spiral | DatasetKind::Xor => CLASSIFICATION_FIELDS,
        DatasetKind::Regression => REGRESSION_FIELDS,
    }
}

/// Rows drawn per call of a `datasets` generator. Chunk c is drawn with a seed derived from
/// (seed, c), so a bounded stream is a prefix of the endless one with the same seed.
pub const CHUNK_ROWS: usize = 1000;

/// Records of a synthetic data set: key `""`, event time = row number (0, 1, 2, …), fields as
/// in [`field_names`] (class labels as their index).
pub struct DatasetSource {
    kind: DatasetKind,
    /// `None` = endless.
    count: Option<u64>,
    noise: f32,
    seed: u64,
    /// Rows emitted so far (also the next row's event time).
    emitted: u64,
    /// The chunk being emitted and the position of its next row.
    chunk: Option<Dataset>,
    chunk_index: u64,
    row_in_chunk: usize,
}

impl DatasetSource {
    pub fn new(kind: DatasetKind, count: Option<u64>, noise: f32, seed: u64) -> Self {
        Self {
            kind,
            count,
            noise,
            seed,
            emitted: 0,
            chunk: None,
            chunk_index: 0,
            row_in_chunk: 0,
        }
    }

    fn remaining(&self) -> u64 {
        self.count
            .map_or(u64::MAX, |c| c.saturating_sub(self.emitted))
    }

    /// Draws the first chunk, or the next one when the current is used up.
    fn ensure_chunk(&mut self) {
        match &self.chunk {
            Some(chunk) if self.row_in_chunk < chunk.len() => return,
            Some(_) => {
                self.chunk_index += 1;
                self.row_in_chunk = 0;
            }
            None => {}
        }
        let seed = chunk_seed(self.seed, self.chunk_index);
        self.chunk = Some(draw(self.kind, self.noise, seed));
    }

    fn next_record(&mut self) -> Result<Record, OpError> {
        self.ensure_chunk();
        let row = self.row_in_chunk;
        let Some(chunk) = &self.chunk else {
            return Err(missing_row(self.kind, row));
        };
        let (Some(&x1), Some(&x2)) = (chunk.x.get((row, 0)), chunk.x.get((row, 1))) else {
            return Err(missing_row(self.kind, row));
        };
        let target = match &chunk.y {
            Labels::Classes(labels) => labels.get(row).map(|&l| l as f64),
            Labels::Values(values) => values.get((row, 0)).map(|&v| f64::from(v)),
            Labels::OneHot(_) => None,
        };
        let Some(target) = target else {
            return Err(missing_row(self.kind, row));
        };
        let mut values = Values::new();
        values.extend([f64::from(x1), f64::from(x2), target]);
        let record = Record {
            key: Key::default(),
            ts: i64::try_from(self.emitted).unwrap_or(i64::MAX),
            values,
        };
        self.row_in_chunk += 1;
        self.emitted += 1;
        Ok(record)
    }
}

impl Source for DatasetSource {
    fn fill(&mut self, max: usize, out: &mut Vec<Item>) -> Result<SourceStatus, OpError> {
        let n = self.remaining().min(max as u64);
        out.reserve(usize::try_from(n).unwrap_or(0));
        for _ in 0..n {
            let record = self.next_record()?;
            out.push(Item::Record(record));
        }
        Ok(if self.remaining() == 0 {
            SourceStatus::Exhausted
        } else {
            SourceStatus::More
        })
    }

    fn progress(&self) -> Option<f64> {
        self.count.map(|c| {
            if c == 0 {
                1.0
            } else {
                self.emitted as f64 / c as f64
            }
        })
    }
}

fn draw(kind: DatasetKind, noise: f32, seed: u64) -> Dataset {
    match kind {
        DatasetKind::Moons => datasets::moons(CHUNK_ROWS, noise, seed),
        DatasetKind::Spiral => datasets::spiral(CHUNK_ROWS, noise, seed),
        DatasetKind::Xor => datasets::xor(CHUNK_ROWS, noise, seed),
        DatasetKind::Regression => datasets::regression(CHUNK_ROWS, noise, seed),
    }
}

/// A seed per chunk: a splitmix64 mix of the user's seed and the chunk index, so neighbouring
/// seeds or chunks give unrelated rows.
fn chunk_seed(seed: u64, chunk_index: u64) -> u64 {
    splitmix64(seed ^ splitmix64(chunk_index))
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn missing_row(kind: DatasetKind, row: usize) -> OpError {
    OpError::new(format!(
        "data set {}: generated chunk has no complete row {row} (expected two features and a target)",
        kind.name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(source: &mut DatasetSource) -> Vec<Record> {
        let mut out = Vec::new();
        while source.fill(700, &mut out).unwrap() == SourceStatus::More {}
        records(out)
    }

    fn records(items: Vec<Item>) -> Vec<Record> {
        items
            .into_iter()
            .filter_map(|i| match i {
                Item::Record(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn bounded_source_emits_exactly_count_rows_numbered_by_event_time() {
        let rows = drain(&mut DatasetSource::new(
            DatasetKind::Moons,
            Some(2500),
            0.1,
            7,
        ));
        assert_eq!(rows.len(), 2500);
        assert!(rows.iter().enumerate().all(|(i, r)| r.ts == i as i64));
        assert!(
            rows.iter()
                .all(|r| r.key == Key::default() && r.values.len() == 3)
        );
    }

    #[test]
    fn zero_count_is_exhausted_at_once() {
        let mut source = DatasetSource::new(DatasetKind::Xor, Some(0), 0.1, 7);
        let mut out = Vec::new();
        assert_eq!(source.fill(100, &mut out).unwrap(), SourceStatus::Exhausted);
        assert!(out.is_empty());
    }

    #[test]
    fn fill_gives_at_most_max_items() {
        let mut source = DatasetSource::new(DatasetKind::Spiral, Some(50), 0.1, 7);
        let mut out = Vec::new();
        assert_eq!(source.fill(30, &mut out).unwrap(), SourceStatus::More);
        assert_eq!(out.len(), 30);
        assert_eq!(source.fill(30, &mut out).unwrap(), SourceStatus::Exhausted);
        assert_eq!(out.len(), 50);
    }

    #[test]
    fn same_seed_same_rows_other_seed_other_rows() {
        let a = drain(&mut DatasetSource::new(
            DatasetKind::Spiral,
            Some(1500),
            0.2,
            3,
        ));
        let b = drain(&mut DatasetSource::new(
            DatasetKind::Spiral,
            Some(1500),
            0.2,
            3,
        ));
        let c = drain(&mut DatasetSource::new(
            DatasetKind::Spiral,
            Some(1500),
            0.2,
            4,
        ));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn first_chunk_is_the_data_set_generator_output() {
        let rows = drain(&mut DatasetSource::new(
            DatasetKind::Moons,
            Some(10),
            0.1,
            9,
        ));
        let data = datasets::moons(CHUNK_ROWS, 0.1, chunk_seed(9, 0));
        let labels = data.class_labels().unwrap();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.values[0], f64::from(data.x[(i, 0)]));
            assert_eq!(r.values[1], f64::from(data.x[(i, 1)]));
            assert_eq!(r.values[2], labels[i] as f64);
        }
    }

    #[test]
    fn bounded_stream_is_a_prefix_of_the_endless_one() {
        let bounded = drain(&mut DatasetSource::new(
            DatasetKind::Xor,
            Some(1200),
            0.1,
            5,
        ));
        let mut endless = DatasetSource::new(DatasetKind::Xor, None, 0.1, 5);
        let mut out = Vec::new();
        for _ in 0..3 {
            assert_eq!(endless.fill(500, &mut out).unwrap(), SourceStatus::More);
        }
        let endless = records(out);
        assert_eq!(endless.len(), 1500);
        assert_eq!(&endless[..1200], &bounded[..]);
    }

    #[test]
    fn endless_source_keeps_drawing_fresh_chunks() {
        let mut source = DatasetSource::new(DatasetKind::Regression, None, 0.1, 1);
        let mut out = Vec::new();
        for _ in 0..5 {
            assert_eq!(source.fill(1000, &mut out).unwrap(), SourceStatus::More);
        }
        let rows = records(out);
        assert_eq!(rows.len(), 5000);
        assert_eq!(rows[4999].ts, 4999);
        // Chunks are drawn with different seeds, so the second does not repeat the first.
        assert_ne!(rows[0].values, rows[CHUNK_ROWS].values);
    }

    #[test]
    fn class_labels_are_whole_indices_below_the_class_count() {
        for kind in [DatasetKind::Moons, DatasetKind::Spiral, DatasetKind::Xor] {
            let rows = drain(&mut DatasetSource::new(kind, Some(1500), 0.3, 2));
            let classes = kind.class_count() as f64;
            assert!(
                rows.iter()
                    .all(|r| r.values[2].fract() == 0.0 && (0.0..classes).contains(&r.values[2]))
            );
            assert_eq!(field_names(kind), &["x1", "x2", "label"]);
        }
    }

    #[test]
    fn regression_rows_follow_their_formula_without_noise() {
        let rows = drain(&mut DatasetSource::new(
            DatasetKind::Regression,
            Some(300),
            0.0,
            2,
        ));
        for r in &rows {
            let expected = r.values[0].sin() + 0.5 * r.values[1] * r.values[1];
            assert!((r.values[2] - expected).abs() < 1e-5, "{:?}", r.values);
        }
        assert_eq!(field_names(DatasetKind::Regression), &["x1", "x2", "y"]);
    }

    #[test]
    fn kinds_parse_from_their_names() {
        for kind in [
            DatasetKind::Moons,
            DatasetKind::Spiral,
            DatasetKind::Xor,
            DatasetKind::Regression,
        ] {
            assert_eq!(DatasetKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(DatasetKind::parse("iris"), None);
    }
}
