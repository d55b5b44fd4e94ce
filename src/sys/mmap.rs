//! Anonymous and shared memory mappings, protection changes and
//! instruction-cache maintenance.
//!
//! The memory services build on these: memory for JIT'd code is mapped
//! read+write ([`read_write`]), filled, then given its final protection with
//! [`protect`]; it is never writable and executable at once.
//!
//! ```
//! use orc_rt::sys::{mem, mmap};
//!
//! let page = mmap::page_size();
//! assert_eq!(mmap::round_up_to_page(1), Some(page));
//! assert_eq!(mmap::round_up_to_page(u64::MAX), None);
//!
//! let base = mmap::map_anonymous_rw(page).unwrap();
//! // SAFETY: our own fresh mapping.
//! unsafe { mem::write(base, &[0xff; 8]) }.unwrap();
//! // SAFETY: the range is the fresh mapping above, holding no Rust objects.
//! unsafe {
//!     mmap::copy_and_zero_fill(base, b"code", 4);
//!     mmap::protect(
//!         base,
//!         page,
//!         mmap::Prot {
//!             read: true,
//!             write: false,
//!             exec: false,
//!         },
//!     )
//!     .unwrap();
//! }
//! let mut b = [0u8; 8];
//! mem::read(base, &mut b).unwrap();
//! assert_eq!(&b, b"code\0\0\0\0");
//! // SAFETY: as above; nothing uses the mapping afterwards.
//! unsafe { mmap::unmap(base, page) }.unwrap();
//! ```

use std::collections::BTreeMap;
use std::io;
use std::ptr;
use std::sync::{OnceLock, RwLock};

use crate::sync::{read as read_lock, write as write_lock};

/// The ranges this module mapped, or last set, read+write: `start -> end`,
/// disjoint and merged. Every change of a mapping made here updates it
/// under the write lock, around the system call, so a copy made under the
/// read lock ([`with_writable`]) never races a protection change or an
/// unmap of its range.
static WRITABLE: RwLock<BTreeMap<u64, u64>> = RwLock::new(BTreeMap::new());

/// The ranges this module last set read-only (neither writable nor
/// executable), kept like [`WRITABLE`] and under its lock's order (taken
/// after it): [`patch`] knows their protection without asking
/// `/proc/self/maps`, which emulators such as qemu-user report merged.
static READ_ONLY: RwLock<BTreeMap<u64, u64>> = RwLock::new(BTreeMap::new());

/// Whether `[start, end)` lies inside one range of `set`.
fn covers(set: &BTreeMap<u64, u64>, start: u64, end: u64) -> bool {
    set.range(..=start)
        .next_back()
        .is_some_and(|(_, &e)| e >= end)
}

/// Removes `[start, end)` from the set, splitting ranges that straddle it.
fn unmark(set: &mut BTreeMap<u64, u64>, start: u64, end: u64) {
    let overlapping: Vec<(u64, u64)> = set
        .range(..end)
        .rev()
        .take_while(|&(_, &e)| e > start)
        .map(|(&s, &e)| (s, e))
        .collect();
    for (s, e) in overlapping {
        set.remove(&s);
        if s < start {
            set.insert(s, start);
        }
        if e > end {
            set.insert(end, e);
        }
    }
}

/// Adds `[start, end)` to the set, merging with touching ranges.
fn mark(set: &mut BTreeMap<u64, u64>, mut start: u64, mut end: u64) {
    unmark(set, start, end);
    if let Some((&s, &e)) = set.range(..start).next_back() {
        if e == start {
            set.remove(&s);
            start = s;
        }
    }
    if let Some(&e) = set.get(&end) {
        set.remove(&end);
        end = e;
    }
    set.insert(start, end);
}

/// Runs `f` if `[addr, addr + len)` lies inside memory this module mapped
/// read+write and still is: then a plain copy there cannot fault, and no
/// protection change or unmap of the range can happen until `f` returns.
/// `None` (and `f` not run) otherwise.
pub fn with_writable<R>(addr: u64, len: u64, f: impl FnOnce() -> R) -> Option<R> {
    let end = addr.checked_add(len)?;
    let set = read_lock(&WRITABLE);
    covers(&set, addr, end).then(f)
}

/// Memory protection of a mapped range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prot {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

/// Read + write, never executable: how memory is handed out before it is
/// finalized.
pub const fn read_write() -> Prot {
    Prot {
        read: true,
        write: true,
        exec: false,
    }
}

