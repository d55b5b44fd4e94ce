//! Test-only probes for the sandbox: run a check in a forked child, and
//! make the raw system calls a sandbox refuses, returning their errno.
//!
//! A sandbox cannot be lifted, so its tests never confine the test process
//! itself: each check runs in a child forked from the test's thread (the
//! only thread the child has), which reports through a pipe and its exit
//! status.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// How long [`in_child`] waits for its child.
const CHILD_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `f` in a forked child and returns its verdict: `Err` with the
/// child's message if `f` failed, panicked or the child died. The child
/// leaves with `_exit`, so no test harness code runs in it afterwards.
pub(crate) fn in_child(f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", io::Error::last_os_error()));
    }
    // SAFETY: both descriptors are fresh and owned by nothing else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the child only runs `f` (allocation is fork-safe in glibc;
    // `f` must not take locks other threads may hold) and then `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", io::Error::last_os_error()));
    }
    if pid == 0 {
        drop(r);
        let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| Err("the check panicked".into()));
        let (msg, code) = match verdict {
            Ok(()) => (String::new(), 0),
            Err(m) => (m, 1),
        };
        let mut out = std::fs::File::from(w);
        let _ = io::Write::write_all(&mut out, msg.as_bytes());
        // SAFETY: _exit has no preconditions; it skips the harness's
        // exit handlers, which belong to the parent.
        unsafe { libc::_exit(code) }
    }
    drop(w);
    // The child's message ends when it exits; one that hangs (a deadlock
    // in an emulator's fork) is killed rather than hanging the test run.
    let mut pfd = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(&r),
        events: libc::POLLIN,
        revents: 0,
    };
    let deadline = std::time::Instant::now() + CHILD_TIME_LIMIT;
    let mut msg = Vec::new();
    let mut file = std::fs::File::from(r);
    let mut hung = false;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        // SAFETY: one pollfd we own, for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(60_000) as libc::c_int) };
        if n == 0 && left.is_zero() {
            hung = true;
            break;
        }
        if n <= 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        match io::Read::read(&mut file, &mut buf) {
            Ok(0) => break,
            Ok(k) => msg.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if hung {
        // SAFETY: signals and reaps our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        return Err(format!(
            "the child did not finish within {} s (killed)",
            CHILD_TIME_LIMIT.as_secs()
        ));
    }
    let msg = String::from_utf8_lossy(&msg).into_owned();
    let mut status = 0;
    // SAFETY: waits for our own child and writes its status into `status`.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(format!("waitpid: {}", io::Error::last_os_error()));
    }
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Ok(()),
        (true, _) => Err(msg),
        _ => Err(format!("the child died (wait status {status:#x}); {msg}")),
    }
}

/// `execve("/bin/sh", ["sh", "-c", "exit 42"])`: returns only if it failed.
pub(crate) fn execve_sh() -> io::Error {
    let argv = [
        c"sh".as_ptr(),
        c"-c".as_ptr(),
        c"exit 42".as_ptr(),
        std::ptr::null(),
    ];
    let envp = [std::ptr::null()];
    // SAFETY: NUL-terminated strings and NULL-terminated arrays that live
    // across the call; on success the process image is replaced.
    unsafe { libc::execve(c"/bin/sh".as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

/// `fork()`; the new child `_exit`s at once and is reaped.
pub(crate) fn fork_and_reap() -> io::Result<()> {
    // SAFETY: the child only calls _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(0) }
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    Ok(())
}

/// `ptrace(PTRACE_TRACEME)`.
pub(crate) fn ptrace_traceme() -> io::Result<()> {
    // SAFETY: TRACEME takes no pointers.
    check(unsafe { libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) })?;
    Ok(())
}

/// `personality(persona)`: the previous persona.
pub(crate) fn personality(persona: u32) -> io::Result<u32> {
    // SAFETY: takes a number only.
    let r = unsafe { libc::personality(persona as libc::c_ulong) };
    check(r.into()).map(|r| r as u32)
}

/// `process_vm_readv` of `buf.len()` bytes at `addr` of process `pid`.
pub(crate) fn process_vm_read(pid: libc::pid_t, addr: usize, buf: &mut [u8]) -> io::Result<usize> {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: the local iovec describes `buf`; the kernel checks the
    // remote range.
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    check(n as libc::c_long).map(|n| n as usize)
}

/// `unshare(flags)`.
pub(crate) fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: takes a number only.
    check(unsafe { libc::unshare(flags) }.into())?;
    Ok(())
}

/// `clone3(NULL, 0)`: `EINVAL` from the kernel (too small), or the
/// filter's errno.
pub(crate) fn clone3_null() -> io::Error {
    // SAFETY: a NULL argument of size 0 is refused before any access.
    unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<libc::c_void>(), 0usize) };
    io::Error::last_os_error()
}

