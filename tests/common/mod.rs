//! Helpers shared by the integration tests (`mod common;` in each test crate;
//! as `tests/common/mod.rs` cargo does not build it as a test crate of its own).

#![allow(dead_code)]

use std::os::raw::c_char;
use std::sync::Mutex;

use orc_rt::sps::{deserialize_all, serialize_to_vec, SpsDeserialize, SpsSerialize};
use orc_rt::wrapper_function::{
    orc_rt_SessionRef, orc_rt_WrapperFunctionBuffer, orc_rt_WrapperFunctionReturn, sync_abi,
    SyncWrapperFunction,
};
use orc_rt::{ExecutorAddr, WrapperFunctionBuffer};

/// A command that runs this test binary again, for tests that need a fresh
/// process. Under an emulator (`cargo test --target` with a runner such as
/// qemu-user) the binary cannot exec itself, as the kernel does not know
/// the emulator: `ORC_RT_TEST_RUNNER`, the runner's command line split at
/// spaces (scripts/test-cross.sh sets it), then goes in front.
pub fn self_command() -> std::process::Command {
    let exe = std::env::current_exe().expect("current_exe");
    let runner = std::env::var("ORC_RT_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(first) => {
            let mut cmd = std::process::Command::new(first);
            cmd.args(words).arg(exe);
            cmd
        }
        None => std::process::Command::new(exe),
    }
}

/// Whether a test can run its part that needs `what`: true if `available`;
/// otherwise a failure, or with `ORC_RT_ALLOW_SANDBOX_SKIPS=1` a printed
/// "SKIP: needs ..." line and false (the crate's `sys::probe::test_needs`
/// for the integration tests).
pub fn test_needs(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var_os("ORC_RT_ALLOW_SANDBOX_SKIPS").is_some_and(|v| v == "1") {
        eprintln!("SKIP: needs {what} (ORC_RT_ALLOW_SANDBOX_SKIPS=1)");
        return false;
    }
    panic!("this test needs {what}; set ORC_RT_ALLOW_SANDBOX_SKIPS=1 to skip it");
}

/// Calls a sync-ABI entry point with raw argument bytes.
pub fn call_raw(f: SyncWrapperFunction, args: &[u8]) -> WrapperFunctionBuffer {
    // SAFETY: f is one of the crate's entry points.
    unsafe { sync_abi::call_sync(f, args) }
}

/// Calls with SPS-encoded `args` and decodes the result as `R`.
pub fn call<A: SpsSerialize, R: SpsDeserialize>(f: SyncWrapperFunction, args: &A) -> R {
    let r = call_raw(f, &serialize_to_vec(args));
    let bytes = r
        .as_slice()
        .unwrap_or_else(|| panic!("out-of-band error: {:?}", r.out_of_band_error_message()));
    deserialize_all(bytes).expect("result decodes")
}

/// Calls and expects an out-of-band error; returns its message.
pub fn call_oob<A: SpsSerialize>(f: SyncWrapperFunction, args: &A) -> String {
    let r = call_raw(f, &serialize_to_vec(args));
    r.out_of_band_error_message()
        .expect("an out-of-band error")
        .to_string_lossy()
        .into_owned()
}

pub fn fn_addr(f: SyncWrapperFunction) -> ExecutorAddr {
    ExecutorAddr(f as usize as u64)
}

/// A wrapper function on the native (asynchronous) ABI that echoes its
/// argument buffer back as the result.
///
/// # Safety
/// Called by a Session: `ret` is its return trampoline and `args` is owned
/// by the callee.
pub unsafe extern "C" fn echo_native(
    s: orc_rt_SessionRef,
    call_id: u64,
    ret: orc_rt_WrapperFunctionReturn,
    args: orc_rt_WrapperFunctionBuffer,
) {
    // SAFETY: the Session passes its return trampoline; the args buffer is
    // ours and passes on to the result.
    unsafe { ret.unwrap()(s, call_id, args) }
}

/// A wrapper function on LLVM 22's synchronous ABI that returns a copy of
/// its argument bytes.
///
/// # Safety
/// `data` points at `size` readable bytes (LLVM 22 wrapper ABI).
pub unsafe extern "C" fn echo_sync(
    data: *const c_char,
    size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    // SAFETY: the caller lends `size` bytes at `data`.
    let b = unsafe { std::slice::from_raw_parts(data as *const u8, size) };
    WrapperFunctionBuffer::from_slice(b).into_raw()
}

/// Log of allocation-action calls: the argument bytes of each call, with a
/// marker for finalize ("F:") or dealloc ("D:") prefixed by the caller.
pub static LOG: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

fn ok_result() -> orc_rt_WrapperFunctionBuffer {
    WrapperFunctionBuffer::from_slice(&[0]).into_raw()
}

/// An allocation action that records its arguments and succeeds.
///
/// # Safety
/// `data` points at `size` readable bytes (LLVM 22 wrapper ABI).
pub unsafe extern "C" fn record_action(
    data: *const c_char,
    size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    // SAFETY: the caller lends `size` bytes.
    let args = unsafe { std::slice::from_raw_parts(data as *const u8, size) }.to_vec();
    LOG.lock().unwrap().push(args);
    ok_result()
}

