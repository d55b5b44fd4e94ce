//! SimpleRemoteEPC frames: a 32-byte little-endian header `{size, opcode,
//! seqno, tag}` (size counts the header too) followed by the payload.
//!
//! [`read_frame_buffer`] never trusts the size field with memory: a payload up
//! to [`DIRECT_PAYLOAD_MAX`] gets a lazily zeroed buffer (address space, no
//! memory until bytes arrive), a larger one a buffer that grows only as bytes
//! actually arrive.
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

use std::fmt;
use std::io::{self, Read};

use crate::WrapperFunctionBuffer;

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
/// while that destination is held (see [`read_initialize_prewriting`]),
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

/// The entry points whose large calls the reader writes straight to their
/// destination (see [`read_frame_buffer_for`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrewriteTags {
    /// The memory manager's `initialize` wrapper.
    pub initialize: Option<u64>,
    /// `__llvm_orc_bootstrap_mem_write_buffers_wrapper`.
    pub write_buffers: Option<u64>,
}

/// [`read_frame_buffer`], and a call with a payload of at least
/// [`PREWRITE_MIN_FRAME`] bytes of the memory manager's `initialize` or of
/// the bulk memory write is read by [`read_initialize_prewriting`] or
/// [`read_write_buffers_prewriting`].
pub fn read_frame_buffer_for<R: FrameSource + ?Sized>(
    r: &mut R,
    tags: PrewriteTags,
) -> Result<Option<BufferFrame>, FrameError> {
    let Some(header) = read_header(r)? else {
        return Ok(None);
    };
    let len = header.payload_len()?;
    if len >= PREWRITE_MIN_FRAME && Opcode::from_u64(header.opcode) == Some(Opcode::CallWrapper) {
        let payload = if tags.initialize == Some(header.tag) {
            Some(read_initialize_prewriting(r, len)?)
        } else if tags.write_buffers == Some(header.tag) {
            Some(read_write_buffers_prewriting(r, len)?)
        } else {
            None
        };
        if let Some(payload) = payload {
            return Ok(Some(BufferFrame {
                header,
                payload: WrapperFunctionBuffer::from_slice(&payload),
            }));
        }
    }
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

/// `initialize` calls with at least this much payload are read by
/// [`read_initialize_prewriting`].
pub const PREWRITE_MIN_FRAME: usize = 1 << 20;

/// Segment contents at least this big are written to their destination as
/// they are read.
pub const PREWRITE_MIN_CONTENT: u64 = 64 << 10;

/// The most bytes one direct read into a destination asks for (the mapping
/// lock is held for that read, which never waits).
const DIRECT_READ_MAX: usize = 1 << 20;

/// Appends exactly `n` more bytes of the stream to `out`, growing it only
/// as bytes arrive (a length from the wire allocates nothing up front).
fn copy_exact<R: Read + ?Sized>(r: &mut R, out: &mut Vec<u8>, n: u64) -> Result<(), FrameError> {
    let want = out.len() as u64 + n;
    let mut limited = r.take(n);
    loop {
        match limited.read_to_end(out) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    if (out.len() as u64) < want {
        return Err(FrameError::UnexpectedEof);
    }
    Ok(())
}

/// Whether `[addr, addr + len)` lies in memory orc-rt mapped read+write.
fn writable(addr: u64, len: u64) -> bool {
    crate::sys::mmap::with_writable(addr, len, || ()).is_some()
}

/// A payload being read with some of its bytes diverted to their
/// destination: what is kept goes to `out`, `left` counts the payload bytes
/// still in the stream.
struct Splicer<'r, R: FrameSource + ?Sized> {
    r: &'r mut R,
    left: u64,
    out: Vec<u8>,
}

impl<'r, R: FrameSource + ?Sized> Splicer<'r, R> {
    fn new(r: &'r mut R, len: usize) -> Self {
        Splicer {
            r,
            left: len as u64,
            out: Vec::with_capacity(64 << 10),
        }
    }

    /// Keeps the next `n` bytes if the payload holds them, returning where
    /// they start in `out`; `Ok(None)` if it does not.
    fn keep(&mut self, n: u64) -> Result<Option<usize>, FrameError> {
        if n > self.left {
            return Ok(None);
        }
        let at = self.out.len();
        copy_exact(self.r, &mut self.out, n)?;
        self.left -= n;
        Ok(Some(at))
    }

    /// The little-endian word kept at `at`.
    fn word(&self, at: usize) -> u64 {
        let b = self.out.get(at..at + 8).and_then(|b| b.try_into().ok());
        u64::from_le_bytes(b.unwrap_or([0; 8]))
    }

    /// Moves the next `len` bytes (which the payload holds) to `addr`: each
    /// read goes straight into the destination, under the mapping lock, and
    /// takes only what is ready ([`FrameSource::try_read`]), waiting for more
    /// outside the lock, so a stalled controller never holds that lock.
    /// `Ok(true)` if some part found its destination no longer writable
    /// (those bytes are read and dropped).
    fn divert(&mut self, addr: u64, len: u64) -> Result<bool, FrameError> {
        let mut done = 0u64;
        let mut lost = false;
        while done < len {
            let n = (len - done).min(DIRECT_READ_MAX as u64) as usize;
            let dst = addr + done;
            let r = &mut *self.r;
            let got = crate::sys::mmap::with_writable(dst, n as u64, || {
                // SAFETY: [dst, dst + n) lies in memory orc-rt mapped
                // read+write for JIT'd code, which cannot be unmapped or
                // protected while `with_writable` runs, and holds no Rust
                // object; the slice lives only for this read.
                let to = unsafe { std::slice::from_raw_parts_mut(dst as *mut u8, n) };
                r.try_read(to)
            });
            let got = got.unwrap_or_else(|| {
                // No longer writable: take the bytes, drop them.
                lost = true;
                let mut sink = vec![0u8; n.min(64 << 10)];
                self.r.read(&mut sink)
            });
            match got {
                Ok(0) => return Err(FrameError::UnexpectedEof),
                Ok(k) => done += k as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.r.wait_ready().map_err(FrameError::Io)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(FrameError::UnexpectedEof)
                }
                Err(e) => return Err(FrameError::Io(e)),
            }
        }
        self.left -= len;
        Ok(lost)
    }

    /// Keeps the rest of the payload and returns what was kept.
    fn finish(mut self) -> Result<Vec<u8>, FrameError> {
        copy_exact(self.r, &mut self.out, self.left)?;
        Ok(self.out)
    }
}

