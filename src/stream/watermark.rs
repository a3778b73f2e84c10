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

    /// As the default, but with room for a watermark after every record made once (growing
    /// the buffer midway copied half a batch) and no call through the trait per item.
    fn on_batch(&mut self, port: usize, items: Vec<Item>, out: &mut Outputs) -> OpResult {
        if let Some(buffer) = out.ports.first_mut()
            && buffer.is_empty()
            && buffer.capacity() < 2 * items.len()
        {
            *buffer = Vec::with_capacity(2 * items.len());
        }
        for item in items {
            match item {
                Item::Watermark(w) => self.on_watermark(w, out)?,
                other => self.on_item(port, other, out)?,
            }
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
    fn end_of_input_passes_through() {
        let mut op = WatermarkOperator::new(200);
        let out = run(&mut op, vec![rec("a", 10, 0.0), Item::Watermark(i64::MAX)]);
        assert_eq!(out.ports[0].last(), Some(&Item::Watermark(i64::MAX)));
    }
}
