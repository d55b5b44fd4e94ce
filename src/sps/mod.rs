//! SimplePackedSerialization (SPS): ORC's wire format for wrapper-function
//! arguments and results, byte-compatible with LLVM 22.
//!
//! SPS has no schema or tags on the wire: both sides agree on a signature.
//! Here the Rust type *is* the signature.
//!
//! # What is checked when
//!
//! * **At compile time**, within one Rust expression: a handler made from
//!   a closure ([`sps_handler`](crate::wrapper_function::sps_handler))
//!   decodes exactly its closure's argument type, and a
//!   [`TypedCall<A, R>`](crate::wrapper_function::TypedCall) made from a
//!   closure only accepts `&A` and yields `R` when called through
//!   `InProcessController::call_typed*`. Only there is a mismatch a compile
//!   error.
//! * **At run time**, everywhere the two sides are typed separately:
//!   bytes passed as a [`WrapperFunctionBuffer`](crate::WrapperFunctionBuffer)
//!   (`InProcessController::call_blocking(f, serialize_to_buffer(&args))`),
//!   controller calls by tag (`Session::call_controller_sps::<A, R>`, whose
//!   handler is in the controller), functions at an address (C, JIT'd code,
//!   `TypedCall::assume`). The bytes carry no type, so a mismatch is found
//!   when they do not decode: the handler answers with an out-of-band error
//!   naming its expected signature and the number of bytes it got (for
//!   example ``could not deserialize wrapper function arguments as the
//!   handler's signature `(i32, i32)` from the 9 bytes received ...:
//!   1 trailing bytes after the value``); a result that does not decode
//!   is a [`ResultDecodeError`](crate::wrapper_function::ResultDecodeError)
//!   naming the caller's result type and the size received. Bytes that
//!   happen to decode as another type of the same layout are not detected
//!   at all.
//!
//! Encoding is exact (the size is computed first, then one allocation);
//! decoding checks every count and length against the bytes left before it
//! allocates anything.
//!
//! # Type mapping
//!
//! | SPS type | Rust type (encode / decode) |
//! |---|---|
//! | `bool` | `bool` (decode rejects bytes other than `00`/`01`) |
//! | `char`, `uint8_t` | `u8` |
//! | `int8_t` .. `int64_t`, `uint16_t` .. `uint64_t` | `i8` .. `i64`, `u16` .. `u64` (little-endian) |
//! | `SPSEmpty` | `()` (zero bytes) |
//! | `SPSString` | `String` (decode rejects invalid UTF-8); `&str`/`str` encode only |
//! | `SPSSequence<char>` / `SPSSequence<uint8_t>` | `Vec<u8>` (bulk copy); `&[u8]` encode only; [`SpsBytes`] zero-copy decode |
//! | `SPSSequence<T>` | `Vec<T>`; `&[T]`/`[T]` encode only |
//! | `SPSTuple<T1..Tn>`, `SPSArgList<T1..Tn>` | `(T1, .., Tn)`, n = 1..12 |
//! | `SPSOptional<T>` | `Option<T>` |
//! | `SPSExpected<T>` | [`SpsExpected<T>`] (flag `01` = value) |
//! | `SPSError` | [`SpsResult`] = `Result<(), String>` (flag `01` = error) |
//! | `SPSSequence<SPSTuple<SPSString, V>>` | `HashMap<String, V>`, `BTreeMap<String, V>` (decode rejects duplicate keys), or `Vec<(String, V)>` (order kept, duplicates allowed) |
//! | `SPSExecutorAddr` | [`crate::ExecutorAddr`] |
//! | `SPSExecutorAddrRange` | [`crate::ExecutorAddrRange`] |
//! | ORC structures (`SPSFinalizeRequest`, ...) | see [`orc_types`] |
//!
//! `SPSError` and `SPSExpected<SPSEmpty>` are encoded with *opposite* flag
//! senses, which is why they are two distinct Rust types: `Ok(())` as an
//! [`SpsResult`] is `00`, while `SpsExpected(Ok(()))` is `01`.
//!
//! References (`&T`) encode like `T`, so argument tuples can borrow:
//! `serialize_to_vec(&(addr, &names[..]))`.
//!
//! # Where decoding is stricter than LLVM
//!
//! Every valid LLVM 22 encoding decodes to the same value and re-encodes to
//! the same bytes (checked by `tests/sps_differential.rs` against LLVM's own
//! C++ code). On invalid input orc-rt refuses more than LLVM does:
//!
//! * a `bool`/flag byte other than `00`/`01` ([`SpsError::InvalidBool`]);
//!   LLVM copies the raw byte into a C++ `bool`;
//! * a `RemoteAllocGroup` byte with bits above `0x0f`
//!   ([`SpsError::InvalidAllocGroup`]); LLVM drops them;
//! * bytes left after the value in [`deserialize_all`]
//!   ([`SpsError::TrailingBytes`]); LLVM ignores them
//!   ([`deserialize_prefix`] behaves like LLVM);
//! * invalid UTF-8 decoded as `String` ([`SpsError::InvalidUtf8`]); decode
//!   as `Vec<u8>` or [`SpsBytes`] to accept any bytes;
//! * a count that cannot fit in the remaining input
//!   ([`SpsError::LengthTooLarge`]), checked before any allocation; LLVM
//!   reserves first. Sequences of zero-sized elements are capped at
//!   [`MAX_ZERO_SIZED_COUNT`].
//!
//! # Example
//!
//! ```
//! use orc_rt::sps::{deserialize_all, deserialize_prefix, serialize_to_vec};
//! use orc_rt::sps::{SpsError, SpsExpected, SpsResult};
//! use orc_rt::ExecutorAddr;
//!
//! // The argument list `(uint32_t, SPSString, SPSOptional<SPSExecutorAddr>)`.
//! let args = (7u32, "hi".to_string(), Some(ExecutorAddr::new(0x1000)));
//! let bytes = serialize_to_vec(&args);
//! assert_eq!(
//!     bytes[..14],
//!     [7, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, b'h', b'i']
//! );
//! assert_eq!(bytes[14..], [1, 0, 0x10, 0, 0, 0, 0, 0, 0]);
//! let back: (u32, String, Option<ExecutorAddr>) = deserialize_all(&bytes).unwrap();
//! assert_eq!(back, args);
//!
//! // Decoding is strict about malformed input...
//! assert_eq!(deserialize_all::<bool>(&[2]), Err(SpsError::InvalidBool(2)));
//! assert_eq!(
//!     deserialize_all::<u8>(&[1, 2]),
//!     Err(SpsError::TrailingBytes(1))
//! );
//! let huge_count = u64::MAX.to_le_bytes();
//! assert!(matches!(
//!     deserialize_all::<Vec<u64>>(&huge_count),
//!     Err(SpsError::LengthTooLarge { .. })
//! ));
//! // ... unless asked to behave like LLVM: value and bytes used.
//! assert_eq!(deserialize_prefix::<u8>(&[1, 2]), Ok((1, 1)));
//!
//! // SPSError and SPSExpected<SPSEmpty> flag success oppositely.
//! assert_eq!(serialize_to_vec(&SpsResult::Ok(())), [0]);
//! assert_eq!(serialize_to_vec(&SpsExpected::ok(())), [1]);
//! ```