/// Reads the `len`-byte payload of a call of
/// `__llvm_orc_bootstrap_mem_write_buffers_wrapper`
/// (`SPSSequence<SPSTuple<SPSExecutorAddr, SPSSequence<char>>>`), writing
/// each buffer of at least [`PREWRITE_MIN_CONTENT`] bytes whose destination
/// lies in memory orc-rt mapped read+write straight there, as
/// [`read_initialize_prewriting`] does. Such a buffer stays in the payload as
/// an empty write to its address (a no-op for the handler); one whose
/// destination stopped being writable midway becomes a one-byte write to
/// address 0, which the handler refuses with an error. Everything else is
/// copied verbatim for the handler.
pub fn read_write_buffers_prewriting<R: FrameSource + ?Sized>(
    r: &mut R,
    len: usize,
) -> Result<Vec<u8>, FrameError> {
    let mut s = Splicer::new(r, len);
    if let Some(at) = s.keep(8)? {
        for _ in 0..s.word(at) {
            // Address, buffer length.
            let Some(at) = s.keep(16)? else { break };
            let (addr, blen) = (s.word(at), s.word(at + 8));
            if blen > s.left {
                break;
            }
            if blen < PREWRITE_MIN_CONTENT || !writable(addr, blen) {
                s.keep(blen)?;
                continue;
            }
            let lost = s.divert(addr, blen)?;
            s.out.truncate(at);
            let (addr, blen) = if lost { (0, 1) } else { (addr, 0) };
            s.out.extend_from_slice(&addr.to_le_bytes());
            s.out.extend_from_slice(&(blen as u64).to_le_bytes());
            if lost {
                s.out.push(0);
            }
        }
    }
    s.finish()
}

