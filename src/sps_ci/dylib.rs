//! SPS bindings of the dylib manager (LLVM's `SimpleExecutorDylibManager`
//! wrappers).

use super::InstanceRegistry;
use crate::dylib::{self, DylibManager};
use crate::sps::orc_types::{ExecutorSymbolDef, RemoteSymbolLookupSetElement};
use crate::sps::SpsExpected;
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

sync_wrapper! {
    /// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, SPSString path, uint64 mode)`.
    /// The path is taken as bytes (it need not be UTF-8).
    pub fn open_wrapper((ExecutorAddr, Vec<u8>, u64)) -> SpsExpected<ExecutorAddr> =
        |(instance, path, mode)| SpsExpected(
            INSTANCES.lookup(instance)
                .map_err(|e| format!("In open, {e}"))
                .and_then(|m| m.open(&path, mode).map_err(|e| e.to_string())));
}

sync_wrapper! {
    /// `SPSExpected<SPSSequence<SPSOptional<SPSExecutorSymbolDef>>> (SPSExecutorAddr handle, SPSRemoteSymbolLookupSet)`.
    pub fn resolve_wrapper((ExecutorAddr, Vec<RemoteSymbolLookupSetElement>))
        -> SpsExpected<Vec<Option<ExecutorSymbolDef>>> =
        |(handle, symbols)| SpsExpected::from_result(dylib::resolve(handle, &symbols));
}
