//! Bounded out-of-orderness watermarks, advanced after every record (Flink's
//! `forBoundedOutOfOrderness` with punctuated emission, so results never depend on timing).
//!
//! When the plan knows every event time at which an operator downstream acts on a watermark
//! (the fire and drop times of tumbling and sliding windows: `plan::timers`), a watermark
//! that reaches none of them is held back within a batch: written before the next record
//! that could tell (one at most 1 ms above it: late for it, or touching a session), before a
//! record whose watermark reaches a timer, or at the batch's end. A watermark that reaches a
//! timer is written right after its record. So every window fires, drops state and judges
//! lateness at the same record as with one watermark per record, and emits the same results
//! and watermarks; an ordered stream carries a few watermarks per batch instead of one per
//! record (half the items to move between threads), and a batch that needs no edit passes on
//! whole.

use super::{Item, OpResult, Operator, Outputs};

/// Event times at which an operator downstream acts on the watermark: `phase + k · period`
/// for every integer k.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerGrid {
    period: i64,
    phase: i64,
}

impl TimerGrid {
    pub fn new(period: i64, phase: i64) -> Self {
        let period = period.max(1);
        Self {
            period,
            phase: phase.rem_euclid(period),
        }
    }

    /// Whether a timer lies in `(from, to]`.
    #[cfg(test)]
    fn crossed(&self, from: i64, to: i64) -> bool {
        to >= self.first_after(from)
    }

    /// The first timer after `watermark`.
    fn first_after(&self, watermark: i64) -> i64 {
        let slot = watermark.saturating_sub(self.phase).div_euclid(self.period);
        self.phase
            .saturating_add(slot.saturating_add(1).saturating_mul(self.period))
    }
}

/// watermark = max event time seen − delay − 1, advanced after every record.
pub struct WatermarkOperator {
    delay_ms: i64,
    max_ts: Option<i64>,
    current: i64,
    /// The timers downstream, when all are known: watermarks between them may be held back.
    timers: Option<Vec<TimerGrid>>,
    /// The first of those timers after the current watermark (one comparison per record
    /// instead of two divisions per grid).
    next_timer: i64,
    /// A watermark advanced to but not written yet (only inside a batch).
    held: Option<i64>,
}

impl WatermarkOperator {
    /// Writes every watermark, after its record.
    pub fn new(delay_ms: i64) -> Self {
        Self {
            delay_ms,
            max_ts: None,
            current: i64::MIN,
            timers: None,
            next_timer: i64::MIN,
            held: None,
        }
    }

    fn first_timer_after(&self, watermark: i64) -> i64 {
        self.timers
            .iter()
            .flatten()
            .map(|grid| grid.first_after(watermark))
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Holds watermarks back between these timers, which must be all the event times at which
    /// operators downstream act on a watermark (`plan::timers::downstream_timers`).
    pub fn holding_back_between(mut self, timers: Vec<TimerGrid>) -> Self {
        self.timers = Some(timers);
        self.next_timer = self.first_timer_after(self.current);
        self
    }

    /// The watermark this operator has advanced to last.
    pub fn current(&self) -> i64 {
        self.current
    }

    /// Advances past a record's event time. Returns the watermarks to write before the record
    /// and after it.
    #[inline(always)]
    fn advance(&mut self, ts: i64) -> (Option<i64>, Option<i64>) {
        // A record at or just above a held watermark could be late for it, or touch a session
        // it closes: the watermark goes first, as if it had never been held.
        let mut before = self.held.filter(|&held| ts <= held.saturating_add(1));
        if before.is_some() {
            self.held = None;
        }
        let max_ts = self.max_ts.map_or(ts, |m| m.max(ts));
        self.max_ts = Some(max_ts);
        let watermark = max_ts.saturating_sub(self.delay_ms).saturating_sub(1);
        if watermark <= self.current {
            return (before, None);
        }
        self.current = watermark;
        let holds = self.timers.is_some() && watermark < self.next_timer;
        if !holds && self.timers.is_some() {
            self.next_timer = self.first_timer_after(watermark);
        }
        if holds {
            self.held = Some(watermark);
            return (before, None);
        }
        // It reaches a timer (or every watermark is written): the one before it goes before
        // the record, as with one watermark per record, and this one right after it.
        if let Some(held) = self.held.take() {
            before = Some(held);
        }
        (before, Some(watermark))
    }

    /// The final +∞ from upstream, which ends the input, replaces whatever is held.
    fn end_of_input(&mut self) -> Option<i64> {
        (self.current != i64::MAX).then(|| {
            self.held = None;
            self.current = i64::MAX;
            i64::MAX
        })
    }

    fn release_held(&mut self, out: &mut Outputs) {
        if let Some(watermark) = self.held.take() {
            out.watermark(watermark);
        }
    }
}

/// Where a batch's output differs from its input: before item `at` (or at the end), write a
/// watermark, or drop item `at` (an upstream watermark).
enum Edit {
    Write { at: usize, watermark: i64 },
    Drop { at: usize },
}

impl Edit {
    fn at(&self) -> usize {
        match self {
            Edit::Write { at, .. } | Edit::Drop { at } => *at,
        }
    }
}

/// Up to this many edits a batch is edited in place (each insert moves the rest of it); more
/// (every watermark written, behind session windows) are made in one pass.
const IN_PLACE_EDITS: usize = 8;

impl Operator for WatermarkOperator {
    fn on_item(&mut self, port: usize, item: Item, out: &mut Outputs) -> OpResult {
        self.on_batch(port, vec![item], out)
    }

