//! Count windows per key, as Flink's `countWindow(n)` (fire and purge every n-th record) and
//! `countWindow(n, slide)` (fire every slide-th record over the last n). They ignore event time;
//! a partial window is never emitted, not even at the end of input.

use super::pane::{Firing, Pane, PaneSpec};
use super::state_budget::StateBudget;
use super::{Item, Key, OpResult, Operator, Outputs, Record, WindowTag};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Arc;

/// `countWindow(size)` with a purging count trigger.
pub struct CountWindowOperator {
    size: u64,
    pane_spec: PaneSpec,
    /// Per key: the open pane and the event times of its first and last record.
    panes: FxHashMap<Key, (Pane, i64, i64)>,
    /// The node's state limit, shared with its other instances: each key takes one entry.
    budget: Arc<StateBudget>,
}

impl CountWindowOperator {
    pub fn new(size: u64, pane_spec: PaneSpec) -> Self {
        Self {
            size: size.max(1),
            pane_spec,
            panes: FxHashMap::default(),
            budget: StateBudget::unlimited(),
        }
    }

    /// Counts this instance's keys against the node's shared state limit.
    pub fn with_state_budget(mut self, budget: Arc<StateBudget>) -> Self {
        self.budget = budget;
        self
    }
}

impl Operator for CountWindowOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        let Item::Record(record) = item else {
            return Ok(());
        };
        let (pane, first_ts, last_ts) = match self.panes.get_mut(&record.key) {
            Some(entry) => entry,
            None => {
                self.budget.take()?;
                self.panes
                    .entry(record.key.clone())
                    .or_insert_with(|| (Pane::new(&self.pane_spec), record.ts, record.ts))
            }
        };
        if pane.count() == 0 {
            *first_ts = record.ts;
        }
        *last_ts = record.ts;
        pane.add(&record, &self.pane_spec);
        if pane.count() >= self.size {
            let full = std::mem::replace(pane, Pane::new(&self.pane_spec));
            let (start, end) = (*first_ts, *last_ts);
            let at = Firing {
                tag: WindowTag::Count,
                start,
                end,
                ts: end,
            };
            self.pane_spec.fire_last(record.key, at, full, out);
        }
        Ok(())
    }

    fn state_entries(&self) -> usize {
        self.panes.len()
    }
}

struct SlidingState {
    last: VecDeque<Record>,
    since_fire: u64,
}

/// `countWindow(size, slide)`: a `CountTrigger(slide)` with a `CountEvictor(size)`.
pub struct SlidingCountWindowOperator {
    size: usize,
    slide: u64,
    pane_spec: PaneSpec,
    keys: FxHashMap<Key, SlidingState>,
    /// The node's state limit, shared with its other instances: each key takes one entry.
    budget: Arc<StateBudget>,
}

impl SlidingCountWindowOperator {
    pub fn new(size: u64, slide: u64, pane_spec: PaneSpec) -> Self {
        Self {
            size: usize::try_from(size.max(1)).unwrap_or(usize::MAX),
            slide: slide.max(1),
            pane_spec,
            keys: FxHashMap::default(),
            budget: StateBudget::unlimited(),
        }
    }

    /// Counts this instance's keys against the node's shared state limit.
    pub fn with_state_budget(mut self, budget: Arc<StateBudget>) -> Self {
        self.budget = budget;
        self
    }
}

impl Operator for SlidingCountWindowOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        let Item::Record(record) = item else {
            return Ok(());
        };
        let state = match self.keys.get_mut(&record.key) {
            Some(state) => state,
            None => {
                self.budget.take()?;
                self.keys
                    .entry(record.key.clone())
                    .or_insert_with(|| SlidingState {
                        last: VecDeque::new(),
                        since_fire: 0,
                    })
            }
        };
        let key = record.key.clone();
        state.last.push_back(record);
        // The evictor keeps the last `size` at each firing; records older than that can
        // never be seen again, so they are dropped as they fall out.
        if state.last.len() > self.size {
            state.last.pop_front();
        }
        state.since_fire += 1;
        if state.since_fire >= self.slide {
            state.since_fire = 0;
            let mut pane = Pane::new(&self.pane_spec);
            for r in &state.last {
                pane.add(r, &self.pane_spec);
            }
            let start = state.last.front().map_or(0, |r| r.ts);
            let end = state.last.back().map_or(0, |r| r.ts);
            let at = Firing {
                tag: WindowTag::Count,
                start,
                end,
                ts: end,
            };
            self.pane_spec.fire_last(key, at, pane, out);
        }
        Ok(())
    }

    fn state_entries(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::test_support::{fired, rec, run};

    fn spec() -> PaneSpec {
        PaneSpec {
            stats_fields: vec![0],
            keep_rows: false,
            ..Default::default()
        }
    }

    #[test]
    fn count_window_fires_every_nth_record_of_a_key_and_drops_the_rest() {
        let mut op = CountWindowOperator::new(2, spec());
        let items = vec![
            rec("a", 30, 1.0),
            rec("b", 10, 5.0),
            rec("a", 20, 2.0),
            rec("a", 40, 4.0),
            Item::Watermark(i64::MAX),
        ];
        let out = run(&mut op, items);
        op.on_end(&mut Outputs::new(2)).unwrap();
        // start/end are the first and last element's times in arrival order.
        assert_eq!(fired(&out), vec![("a".into(), 30, 20, 2, 3.0)]);
    }

    #[test]
    fn sliding_count_window_fires_every_slide_over_the_last_size() {
        let mut op = SlidingCountWindowOperator::new(3, 2, spec());
        let items = (1..=6).map(|i| rec("a", i * 10, i as f64)).collect();
        let out = run(&mut op, items);
        assert_eq!(
            fired(&out),
            vec![
                ("a".into(), 10, 20, 2, 3.0),
                ("a".into(), 20, 40, 3, 9.0),
                ("a".into(), 40, 60, 3, 15.0),
            ]
        );
    }
}
