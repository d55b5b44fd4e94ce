//! Clocks and thread ids.
//!
//! The perf jitdump writer stamps its records with [`monotonic_ns`] (the
//! clock `perf` uses), records the writing thread with [`thread_id`] and
//! dates its output directory with [`local_date`].
//!
//! ```
//! use orc_rt::sys::clock;
//!
//! let t0 = clock::monotonic_ns();
//! std::thread::sleep(std::time::Duration::from_millis(2));
//! assert!(clock::monotonic_ns() >= t0 + 2_000_000);
//!
//! let here = clock::thread_id();
//! let there = std::thread::spawn(clock::thread_id).join().unwrap();
//! assert!(here != 0 && there != here);
//!
//! let date = clock::local_date(); // e.g. "20250131"
//! assert!(date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()));
//! ```

/// `CLOCK_MONOTONIC` in nanoseconds (0 if unavailable).
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-parameter.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// The calling thread's kernel thread id.
pub fn thread_id() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as u32 }
}

/// Today's local date as `YYYYMMDD`.
pub fn local_date() -> String {
    // SAFETY: time/localtime_r/strftime with valid, sized buffers.
    unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        let mut buf = [0u8; 16];
        let n = libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            c"%Y%m%d".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}
