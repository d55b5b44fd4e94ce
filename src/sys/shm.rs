//! POSIX shared memory objects (`shm_open`).
//!
//! The shared-memory mapper creates one object per reservation; the
//! controller opens the same name and writes segment content through its own
//! mapping, so only the executor's protections change here.
//!
//! ```
//! use orc_rt::sys::{mem, mmap, shm};
//!
//! let name = format!("/orc_rt_doc_shm_{}", std::process::id());
//! let page = mmap::page_size();
//! let base = shm::create_and_map(&name, page).unwrap();
//! // The name exists until it is unlinked: creating it again fails.
//! assert!(shm::create_and_map(&name, page).is_err());
//!
//! // Mapped with no access; grant some before use.
//! // SAFETY: our own mapping, holding no Rust objects.
//! unsafe { mmap::protect(base, page, mmap::read_write()) }.unwrap();
//! // SAFETY: our own fresh mapping.
//! unsafe { mem::write(base, b"shared") }.unwrap();
//!
//! shm::unlink(&name).unwrap();
//! assert!(shm::unlink(&name).is_err());
//! // SAFETY: as above; nothing uses the mapping afterwards.
//! unsafe { mmap::unmap(base, page) }.unwrap();
//! ```

use std::ffi::CString;
use std::io;

/// Creates the shared memory object `name` (`O_RDWR | O_CREAT | O_EXCL`,
/// mode 0700), sizes it to `size` bytes, maps it shared with no access
/// rights and closes the descriptor. Returns the mapping's base address.
/// The name is not unlinked: the controller opens it by name.
pub fn create_and_map(name: &str, size: u64) -> io::Result<u64> {
    let cname = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in shm name"))?;
    let len = libc::off_t::try_from(size)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "shm size too large"))?;
    // SAFETY: cname is a valid NUL-terminated string.
    let fd = unsafe {
        libc::shm_open(
            cname.as_ptr(),
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
            0o700 as libc::mode_t,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let result = (|| {
        // SAFETY: fd is the descriptor we just opened.
        if unsafe { libc::ftruncate(fd, len) } < 0 {
            return Err(io::Error::last_os_error());
        }
        super::mmap::map_shared_none(fd, size)
    })();
    // SAFETY: fd is ours and not used after this point; the mapping (if
    // any) keeps the object alive.
    unsafe { libc::close(fd) };
    if result.is_err() {
        // Nobody can use a half-made object; do not leave it behind.
        // SAFETY: cname is a valid NUL-terminated string.
        unsafe { libc::shm_unlink(cname.as_ptr()) };
    }
    result
}

/// Removes the name `name` (used by tests to clean up).
pub fn unlink(name: &str) -> io::Result<()> {
    let cname = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in shm name"))?;
    // SAFETY: cname is a valid NUL-terminated string.
    if unsafe { libc::shm_unlink(cname.as_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
