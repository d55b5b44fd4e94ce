//! A frame header announcing a huge payload must not make the reader
//! allocate that much before the bytes arrive. A counting global allocator
//! records the largest single allocation while a frame is read.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use orc_rt::simple_remote_epc::frame::{read_frame, FrameError, FrameHeader, Opcode};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn header(size: u64) -> Vec<u8> {
    let mut h = FrameHeader::new(Opcode::CallWrapper, 1, 0x1000, 0);
    h.size = size;
    h.encode().to_vec()
}

#[test]
fn huge_announced_sizes_cost_no_memory() {
    // 3 GiB announced (under the 4 GiB cap), 10 bytes sent.
    let mut input = header(3 << 30);
    input.extend_from_slice(&[0u8; 10]);
    LARGEST.store(0, Ordering::Relaxed);
    let e = read_frame(&mut &input[..]).unwrap_err();
    assert!(matches!(e, FrameError::UnexpectedEof), "{e}");
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= 2 << 20,
        "allocated {largest} bytes for 10 bytes of payload"
    );

    // 2^62: rejected from the header alone.
    LARGEST.store(0, Ordering::Relaxed);
    let e = read_frame(&mut &header(1 << 62)[..]).unwrap_err();
    assert!(matches!(e, FrameError::TooLarge(_)), "{e}");
    assert!(LARGEST.load(Ordering::Relaxed) <= 2 << 20);

    // A real 5 MiB payload still arrives whole.
    let data = vec![7u8; 5 << 20];
    let mut input = FrameHeader::new(Opcode::CallWrapper, 2, 0x1000, data.len())
        .encode()
        .to_vec();
    input.extend_from_slice(&data);
    let f = read_frame(&mut &input[..]).unwrap().unwrap();
    assert_eq!(f.payload.len(), data.len());
}
