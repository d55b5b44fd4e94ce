//! Landlock: the files JIT'd code may touch, TCP bind/connect, and whom it
//! may signal.
//!
//! With [`SandboxPolicy::filesystem`] every filesystem access the kernel's
//! Landlock ABI knows is handled (refused unless a rule grants it), and the
//! rules grant only what a C/C++ program and this executor need at run
//! time. Read-only (read files, list directories):
//!
//! | path | why |
//! |---|---|
//! | `/usr`, `/lib`, `/lib64`, `/lib32`, `/libx32` (those present) | libraries for `dlopen` and the loader; below `/usr` also the time zones (`/usr/share/zoneinfo`), locales (`/usr/lib/locale`, `/usr/share/locale`) and `gconv` modules |
//! | `/etc/ld.so.cache`, `/etc/ld.so.conf`, `/etc/ld.so.conf.d` | the loader's search for a library by name |
//! | `/etc/localtime` | `localtime()` |
//! | `/etc/nsswitch.conf` | read by `getpwuid`, `getaddrinfo` and the like before they consult their sources (which are not readable: `/etc/passwd` stays refused) |
//! | `/sys/devices/system/cpu` | the CPU count (`get_nprocs`, `std::thread::hardware_concurrency`) |
//! | `/dev/zero`, `/dev/urandom`, `/dev/random` | as named |
//! | in `/proc/self` (that is, `/proc/<our pid>`): `maps`, `smaps`, `smaps_rollup`, `status`, `stat`, `statm`, `auxv`, `cmdline`, `comm`, `limits`, `exe`, `fd`, `fdinfo` | glibc (`pthread_getattr_np`, `getauxval` fallbacks), the perf service (`/proc/self/exe`) and sanitizers read them; `mountinfo`, `mounts`, `environ`, `cgroup`, `net` and `task` stay refused (they describe the host) |
//! | the executable ([`std::env::current_exe`]) and, if this library was loaded from another file (`liborc_rt.so` in a host), that file's directory | symbolizing backtraces, the perf service, and the runtime's own files |
//! | each [`SandboxPolicy::read_only`] path | asked for |
//!
//! With [`SandboxPolicy::allow_exec`] these also grant execution (Landlock's
//! `EXECUTE` right is checked by `execve` only: `dlopen` and the loader map
//! libraries `PROT_EXEC` with the read right alone, as Landlock has no
//! `mmap` hook).
//!
//! Read-write: `/dev/null`; each [`SandboxPolicy::read_write`] directory
//! (it must exist); and in `/dev/shm` (for `shm_open` and `sem_open`)
//! creating, reading, writing, truncating and removing regular files, not
//! listing it, making directories, links, devices or sockets, nor
//! executing. With [`SandboxPolicy::namespaces`] that `/dev/shm` is a
//! private tmpfs, and the shared-memory manager's segments are made in the
//! host's by the supervisor (see [`super::process`]); without, it is the
//! host's, shared with every process of the same user. Nothing else is
//! writable; everything else is refused with `EACCES`.
//!
//! With [`SandboxPolicy::deny_network`] (ABI 4 and later) TCP bind and
//! connect are handled with no rule, so every new one fails with
//! `EACCES`; the executor's connection, made before, keeps working. From
//! ABI 6 connecting to abstract UNIX sockets created outside the sandbox is
//! refused too (they are a way out as good as TCP: D-Bus, X11).
//!
//! From ABI 6, every sandbox also scopes signals: JIT'd code may signal
//! its own process and the processes it starts, nothing outside (a root
//! executor could otherwise `kill(-1, SIGKILL)`).
//!
//! Landlock confines the calling thread and the threads and processes it
//! starts afterwards (from ABI 8 we ask the kernel for all threads): the
//! executor applies it on its main thread before starting the others.
//! Rules name files, not paths: a process JIT'd code forks (with
//! [`SandboxPolicy::allow_fork`]) cannot read its own `/proc/self`, only
//! the executor's.
//!
//! Not enforced by Landlock at any ABI this kernel has: UDP and other
//! non-TCP sockets (the seccomp filter refuses them, see
//! [`super::seccomp`]), connecting to *pathname* UNIX sockets before ABI 9
//! (a socket file reachable through a readable path), and files opened
//! before the sandbox (descriptors keep their access).

