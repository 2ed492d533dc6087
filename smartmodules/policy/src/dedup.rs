//! De-duplication: a record whose (origin, record id) the topic stored recently, or that came
//! earlier in the same batch, is dropped, so a record that reaches a cluster over two routes
//! (or is re-sent after an outage) is stored once.
//!
//! The window is a small open-addressing table (linear probing, backward-shift deletion) plus
//! a ring of the keys in arrival order: a few hundred bytes of wasm, where the standard
//! ordered collections cost kilobytes.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use origin::hash64;

use crate::params::{parse_number, Params, DEDUP};
use crate::record::Carried;
use crate::{Dropped, Keep, ParamError, Stop};

/// Largest `dedup` window.
pub const MAX_DEDUP: u32 = 1_000_000;

/// The de-duplication stage: off (no `dedup`, or 0) or a window of the last `dedup` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedup {
    cluster: String,
    window: Option<Window>,
}

impl Dedup {
    /// `dedup`: 0 (off, the default) to 1,000,000 records.
    #[inline]
    pub fn from_params(p: &Params<'_>, cluster: &str) -> Result<Self, ParamError> {
        let window = match p.get(&DEDUP) {
            None | Some("0") => None,
            Some(v) => match parse_number(v) {
                Some(n) if n <= MAX_DEDUP => Some(Window::new(n as usize)),
                _ => return Err(p.bad(&DEDUP, v, "not a number from 0 to 1000000")),
            },
        };
        Ok(Dedup {
            cluster: String::from(cluster),
            window,
        })
    }

    /// The window's size, when on.
    pub fn capacity(&self) -> Option<usize> {
        self.window.as_ref().map(|w| w.stored.capacity)
    }

    /// How many stored records the window holds.
    pub fn remembered(&self) -> usize {
        self.window.as_ref().map_or(0, Window::len)
    }

    /// Drops a tagged record whose (origin, id) is in the window.
    #[inline]
    pub fn check(&self, c: &Carried<'_>) -> Result<(), Stop> {
        match (&self.window, c.tag()) {
            (Some(window), Some(env)) if window.contains(Seen::key(env.origin(), env.id())) => {
                Err(Stop::Drop(Dropped::Duplicate))
            }
            _ => Ok(()),
        }
    }

    /// The batch under way keeps the record as `keep` says it is written: its key is the
    /// stored tag's (origin, id), a new tag's being this cluster and its new id.
    #[inline]
    pub fn keep(&mut self, c: &Carried<'_>, keep: &Keep<'_>) {
        let Some(window) = &mut self.window else {
            return;
        };
        let key = match (c.tag(), keep) {
            (Some(env), _) => Seen::key(env.origin(), env.id()),
            (
                None,
                Keep::Rewrite {
                    new_id: Some(id), ..
                },
            ) => Seen::key(&self.cluster, *id),
            _ => return,
        };
        window.keep(key);
    }

    /// The batch ended, written or refused: its records join the window only if it was
    /// written, so that a refused batch sent again is not taken for duplicates.
    pub fn end_batch(&mut self, written: bool) {
        if let Some(window) = &mut self.window {
            window.end_batch(written);
        }
    }

    /// A record the topic already stored, replayed through `look_back` at start-up, so that
    /// the window survives a restart.
    pub fn remember(&mut self, c: &Carried<'_>) {
        if let (Some(window), Some(env)) = (&mut self.window, c.tag()) {
            window.remember(Seen::key(env.origin(), env.id()));
        }
    }
}

const EMPTY: u128 = 0;

/// A window of the last `capacity` (origin, record id) pairs, oldest evicted first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Seen {
    capacity: usize,
    /// Power-of-two sized, at most half full; `EMPTY` marks a free slot.
    slots: Vec<u128>,
    /// Keys in arrival order; `next` is where the next one goes (the oldest, once full).
    ring: Vec<u128>,
    next: usize,
}

