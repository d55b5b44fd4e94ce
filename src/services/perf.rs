//! Linux perf JIT support (`llvm-jitlink --perf-support`): writes a
//! *jitdump* file describing JIT'd code so `perf inject --jit` can
//! symbolize samples in it.
//!
//! The controller resolves `llvm_orc_registerJITLoaderPerfStart`, `...End`
//! and `...Impl` through the dylib manager's process handle (the reference
//! executor lacks them, so `--perf-support` fails with it). Start creates
//! `$JITDUMPDIR/.debug/jit/llvm-IR-jit-<date>-<unique>/jit-<pid>.dump`
//! (`$HOME` when `JITDUMPDIR` is unset), writes the header and maps one
//! page of the file read+execute as the marker perf looks for; Impl appends
//! the records of one linked object; End writes a close record.
//!
//! Record bytes follow the jitdump format (native byte order, packed). Code
//! and unwind bytes are copied from executor memory with checked reads, so
//! a bogus address or size gives an error, not a crash.
//!
//! ```
//! use orc_rt::services::perf::{self, CodeLoadRecord, PerfError, RecordBatch, RecordPrefix};
//! use orc_rt::services::perf::{JITDUMP_MAGIC, JIT_CODE_CLOSE, JIT_CODE_LOAD};
//!
//! let dir = std::env::temp_dir().join(format!("orc-rt-doc-perf-{}", std::process::id()));
//! std::env::set_var("JITDUMPDIR", &dir);
//! assert!(matches!(perf::end(), Err(PerfError::NotStarted)));
//! let path = perf::start().unwrap();
//! assert!(path.starts_with(dir.join(".debug/jit")));
//!
//! // One linked function; its code bytes are copied from executor memory.
//! static CODE: [u8; 4] = [0x55, 0x48, 0x89, 0xe5];
//! let name = b"jitted_fn".to_vec();
//! let record = CodeLoadRecord {
//!     prefix: RecordPrefix {
//!         id: JIT_CODE_LOAD,
//!         total_size: (56 + name.len() + 1 + 4) as u32,
//!     },
//!     vma: CODE.as_ptr() as u64,
//!     code_addr: CODE.as_ptr() as u64,
//!     code_size: 4,
//!     code_index: 1,
//!     name,
//!     ..Default::default()
//! };
//! perf::register(&RecordBatch {
//!     code_load_records: vec![record],
//!     ..Default::default()
//! })
//! .unwrap();
//! perf::end().unwrap();
//!
//! let dump = std::fs::read(&path).unwrap();
//! assert_eq!(dump[..4], JITDUMP_MAGIC.to_ne_bytes());
//! assert!(dump.windows(13).any(|w| w == b"jitted_fn\0\x55\x48\x89"));
//! // Last comes the 16-byte close record: id, size, timestamp.
//! assert_eq!(dump[dump.len() - 16..][..4], JIT_CODE_CLOSE.to_ne_bytes());
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::sync::lock;
use crate::sys::{clock, mem, mmap};

/// jitdump magic, "JiTD".
pub const JITDUMP_MAGIC: u32 = 0x4a69_5444;
/// jitdump version.
pub const JITDUMP_VERSION: u32 = 1;
/// Record id: code load.
pub const JIT_CODE_LOAD: u32 = 0;
/// Record id: debug info.
pub const JIT_CODE_DEBUG_INFO: u32 = 2;
/// Record id: close.
pub const JIT_CODE_CLOSE: u32 = 3;
/// Record id: unwinding info.
pub const JIT_CODE_UNWINDING_INFO: u32 = 4;

/// `PerfJITRecordPrefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordPrefix {
    /// Record type.
    pub id: u32,
    /// Total record size as computed by the controller.
    pub total_size: u32,
}

/// `PerfJITCodeLoadRecord`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeLoadRecord {
    /// Prefix.
    pub prefix: RecordPrefix,
    /// Ignored: the executor writes its own pid.
    pub pid: u32,
    /// Ignored: the executor writes the writing thread's id.
    pub tid: u32,
    /// Virtual address of the code.
    pub vma: u64,
    /// Address of the code bytes (copied into the dump).
    pub code_addr: u64,
    /// Code size.
    pub code_size: u64,
    /// Unique index of this code load.
    pub code_index: u64,
    /// Function name.
    pub name: Vec<u8>,
}

