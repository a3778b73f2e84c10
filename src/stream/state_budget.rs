//! A window node's `state_limit`, shared by all its parallel instances: windows, sessions and
//! keys are counted as they are created and handed back as they are dropped, so the node as a
//! whole never holds more than the limit — not per instance, not after a batch, not for one
//! record that would open millions of windows.

use super::OpError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The entries a node may hold, and how many its instances hold now.
#[derive(Debug)]
pub struct StateBudget {
    limit: u64,
    held: AtomicU64,
    instances: usize,
}

impl StateBudget {
    /// A budget of `limit` entries shared by `instances` parallel instances.
    pub fn new(limit: u64, instances: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            held: AtomicU64::new(0),
            instances,
        })
    }

    /// No limit (operators built outside a run, e.g. in tests).
    pub fn unlimited() -> Arc<Self> {
        Self::new(u64::MAX, 1)
    }

    /// Takes one entry, or refuses (holding nothing more) when the limit is reached.
    #[inline]
    pub fn take(&self) -> Result<(), OpError> {
        if self.instances <= 1 {
            // The only instance is the only writer: a plain read and write, no locked
            // instruction (which waits for every store before it, e.g. a new pane's).
            let held = self.held.load(Relaxed);
            if held < self.limit {
                self.held.store(held + 1, Relaxed);
                return Ok(());
            }
            return Err(self.refusal());
        }
        let before = self.held.fetch_add(1, Relaxed);
        if before < self.limit {
            return Ok(());
        }
        self.held.fetch_sub(1, Relaxed);
        Err(self.refusal())
    }

    #[cold]
    fn refusal(&self) -> OpError {
        let instances = if self.instances > 1 {
            format!(", counted over all {} parallel instances", self.instances)
        } else {
            String::new()
        };
        OpError::new(format!(
            "keyed state would go over its state_limit of {} entries (windows, sessions or keys held at once{instances}): too many distinct keys or open windows (raise state_limit, shorten windows or allowed lateness)",
            self.limit
        ))
    }

    /// Hands back `n` entries that were dropped.
    #[inline]
    pub fn give_back(&self, n: u64) {
        if n == 0 {
            return;
        }
        if self.instances <= 1 {
            let held = self.held.load(Relaxed);
            self.held.store(held.saturating_sub(n), Relaxed);
        } else {
            self.held.fetch_sub(n, Relaxed);
        }
    }

    /// Entries held now by all instances.
    pub fn held(&self) -> u64 {
        self.held.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_share_one_limit_and_dropped_entries_come_back() {
        let budget = StateBudget::new(3, 2);
        let (a, b) = (Arc::clone(&budget), Arc::clone(&budget));
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
}
