//! SPS bindings of [`crate::services::eh_frame`]: the allocation actions
//! `llvm_orc_registerEHFrameAllocAction` and
//! `llvm_orc_deregisterEHFrameAllocAction`, `SPSError (SPSExecutorAddrRange)`.
//!
//! LLVM attaches them to a linked object as allocation actions, so they run
//! when its memory is finalized and deallocated; this is how they are called
//! below.
//!
//! ```
//! use orc_rt::services::memory::{actions::run_call, MemoryError};
//! use orc_rt::sps::orc_types::WrapperFunctionCall;
//! use orc_rt::sps_ci::eh_frame::{
//!     deregister_eh_frame_alloc_action, register_eh_frame_alloc_action,
//! };
//! use orc_rt::sps_ci::fn_addr;
//! use orc_rt::{ExecutorAddr, ExecutorAddrRange};
//!
//! static EMPTY: [u8; 4] = [0; 4]; // an .eh_frame section without records
//! let start = ExecutorAddr::from_ptr(EMPTY.as_ptr());
//! let range = ExecutorAddrRange::from_start_and_size(start, 4).unwrap();
//! let register =
//!     WrapperFunctionCall::with_args(fn_addr(register_eh_frame_alloc_action), &(range,));
//! let deregister =
//!     WrapperFunctionCall::with_args(fn_addr(deregister_eh_frame_alloc_action), &(range,));
//!
//! // SAFETY (every run_call here): the actions are the executor's own
//! // eh-frame wrappers, and the section describes no code.
//! assert!(unsafe { run_call(&register) }.is_ok());
//! // A failure comes back as the action's error message.
//! let e = unsafe { run_call(&register) }.unwrap_err();
//! assert!(matches!(e, MemoryError::Action { .. }), "{e:?}");
//! assert!(e.to_string().ends_with("already registered"), "{e}");
//! assert!(unsafe { run_call(&deregister) }.is_ok());
//! let e = unsafe { run_call(&deregister) }.unwrap_err();
//! assert!(e.to_string().ends_with("not registered"), "{e}");
//! ```

use std::os::raw::c_void;

use crate::services::eh_frame::{self, EhFrameError};
use crate::sps::{to_sps_result, SpsResult};
use crate::wrapper_function::handler::SpsResponder;
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::{ExecutorAddr, ExecutorAddrRange};

/// Bootstrap symbol of [`register_eh_frame_alloc_action`].
pub const REGISTER_NAME: &str = "llvm_orc_registerEHFrameAllocAction";
/// Bootstrap symbol of [`deregister_eh_frame_alloc_action`].
pub const DEREGISTER_NAME: &str = "llvm_orc_deregisterEHFrameAllocAction";

/// Registers the `.eh_frame` section in the range.
pub fn register((range,): (ExecutorAddrRange,), r: SpsResponder<SpsResult>) {
    // SAFETY: the controller registers sections of the code it linked, as
    // an allocation action of their memory; LLVM's design trusts it with
    // the executor, and the wire bindings make that promise for it.
    r.respond(&to_sps_result(unsafe { eh_frame::register(range) }))
}

/// Deregisters the `.eh_frame` section in the range.
pub fn deregister((range,): (ExecutorAddrRange,), r: SpsResponder<SpsResult>) {
    // SAFETY: the controller deregisters a section as the dealloc action of
    // its memory, when the code is being freed (its word, as above).
    r.respond(&to_sps_result(unsafe { eh_frame::deregister(range) }))
}

sync_wrapper! {
    /// Entry point of [`register`].
    pub fn register_eh_frame_alloc_action = register;
}

sync_wrapper! {
    /// Entry point of [`deregister`].
    pub fn deregister_eh_frame_alloc_action = deregister;
}

/// Process symbol of [`register_frame`]: libgcc's name, which JIT'd code
/// (LLVM's own ORC runtime among it) calls to register a section.
pub const REGISTER_FRAME_NAME: &str = "__register_frame";
/// Process symbol of [`deregister_frame`].
pub const DEREGISTER_FRAME_NAME: &str = "__deregister_frame";

fn log_error(args: std::fmt::Arguments<'_>) {
    crate::log::emit(
        crate::log::Level::Error,
        crate::log::Category::Platform,
        args,
    )
}

/// Runs `f`, logging its error; a panic does not reach JIT'd code.
fn report(what: &str, begin: *const c_void, f: impl FnOnce() -> Result<(), EhFrameError>) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    match r {
        Ok(Ok(())) => {}
        // A section both the controller's allocation action and JIT'd code
        // register (or both deregister) counts once, as it should.
        Ok(Err(EhFrameError::AlreadyRegistered(_) | EhFrameError::NotRegistered(_))) => {}
        Ok(Err(e)) => log_error(format_args!("{what}({begin:p}): {e}")),
        Err(_) => log_error(format_args!("{what}({begin:p}): panicked")),
    }
}

/// What JIT'd code gets for `__register_frame(begin)`: the section that
/// starts at `begin` is found ([`eh_frame::section_at`]), repaired and
/// registered like the allocation action's. Errors are logged: the
/// function returns nothing, and a section refused here would have crashed
/// libgcc.
///
/// # Safety
///
/// `begin` starts an `.eh_frame` section of loaded code that stays mapped
/// until [`deregister_frame`] (libgcc's own contract, which JIT'd callers
/// keep; a start that is not readable or not a section is refused).
pub unsafe extern "C" fn register_frame(begin: *const c_void) {
    report(REGISTER_FRAME_NAME, begin, || {
        // SAFETY: the caller's promise.
        unsafe { eh_frame::register_at(begin as u64) }
    })
}

/// What JIT'd code gets for `__deregister_frame(begin)`. A section that was
/// not registered is ignored (libgcc would abort the process).
///
/// # Safety
///
/// No frame of the section's code is being unwound or will be.
pub unsafe extern "C" fn deregister_frame(begin: *const c_void) {
    report(DEREGISTER_FRAME_NAME, begin, || {
        // SAFETY: the caller's promise.
        unsafe { eh_frame::deregister_at(begin as u64) }
    })
}

/// The process symbols that take the place of libgcc's in lookups made
/// through a process handle ([`crate::services::dylib::override_process_symbol`]).
pub fn process_overrides() -> [(&'static str, ExecutorAddr); 2] {
    type FrameFn = unsafe extern "C" fn(*const c_void);
    let a = |f: FrameFn| ExecutorAddr::from_fn_ptr(f as *const ());
    [
        (REGISTER_FRAME_NAME, a(register_frame)),
        (DEREGISTER_FRAME_NAME, a(deregister_frame)),
    ]
}
