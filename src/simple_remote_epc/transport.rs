//! Byte-stream transports for SimpleRemoteEPC: an inherited pair of file
//! descriptors (pipes or a socket) or one accepted TCP connection.
//!
//! A transport splits into a [`TransportReader`] (used by one reader
//! thread), a [`TransportWriter`] (one whole frame per call) and a
//! [`Waker`] that makes a blocked reader return so that the executor can
//! disconnect on its own initiative, whatever kind of fd it reads from.
//!
//! ```
//! use orc_rt::simple_remote_epc::frame::read_frame_buffer;
//! use orc_rt::simple_remote_epc::{FrameHeader, Opcode, Transport, TransportError};
//! use std::io::{ErrorKind, Read, Write};
//! use std::os::fd::IntoRawFd;
//! use std::os::unix::net::UnixStream;
//!
//! let (ours, mut peer) = UnixStream::pair().unwrap();
//! let fd = ours.into_raw_fd();
//! // SAFETY: a fresh descriptor, handed over to the transport.
//! let transport = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
//! let (mut reader, mut writer, waker) = transport.split();
//!
//! // One whole frame per write...
//! let header = FrameHeader::new(Opcode::Hangup, 3, 0, 2);
//! writer.write_frame(&header.encode(), b"hi").unwrap();
//! let frame = read_frame_buffer(&mut peer).unwrap().unwrap();
//! assert_eq!((frame.header, frame.payload.as_slice().unwrap()), (header, &b"hi"[..]));
//!
//! // ... and the reader reads what the peer sends.
//! peer.write_all(&FrameHeader::new(Opcode::Result, 4, 0, 0).encode())
//!     .unwrap();
//! assert_eq!(read_frame_buffer(&mut reader).unwrap().unwrap().header.seqno, 4);
//!
//! // The waker makes a blocked read (and every later one) return.
//! let blocked = std::thread::spawn(move || reader.read(&mut [0u8; 1]).map_err(|e| e.kind()));
//! waker.wake();
//! assert_eq!(blocked.join().unwrap(), Err(ErrorKind::ConnectionAborted));
//!
//! // Closing the writer: the peer sees end-of-file.
//! writer.close();
//! assert_eq!(peer.read(&mut [0u8; 1]).unwrap(), 0);
//!
//! // Descriptors are checked before they are taken.
//! // SAFETY: -1 is no descriptor; nothing is taken on failure.
//! let bad = unsafe { Transport::from_raw_fds(-1, -1) };
//! assert!(matches!(bad, Err(TransportError::BadFd(-1))));
//! ```

use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::frame::FrameSource;
use crate::sys::io::{
    is_socket, is_valid_fd, nowait_unsupported, read_nowait, send_no_sigpipe, shutdown_write, write,
};
use crate::sys::pipe::pipe_cloexec;
use crate::sys::poll::poll_readable;

/// Why a transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A descriptor number does not name an open file descriptor.
    #[error("{0} is not a valid file descriptor")]
    BadFd(RawFd),
    /// The listen address did not resolve.
    #[error("could not resolve {addr}: {source}")]
    Resolve {
        /// `host:port` as given.
        addr: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// Binding or listening failed.
    #[error("could not listen on {addr}: {source}")]
    Listen {
        /// `host:port` as given.
        addr: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Accepting the controller's connection failed.
    #[error("could not accept a connection on {addr}: {source}")]
    Accept {
        /// `host:port` as given.
        addr: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Another OS call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being attempted.
        context: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

crate::module_error!(TransportError, Transport);

/// A connected transport, before it is split.
pub struct Transport {
    reader: TransportReader,
    writer: TransportWriter,
    waker: Waker,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

/// The read half: `read` waits for data on the input or for a wake-up.
pub struct TransportReader {
    input: File,
    wake_r: OwnedFd,
    woken: Arc<AtomicBool>,
    /// The last read returned at least [`STREAMING_READ`] bytes: more data
    /// is probably pending, so try a non-blocking read before `poll`.
    streaming: bool,
    /// `preadv2(RWF_NOWAIT)` works on the input (false after the kernel
    /// refused it once).
    nowait_ok: bool,
}

impl std::fmt::Debug for TransportReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportReader").finish_non_exhaustive()
    }
}

/// A read of at least this many bytes suggests the controller is sending a
/// large frame (or many frames): the next read first tries to take data
/// without blocking, saving the `poll` (one syscall per 64 KiB pipe read).
const STREAMING_READ: usize = 16 * 1024;

/// The write half. [`TransportWriter::write_frame`] writes a header and a
/// payload as one vectored write (looping only on short writes).
pub struct TransportWriter {
    output: Option<File>,
    is_socket: bool,
}

impl std::fmt::Debug for TransportWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportWriter").finish_non_exhaustive()
    }
}

