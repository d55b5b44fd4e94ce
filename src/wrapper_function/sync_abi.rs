//! LLVM 22's synchronous wrapper ABI, adapted in one place.
//!
//! LLVM 22 calls executor functions as `CWrapperFunctionBuffer fn(const char
//! *ArgData, size_t ArgSize)`: arguments lent for the call, result returned.
//! orc-rt's native ABI is asynchronous: a handler gets its decoded arguments
//! and a [`Responder`] to reply through, now or later. This module is the
//! only bridge: [`serve_sync`] runs such a handler as a synchronous call,
//! and `sync_wrapper!` (crate-private) stamps out the entry points.
//!
//! ```
//! use orc_rt::sps::{deserialize_all, serialize_to_vec};
//! use orc_rt::wrapper_function::sync_abi::{arg_bytes, call_sync, catch_to_buffer, serve_sync};
//! use orc_rt::wrapper_function::{orc_rt_WrapperFunctionBuffer, SpsResponder};
//! use std::os::raw::c_char;
//!
//! /// The handler: `uint64_t (uint64_t, uint64_t)`, failing on overflow.
//! fn add((a, b): (u64, u64), r: SpsResponder<u64>) {
//!     r.respond_or_fail(a.checked_add(b).ok_or("overflow"))
//! }
//!
//! /// Its entry point, with LLVM 22's synchronous ABI.
//! unsafe extern "C" fn add_wrapper(
//!     data: *const c_char,
//!     size: usize,
//! ) -> orc_rt_WrapperFunctionBuffer {
//!     catch_to_buffer("add_wrapper", || {
//!         // SAFETY: the caller lends `size` bytes at `data` for the call.
//!         let args = unsafe { arg_bytes(data, size) };
//!         serve_sync("add_wrapper", args, deserialize_all, add)
//!     })
//!     .into_raw()
//! }
//!
//! // SAFETY (all three calls): `add_wrapper` has the synchronous ABI.
//! let r = unsafe { call_sync(add_wrapper, &serialize_to_vec(&(40u64, 2u64))) };
//! assert_eq!(deserialize_all::<u64>(r.as_slice().unwrap()).unwrap(), 42);
//! let r = unsafe { call_sync(add_wrapper, &serialize_to_vec(&(u64::MAX, 1u64))) };
//! assert_eq!(
//!     r.out_of_band_error_message().unwrap().to_str(),
//!     Ok("add_wrapper: overflow")
//! );
//! let r = unsafe { call_sync(add_wrapper, b"short") };
//! assert!(r.is_out_of_band_error());
//! ```

use std::cell::RefCell;
use std::os::raw::c_char;
use std::sync::Arc;

use super::handler::{ReplySlot, Responder, SpsResponder};
use crate::sps::{deserialize_all, SpsError, SpsResult, SpsSerialize};
use crate::WrapperFunctionBuffer;

/// LLVM 22's synchronous wrapper ABI: `CWrapperFunctionBuffer fn(const char
/// *ArgData, size_t ArgSize)`. The arguments are lent for the call only; the
/// caller owns the result.
pub type SyncWrapperFunction = unsafe extern "C" fn(
    arg_data: *const c_char,
    arg_size: usize,
) -> super::orc_rt_WrapperFunctionBuffer;

/// Calls a synchronous-ABI wrapper function with `args` lent for the call
/// and takes ownership of its result.
///
/// # Safety
/// `f` must be a function with LLVM 22's synchronous wrapper ABI that returns
/// a valid, caller-owned `CWrapperFunctionBuffer` (arbitrary JIT'd code: the
/// caller vouches for the address).
pub unsafe fn call_sync(f: SyncWrapperFunction, args: &[u8]) -> WrapperFunctionBuffer {
    if crate::sys::crash::enabled() {
        // SAFETY: as below, through the trampoline.
        return unsafe { call_sync_recovering(f, args) };
    }
    // SAFETY: caller promise on `f`; args stays alive for the call.
    let raw = unsafe { f(args.as_ptr() as *const c_char, args.len()) };
    // SAFETY: the ABI hands the caller ownership of a malloc-backed buffer.
    unsafe { WrapperFunctionBuffer::from_raw(raw) }
}

