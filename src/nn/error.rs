//! The one error type of the neural-network library; every message names the layer, row or
//! setting at fault so the graph editor can show it on the right node.
//! Nothing in `nn` panics on user data: it returns one of these instead.

/// Everything that can go wrong when building, training or evaluating a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NnError {
    /// A batch (or a layer's input) has the wrong number of columns.
    #[error("{layer} expects {expected} inputs, got {got}")]
    InputWidth {
        layer: String,
        expected: usize,
        got: usize,
    },
    /// Two consecutive layers disagree about the width of the tensor between them.
    #[error("{layer} expects {expected} inputs, but {previous} produces {got}")]
    LayerWidthMismatch {
        layer: String,
        previous: String,
        expected: usize,
        got: usize,
    },
    /// `backward` got a gradient whose shape differs from the last forward output.
    #[error(
        "{layer}: gradient has shape {got_rows}x{got_cols}, but the last forward output was {rows}x{cols}"
    )]
    GradientShape {
        layer: String,
        rows: usize,
        cols: usize,
        got_rows: usize,
        got_cols: usize,
    },
    /// A layer setting is out of range (zero units, dropout p ≥ 1, ...).
    #[error("{layer}: {message}")]
    InvalidLayer { layer: String, message: String },
    /// Two layers share a name; names must be unique because errors and statistics use them.
    #[error("layer name `{name}` is used twice")]
    DuplicateLayerName { name: String },
    /// A model needs at least one layer.
    #[error("the model has no layers")]
    EmptyModel,
    /// A model, loss, optimizer or schedule setting is out of range.
    #[error("{0}")]
    InvalidConfig(String),
    /// A class label is not below the number of classes the model outputs.
    #[error("label {label} in row {row} is outside the {classes} classes (0..{classes})")]
    LabelOutOfRange {
        row: usize,
        label: usize,
        classes: usize,
    },
    /// Targets and predictions disagree in shape.
    #[error("targets: {0}")]
    TargetShape(String),
    /// The loss cannot use this kind of target (e.g. MSE with class labels).
    #[error("{loss} cannot use {targets} targets")]
    TargetKind {
        loss: &'static str,
        targets: &'static str,
    },
    /// An embedding got an id that is not a whole number inside its vocabulary.
    #[error(
        "{layer}: id {value} in row {row} is not a whole number in 0..{} (the vocabulary has {vocab} ids)",
        .vocab.saturating_sub(1)
    )]
    IdOutOfRange {
        layer: String,
        row: usize,
        value: f32,
        vocab: usize,
    },
    /// A batch with zero rows.
    #[error("{layer}: the batch is empty")]
    EmptyBatch { layer: String },
    /// `apply_gradients` without new gradients since the last step.
    #[error("no new gradients to apply: call compute_gradients first")]
    StaleGradients,
    /// Replicas whose parameters or gradients cannot be merged.
    #[error("replicas differ: {0}")]
    ReplicaMismatch(String),
}
