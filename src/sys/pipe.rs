//! Pipe capacity.

use std::os::fd::RawFd;

/// Asks for a pipe capacity of at least `size` bytes on `fd` if it is a
/// pipe (`F_SETPIPE_SZ`). Best effort: anything that is not a pipe, or a
/// size above the system's limit, leaves the pipe as it is.
pub fn grow_pipe(fd: RawFd, size: usize) {
    let Ok(size) = libc::c_int::try_from(size) else {
        return;
    };
    // SAFETY: F_GETPIPE_SZ/F_SETPIPE_SZ only read the descriptor's state
    // and fail with EBADF/EINVAL on anything that is not a pipe.
    unsafe {
        let cur = libc::fcntl(fd, libc::F_GETPIPE_SZ);
        if cur >= 0 && cur < size {
            libc::fcntl(fd, libc::F_SETPIPE_SZ, size);
        }
    }
}