/// Wakes a reader blocked in [`TransportReader`]'s `read`; it then returns
/// an error of kind `ConnectionAborted`.
pub struct Waker {
    wake_w: OwnedFd,
    woken: Arc<AtomicBool>,
}

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waker").finish_non_exhaustive()
    }
}

fn make_wake_pipe() -> Result<(OwnedFd, OwnedFd), TransportError> {
    pipe_cloexec().map_err(|source| TransportError::Io {
        context: "could not create the wake-up pipe",
        source,
    })
}

/// The input pipe's capacity we ask for (the unprivileged maximum,
/// `/proc/sys/fs/pipe-max-size`, is 1 MiB by default).
const INPUT_PIPE_SIZE: usize = 1 << 20;

impl Transport {
    /// Uses descriptors the caller owns: reads from `input`, writes to
    /// `output` (for one socket, pass it and a `try_clone` of it). The safe
    /// form of [`Transport::from_raw_fds`]; the transport closes both when
    /// it is dropped.
    pub fn from_fds(input: OwnedFd, output: OwnedFd) -> Result<Transport, TransportError> {
        Self::from_owned(input, output)
    }

    fn from_owned(input: OwnedFd, output: OwnedFd) -> Result<Transport, TransportError> {
        let (wake_r, wake_w) = make_wake_pipe()?;
        let woken = Arc::new(AtomicBool::new(false));
        let is_socket = is_socket(output.as_fd());
        // Bulk payloads (memory writes, segment contents) cross the input
        // pipe: with the default 64 KiB pipe the two processes hand every
        // 64 KiB back and forth, contending for the pipe's lock. A larger
        // pipe, where the system allows it, lets a megabyte cross at once.
        crate::sys::pipe::grow_pipe(input.as_raw_fd(), INPUT_PIPE_SIZE);
        Ok(Transport {
            reader: TransportReader {
                input: File::from(input),
                wake_r,
                woken: woken.clone(),
                streaming: false,
                nowait_ok: true,
            },
            writer: TransportWriter {
                output: Some(File::from(output)),
                is_socket,
            },
            waker: Waker { wake_w, woken },
        })
    }

    /// Uses inherited descriptors: reads from `in_fd`, writes to `out_fd`
    /// (they may be equal, e.g. one socket). Both are validated first.
    ///
    /// # Safety
    /// On success the transport owns `in_fd` and `out_fd` and closes them
    /// when dropped: nothing else may use or close them afterwards. On
    /// failure nothing was taken.
    pub unsafe fn from_raw_fds(in_fd: RawFd, out_fd: RawFd) -> Result<Transport, TransportError> {
        for fd in [in_fd, out_fd] {
            if !is_valid_fd(fd) {
                return Err(TransportError::BadFd(fd));
            }
        }
        // SAFETY: in_fd is open and the caller hands us its ownership.
        let input = unsafe { OwnedFd::from_raw_fd(in_fd) };
        let output = if out_fd == in_fd {
            match input.try_clone() {
                Ok(fd) => fd,
                Err(source) => {
                    // Give the caller's descriptor back untouched.
                    std::mem::forget(input);
                    return Err(TransportError::Io {
                        context: "could not duplicate the transport descriptor",
                        source,
                    });
                }
            }
        } else {
            // SAFETY: out_fd is open, distinct, and handed over by the caller.
            unsafe { OwnedFd::from_raw_fd(out_fd) }
        };
        Self::from_owned(input, output)
    }

    /// Uses a connected stream socket for both directions.
    pub fn from_tcp_stream(stream: TcpStream) -> Result<Transport, TransportError> {
        // Frames are written whole, but the controller's replies are small:
        // never let Nagle delay them.
        stream
            .set_nodelay(true)
            .map_err(|source| TransportError::Io {
                context: "could not set TCP_NODELAY",
                source,
            })?;
        let input = OwnedFd::from(stream);
        let output = input.try_clone().map_err(|source| TransportError::Io {
            context: "could not duplicate the socket",
            source,
        })?;
        Self::from_owned(input, output)
    }

