//! Learning on streams: the data that flows between learning nodes (mini-batches, model
//! snapshots), how records become features and labels, and the operators of the learning nodes.
//! The numerics live in `nn`; threads and channels in `exec`.

pub mod batch;
pub mod dataset_source;
pub mod normalize;
pub mod predict;
pub mod split;

use crate::nn::{Labels, Model};
use ndarray::Array2;

pub mod allreduce;
pub mod insight;
pub mod trainer;

/// Where a long-running operator (a trainer replaying epochs) checks whether the run is paused
/// or stopping: between sources' batches the executor checks itself, but epochs replayed at
/// the end of the input never pass through a source.
pub trait PausePoint: Send {
    /// Blocks while the run is paused (a Step lets one call through); `Err` when it stops.
    fn pause_point(&mut self) -> Result<(), crate::stream::OpError>;
}

/// How a record's fields become one row of features and a label.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureSpec {
    /// Field indices of the features, in order.
    pub features: Vec<usize>,
    /// Features are multiplied by this.
    pub scale: f32,
    /// Field index of the label, if the records have one.
    pub label: Option<usize>,
    pub label_kind: LabelKind,
}

/// How a label field is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelKind {
    /// A class index in 0..classes (for cross-entropy, or binary cross-entropy with 2 → 1 output).
    Class { classes: usize },
    /// A class index turned into a one-hot row of `classes`.
    OneHot { classes: usize },
    /// A real value (for MSE).
    Value,
}

/// A stack of records: features (rows × features) and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct MiniBatch {
    pub x: Array2<f32>,
    pub labels: Labels,
    /// Event times of the first and last record in the batch.
    pub first_ts: i64,
    pub last_ts: i64,
    /// Position of the batch in its Batch node's output (shards of one batch share it).
    pub seq: u64,
    /// Rows of the whole batch this is a shard of (equal to `x.nrows()` when not sharded).
    pub total_rows: usize,
}

impl MiniBatch {
    pub fn rows(&self) -> usize {
        self.x.nrows()
    }
}

/// A trained model at some step, sent from a Trainer to Predict nodes.
#[derive(Clone, Debug)]
pub struct ModelSnapshot {
    pub model: Model,
    /// How the model's input rows are read from records (from the Batch node that fed it).
    pub features: FeatureSpec,
    pub step: u64,
    /// The last snapshot: training is over.
    pub is_final: bool,
}

impl PartialEq for ModelSnapshot {
    fn eq(&self, other: &Self) -> bool {
        self.step == other.step
            && self.is_final == other.is_final
            && self.features == other.features
    }
}

/// Parameters a running trainer takes from the outside (a live learning-rate change): the
/// executor writes, the trainer polls a version number once per step.
#[derive(Debug, Default)]
pub struct LiveParams {
    version: std::sync::atomic::AtomicU64,
    values: std::sync::Mutex<Vec<(String, f64)>>,
}

impl LiveParams {
    /// Sets a parameter; the trainer applies it before its next step.
    pub fn set(&self, name: &str, value: f64) {
        if let Ok(mut values) = self.values.lock() {
            values.retain(|(n, _)| n != name);
            values.push((name.to_owned(), value));
        }
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// The values, if they changed since `seen` (which is updated).
    pub fn changed_since(&self, seen: &mut u64) -> Option<Vec<(String, f64)>> {
        let version = self.version.load(std::sync::atomic::Ordering::Acquire);
        if version == *seen {
            return None;
        }
        *seen = version;
        self.values.lock().ok().map(|v| v.clone())
    }
}
