//! JITDylib bookkeeping: the platform's table of JITDylibs (by header and
//! by name), their initialiser and finaliser ranges, their `atexit`
//! handlers and the bootstrap phase, all kept under the platform's one
//! mutex.
//!
//! The methods of [`State`] only update the table and pick what is due;
//! the platform runs the JIT'd code they pick ([`read_pointers`],
//! [`run_deinit`]) with no lock held.

use std::collections::HashMap;

use super::error::PlatformError;
use crate::controller_access::HandlerTag;
use crate::sys::{jit_call, mem};
use crate::ExecutorAddrRange;

/// The dispatch tags the archive defines (addresses of distinct bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformTags {
    /// `__orc_rt_elfnix_push_initializers_tag`.
    pub push_initializers: HandlerTag,
    /// `__orc_rt_elfnix_symbol_lookup_tag`.
    pub symbol_lookup: HandlerTag,
}

/// A deinitialiser: an `atexit`-style handler, or one finaliser function.
#[derive(Clone, Copy, Debug)]
pub(super) struct Deinit {
    /// Registration order across the platform.
    seq: u64,
    /// `void f(void *)` (with `arg`) or `void f(void)`.
    f: u64,
    arg: u64,
    with_arg: bool,
}

/// One registered initialiser range and whether it has run since the
/// JITDylib was last closed.
#[derive(Clone, Copy, Debug)]
struct InitRange {
    range: ExecutorAddrRange,
    run: bool,
    /// Registration order (ranges of later objects run later).
    seq: u64,
}

#[derive(Debug)]
pub(super) struct JitDylib {
    name: String,
    /// dlopen count.
    pub(super) open_count: usize,
    /// How many opened JITDylibs depend on this one.
    pub(super) linked_against: usize,
    deps: Vec<u64>,
    inits: Vec<InitRange>,
    /// Finaliser ranges (LLVM 23 sends them), with their registration order.
    finis: Vec<(ExecutorAddrRange, u64)>,
    /// Finaliser ranges whose functions are due when the JITDylib closes.
    finis_due: bool,
    atexits: Vec<Deinit>,
}

impl JitDylib {
    fn referenced(&self) -> bool {
        self.open_count != 0 || self.linked_against != 0
    }
}

#[derive(Debug, Default)]
pub(super) enum Phase {
    #[default]
    Created,
    Running {
        platform_header: u64,
        tags: PlatformTags,
    },
    ShutDown,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) phase: Phase,
    jds: HashMap<u64, JitDylib>,
    by_name: HashMap<String, u64>,
    next_seq: u64,
    /// `atexit` handlers registered against no known JITDylib.
    orphans: Vec<Deinit>,
    /// EH frames registered through this platform (start addresses).
    pub(super) eh_frames: Vec<ExecutorAddrRange>,
    /// TLS images registered through this platform.
    pub(super) tls_images: Vec<ExecutorAddrRange>,
    pub(super) next_key: u64,
}

impl State {
    pub(super) fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub(super) fn jd(&mut self, header: u64) -> Result<&mut JitDylib, PlatformError> {
        self.jds
            .get_mut(&header)
            .ok_or(PlatformError::UnknownHeader(header))
    }

    /// The platform JITDylib's header and the archive's tags, if the
    /// platform is bootstrapped and not shut down.
    pub(super) fn running(&self) -> Result<(u64, PlatformTags), PlatformError> {
        match self.phase {
            Phase::Running {
                platform_header,
                tags,
            } => Ok((platform_header, tags)),
            Phase::Created => Err(PlatformError::NotBootstrapped),
            Phase::ShutDown => Err(PlatformError::ShutDown),
        }
    }

    /// The headers of every known JITDylib.
    pub(super) fn headers(&self) -> Vec<u64> {
        self.jds.keys().copied().collect()
    }

