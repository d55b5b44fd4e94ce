//! SPS bindings of [`SimpleNativeMemoryMap`] (LLVM's
//! `SimpleExecutorMemoryManager` wrappers).

use std::sync::Arc;

use super::InstanceRegistry;
use crate::memory::SimpleNativeMemoryMap;
use crate::sps::orc_types::FinalizeRequest;
use crate::sps::{SpsExpected, SpsResult};
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::ExecutorAddr;

/// Bootstrap symbol of the instance address.
pub const INSTANCE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_Instance";
/// Bootstrap symbol of [`reserve_wrapper`].
pub const RESERVE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_reserve_wrapper";
/// Bootstrap symbol of [`initialize_wrapper`].
pub const INITIALIZE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_initialize_wrapper";
/// Bootstrap symbol of [`deinitialize_wrapper`].
pub const DEINITIALIZE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_deinitialize_wrapper";
/// Bootstrap symbol of [`release_wrapper`].
pub const RELEASE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_release_wrapper";

/// Live memory managers by instance address.
pub static INSTANCES: InstanceRegistry<SimpleNativeMemoryMap> =
    InstanceRegistry::new("SimpleExecutorMemoryManager");

fn get(instance: ExecutorAddr, ctx: &str) -> Result<Arc<SimpleNativeMemoryMap>, String> {
    INSTANCES
        .lookup(instance)
        .map_err(|e| format!("In {ctx}, {e}"))
}

sync_wrapper! {
    /// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, uint64 size)`.
    pub fn reserve_wrapper((ExecutorAddr, u64)) -> SpsExpected<ExecutorAddr> =
        |(instance, size)| SpsExpected(get(instance, "reserve")
            .and_then(|m| m.reserve(size).map_err(|e| e.to_string())));
}

sync_wrapper! {
    /// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, SPSFinalizeRequest)`.
    pub fn initialize_wrapper((ExecutorAddr, FinalizeRequest)) -> SpsExpected<ExecutorAddr> =
        |(instance, req)| SpsExpected(get(instance, "initialize")
            .and_then(|m| m.initialize(req).map_err(|e| e.to_string())));
}

sync_wrapper! {
    /// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> keys)`.
    pub fn deinitialize_wrapper((ExecutorAddr, Vec<ExecutorAddr>)) -> SpsResult =
        |(instance, keys)| get(instance, "deinitialize")
            .and_then(|m| m.deinitialize(&keys).map_err(|e| e.to_string()));
}

sync_wrapper! {
    /// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> bases)`.
    pub fn release_wrapper((ExecutorAddr, Vec<ExecutorAddr>)) -> SpsResult =
        |(instance, bases)| get(instance, "release")
            .and_then(|m| m.release(&bases).map_err(|e| e.to_string()));
}
