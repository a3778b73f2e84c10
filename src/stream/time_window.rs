//! Tumbling and sliding event-time windows. All keys share window bounds, so state is kept in
//! bins by window start, each holding one pane per key: firing a window is popping a bin.

use super::assign::{
    StartCache, cleanup_time, is_record_late, is_window_late, max_timestamp, starts_down_from,
};
use super::pane::{Firing, Pane, PaneSpec};
use super::pane_table::{PaneTable, Slot};
use super::state_budget::StateBudget;
use super::{Item, OpError, OpResult, Operator, Outputs, WindowTag};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Output port of window results.
pub const OUT: usize = 0;
/// Output port of late records.
pub const LATE: usize = 1;

/// Window sizes of an aligned (tumbling or sliding) window. Tumbling is `slide == size`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlignedWindows {
    pub size_ms: i64,
    pub slide_ms: i64,
    pub offset_ms: i64,
    pub allowed_lateness_ms: i64,
}

struct Bin {
    end: i64,
    /// The event-time timer at end − 1 has fired; later records re-fire per record.
    fired: bool,
    panes: PaneTable,
}

/// Flink's `WindowOperator` with `TumblingEventTimeWindows`/`SlidingEventTimeWindows`,
/// `EventTimeTrigger`, allowed lateness and a late side output.
pub struct TimeWindowOperator {
    windows: AlignedWindows,
    /// Window starts by the slide (the size, for tumbling windows).
    starts: StartCache,
    pane_spec: PaneSpec,
    watermark: i64,
    bins: BTreeMap<i64, Bin>,
    panes: usize,
    late: u64,
    /// Emptied pane tables of fired bins, reused so steady state allocates nothing.
    spare_maps: Vec<PaneTable>,
    /// The earliest watermark at which some bin fires or is dropped: below it, a watermark
    /// only moves the clock.
    next_timer: i64,
    /// Every bin starting below this has fired. Bins share one size, so the bins that have
    /// fired are exactly those whose end − 1 the watermark reached: a prefix of `bins`. Firing
    /// starts here instead of scanning the bins kept for allowed lateness (which made tiny
    /// windows with lateness quadratic).
    fired_below: i64,
    /// The node's state limit, shared with its other instances: each pane takes one entry.
    budget: Arc<StateBudget>,
}

impl TimeWindowOperator {
    pub fn new(windows: AlignedWindows, pane_spec: PaneSpec) -> Self {
        Self {
            windows,
            starts: StartCache::new(windows.slide_ms, windows.offset_ms),
            pane_spec,
            watermark: i64::MIN,
            bins: BTreeMap::new(),
            panes: 0,
            late: 0,
            spare_maps: Vec::new(),
            next_timer: i64::MAX,
            fired_below: i64::MIN,
            budget: StateBudget::unlimited(),
        }
    }

    /// Counts this instance's panes against the node's shared state limit.
    pub fn with_state_budget(mut self, budget: Arc<StateBudget>) -> Self {
        self.budget = budget;
        self
    }

    fn timer_of(&self, bin: &Bin) -> i64 {
        if bin.fired {
            cleanup_time(bin.end, self.windows.allowed_lateness_ms)
        } else {
            max_timestamp(bin.end)
        }
    }

    /// The earliest timer of any bin, in O(log n): cleanup times and firing times both grow
    /// with the start, so it is the first bin's or the first unfired bin's.
    fn earliest_timer(&self) -> i64 {
        let first = self.bins.values().next().map(|b| self.timer_of(b));
        let first_unfired = self
            .bins
            .range(self.fired_below..)
            .map(|(_, b)| b)
            .find(|b| !b.fired)
            .map(|b| self.timer_of(b));
        first
            .into_iter()
            .chain(first_unfired)
            .min()
            .unwrap_or(i64::MAX)
    }

    fn on_record(&mut self, record: super::Record, out: &mut Outputs) -> OpResult {
        let AlignedWindows {
            size_ms,
            slide_ms,
            allowed_lateness_ms,
            ..
        } = self.windows;
        let mut assigned = false;
        let last = self.starts.start(record.ts);
        if slide_ms == size_ms {
            assigned = self.add_to_window(last, &record, out)?;
        } else {
            for start in starts_down_from(last, record.ts, size_ms, slide_ms) {
                assigned |= self.add_to_window(start, &record, out)?;
            }
        }
        if !assigned && is_record_late(record.ts, allowed_lateness_ms, self.watermark) {
            self.late += 1;
            out.push(LATE, Item::Record(record));
        }
        Ok(())
    }

