//! Calling JIT'd code at an address, with the C signatures the protocol
//! defines. Each function is `unsafe`: the address must be code with that
//! signature, which only the controller (trusted to run code in this
//! process) can promise. An exception that JIT'd code leaves uncaught stops
//! at the call (std::terminate, as natively) and never unwinds Rust frames.
//! With crash recovery on ([`enable_recovery`], [`super::crash`]), a fault
//! or an uncaught exception ends the call instead: the `_checked` forms
//! return it as a [`JitCrash`], the others print it and return 0.
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

use super::crash::{self, RecoveryPoint};

// Every call into JIT'd code goes through
// `orc_rt_jit_trampoline(f, a0, a1, point)`, which calls `f(a0, a1)` in a
// frame whose personality routine stops any exception there: a C++
// exception that leaves JIT'd code never unwinds into Rust frames. As for
// a native program whose exception finds no handler, std::terminate runs
// during the search phase (no cleanup has run yet), which prints
// libstdc++'s "terminate called after throwing an instance of ..." and
// aborts.
//
// With crash recovery on (`super::crash`), `point` is the thread's
// recovery point: the trampoline stores its stack pointer, frame pointer
// and landing pad there (offsets 0, 8 and 16), the fault handler resumes a
// crashed call at the landing pad, and the personality catches an
// exception there instead of terminating. The trampoline keeps every
// callee-saved register on its own frame, so the landing pad restores them
// all. It returns what `f` returned in its two integer result registers
// (rax:rdx on x86-64, x0:x1 on AArch64; zeros after a crash, which the
// recovery point records).
//
// Both versions describe their frame in DWARF call-frame information, so
// that the unwinder can find the personality and, at the landing pad,
// restore the frame pointer the body addresses the frame through.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".pushsection .text.orc_rt_jit_trampoline,\"ax\",@progbits",
    ".p2align 4",
    ".globl orc_rt_jit_trampoline",
    ".hidden orc_rt_jit_trampoline",
    ".type orc_rt_jit_trampoline,@function",
    "orc_rt_jit_trampoline:",
    ".cfi_startproc",
    ".cfi_personality 0x9b, orc_rt_jit_personality_ref",
    "push rbp",
    ".cfi_def_cfa_offset 16",
    ".cfi_offset rbp, -16",
    "mov rbp, rsp",
    ".cfi_def_cfa_register rbp",
    "push rbx",
    ".cfi_offset rbx, -24",
    "push r12",
    ".cfi_offset r12, -32",
    "push r13",
    ".cfi_offset r13, -40",
    "push r14",
    ".cfi_offset r14, -48",
    "push r15",
    ".cfi_offset r15, -56",
    "sub rsp, 8",
    "test rcx, rcx",
    "jz 2f",
    "mov [rcx], rsp",
    "mov [rcx + 8], rbp",
    "lea rax, [rip + 3f]",
    "mov [rcx + 16], rax",
    "2:",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "call rax",
    "jmp 4f",
    // The landing pad: rsp and rbp are the trampoline's again.
    "3:",
    "xor eax, eax",
    "xor edx, edx",
    "4:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    ".cfi_def_cfa rsp, 8",
    "ret",
    ".cfi_endproc",
    ".size orc_rt_jit_trampoline, .-orc_rt_jit_trampoline",
    ".popsection",
);

