//! What a `no_std` component needs from a runtime: an allocator, the canonical ABI's
//! `cabi_realloc` on top of it (on wasm32-wasip2 wit-bindgen expects std's libc to
//! provide it), and a panic handler. A panic (a bug: bad input is a typed error)
//! becomes a trap that the host reports.

use alloc::alloc::{GlobalAlloc, Layout};

#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// The canonical ABI's allocation entry point, backed by the global allocator so that
/// what the host allocates for arguments is freed by the same allocator.
///
/// # Safety
/// Called by the component model runtime with a layout it allocated before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    if new_len == 0 {
        return align as *mut u8;
    }
    let ptr = unsafe {
        if old_len == 0 {
            ALLOC.alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            ALLOC.realloc(
                old,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if ptr.is_null() {
        core::arch::wasm32::unreachable()
    }
    ptr
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
