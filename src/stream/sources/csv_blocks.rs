//! Cuts a CSV input into blocks of whole records, so the records can be parsed block by block —
//! all by one source, or dealt out to parallel instances that each parse only their share.
//! A cut falls only where the csv parser itself starts a record: after a `\n` that is outside
//! quotes (the walk below follows csv-core's states, driven by `memchr` hits on `"`, `\n` and
//! `\r`), and every block says where it starts (byte, line, records before it), so an
//! instance that skips blocks still names a row by the file's line and numbers rows as one
//! reader would. The walk never parses fields; it must agree with csv-core on where records
//! start and end, which the tests check against csv itself.

use memchr::{memchr, memchr_iter, memchr2, memchr3_iter, memmem, memrchr};
use std::io::{self, Read};

/// The longest line a CSV input may have (1 MiB): a file without line breaks (`/dev/zero`)
/// would otherwise be read into one endless row.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// Bytes per block when a file is split: ~3,000 rows of `key,ts,value`, as many as a split
/// sequence's block of records, so one block's bookkeeping (a scan, a block-end message per
/// downstream instance) is negligible, while the instances stay within a few blocks of each
/// other in the file (and in event time).
pub const SPLIT_BLOCK_BYTES: usize = 64 << 10;

/// The smallest block a split uses (a small file still gets several blocks per instance).
pub const MIN_SPLIT_BLOCK_BYTES: usize = 4 << 10;

/// How many bytes one read asks for.
const READ_BYTES: usize = 256 << 10;

/// The UTF-8 byte order mark, which csv-core drops at the start of an input.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The block size for a file of `file_bytes` bytes split over `instances`: at most
/// [`SPLIT_BLOCK_BYTES`], and small enough that each instance gets about 8 blocks of a small
/// file (never below [`MIN_SPLIT_BLOCK_BYTES`]).
pub fn split_block_bytes(file_bytes: u64, instances: usize) -> usize {
    let per_instance_blocks = (instances.max(1) as u64).saturating_mul(8);
    let bytes = usize::try_from(file_bytes / per_instance_blocks).unwrap_or(usize::MAX);
    bytes.clamp(MIN_SPLIT_BLOCK_BYTES, SPLIT_BLOCK_BYTES)
}

/// Whether blocks can be cut for this delimiter: the walk tells quotes and line ends apart
/// from delimiters, so the delimiter must be neither.
pub fn cuttable(delimiter: u8) -> bool {
    !matches!(delimiter, b'"' | b'\n' | b'\r')
}

/// Where a block starts in its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockStart {
    /// Offset of the block's first byte.
    pub byte: u64,
    /// Line number (from 1) of the block's first byte.
    pub line: u64,
    /// Records (csv's count, the header included) before the block.
    pub record: u64,
}

/// Where the next block ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// At the first record boundary at least this many bytes in (a split's blocks).
    AtLeast(usize),
    /// At the last record boundary of the bytes read so far: one reader streams the input as
    /// it arrives (standard input, a pipe), and where blocks end does not matter.
    Eager,
}

/// csv-core's state, as far as record boundaries need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    /// Between records (csv-core's StartRecord: line ends are skipped there).
    Start,
    /// In a record, outside quotes.
    Field,
    /// Inside a quoted field: line ends are data.
    Quoted,
    /// Just after a quote inside a quoted field: another quote is an escaped quote, anything
    /// else ends the quoted part.
    Closed,
}

/// A record boundary found by the walk: the block would end at `end` (an index into the
/// buffer) with `lines` line ends and `records` records in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Boundary {
    end: usize,
    lines: u64,
    records: u64,
}

/// What the fast path found.
enum Fast {
    Cut(Boundary),
    /// The bytes read so far end before the block could.
    NeedsMore,
    /// The block needs the walk.
    No,
}

/// How far the walk through the unreturned bytes got.
#[derive(Clone, Copy, Debug)]
struct Walk {
    quote: Quote,
    /// Bytes before this buffer index are walked.
    done: usize,
    /// Line ends and records begun in the walked bytes of the coming block.
    lines: u64,
    records: u64,
    /// Where the current line starts (for the length limit).
    line_start: usize,
    /// The last boundary walked.
    last: Option<Boundary>,
}