impl Seen {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ..Self::default()
        }
    }

    /// The pair as one number: the origin's 64-bit hash, then the record id; never `EMPTY`.
    pub(crate) fn key(origin: &str, id: [u8; 8]) -> u128 {
        let key =
            (u128::from(hash64(origin.as_bytes())) << 64) | u128::from(u64::from_le_bytes(id));
        key.max(1)
    }

    fn home(&self, key: u128) -> usize {
        // The low half is a hash already; the table size is a power of two.
        (key as usize ^ (key >> 64) as usize) & self.slots.len().wrapping_sub(1)
    }

    /// The key in slot `i`; every access goes through `get`, so that no index can panic.
    fn slot(&self, i: usize) -> u128 {
        self.slots.get(i).copied().unwrap_or(EMPTY)
    }

    fn set(&mut self, i: usize, key: u128) {
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = key;
        }
    }

    /// The slot holding `key`, or the free slot where it would go. The table is at most half
    /// full, so the probe ends.
    fn find(&self, key: u128) -> usize {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = self.home(key);
        loop {
            let held = self.slot(i);
            if held == EMPTY || held == key {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn contains(&self, key: u128) -> bool {
        self.slot(self.find(key)) == key
    }

    /// Remembers a stored record, forgetting the oldest when the window is full.
    pub(crate) fn insert(&mut self, key: u128) {
        let capacity = self.capacity;
        if capacity == 0 || self.contains(key) {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![EMPTY; (capacity * 2).next_power_of_two()];
        }
        if self.ring.len() == capacity {
            if let Some(slot) = self.ring.get_mut(self.next) {
                let oldest = core::mem::replace(slot, key);
                self.remove(oldest);
            }
        } else {
            self.ring.push(key);
        }
        self.next = if self.next + 1 >= capacity {
            0
        } else {
            self.next + 1
        };
        let i = self.find(key);
        self.set(i, key);
    }

    /// Deletes `key`, moving later entries of its probe run back so that lookups still find them.
    fn remove(&mut self, key: u128) {
        let mask = self.slots.len().wrapping_sub(1);
        let mut hole = self.find(key);
        if self.slot(hole) != key {
            return;
        }
        self.set(hole, EMPTY);
        let mut i = (hole + 1) & mask;
        loop {
            let moved = self.slot(i);
            if moved == EMPTY {
                break;
            }
            let home = self.home(moved);
            // The entry at `i` may fill the hole if its home is not in (hole, i].
            let reaches = if hole <= i {
                home <= hole || home > i
            } else {
                home <= hole && home > i
            };
            if reaches {
                self.set(hole, moved);
                self.set(i, EMPTY);
                hole = i;
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ring.len()
    }

    /// Keys in arrival order, oldest first.
    fn keys(&self) -> impl Iterator<Item = u128> + '_ {
        let split = if self.ring.len() == self.capacity {
            self.next
        } else {
            self.ring.len()
        };
        let (newer, older) = self.ring.split_at_checked(split).unwrap_or((&[], &[]));
        older.iter().chain(newer).copied()
    }

    /// Forgets every key, in time proportional to their number (not to the table's size).
    fn clear(&mut self) {
        while let Some(key) = self.ring.pop() {
            self.remove(key);
        }
        self.next = 0;
    }
}

/// The `dedup` window of a topic: what it stored, and what the batch under way would store.
/// A batch's records join the window only once the batch is written: a refused batch is not
/// stored, and its records must be accepted when they are sent again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Window {
    stored: Seen,
    batch: Seen,
}

impl Window {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            stored: Seen::new(capacity),
            batch: Seen::new(capacity),
        }
    }

    /// Whether the record was stored, or is already in the batch under way.
    pub(crate) fn contains(&self, key: u128) -> bool {
        self.stored.contains(key) || self.batch.contains(key)
    }

    /// A record the batch under way keeps.
    pub(crate) fn keep(&mut self, key: u128) {
        self.batch.insert(key);
    }

    /// The batch under way ended: its records join the window if it was written.
    pub(crate) fn end_batch(&mut self, written: bool) {
        if written {
            for key in self.batch.keys() {
                self.stored.insert(key);
            }
        }
        self.batch.clear();
    }

    /// A record the topic already holds (replayed through `look_back`).
    pub(crate) fn remember(&mut self, key: u128) {
        self.stored.insert(key);
    }

    pub(crate) fn len(&self) -> usize {
        self.stored.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entry_is_forgotten_first() {
        let k = Seen::key;
        let mut s = Seen::new(2);
        s.insert(k("a", [1; 8]));
        s.insert(k("a", [2; 8]));
        s.insert(k("a", [1; 8]));
        assert_eq!(s.len(), 2, "re-inserting does not grow the window");
        s.insert(k("b", [1; 8]));
        assert!(!s.contains(k("a", [1; 8])));
        assert!(s.contains(k("a", [2; 8])) && s.contains(k("b", [1; 8])));
    }

    #[test]
    fn the_same_id_from_two_origins_is_two_records() {
        let mut s = Seen::new(10);
        s.insert(Seen::key("a", [7; 8]));
        assert!(!s.contains(Seen::key("b", [7; 8])));
    }

    #[test]
    fn a_refused_batch_leaves_the_window_as_it_was() {
        let k = Seen::key;
        let mut w = Window::new(4);
        w.keep(k("a", [1; 8]));
        assert!(
            w.contains(k("a", [1; 8])),
            "a duplicate inside the batch is seen"
        );
        w.end_batch(false);
        assert!(!w.contains(k("a", [1; 8])));
        w.keep(k("a", [1; 8]));
        w.keep(k("a", [2; 8]));
        w.end_batch(true);
        assert!(w.contains(k("a", [1; 8])) && w.contains(k("a", [2; 8])));
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn a_full_ring_commits_oldest_first() {
        let k = |i: u8| Seen::key("a", [i; 8]);
        let mut w = Window::new(3);
        for i in 0..5 {
            w.keep(k(i));
        }
        w.end_batch(true);
        // The batch itself kept the last 3 (2, 3, 4); they are stored in that order.
        assert!(!w.contains(k(1)) && w.contains(k(2)) && w.contains(k(4)));
        w.keep(k(9));
        w.end_batch(true);
        assert!(!w.contains(k(2)), "the oldest is evicted first");
        assert!(w.contains(k(3)) && w.contains(k(9)));
    }

    #[test]
    fn capacity_zero_remembers_nothing() {
        let mut s = Seen::new(0);
        s.insert(Seen::key("a", [7; 8]));
        assert!(!s.contains(Seen::key("a", [7; 8])));
    }

    /// Against a plain model, with keys crowded into few slots so probe runs wrap and shift.
    #[test]
    fn behaves_like_a_fifo_set_under_collisions() {
        for capacity in [1usize, 3, 7, 64] {
            let mut s = Seen::new(capacity);
            let mut model: alloc::collections::VecDeque<u128> = Default::default();
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            for _ in 0..5000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct homes, many repeats.
                let key = u128::from(x % 97) * (1 << 16) + 1;
                if !model.contains(&key) {
                    model.push_back(key);
                    if model.len() > capacity {
                        model.pop_front();
                    }
                }
                s.insert(key);
                for k in 0..97u128 {
                    let key = k * (1 << 16) + 1;
                    assert_eq!(s.contains(key), model.contains(&key), "capacity {capacity}");
                }
            }
        }
    }
}
