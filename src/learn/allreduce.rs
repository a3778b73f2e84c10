//! All-reduce of gradients between the replicas of one trainer: each replica leaves its
//! gradients in its own slot and meets the others at a barrier; then every replica sums all
//! slots itself (weighted by rows, in replica order, so every replica gets the same bits)
//! straight into its model's gradients, and takes the same optimizer step.
//!
//! A step of a small model takes tens of microseconds, so how replicas wait decides whether two
//! replicas are faster than one. Nothing is summed under a lock (the replicas sum in parallel),
//! nothing is allocated per step (gradient buffers are swapped, not copied), and a replica that
//! has a core of its own spins briefly at the barrier before it sleeps: a futex wake-up costs as
//! much as the step itself. On a machine busy with other work, though, the replica waited for is
//! often not running, and spinning only takes a core from it (two replicas then ran 40 % slower
//! than without spinning): a replica spins only while its thread is not kept waiting for a core
//! (Linux: the run-queue wait in /proc/thread-self/schedstat, looked at every 64 rounds).
//! Replicas that share cores never spin. A stop ends every wait.

use smallvec::SmallVec;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Rows, loss and correct count of one replica's shard, or merged over all shards.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reduced {
    /// Σ rowsᵢ.
    pub rows: usize,
    /// Σ rowsᵢ·lossᵢ / Σ rowsᵢ.
    pub loss: f32,
    pub correct: usize,
    /// Whether any replica was asked to end the run (Finish) when it reached this round: the
    /// same answer for every replica, so all of them stop replaying epochs after the same step.
    /// (Each asking the run on its own, one stopped a step before the others, which then
    /// waited for it at the next round for ever.)
    pub finishing: bool,
}

/// One replica's contribution to a round.
#[derive(Default)]
struct Slot {
    gradients: Vec<f32>,
    rows: usize,
    loss: f32,
    correct: usize,
    finishing: bool,
}

/// How long a replica that has a core spins at the barrier, then yields, before it sleeps.
const SPIN: Duration = Duration::from_micros(50);
const YIELD: Duration = Duration::from_millis(2);
/// How often a sleeping replica looks at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// One all-reduce point shared by `replicas` trainer instances.
pub struct AllReduce {
    replicas: usize,
    /// Two sets of slots, used in alternate rounds: a replica that passed round k's barrier
    /// writes round k+1's slot while the others may still read round k's. It cannot get to
    /// round k+2 (and overwrite round k's) before every replica arrived at round k+1, i.e.
    /// finished reading round k.
    slots: [Vec<RwLock<Slot>>; 2],
    arrived: AtomicUsize,
    round: AtomicU64,
    /// Replicas asleep (or about to sleep) on `ready`: the last arriver wakes them only if
    /// there are any, so a round where everyone spun makes no system call.
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    ready: Condvar,
    spin: bool,
    /// Whether each replica's thread gets a core when it wants one (only that replica
    /// touches its entry).
    cores: Vec<Mutex<CoreWatch>>,
    /// Tells a waiting replica that the run is stopping.
    should_stop: Box<dyn Fn() -> bool + Send + Sync>,
}

/// The run stopped while a replica waited for the others.
#[derive(Debug, PartialEq, Eq)]
pub struct Aborted;

impl AllReduce {
    /// An all-reduce for `replicas` replicas whose waits never spin.
    pub fn new(replicas: usize, should_stop: Box<dyn Fn() -> bool + Send + Sync>) -> Self {
        let replicas = replicas.max(1);
        let slots = || (0..replicas).map(|_| RwLock::default()).collect();
        Self {
            replicas,
            slots: [slots(), slots()],
            arrived: AtomicUsize::new(0),
            round: AtomicU64::new(0),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            ready: Condvar::new(),
            spin: false,
            cores: (0..replicas).map(|_| Mutex::default()).collect(),
            should_stop,
        }
    }

    /// Lets waiting replicas spin briefly before they sleep: only when every replica has a
    /// core of its own, or the spinning would take the core a late replica needs.
    pub fn spinning(mut self, spin: bool) -> Self {
        self.spin = spin;
        self
    }

