//! Tasks that share their source's thread (Flink's slot sharing): the window instances fed by a
//! split source chain run on the threads of the source instances, so parallelism p on p cores is
//! p busy threads, not 2p that take turns. A source instance's thread runs its chain, and between
//! batches, and whenever a channel it sends on is full, the consumer instances it hosts read what
//! has arrived for them. Nobody on such a thread ever blocks on one channel alone: it waits until
//! its send has room *or* one of its consumers has input, so two threads that feed each other's
//! consumers cannot wait for each other for ever.

use super::control::Shared;
use super::exchange::{Message, POLL};
use super::task::{Task, TaskError};
use crossbeam_channel::{Receiver, RecvTimeoutError, Select, Sender, TryRecvError};
use std::time::Duration;

/// Messages one consumer takes per turn before the thread goes back to its source: enough that
/// a turn is worth the switch, few enough that the source's own blocks keep flowing.
const MESSAGES_PER_TURN: usize = 64;

/// What one read of an ordered input did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Took a message (and ran what it fed).
    Took,
    /// Nothing has arrived on the channel whose turn it is.
    Empty,
    /// Every instance has ended and the task's input lane is closed.
    Done,
}

/// Reads a split source chain's instances in block order: from instance `cursor` until it ends
/// a block, then from the next. Its watermarks, read in that order, are the one-instance
/// stream's (a watermark is a running maximum, and every earlier block has been read), so the
/// lane keeps the highest; it ends when every instance has.
pub struct OrderedReader {
    open: Vec<(Receiver<Message>, usize)>,
    lane: usize,
    cursor: usize,
    done: bool,
}

impl OrderedReader {
    pub fn new(open: Vec<(Receiver<Message>, usize)>) -> Self {
        let lane = open.first().map_or(0, |(_, lane)| *lane);
        Self {
            open,
            lane,
            cursor: 0,
            done: false,
        }
    }

    /// The channel whose turn it is (what the reader waits on), if it has not ended.
    pub fn waiting_on(&self) -> Option<&Receiver<Message>> {
        if self.done {
            return None;
        }
        self.open
            .get(self.cursor % self.open.len().max(1))
            .map(|(rx, _)| rx)
    }

    /// Reads one message for `task`: without waiting (`wait` = `None`) or waiting at most `wait`.
    pub fn step(
        &mut self,
        task: &mut Task,
        shared: &Shared,
        wait: Option<Duration>,
    ) -> Result<Step, TaskError> {
        if self.done {
            return Ok(Step::Done);
        }
        if self.open.is_empty() {
            self.done = true;
            task.end_lane(0, self.lane, shared)?;
            task.flush(shared)?;
            return Ok(Step::Done);
        }
        self.cursor %= self.open.len();
        let Some((rx, _)) = self.open.get(self.cursor) else {
            return Ok(Step::Empty);
        };
        let received = match wait {
            None => rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            }),
            Some(wait) => rx.recv_timeout(wait),
        };
        match received {
            Ok(Message::Items(items, tally)) => {
                task.deliver_counted(0, self.lane, items, tally)?;
                task.flush(shared)?;
            }
            Ok(Message::BlockEnd) => self.cursor += 1,
            Ok(Message::End) => {
                self.open.remove(self.cursor);
            }
            Err(RecvTimeoutError::Timeout) => return Ok(Step::Empty),
            // The sender vanished without an end: its task stopped or failed and says so.
            Err(RecvTimeoutError::Disconnected) => return Err(TaskError::Disconnected),
        }
        Ok(Step::Took)
    }
}

/// The consumer task instances a source instance's thread runs besides its own chain.
pub struct Colocated {
    tasks: Vec<(Task, OrderedReader)>,
    /// The consumer whose code runs now, to name the node if it panics.
    active: Option<usize>,
}

impl Colocated {
    pub fn new() -> Self {
        Self {
            tasks: Vec::new(),
            active: None,
        }
    }

    /// Takes a consumer task that reads a split chain in order; gives it back if it does not.
    pub fn host(&mut self, mut task: Task) -> Result<(), Box<Task>> {
        match task.input.take() {
            Some(super::task::TaskInput::Ordered(channels)) => {
                self.tasks.push((task, OrderedReader::new(channels)));
                Ok(())
            }
            other => {
                task.input = other;
                Err(Box::new(task))
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Lets every hosted consumer read what has arrived, up to a turn's worth each, without
    /// waiting; returns whether any of them took something.
    pub fn poll(&mut self, shared: &Shared) -> Result<bool, TaskError> {
        let mut progress = false;
        for (index, (task, reader)) in self.tasks.iter_mut().enumerate() {
            self.active = Some(index);
            for _ in 0..MESSAGES_PER_TURN {
                match reader.step(task, shared, None)? {
                    Step::Took => progress = true,
                    Step::Empty | Step::Done => break,
                }
            }
        }
        self.active = None;
        Ok(progress)
    }

    /// Waits at most `timeout` until `send` has room or a hosted consumer has input.
    pub fn wait(&self, send: Option<&Sender<Message>>, timeout: Duration) {
        let mut select = Select::new();
        let mut any = false;
        if let Some(sender) = send {
            select.send(sender);
            any = true;
        }
        for rx in self.tasks.iter().filter_map(|(_, r)| r.waiting_on()) {
            select.recv(rx);
            any = true;
        }
        if any {
            let _ = select.ready_timeout(timeout);
        }
    }

    /// Runs the hosted consumers to their end, once the thread's own source has ended: round
    /// robin, never waiting on one consumer while another could run (another thread's source
    /// may be waiting for exactly that one).
    pub fn finish(&mut self, shared: &Shared) -> Result<(), TaskError> {
        loop {
            if shared.stop_requested() {
                return Err(TaskError::Stopped);
            }
            let progress = self.poll(shared)?;
            if self.tasks.iter().all(|(_, r)| r.done) {
                return Ok(());
            }
            if !progress {
                self.wait(None, POLL);
            }
        }
    }

    /// The node whose code was running when a panic unwound through this thread.
    pub fn panicked_node(&self) -> Option<String> {
        let (task, _) = self.tasks.get(self.active?)?;
        Some(task.panicked_node())
    }
}

impl Default for Colocated {
    fn default() -> Self {
        Self::new()
    }
}