/// Reads the `len`-byte payload of a call of the memory manager's
/// `initialize` (`(SPSExecutorAddr instance, SPSFinalizeRequest)`), writing
/// each large segment content straight to its address as it arrives, when
/// that address lies in memory orc-rt mapped read+write
/// ([`crate::sys::mmap::with_writable`]). Those contents never occupy the
/// payload: it carries the segment with
/// [`crate::sps_ci::memory::PREWRITTEN_FLAG`] and the count of bytes written,
/// and the handler then only zero-fills the rest. A large object's
/// initialize thus needs no payload buffer its size (no page faults and no
/// second copy of it).
///
/// The bytes are read from the stream straight into their destination,
/// under the mapping lock, by reads that take only what is ready, so a
/// stalled controller never holds that lock. A
/// destination that stops being writable midway (a concurrent release)
/// turns the segment's count into an impossible one, which the handler
/// refuses. Anything that does not parse as expected is copied verbatim,
/// for the handler's decoder to judge.
pub fn read_initialize_prewriting<R: FrameSource + ?Sized>(
    r: &mut R,
    len: usize,
) -> Result<Vec<u8>, FrameError> {
    use crate::sps_ci::memory::PREWRITTEN_FLAG;
    let mut s = Splicer::new(r, len);
    // Instance address and segment count.
    if let Some(at) = s.keep(16)? {
        for _ in 0..s.word(at + 8) {
            // Alloc group, address, size, content length.
            let Some(at) = s.keep(25)? else { break };
            let bits = s.out[at];
            let (addr, size, clen) = (s.word(at + 1), s.word(at + 9), s.word(at + 17));
            let direct = bits & PREWRITTEN_FLAG == 0
                && clen >= PREWRITE_MIN_CONTENT
                && clen <= size
                && clen <= s.left
                && writable(addr, clen);
            if !direct {
                if s.keep(clen)?.is_none() {
                    break;
                }
                continue;
            }
            // The content fills its range: a large one goes in faster on
            // huge pages (advice under the mapping lock, so the range is
            // still ours).
            crate::sys::mmap::with_writable(addr, clen, || {
                crate::sys::mmap::advise_huge_pages(addr, clen)
            });
            let lost = s.divert(addr, clen)?;
            s.out[at] = bits | PREWRITTEN_FLAG;
            s.out.truncate(at + 17);
            s.out.extend_from_slice(&8u64.to_le_bytes());
            let count = if lost { u64::MAX } else { clen };
            s.out.extend_from_slice(&count.to_le_bytes());
        }
    }
    // The actions, and whatever did not parse.
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    mod prewriting {
        use super::super::*;
        use crate::sps::orc_types::{FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest};
        use crate::sps::serialize_to_vec;
        use crate::sps_ci::memory::decode_initialize_args;
        use crate::ExecutorAddr;
        use std::io::Cursor;

        fn request(segments: Vec<SegFinalizeRequest>) -> Vec<u8> {
            let req = FinalizeRequest {
                segments,
                actions: vec![],
            };
            serialize_to_vec(&(ExecutorAddr::new(0x1234), req))
        }

        fn seg(addr: u64, size: u64, content: Vec<u8>) -> SegFinalizeRequest {
            SegFinalizeRequest {
                rag: RemoteAllocGroup::new(true, true, false, false),
                addr: ExecutorAddr::new(addr),
                size,
                content,
            }
        }

        #[test]
        #[ignore = "needs transparent huge pages: scripts/test-ignored.sh runs it where the kernel has them"]
        fn large_contents_are_written_on_huge_pages() {
            use crate::sys::mmap::{huge_page_size, huge_pages_advised, map_anonymous_rw};
            let huge = huge_page_size().expect("transparent huge pages");
            let len = 4 * huge;
            let dst = map_anonymous_rw(len).unwrap();
            // 2.5 huge pages of content from the (aligned) start.
            let clen = 2 * huge + huge / 2;
            let big: Vec<u8> = (0..clen).map(|i| (i * 13 % 251) as u8).collect();
            let bytes = request(vec![seg(dst, clen, big.clone())]);
            let out = read_initialize_prewriting(&mut Cursor::new(&bytes), bytes.len()).unwrap();
            assert!(out.len() < 256, "the content left the payload");
            assert_eq!(crate::sys::mem::read_vec(dst, clen).unwrap(), big);
            assert_eq!(huge_pages_advised(dst), Some(true));
            assert_eq!(huge_pages_advised(dst + 2 * huge - 1), Some(true));
            // The partial huge page at the content's end, and the rest of
            // the mapping, keep small pages.
            assert_eq!(huge_pages_advised(dst + 2 * huge), Some(false));
            assert_eq!(huge_pages_advised(dst + 3 * huge), Some(false));
            // SAFETY: our own mapping; nothing uses it afterwards.
            unsafe { crate::sys::mmap::unmap(dst, len).unwrap() };
        }

        #[test]
        fn large_contents_go_straight_to_writable_memory() {
            let len = 256 << 10;
            let dst = crate::sys::mmap::map_anonymous_rw(len).unwrap();
            let big: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            // A large segment into our mapping, a small one (copied), and a
            // large one to an address nobody mapped (copied, for the handler
            // to refuse).
            let bytes = request(vec![
                seg(dst, len, big.clone()),
                seg(0x10_0000, 16, vec![1, 2, 3]),
                seg(0x20_0000, len, big.clone()),
            ]);
            let out = read_initialize_prewriting(&mut Cursor::new(&bytes), bytes.len()).unwrap();
            assert!(
                out.len() < bytes.len() - big.len() + 64,
                "the big content left the payload"
            );
            assert_eq!(crate::sys::mem::read_vec(dst, len).unwrap(), big);
            let (instance, segs, actions) = decode_initialize_args(&out).unwrap();
            assert_eq!(instance, ExecutorAddr::new(0x1234));
            assert!(actions.is_empty());
            assert_eq!(
                (
                    segs[0].addr.value(),
                    segs[0].prewritten,
                    segs[0].content.len()
                ),
                (dst, len, 0)
            );
            assert_eq!((segs[1].prewritten, segs[1].content), (0, &[1u8, 2, 3][..]));
            assert_eq!((segs[2].prewritten, segs[2].content.len() as u64), (0, len));
            // SAFETY: our own mapping, unused now.
            unsafe { crate::sys::mmap::unmap(dst, len).unwrap() };
        }

        #[test]
        fn truncated_or_odd_payloads_are_left_to_the_decoder() {
            let len = 128 << 10;
            let dst = crate::sys::mmap::map_anonymous_rw(len).unwrap();
            let bytes = request(vec![seg(dst, len, vec![9; len as usize])]);
            // The stream ends inside the content: an error, not a hang.
            let cut = &bytes[..bytes.len() - 100];
            assert!(matches!(
                read_initialize_prewriting(&mut Cursor::new(cut), bytes.len()),
                Err(FrameError::UnexpectedEof)
            ));
            // A segment count the bytes do not hold: copied verbatim.
            let mut lying = bytes.clone();
            lying[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
            let out = read_initialize_prewriting(&mut Cursor::new(&lying), lying.len()).unwrap();
            assert!(decode_initialize_args(&out).is_err());
            // A payload shorter than the fixed fields: copied verbatim.
            let out = read_initialize_prewriting(&mut Cursor::new(&[1u8, 2, 3]), 3).unwrap();
            assert_eq!(out, [1, 2, 3]);
            // SAFETY: our own mapping, unused now.
            unsafe { crate::sys::mmap::unmap(dst, len).unwrap() };
        }
    }

    mod write_buffers_prewriting {
        use super::super::*;
        use crate::sps_ci::access::decode_buffer_writes;
        use std::io::Cursor;

        fn request(writes: &[(u64, &[u8])]) -> Vec<u8> {
            let mut b = (writes.len() as u64).to_le_bytes().to_vec();
            for (addr, buf) in writes {
                b.extend_from_slice(&addr.to_le_bytes());
                b.extend_from_slice(&(buf.len() as u64).to_le_bytes());
                b.extend_from_slice(buf);
            }
            b
        }

        #[test]
        fn large_buffers_go_straight_to_writable_memory() {
            let len = 256 << 10;
            let dst = crate::sys::mmap::map_anonymous_rw(len).unwrap();
            let big: Vec<u8> = (0..len).map(|i| (i * 13 % 251) as u8).collect();
            // A large buffer into our mapping (written now), a small one and
            // a large one to an address nobody mapped (both left for the
            // handler, which refuses the latter).
            let bytes = request(&[(dst, &big), (dst, &[5, 6]), (0x30_0000, &big)]);
            let out = read_write_buffers_prewriting(&mut Cursor::new(&bytes), bytes.len()).unwrap();
            assert_eq!(crate::sys::mem::read_vec(dst, len).unwrap(), big);
            let ws = decode_buffer_writes(&out).unwrap();
            assert_eq!(ws.len(), 3);
            assert_eq!((ws[0].0.value(), ws[0].1.len()), (dst, 0));
            assert_eq!((ws[1].0.value(), ws[1].1), (dst, &[5u8, 6][..]));
            assert_eq!((ws[2].0.value(), ws[2].1), (0x30_0000, &big[..]));
            // The stream ends inside a buffer: an error, not a hang.
            let cut = &bytes[..100_000];
            assert!(matches!(
                read_write_buffers_prewriting(&mut Cursor::new(cut), bytes.len()),
                Err(FrameError::UnexpectedEof)
            ));
            // A count or length the bytes do not hold: copied verbatim.
            let mut lying = bytes.clone();
            lying[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
            let out = read_write_buffers_prewriting(&mut Cursor::new(&lying), lying.len()).unwrap();
            assert_eq!(out, lying);
            // SAFETY: our own mapping, unused now.
            unsafe { crate::sys::mmap::unmap(dst, len).unwrap() };
        }
    }

    /// A source whose bytes become ready a few at a time: `try_read` finds
    /// nothing until `wait_ready` has been called.
    struct Trickle<'a> {
        data: &'a [u8],
        ready: bool,
        waits: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.data.len()).min(1000);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    impl FrameSource for Trickle<'_> {
        fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if !std::mem::take(&mut self.ready) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.read(buf)
        }

        fn wait_ready(&mut self) -> io::Result<()> {
            self.waits += 1;
            self.ready = true;
            Ok(())
        }
    }

    #[test]
    fn direct_reads_take_what_is_ready_and_wait_outside_the_lock() {
        let len = 200 << 10;
        let dst = crate::sys::mmap::map_anonymous_rw(len).unwrap();
        let big: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
        let mut bytes = 1u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&dst.to_le_bytes());
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&big);
        let mut src = Trickle {
            data: &bytes,
            ready: false,
            waits: 0,
        };
        let out = read_write_buffers_prewriting(&mut src, bytes.len()).unwrap();
        assert_eq!(crate::sys::mem::read_vec(dst, len).unwrap(), big);
        assert_eq!(out.len(), 24, "the buffer left the payload");
        assert!(src.waits >= 200, "{} waits", src.waits);
        // SAFETY: our own mapping, unused now.
        unsafe { crate::sys::mmap::unmap(dst, len).unwrap() };
    }

    #[test]
    fn mutated_prewriting_payloads_never_panic_or_write_outside_our_mapping() {
        use crate::sps::orc_types::{FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest};
        let len = 128 << 10;
        let dst = crate::sys::mmap::map_anonymous_rw(len).unwrap();
        let req = FinalizeRequest {
            segments: vec![
                SegFinalizeRequest {
                    rag: RemoteAllocGroup::new(true, true, false, false),
                    addr: crate::ExecutorAddr(dst),
                    size: len,
                    content: vec![3; (96 << 10) as usize],
                },
                SegFinalizeRequest {
                    rag: RemoteAllocGroup::new(true, false, false, false),
                    addr: crate::ExecutorAddr(dst + (96 << 10)),
                    size: 100,
                    content: vec![4; 100],
                },
            ],
            actions: vec![],
        };
        let init = crate::sps::serialize_to_vec(&(crate::ExecutorAddr(1), &req));
        let mut writes = 1u64.to_le_bytes().to_vec();
        writes.extend_from_slice(&dst.to_le_bytes());
        writes.extend_from_slice(&(80u64 << 10).to_le_bytes());
        writes.extend_from_slice(&[5u8; 80 << 10]);
        // xorshift64: deterministic, no dependency.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut spliced = 0;
        for round in 0..3000 {
            let base = if round % 2 == 0 { &init } else { &writes };
            let mut b = base.clone();
            // A few bytes of the first 80 (counts, addresses, lengths)
            // changed, sometimes a word set to an extreme, sometimes cut.
            for _ in 0..1 + next() % 3 {
                let i = (next() % 80) as usize % b.len();
                b[i] = next() as u8;
            }
            if next() % 4 == 0 {
                let i = (next() % 72) as usize & !7;
                let w = [u64::MAX, 0, dst, dst + len - 1, 1 << 40][(next() % 5) as usize];
                b[i..i + 8].copy_from_slice(&w.to_le_bytes());
            }
            if next() % 5 == 0 {
                let keep = (next() as usize) % b.len();
                b.truncate(keep);
            }
            let announced = if next() % 6 == 0 {
                b.len() + 1000
            } else {
                b.len()
            };
            let r = if round % 2 == 0 {
                read_initialize_prewriting(&mut io::Cursor::new(&b), announced)
            } else {
                read_write_buffers_prewriting(&mut io::Cursor::new(&b), announced)
            };
            if let Ok(out) = r {
                assert!(out.len() <= announced);
                spliced += usize::from(out.len() + 1000 < b.len());
                let _ = crate::sps_ci::memory::decode_initialize_args(&out);
                let _ = crate::sps_ci::access::decode_buffer_writes(&out);
            }
        }
        // Most mutations leave a large content to splice; many do not.
        assert!(spliced > 300 && spliced < 2700, "{spliced} spliced");
        // SAFETY: our own mapping, unused now.
        unsafe { crate::sys::mmap::unmap(dst, len).unwrap() };
    }

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
