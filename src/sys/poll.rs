//! Waiting for descriptors to become readable (`poll`).
//!
//! ```
//! use orc_rt::sys::poll::poll_readable;
//! use std::io::Write;
//! use std::os::fd::AsFd;
//! use std::os::unix::net::UnixStream;
//! use std::time::Duration;
//!
//! let (mut a, b) = UnixStream::pair().unwrap();
//! assert_eq!(poll_readable([b.as_fd()], Some(Duration::ZERO)).unwrap(), [false]);
//! a.write_all(b"x").unwrap();
//! assert_eq!(poll_readable([a.as_fd(), b.as_fd()], None).unwrap(), [false, true]);
//! ```

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

/// Waits until at least one of `fds` is readable, has hung up or is in
/// error, for at most `timeout` (`None`: no limit; `Some(Duration::ZERO)`:
/// only look; counted in whole milliseconds). Returns, for each descriptor, whether it has
/// something to report (all `false` after a timeout). An interrupted wait
/// is an error of kind `Interrupted`.
pub fn poll_readable<const N: usize>(
    fds: [BorrowedFd<'_>; N],
    timeout: Option<Duration>,
) -> io::Result<[bool; N]> {
    let mut pfds = fds.map(|fd| libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    let timeout = timeout.map_or(-1, |d| {
        libc::c_int::try_from(d.as_millis()).unwrap_or(libc::c_int::MAX)
    });
    // SAFETY: `pfds` is a valid array of N pollfd entries, exclusively
    // borrowed for the call; the descriptors are open for their borrows.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), N as libc::nfds_t, timeout) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pfds.map(|p| p.revents != 0))
}
