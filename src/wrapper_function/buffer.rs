//! `WrapperFunctionBuffer`: bytes in, bytes out, small-buffer optimised, with
//! an out-of-band error state.
//!
//! The C layout ([`orc_rt_WrapperFunctionBuffer`]) is identical to LLVM 22's
//! `CWrapperFunctionBuffer` / `CWrapperFunctionResult`: a union of a pointer
//! and 8 inline bytes, then a `size_t`. Contents of up to 8 bytes live inline;
//! larger contents live in a `malloc`ed block, so C and Rust free each other's
//! buffers with `free`. `Size == 0` with a non-null pointer is an out-of-band
//! error whose pointer is a `malloc`ed NUL-terminated message.

use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_char;
use std::ptr;

/// Number of bytes stored inline: `sizeof(char *)`, 8 on the LP64 targets
/// orc-rt supports (checked at compile time below).
pub const INLINE_CAPACITY: usize = 8;
const _: () = assert!(std::mem::size_of::<*mut c_char>() == INLINE_CAPACITY);

/// Storage of an `orc_rt_WrapperFunctionBuffer`: a pointer to a `malloc`ed
/// block, or up to `sizeof(char *)` bytes held inline.
#[repr(C)]
#[derive(Copy, Clone)]
#[allow(non_camel_case_types, non_snake_case)]
pub union orc_rt_WrapperFunctionBufferDataUnion {
    /// Heap contents (Size > 8) or out-of-band error message (Size == 0).
    pub ValuePtr: *mut c_char,
    /// Inline contents (Size <= 8).
    pub Value: [c_char; 8],
}

impl std::fmt::Debug for orc_rt_WrapperFunctionBufferDataUnion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("orc_rt_WrapperFunctionBufferDataUnion")
            .finish_non_exhaustive()
    }
}

/// A byte buffer passed to and returned from wrapper functions.
///
/// States:
/// - empty: `Size == 0` and `Data.ValuePtr == NULL`;
/// - small: `0 < Size <= sizeof(char *)`, the bytes are in `Data.Value`;
/// - large: `Size > sizeof(char *)`, the bytes are in a `malloc`ed block at
///   `Data.ValuePtr`, freed with `free`;
/// - out-of-band error: `Size == 0` and `Data.ValuePtr` points at a
///   `malloc`ed NUL-terminated error message.
///
/// Layout-compatible with LLVM 22's `CWrapperFunctionBuffer`. Whoever holds a
/// buffer owns it and must pass it on or dispose of it with
/// `orc_rt_WrapperFunctionBufferDispose`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
#[allow(non_camel_case_types, non_snake_case)]
pub struct orc_rt_WrapperFunctionBuffer {
    /// Inline bytes, heap pointer or error message (see the states above).
    pub Data: orc_rt_WrapperFunctionBufferDataUnion,
    /// Number of content bytes (0 for empty and for out-of-band errors).
    pub Size: usize,
}

impl orc_rt_WrapperFunctionBuffer {
    /// The empty buffer.
    pub const fn empty() -> Self {
        orc_rt_WrapperFunctionBuffer {
            Data: orc_rt_WrapperFunctionBufferDataUnion {
                ValuePtr: ptr::null_mut(),
            },
            Size: 0,
        }
    }
}

/// Safe owner of an [`orc_rt_WrapperFunctionBuffer`]; frees it on drop.
///
/// Converts to and from the C struct without copying
/// ([`WrapperFunctionBuffer::into_raw`], [`WrapperFunctionBuffer::from_raw`]).
pub struct WrapperFunctionBuffer {
    raw: orc_rt_WrapperFunctionBuffer,
}

// SAFETY: the buffer exclusively owns its heap block (or inline bytes); no
// other handle aliases it, so moving or sharing it across threads is sound.
unsafe impl Send for WrapperFunctionBuffer {}
// SAFETY: shared access is read-only (`&self` methods only read).
unsafe impl Sync for WrapperFunctionBuffer {}

/// Allocates `n` bytes with `malloc`; `None` if it fails.
fn malloc_bytes(n: usize) -> Option<*mut c_char> {
    // SAFETY: malloc has no preconditions; a null result is handled.
    let p = unsafe { libc::malloc(n.max(1)) } as *mut c_char;
    if p.is_null() {
        None
    } else {
        Some(p)
    }
}

/// Copies `msg` into a `malloc`ed NUL-terminated string. Interior NULs are
/// replaced by spaces so the message survives as one C string.
fn malloc_c_string(msg: &str) -> *mut c_char {
    let bytes = msg.as_bytes();
    let p = match malloc_bytes(bytes.len() + 1) {
        Some(p) => p,
        None => std::alloc::handle_alloc_error(
            std::alloc::Layout::array::<u8>(bytes.len() + 1).expect("layout"),
        ),
    };
    for (i, &b) in bytes.iter().enumerate() {
        let b = if b == 0 { b' ' } else { b };
        // SAFETY: `p` has bytes.len() + 1 bytes and i < bytes.len().
        unsafe { *p.add(i) = b as c_char };
    }
    // SAFETY: the last byte of the block.
    unsafe { *p.add(bytes.len()) = 0 };
    p
}

