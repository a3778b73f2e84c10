//! Reads records from a CSV file. Malformed rows fail with the file's line number, or are
//! skipped and counted; NaN/∞ values follow a per-source policy.

use crate::paths::STDIN;
use crate::stream::{Item, Key, OpError, Record, Source, SourceStatus, Values};
use csv::ByteRecord;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What to do with NaN or infinite values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonFinitePolicy {
    Keep,
    Skip,
    Fail,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    pub path: PathBuf,
    /// `None`: every row has the empty key.
    pub key_column: Option<String>,
    /// `None`: the event time is the data row's index.
    pub time_column: Option<String>,
    /// Empty: every column that is neither key nor time.
    pub value_columns: Vec<String>,
    pub has_header: bool,
    pub delimiter: u8,
    pub skip_bad_rows: bool,
    pub non_finite: NonFinitePolicy,
}

/// Why a CSV input cannot be read as the options say. A caller can tell the file's problems
/// (`path`) from a column the options name that the file lacks (`key_column`, …).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("cannot open '{}': {source}", .path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("'{}' is a folder; give a CSV file", .path.display())]
    Folder { path: PathBuf },
    #[error("cannot read '{}': {source}", .path.display())]
    Read { path: PathBuf, source: csv::Error },
    #[error("'{}' is empty", .path.display())]
    Empty { path: PathBuf },
    #[error("no column '{name}' in '{}'; its columns are: {}", .path.display(), .columns.join(", "))]
    NoColumn {
        /// Which option named it.
        role: ColumnRole,
        name: String,
        path: PathBuf,
        columns: Vec<String>,
    },
    #[error("the table of inputs read once broke (a thread panicked while holding it)")]
    Poisoned,
}

/// Which of a source's options names a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnRole {
    Key,
    Time,
    Value,
}

impl ColumnRole {
    /// The csv_source parameter that holds columns of this role.
    pub fn param(self) -> &'static str {
        match self {
            ColumnRole::Key => "key_column",
            ColumnRole::Time => "time_column",
            ColumnRole::Value => "value_columns",
        }
    }
}

impl CsvError {
    /// The csv_source parameter to blame: a missing column's option, otherwise the path.
    pub fn param(&self) -> &'static str {
        match self {
            CsvError::NoColumn { role, .. } => role.param(),
            CsvError::Open { .. }
            | CsvError::Folder { .. }
            | CsvError::Read { .. }
            | CsvError::Empty { .. }
            | CsvError::Poisoned => "path",
        }
    }
}

/// The longest line a CSV input may have (1 MiB): a file without line breaks (`/dev/zero`)
/// would otherwise be read into one endless row.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// What a CSV source reads: a file, a named pipe or device, or standard input.
type Input = Box<dyn Read + Send>;
type Reader = csv::Reader<RowLimit<Input>>;

/// A reader that fails once a line grows past [`MAX_ROW_BYTES`].
pub struct RowLimit<R> {
    inner: R,
    line_bytes: usize,
    line: u64,
}

impl<R: Read> Read for RowLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.line_bytes = 0;
            } else {
                self.line_bytes += 1;
                if self.line_bytes > MAX_ROW_BYTES {
                    return Err(std::io::Error::other(format!(
                        "line {} is longer than {} MiB; is this a CSV file?",
                        self.line + 1,
                        MAX_ROW_BYTES >> 20
                    )));
                }
            }
        }
        Ok(n)
    }
}

/// An input opened and its first row read, waiting for the run that will read the rest.
struct Opened {
    reader: Reader,
    first: Option<ByteRecord>,
}

/// Inputs that can be read only once (standard input, named pipes, devices), opened by
/// validation to learn their columns and handed to the run's source: one open, one read.
static READ_ONCE: Mutex<BTreeMap<PathBuf, Opened>> = Mutex::new(BTreeMap::new());

