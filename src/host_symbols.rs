//! Host symbols: functions (and data) of the host program that a Session
//! offers to the code it JIT-links, by name, as wasmtime's
//! `Linker::func_wrap` offers host functions to wasm.
//!
//! When the controller's linker looks names up in the executor's process
//! (LLVM's `EPCDynamicLibrarySearchGenerator`, behind every
//! `llvm-jitlink` and `clang-repl`), a Session's host symbols are found
//! first, before the process's own symbols. Nothing is exported from the
//! executable and no global is needed: each Session has its own table.
//!
//! Host functions are plain `extern "C" fn` items whose parameter and
//! result types are C types ([`CType`]), registered with
//! [`Session::define_function`]. They reach the host's state through the
//! Session's context ([`Session::set_context`] / [`Session::context`]) and
//! [`Session::current`], the Session on whose behalf the calling thread
//! runs a controller call (JIT'd `main`, initialisers...). A string that
//! JIT'd code passes arrives as a [`JitCStr`], read with checked copies.
//!
//! ```
//! use orc_rt::host_symbols::JitCStr;
//! use orc_rt::session::Session;
//! use orc_rt::task_dispatcher::InPlaceTaskDispatcher;
//! use std::sync::{Arc, Mutex};
//!
//! struct Log(Mutex<Vec<String>>);
//!
//! extern "C" fn host_add(a: i32, b: i32) -> i32 {
//!     a.wrapping_add(b)
//! }
//! extern "C" fn host_log(msg: JitCStr) {
//!     let Some(session) = Session::current() else { return };
//!     if let Some(log) = session.context::<Log>() {
//!         log.0.lock().unwrap().push(msg.to_string_lossy());
//!     }
//! }
//!
//! let session = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
//! session.set_context(Arc::new(Log(Mutex::new(Vec::new()))));
//! session.define_function("host_add", host_add as extern "C" fn(_, _) -> _).unwrap();
//! session.define_function("host_log", host_log as extern "C" fn(_)).unwrap();
//! assert!(session.host_symbol("host_add").is_some());
//! assert!(session.host_symbol("host_sub").is_none());
//! // Outside a controller call there is no current Session.
//! assert!(Session::current().is_none());
//! assert!(session.define_function("", host_add as extern "C" fn(_, _) -> _).is_err());
//! ```

use std::any::Any;
use std::collections::BTreeMap;
use std::os::raw::c_char;
use std::sync::{Arc, Mutex};

use crate::handle::Handle;
use crate::session::Session;
use crate::sync::lock;
use crate::wrapper_function::current::current_call;
use crate::{Error, ExecutorAddr, Result};

/// The host symbols and context of one Session.
#[derive(Default)]
pub(crate) struct HostSymbols {
    symbols: Mutex<BTreeMap<String, u64>>,
    context: Mutex<Option<Arc<dyn Any + Send + Sync>>>,
}

/// Every Session's host symbols, by Session handle. An entry whose Session
/// is gone is dropped by the next insertion (handles are never reused, so
/// a stale entry is never found by a new Session).
static TABLES: Mutex<BTreeMap<Handle, Arc<HostSymbols>>> = Mutex::new(BTreeMap::new());

/// The host symbols of the Session with handle `h`, created on demand.
fn table(h: Handle) -> Arc<HostSymbols> {
    let mut t = lock(&TABLES);
    if let Some(s) = t.get(&h) {
        return s.clone();
    }
    t.retain(|k, _| Session::from_handle(*k).is_some());
    t.entry(h).or_default().clone()
}

/// The host symbol `name` of the Session with handle `h`, if any (the
/// dylib manager's process lookups ask this first).
pub(crate) fn lookup(h: Handle, name: &str) -> Option<u64> {
    let t = lock(&TABLES).get(&h).cloned()?;
    let found = lock(&t.symbols).get(name).copied();
    found
}

