//! SimpleRemoteEPC frame parsing (`read_frame_buffer`, the reader the
//! executor uses, and `FrameHeader`) over an arbitrary byte stream,
//! delivered in fuzzer-chosen chunk sizes with injected `Interrupted`
//! errors.
//!
//! Properties checked:
//! - `read_frame_buffer` never panics (its memory use for announced but
//!   missing bytes is checked by `tests/simple_remote_epc_alloc.rs`);
//! - each frame read carries an in-band payload (never an out-of-band
//!   error) and re-encodes (header + payload) to exactly the bytes it
//!   consumed, and its header's checked payload length matches;
//! - `Ok(None)` only at a frame boundary with no byte left,
//!   `UnexpectedEof` only when the stream really ended inside a frame, and
//!   `SizeTooSmall` / `TooLarge` exactly when the size field says so;
//! - header encode/decode round-trips for every 32-byte window.

#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use orc_rt::simple_remote_epc::frame::{read_frame_buffer, FrameError, FrameHeader};
use orc_rt::simple_remote_epc::{Opcode, HEADER_SIZE, MAX_PAYLOAD_SIZE};

/// A reader that hands out at most `chunk` bytes per call and fails with
/// `Interrupted` every `interrupt_every` calls (0: never; never 1).
struct Chunky<'a> {
    data: &'a [u8],
    pos: usize,
    chunk: usize,
    calls: usize,
    interrupt_every: usize,
}

impl Read for Chunky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.interrupt_every != 0 && self.calls % self.interrupt_every == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 2 {
        return;
    }
    let chunk = 1 + input[0] as usize % 64;
    // Every 2nd..7th call fails with Interrupted (0 and 1: never; a reader
    // that is always interrupted never makes progress, with any caller).
    let interrupt_every = match input[1] % 8 {
        n @ 2.. => n as usize,
        _ => 0,
    };
    let stream = &input[2..];

    for w in stream.windows(HEADER_SIZE).take(64) {
        let b: &[u8; HEADER_SIZE] = w.try_into().expect("window of HEADER_SIZE");
        let h = FrameHeader::decode(b);
        assert_eq!(&h.encode(), b);
        if let Some(op) = Opcode::from_u64(h.opcode) {
            assert_eq!(op.to_u64(), h.opcode);
        }
    }

    let mut r = Chunky {
        data: stream,
        pos: 0,
        chunk,
        calls: 0,
        interrupt_every,
    };
    loop {
        let start = r.pos;
        match read_frame_buffer(&mut r) {
            Ok(None) => {
                assert_eq!(start, stream.len(), "clean EOF with bytes left");
                break;
            }
            Ok(Some(f)) => {
                let consumed = &stream[start..r.pos];
                let payload = f.payload.as_slice().expect("an in-band payload");
                assert_eq!(f.header.payload_len().ok(), Some(payload.len()));
                let mut again = f.header.encode().to_vec();
                again.extend_from_slice(payload);
                assert_eq!(again, consumed, "frame does not re-encode to its bytes");
                if let Some(op) = Opcode::from_u64(f.header.opcode) {
                    let h = FrameHeader::new(op, f.header.seqno, f.header.tag, payload.len());
                    assert_eq!(h, f.header);
                }
            }
            Err(e) => {
                let left = stream.len() - start;
                match e {
                    FrameError::UnexpectedEof => {
                        if left >= HEADER_SIZE {
                            let b: &[u8; HEADER_SIZE] =
                                stream[start..start + HEADER_SIZE].try_into().unwrap();
                            let h = FrameHeader::decode(b);
                            assert!(h.size > left as u64, "EOF reported on a whole frame");
                        } else {
                            assert!(left > 0);
                        }
                    }
                    FrameError::SizeTooSmall | FrameError::TooLarge(_) => {
                        assert!(left >= HEADER_SIZE);
                        let b: &[u8; HEADER_SIZE] =
                            stream[start..start + HEADER_SIZE].try_into().unwrap();
                        let size = FrameHeader::decode(b).size;
                        let too_small = size < HEADER_SIZE as u64;
                        let too_large = !too_small && size - HEADER_SIZE as u64 > MAX_PAYLOAD_SIZE;
                        assert!(too_small || too_large, "size {size} refused");
                        assert_eq!(matches!(e, FrameError::SizeTooSmall), too_small);
                    }
                    FrameError::Io(e) => panic!("unexpected I/O error: {e}"),
                }
                break;
            }
        }
    }
});
