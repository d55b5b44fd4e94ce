//! SPS encodings of primitives, strings, sequences, tuples, optionals,
//! errors, maps and executor addresses.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::{
    SpsDeserialize, SpsError, SpsFixedSize, SpsInputBuffer, SpsOutputBuffer, SpsSerialize,
};
use crate::{ExecutorAddr, ExecutorAddrRange};

/// Largest number of zero-sized elements (such as the items of a
/// `Vec<()>`) one decode accepts, summed over all its sequences: their
/// encoding takes no input bytes, so the input length cannot bound the
/// count, and decoding 2^62 of them would never finish.
pub const MAX_ZERO_SIZED_COUNT: usize = 1 << 20;

#[inline]
fn read_flag(input: &mut SpsInputBuffer<'_>) -> Result<bool, SpsError> {
    match input.read_array::<1>()?[0] {
        0 => Ok(false),
        1 => Ok(true),
        b => Err(SpsError::InvalidBool(b)),
    }
}

// ---------------------------------------------------------------- primitives

impl SpsSerialize for bool {
    #[inline]
    fn size(&self) -> usize {
        1
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        out.write_u8(*self as u8);
    }
}

impl SpsDeserialize for bool {
    const MIN_ENCODED_SIZE: usize = 1;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        read_flag(input)
    }
}

impl SpsSerialize for u8 {
    #[inline]
    fn size(&self) -> usize {
        1
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        out.write_u8(*self);
    }
    #[inline]
    fn slice_size(items: &[Self]) -> usize {
        items.len()
    }
    #[inline]
    fn serialize_slice(items: &[Self], out: &mut SpsOutputBuffer<'_>) {
        out.write_bytes(items);
    }
}

impl SpsDeserialize for u8 {
    const MIN_ENCODED_SIZE: usize = 1;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        Ok(input.read_array::<1>()?[0])
    }
    #[inline]
    fn deserialize_seq(
        count: usize,
        input: &mut SpsInputBuffer<'_>,
    ) -> Result<Vec<Self>, SpsError> {
        Ok(input.read_bytes(count)?.to_vec())
    }
}

macro_rules! sps_int {
    ($($t:ty),*) => {$(
        impl SpsSerialize for $t {
            #[inline]
            fn size(&self) -> usize {
                std::mem::size_of::<$t>()
            }
            #[inline]
            fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
                out.write_array(self.to_le_bytes());
            }
            #[inline]
            fn slice_size(items: &[Self]) -> usize {
                items.len() * std::mem::size_of::<$t>()
            }
        }

        impl SpsDeserialize for $t {
            const MIN_ENCODED_SIZE: usize = std::mem::size_of::<$t>();
            #[inline]
            fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
                Ok(<$t>::from_le_bytes(input.read_array()?))
            }
        }

        impl SpsFixedSize for $t {}
    )*};
}

sps_int!(i8, i16, u16, i32, u32, i64, u64);

impl SpsSerialize for () {
    #[inline]
    fn size(&self) -> usize {
        0
    }
    #[inline]
    fn serialize(&self, _out: &mut SpsOutputBuffer<'_>) {}
}

impl SpsDeserialize for () {
    const MIN_ENCODED_SIZE: usize = 0;
    #[inline]
    fn deserialize(_input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        Ok(())
    }
}

// ----------------------------------------------------------- references, box

impl<T: SpsSerialize + ?Sized> SpsSerialize for &T {
    #[inline]
    fn size(&self) -> usize {
        (**self).size()
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        (**self).serialize(out)
    }
}

impl<T: SpsSerialize + ?Sized> SpsSerialize for Box<T> {
    #[inline]
    fn size(&self) -> usize {
        (**self).size()
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        (**self).serialize(out)
    }
}

impl<T: SpsDeserialize> SpsDeserialize for Box<T> {
    const MIN_ENCODED_SIZE: usize = T::MIN_ENCODED_SIZE;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        T::deserialize(input).map(Box::new)
    }
}

