//! Pacing a run so a person can follow it: sources hold each batch until its event time (or its
//! share of the input) is due on the wall clock, trainers wait between steps. Only sources and
//! trainer steps are paced; operators never read a clock. The pace can change mid-run: pacers
//! see a new version and re-anchor, so a change never causes a burst to catch up.

use super::control::Shared;
use crate::graph::{ANIMATE_SECONDS, Pace};
use crate::learn::StepPlace;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Training steps per second of an animated trainer while it cannot know its epoch's length
/// (the first epoch, or an endless stream).
const ANIMATE_FIRST_EPOCH_STEPS_PER_S: f64 = 30.0;
const ANIMATE_STREAM_STEPS_PER_S: f64 = 50.0;
/// An animated source without a known size replays event time at this factor.
const ANIMATE_REPLAY_FACTOR: f64 = 10.0;
/// A paced source aims at batches this long in wall time: smooth, but not one record per batch.
const BATCH_WALL_S: f64 = 0.05;
/// Records per batch of a source that a paced trainer holds back: small, so each training
/// step's metrics leave as it happens instead of in bursts of a whole source batch.
const HELD_BACK_BATCH: usize = 32;
/// Longest sleep between looks at the run's flags.
const POLL: Duration = Duration::from_millis(20);

/// The run's pace, changeable while it runs; pacers poll its version.
#[derive(Debug)]
pub struct PaceCell {
    pace: Mutex<Pace>,
    version: AtomicU64,
    /// Multiplies every paced speed: tests run paced examples faster with the same behaviour.
    speedup: f64,
    /// The graph has a trainer: an animated run then paces its steps, not its sources.
    trains: bool,
}

impl Default for PaceCell {
    fn default() -> Self {
        Self::new(Pace::Max, 1.0, false)
    }
}

impl PaceCell {
    pub fn new(pace: Pace, speedup: f64, trains: bool) -> Self {
        Self {
            pace: Mutex::new(pace.checked().unwrap_or(Pace::Max)),
            version: AtomicU64::new(0),
            speedup: if speedup.is_finite() && speedup > 0.0 {
                speedup
            } else {
                1.0
            },
            trains,
        }
    }

    /// Changes the pace; sources and trainers take it before their next batch or step.
    pub fn set(&self, pace: Pace) {
        let Ok(pace) = pace.checked() else {
            return;
        };
        if let Ok(mut slot) = self.pace.lock() {
            *slot = pace;
        }
        self.version.fetch_add(1, Relaxed);
    }

    pub fn get(&self) -> Pace {
        self.pace.lock().map(|p| *p).unwrap_or(Pace::Max)
    }

    fn version(&self) -> u64 {
        self.version.load(Relaxed)
    }

    /// How a source is paced now.
    fn source_rule(&self) -> SourceRule {
        match self.get() {
            Pace::Max => SourceRule::Free,
            Pace::Steps(_) => SourceRule::HeldBack,
            Pace::Animate if self.trains => SourceRule::HeldBack,
            Pace::Replay(factor) => SourceRule::EventTime {
                factor: factor * self.speedup,
            },
            Pace::Animate => SourceRule::Spread {
                seconds: ANIMATE_SECONDS / self.speedup,
            },
        }
    }
}

/// How a source's batches are released.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SourceRule {
    Free,
    /// Not paced itself, but a paced trainer downstream holds it back: small batches.
    HeldBack,
    /// Event time advances `factor` times as fast as wall time.
    EventTime {
        factor: f64,
    },
    /// The whole (bounded) input is spread over `seconds`.
    Spread {
        seconds: f64,
    },
}

/// Where pacing counts from: a wall instant and the event time and progress it stands for.
#[derive(Clone, Copy, Debug)]
struct Anchor {
    wall: Instant,
    ts: i64,
    progress: f64,
}

/// What the source loop knows about a batch it filled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchSpan {
    pub records: usize,
    pub first_ts: Option<i64>,
    pub newest_ts: Option<i64>,
    /// Share of the input emitted before and after this batch, when the source knows its size.
    pub progress_before: Option<f64>,
    pub progress_after: Option<f64>,
}

/// Paces one source instance.
#[derive(Debug, Default)]
pub struct SourcePacer {
    seen_version: u64,
    anchor: Option<Anchor>,
    /// Records per batch while paced (adapted to [`BATCH_WALL_S`]).
    batch: Option<usize>,
    newest_ts: Option<i64>,
    last_due: Option<Instant>,
}

