//! LLVM 22's synchronous wrapper ABI, adapted in one place.
//!
//! LLVM 22 calls executor functions as `CWrapperFunctionBuffer fn(const char
//! *ArgData, size_t ArgSize)`: arguments lent for the call, result returned.
//! orc-rt's native ABI is asynchronous. This module is the only bridge.

use std::os::raw::c_char;

use crate::controller_access::SyncWrapperFunction;
use crate::sps::{deserialize_all, serialize_to_buffer, SpsDeserialize, SpsResult, SpsSerialize};
use crate::WrapperFunctionBuffer;

/// Calls a synchronous-ABI wrapper function with `args` lent for the call
/// and takes ownership of its result.
///
/// # Safety
/// `f` must be a function with LLVM 22's synchronous wrapper ABI that returns
/// a valid, caller-owned `CWrapperFunctionBuffer` (arbitrary JIT'd code: the
/// caller vouches for the address).
pub unsafe fn call_sync(f: SyncWrapperFunction, args: &[u8]) -> WrapperFunctionBuffer {
    // SAFETY: caller promise on `f`; args stays alive for the call.
    let raw = unsafe { f(args.as_ptr() as *const c_char, args.len()) };
    // SAFETY: the ABI hands the caller ownership of a malloc-backed buffer.
    unsafe { WrapperFunctionBuffer::from_raw(raw) }
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

/// Runs an SPS-typed handler on synchronous-ABI argument bytes: decodes the
/// arguments as `A` (all bytes must be used), calls `handler`, encodes its
/// `R` result.
///
/// Arguments that do not decode give an **out-of-band** error buffer, as
/// LLVM's `WrapperFunction::handle` does ("could not deserialize
/// arguments"); errors the handler can express travel in-band in `R`
/// (`SpsResult`, `SpsExpected<T>`).
pub fn handle_sync<A, R, F>(name: &str, args: Option<&[u8]>, handler: F) -> WrapperFunctionBuffer
where
    A: SpsDeserialize,
    R: SpsSerialize,
    F: FnOnce(A) -> R,
{
    let Some(bytes) = args else {
        return WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: NULL argument data with a non-zero size"
        ));
    };
    match deserialize_all::<A>(bytes) {
        Ok(a) => serialize_to_buffer(&handler(a)),
        Err(e) => WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: could not deserialize arguments: {e}"
        )),
    }
}

/// Like [`handle_sync`] with a custom decoder, for arguments decoded in
/// place (borrowing bulk bytes from the argument buffer instead of copying
/// them).
pub fn handle_sync_with<'a, A, R, D, F>(
    name: &str,
    args: Option<&'a [u8]>,
    decode: D,
    handler: F,
) -> WrapperFunctionBuffer
where
    R: SpsSerialize,
    D: FnOnce(&'a [u8]) -> Result<A, crate::sps::SpsError>,
    F: FnOnce(A) -> R,
{
    let Some(bytes) = args else {
        return WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: NULL argument data with a non-zero size"
        ));
    };
    match decode(bytes) {
        Ok(a) => serialize_to_buffer(&handler(a)),
        Err(e) => WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: could not deserialize arguments: {e}"
        )),
    }
}

/// [`handle_sync_with`] for a handler returning `Result<R, String>`: `Err`
/// becomes an out-of-band error.
pub fn handle_sync_with_fallible<'a, A, R, D, F>(
    name: &str,
    args: Option<&'a [u8]>,
    decode: D,
    handler: F,
) -> WrapperFunctionBuffer
where
    R: SpsSerialize,
    D: FnOnce(&'a [u8]) -> Result<A, crate::sps::SpsError>,
    F: FnOnce(A) -> Result<R, String>,
{
    let Some(bytes) = args else {
        return WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: NULL argument data with a non-zero size"
        ));
    };
    match decode(bytes) {
        Ok(a) => match handler(a) {
            Ok(r) => serialize_to_buffer(&r),
            Err(e) => WrapperFunctionBuffer::out_of_band_error(&format!("{name}: {e}")),
        },
        Err(e) => WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: could not deserialize arguments: {e}"
        )),
    }
}

/// Like [`handle_sync`] for handlers whose result type has no error case
/// (e.g. `SPSEmpty`, `int64`): `Err(msg)` becomes an out-of-band error.
pub fn handle_sync_fallible<A, R, F>(
    name: &str,
    args: Option<&[u8]>,
    handler: F,
) -> WrapperFunctionBuffer
where
    A: SpsDeserialize,
    R: SpsSerialize,
    F: FnOnce(A) -> Result<R, String>,
{
    let Some(bytes) = args else {
        return WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: NULL argument data with a non-zero size"
        ));
    };
    match deserialize_all::<A>(bytes) {
        Ok(a) => match handler(a) {
            Ok(r) => serialize_to_buffer(&r),
            Err(e) => WrapperFunctionBuffer::out_of_band_error(&format!("{name}: {e}")),
        },
        Err(e) => WrapperFunctionBuffer::out_of_band_error(&format!(
            "{name}: could not deserialize arguments: {e}"
        )),
    }
}

