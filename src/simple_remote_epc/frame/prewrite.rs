//! The prewriting frame reader: a large call of the memory manager's
//! `initialize` or of the bulk memory write is read with each large content
//! written straight to its destination as it arrives, instead of into a
//! payload buffer its size (no page faults on a buffer, no second copy).
//!
//! The reader decodes the fixed fields in front of each content (counts,
//! addresses, lengths) with the wire bindings' own types
//! ([`crate::sps_ci::memory::SegmentHead`],
//! [`crate::sps_ci::access::BufferWriteHead`]) as they come off the stream,
//! and re-encodes the fields of a content it wrote so that the handler
//! knows it is in place. Anything it cannot parse is copied verbatim, for
//! the handler's decoder to judge.

use std::io::{self, Read};

use super::{read_header, read_payload, BufferFrame, FrameError, FrameSource, Opcode};
use crate::sps::{deserialize_all, serialize_to_vec, SpsFixedSize};
use crate::sps_ci::access::BufferWriteHead;
use crate::sps_ci::memory::{encode_prewritten_segment, InitializeArgsHead, SegmentHead};
use crate::{ExecutorAddr, WrapperFunctionBuffer};

/// The entry points whose large calls the reader writes straight to their
/// destination (see [`read_frame_buffer_for`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrewriteTags {
    /// The memory manager's `initialize` wrapper.
    pub initialize: Option<u64>,
    /// `__llvm_orc_bootstrap_mem_write_buffers_wrapper`.
    pub write_buffers: Option<u64>,
}

/// [`read_frame_buffer`](super::read_frame_buffer), and a call with a payload of at least
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

    /// Keeps the encoding of the next `T` if the payload holds it, and
    /// decodes it: where it starts in `out`, and its value. `Ok(None)` if
    /// the payload ends first or the bytes are no `T`.
    fn keep_decoded<T: SpsFixedSize>(&mut self) -> Result<Option<(usize, T)>, FrameError> {
        let Some(at) = self.keep(T::ENCODED_SIZE as u64)? else {
            return Ok(None);
        };
        Ok(deserialize_all::<T>(&self.out[at..]).ok().map(|v| (at, v)))
    }

    /// Replaces what was kept from `at` on with `bytes`.
    fn replace_from(&mut self, at: usize, bytes: &[u8]) {
        self.out.truncate(at);
        self.out.extend_from_slice(bytes);
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
    // The count of writes; each write's address and length come before
    // its bytes.
    if let Some((_, count)) = s.keep_decoded::<u64>()? {
        for _ in 0..count {
            let Some((at, (addr, blen))) = s.keep_decoded::<BufferWriteHead>()? else {
                break;
            };
            let addr = addr.value();
            if blen > s.left {
                break;
            }
            if blen < PREWRITE_MIN_CONTENT || !writable(addr, blen) {
                s.keep(blen)?;
                continue;
            }
            let lost = s.divert(addr, blen)?;
            let write: (ExecutorAddr, &[u8]) = if lost {
                (ExecutorAddr::new(0), &[0])
            } else {
                (ExecutorAddr::new(addr), &[])
            };
            s.replace_from(at, &serialize_to_vec(&write));
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
    if let Some((_, (_instance, count))) = s.keep_decoded::<InitializeArgsHead>()? {
        for _ in 0..count {
            let Some((at, head)) = s.keep_decoded::<SegmentHead>()? else {
                break;
            };
            let (bits, addr, size, clen) = (head.0, head.1.value(), head.2, head.3);
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
            let written = if lost { u64::MAX } else { clen };
            s.replace_from(at, &encode_prewritten_segment(head, written));
        }
    }
    // The actions, and whatever did not parse.
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Held by every test here that maps memory. The mutation test turns
    /// addresses into others near its own mapping, and the reader writes
    /// wherever orc-rt mapped memory read+write: running beside another
    /// test of this module, it could write into that test's mapping (they
    /// sit next to each other), whose check of its content then fails
    /// (about one run in eight when only the two ran).
    static MAPPING_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn mapping_tests() -> std::sync::MutexGuard<'static, ()> {
        MAPPING_TESTS.lock().unwrap_or_else(|e| e.into_inner())
    }

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
            let _serial = super::mapping_tests();
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
            let _serial = super::mapping_tests();
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
            let _serial = super::mapping_tests();
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
            let _serial = super::mapping_tests();
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
        let _serial = mapping_tests();
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
        let _serial = mapping_tests();
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
}
