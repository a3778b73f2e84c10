//! Splitting a source over parallel instances without changing its stream: the records (by
//! index) are cut into blocks of equal length and dealt out in turn, block b to instance
//! b mod n. Downstream reads the instances' blocks back in block order (exec's ordered
//! exchange), so n instances yield exactly the stream of one, record for record, while each
//! instance makes only its share. Interleaved blocks keep the instances' event times close
//! together, so the windows downstream hold no more state than with one instance. A CSV file
//! deals out byte blocks that end at record boundaries instead (`csv_blocks`); its instances
//! use `instance` and `of` and choose their block size from the file's.

use std::ops::Range;

/// Records per block when a source is split: big enough that a block's bookkeeping (one
/// channel message per downstream instance) is cheap, small enough that instances stay close
/// in event time.
pub const DEFAULT_BLOCK: u64 = 4096;

/// Which blocks of a source's records one instance makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// This instance, `0..of`.
    pub instance: u64,
    /// How many instances share the source.
    pub of: u64,
    /// Records per block (a CSV source cuts its blocks in bytes, see `csv_blocks`).
    pub block: u64,
}

impl Split {
    /// One instance makes every record.
    pub fn whole() -> Self {
        Self {
            instance: 0,
            of: 1,
            block: u64::MAX,
        }
    }

    /// Instance `instance` of `of`, in blocks of [`DEFAULT_BLOCK`] records.
    pub fn new(instance: usize, of: usize) -> Self {
        let of = of.max(1) as u64;
        Self {
            instance: (instance as u64).min(of - 1),
            of,
            block: DEFAULT_BLOCK,
        }
    }

    pub fn is_whole(&self) -> bool {
        self.of == 1
    }
}

/// Walks one instance's record indices, block by block.
#[derive(Clone, Debug)]
pub struct SplitCursor {
    split: Split,
    /// The next index this instance makes.
    next: u64,
    /// The end of the block `next` lies in.
    block_end: u64,
    /// Indices this instance has made.
    made: u64,
    /// The last `take` finished one of this instance's blocks.
    block_ended: bool,
}

impl SplitCursor {
    pub fn new(split: Split) -> Self {
        let next = split.instance.saturating_mul(split.block);
        Self {
            split,
            next,
            block_end: next.saturating_add(split.block),
            made: 0,
            block_ended: false,
        }
    }

    /// The next indices this instance makes: at most `max`, all below `limit`, all in one block.
    pub fn take(&mut self, max: u64, limit: u64) -> Range<u64> {
        let end = self
            .block_end
            .min(limit)
            .min(self.next.saturating_add(max))
            .max(self.next);
        let range = self.next..end;
        self.made += end - self.next;
        self.next = end;
        self.block_ended = end == self.block_end && !range.is_empty();
        if self.block_ended {
            // Skip the other instances' blocks.
            let skip = (self.split.of - 1).saturating_mul(self.split.block);
            self.next = self.next.saturating_add(skip);
            self.block_end = self.next.saturating_add(self.split.block);
        }
        range
    }

    /// Whether this instance has made all its indices below `limit`.
    pub fn exhausted(&self, limit: u64) -> bool {
        self.next >= limit
    }

    /// Whether the last `take` finished a block.
    pub fn block_ended(&self) -> bool {
        self.block_ended
    }

    /// Indices made so far.
    pub fn made(&self) -> u64 {
        self.made
    }

    /// How many of the indices below `limit` are this instance's.
    pub fn share(&self, limit: u64) -> u64 {
        let Split {
            instance,
            of,
            block,
        } = self.split;
        let full_rounds = limit / (block.saturating_mul(of)).max(1);
        let rest = limit - full_rounds * block.saturating_mul(of);
        let in_last = rest
            .saturating_sub(instance.saturating_mul(block))
            .min(block);
        full_rounds * block + in_last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indices(split: Split, limit: u64, max: u64) -> Vec<(Vec<u64>, bool)> {
        let mut cursor = SplitCursor::new(split);
        let mut out = Vec::new();
        while !cursor.exhausted(limit) {
            let range = cursor.take(max, limit);
            out.push((range.collect(), cursor.block_ended()));
        }
        out
    }

    #[test]
    fn blocks_are_dealt_in_turn_and_together_cover_every_index_once() {
        let limit = 23;
        let split = |instance| Split {
            instance,
            of: 3,
            block: 4,
        };
        let a = indices(split(0), limit, 100);
        assert_eq!(
            a,
            vec![
                (vec![0, 1, 2, 3], true),
                (vec![12, 13, 14, 15], true),
                // The last block is cut short by the end of the data: it never "ends".
            ]
        );
        let c = indices(split(2), limit, 3);
        assert_eq!(
            c,
            vec![
                (vec![8, 9, 10], false),
                (vec![11], true),
                (vec![20, 21, 22], false),
            ]
        );
        let mut all: Vec<u64> = (0..3)
            .flat_map(|i| indices(split(i), limit, 5))
            .flat_map(|(v, _)| v)
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..limit).collect::<Vec<_>>());
        for i in 0..3 {
            let mut cursor = SplitCursor::new(split(i));
            let share = cursor.share(limit);
            while !cursor.exhausted(limit) {
                cursor.take(2, limit);
            }
            assert_eq!(cursor.made(), share, "instance {i}");
        }
    }

    #[test]
    fn one_instance_walks_every_index_in_order() {
        let got: Vec<u64> = indices(Split::whole(), 10, 4)
            .into_iter()
            .flat_map(|(v, ended)| {
                assert!(!ended);
                v
            })
            .collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    }
}
