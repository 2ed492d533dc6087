//! The records a topic stored last, by origin and record id, so that a record arriving a second
//! time over another route (or replayed after a link outage) is recognised.
//!
//! A small open-addressing table (linear probing, backward-shift deletion) plus a ring of the
//! keys in arrival order: a few hundred bytes of wasm, where the standard ordered collections
//! cost kilobytes.

use alloc::vec;
use alloc::vec::Vec;

use crate::record_id::hash64;

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
        (key as usize ^ (key >> 64) as usize) & (self.slots.len() - 1)
    }

    /// The slot holding `key`, or the free slot where it would go.
    fn find(&self, key: u128) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        while self.slots[i] != EMPTY && self.slots[i] != key {
            i = (i + 1) & mask;
        }
        i
    }

    pub(crate) fn contains(&self, key: u128) -> bool {
        !self.slots.is_empty() && self.slots[self.find(key)] == key
    }

    /// Remembers a stored record, forgetting the oldest when the window is full.
    pub(crate) fn insert(&mut self, key: u128) {
        if self.capacity == 0 || self.contains(key) {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![EMPTY; (self.capacity * 2).next_power_of_two()];
        }
        if self.ring.len() == self.capacity {
            let oldest = self.ring[self.next];
            self.remove(oldest);
            self.ring[self.next] = key;
        } else {
            self.ring.push(key);
        }
        self.next = (self.next + 1) % self.capacity;
        let i = self.find(key);
        self.slots[i] = key;
    }

    /// Deletes `key`, moving later entries of its probe run back so that lookups still find them.
    fn remove(&mut self, key: u128) {
        let mask = self.slots.len() - 1;
        let mut hole = self.find(key);
        if self.slots[hole] != key {
            return;
        }
        self.slots[hole] = EMPTY;
        let mut i = (hole + 1) & mask;
        while self.slots[i] != EMPTY {
            let home = self.home(self.slots[i]);
            // The entry at `i` may fill the hole if its home is not in (hole, i].
            let reaches = if hole <= i {
                home <= hole || home > i
            } else {
                home <= hole && home > i
            };
            if reaches {
                self.slots[hole] = self.slots[i];
                self.slots[i] = EMPTY;
                hole = i;
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ring.len()
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
