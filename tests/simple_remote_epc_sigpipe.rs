//! Writing a frame to a socket whose peer is gone must fail with EPIPE,
//! not kill the process with SIGPIPE (C hosts usually keep the default
//! SIGPIPE action). This test restores that default for its own process.

use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream;

use orc_rt::simple_remote_epc::Transport;

#[test]
fn write_to_a_closed_socket_is_an_error_not_a_signal() {
    // SAFETY: changing a signal disposition; this test binary has no other
    // tests that could be affected.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let (ours, theirs) = UnixStream::pair().unwrap();
    drop(theirs);
    let fd = ours.into_raw_fd();
    // SAFETY: a fresh descriptor handed over to the transport.
    let t = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
    let (_r, mut w, _k) = t.split();
    let e = w.write_frame(&[0u8; 32], b"payload").unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
}
