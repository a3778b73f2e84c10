//! Helpers for operator unit tests: build records, feed items, read what fired.

use super::{Item, Key, OpError, Operator, Outputs, Record, Source, SourceStatus};

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

/// Fills a source like exec does (batches of at most `max`, a new block after a batch that
/// ended one) to its end or its first error: the records of each block, and how it ended.
pub fn fill_blocks(source: &mut dyn Source, max: usize) -> (Vec<Vec<Record>>, Result<(), OpError>) {
    let mut blocks = vec![Vec::new()];
    let end = loop {
        let mut out = Vec::new();
        let status = match source.fill(max, &mut out) {
            Ok(status) => status,
            Err(e) => break Err(e),
        };
        if let Some(block) = blocks.last_mut() {
            block.extend(out.into_iter().filter_map(|i| match i {
                Item::Record(r) => Some(r),
                _ => None,
            }));
        }
        if source.block_ended() {
            blocks.push(Vec::new());
        }
        if status == SourceStatus::Exhausted {
            break Ok(());
        }
    };
    (blocks, end)
}

/// A temporary file holding `text`.
pub fn temp_file(text: &str) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().expect("a temporary file");
    f.write_all(text.as_bytes()).expect("written");
    f
}

/// CSV options for a file with a header, a `key` and a `ts_ms` column.
pub fn csv_options(path: &std::path::Path) -> super::sources::CsvOptions {
    super::sources::CsvOptions {
        path: path.to_owned(),
        key_column: Some("key".into()),
        time_column: Some("ts_ms".into()),
        value_columns: vec![],
        has_header: true,
        delimiter: b',',
        skip_bad_rows: false,
        non_finite: super::sources::NonFinitePolicy::Keep,
    }
}