// ----------------------------------------------------------------- sequences

impl<T: SpsSerialize> SpsSerialize for [T] {
    #[inline]
    fn size(&self) -> usize {
        8 + T::slice_size(self)
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        out.write_array((self.len() as u64).to_le_bytes());
        T::serialize_slice(self, out);
    }
}

impl<T: SpsSerialize> SpsSerialize for Vec<T> {
    #[inline]
    fn size(&self) -> usize {
        self.as_slice().size()
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        self.as_slice().serialize(out)
    }
}

impl<T: SpsDeserialize> SpsDeserialize for Vec<T> {
    const MIN_ENCODED_SIZE: usize = 8;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        let count = input.read_count(T::MIN_ENCODED_SIZE)?;
        T::deserialize_seq(count, input)
    }
}

impl SpsSerialize for str {
    #[inline]
    fn size(&self) -> usize {
        8 + self.len()
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        self.as_bytes().serialize(out)
    }
}

impl SpsSerialize for String {
    #[inline]
    fn size(&self) -> usize {
        self.as_str().size()
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        self.as_str().serialize(out)
    }
}

impl SpsDeserialize for String {
    const MIN_ENCODED_SIZE: usize = 8;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        let bytes = SpsBytes::deserialize_borrowed(input)?.0;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err(SpsError::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            }),
        }
    }
}

/// A borrowed byte sequence (`SPSSequence<char>` / `SPSString`): encodes
/// from a slice and decodes without copying, pointing into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SpsBytes<'a>(pub &'a [u8]);

impl<'a> SpsBytes<'a> {
    /// Decodes a byte sequence that borrows from `input`'s bytes.
    #[inline]
    pub fn deserialize_borrowed(input: &mut SpsInputBuffer<'a>) -> Result<SpsBytes<'a>, SpsError> {
        let n = input.read_count(1)?;
        input.read_bytes(n).map(SpsBytes)
    }
}

impl SpsSerialize for SpsBytes<'_> {
    #[inline]
    fn size(&self) -> usize {
        self.0.size()
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        self.0.serialize(out)
    }
}

// ------------------------------------------------------------------ optional

impl<T: SpsSerialize> SpsSerialize for Option<T> {
    #[inline]
    fn size(&self) -> usize {
        1 + self.as_ref().map_or(0, |v| v.size())
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        match self {
            None => out.write_u8(0),
            Some(v) => {
                out.write_u8(1);
                v.serialize(out);
            }
        }
    }
}

impl<T: SpsDeserialize> SpsDeserialize for Option<T> {
    const MIN_ENCODED_SIZE: usize = 1;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        if read_flag(input)? {
            T::deserialize(input).map(Some)
        } else {
            Ok(None)
        }
    }
}

// -------------------------------------------------------------------- tuples

macro_rules! sps_tuple {
    ($($n:ident . $i:tt),+) => {
        impl<$($n: SpsSerialize),+> SpsSerialize for ($($n,)+) {
            #[inline]
            fn size(&self) -> usize {
                0 $(+ self.$i.size())+
            }
            #[inline]
            fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
                $(self.$i.serialize(out);)+
            }
        }

        impl<$($n: SpsDeserialize),+> SpsDeserialize for ($($n,)+) {
            const MIN_ENCODED_SIZE: usize = 0 $(+ $n::MIN_ENCODED_SIZE)+;
            #[inline]
            fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
                Ok(($($n::deserialize(input)?,)+))
            }
        }

        impl<$($n: SpsFixedSize),+> SpsFixedSize for ($($n,)+) {}
    };
}

sps_tuple!(A.0);
sps_tuple!(A.0, B.1);
sps_tuple!(A.0, B.1, C.2);
sps_tuple!(A.0, B.1, C.2, D.3);
sps_tuple!(A.0, B.1, C.2, D.3, E.4);
sps_tuple!(A.0, B.1, C.2, D.3, E.4, F.5);
sps_tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6);
sps_tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7);
sps_tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8);
sps_tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9);
sps_tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10);
sps_tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10, L.11);