    /// The header of the JITDylib named `name`.
    pub(super) fn header_of(&self, name: &str) -> Result<u64, PlatformError> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| PlatformError::UnknownPath(name.to_string()))
    }

    /// Forgets every JITDylib.
    pub(super) fn clear_jitdylibs(&mut self) {
        self.jds.clear();
        self.by_name.clear();
    }

    /// Adds a JITDylib with nothing registered yet.
    pub(super) fn add_jitdylib(&mut self, name: &str, header: u64) -> Result<(), PlatformError> {
        if self.jds.contains_key(&header) || self.by_name.contains_key(name) || header == 0 {
            return Err(PlatformError::DuplicateJitDylib {
                header,
                name: name.to_string(),
            });
        }
        self.by_name.insert(name.to_string(), header);
        self.jds.insert(
            header,
            JitDylib {
                name: name.to_string(),
                open_count: 0,
                linked_against: 0,
                deps: Vec::new(),
                inits: Vec::new(),
                finis: Vec::new(),
                finis_due: false,
                atexits: Vec::new(),
            },
        );
        Ok(())
    }

    /// Forgets the JITDylib `header`.
    pub(super) fn remove_jitdylib(&mut self, header: u64) -> Result<(), PlatformError> {
        let jd = self
            .jds
            .remove(&header)
            .ok_or(PlatformError::UnknownHeader(header))?;
        self.by_name.remove(&jd.name);
        Ok(())
    }

    /// Records initialiser ranges of one object (empty ranges are left out).
    pub(super) fn add_inits(
        &mut self,
        header: u64,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        let seq = self.seq();
        let jd = self.jd(header)?;
        jd.inits.extend(
            ranges
                .iter()
                .filter(|r| !r.is_empty())
                .map(|&range| InitRange {
                    range,
                    run: false,
                    seq,
                }),
        );
        Ok(())
    }

    /// Forgets the initialiser ranges `ranges` of `header`.
    pub(super) fn remove_inits(
        &mut self,
        header: u64,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        let jd = self.jd(header)?;
        jd.inits.retain(|i| !ranges.contains(&i.range));
        Ok(())
    }

    /// Records finaliser ranges of one object (empty ranges are left out).
    pub(super) fn add_finis(
        &mut self,
        header: u64,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        let seq = self.seq();
        let jd = self.jd(header)?;
        jd.finis
            .extend(ranges.iter().filter(|r| !r.is_empty()).map(|&r| (r, seq)));
        Ok(())
    }

    /// Forgets the finaliser ranges `ranges` of `header`.
    pub(super) fn remove_finis(
        &mut self,
        header: u64,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        let jd = self.jd(header)?;
        jd.finis.retain(|(r, _)| !ranges.contains(r));
        Ok(())
    }

    /// Registers an `atexit`-style handler with the JITDylib whose header
    /// is `dso`, or as an orphan if there is none.
    pub(super) fn add_atexit(&mut self, dso: u64, f: u64, arg: u64, with_arg: bool) {
        let seq = self.seq();
        let d = Deinit {
            seq,
            f,
            arg,
            with_arg,
        };
        match self.jds.get_mut(&dso) {
            Some(jd) => jd.atexits.push(d),
            None => self.orphans.push(d),
        }
    }

    /// Records `header`'s dependencies from the controller's map `deps`
    /// (moving the `linked_against` counts from the old ones to the new);
    /// returns the dependencies to initialise first.
    pub(super) fn link_deps(
        &mut self,
        header: u64,
        deps: &HashMap<u64, Vec<u64>>,
    ) -> Result<Vec<u64>, PlatformError> {
        let name = self.jd(header)?.name.clone();
        let Some(d) = deps.get(&header) else {
            return Ok(Vec::new());
        };
        for &dep in d {
            if !self.jds.contains_key(&dep) {
                return Err(PlatformError::UnknownDependency { dep, name });
            }
        }
        let jd = self.jd(header)?;
        let old = std::mem::replace(&mut jd.deps, d.clone());
        for &dep in d {
            if let Some(j) = self.jds.get_mut(&dep) {
                j.linked_against += 1;
            }
        }
        for dep in old {
            if let Some(j) = self.jds.get_mut(&dep) {
                j.linked_against = j.linked_against.saturating_sub(1);
            }
        }
        Ok(d.clone())
    }

    /// Marks the oldest registration of `header` whose initialisers have
    /// not run as run, and returns its ranges (they run together, in
    /// order); `None` once every one has run.
    pub(super) fn next_inits(
        &mut self,
        header: u64,
    ) -> Result<Option<Vec<ExecutorAddrRange>>, PlatformError> {
        let jd = self.jd(header)?;
        let i = jd
            .inits
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.run)
            .min_by_key(|(_, r)| r.seq)
            .map(|(i, _)| i);
        let Some(i) = i else {
            return Ok(None);
        };
        jd.inits[i].run = true;
        jd.finis_due = true;
        // The ranges of one registration run together, in order.
        let seq = jd.inits[i].seq;
        let mut batch = Vec::new();
        for r in jd.inits.iter_mut().filter(|r| r.seq == seq) {
            r.run = true;
            batch.push(r.range);
        }
        Ok(Some(batch))
    }

    /// Drops one open reference of `header`; true if that was the last
    /// reference (the JITDylib is to be closed).
    pub(super) fn drop_open(&mut self, header: u64) -> Result<bool, PlatformError> {
        let jd = self.jd(header)?;
        if jd.open_count == 0 {
            return Err(PlatformError::NotOpen(jd.name.clone()));
        }
        jd.open_count -= 1;
        Ok(!jd.referenced())
    }

    /// Resets `header`'s initialisers (a later open runs them again) and
    /// unlinks its dependencies; returns those no longer referenced.
    pub(super) fn reset_and_unlink(&mut self, header: u64) -> Result<Vec<u64>, PlatformError> {
        let jd = self.jd(header)?;
        for i in &mut jd.inits {
            i.run = false;
        }
        let deps = std::mem::take(&mut jd.deps);
        let mut to_close = Vec::new();
        for dep in deps {
            if let Some(j) = self.jds.get_mut(&dep) {
                j.linked_against = j.linked_against.saturating_sub(1);
                if !j.referenced() && dep != header {
                    to_close.push(dep);
                }
            }
        }
        Ok(to_close)
    }

    /// The finaliser ranges of `headers` that are due now (each with its
    /// JITDylib and registration order); they are no longer due afterwards.
    pub(super) fn take_due_finis(&mut self, headers: &[u64]) -> Vec<(u64, ExecutorAddrRange, u64)> {
        let mut due = Vec::new();
        for h in headers {
            if let Some(jd) = self.jds.get_mut(h) {
                if std::mem::take(&mut jd.finis_due) {
                    due.extend(jd.finis.iter().map(|&(r, seq)| (*h, r, seq)));
                }
            }
        }
        due
    }

    /// Adds the functions `fs` of a finaliser array registered at `seq` to
    /// `header`'s handlers.
    pub(super) fn add_finalizers(&mut self, header: u64, seq: u64, fs: Vec<u64>) {
        if let Some(jd) = self.jds.get_mut(&header) {
            jd.atexits.extend(fs.into_iter().map(|f| Deinit {
                seq,
                f,
                arg: 0,
                with_arg: false,
            }));
        }
    }

    /// Removes and returns the newest pending deinitialiser of `headers`
    /// (and of the orphans if `orphans`).
    pub(super) fn take_newest_deinit(&mut self, headers: &[u64], orphans: bool) -> Option<Deinit> {
        // The newest entry: highest sequence number, and among a
        // finaliser array's functions (same number), the last.
        // `None` as the list means the orphans.
        let mut best: Option<(Option<u64>, usize, u64)> = None;
        let mut consider = |list: Option<u64>, l: &[Deinit]| {
            for (i, d) in l.iter().enumerate() {
                if best.is_none_or(|(_, _, s)| d.seq >= s) {
                    best = Some((list, i, d.seq));
                }
            }
        };
        for h in headers {
            if let Some(jd) = self.jds.get(h) {
                consider(Some(*h), &jd.atexits);
            }
        }
        if orphans {
            consider(None, &self.orphans);
        }
        best.and_then(|(list, i, _)| match list {
            Some(h) => self.jds.get_mut(&h).map(|jd| jd.atexits.remove(i)),
            None => Some(self.orphans.remove(i)),
        })
    }
}