impl Prot {
    fn to_native(self) -> libc::c_int {
        let mut p = libc::PROT_NONE;
        if self.read {
            p |= libc::PROT_READ;
        }
        if self.write {
            p |= libc::PROT_WRITE;
        }
        if self.exec {
            p |= libc::PROT_EXEC;
        }
        p
    }
}

/// The system page size.
pub fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as u64
    } else {
        4096
    }
}

/// Rounds `n` up to a multiple of the page size; `None` on overflow.
pub fn round_up_to_page(n: u64) -> Option<u64> {
    let ps = page_size();
    n.checked_add(ps - 1).map(|v| v & !(ps - 1))
}

/// The size of a transparent huge page (the kernel's PMD mapping size),
/// if the kernel has them: read once from
/// `/sys/kernel/mm/transparent_hugepage/hpage_pmd_size`.
pub fn huge_page_size() -> Option<u64> {
    static SIZE: OnceLock<Option<u64>> = OnceLock::new();
    *SIZE.get_or_init(|| {
        let text =
            std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size").ok()?;
        let n: u64 = text.trim().parse().ok()?;
        (n.is_power_of_two() && n > page_size()).then_some(n)
    })
}

/// Mappings of at least this many huge pages are placed on a huge-page
/// boundary by [`map_anonymous_rw`], and ranges at least this long are
/// advised by [`advise_huge_pages`].
const HUGE_PAGES_FOR_ADVICE: u64 = 2;

/// No Linux port has transparent huge pages smaller than this; a shorter
/// length is decided without reading the huge page size (a file read, kept
/// off the first small mapping).
const MIN_HUGE_PAGE: u64 = 2 << 20;

/// Advises the whole huge pages inside `[addr, addr + len)` to be backed by
/// transparent huge pages (`MADV_HUGEPAGE`), if the range spans at least
/// two huge pages ([`huge_page_size`]); returns whether it advised any.
///
/// For memory about to be filled entirely (a large segment's content and
/// zero fill): filling it then takes one page fault per huge page instead
/// of one per page, which is most of the cost of receiving a large object.
/// Only whole huge pages inside the range are advised, so memory around it
/// (other allocations of a slab) keeps small pages, and nothing outside the
/// range is ever populated because of the advice. Whether the kernel uses
/// huge pages is its choice (`/sys/kernel/mm/transparent_hugepage`).
/// Advice only: the contents and protection do not change, and a range
/// that is not mapped is ignored.
pub fn advise_huge_pages(addr: u64, len: u64) -> bool {
    if len < HUGE_PAGES_FOR_ADVICE * MIN_HUGE_PAGE {
        return false;
    }
    let Some(huge) = huge_page_size() else {
        return false;
    };
    if len < HUGE_PAGES_FOR_ADVICE * huge {
        return false;
    }
    let Some(end) = addr.checked_add(len) else {
        return false;
    };
    let Some(start) = addr.checked_add(huge - 1).map(|a| a & !(huge - 1)) else {
        return false;
    };
    let stop = end & !(huge - 1);
    if stop <= start {
        return false;
    }
    // SAFETY: advice only: it changes how the kernel backs pages not yet
    // touched, never their contents or protection, and fails harmlessly on
    // a range that is not mapped.
    let r = unsafe {
        libc::madvise(
            start as *mut libc::c_void,
            (stop - start) as usize,
            libc::MADV_HUGEPAGE,
        )
    };
    r == 0
}

/// Whether the mapping holding `addr` is advised `MADV_HUGEPAGE` (the `hg`
/// flag in `/proc/self/smaps`); `None` if no mapping holds it or smaps
/// cannot be read. For diagnostics and tests: it reads the whole file.
pub fn huge_pages_advised(addr: u64) -> Option<bool> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    for line in smaps.lines() {
        // A mapping's first line: "start-end perms ...".
        let range = line.split(' ').next().and_then(|r| r.split_once('-'));
        if let Some((a, b)) = range {
            if let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) {
                inside = a <= addr && addr < b;
                continue;
            }
        }
        if inside {
            if let Some(flags) = line.strip_prefix("VmFlags:") {
                return Some(flags.split_whitespace().any(|f| f == "hg"));
            }
        }
    }
    None
}

