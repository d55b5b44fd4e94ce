//! C API for the Session: `orc_rt_Session_*`.

use super::panic::ffi_boundary;
use crate::ffi::wrapper_function::orc_rt_SessionRef;
use crate::wrapper_function::{orc_rt_WrapperFunctionBuffer, WrapperFunctionBuffer};

/// The `orc_rt_WrapperFunctionReturn` the Session passes to native wrapper
/// functions: routes `ResultBytes` (owned) to the pending call `CallId` of
/// Session `S`. A second return for the same call, or an unknown Session, is
/// reported and the buffer freed.
///
/// # Safety
/// `ResultBytes` must be a valid buffer owned by the caller.
pub(crate) unsafe extern "C" fn native_return_trampoline(
    S: orc_rt_SessionRef,
    CallId: u64,
    ResultBytes: orc_rt_WrapperFunctionBuffer,
) {
    ffi_boundary!("orc_rt_WrapperFunctionReturn", {
        // SAFETY: caller promise: ResultBytes is valid and now ours.
        let result = unsafe { WrapperFunctionBuffer::from_raw(ResultBytes) };
        crate::session::complete_native_call(S, CallId, result);
    })
}
