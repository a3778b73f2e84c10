//! What learning nodes send each other along wires: mini-batches of features and labels and
//! trained model snapshots, and how a record's fields become features. It lives in `nn` (below
//! `stream`) so that stream items can carry it without `stream` depending on `learn`.

use super::{Labels, Model, ModelInput};
use ndarray::Array2;

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
    /// For sequence samples padded on the left: the real steps of each row (`None`: flat
    /// rows, or every step real).
    pub lengths: Option<Vec<usize>>,
}

impl MiniBatch {
    pub fn rows(&self) -> usize {
        self.x.nrows()
    }

    /// What a model reads from this batch: its features and, for sequences, the real steps.
    pub fn input(&self) -> ModelInput<'_> {
        ModelInput {
            x: self.x.view(),
            lengths: self.lengths.as_deref(),
        }
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
