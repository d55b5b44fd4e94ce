//! Executor addresses and address ranges.
//!
//! An [`ExecutorAddr`] is a 64-bit address in the executor process, carried
//! on the wire as `SPSExecutorAddr` (`u64`). An [`ExecutorAddrRange`] is a
//! half-open range `[start, end)` of such addresses.
//!
//! Address arithmetic is explicit about overflow: the `checked_*` and
//! `align_*` forms return `None` rather than wrap, which is what code that
//! checks addresses from the wire should use.
//!
//! ```
//! use orc_rt::{ExecutorAddr, ExecutorAddrRange};
//!
//! let a = ExecutorAddr::new(0x1003);
//! assert_eq!(a.align_down(0x10), Some(ExecutorAddr::new(0x1000)));
//! assert_eq!(a.align_up(0x10), Some(ExecutorAddr::new(0x1010)));
//! assert_eq!(a.align_up(3), None); // not a power of two
//! assert_eq!(ExecutorAddr::new(u64::MAX).checked_add(1), None);
//! assert_eq!((a + 5) - a, 5);
//!
//! let r = ExecutorAddrRange::from_start_and_size(ExecutorAddr::new(0x1000), 0x100).unwrap();
//! assert_eq!(r.size(), 0x100);
//! assert!(r.contains(ExecutorAddr::new(0x10ff)));
//! assert!(!r.contains(r.end)); // half-open
//! let tail = ExecutorAddrRange::new(ExecutorAddr::new(0x1080), ExecutorAddr::new(0x1200));
//! assert!(r.overlaps(&tail) && !r.contains_range(&tail));
//! // A range that would wrap around the address space is refused.
//! assert!(ExecutorAddrRange::from_start_and_size(ExecutorAddr::new(u64::MAX), 2).is_none());
//! ```

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

/// An address in the executor process.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ExecutorAddr(pub u64);

impl ExecutorAddr {
    /// The null address.
    ///
    /// cbindgen:ignore
    pub const NULL: ExecutorAddr = ExecutorAddr(0);

    /// An address from its integer value.
    pub const fn new(value: u64) -> Self {
        ExecutorAddr(value)
    }

    /// The integer value.
    pub const fn value(self) -> u64 {
        self.0
    }

    /// True for address 0.
    pub const fn is_null(self) -> bool {
        self.0 == 0
    }

    /// The address of a pointer in this process.
    pub fn from_ptr<T: ?Sized>(p: *const T) -> Self {
        ExecutorAddr(p as *const () as usize as u64)
    }

    /// The address of a mutable pointer in this process.
    pub fn from_mut_ptr<T: ?Sized>(p: *mut T) -> Self {
        Self::from_ptr(p as *const T)
    }

    /// This address as a raw pointer in this process. Creating the pointer is
    /// safe; dereferencing it is up to the caller. Addresses above
    /// `usize::MAX` (impossible on 64-bit hosts) are truncated.
    pub fn to_ptr<T>(self) -> *mut T {
        self.0 as usize as *mut T
    }

    /// The address of a function pointer (any `fn` or `extern "C" fn` type,
    /// passed after casting to `*const ()`, e.g. `f as *const ()`).
    pub fn from_fn_ptr(f: *const ()) -> Self {
        Self::from_ptr(f)
    }

    /// Adds `rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: u64) -> Option<Self> {
        match self.0.checked_add(rhs) {
            Some(v) => Some(ExecutorAddr(v)),
            None => None,
        }
    }

    /// Subtracts `rhs`, or `None` on underflow.
    pub const fn checked_sub(self, rhs: u64) -> Option<Self> {
        match self.0.checked_sub(rhs) {
            Some(v) => Some(ExecutorAddr(v)),
            None => None,
        }
    }

    /// `self - other` in bytes, or `None` if `other > self`.
    pub const fn checked_diff(self, other: ExecutorAddr) -> Option<u64> {
        self.0.checked_sub(other.0)
    }

    /// True if the address is a multiple of `align`. `align` must be a power
    /// of two; otherwise the answer is `false`.
    pub const fn is_aligned(self, align: u64) -> bool {
        align.is_power_of_two() && self.0 & (align - 1) == 0
    }

    /// Rounds down to a multiple of `align`, or `None` if `align` is not a
    /// power of two.
    pub const fn align_down(self, align: u64) -> Option<Self> {
        if !align.is_power_of_two() {
            return None;
        }
        Some(ExecutorAddr(self.0 & !(align - 1)))
    }

    /// Rounds up to a multiple of `align`, or `None` if `align` is not a
    /// power of two or the result overflows.
    pub const fn align_up(self, align: u64) -> Option<Self> {
        if !align.is_power_of_two() {
            return None;
        }
        match self.0.checked_add(align - 1) {
            Some(v) => Some(ExecutorAddr(v & !(align - 1))),
            None => None,
        }
    }
}