/// Maps `len` bytes of fresh anonymous, private, read+write memory and
/// returns its base address. The caller owns the mapping and must
/// [`unmap`] it.
///
/// A mapping of two huge pages or more ([`huge_page_size`]) starts on a
/// huge-page boundary, so that a large segment placed at its start covers
/// whole huge pages for [`advise_huge_pages`]. The mapping itself is not
/// advised: a large reservation that is only partly used (a slab) keeps
/// small pages where it is touched piecemeal.
pub fn map_anonymous_rw(len: u64) -> io::Result<u64> {
    let len = usize::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "mapping size too large"))?;
    if len == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot map 0 bytes",
        ));
    }
    let huge = (len as u64 >= HUGE_PAGES_FOR_ADVICE * MIN_HUGE_PAGE)
        .then(huge_page_size)
        .flatten()
        .filter(|&h| len as u64 >= HUGE_PAGES_FOR_ADVICE * h)
        .and_then(|h| usize::try_from(h).ok());
    // Room to slide the start to a huge-page boundary.
    let slack = huge.unwrap_or(0);
    let total = len
        .checked_add(slack)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "mapping size too large"))?;
    // SAFETY: a fresh anonymous mapping at a kernel-chosen address cannot
    // alias any existing Rust object.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            total,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let mut start = p as usize;
    if let Some(h) = huge {
        let aligned = (start + h - 1) & !(h - 1);
        let head = aligned - start;
        let tail = slack - head;
        // SAFETY: the head and tail trimmed here are parts of the mapping
        // just made, outside the range handed out. A failure leaves a
        // mapping that still works, a little larger.
        unsafe {
            if head > 0 {
                libc::munmap(p, head);
            }
            if tail > 0 {
                libc::munmap((aligned + len) as *mut libc::c_void, tail);
            }
        }
        start = aligned;
    }
    let start = start as u64;
    mark(&mut write_lock(&WRITABLE), start, start + len as u64);
    Ok(start)
}

/// Maps `len` bytes of the file `fd` shared, with no access rights
/// (`PROT_NONE`); [`protect`] grants access later.
pub fn map_shared_none(fd: libc::c_int, len: u64) -> io::Result<u64> {
    let len = usize::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "mapping size too large"))?;
    // SAFETY: a new mapping at a kernel-chosen address; no Rust object is
    // affected. An invalid fd is reported by the kernel.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(p as u64)
}

