//! Bounded out-of-orderness watermarks, advanced after every record (Flink's
//! `forBoundedOutOfOrderness` with punctuated emission, so results never depend on timing).
//!
//! Within a batch a watermark is held back while the records after it lie more than one
//! millisecond above it, and is written before the first record that does not (or at the
//! batch's end). No operator can tell the difference: such a record is not late for the
//! watermark and cannot land in a window (or touch a session) that the watermark closes, so
//! every window, late record and firing is the same — but an ordered stream carries one
//! watermark per batch instead of one per record, half the items to move between threads.

use super::operator::push_watermark;
use super::{Item, OpResult, Operator, Outputs};

/// watermark = max event time seen − delay − 1, advanced after every record.
pub struct WatermarkOperator {
    delay_ms: i64,
    max_ts: Option<i64>,
    current: i64,
    /// A watermark advanced to but not written yet (only inside `on_batch`).
    held: Option<i64>,
}

impl WatermarkOperator {
    pub fn new(delay_ms: i64) -> Self {
        Self {
            delay_ms,
            max_ts: None,
            current: i64::MIN,
            held: None,
        }
    }

    /// The watermark this operator has advanced to last.
    pub fn current(&self) -> i64 {
        self.current
    }

    /// Advances the watermark past an event time. Returns the held watermark that must be
    /// written before this record: a record at or just above it could be late for it, or touch
    /// a session it closes, so it goes first, as if it had never been held.
    #[inline(always)]
    fn advance(&mut self, ts: i64) -> Option<i64> {
        let release = self.held.filter(|&held| ts <= held.saturating_add(1));
        if release.is_some() {
            self.held = None;
        }
        let max_ts = self.max_ts.map_or(ts, |m| m.max(ts));
        self.max_ts = Some(max_ts);
        let watermark = max_ts.saturating_sub(self.delay_ms).saturating_sub(1);
        if watermark > self.current {
            self.current = watermark;
            self.held = Some(watermark);
        }
        release
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

/// Where a batch's output differs from its input: before item `at`, write `watermark` (if
/// any), and keep the item or drop it (an upstream watermark).
struct Edit {
    at: usize,
    watermark: Option<i64>,
    keep: bool,
}

impl Operator for WatermarkOperator {
    fn on_item(&mut self, port: usize, item: Item, out: &mut Outputs) -> OpResult {
        self.on_batch(port, vec![item], out)
    }

    /// Decides where watermarks go by looking at the items in place, then moves them on in
    /// runs. An ordered stream needs no edit: the batch passes on whole (no item is moved)
    /// with one watermark after it.
    fn on_batch(&mut self, _port: usize, mut items: Vec<Item>, out: &mut Outputs) -> OpResult {
        let mut edits: Vec<Edit> = Vec::new();
        for (at, item) in items.iter().enumerate() {
            let watermark = match item {
                Item::Watermark(i64::MAX) => self.end_of_input(),
                Item::Watermark(_) => None,
                other => match other.event_time() {
                    Some(ts) => self.advance(ts),
                    None => continue,
                },
            };
            let keep = !matches!(item, Item::Watermark(_));
            if watermark.is_some() || !keep {
                edits.push(Edit {
                    at,
                    watermark,
                    keep,
                });
            }
        }
        if let Some(buffer) = out.port(0) {
            if edits.is_empty() {
                if buffer.is_empty() {
                    std::mem::swap(buffer, &mut items);
                } else {
                    buffer.append(&mut items);
                }
            } else {
                let mut rest = items.into_iter();
                let mut next = 0;
                for edit in edits {
                    buffer.extend(rest.by_ref().take(edit.at - next));
                    if let Some(watermark) = edit.watermark {
                        push_watermark(buffer, watermark);
                    }
                    if let Some(item) = rest.next().filter(|_| edit.keep) {
                        buffer.push(item);
                    }
                    next = edit.at + 1;
                }
                buffer.extend(rest);
            }
        }
        self.release_held(out);
        Ok(())
    }

    /// Upstream watermarks are replaced by ours, except the final +∞ that ends the input
    /// (as Flink's `TimestampsAndWatermarksOperator` does).
    fn on_watermark(&mut self, watermark: i64, out: &mut Outputs) -> OpResult {
        if watermark == i64::MAX
            && let Some(end) = self.end_of_input()
        {
            out.watermark(end);
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
            let mut op = WatermarkOperator::new(200);
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

    /// Windows, late records and sessions behind the watermark operator are the same, in the
    /// same order, whether it gets the stream item by item or in batches of any size.
    #[test]
    fn windows_and_sessions_downstream_do_not_see_the_held_watermarks() {
        use crate::stream::pane::PaneSpec;
        use crate::stream::session_window::SessionWindowOperator;
        use crate::stream::time_window::{AlignedWindows, TimeWindowOperator};
        // A session of 2 ms closed by a watermark, touched by the record right after it.
        let mut items: Vec<Item> = vec![
            rec("touch", -10_000, 1.0),
            rec("other", -9_848, 1.0),
            rec("touch", -9_998, 1.0),
        ];
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
        let spec = PaneSpec {
            stats_fields: vec![0],
            ..Default::default()
        };
        let downstream = || -> Vec<Box<dyn Operator>> {
            vec![
                Box::new(TimeWindowOperator::new(
                    AlignedWindows {
                        size_ms: 100,
                        slide_ms: 100,
                        offset_ms: 0,
                        allowed_lateness_ms: 50,
                    },
                    spec.clone(),
                )),
                Box::new(TimeWindowOperator::new(
                    AlignedWindows {
                        size_ms: 300,
                        slide_ms: 100,
                        offset_ms: 0,
                        allowed_lateness_ms: 0,
                    },
                    spec.clone(),
                )),
                Box::new(SessionWindowOperator::new(2, 0, spec.clone())),
                Box::new(SessionWindowOperator::new(40, 30, spec.clone())),
            ]
        };
        let through = |split: usize| -> Vec<Vec<Vec<Item>>> {
            let mut watermarks = WatermarkOperator::new(150);
            let mut ops = downstream();
            let mut outs: Vec<Outputs> = ops.iter().map(|_| Outputs::new(2)).collect();
            for chunk in items.chunks(split) {
                let mut marked = Outputs::new(1);
                if split == 1 {
                    match &chunk[0] {
                        Item::Watermark(w) => watermarks.on_watermark(*w, &mut marked),
                        other => watermarks.on_item(0, other.clone(), &mut marked),
                    }
                    .unwrap();
                } else {
                    watermarks.on_batch(0, chunk.to_vec(), &mut marked).unwrap();
                }
                marked.settle();
                for (op, out) in ops.iter_mut().zip(&mut outs) {
                    op.on_batch(0, marked.ports[0].clone(), out).unwrap();
                }
            }
            outs.into_iter()
                .map(|mut out| {
                    out.settle();
                    out.ports
                        .into_iter()
                        .map(|port| {
                            port.into_iter()
                                .filter(|i| !matches!(i, Item::Watermark(_)))
                                .collect()
                        })
                        .collect()
                })
                .collect()
        };
        let expected = through(1);
        let fired: usize = expected.iter().map(|o| o[0].len()).sum();
        let late: usize = expected.iter().map(|o| o[1].len()).sum();
        assert!(fired > 1000 && late > 50, "fired {fired}, late {late}");
        for split in [2, 7, 64, 1024, items.len()] {
            assert!(through(split) == expected, "batches of {split}");
        }
    }

    #[test]
    fn end_of_input_passes_through() {
        let mut op = WatermarkOperator::new(200);
        let out = run(&mut op, vec![rec("a", 10, 0.0), Item::Watermark(i64::MAX)]);
        assert_eq!(out.ports[0].last(), Some(&Item::Watermark(i64::MAX)));
    }
}
