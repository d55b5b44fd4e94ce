//! SPS binding of [`crate::services::gdb_jit`]: the allocation action
//! `llvm_orc_registerJITLoaderGDBAllocAction`,
//! `SPSError (SPSExecutorAddrRange, bool auto_register)`.
//!
//! ```
//! use orc_rt::services::memory::{actions::run_call, MemoryError};
//! use orc_rt::sps::orc_types::WrapperFunctionCall;
//! use orc_rt::sps_ci::{fn_addr, gdb_jit::register_jit_loader_gdb_alloc_action};
//! use orc_rt::{ExecutorAddr, ExecutorAddrRange};
//!
//! static OBJECT: [u8; 16] = [0; 16]; // stands for an in-memory debug object
//! let start = ExecutorAddr::from_ptr(OBJECT.as_ptr());
//! let range = ExecutorAddrRange::from_start_and_size(start, 16).unwrap();
//! let action = fn_addr(register_jit_loader_gdb_alloc_action);
//!
//! // As LLVM runs it: an allocation action of the linked object.
//! // SAFETY (both calls): the action is the executor's own GDB
//! // registration wrapper.
//! assert!(unsafe { run_call(&WrapperFunctionCall::with_args(action, &(range, true))) }.is_ok());
//! let reversed = ExecutorAddrRange::new(range.end, range.start);
//! let e =
//!     unsafe { run_call(&WrapperFunctionCall::with_args(action, &(reversed, true))) }.unwrap_err();
//! assert!(matches!(e, MemoryError::Action { .. }), "{e:?}");
//! assert!(e.to_string().contains("invalid range"), "{e}");
//! ```

use crate::services::gdb_jit;
use crate::sps::{to_sps_result, SpsResult};
use crate::wrapper_function::handler::SpsResponder;
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::ExecutorAddrRange;

/// Bootstrap symbol of [`register_jit_loader_gdb_alloc_action`].
pub const REGISTER_NAME: &str = "llvm_orc_registerJITLoaderGDBAllocAction";

/// Adds the debug object in the range to the GDB JIT list.
pub fn register((range, auto): (ExecutorAddrRange, bool), r: SpsResponder<SpsResult>) {
    r.respond(&to_sps_result(gdb_jit::register(range, auto)))
}

sync_wrapper! {
    /// Entry point of [`register`].
    pub fn register_jit_loader_gdb_alloc_action = register;
}
