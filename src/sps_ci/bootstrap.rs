//! The bootstrap services an LLVM 22 controller (`llvm-jitlink-22`) needs,
//! and the bootstrap symbol table the executor announces in Setup.
//!
//! [`add_bootstrap_services`] creates the dylib manager, the memory manager
//! and the shared-memory mapper, adds them to a Session (which notifies
//! them at detach and shutdown, in reverse order, so the memory manager
//! runs JIT'd destructors before the dylib manager forgets its handles),
//! and returns every bootstrap symbol except the two dispatch symbols
//! (`__llvm_orc_SimpleRemoteEPC_dispatch_ctx` / `_dispatch_fn`), which
//! belong to the transport.
//!
//! The perf JIT interface functions (`llvm_orc_registerJITLoaderPerf*`),
//! which LLVM 22 looks up as process symbols rather than bootstrap
//! symbols, are made resolvable through the dylib manager's process handle.
//!
//! ```
//! use orc_rt::session::Session;
//! use orc_rt::sps::{serialize_to_vec, SpsExpected};
//! use orc_rt::sps_ci::{bootstrap::add_bootstrap_services, memory};
//! use orc_rt::task_dispatcher::InPlaceTaskDispatcher;
//! use orc_rt::wrapper_function::{decode_sps_result, sync_abi::call_sync, sync_fn_at};
//! use orc_rt::ExecutorAddr;
//! use std::sync::Arc;
//!
//! let session = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
//! let symbols = add_bootstrap_services(&session).unwrap();
//! assert_eq!(symbols.len(), 32);
//! let symbol = |name: &str| symbols.iter().find(|s| s.name == name).unwrap();
//! assert!(symbol(memory::RESERVE_NAME).leaf);
//!
//! // What a controller does with the table: reserve memory through the
//! // memory manager's entry point, naming the instance by its address.
//! let instance = symbol(memory::INSTANCE_NAME).addr;
//! let args = serialize_to_vec(&(instance, 4096u64));
//! // SAFETY: the table maps the name to a synchronous-ABI entry point.
//! let reserve = unsafe { sync_fn_at(symbol(memory::RESERVE_NAME).addr) }.unwrap();
//! // Address 0 is refused rather than called.
//! // SAFETY: a null address is checked before any cast.
//! assert!(unsafe { sync_fn_at(ExecutorAddr::new(0)) }.is_err());
//! // SAFETY (both calls): as above.
//! let r = unsafe { call_sync(reserve, &args) };
//! let base = decode_sps_result::<SpsExpected<ExecutorAddr>>(r)
//!     .unwrap()
//!     .into_result();
//! assert!(!base.unwrap().is_null());
//!
//! // After shutdown, the services refuse work.
//! session.shutdown_and_wait().unwrap();
//! let r = unsafe { call_sync(reserve, &args) };
//! let e = decode_sps_result::<SpsExpected<ExecutorAddr>>(r)
//!     .unwrap()
//!     .into_result();
//! assert_eq!(
//!     e,
//!     Err("In reserve: the memory manager is shut down".to_string())
//! );
//! ```

use std::sync::Arc;

use crate::services::dylib::DylibManager;
use crate::services::elfnix_platform::ElfNixPlatform;
use crate::services::memory::{SharedMemoryMapper, SimpleNativeMemoryMap};
use crate::session::Session;
use crate::sps_ci::{self, fn_addr};
use crate::{ExecutorAddr, Result};

/// One entry of the bootstrap symbol table the executor announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootstrapSymbol {
    /// The symbol name LLVM's controller looks up.
    pub name: String,
    /// Its address in this process.
    pub addr: ExecutorAddr,
    /// A leaf call: a synchronous-ABI wrapper function that neither blocks
    /// nor calls the controller and whose result is small, so a transport
    /// may run it on its reader thread instead of handing it to a worker.
    pub leaf: bool,
    /// A call that is a leaf call when this test accepts its argument bytes
    /// (for `leaf == false` entries only).
    pub leaf_when: Option<LeafTest>,
}

/// Decides from a call's argument bytes whether that call is a leaf call
/// (see [`BootstrapSymbol::leaf`]). Must itself be quick and never block.
#[derive(Clone)]
pub struct LeafTest(Arc<LeafTestFn>);

/// The function inside a [`LeafTest`].
type LeafTestFn = dyn Fn(&[u8]) -> bool + Send + Sync;

impl LeafTest {
    /// A test that runs `f`.
    pub fn new(f: impl Fn(&[u8]) -> bool + Send + Sync + 'static) -> Self {
        LeafTest(Arc::new(f))
    }

    /// Whether a call with argument bytes `args` is a leaf call.
    pub fn is_leaf(&self, args: &[u8]) -> bool {
        (self.0)(args)
    }
}

impl std::fmt::Debug for LeafTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeafTest")
    }
}

impl PartialEq for LeafTest {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for LeafTest {}

impl BootstrapSymbol {
    /// An entry that is not a leaf call (instances, or wrappers that may
    /// block, call the controller or return much data).
    pub fn new(name: impl Into<String>, addr: ExecutorAddr) -> Self {
        BootstrapSymbol {
            name: name.into(),
            addr,
            leaf: false,
            leaf_when: None,
        }
    }