impl WrapperFunctionBuffer {
    /// An empty buffer (no bytes, no error).
    pub const fn new() -> Self {
        WrapperFunctionBuffer {
            raw: orc_rt_WrapperFunctionBuffer::empty(),
        }
    }

    /// A buffer of `size` zeroed bytes; an out-of-band error if the memory
    /// cannot be allocated.
    pub fn allocate(size: usize) -> Self {
        let mut raw = orc_rt_WrapperFunctionBuffer::empty();
        if size > INLINE_CAPACITY {
            match malloc_bytes(size) {
                Some(p) => {
                    // SAFETY: p points at `size` writable bytes.
                    unsafe { ptr::write_bytes(p, 0, size) };
                    raw.Data.ValuePtr = p;
                }
                None => {
                    return Self::out_of_band_error(&format!(
                        "could not allocate a wrapper function buffer of {size} bytes"
                    ))
                }
            }
        } else {
            raw.Data.Value = [0; INLINE_CAPACITY];
        }
        raw.Size = size;
        WrapperFunctionBuffer { raw }
    }

    /// Like [`WrapperFunctionBuffer::allocate`], but the zeroed memory
    /// comes from `calloc`, which for large blocks maps fresh zero pages
    /// instead of writing zeros: pages not written later cost no memory.
    /// Used for payloads read straight from the wire.
    pub fn allocate_zeroed_lazily(size: usize) -> Self {
        if size <= INLINE_CAPACITY {
            return Self::allocate(size);
        }
        // SAFETY: calloc has no preconditions; a null result is handled.
        let p = unsafe { libc::calloc(size, 1) } as *mut c_char;
        if p.is_null() {
            return Self::out_of_band_error(&format!(
                "could not allocate a wrapper function buffer of {size} bytes"
            ));
        }
        let mut raw = orc_rt_WrapperFunctionBuffer::empty();
        raw.Data.ValuePtr = p;
        raw.Size = size;
        WrapperFunctionBuffer { raw }
    }

    /// A buffer holding a copy of `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut b = Self::allocate(bytes.len());
        if let Some(dst) = b.as_mut_slice() {
            dst.copy_from_slice(bytes);
        }
        b
    }

    /// A buffer in the out-of-band error state carrying `msg`.
    pub fn out_of_band_error(msg: &str) -> Self {
        let mut raw = orc_rt_WrapperFunctionBuffer::empty();
        raw.Data.ValuePtr = malloc_c_string(msg);
        WrapperFunctionBuffer { raw }
    }

    /// Takes ownership of a C buffer.
    ///
    /// # Safety
    /// `raw` must be a valid buffer in one of the documented states whose
    /// heap block (if any) was allocated with `malloc` and is owned by no one
    /// else from now on.
    pub unsafe fn from_raw(raw: orc_rt_WrapperFunctionBuffer) -> Self {
        WrapperFunctionBuffer { raw }
    }

    /// Gives up ownership, returning the C struct (no copy).
    pub fn into_raw(self) -> orc_rt_WrapperFunctionBuffer {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    /// Borrows the C struct.
    pub fn as_raw(&self) -> &orc_rt_WrapperFunctionBuffer {
        &self.raw
    }

    /// The out-of-band error message, if the buffer is in that state.
    pub fn out_of_band_error_message(&self) -> Option<&CStr> {
        // SAFETY: reading the pointer field of a Copy union is always defined
        // (both fields are plain data of the same size).
        let p = unsafe { self.raw.Data.ValuePtr };
        if self.raw.Size == 0 && !p.is_null() {
            // SAFETY: invariant of the error state: p is a NUL-terminated
            // string owned by this buffer.
            Some(unsafe { CStr::from_ptr(p) })
        } else {
            None
        }
    }

    /// True for the out-of-band error state.
    pub fn is_out_of_band_error(&self) -> bool {
        self.out_of_band_error_message().is_some()
    }

    /// True for the empty state (no bytes and no error).
    pub fn is_empty(&self) -> bool {
        // SAFETY: see out_of_band_error_message.
        self.raw.Size == 0 && unsafe { self.raw.Data.ValuePtr }.is_null()
    }

    /// Number of content bytes (0 for an error).
    pub fn len(&self) -> usize {
        self.raw.Size
    }

    /// The content bytes, or `None` for an out-of-band error.
    pub fn as_slice(&self) -> Option<&[u8]> {
        if self.is_out_of_band_error() {
            return None;
        }
        let n = self.raw.Size;
        if n == 0 {
            return Some(&[]);
        }
        let p = if n > INLINE_CAPACITY {
            // SAFETY: large state: ValuePtr is the active field.
            unsafe { self.raw.Data.ValuePtr as *const u8 }
        } else {
            // SAFETY: small state: the inline array is the active field.
            unsafe { self.raw.Data.Value.as_ptr() as *const u8 }
        };
        // SAFETY: p points at n initialised bytes owned by self.
        Some(unsafe { std::slice::from_raw_parts(p, n) })
    }

    /// The content bytes, mutable; `None` for an out-of-band error.
    pub fn as_mut_slice(&mut self) -> Option<&mut [u8]> {
        if self.is_out_of_band_error() {
            return None;
        }
        let n = self.raw.Size;
        if n == 0 {
            return Some(&mut []);
        }
        let p = if n > INLINE_CAPACITY {
            // SAFETY: large state: ValuePtr is the active field.
            unsafe { self.raw.Data.ValuePtr as *mut u8 }
        } else {
            // SAFETY: small state: the inline array is the active field.
            unsafe { self.raw.Data.Value.as_mut_ptr() as *mut u8 }
        };
        // SAFETY: p points at n initialised bytes exclusively owned by self.
        Some(unsafe { std::slice::from_raw_parts_mut(p, n) })
    }

    /// Converts to `Ok(bytes)` or `Err(out-of-band message)`.
    pub fn into_result(self) -> Result<WrapperFunctionBuffer, crate::Error> {
        match self.out_of_band_error_message() {
            Some(m) => Err(crate::Error::OutOfBand(m.to_string_lossy().into_owned())),
            None => Ok(self),
        }
    }
}