/// An allocation action that records its arguments and fails in-band.
///
/// # Safety
/// `data` points at `size` readable bytes (LLVM 22 wrapper ABI).
pub unsafe extern "C" fn failing_action(
    data: *const c_char,
    size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    // SAFETY: the caller lends `size` bytes.
    let args = unsafe { std::slice::from_raw_parts(data as *const u8, size) }.to_vec();
    LOG.lock().unwrap().push(args);
    let r: Result<(), String> = Err("action failed on purpose".to_string());
    WrapperFunctionBuffer::from_slice(&serialize_to_vec(&r)).into_raw()
}

/// An allocation action that returns an out-of-band error.
///
/// # Safety
/// `data` points at `size` readable bytes (LLVM 22 wrapper ABI).
pub unsafe extern "C" fn oob_action(
    _data: *const c_char,
    _size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    WrapperFunctionBuffer::out_of_band_error("oob action error").into_raw()
}

/// Entries of LOG that start with `tag`, with the tag removed.
pub fn log_with_tag(tag: &str) -> Vec<String> {
    LOG.lock()
        .unwrap()
        .iter()
        .filter_map(|e| {
            e.strip_prefix(tag.as_bytes())
                .map(|r| String::from_utf8_lossy(r).into_owned())
        })
        .collect()
}

/// The permission string ("r-xp") of the /proc/self/maps line containing
/// `addr`, or None if unmapped.
pub fn perms_at(addr: u64) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let mut parts = line.split_whitespace();
        let range = parts.next()?;
        let perms = parts.next()?;
        let (a, b) = range.split_once('-')?;
        let a = u64::from_str_radix(a, 16).ok()?;
        let b = u64::from_str_radix(b, 16).ok()?;
        if (a..b).contains(&addr) {
            return Some(perms.to_string());
        }
    }
    None
}

/// Whether /proc/self/maps tells a read-only page from the code page
/// before it (tests/cross/maps_probe.c in Rust). Linux's does; qemu-user's
/// emulated one reports a host mapping with its first page's protection,
/// or leaves it out, once the host has merged guest mappings.
pub fn maps_exact() -> bool {
    static EXACT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *EXACT.get_or_init(|| {
        let page = 4096;
        // SAFETY: a fresh private anonymous mapping, used only here and
        // left mapped (a few pages, once per process).
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                3 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        let base = p as u64;
        // SAFETY: both ranges are inside the mapping made above.
        unsafe {
            assert_eq!(
                libc::mprotect(p, page, libc::PROT_READ | libc::PROT_EXEC),
                0
            );
            assert_eq!(
                libc::mprotect(
                    (base + page as u64) as *mut libc::c_void,
                    page,
                    libc::PROT_READ
                ),
                0
            );
        }
        perms_at(base + page as u64).as_deref() == Some("r--p")
    })
}

/// Asserts that the mapping holding `addr` has the protection `want`
/// (as /proc/self/maps writes it), where [`maps_exact`]; elsewhere the
/// check is skipped through [`test_needs`].
pub fn assert_perms(addr: u64, want: &str) {
    if test_needs(maps_exact(), MAPS) {
        assert_eq!(perms_at(addr).as_deref(), Some(want), "at {addr:#x}");
    }
}

const MAPS: &str = "an exact /proc/self/maps (qemu-user's merges mappings)";

/// Checks that no mapping in [start, end) is both writable and executable
/// (where [`maps_exact`]; elsewhere skipped through [`test_needs`]).
pub fn assert_no_wx(start: u64, end: u64) {
    if !test_needs(maps_exact(), MAPS) {
        return;
    }
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let mut parts = line.split_whitespace();
        let (Some(range), Some(perms)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let a = u64::from_str_radix(a, 16).unwrap();
        let b = u64::from_str_radix(b, 16).unwrap();
        if a < end && b > start {
            let p = perms.as_bytes();
            assert!(!(p[1] == b'w' && p[2] == b'x'), "W+X mapping: {line}");
        }
    }
}

/// `int f(void) { return 42; }`; x86-64: `mov eax, 42; ret`.
#[cfg(target_arch = "x86_64")]
pub const RET42: [u8; 6] = [0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3];
/// `int f(int x) { return x + 1; }`; x86-64: `lea eax, [rdi + 1]; ret`.
#[cfg(target_arch = "x86_64")]
pub const INC: [u8; 4] = [0x8d, 0x47, 0x01, 0xc3];

/// `int f(void) { return 42; }`; AArch64: `mov w0, #42; ret` (the words
/// 0x52800540, 0xd65f03c0, little-endian).
#[cfg(target_arch = "aarch64")]
pub const RET42: [u8; 8] = [0x40, 0x05, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6];
/// `int f(int x) { return x + 1; }`; AArch64: `add w0, w0, #1; ret`
/// (0x11000400, 0xd65f03c0).
#[cfg(target_arch = "aarch64")]
pub const INC: [u8; 8] = [0x00, 0x04, 0x00, 0x11, 0xc0, 0x03, 0x5f, 0xd6];