// AAPCS64: x19-x28, x29 (frame pointer), x30 (link register) and the low
// halves of v8-v15 (d8-d15) are callee-saved. The frame is 160 bytes:
// x29/x30 at [sp], x19-x28 at [sp + 16 .. 96), d8-d15 at [sp + 96 .. 160);
// x29 points at its base, so the CFA is x29 + 160 throughout the body.
#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".pushsection .text.orc_rt_jit_trampoline,\"ax\",@progbits",
    ".p2align 4",
    ".globl orc_rt_jit_trampoline",
    ".hidden orc_rt_jit_trampoline",
    ".type orc_rt_jit_trampoline,%function",
    "orc_rt_jit_trampoline:",
    ".cfi_startproc",
    ".cfi_personality 0x9b, orc_rt_jit_personality_ref",
    "stp x29, x30, [sp, #-160]!",
    ".cfi_def_cfa_offset 160",
    ".cfi_offset x29, -160",
    ".cfi_offset x30, -152",
    "mov x29, sp",
    ".cfi_def_cfa x29, 160",
    "stp x19, x20, [sp, #16]",
    ".cfi_offset x19, -144",
    ".cfi_offset x20, -136",
    "stp x21, x22, [sp, #32]",
    ".cfi_offset x21, -128",
    ".cfi_offset x22, -120",
    "stp x23, x24, [sp, #48]",
    ".cfi_offset x23, -112",
    ".cfi_offset x24, -104",
    "stp x25, x26, [sp, #64]",
    ".cfi_offset x25, -96",
    ".cfi_offset x26, -88",
    "stp x27, x28, [sp, #80]",
    ".cfi_offset x27, -80",
    ".cfi_offset x28, -72",
    "stp d8, d9, [sp, #96]",
    ".cfi_offset d8, -64",
    ".cfi_offset d9, -56",
    "stp d10, d11, [sp, #112]",
    ".cfi_offset d10, -48",
    ".cfi_offset d11, -40",
    "stp d12, d13, [sp, #128]",
    ".cfi_offset d12, -32",
    ".cfi_offset d13, -24",
    "stp d14, d15, [sp, #144]",
    ".cfi_offset d14, -16",
    ".cfi_offset d15, -8",
    "cbz x3, 2f",
    "mov x9, sp",
    "str x9, [x3]",
    "str x29, [x3, #8]",
    "adr x9, 3f",
    "str x9, [x3, #16]",
    "2:",
    "mov x9, x0",
    "mov x0, x1",
    "mov x1, x2",
    "blr x9",
    "b 4f",
    // The landing pad: sp and x29 are the trampoline's again.
    "3:",
    "mov x0, #0",
    "mov x1, #0",
    "4:",
    "ldp d14, d15, [sp, #144]",
    "ldp d12, d13, [sp, #128]",
    "ldp d10, d11, [sp, #112]",
    "ldp d8, d9, [sp, #96]",
    "ldp x27, x28, [sp, #80]",
    "ldp x25, x26, [sp, #64]",
    "ldp x23, x24, [sp, #48]",
    "ldp x21, x22, [sp, #32]",
    "ldp x19, x20, [sp, #16]",
    "ldp x29, x30, [sp], #160",
    ".cfi_def_cfa sp, 0",
    ".cfi_restore x29",
    ".cfi_restore x30",
    "ret",
    ".cfi_endproc",
    ".size orc_rt_jit_trampoline, .-orc_rt_jit_trampoline",
    ".popsection",
);

// The personality's address, for the trampoline's `.cfi_personality`
// (indirect, PC-relative: the linker needs no text relocation).
std::arch::global_asm!(
    ".pushsection .data.rel.ro.orc_rt_jit_personality,\"aw\",%progbits",
    ".p2align 3",
    "orc_rt_jit_personality_ref:",
    ".quad {personality}",
    ".popsection",
    personality = sym personality,
);

/// What the trampoline returns: `f`'s two integer result registers (a
/// result of up to two words: rax:rdx on x86-64, x0:x1 on AArch64).
#[repr(C)]
#[derive(Clone, Copy)]
struct TrampolineResult {
    value: usize,
    high: usize,
}

extern "C" {
    fn orc_rt_jit_trampoline(
        f: usize,
        a0: usize,
        a1: usize,
        point: *mut RecoveryPoint,
    ) -> TrampolineResult;
}

const UA_SEARCH_PHASE: c_int = 1;
const UA_HANDLER_FRAME: c_int = 4;
const URC_HANDLER_FOUND: c_int = 6;
const URC_INSTALL_CONTEXT: c_int = 7;
const URC_CONTINUE_UNWIND: c_int = 8;
/// `sizeof(struct _Unwind_Exception)` on x86-64 and AArch64 (four words,
/// 16-byte aligned).
const UNWIND_EXCEPTION_SIZE: usize = 32;
/// `GNUCC++\0`: libstdc++'s exception class.
const GNU_CXX_CLASS: u64 = 0x474e_5543_432b_2b00;

