//! Thread-local storage for JIT'd ELF code (general-dynamic model).
//!
//! Both architectures reach [`get_addr`] with the address of a 16-byte
//! entry `{key, address in the TLS image}` that JITLink built:
//!
//! * **x86-64.** The controller renames each `__tls_get_addr` call of a
//!   JIT'd object to the archive's `___orc_rt_elfnix_tls_get_addr` stub,
//!   with `%rdi` pointing at the entry. The stub returns the variable's
//!   address for the calling thread.
//! * **AArch64.** Thread-locals go through TLS descriptors: JIT'd code
//!   loads a descriptor's resolver and calls it with `x0` pointing at the
//!   descriptor, then adds the result to `TPIDR_EL0`. JITLink makes each
//!   descriptor `{resolver, address of the entry}` and the controller
//!   renames the resolver `__tlsdesc_resolver` to the archive's
//!   `___orc_rt_elfnix_tlsdesc_resolver`. That stub hands the entry to the
//!   same lookup and returns the address minus the thread pointer. Code
//!   that calls a resolver counts on every register but `x0` surviving, so
//!   the stub saves `x1`-`x18`, all of `q0`-`q31` and the flags around the
//!   lookup. SVE state beyond the 128-bit `q` registers is not saved: code
//!   compiled for SVE that keeps `z`/`p` registers live across a
//!   thread-local access is not supported.
//!
//! Per-thread data is keyed by the registered TLS *image* (a graph's
//! `.tdata` ∪ `.tbss` range) that contains the descriptor's address, never
//! by the key: LLVM 22 gives every graph its own key, so an `extern`
//! thread-local defined in one object and used from another would
//! otherwise get two copies per thread. On a thread's first use of an
//! image, the image is copied (its `.tbss` part is zero in memory). The
//! copies are freed when the thread exits, after the thread's C++
//! `thread_local` destructors (which glibc runs first).
//!
//! ```
//! use orc_rt::services::elfnix_platform::tls;
//! use orc_rt::{ExecutorAddr, ExecutorAddrRange};
//!
//! // A TLS image: two 8-byte variables with initial values 7 and 9.
//! let image: &'static [u64; 2] = Box::leak(Box::new([7u64, 9u64]));
//! let start = image.as_ptr() as u64;
//! let range = ExecutorAddrRange::new(ExecutorAddr::new(start), ExecutorAddr::new(start + 16));
//! tls::register_image(range).unwrap();
//!
//! // Each thread sees its own copy of the second variable.
//! let mine = tls::get_addr(start + 8).unwrap() as *mut u64;
//! // SAFETY: get_addr returns this thread's 8-byte copy.
//! unsafe { assert_eq!(*mine, 9); *mine = 10; }
//! let theirs = std::thread::spawn(move || {
//!     let p = tls::get_addr(start + 8).unwrap() as *mut u64;
//!     // SAFETY: as above, for that thread.
//!     unsafe { *p }
//! }).join().unwrap();
//! assert_eq!(theirs, 9);
//! // SAFETY: as above.
//! unsafe { assert_eq!(*(tls::get_addr(start + 8).unwrap() as *mut u64), 10) };
//!
//! tls::deregister_image(range).unwrap();
//!
//! // An address in no registered image (a thread-local in a section of its
//! // own, which LLVM 22 does not register) starts an inferred image.
//! let lone: &'static [u64; 1] = Box::leak(Box::new([5u64]));
//! let p = tls::get_addr(lone.as_ptr() as u64).unwrap() as *const u64;
//! assert_ne!(p, lone.as_ptr());
//! // SAFETY: this thread's copy of the 8 bytes.
//! unsafe { assert_eq!(*p, 5) };
//! // Memory that cannot be read is no image.
//! assert!(tls::get_addr(8).is_err());
//! ```

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use super::error::PlatformError;
use crate::sync::{read, write};
use crate::sys::mem;
use crate::ExecutorAddrRange;

/// Largest image accepted (a bound on what one thread copies).
pub const MAX_IMAGE_SIZE: u64 = 1 << 30;

/// A registered image: its end, a generation that tells it apart from a
/// later image at the same address, and whether it was inferred (see
/// [`INFERRED_IMAGE_SIZE`]) rather than registered.
#[derive(Clone, Copy)]
struct Image {
    end: u64,
    generation: u64,
    inferred: bool,
}

/// Most an inferred image covers.
///
/// LLVM 22's controller registers only the sections named exactly `.tdata`
/// and `.tbss`. Thread-locals that the compiler puts in sections of their
/// own (`.tbss.<name>`, `.tdata.<name>`: C++ inline and template
/// variables, function-local `thread_local`s of inline functions, their
/// guards) reach `__tls_get_addr` with an address in no registered image.
/// Such an address starts an *inferred* image: up to this many bytes from
/// it, stopping at the next image and at the end of readable memory. All
/// threads share its bounds, so every thread has one copy of each variable.
/// A variable larger than this, in a section of its own, is cut short.
pub const INFERRED_IMAGE_SIZE: u64 = 64 * 1024;

/// Registered images by start address.
static IMAGES: RwLock<BTreeMap<u64, Image>> = RwLock::new(BTreeMap::new());
/// Bumped by every deregistration: threads drop stale copies when it moves.
static EPOCH: AtomicU64 = AtomicU64::new(0);
/// Source of generations.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// One thread's copy of one image.
struct Copy {
    start: u64,
    end: u64,
    generation: u64,
    data: *mut u8,
    layout: Layout,
}

impl Drop for Copy {
    fn drop(&mut self) {
        // SAFETY: `data` came from `alloc_zeroed(layout)` and is freed once.
        unsafe { dealloc(self.data, self.layout) }
    }
}

