//! [`IncomingCall`]: the function a controller call targets, by calling
//! convention, and the one place that runs each convention.
//!
//! The controller names executor functions by address. What that address
//! is depends on who sent it: LLVM 22 calls functions with its synchronous
//! ABI ([`SyncWrapperFunction`]), a C host with orc-rt's native
//! asynchronous ABI ([`NativeWrapperFunction`]), and a Rust host with a
//! closure ([`BytesHandler`]). Turning an address into a function is the
//! one unchecked step: [`IncomingCall::sync_at`] and
//! [`IncomingCall::native_at`] are its only forms.
//!
//! ```
//! use orc_rt::wrapper_function::{bytes_handler, reply_channel, IncomingCall, Responder};
//! use orc_rt::wrapper_function::Handle;
//! use orc_rt::WrapperFunctionBuffer;
//!
//! let echo = IncomingCall::handler(bytes_handler(|args| Ok(args.to_vec())));
//! let (cb, pending) = reply_channel();
//! echo.run(Handle::from_raw(0), WrapperFunctionBuffer::from_slice(b"hi"), Responder::new(cb));
//! assert_eq!(pending.wait().as_slice(), Some(&b"hi"[..]));
//! ```

use std::fmt;

use super::handler::{sps_async_handler, sps_handler, BytesHandler, Responder, SpsResponder};
use super::native::{call_native, NativeWrapperFunction};
use super::sync_abi::{call_sync, SyncWrapperFunction};
use crate::handle::Handle;
use crate::sps::{SpsDeserialize, SpsSerialize};
use crate::{Error, ExecutorAddr, Result, WrapperFunctionBuffer};

/// The function an incoming controller call targets, by calling convention.
#[derive(Clone)]
pub enum IncomingCall {
    /// A native orc-rt wrapper function (asynchronous C ABI).
    Native(NativeWrapperFunction),
    /// An LLVM 22 synchronous-ABI wrapper function.
    Sync(SyncWrapperFunction),
    /// A Rust closure: argument bytes in, reply through the [`Responder`]
    /// now or later, from any thread.
    Handler(BytesHandler),
}

impl fmt::Debug for IncomingCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IncomingCall::Native(p) => write!(f, "Native({:#x})", *p as usize),
            IncomingCall::Sync(p) => write!(f, "Sync({:#x})", *p as usize),
            IncomingCall::Handler(_) => f.write_str("Handler(..)"),
        }
    }
}

impl IncomingCall {
    /// A call of a Rust closure (see [`crate::wrapper_function::bytes_handler`],
    /// [`crate::wrapper_function::sps_handler`],
    /// [`crate::wrapper_function::sps_async_handler`]).
    pub fn handler(h: BytesHandler) -> Self {
        IncomingCall::Handler(h)
    }

    /// The LLVM 22 synchronous-ABI function at `addr`. Refuses address 0
    /// (calling it would crash).
    ///
    /// # Safety
    /// A non-zero `addr` must be the address of a function with LLVM 22's
    /// synchronous wrapper ABI, for as long as the result may be run.
    pub unsafe fn sync_at(addr: ExecutorAddr) -> Result<Self> {
        // SAFETY: forwarded caller promise.
        Ok(IncomingCall::Sync(unsafe { sync_fn_at(addr) }?))
    }

    /// The native-ABI function at `addr`. Refuses address 0.
    ///
    /// # Safety
    /// A non-zero `addr` must be the address of a function with orc-rt's
    /// native wrapper ABI, for as long as the result may be run.
    pub unsafe fn native_at(addr: ExecutorAddr) -> Result<Self> {
        // SAFETY: forwarded caller promise.
        Ok(IncomingCall::Native(unsafe { native_fn_at(addr) }?))
    }

    /// Runs the call for the Session with handle `session` (the
    /// `orc_rt_SessionRef` native functions get) with `args`; the result
    /// goes to `responder`, exactly once. Synchronous functions and
    /// closures that reply at once complete before this returns; native
    /// functions and closures may reply later, from any thread.
    pub fn run(self, session: Handle, args: WrapperFunctionBuffer, responder: Responder) {
        // Host functions that JIT'd code calls find their Session.
        let _current = super::current::enter_call(session);
        match self {
            IncomingCall::Sync(f) => {
                let Some(bytes) = args.as_slice() else {
                    return responder.respond_error(
                        "incoming call: the argument buffer is an out-of-band error",
                    );
                };
                // SAFETY: `f` was made by `sync_at` (or given as a function
                // of that type), whose caller vouched for its ABI.
                let r = unsafe { call_sync(f, bytes) };
                responder.respond(r);
            }
            // SAFETY: as above, for the native ABI.
            IncomingCall::Native(f) => unsafe { call_native(f, session, args, responder) },
            IncomingCall::Handler(h) => {
                // A panicking closure drops its responder, which replies
                // with an out-of-band error; the panic stops here.
                let r = crate::error::catch_panic(|| h(args, responder));
                if let Err(p) = r {
                    super::native::report_to_session(
                        session,
                        Error::from_panic("wrapper function handler", p),
                    );
                }
            }
        }
    }
}

