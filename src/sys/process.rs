//! The process itself: its threads, inherited descriptors, identity and
//! capabilities, namespaces, environment block, and the watchdog process
//! the sandbox forks.
//!
//! Each function is one system facility; the sandbox decides when to call
//! them (see `sandbox`).
//!
//! ```
//! // This doctest's process runs at least its main thread.
//! assert!(orc_rt::sys::process::thread_count().unwrap() >= 1);
//! ```

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn check(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// The number of threads of this process (`/proc/self/task`).
pub fn thread_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}

/// Closes every descriptor from 3 up, except those in `keep`
/// (`close_range`; on a kernel without it, the descriptors listed in
/// `/proc/self/fd`).
pub fn close_inherited(keep: &[libc::c_int]) -> io::Result<()> {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter_map(|&fd| u32::try_from(fd).ok())
        .filter(|&fd| fd > 2)
        .collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first = 3u32;
    let mut ranges = Vec::new();
    for &k in &keep {
        if k > first {
            ranges.push((first, k - 1));
        }
        first = k + 1;
    }
    ranges.push((first, u32::MAX));
    for (lo, hi) in ranges {
        // SAFETY: close_range takes two numbers and a flag word and touches
        // no memory; closing descriptors this process does not use any
        // more is what the caller asked for.
        let rc = unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0u32) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ENOSYS) {
                return Err(e);
            }
            close_listed(lo, hi)?;
        }
    }
    Ok(())
}

/// `close_range` for kernels before 5.9: the descriptors `/proc/self/fd`
/// lists in `lo..=hi`.
fn close_listed(lo: u32, hi: u32) -> io::Result<()> {
    let fds: Vec<u32> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| (lo..=hi).contains(fd))
        .collect();
    for fd in fds {
        // SAFETY: as in close_inherited; the directory's own descriptor
        // was closed when read_dir's iterator was dropped above.
        unsafe { libc::close(fd as libc::c_int) };
    }
    Ok(())
}

/// `struct __user_cap_header_struct` / `__user_cap_data_struct`
/// (`<linux/capability.h>`), version 3 (two data words).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}
const CAP_VERSION_3: u32 = 0x2008_0522;

/// The calling thread's capability sets (effective, permitted,
/// inheritable), 64 bits each.
pub fn capabilities() -> io::Result<(u64, u64, u64)> {
    let mut h = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    // SAFETY: capget writes two CapData words (version 3) and reads the
    // header, all owned here.
    check(unsafe { libc::syscall(libc::SYS_capget, &mut h, d.as_mut_ptr()) })?;
    let join = |f: fn(&CapData) -> u32| u64::from(f(&d[0])) | u64::from(f(&d[1])) << 32;
    Ok((
        join(|c| c.effective),
        join(|c| c.permitted),
        join(|c| c.inheritable),
    ))
}

/// True if this process has any privilege: effective uid 0, or any
/// effective or permitted capability.
pub fn is_privileged() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root || capabilities().map_or(true, |(e, p, _)| e != 0 || p != 0)
}

/// Empties every capability set of the calling thread.
pub fn clear_capabilities() -> io::Result<()> {
    let mut h = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let d = [CapData::default(); 2];
    // SAFETY: capset reads the header and two CapData words owned here.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut h, d.as_ptr()) })?;
    Ok(())
}

fn prctl(option: libc::c_int, a: libc::c_ulong, b: libc::c_ulong) -> io::Result<libc::c_long> {
    // SAFETY: every option used here takes integers only, no pointers.
    check(libc::c_long::from(unsafe {
        libc::prctl(option, a, b, 0 as libc::c_ulong, 0 as libc::c_ulong)
    }))
}

/// Drops every capability from the bounding set (needs `CAP_SETPCAP`) and
/// clears the ambient set.
pub fn drop_bounding_and_ambient() -> io::Result<()> {
    let mut cap = 0;
    loop {
        match prctl(libc::PR_CAPBSET_DROP, cap, 0) {
            Ok(_) => cap += 1,
            // Past the last capability this kernel knows.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && cap > 0 => break,
            Err(e) => return Err(e),
        }
    }
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )?;
    Ok(())
}

/// Locks the securebits so that uid 0 never regains capabilities (no
/// root fixups, no keep-caps, no ambient raise), for this process and its
/// children (needs `CAP_SETPCAP`).
pub fn lock_securebits() -> io::Result<()> {
    // <linux/securebits.h>: each bit, and its lock one bit above.
    const NOROOT: u64 = 1 << 0;
    const NOROOT_LOCKED: u64 = 1 << 1;
    const NO_SETUID_FIXUP_LOCKED: u64 = 1 << 3;
    const KEEP_CAPS_LOCKED: u64 = 1 << 5;
    const NO_CAP_AMBIENT_RAISE: u64 = 1 << 6;
    const NO_CAP_AMBIENT_RAISE_LOCKED: u64 = 1 << 7;
    let bits = NOROOT
        | NOROOT_LOCKED
        | NO_SETUID_FIXUP_LOCKED
        | KEEP_CAPS_LOCKED
        | NO_CAP_AMBIENT_RAISE
        | NO_CAP_AMBIENT_RAISE_LOCKED;
    prctl(libc::PR_SET_SECUREBITS, bits as libc::c_ulong, 0)?;
    Ok(())
}

