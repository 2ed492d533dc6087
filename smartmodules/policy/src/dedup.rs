//! De-duplication: a record whose (origin, record id) the topic stored recently, or that came
//! earlier in the same batch, is dropped, so a record that reaches a cluster over two routes
//! (or is re-sent after an outage) is stored once.
//!
//! The window is a small open-addressing table (linear probing, backward-shift deletion) plus
//! a ring of the keys in arrival order: a few hundred bytes of wasm, where the standard
//! ordered collections cost kilobytes. Its cost per record is bounded whatever ids arrive:
//! slot positions are a keyed hash (SipHash under a key from the secret, or seeded from the
//! first record the window sees), and no key sits more than [`MAX_PROBE`] slots from its home,
//! so that no lookup, insert or delete walks further.

use alloc::string::String;

use alloc::vec;
use alloc::vec::Vec;
use smartmodule_text::owned;

use origin::SipHasher;

use crate::params::{parse_number, Params, COUNT, DEDUP};
use crate::record::{Carried, RecordView};
use crate::verify::{slot_key, Secret};
use crate::{Dropped, Keep, ParamError, Stop};

/// Largest `dedup` window.
pub const MAX_DEDUP: u32 = 1_000_000;

/// Farthest a key sits from its home slot. A key that would go farther takes the place of
/// the last one in its reach, which the window forgets early: at most half full, a table of
/// random positions does not come near (a million keys sit at most about 45 slots from home;
/// a test checks they never reach the cap), and a flood of keys aimed at one slot costs this
/// many probes a record, not one per key already there.
pub const MAX_PROBE: usize = 64;

/// The key of the slot positions when no secret gives one; the first record the window sees
/// is hashed under it to seed the real key.
const SEED_KEY: [u64; 2] = [0x6f72_6967_696e_2f76, 0x322f_736c_6f74_2f31];

/// The de-duplication stage: off, or a window of the last `dedup` (at the topic hook, by
/// default, its `count`) stored records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedup {
    cluster: String,
    /// The SipHash key of slot positions: from the secret, else seeded by the first record.
    slot_key: Option<[u64; 2]>,
    window: Option<Window>,
}

/// A record's key in the window: a keyed hash of its origin and id, then the id. Never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowKey(u128);