    /// Adds replica `replica`'s contribution, waits for the others, then calls `merge` with
    /// every contribution that has rows, as (gradients, rowsᵢ / Σ rows) in replica order:
    /// every replica sees the same parts and weights, so a merge Σ weightᵢ·gradᵢ gives every
    /// replica the same bits. `gradients` are the replica's mean gradients over its rows
    /// (ignored when rows = 0); their buffer is taken and an older one is left in its place
    /// for reuse.
    pub fn reduce<T>(
        &self,
        replica: usize,
        gradients: &mut Vec<f32>,
        stats: Reduced,
        merge: impl FnOnce(&[(&[f32], f32)]) -> T,
    ) -> Result<(Reduced, T), Aborted> {
        let round = self.round.load(SeqCst);
        let slots = &self.slots[(round % 2) as usize];
        {
            let mut slot = slots
                .get(replica)
                .ok_or(Aborted)?
                .write()
                .map_err(|_| Aborted)?;
            std::mem::swap(&mut slot.gradients, gradients);
            slot.rows = stats.rows;
            slot.loss = stats.loss;
            slot.correct = stats.correct;
            slot.finishing = stats.finishing;
        }
        if self.arrived.fetch_add(1, SeqCst) + 1 == self.replicas {
            self.arrived.store(0, SeqCst);
            self.round.fetch_add(1, SeqCst);
            // A sleeper counts itself (under the lock) before it looks at the round: it either
            // sees the new round or is counted here. Taking the lock waits until it sleeps.
            if self.sleepers.load(SeqCst) > 0 {
                drop(self.sleep.lock().map_err(|_| Aborted)?);
                self.ready.notify_all();
            }
        } else {
            self.wait_past(replica, round)?;
        }
        let guards = slots
            .iter()
            .map(|slot| slot.read().map_err(|_| Aborted))
            .collect::<Result<SmallVec<[_; 4]>, _>>()?;
        let mut total = Reduced {
            finishing: guards.iter().any(|s| s.finishing),
            ..Reduced::default()
        };
        let mut loss_sum = 0.0f64;
        for slot in guards.iter().filter(|s| s.rows > 0) {
            total.rows += slot.rows;
            total.correct += slot.correct;
            loss_sum += f64::from(slot.loss) * slot.rows as f64;
        }
        let rows = total.rows.max(1);
        total.loss = (loss_sum / rows as f64) as f32;
        let parts: SmallVec<[(&[f32], f32); 4]> = guards
            .iter()
            .filter(|s| s.rows > 0)
            .map(|s| (s.gradients.as_slice(), s.rows as f32 / rows as f32))
            .collect();
        Ok((total, merge(&parts)))
    }

    /// Waits until round `round` is complete: spins and yields while this replica's thread
    /// gets a core whenever it wants one, then sleeps.
    fn wait_past(&self, replica: usize, round: u64) -> Result<(), Aborted> {
        let passed = || self.round.load(SeqCst) != round;
        let spin = self.spin
            && self
                .cores
                .get(replica)
                .and_then(|c| c.lock().ok())
                .is_some_and(|mut c| c.has_a_core());
        if spin {
            let started = Instant::now();
            let mut polls = 0u32;
            while !passed() {
                polls = polls.wrapping_add(1);
                let waited = if polls.is_multiple_of(32) {
                    started.elapsed()
                } else {
                    Duration::ZERO
                };
                if waited >= SPIN + YIELD {
                    break;
                }
                if waited >= SPIN {
                    std::thread::yield_now();
                } else {
                    spin_loop();
                }
            }
        }
        let mut guard = self.sleep.lock().map_err(|_| Aborted)?;
        self.sleepers.fetch_add(1, SeqCst);
        let result = loop {
            if passed() {
                break Ok(());
            }
            if (self.should_stop)() {
                break Err(Aborted);
            }
            match self.ready.wait_timeout(guard, POLL) {
                Ok((g, _)) => guard = g,
                Err(_) => {
                    self.sleepers.fetch_sub(1, SeqCst);
                    return Err(Aborted);
                }
            }
        };
        self.sleepers.fetch_sub(1, SeqCst);
        result
    }
}

