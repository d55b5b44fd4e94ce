//! C API for the SimpleRemoteEPC controller access.

use std::os::raw::c_int;

use super::error::{error_to_ref, orc_rt_ErrorRef, result_to_ref};
use super::panic::ffi_boundary;
use super::session::session;
use crate::simple_remote_epc::{serve, Transport};
use crate::wrapper_function::orc_rt_SessionRef;
use crate::Error;

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
/// Returns an error if `S` is refused or a descriptor is not
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
        let session = match session(S) {
            Ok(s) => s,
            Err(bad) => {
                return error_to_ref(Error::msg(format!(
                    "orc_rt_Session_attachSimpleRemoteEPC: {bad}"
                )))
            }
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
        result_to_ref(serve(&session, transport).map(drop))
    })
}
