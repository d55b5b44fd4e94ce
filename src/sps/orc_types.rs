//! The ORC structures that travel in SPS (LLVM 22's `Shared/*.h` types), as
//! plain Rust structs with their SPS encodings.
//!
//! | SPS type | Rust type |
//! |---|---|
//! | `SPSExecutorSymbolDef` | [`ExecutorSymbolDef`] |
//! | `SPSRemoteAllocGroup` | [`RemoteAllocGroup`] |
//! | `SPSWrapperFunctionCall` | [`WrapperFunctionCall`] |
//! | `SPSAllocActionCallPair` | [`AllocActionCallPair`] |
//! | `SPSSegFinalizeRequest` / `SPSFinalizeRequest` | [`SegFinalizeRequest`] / [`FinalizeRequest`] |
//! | `SPSSharedMemorySegFinalizeRequest` / `SPSSharedMemoryFinalizeRequest` | [`SharedMemorySegFinalizeRequest`] / [`SharedMemoryFinalizeRequest`] |
//! | `SPSMemoryAccessUIntWrite<T>` / `SPSMemoryAccessPointerWrite` / `SPSMemoryAccessBufferWrite` | [`UIntWrite<T>`] / [`PointerWrite`] / [`BufferWrite`] |
//! | `SPSRemoteSymbolLookupSetElement` | [`RemoteSymbolLookupSetElement`] (`SPSRemoteSymbolLookupSet` = `Vec<_>`) |
//! | `SPSRemoteSymbolLookup` | [`RemoteSymbolLookup`] |
//! | `SPSSimpleRemoteEPCExecutorInfo` | [`SimpleRemoteEpcExecutorInfo`] |
//! | `SPSELFPerObjectSectionsToRegister` | [`ElfPerObjectSectionsToRegister`] |
//!
//! ```
//! use orc_rt::sps::orc_types::{
//!     AllocActionCallPair, FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest,
//!     WrapperFunctionCall,
//! };
//! use orc_rt::sps::{deserialize_all, serialize_to_vec, SpsError};
//! use orc_rt::ExecutorAddr;
//!
//! // One read+exec segment, and a finalize action called with one `u32`.
//! let req = FinalizeRequest {
//!     segments: vec![SegFinalizeRequest {
//!         rag: RemoteAllocGroup::new(true, false, true, false),
//!         addr: ExecutorAddr::new(0x10000),
//!         size: 0x1000,
//!         content: vec![0xc3],
//!     }],
//!     actions: vec![AllocActionCallPair {
//!         finalize: WrapperFunctionCall::with_args(ExecutorAddr::new(0x2000), &(7u32,)),
//!         dealloc: WrapperFunctionCall::default(),
//!     }],
//! };
//! let bytes = serialize_to_vec(&req);
//! assert_eq!(deserialize_all::<FinalizeRequest>(&bytes).unwrap(), req);
//! // After the segment count comes the first segment's protection byte.
//! assert_eq!(bytes[8], RemoteAllocGroup::READ | RemoteAllocGroup::EXEC);
//! assert!(req.actions[0].dealloc.is_null());
//!
//! // Unknown protection bits are refused, not dropped.
//! assert_eq!(RemoteAllocGroup::from_bits(0x10), None);
//! assert_eq!(
//!     deserialize_all::<RemoteAllocGroup>(&[0x10]),
//!     Err(SpsError::InvalidAllocGroup(0x10))
//! );
//! ```
//!
//! [`ExecutorSymbolDef`]: crate::sps::orc_types::ExecutorSymbolDef
//! [`RemoteAllocGroup`]: crate::sps::orc_types::RemoteAllocGroup
//! [`WrapperFunctionCall`]: crate::sps::orc_types::WrapperFunctionCall
//! [`AllocActionCallPair`]: crate::sps::orc_types::AllocActionCallPair
//! [`SegFinalizeRequest`]: crate::sps::orc_types::SegFinalizeRequest
//! [`FinalizeRequest`]: crate::sps::orc_types::FinalizeRequest
//! [`SharedMemorySegFinalizeRequest`]: crate::sps::orc_types::SharedMemorySegFinalizeRequest
//! [`SharedMemoryFinalizeRequest`]: crate::sps::orc_types::SharedMemoryFinalizeRequest
//! [`UIntWrite<T>`]: crate::sps::orc_types::UIntWrite
//! [`PointerWrite`]: crate::sps::orc_types::PointerWrite
//! [`BufferWrite`]: crate::sps::orc_types::BufferWrite
//! [`RemoteSymbolLookupSetElement`]: crate::sps::orc_types::RemoteSymbolLookupSetElement
//! [`RemoteSymbolLookup`]: crate::sps::orc_types::RemoteSymbolLookup
//! [`SimpleRemoteEpcExecutorInfo`]: crate::sps::orc_types::SimpleRemoteEpcExecutorInfo
//! [`ElfPerObjectSectionsToRegister`]: crate::sps::orc_types::ElfPerObjectSectionsToRegister

