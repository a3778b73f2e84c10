//! One task: a chain (tree) of operator instances on one thread, fed by a source or by bounded
//! channels, routing its outputs locally or through exchanges. It counts what passes and stops
//! promptly when told to; watermark minimums live in `lanes`, routing across threads in
//! `exchange`, and the window views' sampling in `window_tap`.

use super::colocated::{Colocated, OrderedReader, Step};
use super::control::Shared;
use super::exchange::{Exchange, Message, POLL};
use super::lanes::Lanes;
use super::pace::{BatchSpan, SourcePacer, SourceRule};
use super::taps::sample_late;
use super::telemetry::NodeCounters;
use super::window_tap::WindowTap;
use crate::stream::{Item, OpError, Operator, Outputs, Source, SourceStatus};
use crossbeam_channel::{Receiver, RecvTimeoutError, Select};
use smallvec::SmallVec;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// What a batch holds, counted in one pass and handed along with the batch to the nodes it
/// reaches unchanged, so a batch is walked once per hop, not once per count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Tally {
    /// Records and window results (everything but watermarks).
    records: u64,
    /// Newest event time of its records (`i64::MIN` if none).
    max_ts: i64,
    /// Its last watermark.
    watermark: Option<i64>,
}

impl Tally {
    fn of(items: &[Item]) -> Self {
        let mut tally = Tally {
            records: 0,
            max_ts: i64::MIN,
            watermark: None,
        };
        for item in items {
            match item {
                Item::Watermark(w) => tally.watermark = Some(*w),
                Item::Record(r) => {
                    tally.records += 1;
                    tally.max_ts = tally.max_ts.max(r.ts);
                }
                Item::Window(_) | Item::Batch(_) | Item::Model(_) => tally.records += 1,
            }
        }
        tally
    }
}

/// What a paced source needs to know of a batch it filled.
fn batch_span(
    items: &[Item],
    progress_before: Option<f64>,
    progress_after: Option<f64>,
) -> BatchSpan {
    let mut span = BatchSpan {
        records: 0,
        first_ts: None,
        newest_ts: None,
        progress_before,
        progress_after,
    };
    for item in items {
        if let Item::Record(r) = item {
            span.records += 1;
            span.first_ts.get_or_insert(r.ts);
            span.newest_ts = Some(span.newest_ts.map_or(r.ts, |t| t.max(r.ts)));
        }
    }
    span
}

/// Why a task ended early.
#[derive(Debug)]
pub enum TaskError {
    /// The run is stopping (asked to, or another task failed).
    Stopped,
    /// A channel's other side vanished without an end: its task failed, panicked or stopped,
    /// and reports that itself (this task must not report a stop first: it would hide the
    /// other task's failure, which may be recorded a moment later).
    Disconnected,
    Failed {
        node: String,
        message: String,
    },
}

/// Where one output port's items go.
#[derive(Clone, Copy, Debug)]
pub enum Route {
    /// To a node of this task (its lane 0).
    Local(usize),
    /// Through an exchange of this task.
    Exchange(usize),
}

/// One operator instance inside a task.
pub struct TaskNode {
    pub op: Box<dyn Operator>,
    pub outputs: Outputs,
    pub routes: Vec<Vec<Route>>,
    pub lanes: Lanes,
    pub counters: Arc<NodeCounters>,
    pub instance: usize,
    /// For window nodes: how to read firings for the telemetry's recent-window samples.
    pub window_tap: Option<WindowTap>,
    /// The operator forwards everything unchanged (sources' heads, Partition, Merge): whole
    /// batches move to the output without touching each item.
    pub forward_only: bool,
}

impl TaskNode {
    /// Counts a batch arriving on the node's only input and advances its watermark.
    fn count_single_input(&mut self, items: &[Item], tally: Option<Tally>) {
        let Tally {
            records,
            max_ts,
            watermark,
        } = tally.unwrap_or_else(|| Tally::of(items));
        self.counters.records_in.fetch_add(records, Relaxed);
        if let Some(c) = self.counters.instance_in.get(self.instance) {
            c.fetch_add(records, Relaxed);
        }
        self.counters.max_event_time.fetch_max(max_ts, Relaxed);
        if let Some(w) = watermark
            && let Some(advanced) = self.lanes.advance(0, w)
        {
            self.counters.watermarks[self.instance].store(advanced, Relaxed);
        }
    }
}