/// Whether `path` can be opened and read again from the start (a regular file).
fn rereadable(path: &Path) -> bool {
    path != Path::new(STDIN) && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

fn open_input(options: &CsvOptions) -> Result<Reader, CsvError> {
    let input: Input = if options.path == Path::new(STDIN) {
        Box::new(std::io::stdin())
    } else {
        let file = File::open(&options.path).map_err(|source| CsvError::Open {
            path: options.path.clone(),
            source,
        })?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(CsvError::Folder {
                path: options.path.clone(),
            });
        }
        Box::new(file)
    };
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .from_reader(RowLimit {
            inner: input,
            line_bytes: 0,
            line: 0,
        }))
}

/// Opens the input and reads its first row.
fn open_first(options: &CsvOptions) -> Result<Opened, CsvError> {
    let mut reader = open_input(options)?;
    let mut first = ByteRecord::new();
    let found = reader
        .read_byte_record(&mut first)
        .map_err(|source| CsvError::Read {
            path: options.path.clone(),
            source,
        })?;
    Ok(Opened {
        reader,
        first: found.then_some(first),
    })
}

fn columns(options: &CsvOptions, first: Option<&ByteRecord>) -> Result<Vec<String>, CsvError> {
    let Some(first) = first else {
        return Err(CsvError::Empty {
            path: options.path.clone(),
        });
    };
    Ok(if options.has_header {
        first
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_owned())
            .collect()
    } else {
        (0..first.len()).map(|i| format!("c{i}")).collect()
    })
}

/// The column names: the header's, or c0, c1, … when there is none. An input that can be
/// read only once (standard input, a named pipe) stays open for the run to read on.
pub fn read_header(options: &CsvOptions) -> Result<Vec<String>, CsvError> {
    if rereadable(&options.path) {
        return columns(options, open_first(options)?.first.as_ref());
    }
    let mut kept = READ_ONCE.lock().map_err(|_| CsvError::Poisoned)?;
    if let Some(opened) = kept.get(&options.path) {
        return columns(options, opened.first.as_ref());
    }
    let opened = open_first(options)?;
    let names = columns(options, opened.first.as_ref());
    kept.insert(options.path.clone(), opened);
    names
}

/// The value columns a source with these options produces, in order.
pub fn value_field_names(options: &CsvOptions) -> Result<Vec<String>, CsvError> {
    Ok(resolve(options, &read_header(options)?)?.2)
}

type Resolved = (Option<usize>, Option<usize>, Vec<String>, Vec<usize>);

fn resolve(options: &CsvOptions, header: &[String]) -> Result<Resolved, CsvError> {
    let find = |role: ColumnRole, name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| CsvError::NoColumn {
                role,
                name: name.to_owned(),
                path: options.path.clone(),
                columns: header.to_vec(),
            })
    };
    let key = options
        .key_column
        .as_deref()
        .map(|name| find(ColumnRole::Key, name))
        .transpose()?;
    let time = options
        .time_column
        .as_deref()
        .map(|name| find(ColumnRole::Time, name))
        .transpose()?;
    let (names, indices): (Vec<String>, Vec<usize>) = if options.value_columns.is_empty() {
        header
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != key && Some(*i) != time)
            .map(|(i, h)| (h.clone(), i))
            .unzip()
    } else {
        let mut pairs = Vec::new();
        for name in &options.value_columns {
            pairs.push((name.clone(), find(ColumnRole::Value, name)?));
        }
        pairs.into_iter().unzip()
    };
    Ok((key, time, names, indices))
}

pub struct CsvSource {
    display: String,
    reader: Reader,
    /// The first row when it is data (no header): read at open, delivered first.
    replay: Option<ByteRecord>,
    key: Option<usize>,
    time: Option<usize>,
    values: Vec<usize>,
    value_names: Vec<String>,
    time_name: String,
    skip_bad_rows: bool,
    non_finite: NonFinitePolicy,
    row: ByteRecord,
    data_rows: i64,
    skipped: u64,
    /// The file's size, to tell how much of it has been read.
    file_bytes: u64,
}