/// `PerfJITDebugEntry`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DebugEntry {
    /// Code address.
    pub addr: u64,
    /// Source line, from 1.
    pub lineno: u32,
    /// Column discriminator.
    pub discrim: u32,
    /// Source file name.
    pub name: Vec<u8>,
}

/// `PerfJITDebugInfoRecord`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DebugInfoRecord {
    /// Prefix.
    pub prefix: RecordPrefix,
    /// Code address the entries describe.
    pub code_addr: u64,
    /// Line table.
    pub entries: Vec<DebugEntry>,
}

/// `PerfJITCodeUnwindingInfoRecord` (only written if its total size > 0).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnwindingInfoRecord {
    /// Prefix.
    pub prefix: RecordPrefix,
    /// `.eh_frame_hdr` plus `.eh_frame` size.
    pub unwind_data_size: u64,
    /// `.eh_frame_hdr` size.
    pub eh_frame_hdr_size: u64,
    /// Mapped size.
    pub mapped_size: u64,
    /// Address of `.eh_frame_hdr` in executor memory, or 0 ...
    pub eh_frame_hdr_addr: u64,
    /// ... and then its bytes are here.
    pub eh_frame_hdr: Vec<u8>,
    /// Address of `.eh_frame`.
    pub eh_frame_addr: u64,
}

/// `PerfJITRecordBatch`: everything for one linked object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordBatch {
    /// Code loads.
    pub code_load_records: Vec<CodeLoadRecord>,
    /// Line tables.
    pub debug_info_records: Vec<DebugInfoRecord>,
    /// Unwind data.
    pub unwinding_record: UnwindingInfoRecord,
}

/// Errors of perf support.
#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    /// Impl or End before Start.
    #[error("PerfState not initialized")]
    NotStarted,
    /// A file or memory operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was attempted.
        context: String,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// The executable is not an ELF file (its machine type goes in the
    /// dump's header).
    #[error("/proc/self/exe is not an ELF file (invalid ELF signature)")]
    NotElf,
    /// Every candidate name for the dump's directory was taken.
    #[error("could not find a unique jit cache directory name in {}", .0.display())]
    NoUniqueDir(PathBuf),
    /// The unwinding record's `.eh_frame_hdr` is larger than its unwind data.
    #[error("invalid perf record: EH frame header size {hdr_size:#x} exceeds unwind data size {unwind_size:#x}")]
    EhFrameHeaderTooLarge {
        /// `eh_frame_hdr_size`.
        hdr_size: u64,
        /// `unwind_data_size`.
        unwind_size: u64,
    },
    /// The inline `.eh_frame_hdr` bytes do not match their stated size.
    #[error("invalid perf record: EH frame header holds {len:#x} bytes, size says {hdr_size:#x}")]
    EhFrameHeaderLength {
        /// Bytes sent.
        len: usize,
        /// `eh_frame_hdr_size`.
        hdr_size: u64,
    },
}

crate::module_error!(PerfError, Perf);

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> PerfError {
    let context = context.into();
    move |source| PerfError::Io { context, source }
}

struct State {
    file: File,
    path: PathBuf,
    marker: Option<(u64, u64)>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn timestamp() -> u64 {
    clock::monotonic_ns()
}

fn elf_machine() -> Result<u16, PerfError> {
    let mut hdr = [0u8; 20];
    let mut f = File::open("/proc/self/exe").map_err(io_err("could not open /proc/self/exe"))?;
    io::Read::read_exact(&mut f, &mut hdr).map_err(io_err("could not read /proc/self/exe"))?;
    if &hdr[..4] != b"\x7fELF" {
        return Err(PerfError::NotElf);
    }
    Ok(u16::from_ne_bytes([hdr[18], hdr[19]]))
}

fn unique_dir(base: &Path) -> Result<PathBuf, PerfError> {
    std::fs::create_dir_all(base).map_err(io_err(format!(
        "could not create jit cache directory {}",
        base.display()
    )))?;
    let prefix = format!("llvm-IR-jit-{}", clock::local_date());
    let mut seed = timestamp() ^ (u64::from(std::process::id()) << 32);
    for _ in 0..100 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let dir = base.join(format!("{prefix}-{:06x}", (seed >> 40) & 0xff_ffff));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(io_err(format!(
                    "could not create unique jit cache directory {}",
                    dir.display()
                ))(e))
            }
        }
    }
    Err(PerfError::NoUniqueDir(base.to_path_buf()))
}

