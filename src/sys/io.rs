//! Descriptor I/O the standard library does not offer: reads that never
//! block, socket writes that never raise SIGPIPE, half-closing a socket,
//! and queries of a raw descriptor number.
//!
//! ```
//! use orc_rt::sys::io;
//! use std::io::Write;
//! use std::os::fd::AsFd;
//! use std::os::unix::net::UnixStream;
//!
//! let (mut a, b) = UnixStream::pair().unwrap();
//! let mut buf = [0u8; 8];
//! // Nothing sent yet: the read does not wait.
//! let e = io::read_nowait(b.as_fd(), &mut buf).unwrap_err();
//! assert!(e.kind() == std::io::ErrorKind::WouldBlock || io::nowait_unsupported(&e));
//! a.write_all(b"hi").unwrap();
//! assert!(io::is_socket(a.as_fd()));
//! assert!(!io::is_valid_fd(-1));
//! ```

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// Turns a byte count or -1 from a system call into a `Result`.
fn ssize_result(n: isize) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Reads without blocking (`preadv2` with `RWF_NOWAIT`, which pipes and
/// sockets support on current kernels): `WouldBlock` when nothing is
/// buffered. Where the kernel or the file does not support it, the error
/// satisfies [`nowait_unsupported`].
pub fn read_nowait(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `iov` describes `buf`, valid and exclusively borrowed for the
    // call; offset -1 reads at the current position (required for pipes).
    let n = unsafe { libc::preadv2(fd.as_raw_fd(), &iov, 1, -1, libc::RWF_NOWAIT) };
    ssize_result(n)
}

/// Whether `e`, from [`read_nowait`], says that such reads are not
/// supported on that descriptor (so that plain reads must do).
pub fn nowait_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EINVAL | libc::ESPIPE)
    )
}

/// `sendmsg(MSG_NOSIGNAL)`: a vectored write to a socket whose peer has gone
/// fails with `EPIPE` instead of raising SIGPIPE (which would kill a C host
/// that does not ignore it). Pipes cannot do this.
pub fn send_no_sigpipe(fd: BorrowedFd<'_>, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // IoSlice is guaranteed ABI-compatible with `struct iovec` on Unix;
    // sendmsg only reads through the pointer.
    msg.msg_iov = slices.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = slices.len() as _;
    // SAFETY: msg points at `slices`, valid for the call; fd is open for
    // the borrow.
    let n = unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
    ssize_result(n)
}

/// Closes a socket's write direction (`shutdown(SHUT_WR)`): the peer sees
/// end of file, even while a duplicate of the descriptor stays open.
pub fn shutdown_write(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: the descriptor is open for the borrow; shutdown has no
    // memory-safety preconditions.
    if unsafe { libc::shutdown(fd.as_raw_fd(), libc::SHUT_WR) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One `write(2)` of `buf` to `fd` (no retry on a short write), for
/// descriptors the standard library has no type for.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the call;
    // the descriptor is open for the borrow.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    ssize_result(n)
}

/// Whether `fd` names an open descriptor of this process.
pub fn is_valid_fd(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table; any integer is
    // accepted and an invalid one yields -1/EBADF.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1
}

/// Whether `fd` is a socket.
pub fn is_socket(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: an all-zero `stat` is a valid value for fstat to overwrite.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer for fstat and fd is open for the
    // borrow.
    let rc = unsafe { libc::fstat(fd.as_raw_fd(), &mut st) };
    rc == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
}

/// Flushes every C stdio output stream of the process (`fflush(NULL)`), as
/// `exit` would: the buffered output of JIT'd code that writes through the
/// process's C library.
pub fn flush_c_stdio() {
    // SAFETY: fflush(NULL) has no preconditions; it takes each stream's
    // lock as it flushes.
    unsafe { libc::fflush(std::ptr::null_mut()) };
}
