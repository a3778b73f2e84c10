//! What a trainer shows the UI while it learns: a copy of the model (for a decision-boundary
//! view), per-layer activation and gradient scales (for gradient-flow wires) and a sample of
//! the training points. The trainer fills the slot only when the executor asks for it (at most
//! once per telemetry tick), so between ticks watching costs one relaxed load per step.

use super::FeatureSpec;
use crate::nn::{LayerStats, Model};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// Training points a trainer keeps for the decision view.
pub const KEPT_POINTS: usize = 400;

/// A training point of a two-input classifier, in the model's input space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabeledPoint {
    pub x: [f32; 2],
    pub class: usize,
}

/// A trainer's model at one step, with what the live views need.
#[derive(Clone, Debug)]
pub struct TrainerInsight {
    pub step: u64,
    pub model: Model,
    pub features: FeatureSpec,
    /// Activation scale and gradient flow per layer, from the last training step.
    pub layers: Vec<LayerStats>,
    /// Recent training points (only for models with two inputs and class labels).
    pub points: Vec<LabeledPoint>,
    /// Training is over: this is the final model.
    pub is_final: bool,
}

/// Where a trainer leaves its insight for the executor's monitor.
#[derive(Debug)]
pub struct InsightSlot {
    wanted: AtomicBool,
    slot: Mutex<Option<Arc<TrainerInsight>>>,
}

impl Default for InsightSlot {
    fn default() -> Self {
        Self {
            wanted: AtomicBool::new(true),
            slot: Mutex::new(None),
        }
    }
}

impl InsightSlot {
    /// Whether the monitor took the last insight and wants a new one.
    pub fn wanted(&self) -> bool {
        self.wanted.load(Relaxed)
    }

    pub fn put(&self, insight: TrainerInsight) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(Arc::new(insight));
            self.wanted.store(false, Relaxed);
        }
    }

    /// The newest insight, if one came since the last call; asks for the next.
    pub fn take(&self) -> Option<Arc<TrainerInsight>> {
        let taken = self.slot.lock().ok()?.take();
        self.wanted.store(true, Relaxed);
        taken
    }
}

/// The last `KEPT_POINTS` training points of a two-input classifier.
#[derive(Debug, Default)]
pub struct PointSample {
    points: VecDeque<LabeledPoint>,
}

impl PointSample {
    /// Adds the rows of a batch (ignored unless it has two features and class labels).
    pub fn add(&mut self, batch: &super::MiniBatch) {
        if batch.x.ncols() != 2 {
            return;
        }
        for (row, x) in batch.x.rows().into_iter().enumerate() {
            let Some(class) = batch.labels.class_of(row) else {
                return;
            };
            let (Some(&a), Some(&b)) = (x.get(0), x.get(1)) else {
                continue;
            };
            self.points.push_back(LabeledPoint { x: [a, b], class });
        }
        while self.points.len() > KEPT_POINTS {
            self.points.pop_front();
        }
    }

    pub fn to_vec(&self) -> Vec<LabeledPoint> {
        self.points.iter().copied().collect()
    }
}