    /// Decides where watermarks go by looking at the items in place, then edits the batch in
    /// place and passes it on whole.
    fn on_batch(&mut self, _port: usize, mut items: Vec<Item>, out: &mut Outputs) -> OpResult {
        let mut edits: Vec<Edit> = Vec::new();
        for (at, item) in items.iter().enumerate() {
            match item {
                Item::Watermark(w) => {
                    if *w == i64::MAX {
                        // The held watermark goes first, as it would have been written after
                        // its record; then +∞.
                        if let Some(watermark) = self.held.take() {
                            edits.push(Edit::Write { at, watermark });
                        }
                        if let Some(end) = self.end_of_input() {
                            edits.push(Edit::Write { at, watermark: end });
                        }
                    }
                    edits.push(Edit::Drop { at });
                }
                other => {
                    let Some(ts) = other.event_time() else {
                        continue;
                    };
                    let (before, after) = self.advance(ts);
                    if let Some(watermark) = before {
                        edits.push(Edit::Write { at, watermark });
                    }
                    if let Some(watermark) = after {
                        edits.push(Edit::Write {
                            at: at + 1,
                            watermark,
                        });
                    }
                }
            }
        }
        if edits.len() <= IN_PLACE_EDITS {
            // A few edits (a timer reached, a late record): made in place, last first so
            // earlier positions stay put; the batch then passes on whole.
            items.reserve(edits.len());
            for edit in edits.into_iter().rev() {
                match edit {
                    Edit::Write { at, watermark } => {
                        items.insert(at.min(items.len()), Item::Watermark(watermark))
                    }
                    Edit::Drop { at } => {
                        if at < items.len() {
                            items.remove(at);
                        }
                    }
                }
            }
        } else {
            // Many (every watermark written, behind session windows): one pass into a new batch.
            let mut rebuilt = Vec::with_capacity(items.len() + edits.len());
            let mut edits = edits.into_iter().peekable();
            for (at, item) in items.into_iter().enumerate() {
                let mut keep = true;
                while let Some(edit) = edits.next_if(|e| e.at() <= at) {
                    match edit {
                        Edit::Write { watermark, .. } => rebuilt.push(Item::Watermark(watermark)),
                        Edit::Drop { .. } => keep = false,
                    }
                }
                if keep {
                    rebuilt.push(item);
                }
            }
            rebuilt.extend(edits.filter_map(|e| match e {
                Edit::Write { watermark, .. } => Some(Item::Watermark(watermark)),
                Edit::Drop { .. } => None,
            }));
            items = rebuilt;
        }
        out.push_batch(0, items);
        self.release_held(out);
        Ok(())
    }