// ------------------------------------------------------------ error/expected

/// `SPSError`: `Ok(())` encodes as `00`, `Err(msg)` as `01` + `SPSString`.
///
/// Note the flag sense is the opposite of [`SpsExpected`].
pub type SpsResult = Result<(), String>;

impl SpsSerialize for Result<(), String> {
    #[inline]
    fn size(&self) -> usize {
        1 + self.as_ref().err().map_or(0, |m| m.size())
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        match self {
            Ok(()) => out.write_u8(0),
            Err(m) => {
                out.write_u8(1);
                m.serialize(out);
            }
        }
    }
}

impl SpsDeserialize for Result<(), String> {
    const MIN_ENCODED_SIZE: usize = 1;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        if read_flag(input)? {
            Ok(Err(String::deserialize(input)?))
        } else {
            Ok(Ok(()))
        }
    }
}

/// Converts any `Result<(), E>` to an [`SpsResult`], flattening the error
/// to its message (as LLVM's `toString(Err)` does). This is where a typed
/// error becomes text: at the SPS binding, when it goes on the wire.
pub fn to_sps_result<E: fmt::Display>(r: Result<(), E>) -> SpsResult {
    r.map_err(|e| e.to_string())
}

/// `SPSExpected<T>`: `Ok(v)` encodes as `01` + `T`, `Err(msg)` as `00` +
/// `SPSString`.
///
/// The flag sense is the opposite of `SPSError` ([`SpsResult`]); this is a
/// newtype so that `SpsExpected<()>` and `SpsResult` cannot be confused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpsExpected<T>(pub Result<T, String>);

impl<T> SpsExpected<T> {
    /// A success value.
    pub fn ok(v: T) -> Self {
        SpsExpected(Ok(v))
    }

    /// A failure carrying `msg`.
    pub fn err(msg: impl Into<String>) -> Self {
        SpsExpected(Err(msg.into()))
    }

    /// Converts any `Result`, flattening the error to its message (as
    /// LLVM's `toString(Err)` does).
    pub fn from_result<E: fmt::Display>(r: Result<T, E>) -> Self {
        SpsExpected(r.map_err(|e| e.to_string()))
    }

    /// The inner `Result`.
    pub fn into_result(self) -> Result<T, String> {
        self.0
    }
}

impl<T> From<Result<T, String>> for SpsExpected<T> {
    fn from(r: Result<T, String>) -> Self {
        SpsExpected(r)
    }
}

impl<T: SpsSerialize> SpsSerialize for SpsExpected<T> {
    #[inline]
    fn size(&self) -> usize {
        1 + match &self.0 {
            Ok(v) => v.size(),
            Err(m) => m.size(),
        }
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        match &self.0 {
            Ok(v) => {
                out.write_u8(1);
                v.serialize(out);
            }
            Err(m) => {
                out.write_u8(0);
                m.serialize(out);
            }
        }
    }
}

impl<T: SpsDeserialize> SpsDeserialize for SpsExpected<T> {
    const MIN_ENCODED_SIZE: usize = 1 + if T::MIN_ENCODED_SIZE < 8 {
        T::MIN_ENCODED_SIZE
    } else {
        8
    };
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        if read_flag(input)? {
            Ok(SpsExpected(Ok(T::deserialize(input)?)))
        } else {
            Ok(SpsExpected(Err(String::deserialize(input)?)))
        }
    }
}

// ---------------------------------------------------------------------- maps

fn map_size<'a, V: SpsSerialize + 'a>(it: impl Iterator<Item = (&'a String, &'a V)>) -> usize {
    8 + it.map(|(k, v)| k.size() + v.size()).sum::<usize>()
}