    /// A leaf-call entry (see [`BootstrapSymbol::leaf`]).
    pub fn leaf(name: impl Into<String>, addr: ExecutorAddr) -> Self {
        BootstrapSymbol {
            leaf: true,
            ..Self::new(name, addr)
        }
    }

    /// An entry whose calls are leaf calls when `test` accepts their
    /// arguments (see [`BootstrapSymbol::leaf_when`]).
    pub fn leaf_when(name: impl Into<String>, addr: ExecutorAddr, test: LeafTest) -> Self {
        BootstrapSymbol {
            leaf_when: Some(test),
            ..Self::new(name, addr)
        }
    }
}

/// The stateful bootstrap services of one Session.
pub struct BootstrapServices {
    /// `SimpleExecutorDylibManager`.
    pub dylib: Arc<DylibManager>,
    /// `SimpleExecutorMemoryManager`.
    pub memory: Arc<SimpleNativeMemoryMap>,
    /// `ExecutorSharedMemoryMapperService`.
    pub shared_memory: Arc<SharedMemoryMapper>,
}

impl std::fmt::Debug for BootstrapServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapServices").finish_non_exhaustive()
    }
}

impl BootstrapServices {
    /// Creates the services and registers their instance addresses. The
    /// caller keeps them alive (normally by adding them to a Session);
    /// once dropped, their addresses are refused.
    pub fn create() -> Self {
        for (name, f) in sps_ci::perf::symbols() {
            crate::services::dylib::register_builtin_symbol(name, fn_addr(f));
        }
        for (name, addr) in sps_ci::elfnix_platform::symbols() {
            crate::services::dylib::register_builtin_symbol(name, addr);
        }
        // JIT'd AArch64 code calls these for its atomics; only the static
        // libgcc.a and compiler-rt have them, never a shared library.
        #[cfg(target_arch = "aarch64")]
        for (name, addr) in crate::sys::outline_atomics::symbols() {
            crate::services::dylib::register_builtin_symbol(name, addr);
        }
        // Every frame registration in the process goes through the gap
        // repair, whoever asks: LLVM's own ORC runtime calls
        // `__register_frame` itself.
        for (name, addr) in sps_ci::eh_frame::process_overrides() {
            crate::services::dylib::override_process_symbol(name, addr);
        }
        BootstrapServices {
            dylib: Arc::new(DylibManager::new()),
            memory: Arc::new(SimpleNativeMemoryMap::new()),
            shared_memory: Arc::new(SharedMemoryMapper::new()),
        }
    }

    /// The bootstrap symbol table for these instances: 32 entries, every
    /// name of LLVM 22's Setup message except the two dispatch symbols.
    ///
    /// Leaf calls are the memory-access wrappers except `read_buffers` and
    /// `read_strings` (whose results can be large), and the memory
    /// manager's `reserve`. The memory manager's `initialize`,
    /// `deinitialize` and `release` run allocation actions, which may be
    /// JIT'd code that calls the controller: they are leaf calls only when
    /// every action they would run is one of this executor's own
    /// (EH-frame and debugger registration), which never do.
    pub fn symbols(&self) -> Vec<BootstrapSymbol> {
        use sps_ci::{dylib, eh_frame, gdb_jit, memory, run_as, shared_memory};
        let v: Vec<(&str, ExecutorAddr)> = vec![
            (run_as::MAIN_NAME, fn_addr(run_as::run_as_main_wrapper)),
            (
                run_as::VOID_NAME,
                fn_addr(run_as::run_as_void_function_wrapper),
            ),
            (
                run_as::INT_NAME,
                fn_addr(run_as::run_as_int_function_wrapper),
            ),
            (dylib::INSTANCE_NAME, dylib::INSTANCES.register(&self.dylib)),
            (dylib::OPEN_NAME, fn_addr(dylib::open_wrapper)),
            (dylib::RESOLVE_NAME, fn_addr(dylib::resolve_wrapper)),
            (
                memory::INSTANCE_NAME,
                memory::INSTANCES.register(&self.memory),
            ),
            (memory::INITIALIZE_NAME, fn_addr(memory::initialize_wrapper)),
            (
                memory::DEINITIALIZE_NAME,
                fn_addr(memory::deinitialize_wrapper),
            ),
            (memory::RELEASE_NAME, fn_addr(memory::release_wrapper)),
            (
                shared_memory::INSTANCE_NAME,
                shared_memory::INSTANCES.register(&self.shared_memory),
            ),
            (
                shared_memory::RESERVE_NAME,
                fn_addr(shared_memory::reserve_wrapper),
            ),
            (
                shared_memory::INITIALIZE_NAME,
                fn_addr(shared_memory::initialize_wrapper),
            ),
            (
                shared_memory::DEINITIALIZE_NAME,
                fn_addr(shared_memory::deinitialize_wrapper),
            ),
            (
                shared_memory::RELEASE_NAME,
                fn_addr(shared_memory::release_wrapper),
            ),
            (
                eh_frame::REGISTER_NAME,
                fn_addr(eh_frame::register_eh_frame_alloc_action),
            ),
            (
                eh_frame::DEREGISTER_NAME,
                fn_addr(eh_frame::deregister_eh_frame_alloc_action),
            ),
            (
                gdb_jit::REGISTER_NAME,
                fn_addr(gdb_jit::register_jit_loader_gdb_alloc_action),
            ),
        ];
        let own_actions = [
            fn_addr(eh_frame::register_eh_frame_alloc_action),
            fn_addr(eh_frame::deregister_eh_frame_alloc_action),
            fn_addr(gdb_jit::register_jit_loader_gdb_alloc_action),
        ];
        let own = move |a: ExecutorAddr| own_actions.contains(&a);
        type Test = fn(&[u8], &dyn Fn(ExecutorAddr) -> bool) -> bool;
        let conditional: [(&str, Test); 3] = [
            (memory::INITIALIZE_NAME, memory::initialize_is_leaf),
            (memory::DEINITIALIZE_NAME, memory::deinitialize_is_leaf),
            (memory::RELEASE_NAME, memory::release_is_leaf),
        ];
        let mut v: Vec<BootstrapSymbol> = v
            .into_iter()
            .map(|(n, a)| match conditional.iter().find(|(c, _)| *c == n) {
                Some(&(_, test)) => {
                    BootstrapSymbol::leaf_when(n, a, LeafTest::new(move |args| test(args, &own)))
                }
                None => BootstrapSymbol::new(n, a),
            })
            .collect();
        v.push(BootstrapSymbol::leaf(
            memory::RESERVE_NAME,
            fn_addr(memory::reserve_wrapper),
        ));
        for (name, f) in sps_ci::access::symbols() {
            let big_result =
                name.ends_with("_read_buffers_wrapper") || name.ends_with("_read_strings_wrapper");
            v.push(BootstrapSymbol {
                leaf: !big_result,
                ..BootstrapSymbol::new(name, fn_addr(f))
            });
        }
        v
    }
}