/// Changes the protection of `[addr, addr + len)`.
///
/// # Safety
/// The range must be memory this process mapped for JIT'd code (not memory
/// backing live Rust objects), or removing access may make Rust code fault.
pub unsafe fn protect(addr: u64, len: u64, prot: Prot) -> io::Result<()> {
    let len = usize::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "range too large"))?;
    let end = addr
        .checked_add(len as u64)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range wraps"))?;
    let mut set = write_lock(&WRITABLE);
    let mut read_only = write_lock(&READ_ONLY);
    // Not writable while the protection changes (mprotect may fail half
    // way); writable again only once it is.
    unmark(&mut set, addr, end);
    unmark(&mut read_only, addr, end);
    // SAFETY: caller promise: the range is JIT memory owned by the caller.
    let r = unsafe { libc::mprotect(addr as *mut libc::c_void, len, prot.to_native()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    if prot.read && prot.write {
        mark(&mut set, addr, end);
    } else if prot.read && !prot.exec {
        mark(&mut read_only, addr, end);
    }
    Ok(())
}

/// Unmaps `[addr, addr + len)`.
///
/// # Safety
/// The range must be a mapping this process created for JIT'd code that
/// nothing will access afterwards.
pub unsafe fn unmap(addr: u64, len: u64) -> io::Result<()> {
    let len = usize::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "range too large"))?;
    let end = addr
        .checked_add(len as u64)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range wraps"))?;
    let mut set = write_lock(&WRITABLE);
    unmark(&mut set, addr, end);
    unmark(&mut write_lock(&READ_ONLY), addr, end);
    // SAFETY: caller promise.
    let r = unsafe { libc::munmap(addr as *mut libc::c_void, len) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Copies `content` to `addr` and zero-fills the following `fill` bytes.
///
/// `content` may overlap the destination (it is moved, as by `memmove`).
///
/// # Safety
/// `[addr, addr + content.len() + fill)` must be writable memory this
/// process mapped for JIT'd code.
pub unsafe fn copy_and_zero_fill(addr: u64, content: &[u8], fill: usize) {
    let dst = addr as *mut u8;
    // SAFETY: caller promise: the destination is writable; `copy` allows
    // overlap.
    unsafe {
        ptr::copy(content.as_ptr(), dst, content.len());
        ptr::write_bytes(dst.add(content.len()), 0, fill);
    }
}

/// Makes freshly written code in `[addr, addr + len)` visible to
/// instruction fetch. Every path that writes code (a segment's
/// initialization, a shared-memory finalization, a write from the wire)
/// calls this one function after the write, so one place holds the
/// architecture's rule:
///
/// - x86-64 keeps instruction and data caches coherent, and `mprotect` (or
///   any later system call or branch) is serializing enough: nothing to do.
/// - AArch64 does not: the data cache is cleaned to the point of
///   unification line by line (`dc cvau`, unless `CTR_EL0.IDC` says it need
///   not), the instruction cache is invalidated line by line (`ic ivau`,
///   unless `CTR_EL0.DIC` says it need not), with the barriers between, as
///   the architecture prescribes for self-modifying code. Line sizes come
///   from `CTR_EL0`, readable at EL0 on Linux. The range must be mapped
///   and readable (it was just written or protected).
///
/// Emulators such as qemu-user notice modified code without this, so
/// tests record the calls (`recorded_invalidation`, test builds only)
/// instead of relying on a stale instruction cache to fail.
pub fn invalidate_instruction_cache(addr: u64, len: u64) {
    if len == 0 {
        return;
    }
    #[cfg(test)]
    invalidations::record(addr, len);
    // x86-64: coherent caches, nothing to do.
    #[cfg(target_arch = "x86_64")]
    let _ = addr;
    #[cfg(target_arch = "aarch64")]
    // SAFETY: cache maintenance by virtual address on a range the caller
    // just wrote or protected (mapped, readable); no memory changes.
    unsafe {
        aarch64_sync_caches(addr, addr.saturating_add(len))
    };
}

/// AArch64's cache maintenance for code written in `[start, end)`.
///
/// # Safety
/// The range is mapped and readable.
#[cfg(target_arch = "aarch64")]
unsafe fn aarch64_sync_caches(start: u64, end: u64) {
    use std::arch::asm;
    let ctr: u64;
    // SAFETY: CTR_EL0 is readable at EL0 (Linux sets SCTLR_EL1.UCT or
    // emulates the read).
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    const IDC: u64 = 1 << 28;
    const DIC: u64 = 1 << 29;
    let dline = 4u64 << ((ctr >> 16) & 0xf);
    let iline = 4u64 << (ctr & 0xf);
    // The first address of each `line`-byte cache line of the range.
    let lines = |line: u64| (start & !(line - 1)..end).step_by(line as usize);
    // SAFETY: `dc cvau` / `ic ivau` on addresses of the caller's mapped,
    // readable range (each line start is inside a page the range covers);
    // barriers have no operands.
    unsafe {
        if ctr & IDC == 0 {
            for a in lines(dline) {
                asm!("dc cvau, {}", in(reg) a, options(nostack, preserves_flags));
            }
        }
        asm!("dsb ish", options(nostack, preserves_flags));
        if ctr & DIC == 0 {
            for a in lines(iline) {
                asm!("ic ivau, {}", in(reg) a, options(nostack, preserves_flags));
            }
            asm!("dsb ish", options(nostack, preserves_flags));
        }
        asm!("isb", options(nostack, preserves_flags));
    }
}

/// Test builds record every range [`invalidate_instruction_cache`] was
/// called for, so that tests can check each code-writing path calls it.
#[cfg(test)]
mod invalidations {
    use std::sync::Mutex;

    static RANGES: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

    pub(super) fn record(addr: u64, len: u64) {
        crate::sync::lock(&RANGES).push((addr, addr.saturating_add(len)));
    }

    /// Whether one recorded call covered all of `[addr, addr + len)`.
    pub fn covered(addr: u64, len: u64) -> bool {
        let end = addr.saturating_add(len);
        crate::sync::lock(&RANGES)
            .iter()
            .any(|&(s, e)| s <= addr && end <= e)
    }
}

/// Whether [`invalidate_instruction_cache`] was called for a range covering
/// `[addr, addr + len)` since the process started (test builds only).
#[cfg(test)]
pub fn recorded_invalidation(addr: u64, len: u64) -> bool {
    invalidations::covered(addr, len)
}

/// Maps the first `len` bytes of file `fd` private, read + execute (the
/// perf jitdump marker; nothing is ever executed there).
pub fn map_file_read_exec(fd: libc::c_int, len: u64) -> io::Result<u64> {
    let len = usize::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "mapping size too large"))?;
    // SAFETY: a new mapping at a kernel-chosen address; no Rust object is
    // affected.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_PRIVATE,
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(p as u64)
}

