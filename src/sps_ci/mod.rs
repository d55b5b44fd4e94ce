//! SPS bindings of the bootstrap services: the synchronous-ABI entry points
//! whose addresses the executor announces in Setup, kept apart from the
//! services' logic.
//!
//! Each entry point decodes its SPS arguments, finds its service and calls
//! it (see [`crate::wrapper_function::sync_abi`], the one place where the
//! ABI is adapted). Service instances are named on the wire by address
//! (`*_Instance` bootstrap symbols); those addresses are never
//! dereferenced, only looked up in an [`InstanceRegistry`] of live
//! instances, so a stale or forged address gives an error.

pub mod access;
pub mod dylib;
pub mod eh_frame;
pub mod gdb_jit;
pub mod memory;
pub mod perf;
pub mod run_as;
pub mod shared_memory;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use crate::ExecutorAddr;

/// Live service instances of one type, by the address announced for them.
///
/// Registration holds a `Weak`, so the registry never keeps a service
/// alive; while an entry exists the `Arc`'s allocation cannot be reused, so
/// addresses stay unique. Several Sessions may each register their own
/// instance.
pub struct InstanceRegistry<T> {
    kind: &'static str,
    map: Mutex<BTreeMap<u64, Weak<T>>>,
}

impl<T> InstanceRegistry<T> {
    /// An empty registry; `kind` names the service in error messages.
    pub const fn new(kind: &'static str) -> Self {
        InstanceRegistry {
            kind,
            map: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Weak<T>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `instance` and returns its wire address.
    pub fn register(&self, instance: &Arc<T>) -> ExecutorAddr {
        let addr = Arc::as_ptr(instance) as *const () as usize as u64;
        let mut map = self.lock();
        map.retain(|_, w| w.strong_count() > 0);
        map.insert(addr, Arc::downgrade(instance));
        ExecutorAddr(addr)
    }

    /// Removes the entry for `addr` (e.g. at service shutdown).
    pub fn unregister(&self, addr: ExecutorAddr) {
        self.lock().remove(&addr.0);
    }

    /// The live instance at `addr`, or an error naming the address.
    pub fn lookup(&self, addr: ExecutorAddr) -> Result<Arc<T>, String> {
        self.lock()
            .get(&addr.0)
            .and_then(Weak::upgrade)
            .ok_or_else(|| format!("{:#x} is not a live {} instance", addr.0, self.kind))
    }
}

/// The synchronous-ABI function type of every entry point here.
pub use crate::controller_access::SyncWrapperFunction;

/// The address of an entry point, for the bootstrap symbol table.
pub fn fn_addr(f: SyncWrapperFunction) -> ExecutorAddr {
    ExecutorAddr(f as usize as u64)
}
