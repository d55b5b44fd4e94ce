//! Pipes: creating one, and their capacity.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

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

/// A new pipe, both ends close-on-exec: `(read end, write end)`.
pub fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and ours alone.
    let r = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    // SAFETY: as above.
    let w = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    Ok((r, w))
}