impl Dedup {
    /// `dedup`: 0 (off) to 1,000,000 records. Without it the topic hook's `count` sets the
    /// window, so that it holds what the hook replays at start-up; a `dedup` larger than
    /// `count` would forget all but `count` records at every restart, and is refused.
    pub fn from_params(
        p: &Params<'_>,
        cluster: &str,
        secret: Option<&Secret>,
    ) -> Result<Self, ParamError> {
        let number = |param, why| match p.get(param) {
            None => Ok(None),
            Some(v) => match parse_number(v) {
                Some(n) if n <= MAX_DEDUP => Ok(Some(n)),
                _ => Err(p.bad(param, v, why)),
            },
        };
        let dedup = number(&DEDUP, "not a number from 0 to 1000000")?;
        let count = number(
            &COUNT,
            "not a number from 0 to 1000000 (the largest window; set dedup)",
        )?;
        if let (Some(d), Some(c)) = (dedup, count) {
            if d > c {
                return Err(p.bad(
                    &DEDUP,
                    p.get(&DEDUP).unwrap_or_default(),
                    "larger than the topic hook's count, all a restart refills the window \
                     with (raise bounds.count, or lower dedup)",
                ));
            }
        }
        let size = dedup.or(count).unwrap_or(0);
        Ok(Dedup {
            cluster: owned(cluster),
            slot_key: secret.map(slot_key),
            window: (size > 0).then(|| Window::new(size as usize)),
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

    /// The key of slot positions, seeded from `rec` if no secret gave one.
    #[inline]
    fn slot_key(&mut self, rec: &RecordView<'_>) -> [u64; 2] {
        *self.slot_key.get_or_insert_with(|| seed(rec))
    }

    /// Drops a tagged record whose (origin, id) is in the window; otherwise gives its key,
    /// for [`keep`](Self::keep).
    #[inline]
    pub fn check(
        &mut self,
        rec: &RecordView<'_>,
        c: &Carried<'_>,
    ) -> Result<Option<WindowKey>, Stop> {
        let (true, Some(env)) = (self.window.is_some(), c.tag()) else {
            return Ok(None);
        };
        let key = window_key(self.slot_key(rec), env.origin_bytes(), env.id());
        match &self.window {
            Some(window) if window.contains(key.0) => Err(Stop::Drop(Dropped::Duplicate)),
            _ => Ok(Some(key)),
        }
    }

    /// The batch under way keeps the record as `keep` says it is written: `seen` is its key
    /// from [`check`](Self::check); a tag new here is keyed by this cluster and its new id.
    #[inline]
    pub fn keep(&mut self, rec: &RecordView<'_>, seen: Option<WindowKey>, keep: &Keep<'_>) {
        if self.window.is_none() {
            return;
        }
        let key = match (seen, keep) {
            (Some(key), _) => key,
            (
                None,
                Keep::Rewrite {
                    new_id: Some(id), ..
                },
            ) => window_key(self.slot_key(rec), self.cluster.as_bytes(), *id),
            _ => return,
        };
        if let Some(window) = &mut self.window {
            window.keep(key.0);
        }
    }

    /// The batch ended, written or refused: its records join the window only if it was
    /// written, so that a refused batch sent again is not taken for duplicates.
    pub fn end_batch(&mut self, written: bool) {
        if let Some(window) = &mut self.window {
            window.end_batch(written);
        }
    }

    /// A record the topic already stored, replayed through `look_back` at start-up, so that
    /// the window survives a restart. The caller verifies its tag first.
    pub fn remember(&mut self, rec: &RecordView<'_>, c: &Carried<'_>) {
        let (true, Some(env)) = (self.window.is_some(), c.tag()) else {
            return;
        };
        let key = window_key(self.slot_key(rec), env.origin_bytes(), env.id());
        if let Some(window) = &mut self.window {
            window.remember(key.0);
        }
    }
}

/// The window key of `origin` and `id`: the keyed hash picks the slot, the id tells keys of
/// one slot apart.
#[inline]
fn window_key(slot_key: [u64; 2], origin: &[u8], id: [u8; 8]) -> WindowKey {
    let mut h = SipHasher::new(slot_key);
    h.write(origin);
    h.write(&id);
    let key = u128::from(h.finish()) << 64 | u128::from(u64::from_le_bytes(id));
    WindowKey(key.max(1))
}

/// A slot key nobody can read off the module: a hash of the first record the window sees
/// (its time, offset, key and value), for a window without a secret.
fn seed(rec: &RecordView<'_>) -> [u64; 2] {
    let mut h = SipHasher::new(SEED_KEY);
    h.write_u64(rec.timestamp as u64);
    h.write_u64(rec.offset as u64);
    h.write(rec.key.unwrap_or_default());
    h.write(rec.value);
    let k0 = h.clone().finish();
    h.write(&[1]);
    [k0, h.finish()]
}

const EMPTY: u128 = 0;

/// A set of the last `capacity` window keys, oldest evicted first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Table {
    capacity: usize,
    /// Power-of-two sized, at most half full; `EMPTY` marks a free slot.
    slots: Vec<u128>,
    /// Keys in arrival order; `next` is where the next one goes (the oldest, once full).
    ring: Vec<u128>,
    next: usize,
}

/// Where a key is, or would go, within [`MAX_PROBE`] slots of its home.
enum Probe {
    Found(usize),
    Free(usize),
    /// Every slot in reach holds another key.
    Full,
}

impl Table {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ..Self::default()
        }
    }

    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The key's home slot: the keyed high half of the key.
    fn home(&self, key: u128) -> usize {
        (key >> 64) as usize & self.mask()
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

    fn find(&self, key: u128) -> Probe {
        if self.slots.is_empty() {
            return Probe::Full;
        }
        let mask = self.mask();
        let mut i = self.home(key);
        for _ in 0..MAX_PROBE {
            match self.slot(i) {
                EMPTY => return Probe::Free(i),
                held if held == key => return Probe::Found(i),
                _ => i = (i + 1) & mask,
            }
        }
        Probe::Full
    }

    fn contains(&self, key: u128) -> bool {
        matches!(self.find(key), Probe::Found(_))
    }

    /// Remembers a stored record, forgetting the oldest when the window is full.
    fn insert(&mut self, key: u128) {
        let capacity = self.capacity;
        if capacity == 0 || self.contains(key) {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![EMPTY; (capacity * 2).next_power_of_two().max(MAX_PROBE)];
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
        match self.find(key) {
            Probe::Free(i) => self.set(i, key),
            // Every slot in reach is taken: the key takes the last one's place, and the key
            // it pushes out is forgotten early (its ring entry finds nothing to remove).
            Probe::Full => {
                let last = (self.home(key) + MAX_PROBE - 1) & self.mask();
                self.set(last, key);
            }
            Probe::Found(_) => {}
        }
    }

    /// Deletes `key`, moving later keys of its run back so that lookups still find them. A key
    /// that may fill a hole sits within [`MAX_PROBE`] slots after it, so the walk stops there.
    fn remove(&mut self, key: u128) {
        let Probe::Found(mut hole) = self.find(key) else {
            return;
        };
        self.set(hole, EMPTY);
        let mask = self.mask();
        let mut i = (hole + 1) & mask;
        let mut distance = 1;
        while distance < MAX_PROBE {
            let moved = self.slot(i);
            if moved == EMPTY {
                break;
            }
            // The key at `i` may fill the hole if its home is not in (hole, i].
            let from_home = i.wrapping_sub(self.home(moved)) & mask;
            if from_home >= distance {
                self.set(hole, moved);
                self.set(i, EMPTY);
                hole = i;
                distance = 0;
            }
            i = (i + 1) & mask;
            distance += 1;
        }
    }

    fn len(&self) -> usize {
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
struct Window {
    stored: Table,
    batch: Table,
}

impl Window {
    fn new(capacity: usize) -> Self {
        Self {
            stored: Table::new(capacity),
            batch: Table::new(capacity),
        }
    }

    /// Whether the record was stored, or is already in the batch under way.
    fn contains(&self, key: u128) -> bool {
        self.stored.contains(key) || self.batch.contains(key)
    }

    /// A record the batch under way keeps.
    fn keep(&mut self, key: u128) {
        self.batch.insert(key);
    }

    /// The batch under way ended: its records join the window if it was written.
    fn end_batch(&mut self, written: bool) {
        if written {
            for key in self.batch.keys() {
                self.stored.insert(key);
            }
        }
        self.batch.clear();
    }

    /// A record the topic already holds (replayed through `look_back`).
    fn remember(&mut self, key: u128) {
        self.stored.insert(key);
    }

    fn len(&self) -> usize {
        self.stored.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key with the given home bits and a distinct low half.
    fn key(home: u64, n: u64) -> u128 {
        u128::from(home) << 64 | u128::from(n + 1)
    }

    #[test]
    fn the_oldest_entry_is_forgotten_first() {
        let mut s = Table::new(2);
        s.insert(key(1, 1));
        s.insert(key(2, 2));
        s.insert(key(1, 1));
        assert_eq!(s.len(), 2, "re-inserting does not grow the window");
        s.insert(key(3, 3));
        assert!(!s.contains(key(1, 1)));
        assert!(s.contains(key(2, 2)) && s.contains(key(3, 3)));
    }

    #[test]
    fn a_refused_batch_leaves_the_window_as_it_was() {
        let mut w = Window::new(4);
        w.keep(key(1, 1));
        assert!(
            w.contains(key(1, 1)),
            "a duplicate inside the batch is seen"
        );
        w.end_batch(false);
        assert!(!w.contains(key(1, 1)));
        w.keep(key(1, 1));
        w.keep(key(2, 2));
        w.end_batch(true);
        assert!(w.contains(key(1, 1)) && w.contains(key(2, 2)));
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn a_full_ring_commits_oldest_first() {
        let k = |i: u64| key(i, i);
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
        let mut s = Table::new(0);
        s.insert(key(7, 7));
        assert!(!s.contains(key(7, 7)));
    }

    /// A plain model of the window, over keys crowded into few homes so that probe runs wrap
    /// and shift, but within the cap.
    #[test]
    fn behaves_like_a_fifo_set_under_collisions() {
        for capacity in [1usize, 3, 7, 64] {
            let mut s = Table::new(capacity);
            let mut model: alloc::collections::VecDeque<u128> = Default::default();
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            for _ in 0..5000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = x % 97;
                let k = key((n % 8) * 3, n);
                if !model.contains(&k) {
                    model.push_back(k);
                    if model.len() > capacity {
                        model.pop_front();
                    }
                }
                s.insert(k);
                for m in 0..97u64 {
                    let k = key((m % 8) * 3, m);
                    assert_eq!(s.contains(k), model.contains(&k), "capacity {capacity}");
                }
            }
        }
    }

    /// Keys aimed at one home: no probe walks past the cap; the newest keys are found, the
    /// ones pushed out early are not, and a key elsewhere is untouched.
    #[test]
    fn a_flood_of_keys_aimed_at_one_slot_costs_at_most_the_cap() {
        let mut s = Table::new(4_000);
        let elsewhere = key(1_000, 0);
        s.insert(elsewhere);
        for n in 1..4_000 {
            s.insert(key(5, n));
        }
        assert!(s.contains(elsewhere));
        assert!(s.contains(key(5, 3_999)), "the newest is found");
        let reach = |k| {
            let home = s.home(k);
            (0..s.slots.len()).find(|d| s.slot((home + d) & s.mask()) == k)
        };
        for n in 1..4_000 {
            if let Some(d) = reach(key(5, n)) {
                assert!(d < MAX_PROBE, "key {n} sits {d} slots from home");
            }
        }
        // Forgetting them all leaves the table as it was.
        s.clear();
        assert!(s.slots.iter().all(|k| *k == EMPTY));
    }

    /// A million random keys, the largest window: none ever meets the cap.
    #[test]
    fn random_keys_never_reach_the_cap() {
        let capacity = MAX_DEDUP as usize;
        let mut s = Table::new(capacity);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut keys = Vec::with_capacity(capacity);
        for _ in 0..capacity {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = u128::from(x.wrapping_mul(0x9e37_79b9_7f4a_7c15)) << 64 | u128::from(x);
            keys.push(k);
            s.insert(k);
        }
        assert!(keys.iter().all(|k| s.contains(*k)), "every key is found");
    }
}