    /// Adds a record to the window starting at `start`, unless that window is already late.
    /// Returns whether it was added.
    #[inline]
    fn add_to_window(
        &mut self,
        start: i64,
        record: &super::Record,
        out: &mut Outputs,
    ) -> Result<bool, OpError> {
        let lateness = self.windows.allowed_lateness_ms;
        let watermark = self.watermark;
        let end = start.saturating_add(self.windows.size_ms);
        if is_window_late(end, lateness, watermark) {
            return Ok(false);
        }
        let bin = match self.bins.get_mut(&start) {
            Some(bin) => bin,
            None => {
                let fired = max_timestamp(end) <= watermark;
                let timer = if fired {
                    // Every bin starting earlier ends earlier, so has fired too.
                    self.fired_below = self.fired_below.max(start.saturating_add(1));
                    cleanup_time(end, lateness)
                } else {
                    max_timestamp(end)
                };
                self.next_timer = self.next_timer.min(timer);
                let panes = self.spare_maps.pop().unwrap_or_default();
                self.bins.entry(start).or_insert(Bin { end, fired, panes })
            }
        };
        let spec = &self.pane_spec;
        let pane = match bin.panes.find_or_add(&record.key) {
            Slot::Found(pane) => {
                pane.add(record, spec);
                pane
            }
            Slot::Vacant(vacant) => {
                self.budget.take()?;
                self.panes += 1;
                // Filled before it is stored: written once, at the end of the bin's arrays.
                let mut pane = Pane::new(spec);
                pane.add(record, spec);
                vacant.insert(record.key.clone(), pane)
            }
        };
        if max_timestamp(end) <= watermark {
            // Late but within the allowed lateness: fire again, updated (EventTimeTrigger.onElement).
            let at = Firing {
                tag: WindowTag::Time,
                start,
                end,
                ts: max_timestamp(end),
            };
            self.pane_spec.fire(&record.key, at, pane, out);
        }
        Ok(true)
    }
}