impl fmt::Debug for ExecutorAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExecutorAddr({:#x})", self.0)
    }
}

impl fmt::Display for ExecutorAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

impl fmt::LowerHex for ExecutorAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl From<u64> for ExecutorAddr {
    fn from(v: u64) -> Self {
        ExecutorAddr(v)
    }
}

impl From<ExecutorAddr> for u64 {
    fn from(a: ExecutorAddr) -> Self {
        a.0
    }
}

/// Wrapping addition (address arithmetic is modulo 2^64, like LLVM's).
impl Add<u64> for ExecutorAddr {
    type Output = ExecutorAddr;
    fn add(self, rhs: u64) -> ExecutorAddr {
        ExecutorAddr(self.0.wrapping_add(rhs))
    }
}

impl AddAssign<u64> for ExecutorAddr {
    fn add_assign(&mut self, rhs: u64) {
        *self = *self + rhs;
    }
}

/// Wrapping subtraction of an offset.
impl Sub<u64> for ExecutorAddr {
    type Output = ExecutorAddr;
    fn sub(self, rhs: u64) -> ExecutorAddr {
        ExecutorAddr(self.0.wrapping_sub(rhs))
    }
}

impl SubAssign<u64> for ExecutorAddr {
    fn sub_assign(&mut self, rhs: u64) {
        *self = *self - rhs;
    }
}

/// Wrapping difference in bytes; use [`ExecutorAddr::checked_diff`] when
/// the order is not known.
impl Sub<ExecutorAddr> for ExecutorAddr {
    type Output = u64;
    fn sub(self, rhs: ExecutorAddr) -> u64 {
        self.0.wrapping_sub(rhs.0)
    }
}

/// A half-open range `[start, end)` of executor addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExecutorAddrRange {
    /// First address in the range.
    pub start: ExecutorAddr,
    /// One past the last address.
    pub end: ExecutorAddr,
}

impl ExecutorAddrRange {
    /// The range `[start, end)`.
    pub const fn new(start: ExecutorAddr, end: ExecutorAddr) -> Self {
        ExecutorAddrRange { start, end }
    }

    /// The range `[start, start + size)`, or `None` if it would wrap.
    pub const fn from_start_and_size(start: ExecutorAddr, size: u64) -> Option<Self> {
        match start.checked_add(size) {
            Some(end) => Some(ExecutorAddrRange { start, end }),
            None => None,
        }
    }

    /// True if the range has no addresses (`end <= start`).
    pub const fn is_empty(&self) -> bool {
        self.end.0 <= self.start.0
    }

    /// Number of bytes (0 for an empty or inverted range).
    pub const fn size(&self) -> u64 {
        self.end.0.saturating_sub(self.start.0)
    }

    /// True if `addr` is in `[start, end)`.
    pub const fn contains(&self, addr: ExecutorAddr) -> bool {
        self.start.0 <= addr.0 && addr.0 < self.end.0
    }

    /// True if every address of `other` is in this range (an empty `other`
    /// is contained when its start lies within `[start, end]`).
    pub const fn contains_range(&self, other: &ExecutorAddrRange) -> bool {
        if other.is_empty() {
            return self.start.0 <= other.start.0 && other.start.0 <= self.end.0;
        }
        self.start.0 <= other.start.0 && other.end.0 <= self.end.0
    }

    /// True if the two ranges share at least one address.
    pub const fn overlaps(&self, other: &ExecutorAddrRange) -> bool {
        !self.is_empty()
            && !other.is_empty()
            && self.start.0 < other.end.0
            && other.start.0 < self.end.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: u64, e: u64) -> ExecutorAddrRange {
        ExecutorAddrRange::new(ExecutorAddr(s), ExecutorAddr(e))
    }

