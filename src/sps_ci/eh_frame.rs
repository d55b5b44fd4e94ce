//! SPS bindings of [`crate::services::eh_frame`]: the allocation actions
//! `llvm_orc_registerEHFrameAllocAction` and
//! `llvm_orc_deregisterEHFrameAllocAction`, `SPSError (SPSExecutorAddrRange)`.

use crate::services::eh_frame;
use crate::sps::{to_sps_result, SpsResult};
use crate::wrapper_function::handler::SpsResponder;
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::ExecutorAddrRange;

/// Bootstrap symbol of [`register_eh_frame_alloc_action`].
pub const REGISTER_NAME: &str = "llvm_orc_registerEHFrameAllocAction";
/// Bootstrap symbol of [`deregister_eh_frame_alloc_action`].
pub const DEREGISTER_NAME: &str = "llvm_orc_deregisterEHFrameAllocAction";

/// Registers the `.eh_frame` section in the range.
pub fn register((range,): (ExecutorAddrRange,), r: SpsResponder<SpsResult>) {
    r.respond(&to_sps_result(eh_frame::register(range)))
}

/// Deregisters the `.eh_frame` section in the range.
pub fn deregister((range,): (ExecutorAddrRange,), r: SpsResponder<SpsResult>) {
    r.respond(&to_sps_result(eh_frame::deregister(range)))
}

sync_wrapper! {
    /// Entry point of [`register`].
    pub fn register_eh_frame_alloc_action = register;
}

sync_wrapper! {
    /// Entry point of [`deregister`].
    pub fn deregister_eh_frame_alloc_action = deregister;
}
