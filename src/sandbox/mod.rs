//! The sandbox: an executor confines the JIT'd code it runs.
//!
//! A [`SandboxPolicy`] says what JIT'd code may do: resource limits
//! ([`ResourceLimits`]), the files it may read or write (Landlock), whether
//! it may bind or connect TCP sockets (Landlock ABI 4 and later), and which
//! system calls are refused (seccomp, with `no_new_privs`). The executor
//! sets up its connection and loads what it needs, then calls
//! [`SandboxPolicy::apply`] once, before it starts any other thread and
//! before any JIT'd code runs: every thread started afterwards inherits the
//! confinement, and nothing can lift it.
//!
//! The ready profile for strangers' snippets is `untrusted`
//! ([`SandboxPolicy::untrusted`]). A policy is also written as a spec
//! ([`SandboxPolicy::parse`]), the form of `ORC_RT_SANDBOX` and of
//! `orc-rt-executor --sandbox=`.
//!
//! ```
//! use orc_rt::sandbox::SandboxPolicy;
//!
//! let p = SandboxPolicy::parse("untrusted,cpu=5,rw=/tmp/work,require").unwrap();
//! assert_eq!(p.limits.cpu_seconds, Some(5));
//! assert_eq!(p.read_write, [std::path::PathBuf::from("/tmp/work")]);
//! assert!(p.require);
//! assert!(SandboxPolicy::parse("untrusted,cpu=soon").is_err());
//! assert!(SandboxPolicy::parse("none").unwrap().is_none());
//! ```

mod error;
pub mod landlock;
pub mod limits;
mod policy;
pub mod seccomp;

pub use error::SandboxError;
pub use limits::{ResourceLimits, CPU_LIMIT_EXIT_STATUS, WALL_LIMIT_EXIT_STATUS};
pub use policy::SandboxPolicy;

/// What [`SandboxPolicy::apply`] enforced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxReport {
    /// The Landlock ABI version the kernel offers (0: none).
    pub landlock_abi: i32,
    /// Mechanisms in force ("limits", "filesystem", "network", "signals",
    /// "syscalls"; "signals": Landlock ABI 6 and later, see [`landlock`]).
    pub enforced: Vec<String>,
    /// What the policy asked for and the kernel could not do, with why.
    pub not_enforced: Vec<String>,
}

impl SandboxPolicy {
    /// Confines this process from now on: resource limits, then Landlock,
    /// then seccomp. Call it once, from the thread that will start every
    /// other thread, before starting them and before running JIT'd code:
    /// Landlock and seccomp confine the calling thread and what it starts.
    ///
    /// Returns what was enforced. A mechanism the kernel lacks is listed in
    /// [`SandboxReport::not_enforced`], or, with
    /// [`SandboxPolicy::require`], is an error before anything is applied.
    pub fn apply(&self) -> Result<SandboxReport, SandboxError> {
        let mut report = SandboxReport {
            landlock_abi: landlock::abi_version(),
            ..SandboxReport::default()
        };
        if self.is_none() {
            return Ok(report);
        }
        // Decide first what cannot be enforced, so `require` refuses
        // before changing anything.
        if self.filesystem || self.deny_network {
            if let Some(why) = landlock::unsupported(self, report.landlock_abi) {
                if self.require {
                    return Err(SandboxError::Required(why));
                }
                report.not_enforced.push(why);
            }
        }
        if !self.limits.is_none() {
            self.limits.apply()?;
            report.enforced.push("limits".into());
        }
        if self.filesystem || self.deny_network {
            report
                .enforced
                .extend(landlock::apply(self, report.landlock_abi)?);
        }
        if self.syscalls || !self.allow_exec || !self.allow_fork {
            seccomp::apply(self)?;
            report.enforced.push("syscalls".into());
        }
        Ok(report)
    }
}

impl std::fmt::Display for SandboxReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Landlock ABI {}", self.landlock_abi)?;
        if !self.enforced.is_empty() {
            write!(f, "; enforced: {}", self.enforced.join(", "))?;
        }
        if !self.not_enforced.is_empty() {
            write!(f, "; NOT enforced: {}", self.not_enforced.join("; "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::probe;

    #[test]
    fn untrusted_confines_a_child_with_every_mechanism() {
        let abi = landlock::abi_version();
        if abi < 6 {
            eprintln!("skipped: Landlock ABI {abi} (this test wants 6 or later)");
            return;
        }
        let policy = SandboxPolicy::parse("untrusted,no-limits").unwrap();
        probe::in_child(|| {
            let report = policy.apply().map_err(|e| e.to_string())?;
            let want = ["filesystem", "network", "signals", "syscalls"];
            if report.enforced != want || !report.not_enforced.is_empty() {
                return Err(format!("report: {report}"));
            }
            match std::fs::read("/etc/passwd") {
                Err(e) if e.raw_os_error() == Some(libc::EACCES) => {}
                r => return Err(format!("read /etc/passwd: {r:?}")),
            }
            match probe::execve_sh().raw_os_error() {
                Some(libc::EPERM) => {}
                e => return Err(format!("execve: {e:?}")),
            }
            std::thread::spawn(|| std::fs::read_dir("/usr/lib").map(drop))
                .join()
                .map_err(|_| "thread panicked".to_string())?
                .map_err(|e| format!("list /usr/lib on a thread: {e}"))
        })
        .unwrap();
    }

    #[test]
    fn the_report_says_what_is_not_enforced() {
        let r = SandboxReport {
            landlock_abi: 3,
            enforced: vec!["filesystem".into(), "syscalls".into()],
            not_enforced: vec![landlock::unsupported(&SandboxPolicy::untrusted(), 3).unwrap()],
        };
        assert_eq!(
            r.to_string(),
            "Landlock ABI 3; enforced: filesystem, syscalls; NOT enforced: Landlock ABI 3 has \
             no network rules (needs 4)"
        );
    }
}