impl Operator for TimeWindowOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        if let Item::Record(record) = item {
            self.on_record(record, out)?;
        }
        Ok(())
    }

    fn on_batch(&mut self, _port: usize, items: Vec<Item>, out: &mut Outputs) -> OpResult {
        for item in items {
            match item {
                Item::Record(record) => self.on_record(record, out)?,
                Item::Watermark(w) => self.on_watermark(w, out)?,
                Item::Window(_) | Item::Batch(_) | Item::Model(_) => {}
            }
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Outputs) -> OpResult {
        if watermark <= self.watermark {
            return Ok(());
        }
        self.watermark = watermark;
        if watermark < self.next_timer {
            out.watermark(watermark);
            return Ok(());
        }
        let lateness = self.windows.allowed_lateness_ms;
        // Bins past their cleanup time fire (if they have not) for the last time and go.
        while let Some(entry) = self.bins.first_entry() {
            if cleanup_time(entry.get().end, lateness) > watermark {
                break;
            }
            let start = *entry.key();
            let mut bin = entry.remove();
            self.panes -= bin.panes.len();
            self.budget.give_back(bin.panes.len() as u64);
            let at = Firing {
                tag: WindowTag::Time,
                start,
                end: bin.end,
                ts: max_timestamp(bin.end),
            };
            match out.port(OUT) {
                Some(buffer) if !bin.fired => {
                    buffer.reserve(bin.panes.len());
                    buffer.extend(
                        bin.panes
                            .drain()
                            .map(|(key, pane)| self.pane_spec.last_result(key, at, pane)),
                    );
                }
                _ => bin.panes.clear(),
            }
            if self.spare_maps.len() < 4 {
                self.spare_maps.push(bin.panes);
            }
        }
        // Bins that reached end − 1 but are kept for allowed lateness fire once, by timer:
        // only bins not fired yet are visited, each once.
        for (&start, bin) in self.bins.range_mut(self.fired_below..) {
            if max_timestamp(bin.end) > watermark {
                break;
            }
            self.fired_below = start.saturating_add(1);
            if !bin.fired {
                bin.fired = true;
                let at = Firing {
                    tag: WindowTag::Time,
                    start,
                    end: bin.end,
                    ts: max_timestamp(bin.end),
                };
                if let Some(buffer) = out.port(OUT) {
                    buffer.reserve(bin.panes.len());
                    buffer.extend(
                        bin.panes
                            .iter()
                            .map(|(key, pane)| self.pane_spec.result(key, at, pane)),
                    );
                }
            }
        }
        self.next_timer = self.earliest_timer();
        out.watermark(watermark);
        Ok(())
    }

    fn state_entries(&self) -> usize {
        self.panes
    }

    fn late_records(&self) -> u64 {
        self.late
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::test_support::{fired, late_ts, rec, run};

    fn tumbling(size: i64, lateness: i64) -> TimeWindowOperator {
        TimeWindowOperator::new(
            AlignedWindows {
                size_ms: size,
                slide_ms: size,
                offset_ms: 0,
                allowed_lateness_ms: lateness,
            },
            PaneSpec {
                stats_fields: vec![0],
                keep_rows: false,
                ..Default::default()
            },
        )
    }

    #[test]
    fn window_fires_when_watermark_reaches_end_minus_one() {
        let mut op = tumbling(1000, 0);
        let out = run(&mut op, vec![rec("a", 10, 1.0), Item::Watermark(998)]);
        assert!(fired(&out).is_empty());
        let out = run(&mut op, vec![Item::Watermark(999)]);
        assert_eq!(fired(&out), vec![("a".into(), 0, 1000, 1, 1.0)]);
    }

    #[test]
    fn record_on_the_boundary_belongs_to_the_next_window() {
        let mut op = tumbling(1000, 0);
        let out = run(
            &mut op,
            vec![
                rec("a", 999, 1.0),
                rec("a", 1000, 2.0),
                Item::Watermark(i64::MAX),
            ],
        );
        assert_eq!(
            fired(&out),
            vec![
                ("a".into(), 0, 1000, 1, 1.0),
                ("a".into(), 1000, 2000, 1, 2.0)
            ]
        );
    }

    #[test]
    fn late_record_goes_to_side_output() {
        let mut op = tumbling(1000, 0);
        let out = run(
            &mut op,
            vec![
                rec("a", 1500, 1.0),
                Item::Watermark(1000),
                rec("a", 999, 5.0),
            ],
        );
        assert_eq!(late_ts(&out), vec![999]);
        assert_eq!(op.late_records(), 1);
    }

    #[test]
    fn allowed_lateness_refires_with_updated_contents() {
        let mut op = tumbling(1000, 500);
        let out = run(
            &mut op,
            vec![
                rec("a", 100, 1.0),
                Item::Watermark(999),
                rec("a", 200, 2.0),
                rec("a", 300, 3.0),
                Item::Watermark(1499),
                rec("a", 400, 4.0),
            ],
        );
        assert_eq!(
            fired(&out),
            vec![
                ("a".into(), 0, 1000, 1, 1.0),
                ("a".into(), 0, 1000, 2, 3.0),
                ("a".into(), 0, 1000, 3, 6.0),
            ]
        );
        assert_eq!(late_ts(&out), vec![400]);
        assert_eq!(
            op.state_entries(),
            0,
            "state is dropped at the cleanup time"
        );
    }

    #[test]
    fn new_window_created_late_but_allowed_fires_per_record() {
        let mut op = tumbling(1000, 5000);
        let out = run(&mut op, vec![Item::Watermark(3000), rec("b", 1200, 7.0)]);
        assert_eq!(fired(&out), vec![("b".into(), 1000, 2000, 1, 7.0)]);
        let out = run(&mut op, vec![Item::Watermark(4000)]);
        assert!(fired(&out).is_empty(), "no second firing by timer");
    }

    #[test]
    fn negative_timestamps_fire_in_their_own_windows() {
        let mut op = tumbling(1000, 0);
        let out = run(
            &mut op,
            vec![
                rec("a", -1, 1.0),
                rec("a", -1000, 2.0),
                Item::Watermark(i64::MAX),
            ],
        );
        assert_eq!(fired(&out), vec![("a".into(), -1000, 0, 2, 3.0)]);
    }

    #[test]
    fn sliding_record_counted_in_newer_window_is_not_late() {
        let mut op = TimeWindowOperator::new(
            AlignedWindows {
                size_ms: 3000,
                slide_ms: 1000,
                offset_ms: 0,
                allowed_lateness_ms: 0,
            },
            PaneSpec {
                stats_fields: vec![0],
                keep_rows: false,
                ..Default::default()
            },
        );
        // Watermark 2999 closes [0, 3000); a record at 2500 still fits [1000, 4000) and [2000, 5000).
        let out = run(
            &mut op,
            vec![rec("a", 5, 1.0), Item::Watermark(2999), rec("a", 2500, 2.0)],
        );
        assert!(late_ts(&out).is_empty());
        let out = run(&mut op, vec![Item::Watermark(i64::MAX)]);
        let windows: Vec<_> = fired(&out).into_iter().map(|w| (w.1, w.3)).collect();
        assert_eq!(windows, vec![(1000, 1), (2000, 1)]);
    }

    #[test]
    fn slide_longer_than_size_drops_gap_records_and_sends_late_ones_aside() {
        // Windows [0, 1000), [3000, 4000), ...: 1500 and 2500 fall in the gap.
        let mut op = TimeWindowOperator::new(
            AlignedWindows {
                size_ms: 1000,
                slide_ms: 3000,
                offset_ms: 0,
                allowed_lateness_ms: 0,
            },
            PaneSpec {
                stats_fields: vec![0],
                keep_rows: false,
                ..Default::default()
            },
        );
        let out = run(
            &mut op,
            vec![
                rec("a", 500, 1.0),
                rec("a", 1500, 2.0),
                Item::Watermark(2000),
                rec("a", 2500, 3.0),
                rec("a", 1800, 4.0),
                rec("a", 3200, 5.0),
                Item::Watermark(i64::MAX),
            ],
        );
        assert_eq!(
            late_ts(&out),
            vec![1800],
            "only the gap record behind the watermark"
        );
        let windows: Vec<_> = fired(&out).into_iter().map(|w| (w.1, w.3)).collect();
        assert_eq!(windows, vec![(0, 1), (3000, 1)]);
    }

    #[test]
    fn panes_are_counted_as_they_are_created_and_one_record_cannot_pass_the_limit() {
        let budget = StateBudget::new(50_000, 1);
        let mut op = TimeWindowOperator::new(
            AlignedWindows {
                size_ms: 100_000,
                slide_ms: 1,
                offset_ms: 0,
                allowed_lateness_ms: 0,
            },
            PaneSpec::default(),
        )
        .with_state_budget(Arc::clone(&budget));
        // One record falls into 100,000 windows: refused when the 50,001st pane would open.
        let mut out = Outputs::new(2);
        let err = op
            .on_batch(0, vec![rec("a", 1_000_000, 1.0)], &mut out)
            .unwrap_err();
        assert!(err.0.contains("state_limit of 50000"), "{err}");
        assert_eq!(op.state_entries(), 50_000);
        assert_eq!(budget.held(), 50_000);
    }

    #[test]
    fn dropped_panes_give_their_entries_back() {
        let budget = StateBudget::new(3, 1);
        let mut op = tumbling(1000, 0).with_state_budget(Arc::clone(&budget));
        let items = (0..10)
            .flat_map(|i| [rec("a", i * 1000, 1.0), Item::Watermark(i * 1000 + 999)])
            .collect();
        run(&mut op, items);
        assert_eq!(budget.held(), 0, "ten windows, never more than one held");
    }

    #[test]
    fn tiny_windows_kept_for_lateness_fire_once_by_timer_and_refire_alone() {
        // 1 ms windows kept for 100 s: each watermark used to scan every kept window.
        let mut op = tumbling(1, 100_000_000);
        let items: Vec<Item> = (0..20_000)
            .flat_map(|ts| [rec("a", ts, 1.0), Item::Watermark(ts)])
            .collect();
        let out = run(&mut op, items);
        assert_eq!(
            fired(&out).len(),
            20_000,
            "each window fires once, by its timer"
        );
        assert_eq!(op.state_entries(), 20_000, "kept for the allowed lateness");
        // A late record re-fires its own window only.
        let out = run(&mut op, vec![rec("a", 5, 2.0)]);
        assert_eq!(fired(&out), vec![("a".into(), 5, 6, 2, 3.0)]);
    }
}
