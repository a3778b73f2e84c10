//! Reads records from a CSV file. Malformed rows fail with the file's line number, or are
//! skipped and counted; NaN/∞ values follow a per-source policy.

use super::csv_blocks::{BlockScanner, BlockStart, Cut, cuttable, split_block_bytes};
use super::split::Split;
use crate::paths::STDIN;
use crate::stream::{Item, Key, OpError, Record, Source, SourceStatus, Values};
use csv::{ByteRecord, Position};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Cursor, Read, SeekFrom};
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
    #[error("the delimiter {delimiter:?} is a quote or a line end")]
    Delimiter { delimiter: char },
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
            CsvError::Delimiter { .. } => "delimiter",
        }
    }
}

pub use super::csv_blocks::MAX_ROW_BYTES;

/// What a CSV source reads: a file, a named pipe or device, or standard input.
type Input = Box<dyn Read + Send>;

/// An input opened and its first row read, waiting for the run that will read the rest.
struct Opened {
    scanner: BlockScanner,
    first: Option<ByteRecord>,
}

/// Inputs that can be read only once (standard input, named pipes, devices), opened by
/// validation to learn their columns and handed to the run's source: one open, one read.
static READ_ONCE: Mutex<BTreeMap<PathBuf, Opened>> = Mutex::new(BTreeMap::new());