/// Checks ranges of function pointers sent by the controller: ordered,
/// and, unless empty, not at address 0 and a whole number of pointers.
pub(super) fn check_ranges(
    what: &'static str,
    ranges: &[ExecutorAddrRange],
) -> Result<(), PlatformError> {
    for r in ranges {
        let (start, end) = (r.start.value(), r.end.value());
        if end < start || (end > start && (start == 0 || (end - start) % 8 != 0)) {
            return Err(PlatformError::BadRange { what, start, end });
        }
    }
    Ok(())
}

/// Reads an array of function pointers; null and `-1` entries (`.ctors`
/// sentinels) are skipped.
pub(super) fn read_pointers(
    what: &'static str,
    range: ExecutorAddrRange,
) -> Result<Vec<u64>, PlatformError> {
    let (start, end) = (range.start.value(), range.end.value());
    let bytes =
        mem::read_vec(start, end - start).map_err(|source| PlatformError::UnreadableArray {
            what,
            start,
            source,
        })?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .filter(|&f| f != 0 && f != u64::MAX)
        .collect())
}

/// Runs one deinitialiser.
pub(super) fn run_deinit(d: Deinit) {
    if d.f == 0 {
        return;
    }
    if d.with_arg {
        // SAFETY: JIT'd code registered `void f(void *)` with this argument
        // through `__cxa_atexit`.
        unsafe { jit_call::call_with_ptr(d.f as usize, d.arg as usize) };
    } else {
        // SAFETY: JIT'd code registered `void f(void)` through `atexit`, or
        // it is a finaliser array entry.
        unsafe { jit_call::call_void(d.f as usize) };
    }
}
