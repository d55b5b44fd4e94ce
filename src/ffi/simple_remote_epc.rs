//! C API for the SimpleRemoteEPC controller access, and the
//! `__llvm_orc_SimpleRemoteEPC_dispatch_fn` entry point JIT'd code calls.

use std::os::raw::{c_char, c_int, c_void};

use super::error::{error_to_ref, orc_rt_ErrorRef, result_to_ref};
use super::panic::ffi_boundary;
use super::wrapper_function::orc_rt_SessionRef;
use crate::sps_ci::bootstrap::add_bootstrap_services;
use crate::session::Session;
use crate::simple_remote_epc::{jit_dispatch, SimpleRemoteEpcControllerAccess, Transport};
use crate::wrapper_function::orc_rt_WrapperFunctionBuffer;
use crate::{Error, WrapperFunctionBuffer};

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

/// Attaches an LLVM 22 SimpleRemoteEPC controller reachable through file
/// descriptors `InFD` (read) and `OutFD` (write) to Session `S`: adds the
/// bootstrap services (dylib manager, memory managers, memory access,
/// run-as-main...), sends the Setup message and starts serving the
/// controller on a reader thread. This is what `llvm-jitlink-executor`
/// does with `filedescs=<InFD>,<OutFD>`. `InFD` and `OutFD` may be equal
/// (one socket).
///
/// Create the Session with `orc_rt_GrowingThreadPoolTaskDispatcher_create`:
/// incoming calls nest without limit, so a fixed pool can deadlock, and
/// threads that ran JIT'd code should not exit before the process does.
///
/// On success the Session owns both descriptors and closes them when the
/// connection ends. The call returns at once; wait for the controller to
/// go away with `orc_rt_Session_waitForDetach`, then destroy the Session.
/// A protocol error that ends the connection is reported through the
/// Session's error reporter. With pipes, the host should ignore SIGPIPE
/// (writes to a socket never raise it).
///
/// Returns an error if `S` is not a live Session or a descriptor is not
/// open (the descriptors are then left alone), or if the Session cannot
/// take more services or already has a controller (the descriptors,
/// already taken over, are then closed). Any thread; do not race it with
/// `orc_rt_Session_shutdown`.
#[no_mangle]
pub extern "C" fn orc_rt_Session_attachSimpleRemoteEPC(
    S: orc_rt_SessionRef,
    InFD: c_int,
    OutFD: c_int,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_attachSimpleRemoteEPC", {
        let Some(session) = Session::from_session_ref(S) else {
            return error_to_ref(Error::msg(
                "orc_rt_Session_attachSimpleRemoteEPC: not a live Session",
            ));
        };
        if InFD < 0 || OutFD < 0 {
            return error_to_ref(Error::msg(format!(
                "orc_rt_Session_attachSimpleRemoteEPC: invalid file descriptors {InFD}, {OutFD}"
            )));
        }
        // SAFETY: the caller hands both descriptors to the Session (see the
        // documented ownership transfer); they are validated first.
        let transport = match unsafe { Transport::from_raw_fds(InFD, OutFD) } {
            Ok(t) => t,
            Err(e) => return error_to_ref(Error::msg(e.to_string())),
        };
        let r = add_bootstrap_services(&session).and_then(|symbols| {
            let ca = SimpleRemoteEpcControllerAccess::new(transport, symbols)?;
            session.attach(ca)
        });
        result_to_ref(r)
    })
}
