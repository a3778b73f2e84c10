//! Exchanges: how one upstream instance's output reaches the downstream instances of a wire
//! (by key hash, round-robin, broadcast, forward or row shards), buffered per target and sent
//! as batches over bounded channels. A router never creates or drops records.

use super::colocated::Colocated;
use super::control::Shared;
use super::taps::SkewTap;
use super::task::{Tally, TaskError};
use super::telemetry::NodeCounters;
use crate::nn::payload::MiniBatch;
use crate::stream::operator::push_watermark;
use crate::stream::partition::{Strategy, key_partition};
use crate::stream::{Item, Record, WindowResult};
use crossbeam_channel::{SendTimeoutError, Sender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// What travels through a channel: a batch of items (with its counts when the sender has
/// them: a batch that crossed whole), or the end of that input.
pub enum Message {
    Items(Vec<Item>, Option<Tally>),
    /// A split source's instance finished one of its blocks (see `sources::split`).
    BlockEnd,
    End,
}

/// How often blocked sends and receives look at the stop flag.
pub const POLL: Duration = Duration::from_millis(20);

/// Sends one upstream instance's output to the downstream instances of an edge.
pub struct Exchange {
    pub strategy: Strategy,
    pub senders: Vec<Sender<Message>>,
    pub buffers: Vec<Vec<Item>>,
    pub next: usize,
    /// The sending node's counters, for back-pressure readings.
    pub counters: Arc<NodeCounters>,
    pub capacity: usize,
    /// For a partition's exchange: counts per sub-stream and sampled keys.
    pub skew: Option<SkewTap>,
    /// Scratch: each item's target while a batch is dealt out by key.
    pub targets: Vec<u32>,
    /// The counts of the only target's buffer while it is one batch pushed whole.
    pub whole: Option<Tally>,
}

impl Exchange {
    /// Buffers a batch for the targets; `tally`: its counts, if made.
    pub fn push(&mut self, batch: Vec<Item>, tally: Option<Tally>) {
        let n = self.buffers.len();
        if n == 1 {
            if let Some(skew) = &mut self.skew {
                skew.count_batch(&batch);
            }
            if let Some(buffer) = self.buffers.first_mut() {
                if buffer.is_empty() {
                    *buffer = batch;
                    self.whole = tally;
                } else {
                    buffer.extend(batch);
                    self.whole = None;
                }
            }
            return;
        }
        match self.strategy {
            Strategy::Broadcast | Strategy::Shard => self.push_copied(batch),
            Strategy::Hash | Strategy::RoundRobin | Strategy::Forward => self.push_dealt(batch),
        }
    }

    /// The one buffer `item` goes to; `None` for a watermark, which goes to every buffer.
    /// (A broadcast record and a sharded mini-batch go everywhere: `push_copied` sees to them.)
    fn target_of(&mut self, item: &Item, n: usize) -> Option<usize> {
        Some(match item {
            Item::Watermark(_) => return None,
            Item::Record(Record { key, .. }) | Item::Window(WindowResult { key, .. })
                if self.strategy == Strategy::Hash =>
            {
                key_partition(key, n)
            }
            Item::Record(_) if self.strategy == Strategy::Forward => 0,
            _ => self.round_robin(),
        })
    }

    /// Broadcast and shard exchanges, which copy records or split mini-batches: item by item.
    fn push_copied(&mut self, batch: Vec<Item>) {
        let n = self.buffers.len();
        for (index, item) in batch.into_iter().enumerate() {
            match &item {
                Item::Record(_) if self.strategy == Strategy::Broadcast => {
                    for buffer in &mut self.buffers {
                        buffer.push(item.clone());
                    }
                    continue;
                }
                Item::Batch(batch) if self.strategy == Strategy::Shard => {
                    for (buffer, shard) in self.buffers.iter_mut().zip(shard_rows(batch, n)) {
                        buffer.push(Item::Batch(shard));
                    }
                    continue;
                }
                _ => {}
            }
            let Some(target) = self.target_of(&item, n) else {
                if let Item::Watermark(w) = item {
                    for buffer in &mut self.buffers {
                        push_watermark(buffer, w);
                    }
                }
                continue;
            };
            if let (Some(skew), Item::Record(r)) = (&mut self.skew, &item) {
                skew.count(target, &r.key, index);
            }
            if let Some(buffer) = self.buffers.get_mut(target) {
                buffer.push(item);
            }
        }
    }

    /// Exchanges that send each item to one buffer (by key, in turn, or forward), the hot path
    /// of a partition: first every item's target (reading keys only), then the moves into
    /// buffers sized for their share, so an item is copied once, straight from the batch into
    /// its buffer.
    fn push_dealt(&mut self, batch: Vec<Item>) {
        let n = self.buffers.len();
        let mut counts = vec![0usize; n];
        let mut watermarks = false;
        let mut targets = std::mem::take(&mut self.targets);
        targets.clear();
        for (index, item) in batch.iter().enumerate() {
            let Some(target) = self.target_of(item, n) else {
                watermarks = true;
                targets.push(u32::MAX);
                continue;
            };
            if let (Some(skew), Item::Record(r)) = (&mut self.skew, item) {
                skew.count(target, &r.key, index);
            }
            if let Some(count) = counts.get_mut(target) {
                *count += 1;
            }
            targets.push(target as u32);
        }
        for (buffer, count) in self.buffers.iter_mut().zip(&counts) {
            buffer.reserve(count + usize::from(watermarks));
        }
        move_to_targets(batch, &targets, &mut self.buffers);
        self.targets = targets;
    }

    fn round_robin(&mut self) -> usize {
        let target = self.next;
        self.next = (self.next + 1) % self.buffers.len().max(1);
        target
    }

    /// Sends the buffered batches; returns how full (per mille) the fullest channel it sent
    /// on was, or `None` when it sent nothing. While a channel is full, the consumers the
    /// sending thread hosts (`hosted`) read their input.
    pub fn flush(
        &mut self,
        shared: &Shared,
        mut hosted: Option<&mut Colocated>,
    ) -> Result<Option<u32>, TaskError> {
        if let (Some(tap), Some(totals)) = (&mut self.skew, &self.counters.skew) {
            tap.merge_into(totals);
        }
        let mut fullest = None;
        for (buffer, sender) in self.buffers.iter_mut().zip(&self.senders) {
            if buffer.is_empty() {
                continue;
            }
            let batch = std::mem::take(buffer);
            let tally = self.whole.take();
            send(
                sender,
                Message::Items(batch, tally),
                shared,
                hosted.as_deref_mut(),
            )?;
            fullest = Some(fullest.unwrap_or(0).max(sender.len()));
        }
        Ok(fullest.map(|f| (f * 1000 / self.capacity.max(1)) as u32))
    }

    /// Sends what is buffered and marks the end of a split source's block on every channel,
    /// so the instances downstream can read the blocks back in order.
    pub fn end_block(
        &mut self,
        shared: &Shared,
        hosted: Option<&mut Colocated>,
    ) -> Result<(), TaskError> {
        self.flush_and_mark(|| Message::BlockEnd, shared, hosted)
    }

    /// Sends what is buffered and the end of this input on every channel.
    pub fn end(
        &mut self,
        shared: &Shared,
        hosted: Option<&mut Colocated>,
    ) -> Result<(), TaskError> {
        self.flush_and_mark(|| Message::End, shared, hosted)
    }

    fn flush_and_mark(
        &mut self,
        mark: fn() -> Message,
        shared: &Shared,
        mut hosted: Option<&mut Colocated>,
    ) -> Result<(), TaskError> {
        self.flush(shared, hosted.as_deref_mut())?;
        for sender in &self.senders {
            send(sender, mark(), shared, hosted.as_deref_mut())?;
        }
        Ok(())
    }
}

/// Moves each item of `batch` to the end of `buffers[targets[i]]` (a watermark, target
/// `u32::MAX`, to every buffer), keeping each buffer's order. Every buffer must have room
/// for its items (reserved by the caller).
///
/// The items are moved bitwise, straight from the batch into their buffer: moving an `Item`
/// by value through a local made the compiler copy it in overlapping pieces that stall the
/// store-to-load path, a quarter of the whole exchange's time at parallelism 2.
fn move_to_targets(mut batch: Vec<Item>, targets: &[u32], buffers: &mut [Vec<Item>]) {
    let len = batch.len().min(targets.len());
    // SAFETY: from here on the batch owns no items: each of its first `len` items is moved
    // at most once (copied bitwise into a buffer whose length then grows by one), and a
    // watermark is plain data that needs no drop. An item not moved (a target out of range,
    // or a panic half way) is leaked, never dropped twice.
    unsafe {
        batch.set_len(0);
        let items = batch.as_ptr();
        for (i, &target) in targets[..len].iter().enumerate() {
            let item = items.add(i);
            if target == u32::MAX {
                if let Item::Watermark(w) = &*item {
                    for buffer in buffers.iter_mut() {
                        push_watermark(buffer, *w);
                    }
                }
                continue;
            }
            let Some(buffer) = buffers.get_mut(target as usize) else {
                continue;
            };
            buffer.reserve(1);
            let end = buffer.len();
            std::ptr::copy_nonoverlapping(item, buffer.as_mut_ptr().add(end), 1);
            buffer.set_len(end + 1);
        }
    }
}

/// Splits a mini-batch into `n` shards of consecutive rows (some may be empty), each knowing
/// the whole batch's size so replicas can weight their gradients.
fn shard_rows(batch: &Arc<MiniBatch>, n: usize) -> Vec<Arc<MiniBatch>> {
    let rows = batch.rows();
    (0..n)
        .map(|i| {
            let (from, to) = (i * rows / n, (i + 1) * rows / n);
            let indices: Vec<usize> = (from..to).collect();
            let labels = batch
                .labels
                .select(&indices)
                .unwrap_or_else(|_| batch.labels.clone());
            Arc::new(MiniBatch {
                x: batch.x.slice(ndarray::s![from..to, ..]).to_owned(),
                labels,
                first_ts: batch.first_ts,
                last_ts: batch.last_ts,
                seq: batch.seq,
                total_rows: rows,
                lengths: batch
                    .lengths
                    .as_ref()
                    .map(|l| l.get(from..to).unwrap_or_default().to_vec()),
            })
        })
        .collect()
}

/// A blocking send that gives up when the run stops or the receiver is gone. A thread that
/// hosts consumers (`hosted`) lets them read while the channel is full, and waits for room or
/// for their input, whichever comes first.
pub fn send(
    sender: &Sender<Message>,
    mut message: Message,
    shared: &Shared,
    hosted: Option<&mut Colocated>,
) -> Result<(), TaskError> {
    if let Some(hosted) = hosted.filter(|h| !h.is_empty()) {
        loop {
            match sender.try_send(message) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(m)) => message = m,
                Err(TrySendError::Disconnected(_)) => return Err(TaskError::Disconnected),
            }
            if shared.stop_requested() {
                return Err(TaskError::Stopped);
            }
            if !hosted.poll(shared)? {
                hosted.wait(Some(sender), POLL);
            }
        }
    }
    loop {
        match sender.send_timeout(message, POLL) {
            Ok(()) => return Ok(()),
            Err(SendTimeoutError::Timeout(m)) => {
                if shared.stop_requested() {
                    return Err(TaskError::Stopped);
                }
                message = m;
            }
            Err(SendTimeoutError::Disconnected(_)) => return Err(TaskError::Disconnected),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Key, Record};

    fn exchange(strategy: Strategy, targets: usize) -> Exchange {
        let (senders, _receivers): (Vec<_>, Vec<_>) =
            (0..targets).map(|_| crossbeam_channel::bounded(1)).unzip();
        Exchange {
            strategy,
            senders,
            buffers: vec![Vec::new(); targets],
            next: 0,
            counters: Arc::new(NodeCounters::new(crate::graph::NodeId(1), "p", 1)),
            capacity: 1,
            skew: None,
            targets: Vec::new(),
            whole: None,
        }
    }

    fn records(n: i64) -> Vec<Item> {
        (0..n)
            .map(|i| {
                Item::Record(Record {
                    key: Key::Int(i % 7),
                    ts: i,
                    values: Default::default(),
                })
            })
            .collect()
    }

    fn timestamps(buffer: &[Item]) -> Vec<i64> {
        buffer
            .iter()
            .filter_map(|i| match i {
                Item::Record(r) => Some(r.ts),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn hash_sends_every_record_once_and_each_key_to_one_target() {
        let mut e = exchange(Strategy::Hash, 3);
        let mut batch = records(100);
        batch.push(Item::Watermark(99));
        e.push(batch, None);
        let mut all: Vec<i64> = e.buffers.iter().flat_map(|b| timestamps(b)).collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..100).collect::<Vec<_>>(),
            "none created, none dropped"
        );
        for (target, buffer) in e.buffers.iter().enumerate() {
            for item in buffer {
                if let Item::Record(r) = item {
                    assert_eq!(key_partition(&r.key, 3), target);
                }
            }
            assert_eq!(
                buffer.last(),
                Some(&Item::Watermark(99)),
                "watermarks go everywhere"
            );
        }
    }

    #[test]
    fn hash_keeps_each_targets_order_around_a_watermark_and_owns_heap_keys_once() {
        let mut e = exchange(Strategy::Hash, 2);
        // Keys longer than the inline 24 bytes live on the heap: a double drop or a lost item
        // shows as a changed or missing key.
        let record = |i: i64| {
            Item::Record(Record {
                key: Key::text(&format!("a key longer than twenty-four bytes {}", i % 5)),
                ts: i,
                values: Default::default(),
            })
        };
        let mut batch: Vec<Item> = (0..50).map(record).collect();
        batch.push(Item::Watermark(49));
        batch.extend((50..100).map(record));
        e.push(batch, None);
        for (target, buffer) in e.buffers.iter().enumerate() {
            let watermark = buffer
                .iter()
                .position(|i| *i == Item::Watermark(49))
                .expect("the watermark reaches every target");
            let ts = timestamps(buffer);
            assert!(ts.windows(2).all(|w| w[0] < w[1]), "order kept: {ts:?}");
            assert!(ts[..watermark].iter().all(|&t| t < 50), "records before it");
            assert!(ts[watermark..].iter().all(|&t| t >= 50), "records after it");
            for item in buffer {
                if let Item::Record(r) = item {
                    let expected = format!("a key longer than twenty-four bytes {}", r.ts % 5);
                    assert_eq!(r.key, Key::text(&expected));
                    assert_eq!(key_partition(&r.key, 2), target);
                }
            }
        }
        let total: usize = e.buffers.iter().map(|b| timestamps(b).len()).sum();
        assert_eq!(total, 100);
    }

    #[test]
    fn round_robin_deals_records_in_turn_and_broadcast_copies_them() {
        let mut e = exchange(Strategy::RoundRobin, 2);
        e.push(records(4), None);
        assert_eq!(timestamps(&e.buffers[0]), vec![0, 2]);
        assert_eq!(timestamps(&e.buffers[1]), vec![1, 3]);
        let mut b = exchange(Strategy::Broadcast, 2);
        b.push(records(3), None);
        assert_eq!(timestamps(&b.buffers[0]), vec![0, 1, 2]);
        assert_eq!(timestamps(&b.buffers[1]), vec![0, 1, 2]);
    }

    #[test]
    fn shard_splits_a_mini_batch_by_rows_and_keeps_its_size() {
        let batch = MiniBatch {
            x: ndarray::Array2::from_shape_fn((5, 2), |(r, c)| (r * 2 + c) as f32),
            labels: crate::nn::Labels::Classes(vec![0, 1, 0, 1, 1]),
            first_ts: 0,
            last_ts: 4,
            seq: 3,
            total_rows: 5,
            lengths: None,
        };
        let shards = shard_rows(&Arc::new(batch), 2);
        assert_eq!(shards.iter().map(|s| s.rows()).collect::<Vec<_>>(), [2, 3]);
        assert!(shards.iter().all(|s| s.total_rows == 5 && s.seq == 3));
        assert_eq!(shards[1].x[[0, 0]], 4.0, "the second shard starts at row 2");
    }
}