/// A batch waiting to be handed to a node of this task.
struct Delivery {
    index: usize,
    lane: usize,
    items: Vec<Item>,
    /// The batch's counts, when the node that sent it has made them.
    tally: Option<Tally>,
}

/// A step of ending a task's nodes: a node's lane, an exchange to the next task, or a node
/// whose consumers have all ended.
enum EndStep {
    Lane(usize, usize),
    Exchange(usize),
    Done(usize),
}

/// What feeds a task's head node.
pub enum TaskInput {
    Source {
        source: Box<dyn Source>,
        rate_per_s: f64,
    },
    /// Each receiver with the head's lane it feeds.
    Channels(Vec<(Receiver<Message>, usize)>),
    /// The instances of a split source chain, in instance order, all feeding one lane: their
    /// blocks are read back in turn (block b from instance b mod n), which is the order one
    /// source instance would have made them in.
    Ordered(Vec<(Receiver<Message>, usize)>),
}

pub struct Task {
    pub name: String,
    pub nodes: Vec<TaskNode>,
    pub exchanges: Vec<Exchange>,
    pub input: Option<TaskInput>,
    pub batch_size: usize,
    /// The node whose code runs now, to name it if it panics.
    pub current: usize,
    /// Consumer tasks that run on this task's thread (a split source instance hosts the
    /// window instances it shares a core with).
    pub hosted: Option<Box<Colocated>>,
}

impl Task {
    pub fn node_name(&self, index: usize) -> String {
        self.nodes
            .get(index)
            .map(|n| n.counters.name.clone())
            .unwrap_or_else(|| self.name.clone())
    }

    /// The node whose code was running when a panic unwound through this task's thread.
    pub fn panicked_node(&self) -> String {
        self.hosted
            .as_ref()
            .and_then(|h| h.panicked_node())
            .unwrap_or_else(|| self.node_name(self.current))
    }

    fn failed(&self, index: usize, error: OpError) -> TaskError {
        TaskError::Failed {
            node: self.node_name(index),
            message: error.0,
        }
    }

    /// Feeds a batch to a node's lane and routes what it emits, and what that makes the
    /// nodes downstream in this task emit.
    pub(super) fn deliver(
        &mut self,
        index: usize,
        lane: usize,
        items: Vec<Item>,
    ) -> Result<(), TaskError> {
        self.deliver_counted(index, lane, items, None)
    }

    /// As `deliver`, with the batch's counts when the sender made them.
    pub(super) fn deliver_counted(
        &mut self,
        index: usize,
        lane: usize,
        items: Vec<Item>,
        tally: Option<Tally>,
    ) -> Result<(), TaskError> {
        self.drain(vec![Delivery {
            index,
            lane,
            items,
            tally,
        }])
    }

    /// Runs pending deliveries depth first (a node's first consumer and everything below it
    /// before its second), with an explicit stack: a chain of thousands of operators needs
    /// no deeper native stack than a chain of one.
    fn drain(&mut self, mut pending: Vec<Delivery>) -> Result<(), TaskError> {
        while let Some(Delivery {
            index,
            lane,
            items,
            tally,
        }) = pending.pop()
        {
            let forwarded = self.run_operator(index, lane, items, tally)?;
            self.take_outputs_counted(index, &mut pending, forwarded)?;
        }
        Ok(())
    }