fn map_serialize<'a, V: SpsSerialize + 'a>(
    len: usize,
    it: impl Iterator<Item = (&'a String, &'a V)>,
    out: &mut SpsOutputBuffer<'_>,
) {
    out.write_array((len as u64).to_le_bytes());
    for (k, v) in it {
        k.serialize(out);
        v.serialize(out);
    }
}

/// Decodes `SPSSequence<SPSTuple<SPSString, V>>`, calling `insert` for each
/// pair; `insert` returns the key back if it is a duplicate.
pub(crate) fn map_deserialize<V: SpsDeserialize>(
    input: &mut SpsInputBuffer<'_>,
    mut insert: impl FnMut(String, V) -> Option<String>,
) -> Result<usize, SpsError> {
    let count = input.read_count(8 + V::MIN_ENCODED_SIZE)?;
    for _ in 0..count {
        let k = String::deserialize(input)?;
        let v = V::deserialize(input)?;
        if let Some(dup) = insert(k, v) {
            return Err(SpsError::DuplicateKey(dup));
        }
    }
    Ok(count)
}

impl<V: SpsSerialize, S> SpsSerialize for HashMap<String, V, S> {
    #[inline]
    fn size(&self) -> usize {
        map_size(self.iter())
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        map_serialize(self.len(), self.iter(), out)
    }
}

impl<V: SpsDeserialize> SpsDeserialize for HashMap<String, V> {
    const MIN_ENCODED_SIZE: usize = 8;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        let mut m = HashMap::new();
        map_deserialize::<V>(input, |k, v| {
            use std::collections::hash_map::Entry;
            match m.entry(k) {
                Entry::Occupied(e) => Some(e.key().clone()),
                Entry::Vacant(e) => {
                    e.insert(v);
                    None
                }
            }
        })?;
        Ok(m)
    }
}

impl<V: SpsSerialize> SpsSerialize for BTreeMap<String, V> {
    #[inline]
    fn size(&self) -> usize {
        map_size(self.iter())
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        map_serialize(self.len(), self.iter(), out)
    }
}

impl<V: SpsDeserialize> SpsDeserialize for BTreeMap<String, V> {
    const MIN_ENCODED_SIZE: usize = 8;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        let mut m = BTreeMap::new();
        map_deserialize::<V>(input, |k, v| {
            use std::collections::btree_map::Entry;
            match m.entry(k) {
                Entry::Occupied(e) => Some(e.key().clone()),
                Entry::Vacant(e) => {
                    e.insert(v);
                    None
                }
            }
        })?;
        Ok(m)
    }
}

// ---------------------------------------------------------- executor address

impl SpsSerialize for ExecutorAddr {
    #[inline]
    fn size(&self) -> usize {
        8
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        self.0.serialize(out)
    }
    #[inline]
    fn slice_size(items: &[Self]) -> usize {
        items.len() * 8
    }
}

impl SpsDeserialize for ExecutorAddr {
    const MIN_ENCODED_SIZE: usize = 8;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        u64::deserialize(input).map(ExecutorAddr)
    }
}

impl SpsSerialize for ExecutorAddrRange {
    #[inline]
    fn size(&self) -> usize {
        16
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        self.start.serialize(out);
        self.end.serialize(out);
    }
    #[inline]
    fn slice_size(items: &[Self]) -> usize {
        items.len() * 16
    }
}

impl SpsDeserialize for ExecutorAddrRange {
    const MIN_ENCODED_SIZE: usize = 16;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        let start = ExecutorAddr::deserialize(input)?;
        let end = ExecutorAddr::deserialize(input)?;
        Ok(ExecutorAddrRange { start, end })
    }
}

impl SpsFixedSize for bool {}
impl SpsFixedSize for u8 {}
impl SpsFixedSize for () {}
impl SpsFixedSize for ExecutorAddr {}
impl SpsFixedSize for ExecutorAddrRange {}
