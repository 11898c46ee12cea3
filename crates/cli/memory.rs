//! Gives memory the process freed back to the operating system.
//!
//! A plan of a hundred tenants builds and drops hundreds of megabytes of drafts before the
//! apply starts. glibc's allocator keeps freed pages inside its heaps (only the top of a heap
//! is returned), so they stayed resident for the whole apply. `malloc_trim` returns every
//! free page of every heap. Elsewhere than glibc this does nothing.

/// Returns freed heap pages to the operating system (glibc), or does nothing.
#[allow(unsafe_code)]
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's `malloc_trim` takes no pointers and locks each arena itself; it may
        // be called from any thread at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}
