//! A CSV source split over parallel instances, read back in block order (as exec's ordered
//! exchange does), is exactly the one-instance source: the same records in the same order,
//! the same row numbers in errors, the same skipped counts.

use super::csv_file::{CsvOptions, CsvSource, NonFinitePolicy};
use super::split::Split;
use crate::stream::{Key, OpError, Record, Source};
use std::path::Path;

use crate::stream::test_support::{csv_options as options, fill_blocks, temp_file as file};

/// One instance's output: its blocks of records, then how it ended.
struct Instance {
    blocks: Vec<Vec<Record>>,
    end: Result<(), OpError>,
    skipped: u64,
    progress: Option<f64>,
}

/// Fills a source like exec does (batches of `max`, a block end after a batch), to the end or
/// the first error.
fn run(mut source: CsvSource, max: usize) -> Instance {
    let (blocks, end) = fill_blocks(&mut source, max);
    Instance {
        blocks,
        end,
        skipped: source.skipped_records(),
        progress: source.progress(),
    }
}

/// `of` instances of the source, in blocks of `block_bytes`.
fn split_run(o: &CsvOptions, of: usize, block_bytes: usize, max: usize) -> Vec<Instance> {
    (0..of)
        .map(|k| {
            let mut source = CsvSource::open(o).unwrap();
            assert!(source.split_in_blocks_of(Split::new(k, of), block_bytes));
            run(source, max)
        })
        .collect()
}

/// The instances' blocks in block order: block b is instance b mod n's (b / n)-th.
fn merged(instances: &[Instance]) -> Vec<Record> {
    let mut queues: Vec<std::collections::VecDeque<&Vec<Record>>> = instances
        .iter()
        .map(|i| i.blocks.iter().collect())
        .collect();
    let mut out = Vec::new();
    let mut lane = 0;
    while queues.iter().any(|q| !q.is_empty()) {
        if let Some(block) = queues[lane].pop_front() {
            out.extend(block.iter().cloned());
        }
        lane = (lane + 1) % queues.len();
    }
    out
}

fn whole(o: &CsvOptions) -> Instance {
    run(CsvSource::open(o).unwrap(), 5)
}

/// A file with what can go wrong at a block boundary: quoted line ends, escaped quotes and
/// delimiters in keys, empty lines, `\r\n` line ends, rows of different lengths.
fn tricky_text(rows: usize) -> String {
    let mut text = String::from("key,ts_ms,value\n");
    for i in 0..rows {
        let row = match i % 9 {
            0 => format!("\"k\n{i}\",{i},{}.5\n", i % 13),
            1 => format!("\"k\"\"{}\",{i},{}\r\n", i % 4, i % 7),
            2 => format!("\n\nk{},{i},{}\n", i % 5, i % 3),
            3 => format!("\"k,{}\",{i},1e{}\n", i % 3, i % 4),
            4 => format!("k{},{i},{},extra\n", i % 6, i % 11),
            5 => format!("\"multi\nline\nkey {}\",{i},{i}\r\n", i % 2),
            _ => format!("k{},{i},{}\n", i % 7, i % 17),
        };
        text.push_str(&row);
    }
    text
}

#[test]
fn split_over_two_and_three_instances_reads_back_as_one_instance() {
    let f = file(&tricky_text(400));
    let o = options(f.path());
    let expected = whole(&o);
    assert!(expected.end.is_ok());
    let expected: Vec<Record> = expected.blocks.concat();
    assert_eq!(expected.len(), 400);
    assert_eq!(expected[0].key, Key::text("k\n0"));
    assert_eq!(expected[1].key, Key::text("k\"1"));
    assert_eq!(expected[3].key, Key::text("k,0"));
    assert_eq!(expected[5].key, Key::text("multi\nline\nkey 1"));
    for of in [2, 3] {
        for block_bytes in [1, 37, 200, 4096] {
            let instances = split_run(&o, of, block_bytes, 7);
            for (k, i) in instances.iter().enumerate() {
                assert!(i.end.is_ok(), "p={of} instance {k}: {:?}", i.end);
                assert_eq!(i.progress, Some(1.0));
            }
            if block_bytes < 4096 {
                assert!(
                    instances.iter().all(|i| i.blocks.len() > 2),
                    "p={of} block {block_bytes}: every instance has blocks of its own"
                );
            }
            assert!(
                merged(&instances) == expected,
                "p={of}, blocks of {block_bytes} bytes: the same records in the same order"
            );
        }
    }
}

#[test]
fn rows_numbered_without_a_time_column_or_header_are_the_same_split() {
    let text = tricky_text(120).replacen("key,ts_ms,value\n", "", 1);
    let f = file(&text);
    let o = CsvOptions {
        key_column: Some("c0".into()),
        time_column: None,
        value_columns: vec!["c2".into()],
        has_header: false,
        ..options(f.path())
    };
    let expected = whole(&o).blocks.concat();
    assert_eq!(
        expected.iter().map(|r| r.ts).collect::<Vec<_>>(),
        (0..120).collect::<Vec<_>>()
    );
    for of in [2, 3] {
        assert!(merged(&split_run(&o, of, 50, 4)) == expected, "p={of}");
    }
}

