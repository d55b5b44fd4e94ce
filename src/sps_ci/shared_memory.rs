//! SPS bindings of [`SharedMemoryMapper`] (LLVM's
//! `ExecutorSharedMemoryMapperService` wrappers).

use std::sync::Arc;

use super::InstanceRegistry;
use crate::memory::SharedMemoryMapper;
use crate::sps::orc_types::SharedMemoryFinalizeRequest;
use crate::sps::{SpsExpected, SpsResult};
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::ExecutorAddr;

/// Bootstrap symbol of the instance address.
pub const INSTANCE_NAME: &str = "__llvm_orc_ExecutorSharedMemoryMapperService_Instance";
/// Bootstrap symbol of [`reserve_wrapper`].
pub const RESERVE_NAME: &str = "__llvm_orc_ExecutorSharedMemoryMapperService_Reserve";
/// Bootstrap symbol of [`initialize_wrapper`].
pub const INITIALIZE_NAME: &str = "__llvm_orc_ExecutorSharedMemoryMapperService_Initialize";
/// Bootstrap symbol of [`deinitialize_wrapper`].
pub const DEINITIALIZE_NAME: &str = "__llvm_orc_ExecutorSharedMemoryMapperService_Deinitialize";
/// Bootstrap symbol of [`release_wrapper`].
pub const RELEASE_NAME: &str = "__llvm_orc_ExecutorSharedMemoryMapperService_Release";

/// Live shared-memory mappers by instance address.
pub static INSTANCES: InstanceRegistry<SharedMemoryMapper> =
    InstanceRegistry::new("ExecutorSharedMemoryMapperService");

fn get(instance: ExecutorAddr, ctx: &str) -> Result<Arc<SharedMemoryMapper>, String> {
    INSTANCES
        .lookup(instance)
        .map_err(|e| format!("In {ctx}, {e}"))
}

sync_wrapper! {
    /// `SPSExpected<SPSTuple<SPSExecutorAddr, SPSString>> (SPSExecutorAddr instance, uint64 size)`.
    pub fn reserve_wrapper((ExecutorAddr, u64)) -> SpsExpected<(ExecutorAddr, String)> =
        |(instance, size)| SpsExpected(get(instance, "reserve")
            .and_then(|m| m.reserve(size).map_err(|e| e.to_string())));
}

sync_wrapper! {
    /// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, SPSExecutorAddr reservation, SPSSharedMemoryFinalizeRequest)`.
    pub fn initialize_wrapper((ExecutorAddr, ExecutorAddr, SharedMemoryFinalizeRequest)) -> SpsExpected<ExecutorAddr> =
        |(instance, reservation, req)| SpsExpected(get(instance, "initialize")
            .and_then(|m| m.initialize(reservation, req).map_err(|e| e.to_string())));
}

sync_wrapper! {
    /// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> keys)`.
    pub fn deinitialize_wrapper((ExecutorAddr, Vec<ExecutorAddr>)) -> SpsResult =
        |(instance, keys)| get(instance, "deinitialize")
            .and_then(|m| m.deinitialize(&keys).map_err(|e| e.to_string()));
}

sync_wrapper! {
    /// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> reservations)`.
    pub fn release_wrapper((ExecutorAddr, Vec<ExecutorAddr>)) -> SpsResult =
        |(instance, bases)| get(instance, "release")
            .and_then(|m| m.release(&bases).map_err(|e| e.to_string()));
}