use std::collections::HashSet;

use super::{
    SpsDeserialize, SpsError, SpsFixedSize, SpsInputBuffer, SpsOutputBuffer, SpsSerialize,
};
use crate::{ExecutorAddr, ExecutorAddrRange};

/// Implements SPS for a struct encoded as the tuple of its fields, in order.
macro_rules! sps_struct {
    ($t:ident $(<$g:ident>)? { $($f:ident : $ft:ty),+ $(,)? }) => {
        impl$(<$g: SpsSerialize>)? SpsSerialize for $t$(<$g>)? {
            #[inline]
            fn size(&self) -> usize {
                0 $(+ SpsSerialize::size(&self.$f))+
            }
            #[inline]
            fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
                $(self.$f.serialize(out);)+
            }
        }

        impl$(<$g: SpsDeserialize>)? SpsDeserialize for $t$(<$g>)? {
            const MIN_ENCODED_SIZE: usize = 0 $(+ <$ft as SpsDeserialize>::MIN_ENCODED_SIZE)+;
            #[inline]
            fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
                $(let $f = <$ft as SpsDeserialize>::deserialize(input)?;)+
                Ok($t { $($f),+ })
            }
        }
    };
}

/// JIT symbol flag bits (the `flags` byte of [`ExecutorSymbolDef`]).
///
/// These are the bits of LLVM's `JITSymbolFlags`, which travel as one byte
/// next to a second, target-specific one. The dylib manager marks every
/// symbol it resolves [`EXPORTED`](jit_symbol_flags::EXPORTED).
///
/// ```
/// use orc_rt::sps::orc_types::{jit_symbol_flags, ExecutorSymbolDef};
/// use orc_rt::sps::{deserialize_all, serialize_to_vec};
/// use orc_rt::ExecutorAddr;
///
/// let def = ExecutorSymbolDef {
///     addr: ExecutorAddr::new(0x1000),
///     flags: jit_symbol_flags::EXPORTED | jit_symbol_flags::CALLABLE,
///     target_flags: 0,
/// };
/// // The address, then the generic and the target flag byte.
/// let bytes = serialize_to_vec(&def);
/// assert_eq!(bytes, [0, 0x10, 0, 0, 0, 0, 0, 0, 0x30, 0]);
/// assert_eq!(deserialize_all::<ExecutorSymbolDef>(&bytes).unwrap(), def);
/// ```
pub mod jit_symbol_flags {
    /// The symbol is in an error state.
    pub const HAS_ERROR: u8 = 0x01;
    /// Weak definition.
    pub const WEAK: u8 = 0x02;
    /// Common symbol.
    pub const COMMON: u8 = 0x04;
    /// Absolute (not relocatable) address.
    pub const ABSOLUTE: u8 = 0x08;
    /// Visible outside its JITDylib.
    pub const EXPORTED: u8 = 0x10;
    /// A function (callable).
    pub const CALLABLE: u8 = 0x20;
    /// Only materialization side effects, no address.
    pub const MATERIALIZATION_SIDE_EFFECTS_ONLY: u8 = 0x40;
}

/// `SPSExecutorSymbolDef`: an address plus `SPSJITSymbolFlags` (10 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExecutorSymbolDef {
    /// Symbol address.
    pub addr: ExecutorAddr,
    /// Generic flags, see [`jit_symbol_flags`].
    pub flags: u8,
    /// Target-specific flags.
    pub target_flags: u8,
}
sps_struct!(ExecutorSymbolDef {
    addr: ExecutorAddr,
    flags: u8,
    target_flags: u8
});

/// `SPSRemoteAllocGroup`: memory protections plus the finalize-lifetime bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RemoteAllocGroup(u8);

impl RemoteAllocGroup {
    /// Readable.
    pub const READ: u8 = 0x01;
    /// Writable.
    pub const WRITE: u8 = 0x02;
    /// Executable.
    pub const EXEC: u8 = 0x04;
    /// The segment only lives until finalization ends.
    pub const FINALIZE_LIFETIME: u8 = 0x08;
    const ALL: u8 = 0x0f;

    /// The group with exactly these bits, or `None` if an unknown bit is set.
    pub fn from_bits(bits: u8) -> Option<Self> {
        (bits & !Self::ALL == 0).then_some(RemoteAllocGroup(bits))
    }