/// Switches every thread to `uid`/`gid` (real, effective and saved) with
/// no supplementary groups; glibc applies each call to all threads.
pub fn set_identity(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: setgroups with size 0 reads no memory.
    check(libc::c_long::from(unsafe {
        libc::setgroups(0, std::ptr::null())
    }))?;
    // SAFETY: plain integer arguments.
    check(libc::c_long::from(unsafe {
        libc::setresgid(gid, gid, gid)
    }))?;
    // SAFETY: plain integer arguments.
    check(libc::c_long::from(unsafe {
        libc::setresuid(uid, uid, uid)
    }))?;
    Ok(())
}

/// The real, effective and saved uids.
pub fn uids() -> (u32, u32, u32) {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: getresuid writes three uids we own.
    unsafe { libc::getresuid(&mut r, &mut e, &mut s) };
    (r, e, s)
}

/// `access(path, mode)` with the real uid (`R_OK`, `W_OK`, `X_OK`).
pub fn access(path: &std::path::Path, mode: libc::c_int) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    // SAFETY: c is a valid NUL-terminated string.
    check(libc::c_long::from(unsafe {
        libc::access(c.as_ptr(), mode)
    }))
    .map(drop)
}

/// `PR_SET_NO_NEW_PRIVS`: execve never grants privileges again.
pub fn set_no_new_privs() -> io::Result<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0).map(drop)
}

/// Makes the process dumpable again after an identity change (which
/// clears the flag): its `/proc/self` files then belong to its own uid, so
/// it can read them. Core dumps stay bounded by `RLIMIT_CORE`.
pub fn set_dumpable() -> io::Result<()> {
    prctl(libc::PR_SET_DUMPABLE, 1, 0).map(drop)
}

/// `unshare(flags)`.
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes a flag word and touches no memory.
    check(libc::c_long::from(unsafe { libc::unshare(flags) })).map(drop)
}

/// Writes `text` to `/proc/self/<file>` (`uid_map`, `gid_map`,
/// `setgroups`).
pub fn write_proc_self(file: &str, text: &str) -> io::Result<()> {
    std::fs::write(format!("/proc/self/{file}"), text)
}

/// Overwrites the environment block the kernel gave this process at exec
/// (what `/proc/self/environ` shows, and what JIT'd code could find in its
/// own memory) with zero bytes.
///
/// # Safety
///
/// Nothing may point into that block any more: the caller has rebuilt
/// `environ` from copies (unset every variable, set again the ones it
/// keeps), and no other thread runs.
pub unsafe fn scrub_initial_environment() -> io::Result<()> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name, which is in parentheses and may hold
    // anything: env_start and env_end are fields 50 and 51 (1-based), so
    // 48 and 49 counted from field 3.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "/proc/self/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<usize>().ok());
    let (Some(start), Some(end)) = (field(47), field(48)) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "/proc/self/stat has no env_start/env_end",
        ));
    };
    if start != 0 && end > start {
        // SAFETY: [start, end) is this process's initial environment
        // strings, on the writable main stack mapping; the caller promises
        // nothing refers to them.
        unsafe { std::ptr::write_bytes(start as *mut u8, 0, end - start) };
    }
    Ok(())
}

/// A connected pair of `AF_UNIX` `SOCK_SEQPACKET` sockets (close-on-exec).
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds has room for the two descriptors socketpair writes.
    check(libc::c_long::from(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    }))?;
    // SAFETY: socketpair succeeded: both descriptors are ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends `data` as one message on `socket`, with `fd` attached
/// (`SCM_RIGHTS`) if given.
pub fn send_with_fd(socket: &OwnedFd, data: &[u8], fd: Option<RawFd>) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // Room for one descriptor, aligned for cmsghdr.
    let mut control = [0u64; 4];
    // SAFETY: a zeroed msghdr is valid; its pointers are set below to
    // buffers that outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        // SAFETY: CMSG_SPACE is arithmetic.
        let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space;
        // SAFETY: msg_control points at `space` bytes (<= 32) we own, so
        // the first header and its data fit.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd);
        }
    }
    // SAFETY: msg describes live buffers.
    check(unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) } as libc::c_long)
        .map(drop)
}

/// Receives one message into `buf`; returns its length (0: the peer is
/// gone) and the descriptor attached, if any.
pub fn recv_with_fd(socket: &OwnedFd, buf: &mut [u8]) -> io::Result<(usize, Option<OwnedFd>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 4];
    // SAFETY: as in send_with_fd.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: msg describes live buffers we own.
    let n = check(
        unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) }
            as libc::c_long,
    )? as usize;
    let mut fd = None;
    // SAFETY: the kernel filled msg_control up to msg_controllen; the
    // CMSG macros walk within it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                // Every descriptor the message carried is now ours: keep
                // the first, close the others.
                let data = (*c).cmsg_len - libc::CMSG_LEN(0) as usize;
                for i in 0..data / std::mem::size_of::<RawFd>() {
                    let p = libc::CMSG_DATA(c).cast::<RawFd>().add(i);
                    let received = OwnedFd::from_raw_fd(std::ptr::read_unaligned(p));
                    if fd.is_none() {
                        fd = Some(received);
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n, fd))
}

