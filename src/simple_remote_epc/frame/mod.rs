//! SimpleRemoteEPC frames: a 32-byte little-endian header `{size, opcode,
//! seqno, tag}` (size counts the header too) followed by the payload.
//!
//! [`read_frame_buffer`] never trusts the size field with memory: a payload up
//! to [`DIRECT_PAYLOAD_MAX`] gets a lazily zeroed buffer (address space, no
//! memory until bytes arrive), a larger one a buffer that grows only as bytes
//! actually arrive.
//!
//! [`read_frame_buffer_for`] reads large memory-manager calls with their big
//! contents written straight to their destination (module `prewrite`).
//!
//! ```
//! use orc_rt::simple_remote_epc::frame::read_frame_buffer;
//! use orc_rt::simple_remote_epc::{FrameError, FrameHeader, Opcode, HEADER_SIZE};
//! use std::io::Cursor;
//!
//! let header = FrameHeader::new(Opcode::CallWrapper, 7, 0x1000, 5);
//! let bytes = header.encode();
//! assert_eq!(bytes[..8], (HEADER_SIZE as u64 + 5).to_le_bytes()); // size counts the header
//! assert_eq!(bytes[8..16], 3u64.to_le_bytes()); // CallWrapper
//! assert_eq!(FrameHeader::decode(&bytes), header);
//!
//! let mut stream = bytes.to_vec();
//! stream.extend_from_slice(b"hello");
//! let frame = read_frame_buffer(&mut Cursor::new(&stream)).unwrap().unwrap();
//! assert_eq!((frame.header, frame.payload.as_slice().unwrap()), (header, &b"hello"[..]));
//!
//! // End of stream at a frame boundary is clean; inside a frame, an error.
//! assert!(read_frame_buffer(&mut Cursor::new(&[])).unwrap().is_none());
//! let cut = read_frame_buffer(&mut Cursor::new(&stream[..stream.len() - 1]));
//! assert!(matches!(cut, Err(FrameError::UnexpectedEof)));
//!
//! // A size the bytes never follow is not allocated up front...
//! let liar = FrameHeader::new(Opcode::Result, 0, 0, 1 << 30);
//! assert!(matches!(
//!     read_frame_buffer(&mut Cursor::new(liar.encode())),
//!     Err(FrameError::UnexpectedEof)
//! ));
//! // ... and absurd sizes are refused outright.
//! let absurd = FrameHeader {
//!     size: u64::MAX,
//!     ..header
//! };
//! assert!(matches!(
//!     read_frame_buffer(&mut Cursor::new(absurd.encode())),
//!     Err(FrameError::TooLarge(_))
//! ));
//! let short = FrameHeader { size: 8, ..header };
//! assert!(matches!(short.payload_len(), Err(FrameError::SizeTooSmall)));
//! ```

mod prewrite;

use std::fmt;
use std::io::{self, Read};

use crate::WrapperFunctionBuffer;

pub use prewrite::{
    read_frame_buffer_for, read_initialize_prewriting, read_write_buffers_prewriting, PrewriteTags,
    PREWRITE_MIN_CONTENT, PREWRITE_MIN_FRAME,
};

/// Size of a frame header in bytes.
pub const HEADER_SIZE: usize = 32;

/// Largest payload accepted from the peer: 4 GiB. Large programs send
/// multi-megabyte segment contents; anything above this is treated as a
/// corrupt stream.
pub const MAX_PAYLOAD_SIZE: u64 = 4 << 30;

/// Payload capacity reserved before any payload byte has arrived.
const READ_CHUNK: usize = 1 << 20;

/// A SimpleRemoteEPC message kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    /// Executor → controller, once, first: executor info.
    Setup,
    /// End of session.
    Hangup,
    /// The answer to a CallWrapper from the other side.
    Result,
    /// Call a wrapper function (by address or by tag).
    CallWrapper,
}

impl Opcode {
    /// The wire value.
    pub fn to_u64(self) -> u64 {
        match self {
            Opcode::Setup => 0,
            Opcode::Hangup => 1,
            Opcode::Result => 2,
            Opcode::CallWrapper => 3,
        }
    }

