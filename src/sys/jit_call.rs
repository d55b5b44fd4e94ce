//! Calling JIT'd code at an address, with the C signatures the protocol
//! defines. Each function is `unsafe`: the address must be code with that
//! signature, which only the controller (trusted to run code in this
//! process) can promise. An exception that JIT'd code leaves uncaught stops
//! at the call (std::terminate, as natively) and never unwinds Rust frames.
//!
//! ```
//! use orc_rt::sys::jit_call;
//! use std::os::raw::{c_char, c_int};
//!
//! extern "C" fn twice(x: c_int) -> c_int {
//!     x * 2
//! }
//! extern "C" fn argc_if_terminated(argc: c_int, argv: *mut *mut c_char) -> c_int {
//!     // SAFETY: callers of `call_main` pass `argc` strings followed by NULL.
//!     let last = unsafe { *argv.add(argc as usize) };
//!     if last.is_null() {
//!         argc
//!     } else {
//!         -1
//!     }
//! }
//!
//! let mut argv = [c"prog".as_ptr() as *mut c_char, std::ptr::null_mut()];
//! // SAFETY: each address is a function with exactly the signature it is
//! // called with, and `argv` holds one C string and NULL.
//! unsafe {
//!     assert_eq!(jit_call::call_int(twice as usize, 21), 42);
//!     assert_eq!(
//!         jit_call::call_main(argc_if_terminated as usize, 1, argv.as_mut_ptr()),
//!         1
//!     );
//! }
//! ```

use std::os::raw::{c_char, c_int, c_void};

// Every call into JIT'd code goes through `orc_rt_jit_trampoline(f, a0, a1)`,
// which calls `f(a0, a1)` in a frame whose personality routine stops any
// exception there: a C++ exception that leaves JIT'd code never unwinds
// into Rust frames. As for a native program whose exception finds no
// handler, std::terminate runs during the search phase (no cleanup has run
// yet), which prints libstdc++'s "terminate called after throwing an
// instance of ..." and aborts.
std::arch::global_asm!(
    ".pushsection .text.orc_rt_jit_trampoline,\"ax\",@progbits",
    ".p2align 4",
    ".type orc_rt_jit_trampoline,@function",
    "orc_rt_jit_trampoline:",
    ".cfi_startproc",
    ".cfi_personality 0x9b, orc_rt_jit_personality_ref",
    "push rbp",
    ".cfi_def_cfa_offset 16",
    ".cfi_offset rbp, -16",
    "mov rbp, rsp",
    ".cfi_def_cfa_register rbp",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "call rax",
    "pop rbp",
    ".cfi_def_cfa rsp, 8",
    "ret",
    ".cfi_endproc",
    ".size orc_rt_jit_trampoline, .-orc_rt_jit_trampoline",
    ".popsection",
    ".pushsection .data.rel.ro.orc_rt_jit_personality,\"aw\",@progbits",
    ".p2align 3",
    "orc_rt_jit_personality_ref:",
    ".quad {personality}",
    ".popsection",
    personality = sym personality,
);

extern "C" {
    fn orc_rt_jit_trampoline(f: usize, a0: usize, a1: usize) -> usize;
}

const UA_SEARCH_PHASE: c_int = 1;
const URC_CONTINUE_UNWIND: c_int = 8;
/// `GNUCC++\0`: libstdc++'s exception class.
const GNU_CXX_CLASS: u64 = 0x474e_5543_432b_2b00;

/// The trampoline's personality: in the search phase of a C++ exception,
/// begins catching it and calls `std::terminate`; anything else foreign is
/// reported and aborts. Forced unwinds (thread cancellation) pass.
extern "C" fn personality(
    _version: c_int,
    actions: c_int,
    class: u64,
    exception: *mut c_void,
    _context: *mut c_void,
) -> c_int {
    if actions & UA_SEARCH_PHASE == 0 {
        return URC_CONTINUE_UNWIND;
    }
    if class == GNU_CXX_CLASS {
        let begin = super::dl::default_symbol("__cxa_begin_catch");
        let terminate = super::dl::default_symbol("_ZSt9terminatev");
        if let (Some(begin), Some(terminate)) = (begin, terminate) {
            // SAFETY: libstdc++'s `void *__cxa_begin_catch(void *)` and
            // `void std::terminate()`, given the exception being raised, as
            // __cxa_throw does when no handler is found.
            unsafe {
                let begin: extern "C" fn(*mut c_void) -> *mut c_void = std::mem::transmute(begin);
                let terminate: extern "C" fn() -> ! = std::mem::transmute(terminate);
                begin(exception);
                terminate();
            }
        }
    }
    crate::log::emit(
        crate::log::Level::Error,
        crate::log::Category::Platform,
        format_args!("an exception (class {class:#018x}) left JIT'd code uncaught; aborting"),
    );
    std::process::abort()
}

/// Calls `int main(int, char **)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature; `argv` holds `argc` valid C
/// strings followed by NULL, alive for the call.
pub unsafe fn call_main(addr: usize, argc: c_int, argv: *mut *mut c_char) -> c_int {
    // SAFETY: caller promise on the signature; the trampoline passes both
    // arguments in the registers the C ABI gives them, and `main`'s int
    // result is the low half of the return register.
    unsafe { orc_rt_jit_trampoline(addr, argc as u32 as usize, argv as usize) as u32 as c_int }
}

/// Calls `void f(void)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature.
pub unsafe fn call_void(addr: usize) {
    // SAFETY: caller promise; extra argument registers are ignored.
    unsafe { orc_rt_jit_trampoline(addr, 0, 0) };
}

/// Calls `int f(int)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature.
pub unsafe fn call_int(addr: usize, arg: c_int) -> c_int {
    // SAFETY: as for call_main.
    unsafe { orc_rt_jit_trampoline(addr, arg as u32 as usize, 0) as u32 as c_int }
}

/// Calls `void f(void *)` at `addr` with `arg`.
///
/// # Safety
/// `addr` is a function with that signature that accepts `arg`.
pub unsafe fn call_with_ptr(addr: usize, arg: usize) {
    // SAFETY: caller promise.
    unsafe { orc_rt_jit_trampoline(addr, arg, 0) };
}
