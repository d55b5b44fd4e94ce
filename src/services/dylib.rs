//! The dylib manager (LLVM's `SimpleExecutorDylibManager`): opens shared
//! libraries, or the executor process itself, and resolves symbols in them
//! for the controller's linker.
//!
//! Handles given to the controller are opaque ids, valid process-wide (the
//! `resolve` call carries no manager instance) and checked on every use.
//!
//! JIT'd C++ needs the C++ runtime (`__cxa_throw`, `__gxx_personality_v0`,
//! `_Unwind_Resume`...) in the process's global scope, where
//! `open("")` + `resolve` look. The reference executor is linked against
//! libstdc++, libgcc_s and libm; a Rust executor is not, so the first
//! lookup in the process that misses loads them with
//! `RTLD_LAZY | RTLD_GLOBAL` and looks again. A program that never needs
//! them (C, say) never pays for loading them (about 0.7 ms of executor CPU
//! per session), and none is loaded at start-up, which would delay every
//! session's Setup. Loading them later changes no lookup that already
//! succeeded: they join the global scope after everything already in it.
//!
//! ```
//! use orc_rt::services::dylib::{self, DylibError, DylibManager};
//! use orc_rt::sps::orc_types::{jit_symbol_flags, RemoteSymbolLookupSetElement};
//! use orc_rt::ExecutorAddr;
//!
//! let lookup = |name: &str, required| RemoteSymbolLookupSetElement {
//!     name: name.into(),
//!     required,
//! };
//! let libstdcxx_loaded = || {
//!     // SAFETY: RTLD_NOLOAD only asks whether the library is loaded.
//!     let h = unsafe { libc::dlopen(c"libstdc++.so.6".as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
//!     !h.is_null()
//! };
//! let manager = DylibManager::new();
//! let process = manager.open(b"", 0).unwrap(); // the executor's global scope
//! let found = dylib::resolve(process, &[lookup("malloc", true)]).unwrap();
//! let malloc = found[0].unwrap();
//! assert!(!malloc.addr.is_null() && malloc.flags == jit_symbol_flags::EXPORTED);
//! assert!(!libstdcxx_loaded(), "nothing needed the C++ runtime yet");
//! let found = dylib::resolve(
//!     process,
//!     &[
//!         lookup("__cxa_throw", true),
//!         lookup("orc_rt_doc_weak_symbol", false),
//!         lookup("orc_rt_doc_missing_symbol", true),
//!     ],
//! )
//! .unwrap();
//! assert!(!found[0].unwrap().addr.is_null()); // from libstdc++, loaded for it
//! assert!(libstdcxx_loaded());
//! assert!(found[1].unwrap().addr.is_null()); // weak and missing: address 0
//! assert!(found[2].is_none()); // required and missing: the controller reports it
//!
//! // orc-rt's own process symbols resolve through a process handle too.
//! dylib::register_builtin_symbol("orc_rt_doc_builtin", ExecutorAddr::new(0x1234));
//! let found = dylib::resolve(process, &[lookup("orc_rt_doc_builtin", true)]).unwrap();
//! assert_eq!(found[0].unwrap().addr, ExecutorAddr::new(0x1234));
//! // An override wins over the loader (process handles only).
//! dylib::override_process_symbol("free", ExecutorAddr::new(0x5678));
//! let found = dylib::resolve(process, &[lookup("free", true)]).unwrap();
//! assert_eq!(found[0].unwrap().addr, ExecutorAddr::new(0x5678));
//!
//! let missing = manager.open(b"/nonexistent/libnothing.so", 0);
//! assert!(
//!     matches!(&missing, Err(DylibError::Open(e)) if e.to_string().contains("libnothing.so")),
//!     "{missing:?}"
//! );
//! // Handles die with their manager and are refused afterwards.
//! manager.shutdown();
//! let stale = dylib::resolve(process, &[]);
//! assert!(matches!(stale, Err(DylibError::BadHandle(h)) if h == process.value()));
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::handle::Handle;
use crate::host_symbols;
use crate::service::{OnCompleteFn, Service};
use crate::session::Session;
use crate::sps::orc_types::{jit_symbol_flags, ExecutorSymbolDef, RemoteSymbolLookupSetElement};
use crate::sync::lock;
use crate::sys::dl::{self, DlError, DlHandle};
use crate::ExecutorAddr;

/// Libraries made globally visible for JIT'd code (see the module docs).
pub const GLOBAL_RUNTIME_LIBRARIES: [&str; 3] = ["libstdc++.so.6", "libgcc_s.so.1", "libm.so.6"];