    /// Hands a batch to one node's operator; its output stays in the node's buffers. Returns
    /// the counts of port 0's buffer when it is exactly the batch forwarded unchanged.
    fn run_operator(
        &mut self,
        index: usize,
        lane: usize,
        items: Vec<Item>,
        tally: Option<Tally>,
    ) -> Result<Option<Tally>, TaskError> {
        self.current = index;
        let Some(node) = self.nodes.get_mut(index) else {
            return Ok(None);
        };
        if node.lanes.ports.len() == 1 {
            return if node.forward_only {
                Ok(self.forward(index, items, tally))
            } else {
                self.deliver_batch(index, items, tally).map(|()| None)
            };
        }
        let port = node.lanes.ports.get(lane).copied().unwrap_or(0);
        if let Some(buffer) = node.outputs.ports.first_mut() {
            buffer.reserve(items.len());
        }
        let mut records = 0u64;
        let mut max_ts = i64::MIN;
        let mut watermark = None;
        let mut result = Ok(());
        for item in items {
            match item {
                Item::Watermark(w) => {
                    if let Some(combined) = node.lanes.advance(lane, w) {
                        watermark = Some(combined);
                        result = node.op.on_watermark(combined, &mut node.outputs);
                    }
                }
                other => {
                    records += 1;
                    if let Item::Record(r) = &other {
                        max_ts = max_ts.max(r.ts);
                    }
                    result = node.op.on_item(port, other, &mut node.outputs);
                }
            }
            if result.is_err() {
                break;
            }
        }
        node.counters.records_in.fetch_add(records, Relaxed);
        if let Some(c) = node.counters.instance_in.get(node.instance) {
            c.fetch_add(records, Relaxed);
        }
        node.counters.max_event_time.fetch_max(max_ts, Relaxed);
        if let Some(w) = watermark {
            node.counters.watermarks[node.instance].store(w, Relaxed);
        }
        if let Err(e) = result {
            return Err(self.failed(index, e));
        }
        Ok(None)
    }

    /// Hands a whole batch from a node's only input to its operator, counting first.
    fn deliver_batch(
        &mut self,
        index: usize,
        items: Vec<Item>,
        tally: Option<Tally>,
    ) -> Result<(), TaskError> {
        let Some(node) = self.nodes.get_mut(index) else {
            return Ok(());
        };
        node.count_single_input(&items, tally);
        if let Some(buffer) = node.outputs.ports.first_mut() {
            buffer.reserve(items.len());
        }
        let port = node.lanes.ports.first().copied().unwrap_or(0);
        if let Err(e) = node.op.on_batch(port, items, &mut node.outputs) {
            return Err(self.failed(index, e));
        }
        Ok(())
    }

    /// Passes a whole batch through a forwarding node, counting as it goes. Returns the
    /// batch's counts when it became the node's whole output (they are the output's too).
    fn forward(&mut self, index: usize, items: Vec<Item>, tally: Option<Tally>) -> Option<Tally> {
        let node = self.nodes.get_mut(index)?;
        let tally = tally.unwrap_or_else(|| Tally::of(&items));
        node.count_single_input(&items, Some(tally));
        let whole = !node.outputs.holds_watermark();
        let buffer = node.outputs.ports.first_mut()?;
        if buffer.is_empty() {
            *buffer = items;
            whole.then_some(tally)
        } else {
            buffer.extend(items);
            None
        }
    }

    /// Moves a node's output buffers to their routes and runs the local ones to the end.
    fn route(&mut self, index: usize) -> Result<(), TaskError> {
        let mut pending = Vec::new();
        self.take_outputs(index, &mut pending)?;
        self.drain(pending)
    }

    fn take_outputs(&mut self, index: usize, pending: &mut Vec<Delivery>) -> Result<(), TaskError> {
        self.take_outputs_counted(index, pending, None)
    }

