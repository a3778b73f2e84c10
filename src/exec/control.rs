//! Commands into a run and the shared flags tasks poll between batches.

use super::pace::{PaceCell, StepPacer, StepWait};
use crate::graph::Pace;
use crate::learn::StepPlace;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// What the UI or CLI can tell a running graph.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    /// Sources stop producing; in-flight records drain.
    Pause,
    Resume,
    /// While paused: each source emits one more batch.
    Step,
    /// End now; outputs of unfinished sinks are discarded.
    Stop,
    /// End gracefully: sources end as if their input were over, windows fire, sinks complete.
    Finish,
    /// Change a parameter marked live in the catalogue (e.g. a trainer's `lr`) while running.
    SetParam {
        node: String,
        param: String,
        value: f64,
    },
    /// Start or stop keeping a data preview of a node's outputs (off by default: it costs).
    Preview {
        node: String,
        on: bool,
    },
    /// Change how fast the run goes; sources and trainers take it before their next batch or
    /// step, counting from then (no burst to catch up).
    SetPace(Pace),
}

/// Flags and the first failure, shared by the monitor and every task.
#[derive(Debug, Default)]
pub struct Shared {
    stop: AtomicBool,
    finish: AtomicBool,
    paused: AtomicBool,
    step_epoch: AtomicU64,
    failure: Mutex<Option<(String, String)>>,
    /// How fast sources and trainers go.
    pub pace: PaceCell,
}

impl Shared {
    /// Flags of a run that starts at this pace.
    pub fn with_pace(pace: PaceCell) -> Self {
        Self {
            pace,
            ..Self::default()
        }
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.load(Relaxed)
    }

    pub fn finish_requested(&self) -> bool {
        self.finish.load(Relaxed)
    }

    pub fn paused(&self) -> bool {
        self.paused.load(Relaxed)
    }

    pub fn step_epoch(&self) -> u64 {
        self.step_epoch.load(Relaxed)
    }

    /// Whether a source or trainer may do its next piece of work: always while running; while
    /// paused, once per Step (`stepped` is the step count it last used, and is updated).
    pub fn may_proceed(&self, stepped: &mut u64) -> bool {
        if !self.paused() {
            return true;
        }
        let epoch = self.step_epoch();
        if epoch == *stepped {
            return false;
        }
        *stepped = epoch;
        true
    }

    pub fn apply(&self, control: &Control) {
        match control {
            Control::Pause => self.paused.store(true, Relaxed),
            Control::Resume => self.paused.store(false, Relaxed),
            Control::Step => {
                self.step_epoch.fetch_add(1, Relaxed);
            }
            Control::Stop => self.stop.store(true, Relaxed),
            Control::Finish => {
                self.finish.store(true, Relaxed);
                self.paused.store(false, Relaxed);
            }
            Control::SetPace(pace) => self.pace.set(*pace),
            // Routed to the node's live parameters or taps by the monitor.
            Control::SetParam { .. } | Control::Preview { .. } => {}
        }
    }

    /// Records the first failure and stops every task.
    pub fn fail(&self, node: String, message: String) {
        if let Ok(mut slot) = self.failure.lock()
            && slot.is_none()
        {
            *slot = Some((node, message));
        }
        self.stop.store(true, Relaxed);
    }

    pub fn failure(&self) -> Option<(String, String)> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }
}

/// A trainer's pause point on the run's flags: waits while paused, lets one step through per
/// Step, holds each step until the run's pace allows it, and ends the operator when the run
/// stops.
pub struct RunGate {
    shared: std::sync::Arc<Shared>,
    stepped: u64,
    pacer: StepPacer,
}

impl RunGate {
    pub fn new(shared: std::sync::Arc<Shared>) -> Self {
        let stepped = shared.step_epoch();
        Self {
            shared,
            stepped,
            pacer: StepPacer::default(),
        }
    }
}

impl crate::learn::PausePoint for RunGate {
    fn pause_point(&mut self, place: &StepPlace) -> Result<(), crate::stream::OpError> {
        let stopped = || crate::stream::OpError::new("the run was stopped");
        loop {
            let mut held = false;
            loop {
                if self.shared.stop_requested() {
                    return Err(stopped());
                }
                if self.shared.may_proceed(&mut self.stepped) {
                    break;
                }
                held = true;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            // A Step (or the first step after a pause) goes at once; pacing counts from it.
            if held || self.shared.paused() {
                self.pacer.went_unpaced(place);
                return Ok(());
            }
            match self.pacer.wait(&self.shared, place) {
                StepWait::Go => return Ok(()),
                StepWait::Stopped => return Err(stopped()),
                StepWait::Interrupted => {}
            }
        }
    }

    fn finish_requested(&self) -> bool {
        self.shared.finish_requested()
    }
}