/// Errors of the dylib manager (the text reaches the controller).
#[derive(Debug, thiserror::Error)]
pub enum DylibError {
    /// `open` with mode bits (none are defined).
    #[error("open: non-zero mode bits not yet supported")]
    UnsupportedMode(u64),
    /// The loader refused the library (its `dlerror` text).
    #[error(transparent)]
    Open(#[from] DlError),
    /// `resolve` with a handle no live manager issued.
    #[error("resolve: {0:#x} is not a valid dylib handle")]
    BadHandle(u64),
    /// A required symbol with an empty name.
    #[error("Required address for empty symbol \"\"")]
    EmptyRequired,
    /// The manager was shut down.
    #[error("{0}: the dylib manager is shut down")]
    ShutDown(&'static str),
}

crate::module_error!(DylibError, Dylib);

/// A handle issued to the controller.
#[derive(Clone, Copy)]
struct Entry {
    handle: DlHandle,
    /// Opened with the empty path: the process's global scope.
    is_process: bool,
    /// The Session whose host symbols a process handle finds first.
    session: Option<Handle>,
}

/// Every live handle, process-wide: id to loader handle.
static HANDLES: Mutex<BTreeMap<u64, Entry>> = Mutex::new(BTreeMap::new());
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// Symbols orc-rt itself provides in the process scope, by name.
static BUILTINS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Makes `name` resolve to `addr` through a process handle (`open("")`)
/// when the loader does not know it. This is how orc-rt offers functions
/// that LLVM 22 looks up as process symbols (e.g. the perf JIT interface)
/// without exporting them from liborc_rt.so.
pub fn register_builtin_symbol(name: &str, addr: ExecutorAddr) {
    lock(&BUILTINS).insert(name.to_string(), addr.0);
}

fn builtin_symbol(name: &str) -> Option<u64> {
    lock(&BUILTINS).get(name).copied()
}

/// Symbols that take the place of the loader's in process lookups.
static OVERRIDES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Makes `name` resolve to `addr` through a process handle (`open("")`)
/// even where the loader knows the name: how orc-rt puts its checked
/// versions of libraries' functions in JIT'd code's way (its repairing
/// `__register_frame`, say). Lookups through a library's own handle are
/// not affected.
pub fn override_process_symbol(name: &str, addr: ExecutorAddr) {
    lock(&OVERRIDES).insert(name.to_string(), addr.0);
}

fn override_symbol(name: &str) -> Option<u64> {
    lock(&OVERRIDES).get(name).copied()
}

/// Loads [`GLOBAL_RUNTIME_LIBRARIES`] once per process; returns the
/// loader's error for each one that failed (a missing libstdc++ only
/// matters to C++ code, so it is not fatal).
pub fn load_global_runtime_libraries() -> &'static [DlError] {
    static RESULT: OnceLock<Vec<DlError>> = OnceLock::new();
    RESULT.get_or_init(|| {
        GLOBAL_RUNTIME_LIBRARIES
            .iter()
            .filter_map(|lib| dl::open(lib.as_bytes(), libc::RTLD_LAZY | libc::RTLD_GLOBAL).err())
            .collect()
    })
}

/// Loads [`GLOBAL_RUNTIME_LIBRARIES`] if no earlier call did: `true` the
/// first time (the global scope may have grown), `false` after.
fn load_global_runtime_libraries_once() -> bool {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, Ordering::AcqRel) {
        return false;
    }
    load_global_runtime_libraries();
    true
}

#[derive(Default)]
struct State {
    /// Ids this manager issued.
    issued: Vec<u64>,
    shut_down: bool,
    /// The Session whose host symbols its process handles serve.
    session: Option<Handle>,
}

/// The dylib manager service.
pub struct DylibManager {
    state: Mutex<State>,
}

impl std::fmt::Debug for DylibManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DylibManager").finish_non_exhaustive()
    }
}

impl DylibManager {
    /// A manager. The C++ runtime libraries are made globally visible by
    /// the first lookup that misses without them ([`resolve`]).
    pub fn new() -> Self {
        DylibManager {
            state: Mutex::new(State::default()),
        }
    }

    /// Makes this manager's process handles find the host symbols of
    /// `session` ([`crate::host_symbols`]) before anything else. Handles
    /// opened before keep what they had.
    pub fn serve_host_symbols_of(&self, session: &Session) {
        lock(&self.state).session = Some(session.handle());
    }

