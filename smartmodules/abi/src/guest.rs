//! The wasm side of the ABI: the host's `copy_records` import, `alloc`/`dealloc`, and the glue
//! the `export!` macro calls. The host never frees what it allocates through `alloc`, so each
//! entry point frees its input; the output buffer lives in a static that the next call reuses,
//! since the host reads it after the call returns.

use alloc::alloc::{alloc as raw_alloc, dealloc as raw_dealloc, Layout};
use alloc::vec::Vec;
use core::cell::UnsafeCell;

use crate::runtime::{run_init, run_look_back, run_transform, SmartModule};

/// Module-wide state. Wasm guests are single-threaded and the host never re-enters a call.
pub struct Slot<T>(UnsafeCell<Option<T>>);

// SAFETY: a wasm32 instance runs one thread and the host calls one export at a time.
unsafe impl<T> Sync for Slot<T> {}

impl<T> Slot<T> {
    pub const fn new() -> Self {
        Self(UnsafeCell::new(None))
    }

    /// # Safety
    /// No other reference to the slot's content may be alive.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut Option<T> {
        // SAFETY: the caller holds no other reference to the content, and the instance has
        // one thread, so this is the only access.
        unsafe { &mut *self.0.get() }
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

static OUTPUT: Slot<Vec<u8>> = Slot::new();

#[link(wasm_import_module = "env")]
extern "C" {
    fn copy_records(ptr: i32, len: i32);
}

/// Where a zero-length allocation points: never dereferenced, never freed.
const EMPTY: *mut u8 = core::ptr::dangling_mut();

pub fn alloc(len: usize) -> *mut u8 {
    match Layout::from_size_align(len, 1) {
        // SAFETY: the layout's size is not zero.
        Ok(layout) if len > 0 => unsafe { raw_alloc(layout) },
        _ => EMPTY,
    }
}

/// # Safety
/// `ptr` and `len` must come from `alloc`.
pub unsafe fn dealloc(ptr: *mut u8, len: usize) {
    if len > 0 && !ptr.is_null() && ptr != EMPTY {
        if let Ok(layout) = Layout::from_size_align(len, 1) {
            // SAFETY: `alloc` handed out `ptr` for this very layout (the caller's contract),
            // and the empty and null pointers, which it never allocated, are left alone.
            unsafe { raw_dealloc(ptr, layout) };
        }
    }
}

/// # Safety
/// `ptr` and `len` are a buffer the host filled through `alloc` (or empty).
pub(crate) unsafe fn call<M: SmartModule>(
    state: &Slot<M>,
    // A type of its own for every entry point, not a function pointer: a module then makes no
    // indirect call, so its table, and everything only the table refers to, is dropped.
    entry: impl FnOnce(&mut Option<M>, &[u8], u32, &mut Vec<u8>) -> i32,
    ptr: *mut u8,
    len: usize,
    version: u32,
) -> i32 {
    let input: &[u8] = if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: the host allocated `len` bytes at `ptr` through `alloc` and filled them;
        // nothing else refers to them until they are freed below.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    };
    // SAFETY: the host calls one export at a time and never re-enters: these are the only
    // references to the output buffer and the module's state during the call.
    let (out, state) = unsafe { (OUTPUT.get().get_or_insert_with(Vec::new), state.get()) };
    let status = entry(state, input, version, out);
    // SAFETY: `ptr` and `len` came from `alloc` (the host's contract), and `input` is dead.
    unsafe { dealloc(ptr, len) };
    // SAFETY: an import of the host; it reads the output after the call returns, while the
    // buffer, a static, stays where it is until the next call.
    unsafe { copy_records(out.as_ptr() as i32, out.len() as i32) };
    status
}

/// # Safety
/// Called by the host with a buffer it filled through `alloc`.
pub unsafe fn transform<M: SmartModule>(
    state: &Slot<M>,
    ptr: *mut u8,
    len: usize,
    version: u32,
) -> i32 {
    // SAFETY: the host's buffer, as `call` requires.
    unsafe { call(state, run_transform::<M>, ptr, len, version) }
}

/// # Safety
/// As `transform`.
pub unsafe fn init<M: SmartModule>(state: &Slot<M>, ptr: *mut u8, len: usize, version: u32) -> i32 {
    // SAFETY: the host's buffer, as `call` requires.
    unsafe { call(state, run_init::<M>, ptr, len, version) }
}

/// # Safety
/// As `transform`.
pub unsafe fn look_back<M: SmartModule>(
    state: &Slot<M>,
    ptr: *mut u8,
    len: usize,
    version: u32,
) -> i32 {
    // SAFETY: the host's buffer, as `call` requires.
    unsafe { call(state, run_look_back::<M>, ptr, len, version) }
}
