//! Bounded out-of-orderness watermarks, emitted after every record (Flink's
//! `forBoundedOutOfOrderness` with punctuated emission, so results never depend on timing).

use super::{Item, OpResult, Operator, Outputs};

/// watermark = max event time seen − delay − 1, advanced after every record.
pub struct WatermarkOperator {
    delay_ms: i64,
    max_ts: Option<i64>,
    current: i64,
}

impl WatermarkOperator {
    pub fn new(delay_ms: i64) -> Self {
        Self {
            delay_ms,
            max_ts: None,
            current: i64::MIN,
        }
    }

    /// The watermark this operator has emitted last.
    pub fn current(&self) -> i64 {
        self.current
    }
}

impl Operator for WatermarkOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        let Some(ts) = item.event_time() else {
            out.push(0, item);
            return Ok(());
        };
        out.push(0, item);
        let max_ts = self.max_ts.map_or(ts, |m| m.max(ts));
        self.max_ts = Some(max_ts);
        let watermark = max_ts.saturating_sub(self.delay_ms).saturating_sub(1);
        if watermark > self.current {
            self.current = watermark;
            out.watermark(watermark);
        }
        Ok(())
    }

    /// Upstream watermarks are replaced by ours, except the final +∞ that ends the input
    /// (as Flink's `TimestampsAndWatermarksOperator` does).
    fn on_watermark(&mut self, watermark: i64, out: &mut Outputs) -> OpResult {
        if watermark == i64::MAX && self.current != i64::MAX {
            self.current = i64::MAX;
            out.watermark(i64::MAX);
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

    #[test]
    fn a_batch_gives_exactly_what_item_by_item_gives() {
        let stamps = [1000, 900, 1500, 1500, 1200, 2000, 5, 2600, 2601, 2300, 9000];
        let mut items: Vec<Item> = Vec::new();
        for (i, ts) in stamps.into_iter().enumerate() {
            items.push(rec("a", ts, i as f64));
            if i % 4 == 3 {
                items.push(Item::Watermark(ts + 10_000));
            }
        }
        items.push(Item::Watermark(i64::MAX));
        items.push(rec("a", 9500, 0.0));
        for split in [1, 2, 3, 5, items.len()] {
            let mut by_item = WatermarkOperator::new(200);
            let mut expected = Outputs::new(1);
            for item in items.clone() {
                match item {
                    Item::Watermark(w) => by_item.on_watermark(w, &mut expected).unwrap(),
                    other => by_item.on_item(0, other, &mut expected).unwrap(),
                }
            }
            expected.settle();
            let mut batched = WatermarkOperator::new(200);
            let mut out = Outputs::new(1);
            for chunk in items.chunks(split) {
                batched.on_batch(0, chunk.to_vec(), &mut out).unwrap();
            }
            out.settle();
            assert_eq!(out.ports[0], expected.ports[0], "batches of {split}");
        }
    }

    #[test]
    fn end_of_input_passes_through() {
        let mut op = WatermarkOperator::new(200);
        let out = run(&mut op, vec![rec("a", 10, 0.0), Item::Watermark(i64::MAX)]);
        assert_eq!(out.ports[0].last(), Some(&Item::Watermark(i64::MAX)));
    }
}