/// Starts a jitdump: creates the file, writes its header and maps the
/// marker page. Does nothing if already started. Returns the file's path.
pub fn start() -> Result<PathBuf, PerfError> {
    let mut st = lock(&STATE);
    if let Some(s) = st.as_ref() {
        return Ok(s.path.clone());
    }
    let base = match std::env::var_os("JITDUMPDIR") {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    let dir = unique_dir(&base.join(".debug").join("jit"))?;
    let pid = std::process::id();
    let path = dir.join(format!("jit-{pid}.dump"));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o666)
        .open(&path)
        .map_err(io_err(format!(
            "could not open JIT dump file {}",
            path.display()
        )))?;
    let mut hdr = Vec::with_capacity(40);
    hdr.extend_from_slice(&JITDUMP_MAGIC.to_ne_bytes());
    hdr.extend_from_slice(&JITDUMP_VERSION.to_ne_bytes());
    hdr.extend_from_slice(&40u32.to_ne_bytes());
    hdr.extend_from_slice(&u32::from(elf_machine()?).to_ne_bytes());
    hdr.extend_from_slice(&0u32.to_ne_bytes());
    hdr.extend_from_slice(&pid.to_ne_bytes());
    hdr.extend_from_slice(&timestamp().to_ne_bytes());
    hdr.extend_from_slice(&0u64.to_ne_bytes());
    file.write_all(&hdr)
        .map_err(io_err("could not write JIT dump header"))?;
    // perf recognises a jitdump by an executable mapping of the file.
    let page = mmap::page_size();
    let marker = mmap::map_file_read_exec(file.as_raw_fd(), page)
        .map_err(io_err("could not mmap JIT marker"))?;
    *st = Some(State {
        file,
        path: path.clone(),
        marker: Some((marker, page)),
    });
    Ok(path)
}

fn record_header(out: &mut Vec<u8>, prefix: RecordPrefix) {
    out.extend_from_slice(&prefix.id.to_ne_bytes());
    out.extend_from_slice(&prefix.total_size.to_ne_bytes());
    out.extend_from_slice(&timestamp().to_ne_bytes());
}

fn read_mem(what: &str, addr: u64, len: u64) -> Result<Vec<u8>, PerfError> {
    mem::read_vec(addr, len).map_err(io_err(format!(
        "could not read {what} ({len:#x} bytes at {addr:#x})"
    )))
}