impl Walk {
    fn at(begin: usize) -> Self {
        Self {
            quote: Quote::Start,
            done: begin,
            lines: 0,
            records: 0,
            line_start: begin,
            last: None,
        }
    }

    /// Bytes other than `"`, `\n` and `\r` were walked.
    fn plain(&mut self) {
        match self.quote {
            Quote::Start => {
                self.records += 1;
                self.quote = Quote::Field;
            }
            Quote::Closed => self.quote = Quote::Field,
            Quote::Field | Quote::Quoted => {}
        }
    }
}

/// Reads an input and hands it out in blocks that end at record boundaries.
pub struct BlockScanner {
    input: Box<dyn Read + Send>,
    delimiter: u8,
    /// Bytes read; `buf[begin..filled]` are not yet handed out.
    buf: Vec<u8>,
    filled: usize,
    begin: usize,
    /// Where `buf[begin]` sits in the input.
    start: BlockStart,
    eof: bool,
    walk: Walk,
    /// The block handed out last, consumed by the next call.
    handed: Option<Boundary>,
    /// No byte at or past this input offset is read: the end every instance of a split
    /// agrees on, however the file grows meanwhile.
    stop: u64,
    /// The input goes on past `stop` (it grew): a record the stop cuts through is not whole,
    /// and is not handed out.
    grew_past_stop: bool,
}

impl BlockScanner {
    pub fn new(input: Box<dyn Read + Send>, delimiter: u8) -> Self {
        Self {
            input,
            delimiter,
            buf: vec![0; READ_BYTES],
            filled: 0,
            begin: 0,
            start: BlockStart {
                byte: 0,
                line: 1,
                record: 0,
            },
            eof: false,
            walk: Walk::at(0),
            handed: None,
            stop: u64::MAX,
            grew_past_stop: false,
        }
    }

    /// Ends the input at byte `end`: bytes after it are neither read nor handed out (those
    /// already read past it are dropped). If the input goes on past `end`, a last record that
    /// `end` cuts through (a row being written when the length was taken) is dropped too.
    pub fn stop_at(&mut self, end: u64) {
        self.stop = end;
        let kept = end.saturating_sub(self.start.byte);
        let limit = self
            .begin
            .saturating_add(usize::try_from(kept).unwrap_or(usize::MAX));
        if self.filled > limit {
            self.filled = limit;
            self.eof = true;
            self.grew_past_stop = true;
        }
    }

    /// Where the next block starts (after the one handed out last).
    pub fn position(&self) -> BlockStart {
        let mut at = self.start;
        if let Some(b) = self.handed {
            at.byte += (b.end - self.begin) as u64;
            at.line += b.lines;
            at.record += b.records;
        }
        at
    }

    /// The next block: where it starts and its bytes, or `None` at the end of the input.
    pub fn next_block(&mut self, cut: Cut) -> io::Result<Option<(BlockStart, &[u8])>> {
        self.consume_handed();
        loop {
            if self.needs_bom_check() {
                self.read_more()?;
                continue;
            }
            match self.fast_cut(cut) {
                Fast::Cut(b) => return Ok(Some(self.hand_out(b))),
                Fast::NeedsMore if !self.eof => {
                    self.read_more()?;
                    continue;
                }
                Fast::NeedsMore | Fast::No => {}
            }
            if let Some(b) = self.walk_until(|b, begin| match cut {
                Cut::AtLeast(bytes) => b.end - begin >= bytes,
                Cut::Eager => false,
            })? {
                return Ok(Some(self.hand_out(b)));
            }
            if cut == Cut::Eager
                && let Some(b) = self.walk.last
            {
                return Ok(Some(self.hand_out(b)));
            }
            if self.eof {
                if self.grew_past_stop {
                    // Only whole records: up to the last record boundary walked.
                    self.filled = self.walk.last.map_or(self.begin, |b| b.end);
                    self.grew_past_stop = false;
                }
                if self.begin == self.filled {
                    return Ok(None);
                }
                let rest = Boundary {
                    end: self.filled,
                    lines: self.walk.lines,
                    records: self.walk.records,
                };
                return Ok(Some(self.hand_out(rest)));
            }
            self.read_more()?;
        }
    }