    /// Builds a group from its parts.
    pub fn new(read: bool, write: bool, exec: bool, finalize_lifetime: bool) -> Self {
        let mut bits = 0;
        for (on, bit) in [
            (read, Self::READ),
            (write, Self::WRITE),
            (exec, Self::EXEC),
            (finalize_lifetime, Self::FINALIZE_LIFETIME),
        ] {
            if on {
                bits |= bit;
            }
        }
        RemoteAllocGroup(bits)
    }

    /// The wire byte.
    pub fn bits(self) -> u8 {
        self.0
    }
    /// Readable?
    pub fn read(self) -> bool {
        self.0 & Self::READ != 0
    }
    /// Writable?
    pub fn write(self) -> bool {
        self.0 & Self::WRITE != 0
    }
    /// Executable?
    pub fn exec(self) -> bool {
        self.0 & Self::EXEC != 0
    }
    /// Deallocated when finalization ends?
    pub fn finalize_lifetime(self) -> bool {
        self.0 & Self::FINALIZE_LIFETIME != 0
    }
}

impl SpsSerialize for RemoteAllocGroup {
    #[inline]
    fn size(&self) -> usize {
        1
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        out.write_u8(self.0)
    }
}

impl SpsDeserialize for RemoteAllocGroup {
    const MIN_ENCODED_SIZE: usize = 1;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        let b = u8::deserialize(input)?;
        RemoteAllocGroup::from_bits(b).ok_or(SpsError::InvalidAllocGroup(b))
    }
}

impl SpsFixedSize for RemoteAllocGroup {}

/// `SPSWrapperFunctionCall`: a function address and its serialized
/// argument bytes. `fn_addr == 0` means "no call".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct WrapperFunctionCall {
    /// Address of the wrapper function.
    pub fn_addr: ExecutorAddr,
    /// SPS-encoded argument buffer.
    pub args: Vec<u8>,
}
sps_struct!(WrapperFunctionCall { fn_addr: ExecutorAddr, args: Vec<u8> });

impl WrapperFunctionCall {
    /// A call of `fn_addr` whose argument buffer is `args`, SPS-encoded.
    pub fn with_args<A: SpsSerialize + ?Sized>(fn_addr: ExecutorAddr, args: &A) -> Self {
        WrapperFunctionCall {
            fn_addr,
            args: super::serialize_to_vec(args),
        }
    }

    /// True for the "no call" placeholder (address 0).
    pub fn is_null(&self) -> bool {
        self.fn_addr.0 == 0
    }
}

/// `SPSAllocActionCallPair`: run `finalize` at finalization, `dealloc` at
/// deallocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AllocActionCallPair {
    /// Called when the allocation is finalized.
    pub finalize: WrapperFunctionCall,
    /// Called when the allocation is released.
    pub dealloc: WrapperFunctionCall,
}
sps_struct!(AllocActionCallPair {
    finalize: WrapperFunctionCall,
    dealloc: WrapperFunctionCall
});

/// `SPSSegFinalizeRequest`: one segment to copy in and protect. `content`
/// may be shorter than `size`; the rest is zero-filled.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SegFinalizeRequest {
    /// Protections and lifetime.
    pub rag: RemoteAllocGroup,
    /// Target address.
    pub addr: ExecutorAddr,
    /// Segment size in bytes.
    pub size: u64,
    /// Initial content (a prefix of the segment).
    pub content: Vec<u8>,
}
sps_struct!(SegFinalizeRequest { rag: RemoteAllocGroup, addr: ExecutorAddr, size: u64, content: Vec<u8> });

/// `SPSFinalizeRequest`: segments plus allocation actions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FinalizeRequest {
    /// Segments to write and protect.
    pub segments: Vec<SegFinalizeRequest>,
    /// Actions to run (in order) at finalization / deallocation.
    pub actions: Vec<AllocActionCallPair>,
}
sps_struct!(FinalizeRequest { segments: Vec<SegFinalizeRequest>, actions: Vec<AllocActionCallPair> });

/// `SPSSharedMemorySegFinalizeRequest`: like [`SegFinalizeRequest`] without
/// content (it is already in shared memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SharedMemorySegFinalizeRequest {
    /// Protections and lifetime.
    pub rag: RemoteAllocGroup,
    /// Target address.
    pub addr: ExecutorAddr,
    /// Segment size in bytes.
    pub size: u64,
}
sps_struct!(SharedMemorySegFinalizeRequest {
    rag: RemoteAllocGroup,
    addr: ExecutorAddr,
    size: u64
});

/// `SPSSharedMemoryFinalizeRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SharedMemoryFinalizeRequest {
    /// Segments to protect.
    pub segments: Vec<SharedMemorySegFinalizeRequest>,
    /// Actions to run at finalization / deallocation.
    pub actions: Vec<AllocActionCallPair>,
}
sps_struct!(SharedMemoryFinalizeRequest {
    segments: Vec<SharedMemorySegFinalizeRequest>,
    actions: Vec<AllocActionCallPair>,
});

/// `SPSMemoryAccessUIntWrite<T>`: write `value` at `addr` (T = u8..u64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UIntWrite<T> {
    /// Where to write.
    pub addr: ExecutorAddr,
    /// What to write.
    pub value: T,
}
sps_struct!(UIntWrite<T> { addr: ExecutorAddr, value: T });

/// `SPSMemoryAccessPointerWrite`: write an address at `addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PointerWrite {
    /// Where to write.
    pub addr: ExecutorAddr,
    /// The pointer value.
    pub value: ExecutorAddr,
}
sps_struct!(PointerWrite {
    addr: ExecutorAddr,
    value: ExecutorAddr
});

/// `SPSMemoryAccessBufferWrite`: copy `buffer` to `addr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BufferWrite {
    /// Where to write.
    pub addr: ExecutorAddr,
    /// The bytes.
    pub buffer: Vec<u8>,
}
sps_struct!(BufferWrite { addr: ExecutorAddr, buffer: Vec<u8> });

/// `SPSRemoteSymbolLookupSetElement`: a symbol name and whether it must
/// exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RemoteSymbolLookupSetElement {
    /// Symbol name (as the linker sees it).
    pub name: String,
    /// True if a missing symbol is an error.
    pub required: bool,
}
sps_struct!(RemoteSymbolLookupSetElement {
    name: String,
    required: bool
});

/// `SPSRemoteSymbolLookup`: a dylib handle and the symbols to find in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RemoteSymbolLookup {
    /// Dylib handle.
    pub handle: u64,
    /// Symbols to look up.
    pub symbols: Vec<RemoteSymbolLookupSetElement>,
}
sps_struct!(RemoteSymbolLookup { handle: u64, symbols: Vec<RemoteSymbolLookupSetElement> });

/// `SPSELFPerObjectSectionsToRegister`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ElfPerObjectSectionsToRegister {
    /// The object's `.eh_frame` range.
    pub eh_frame: ExecutorAddrRange,
    /// The object's thread data range.
    pub thread_data: ExecutorAddrRange,
}
sps_struct!(ElfPerObjectSectionsToRegister {
    eh_frame: ExecutorAddrRange,
    thread_data: ExecutorAddrRange
});

/// `SPSSimpleRemoteEPCExecutorInfo`: the Setup message payload.
///
/// The maps are kept as vectors so encoding keeps their order; decoding
/// rejects a duplicate key in either of them, as LLVM's `StringMap` does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SimpleRemoteEpcExecutorInfo {
    /// Target triple of the executor.
    pub triple: String,
    /// Page size in bytes.
    pub page_size: u64,
    /// Bootstrap values (name to SPS-encoded bytes).
    pub bootstrap_map: Vec<(String, Vec<u8>)>,
    /// Bootstrap symbols (name to address).
    pub bootstrap_symbols: Vec<(String, ExecutorAddr)>,
}

impl SpsSerialize for SimpleRemoteEpcExecutorInfo {
    #[inline]
    fn size(&self) -> usize {
        self.triple.size()
            + self.page_size.size()
            + self.bootstrap_map.size()
            + self.bootstrap_symbols.size()
    }
    #[inline]
    fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
        self.triple.serialize(out);
        self.page_size.serialize(out);
        self.bootstrap_map.serialize(out);
        self.bootstrap_symbols.serialize(out);
    }
}

fn ordered_map<V: SpsDeserialize>(
    input: &mut SpsInputBuffer<'_>,
) -> Result<Vec<(String, V)>, SpsError> {
    let mut seen = HashSet::new();
    let mut v = Vec::new();
    super::impls::map_deserialize::<V>(input, |k, val| {
        if !seen.insert(k.clone()) {
            return Some(k);
        }
        v.push((k, val));
        None
    })?;
    Ok(v)
}

impl SpsDeserialize for SimpleRemoteEpcExecutorInfo {
    const MIN_ENCODED_SIZE: usize = 32;
    #[inline]
    fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
        let triple = String::deserialize(input)?;
        let page_size = u64::deserialize(input)?;
        let bootstrap_map = ordered_map::<Vec<u8>>(input)?;
        let bootstrap_symbols = ordered_map::<ExecutorAddr>(input)?;
        Ok(SimpleRemoteEpcExecutorInfo {
            triple,
            page_size,
            bootstrap_map,
            bootstrap_symbols,
        })
    }
}
