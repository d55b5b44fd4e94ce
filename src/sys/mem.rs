//! Checked copies to and from arbitrary addresses of this process.
//!
//! The controller may read and write any executor memory (LLVM's
//! memory-access wrappers dereference raw addresses). We copy with
//! `process_vm_readv`/`process_vm_writev` on our own pid instead, so an
//! unmapped or protected address gives `EFAULT` rather than a crash. Where
//! those calls are unavailable (`ENOSYS`, as under qemu-user, or `EPERM`
//! under a restrictive seccomp policy) the bytes go through a pipe instead:
//! `write(2)` from the source and `read(2)` into the destination, which
//! the kernel checks the same way, so a bad address is still an error.
//! Writing stays an `unsafe fn`: a writable address may hold Rust objects.
//!
//! ```
//! use orc_rt::sys::{mem, mmap};
//!
//! let page = mmap::page_size();
//! let base = mmap::map_anonymous_rw(page).unwrap();
//! // SAFETY: our own fresh mapping.
//! unsafe { mem::write(base, b"hello\0world") }.unwrap();
//! assert_eq!(mem::read_c_string(base).unwrap(), b"hello");
//! let mut word = [0u8; 5];
//! mem::read(base + 6, &mut word).unwrap();
//! assert_eq!(&word, b"world");
//!
//! // Bad addresses are errors, not crashes.
//! assert!(mem::read(0, &mut word).is_err());
//! assert!(mem::read_vec(u64::MAX - 1, 4).is_err()); // would wrap
//!
//! // SAFETY: our own mapping, unused from here on.
//! unsafe { mmap::unmap(base, page) }.unwrap();
//! ```

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Once;

/// Largest chunk read at a time when the total size comes from the wire, so
/// that memory is only allocated for bytes that were actually readable.
const CHUNK: usize = 64 * 1024;

static USE_RAW: AtomicBool = AtomicBool::new(false);

fn fault(addr: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("address {addr:#x} is not accessible"),
    )
}

/// This process's pid, cached (0: not known yet). glibc no longer caches
/// `getpid`, and every memory-access call needs it.
static PID: AtomicI32 = AtomicI32::new(0);

/// `pthread_atfork` child handler: a forked child has another pid.
extern "C" fn forget_pid_after_fork() {
    // An atomic store: cannot panic or unwind.
    PID.store(0, Ordering::Relaxed);
}

fn own_pid() -> libc::pid_t {
    let p = PID.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    static ATFORK: Once = Once::new();
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic; it
        // stays valid for the life of the process (a static function).
        unsafe { libc::pthread_atfork(None, None, Some(forget_pid_after_fork)) };
    });
    // SAFETY: getpid has no preconditions.
    let p = unsafe { libc::getpid() };
    PID.store(p, Ordering::Relaxed);
    p
}

fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM))
}

