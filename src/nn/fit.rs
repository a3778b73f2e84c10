//! Epoch loops over in-memory data sets: shuffled mini-batches fed to `Model::train_step`, for
//! tests, benchmarks and the CLI. The streaming executor does not need it (windows are its
//! batches); nothing here allocates per step once the buffers exist.

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::error::NnError;
use super::model::Model;
use super::targets::{Batch, Labels};

/// Mean loss and accuracy over one epoch (means of the per-step values weighted by rows).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EpochStats {
    pub mean_loss: f32,
    /// Fraction correct during training (0 for MSE).
    pub accuracy: f32,
    pub samples: usize,
    pub steps: usize,
}

/// Feeds a data set to a model in shuffled mini-batches, reusing its index and batch buffers.
#[derive(Clone, Debug)]
pub struct EpochTrainer {
    batch_size: usize,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    batch: Batch,
}

impl EpochTrainer {
    /// `seed` drives the shuffling; `batch_size` must be at least 1.
    pub fn new(batch_size: usize, seed: u64) -> Result<Self, NnError> {
        if batch_size == 0 {
            return Err(NnError::InvalidConfig(
                "batch size must be at least 1".into(),
            ));
        }
        Ok(EpochTrainer {
            batch_size,
            rng: ChaCha8Rng::seed_from_u64(seed),
            order: Vec::new(),
            batch: Batch::default(),
        })
    }

    /// One pass over (x, y) in a fresh random order; the last batch may be smaller.
    pub fn train_epoch(
        &mut self,
        model: &mut Model,
        x: ArrayView2<f32>,
        y: &Labels,
    ) -> Result<EpochStats, NnError> {
        if x.nrows() != y.len() {
            return Err(NnError::TargetShape(format!(
                "{} input rows but {} labels",
                x.nrows(),
                y.len()
            )));
        }
        self.order.clear();
        self.order.extend(0..x.nrows());
        self.order.shuffle(&mut self.rng);
        let (mut loss_sum, mut correct, mut steps) = (0.0f64, 0usize, 0usize);
        for indices in self.order.chunks(self.batch_size) {
            self.batch.fill(x, y, indices)?;
            let stats = model.train_step(self.batch.x.view(), self.batch.y.as_targets())?;
            loss_sum += stats.loss as f64 * stats.samples as f64;
            correct += stats.correct;
            steps += 1;
        }
        let samples = x.nrows();
        Ok(EpochStats {
            mean_loss: (loss_sum / samples.max(1) as f64) as f32,
            accuracy: correct as f32 / samples.max(1) as f32,
            samples,
            steps,
        })
    }
}