/// `perf_event_open(NULL, 0, -1, -1, 0)`: `EFAULT` from the kernel, or the
/// filter's errno.
pub(crate) fn perf_event_open_null() -> io::Error {
    // SAFETY: the kernel refuses a NULL attribute with EFAULT.
    unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            std::ptr::null::<libc::c_void>(),
            0,
            -1,
            -1,
            0,
        )
    };
    io::Error::last_os_error()
}

/// `socket(domain, ty, protocol)`.
pub(crate) fn socket(
    domain: libc::c_int,
    ty: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: takes numbers only.
    let fd = check(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) }.into())?;
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// `kill(pid, sig)` (signal 0 checks the permission only).
pub(crate) fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: takes numbers only; the callers send signal 0.
    check(unsafe { libc::kill(pid, sig) }.into())?;
    Ok(())
}

/// System call `nr` with no arguments; returns the error it failed with,
/// or error 0 if it succeeded. (For x86-64's x32 numbering.)
#[cfg(target_arch = "x86_64")]
pub(crate) fn raw_syscall0(nr: libc::c_long) -> io::Error {
    // SAFETY: the callers pass calls without arguments (getpid's numbers).
    let r = unsafe { libc::syscall(nr) };
    if r < 0 {
        io::Error::last_os_error()
    } else {
        io::Error::from_raw_os_error(0)
    }
}

/// Whether this process can install seccomp filters: the kernel answers
/// `seccomp(SECCOMP_GET_ACTION_AVAIL)` for `SECCOMP_RET_ERRNO`. qemu-user
/// does not implement `seccomp(2)` (ENOSYS), so emulated runs say no.
pub(crate) fn seccomp_available() -> bool {
    let action: u32 = libc::SECCOMP_RET_ERRNO;
    // SAFETY: the kernel reads one u32 that lives across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_ACTION_AVAIL,
            0,
            &action as *const u32,
        )
    };
    r == 0
}

/// Whether the tests run under an emulator (qemu-user): the cross-test
/// step runs them with `ORC_RT_TEST_RUNNER` naming it. qemu-user keeps
/// descriptors of its own in the process, so closing every inherited
/// descriptor breaks the emulator itself.
pub(crate) fn under_emulator() -> bool {
    std::env::var("ORC_RT_TEST_RUNNER").is_ok_and(|r| r.contains("qemu"))
}

/// For the sandbox's tests: whether the machine gives what a test needs.
/// Where it does not, the test fails, because the test command runs as
/// root on a kernel with Landlock; `ORC_RT_ALLOW_SANDBOX_SKIPS=1` turns
/// that into a printed skip for machines that cannot (the test then
/// returns early, and says so).
pub(crate) fn test_needs(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var_os("ORC_RT_ALLOW_SANDBOX_SKIPS").is_some_and(|v| v == "1") {
        eprintln!("SKIP: needs {what} (ORC_RT_ALLOW_SANDBOX_SKIPS=1)");
        return false;
    }
    panic!("this test needs {what}; set ORC_RT_ALLOW_SANDBOX_SKIPS=1 to skip it");
}