/// cbindgen:ignore
mod impls;
/// cbindgen:ignore
pub mod orc_types;
#[cfg(test)]
mod tests;

pub use impls::{to_sps_result, SpsBytes, SpsExpected, SpsResult, MAX_ZERO_SIZED_COUNT};

/// An SPS decoding or encoding failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpsError {
    /// The input ended before the value did.
    #[error("unexpected end of input: needed {needed} more bytes, {remaining} left")]
    UnexpectedEnd {
        /// Bytes the decoder needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A `bool` (or an optional/error/expected flag) was neither 0 nor 1.
    #[error("invalid bool byte {0:#04x} (expected 0x00 or 0x01)")]
    InvalidBool(u8),
    /// A string was not valid UTF-8.
    #[error("string is not valid UTF-8 (valid up to byte {valid_up_to})")]
    InvalidUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// A sequence count or byte length cannot fit in the remaining input.
    #[error("sequence count {count} is too large for the {remaining} bytes left")]
    LengthTooLarge {
        /// The count read from the input.
        count: u64,
        /// Bytes that were left after the count.
        remaining: usize,
    },
    /// The value ended before the input did.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A string-keyed map contained the same key twice.
    #[error("duplicate map key {0:?}")]
    DuplicateKey(String),
    /// A `RemoteAllocGroup` byte had bits outside Read/Write/Exec/FinalizeLifetime.
    #[error("invalid RemoteAllocGroup byte {0:#04x}")]
    InvalidAllocGroup(u8),
}

crate::module_error!(SpsError, Sps);

/// A cursor over SPS-encoded input bytes.
#[derive(Debug, Clone)]
pub struct SpsInputBuffer<'a> {
    data: &'a [u8],
    zero_sized_budget: usize,
}

