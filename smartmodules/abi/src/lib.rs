//! Guest side of the Fluvio SmartModule ABI, written against the wire format of
//! `fluvio-protocol` so a module needs no SDK: the input is walked in place, unchanged records
//! are written back as their own bytes, and every failure is a structured runtime error.
//!
//! A module implements [`SmartModule`] and calls [`export!`]:
//! ```
//! use smartmodule_abi::{export, Emit, Kind, Params, Record, SmartModule};
//!
//! /// Keeps records whose value is not empty.
//! struct NonEmpty;
//!
//! impl SmartModule for NonEmpty {
//!     const KIND: Kind = Kind::Filter;
//!     fn init(_params: &Params<'_>) -> Result<Self, String> {
//!         Ok(NonEmpty)
//!     }
//!     fn process(&mut self, record: &Record<'_, '_>, out: &mut Emit<'_, '_, '_, '_>) -> Result<(), String> {
//!         if !record.value().is_empty() {
//!             out.pass();
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export!(filter: NonEmpty);
//! ```
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
extern crate alloc;

pub mod aggregate;
#[cfg(target_arch = "wasm32")]
pub mod guest;
#[cfg(target_arch = "wasm32")]
pub mod heap;
pub mod input;
pub mod output;
pub mod record;
pub mod runtime;
pub mod wire;

pub use aggregate::{run_aggregate, Aggregate};
pub use input::{Input, Lookback, Params};
pub use output::{Kind, OutputWriter, RuntimeError};
pub use record::{RawRecord, Records};
pub use runtime::{run_init, run_look_back, run_transform, Emit, Record, SmartModule};
pub use smartmodule_text::Text;
pub use wire::DecodeError;

/// Exports a [`SmartModule`] type under the transform name the host probes for
/// (`filter`, `map`, `filter_map`, `array_map`, or `aggregate` for an [`Aggregate`]), with
/// `init`, `alloc`, `dealloc` and, when asked (`export!(filter: T, look_back)`), `look_back`.
/// Nothing is exported off wasm, so the module crate also builds and tests natively.
///
/// On wasm the module crate must be `no_std` (`#![cfg_attr(target_arch = "wasm32", no_std)]`):
/// the macro supplies the allocator and a panic handler that traps. A panic is a bug here;
/// policies refuse bad input with `Err`, they never panic on it.
#[macro_export]
macro_rules! export {
    (filter: $ty:ty $(, $lb:ident)?) => { $crate::export!(@kind filter, Filter, guest, $ty $(, $lb)?); };
    (map: $ty:ty $(, $lb:ident)?) => { $crate::export!(@kind map, Map, guest, $ty $(, $lb)?); };
    (filter_map: $ty:ty $(, $lb:ident)?) => { $crate::export!(@kind filter_map, FilterMap, guest, $ty $(, $lb)?); };
    (array_map: $ty:ty $(, $lb:ident)?) => { $crate::export!(@kind array_map, ArrayMap, guest, $ty $(, $lb)?); };
    (aggregate: $ty:ty) => { $crate::export!(@kind aggregate, Aggregate, aggregate, $ty); };
    (@kind $name:ident, $kind:ident, $glue:ident, $ty:ty $(, $lb:ident)?) => {
        const _: () = assert!(
            <$ty as $crate::SmartModule>::KIND as u8 == $crate::Kind::$kind as u8,
            "the SmartModule's KIND must match the exported transform",
        );
        #[cfg(target_arch = "wasm32")]
        mod __smartmodule_exports {
            use super::*;

            #[global_allocator]
            static ALLOCATOR: $crate::heap::Heap = $crate::heap::Heap::new();

            #[panic_handler]
            fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
                core::arch::wasm32::unreachable()
            }

            static STATE: $crate::guest::Slot<$ty> = $crate::guest::Slot::new();

            #[no_mangle]
            pub extern "C" fn alloc(len: usize) -> *mut u8 {
                $crate::guest::alloc(len)
            }

            #[no_mangle]
            pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
                // SAFETY: the host gives back what it got from `alloc`.
                unsafe { $crate::guest::dealloc(ptr, len) }
            }

            #[no_mangle]
            pub unsafe extern "C" fn init(ptr: *mut u8, len: usize, version: u32) -> i32 {
                // SAFETY: the host passes a buffer it filled through `alloc`.
                unsafe { $crate::guest::init::<$ty>(&STATE, ptr, len, version) }
            }

            #[no_mangle]
            pub unsafe extern "C" fn $name(ptr: *mut u8, len: usize, version: u32) -> i32 {
                // SAFETY: the host passes a buffer it filled through `alloc`.
                unsafe { $crate::$glue::transform::<$ty>(&STATE, ptr, len, version) }
            }

            $( $crate::export!(@look_back $lb, $ty); )?
        }
    };
    (@look_back look_back, $ty:ty) => {
        #[no_mangle]
        pub unsafe extern "C" fn look_back(ptr: *mut u8, len: usize, version: u32) -> i32 {
            // SAFETY: the host passes a buffer it filled through `alloc`.
            unsafe { $crate::guest::look_back::<$ty>(&STATE, ptr, len, version) }
        }
    };
}
