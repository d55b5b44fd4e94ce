//! The GDB JIT interface: tells debuggers about in-memory debug objects of
//! JIT'd code (allocation action `llvm_orc_registerJITLoaderGDBAllocAction`).
//!
//! Debuggers look for two symbols **in the executable**:
//! `__jit_debug_descriptor` (a [`JitDescriptor`], version 1) and
//! `__jit_debug_register_code` (a non-inlined function they break on).
//! liborc_rt.so must not export them (it exports only `orc_rt_*`), so the
//! executor binary defines both, with [`gdb_jit_interface!`](crate::gdb_jit_interface), and hands
//! them to [`set_interface`] at start-up. A Rust binary does not export its
//! symbols dynamically by default; link it with
//! `-Wl,--export-dynamic-symbol=__jit_debug_descriptor` and
//! `-Wl,--export-dynamic-symbol=__jit_debug_register_code` (e.g.
//! `cargo:rustc-link-arg-bins=...` in build.rs) so `nm -D` shows them as
//! for the reference executor.
//!
//! Without [`set_interface`], the first registration looks both up with
//! `dlsym(RTLD_DEFAULT)` (hosts such as LLVM's tools define them); if the
//! process has none, a private descriptor is used, which keeps JIT'd code
//! working but is invisible to debuggers.
//!
//! ```
//! use orc_rt::services::gdb_jit::{self, GdbJitError, JitDescriptorCell, JIT_REGISTER_FN};
//! use orc_rt::{ExecutorAddr, ExecutorAddrRange};
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! // What `gdb_jit_interface!` defines in an executor binary, by hand.
//! static DESCRIPTOR: JitDescriptorCell = JitDescriptorCell::new();
//! static HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);
//! extern "C" fn register_code() {
//!     HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
//! }
//! // SAFETY: a static descriptor, changed only by this module from now on.
//! unsafe { gdb_jit::set_interface(DESCRIPTOR.0.get(), register_code) };
//!
//! static OBJECT: [u8; 64] = [0; 64]; // stands for an in-memory debug object
//! let start = ExecutorAddr::from_ptr(OBJECT.as_ptr());
//! let range = ExecutorAddrRange::from_start_and_size(start, 64).unwrap();
//! gdb_jit::register(range, true).unwrap();
//! assert_eq!(HOOK_CALLS.load(Ordering::SeqCst), 1);
//!
//! // SAFETY: no registration runs now; the descriptor is only read.
//! let d = unsafe { &*DESCRIPTOR.0.get() };
//! assert_eq!(d.action_flag, JIT_REGISTER_FN);
//! // SAFETY: the entry was made by `register` and is never freed.
//! let entry = unsafe { &*d.first_entry };
//! assert_eq!(
//!     (entry.symfile_addr, entry.symfile_size),
//!     (OBJECT.as_ptr(), 64)
//! );
//!
//! let reversed = ExecutorAddrRange::new(range.end, range.start);
//! assert!(matches!(
//!     gdb_jit::register(reversed, false),
//!     Err(GdbJitError::BadRange { .. })
//! ));
//! ```

use std::sync::Mutex;

use crate::sync::lock;
use crate::ExecutorAddrRange;

/// `jit_code_entry`: one debug object in the debugger's list.
#[repr(C)]
#[derive(Debug)]
pub struct JitCodeEntry {
    /// Next entry.
    pub next_entry: *mut JitCodeEntry,
    /// Previous entry.
    pub prev_entry: *mut JitCodeEntry,
    /// Start of the in-memory object file.
    pub symfile_addr: *const u8,
    /// Its size.
    pub symfile_size: u64,
}

/// `jit_descriptor`: the list head debuggers read.
#[repr(C)]
#[derive(Debug)]
pub struct JitDescriptor {
    /// Interface version: 1.
    pub version: u32,
    /// [`JIT_NOACTION`], [`JIT_REGISTER_FN`] or [`JIT_UNREGISTER_FN`].
    pub action_flag: u32,
    /// The entry the last action concerned.
    pub relevant_entry: *mut JitCodeEntry,
    /// First entry of the list.
    pub first_entry: *mut JitCodeEntry,
}

/// No action pending.
pub const JIT_NOACTION: u32 = 0;
/// `relevant_entry` was registered.
pub const JIT_REGISTER_FN: u32 = 1;
/// `relevant_entry` was unregistered.
pub const JIT_UNREGISTER_FN: u32 = 2;

/// The register-code hook type.
pub type RegisterCodeFn = extern "C" fn();

#[derive(Clone, Copy)]
struct Interface {
    descriptor: *mut JitDescriptor,
    register: RegisterCodeFn,
}

// SAFETY: the descriptor is only accessed with INTERFACE's lock held.
unsafe impl Send for Interface {}

static INTERFACE: Mutex<Option<Interface>> = Mutex::new(None);

/// Errors of the GDB JIT registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GdbJitError {
    /// Reversed range.
    #[error("could not register debug object: invalid range {start:#x} -- {end:#x}")]
    BadRange {
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
}

crate::module_error!(GdbJitError, GdbJit);

/// Makes registrations use `descriptor` and `register` (the executor
/// binary's `__jit_debug_descriptor` and `__jit_debug_register_code`).
/// Call it once at start-up, before any registration.
///
/// # Safety
/// `descriptor` must point at a valid, initialized [`JitDescriptor`] that
/// lives for the rest of the process and is only modified through this
/// module (and read by debuggers) from now on.
pub unsafe fn set_interface(descriptor: *mut JitDescriptor, register: RegisterCodeFn) {
    *lock(&INTERFACE) = Some(Interface {
        descriptor,
        register,
    });
}