#[test]
fn a_bad_row_fails_on_the_instance_that_reads_it_with_the_files_line_number() {
    let mut text = tricky_text(60);
    // Line numbers: a quoted key over three lines, then `\r\n` rows and an empty line.
    text.push_str("\"a\nb\nc\",1,2\r\nk,2,3\r\n\r\nk,3,oops\nk,4,5\n");
    let bad_line = text.matches('\n').count() - 1;
    let f = file(&text);
    let o = options(f.path());
    let one = whole(&o);
    let message = one.end.unwrap_err().0;
    assert!(
        message.ends_with(&format!(
            "row {bad_line}: column 'value': 'oops' is not a number"
        )),
        "{message}"
    );
    for of in [2, 3] {
        let instances = split_run(&o, of, 64, 3);
        let failed: Vec<&String> = instances
            .iter()
            .filter_map(|i| i.end.as_ref().err().map(|e| &e.0))
            .collect();
        assert_eq!(
            failed,
            vec![&message],
            "p={of}: one instance, the same message"
        );
    }
}

#[test]
fn skipped_rows_summed_over_instances_are_the_one_instance_count() {
    let mut text = String::from("key,ts_ms,value\n");
    for i in 0..300 {
        match i % 10 {
            3 => text.push_str(&format!("k,{i},not a number\n")),
            7 => text.push_str(&format!("k,{i}\n")),
            8 => text.push_str(&format!("k,{i},NaN\n")),
            _ => text.push_str(&format!("k{},{i},{i}\n", i % 4)),
        }
    }
    let f = file(&text);
    let o = CsvOptions {
        skip_bad_rows: true,
        non_finite: NonFinitePolicy::Skip,
        ..options(f.path())
    };
    let one = whole(&o);
    assert_eq!(one.skipped, 90);
    let expected = one.blocks.concat();
    assert_eq!(expected.len(), 210);
    for of in [2, 3] {
        let instances = split_run(&o, of, 100, 6);
        assert_eq!(
            instances.iter().map(|i| i.skipped).sum::<u64>(),
            90,
            "p={of}"
        );
        assert!(merged(&instances) == expected, "p={of}");
    }
}

#[test]
fn a_file_smaller_than_a_block_leaves_the_other_instances_idle() {
    let f = file("key,ts_ms,value\nk,1,2\nk,2,3\n");
    let o = options(f.path());
    let instances = split_run(&o, 3, 1 << 16, 10);
    assert_eq!(instances[0].blocks.concat().len(), 2);
    for i in &instances[1..] {
        assert!(i.end.is_ok() && i.blocks.concat().is_empty());
        assert_eq!(i.progress, Some(1.0));
    }
    assert!(merged(&instances) == whole(&o).blocks.concat());
}

#[test]
fn standard_input_and_a_started_source_do_not_split() {
    let f = file("key,ts_ms,value\nk,1,2\n");
    let mut started = CsvSource::open(&options(f.path())).unwrap();
    started.fill(1, &mut Vec::new()).unwrap();
    assert!(!started.split(Split::new(1, 2)));
    let fifo = tempfile::tempdir().unwrap();
    let pipe = fifo.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success());
    assert!(!super::csv_file::splits(&options(&pipe)));
    assert!(!super::csv_file::splits(&options(Path::new(
        crate::paths::STDIN
    ))));
    assert!(super::csv_file::splits(&options(f.path())));
}

/// Instances open the file one after another; rows appended in between must not make them
/// cut different blocks or read past the length the run measured. A row being written when
/// the length was taken (cut by it) is not read as a short row.
#[test]
fn a_file_growing_while_instances_open_is_read_as_it_was_at_the_start() {
    use std::io::Write;
    for torn in ["", "torn,12", "\"quoted\nkey\",1"] {
        let text = tricky_text(400);
        let f = file(&text);
        let whole_rows = whole(&options(f.path())).blocks.concat();
        let mut grow = std::fs::OpenOptions::new()
            .append(true)
            .open(f.path())
            .unwrap();
        grow.write_all(torn.as_bytes()).unwrap();
        grow.flush().unwrap();
        let o = options(f.path());
        let length = std::fs::metadata(f.path()).unwrap().len();
        let open = |k: usize| {
            let mut source = CsvSource::open(&o).unwrap().with_file_bytes(Some(length));
            assert!(source.split(Split::new(k, 2)));
            source
        };
        let first = open(0);
        grow.write_all(b"345,6\n").unwrap();
        grow.write_all(tricky_text(300).as_bytes()).unwrap();
        grow.flush().unwrap();
        let second = open(1);
        let instances = [run(first, 7), run(second, 7)];
        for i in &instances {
            assert!(i.end.is_ok(), "{torn:?}: {:?}", i.end);
            assert!(!i.blocks.is_empty(), "both instances have blocks");
        }
        assert!(
            merged(&instances) == whole_rows,
            "{torn:?}: exactly the whole rows at the start"
        );
    }
}

/// A file that ends without a line end (and does not grow) keeps its last row when split.
#[test]
fn a_last_row_without_a_line_end_is_read_when_split() {
    let text = format!("{}k9,99999,1.5", tricky_text(200));
    let f = file(&text);
    let o = options(f.path());
    let length = std::fs::metadata(f.path()).unwrap().len();
    let instances: Vec<Instance> = (0..2)
        .map(|k| {
            let mut source = CsvSource::open(&o).unwrap().with_file_bytes(Some(length));
            assert!(source.split(Split::new(k, 2)));
            run(source, 7)
        })
        .collect();
    let rows = merged(&instances);
    assert!(rows == whole(&o).blocks.concat());
    assert_eq!(rows.last().map(|r| r.ts), Some(99_999));
}
