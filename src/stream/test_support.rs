//! Helpers for operator unit tests: build records, feed items, read what fired.

use super::{Item, Key, Operator, Outputs, Record};

pub fn rec(key: &str, ts: i64, value: f64) -> Item {
    Item::Record(Record {
        key: Key::text(key),
        ts,
        values: smallvec::smallvec![value],
    })
}

/// Feeds items to an operator as `exec` would (watermarks through `on_watermark`).
pub fn run(op: &mut dyn Operator, items: Vec<Item>) -> Outputs {
    let mut out = Outputs::new(2);
    for item in items {
        match item {
            Item::Watermark(w) => op.on_watermark(w, &mut out).unwrap(),
            other => op.on_item(0, other, &mut out).unwrap(),
        }
    }
    out.settle();
    out
}

/// Window results as (key, start, end, count, sum of field 0), sorted.
pub fn fired(out: &Outputs) -> Vec<(String, i64, i64, u64, f64)> {
    let mut rows: Vec<_> = out.ports[0]
        .iter()
        .filter_map(|item| match item {
            Item::Window(w) => Some((
                w.key.to_string(),
                w.start,
                w.end,
                w.first_stats.count,
                w.first_stats.sum,
            )),
            _ => None,
        })
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    rows
}

/// Event times of records sent to the late port, in order.
pub fn late_ts(out: &Outputs) -> Vec<i64> {
    out.ports[1]
        .iter()
        .filter_map(|item| match item {
            Item::Record(r) => Some(r.ts),
            _ => None,
        })
        .collect()
}