    /// The bytes of the input's first record (with whatever precedes it), without handing
    /// them out: the header, read before the run starts. Empty when the input has no record.
    pub fn first_record(&mut self) -> io::Result<&[u8]> {
        self.consume_handed();
        let end = loop {
            if self.needs_bom_check() {
                self.read_more()?;
                continue;
            }
            if let Some(b) = self.walk_until(|b, _| b.records >= 1)? {
                break b.end;
            }
            if self.eof {
                break self.filled;
            }
            self.read_more()?;
        };
        // The next block walks from its start again (and may take the fast path).
        self.walk = Walk::at(self.begin);
        self.skip_bom();
        Ok(self.buf.get(self.begin..end).unwrap_or_default())
    }

    fn consume_handed(&mut self) {
        if self.handed.is_some() {
            self.start = self.position();
            if let Some(b) = self.handed.take() {
                self.begin = b.end;
            }
            self.walk = Walk::at(self.begin);
        }
    }

    fn hand_out(&mut self, b: Boundary) -> (BlockStart, &[u8]) {
        self.handed = Some(b);
        (
            self.start,
            self.buf.get(self.begin..b.end).unwrap_or_default(),
        )
    }

    /// At the input's start, csv-core drops a byte order mark before looking at any byte; the
    /// walk must too, and needs three bytes to tell.
    fn needs_bom_check(&self) -> bool {
        self.start.byte == 0 && self.walk.done == 0 && self.filled < BOM.len() && !self.eof
    }

    fn skip_bom(&mut self) {
        if self.start.byte == 0
            && self.walk.done == 0
            && self
                .buf
                .get(..self.filled)
                .is_some_and(|b| b.starts_with(BOM))
        {
            self.walk.done = BOM.len();
            self.walk.line_start = BOM.len();
        }
    }

    /// A block of plain rows, cut without walking byte by byte: when the line end where `cut`
    /// puts the block's end closes a region with no quote, no `\r` and no empty line, every
    /// `\n` in it ends one record.
    fn fast_cut(&self, cut: Cut) -> Fast {
        if self.walk.done != self.begin || self.start.byte == 0 && self.begin == 0 {
            return Fast::No;
        }
        let Some(data) = self.buf.get(self.begin..self.filled) else {
            return Fast::No;
        };
        let end = match cut {
            Cut::AtLeast(bytes) => {
                let from = bytes.max(1) - 1;
                data.get(from..)
                    .and_then(|tail| memchr(b'\n', tail))
                    .map(|i| from + i + 1)
            }
            Cut::Eager => memrchr(b'\n', data).map(|i| i + 1),
        };
        let Some(end) = end else {
            // The block's end is not read yet (unless the rows are too long for this path).
            return if data.len() <= MAX_ROW_BYTES {
                Fast::NeedsMore
            } else {
                Fast::No
            };
        };
        let Some(region) = data.get(..end) else {
            return Fast::No;
        };
        if end > MAX_ROW_BYTES
            || region.first() == Some(&b'\n')
            || memchr2(b'"', b'\r', region).is_some()
            || memmem::find(region, b"\n\n").is_some()
        {
            return Fast::No;
        }
        let lines = memchr_iter(b'\n', region).count() as u64;
        Fast::Cut(Boundary {
            end: self.begin + end,
            lines,
            records: lines,
        })
    }