    /// Opens `path` (empty: the executor process's global scope) and
    /// returns a handle for [`resolve`]. Libraries stay loaded.
    pub fn open(&self, path: &[u8], mode: u64) -> Result<ExecutorAddr, DylibError> {
        if mode != 0 {
            return Err(DylibError::UnsupportedMode(mode));
        }
        let session = {
            let st = lock(&self.state);
            if st.shut_down {
                return Err(DylibError::ShutDown("open"));
            }
            st.session
        };
        let is_process = path.is_empty();
        let handle = if is_process {
            dl::process()
        } else {
            dl::open(path, libc::RTLD_LAZY | libc::RTLD_GLOBAL)?
        };
        let id = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        let session = session.filter(|_| is_process);
        lock(&HANDLES).insert(
            id,
            Entry {
                handle,
                is_process,
                session,
            },
        );
        lock(&self.state).issued.push(id);
        Ok(ExecutorAddr(id))
    }

    /// Forgets every handle this manager issued.
    pub fn shutdown(&self) {
        let issued = {
            let mut st = lock(&self.state);
            st.shut_down = true;
            std::mem::take(&mut st.issued)
        };
        let mut map = lock(&HANDLES);
        for id in issued {
            map.remove(&id);
        }
    }
}

impl Default for DylibManager {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DylibManager {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Looks up each symbol in the library behind `handle`, one result per
/// input, in order:
///
/// - found (for a process handle first among its Session's host symbols
///   ([`DylibManager::serve_host_symbols_of`]), then the
///   [`override_process_symbol`] symbols, then by the loader, then among
///   the [`register_builtin_symbol`] symbols; the first miss loads
///   [`GLOBAL_RUNTIME_LIBRARIES`] and looks again): `Some{addr, Exported}`;
/// - missing and not required (weak): `Some{addr 0, Exported}`;
/// - missing and required: `None` (the controller reports it);
/// - empty name: `None` if not required, an error if required.
pub fn resolve(
    handle: ExecutorAddr,
    symbols: &[RemoteSymbolLookupSetElement],
) -> Result<Vec<Option<ExecutorSymbolDef>>, DylibError> {
    let entry = *lock(&HANDLES)
        .get(&handle.0)
        .ok_or(DylibError::BadHandle(handle.0))?;
    let mut out = Vec::with_capacity(symbols.len());
    for s in symbols {
        if s.name.is_empty() {
            if s.required {
                return Err(DylibError::EmptyRequired);
            }
            out.push(None);
            continue;
        }
        let def = |addr| ExecutorSymbolDef {
            addr: ExecutorAddr(addr),
            flags: jit_symbol_flags::EXPORTED,
            target_flags: 0,
        };
        let found = entry
            .session
            .and_then(|h| host_symbols::lookup(h, &s.name))
            .or_else(|| entry.is_process.then(|| override_symbol(&s.name)).flatten())
            .or_else(|| dl::symbol(entry.handle, &s.name))
            .or_else(|| entry.is_process.then(|| builtin_symbol(&s.name)).flatten())
            .or_else(|| {
                // Not in the global scope as it is: maybe in the C++
                // runtime, which is loaded on the first such miss.
                if load_global_runtime_libraries_once() {
                    dl::symbol(entry.handle, &s.name)
                } else {
                    None
                }
            });
        out.push(match found {
            Some(a) => Some(def(a)),
            None if s.required => None,
            None => Some(def(0)),
        });
    }
    Ok(out)
}

impl Service for DylibManager {
    fn on_detach(&self, on_complete: OnCompleteFn, _shutdown_requested: bool) {
        on_complete(Ok(()))
    }

    /// Invalidates this manager's handles (libraries stay loaded: JIT'd
    /// code may still reference them until the process exits).
    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        self.shutdown();
        on_complete(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_dispatcher::InPlaceTaskDispatcher;
    use std::sync::Arc;

    #[test]
    fn process_lookups_find_the_sessions_host_symbols_first() {
        extern "C" fn mine() -> i32 {
            7
        }
        let mine_addr = ExecutorAddr::from_fn_ptr(mine as *const ());
        let a = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
        let b = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
        // Even a name the loader knows.
        a.define_function("getpid", mine as extern "C" fn() -> _)
            .unwrap();
        let (ma, mb) = (DylibManager::new(), DylibManager::new());
        ma.serve_host_symbols_of(&a);
        mb.serve_host_symbols_of(&b);
        let look = |m: &DylibManager| {
            let h = m.open(b"", 0).unwrap();
            let el = RemoteSymbolLookupSetElement {
                name: "getpid".into(),
                required: true,
            };
            resolve(h, &[el]).unwrap()[0].unwrap().addr
        };
        assert_eq!(look(&ma), mine_addr);
        let libc_getpid = look(&mb);
        assert!(libc_getpid != mine_addr && !libc_getpid.is_null());
    }
}
