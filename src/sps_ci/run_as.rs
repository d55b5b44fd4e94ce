//! SPS bindings of [`crate::services::run_as`] (the `run_as_*` bootstrap wrappers).
//! A null function address gives an out-of-band error (the results have no
//! error case).
//!
//! ```
//! use orc_rt::sps::{deserialize_all, serialize_to_vec};
//! use orc_rt::sps_ci::run_as::{run_as_int_function_wrapper, run_as_main_wrapper};
//! use orc_rt::wrapper_function::sync_abi::call_sync;
//! use orc_rt::ExecutorAddr;
//! use std::os::raw::{c_char, c_int};
//!
//! extern "C" fn square(x: c_int) -> c_int {
//!     x * x
//! }
//! extern "C" fn count_args(argc: c_int, _argv: *const *const c_char) -> c_int {
//!     argc
//! }
//!
//! let square = ExecutorAddr::from_fn_ptr(square as *const ());
//! // SAFETY (every call below): the entry points have the synchronous ABI.
//! let r = unsafe {
//!     call_sync(
//!         run_as_int_function_wrapper,
//!         &serialize_to_vec(&(square, 12i32)),
//!     )
//! };
//! assert_eq!(deserialize_all::<i32>(r.as_slice().unwrap()).unwrap(), 144);
//!
//! let main = ExecutorAddr::from_fn_ptr(count_args as *const ());
//! let args = (main, vec!["a", "b"]);
//! let r = unsafe { call_sync(run_as_main_wrapper, &serialize_to_vec(&args)) };
//! assert_eq!(deserialize_all::<i64>(r.as_slice().unwrap()).unwrap(), 2);
//!
//! let null = (ExecutorAddr::new(0), 1i32);
//! let r = unsafe { call_sync(run_as_int_function_wrapper, &serialize_to_vec(&null)) };
//! assert!(r.is_out_of_band_error());
//! ```

use crate::services::run_as;
use crate::wrapper_function::handler::SpsResponder;
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::ExecutorAddr;

/// Bootstrap symbol of [`run_as_main_wrapper`].
pub const MAIN_NAME: &str = "__llvm_orc_bootstrap_run_as_main_wrapper";
/// Bootstrap symbol of [`run_as_void_function_wrapper`].
pub const VOID_NAME: &str = "__llvm_orc_bootstrap_run_as_void_function_wrapper";
/// Bootstrap symbol of [`run_as_int_function_wrapper`].
pub const INT_NAME: &str = "__llvm_orc_bootstrap_run_as_int_function_wrapper";

/// `int64 (SPSExecutorAddr main, SPSSequence<SPSString> args)`: runs
/// `main(argc, argv)`; the arguments are taken as bytes.
pub fn main((main, args): (ExecutorAddr, Vec<Vec<u8>>), r: SpsResponder<i64>) {
    // SAFETY: the controller asked to run JIT'd code at this address with
    // this signature; LLVM's design trusts it to run code in the executor,
    // and the wire bindings make that promise for it.
    r.respond_or_fail(reported(unsafe { run_as::run_as_main(main, &args) }))
}

/// `int32 (SPSExecutorAddr fn)`: runs `int fn(void)`.
pub fn void_function((f,): (ExecutorAddr,), r: SpsResponder<i32>) {
    // SAFETY: the controller asked to run JIT'd code at this address with
    // this signature; LLVM's design trusts it to run code in the executor,
    // and the wire bindings make that promise for it.
    r.respond_or_fail(reported(unsafe { run_as::run_as_void_function(f) }))
}

/// `int32 (SPSExecutorAddr fn, int32 arg)`: runs `int fn(int)`.
pub fn int_function((f, arg): (ExecutorAddr, i32), r: SpsResponder<i32>) {
    // SAFETY: the controller asked to run JIT'd code at this address with
    // this signature; LLVM's design trusts it to run code in the executor,
    // and the wire bindings make that promise for it.
    r.respond_or_fail(reported(unsafe { run_as::run_as_int_function(f, arg) }))
}

/// Passes `r` on; a crash is also reported to the Session's error
/// reporter, since LLVM 22's controller shows a failed call of these
/// wrappers only as a result it cannot decode.
fn reported<T>(r: Result<T, run_as::RunAsError>) -> Result<T, run_as::RunAsError> {
    if let Err(e @ run_as::RunAsError::Crashed(_)) = &r {
        match crate::session::Session::current() {
            Some(s) => s.report_error(e.clone().into()),
            None => crate::error::report_unowned(e.clone().into()),
        }
    }
    r
}

sync_wrapper! {
    /// Entry point of [`main`].
    pub fn run_as_main_wrapper = main;
}

sync_wrapper! {
    /// Entry point of [`void_function`].
    pub fn run_as_void_function_wrapper = void_function;
}

sync_wrapper! {
    /// Entry point of [`int_function`].
    pub fn run_as_int_function_wrapper = int_function;
}
