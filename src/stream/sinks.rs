//! Sinks: a CSV writer (atomic: a unique temporary file renamed over the target at the end of
//! the run, or streamed into a device or FIFO) and a null sink.

use super::{Item, Key, OpError, OpResult, Operator, Outputs, Record};
use crate::output_file::OutputFile;
use std::fmt::Write as _;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// One column of a CSV sink.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// The stream's constant tag (`W`, `C`, `L`).
    Tag(String),
    Key,
    Ts,
    Field(usize),
}

/// Resolves a sink's column names against the input's fields and tag. Empty = everything.
pub fn resolve_columns(
    names: &[String],
    fields: &[String],
    tag: Option<&str>,
) -> Result<(Vec<String>, Vec<Column>), String> {
    if names.is_empty() {
        let mut header = Vec::new();
        let mut columns = Vec::new();
        if let Some(tag) = tag {
            header.push("kind".to_owned());
            columns.push(Column::Tag(tag.to_owned()));
        }
        header.extend(["key".to_owned(), "ts_ms".to_owned()]);
        columns.extend([Column::Key, Column::Ts]);
        for (i, f) in fields.iter().enumerate() {
            header.push(f.clone());
            columns.push(Column::Field(i));
        }
        return Ok((header, columns));
    }
    let mut columns = Vec::new();
    for name in names {
        let column = match name.as_str() {
            "kind" => Column::Tag(tag.unwrap_or("").to_owned()),
            "key" => Column::Key,
            "ts_ms" | "ts" => Column::Ts,
            other => match fields.iter().position(|f| f == other) {
                Some(i) => Column::Field(i),
                None => {
                    return Err(format!(
                        "no field '{other}' to write; available: kind, key, ts_ms{}{}",
                        if fields.is_empty() { "" } else { ", " },
                        fields.join(", ")
                    ));
                }
            },
        };
        columns.push(column);
    }
    Ok((names.to_vec(), columns))
}

/// Writes records to a CSV file through a temporary sibling renamed when the input ends,
/// so a failed or stopped run never leaves a half-written file under the real name.
pub struct CsvSink {
    path: PathBuf,
    /// `None` once finished; dropping an unfinished writer removes its temporary file.
    writer: Option<csv::Writer<BufWriter<OutputFile>>>,
    columns: Vec<Column>,
    line: String,
}

impl CsvSink {
    pub fn create(path: &Path, header: &[String], columns: Vec<Column>) -> Result<Self, String> {
        let file = OutputFile::create(path).map_err(|e| format!("cannot create {e}"))?;
        let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        writer
            .write_record(header)
            .map_err(|e| format!("cannot write '{}': {e}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            writer: Some(writer),
            columns,
            line: String::new(),
        })
    }

    fn write(&mut self, record: &Record) -> Result<(), String> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        for column in &self.columns {
            self.line.clear();
            match column {
                Column::Tag(t) => self.line.push_str(t),
                Column::Key => match &record.key {
                    Key::Int(i) => {
                        let _ = write!(self.line, "{i}");
                    }
                    Key::Str(s) => self.line.push_str(s),
                },
                Column::Ts => {
                    let _ = write!(self.line, "{}", record.ts);
                }
                Column::Field(i) => {
                    let x = record.values.get(*i).copied().unwrap_or(f64::NAN);
                    let _ = write!(self.line, "{x}");
                }
            }
            writer.write_field(&self.line).map_err(|e| e.to_string())?;
        }
        writer
            .write_record(None::<&[u8]>)
            .map_err(|e| e.to_string())
    }
}

impl Operator for CsvSink {
    fn on_item(&mut self, _port: usize, item: Item, _out: &mut Outputs) -> OpResult {
        if let Item::Record(record) = item {
            self.write(&record).map_err(|e| {
                OpError::new(format!("cannot write '{}': {e}", self.path.display()))
            })?;
        }
        Ok(())
    }

    fn on_end(&mut self, _out: &mut Outputs) -> OpResult {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let fail =
            |e: String| OpError::new(format!("cannot finish '{}': {e}", self.path.display()));
        let buffered = writer.into_inner().map_err(|e| fail(e.to_string()))?;
        let file = buffered.into_inner().map_err(|e| fail(e.to_string()))?;
        file.commit().map_err(|e| fail(e.to_string()))
    }
}

/// Counts and discards; with a delay per record it is a deliberately slow consumer.
#[derive(Default)]
pub struct NullSink {
    pub delay_per_record: std::time::Duration,
    /// Whether the run is ending (stopped, or finishing by `--max-seconds`): the simulated
    /// slowness then stops, so the sink drains at once instead of sleeping for minutes.
    pub ending: Option<Box<dyn Fn() -> bool + Send>>,
}

/// Longest single sleep of a slow Null sink between looks at `ending`.
const SLEEP_SLICE: std::time::Duration = std::time::Duration::from_millis(20);

impl Operator for NullSink {
    fn on_item(&mut self, _port: usize, _item: Item, _out: &mut Outputs) -> OpResult {
        Ok(())
    }

    fn on_batch(&mut self, _port: usize, items: Vec<Item>, _out: &mut Outputs) -> OpResult {
        if !self.delay_per_record.is_zero() {
            let records = items
                .iter()
                .filter(|i| !matches!(i, Item::Watermark(_)))
                .count();
            let mut left = self
                .delay_per_record
                .saturating_mul(u32::try_from(records).unwrap_or(u32::MAX));
            while !left.is_zero() && !self.ending.as_ref().is_some_and(|ending| ending()) {
                let slice = left.min(SLEEP_SLICE);
                std::thread::sleep(slice);
                left = left.saturating_sub(slice);
            }
        }
        Ok(())
    }

    fn on_watermark(&mut self, _watermark: i64, _out: &mut Outputs) -> OpResult {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::expr::record;

    #[test]
    fn csv_sink_writes_header_and_rows_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let fields = vec!["start".to_string(), "mean".to_string()];
        let (header, columns) = resolve_columns(
            &["kind".into(), "key".into(), "start".into(), "mean".into()],
            &fields,
            Some("W"),
        )
        .unwrap();
        let mut sink = CsvSink::create(&path, &header, columns).unwrap();
        let mut out = Outputs::new(0);
        sink.on_item(
            0,
            Item::Record(record(Key::text("k,1"), 5, &[1000.0, 2.5])),
            &mut out,
        )
        .unwrap();
        assert!(!path.exists(), "nothing under the real name before the end");
        sink.on_end(&mut out).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "kind,key,start,mean\nW,\"k,1\",1000,2.5\n");
    }

    #[test]
    fn unknown_column_is_refused_with_the_choices() {
        let err = resolve_columns(&["mean".into()], &["value".into()], None).unwrap_err();
        assert!(
            err.contains("no field 'mean'") && err.contains("value"),
            "{err}"
        );
    }

    #[test]
    fn two_sinks_of_one_path_never_mix_and_a_failed_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let (header, columns) = resolve_columns(&[], &["v".to_string()], None).unwrap();
        let mut a = CsvSink::create(&path, &header, columns.clone()).unwrap();
        let mut b = CsvSink::create(&path, &header, columns).unwrap();
        let mut out = Outputs::new(0);
        for (sink, x) in [(&mut a, 1.0), (&mut b, 2.0)] {
            sink.on_item(0, Item::Record(record(Key::text("k"), 1, &[x])), &mut out)
                .unwrap();
        }
        drop(b); // the failed run's sink
        a.on_end(&mut out).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "key,ts_ms,v\nk,1,1\n"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
    }
}
