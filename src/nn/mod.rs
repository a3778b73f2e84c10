//! Neural networks on ndarray (f32): layers with forward and backward side by side, losses,
//! optimizers, schedules, seeded initialisers and a sequential `Model` the executor drives.
//! Pure computation: no threads, clocks, I/O or UI; user mistakes come back as `NnError`.
//!
//! Typical use: build a [`ModelConfig`] (from graph nodes), [`Model::new`], then per batch
//! [`Model::train_step`], or for data parallelism [`Model::compute_gradients`] on each replica,
//! [`average_gradients`], and [`Model::apply_gradients`].

pub mod activation;
pub mod config;
pub mod dense;
pub mod dropout;
pub mod error;
pub mod fit;
pub mod init;
pub mod kernels;
pub mod layer;
pub mod layer_norm;
pub mod loss;
pub mod model;
pub mod optim;
pub mod payload;
pub mod replicas;
pub mod schedule;
pub mod shape;
mod simd;
pub mod targets;
mod update_rules;

pub use activation::{Activation, ActivationLayer};
pub use config::{Init, LayerKind, LayerSpec, LossKind, ModelConfig};
pub use dense::DenseLayer;
pub use dropout::DropoutLayer;
pub use error::NnError;
pub use fit::{EpochStats, EpochTrainer};
pub use layer::{Layer, ParamMut, ParamRef};
pub use layer_norm::LayerNormLayer;
pub use loss::{BatchStats, Loss, accuracy, argmax, count_correct};
pub use model::{LayerStats, Model, StepStats};
pub use optim::{Optimizer, OptimizerConfig, SlotState, clip_grad_norm, global_norm};
pub use replicas::average_gradients;
pub use schedule::{Decay, LrSchedule};
pub use shape::{LayerShape, ModelShape, model_shape};
pub use targets::{Batch, Labels, Targets};