    /// Walks the unwalked bytes as csv-core would, until `stop` accepts a record boundary
    /// (given the boundary and the block's start index). Fails on a line longer than
    /// [`MAX_ROW_BYTES`].
    fn walk_until(
        &mut self,
        stop: impl Fn(Boundary, usize) -> bool,
    ) -> io::Result<Option<Boundary>> {
        self.skip_bom();
        let delimiter = self.delimiter;
        let begin = self.begin;
        let first_line = self.start.line;
        let Some(data) = self.buf.get(..self.filled) else {
            return Ok(None);
        };
        let w = &mut self.walk;
        let from = w.done;
        let mut plain_from = from;
        for hit in memchr3_iter(b'"', b'\n', b'\r', data.get(from..).unwrap_or_default()) {
            let at = from + hit;
            if at > plain_from {
                w.plain();
            }
            plain_from = at + 1;
            match data.get(at) {
                Some(b'\n') => {
                    if at - w.line_start > MAX_ROW_BYTES {
                        return Err(too_long(first_line + w.lines));
                    }
                    w.lines += 1;
                    w.line_start = at + 1;
                    if w.quote != Quote::Quoted {
                        w.quote = Quote::Start;
                        let b = Boundary {
                            end: at + 1,
                            lines: w.lines,
                            records: w.records,
                        };
                        w.last = Some(b);
                        if stop(b, begin) {
                            w.done = at + 1;
                            return Ok(Some(b));
                        }
                    }
                }
                Some(b'\r') => {
                    if w.quote != Quote::Quoted {
                        w.quote = Quote::Start;
                    }
                }
                _ => {
                    w.quote = match w.quote {
                        Quote::Start => {
                            w.records += 1;
                            Quote::Quoted
                        }
                        // A quote opens a quoted field only at the field's start.
                        Quote::Field => {
                            let after_delimiter =
                                at.checked_sub(1).and_then(|i| data.get(i)) == Some(&delimiter);
                            if after_delimiter {
                                Quote::Quoted
                            } else {
                                Quote::Field
                            }
                        }
                        Quote::Quoted => Quote::Closed,
                        Quote::Closed => Quote::Quoted,
                    };
                }
            }
        }
        if data.len() > plain_from {
            w.plain();
        }
        w.done = data.len();
        if data.len() - w.line_start > MAX_ROW_BYTES {
            return Err(too_long(first_line + w.lines));
        }
        Ok(None)
    }

