//! C API for the SimpleRemoteEPC controller access.
//!
//! A C host hands over the file descriptors of its connection to
//! `llvm-jitlink` (or any LLVM 22 controller) and waits for the controller to
//! go away; everything else runs on the Session's threads.
//!
//! ```
//! use orc_rt::ffi::error::orc_rt_Error_consume;
//! use orc_rt::ffi::session::{
//!     orc_rt_Session_create, orc_rt_Session_destroy, orc_rt_Session_waitForDetach,
//! };
//! use orc_rt::ffi::simple_remote_epc::orc_rt_Session_attachSimpleRemoteEPC;
//! use orc_rt::ffi::task_dispatcher::orc_rt_GrowingThreadPoolTaskDispatcher_create;
//! use orc_rt::simple_remote_epc::{frame::read_frame_buffer, Opcode};
//! use std::os::fd::IntoRawFd;
//! use std::os::unix::net::UnixStream;
//! use std::time::Duration;
//!
//! // SAFETY: a fresh dispatcher handle, consumed by the Session.
//! let s = unsafe { orc_rt_Session_create(orc_rt_GrowingThreadPoolTaskDispatcher_create()) };
//! // Descriptors that are not open are refused (and left alone).
//! let e = orc_rt_Session_attachSimpleRemoteEPC(s, -1, -1);
//! assert!(!e.is_null());
//! // SAFETY: a live error handle, consumed once.
//! unsafe { orc_rt_Error_consume(e) };
//!
//! let (executor_end, mut controller) = UnixStream::pair().unwrap();
//! controller
//!     .set_read_timeout(Some(Duration::from_secs(30)))
//!     .unwrap();
//! let fd = executor_end.into_raw_fd(); // the Session owns it from now on
//! assert!(orc_rt_Session_attachSimpleRemoteEPC(s, fd, fd).is_null());
//! let setup = read_frame_buffer(&mut controller).unwrap().unwrap();
//! assert_eq!(Opcode::from_u64(setup.header.opcode), Some(Opcode::Setup));
//!
//! drop(controller); // the controller goes away...
//! orc_rt_Session_waitForDetach(s); // ... and the Session detaches
//! orc_rt_Session_destroy(s);
//! ```

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
            Err(e) => return error_to_ref(e.into()),
        };
        result_to_ref(serve(&session, transport).map(drop))
    })
}