impl<'a> SpsInputBuffer<'a> {
    /// A cursor at the start of `data`.
    #[inline]
    pub fn new(data: &'a [u8]) -> Self {
        SpsInputBuffer {
            data,
            zero_sized_budget: MAX_ZERO_SIZED_COUNT,
        }
    }

    /// Number of bytes not consumed yet.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.data.len()
    }

    /// True when every byte has been consumed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes not consumed yet.
    pub fn as_slice(&self) -> &'a [u8] {
        self.data
    }

    /// Consumes and returns the next `n` bytes.
    #[inline]
    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8], SpsError> {
        if n > self.data.len() {
            return Err(self.end_error(n));
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    /// Consumes the next `N` bytes as an array.
    #[inline]
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], SpsError> {
        match self.data.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.data = tail;
                Ok(*head)
            }
            None => Err(self.end_error(N)),
        }
    }

    #[cold]
    fn end_error(&self, needed: usize) -> SpsError {
        SpsError::UnexpectedEnd {
            needed,
            remaining: self.data.len(),
        }
    }

    /// Reads a `u64` count and checks that `count` elements of at least
    /// `min_elem_size` bytes each fit in the remaining input. Elements of
    /// size 0 draw on a budget of [`MAX_ZERO_SIZED_COUNT`] per input.
    #[inline]
    pub fn read_count(&mut self, min_elem_size: usize) -> Result<usize, SpsError> {
        let count = u64::from_le_bytes(self.read_array::<8>()?);
        let remaining = self.remaining();
        let too_large = SpsError::LengthTooLarge { count, remaining };
        let count = usize::try_from(count).map_err(|_| too_large.clone())?;
        match remaining.checked_div(min_elem_size) {
            Some(limit) if count > limit => Err(too_large),
            Some(_) => Ok(count),
            None if count > self.zero_sized_budget => Err(too_large),
            None => {
                self.zero_sized_budget -= count;
                Ok(count)
            }
        }
    }
}

/// A writer into a preallocated byte slice of the exact encoded size.
///
/// Writing past the end never panics: a write that does not fit is dropped
/// and [`SpsOutputBuffer::overflowed`] turns true (a size/serialize mismatch,
/// i.e. a bug in an [`SpsSerialize`] impl).
#[derive(Debug)]
pub struct SpsOutputBuffer<'a> {
    data: &'a mut [u8],
    pos: usize,
    overflowed: bool,
}

impl<'a> SpsOutputBuffer<'a> {
    /// A writer at the start of `data`.
    pub fn new(data: &'a mut [u8]) -> Self {
        SpsOutputBuffer {
            data,
            pos: 0,
            overflowed: false,
        }
    }

    /// Appends `bytes`.
    #[inline]
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        match self.data.get_mut(self.pos..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.pos = end;
            }
            None => self.overflowed = true,
        }
    }

    /// Appends a fixed-size array (faster than [`SpsOutputBuffer::write_bytes`]
    /// for small constant sizes).
    #[inline]
    pub fn write_array<const N: usize>(&mut self, bytes: [u8; N]) {
        let pos = self.pos;
        match self
            .data
            .get_mut(pos..)
            .and_then(|d| d.first_chunk_mut::<N>())
        {
            Some(dst) => {
                *dst = bytes;
                self.pos = pos + N;
            }
            None => self.overflowed = true,
        }
    }

    /// Appends one byte.
    #[inline]
    pub fn write_u8(&mut self, b: u8) {
        self.write_array([b]);
    }

    /// Moves the cursor out (leaving `self` empty) for a tight loop.
    #[inline]
    fn detach(&mut self) -> SpsOutputBuffer<'a> {
        SpsOutputBuffer {
            data: std::mem::take(&mut self.data),
            pos: self.pos,
            overflowed: self.overflowed,
        }
    }

    /// Puts back a cursor taken by [`SpsOutputBuffer::detach`].
    #[inline]
    fn reattach(&mut self, other: SpsOutputBuffer<'a>) {
        self.data = other.data;
        self.pos = other.pos;
        self.overflowed = other.overflowed;
    }

    /// Bytes written so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// True if a write did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }
}