/// One `process_vm_readv`/`writev` call on this process: returns the bytes
/// transferred.
fn vm_copy(local: *mut u8, remote: u64, len: usize, write: bool) -> io::Result<usize> {
    let liov = libc::iovec {
        iov_base: local as *mut libc::c_void,
        iov_len: len,
    };
    let riov = libc::iovec {
        iov_base: remote as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: the kernel validates the remote range (EFAULT on a bad
    // address) and the local iovec describes a live buffer of `len` bytes
    // owned by the caller.
    let pid = own_pid();
    // SAFETY: as above.
    let n = unsafe {
        if write {
            libc::process_vm_writev(pid, &liov, 1, &riov, 1, 0)
        } else {
            libc::process_vm_readv(pid, &liov, 1, &riov, 1, 0)
        }
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn copy_checked(local: *mut u8, remote: u64, len: usize, write: bool) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    if remote.checked_add(len as u64).is_none() {
        return Err(fault(remote));
    }
    if !USE_RAW.load(Ordering::Relaxed) {
        let mut done = 0usize;
        while done < len {
            // SAFETY: pointer arithmetic only: done < len, so `local + done`
            // stays inside the caller's buffer.
            let l = unsafe { local.add(done) };
            match vm_copy(l, remote + done as u64, len - done, write) {
                Ok(0) => return Err(fault(remote + done as u64)),
                Ok(n) => done += n,
                Err(e) if e.raw_os_error() == Some(libc::EFAULT) => {
                    return Err(fault(remote + done as u64))
                }
                Err(e) if done == 0 && unsupported(&e) => {
                    USE_RAW.store(true, Ordering::Relaxed);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if done == len {
            return Ok(());
        }
    }
    if remote == 0 {
        return Err(fault(remote));
    }
    if write {
        pipe_copy(local, remote as *mut u8, len, remote)
    } else {
        pipe_copy(remote as *const u8, local, len, remote)
    }
}

/// Bytes moved through the pipe at a time: a pipe holds at least one page,
/// so a write of this size never blocks on an empty pipe.
const PIPE_CHUNK: usize = 4096;

/// Copies `len` bytes from `src` to `dst` through a pipe: `write(2)` from
/// `src` fails with `EFAULT` where that memory is not readable, `read(2)`
/// into `dst` where it is not writable, so a bad address is an error, as
/// with `process_vm_readv`/`process_vm_writev`. `remote` is the address of
/// the side that may be bad, for the error. The destination may hold the
/// bytes before a fault (a copy that fails is partial, as theirs are).
fn pipe_copy(src: *const u8, dst: *mut u8, len: usize, remote: u64) -> io::Result<()> {
    let (rd, wr) = super::pipe::pipe_cloexec()?;
    // A failed call, with EINTR retried (`None`) and EFAULT named.
    let failed = |at: usize| {
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => None,
            Some(libc::EFAULT) => Some(fault(remote + at as u64)),
            _ => Some(e),
        }
    };
    let mut done = 0usize;
    while done < len {
        let n = (len - done).min(PIPE_CHUNK);
        // SAFETY: the kernel reads `src + done .. + n` on our behalf and
        // checks it (EFAULT); `wr` is our pipe's open write end. The
        // pointer is only passed to the kernel (done < len).
        let w = unsafe {
            libc::write(
                wr.as_raw_fd(),
                src.wrapping_add(done) as *const libc::c_void,
                n,
            )
        };
        if w <= 0 {
            match (w, failed(done)) {
                (0, _) => return Err(fault(remote + done as u64)),
                (_, Some(e)) => return Err(e),
                (_, None) => continue,
            }
        }
        let w = w as usize;
        let mut got = 0usize;
        while got < w {
            // SAFETY: the kernel writes `dst + done + got .. + w - got` on
            // our behalf and checks it (EFAULT); done + w <= len.
            let r = unsafe {
                libc::read(
                    rd.as_raw_fd(),
                    dst.wrapping_add(done + got) as *mut libc::c_void,
                    w - got,
                )
            };
            if r <= 0 {
                match (r, failed(done + got)) {
                    (0, _) => return Err(fault(remote + (done + got) as u64)),
                    (_, Some(e)) => return Err(e),
                    (_, None) => continue,
                }
            }
            got += r as usize;
        }
        done += w;
    }
    Ok(())
}

/// Reads `buf.len()` bytes at `addr`.
pub fn read(addr: u64, buf: &mut [u8]) -> io::Result<()> {
    copy_checked(buf.as_mut_ptr(), addr, buf.len(), false)
}

/// Writes `data` at `addr`: a plain copy into memory our memory services
/// mapped read+write ([`super::mmap::with_writable`]), the checked copy
/// anywhere else.
///
/// # Safety
///
/// This can write any memory of the process, Rust objects included (an
/// unmapped or read-only address is an error, never a crash). The
/// caller promises that `addr..addr + data.len()` is memory that nothing
/// else relies on. The wire bindings make this promise for the controller,
/// which LLVM's design trusts with the executor's memory.
pub unsafe fn write(addr: u64, data: &[u8]) -> io::Result<()> {
    let fast = super::mmap::with_writable(addr, data.len() as u64, || {
        // SAFETY: the whole range is a read+write mapping made by
        // sys::mmap, and it cannot change while we hold its lock; `data`
        // is a live slice, and Rust objects never live in these mappings.
        unsafe { std::ptr::copy(data.as_ptr(), addr as *mut u8, data.len()) }
    });
    match fast {
        Some(()) => {}
        None => copy_checked(data.as_ptr() as *mut u8, addr, data.len(), true)?,
    }
    // The bytes may be code (written into a W+X mapping, or patched in
    // place): make them visible to instruction fetch.
    super::mmap::invalidate_instruction_cache(addr, data.len() as u64);
    Ok(())
}

/// Reads `len` bytes at `addr` into a new vector. The vector grows chunk by
/// chunk as reads succeed, so a huge bogus `len` fails at the first
/// unreadable byte instead of allocating `len` bytes up front.
pub fn read_vec(addr: u64, len: u64) -> io::Result<Vec<u8>> {
    if addr.checked_add(len).is_none() {
        return Err(fault(addr));
    }
    let mut out = Vec::new();
    let mut pos = 0u64;
    while pos < len {
        let n = (len - pos).min(CHUNK as u64) as usize;
        let start = out.len();
        // The length comes from the controller: a huge readable range must
        // give an error, not abort the process on allocation failure.
        out.try_reserve_exact(n).map_err(|_| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("cannot allocate {len} bytes to read from {addr:#x}"),
            )
        })?;
        out.resize(start + n, 0);
        read(addr + pos, &mut out[start..])?;
        pos += n as u64;
    }
    Ok(out)
}

/// Reads the NUL-terminated string at `addr` (without the NUL).
pub fn read_c_string(addr: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = addr;
    loop {
        // Never cross a page boundary in one read: the next page may be
        // unmapped even though the string ends before it.
        let ps = super::mmap::page_size();
        let to_page_end = ps - (cur % ps);
        let mut chunk = vec![0u8; to_page_end.min(256) as usize];
        read(cur, &mut chunk)?;
        if let Some(i) = chunk.iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..i]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
        cur = cur
            .checked_add(chunk.len() as u64)
            .ok_or_else(|| fault(cur))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_pid_is_refreshed_in_a_forked_child() {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        assert_eq!(own_pid(), me);
        // SAFETY: the child only calls async-signal-safe functions (getpid,
        // atomics, _exit) before exiting.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            // SAFETY: getpid and _exit have no preconditions.
            unsafe {
                let ok = own_pid() == libc::getpid() && own_pid() != me;
                libc::_exit(if ok { 0 } else { 1 });
            }
        }
        let mut status = 0;
        // SAFETY: waits for our own child; status is a valid out-pointer.
        assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        assert_eq!(own_pid(), me);
    }

    #[test]
    fn round_trip_and_faults() {
        let mut v = vec![0u8; 16];
        let addr = v.as_mut_ptr() as u64;
        // SAFETY: inside our own live vector.
        unsafe { write(addr + 3, b"abc") }.unwrap();
        let mut b = [0u8; 3];
        read(addr + 3, &mut b).unwrap();
        assert_eq!(&b, b"abc");
        assert_eq!(read_vec(addr + 3, 3).unwrap(), b"abc");
        assert_eq!(read_c_string(addr + 3).unwrap(), b"abc");
        assert!(read(0, &mut b).is_err());
        assert!(read_vec(16, u64::MAX / 2).is_err());
        // SAFETY: address 8 is never mapped: the checked copy refuses it
        // (with or without process_vm_writev).
        assert!(unsafe { write(8, b"x") }.is_err());
        drop(v);
    }

    #[test]
    fn the_pipe_fallback_reads_and_refuses_bad_addresses() {
        let pipe_read =
            |local: *mut u8, remote: u64, len| pipe_copy(remote as *const u8, local, len, remote);
        let src: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut dst = vec![0u8; src.len()];
        pipe_read(dst.as_mut_ptr(), src.as_ptr() as u64, src.len()).unwrap();
        assert_eq!(dst, src);
        let mut b = [0u8; 4];
        let e = pipe_read(b.as_mut_ptr(), 8, 4).unwrap_err();
        assert!(e.to_string().contains("0x8 is not accessible"), "{e}");
        // A range that runs into an inaccessible page fails there.
        use super::super::mmap;
        let page = mmap::page_size();
        let base = mmap::map_anonymous_rw(2 * page).unwrap();
        let none = mmap::Prot {
            read: false,
            write: false,
            exec: false,
        };
        // SAFETY: our own fresh mapping, nothing lives in it.
        unsafe { mmap::protect(base + page, page, none) }.unwrap();
        let mut two = vec![0u8; 2 * page as usize];
        let e = pipe_read(two.as_mut_ptr(), base, two.len()).unwrap_err();
        assert!(e.to_string().contains("not accessible"), "{e}");
        // SAFETY: our own mapping, unused from here on.
        unsafe { mmap::unmap(base, 2 * page) }.unwrap();
    }

    #[test]
    fn the_pipe_fallback_writes_and_refuses_bad_addresses() {
        let pipe_write = |remote: u64, data: &[u8]| {
            pipe_copy(data.as_ptr(), remote as *mut u8, data.len(), remote)
        };
        let src: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let mut dst = vec![0u8; src.len()];
        pipe_write(dst.as_mut_ptr() as u64, &src).unwrap();
        assert_eq!(dst, src);
        let e = pipe_write(8, b"abcd").unwrap_err();
        assert!(e.to_string().contains("0x8 is not accessible"), "{e}");
        // Read-only and inaccessible pages are refused, not written.
        use super::super::mmap;
        let page = mmap::page_size();
        let base = mmap::map_anonymous_rw(2 * page).unwrap();
        let ro = mmap::Prot {
            read: true,
            write: false,
            exec: false,
        };
        // SAFETY: our own fresh mapping, nothing lives in it.
        unsafe { mmap::protect(base + page, page, ro) }.unwrap();
        let e = pipe_write(base + page, b"x").unwrap_err();
        assert!(e.to_string().contains("not accessible"), "{e}");
        let e = pipe_write(base + page - 2, b"xyzw").unwrap_err();
        assert!(e.to_string().contains("not accessible"), "{e}");
        let mut first = [0u8; 1];
        read(base + page, &mut first).unwrap();
        assert_eq!(first, [0]);
        // SAFETY: our own mapping, unused from here on.
        unsafe { mmap::unmap(base, 2 * page) }.unwrap();
    }

    #[test]
    fn writes_from_the_wire_invalidate_what_they_wrote() {
        let mut buf = vec![0u8; 48];
        let addr = buf.as_mut_ptr() as u64 + 8;
        assert!(!super::super::mmap::recorded_invalidation(addr, 24));
        // SAFETY: inside our own live vector.
        unsafe { write(addr, &[7; 24]) }.unwrap();
        assert!(super::super::mmap::recorded_invalidation(addr, 24));
        assert_eq!(buf[8..32], [7; 24]);
    }
}