/// [`call_sync`] with crash recovery on: through the trampoline, so that a
/// crash in the (JIT'd) function ends only this call, with an out-of-band
/// error naming it (also reported to the Session whose call this is).
///
/// # Safety
/// As for [`call_sync`].
unsafe fn call_sync_recovering(f: SyncWrapperFunction, args: &[u8]) -> WrapperFunctionBuffer {
    use crate::sys::jit_call;
    // SAFETY: caller promise on `f`; args stays alive for the call.
    let r = unsafe {
        jit_call::call_sync_wrapper(f as usize, args.as_ptr() as *const c_char, args.len())
    };
    match r {
        // SAFETY: the two words are the function's CWrapperFunctionBuffer
        // (its Data union, then Size), returned in rax:rdx; the ABI hands
        // the caller ownership of it.
        Ok([data, size]) => unsafe {
            WrapperFunctionBuffer::from_raw(super::orc_rt_WrapperFunctionBuffer {
                Data: super::buffer::orc_rt_WrapperFunctionBufferDataUnion {
                    ValuePtr: data as *mut c_char,
                },
                Size: size,
            })
        },
        Err(e) => {
            let e = crate::Error::msg(e.to_string());
            let msg = e.to_string();
            match super::current::current_call() {
                Some(h) => super::native::report_to_session(h, e),
                None => crate::error::report_unowned(e),
            }
            WrapperFunctionBuffer::out_of_band_error(&msg)
        }
    }
}

/// Borrows the argument bytes of a synchronous-ABI call.
///
/// `None` if `data` is NULL while `size` is not 0.
///
/// # Safety
/// If `data` is not NULL it must point at `size` readable bytes that stay
/// valid and unmodified for `'a` (the caller's promise under LLVM 22's ABI:
/// the arguments are lent for the duration of the call).
pub unsafe fn arg_bytes<'a>(data: *const c_char, size: usize) -> Option<&'a [u8]> {
    if size == 0 {
        return Some(&[]);
    }
    if data.is_null() {
        return None;
    }
    // SAFETY: caller promise: `size` readable bytes at `data`.
    Some(unsafe { std::slice::from_raw_parts(data as *const u8, size) })
}

/// Decodes the argument bytes of a call to `name` with `decode`; the error
/// is the out-of-band message LLVM's `WrapperFunction::handle` would give
/// ("could not deserialize arguments").
fn decode_args<'a, A>(
    name: &str,
    args: Option<&'a [u8]>,
    decode: impl FnOnce(&'a [u8]) -> Result<A, SpsError>,
) -> Result<A, WrapperFunctionBuffer> {
    let Some(bytes) = args else {
        return Err(WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: NULL argument data with a non-zero size"
        )));
    };
    decode(bytes).map_err(|e| {
        WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: could not deserialize arguments: {e}"
        ))
    })
}

thread_local! {
    /// Idle reply slots of this thread, reused so that a synchronous call
    /// allocates none (nested calls on one thread each take their own).
    static FREE_SLOTS: RefCell<Vec<Arc<ReplySlot>>> = const { RefCell::new(Vec::new()) };
}

/// At most this many idle slots are kept per thread.
const MAX_FREE_SLOTS: usize = 8;

