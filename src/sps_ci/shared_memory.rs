//! SPS bindings of [`SharedMemoryMapper`] (LLVM's
//! `ExecutorSharedMemoryMapperService` wrappers).
//!
//! Each function takes the mapper's instance address first (the
//! `__llvm_orc_ExecutorSharedMemoryMapperService_Instance` bootstrap symbol)
//! and looks it up in [`INSTANCES`]; `reserve` answers with the address and
//! the name of the new shared memory object.
//!
//! ```
//! use orc_rt::services::memory::SharedMemoryMapper;
//! use orc_rt::sps::{serialize_to_vec, SpsDeserialize, SpsExpected, SpsResult, SpsSerialize};
//! use orc_rt::sps_ci::shared_memory::{release_wrapper, reserve_wrapper, INSTANCES};
//! use orc_rt::sps_ci::SyncWrapperFunction;
//! use orc_rt::sys::shm;
//! use orc_rt::wrapper_function::{decode_sps_result, sync_abi::call_sync};
//! use orc_rt::ExecutorAddr;
//! use std::sync::Arc;
//!
//! /// Calls `f` as a controller does: SPS arguments in, SPS result out.
//! ///
//! /// # Safety
//! /// `f` has LLVM 22's synchronous wrapper ABI.
//! unsafe fn call<A: SpsSerialize, R: SpsDeserialize>(f: SyncWrapperFunction, args: &A) -> R {
//!     // SAFETY: the caller's promise.
//!     decode_sps_result(unsafe { call_sync(f, &serialize_to_vec(args)) }).unwrap()
//! }
//!
//! let mapper = Arc::new(SharedMemoryMapper::new());
//! let instance = INSTANCES.register(&mapper);
//! // SAFETY (every `call` below): orc-rt's entry points have that ABI.
//! let r: SpsExpected<(ExecutorAddr, String)> =
//!     unsafe { call(reserve_wrapper, &(instance, 4096u64)) };
//! let (base, name) = r.into_result().unwrap();
//! assert!(name.starts_with("/jitlink_"));
//! let r: SpsResult = unsafe { call(release_wrapper, &(instance, vec![base])) };
//! assert_eq!(r, Ok(()));
//! shm::unlink(&name).unwrap(); // the controller's job, normally
//!
//! drop(mapper);
//! let r: SpsExpected<(ExecutorAddr, String)> =
//!     unsafe { call(reserve_wrapper, &(instance, 4096u64)) };
//! assert!(r.into_result().is_err());
//! ```
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
    let result = INSTANCES.with(instance, "initialize", |m| {
        // SAFETY: the actions came from the controller, which LLVM's design
        // trusts to run code in the executor; the wire bindings make that
        // promise for it.
        unsafe { m.initialize(reservation, req) }
    });
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