    /// Reads more of the input after the unreturned bytes (moved to the buffer's front first).
    fn read_more(&mut self) -> io::Result<()> {
        if self.begin > 0 {
            let shift = self.begin;
            self.buf.copy_within(shift..self.filled, 0);
            self.filled -= shift;
            self.begin = 0;
            let w = &mut self.walk;
            w.done -= shift;
            w.line_start -= shift;
            if let Some(b) = &mut w.last {
                b.end -= shift;
            }
        }
        if self.buf.len() - self.filled < READ_BYTES / 2 {
            self.buf.resize(self.buf.len() + READ_BYTES, 0);
        }
        let read = self.start.byte + self.filled as u64;
        let allowed = usize::try_from(self.stop.saturating_sub(read)).unwrap_or(usize::MAX);
        if allowed == 0 {
            self.eof = true;
            let mut probe = [0u8; 1];
            self.grew_past_stop = matches!(self.input.read(&mut probe), Ok(n) if n > 0);
            return Ok(());
        }
        loop {
            let Some(spare) = self.buf.get_mut(self.filled..) else {
                return Ok(());
            };
            let room = allowed.min(spare.len());
            let spare = &mut spare[..room];
            match self.input.read(spare) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn too_long(line: u64) -> io::Error {
    io::Error::other(format!(
        "line {line} is longer than {} MiB; is this a CSV file?",
        MAX_ROW_BYTES >> 20
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record csv itself reads from `text`, with its record index.
    fn csv_records(text: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let mut out = Vec::new();
        let mut row = csv::ByteRecord::new();
        while reader.read_byte_record(&mut row).unwrap() {
            out.push(row.iter().map(<[u8]>::to_vec).collect());
        }
        out
    }

    /// Blocks of `text`, each parsed by a fresh csv reader: the records must be csv's, and
    /// each block's start must count the lines and records before it.
    fn check_blocks(text: &[u8], cut: Cut, read_bytes: usize) -> usize {
        let input = Chunked {
            data: text.to_vec(),
            at: 0,
            step: read_bytes,
        };
        let mut scanner = BlockScanner::new(Box::new(input), b',');
        let mut records = Vec::new();
        let mut blocks = 0;
        while let Some((start, bytes)) = scanner.next_block(cut).unwrap() {
            let before = text.get(..start.byte as usize).unwrap();
            assert_eq!(
                start.line,
                1 + memchr_iter(b'\n', before).count() as u64,
                "{text:?}"
            );
            assert_eq!(start.record as usize, csv_records(before).len(), "{text:?}");
            assert_eq!(
                bytes,
                &text[start.byte as usize..start.byte as usize + bytes.len()]
            );
            records.extend(csv_records(bytes));
            blocks += 1;
        }
        assert_eq!(records, csv_records(text), "{text:?}");
        blocks
    }

    /// A reader that returns at most `step` bytes a call, like a pipe.
    struct Chunked {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn blocks_end_only_where_csv_ends_a_record() {
        let cases: &[&[u8]] = &[
            b"key,ts,value\nk1,1,2\nk2,3,4\n",
            b"a,\"line\nbreak\",1\nb,\"x\"\"y\n\",2\n\"\"\"\n\",3\nc,4,5",
            b"a,b\r\nc,d\r\n\r\n\r\ne,\"f\r\ng\"\r\n",
            b"\n\n\na,1\n\n\nb,2\n\n",
            b"5\" screen,1\nb,\"x\ny\",2\nc,3\n",
            b"a,\"q\"tail\"x\ny,z\n\"open,1\nstill\"\n",
            b"\xef\xbb\xbf\"h1\",h2\nv,\"w\nx\"\n",
            b"\xef\xbb\xbf\na,1\n",
            b"x\ry\rz,\"1\r\n2\"\r",
            b"no newline at the end",
            b"",
            b"\"unclosed,1\nrest,2\n",
        ];
        for text in cases {
            for cut in [
                Cut::AtLeast(1),
                Cut::AtLeast(5),
                Cut::AtLeast(64),
                Cut::Eager,
            ] {
                for read in [1, 3, 1000] {
                    check_blocks(text, cut, read);
                }
            }
        }
    }

    #[test]
    fn random_texts_cut_where_csv_ends_records() {
        // Texts of the bytes that matter, at random: every cut must agree with csv.
        let alphabet = b"a,\"\n\r\"\n";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..3000 {
            let mut text = Vec::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 40) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            for cut in [Cut::AtLeast(1), Cut::AtLeast(7), Cut::Eager] {
                check_blocks(&text, cut, 4);
            }
        }
    }

    #[test]
    fn plain_rows_take_the_fast_path_and_count_the_same() {
        let mut text = b"key,ts,value\n".to_vec();
        for i in 0..5000 {
            text.extend_from_slice(format!("k{},{},{}.5\n", i % 7, i, i).as_bytes());
        }
        let blocks = check_blocks(&text, Cut::AtLeast(1000), READ_BYTES);
        assert!(blocks > 50, "{blocks} blocks");
        // One reader cuts wherever its reads end, like a pipe delivering 4 KiB at a time.
        let blocks = check_blocks(&text, Cut::Eager, 4096);
        assert!(blocks > 10, "{blocks} blocks");
    }

    #[test]
    fn a_line_longer_than_the_limit_fails_with_its_number() {
        let mut text = b"a,1\nb,2\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 10));
        text.extend_from_slice(b"\nc,3\n");
        for cut in [Cut::AtLeast(4), Cut::Eager] {
            let mut scanner = BlockScanner::new(Box::new(io::Cursor::new(text.clone())), b',');
            let err = loop {
                match scanner.next_block(cut) {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("no error"),
                    Err(e) => break e,
                }
            };
            assert!(
                err.to_string().contains("line 3 is longer than 1 MiB"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_first_record_is_read_without_handing_it_out() {
        let text = b"\"a\nb\",c\nd,e\n".to_vec();
        let mut scanner = BlockScanner::new(Box::new(io::Cursor::new(text.clone())), b',');
        assert_eq!(scanner.first_record().unwrap(), b"\"a\nb\",c\n");
        let (start, bytes) = scanner.next_block(Cut::Eager).unwrap().unwrap();
        assert_eq!(start.byte, 0);
        assert_eq!(bytes, text.as_slice());
    }

    #[test]
    fn small_files_get_several_blocks_per_instance() {
        assert_eq!(split_block_bytes(117_590, 2), 7349);
        assert_eq!(split_block_bytes(1000, 2), MIN_SPLIT_BLOCK_BYTES);
        assert_eq!(split_block_bytes(1 << 34, 2), SPLIT_BLOCK_BYTES);
    }
}