impl CsvSource {
    /// Opens the input once and reads its header from it (an input that validation already
    /// opened — standard input, a named pipe — is taken over, not opened again).
    pub fn open(options: &CsvOptions) -> Result<Self, CsvError> {
        let kept = match READ_ONCE.lock() {
            Ok(mut kept) => kept.remove(&options.path),
            Err(_) => None,
        };
        let Opened { reader, first } = match kept {
            Some(opened) => opened,
            None => open_first(options)?,
        };
        let header = columns(options, first.as_ref())?;
        let (key, time, value_names, values) = resolve(options, &header)?;
        Ok(Self {
            display: file_name(&options.path),
            reader,
            replay: if options.has_header { None } else { first },
            key,
            time,
            values,
            value_names,
            time_name: options.time_column.clone().unwrap_or_default(),
            skip_bad_rows: options.skip_bad_rows,
            non_finite: options.non_finite,
            row: ByteRecord::new(),
            data_rows: 0,
            skipped: 0,
            file_bytes: if rereadable(&options.path) {
                std::fs::metadata(&options.path).map_or(0, |m| m.len())
            } else {
                0
            },
        })
    }

    /// Parses the current row; the error names the column and the offending text.
    fn parse_row(&self) -> Result<Option<Record>, String> {
        let field = |i: usize| {
            self.row
                .get(i)
                .ok_or_else(|| format!("has {} fields, too few", self.row.len()))
        };
        let key = match self.key {
            Some(i) => Key::text(
                std::str::from_utf8(field(i)?)
                    .map_err(|_| "key is not UTF-8 text".to_owned())?
                    .trim(),
            ),
            None => Key::default(),
        };
        let ts = match self.time {
            Some(i) => {
                let text = String::from_utf8_lossy(field(i)?);
                text.trim().parse::<i64>().map_err(|_| {
                    format!(
                        "column '{}': '{}' is not an integer time in ms",
                        self.time_name,
                        text.trim()
                    )
                })?
            }
            None => self.data_rows,
        };
        let mut values = Values::with_capacity(self.values.len());
        for (&i, name) in self.values.iter().zip(&self.value_names) {
            let text = String::from_utf8_lossy(field(i)?);
            let x: f64 = text
                .trim()
                .parse()
                .map_err(|_| format!("column '{name}': '{}' is not a number", text.trim()))?;
            if !x.is_finite() {
                match self.non_finite {
                    NonFinitePolicy::Keep => {}
                    NonFinitePolicy::Skip => return Ok(None),
                    NonFinitePolicy::Fail => {
                        return Err(format!("column '{name}': {x} is not a finite number"));
                    }
                }
            }
            values.push(x);
        }
        Ok(Some(Record { key, ts, values }))
    }
}

fn file_name(path: &Path) -> String {
    path.display().to_string()
}

impl Source for CsvSource {
    fn fill(&mut self, max: usize, out: &mut Vec<Item>) -> Result<SourceStatus, OpError> {
        let mut produced = 0;
        while produced < max {
            if let Some(first) = self.replay.take() {
                self.row = first;
            } else {
                let more = self
                    .reader
                    .read_byte_record(&mut self.row)
                    .map_err(|e| OpError::new(format!("{}: {e}", self.display)))?;
                if !more {
                    return Ok(SourceStatus::Exhausted);
                }
            }
            let line = self.row.position().map_or(0, |p| p.line());
            match self.parse_row() {
                Ok(Some(record)) => {
                    out.push(Item::Record(record));
                    produced += 1;
                }
                Ok(None) => self.skipped += 1,
                Err(reason) if self.skip_bad_rows => {
                    let _ = reason;
                    self.skipped += 1;
                }
                Err(reason) => {
                    return Err(OpError::new(format!(
                        "{} row {line}: {reason}",
                        self.display
                    )));
                }
            }
            self.data_rows += 1;
        }
        Ok(SourceStatus::More)
    }

    fn skipped_records(&self) -> u64 {
        self.skipped
    }

