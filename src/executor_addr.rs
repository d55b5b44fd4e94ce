//! Executor addresses and address ranges.

/// An address in the executor process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ExecutorAddr(pub u64);

/// A half-open range `[start, end)` of executor addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExecutorAddrRange {
    /// First address in the range.
    pub start: ExecutorAddr,
    /// One past the last address.
    pub end: ExecutorAddr,
}