use std::path::{Path, PathBuf};

use ::landlock::{
    Access, AccessFs, AccessNet, BitFlags, PathBeneath, PathFd, RestrictSelfAttr, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetError, RulesetStatus, Scope, ABI,
};

use super::error::SandboxError;
use super::policy::SandboxPolicy;
use crate::sys;

/// The first ABI with TCP rules.
const NET_ABI: i32 = 4;
/// The first ABI with scopes (abstract UNIX sockets, signals).
const SCOPE_ABI: i32 = 6;

/// System paths JIT'd code may read (and execute, with `allow_exec`);
/// those missing on this system are skipped.
pub(super) const SYSTEM_READ_ONLY: &[&str] = &[
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/usr/share/zoneinfo",
    "/usr/lib/locale",
    "/usr/share/locale",
    "/sys/devices/system/cpu",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
    // What glibc, the ORC runtime, the perf service and sanitizers read of
    // /proc/self; not mountinfo, mounts, environ, cgroup or task/ (whose
    // threads each have those too).
    "/proc/self/maps",
    "/proc/self/smaps",
    "/proc/self/smaps_rollup",
    "/proc/self/status",
    "/proc/self/stat",
    "/proc/self/statm",
    "/proc/self/auxv",
    "/proc/self/cmdline",
    "/proc/self/comm",
    "/proc/self/limits",
    "/proc/self/exe",
    "/proc/self/fd",
    "/proc/self/fdinfo",
];

/// The Landlock ABI version of the running kernel (0: no Landlock).
pub fn abi_version() -> i32 {
    sys::landlock::abi_version()
}

/// Why `policy` cannot be fully enforced with ABI `abi`, if it cannot.
pub fn unsupported(policy: &SandboxPolicy, abi: i32) -> Option<String> {
    if !policy.filesystem && !policy.deny_network {
        return None;
    }
    if abi <= 0 {
        let what = match (policy.filesystem, policy.deny_network) {
            (true, true) => "filesystem and network rules",
            (true, false) => "filesystem rules",
            _ => "network rules",
        };
        return Some(format!("the kernel has no Landlock ({what} not enforced)"));
    }
    if policy.deny_network && abi < NET_ABI {
        return Some(format!(
            "Landlock ABI {abi} has no network rules (needs {NET_ABI})"
        ));
    }
    None
}

fn landlock_error(e: RulesetError) -> SandboxError {
    SandboxError::Landlock(e.to_string())
}

/// Applies the filesystem and network rules of `policy`; returns the
/// mechanisms enforced ("filesystem", "network", and from ABI 6
/// "signals").
pub fn apply(policy: &SandboxPolicy, abi: i32) -> Result<Vec<String>, SandboxError> {
    let mut enforced = Vec::new();
    let network = policy.deny_network && abi >= NET_ABI;
    if abi <= 0 || !(policy.filesystem || network) {
        // Nothing this kernel can do; `unsupported` has said why.
        return Ok(enforced);
    }
    let v = ABI::from(abi);
    let mut ruleset = Ruleset::default();
    if policy.filesystem {
        ruleset = ruleset
            .handle_access(AccessFs::from_all(v))
            .map_err(landlock_error)?;
        enforced.push("filesystem".to_string());
    }
    if network {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(v))
            .map_err(landlock_error)?;
        enforced.push("network".to_string());
    }
    if abi >= SCOPE_ABI {
        let mut scopes = BitFlags::from(Scope::Signal);
        if network {
            scopes |= Scope::AbstractUnixSocket;
        }
        ruleset = ruleset.scope(scopes).map_err(landlock_error)?;
        enforced.push("signals".to_string());
    }
    let mut created = ruleset.create().map_err(landlock_error)?;
    if policy.filesystem {
        created = add_path_rules(created, policy, v)?;
    }
    // Best effort: honoured from ABI 8 (all threads at once), dropped
    // before (the calling thread and its future children).
    let created = created.all_threads(true).map_err(landlock_error)?;
    let status = created.restrict_self().map_err(landlock_error)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(SandboxError::Landlock(format!(
            "the ruleset was not enforced (kernel ABI {abi})"
        )));
    }
    Ok(enforced)
}