/// The protection of the mapping that holds all of `[addr, addr + len)`:
/// from this module's records where it set that protection itself (a
/// writable or read-only range), else from `/proc/self/maps` (`None` if no
/// single mapping holds it).
fn protection_of(addr: u64, len: u64) -> Option<(bool, bool, bool)> {
    let end = addr.checked_add(len)?;
    let page = page_size();
    let (first, last) = (addr & !(page - 1), end.checked_add(page - 1)? & !(page - 1));
    if covers(&read_lock(&WRITABLE), first, last) {
        return Some((true, true, false));
    }
    if covers(&read_lock(&READ_ONLY), first, last) {
        return Some((true, false, false));
    }
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let (lo, hi) = f.next()?.split_once('-')?;
        let (lo, hi) = (
            u64::from_str_radix(lo, 16).ok()?,
            u64::from_str_radix(hi, 16).ok()?,
        );
        let p = f.next()?.as_bytes();
        (lo <= addr && end <= hi && p.len() >= 3)
            .then(|| (p[0] == b'r', p[1] == b'w', p[2] == b'x'))
    })
}

/// Writes `data` at `addr` into JIT'd memory that may be read-only (not
/// executable): the pages are made writable for the copy, then given their
/// protection back. Used to repair JIT'd metadata after finalization.
///
/// # Safety
/// The range must be JIT'd memory (no live Rust object), mapped for the
/// whole call, that nothing else writes meanwhile.
pub unsafe fn patch(addr: u64, data: &[u8]) -> io::Result<()> {
    let len = data.len() as u64;
    let Some((r, w, x)) = protection_of(addr, len) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr:#x}: no single mapping holds {len} bytes here"),
        ));
    };
    if x {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{addr:#x} is executable memory; not patched (W^X)"),
        ));
    }
    if !r {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{addr:#x} is not readable memory"),
        ));
    }
    let page = page_size();
    let start = addr & !(page - 1);
    let end = (addr + len).div_ceil(page) * page;
    let span = (end - start) as usize;
    if !w {
        // SAFETY: caller promise: JIT'd memory; adding write access keeps
        // every read working.
        if unsafe {
            libc::mprotect(
                start as *mut libc::c_void,
                span,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: the range is mapped and now writable; caller promise: no
    // Rust object lives there.
    unsafe { ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) };
    if !w {
        // SAFETY: as above; restores the protection read from the maps.
        if unsafe { libc::mprotect(start as *mut libc::c_void, span, libc::PROT_READ) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod writable_tests {
    use super::*;

    #[test]
    fn the_writable_set_follows_mappings_and_protections() {
        let page = page_size();
        // A fifth page, made inaccessible, ends the writable range for sure
        // (another test's mapping could otherwise follow and merge).
        let base = map_anonymous_rw(5 * page).unwrap();
        let none = Prot {
            read: false,
            write: false,
            exec: false,
        };
        // SAFETY: our own fresh mapping, holding no Rust objects.
        unsafe { protect(base + 4 * page, page, none).unwrap() };
        assert_eq!(with_writable(base, 4 * page, || 1), Some(1));
        assert_eq!(with_writable(base + 4 * page - 1, 2, || 1), None);
        let ro = Prot {
            read: true,
            write: false,
            exec: false,
        };
        // SAFETY: our own fresh mapping, holding no Rust objects.
        unsafe { protect(base + page, page, ro).unwrap() };
        assert_eq!(with_writable(base, page, || 1), Some(1));
        assert_eq!(with_writable(base, page + 1, || 1), None);
        assert_eq!(with_writable(base + 2 * page, 2 * page, || 1), Some(1));
        // SAFETY: as above.
        unsafe { protect(base + page, page, read_write()).unwrap() };
        assert_eq!(with_writable(base, 4 * page, || 1), Some(1));
        // SAFETY: as above; nothing uses the mapping afterwards.
        unsafe { unmap(base, 5 * page).unwrap() };
        assert_eq!(with_writable(base, 1, || 1), None);
        assert_eq!(with_writable(u64::MAX, 2, || 1), None);
    }

    #[test]
    fn read_only_ranges_are_known_and_patched_without_the_maps_file() {
        let page = page_size();
        let base = map_anonymous_rw(3 * page).unwrap();
        let ro = Prot {
            read: true,
            write: false,
            exec: false,
        };
        let rx = Prot {
            read: true,
            write: false,
            exec: true,
        };
        // SAFETY: our own fresh mapping, nothing lives in it.
        unsafe {
            protect(base + page, page, ro).unwrap();
            protect(base + 2 * page, page, rx).unwrap();
        }
        assert!(covers(&read_lock(&READ_ONLY), base + page, base + 2 * page));
        assert_eq!(
            protection_of(base + page + 8, 4),
            Some((true, false, false))
        );
        assert_eq!(protection_of(base, 4), Some((true, true, false)));
        // SAFETY: read-only JIT memory of ours; executable memory is refused.
        unsafe {
            patch(base + page + 8, b"eh!").unwrap();
            assert!(patch(base + 2 * page, b"x").is_err());
        }
        // SAFETY: three bytes of our own readable mapping.
        let got = unsafe { std::slice::from_raw_parts((base + page + 8) as *const u8, 3) };
        assert_eq!(got, b"eh!");
        // Still read-only afterwards; the records follow an unmap.
        assert_eq!(protection_of(base + page, 1), Some((true, false, false)));
        // SAFETY: our own mapping, unused from here on.
        unsafe { unmap(base, 3 * page) }.unwrap();
        assert!(!covers(
            &read_lock(&READ_ONLY),
            base + page,
            base + page + 1
        ));
    }

    #[test]
    fn short_ranges_are_never_advised() {
        // Shorter than two huge pages of the smallest size any port has,
        // with or without transparent huge pages.
        let page = page_size();
        let base = map_anonymous_rw(8 * page).unwrap();
        assert!(!advise_huge_pages(base, 8 * page));
        assert!(!advise_huge_pages(base, 2 * MIN_HUGE_PAGE - 1));
        // SAFETY: our own fresh mapping, holding no Rust objects.
        unsafe { unmap(base, 8 * page).unwrap() };
    }

    #[test]
    #[ignore = "needs transparent huge pages: scripts/test-ignored.sh runs it where the kernel has them"]
    fn large_mappings_start_on_a_huge_page_and_large_ranges_are_advised() {
        let page = page_size();
        let huge = huge_page_size().expect("transparent huge pages");
        let has_hg = |addr| huge_pages_advised(addr).expect("mapping in /proc/self/smaps");
        let len = 4 * huge + 3 * page;
        let base = map_anonymous_rw(len).unwrap();
        assert_eq!(base % huge, 0, "not on a huge-page boundary: {base:#x}");
        // The mapping is not advised until something fills a large range.
        assert!(!has_hg(base));
        assert!(
            !advise_huge_pages(base, huge + page),
            "shorter than two huge pages"
        );
        assert!(!has_hg(base));
        // A range starting mid-way: only the whole huge pages inside it.
        let from = base + huge / 2;
        assert!(advise_huge_pages(from, 3 * huge));
        assert!(!has_hg(from), "the partial huge page before the boundary");
        assert!(has_hg(base + huge));
        assert!(has_hg(base + 3 * huge - page));
        assert!(
            !has_hg(base + 3 * huge),
            "the partial huge page after the range"
        );
        assert_eq!(with_writable(base, len, || 1), Some(1));
        // Every page is usable, also after a protection change splits an
        // advised huge page.
        let ro = Prot {
            read: true,
            write: false,
            exec: false,
        };
        for off in (0..len).step_by(page as usize) {
            // SAFETY: inside our own fresh read+write mapping.
            unsafe { copy_and_zero_fill(base + off, &off.to_le_bytes(), 0) };
        }
        // SAFETY: our own mapping, holding no Rust objects.
        unsafe { protect(base + huge + page, page, ro).unwrap() };
        for off in (0..len).step_by(page as usize) {
            // SAFETY: inside our own mapping, readable everywhere.
            let v = unsafe { ptr::read((base + off) as *const u64) };
            assert_eq!(v, off);
        }
        // SAFETY: as above; nothing uses the mapping afterwards.
        unsafe { unmap(base, len).unwrap() };
        assert_eq!(with_writable(base, 1, || 1), None);
    }
}
