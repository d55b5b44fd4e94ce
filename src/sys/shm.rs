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
//! mem::write(base, b"shared").unwrap();
//!
//! shm::unlink(&name).unwrap();
//! assert!(shm::unlink(&name).is_err());
//! // SAFETY: as above; nothing uses the mapping afterwards.
//! unsafe { mmap::unmap(base, page) }.unwrap();
//! ```

use std::ffi::CString;
use std::io;

/// `prefix` followed by 32 random hex digits (128 bits from
/// `getrandom`): a name nobody can guess.
pub fn random_name(prefix: &str) -> io::Result<String> {
    let mut bytes = [0u8; 16];
    let mut filled = 0;
    while filled < bytes.len() {
        let rest = &mut bytes[filled..];
        // SAFETY: getrandom writes at most rest.len() bytes into rest.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        filled += n as usize;
    }
    let mut name = String::with_capacity(prefix.len() + 32);
    name.push_str(prefix);
    for b in bytes {
        name.push_str(&format!("{b:02x}"));
    }
    Ok(name)
}

/// Creates the shared memory object `name` (`O_RDWR | O_CREAT | O_EXCL`,
/// mode 0600: the owner only), sizes it to `size` bytes, maps it shared with no access
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
            0o600 as libc::mode_t,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn names_are_random_and_objects_owner_only() {
        let a = random_name("/orc_rt_test_shm_").unwrap();
        let b = random_name("/orc_rt_test_shm_").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), "/orc_rt_test_shm_".len() + 32);
        assert!(a["/orc_rt_test_shm_".len()..]
            .bytes()
            .all(|c| c.is_ascii_hexdigit()));
        let page = crate::sys::mmap::page_size();
        let base = create_and_map(&a, page).unwrap();
        let mode = std::fs::metadata(format!("/dev/shm{a}"))
            .unwrap()
            .permissions()
            .mode();
        unlink(&a).unwrap();
        // SAFETY: the mapping made above, unused afterwards.
        unsafe { crate::sys::mmap::unmap(base, page) }.unwrap();
        assert_eq!(mode & 0o777, 0o600);
    }
}