/// The calling thread's copies, and the epoch they were checked against.
struct ThreadCopies {
    epoch: u64,
    copies: Vec<Copy>,
}

thread_local! {
    static COPIES: RefCell<ThreadCopies> = const {
        RefCell::new(ThreadCopies { epoch: 0, copies: Vec::new() })
    };
}

/// Registers a TLS image. Overlapping an image already registered is an
/// error, as is an empty, reversed or oversized range.
pub fn register_image(range: ExecutorAddrRange) -> Result<(), PlatformError> {
    let (start, end) = (range.start.value(), range.end.value());
    if start == 0 || end <= start || end - start > MAX_IMAGE_SIZE {
        return Err(PlatformError::BadTlsImage { start, end });
    }
    let mut images = write(&IMAGES);
    // Inferred images give way to registered ones.
    let inferred: Vec<u64> = images
        .iter()
        .filter(|(&s, i)| i.inferred && s < end && i.end > start)
        .map(|(&s, _)| s)
        .collect();
    if !inferred.is_empty() {
        for s in inferred {
            images.remove(&s);
        }
        EPOCH.fetch_add(1, Ordering::Release);
    }
    let before = images.range(..end).next_back();
    if let Some((&s, img)) = before {
        if img.end > start {
            return Err(PlatformError::OverlappingTlsImage {
                start,
                end,
                other: s,
            });
        }
    }
    let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
    images.insert(
        start,
        Image {
            end,
            generation,
            inferred: false,
        },
    );
    Ok(())
}

/// Deregisters the image registered with exactly this range. Threads drop
/// their copies of it at their next TLS access or when they exit.
pub fn deregister_image(range: ExecutorAddrRange) -> Result<(), PlatformError> {
    let (start, end) = (range.start.value(), range.end.value());
    let mut images = write(&IMAGES);
    match images.get(&start) {
        Some(img) if img.end == end && !img.inferred => {
            images.remove(&start);
            EPOCH.fetch_add(1, Ordering::Release);
            Ok(())
        }
        _ => Err(PlatformError::UnknownTlsImage { start, end }),
    }
}

/// The calling thread's address of the thread-local variable whose address
/// in its TLS image is `addr`; the image is copied on the thread's first use.
pub fn get_addr(addr: u64) -> Result<u64, PlatformError> {
    COPIES.with(|c| {
        let mut c = c.borrow_mut();
        let epoch = EPOCH.load(Ordering::Acquire);
        if c.epoch != epoch {
            // Some image went away: keep only copies of live images.
            let images = read(&IMAGES);
            c.copies.retain(|cp| {
                images
                    .get(&cp.start)
                    .is_some_and(|i| i.generation == cp.generation)
            });
            c.epoch = epoch;
        }
        if let Some(cp) = c.copies.iter().find(|cp| cp.start <= addr && addr < cp.end) {
            return Ok(cp.data as u64 + (addr - cp.start));
        }
        let cp = copy_image(addr)?;
        let r = cp.data as u64 + (addr - cp.start);
        c.copies.push(cp);
        Ok(r)
    })
}

/// Forgets every inferred image (their memory may be reused).
pub fn forget_inferred_images() {
    let mut images = write(&IMAGES);
    images.retain(|_, i| !i.inferred);
    EPOCH.fetch_add(1, Ordering::Release);
}

/// The image that contains `addr`: registered, inferred earlier, or
/// inferred now (see [`INFERRED_IMAGE_SIZE`]).
fn image_containing(addr: u64) -> Result<(u64, Image), PlatformError> {
    let found = |images: &BTreeMap<u64, Image>| match images.range(..=addr).next_back() {
        Some((&s, &img)) if addr < img.end => Some((s, img)),
        _ => None,
    };
    if let Some(f) = found(&read(&IMAGES)) {
        return Ok(f);
    }
    let mut images = write(&IMAGES);
    if let Some(f) = found(&images) {
        return Ok(f);
    }
    let mut end = addr.saturating_add(INFERRED_IMAGE_SIZE);
    if let Some((&next, _)) = images.range(addr..).next() {
        end = end.min(next);
    }
    // Stop at the first page that cannot be read.
    let page = crate::sys::mmap::page_size();
    let mut p = addr;
    let mut byte = [0u8; 1];
    while p < end {
        if mem::read(p, &mut byte).is_err() {
            end = p;
            break;
        }
        p = (p / page + 1) * page;
    }
    if end <= addr {
        return Err(PlatformError::NoTlsImage(addr));
    }
    let img = Image {
        end,
        generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
        inferred: true,
    };
    images.insert(addr, img);
    Ok((addr, img))
}

/// Makes the calling thread's copy of the image that contains `addr`.
fn copy_image(addr: u64) -> Result<Copy, PlatformError> {
    let (start, img) = image_containing(addr)?;
    let len = img.end - start;
    // The copy keeps the image's alignment: the largest power of two that
    // divides its start, at least 16 and at most a page.
    let align = (1u64 << start.trailing_zeros().min(12)).max(16) as usize;
    let layout =
        Layout::from_size_align(len as usize, align).map_err(|_| PlatformError::BadTlsImage {
            start,
            end: img.end,
        })?;
    // SAFETY: `layout` has a non-zero size (images are never empty).
    let data = unsafe { alloc_zeroed(layout) };
    if data.is_null() {
        return Err(PlatformError::TlsAllocation(len));
    }
    let cp = Copy {
        start,
        end: img.end,
        generation: img.generation,
        data,
        layout,
    };
    // SAFETY: `data` is a fresh allocation of `len` bytes, alive while `cp` is.
    let dst = unsafe { std::slice::from_raw_parts_mut(data, len as usize) };
    mem::read(start, dst).map_err(|e| PlatformError::UnreadableTlsImage { start, source: e })?;
    Ok(cp)
}