/// Rights of a read-only path.
fn read_only_access(v: ABI, exec: bool) -> BitFlags<AccessFs> {
    let mut a = AccessFs::ReadFile | AccessFs::ReadDir;
    if exec {
        a |= AccessFs::Execute;
    }
    a & AccessFs::from_all(v)
}

/// Rights of a read-write path.
fn read_write_access(v: ABI, exec: bool) -> BitFlags<AccessFs> {
    let mut a = AccessFs::from_all(v);
    if !exec {
        a &= !AccessFs::Execute;
    }
    a
}

/// Rights in `/dev/shm`: what `shm_open`, `ftruncate`, `shm_unlink` and
/// `sem_open` (a temporary file linked into place) need, nothing more.
fn shm_access(v: ABI) -> BitFlags<AccessFs> {
    (AccessFs::ReadFile
        | AccessFs::WriteFile
        | AccessFs::MakeReg
        | AccessFs::RemoveFile
        | AccessFs::Truncate)
        & AccessFs::from_all(v)
}

/// One `PathBeneath` rule; rights a file cannot have (directory rights)
/// are dropped for a file. `Ok(None)` if the path does not exist and
/// `optional`.
fn rule(
    path: &Path,
    access: BitFlags<AccessFs>,
    v: ABI,
    what: &str,
    optional: bool,
) -> Result<Option<PathBeneath<PathFd>>, SandboxError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SandboxError::Landlock(format!(
                "{what} {}: {e}",
                path.display()
            )))
        }
    };
    let access = if meta.is_dir() {
        access
    } else {
        access & AccessFs::from_file(v)
    };
    let fd = PathFd::new(path)
        .map_err(|e| SandboxError::Landlock(format!("{what} {}: {e}", path.display())))?;
    Ok(Some(PathBeneath::new(fd, access)))
}

/// The directory of this library's file, if it is not the executable
/// (liborc_rt.so loaded by a host).
pub(super) fn own_library_dir(exe: Option<&Path>) -> Option<PathBuf> {
    let me = sys::dl::object_containing(abi_version as *const () as usize)?;
    if !me.is_absolute() {
        // The loader names the executable by argv[0]: covered by `exe`.
        return None;
    }
    let me = std::fs::canonicalize(me).ok()?;
    if Some(me.as_path()) == exe {
        return None;
    }
    me.parent().map(Path::to_path_buf)
}

/// Adds `rule`, if any, at once: its descriptor closes before the next
/// one opens (a low `files=` limit is already in force).
fn push(
    created: RulesetCreated,
    rule: Option<PathBeneath<PathFd>>,
) -> Result<RulesetCreated, SandboxError> {
    match rule {
        Some(r) => created.add_rule(r).map_err(landlock_error),
        None => Ok(created),
    }
}