/// A wrapper function bound to its SPS signature: argument tuple `A`,
/// result `R`, like wasmtime's `TypedFunc`. Calls through it
/// ([`InProcessController::call_typed`](crate::controller_access::InProcessController::call_typed),
/// [`InProcessController::call_typed_blocking`](crate::controller_access::InProcessController::call_typed_blocking))
/// take `&A` and give `R`, so arguments of another signature are a compile
/// error instead of an undecodable buffer at run time.
///
/// Made from a Rust closure ([`TypedCall::handler`],
/// [`TypedCall::async_handler`]) the signature is the closure's own, checked
/// by the compiler end to end. Made from a function the compiler cannot see
/// ([`TypedCall::assume`]: a C or JIT'd function at an address) the
/// signature is the caller's claim; a wrong claim still fails only at run
/// time, when the bytes do not decode.
///
/// ```
/// use orc_rt::controller_access::InProcessController;
/// use orc_rt::session::Session;
/// use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
/// use orc_rt::wrapper_function::TypedCall;
/// use std::sync::Arc;
///
/// let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
/// let controller = InProcessController::new();
/// s.attach(controller.clone()).unwrap();
/// let add = TypedCall::handler(|(a, b): (i32, i32)| a + b);
/// assert_eq!(controller.call_typed_blocking(&add, &(40, 2)).unwrap(), 42);
/// # s.shutdown_and_wait().unwrap();
/// ```
///
/// Arguments of another signature do not compile:
///
/// ```compile_fail
/// # use orc_rt::controller_access::InProcessController;
/// # use orc_rt::wrapper_function::TypedCall;
/// let controller = InProcessController::new();
/// let add = TypedCall::handler(|(a, b): (i32, i32)| a + b);
/// let _ = controller.call_typed_blocking(&add, &("forty-two".to_string(),));
/// ```
pub struct TypedCall<A, R> {
    call: IncomingCall,
    signature: std::marker::PhantomData<fn(A) -> R>,
}

impl<A, R> TypedCall<A, R>
where
    A: SpsDeserialize + 'static,
    R: SpsSerialize + 'static,
{
    /// A Rust closure taking the decoded argument tuple and returning the
    /// result (see [`sps_handler`]).
    pub fn handler(f: impl Fn(A) -> R + Send + Sync + 'static) -> Self {
        Self::assume(IncomingCall::handler(sps_handler(f)))
    }

    /// A Rust closure replying through an [`SpsResponder`], now or later
    /// (see [`sps_async_handler`]).
    pub fn async_handler(f: impl Fn(A, SpsResponder<R>) + Send + Sync + 'static) -> Self {
        Self::assume(IncomingCall::handler(sps_async_handler(f)))
    }
}

impl<A, R> TypedCall<A, R> {
    /// Binds `call` to the signature `A -> R` on the caller's word: nothing
    /// can check that a function at an address has it, so a wrong
    /// signature shows only at run time (an out-of-band error saying the
    /// arguments, or a result error saying the result, did not decode).
    pub fn assume(call: IncomingCall) -> Self {
        TypedCall {
            call,
            signature: std::marker::PhantomData,
        }
    }

    /// The untyped call.
    pub fn call(&self) -> &IncomingCall {
        &self.call
    }

    /// The untyped call, consuming the binding.
    pub fn into_call(self) -> IncomingCall {
        self.call
    }
}

impl<A, R> Clone for TypedCall<A, R> {
    fn clone(&self) -> Self {
        Self::assume(self.call.clone())
    }
}

impl<A, R> fmt::Debug for TypedCall<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedCall")
            .field("args", &std::any::type_name::<A>())
            .field("result", &std::any::type_name::<R>())
            .field("call", &self.call)
            .finish()
    }
}

/// The LLVM 22 synchronous-ABI function at `addr`: the one cast from an
/// address to a wrapper function (with [`native_fn_at`]). Refuses 0.
///
/// # Safety
/// A non-zero `addr` must be the address of a function with LLVM 22's
/// synchronous wrapper ABI.
pub unsafe fn sync_fn_at(addr: ExecutorAddr) -> Result<SyncWrapperFunction> {
    let a = checked_code_address(addr)?;
    // SAFETY: non-null and of pointer size; the caller vouches for the ABI.
    Ok(unsafe { std::mem::transmute::<usize, SyncWrapperFunction>(a) })
}

/// The native-ABI function at `addr`. Refuses 0.
///
/// # Safety
/// A non-zero `addr` must be the address of a function with orc-rt's
/// native wrapper ABI.
pub unsafe fn native_fn_at(addr: ExecutorAddr) -> Result<NativeWrapperFunction> {
    let a = checked_code_address(addr)?;
    // SAFETY: non-null and of pointer size; the caller vouches for the ABI.
    Ok(unsafe { std::mem::transmute::<usize, NativeWrapperFunction>(a) })
}

fn checked_code_address(addr: ExecutorAddr) -> Result<usize> {
    if addr.0 == 0 {
        return Err(Error::msg("call to wrapper function at address 0"));
    }
    usize::try_from(addr.0).map_err(|_| {
        Error::msg(format!(
            "wrapper function address {:#x} out of range",
            addr.0
        ))
    })
}