    fn progress(&self) -> Option<f64> {
        (self.file_bytes > 0)
            .then(|| (self.reader.position().byte() as f64 / self.file_bytes as f64).min(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn options(path: &Path) -> CsvOptions {
        CsvOptions {
            path: path.to_owned(),
            key_column: Some("key".into()),
            time_column: Some("ts_ms".into()),
            value_columns: vec![],
            has_header: true,
            delimiter: b',',
            skip_bad_rows: false,
            non_finite: NonFinitePolicy::Keep,
        }
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn read_all(source: &mut CsvSource) -> Result<Vec<Record>, OpError> {
        let mut out = Vec::new();
        while source.fill(2, &mut out)? == SourceStatus::More {}
        Ok(out
            .into_iter()
            .filter_map(|i| match i {
                Item::Record(r) => Some(r),
                _ => None,
            })
            .collect())
    }

    #[test]
    fn reads_keys_times_and_values() {
        let f = file("key,ts_ms,value,other\nk1,100,1.5,2\nk2,90,-3,4\n");
        let mut s = CsvSource::open(&options(f.path())).unwrap();
        let rows = read_all(&mut s).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].key, Key::text("k2"));
        assert_eq!(rows[1].ts, 90);
        assert_eq!(rows[1].values.as_slice(), &[-3.0, 4.0]);
        assert_eq!(
            value_field_names(&options(f.path())).unwrap(),
            vec!["value", "other"]
        );
    }

    #[test]
    fn malformed_row_fails_with_its_line_number() {
        let f = file("key,ts_ms,value\nk1,100,1.5\nk2,abc,2\n");
        let mut s = CsvSource::open(&options(f.path())).unwrap();
        let err = read_all(&mut s).unwrap_err();
        assert!(
            err.0.contains("row 3") && err.0.contains("'abc' is not an integer"),
            "{err}"
        );
    }

    #[test]
    fn malformed_rows_can_be_skipped_and_counted() {
        let f = file("key,ts_ms,value\nk1,100,1.5\nk2,7\nk3,8,x\nk4,9,1\n");
        let mut o = options(f.path());
        o.skip_bad_rows = true;
        let mut s = CsvSource::open(&o).unwrap();
        assert_eq!(read_all(&mut s).unwrap().len(), 2);
        assert_eq!(s.skipped_records(), 2);
    }

    #[test]
    fn missing_file_and_missing_column_are_named() {
        let err = CsvSource::open(&options(Path::new("/no/such.csv")))
            .err()
            .unwrap();
        assert!(matches!(err, CsvError::Open { .. }), "{err:?}");
        assert_eq!(err.param(), "path");
        let err = err.to_string();
        assert!(err.contains("cannot open '/no/such.csv'"), "{err}");
        let f = file("key,time,value\n");
        let err = CsvSource::open(&options(f.path())).err().unwrap();
        assert!(
            matches!(&err, CsvError::NoColumn { role: ColumnRole::Time, name, .. } if name == "ts_ms"),
            "{err:?}"
        );
        assert_eq!(err.param(), "time_column");
        let err = err.to_string();
        assert!(
            err.contains("no column 'ts_ms'") && err.contains("key, time, value"),
            "{err}"
        );
    }

    #[test]
    fn non_finite_values_follow_the_policy() {
        let f = file("key,ts_ms,value\nk1,1,NaN\nk1,2,inf\nk1,3,1\n");
        let mut o = options(f.path());
        assert_eq!(
            read_all(&mut CsvSource::open(&o).unwrap()).unwrap().len(),
            3
        );
        o.non_finite = NonFinitePolicy::Skip;
        let mut s = CsvSource::open(&o).unwrap();
        assert_eq!(read_all(&mut s).unwrap().len(), 1);
        assert_eq!(s.skipped_records(), 2);
        o.non_finite = NonFinitePolicy::Fail;
        let err = read_all(&mut CsvSource::open(&o).unwrap()).unwrap_err();
        assert!(
            err.0.contains("row 2") && err.0.contains("not a finite"),
            "{err}"
        );
    }

    #[test]
    fn without_header_or_time_columns_are_numbered() {
        let f = file("a,5\nb,6\n");
        let o = CsvOptions {
            key_column: Some("c0".into()),
            time_column: None,
            has_header: false,
            ..options(f.path())
        };
        let rows = read_all(&mut CsvSource::open(&o).unwrap()).unwrap();
        assert_eq!(rows.iter().map(|r| r.ts).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(rows[1].values.as_slice(), &[6.0]);
    }
}