/// Whether the calling thread gets a core when it wants one: the share of wall time it spent
/// waiting in a run queue over the last [`CoreWatch::EVERY`] rounds in which it spun. After a
/// window with too much waiting it sleeps for a while, then tries spinning again: one window
/// after a single bad one (a burst of other work), twice as many after each further bad one
/// in a row, up to [`CoreWatch::MAX_BACK_OFF`] (a busy machine). Waits measured while sleeping
/// include wake-up delays and do not count.
#[derive(Default)]
struct CoreWatch {
    rounds: u32,
    /// When and at which run-queue wait (ns) the current window began.
    start: Option<(Instant, u64)>,
    /// Windows left without spinning, and how many the last back-off lasted.
    backing_off: u32,
    last_back_off: u32,
}

impl CoreWatch {
    const EVERY: u32 = 64;
    const MAX_BACK_OFF: u32 = 16;
    /// Most share of wall time spent waiting for a core that still counts as having one.
    const MAX_WAIT_SHARE: f64 = 0.25;

    fn has_a_core(&mut self) -> bool {
        self.has_a_core_by(|| Some((Instant::now(), run_queue_wait_ns()?)))
    }

    /// [`CoreWatch::has_a_core`] with the clock and run-queue wait read by `now`.
    fn has_a_core_by(&mut self, now: impl FnOnce() -> Option<(Instant, u64)>) -> bool {
        self.rounds = self.rounds.wrapping_add(1);
        if !self.rounds.is_multiple_of(Self::EVERY) {
            return self.backing_off == 0;
        }
        if self.backing_off > 0 {
            self.backing_off -= 1;
            // The next window spins again, and is measured from its start.
            self.start = if self.backing_off == 0 { now() } else { None };
            return self.backing_off == 0;
        }
        // Where schedstat cannot be read (not Linux), replicas keep spinning.
        let now = now();
        if let (Some((now, waited_ns)), Some((then, waited_before))) = (now, self.start) {
            let wall_ns = now.saturating_duration_since(then).as_nanos().max(1) as f64;
            let share = waited_ns.saturating_sub(waited_before) as f64 / wall_ns;
            self.last_back_off = if share > Self::MAX_WAIT_SHARE {
                (self.last_back_off * 2).clamp(1, Self::MAX_BACK_OFF)
            } else {
                0
            };
            self.backing_off = self.last_back_off;
        }
        self.start = if self.backing_off == 0 { now } else { None };
        self.backing_off == 0
    }
}

