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

use std::sync::Arc;

use crate::services::dylib::DylibManager;
use crate::services::memory::{SharedMemoryMapper, SimpleNativeMemoryMap};
use crate::session::Session;
use crate::sps_ci::{self, fn_addr};
use crate::{ExecutorAddr, Result};

/// The stateful bootstrap services of one Session.
pub struct BootstrapServices {
    /// `SimpleExecutorDylibManager`.
    pub dylib: Arc<DylibManager>,
    /// `SimpleExecutorMemoryManager`.
    pub memory: Arc<SimpleNativeMemoryMap>,
    /// `ExecutorSharedMemoryMapperService`.
    pub shared_memory: Arc<SharedMemoryMapper>,
}

impl BootstrapServices {
    /// Creates the services and registers their instance addresses. The
    /// caller keeps them alive (normally by adding them to a Session);
    /// once dropped, their addresses are refused.
    pub fn create() -> Self {
        for (name, f) in sps_ci::perf::symbols() {
            crate::services::dylib::register_builtin_symbol(name, fn_addr(f));
        }
        BootstrapServices {
            dylib: Arc::new(DylibManager::new()),
            memory: Arc::new(SimpleNativeMemoryMap::new()),
            shared_memory: Arc::new(SharedMemoryMapper::new()),
        }
    }

    /// The bootstrap symbol table for these instances: 32 entries, every
    /// name of LLVM 22's Setup message except the two dispatch symbols.
    pub fn symbols(&self) -> Vec<(String, ExecutorAddr)> {
        use sps_ci::{dylib, eh_frame, gdb_jit, memory, run_as, shared_memory};
        let mut v: Vec<(&str, ExecutorAddr)> = vec![
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
            (memory::RESERVE_NAME, fn_addr(memory::reserve_wrapper)),
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
        for (name, f) in sps_ci::access::symbols() {
            v.push((name, fn_addr(f)));
        }
        v.into_iter().map(|(n, a)| (n.to_string(), a)).collect()
    }
}

/// Creates every bootstrap service, adds each to `session` (dylib manager
/// first, so it shuts down last), and returns the bootstrap symbols
/// ([`BootstrapServices::symbols`]). The transport adds the two dispatch
/// symbols and sends the table in its Setup message.
///
/// Fails if the Session is already shutting down.
pub fn add_bootstrap_services(session: &Arc<Session>) -> Result<Vec<(String, ExecutorAddr)>> {
    let s = BootstrapServices::create();
    session.add_service(s.dylib.clone())?;
    session.add_service(s.memory.clone())?;
    session.add_service(s.shared_memory.clone())?;
    Ok(s.symbols())
}