    /// Upstream watermarks are replaced by ours, except the final +∞ that ends the input
    /// (as Flink's `TimestampsAndWatermarksOperator` does).
    fn on_watermark(&mut self, watermark: i64, out: &mut Outputs) -> OpResult {
        if watermark == i64::MAX {
            self.release_held(out);
            if let Some(end) = self.end_of_input() {
                out.watermark(end);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::test_support::{rec, run};

    #[test]
    fn watermark_follows_the_max_event_time_minus_delay_minus_one() {
        let mut op = WatermarkOperator::new(200);
        let out = run(
            &mut op,
            vec![
                rec("a", 1000, 0.0),
                rec("a", 900, 0.0),
                rec("a", 1500, 0.0),
                Item::Watermark(7),
            ],
        );
        let marks: Vec<i64> = out.ports[0]
            .iter()
            .filter_map(|i| match i {
                Item::Watermark(w) => Some(*w),
                _ => None,
            })
            .collect();
        assert_eq!(marks, vec![799, 1299]);
        assert_eq!(
            out.ports[0].len(),
            5,
            "three records, two watermarks, upstream 7 ignored"
        );
    }

    /// Records with the watermark written before each (the largest so far), and the
    /// watermark that ends the output.
    fn records_after_watermarks(items: &[Item]) -> (Vec<(i64, f64, i64)>, i64) {
        let mut watermark = i64::MIN;
        let mut records = Vec::new();
        for item in items {
            match item {
                Item::Watermark(w) => watermark = watermark.max(*w),
                Item::Record(r) => records.push((r.ts, r.values[0], watermark)),
                _ => {}
            }
        }
        (records, watermark)
    }

    fn by_item(items: &[Item]) -> Vec<Item> {
        let mut op = WatermarkOperator::new(200);
        let mut out = Outputs::new(1);
        for item in items.iter().cloned() {
            match item {
                Item::Watermark(w) => op.on_watermark(w, &mut out).unwrap(),
                other => op.on_item(0, other, &mut out).unwrap(),
            }
        }
        out.settle();
        std::mem::take(&mut out.ports[0])
    }

    /// A disordered stream with late records, upstream watermarks and the final +∞.
    fn disordered() -> Vec<Item> {
        let stamps = [
            1000, 900, 1500, 1500, 1200, 2000, 5, 2600, 2601, 2300, 9000, 8800, 8799, 8798, 9500,
            12_000, 11_799, 11_800, 11_801, 11_798,
        ];
        let mut items: Vec<Item> = Vec::new();
        for (i, ts) in stamps.into_iter().enumerate() {
            items.push(rec("a", ts, i as f64));
            if i % 4 == 3 {
                items.push(Item::Watermark(ts + 10_000));
            }
        }
        items.push(Item::Watermark(i64::MAX));
        items.push(rec("a", 9500, 99.0));
        items
    }

    #[test]
    fn a_batch_holds_a_watermark_back_only_past_records_that_cannot_tell() {
        let items = disordered();
        let (expected, expected_end) = records_after_watermarks(&by_item(&items));
        for split in [1, 2, 3, 5, items.len()] {
            // No timer downstream: every watermark may be held back within a batch.
            let mut op = WatermarkOperator::new(200).holding_back_between(Vec::new());
            let mut out = Outputs::new(1);
            for (k, chunk) in items.chunks(split).enumerate() {
                op.on_batch(0, chunk.to_vec(), &mut out).unwrap();
                out.settle();
                // After each batch the watermark is where one item at a time leaves it.
                let fed = ((k + 1) * split).min(items.len());
                assert_eq!(
                    records_after_watermarks(&out.ports[0]).1,
                    records_after_watermarks(&by_item(&items[..fed])).1,
                    "batches of {split}"
                );
            }
            let (records, end) = records_after_watermarks(&out.ports[0]);
            assert_eq!(end, expected_end);
            assert_eq!(records.len(), expected.len());
            for (got, want) in records.iter().zip(&expected) {
                assert_eq!((got.0, got.1), (want.0, want.1), "same records, same order");
                assert!(got.2 <= want.2, "never ahead of one item at a time");
                if got.2 < want.2 {
                    assert!(got.0 > want.2 + 1, "held back only past ts > watermark + 1");
                }
            }
        }
        // An ordered batch carries one watermark, at its end.
        let ordered: Vec<Item> = (0..100).map(|i| rec("a", 1000 + i * 10, 0.0)).collect();
        let mut out = Outputs::new(1);
        WatermarkOperator::new(200)
            .holding_back_between(Vec::new())
            .on_batch(0, ordered, &mut out)
            .unwrap();
        out.settle();
        let marks: Vec<&Item> = out.ports[0]
            .iter()
            .filter(|i| matches!(i, Item::Watermark(_)))
            .collect();
        assert_eq!(marks, vec![&Item::Watermark(1000 + 990 - 201)]);
        assert_eq!(out.ports[0].len(), 101);
    }

    /// Feeds `items` through a watermark operator (delay `delay`, holding back between the
    /// timers of the first stage when `timers` is given) and a chain of operators, each taking
    /// the one before's results; in batches of `split` items (1: item by item, every watermark
    /// written). Returns every stage's non-watermark output on every port, or the first error.
    fn through_chain(
        items: &[Item],
        delay: i64,
        timers: Option<Vec<TimerGrid>>,
        mut stages: Vec<Box<dyn Operator>>,
        split: usize,
    ) -> Result<Vec<Vec<Vec<Item>>>, String> {
        let mut watermarks = WatermarkOperator::new(delay);
        if split > 1
            && let Some(timers) = timers
        {
            watermarks = watermarks.holding_back_between(timers);
        }
        let mut outs: Vec<Vec<Vec<Item>>> = stages.iter().map(|_| vec![vec![]; 2]).collect();
        for chunk in items.chunks(split) {
            let mut marked = Outputs::new(1);
            watermarks
                .on_batch(0, chunk.to_vec(), &mut marked)
                .map_err(|e| e.to_string())?;
            marked.settle();
            let mut input = std::mem::take(&mut marked.ports[0]);
            for (stage, out) in stages.iter_mut().zip(&mut outs) {
                let mut produced = Outputs::new(2);
                stage
                    .on_batch(0, input, &mut produced)
                    .map_err(|e| e.to_string())?;
                produced.settle();
                input = produced.ports[0].clone();
                for (port, items) in produced.ports.into_iter().enumerate() {
                    out[port].extend(
                        items
                            .into_iter()
                            .filter(|i| !matches!(i, Item::Watermark(_))),
                    );
                }
            }
        }
        Ok(outs)
    }

    fn spec() -> crate::stream::pane::PaneSpec {
        crate::stream::pane::PaneSpec {
            stats_fields: vec![0],
            ..Default::default()
        }
    }

    fn aligned(size: i64, slide: i64, lateness: i64) -> crate::stream::time_window::AlignedWindows {
        crate::stream::time_window::AlignedWindows {
            size_ms: size,
            slide_ms: slide,
            offset_ms: 0,
            allowed_lateness_ms: lateness,
        }
    }

    /// Windows, late records, re-firings and whatever a second window stage makes of their
    /// results are the same, in the same order, whether the watermark operator gets the stream
    /// item by item or in batches of any size and holds watermarks back between the first
    /// stage's timers.
    #[test]
    fn windows_and_the_stages_after_them_do_not_see_the_held_watermarks() {
        use crate::stream::aggregate::AggregateFn;
        use crate::stream::session_window::SessionWindowOperator;
        use crate::stream::time_window::TimeWindowOperator;
        let mut items: Vec<Item> = Vec::new();
        let mut state = 12_345u64;
        for i in 0..3000i64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let jitter = (state >> 33) as i64 % 700 - 450;
            let key = format!("k{}", (state >> 20) % 97);
            items.push(rec(&key, i * 3 + jitter, (i % 10) as f64));
        }
        items.push(Item::Watermark(i64::MAX));
        let fused = || crate::stream::pane::PaneSpec {
            fused_aggregate: Some(vec![AggregateFn::Count, AggregateFn::Sum]),
            ..spec()
        };
        type Stages = Box<dyn Fn() -> Vec<Box<dyn Operator>>>;
        let cases: Vec<(&str, Vec<TimerGrid>, Stages)> = vec![
            (
                "tumbling 100, lateness 50",
                vec![TimerGrid::new(100, 99), TimerGrid::new(100, 149)],
                Box::new(move || {
                    vec![Box::new(TimeWindowOperator::new(
                        aligned(100, 100, 50),
                        spec(),
                    ))]
                }),
            ),
            (
                "sliding 300 / 100",
                vec![TimerGrid::new(100, 299)],
                Box::new(move || {
                    vec![Box::new(TimeWindowOperator::new(
                        aligned(300, 100, 0),
                        spec(),
                    ))]
                }),
            ),
            (
                "tumbling 10, then sessions of gap 10 on its results",
                vec![TimerGrid::new(10, 9)],
                Box::new(move || {
                    vec![
                        Box::new(TimeWindowOperator::new(aligned(10, 10, 0), fused())),
                        Box::new(SessionWindowOperator::new(10, 0, spec())),
                    ]
                }),
            ),
            (
                "tumbling 40 with lateness 20, then tumbling 100 on its results",
                vec![TimerGrid::new(40, 39), TimerGrid::new(40, 59)],
                Box::new(move || {
                    vec![
                        Box::new(TimeWindowOperator::new(aligned(40, 40, 20), fused())),
                        Box::new(TimeWindowOperator::new(aligned(100, 100, 0), spec())),
                    ]
                }),
            ),
        ];
        for (name, timers, stages) in &cases {
            for delay in [0, 150] {
                let expected = through_chain(&items, delay, None, stages(), 1).unwrap();
                let fired: usize = expected.iter().map(|o| o[0].len()).sum();
                assert!(fired > 100, "{name}: fired {fired}");
                for split in [2, 7, 64, 1024, items.len()] {
                    let got = through_chain(&items, delay, Some(timers.clone()), stages(), split);
                    assert!(
                        got.as_ref() == Ok(&expected),
                        "{name}, delay {delay}, batches of {split}"
                    );
                }
            }
        }
        // The reviewer's case: records at -5, 9 and 14 of one key, watermarks without delay.
        let three = vec![rec("a", -5, 1.0), rec("a", 9, 1.0), rec("a", 14, 1.0)];
        let (_, timers, stages) = &cases[2];
        let expected = through_chain(&three, 0, None, stages(), 1).unwrap();
        assert_eq!(
            expected[1][0].len(),
            1,
            "the first session closed before the second"
        );
        assert_eq!(
            through_chain(&three, 0, Some(timers.clone()), stages(), 3).unwrap(),
            expected
        );
        // The second review's case: +∞ in the same batch as the record whose watermark is held.
        let ended = vec![
            rec("a", 5, 1.0),
            rec("a", 12, 1.0),
            rec("a", 19, 1.0),
            Item::Watermark(i64::MAX),
        ];
        let expected = through_chain(&ended, 0, None, stages(), 1).unwrap();
        assert_eq!(expected[1][0].len(), 2, "two sessions");
        let held = through_chain(&ended, 0, Some(timers.clone()), stages(), 4).unwrap();
        assert_eq!(held, expected);
    }

    /// A window that drops its state at a watermark drops it at the same record when the
    /// watermark operator holds watermarks back, so a state limit is reached (or not) the same.
    #[test]
    fn a_state_limit_is_reached_at_the_same_record_in_batches() {
        use crate::stream::state_budget::StateBudget;
        use crate::stream::time_window::TimeWindowOperator;
        let items: Vec<Item> = (0..50).map(|i| rec("a", i * 10, 1.0)).collect();
        let limited = || -> Vec<Box<dyn Operator>> {
            vec![Box::new(
                TimeWindowOperator::new(aligned(10, 10, 0), spec())
                    .with_state_budget(StateBudget::new(2, 1)),
            )]
        };
        let timers = vec![TimerGrid::new(10, 9)];
        let expected = through_chain(&items, 0, None, limited(), 1);
        assert!(expected.is_ok(), "{expected:?}");
        for split in [2, 3, 50] {
            assert_eq!(
                through_chain(&items, 0, Some(timers.clone()), limited(), split),
                expected
            );
        }
        // With one more window open at a time than the limit allows, both fail.
        let wide = || -> Vec<Box<dyn Operator>> {
            vec![Box::new(
                TimeWindowOperator::new(aligned(30, 10, 0), spec())
                    .with_state_budget(StateBudget::new(2, 1)),
            )]
        };
        assert!(through_chain(&items, 0, None, wide(), 1).is_err());
        assert!(through_chain(&items, 0, Some(vec![TimerGrid::new(10, 29)]), wide(), 50).is_err());
    }

    /// Without known timers every watermark is written right after its record, in a batch of
    /// any size exactly as item by item (a batch with many edits is rebuilt in one pass).
    #[test]
    fn without_timers_every_watermark_is_written_after_its_record() {
        let items = disordered();
        let expected = by_item(&items);
        for split in [1, 3, 9, items.len()] {
            let mut op = WatermarkOperator::new(200);
            let mut out = Outputs::new(1);
            for chunk in items.chunks(split) {
                op.on_batch(0, chunk.to_vec(), &mut out).unwrap();
            }
            out.settle();
            // Consecutive watermarks may stay apart in a batch; one item at a time collapses them.
            let mut got: Vec<Item> = Vec::new();
            for item in out.ports[0].drain(..) {
                match (got.last_mut(), &item) {
                    (Some(Item::Watermark(last)), Item::Watermark(w)) => *last = (*last).max(*w),
                    _ => got.push(item),
                }
            }
            assert_eq!(got, expected, "batches of {split}");
        }
    }

    #[test]
    fn a_timer_is_crossed_when_the_watermark_reaches_it() {
        let grid = TimerGrid::new(1000, 999);
        assert!(grid.crossed(998, 999));
        assert!(!grid.crossed(999, 1998));
        assert!(grid.crossed(1998, 1999));
        assert!(grid.crossed(i64::MIN, -1));
        assert!(!grid.crossed(-1000, -2));
        assert_eq!(TimerGrid::new(100, -1), TimerGrid::new(100, 99));
    }

    #[test]
    fn end_of_input_passes_through() {
        let mut op = WatermarkOperator::new(200);
        let out = run(&mut op, vec![rec("a", 10, 0.0), Item::Watermark(i64::MAX)]);
        assert_eq!(out.ports[0].last(), Some(&Item::Watermark(i64::MAX)));
    }
}