    /// Binds exactly `host:port`, accepts one connection, stops listening
    /// and uses that connection. `on_listening` is called with the bound
    /// address once the socket listens (port 0 picks a free port).
    pub fn listen_tcp(
        host: &str,
        port: u16,
        on_listening: impl FnOnce(std::net::SocketAddr),
    ) -> Result<Transport, TransportError> {
        let addr = format!("{host}:{port}");
        let addrs: Vec<_> = (host, port)
            .to_socket_addrs()
            .map_err(|source| TransportError::Resolve {
                addr: addr.clone(),
                source,
            })?
            .collect();
        let listener = TcpListener::bind(&addrs[..]).map_err(|source| TransportError::Listen {
            addr: addr.clone(),
            source,
        })?;
        let local = listener
            .local_addr()
            .map_err(|source| TransportError::Listen {
                addr: addr.clone(),
                source,
            })?;
        on_listening(local);
        let (stream, _) = loop {
            match listener.accept() {
                Ok(c) => break c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(TransportError::Accept { addr, source }),
            }
        };
        drop(listener);
        Self::from_tcp_stream(stream)
    }

    /// Splits into the three parts.
    pub fn split(self) -> (TransportReader, TransportWriter, Waker) {
        (self.reader, self.writer, self.waker)
    }
}

impl TransportReader {
    /// Waits until the input is readable (bytes, end of stream or an
    /// error), so that the next read returns without blocking. Fails with
    /// `ConnectionAborted` once woken for a local disconnect, as `read`
    /// does.
    pub fn wait_readable(&mut self) -> io::Result<()> {
        loop {
            if self.woken.load(Ordering::Acquire) {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "disconnect requested",
                ));
            }
            match poll_readable([self.input.as_fd(), self.wake_r.as_fd()], None) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
                // The flag check above returns.
                Ok([_, true]) => {}
                Ok([true, false]) => return Ok(()),
                Ok([false, false]) => {}
            }
        }
    }

    /// Reads what is ready without blocking: `WouldBlock` if nothing is.
    pub fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.woken.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "disconnect requested",
            ));
        }
        if self.nowait_ok {
            match read_nowait(self.input.as_fd(), buf) {
                Err(e) if nowait_unsupported(&e) => self.nowait_ok = false,
                r => return r,
            }
        }
        let [ready] = poll_readable([self.input.as_fd()], Some(Duration::ZERO))?;
        if !ready {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.input.read(buf)
    }
}

impl Read for TransportReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.streaming && !buf.is_empty() {
                match self.try_read(buf) {
                    Ok(n) => {
                        self.streaming = n >= STREAMING_READ;
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
                self.streaming = false;
            }
            self.wait_readable()?;
            // Readable, hung up or in error: read() reports which.
            let r = self.input.read(buf);
            self.streaming = matches!(r, Ok(n) if n >= STREAMING_READ);
            return r;
        }
    }
}

impl FrameSource for io::BufReader<TransportReader> {
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.buffer().is_empty() {
            self.get_mut().try_read(buf)
        } else {
            // Buffered bytes: `read` copies them without touching the input.
            self.read(buf)
        }
    }

    fn wait_ready(&mut self) -> io::Result<()> {
        if self.buffer().is_empty() {
            self.get_mut().wait_readable()
        } else {
            Ok(())
        }
    }
}

