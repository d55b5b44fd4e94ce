//! LLVM 22's synchronous wrapper ABI, adapted in one place.
//!
//! LLVM 22 calls executor functions as `CWrapperFunctionBuffer fn(const char
//! *ArgData, size_t ArgSize)`: arguments lent for the call, result returned.
//! orc-rt's native ABI is asynchronous. This module is the only bridge.

use std::os::raw::c_char;

use crate::controller_access::SyncWrapperFunction;
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