    /// Moves a node's output buffers to their routes: exchanges buffer them now, local
    /// consumers are pushed on `pending` so that the first route is the next one run. Each
    /// batch is counted once here (`forwarded`: port 0's counts, already made) and its counts
    /// go with it to local consumers.
    fn take_outputs_counted(
        &mut self,
        index: usize,
        pending: &mut Vec<Delivery>,
        forwarded: Option<Tally>,
    ) -> Result<(), TaskError> {
        let Some(node) = self.nodes.get_mut(index) else {
            return Ok(());
        };
        node.outputs.settle();
        node.counters.late[node.instance].store(node.op.late_records(), Relaxed);
        let entries = node.op.state_entries() as u64;
        node.counters.state_entries[node.instance].store(entries, Relaxed);
        let mut work: Vec<(Vec<Item>, Vec<Route>, Tally)> = Vec::new();
        for (port, buffer) in node.outputs.ports.iter_mut().enumerate() {
            if buffer.is_empty() {
                continue;
            }
            let batch = std::mem::take(buffer);
            let tally = match forwarded {
                Some(tally) if port == 0 => tally,
                _ => Tally::of(&batch),
            };
            let records = tally.records;
            node.counters.records_out.fetch_add(records, Relaxed);
            if let Some(c) = node.counters.port_out.get(port) {
                c.fetch_add(records, Relaxed);
            }
            if node.counters.preview.watching() {
                node.counters.preview.record(port, &batch);
            }
            match (&node.window_tap, port) {
                (Some(tap), 0) => tap.record(&node.counters, &batch, records),
                (Some(_), _) => sample_late(&node.counters.late_points, &batch),
                (None, _) => {}
            }
            if port == 0 && !node.counters.metric_fields.is_empty() {
                node.counters.record_metrics(&batch);
            }
            let routes = node.routes.get(port).cloned().unwrap_or_default();
            work.push((batch, routes, tally));
        }
        let mut local = Vec::new();
        for (batch, routes, tally) in work {
            let Some((last, rest)) = routes.split_last() else {
                continue;
            };
            for route in rest {
                self.send_to(*route, batch.clone(), tally, &mut local);
            }
            self.send_to(*last, batch, tally, &mut local);
        }
        pending.extend(local.into_iter().rev());
        Ok(())
    }

    fn send_to(&mut self, route: Route, batch: Vec<Item>, tally: Tally, local: &mut Vec<Delivery>) {
        match route {
            Route::Local(child) => local.push(Delivery {
                index: child,
                lane: 0,
                items: batch,
                tally: Some(tally),
            }),
            Route::Exchange(e) => {
                if let Some(exchange) = self.exchanges.get_mut(e) {
                    exchange.push(batch, Some(tally));
                }
            }
        }
    }