/// Defines a function with LLVM 22's synchronous wrapper ABI
/// ([`SyncWrapperFunction`]) whose body decodes the arguments as `$args`,
/// runs `$handler` (an `FnOnce($args) -> $ret`) and encodes the result, with
/// panics caught at the boundary. This is the only place that generates
/// such entry points: each service's SPS binding (`crate::sps_ci`) invokes
/// it once per bootstrap symbol.
///
/// ```ignore
/// sync_wrapper! {
///     /// Doc.
///     pub fn reserve_wrapper((ExecutorAddr, u64)) -> SpsExpected<ExecutorAddr> =
///         |(instance, size)| ...;
/// }
/// ```
///
/// With `(decode path::to::fn)` instead of an argument type, arguments are
/// decoded by that function ([`handle_sync_with`]).
///
/// With `=?` instead of `=`, the handler returns `Result<$ret, String>` and
/// `Err` becomes an out-of-band error ([`handle_sync_fallible`]).
macro_rules! sync_wrapper {
    ($(#[$m:meta])* $vis:vis fn $name:ident(decode $dec:path) -> $ret:ty =? $handler:expr;) => {
        $crate::wrapper_function::sync_abi::sync_wrapper!(@dec $(#[$m])* $vis fn $name, handle_sync_with_fallible, $dec, $ret, $handler);
    };
    ($(#[$m:meta])* $vis:vis fn $name:ident(decode $dec:path) -> $ret:ty = $handler:expr;) => {
        $crate::wrapper_function::sync_abi::sync_wrapper!(@dec $(#[$m])* $vis fn $name, handle_sync_with, $dec, $ret, $handler);
    };
    (@dec $(#[$m:meta])* $vis:vis fn $name:ident, $how:ident, $dec:path, $ret:ty, $handler:expr) => {
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
            $crate::ffi::panic::ffi_boundary!("sync_abi wrapper", {
                // SAFETY: the caller's promise under LLVM 22's ABI.
                let args = unsafe { $crate::wrapper_function::sync_abi::arg_bytes(arg_data, arg_size) };
                $crate::wrapper_function::sync_abi::$how::<_, $ret, _, _>(
                    stringify!($name),
                    args,
                    $dec,
                    $handler,
                )
                .into_raw()
            })
        }
    };
    ($(#[$m:meta])* $vis:vis fn $name:ident($args:ty) -> $ret:ty =? $handler:expr;) => {
        $crate::wrapper_function::sync_abi::sync_wrapper!(@def $(#[$m])* $vis fn $name, handle_sync_fallible, $args, $ret, $handler);
    };
    ($(#[$m:meta])* $vis:vis fn $name:ident($args:ty) -> $ret:ty = $handler:expr;) => {
        $crate::wrapper_function::sync_abi::sync_wrapper!(@def $(#[$m])* $vis fn $name, handle_sync, $args, $ret, $handler);
    };
    (@def $(#[$m:meta])* $vis:vis fn $name:ident, $how:ident, $args:ty, $ret:ty, $handler:expr) => {
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
            $crate::ffi::panic::ffi_boundary!("sync_abi wrapper", {
                // SAFETY: the caller's promise under LLVM 22's ABI.
                let args = unsafe { $crate::wrapper_function::sync_abi::arg_bytes(arg_data, arg_size) };
                $crate::wrapper_function::sync_abi::$how::<$args, $ret, _>(
                    stringify!($name),
                    args,
                    $handler,
                )
                .into_raw()
            })
        }
    };
}
pub(crate) use sync_wrapper;

/// Runs a synchronous-ABI wrapper function expected to return an `SPSError`
/// (allocation actions): `Ok` on success; `Err` with the in-band message,
/// the out-of-band message, or a decoding failure.
///
/// # Safety
/// As for [`call_sync`].
pub unsafe fn call_sync_sps_error(f: SyncWrapperFunction, args: &[u8]) -> Result<(), String> {
    // SAFETY: forwarded caller promise.
    let result = unsafe { call_sync(f, args) };
    if let Some(m) = result.out_of_band_error_message() {
        return Err(m.to_string_lossy().into_owned());
    }
    let bytes = result.as_slice().unwrap_or(&[]);
    match deserialize_all::<SpsResult>(bytes) {
        Ok(r) => r,
        Err(e) => Err(format!(
            "could not deserialize the SPSError result of the wrapper function at {:#x}: {e}",
            f as usize
        )),
    }
}