/// A type that may cross the C ABI between JIT'd code and a host
/// function: integers, floats, `bool`, `()` (as a result), raw pointers
/// and [`JitCStr`]. Sealed.
pub trait CType: sealed::Sealed + 'static {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! c_types {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl CType for $t {}
    )*};
}
c_types!(
    i8,
    u8,
    i16,
    u16,
    i32,
    u32,
    i64,
    u64,
    isize,
    usize,
    f32,
    f64,
    bool,
    (),
    JitCStr
);

impl<T: 'static> sealed::Sealed for *const T {}
impl<T: 'static> CType for *const T {}
impl<T: 'static> sealed::Sealed for *mut T {}
impl<T: 'static> CType for *mut T {}

/// An `extern "C" fn` pointer with C-type parameters and result: what
/// [`Session::define_function`] accepts. Implemented for up to 8
/// parameters; pass a function item as `f as extern "C" fn(_, _) -> _`.
pub trait HostFunction: Copy + Send + Sync + 'static {
    /// The function's address.
    fn addr(self) -> ExecutorAddr;
}

macro_rules! host_functions {
    ($($a:ident),*) => {
        impl<R: CType $(, $a: CType)*> HostFunction for extern "C" fn($($a),*) -> R {
            fn addr(self) -> ExecutorAddr {
                ExecutorAddr::from_fn_ptr(self as *const ())
            }
        }
    };
}
host_functions!();
host_functions!(A1);
host_functions!(A1, A2);
host_functions!(A1, A2, A3);
host_functions!(A1, A2, A3, A4);
host_functions!(A1, A2, A3, A4, A5);
host_functions!(A1, A2, A3, A4, A5, A6);
host_functions!(A1, A2, A3, A4, A5, A6, A7);
host_functions!(A1, A2, A3, A4, A5, A6, A7, A8);

/// A `const char *` passed by JIT'd code. Reading it never crashes: the
/// bytes are copied with the kernel's checked copies, so a bad pointer
/// reads as an error instead.
///
/// It is passed exactly as a `const char *` is (one integer register): the
/// address is kept as an integer, which is all reading it needs.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitCStr(usize);

impl JitCStr {
    /// The string a pointer points at (a test or a Rust caller's way to
    /// make one).
    pub fn new(p: *const c_char) -> Self {
        JitCStr(p as usize)
    }

    /// Whether the pointer is NULL.
    pub fn is_null(&self) -> bool {
        self.0 == 0
    }

    /// The bytes up to the NUL; an error if the pointer is NULL or points
    /// at memory that cannot be read.
    pub fn to_bytes(&self) -> std::io::Result<Vec<u8>> {
        if self.is_null() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "NULL string",
            ));
        }
        crate::sys::mem::read_c_string(self.0 as u64)
    }

    /// The string, with invalid UTF-8 replaced; `"(null)"` for NULL and
    /// `"(unreadable)"` for an address that cannot be read.
    pub fn to_string_lossy(&self) -> String {
        match self.to_bytes() {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(_) if self.is_null() => "(null)".into(),
            Err(_) => "(unreadable)".into(),
        }
    }
}

/// Host symbols of a Session.
impl Session {
    /// Defines `name` as host function `f` for code this Session links
    /// (see the module docs): the controller's lookups of `name` in the
    /// executor's process find it first. Redefining a name replaces it.
    /// Fails on an empty name or one with a NUL byte.
    ///
    /// Safe: registering a function pointer runs nothing. JIT'd code that
    /// calls it with other types than its own is the controller's doing,
    /// as everything JIT'd code does in this process is.
    pub fn define_function(&self, name: &str, f: impl HostFunction) -> Result<()> {
        self.define_at(name, f.addr())
    }

    /// Defines `name` as an arbitrary address (data, or a function of
    /// another ABI), as [`Session::define_function`] does.
    ///
    /// # Safety
    ///
    /// JIT'd code that links against `name` reads, writes or jumps to
    /// `addr` as its declaration of `name` says: the caller promises that
    /// `addr` is valid for that, for as long as such code may run.
    pub unsafe fn define_symbol(&self, name: &str, addr: ExecutorAddr) -> Result<()> {
        self.define_at(name, addr)
    }