    /// Ends a node's lane; when all its lanes ended, the node finishes and ends its consumers,
    /// depth first with an explicit stack (as `drain`), so chain length costs no native stack.
    pub(super) fn end_lane(
        &mut self,
        index: usize,
        lane: usize,
        shared: &Shared,
    ) -> Result<(), TaskError> {
        let mut steps = vec![EndStep::Lane(index, lane)];
        while let Some(step) = steps.pop() {
            match step {
                EndStep::Lane(index, lane) => {
                    if !self.end_one_lane(index, lane, shared)? {
                        continue;
                    }
                    steps.push(EndStep::Done(index));
                    let routes: Vec<Route> = self
                        .nodes
                        .get(index)
                        .map(|n| n.routes.iter().flatten().copied().collect())
                        .unwrap_or_default();
                    steps.extend(routes.into_iter().rev().map(|route| match route {
                        Route::Local(child) => EndStep::Lane(child, 0),
                        Route::Exchange(e) => EndStep::Exchange(e),
                    }));
                }
                EndStep::Exchange(e) => {
                    if let Some(exchange) = self.exchanges.get_mut(e) {
                        exchange.end(shared, self.hosted.as_deref_mut())?;
                    }
                }
                EndStep::Done(index) => {
                    if let Some(node) = self.nodes.get(index) {
                        node.counters.instances_done.fetch_add(1, Relaxed);
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends one lane of a node: the watermark the lane held back, and when it was the last
    /// lane the operator's end and end work. Returns whether every lane has ended.
    fn end_one_lane(
        &mut self,
        index: usize,
        lane: usize,
        shared: &Shared,
    ) -> Result<bool, TaskError> {
        self.current = index;
        let Some(node) = self.nodes.get_mut(index) else {
            return Ok(false);
        };
        let (advanced, all_ended) = node.lanes.end(lane);
        let mut result = Ok(());
        if let Some(w) = advanced {
            node.counters.watermarks[node.instance].store(w, Relaxed);
            result = node.op.on_watermark(w, &mut node.outputs);
        }
        if all_ended && result.is_ok() {
            result = node.op.on_end(&mut node.outputs);
        }
        if let Err(e) = result {
            return Err(self.failed(index, e));
        }
        self.route(index)?;
        if all_ended {
            self.finish_end_work(index, shared)?;
        }
        Ok(all_ended)
    }

    /// Runs a node's remaining end work piece by piece, passing each piece's output on.
    fn finish_end_work(&mut self, index: usize, shared: &Shared) -> Result<(), TaskError> {
        loop {
            if shared.stop_requested() {
                return Err(TaskError::Stopped);
            }
            let Some(node) = self.nodes.get_mut(index) else {
                return Ok(());
            };
            let more = match node.op.on_end_more(&mut node.outputs) {
                Ok(more) => more,
                Err(e) => return Err(self.failed(index, e)),
            };
            self.route(index)?;
            self.flush(shared)?;
            if !more {
                return Ok(());
            }
        }
    }

    /// Sends every exchange's buffers; a node's back-pressure is the fullest of the channels
    /// it sent on (a node with several exchanges takes the maximum, not the last).
    pub(super) fn flush(&mut self, shared: &Shared) -> Result<(), TaskError> {
        let mut readings: SmallVec<[(usize, u32); 4]> = SmallVec::new();
        for exchange in &mut self.exchanges {
            if let Some(permille) = exchange.flush(shared, self.hosted.as_deref_mut())? {
                let key = Arc::as_ptr(&exchange.counters) as usize;
                match readings.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, p)) => *p = (*p).max(permille),
                    None => readings.push((key, permille)),
                }
            }
        }
        for exchange in &self.exchanges {
            let key = Arc::as_ptr(&exchange.counters) as usize;
            if let Some((_, permille)) = readings.iter().find(|(k, _)| *k == key) {
                exchange
                    .counters
                    .backpressure_permille
                    .store(*permille, Relaxed);
            }
        }
        Ok(())
    }

    /// Runs the task to its end.
    pub fn run(&mut self, shared: &Shared) -> Result<(), TaskError> {
        match self.input.take() {
            Some(TaskInput::Source { source, rate_per_s }) => {
                self.run_source(source, rate_per_s, shared)
            }
            Some(TaskInput::Channels(receivers)) => self.run_channels(receivers, shared),
            Some(TaskInput::Ordered(receivers)) => self.run_ordered(receivers, shared),
            None => Ok(()),
        }
    }

    fn run_source(
        &mut self,
        mut source: Box<dyn Source>,
        rate_per_s: f64,
        shared: &Shared,
    ) -> Result<(), TaskError> {
        let started = Instant::now();
        let mut emitted = 0u64;
        let mut stepped_epoch = shared.step_epoch();
        let mut pacer = SourcePacer::default();
        let max_batch = if rate_per_s > 0.0 {
            ((rate_per_s * 0.02) as usize).clamp(1, self.batch_size)
        } else {
            self.batch_size
        };
        loop {
            // The source's own work (pacing, filling) is the head node's.
            self.current = 0;
            if shared.stop_requested() {
                return Err(TaskError::Stopped);
            }
            if shared.finish_requested() {
                break;
            }
            let stepped = shared.paused();
            if !shared.may_proceed(&mut stepped_epoch) {
                pacer.reanchor();
                if let Some(hosted) = self.hosted.as_deref_mut() {
                    hosted.poll(shared)?;
                }
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            if rate_per_s > 0.0 {
                // In seconds as f64: at a tiny rate the next record is due in more seconds
                // than a Duration holds (1e-300 records/s made `from_secs_f64` panic).
                let due_s = emitted as f64 / rate_per_s;
                let now_s = started.elapsed().as_secs_f64();
                if now_s < due_s {
                    std::thread::sleep(
                        POLL.mul_f64(((due_s - now_s) / POLL.as_secs_f64()).min(1.0)),
                    );
                    continue;
                }
            }
            let rule = pacer.rule(&shared.pace);
            let batch_size = pacer.batch_size(rule, max_batch);
            let progress_before = source.progress();
            // Room for the few watermarks a chained watermark operator writes into it: the
            // batch then passes on whole, never copied into a bigger buffer.
            let mut batch = Vec::with_capacity(batch_size + 8);
            self.current = 0;
            let status = source
                .fill(batch_size, &mut batch)
                .map_err(|e| self.failed(0, e))?;
            if let Some(head) = self.nodes.first() {
                head.counters
                    .skipped
                    .store(source.skipped_records(), Relaxed);
            }
            if !matches!(rule, SourceRule::Free | SourceRule::HeldBack) {
                let span = batch_span(&batch, progress_before, source.progress());
                let due = pacer.due(rule, &span, Instant::now(), max_batch);
                if !pacer.hold(due, shared, stepped) {
                    return Err(TaskError::Stopped);
                }
            }
            emitted += batch.len() as u64;
            self.deliver(0, 0, batch)?;
            if source.block_ended() {
                for exchange in &mut self.exchanges {
                    exchange.end_block(shared, self.hosted.as_deref_mut())?;
                }
            }
            self.flush(shared)?;
            // The consumers on this thread take what has arrived while it is fresh in cache.
            if let Some(hosted) = self.hosted.as_deref_mut() {
                hosted.poll(shared)?;
            }
            if status == SourceStatus::Exhausted {
                break;
            }
        }
        self.deliver(0, 0, vec![Item::Watermark(i64::MAX)])?;
        self.end_lane(0, 0, shared)?;
        self.flush(shared)?;
        match self.hosted.as_deref_mut() {
            Some(hosted) => hosted.finish(shared),
            None => Ok(()),
        }
    }

    fn run_channels(
        &mut self,
        mut open: Vec<(Receiver<Message>, usize)>,
        shared: &Shared,
    ) -> Result<(), TaskError> {
        while !open.is_empty() {
            if shared.stop_requested() {
                return Err(TaskError::Stopped);
            }
            let (index, received) = if let [(rx, _)] = open.as_slice() {
                match rx.recv_timeout(POLL) {
                    Ok(m) => (0, Ok(m)),
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => (0, Err(())),
                }
            } else {
                let mut select = Select::new();
                for (rx, _) in &open {
                    select.recv(rx);
                }
                let Ok(operation) = select.select_timeout(POLL) else {
                    continue;
                };
                let index = operation.index();
                let Some((rx, _)) = open.get(index) else {
                    continue;
                };
                (index, operation.recv(rx).map_err(|_| ()))
            };
            let lane = open.get(index).map(|(_, lane)| *lane).unwrap_or(0);
            match received {
                Ok(Message::Items(items, tally)) => {
                    self.deliver_counted(0, lane, items, tally)?;
                    self.flush(shared)?;
                }
                // Only split sources send block ends, and they are read by `run_ordered`.
                Ok(Message::BlockEnd) => {}
                Ok(Message::End) => {
                    open.remove(index);
                    self.end_lane(0, lane, shared)?;
                    self.flush(shared)?;
                }
                // The sender vanished without an end: its task stopped or failed and says so.
                Err(()) => return Err(TaskError::Disconnected),
            }
        }
        Ok(())
    }

    /// Reads a split source chain's instances in block order (see [`OrderedReader`]).
    fn run_ordered(
        &mut self,
        open: Vec<(Receiver<Message>, usize)>,
        shared: &Shared,
    ) -> Result<(), TaskError> {
        let mut reader = OrderedReader::new(open);
        loop {
            if shared.stop_requested() {
                return Err(TaskError::Stopped);
            }
            if reader.step(self, shared, Some(POLL))? == Step::Done {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Key, Record};

    #[test]
    fn a_tally_counts_everything_but_watermarks_and_keeps_the_newest_time_and_last_watermark() {
        let record = |ts| {
            Item::Record(Record {
                key: Key::Int(1),
                ts,
                values: Default::default(),
            })
        };
        let batch = vec![
            record(30),
            Item::Watermark(5),
            record(70),
            record(10),
            Item::Watermark(9),
        ];
        let tally = Tally::of(&batch);
        assert_eq!(
            tally,
            Tally {
                records: 3,
                max_ts: 70,
                watermark: Some(9)
            }
        );
        assert_eq!(
            Tally::of(&[]),
            Tally {
                records: 0,
                max_ts: i64::MIN,
                watermark: None
            }
        );
    }
}
