//! SimplePackedSerialization (SPS): ORC's wire format for wrapper-function
//! arguments and results, byte-compatible with LLVM 22.

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
}
