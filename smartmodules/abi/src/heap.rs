//! The modules' allocator: power-of-two size classes with a free list each, carved from pages
//! the module grows its memory by. A module allocates the same few shapes call after call
//! (the input buffer, the output, a tag, a path), so freed blocks are reused as they are and
//! nothing is ever split or merged. It is a few hundred bytes of wasm where a general-purpose
//! allocator costs several kilobytes, which every produce request pays to compile.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const PAGE: usize = 65_536;
/// Smallest block: room for the free list's link.
const MIN_CLASS: u32 = 3;
const CLASSES: usize = usize::BITS as usize;

struct State {
    /// Head of each class's free list; a free block's first word links to the next.
    free: [*mut u8; CLASSES],
    /// The unused rest of the pages grown so far.
    next: usize,
    end: usize,
}

/// The allocator. Wasm guests are single-threaded, so the state needs no lock.
pub struct Heap(UnsafeCell<State>);

// SAFETY: a wasm32 instance runs one thread; the host never re-enters a call.
unsafe impl Sync for Heap {}

impl Heap {
    pub const fn new() -> Self {
        Heap(UnsafeCell::new(State {
            free: [null_mut(); CLASSES],
            next: 0,
            end: 0,
        }))
    }
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

/// The class of a request: its size and alignment rounded up to a power of two.
fn class(layout: &Layout) -> Option<u32> {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    let class = size.checked_next_power_of_two()?.trailing_zeros();
    ((class as usize) < CLASSES).then_some(class)
}

/// Out of memory: a trap, which the host reports as the call's error. Never a null pointer:
/// the host would write its input at address 0, over the module's own data, and Rust's
/// handler for a failed allocation links `core::fmt` into every module for its message.
#[cold]
fn out_of_memory() -> ! {
    core::arch::wasm32::unreachable()
}

impl State {
    /// A fresh block of `1 << class` bytes, aligned to its size (at most a page), from new
    /// pages if need be; a trap when memory cannot grow.
    fn carve(&mut self, class: u32) -> *mut u8 {
        let size = 1usize << class;
        let align = size.min(PAGE);
        if let Some(start) = align_up(self.next, align) {
            if let Some(end) = start
                .checked_add(size)
                .filter(|end| self.end != 0 && *end <= self.end)
            {
                self.next = end;
                return start as *mut u8;
            }
        }
        // Grow: extend the current region if it ends where memory ends, else start afresh
        // at the end of memory (page-aligned, so aligned for any class).
        let memory_end = core::arch::wasm32::memory_size(0) * PAGE;
        let base = if self.end != 0 && self.end == memory_end {
            align_up(self.next, align)
        } else {
            Some(memory_end)
        };
        let Some(end) = base.and_then(|b| b.checked_add(size)) else {
            out_of_memory()
        };
        let pages = (end - memory_end).div_ceil(PAGE);
        if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
            out_of_memory()
        }
        self.end = memory_end + pages * PAGE;
        self.next = end;
        (end - size) as *mut u8
    }
}

fn align_up(n: usize, align: usize) -> Option<usize> {
    n.checked_add(align - 1).map(|n| n & !(align - 1))
}

// SAFETY: blocks are carved from memory the module grew and owns, each class's blocks are
// its size and aligned to it (up to a page), and a block is on a free list only after
// `dealloc`, so no two live allocations overlap.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class(&layout) else {
            out_of_memory()
        };
        // SAFETY: the instance has one thread and the allocator is not re-entered, so this is
        // the only reference to the state.
        let state = unsafe { &mut *self.0.get() };
        let head = state.free[class as usize];
        if head.is_null() {
            return state.carve(class);
        }
        // SAFETY: `head` is a free block of this class, whose first word links to the next.
        state.free[class as usize] = unsafe { *(head as *mut *mut u8) };
        head
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = class(&layout) else { return };
        // SAFETY: as in `alloc`, the only reference to the state.
        let state = unsafe { &mut *self.0.get() };
        // SAFETY: `ptr` is a block of this class (the caller's contract), at least a word
        // long and aligned to it, and no longer in use: it holds the free list's link now.
        unsafe { *(ptr as *mut *mut u8) = state.free[class as usize] };
        state.free[class as usize] = ptr;
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            out_of_memory()
        };
        if class(&layout) == class(&new_layout) {
            return ptr;
        }
        // SAFETY: a valid layout, as `alloc` requires.
        let new = unsafe { self.alloc(new_layout) };
        // SAFETY: `ptr` holds `layout.size()` bytes, `new` (never null) at least `new_size`,
        // and two live blocks never overlap; `ptr` is then given back with its own layout.
        unsafe {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}