fn add_path_rules(
    mut created: RulesetCreated,
    policy: &SandboxPolicy,
    v: ABI,
) -> Result<RulesetCreated, SandboxError> {
    let exec = policy.allow_exec;
    let ro = read_only_access(v, exec);
    for p in SYSTEM_READ_ONLY {
        created = push(created, rule(Path::new(p), ro, v, "system path", true)?)?;
    }
    created = push(
        created,
        rule(
            Path::new("/dev/null"),
            read_write_access(v, false),
            v,
            "system path",
            true,
        )?,
    )?;
    created = push(
        created,
        rule(Path::new("/dev/shm"), shm_access(v), v, "system path", true)?,
    )?;
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok());
    if let Some(exe) = &exe {
        created = push(created, rule(exe, ro, v, "executable", true)?)?;
    }
    if let Some(dir) = own_library_dir(exe.as_deref()) {
        created = push(
            created,
            rule(&dir, ro, v, "runtime library directory", true)?,
        )?;
    }
    for p in &policy.read_only {
        created = push(created, rule(p, ro, v, "read-only path", false)?)?;
    }
    let rw = read_write_access(v, exec);
    for p in &policy.read_write {
        created = push(created, rule(p, rw, v, "read-write path", false)?)?;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::probe;
    use std::io::ErrorKind;

    fn errno(e: &std::io::Error) -> i32 {
        e.raw_os_error().unwrap_or(0)
    }

    fn fs_policy(rw: &Path) -> SandboxPolicy {
        SandboxPolicy {
            filesystem: true,
            read_write: vec![rw.to_path_buf()],
            ..SandboxPolicy::none()
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("orc-rt-landlock-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn unsupported_says_what_the_kernel_lacks() {
        let p = SandboxPolicy::untrusted();
        let none = unsupported(&p, 0).unwrap();
        assert!(none.contains("no Landlock"), "{none}");
        assert_eq!(
            unsupported(&p, 3).unwrap(),
            "Landlock ABI 3 has no network rules (needs 4)"
        );
        assert_eq!(unsupported(&p, 4), None);
        let fs_only = SandboxPolicy {
            deny_network: false,
            ..p.clone()
        };
        assert_eq!(unsupported(&fs_only, 1), None);
        assert!(unsupported(&fs_only, 0)
            .unwrap()
            .contains("filesystem rules"));
        assert_eq!(unsupported(&SandboxPolicy::none(), 0), None);
    }

    #[test]
    fn filesystem_rules_allow_the_system_and_refuse_the_rest() {
        let abi = abi_version();
        if !probe::test_needs(abi > 0, "a kernel with Landlock") {
            return;
        }
        let rw = scratch("rw");
        let other = scratch("other");
        let policy = fs_policy(&rw);
        let r = probe::in_child(|| {
            let enforced = apply(&policy, abi).map_err(|e| e.to_string())?;
            if !enforced.contains(&"filesystem".to_string()) {
                return Err(format!("enforced: {enforced:?}"));
            }
            let denied = |what: &str, r: std::io::Result<()>| match r {
                Err(e) if errno(&e) == libc::EACCES => Ok(()),
                r => Err(format!("{what}: {r:?}, expected EACCES")),
            };
            let allowed = |what: &str, r: std::io::Result<()>| {
                r.map_err(|e| format!("{what}: {e}, expected success"))
            };
            denied("read /etc/passwd", std::fs::read("/etc/passwd").map(drop))?;
            denied("list /etc", std::fs::read_dir("/etc").map(drop))?;
            denied(
                "read /proc/self/mountinfo",
                std::fs::read("/proc/self/mountinfo").map(drop),
            )?;
            denied(
                "read /proc/self/environ",
                std::fs::read("/proc/self/environ").map(drop),
            )?;
            allowed("list /usr/lib", std::fs::read_dir("/usr/lib").map(drop))?;
            allowed(
                "read /etc/ld.so.cache",
                std::fs::read("/etc/ld.so.cache").map(drop),
            )?;
            allowed(
                "read /proc/self/maps",
                std::fs::read("/proc/self/maps").map(drop),
            )?;
            allowed(
                "read /proc/self/status",
                std::fs::read("/proc/self/status").map(drop),
            )?;
            allowed("write /dev/null", std::fs::write("/dev/null", b"x"))?;
            allowed("read /dev/urandom", {
                let mut b = [0u8; 8];
                std::fs::File::open("/dev/urandom")
                    .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
            })?;
            allowed("write in the rw dir", std::fs::write(rw.join("f"), b"ok"))?;
            allowed("read back", std::fs::read(rw.join("f")).map(drop))?;
            allowed("mkdir in the rw dir", std::fs::create_dir(rw.join("d")))?;
            denied(
                "write in another dir",
                std::fs::write(other.join("f"), b"no"),
            )?;
            denied(
                "write in /tmp",
                std::fs::write("/tmp/orc-rt-landlock-denied", b"no"),
            )?;
            // A library not loaded yet: the loader maps it PROT_EXEC with
            // the read right alone.
            crate::sys::dl::open(b"libbz2.so.1.0", libc::RTLD_NOW)
                .map_err(|e| format!("dlopen under Landlock: {e}"))?;
            // The shared-memory memory manager's objects.
            let name = format!("/orc_rt_landlock_{}", std::process::id());
            let base = sys::shm::create_and_map(&name, 4096)
                .map_err(|e| format!("shm_open under Landlock: {e}"))?;
            sys::shm::unlink(&name).map_err(|e| format!("shm_unlink: {e}"))?;
            // SAFETY: the mapping made just above, unused afterwards.
            unsafe { sys::mmap::unmap(base, 4096) }.map_err(|e| e.to_string())?;
            // Threads keep working.
            std::thread::spawn(|| std::fs::read_dir("/usr").map(drop))
                .join()
                .map_err(|_| "thread panicked".to_string())?
                .map_err(|e| format!("list /usr on a new thread: {e}"))?;
            Ok(())
        });
        let _ = std::fs::remove_dir_all(&rw);
        let _ = std::fs::remove_dir_all(&other);
        r.unwrap();
    }

    #[test]
    fn a_missing_path_is_an_error_that_names_it() {
        let abi = abi_version();
        if !probe::test_needs(abi > 0, "a kernel with Landlock") {
            return;
        }
        let missing = std::env::temp_dir().join("orc-rt-landlock-no-such-dir");
        let policy = fs_policy(&missing);
        probe::in_child(|| match apply(&policy, abi) {
            Err(e)
                if e.to_string().contains("read-write path")
                    && e.to_string().contains("orc-rt-landlock-no-such-dir") =>
            {
                Ok(())
            }
            r => Err(format!("{r:?}")),
        })
        .unwrap();
    }

    #[test]
    fn network_rules_refuse_tcp_connect_and_bind() {
        let abi = abi_version();
        if !probe::test_needs(
            abi >= NET_ABI,
            &format!("Landlock's network rules (ABI {abi})"),
        ) {
            return;
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let policy = SandboxPolicy {
            deny_network: true,
            ..SandboxPolicy::none()
        };
        probe::in_child(|| {
            let enforced = apply(&policy, abi).map_err(|e| e.to_string())?;
            if enforced.first().map(String::as_str) != Some("network") {
                return Err(format!("enforced: {enforced:?}"));
            }
            match std::net::TcpStream::connect(addr) {
                Err(e) if errno(&e) == libc::EACCES => {}
                r => return Err(format!("connect: {r:?}, expected EACCES")),
            }
            match std::net::TcpListener::bind("127.0.0.1:0") {
                Err(e) if errno(&e) == libc::EACCES => {}
                r => return Err(format!("bind: {r:?}, expected EACCES")),
            }
            // The filesystem is not confined by a network-only policy.
            std::fs::read("/etc/passwd")
                .map(drop)
                .map_err(|e| format!("read /etc/passwd: {e}"))?;
            Ok(())
        })
        .unwrap();
        // The listener saw nothing.
        listener.set_nonblocking(true).unwrap();
        assert_eq!(
            listener.accept().map(drop).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    }

    #[test]
    fn signals_to_processes_outside_are_refused() {
        let abi = abi_version();
        if !probe::test_needs(abi >= SCOPE_ABI, &format!("Landlock scopes (ABI {abi})")) {
            return;
        }
        let parent = std::process::id() as libc::pid_t;
        let policy = fs_policy(&std::env::temp_dir());
        probe::in_child(|| {
            apply(&policy, abi).map_err(|e| e.to_string())?;
            // Signal 0 checks the permission only.
            match probe::kill(parent, 0) {
                Err(e) if errno(&e) == libc::EPERM => {}
                r => return Err(format!("kill(parent, 0): {r:?}, expected EPERM")),
            }
            probe::kill(std::process::id() as libc::pid_t, 0)
                .map_err(|e| format!("kill(self, 0): {e}"))?;
            Ok(())
        })
        .unwrap();
    }
}
