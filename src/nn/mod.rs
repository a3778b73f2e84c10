//! Neural networks on ndarray (f32): layers with forward and backward side by side (dense,
//! activations, dropout, layer norm, 1-D/2-D convolution, pooling, embeddings, GRU, combiners),
//! losses, optimizers, schedules, seeded initialisers and a `Model` (a small layer DAG) the
//! executor drives.
//! Pure computation: no threads, clocks, I/O or UI; user mistakes come back as `NnError`.
//!
//! Typical use: build a [`ModelConfig`] (from graph nodes), [`Model::new`], then per batch
//! [`Model::train_step`], or for data parallelism [`Model::compute_gradients`] on each replica,
//! [`average_gradients`], and [`Model::apply_gradients`].

pub mod activation;
pub mod combine;
pub mod config;
pub mod conv1d;
pub mod conv2d;
pub mod dense;
pub mod dropout;
pub mod embedding;
pub mod error;
pub mod fit;
pub mod gru;
pub mod init;
pub mod kernels;
pub mod layer;
pub mod layer_norm;
pub mod layout;
pub mod loss;
pub mod model;
pub mod optim;
mod passes;
pub mod payload;
pub mod pool;
pub mod replicas;
pub mod schedule;
pub mod shape;
mod simd;
pub mod targets;
mod update_rules;
pub mod wiring;

pub use activation::{Activation, ActivationLayer};
pub use combine::{Combine, CombineLayer};
pub use config::{Init, LayerInput, LayerKind, LayerSpec, LossKind, ModelConfig};
pub use conv1d::{Conv1dGeometry, Conv1dLayer};
pub use conv2d::{Conv2dGeometry, Conv2dLayer};
pub use dense::DenseLayer;
pub use dropout::DropoutLayer;
pub use embedding::EmbeddingLayer;
pub use error::NnError;
pub use fit::{EpochStats, EpochTrainer};
pub use gru::GruLayer;
pub use layer::{Layer, LayerInputs, ParamMut, ParamRef, SparseRows};
pub use layer_norm::LayerNormLayer;
pub use layout::Shape;
pub use loss::{BatchStats, Loss, accuracy, argmax, count_correct};
pub use model::{LayerStats, Model, ModelInput, StepStats};
pub use optim::{Optimizer, OptimizerConfig, SlotState, clip_grad_norm, global_norm};
pub use pool::{FlattenLayer, MaxPool2dLayer, PoolGeometry};
pub use replicas::average_gradients;
pub use schedule::{Decay, LrSchedule};
pub use shape::{LayerShape, ModelShape, model_shape};
pub use targets::{Batch, Labels, Targets};
pub use wiring::{PlannedLayer, Source};
