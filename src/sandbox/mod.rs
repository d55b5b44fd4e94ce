//! The sandbox: an executor confines the JIT'd code it runs.
//!
//! A [`SandboxPolicy`] says what JIT'd code may do: resource limits
//! ([`ResourceLimits`]), the files it may read or write (Landlock), whether
//! it may bind or connect TCP sockets (Landlock ABI 4 and later), and which
//! system calls are refused (seccomp, with `no_new_privs`); and how the
//! process is set apart: a supervisor process outside ([`process`]),
//! inherited descriptors closed, a clean environment, namespaces, and for
//! a privileged executor an unprivileged per-session identity. The
//! executor sets up its connection and loads what it needs, then calls
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
pub mod process;
pub mod seccomp;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::sys;

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

/// Set once `apply` starts changing this process.
static APPLIED: AtomicBool = AtomicBool::new(false);

/// The first Landlock ABI that confines every thread at once
/// (`LANDLOCK_RESTRICT_SELF_TSYNC`).
const LANDLOCK_TSYNC_ABI: i32 = 8;

impl SandboxPolicy {
    /// Confines this process from now on, in this order: the wall-clock
    /// watchdog (a fork: the caller continues in the child, see
    /// [`process`]), inherited descriptors, the environment, namespaces,
    /// resource limits, Landlock, the identity, then seccomp. Call it
    /// once, before starting other threads and before running JIT'd code.
    ///
    /// With other threads already running, it confines all of them or
    /// refuses: seccomp is installed on every thread (`TSYNC`) and Landlock
    /// too from ABI 8; a policy that needs anything else (Landlock below
    /// ABI 8, the identity change, namespaces, `env=clean`, the watchdog)
    /// is an error ([`SandboxError::OtherThreads`]) before anything
    /// changes. A second call is [`SandboxError::AlreadyApplied`].
    ///
    /// Returns each layer enforced and each one that could not be, with
    /// why ([`SandboxReport`]). With [`SandboxPolicy::require`], a layer
    /// that cannot be enforced is an error instead (before anything
    /// changes when it is known in advance, as for Landlock).
    pub fn apply(&self) -> Result<SandboxReport, SandboxError> {
        let mut report = SandboxReport {
            landlock_abi: landlock::abi_version(),
            ..SandboxReport::default()
        };
        if self.is_none() {
            return Ok(report);
        }
        if APPLIED.load(Ordering::SeqCst) {
            return Err(SandboxError::AlreadyApplied);
        }
        let abi = report.landlock_abi;
        let use_landlock = self.filesystem || self.deny_network;
        // Decide first what cannot be enforced, so `require` refuses
        // before changing anything.
        if use_landlock {
            if let Some(why) = landlock::unsupported(self, abi) {
                if self.require {
                    return Err(SandboxError::Required(why));
                }
                report.not_enforced.push(why);
            }
        }
        let privileged = sys::process::is_privileged();
        let threads = sys::process::thread_count().map_err(|source| SandboxError::Os {
            what: "counting threads (/proc/self/task)",
            source,
        })?;
        if threads > 1 {
            let mut layers = Vec::new();
            if use_landlock && abi > 0 && abi < LANDLOCK_TSYNC_ABI {
                layers.push(format!(
                    "Landlock (ABI {abi}; ABI {LANDLOCK_TSYNC_ABI} confines every thread)"
                ));
            }
            if self.drop_privileges && privileged {
                layers.push("the identity change".into());
            }
            if self.namespaces {
                layers.push("the namespaces".into());
            }
            if self.clean_env {
                layers.push("env=clean".into());
            }
            if self.limits.wall_seconds.is_some() || self.namespaces {
                layers.push("the supervisor process".into());
            }
            if !layers.is_empty() {
                return Err(SandboxError::OtherThreads {
                    threads: threads - 1,
                    layers: layers.join(", "),
                });
            }
        }
        APPLIED.store(true, Ordering::SeqCst);
        // With a mount namespace, JIT'd code gets a private /dev/shm of the
        // memory limit's size, and the supervisor creates the
        // shared-memory manager's segments in the host's: the names still
        // present may hold up to that limit at once, and they are removed
        // when the session ends.
        let mem = self.limits.address_space;
        let shm_budget = self.namespaces.then(|| mem.unwrap_or(u64::MAX));
        let wall = self.limits.wall_seconds;
        if wall.is_some() || shm_budget.is_some() {
            process::start_supervisor(wall, shm_budget)?;
            let mut roles = Vec::new();
            if wall.is_some() {
                roles.push("wall-clock watchdog");
            }
            if shm_budget.is_some() {
                roles.push("shared-memory broker");
            }
            report
                .enforced
                .push(format!("supervisor ({})", roles.join(", ")));
        }
        if self.close_fds {
            process::close_fds(self)?;
            report.enforced.push("descriptors".into());
        }
        if self.clean_env {
            process::clean_env(self)?;
            report.enforced.push("environment".into());
        }
        let drop_to = if self.drop_privileges && privileged {
            Some(process::target_identity(self)?)
        } else {
            None
        };
        let mut in_user_namespace = false;
        if self.namespaces {
            let private_shm = shm_budget.map(|_| mem.unwrap_or(1 << 30));
            match process::unshare(self, !privileged, drop_to, private_shm) {
                Ok(what) => {
                    report.enforced.push(what);
                    in_user_namespace = !privileged;
                }
                Err(e) if self.require => return Err(e),
                Err(e @ SandboxError::NamespacesPartial(_)) => return Err(e),
                Err(e) => report.not_enforced.push(e.to_string()),
            }
        }
        // After the user namespace: RLIMIT_NPROC then counts only this
        // namespace's processes, not the user's others outside.
        if !self.limits.is_none() {
            self.limits.apply()?;
            report.enforced.push("limits".into());
        }
        if use_landlock {
            report.enforced.extend(landlock::apply(self, abi)?);
        }
        if let Some(id) = drop_to {
            report.enforced.push(process::drop_privileges(Some(id))?);
            process::check_paths_reachable(self)?;
        } else if in_user_namespace {
            // The capabilities the user namespace gave.
            report.enforced.push(process::drop_privileges(None)?);
        }
        if self.syscalls || !self.allow_exec || !self.allow_fork {
            seccomp::apply(self, threads)?;
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
        if !probe::test_needs(abi >= 6, &format!("Landlock ABI 6 or later (have {abi})")) {
            return;
        }
        let policy = SandboxPolicy::parse("untrusted,no-limits,inherit-fds,env=keep").unwrap();
        probe::in_child(|| {
            let privileged = sys::process::is_privileged();
            let report = policy.apply().map_err(|e| e.to_string())?;
            // Namespaces and the identity layer (which then drops the
            // user namespace's capabilities) where the kernel allows.
            let want = ["filesystem", "network", "signals", "syscalls"];
            let got: Vec<_> = report
                .enforced
                .iter()
                .map(String::as_str)
                .filter(|l| {
                    !["namespaces", "identity", "supervisor"]
                        .iter()
                        .any(|p| l.starts_with(p))
                })
                .collect();
            let ns = report.enforced.iter().any(|l| l.starts_with("namespaces"));
            let why_not = |l: &String| l.starts_with("sandbox: namespaces");
            if got != want
                || !report.not_enforced.iter().all(why_not)
                || ns == report.not_enforced.iter().any(why_not)
                || (privileged
                    && !report
                        .enforced
                        .iter()
                        .any(|l| l.starts_with("identity (uid")))
            {
                return Err(format!("report: {report}"));
            }
            match policy.apply() {
                Err(SandboxError::AlreadyApplied) => {}
                r => return Err(format!("second apply: {r:?}")),
            }
            // EACCES from Landlock, or ENOENT in the minimal root (where
            // namespaces are available).
            match std::fs::read("/etc/passwd") {
                Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::ENOENT)) => {}
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
    fn with_other_threads_running_apply_confines_them_all_or_refuses() {
        if !probe::test_needs(probe::seccomp_available(), "seccomp filters") {
            return;
        }
        let abi = landlock::abi_version();
        probe::in_child(|| {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            let other = std::thread::spawn(move || {
                while rx.recv().is_ok() {
                    let _ = done_tx.send(std::fs::read("/etc/passwd").map(drop));
                }
            });
            let read_on_other = || {
                tx.send(()).map_err(|e| e.to_string())?;
                done_rx.recv().map_err(|e| e.to_string())
            };
            let policy = SandboxPolicy::parse("untrusted,no-limits").unwrap();
            match policy.apply() {
                Err(SandboxError::OtherThreads { threads: 1, layers }) => {
                    if abi < LANDLOCK_TSYNC_ABI && !layers.contains("Landlock") {
                        return Err(format!("layers: {layers}"));
                    }
                    // Nothing changed, on either thread.
                    read_on_other()?.map_err(|e| format!("read after a refusal: {e}"))?;
                }
                r => return Err(format!("apply with a thread running: {r:?}")),
            }
            // Thread-wide layers only: applied, and binding the other thread.
            let wide = SandboxPolicy::parse(
                "untrusted,no-fs,net,no-ns,env=keep,inherit-fds,wall=0,keep-privileges,no-limits",
            )
            .unwrap();
            let report = wide.apply().map_err(|e| e.to_string())?;
            if report.enforced != ["syscalls"] {
                return Err(format!("report: {report}"));
            }
            let t = std::thread::spawn(|| probe::ptrace_traceme().map_err(|e| e.raw_os_error()));
            match t.join() {
                Ok(Err(Some(libc::EPERM))) => {}
                r => return Err(format!("ptrace on a thread: {r:?}")),
            }
            drop(tx);
            other
                .join()
                .map_err(|_| "the other thread panicked".to_string())
        })
        .unwrap();
    }

    #[test]
    fn a_root_executor_drops_to_a_session_uid_and_writes_rw_through_an_idmap() {
        if !probe::test_needs(
            sys::process::is_privileged() && landlock::abi_version() >= 4,
            "root and Landlock ABI 4 or later",
        ) {
            return;
        }
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let rw = std::env::temp_dir().join(format!("orc-rt-sandbox-idmap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&rw);
        std::fs::create_dir(&rw).unwrap();
        std::fs::set_permissions(&rw, std::fs::Permissions::from_mode(0o755)).unwrap();
        let spec = format!("untrusted,no-limits,rw={}", rw.display());
        let policy = SandboxPolicy::parse(&spec).unwrap();
        let file = rw.join("made-in-the-sandbox");
        let r = probe::in_child(|| {
            let report = policy.apply().map_err(|e| e.to_string())?;
            let text = report.to_string();
            if !text.contains("1 rw= idmapped") || !text.contains("identity (uid 2") {
                return Err(format!("report: {text}"));
            }
            if sys::process::uids().1 < 0x7f00_0000 || sys::process::is_privileged() {
                return Err(format!(
                    "still uid {:?} or privileged",
                    sys::process::uids()
                ));
            }
            std::fs::write(&file, b"x").map_err(|e| format!("write in rw=: {e}"))?;
            // nosuid,nodev on rw= and /dev/shm.
            for p in [rw.as_path(), std::path::Path::new("/dev/shm")] {
                let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
                // SAFETY: statvfs writes one struct we own; c is valid.
                let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
                // SAFETY: as above.
                if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
                    return Err(format!("statvfs {}", p.display()));
                }
                let want = libc::ST_NOSUID | libc::ST_NODEV;
                if st.f_flag & want != want {
                    return Err(format!("{}: flags {:#x}", p.display(), st.f_flag));
                }
            }
            Ok(())
        });
        // Outside, the file belongs to the directory's owner (root).
        let owner = std::fs::metadata(&file).map(|m| m.uid());
        let _ = std::fs::remove_dir_all(&rw);
        r.unwrap();
        assert_eq!(owner.unwrap(), 0);
    }

    #[test]
    fn a_layer_that_cannot_be_applied_is_reported_or_with_require_fails() {
        if !probe::test_needs(probe::seccomp_available(), "seccomp filters") {
            return;
        }
        // A filter refusing unshare makes the namespaces impossible, as on
        // a kernel or container that forbids them.
        for require in [false, true] {
            let spec = if require {
                "untrusted,no-limits,inherit-fds,env=keep,require"
            } else {
                "untrusted,no-limits,inherit-fds,env=keep"
            };
            let policy = SandboxPolicy::parse(spec).unwrap();
            probe::in_child(move || {
                seccomp::refuse_only(&["unshare"]).map_err(|e| e.to_string())?;
                match (require, policy.apply()) {
                    (false, Ok(r)) if r.not_enforced.iter().any(|l| l.contains("unshare")) => {
                        if r.enforced.iter().any(|l| l.starts_with("namespaces")) {
                            return Err(format!("claims namespaces: {r}"));
                        }
                        Ok(())
                    }
                    (true, Err(SandboxError::Namespaces(m))) if m.contains("unshare") => Ok(()),
                    (_, r) => Err(format!("require={require}: {r:?}")),
                }
            })
            .unwrap();
        }
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
