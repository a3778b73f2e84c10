//! The panes of one window bin, one per key, kept in the order the keys first came. A firing
//! walks them in that order, so the order of its results depends only on the input — not on
//! the hash table's capacity or history (a std hash map recycled from another bin iterates in
//! an order that depends on which bin it came from, i.e. on when watermarks arrive).

use super::Key;
use super::pane::Pane;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;

/// Keys and panes side by side in arrival order; the table maps a key's hash to its index.
#[derive(Default)]
pub struct PaneTable {
    slots: HashTable<usize>,
    keys: Vec<Key>,
    panes: Vec<Pane>,
}

/// What [`PaneTable::find_or_add`] found.
pub enum Slot<'a> {
    Found(&'a mut Pane),
    /// The key was not there: room is made for it, to be filled by [`Vacant::insert`].
    Vacant(Vacant<'a>),
}

/// A key not in the table yet, with its place in the hash table reserved.
pub struct Vacant<'a> {
    entry: hashbrown::hash_table::VacantEntry<'a, usize>,
    keys: &'a mut Vec<Key>,
    panes: &'a mut Vec<Pane>,
}

impl<'a> Vacant<'a> {
    /// Appends the key with its pane, which is written once, at the end of the arrays.
    pub fn insert(self, key: Key, pane: Pane) -> &'a mut Pane {
        self.entry.insert(self.keys.len());
        self.keys.push(key);
        self.panes.push(pane);
        let last = self.panes.len() - 1;
        &mut self.panes[last]
    }
}

fn hash_of(key: &Key) -> u64 {
    FxBuildHasher.hash_one(key)
}

impl PaneTable {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key's pane, or a place to add it.
    #[inline]
    pub fn find_or_add(&mut self, key: &Key) -> Slot<'_> {
        let keys = &mut self.keys;
        let entry = self
            .slots
            .entry(hash_of(key), |&i| keys[i] == *key, |&i| hash_of(&keys[i]));
        match entry {
            Entry::Occupied(found) => Slot::Found(&mut self.panes[*found.get()]),
            Entry::Vacant(entry) => Slot::Vacant(Vacant {
                entry,
                keys,
                panes: &mut self.panes,
            }),
        }
    }

    /// The panes with their keys, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Pane)> {
        self.keys.iter().zip(&self.panes)
    }

    /// Takes out every pane in arrival order, keeping the memory for the next bin.
    pub fn drain(&mut self) -> impl Iterator<Item = (Key, Pane)> + '_ {
        self.slots.clear();
        self.keys.drain(..).zip(self.panes.drain(..))
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.keys.clear();
        self.panes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::pane::PaneSpec;

    fn add(table: &mut PaneTable, key: Key) -> bool {
        match table.find_or_add(&key) {
            Slot::Found(pane) => {
                pane.add(&record(), &PaneSpec::default());
                false
            }
            Slot::Vacant(vacant) => {
                let mut pane = Pane::new(&PaneSpec::default());
                pane.add(&record(), &PaneSpec::default());
                vacant.insert(key, pane);
                true
            }
        }
    }

    fn record() -> crate::stream::Record {
        crate::stream::Record {
            key: Key::Int(0),
            ts: 0,
            values: Default::default(),
        }
    }

    #[test]
    fn keys_come_out_in_arrival_order_with_their_counts_whatever_the_table_held_before() {
        let arrivals: Vec<Key> = (0..5000)
            .map(|i| match i % 3 {
                0 => Key::Int((i * 7919) % 1013),
                1 => Key::text(&format!("k{}", (i * 31) % 97)),
                _ => Key::Int(-(i % 17)),
            })
            .collect();
        let mut expected_order: Vec<Key> = Vec::new();
        for key in &arrivals {
            if !expected_order.contains(key) {
                expected_order.push(key.clone());
            }
        }
        let mut table = PaneTable::default();
        // A table that held other keys (and grew for them) gives the same order.
        for round in 0..3 {
            for i in 0..round * 700 {
                add(&mut table, Key::Int(10_000 + i));
            }
            table.clear();
            let new: usize = arrivals
                .iter()
                .map(|k| add(&mut table, k.clone()) as usize)
                .sum();
            assert_eq!(new, expected_order.len());
            let drained: Vec<(Key, u64)> = table.drain().map(|(k, p)| (k, p.count())).collect();
            let keys: Vec<Key> = drained.iter().map(|(k, _)| k.clone()).collect();
            assert_eq!(keys, expected_order, "round {round}");
            for (key, count) in drained {
                let arrived = arrivals.iter().filter(|k| **k == key).count() as u64;
                assert_eq!(count, arrived, "{key}");
            }
            assert!(table.is_empty());
        }
    }
}