/// Creates every bootstrap service, adds each to `session` (dylib manager
/// first, so it shuts down last), and returns the bootstrap symbols
/// ([`BootstrapServices::symbols`]). The transport adds the two dispatch
/// symbols and sends the table in its Setup message.
///
/// Fails if the Session is already shutting down.
pub fn add_bootstrap_services(session: &Arc<Session>) -> Result<Vec<BootstrapSymbol>> {
    add_bootstrap_services_for(session, BootstrapProfile::JitlinkExecutor)
}

/// Which executor's bootstrap catalog to serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapProfile {
    /// `llvm-jitlink-executor`: every service (32 symbols here, 34 with the
    /// transport's dispatch symbols).
    JitlinkExecutor,
    /// `lli-child-target`: the same without the shared-memory mapper,
    /// which `lli -remote-mcjit` never uses (27 symbols here).
    LliChildTarget,
}

/// [`add_bootstrap_services`] for the catalog of `profile`.
pub fn add_bootstrap_services_for(
    session: &Arc<Session>,
    profile: BootstrapProfile,
) -> Result<Vec<BootstrapSymbol>> {
    let s = BootstrapServices::create();
    s.dylib.serve_host_symbols_of(session);
    session.add_service(s.dylib.clone())?;
    session.add_service(s.memory.clone())?;
    let mut symbols = s.symbols();
    match profile {
        BootstrapProfile::JitlinkExecutor => session.add_service(s.shared_memory.clone())?,
        BootstrapProfile::LliChildTarget => symbols.retain(|sym| {
            !sym.name
                .starts_with("__llvm_orc_ExecutorSharedMemoryMapperService_")
        }),
    }
    // Last, so that it is told of shutdown first, while JIT'd memory is
    // still mapped for the deinitialisers it runs.
    session.add_service(ElfNixPlatform::new(session))?;
    Ok(symbols)
}

#[cfg(all(test, target_arch = "aarch64"))]
mod tests {
    use super::*;
    use crate::sps::orc_types::RemoteSymbolLookupSetElement;

    /// JIT'd code finds the outline-atomics helpers among the process's
    /// symbols once the bootstrap services exist.
    #[test]
    fn process_lookups_find_the_outline_atomics() {
        let s = BootstrapServices::create();
        let process = s.dylib.open(b"", 0).unwrap();
        let helpers: Vec<_> = crate::sys::outline_atomics::symbols().collect();
        let lookups: Vec<_> = helpers
            .iter()
            .map(|(name, _)| RemoteSymbolLookupSetElement {
                name: name.to_string(),
                required: true,
            })
            .collect();
        let found = crate::services::dylib::resolve(process, &lookups).unwrap();
        for ((name, addr), def) in helpers.iter().zip(found) {
            assert_eq!(def.map(|d| d.addr), Some(*addr), "{name}");
        }
        assert!(helpers
            .iter()
            .any(|(n, _)| *n == "__aarch64_ldadd4_acq_rel"));
    }
}
