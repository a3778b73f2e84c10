//! A window node's `state_limit`, shared by all its parallel instances: windows, sessions and
//! keys are counted as they are created and handed back as they are dropped, so the node as a
//! whole never holds more than the limit — not per instance, not after a batch, not for one
//! record that would open millions of windows.

use super::OpError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The node's count, shared by its instances: entries held, plus entries leased to an
/// instance that it does not hold yet.
#[derive(Debug)]
struct NodeBudget {
    limit: u64,
    leased: AtomicU64,
    instances: usize,
    /// Entries an instance leases at a time (1: every entry is counted on the shared counter).
    lease: u64,
}

/// Most entries an instance leases at once. With several instances, a shared counter touched
/// for every window opened and fired moves its cache line between cores for every record (in
/// bench-window at parallelism 2 that tripled the cost of adding a record to its window).
const MAX_LEASE: u64 = 256;

/// One instance's view of its node's budget: it takes entries from a lease of its own, and
/// goes to the node's shared count only for a new lease. The node never holds more than the
/// limit (leases count against it); an instance may be refused while the others have up to
/// two leases each unused, so the lease is at most 1/64 of the limit per instance, and entries
/// are counted one by one when that is 1.
#[derive(Debug)]
pub struct StateBudget {
    node: Arc<NodeBudget>,
    /// Entries leased by this instance and not held. Only this instance writes it: plain
    /// loads and stores, no locked instruction.
    spare: AtomicU64,
}

impl StateBudget {
    /// A budget of `limit` entries shared by `instances` parallel instances; this is the view
    /// of one of them (`instance` gives the others theirs).
    pub fn new(limit: u64, instances: usize) -> Arc<Self> {
        let lease = (limit / (64 * instances.max(1) as u64)).clamp(1, MAX_LEASE);
        Arc::new(Self {
            node: Arc::new(NodeBudget {
                limit,
                leased: AtomicU64::new(0),
                instances,
                lease: if instances <= 1 { 1 } else { lease },
            }),
            spare: AtomicU64::new(0),
        })
    }

    /// Another instance's view of the same node budget.
    pub fn instance(&self) -> Arc<Self> {
        Arc::new(Self {
            node: Arc::clone(&self.node),
            spare: AtomicU64::new(0),
        })
    }

    /// No limit (operators built outside a run, e.g. in tests).
    pub fn unlimited() -> Arc<Self> {
        Self::new(u64::MAX, 1)
    }

    /// Takes one entry, or refuses (holding nothing more) when the limit is reached.
    #[inline]
    pub fn take(&self) -> Result<(), OpError> {
        let node = &*self.node;
        if node.instances <= 1 {
            // The only instance is the only writer: a plain read and write, no locked
            // instruction (which waits for every store before it, e.g. a new pane's).
            let held = node.leased.load(Relaxed);
            if held < node.limit {
                node.leased.store(held + 1, Relaxed);
                return Ok(());
            }
            return Err(self.refusal());
        }
        let spare = self.spare.load(Relaxed);
        if spare > 0 {
            self.spare.store(spare - 1, Relaxed);
            return Ok(());
        }
        self.lease_and_take()
    }

    /// Leases entries from the node's count and takes one of them; near the limit, where a
    /// whole lease no longer fits, just the one.
    #[cold]
    fn lease_and_take(&self) -> Result<(), OpError> {
        let node = &*self.node;
        let lease = node.lease;
        if lease > 1 {
            let before = node.leased.fetch_add(lease, Relaxed);
            if before.saturating_add(lease) <= node.limit {
                self.spare.store(lease - 1, Relaxed);
                return Ok(());
            }
            node.leased.fetch_sub(lease, Relaxed);
        }
        let before = node.leased.fetch_add(1, Relaxed);
        if before < node.limit {
            return Ok(());
        }
        node.leased.fetch_sub(1, Relaxed);
        Err(self.refusal())
    }

    #[cold]
    fn refusal(&self) -> OpError {
        let instances = if self.node.instances > 1 {
            format!(
                ", counted over all {} parallel instances",
                self.node.instances
            )
        } else {
            String::new()
        };
        OpError::new(format!(
            "keyed state would go over its state_limit of {} entries (windows, sessions or keys held at once{instances}): too many distinct keys or open windows (raise state_limit, shorten windows or allowed lateness)",
            self.node.limit
        ))
    }

    /// Hands back `n` entries that were dropped: kept for this instance's next windows up to
    /// one lease, the rest to the node's count.
    #[inline]
    pub fn give_back(&self, n: u64) {
        if n == 0 {
            return;
        }
        let node = &*self.node;
        if node.instances <= 1 {
            let held = node.leased.load(Relaxed);
            node.leased.store(held.saturating_sub(n), Relaxed);
            return;
        }
        let spare = self.spare.load(Relaxed) + n;
        let keep = if node.lease > 1 { node.lease } else { 0 };
        if spare > 2 * keep {
            node.leased.fetch_sub(spare - keep, Relaxed);
            self.spare.store(keep, Relaxed);
        } else {
            self.spare.store(spare, Relaxed);
        }
    }

    /// Entries counted against the limit now: held by all instances, plus the other
    /// instances' unused leases (none with one instance, or with leases of 1).
    pub fn held(&self) -> u64 {
        self.node
            .leased
            .load(Relaxed)
            .saturating_sub(self.spare.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_share_one_limit_and_dropped_entries_come_back() {
        let budget = StateBudget::new(3, 2);
        let (a, b) = (budget.instance(), budget.instance());
        a.take().unwrap();
        b.take().unwrap();
        a.take().unwrap();
        let err = b.take().unwrap_err();
        assert!(
            err.0.contains("state_limit of 3") && err.0.contains("all 2 parallel instances"),
            "{err}"
        );
        assert_eq!(budget.held(), 3, "a refused entry is not held");
        a.give_back(2);
        b.take().unwrap();
        assert_eq!(budget.held(), 2);
    }

    #[test]
    fn leases_never_let_the_node_hold_more_than_its_limit() {
        // 2 instances, limit 100,000: leases of 100,000 / 128 = 781, capped at 256.
        let limit = 100_000;
        let budget = StateBudget::new(limit, 2);
        let (a, b) = (budget.instance(), budget.instance());
        let mut held = 0u64;
        loop {
            let took_a = a.take().is_ok();
            let took_b = b.take().is_ok();
            held += u64::from(took_a) + u64::from(took_b);
            if !took_a && !took_b {
                break;
            }
        }
        assert!(held <= limit, "held {held}");
        assert!(
            held >= limit - 2 * 2 * MAX_LEASE,
            "refused only within two leases per instance of the limit: held {held}"
        );
        assert!(a.take().unwrap_err().0.contains("state_limit of 100000"));
        // Everything handed back returns to the node, but for one lease per instance kept.
        a.give_back(held / 2);
        b.give_back(held - held / 2);
        assert!(budget.held() <= 2 * MAX_LEASE, "{}", budget.held());
        for _ in 0..limit - 2 * MAX_LEASE {
            a.take().unwrap();
        }
    }
}
