//! The run's monitor: one thread that applies controls, samples the tasks' counters into
//! telemetry on every tick, joins the tasks and reports how the run ended. Telemetry goes out on
//! a bounded channel: a reader that stops reading (a hidden window) cannot make it grow.

use super::control::{Control, Shared};
use super::telemetry::{
    InsightPoint, NodeCounters, NodeState, Outcome, RunReport, Sampler, Telemetry,
};
use crossbeam_channel::{Receiver, Sender};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Telemetry messages the channel holds before the monitor stops sending (about 10 s of 40 ms
/// ticks). Two of them are kept free for the end of the run, so its last progress and `Done`
/// always get through.
pub const TELEMETRY_CAPACITY: usize = 256;
const KEPT_FOR_THE_END: usize = 2;

/// The other side of the telemetry channel: called after each message so a reader that sleeps
/// (the editor's event loop) wakes to drain it. The executor knows nothing of what it wakes.
#[derive(Clone)]
pub struct TelemetryWaker(Arc<dyn Fn() + Send + Sync>);

impl TelemetryWaker {
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        Self(Arc::new(wake))
    }

    pub fn wake(&self) {
        (self.0)();
    }
}

impl std::fmt::Debug for TelemetryWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TelemetryWaker")
    }
}

/// A bounded telemetry channel and its waker.
pub fn telemetry_channel() -> (Sender<Telemetry>, Receiver<Telemetry>) {
    crossbeam_channel::bounded(TELEMETRY_CAPACITY)
}

pub struct Monitor {
    /// Live parameters of each trainer, by node name.
    pub live: BTreeMap<String, Arc<crate::learn::LiveParams>>,
    /// Each trainer's insight slot, by node id.
    pub insights: Vec<(
        crate::graph::NodeId,
        Arc<crate::learn::insight::InsightSlot>,
    )>,
    pub shared: Arc<Shared>,
    pub counters: Vec<Arc<NodeCounters>>,
    pub threads: Vec<JoinHandle<()>>,
    pub control: Receiver<Control>,
    pub exits: Receiver<()>,
    pub telemetry: Sender<Telemetry>,
    pub waker: Option<TelemetryWaker>,
    pub tick: Duration,
}

impl Monitor {
    /// Sends a message if the reader keeps up; `false` (nothing sent) when it does not.
    fn try_send(&self, message: Telemetry, reserve: usize) -> bool {
        if self.telemetry.len() + reserve >= TELEMETRY_CAPACITY {
            return false;
        }
        // Only the monitor sends, so the room checked above is still there.
        let sent = self.telemetry.try_send(message).is_ok();
        if let Some(waker) = &self.waker {
            waker.wake();
        }
        sent
    }

    pub fn run(mut self) -> RunReport {
        let started = Instant::now();
        let mut sampler = Sampler::new(self.counters.len());
        let mut running = self.threads.len();
        let mut next_tick = started + self.tick;
        let never = crossbeam_channel::never();
        let mut control_open = true;
        while running > 0 {
            let timeout = next_tick.saturating_duration_since(Instant::now());
            crossbeam_channel::select! {
                recv(self.exits) -> _ => running -= 1,
                recv(if control_open { &self.control } else { &never }) -> c => match c {
                    Ok(Control::SetParam { node, param, value }) => {
                        if let Some(live) = self.live.get(&node) {
                            live.set(&param, value);
                        }
                    }
                    Ok(Control::Preview { node, on }) => {
                        for c in self.counters.iter().filter(|c| c.name == node) {
                            c.preview.set_watching(on);
                        }
                    }
                    Ok(control) => self.shared.apply(&control),
                    // The handle is gone: nobody can stop the run later, so stop it now.
                    Err(_) => {
                        control_open = false;
                        self.shared.apply(&Control::Stop);
                    }
                },
                default(timeout) => {}
            }
            if Instant::now() >= next_tick {
                next_tick += self.tick;
                let elapsed_s = started.elapsed().as_secs_f64();
                // A reader that does not keep up misses statuses (each one replaces the last)
                // while points wait, bounded, in the counters for the next message it takes.
                if self.telemetry.len() + KEPT_FOR_THE_END < TELEMETRY_CAPACITY {
                    let nodes = sampler.sample(&self.counters, elapsed_s, |c| self.state_of(c));
                    self.try_send(self.progress(elapsed_s, nodes), KEPT_FOR_THE_END);
                } else if let Some(waker) = &self.waker {
                    waker.wake();
                }
            }
        }
        for thread in std::mem::take(&mut self.threads) {
            let _ = thread.join();
        }
        let elapsed_s = started.elapsed().as_secs_f64();
        let outcome = match self.shared.failure() {
            Some((node, message)) => Outcome::Failed { node, message },
            None if self.shared.stop_requested() => Outcome::Stopped,
            None => Outcome::Finished,
        };
        let mut final_sampler = Sampler::new(self.counters.len());
        let mut nodes = final_sampler.sample(&self.counters, elapsed_s, |c| self.state_of(c));
        for (status, c) in nodes.iter_mut().zip(&self.counters) {
            // Over the whole run, not since the last tick.
            status.in_per_s = c.records_in.load(Relaxed) as f64 / elapsed_s.max(1e-9);
            status.out_per_s = c.records_out.load(Relaxed) as f64 / elapsed_s.max(1e-9);
        }
        // What the last tick did not carry yet: the final metrics, windows and model.
        self.try_send(self.progress(elapsed_s, nodes.clone()), 1);
        let report = RunReport {
            outcome,
            elapsed_s,
            nodes,
        };
        self.try_send(Telemetry::Done(report.clone()), 0);
        report
    }

    /// A progress message: the node statuses and what was gathered since the last one.
    fn progress(&self, elapsed_s: f64, nodes: Vec<super::NodeStatus>) -> Telemetry {
        Telemetry::Progress {
            elapsed_s,
            nodes,
            metrics: self
                .counters
                .iter()
                .filter_map(|c| c.drain_metrics())
                .collect(),
            windows: self
                .counters
                .iter()
                .filter_map(|c| c.drain_windows())
                .collect(),
            late: self
                .counters
                .iter()
                .filter_map(|c| c.drain_late())
                .collect(),
            insights: self
                .insights
                .iter()
                .filter_map(|(node, slot)| {
                    slot.take().map(|insight| InsightPoint {
                        node: *node,
                        insight,
                    })
                })
                .collect(),
        }
    }

    fn state_of(&self, c: &NodeCounters) -> (NodeState, Option<String>) {
        // Layers and Loss run inside their trainer.
        let c = c
            .owner
            .and_then(|i| self.counters.get(i))
            .map_or(c, |owner| owner.as_ref());
        if let Some((node, message)) = self.shared.failure()
            && node == c.name
        {
            return (NodeState::Failed, Some(message));
        }
        if c.instances_done.load(Relaxed) >= c.instances() {
            (NodeState::Finished, None)
        } else if self.shared.stop_requested() {
            (NodeState::Stopped, None)
        } else if self.shared.paused() {
            (NodeState::Paused, None)
        } else {
            (NodeState::Running, None)
        }
    }
}