    /// Decodes a wire value; `None` for values LLVM 22 does not define.
    pub fn from_u64(v: u64) -> Option<Opcode> {
        match v {
            0 => Some(Opcode::Setup),
            1 => Some(Opcode::Hangup),
            2 => Some(Opcode::Result),
            3 => Some(Opcode::CallWrapper),
            _ => None,
        }
    }

    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Setup => "Setup",
            Opcode::Hangup => "Hangup",
            Opcode::Result => "Result",
            Opcode::CallWrapper => "CallWrapper",
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded frame header. `opcode` stays raw so that an unknown value can
/// be reported after its payload has been consumed, as LLVM does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whole frame size, header included.
    pub size: u64,
    /// Raw opcode (see [`Opcode::from_u64`]).
    pub opcode: u64,
    /// Sequence number.
    pub seqno: u64,
    /// Tag address (0 for Setup, Hangup and Result).
    pub tag: u64,
}

impl FrameHeader {
    /// The header of a frame carrying `payload_len` bytes.
    pub fn new(opcode: Opcode, seqno: u64, tag: u64, payload_len: usize) -> Self {
        FrameHeader {
            size: HEADER_SIZE as u64 + payload_len as u64,
            opcode: opcode.to_u64(),
            seqno,
            tag,
        }
    }

    /// Encodes the header (little-endian).
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[0..8].copy_from_slice(&self.size.to_le_bytes());
        b[8..16].copy_from_slice(&self.opcode.to_le_bytes());
        b[16..24].copy_from_slice(&self.seqno.to_le_bytes());
        b[24..32].copy_from_slice(&self.tag.to_le_bytes());
        b
    }

    /// Decodes a header.
    pub fn decode(b: &[u8; HEADER_SIZE]) -> Self {
        let field = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        FrameHeader {
            size: field(0),
            opcode: field(1),
            seqno: field(2),
            tag: field(3),
        }
    }

    /// Payload length, checked: at least a header, at most
    /// [`MAX_PAYLOAD_SIZE`] of payload.
    pub fn payload_len(&self) -> Result<usize, FrameError> {
        if self.size < HEADER_SIZE as u64 {
            return Err(FrameError::SizeTooSmall);
        }
        let n = self.size - HEADER_SIZE as u64;
        if n > MAX_PAYLOAD_SIZE {
            return Err(FrameError::TooLarge(self.size));
        }
        usize::try_from(n).map_err(|_| FrameError::TooLarge(self.size))
    }
}

/// Why a frame could not be read. The messages match LLVM 22's executor
/// where it has one.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The size field is smaller than the header.
    #[error("Message size too small")]
    SizeTooSmall,
    /// The size field exceeds [`MAX_PAYLOAD_SIZE`] + header.
    #[error("Message size {0} exceeds the limit of {max} bytes", max = MAX_PAYLOAD_SIZE + HEADER_SIZE as u64)]
    TooLarge(u64),
    /// The stream ended inside a frame.
    #[error("Unexpected end-of-file")]
    UnexpectedEof,
    /// Reading failed.
    #[error("read failed: {0}")]
    Io(#[source] io::Error),
}

/// Reads until `buf` is full. Returns the number of bytes read, which is
/// less than `buf.len()` only at end of stream. A connection reset by the
/// peer (a TCP controller that closed with data still unread) counts as the
/// end of the stream: at a frame boundary that is a clean end, like EOF.
fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> Result<usize, FrameError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(got)
}