/// Whether `path` can be opened and read again from the start (a regular file).
fn rereadable(path: &Path) -> bool {
    path != Path::new(STDIN) && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Whether a source with these options can split over parallel instances without changing
/// its stream: a regular file (every instance reads it whole to find the blocks), with a
/// delimiter that is neither a quote nor a line end.
pub fn splits(options: &CsvOptions) -> bool {
    rereadable(&options.path) && cuttable(options.delimiter)
}

fn open_input(options: &CsvOptions) -> Result<Input, CsvError> {
    if options.path == Path::new(STDIN) {
        return Ok(Box::new(std::io::stdin()));
    }
    let file = File::open(&options.path).map_err(|source| CsvError::Open {
        path: options.path.clone(),
        source,
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(CsvError::Folder {
            path: options.path.clone(),
        });
    }
    Ok(Box::new(file))
}

/// A csv reader with the source's dialect.
fn csv_reader<R: Read>(delimiter: u8, input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input)
}

/// Opens the input and reads its first row (the bytes stay in the scanner for the run).
fn open_first(options: &CsvOptions) -> Result<Opened, CsvError> {
    if !cuttable(options.delimiter) {
        return Err(CsvError::Delimiter {
            delimiter: char::from(options.delimiter),
        });
    }
    let mut scanner = BlockScanner::new(open_input(options)?, options.delimiter);
    let read_error = |source: csv::Error| CsvError::Read {
        path: options.path.clone(),
        source,
    };
    let bytes = scanner.first_record().map_err(|e| read_error(e.into()))?;
    let mut first = ByteRecord::new();
    let found = csv_reader(options.delimiter, bytes)
        .read_byte_record(&mut first)
        .map_err(read_error)?;
    Ok(Opened {
        scanner,
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

/// Reads a CSV input's records block by block (see `csv_blocks`): every block, or — split over
/// parallel instances — every n-th block, parsing only those. Either way a row is numbered and
/// named by its place in the whole input.
pub struct CsvSource {
    display: String,
    scanner: BlockScanner,
    /// Parses the block in hand; its positions are the input's (byte, line, record).
    parser: csv::Reader<Cursor<Vec<u8>>>,
    /// The input offset of the parser's first byte, while a block is in hand.
    block_base: Option<u64>,
    has_header: bool,
    key: Option<usize>,
    time: Option<usize>,
    values: Vec<usize>,
    value_names: Vec<String>,
    time_name: String,
    skip_bad_rows: bool,
    non_finite: NonFinitePolicy,
    row: ByteRecord,
    skipped: u64,
    /// The file's size, to tell how much of it has been read (0: not a file).
    file_bytes: u64,
    /// The input is a regular file, which every instance of a split can read.
    rereadable: bool,
    /// Which blocks this instance parses.
    split: Split,
    /// Bytes per block when split.
    block_bytes: usize,
    /// Blocks the scanner has handed out so far.
    blocks_seen: u64,
    /// The last `fill` finished one of this instance's blocks.
    block_ended: bool,
    started: bool,
}

impl CsvSource {
    /// Opens the input once and reads its header from it (an input that validation already
    /// opened — standard input, a named pipe — is taken over, not opened again).
    pub fn open(options: &CsvOptions) -> Result<Self, CsvError> {
        let kept = match READ_ONCE.lock() {
            Ok(mut kept) => kept.remove(&options.path),
            Err(_) => None,
        };
        let Opened { scanner, first } = match kept {
            Some(opened) => opened,
            None => open_first(options)?,
        };
        let header = columns(options, first.as_ref())?;
        let (key, time, value_names, values) = resolve(options, &header)?;
        let mut parser = csv_reader(options.delimiter, Cursor::new(Vec::new()));
        // Reads the (empty) header row now, so that placing the reader at a block never reads.
        parser.byte_headers().map_err(|source| CsvError::Read {
            path: options.path.clone(),
            source,
        })?;
        let rereadable = rereadable(&options.path);
        Ok(Self {
            display: file_name(&options.path),
            scanner,
            parser,
            block_base: None,
            has_header: options.has_header,
            key,
            time,
            values,
            value_names,
            time_name: options.time_column.clone().unwrap_or_default(),
            skip_bad_rows: options.skip_bad_rows,
            non_finite: options.non_finite,
            row: ByteRecord::new(),
            skipped: 0,
            file_bytes: if rereadable {
                std::fs::metadata(&options.path).map_or(0, |m| m.len())
            } else {
                0
            },
            rereadable,
            split: Split::whole(),
            block_bytes: 0,
            blocks_seen: 0,
            block_ended: false,
            started: false,
        })
    }

    /// Takes the file's length as the run measured it once for all instances (instead of
    /// when this instance opened it): split instances cut the same blocks and stop at the
    /// same byte even if the file grows meanwhile. Rows appended after that are not read.
    pub fn with_file_bytes(mut self, file_bytes: Option<u64>) -> Self {
        if let Some(bytes) = file_bytes.filter(|_| self.rereadable) {
            self.file_bytes = bytes;
        }
        self
    }

    /// Makes this instance parse only its share of the file's blocks of about `block_bytes`
    /// bytes (see [`Split`]), up to the file's length taken at the start; before the first
    /// `fill`, and only for a regular file.
    pub fn split_in_blocks_of(&mut self, split: Split, block_bytes: usize) -> bool {
        if self.started || !(split.is_whole() || self.rereadable) {
            return false;
        }
        self.split = split;
        self.block_bytes = block_bytes.max(1);
        if !split.is_whole() {
            self.scanner.stop_at(self.file_bytes);
        }
        true
    }

    /// Puts the next block of this instance in the parser; false at the end of the input.
    fn next_own_block(&mut self) -> Result<bool, OpError> {
        let cut = if self.split.is_whole() {
            Cut::Eager
        } else {
            Cut::AtLeast(self.block_bytes)
        };
        loop {
            let Some((start, bytes)) = self
                .scanner
                .next_block(cut)
                .map_err(|e| OpError::new(format!("{}: {e}", self.display)))?
            else {
                return Ok(false);
            };
            let index = self.blocks_seen;
            self.blocks_seen += 1;
            if index % self.split.of != self.split.instance {
                continue;
            }
            let position = load_block(self.parser.get_mut().get_mut(), start, bytes);
            self.block_base = Some(position.byte());
            self.parser
                .seek_raw(SeekFrom::Start(0), position)
                .map_err(|e| OpError::new(format!("{}: {e}", self.display)))?;
            return Ok(true);
        }
    }

    /// The line the current row starts on. csv's position is where its reading began, before
    /// any line ends it skipped (an empty line, the `\n` of a `\r\n`), so those are counted.
    fn row_line(&self) -> u64 {
        let Some(position) = self.row.position() else {
            return 0;
        };
        let base = self.block_base.unwrap_or(0);
        let bytes = self.parser.get_ref().get_ref();
        let from = usize::try_from(position.byte().saturating_sub(base)).unwrap_or(usize::MAX);
        let mut rest = bytes.get(from..).unwrap_or_default();
        if position.byte() == 0 {
            rest = rest
                .strip_prefix(b"\xef\xbb\xbf".as_slice())
                .unwrap_or(rest);
        }
        let skipped = rest
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .filter(|&&b| b == b'\n')
            .count();
        position.line() + skipped as u64
    }

    /// Parses the current row, data row `data_row` of the input; the error names the column
    /// and the offending text.
    fn parse_row(&self, data_row: i64) -> Result<Option<Record>, String> {
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
                let text = text(field(i)?);
                text.trim().parse::<i64>().map_err(|_| {
                    format!(
                        "column '{}': '{}' is not an integer time in ms",
                        self.time_name,
                        text.trim()
                    )
                })?
            }
            None => data_row,
        };
        let mut values = Values::with_capacity(self.values.len());
        for (&i, name) in self.values.iter().zip(&self.value_names) {
            let text = text(field(i)?);
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

/// Fills `buffer` with a block's bytes and returns the csv position of the buffer's start. A
/// block inside the input gets a line end in front: a fresh csv reader skips it as an empty
/// line, and so cannot take the block's first bytes for a byte order mark (which csv drops
/// only at the very start of an input).
fn load_block(buffer: &mut Vec<u8>, start: BlockStart, bytes: &[u8]) -> Position {
    buffer.clear();
    let mut position = Position::new();
    position.set_record(start.record);
    if start.byte > 0 {
        buffer.push(b'\n');
        position
            .set_byte(start.byte - 1)
            .set_line(start.line.saturating_sub(1));
    } else {
        position.set_byte(0).set_line(start.line);
    }
    buffer.extend_from_slice(bytes);
    position
}

/// A field as text: borrowed when it is UTF-8 (checking is much cheaper than a lossy copy),
/// with replacement characters otherwise (the text is only parsed or quoted in an error).
fn text(field: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(field) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(field),
    }
}

fn file_name(path: &Path) -> String {
    path.display().to_string()
}

impl Source for CsvSource {
    fn fill(&mut self, max: usize, out: &mut Vec<Item>) -> Result<SourceStatus, OpError> {
        self.started = true;
        self.block_ended = false;
        let mut produced = 0;
        while produced < max {
            if self.block_base.is_none() && !self.next_own_block()? {
                return Ok(SourceStatus::Exhausted);
            }
            let more = self
                .parser
                .read_byte_record(&mut self.row)
                .map_err(|e| OpError::new(format!("{}: {e}", self.display)))?;
            if !more {
                self.block_base = None;
                if self.split.is_whole() {
                    continue;
                }
                self.block_ended = true;
                return Ok(SourceStatus::More);
            }
            let record = self.row.position().map_or(0, Position::record);
            let header = u64::from(self.has_header);
            if record < header {
                continue;
            }
            let data_row = i64::try_from(record - header).unwrap_or(i64::MAX);
            match self.parse_row(data_row) {
                Ok(Some(record)) => {
                    out.push(Item::Record(record));
                    produced += 1;
                }
                Ok(None) => self.skipped += 1,
                Err(_) if self.skip_bad_rows => self.skipped += 1,
                Err(reason) => {
                    return Err(OpError::new(format!(
                        "{} row {}: {reason}",
                        self.display,
                        self.row_line()
                    )));
                }
            }
        }
        Ok(SourceStatus::More)
    }

    fn skipped_records(&self) -> u64 {
        self.skipped
    }

    fn progress(&self) -> Option<f64> {
        (self.file_bytes > 0).then(|| {
            let at = match self.block_base {
                Some(_) => self.parser.position().byte(),
                None => self.scanner.position().byte,
            };
            (at as f64 / self.file_bytes as f64).min(1.0)
        })
    }

    fn block_ended(&self) -> bool {
        self.block_ended
    }

    fn split(&mut self, split: Split) -> bool {
        let block_bytes = split_block_bytes(self.file_bytes, split.of as usize);
        self.split_in_blocks_of(split, block_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stream::test_support::{csv_options as options, temp_file as file};

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