/// Nanoseconds the calling thread has spent runnable but waiting for a core (Linux).
fn run_queue_wait_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn weighted_sum(parts: &[(&[f32], f32)]) -> Vec<f32> {
        let mut sum = vec![0.0; parts.first().map_or(0, |p| p.0.len())];
        for (g, w) in parts {
            for (s, v) in sum.iter_mut().zip(*g) {
                *s += w * v;
            }
        }
        sum
    }

    fn run_replicas(reduce: &Arc<AllReduce>, inputs: Vec<(Vec<f32>, usize, f32)>) {
        let handles: Vec<_> = inputs
            .into_iter()
            .enumerate()
            .map(|(replica, (g, rows, loss))| {
                let reduce = Arc::clone(reduce);
                std::thread::spawn(move || {
                    let mut g = g;
                    let stats = Reduced {
                        rows,
                        loss,
                        correct: rows,
                        // One replica saw Finish: every replica must hear of it.
                        finishing: replica == 1,
                    };
                    reduce.reduce(replica, &mut g, stats, weighted_sum)
                })
            })
            .collect();
        for h in handles {
            let (r, merged) = h.join().unwrap().unwrap();
            assert_eq!(merged, vec![2.5, 3.5]);
            assert_eq!(r.rows, 4);
            assert_eq!(r.correct, 4);
            assert!((r.loss - 0.875).abs() < 1e-6);
            assert!(
                r.finishing,
                "every replica hears that one of them saw Finish"
            );
        }
    }

    #[test]
    fn every_replica_gets_the_row_weighted_average() {
        for spin in [false, true] {
            let reduce = Arc::new(AllReduce::new(3, Box::new(|| false)).spinning(spin));
            let inputs = || {
                vec![
                    (vec![1.0, 2.0], 1usize, 0.5f32),
                    (vec![3.0, 4.0], 3, 1.0),
                    (vec![9.0, 9.0], 0, 7.0),
                ]
            };
            // Rounds reuse the two sets of slots in turn.
            for _ in 0..3 {
                run_replicas(&reduce, inputs());
            }
        }
    }

    #[test]
    fn replicas_stepping_many_rounds_stay_identical() {
        let reduce = Arc::new(AllReduce::new(2, Box::new(|| false)).spinning(true));
        let handles: Vec<_> = (0..2)
            .map(|replica| {
                let reduce = Arc::clone(&reduce);
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    for round in 0..2000u32 {
                        let mut g = vec![(round * 2 + replica) as f32; 3];
                        let stats = Reduced {
                            rows: 1 + replica as usize,
                            ..Reduced::default()
                        };
                        let (_, merged) = reduce
                            .reduce(replica as usize, &mut g, stats, weighted_sum)
                            .unwrap();
                        seen.push(merged[0]);
                    }
                    seen
                })
            })
            .collect();
        let results: Vec<Vec<f32>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results[0], results[1]);
        // Round r: (1·2r + 2·(2r+1)) / 3.
        for (round, v) in results[0].iter().enumerate() {
            let r = round as f32;
            assert!((v - (2.0 * r + 2.0 * (2.0 * r + 1.0)) / 3.0).abs() < 1e-3);
        }
    }

    #[test]
    fn a_stop_ends_the_wait() {
        let reduce = AllReduce::new(2, Box::new(|| true)).spinning(true);
        let mut g = vec![1.0];
        let stats = Reduced {
            rows: 1,
            ..Reduced::default()
        };
        assert_eq!(reduce.reduce(0, &mut g, stats, |_| ()).err(), Some(Aborted));
    }

    /// Drives a watch through windows whose run-queue wait shares are `shares`; returns, per
    /// window, whether the replica spun during it.
    fn spun_per_window(shares: &[f64]) -> Vec<bool> {
        let mut watch = CoreWatch::default();
        let origin = Instant::now();
        let (mut wall_ms, mut waited_ns) = (0u64, 0u64);
        let mut shares = shares.iter();
        let mut spun = Vec::new();
        // The first window only starts the clock.
        let mut first = true;
        loop {
            let mut spinning = true;
            for _ in 0..CoreWatch::EVERY - 1 {
                spinning &= watch.has_a_core_by(|| None);
            }
            let share = if first {
                0.0
            } else if spinning {
                match shares.next() {
                    Some(&s) => s,
                    None => return spun,
                }
            } else {
                0.9 // while sleeping, wake-up delays look like waiting: they must not count
            };
            if !first {
                spun.push(spinning);
                if spinning && shares.as_slice().is_empty() {
                    return spun;
                }
            }
            first = false;
            wall_ms += 10;
            waited_ns += (share * 10e6) as u64;
            let at = origin + Duration::from_millis(wall_ms);
            watch.has_a_core_by(|| Some((at, waited_ns)));
        }
    }

    #[test]
    fn a_replica_kept_waiting_for_a_core_stops_spinning_and_tries_again_later() {
        // Quiet: always spins.
        assert_eq!(spun_per_window(&[0.0, 0.01, 0.0]), [true; 3]);
        // One burst of other work: one window without spinning, then spinning again.
        assert_eq!(
            spun_per_window(&[0.0, 0.5, 0.0, 0.0]),
            [true, true, false, true, true]
        );
        // A busy machine: the pauses double (1, 2, 4 windows) between single tries.
        assert_eq!(
            spun_per_window(&[0.8, 0.8, 0.8, 0.8]),
            [
                true, false, true, false, false, true, false, false, false, false, true
            ]
        );
    }
}
