//! Any bytes as a CSV input: reading must never panic; errors name their row.
#![no_main]

use flowbook::stream::sources::{CsvOptions, CsvSource, NonFinitePolicy};
use flowbook::stream::{Source, SourceStatus};
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(body).is_err() {
        return;
    }
    let options = CsvOptions {
        path: file.path().to_owned(),
        key_column: Some("c0".into()),
        time_column: if flags & 1 == 0 { Some("c1".into()) } else { None },
        value_columns: vec![],
        has_header: false,
        delimiter: if flags & 2 == 0 { b',' } else { b';' },
        skip_bad_rows: flags & 4 != 0,
        non_finite: match flags >> 3 & 3 {
            0 => NonFinitePolicy::Keep,
            1 => NonFinitePolicy::Skip,
            _ => NonFinitePolicy::Fail,
        },
    };
    if let Ok(mut source) = CsvSource::open(&options) {
        let mut out = Vec::new();
        loop {
            match source.fill(64, &mut out) {
                Ok(SourceStatus::More) => out.clear(),
                Ok(SourceStatus::Exhausted) => break,
                Err(e) => {
                    assert!(e.0.contains("row"), "{}", e.0);
                    break;
                }
            }
        }
    }
});