/// A stream frames are read from: a [`Read`] that can also read without
/// blocking, so that a large payload is read straight into its destination
/// while that destination is held (see [`read_frame_buffer_for`]),
/// never waiting for the controller meanwhile.
pub trait FrameSource: Read {
    /// Reads what is ready without blocking: `WouldBlock` if nothing is.
    /// In-memory sources never block: the default is `read`.
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read(buf)
    }

    /// Waits until [`FrameSource::try_read`] has something (bytes, end of
    /// stream or an error). The default returns at once.
    fn wait_ready(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<T: AsRef<[u8]>> FrameSource for io::Cursor<T> {}

impl FrameSource for &[u8] {}

/// Reads a frame header; `None` at a clean end of stream (no byte of it).
fn read_header<R: Read + ?Sized>(r: &mut R) -> Result<Option<FrameHeader>, FrameError> {
    let mut hb = [0u8; HEADER_SIZE];
    match read_full(r, &mut hb)? {
        0 => Ok(None),
        HEADER_SIZE => Ok(Some(FrameHeader::decode(&hb))),
        _ => Err(FrameError::UnexpectedEof),
    }
}

/// Reads a `len`-byte payload into a buffer that starts with at most one
/// chunk and grows only as data arrives (`read_to_end` never zero-fills),
/// so an announced size that never comes costs no memory.
fn read_growing_payload<R: Read + ?Sized>(r: &mut R, len: usize) -> Result<Vec<u8>, FrameError> {
    let mut payload: Vec<u8> = Vec::with_capacity(len.min(READ_CHUNK));
    let mut limited = r.take(len as u64);
    loop {
        match limited.read_to_end(&mut payload) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    if payload.len() < len {
        return Err(FrameError::UnexpectedEof);
    }
    Ok(payload)
}

/// Payloads up to this size are read straight into a
/// [`WrapperFunctionBuffer`] allocated up front (lazily zeroed, so a header
/// announcing bytes that never come costs address space, not memory).
/// Larger ones are read into a buffer that grows as bytes arrive.
pub const DIRECT_PAYLOAD_MAX: usize = 64 << 20;

/// A received frame whose payload is already in a
/// [`WrapperFunctionBuffer`], ready to be handed to a wrapper function
/// without another copy.
#[derive(Debug)]
pub struct BufferFrame {
    /// Its header (the size is consistent with `payload`).
    pub header: FrameHeader,
    /// Its payload bytes (never an out-of-band error).
    pub payload: WrapperFunctionBuffer,
}

/// Reads one whole frame. `Ok(None)` means a clean end of stream exactly at
/// a frame boundary.
///
/// The payload is delivered in a [`WrapperFunctionBuffer`], ready for a
/// wrapper function. Payloads up to [`DIRECT_PAYLOAD_MAX`] are read directly
/// into it (no intermediate buffer, no copy; the buffer is lazily zeroed, so
/// announced bytes that never come cost no memory). Larger ones are read into
/// a buffer that starts at 1 MiB and grows with the bytes actually received,
/// then copied, so a header that announces an absurd size without sending
/// the bytes costs no memory either.
pub fn read_frame_buffer<R: Read + ?Sized>(r: &mut R) -> Result<Option<BufferFrame>, FrameError> {
    let Some(header) = read_header(r)? else {
        return Ok(None);
    };
    read_payload(r, header).map(Some)
}

/// Reads the payload that `header` announces.
fn read_payload<R: Read + ?Sized>(
    r: &mut R,
    header: FrameHeader,
) -> Result<BufferFrame, FrameError> {
    let len = header.payload_len()?;
    if len > DIRECT_PAYLOAD_MAX {
        let payload = read_growing_payload(r, len)?;
        return Ok(BufferFrame {
            header,
            payload: WrapperFunctionBuffer::from_slice(&payload),
        });
    }
    let mut payload = WrapperFunctionBuffer::allocate_zeroed_lazily(len);
    let Some(dst) = payload.as_mut_slice() else {
        return Err(FrameError::Io(io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("could not allocate a {len}-byte frame payload"),
        )));
    };
    if read_full(r, dst)? < len {
        return Err(FrameError::UnexpectedEof);
    }
    Ok(BufferFrame { header, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that yields `data`, then fails with ECONNRESET.
    struct ResetAfter<'a>(&'a [u8]);

    impl Read for ResetAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::ErrorKind::ConnectionReset.into());
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    impl FrameSource for ResetAfter<'_> {}

    #[test]
    fn connection_reset_is_end_of_stream() {
        // At a frame boundary: a clean end.
        assert!(matches!(read_frame_buffer(&mut ResetAfter(&[])), Ok(None)));
        // Inside a header or a payload (read directly or into the growing
        // buffer): end of file inside a frame.
        let e = read_frame_buffer(&mut ResetAfter(&[1, 2, 3])).unwrap_err();
        assert!(matches!(e, FrameError::UnexpectedEof), "{e}");
        for len in [16, DIRECT_PAYLOAD_MAX + 1] {
            let h = FrameHeader::new(Opcode::CallWrapper, 1, 0x1234, len);
            let e = read_frame_buffer(&mut ResetAfter(&frame_bytes(h, &[7u8; 4]))).unwrap_err();
            assert!(matches!(e, FrameError::UnexpectedEof), "{len}: {e}");
        }
    }

    #[test]
    fn read_frame_buffer_delivers_payloads_and_rejects_truncation() {
        for len in [0usize, 3, 8, 100, (1 << 20) + 29] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let h = FrameHeader::new(Opcode::CallWrapper, 9, 0x1234, len);
            let mut bytes = frame_bytes(h, &payload);
            bytes.extend_from_slice(&frame_bytes(
                FrameHeader::new(Opcode::Hangup, 0, 0, 1),
                &[1],
            ));
            let mut r = &bytes[..];
            let f = read_frame_buffer(&mut r).unwrap().unwrap();
            assert_eq!(f.header, h);
            assert_eq!(f.payload.as_slice().unwrap(), &payload[..]);
            let g = read_frame_buffer(&mut r).unwrap().unwrap();
            assert_eq!(g.payload.as_slice().unwrap(), &[1]);
            assert!(read_frame_buffer(&mut r).unwrap().is_none());
            if len > 0 {
                let cut = frame_bytes(h, &payload[..len - 1]);
                let e = read_frame_buffer(&mut ResetAfter(&cut)).unwrap_err();
                assert!(matches!(e, FrameError::UnexpectedEof), "{e}");
            }
        }
        // A header announcing far more than DIRECT_PAYLOAD_MAX with nothing
        // behind it fails without reserving the announced size.
        let h = FrameHeader::new(Opcode::CallWrapper, 1, 1, 3 << 30);
        let e = read_frame_buffer(&mut &h.encode()[..]).unwrap_err();
        assert!(matches!(e, FrameError::UnexpectedEof), "{e}");
        // Just under it: allocated up front (lazily), then end of file.
        let h = FrameHeader::new(Opcode::CallWrapper, 1, 1, DIRECT_PAYLOAD_MAX);
        let e = read_frame_buffer(&mut &h.encode()[..]).unwrap_err();
        assert!(matches!(e, FrameError::UnexpectedEof), "{e}");
    }

    fn frame_bytes(h: FrameHeader, payload: &[u8]) -> Vec<u8> {
        let mut v = h.encode().to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn header_round_trip_matches_trace() {
        // An LLVM 22 session: the Result of call 5 carrying int64 42
        // (the example of docs/protocol.md, section 2).
        let h = FrameHeader::new(Opcode::Result, 5, 0, 8);
        let mut bytes = h.encode().to_vec();
        bytes.extend_from_slice(&42i64.to_le_bytes());
        assert_eq!(&bytes[..8], &[0x28, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[8..16], &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[16..24], &[5, 0, 0, 0, 0, 0, 0, 0]);
        let f = read_frame_buffer(&mut &bytes[..]).unwrap().unwrap();
        assert_eq!(f.header, h);
        assert_eq!(f.payload.as_slice().unwrap(), 42i64.to_le_bytes());
    }

    #[test]
    fn clean_eof_and_truncations() {
        assert!(read_frame_buffer(&mut &[][..]).unwrap().is_none());
        let h = FrameHeader::new(Opcode::CallWrapper, 1, 0x1234, 100);
        let bytes = frame_bytes(h, &[7u8; 10]);
        for cut in [1, 12, 31, 32, 40] {
            let e = read_frame_buffer(&mut &bytes[..cut]).unwrap_err();
            assert!(matches!(e, FrameError::UnexpectedEof), "{cut}: {e}");
            assert_eq!(e.to_string(), "Unexpected end-of-file");
        }
    }

    #[test]
    fn size_too_small() {
        let mut h = FrameHeader::new(Opcode::CallWrapper, 1, 0x1234, 0);
        h.size = 16;
        let e = read_frame_buffer(&mut &h.encode()[..]).unwrap_err();
        assert_eq!(e.to_string(), "Message size too small");
    }

    #[test]
    fn sizes_over_the_limit_are_refused_from_the_header() {
        // 2^62 passes no sane limit; exactly the limit passes it, but no
        // data follows. (tests/simple_remote_epc_alloc.rs checks what such
        // headers cost in memory.)
        let mut h = FrameHeader::new(Opcode::CallWrapper, 1, 0x1234, 0);
        for (size, too_large) in [
            (1 << 62, true),
            (MAX_PAYLOAD_SIZE + HEADER_SIZE as u64 + 1, true),
            (MAX_PAYLOAD_SIZE + HEADER_SIZE as u64, false),
        ] {
            h.size = size;
            let e = read_frame_buffer(&mut &h.encode()[..]).unwrap_err();
            if too_large {
                assert!(
                    matches!(e, FrameError::TooLarge(s) if s == size),
                    "{size}: {e}"
                );
            } else {
                assert!(matches!(e, FrameError::UnexpectedEof), "{size}: {e}");
            }
        }
    }

    #[test]
    fn growing_payload_spans_chunks() {
        let data: Vec<u8> = (0..(3 * READ_CHUNK + 17)).map(|i| i as u8).collect();
        let got = read_growing_payload(&mut &data[..], data.len()).unwrap();
        assert_eq!(got, data);
        let e = read_growing_payload(&mut &data[..], data.len() + 1).unwrap_err();
        assert!(matches!(e, FrameError::UnexpectedEof), "{e}");
    }

    #[test]
    fn opcodes() {
        for v in 0..4 {
            assert_eq!(Opcode::from_u64(v).unwrap().to_u64(), v);
        }
        assert!(Opcode::from_u64(4).is_none());
    }
}
