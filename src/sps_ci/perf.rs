//! SPS bindings of [`crate::services::perf`]: `llvm_orc_registerJITLoaderPerfStart`
//! / `End` (`SPSError ()`) and `llvm_orc_registerJITLoaderPerfImpl`
//! (`SPSError (SPSPerfJITRecordBatch)`), and the SPS encodings of the perf
//! records (LLVM 22's `PerfSharedStructs.h`).
//!
//! ```
//! use orc_rt::services::perf::{CodeLoadRecord, RecordBatch};
//! use orc_rt::sps::{deserialize_all, serialize_to_vec};
//! use orc_rt::sps_ci::perf::{perf_end, symbols, END_NAME};
//! use orc_rt::wrapper_function::sync_abi::{call_sync_sps_error, SpsErrorCallError};
//!
//! // The records travel as SPS structures.
//! let record = CodeLoadRecord {
//!     code_index: 7,
//!     name: b"f".to_vec(),
//!     ..Default::default()
//! };
//! let batch = RecordBatch {
//!     code_load_records: vec![record],
//!     ..Default::default()
//! };
//! let bytes = serialize_to_vec(&batch);
//! assert_eq!(deserialize_all::<RecordBatch>(&bytes).unwrap(), batch);
//!
//! // LLVM looks the three functions up as process symbols.
//! assert!(symbols().iter().any(|(name, _)| *name == END_NAME));
//! // Ending a jitdump that was never started fails in-band.
//! // SAFETY: `perf_end` has the synchronous ABI and returns an SPSError.
//! let r = unsafe { call_sync_sps_error(perf_end, &[]) };
//! assert!(
//!     matches!(&r, Err(SpsErrorCallError::InBand(m)) if m == "PerfState not initialized"),
//!     "{r:?}"
//! );
//! ```

use crate::services::perf::{
    self, CodeLoadRecord, DebugEntry, DebugInfoRecord, RecordBatch, RecordPrefix,
    UnwindingInfoRecord,
};
use crate::sps::{
    to_sps_result, SpsDeserialize, SpsError, SpsInputBuffer, SpsOutputBuffer, SpsResult,
    SpsSerialize,
};
use crate::wrapper_function::handler::SpsResponder;
use crate::wrapper_function::sync_abi::sync_wrapper;

/// Process symbol name of [`perf_start`].
pub const START_NAME: &str = "llvm_orc_registerJITLoaderPerfStart";
/// Process symbol name of [`perf_end`].
pub const END_NAME: &str = "llvm_orc_registerJITLoaderPerfEnd";
/// Process symbol name of [`perf_impl`].
pub const IMPL_NAME: &str = "llvm_orc_registerJITLoaderPerfImpl";

/// Implements SPS for a struct encoded as the tuple of its fields.
macro_rules! sps_fields {
    ($t:ident { $($f:ident : $ft:ty),+ $(,)? }) => {
        impl SpsSerialize for $t {
            fn size(&self) -> usize {
                0 $(+ self.$f.size())+
            }
            fn serialize(&self, out: &mut SpsOutputBuffer<'_>) {
                $(self.$f.serialize(out);)+
            }
        }
        impl SpsDeserialize for $t {
            const MIN_ENCODED_SIZE: usize = 0 $(+ <$ft as SpsDeserialize>::MIN_ENCODED_SIZE)+;
            fn deserialize(input: &mut SpsInputBuffer<'_>) -> Result<Self, SpsError> {
                $(let $f = <$ft as SpsDeserialize>::deserialize(input)?;)+
                Ok($t { $($f),+ })
            }
        }
    };
}

sps_fields!(RecordPrefix {
    id: u32,
    total_size: u32
});
sps_fields!(CodeLoadRecord {
    prefix: RecordPrefix,
    pid: u32,
    tid: u32,
    vma: u64,
    code_addr: u64,
    code_size: u64,
    code_index: u64,
    name: Vec<u8>,
});
sps_fields!(DebugEntry { addr: u64, lineno: u32, discrim: u32, name: Vec<u8> });
sps_fields!(DebugInfoRecord { prefix: RecordPrefix, code_addr: u64, entries: Vec<DebugEntry> });
sps_fields!(UnwindingInfoRecord {
    prefix: RecordPrefix,
    unwind_data_size: u64,
    eh_frame_hdr_size: u64,
    mapped_size: u64,
    eh_frame_hdr_addr: u64,
    eh_frame_hdr: Vec<u8>,
    eh_frame_addr: u64,
});
sps_fields!(RecordBatch {
    code_load_records: Vec<CodeLoadRecord>,
    debug_info_records: Vec<DebugInfoRecord>,
    unwinding_record: UnwindingInfoRecord,
});

/// `SPSError ()`: starts the jitdump.
pub fn start((): (), r: SpsResponder<SpsResult>) {
    r.respond(&to_sps_result(perf::start().map(|_| ())))
}

/// `SPSError ()`: closes the jitdump.
pub fn end((): (), r: SpsResponder<SpsResult>) {
    r.respond(&to_sps_result(perf::end()))
}

/// `SPSError (SPSPerfJITRecordBatch)`: appends one object's records.
pub fn register((batch,): (RecordBatch,), r: SpsResponder<SpsResult>) {
    r.respond(&to_sps_result(perf::register(&batch)))
}

sync_wrapper! {
    /// Entry point of [`start`].
    pub fn perf_start = start;
}

sync_wrapper! {
    /// Entry point of [`end`].
    pub fn perf_end = end;
}

sync_wrapper! {
    /// Entry point of [`register`].
    pub fn perf_impl = register;
}

/// `(process symbol name, entry point)` of the perf functions, for
/// [`crate::services::dylib::register_builtin_symbol`].
pub fn symbols() -> [(&'static str, super::SyncWrapperFunction); 3] {
    [
        (START_NAME, perf_start as super::SyncWrapperFunction),
        (END_NAME, perf_end),
        (IMPL_NAME, perf_impl),
    ]
}
