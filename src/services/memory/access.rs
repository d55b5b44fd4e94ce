//! Raw memory access for the controller (LLVM's `EPCGenericMemoryAccess`
//! bootstrap wrappers): write and read integers, pointers, byte buffers and
//! C strings at arbitrary executor addresses.
//!
//! The controller is trusted with this process's memory: that is what these
//! calls are for, and the reference executor simply dereferences the
//! addresses. We copy through [`crate::sys::mem`] instead, so a bad address
//! becomes an error (an out-of-band error on the wire, since the result
//! types have no error case) rather than a crash where the kernel lets us
//! check. Output sizes are bounded by what is actually readable, never by a
//! count taken from the wire.
//!
//! ```
//! use orc_rt::services::memory::access::{
//!     read_strings, read_uints, write_buffers, write_uints, AccessError,
//! };
//! use orc_rt::services::memory::SimpleNativeMemoryMap;
//! use orc_rt::sps::orc_types::{BufferWrite, UIntWrite};
//! use orc_rt::ExecutorAddr;
//!
//! let memory = SimpleNativeMemoryMap::new();
//! let base = memory.reserve(4096).unwrap();
//! // SAFETY (both writes): memory the map reserved for JIT'd code, which no
//! // Rust object uses.
//! unsafe {
//!     write_uints(&[
//!         UIntWrite {
//!             addr: base,
//!             value: 0xdead_beef_u32,
//!         },
//!         UIntWrite {
//!             addr: base + 4,
//!             value: 42u32,
//!         },
//!     ])
//! }
//! .unwrap();
//! assert_eq!(
//!     read_uints::<u32>(&[base, base + 4]).unwrap(),
//!     [0xdead_beef, 42]
//! );
//! unsafe {
//!     write_buffers(&[BufferWrite {
//!         addr: base + 16,
//!         buffer: b"main\0".to_vec(),
//!     }])
//! }
//! .unwrap();
//! assert_eq!(read_strings(&[base + 16]).unwrap(), [b"main".to_vec()]);
//!
//! // A bad address is an error naming it, not a crash.
//! let e = read_uints::<u64>(&[ExecutorAddr::new(0)]).unwrap_err();
//! assert!(matches!(
//!     e,
//!     AccessError::Fault {
//!         op: "read",
//!         addr: 0,
//!         ..
//!     }
//! ));
//! memory.release(&[base]).unwrap();
//! ```

use crate::sps::orc_types::{BufferWrite, PointerWrite, UIntWrite};
use crate::sys::mem;
use crate::{ExecutorAddr, ExecutorAddrRange};

/// A memory access failed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The address (or range) is not accessible.
    #[error("could not {op} {len} bytes at {addr:#x}: {source}")]
    Fault {
        /// "read" or "write".
        op: &'static str,
        /// Address.
        addr: u64,
        /// Length.
        len: u64,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A range whose end is before its start.
    #[error("invalid address range {start:#x} -- {end:#x}")]
    BadRange {
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
}

crate::module_error!(AccessError, Access);

/// An unsigned integer type the access wrappers transfer (native byte
/// order, as a plain store would).
pub trait AccessScalar: Copy + Default {
    /// Size in bytes.
    const SIZE: usize;
    /// Native-endian bytes.
    fn to_bytes(self, out: &mut [u8]);
    /// From native-endian bytes.
    fn from_bytes(b: &[u8]) -> Self;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl AccessScalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn to_bytes(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_ne_bytes());
            }
            fn from_bytes(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                <$t>::from_ne_bytes(a)
            }
        }
    )*};
}
scalar!(u8, u16, u32, u64);

/// # Safety
///
/// As for [`mem::write`].
unsafe fn write_at(addr: u64, bytes: &[u8]) -> Result<(), AccessError> {
    // SAFETY: the caller's promise, passed on.
    unsafe { mem::write(addr, bytes) }.map_err(|source| AccessError::Fault {
        op: "write",
        addr,
        len: bytes.len() as u64,
        source,
    })
}

