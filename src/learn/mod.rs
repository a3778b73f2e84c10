//! Learning on streams: the operators of the learning nodes (batch, split, normalise, train,
//! predict). What they send each other (mini-batches, model snapshots) lives in `nn::payload`, so
//! that `stream`'s items need no learning types. The numerics live in `nn`; threads in `exec`.

pub mod batch;
pub mod dataset_source;
pub mod normalize;
pub mod predict;
pub mod ranking;
pub mod split;

pub use crate::nn::payload::{FeatureSpec, LabelKind, MiniBatch, ModelSnapshot};

pub mod allreduce;
pub mod insight;
pub mod trainer;

/// Where a long-running operator (a trainer replaying epochs) checks whether the run is paused
/// or stopping, and waits for its pace: between sources' batches the executor checks itself,
/// but epochs replayed at the end of the input never pass through a source.
pub trait PausePoint: Send {
    /// Blocks while the run is paused (a Step lets one call through) or until the step is due
    /// at the run's pace; `Err` when it stops.
    fn pause_point(&mut self, place: &StepPlace) -> Result<(), crate::stream::OpError>;

    /// The run was asked to end gracefully (`--max-seconds`, Finish): work the operator does on
    /// its own, such as epochs still to replay, is cut short.
    fn finish_requested(&self) -> bool {
        false
    }
}

/// Where a trainer's next step stands, so a pace can spread epochs over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepPlace {
    /// Epochs to train, if the trainer trains epochs (not an endless stream).
    pub epochs: Option<u32>,
    /// Steps per epoch, once known (after the first epoch streamed in).
    pub epoch_steps: Option<usize>,
    /// The step replays buffered batches (epochs after the first).
    pub replaying: bool,
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