impl Default for WrapperFunctionBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for WrapperFunctionBuffer {
    fn drop(&mut self) {
        // SAFETY: self owns raw, which is in a valid state.
        unsafe { dispose_raw(&mut self.raw) };
    }
}

impl fmt::Debug for WrapperFunctionBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.out_of_band_error_message() {
            Some(m) => write!(f, "WrapperFunctionBuffer(error: {m:?})"),
            None => write!(
                f,
                "WrapperFunctionBuffer({:02x?})",
                self.as_slice().unwrap_or(&[])
            ),
        }
    }
}

/// Frees whatever `raw` owns and resets it to the empty state.
///
/// # Safety
/// `raw` must be in a valid state and its heap block (if any) owned by the
/// caller and allocated with `malloc`.
pub unsafe fn dispose_raw(raw: &mut orc_rt_WrapperFunctionBuffer) {
    // SAFETY: reading the pointer field of a Copy union is defined.
    let p = unsafe { raw.Data.ValuePtr };
    if raw.Size > INLINE_CAPACITY || (raw.Size == 0 && !p.is_null()) {
        // SAFETY: caller promise: p was malloc'ed and is owned by raw.
        unsafe { libc::free(p as *mut libc::c_void) };
    }
    *raw = orc_rt_WrapperFunctionBuffer::empty();
}

/// Encodes `v` into a new [`WrapperFunctionBuffer`] with one
/// allocation of exactly `v.size()` bytes. If the memory cannot be allocated
/// the result is an out-of-band error buffer.
pub fn serialize_to_buffer<T: crate::sps::SpsSerialize + ?Sized>(v: &T) -> WrapperFunctionBuffer {
    let size = v.size();
    let mut buf = WrapperFunctionBuffer::allocate(size);
    let overflowed = match buf.as_mut_slice() {
        Some(dst) => {
            let mut out = crate::sps::SpsOutputBuffer::new(dst);
            v.serialize(&mut out);
            out.overflowed() || out.position() != size
        }
        None => return buf,
    };
    if overflowed {
        return WrapperFunctionBuffer::out_of_band_error(
            "SPS: internal error: encoded size does not match the computed size",
        );
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sps_values_serialize_into_one_buffer() {
        use crate::sps::deserialize_all;
        let small = serialize_to_buffer(&(7u32,));
        assert_eq!(small.as_slice(), Some(&[7u8, 0, 0, 0][..]));
        let v = vec![7u8; 1000];
        let buf = serialize_to_buffer(&v);
        assert_eq!(buf.len(), 1008);
        assert_eq!(
            deserialize_all::<Vec<u8>>(buf.as_slice().expect("bytes")),
            Ok(v)
        );
    }

    #[test]
    fn layout_matches_llvm() {
        assert_eq!(std::mem::size_of::<orc_rt_WrapperFunctionBuffer>(), 16);
        assert_eq!(std::mem::align_of::<orc_rt_WrapperFunctionBuffer>(), 8);
    }

    #[test]
    fn states() {
        let e = WrapperFunctionBuffer::new();
        assert!(e.is_empty());
        assert_eq!(e.as_slice(), Some(&[][..]));
        for n in [1usize, 7, 8, 9, 100, 4096] {
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let b = WrapperFunctionBuffer::from_slice(&data);
            assert_eq!(b.len(), n);
            assert_eq!(b.as_slice().unwrap(), &data[..]);
            assert!(!b.is_out_of_band_error());
            let raw = b.into_raw();
            // SAFETY: raw came from into_raw just above.
            let b2 = unsafe { WrapperFunctionBuffer::from_raw(raw) };
            assert_eq!(b2.as_slice().unwrap(), &data[..]);
        }
        let err = WrapperFunctionBuffer::out_of_band_error("bad\0args");
        assert!(err.is_out_of_band_error());
        assert_eq!(err.as_slice(), None);
        assert_eq!(
            err.out_of_band_error_message().unwrap().to_str().unwrap(),
            "bad args"
        );
        assert!(matches!(err.into_result(), Err(crate::Error::OutOfBand(m)) if m == "bad args"));
    }
}