    fn define_at(&self, name: &str, addr: ExecutorAddr) -> Result<()> {
        if name.is_empty() || name.contains('\0') {
            return Err(Error::msg(format!(
                "cannot define host symbol {name:?}: empty or contains NUL"
            )));
        }
        let t = table(self.handle());
        lock(&t.symbols).insert(name.to_string(), addr.0);
        Ok(())
    }

    /// The address host symbol `name` is defined as, if it is.
    pub fn host_symbol(&self, name: &str) -> Option<ExecutorAddr> {
        lookup(self.handle(), name).map(ExecutorAddr)
    }

    /// Sets the Session's context: host state that host functions (and
    /// handlers) reach through [`Session::context`]. Replaces any earlier
    /// context.
    pub fn set_context(&self, ctx: Arc<dyn Any + Send + Sync>) {
        *lock(&table(self.handle()).context) = Some(ctx);
    }

    /// The Session's context, if one of type `T` was set.
    pub fn context<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.context_any()?.downcast::<T>().ok()
    }

    /// The Session's context, whatever its type.
    pub fn context_any(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        let t = lock(&TABLES).get(&self.handle()).cloned()?;
        let c = lock(&t.context).clone();
        c
    }

    /// The Session whose controller call the calling thread is running
    /// (JIT'd code run as `main`, as a function, or as a wrapper or
    /// allocation action, and what it calls); `None` on other threads,
    /// among them threads that JIT'd code starts itself.
    pub fn current() -> Option<Arc<Session>> {
        Session::from_handle(current_call()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_dispatcher::InPlaceTaskDispatcher;
    use crate::wrapper_function::{bytes_handler, reply_channel, IncomingCall, Responder};
    use crate::WrapperFunctionBuffer;

    #[test]
    fn the_current_session_is_the_callers() {
        let s = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
        s.set_context(Arc::new(41u32));
        let call = IncomingCall::handler(bytes_handler(|_| {
            let ctx = Session::current().and_then(|s| s.context::<u32>());
            Ok(vec![ctx.map_or(0, |c| *c as u8 + 1)])
        }));
        let (cb, pending) = reply_channel();
        call.run(
            s.handle(),
            WrapperFunctionBuffer::from_slice(b""),
            Responder::new(cb),
        );
        assert_eq!(pending.wait().as_slice(), Some(&[42u8][..]));
        assert!(Session::current().is_none(), "restored after the call");
        // A context of another type is not handed out as this one.
        assert!(s.context::<String>().is_none());
    }

    #[test]
    fn each_session_has_its_own_symbols() {
        extern "C" fn one() -> i32 {
            1
        }
        let a = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
        let b = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
        a.define_function("orc_rt_test_host_one", one as extern "C" fn() -> _)
            .unwrap();
        assert_eq!(
            a.host_symbol("orc_rt_test_host_one"),
            Some(ExecutorAddr::from_fn_ptr(one as *const ()))
        );
        assert_eq!(b.host_symbol("orc_rt_test_host_one"), None);
        assert!(a
            .define_function("a\0b", one as extern "C" fn() -> _)
            .is_err());
        let h = a.handle();
        drop(a);
        // A dropped Session's table goes with the next definition.
        b.define_function("orc_rt_test_host_two", one as extern "C" fn() -> _)
            .unwrap();
        assert!(!lock(&TABLES).contains_key(&h));
    }

    #[test]
    fn strings_from_jit_code_are_read_safely() {
        assert_eq!(JitCStr::new(c"hi".as_ptr()).to_string_lossy(), "hi");
        assert_eq!(JitCStr::new(std::ptr::null()).to_string_lossy(), "(null)");
        assert_eq!(
            JitCStr::new(8 as *const c_char).to_string_lossy(),
            "(unreadable)"
        );
    }
}
