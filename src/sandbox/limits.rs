//! Resource limits of a sandboxed executor: `setrlimit` and a SIGXCPU
//! handler that names the limit (the wall-clock watchdog is a process, see
//! [`super::process`]).

use super::error::SandboxError;
use crate::sys::rlimit;

/// Exit status when the CPU-time limit is hit (128 + SIGXCPU, what a shell
/// shows for a process SIGXCPU killed).
pub const CPU_LIMIT_EXIT_STATUS: i32 = 152;
/// Exit status when the wall-clock limit is hit (as `timeout(1)`).
pub const WALL_LIMIT_EXIT_STATUS: i32 = 124;

/// Resource limits; `None` leaves a limit as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Address space in bytes (`RLIMIT_AS`): allocations beyond fail
    /// (`malloc` returns NULL, `mmap` fails with `ENOMEM`).
    pub address_space: Option<u64>,
    /// CPU seconds (`RLIMIT_CPU`): the process then exits with
    /// [`CPU_LIMIT_EXIT_STATUS`] and a message on stderr.
    pub cpu_seconds: Option<u64>,
    /// Wall-clock seconds for the whole session: the process then exits
    /// with [`WALL_LIMIT_EXIT_STATUS`] and a message on stderr. Enforced
    /// by a watchdog process (see [`super::process`]), not by
    /// [`ResourceLimits::apply`].
    pub wall_seconds: Option<u64>,
    /// Open files (`RLIMIT_NOFILE`): beyond, `open` fails with `EMFILE`.
    pub open_files: Option<u64>,
    /// Processes and threads of the user (`RLIMIT_NPROC`): beyond, `fork`
    /// and `pthread_create` fail with `EAGAIN` (not enforced for root,
    /// whose new processes the seccomp filter refuses instead).
    pub processes: Option<u64>,
    /// File size in bytes (`RLIMIT_FSIZE`): writes beyond fail with
    /// `EFBIG` (SIGXFSZ is ignored).
    pub file_size: Option<u64>,
    /// Allow core dumps (`RLIMIT_CORE`); off in every sandbox.
    pub core_dumps: bool,
}

/// Parses a size in bytes with an optional `K`, `M` or `G` suffix.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

impl ResourceLimits {
    /// The limits of the `untrusted` profile.
    pub fn untrusted() -> Self {
        ResourceLimits {
            address_space: Some(4 << 30),
            cpu_seconds: Some(60),
            wall_seconds: Some(600),
            open_files: Some(256),
            processes: Some(512),
            file_size: Some(4 << 30),
            core_dumps: false,
        }
    }

    /// True if nothing is limited (core dumps are turned off by any
    /// sandbox that limits something).
    pub fn is_none(&self) -> bool {
        *self
            == ResourceLimits {
                core_dumps: self.core_dumps,
                ..ResourceLimits::default()
            }
    }

    /// Applies the limits to this process (all but the wall-clock one):
    /// also no locked memory (`RLIMIT_MEMLOCK`), no real-time priority
    /// (`RLIMIT_RTPRIO`) and no nice value below 0 (`RLIMIT_NICE`).
    pub fn apply(&self) -> Result<(), SandboxError> {
        let os = |what| move |source| SandboxError::Os { what, source };
        let set = |res, v: u64, what| rlimit::lower_limit(res, v, v).map_err(os(what));
        if !self.core_dumps {
            set(libc::RLIMIT_CORE, 0, "RLIMIT_CORE")?;
        }
        // No locked memory, no real-time priority, no nice below 0: what a
        // process without capabilities may not exceed.
        set(libc::RLIMIT_MEMLOCK, 0, "RLIMIT_MEMLOCK")?;
        set(libc::RLIMIT_RTPRIO, 0, "RLIMIT_RTPRIO")?;
        set(libc::RLIMIT_NICE, 0, "RLIMIT_NICE")?;
        if let Some(v) = self.address_space {
            set(libc::RLIMIT_AS, v, "RLIMIT_AS")?;
        }
        if let Some(v) = self.open_files {
            set(libc::RLIMIT_NOFILE, v, "RLIMIT_NOFILE")?;
        }
        if let Some(v) = self.processes {
            set(libc::RLIMIT_NPROC, v, "RLIMIT_NPROC")?;
        }
        if let Some(v) = self.file_size {
            rlimit::ignore_file_size_signal().map_err(os("SIGXFSZ"))?;
            set(libc::RLIMIT_FSIZE, v, "RLIMIT_FSIZE")?;
        }
        if let Some(v) = self.cpu_seconds {
            let msg = format!(
                "orc-rt: sandbox: CPU time limit of {v} s exceeded; exiting with status \
                 {CPU_LIMIT_EXIT_STATUS}\n"
            );
            rlimit::exit_on_cpu_limit(msg, CPU_LIMIT_EXIT_STATUS).map_err(os("SIGXCPU"))?;
            // The hard limit one second later: SIGKILL if SIGXCPU is
            // blocked or its handler replaced by JIT'd code.
            rlimit::lower_limit(libc::RLIMIT_CPU, v, v.saturating_add(1))
                .map_err(os("RLIMIT_CPU"))?;
        }
        Ok(())
    }
}
