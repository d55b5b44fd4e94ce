//! C API for the SimpleRemoteEPC controller access, and the
//! `__llvm_orc_SimpleRemoteEPC_dispatch_fn` entry point JIT'd code calls.

use std::os::raw::{c_char, c_void};

use super::panic::ffi_boundary;
use crate::simple_remote_epc::jit_dispatch;
use crate::wrapper_function::orc_rt_WrapperFunctionBuffer;
use crate::WrapperFunctionBuffer;

/// `__llvm_orc_SimpleRemoteEPC_dispatch_fn`: LLVM 22's JIT dispatch entry
/// (`CWrapperFunctionBuffer (void *Ctx, const void *Tag, const char *Data,
/// size_t Size)`). Not exported by name: its address travels in Setup.
///
/// Blocks the calling thread until the controller answers. `Ctx` is only
/// compared against live dispatch contexts, never dereferenced.
///
/// # Safety
/// `Data` points at `Size` readable bytes (or `Size` is 0).
unsafe extern "C" fn simple_remote_epc_dispatch_fn(
    Ctx: *mut c_void,
    Tag: *const c_void,
    Data: *const c_char,
    Size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    ffi_boundary!("__llvm_orc_SimpleRemoteEPC_dispatch_fn", {
        let args: &[u8] = if Size == 0 {
            &[]
        } else if Data.is_null() {
            return WrapperFunctionBuffer::out_of_band_error(
                "jit_dispatch: NULL argument data with a non-zero size",
            )
            .into_raw();
        } else {
            // SAFETY: caller promise: Data points at Size readable bytes,
            // lent for the duration of this call.
            unsafe { std::slice::from_raw_parts(Data as *const u8, Size) }
        };
        jit_dispatch(Ctx as usize as u64, Tag as usize as u64, args).into_raw()
    })
}

/// Address of the dispatch entry, announced as
/// `__llvm_orc_SimpleRemoteEPC_dispatch_fn` in Setup.
pub fn dispatch_fn_address() -> u64 {
    simple_remote_epc_dispatch_fn as *const () as usize as u64
}
