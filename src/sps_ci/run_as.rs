//! SPS bindings of [`crate::run_as`] (the `run_as_*` bootstrap wrappers).
//! A null function address gives an out-of-band error (the results have no
//! error case).

use crate::run_as;
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::ExecutorAddr;

/// Bootstrap symbol of [`run_as_main_wrapper`].
pub const MAIN_NAME: &str = "__llvm_orc_bootstrap_run_as_main_wrapper";
/// Bootstrap symbol of [`run_as_void_function_wrapper`].
pub const VOID_NAME: &str = "__llvm_orc_bootstrap_run_as_void_function_wrapper";
/// Bootstrap symbol of [`run_as_int_function_wrapper`].
pub const INT_NAME: &str = "__llvm_orc_bootstrap_run_as_int_function_wrapper";

sync_wrapper! {
    /// `int64 (SPSExecutorAddr main, SPSSequence<SPSString> args)`; the
    /// arguments are taken as bytes.
    pub fn run_as_main_wrapper((ExecutorAddr, Vec<Vec<u8>>)) -> i64 =?
        |(main, args)| run_as::run_as_main(main, &args);
}

sync_wrapper! {
    /// `int32 (SPSExecutorAddr fn)`.
    pub fn run_as_void_function_wrapper((ExecutorAddr,)) -> i32 =?
        |(f,)| run_as::run_as_void_function(f);
}

sync_wrapper! {
    /// `int32 (SPSExecutorAddr fn, int32 arg)`.
    pub fn run_as_int_function_wrapper((ExecutorAddr, i32)) -> i32 =?
        |(f, arg)| run_as::run_as_int_function(f, arg);
}