/// Encodes the records of `batch` (unwind record, debug records, code
/// loads, in the reference's order).
pub fn encode_batch(batch: &RecordBatch) -> Result<Vec<u8>, PerfError> {
    let mut out = Vec::new();
    let u = &batch.unwinding_record;
    if u.prefix.total_size > 0 {
        if u.eh_frame_hdr_size > u.unwind_data_size {
            return Err(PerfError::EhFrameHeaderTooLarge {
                hdr_size: u.eh_frame_hdr_size,
                unwind_size: u.unwind_data_size,
            });
        }
        record_header(&mut out, u.prefix);
        out.extend_from_slice(&u.unwind_data_size.to_ne_bytes());
        out.extend_from_slice(&u.eh_frame_hdr_size.to_ne_bytes());
        out.extend_from_slice(&u.mapped_size.to_ne_bytes());
        if u.eh_frame_hdr_addr != 0 {
            out.extend(read_mem(
                "EH frame header",
                u.eh_frame_hdr_addr,
                u.eh_frame_hdr_size,
            )?);
        } else if u.eh_frame_hdr.len() as u64 == u.eh_frame_hdr_size {
            out.extend_from_slice(&u.eh_frame_hdr);
        } else {
            return Err(PerfError::EhFrameHeaderLength {
                len: u.eh_frame_hdr.len(),
                hdr_size: u.eh_frame_hdr_size,
            });
        }
        out.extend(read_mem(
            "EH frame",
            u.eh_frame_addr,
            u.unwind_data_size - u.eh_frame_hdr_size,
        )?);
    }
    for d in &batch.debug_info_records {
        record_header(&mut out, d.prefix);
        out.extend_from_slice(&d.code_addr.to_ne_bytes());
        out.extend_from_slice(&(d.entries.len() as u64).to_ne_bytes());
        for e in &d.entries {
            out.extend_from_slice(&e.addr.to_ne_bytes());
            out.extend_from_slice(&e.lineno.to_ne_bytes());
            out.extend_from_slice(&e.discrim.to_ne_bytes());
            out.extend_from_slice(&e.name);
            out.push(0);
        }
    }
    let pid = std::process::id();
    let tid = clock::thread_id();
    for c in &batch.code_load_records {
        record_header(&mut out, c.prefix);
        out.extend_from_slice(&pid.to_ne_bytes());
        out.extend_from_slice(&tid.to_ne_bytes());
        for v in [c.vma, c.code_addr, c.code_size, c.code_index] {
            out.extend_from_slice(&v.to_ne_bytes());
        }
        out.extend_from_slice(&c.name);
        out.push(0);
        out.extend(read_mem("JIT'd code", c.code_addr, c.code_size)?);
    }
    Ok(out)
}

/// Appends the records of one linked object to the dump.
pub fn register(batch: &RecordBatch) -> Result<(), PerfError> {
    let mut st = lock(&STATE);
    let s = st.as_mut().ok_or(PerfError::NotStarted)?;
    let bytes = encode_batch(batch)?;
    s.file
        .write_all(&bytes)
        .map_err(io_err("could not write JIT dump records"))
}

/// Writes the close record, unmaps the marker and closes the dump.
pub fn end() -> Result<(), PerfError> {
    let mut st = lock(&STATE);
    let mut s = st.take().ok_or(PerfError::NotStarted)?;
    let mut rec = Vec::with_capacity(16);
    record_header(
        &mut rec,
        RecordPrefix {
            id: JIT_CODE_CLOSE,
            total_size: 16,
        },
    );
    let r = s
        .file
        .write_all(&rec)
        .map_err(io_err("could not write JIT dump close record"));
    if let Some((addr, len)) = s.marker.take() {
        // SAFETY: our own marker mapping of the dump file, used by nobody.
        let _ = unsafe { mmap::unmap(addr, len) };
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_with_unwind(u: UnwindingInfoRecord) -> RecordBatch {
        RecordBatch {
            unwinding_record: UnwindingInfoRecord {
                prefix: RecordPrefix {
                    id: JIT_CODE_UNWINDING_INFO,
                    total_size: 64,
                },
                ..u
            },
            ..RecordBatch::default()
        }
    }

    #[test]
    fn inconsistent_unwind_records_are_refused_with_their_sizes() {
        let e = encode_batch(&batch_with_unwind(UnwindingInfoRecord {
            unwind_data_size: 0x10,
            eh_frame_hdr_size: 0x20,
            ..UnwindingInfoRecord::default()
        }))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid perf record: EH frame header size 0x20 exceeds unwind data size 0x10"
        );
        let e = encode_batch(&batch_with_unwind(UnwindingInfoRecord {
            unwind_data_size: 0x10,
            eh_frame_hdr_size: 0x8,
            eh_frame_hdr: vec![0; 4],
            ..UnwindingInfoRecord::default()
        }))
        .unwrap_err();
        assert!(matches!(
            e,
            PerfError::EhFrameHeaderLength {
                len: 4,
                hdr_size: 8
            }
        ));
        assert!(encode_batch(&RecordBatch::default()).unwrap().is_empty());
    }
}