impl SourcePacer {
    /// The rule now; a changed pace drops the anchor (no catching up on the old one).
    pub fn rule(&mut self, cell: &PaceCell) -> SourceRule {
        let version = cell.version();
        if version != self.seen_version {
            self.seen_version = version;
            self.reanchor();
        }
        cell.source_rule()
    }

    /// Forget where pacing counted from (after a pause, a step or a pace change).
    pub fn reanchor(&mut self) {
        self.anchor = None;
        self.last_due = None;
    }

    /// Records to ask the source for.
    pub fn batch_size(&self, rule: SourceRule, max: usize) -> usize {
        match rule {
            SourceRule::Free => max,
            SourceRule::HeldBack => HELD_BACK_BATCH.min(max.max(1)),
            _ => self.batch.unwrap_or(16).clamp(1, max.max(1)),
        }
    }

    /// When the batch may leave, by `rule`; also adapts the next batch's size.
    pub fn due(&mut self, rule: SourceRule, span: &BatchSpan, now: Instant, max: usize) -> Instant {
        let rule = match (rule, span.progress_after) {
            (SourceRule::Spread { seconds }, None) => SourceRule::EventTime {
                factor: ANIMATE_REPLAY_FACTOR * ANIMATE_SECONDS / seconds,
            },
            (rule, _) => rule,
        };
        if span.records == 0 || matches!(rule, SourceRule::Free | SourceRule::HeldBack) {
            return now;
        }
        let anchor = *self.anchor.get_or_insert(Anchor {
            wall: now,
            ts: self.newest_ts.or(span.first_ts).unwrap_or(0),
            progress: span.progress_before.unwrap_or(0.0),
        });
        if let Some(t) = span.newest_ts {
            self.newest_ts = Some(self.newest_ts.map_or(t, |n| n.max(t)));
        }
        let offset_s = match rule {
            SourceRule::EventTime { factor } => {
                let newest = self.newest_ts.unwrap_or(anchor.ts);
                newest.saturating_sub(anchor.ts) as f64 / 1e3 / factor
            }
            SourceRule::Spread { seconds } => {
                (span.progress_after.unwrap_or(0.0) - anchor.progress) * seconds
            }
            SourceRule::Free | SourceRule::HeldBack => 0.0,
        };
        let due = anchor.wall + Duration::from_secs_f64(offset_s.clamp(0.0, 1e6));
        let previous = self.last_due.unwrap_or(anchor.wall);
        let wall_s = due.saturating_duration_since(previous).as_secs_f64();
        let current = self.batch_size(rule, max);
        self.batch = Some(if wall_s > 1e-4 {
            let per_s = span.records as f64 / wall_s;
            ((per_s * BATCH_WALL_S).round() as usize).clamp(1, max.max(1))
        } else {
            (current * 2).min(max.max(1))
        });
        self.last_due = Some(due);
        due
    }

