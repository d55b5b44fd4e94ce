//! SPS bindings of the dylib manager (LLVM's `SimpleExecutorDylibManager`
//! wrappers).

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