fn take_slot() -> Arc<ReplySlot> {
    FREE_SLOTS
        .try_with(|f| f.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn recycle_slot(slot: Arc<ReplySlot>) {
    // A responder that has just delivered may still hold its reference for
    // a moment; such a slot is simply dropped.
    if Arc::strong_count(&slot) == 1 {
        let _ = FREE_SLOTS.try_with(|f| {
            let mut f = f.borrow_mut();
            if f.len() < MAX_FREE_SLOTS {
                f.push(slot);
            }
        });
    }
}

/// The one adapter from orc-rt's asynchronous handlers to LLVM 22's
/// synchronous ABI: decodes the arguments with `decode`, calls `handler`
/// with them and an [`SpsResponder`], and blocks until that responder has
/// replied; returns the reply.
///
/// * `decode` is the decoding strategy: [`deserialize_all`] for owned SPS
///   arguments, or a function that borrows bulk bytes from the argument
///   buffer (the arguments stay lent until the reply, so that is sound even
///   for a handler that replies later).
/// * Fallibility belongs to the handler: it replies with a value (errors it
///   can express travel in-band, e.g. `SpsExpected`), or with
///   [`SpsResponder::fail`] for an out-of-band error. A dropped responder
///   gives the out-of-band "dropped without a reply" error.
/// * Arguments that do not decode give an out-of-band error, as LLVM's
///   `WrapperFunction::handle` does.
///
/// A handler that replies before returning (every bootstrap handler) costs
/// no thread switch and no allocation: the reply goes to a reusable
/// per-thread [`ReplySlot`] that is checked before any wait.
pub fn serve_sync<'a, A, R>(
    name: &'static str,
    args: Option<&'a [u8]>,
    decode: impl FnOnce(&'a [u8]) -> Result<A, SpsError>,
    handler: impl FnOnce(A, SpsResponder<R>),
) -> WrapperFunctionBuffer
where
    R: SpsSerialize,
{
    let a = match decode_args(name, args, decode) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let slot = take_slot();
    handler(a, SpsResponder::new(Responder::to_slot(name, slot.clone())));
    let result = slot.wait_take();
    recycle_slot(slot);
    result
}

/// Serves an asynchronous call of the same handlers (orc-rt's native ABI,
/// or a Rust caller): decodes the arguments from `args` with `decode` (as
/// [`serve_sync`] does) and calls `handler` with them and `responder`,
/// which it may answer later from any thread. An out-of-band or
/// undecodable argument buffer is answered with an out-of-band error.
pub fn serve_async<'a, A, R>(
    name: &'static str,
    args: &'a WrapperFunctionBuffer,
    decode: impl FnOnce(&'a [u8]) -> Result<A, SpsError>,
    handler: impl FnOnce(A, SpsResponder<R>),
    responder: Responder,
) where
    R: SpsSerialize,
{
    let Some(bytes) = args.as_slice() else {
        let msg = args
            .out_of_band_error_message()
            .map(|m| m.to_string_lossy().into_owned())
            .unwrap_or_default();
        return responder.respond_error(&format!(
            "{name}: the argument buffer is an out-of-band error: {msg}"
        ));
    };
    match decode_args(name, Some(bytes), decode) {
        Ok(a) => handler(a, SpsResponder::new(responder)),
        Err(e) => responder.respond(e),
    }
}

/// Defines a function with LLVM 22's synchronous wrapper ABI
/// ([`SyncWrapperFunction`]) for an asynchronous SPS handler (a function
/// `fn(Args, SpsResponder<Ret>)`), through [`serve_sync`], with panics
/// caught at the boundary. This is the only place that generates such entry
/// points: each service's SPS binding (`crate::sps_ci`) invokes it once per
/// bootstrap symbol.
///
/// ```ignore
/// sync_wrapper! {
///     /// Doc.
///     pub fn reserve_wrapper = reserve;
/// }
/// ```
///
/// Arguments are decoded with [`deserialize_all`] as the handler's argument
/// type; with `= handler, decode path::to::fn`, by that function instead
/// (to borrow bulk bytes from the argument buffer).
macro_rules! sync_wrapper {
    (@decode) => { $crate::sps::deserialize_all };
    (@decode $dec:path) => { $dec };
    ($(#[$m:meta])* $vis:vis fn $name:ident = $handler:path $(, decode $dec:path)?;) => {
        $(#[$m])*
        ///
        /// LLVM 22 synchronous wrapper ABI: arguments lent for the call, the
        /// caller owns the returned buffer. Undecodable arguments give an
        /// out-of-band error.
        ///
        /// # Safety
        /// `arg_data` is NULL or points at `arg_size` readable bytes.
        $vis unsafe extern "C" fn $name(
            arg_data: *const ::std::os::raw::c_char,
            arg_size: usize,
        ) -> $crate::wrapper_function::orc_rt_WrapperFunctionBuffer {
            $crate::wrapper_function::sync_abi::catch_to_buffer(stringify!($name), || {
                // SAFETY: the caller's promise under LLVM 22's ABI.
                let args = unsafe { $crate::wrapper_function::sync_abi::arg_bytes(arg_data, arg_size) };
                $crate::wrapper_function::sync_abi::serve_sync(
                    stringify!($name),
                    args,
                    $crate::wrapper_function::sync_abi::sync_wrapper!(@decode $($dec)?),
                    $handler,
                )
            })
            .into_raw()
        }
    };
}
pub(crate) use sync_wrapper;

/// Runs `f` for a synchronous-ABI entry point named `name`: its result, or
/// an out-of-band error if it panicked (no panic leaves an entry point).
pub fn catch_to_buffer(
    name: &str,
    f: impl FnOnce() -> WrapperFunctionBuffer,
) -> WrapperFunctionBuffer {
    crate::error::catch_panic(f).unwrap_or_else(|p| {
        WrapperFunctionBuffer::out_of_band_error(&crate::Error::from_panic(name, p).to_string())
    })
}

/// Why a synchronous call expected to return an `SPSError` failed.
#[derive(Debug, thiserror::Error)]
pub enum SpsErrorCallError {
    /// The function returned an error in-band (its `SPSError` message).
    #[error("{0}")]
    InBand(String),
    /// The function returned an out-of-band error.
    #[error("{0}")]
    OutOfBand(String),
    /// The result was not an `SPSError`.
    #[error(
        "could not deserialize the SPSError result of the wrapper function at {addr:#x}: {source}"
    )]
    BadResult {
        /// The function's address.
        addr: usize,
        /// The decoding failure.
        #[source]
        source: SpsError,
    },
}

/// Runs a synchronous-ABI wrapper function expected to return an `SPSError`
/// (allocation actions): `Ok` on success; `Err` with the in-band message,
/// the out-of-band message, or a decoding failure.
///
/// # Safety
/// As for [`call_sync`].
pub unsafe fn call_sync_sps_error(
    f: SyncWrapperFunction,
    args: &[u8],
) -> Result<(), SpsErrorCallError> {
    // SAFETY: forwarded caller promise.
    let result = unsafe { call_sync(f, args) };
    if let Some(m) = result.out_of_band_error_message() {
        return Err(SpsErrorCallError::OutOfBand(
            m.to_string_lossy().into_owned(),
        ));
    }
    let bytes = result.as_slice().unwrap_or(&[]);
    match deserialize_all::<SpsResult>(bytes) {
        Ok(r) => r.map_err(SpsErrorCallError::InBand),
        Err(source) => Err(SpsErrorCallError::BadResult {
            addr: f as usize,
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sps::serialize_to_vec;
    use std::time::Duration;

    fn oob(b: &WrapperFunctionBuffer) -> String {
        b.out_of_band_error_message()
            .expect("an out-of-band error")
            .to_string_lossy()
            .into_owned()
    }

    fn value<R: crate::sps::SpsDeserialize>(b: &WrapperFunctionBuffer) -> R {
        deserialize_all(b.as_slice().expect("a value")).unwrap()
    }

    /// Adds its two arguments; replies before returning.
    fn add((a, b): (u32, u32), r: SpsResponder<u64>) {
        r.respond(&(u64::from(a) + u64::from(b)))
    }

    #[test]
    fn replies_before_returning_reuse_the_threads_slot() {
        let args = serialize_to_vec(&(40u32, 2u32));
        let r = serve_sync("add", Some(&args), deserialize_all, add);
        assert_eq!(value::<u64>(&r), 42);
        let first = FREE_SLOTS.with(|f| f.borrow().last().map(Arc::as_ptr));
        assert!(first.is_some(), "the slot went back to the pool");
        let r = serve_sync("add", Some(&args), deserialize_all, add);
        assert_eq!(value::<u64>(&r), 42);
        let again = FREE_SLOTS.with(|f| f.borrow().last().map(Arc::as_ptr));
        assert_eq!(first, again, "the same slot serves the next call");
    }

    #[test]
    fn blocks_until_a_later_reply_from_another_thread() {
        let args = serialize_to_vec(&(5u32,));
        let r = serve_sync("later", Some(&args), deserialize_all, |(x,): (u32,), r| {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                r.respond(&(x * 2));
            });
        });
        assert_eq!(value::<u32>(&r), 10);
    }

    #[test]
    fn errors_are_out_of_band_and_named() {
        let args = serialize_to_vec(&(1u32,));
        let r = serve_sync::<_, u32>("fails", Some(&args), deserialize_all, |(_,): (u32,), r| {
            r.fail("no such thing")
        });
        assert_eq!(oob(&r), "fails: no such thing");
        let r = serve_sync::<_, u32>(
            "forgets",
            Some(&args),
            deserialize_all,
            |(_,): (u32,), r| drop(r),
        );
        assert!(
            oob(&r).starts_with("forgets dropped without a reply"),
            "{}",
            oob(&r)
        );
        let r = serve_sync("add", Some(&[1, 2, 3]), deserialize_all, add);
        assert!(
            oob(&r).starts_with("add: could not deserialize arguments: "),
            "{}",
            oob(&r)
        );
        let r = serve_sync("add", None, deserialize_all, add);
        assert_eq!(oob(&r), "add: NULL argument data with a non-zero size");
    }

    #[test]
    fn nested_calls_on_one_thread_each_get_their_own_slot() {
        fn outer((depth,): (u32,), r: SpsResponder<u32>) {
            if depth == 0 {
                return r.respond(&0);
            }
            let args = serialize_to_vec(&(depth - 1,));
            let inner = serve_sync("outer", Some(&args), deserialize_all, outer);
            r.respond(&(value::<u32>(&inner) + 1))
        }
        let args = serialize_to_vec(&(12u32,));
        let r = serve_sync("outer", Some(&args), deserialize_all, outer);
        assert_eq!(value::<u32>(&r), 12);
    }

    #[test]
    fn custom_decoders_borrow_from_the_arguments() {
        fn first_byte(bytes: &[u8]) -> Result<&[u8], SpsError> {
            Ok(&bytes[..1.min(bytes.len())])
        }
        let r = serve_sync("first", Some(b"xyz"), first_byte, |b: &[u8], r| {
            r.respond(&b.to_vec())
        });
        assert_eq!(value::<Vec<u8>>(&r), b"x");
    }

    #[test]
    fn serve_async_hands_the_responder_to_the_handler() {
        let (cb, pending) = super::super::handler::reply_channel();
        let args = WrapperFunctionBuffer::from_slice(&serialize_to_vec(&(1u32, 2u32)));
        serve_async("add", &args, deserialize_all, add, Responder::new(cb));
        assert_eq!(value::<u64>(&pending.wait()), 3);
        let (cb, pending) = super::super::handler::reply_channel();
        let bad = WrapperFunctionBuffer::out_of_band_error("upstream");
        serve_async("add", &bad, deserialize_all, add, Responder::new(cb));
        assert_eq!(
            oob(&pending.wait()),
            "add: the argument buffer is an out-of-band error: upstream"
        );
    }
}