impl TransportWriter {
    /// Writes `header` then `payload` with one vectored write, continuing
    /// after short writes. Fails once the writer is closed.
    pub fn write_frame(&mut self, header: &[u8], payload: &[u8]) -> io::Result<()> {
        let out = self
            .output
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "transport is closed"))?;
        let total = header.len() + payload.len();
        let mut done = 0;
        while done < total {
            let slices = if done < header.len() {
                [IoSlice::new(&header[done..]), IoSlice::new(payload)]
            } else {
                [
                    IoSlice::new(&payload[done - header.len()..]),
                    IoSlice::new(&[]),
                ]
            };
            // On a socket, a peer that has gone is EPIPE, not SIGPIPE (which
            // would kill a C host that does not ignore it). Pipes cannot do
            // that: hosts using pipes should ignore SIGPIPE (Rust programs
            // do by default).
            let r = if self.is_socket {
                send_no_sigpipe(out.as_fd(), &slices)
            } else {
                out.write_vectored(&slices)
            };
            match r {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Closes the write direction so that the peer sees end-of-file (for a
    /// socket, `shutdown(SHUT_WR)`, since the reader holds a duplicate).
    pub fn close(&mut self) {
        if let Some(out) = self.output.take() {
            if self.is_socket {
                // A failure leaves nothing to do: the drop below closes
                // our descriptor anyway.
                let _ = shutdown_write(out.as_fd());
            }
        }
    }

    /// True once [`TransportWriter::close`] has run.
    pub fn is_closed(&self) -> bool {
        self.output.is_none()
    }
}

impl Waker {
    /// Makes the reader's current and future `read` calls fail with
    /// `ConnectionAborted`. Idempotent.
    pub fn wake(&self) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            // A failure (pipe full) is harmless: the flag is already set and
            // a byte is already pending.
            let _ = write(self.wake_w.as_fd(), &[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn bad_fd_is_rejected() {
        // SAFETY: the call fails before taking anything.
        let e = unsafe { Transport::from_raw_fds(987_654, 1) }
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "987654 is not a valid file descriptor");
    }

    #[test]
    fn socketpair_round_trip_and_wake() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let fd = a.into_raw_fd();
        // SAFETY: fd came from into_raw_fd and is handed over.
        let t = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
        let (mut r, mut w, waker) = t.split();
        w.write_frame(b"head", b"payload").unwrap();
        let mut got = [0u8; 11];
        b.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"headpayload");
        b.write_all(b"xyz").unwrap();
        let mut buf = [0u8; 3];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"xyz");
        let h = std::thread::spawn(move || {
            let mut one = [0u8; 1];
            r.read(&mut one)
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        waker.wake();
        let e = h.join().unwrap().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted);
        w.close();
        assert!(w.is_closed());
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).unwrap(); // EOF thanks to shutdown(SHUT_WR)
        assert!(rest.is_empty());
    }

    #[test]
    fn streaming_reads_still_wake_and_see_eof() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let fd = a.into_raw_fd();
        // SAFETY: fd came from into_raw_fd and is handed over.
        let t = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
        let (mut r, _w, waker) = t.split();
        // A large write puts the reader in streaming mode (non-blocking
        // reads first); draining it exactly must not block or lose bytes.
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let writer = {
            let data = data.clone();
            let mut b2 = b.try_clone().unwrap();
            std::thread::spawn(move || b2.write_all(&data).unwrap())
        };
        let mut got = vec![0u8; data.len()];
        r.read_exact(&mut got).unwrap();
        writer.join().unwrap();
        assert_eq!(got, data);
        // Nothing pending now: the reader blocks (in poll) and a wake-up
        // still interrupts it.
        let h = std::thread::spawn(move || {
            let mut one = [0u8; 1];
            let e = r.read(&mut one).unwrap_err();
            (r, e)
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        waker.wake();
        let (_r, e) = h.join().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted);
        b.write_all(b"x").unwrap();
    }

    #[test]
    fn streaming_read_sees_end_of_file() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let fd = a.into_raw_fd();
        // SAFETY: fd came from into_raw_fd and is handed over.
        let t = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
        let (mut r, _w, _waker) = t.split();
        let data = vec![7u8; 100_000];
        let h = std::thread::spawn(move || {
            b.write_all(&data).unwrap();
            // Closing ends the stream.
        });
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        h.join().unwrap();
        assert_eq!(all.len(), 100_000);
    }

    #[test]
    fn tcp_listen_accepts_one_connection() {
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            Transport::listen_tcp("127.0.0.1", 0, |a| tx.send(a).unwrap())
        });
        let addr = rx.recv().unwrap();
        let mut c = TcpStream::connect(addr).unwrap();
        let (_r, mut w, _k) = h.join().unwrap().unwrap().split();
        w.write_frame(&[1, 2], &[3]).unwrap();
        let mut got = [0u8; 3];
        c.read_exact(&mut got).unwrap();
        assert_eq!(got, [1, 2, 3]);
        // The listener is gone: a second connection is refused.
        assert!(TcpStream::connect(addr).is_err());
    }
}