/// The trampoline's personality: in the search phase of a C++ exception,
/// begins catching it and calls `std::terminate`; anything else foreign is
/// reported and aborts. Forced unwinds (thread cancellation) pass. With a
/// recovery point, a C++ exception is caught at the landing pad instead.
extern "C" fn personality(
    _version: c_int,
    actions: c_int,
    class: u64,
    exception: *mut c_void,
    context: *mut c_void,
) -> c_int {
    let point = crash::current();
    if class == GNU_CXX_CLASS && !point.is_null() {
        if actions & UA_SEARCH_PHASE != 0 {
            return URC_HANDLER_FOUND;
        }
        if actions & UA_HANDLER_FRAME != 0 {
            // The unwinder's, looked up rather than declared, so that no
            // declaration reaches the C header.
            if let Some(set_ip) = super::dl::default_symbol("_Unwind_SetIP") {
                // SAFETY: the point belongs to this thread's innermost
                // trampoline frame, the one being unwound to; the landing
                // pad expects exactly the registers the unwinder restores
                // there. `_Unwind_SetIP(context, ip)` is libgcc's.
                unsafe {
                    let set_ip: extern "C" fn(*mut c_void, usize) = std::mem::transmute(set_ip);
                    (*point).exception = exception as u64;
                    set_ip(context, (*point).landing as usize);
                }
                return URC_INSTALL_CONTEXT;
            }
        }
    }
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

/// How a call into JIT'd code crashed (with crash recovery on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JitCrash {
    /// A fault.
    #[error("JIT'd code crashed: {} at address {addr:#x} (instruction at {pc:#x})", crash::signal_name(*.signo))]
    Signal {
        /// The signal number.
        signo: i32,
        /// The fault address.
        addr: u64,
        /// The faulting instruction.
        pc: u64,
    },
    /// Interrupted: its time limit passed, or the executor got SIGINT.
    #[error("JIT'd code interrupted: {}", if *.by_time_limit { "its time limit passed" } else { "SIGINT" })]
    Interrupted {
        /// By the time limit (else by SIGINT).
        by_time_limit: bool,
    },
    /// An uncaught C++ exception.
    #[error("JIT'd code threw an uncaught C++ exception of type {type_name}{}", what.as_ref().map(|w| format!(": {w}")).unwrap_or_default())]
    Exception {
        /// The exception's type (demangled when possible).
        type_name: String,
        /// Its `what()`, for a `std::exception`.
        what: Option<String>,
    },
}

/// Turns crash recovery on for the process (see [`super::crash`]).
pub fn enable_recovery() -> std::io::Result<()> {
    crash::enable(orc_rt_jit_trampoline as *const () as usize)
}

/// Calls `f(a0, a1)` through the trampoline, with a recovery point when
/// crash recovery is on.
///
/// # Safety
/// `f` is a function that takes (up to) two register arguments.
unsafe fn enter(f: usize, a0: usize, a1: usize) -> Result<usize, JitCrash> {
    // SAFETY: forwarded caller promise.
    unsafe { enter_wide(f, a0, a1) }.map(|r| r.value)
}

/// [`enter`], keeping both result registers.
///
/// # Safety
/// As for [`enter`].
unsafe fn enter_wide(f: usize, a0: usize, a1: usize) -> Result<TrampolineResult, JitCrash> {
    if !crash::enabled() {
        // SAFETY: caller promise.
        return Ok(unsafe { orc_rt_jit_trampoline(f, a0, a1, std::ptr::null_mut()) });
    }
    crash::ensure_alt_stack();
    let mut point = RecoveryPoint::default();
    let prev = crash::set_current(&mut point);
    // A call of JIT'd code (not one of orc-rt's own wrapper functions,
    // which wait for others) can be interrupted (time limit, SIGINT),
    // unless an enclosing call on this thread already can.
    let slot = if !crash::is_own_code(f as u64) && !crash::in_interruptible_call() {
        crash::call_started()
    } else {
        None
    };
    // SAFETY: caller promise; `point` outlives the call and is this
    // thread's innermost recovery point during it.
    let r = unsafe { orc_rt_jit_trampoline(f, a0, a1, &mut point) };
    if let Some(slot) = slot {
        crash::call_ended(slot);
    }
    crash::set_current(prev);
    if point.signo == 0 && point.exception == 0 {
        return Ok(r);
    }
    if point.signo < 0 {
        return Err(JitCrash::Interrupted {
            by_time_limit: point.signo == crash::INTERRUPT_TIMEOUT,
        });
    }
    if point.exception != 0 {
        return Err(caught_exception(point.exception as *mut c_void));
    }
    Err(JitCrash::Signal {
        signo: point.signo,
        addr: point.addr,
        pc: point.pc,
    })
}