/// A Rust value that encodes as some SPS type (see the module table).
pub trait SpsSerialize {
    /// Exact number of bytes [`SpsSerialize::serialize`] writes.
    fn size(&self) -> usize;
    /// Writes the encoding; must write exactly [`SpsSerialize::size`] bytes.
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>);

    /// Encoded size of a sequence's elements (without the count). Byte
    /// types override this and [`SpsSerialize::serialize_slice`] to copy in
    /// bulk.
    #[doc(hidden)]
    #[inline]
    fn slice_size(items: &[Self]) -> usize
    where
        Self: Sized,
    {
        items.iter().map(|i| i.size()).sum()
    }

    /// Writes a sequence's elements (without the count).
    #[doc(hidden)]
    #[inline]
    fn serialize_slice(items: &[Self], out: &mut SpsOutputBuffer<'_>)
    where
        Self: Sized,
    {
        // Work on a local copy of the cursor so that, once the element
        // encoders are inlined, it can live in registers.
        let mut local = out.detach();
        for i in items {
            i.serialize(&mut local);
        }
        out.reattach(local);
    }
}

/// A Rust value that decodes from some SPS type (see the module table).
pub trait SpsDeserialize: Sized {
    /// The smallest number of bytes any encoding of this type takes; used to
    /// bound sequence counts before allocating.
    const MIN_ENCODED_SIZE: usize;

    /// Decodes one value, consuming its bytes.
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError>;

    /// Decodes `count` elements (already checked against the input by
    /// [`SpsInputBuffer::read_count`]). Byte types override this to copy in
    /// bulk.
    #[doc(hidden)]
    #[inline]
    fn deserialize_seq(
        count: usize,
        input: &mut SpsInputBuffer<'_>,
    ) -> Result<Vec<Self>, SpsError> {
        let mut v = Vec::with_capacity(count.min(input.remaining()));
        for _ in 0..count {
            v.push(Self::deserialize(input)?);
        }
        Ok(v)
    }
}

/// An SPS type every encoding of which takes exactly
/// [`SpsDeserialize::MIN_ENCODED_SIZE`] bytes:
/// fixed-width integers, `bool`, `()`, `SPSExecutorAddr`,
/// `SPSExecutorAddrRange`, `SPSRemoteAllocGroup`, and tuples of these.
///
/// A reader that streams a large message, rather than holding it whole,
/// takes exactly [`SpsFixedSize::ENCODED_SIZE`] bytes off the stream and
/// decodes them with [`deserialize_all`]: the fixed fields in front of a
/// sequence's elements, say, including the sequence's count. Such a reader
/// names the fields by type and never by byte offset.
///
/// ```
/// use orc_rt::sps::{deserialize_all, serialize_to_vec, SpsFixedSize};
/// use orc_rt::ExecutorAddr;
///
/// // `(SPSExecutorAddr, SPSSequence<char>)` starts with the address and
/// // the count of the bytes that follow.
/// type Head = (ExecutorAddr, u64);
/// let bytes = serialize_to_vec(&(ExecutorAddr::new(0x1000), &b"abc"[..]));
/// assert_eq!(Head::ENCODED_SIZE, 16);
/// let head: Head = deserialize_all(&bytes[..Head::ENCODED_SIZE]).unwrap();
/// assert_eq!(head, (ExecutorAddr::new(0x1000), 3));
/// assert_eq!(&bytes[Head::ENCODED_SIZE..], b"abc");
/// ```
pub trait SpsFixedSize: SpsDeserialize {
    /// The size of every encoding of the type.
    const ENCODED_SIZE: usize = Self::MIN_ENCODED_SIZE;
}

/// Encodes `v` into a new `Vec<u8>` of exactly `v.size()` bytes.
pub fn serialize_to_vec<T: SpsSerialize + ?Sized>(v: &T) -> Vec<u8> {
    let size = v.size();
    let mut buf = vec![0u8; size];
    let mut out = SpsOutputBuffer::new(&mut buf);
    v.serialize(&mut out);
    debug_assert!(
        !out.overflowed() && out.position() == size,
        "SpsSerialize::size does not match serialize"
    );
    buf
}

/// Decodes a value that must span all of `bytes`; trailing bytes are an
/// error ([`SpsError::TrailingBytes`]).
pub fn deserialize_all<T: SpsDeserialize>(bytes: &[u8]) -> Result<T, SpsError> {
    let mut input = SpsInputBuffer::new(bytes);
    let v = T::deserialize(&mut input)?;
    if !input.is_empty() {
        return Err(SpsError::TrailingBytes(input.remaining()));
    }
    Ok(v)
}

/// Decodes a value from the start of `bytes` and returns it with the number
/// of bytes it used (trailing bytes are allowed, as in LLVM).
pub fn deserialize_prefix<T: SpsDeserialize>(bytes: &[u8]) -> Result<(T, usize), SpsError> {
    let mut input = SpsInputBuffer::new(bytes);
    let v = T::deserialize(&mut input)?;
    Ok((v, bytes.len() - input.remaining()))
}
