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
    /// Mechanisms in force ("limits", "filesystem", "network", "syscalls").
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