/// Finishes catching the C++ exception the trampoline's personality
/// stopped: names its type, then ends the catch (which destroys it).
fn caught_exception(exception: *mut c_void) -> JitCrash {
    let sym = |n| super::dl::default_symbol(n);
    let (Some(begin), Some(end), Some(ty)) = (
        sym("__cxa_begin_catch"),
        sym("__cxa_end_catch"),
        sym("__cxa_current_exception_type"),
    ) else {
        return JitCrash::Exception {
            type_name: "(unknown: no C++ runtime)".into(),
            what: None,
        };
    };
    // SAFETY: libstdc++'s catch protocol for the exception being handled
    // by the trampoline's frame (its personality returned
    // HANDLER_FOUND and installed the landing pad): begin_catch, read the
    // type_info (its second word is the mangled name), end_catch.
    unsafe {
        let begin: extern "C" fn(*mut c_void) -> *mut c_void = std::mem::transmute(begin);
        let end: extern "C" fn() = std::mem::transmute(end);
        let ty: extern "C" fn() -> *const *const c_char = std::mem::transmute(ty);
        begin(exception);
        // The thrown object follows the 32-byte `_Unwind_Exception` that
        // ends libstdc++'s exception header (the personality that would
        // record an adjusted pointer is ours, which records none).
        let object = (exception as usize + UNWIND_EXCEPTION_SIZE) as *mut c_void;
        let ti = ty();
        let name = if ti.is_null() {
            "(unknown)".to_string()
        } else {
            demangle(*ti.add(1))
        };
        let what = what(ti as *const c_void, object);
        end();
        JitCrash::Exception {
            type_name: name,
            what,
        }
    }
}

/// `what()` of the caught object if its type (`thrown`) derives from
/// `std::exception`.
///
/// # Safety
/// `thrown` is the type_info of the exception being handled and `object`
/// the thrown object (from `__cxa_begin_catch`), before `__cxa_end_catch`.
unsafe fn what(thrown: *const c_void, object: *mut c_void) -> Option<String> {
    let std_exception = super::dl::default_symbol("_ZTISt9exception")? as *const c_void;
    if thrown.is_null() || object.is_null() {
        return None;
    }
    // SAFETY: Itanium C++ ABI, as libstdc++ lays it out: a type_info's
    // virtual functions are its two destructors, __is_pointer_p,
    // __is_function_p, then __do_catch(thrown type, &object, outer), which
    // tells whether a handler of this type catches the thrown type and
    // adjusts the object pointer to that base; std::exception's are its two
    // destructors, then what().
    unsafe {
        type DoCatch = extern "C" fn(*const c_void, *const c_void, *mut *mut c_void, u32) -> bool;
        let vtable = *(std_exception as *const *const usize);
        let do_catch: DoCatch = std::mem::transmute(*vtable.add(4));
        let mut base = object;
        if !do_catch(std_exception, thrown, &mut base, 1) || base.is_null() {
            return None;
        }
        type What = extern "C" fn(*mut c_void) -> *const c_char;
        let vtable = *(base as *const *const usize);
        let what: What = std::mem::transmute(*vtable.add(2));
        let msg = what(base);
        (!msg.is_null()).then(|| std::ffi::CStr::from_ptr(msg).to_string_lossy().into_owned())
    }
}

/// The demangled form of a type_info name (`St13runtime_error`).
fn demangle(name: *const c_char) -> String {
    if name.is_null() {
        return "(unknown)".into();
    }
    // SAFETY: a type_info name is a NUL-terminated string in the binary.
    let raw = unsafe { std::ffi::CStr::from_ptr(name) };
    let raw = raw.to_bytes().strip_prefix(b"*").unwrap_or(raw.to_bytes());
    let mangled = std::ffi::CString::new(raw).unwrap_or_default();
    if let Some(d) = super::dl::default_symbol("__cxa_demangle") {
        // SAFETY: libstdc++'s __cxa_demangle(mangled, NULL, NULL, &status)
        // returns a malloc'd string or NULL.
        unsafe {
            type Demangle =
                extern "C" fn(*const c_char, *mut c_char, *mut usize, *mut c_int) -> *mut c_char;
            let d: Demangle = std::mem::transmute(d);
            let mut status = 0;
            let out = d(
                mangled.as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut status,
            );
            if !out.is_null() {
                let s = std::ffi::CStr::from_ptr(out).to_string_lossy().into_owned();
                libc::free(out as *mut c_void);
                return s;
            }
        }
    }
    String::from_utf8_lossy(raw).into_owned()
}