    #[test]
    fn arithmetic() {
        let a = ExecutorAddr(0x1000);
        assert_eq!(a + 0x10, ExecutorAddr(0x1010));
        assert_eq!(a - 0x10, ExecutorAddr(0xff0));
        assert_eq!(ExecutorAddr(0x1010) - a, 0x10);
        let mut b = a;
        b += 8;
        b -= 4;
        assert_eq!(b, ExecutorAddr(0x1004));
        assert_eq!(ExecutorAddr(u64::MAX).checked_add(1), None);
        assert_eq!(ExecutorAddr(0).checked_sub(1), None);
        assert_eq!(a.checked_add(1), Some(ExecutorAddr(0x1001)));
        assert_eq!(a.checked_diff(ExecutorAddr(0x2000)), None);
        assert_eq!(ExecutorAddr(0x2000).checked_diff(a), Some(0x1000));
        assert_eq!(ExecutorAddr(u64::MAX) + 1, ExecutorAddr(0));
        assert_eq!(u64::from(a), 0x1000);
        assert_eq!(ExecutorAddr::from(5u64), ExecutorAddr(5));
        assert_eq!(format!("{a:?}"), "ExecutorAddr(0x1000)");
        assert_eq!(format!("{a}"), "0x0000000000001000");
    }

    #[test]
    fn alignment() {
        let a = ExecutorAddr(0x1234);
        assert_eq!(a.align_up(0x1000), Some(ExecutorAddr(0x2000)));
        assert_eq!(a.align_down(0x1000), Some(ExecutorAddr(0x1000)));
        assert_eq!(a.align_up(4), Some(a));
        assert!(a.is_aligned(4));
        assert!(!a.is_aligned(8));
        assert!(a.is_aligned(1));
        assert_eq!(a.align_up(3), None);
        assert_eq!(a.align_down(0), None);
        assert!(!a.is_aligned(0));
        assert!(!a.is_aligned(6));
        assert_eq!(ExecutorAddr(u64::MAX).align_up(16), None);
        assert_eq!(
            ExecutorAddr(u64::MAX).align_down(16),
            Some(ExecutorAddr(u64::MAX - 15))
        );
    }

    #[test]
    fn pointers_and_null() {
        let x = 42u32;
        let a = ExecutorAddr::from_ptr(&x as *const u32);
        assert!(!a.is_null());
        let p = a.to_ptr::<u32>();
        assert_eq!(p as *const u32, &x as *const u32);
        assert!(ExecutorAddr::NULL.is_null());
        assert!(ExecutorAddr::default().to_ptr::<u8>().is_null());
        extern "C" fn f() -> i32 {
            7
        }
        let fa = ExecutorAddr::from_fn_ptr(f as *const ());
        assert_eq!(fa.0, f as *const () as usize as u64);
        let s: &[u8] = b"abc";
        assert_eq!(
            ExecutorAddr::from_ptr(s as *const [u8]).0,
            s.as_ptr() as u64
        );
        let mut y = 1u8;
        assert_eq!(
            ExecutorAddr::from_mut_ptr(&mut y as *mut u8).to_ptr::<u8>(),
            &mut y as *mut u8
        );
    }

    #[test]
    fn ranges() {
        let a = r(0x1000, 0x2000);
        assert_eq!(a.size(), 0x1000);
        assert!(!a.is_empty());
        assert!(r(5, 5).is_empty());
        assert!(r(6, 5).is_empty());
        assert_eq!(r(6, 5).size(), 0);
        assert!(a.contains(ExecutorAddr(0x1000)));
        assert!(a.contains(ExecutorAddr(0x1fff)));
        assert!(!a.contains(ExecutorAddr(0x2000)));
        assert!(!a.contains(ExecutorAddr(0xfff)));
        assert!(a.contains_range(&r(0x1000, 0x2000)));
        assert!(a.contains_range(&r(0x1800, 0x1900)));
        assert!(!a.contains_range(&r(0x1800, 0x2001)));
        assert!(a.contains_range(&r(0x2000, 0x2000)));
        assert!(!a.contains_range(&r(0x3000, 0x3000)));
        assert!(a.overlaps(&r(0x1fff, 0x3000)));
        assert!(!a.overlaps(&r(0x2000, 0x3000)));
        assert!(!a.overlaps(&r(0x0, 0x1000)));
        assert!(r(0, 0x1001).overlaps(&a));
        assert!(!a.overlaps(&r(0x1500, 0x1500)));
        assert_eq!(
            ExecutorAddrRange::from_start_and_size(ExecutorAddr(0x10), 0x20),
            Some(r(0x10, 0x30))
        );
        assert_eq!(
            ExecutorAddrRange::from_start_and_size(ExecutorAddr(u64::MAX), 2),
            None
        );
    }
}
