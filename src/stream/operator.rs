//! The operator and source contracts that `exec` drives, and the output buffers they fill.

use super::Item;

/// A failure inside an operator; `exec` adds the node's name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct OpError(pub String);

impl OpError {
    pub fn new(message: impl Into<String>) -> Self {
        OpError(message.into())
    }
}

pub type OpResult = Result<(), OpError>;

/// Output buffers, one per output port. Operators push; `exec` settles, routes and empties them.
#[derive(Debug, Default)]
pub struct Outputs {
    pub ports: Vec<Vec<Item>>,
    /// A watermark not yet written: it goes out before the next item, or when settled. Most
    /// watermarks are followed by another before any item, so most are never written at all.
    pending_watermark: Option<i64>,
}

impl Outputs {
    pub fn new(port_count: usize) -> Self {
        Self {
            ports: (0..port_count).map(|_| Vec::new()).collect(),
            pending_watermark: None,
        }
    }

    #[inline]
    pub fn push(&mut self, port: usize, item: Item) {
        self.settle();
        if let Some(buffer) = self.ports.get_mut(port) {
            buffer.push(item);
        }
    }

    /// Appends a whole batch to a port (a held watermark first, as `push` does). Into an empty
    /// buffer the batch itself is moved: no item is copied.
    #[inline]
    pub fn push_batch(&mut self, port: usize, mut items: Vec<Item>) {
        if let Some(buffer) = self.port(port) {
            if buffer.is_empty() {
                std::mem::swap(buffer, &mut items);
            } else {
                buffer.append(&mut items);
            }
        }
    }

    /// One port's buffer, to append many items without a check per item; a held watermark
    /// is written first, as `push` does.
    #[inline]
    pub fn port(&mut self, port: usize) -> Option<&mut Vec<Item>> {
        self.settle();
        self.ports.get_mut(port)
    }

    /// Sends a watermark on every port. A watermark directly after another replaces it:
    /// nothing happened in between that the older one could order.
    #[inline]
    pub fn watermark(&mut self, watermark: i64) {
        self.pending_watermark = Some(
            self.pending_watermark
                .map_or(watermark, |w| w.max(watermark)),
        );
    }

    /// A watermark is held, to be written before the next item or when settled.
    pub fn holds_watermark(&self) -> bool {
        self.pending_watermark.is_some()
    }

    /// Writes a held watermark into every port. Call before reading the buffers.
    #[inline]
    pub fn settle(&mut self) {
        if let Some(watermark) = self.pending_watermark.take() {
            for buffer in &mut self.ports {
                push_watermark(buffer, watermark);
            }
        }
    }
}

/// Appends a watermark, collapsing it into a watermark that ends the buffer.
pub fn push_watermark(buffer: &mut Vec<Item>, watermark: i64) {
    if let Some(Item::Watermark(last)) = buffer.last_mut() {
        *last = watermark.max(*last);
    } else {
        buffer.push(Item::Watermark(watermark));
    }
}

/// A stream operator: a small state machine fed one item at a time. It owns no thread and reads
/// no clock. Watermarks arrive already combined over all inputs (the minimum), only when they
/// advance.
pub trait Operator: Send {
    /// A record or window result on input port `port`.
    fn on_item(&mut self, port: usize, item: Item, out: &mut Outputs) -> OpResult;

    /// The input watermark advanced. The default forwards it.
    fn on_watermark(&mut self, watermark: i64, out: &mut Outputs) -> OpResult {
        out.watermark(watermark);
        Ok(())
    }

    /// A whole batch from a single input. Its watermarks never decrease (they may repeat).
    /// The default feeds the items one by one; hot operators override it to loop without a
    /// call per item.
    fn on_batch(&mut self, port: usize, items: Vec<Item>, out: &mut Outputs) -> OpResult {
        for item in items {
            match item {
                Item::Watermark(w) => self.on_watermark(w, out)?,
                other => self.on_item(port, other, out)?,
            }
        }
        Ok(())
    }

    /// Every input has ended; emit what remains.
    fn on_end(&mut self, _out: &mut Outputs) -> OpResult {
        Ok(())
    }

    /// Work left after the input ended (a trainer replaying epochs), done a piece per call so
    /// the executor can pass each piece's output on (live metrics) and stop in between.
    /// Returns whether more calls are needed.
    fn on_end_more(&mut self, _out: &mut Outputs) -> Result<bool, OpError> {
        Ok(false)
    }

    /// Entries held in keyed state (windows, sessions, keys), for telemetry and limits.
    fn state_entries(&self) -> usize {
        0
    }

    /// Records this operator sent to a side output as late.
    fn late_records(&self) -> u64 {
        0
    }
}

/// Whether a source has more to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    More,
    Exhausted,
}

/// A source of records. `exec` calls `fill` repeatedly, pacing and pausing it; at exhaustion it
/// emits the final +∞ watermark itself.
pub trait Source: Send {
    /// Appends up to `max` items to `out`.
    fn fill(&mut self, max: usize, out: &mut Vec<Item>) -> Result<SourceStatus, OpError>;

    /// Records skipped as malformed (counted, when the user chose to skip them).
    fn skipped_records(&self) -> u64 {
        0
    }

    /// The share of a bounded input emitted so far (0..=1), if the source knows its size;
    /// `exec` uses it to spread an animated run over time.
    fn progress(&self) -> Option<f64> {
        None
    }

    /// For a source split over parallel instances (see `sources::split`): whether the last
    /// `fill` finished one of this instance's blocks. Downstream reads the instances' blocks
    /// back in order, so it must learn where each ends.
    fn block_ended(&self) -> bool {
        false
    }

    /// Makes this instance produce only its share of the records (see `sources::split`),
    /// before the first `fill`. Returns false when the source cannot split.
    fn split(&mut self, _split: super::sources::Split) -> bool {
        false
    }
}