/// Reports a crash of a call whose caller cannot return an error, and
/// goes on (crash recovery is on: the controller asked for that).
fn report_crash(r: Result<usize, JitCrash>) -> usize {
    r.unwrap_or_else(|e| {
        crate::log::emit(
            crate::log::Level::Error,
            crate::log::Category::Platform,
            format_args!("{e}"),
        );
        0
    })
}

/// Calls `int main(int, char **)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature; `argv` holds `argc` valid C
/// strings followed by NULL, alive for the call.
pub unsafe fn call_main(addr: usize, argc: c_int, argv: *mut *mut c_char) -> c_int {
    // SAFETY: forwarded caller promise.
    report_crash(unsafe { enter(addr, argc as u32 as usize, argv as usize) }) as u32 as c_int
}

/// [`call_main`], which with crash recovery on returns how the call
/// crashed instead of printing it.
///
/// # Safety
/// As for [`call_main`].
pub unsafe fn call_main_checked(
    addr: usize,
    argc: c_int,
    argv: *mut *mut c_char,
) -> Result<c_int, JitCrash> {
    // SAFETY: caller promise on the signature; the trampoline passes both
    // arguments in the registers the C ABI gives them, and `main`'s int
    // result is the low half of the return register.
    unsafe { enter(addr, argc as u32 as usize, argv as usize) }.map(|r| r as u32 as c_int)
}

/// Calls `void f(void)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature.
pub unsafe fn call_void(addr: usize) {
    // SAFETY: caller promise; extra argument registers are ignored.
    report_crash(unsafe { enter(addr, 0, 0) });
}

/// [`call_void`], returning how the call crashed.
///
/// # Safety
/// As for [`call_void`].
pub unsafe fn call_void_checked(addr: usize) -> Result<(), JitCrash> {
    // SAFETY: caller promise.
    unsafe { enter(addr, 0, 0) }.map(drop)
}

/// Calls `int f(int)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature.
pub unsafe fn call_int(addr: usize, arg: c_int) -> c_int {
    // SAFETY: as for call_main.
    report_crash(unsafe { enter(addr, arg as u32 as usize, 0) }) as u32 as c_int
}

/// [`call_int`], returning how the call crashed.
///
/// # Safety
/// As for [`call_int`].
pub unsafe fn call_int_checked(addr: usize, arg: c_int) -> Result<c_int, JitCrash> {
    // SAFETY: as for call_main.
    unsafe { enter(addr, arg as u32 as usize, 0) }.map(|r| r as u32 as c_int)
}

/// Calls `void f(void *)` at `addr` with `arg`.
///
/// # Safety
/// `addr` is a function with that signature that accepts `arg`.
pub unsafe fn call_with_ptr(addr: usize, arg: usize) {
    // SAFETY: caller promise.
    report_crash(unsafe { enter(addr, arg, 0) });
}

/// Whether `f` lies outside orc-rt's own executable segment: JIT'd code
/// (or another library's), as opposed to one of orc-rt's wrapper
/// functions.
fn is_foreign_code(f: usize) -> bool {
    static OWN: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    let &(start, end) = OWN.get_or_init(|| {
        crash::segment_of(orc_rt_jit_trampoline as *const () as usize).unwrap_or((0, 0))
    });
    !(start..end).contains(&(f as u64))
}

/// Flushes C stdio after JIT'd code the controller ran has returned (see
/// [`super::io::flush_c_stdio`]): a controller may exit as soon as it has
/// the answer, without waiting for this process, and what the code
/// printed must not wait in a buffer for this process's own exit.
pub fn flush_after_jit_code() {
    super::io::flush_c_stdio();
}

/// Calls a synchronous-ABI wrapper function
/// (`CWrapperFunctionBuffer f(const char *, size_t)`) at `addr` through
/// the trampoline, so that with crash recovery on a crash ends only the
/// call; returns the result's two words.
///
/// # Safety
/// `addr` is a function with that signature; `data` holds `size` bytes
/// for the call.
pub unsafe fn call_sync_wrapper(
    addr: usize,
    data: *const c_char,
    size: usize,
) -> Result<[usize; 2], JitCrash> {
    // SAFETY: caller promise; the 16-byte result comes back in the two
    // result registers (rax:rdx, x0:x1).
    let r = unsafe { enter_wide(addr, data as usize, size) }.map(|r| [r.value, r.high])?;
    // A JIT'd wrapper (an ORC runtime's dlopen or dlupdate, which run a
    // REPL statement's initializers) has run code; orc-rt's own have not.
    if is_foreign_code(addr) {
        flush_after_jit_code();
    }
    Ok(r)
}
