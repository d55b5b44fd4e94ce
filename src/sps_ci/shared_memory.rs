//! SPS bindings of [`SharedMemoryMapper`] (LLVM's
//! `ExecutorSharedMemoryMapperService` wrappers).
use super::InstanceRegistry;
use crate::services::memory::SharedMemoryMapper;
use crate::sps::orc_types::SharedMemoryFinalizeRequest;
use crate::sps::{to_sps_result, SpsExpected, SpsResult};
use crate::wrapper_function::handler::SpsResponder;
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

/// `SPSExpected<SPSTuple<SPSExecutorAddr, SPSString>> (SPSExecutorAddr
/// instance, uint64 size)`: reserves a shared-memory region.
pub fn reserve(
    (instance, size): (ExecutorAddr, u64),
    r: SpsResponder<SpsExpected<(ExecutorAddr, String)>>,
) {
    let result = INSTANCES.with(instance, "reserve", |m| m.reserve(size));
    r.respond(&SpsExpected::from_result(result))
}

/// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, SPSExecutorAddr
/// reservation, SPSSharedMemoryFinalizeRequest)`.
pub fn initialize(
    (instance, reservation, req): (ExecutorAddr, ExecutorAddr, SharedMemoryFinalizeRequest),
    r: SpsResponder<SpsExpected<ExecutorAddr>>,
) {
    let result = INSTANCES.with(instance, "initialize", |m| m.initialize(reservation, req));
    r.respond(&SpsExpected::from_result(result))
}

/// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> keys)`.
pub fn deinitialize(
    (instance, keys): (ExecutorAddr, Vec<ExecutorAddr>),
    r: SpsResponder<SpsResult>,
) {
    let result = INSTANCES.with(instance, "deinitialize", |m| m.deinitialize(&keys));
    r.respond(&to_sps_result(result))
}

/// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr>
/// reservations)`.
pub fn release((instance, bases): (ExecutorAddr, Vec<ExecutorAddr>), r: SpsResponder<SpsResult>) {
    let result = INSTANCES.with(instance, "release", |m| m.release(&bases));
    r.respond(&to_sps_result(result))
}

sync_wrapper! {
    /// Entry point of [`reserve`].
    pub fn reserve_wrapper = reserve;
}

sync_wrapper! {
    /// Entry point of [`initialize`].
    pub fn initialize_wrapper = initialize;
}

sync_wrapper! {
    /// Entry point of [`deinitialize`].
    pub fn deinitialize_wrapper = deinitialize;
}

sync_wrapper! {
    /// Entry point of [`release`].
    pub fn release_wrapper = release;
}
