//! SPS binding of [`crate::services::gdb_jit`]: the allocation action
//! `llvm_orc_registerJITLoaderGDBAllocAction`,
//! `SPSError (SPSExecutorAddrRange, bool auto_register)`.

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
