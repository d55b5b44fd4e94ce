//! SPS bindings of the dylib manager (LLVM's `SimpleExecutorDylibManager`
//! wrappers).
//!
//! Each function takes the manager's instance address first (the
//! `__llvm_orc_SimpleExecutorDylibManager_Instance` bootstrap symbol) and
//! looks it up in [`INSTANCES`]; handles returned by `open` are valid
//! process-wide, so `resolve` needs no instance.
//!
//! ```
//! use orc_rt::services::dylib::DylibManager;
//! use orc_rt::sps::orc_types::{ExecutorSymbolDef, RemoteSymbolLookupSetElement};
//! use orc_rt::sps::{serialize_to_vec, SpsDeserialize, SpsExpected, SpsSerialize};
//! use orc_rt::sps_ci::dylib::{open_wrapper, resolve_wrapper, INSTANCES};
//! use orc_rt::sps_ci::SyncWrapperFunction;
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
//! let manager = Arc::new(DylibManager::new());
//! let instance = INSTANCES.register(&manager);
//! // `(instance, path, mode)`; the empty path is the executor process.
//! let open_args = (instance, "", 0u64);
//! // SAFETY (every `call` below): orc-rt's entry points have that ABI.
//! let r: SpsExpected<ExecutorAddr> = unsafe { call(open_wrapper, &open_args) };
//! let handle = r.into_result().unwrap();
//!
//! let wanted = vec![RemoteSymbolLookupSetElement {
//!     name: "malloc".into(),
//!     required: true,
//! }];
//! let r: SpsExpected<Vec<Option<ExecutorSymbolDef>>> =
//!     unsafe { call(resolve_wrapper, &(handle, wanted)) };
//! assert!(!r.into_result().unwrap()[0].unwrap().addr.is_null());
//!
//! // A dropped manager's instance address is refused.
//! drop(manager);
//! let r: SpsExpected<ExecutorAddr> = unsafe { call(open_wrapper, &open_args) };
//! let e = r.into_result().unwrap_err();
//! assert!(
//!     e.ends_with("is not a live SimpleExecutorDylibManager instance"),
//!     "{e}"
//! );
//! ```

use super::InstanceRegistry;
use crate::services::dylib::{self, DylibManager};
use crate::sps::orc_types::{ExecutorSymbolDef, RemoteSymbolLookupSetElement};
use crate::sps::SpsExpected;
use crate::wrapper_function::handler::SpsResponder;
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::ExecutorAddr;

/// Bootstrap symbol of the instance address.
pub const INSTANCE_NAME: &str = "__llvm_orc_SimpleExecutorDylibManager_Instance";
/// Bootstrap symbol of [`open_wrapper`].
pub const OPEN_NAME: &str = "__llvm_orc_SimpleExecutorDylibManager_open_wrapper";
/// Bootstrap symbol of [`resolve_wrapper`].
pub const RESOLVE_NAME: &str = "__llvm_orc_SimpleExecutorDylibManager_resolve_wrapper";

/// Live dylib managers by instance address.
pub static INSTANCES: InstanceRegistry<DylibManager> =
    InstanceRegistry::new("SimpleExecutorDylibManager");

/// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, SPSString path,
/// uint64 mode)`: opens a library. The path is taken as bytes (it need not
/// be UTF-8).
pub fn open(
    (instance, path, mode): (ExecutorAddr, Vec<u8>, u64),
    r: SpsResponder<SpsExpected<ExecutorAddr>>,
) {
    let result = INSTANCES.with(instance, "open", |m| m.open(&path, mode));
    r.respond(&SpsExpected::from_result(result))
}

/// `SPSExpected<SPSSequence<SPSOptional<SPSExecutorSymbolDef>>>
/// (SPSExecutorAddr handle, SPSRemoteSymbolLookupSet)`: looks symbols up.
pub fn resolve(
    (handle, symbols): (ExecutorAddr, Vec<RemoteSymbolLookupSetElement>),
    r: SpsResponder<SpsExpected<Vec<Option<ExecutorSymbolDef>>>>,
) {
    r.respond(&SpsExpected::from_result(dylib::resolve(handle, &symbols)))
}

sync_wrapper! {
    /// Entry point of [`open`].
    pub fn open_wrapper = open;
}

sync_wrapper! {
    /// Entry point of [`resolve`].
    pub fn resolve_wrapper = resolve;
}
