//! Single-thread cost of the window hot path (ignored; run with
//! `cargo test --release --test stream_bench -- --ignored --nocapture`).

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flowbook::stream::aggregate::{AggregateFn, AggregateOperator};
use flowbook::stream::pane::PaneSpec;
use flowbook::stream::sinks::NullSink;
use flowbook::stream::time_window::{AlignedWindows, TimeWindowOperator};
use flowbook::stream::watermark::WatermarkOperator;
use flowbook::stream::{Item, Key, Operator, Outputs, Record, Values};
use std::time::Instant;

fn feed(op: &mut dyn Operator, items: Vec<Item>, out: &mut Outputs) {
    for item in items {
        match item {
            Item::Watermark(w) => op.on_watermark(w, out).unwrap(),
            other => op.on_item(0, other, out).unwrap(),
        }
    }
}

#[test]
#[ignore]
fn window_hot_path_ns_per_record() {
    let n = 5_000_000u64;
    let mut wm = WatermarkOperator::new(200);
    let mut window = TimeWindowOperator::new(
        AlignedWindows {
            size_ms: 1000,
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
    let fns = vec![
        AggregateFn::Count,
        AggregateFn::Sum,
        AggregateFn::Min,
        AggregateFn::Max,
        AggregateFn::Mean,
    ];
    let mut agg = AggregateOperator::new(fns, vec![0]);
    let mut sink = NullSink::default();
    let (mut t_src, mut t_wm, mut t_win, mut t_agg) = (0.0, 0.0, 0.0, 0.0);
    let batch = 1024u64;
    let mut i = 0u64;
    while i < n {
        let t0 = Instant::now();
        let items: Vec<Item> = (i..i + batch)
            .map(|j| {
                let mut values = Values::new();
                values.push((j % 97) as f64);
                Item::Record(Record {
                    key: Key::Int((j % 1000) as i64),
                    ts: 1_700_000_000_000 + j as i64,
                    values,
                })
            })
            .collect();
        let t1 = Instant::now();
        let mut o1 = Outputs::new(1);
        feed(&mut wm, items, &mut o1);
        let t2 = Instant::now();
        let mut o2 = Outputs::new(2);
        feed(&mut window, std::mem::take(&mut o1.ports[0]), &mut o2);
        let t3 = Instant::now();
        let mut o3 = Outputs::new(1);
        feed(&mut agg, std::mem::take(&mut o2.ports[0]), &mut o3);
        feed(
            &mut sink,
            std::mem::take(&mut o3.ports[0]),
            &mut Outputs::new(0),
        );
        let t4 = Instant::now();
        t_src += (t1 - t0).as_secs_f64();
        t_wm += (t2 - t1).as_secs_f64();
        t_win += (t3 - t2).as_secs_f64();
        t_agg += (t4 - t3).as_secs_f64();
        i += batch;
    }
    let ns = |t: f64| t * 1e9 / n as f64;
    eprintln!(
        "ns/record: make {:.1}  watermark {:.1}  window {:.1}  aggregate+sink {:.1}  total {:.1}",
        ns(t_src),
        ns(t_wm),
        ns(t_win),
        ns(t_agg),
        ns(t_src + t_wm + t_win + t_agg)
    );
}

// #[global_allocator]
// static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