    /// Holds a filled batch until `due`. Returns false when the run stops. A pause while
    /// holding keeps the batch until Resume or Step; a pace change, Finish or a batch that a
    /// Step released (`stepped`) goes at once.
    pub fn hold(&mut self, due: Instant, shared: &Shared, stepped_release: bool) -> bool {
        if stepped_release {
            self.reanchor();
            return !shared.stop_requested();
        }
        let mut stepped = shared.step_epoch();
        loop {
            if shared.stop_requested() {
                return false;
            }
            if shared.finish_requested() {
                return true;
            }
            if shared.paused() {
                self.reanchor();
                if shared.may_proceed(&mut stepped) {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            if shared.pace.version() != self.seen_version {
                return true;
            }
            let now = Instant::now();
            if now >= due {
                return true;
            }
            std::thread::sleep((due - now).min(POLL));
        }
    }
}

/// Paces one trainer's steps.
#[derive(Debug, Default)]
pub struct StepPacer {
    seen_version: u64,
    /// When the previous step went.
    last: Option<Instant>,
    /// The first (streamed) epoch: when its first step went, and how many steps it took.
    first_epoch: Option<(Instant, u64)>,
    /// Steps per second of the first epoch, measured when the first replayed step comes.
    first_epoch_rate: Option<f64>,
}

impl StepPacer {
    /// The wait between steps now, if any.
    fn interval(&mut self, cell: &PaceCell, place: &StepPlace, now: Instant) -> Option<Duration> {
        let version = cell.version();
        if version != self.seen_version {
            self.seen_version = version;
            self.last = None;
        }
        if place.replaying
            && self.first_epoch_rate.is_none()
            && let Some((started, steps)) = self.first_epoch
        {
            let seconds = now.saturating_duration_since(started).as_secs_f64();
            self.first_epoch_rate = Some(steps as f64 / seconds.max(1e-6));
        }
        let per_s = steps_per_s(cell.get(), place, self.first_epoch_rate)? * cell.speedup;
        (per_s.is_finite() && per_s > 0.0).then(|| Duration::from_secs_f64(1.0 / per_s))
    }

    /// When the next step may go.
    fn due(&self, interval: Option<Duration>, now: Instant) -> Instant {
        match (self.last, interval) {
            (Some(last), Some(interval)) => last + interval,
            _ => now,
        }
    }

    /// Marks a step gone at `now` that was due at `due`: a late step counts from now, so a
    /// delay never turns into a burst of steps catching up.
    fn went(&mut self, place: &StepPlace, due: Instant, now: Instant, interval: Option<Duration>) {
        let late = interval.is_none_or(|i| now.saturating_duration_since(due) > i);
        self.last = Some(if late { now } else { due });
        if !place.replaying {
            self.first_epoch.get_or_insert((now, 0)).1 += 1;
        }
    }

    /// Waits until this step is due.
    pub fn wait(&mut self, shared: &Shared, place: &StepPlace) -> StepWait {
        let now = Instant::now();
        let interval = self.interval(&shared.pace, place, now);
        let due = self.due(interval, now);
        let version = self.seen_version;
        loop {
            if shared.stop_requested() {
                return StepWait::Stopped;
            }
            // Asked to end gracefully: what is left goes at once, unpaced.
            if shared.finish_requested() {
                return StepWait::Go;
            }
            if shared.paused() || shared.pace.version() != version {
                return StepWait::Interrupted;
            }
            let now = Instant::now();
            if now >= due {
                self.went(place, due, now, interval);
                return StepWait::Go;
            }
            std::thread::sleep((due - now).min(POLL));
        }
    }

    /// A pause or step happened: the next step counts from when it goes.
    pub fn went_unpaced(&mut self, place: &StepPlace) {
        let now = Instant::now();
        self.went(place, now, now, None);
    }
}

/// How a trainer's wait for its next step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepWait {
    Go,
    /// Paused or the pace changed: look at the run's flags again.
    Interrupted,
    Stopped,
}

/// A trainer's step rate under `pace`, if limited.
fn steps_per_s(pace: Pace, place: &StepPlace, first_epoch_rate: Option<f64>) -> Option<f64> {
    match pace {
        Pace::Max => None,
        Pace::Steps(per_s) => Some(per_s),
        // The stream paces the first epoch; replayed epochs go as fast as it came.
        Pace::Replay(_) if place.replaying => first_epoch_rate,
        Pace::Replay(_) => None,
        Pace::Animate => match (place.epochs, place.epoch_steps) {
            (Some(epochs), Some(steps)) if place.replaying => {
                Some(steps as f64 * f64::from(epochs.max(1)) / ANIMATE_SECONDS)
            }
            (Some(_), _) => Some(ANIMATE_FIRST_EPOCH_STEPS_PER_S),
            (None, _) => Some(ANIMATE_STREAM_STEPS_PER_S),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(records: usize, first: i64, newest: i64) -> BatchSpan {
        BatchSpan {
            records,
            first_ts: Some(first),
            newest_ts: Some(newest),
            progress_before: None,
            progress_after: None,
        }
    }

    #[test]
    fn event_time_replay_releases_each_batch_when_its_newest_record_is_due() {
        let mut pacer = SourcePacer::default();
        let rule = SourceRule::EventTime { factor: 100.0 };
        let t0 = Instant::now();
        // Records 1 ms apart in event time: 100 records = 0.1 s event = 1 ms wall at 100x.
        let first = pacer.due(rule, &span(100, 0, 99), t0, 1024);
        assert_eq!(first - t0, Duration::from_micros(990));
        let second = pacer.due(rule, &span(100, 100, 5_099), t0, 1024);
        assert_eq!(second - t0, Duration::from_micros(50_990));
        // An out-of-order batch (older records) is due no later than the newest seen.
        let third = pacer.due(rule, &span(10, 50, 60), t0, 1024);
        assert_eq!(third, second);
    }

    #[test]
    fn paced_batches_adapt_to_about_fifty_milliseconds() {
        let mut pacer = SourcePacer::default();
        let rule = SourceRule::EventTime { factor: 1.0 };
        let t0 = Instant::now();
        assert_eq!(pacer.batch_size(rule, 1024), 16);
        // 16 records over 1.6 s of event time: 10 records/s, so batches of 1 (0.05 s is 0.5).
        pacer.due(rule, &span(16, 0, 1_600), t0, 1024);
        assert_eq!(pacer.batch_size(rule, 1024), 1);
        // Dense data (1000 records per event second at 10x): 500 per 50 ms.
        let mut dense = SourcePacer::default();
        let fast = SourceRule::EventTime { factor: 10.0 };
        dense.due(fast, &span(16, 0, 0), t0, 1024);
        dense.due(fast, &span(32, 1, 32), t0, 1024);
        assert_eq!(dense.batch_size(fast, 1024), 500);
        assert_eq!(pacer.batch_size(SourceRule::Free, 1024), 1024);
        assert_eq!(pacer.batch_size(SourceRule::HeldBack, 1024), 32);
    }

    #[test]
    fn a_spread_source_is_due_at_its_share_of_the_time() {
        let mut pacer = SourcePacer::default();
        let rule = SourceRule::Spread { seconds: 20.0 };
        let t0 = Instant::now();
        let mut at = |before: f64, after: f64| {
            let span = BatchSpan {
                records: 10,
                first_ts: Some(0),
                newest_ts: Some(0),
                progress_before: Some(before),
                progress_after: Some(after),
            };
            pacer.due(rule, &span, t0, 1024) - t0
        };
        assert_eq!(at(0.0, 0.25), Duration::from_secs(5));
        assert_eq!(at(0.25, 1.0), Duration::from_secs(20));
    }

    #[test]
    fn a_new_pace_starts_from_now_instead_of_catching_up() {
        let cell = PaceCell::new(Pace::Replay(1.0), 1.0, false);
        let mut pacer = SourcePacer::default();
        let t0 = Instant::now();
        let rule = pacer.rule(&cell);
        pacer.due(rule, &span(10, 0, 10_000), t0, 1024);
        cell.set(Pace::Replay(1000.0));
        let rule = pacer.rule(&cell);
        assert_eq!(rule, SourceRule::EventTime { factor: 1000.0 });
        let later = t0 + Duration::from_secs(1);
        // 10 s of event time at 1000x from the new anchor (the newest event so far): 10 ms.
        let due = pacer.due(rule, &span(10, 10_001, 20_000), later, 1024);
        assert_eq!(due - later, Duration::from_millis(10));
    }

    #[test]
    fn steps_per_second_follow_the_pace() {
        let streamed = StepPlace {
            epochs: Some(20),
            epoch_steps: None,
            replaying: false,
        };
        let replayed = StepPlace {
            epoch_steps: Some(45),
            replaying: true,
            ..streamed
        };
        let endless = StepPlace {
            epochs: None,
            ..streamed
        };
        assert_eq!(steps_per_s(Pace::Max, &replayed, None), None);
        assert_eq!(steps_per_s(Pace::Steps(5.0), &streamed, None), Some(5.0));
        // Animate: 20 epochs of 45 steps spread over 20 s.
        assert_eq!(steps_per_s(Pace::Animate, &replayed, None), Some(45.0));
        assert_eq!(steps_per_s(Pace::Animate, &streamed, None), Some(30.0));
        assert_eq!(steps_per_s(Pace::Animate, &endless, None), Some(50.0));
        // Replay: the stream paces the first epoch, replays go at its rate.
        assert_eq!(steps_per_s(Pace::Replay(10.0), &streamed, Some(7.0)), None);
        assert_eq!(
            steps_per_s(Pace::Replay(10.0), &replayed, Some(7.0)),
            Some(7.0)
        );
    }

    #[test]
    fn a_step_limit_spaces_steps_without_bursting_after_a_delay() {
        let mut pacer = StepPacer::default();
        let t0 = Instant::now();
        let interval = Some(Duration::from_millis(100));
        let place = StepPlace {
            epochs: None,
            epoch_steps: None,
            replaying: false,
        };
        assert_eq!(pacer.due(interval, t0), t0);
        pacer.went(&place, t0, t0, interval);
        assert_eq!(pacer.due(interval, t0), t0 + Duration::from_millis(100));
        // On time (a little late from sleeping): the next counts from when it was due.
        let due = t0 + Duration::from_millis(100);
        pacer.went(&place, due, due + Duration::from_millis(1), interval);
        assert_eq!(pacer.due(interval, due), t0 + Duration::from_millis(200));
        // Very late (after a long pause): the next counts from now, no burst.
        let late = t0 + Duration::from_secs(5);
        pacer.went(&place, t0 + Duration::from_millis(200), late, interval);
        assert_eq!(pacer.due(interval, late), late + Duration::from_millis(100));
    }
}
