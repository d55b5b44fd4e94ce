//! Allocation actions: wrapper-function calls run when memory is finalized
//! (in list order) and when it is deallocated (in reverse).
//!
//! Each call uses LLVM 22's synchronous ABI and must return an `SPSError`;
//! an out-of-band error counts as a failure. A call with address 0 is "no
//! action".
//!
//! ```
//! use orc_rt::services::memory::actions::{run_dealloc_actions, run_finalize_actions};
//! use orc_rt::services::memory::MemoryError;
//! use orc_rt::sps::orc_types::{AllocActionCallPair, WrapperFunctionCall};
//! use orc_rt::sps::{deserialize_all, SpsResult};
//! use orc_rt::wrapper_function::{orc_rt_WrapperFunctionBuffer, serialize_to_buffer};
//! use orc_rt::wrapper_function::sync_abi::arg_bytes;
//! use orc_rt::ExecutorAddr;
//! use std::os::raw::c_char;
//! use std::sync::Mutex;
//!
//! static LOG: Mutex<Vec<u32>> = Mutex::new(Vec::new());
//!
//! /// An allocation action, `SPSError (uint32_t)`: logs its argument, fails
//! /// for 0.
//! unsafe extern "C" fn log(data: *const c_char, size: usize) -> orc_rt_WrapperFunctionBuffer {
//!     // SAFETY: the caller lends `size` bytes at `data` for the call.
//!     let args = unsafe { arg_bytes(data, size) }.unwrap_or_default();
//!     let r: SpsResult = match deserialize_all::<(u32,)>(args) {
//!         Ok((0,)) => Err("action 0 failed".to_string()),
//!         Ok((n,)) => {
//!             LOG.lock().unwrap().push(n);
//!             Ok(())
//!         }
//!         Err(e) => Err(e.to_string()),
//!     };
//!     serialize_to_buffer(&r).into_raw()
//! }
//! let call =
//!     |n: u32| WrapperFunctionCall::with_args(ExecutorAddr::from_fn_ptr(log as *const ()), &(n,));
//! let pair = |f, d| AllocActionCallPair {
//!     finalize: call(f),
//!     dealloc: call(d),
//! };
//!
//! // Finalize actions run in order and keep their dealloc halves, which run
//! // in reverse.
//! // SAFETY (here and below): every action is `log`, a function with the
//! // synchronous wrapper ABI.
//! let deallocs = unsafe { run_finalize_actions(vec![pair(1, 10), pair(2, 20)]) }.unwrap();
//! assert_eq!(*LOG.lock().unwrap(), [1, 2]);
//! unsafe { run_dealloc_actions(deallocs) }.unwrap();
//! assert_eq!(*LOG.lock().unwrap(), [1, 2, 20, 10]);
//!
//! // A failing finalize action undoes the ones before it.
//! LOG.lock().unwrap().clear();
//! let e = unsafe { run_finalize_actions(vec![pair(1, 10), pair(0, 20)]) }.unwrap_err();
//! assert!(matches!(&e, MemoryError::Action { message, .. } if message == "action 0 failed"));
//! assert_eq!(e.to_string(), "action 0 failed");
//! assert_eq!(*LOG.lock().unwrap(), [1, 10]);
//! // Address 0 is "no action".
//! assert!(unsafe { run_dealloc_actions(vec![WrapperFunctionCall::default()]) }.is_ok());
//! ```

use super::MemoryError;
use crate::error::ErrorList;
use crate::sps::orc_types::{AllocActionCallPair, WrapperFunctionCall};
use crate::wrapper_function::{sync_abi, sync_fn_at};

/// Runs one call; `Ok` for a null call. A failure is
/// [`MemoryError::Action`] with the action's message.
///
/// # Safety
///
/// Each non-null call jumps to its function address: the caller promises
/// every one is a function with the synchronous wrapper ABI that may run
/// now (for the wire bindings: allocation actions the controller sent).
pub unsafe fn run_call(call: &WrapperFunctionCall) -> Result<(), MemoryError> {
    if call.is_null() {
        return Ok(());
    }
    let action = |message: String| MemoryError::Action {
        fn_addr: call.fn_addr.0,
        message,
    };
    // SAFETY: the caller vouches that the address is a function with the
    // synchronous wrapper ABI (this function's contract).
    let f = unsafe { sync_fn_at(call.fn_addr) }.map_err(|e| action(e.to_string()))?;
    // SAFETY: as above.
    unsafe { sync_abi::call_sync_sps_error(f, &call.args) }.map_err(|e| action(e.to_string()))
}

/// Runs the finalize half of each pair in order and returns the non-null
/// dealloc halves to keep. If a finalize call fails, the deallocs collected
/// so far run in reverse and the joined error (one message per line) is
/// returned.
///
/// # Safety
///
/// Each non-null call jumps to its function address: the caller promises
/// every one is a function with the synchronous wrapper ABI that may run
/// now (for the wire bindings: allocation actions the controller sent).
pub unsafe fn run_finalize_actions(
    pairs: Vec<AllocActionCallPair>,
) -> Result<Vec<WrapperFunctionCall>, MemoryError> {
    let mut deallocs = Vec::new();
    for pair in pairs {
        // SAFETY: the caller vouches for every action (this function's
        // contract).
        if let Err(e) = unsafe { run_call(&pair.finalize) } {
            let mut errs = ErrorList::default();
            errs.push(e);
            // SAFETY: as above.
            errs.push_result(unsafe { run_dealloc_actions(deallocs) });
            // An `Err`: the list holds `e`.
            return errs.finish().map(|()| Vec::new());
        }
        if !pair.dealloc.is_null() {
            deallocs.push(pair.dealloc);
        }
    }
    Ok(deallocs)
}

/// Runs dealloc calls last first, joining errors.
///
/// # Safety
///
/// Each non-null call jumps to its function address: the caller promises
/// every one is a function with the synchronous wrapper ABI that may run
/// now (for the wire bindings: allocation actions the controller sent).
pub unsafe fn run_dealloc_actions(
    mut deallocs: Vec<WrapperFunctionCall>,
) -> Result<(), MemoryError> {
    let mut errs = ErrorList::default();
    while let Some(d) = deallocs.pop() {
        // SAFETY: the caller vouches for every action (this function's
        // contract).
        errs.push_result(unsafe { run_call(&d) });
    }
    errs.finish()
}