fn read_at(addr: u64, buf: &mut [u8]) -> Result<(), AccessError> {
    mem::read(addr, buf).map_err(|source| AccessError::Fault {
        op: "read",
        addr,
        len: buf.len() as u64,
        source,
    })
}

/// Performs each write in order; stops at the first failure.
///
/// # Safety
///
/// Each write may land anywhere in the process, Rust objects included: the
/// caller promises every destination is memory nothing else relies on (for
/// the wire bindings: JIT'd memory, on the controller's word).
pub unsafe fn write_uints<T: AccessScalar>(writes: &[UIntWrite<T>]) -> Result<(), AccessError> {
    let mut buf = [0u8; 8];
    for w in writes {
        w.value.to_bytes(&mut buf[..T::SIZE]);
        // SAFETY: the caller vouches for every destination.
        unsafe { write_at(w.addr.0, &buf[..T::SIZE])? };
    }
    Ok(())
}

/// Stores each pointer value in order.
///
/// # Safety
///
/// Each write may land anywhere in the process, Rust objects included: the
/// caller promises every destination is memory nothing else relies on (for
/// the wire bindings: JIT'd memory, on the controller's word).
pub unsafe fn write_pointers(writes: &[PointerWrite]) -> Result<(), AccessError> {
    for w in writes {
        // SAFETY: the caller vouches for every destination.
        unsafe { write_at(w.addr.0, &w.value.0.to_ne_bytes())? };
    }
    Ok(())
}

/// Copies each buffer in order.
///
/// # Safety
///
/// Each write may land anywhere in the process, Rust objects included: the
/// caller promises every destination is memory nothing else relies on (for
/// the wire bindings: JIT'd memory, on the controller's word).
pub unsafe fn write_buffers(writes: &[BufferWrite]) -> Result<(), AccessError> {
    for w in writes {
        // SAFETY: the caller vouches for every destination.
        unsafe { write_at(w.addr.0, &w.buffer)? };
    }
    Ok(())
}

/// Copies each borrowed buffer in order.
///
/// # Safety
///
/// Each write may land anywhere in the process, Rust objects included: the
/// caller promises every destination is memory nothing else relies on (for
/// the wire bindings: JIT'd memory, on the controller's word).
pub unsafe fn write_buffer_refs(writes: &[(ExecutorAddr, &[u8])]) -> Result<(), AccessError> {
    for (addr, buf) in writes {
        // SAFETY: the caller vouches for every destination.
        unsafe { write_at(addr.0, buf)? };
    }
    Ok(())
}

/// Reads one `T` at each address.
pub fn read_uints<T: AccessScalar>(addrs: &[ExecutorAddr]) -> Result<Vec<T>, AccessError> {
    let mut out = Vec::with_capacity(addrs.len());
    let mut buf = [0u8; 8];
    for a in addrs {
        read_at(a.0, &mut buf[..T::SIZE])?;
        out.push(T::from_bytes(&buf[..T::SIZE]));
    }
    Ok(out)
}

/// Reads one pointer at each address.
pub fn read_pointers(addrs: &[ExecutorAddr]) -> Result<Vec<ExecutorAddr>, AccessError> {
    Ok(read_uints::<u64>(addrs)?
        .into_iter()
        .map(ExecutorAddr)
        .collect())
}

/// Reads the bytes of each range.
pub fn read_buffers(ranges: &[ExecutorAddrRange]) -> Result<Vec<Vec<u8>>, AccessError> {
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let (start, end) = (r.start.0, r.end.0);
        if end < start {
            return Err(AccessError::BadRange { start, end });
        }
        out.push(
            mem::read_vec(start, end - start).map_err(|source| AccessError::Fault {
                op: "read",
                addr: start,
                len: end - start,
                source,
            })?,
        );
    }
    Ok(out)
}

/// Reads the NUL-terminated string at each address (bytes, without the
/// NUL).
pub fn read_strings(addrs: &[ExecutorAddr]) -> Result<Vec<Vec<u8>>, AccessError> {
    addrs
        .iter()
        .map(|a| {
            mem::read_c_string(a.0).map_err(|source| AccessError::Fault {
                op: "read",
                addr: a.0,
                len: 1,
                source,
            })
        })
        .collect()
}