/// A [`JitDescriptor`] that can live in a `static` shared with debuggers
/// (same layout as the descriptor itself).
#[repr(transparent)]
pub struct JitDescriptorCell(pub std::cell::UnsafeCell<JitDescriptor>);

impl std::fmt::Debug for JitDescriptorCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitDescriptorCell").finish_non_exhaustive()
    }
}

// SAFETY: the descriptor is only modified by this module under its lock
// (and read by debuggers while the process is stopped).
unsafe impl Sync for JitDescriptorCell {}

impl JitDescriptorCell {
    /// An empty version-1 descriptor.
    pub const fn new() -> Self {
        JitDescriptorCell(std::cell::UnsafeCell::new(JitDescriptor {
            version: 1,
            action_flag: JIT_NOACTION,
            relevant_entry: std::ptr::null_mut(),
            first_entry: std::ptr::null_mut(),
        }))
    }
}

impl Default for JitDescriptorCell {
    fn default() -> Self {
        Self::new()
    }
}

/// Defines the GDB JIT interface symbols `__jit_debug_descriptor` and
/// `__jit_debug_register_code` in the crate that invokes it (the executor
/// binary, never the library), plus a function
/// `install_gdb_jit_interface()` that calls [`set_interface`] with them.
/// Call it once in `main` before serving the controller.
///
/// ```ignore
/// orc_rt::gdb_jit_interface!();
/// fn main() {
///     install_gdb_jit_interface();
///     // ...
/// }
/// ```
#[macro_export]
macro_rules! gdb_jit_interface {
    () => {
        /// The GDB JIT interface descriptor debuggers read (version 1).
        #[no_mangle]
        #[used]
        pub static __jit_debug_descriptor: $crate::services::gdb_jit::JitDescriptorCell =
            $crate::services::gdb_jit::JitDescriptorCell::new();

        /// Debuggers break here to pick up new JIT'd debug objects.
        #[no_mangle]
        #[inline(never)]
        pub extern "C" fn __jit_debug_register_code() {
            ::std::hint::black_box(());
        }

        /// Makes orc-rt register debug objects with the two symbols above.
        pub fn install_gdb_jit_interface() {
            // SAFETY: the descriptor is a static, valid for the whole
            // process, and from now on only modified by orc-rt.
            unsafe {
                $crate::services::gdb_jit::set_interface(
                    __jit_debug_descriptor.0.get(),
                    __jit_debug_register_code,
                )
            }
        }
    };
}

/// The private fallback descriptor (see the module docs). Not exported.
static FALLBACK: JitDescriptorCell = JitDescriptorCell::new();

#[inline(never)]
extern "C" fn fallback_register_code() {
    // Keep the call from being optimized away.
    std::hint::black_box(());
}

fn resolve_interface() -> Interface {
    let desc = crate::sys::dl::default_symbol("__jit_debug_descriptor");
    let reg = crate::sys::dl::default_symbol("__jit_debug_register_code");
    match (desc, reg) {
        (Some(d), Some(r)) => Interface {
            descriptor: d as *mut JitDescriptor,
            // SAFETY: a process symbol of that name is, by the GDB JIT
            // interface's contract, a `void(void)` function.
            register: unsafe { std::mem::transmute::<usize, RegisterCodeFn>(r as usize) },
        },
        _ => Interface {
            descriptor: FALLBACK.0.get(),
            register: fallback_register_code,
        },
    }
}

/// Adds the debug object in `range` at the head of the descriptor's list,
/// marks it as the relevant entry with `JIT_REGISTER_FN`, and, if
/// `auto_register`, calls the register-code hook so an attached debugger
/// reads it. Entries are never removed (LLVM 22 has no deregistration).
pub fn register(range: ExecutorAddrRange, auto_register: bool) -> Result<(), GdbJitError> {
    let (start, end) = (range.start.0, range.end.0);
    if end < start {
        return Err(GdbJitError::BadRange { start, end });
    }
    let mut guard = lock(&INTERFACE);
    let iface = *guard.get_or_insert_with(resolve_interface);
    let entry = Box::into_raw(Box::new(JitCodeEntry {
        next_entry: std::ptr::null_mut(),
        prev_entry: std::ptr::null_mut(),
        symfile_addr: start as *const u8,
        symfile_size: end - start,
    }));
    // SAFETY: the descriptor is valid for the process lifetime
    // (set_interface's contract, a process symbol, or our fallback) and we
    // hold the lock that serializes every update; `entry` is a fresh,
    // leaked allocation and the list's entries were all made here.
    unsafe {
        let d = &mut *iface.descriptor;
        let first = d.first_entry;
        (*entry).next_entry = first;
        if !first.is_null() {
            (*first).prev_entry = entry;
        }
        d.first_entry = entry;
        d.relevant_entry = entry;
        d.action_flag = JIT_REGISTER_FN;
    }
    if auto_register {
        // Still under the lock, on purpose: a debugger stopped in the hook
        // reads `relevant_entry`, which another registration must not
        // replace first. The hook is an empty function (a breakpoint site).
        (iface.register)();
    }
    drop(guard);
    Ok(())
}