/// What the watchdog saw of its child.
#[derive(Debug, PartialEq, Eq)]
pub enum ChildEnd {
    /// The child exited with this status.
    Exited(i32),
    /// A signal ended the child.
    Signaled(i32),
    /// The deadline passed; the child was killed.
    TimedOut,
}

/// Forks. In the child (`Ok(None)`), the calling thread continues alone.
/// In the parent (`Ok(Some(pid))`), the caller should call
/// [`supervise`] and never return to other work.
///
/// # Safety
///
/// The process must be single-threaded (a forked child of a threaded
/// process may only make async-signal-safe calls).
pub unsafe fn fork() -> io::Result<Option<libc::pid_t>> {
    // SAFETY: the caller promises a single-threaded process.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        p => Ok(Some(p)),
    }
}

/// In a forked child: SIGKILL when the parent dies.
pub fn die_with_parent() -> io::Result<()> {
    prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0).map(drop)
}

/// Waits for `child` for at most `seconds` (if given), then kills it
/// (SIGKILL) and reaps it. Meanwhile, each message on `requests` is
/// handed to `serve` (which returns false when it should not be watched
/// any more).
pub fn supervise(
    child: libc::pid_t,
    seconds: Option<u64>,
    requests: Option<&OwnedFd>,
    serve: &mut dyn FnMut(&OwnedFd) -> bool,
) -> io::Result<ChildEnd> {
    let deadline = seconds.map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s));
    // SAFETY: pidfd_open takes a pid and a flag word.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, child, 0u32) };
    let mut requests = requests;
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes one int we own.
        let r = unsafe { libc::waitpid(child, &mut status, libc::WNOHANG) };
        if r == child {
            if libc::WIFEXITED(status) {
                return Ok(ChildEnd::Exited(libc::WEXITSTATUS(status)));
            }
            if libc::WIFSIGNALED(status) {
                return Ok(ChildEnd::Signaled(libc::WTERMSIG(status)));
            }
            continue;
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
        let left = match deadline {
            Some(d) => d.saturating_duration_since(std::time::Instant::now()),
            None => std::time::Duration::from_secs(1),
        };
        if deadline.is_some() && left.is_zero() {
            // SAFETY: kill and waitpid take integers; the child is ours
            // and not reaped, so its pid is not reused.
            unsafe {
                libc::kill(child, libc::SIGKILL);
                libc::waitpid(child, &mut status, 0);
            }
            return Ok(ChildEnd::TimedOut);
        }
        let ms = left.as_millis().clamp(1, 1000) as libc::c_int;
        let mut fds = [
            libc::pollfd {
                fd: pidfd as libc::c_int,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: requests.map_or(-1, |s| s.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        if pidfd < 0 && requests.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(ms.min(50) as u64));
            continue;
        }
        // SAFETY: two pollfds we own (a negative fd is ignored).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, if pidfd < 0 { ms.min(50) } else { ms }) };
        if n > 0 && fds[1].revents != 0 {
            if let Some(sock) = requests {
                if !serve(sock) {
                    requests = None;
                }
            }
        }
    }
}

/// Ends this process as `signal` would (default action, re-raised, with
/// no core dump: the child's death is not this process's), or with 128 +
/// `signal` if it does not end it.
pub fn exit_as_signaled(signal: i32) -> ! {
    let _ = super::rlimit::lower_limit(libc::RLIMIT_CORE, 0, 0);
    // SAFETY: resetting a disposition to the default and raising a signal
    // at ourselves; _exit has no preconditions.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
        libc::_exit(128 + signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::probe;

    #[test]
    fn close_inherited_keeps_what_it_is_told() {
        if !probe::test_needs(
            !probe::under_emulator(),
            "a process whose descriptors are all its own (qemu-user's are among them)",
        ) {
            return;
        }
        probe::in_child(|| {
            let open = || std::fs::File::open("/dev/null").map_err(|e| e.to_string());
            let (a, b, c) = (open()?, open()?, open()?);
            use std::os::fd::IntoRawFd;
            let (a, b, c) = (a.into_raw_fd(), b.into_raw_fd(), c.into_raw_fd());
            close_inherited(&[b, 1, -1]).map_err(|e| e.to_string())?;
            // SAFETY: F_GETFD on numbers, no memory.
            let alive = |fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0;
            match (alive(a), alive(b), alive(c), alive(2)) {
                (false, true, false, true) => Ok(()),
                r => Err(format!("alive a, b, c, 2: {r:?}")),
            }
        })
        .unwrap();
    }
}
