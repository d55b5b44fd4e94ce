//! The sandbox policy: what JIT'd code may do, and its spec form.

use std::path::PathBuf;

use super::error::SandboxError;
use super::limits::{self, ResourceLimits};

/// What JIT'd code may do. `Default` confines nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxPolicy {
    /// Resource limits (`setrlimit`, and a wall-clock watchdog).
    pub limits: ResourceLimits,
    /// Confine the filesystem with Landlock: read-only access to what a
    /// C/C++ program needs to run plus [`SandboxPolicy::read_only`],
    /// read-write access to [`SandboxPolicy::read_write`] only.
    pub filesystem: bool,
    /// Extra directories or files JIT'd code may read (and execute, if
    /// [`SandboxPolicy::allow_exec`]).
    pub read_only: Vec<PathBuf>,
    /// Directories JIT'd code may read and write.
    pub read_write: Vec<PathBuf>,
    /// Refuse TCP bind and connect (Landlock ABI 4 and later) and, with
    /// [`SandboxPolicy::syscalls`], sockets other than UNIX, netlink and
    /// TCP (seccomp). The executor's own connection, made before, keeps
    /// working.
    pub deny_network: bool,
    /// Refuse the system calls JIT'd code has no business making (seccomp,
    /// see [`seccomp`](super::seccomp)).
    pub syscalls: bool,
    /// Allow `execve` (else refused with `EPERM`).
    pub allow_exec: bool,
    /// Allow new processes (`fork`, `vfork`, `clone` without
    /// `CLONE_THREAD`; else refused with `EPERM`). Threads are always
    /// allowed.
    pub allow_fork: bool,
    /// Allow `perf_event_open` (for `--perf-support`).
    pub allow_perf: bool,
    /// Close every inherited descriptor but 0, 1, 2 and
    /// [`SandboxPolicy::keep_fds`] (`close_range`).
    pub close_fds: bool,
    /// Descriptors [`SandboxPolicy::close_fds`] keeps open (the executor's
    /// connection); not part of the spec.
    pub keep_fds: Vec<i32>,
    /// Clear the environment but `PATH`, `LANG`, `LC_*`, `TZ`, `ORC_RT_*`
    /// (and `JITDUMPDIR` with [`SandboxPolicy::allow_perf`]); `HOME` and
    /// `TMPDIR` name the first [`SandboxPolicy::read_write`] directory
    /// (`HOME` is `/` and `TMPDIR` unset without one). The block the kernel
    /// gave the process at exec (`/proc/self/environ`) is zeroed.
    pub clean_env: bool,
    /// When the process has any privilege (uid 0 or a capability): switch
    /// to an unprivileged identity, [`SandboxPolicy::user`] or else a
    /// per-session uid/gid no account uses, with no supplementary groups,
    /// no capabilities (bounding set included) and locked securebits.
    pub drop_privileges: bool,
    /// The identity [`SandboxPolicy::drop_privileges`] switches to: a user
    /// name of `/etc/passwd`, or `UID[:GID]`.
    pub user: Option<String>,
    /// New network (unless [`SandboxPolicy::deny_network`] is off) and IPC
    /// namespaces: as root directly, otherwise inside a new user namespace.
    pub namespaces: bool,
    /// With [`SandboxPolicy::namespaces`] and
    /// [`SandboxPolicy::filesystem`]: a root of its own holding only
    /// the paths the filesystem rules allow (bound read-only but `rw=`),
    /// `/proc` and `/dev/shm`, so the metadata of everything else
    /// (`stat`, `access`) is out of reach; a path outside then fails with
    /// `ENOENT` instead of `EACCES`. On in `untrusted`; `no-minimal-root`
    /// keeps the host's tree (outside paths then fail with `EACCES` from
    /// Landlock, but their metadata stays visible).
    pub minimal_root: bool,
    /// Fail closed: refuse to run if any mechanism cannot be enforced
    /// (e.g. a kernel without Landlock, or with an ABI older than 4).
    pub require: bool,
}

impl SandboxPolicy {
    /// A policy that confines nothing.
    pub fn none() -> Self {
        Self::default()
    }

    /// True if the policy confines nothing.
    pub fn is_none(&self) -> bool {
        *self == Self::none()
    }

    /// The `untrusted` profile: every mechanism, with defaults fit for
    /// running strangers' snippets.
    ///
    /// | setting | value |
    /// |---|---|
    /// | address space | 4 GiB (`malloc` returns NULL beyond) |
    /// | CPU time | 60 s |
    /// | wall-clock time | 600 s for the whole session |
    /// | open files | 256 |
    /// | processes/threads (`RLIMIT_NPROC`) | 512 |
    /// | file size | 4 GiB (the shared-memory manager sizes 1 GiB segments with `ftruncate`, which this limit bounds too) |
    /// | core dumps | off |
    /// | filesystem | read-only system libraries, loader, locale and time zone data, what a program reads of `/proc/self`, `/dev/zero`, `/dev/urandom`; writable only `/dev/null` and files in `/dev/shm`; see [`landlock`](super::landlock) |
    /// | network | no TCP bind or connect or `listen`, no UNIX, netlink, UDP, raw or other non-TCP sockets |
    /// | signals | only to itself and its children (Landlock ABI 6 and later) |
    /// | system calls | the deny list of [`seccomp`](super::seccomp); no `execve`, no new processes |
    /// | descriptors | inherited ones closed but 0, 1, 2 and the connection's |
    /// | environment | cleared but `PATH`, `LANG`, `LC_*`, `TZ` (see [`SandboxPolicy::clean_env`]) |
    /// | identity | as root: a per-session uid/gid, no capabilities |
    /// | namespaces | new mount, network and IPC namespaces (through a user namespace when unprivileged); a private `/dev/shm` the size of the address-space limit; `/dev/shm` and `rw=` `nosuid,nodev` |
    /// | supervisor | the parent process, outside the sandbox: the wall-clock watchdog and the shared-memory broker (see [`process`](super::process)) |
    pub fn untrusted() -> Self {
        SandboxPolicy {
            limits: ResourceLimits::untrusted(),
            filesystem: true,
            read_only: Vec::new(),
            read_write: Vec::new(),
            deny_network: true,
            syscalls: true,
            allow_exec: false,
            allow_fork: false,
            allow_perf: false,
            close_fds: true,
            keep_fds: Vec::new(),
            clean_env: true,
            drop_privileges: true,
            user: None,
            namespaces: true,
            minimal_root: true,
            require: false,
        }
    }

    /// Parses a spec: comma-separated items, applied in order.
    ///
    /// - `untrusted` (the profile), `none` (nothing);
    /// - `require`: fail closed;
    /// - `mem=SIZE`, `fsize=SIZE` (bytes, or with `K`/`M`/`G`), `cpu=SECONDS`,
    ///   `wall=SECONDS`, `files=N`, `procs=N` (`0` removes that limit);
    /// - `ro=PATH`, `rw=PATH`: extra readable / writable paths (repeatable);
    /// - `exec`, `fork`, `net`, `perf`: allow what the profile refuses;
    /// - `no-fs`, `no-syscalls`, `no-limits`, `no-ns`: leave out a
    ///   mechanism (`no-ns`: the namespaces);
    /// - `env=clean`, `env=keep`: clear the environment or not;
    /// - `inherit-fds`: keep inherited descriptors open;
    /// - `minimal-root`, `no-minimal-root`: a root holding only the allowed
    ///   paths (on in `untrusted`), or the host's tree;
    /// - `user=NAME` or `user=UID[:GID]`: the identity a privileged
    ///   executor drops to; `keep-privileges`: do not drop them.
    pub fn parse(spec: &str) -> Result<Self, SandboxError> {
        let mut p = SandboxPolicy::none();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = || SandboxError::BadSetting(item.to_string());
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (item, None),
            };
            let size = |v: Option<&str>| v.and_then(limits::parse_size).ok_or_else(bad);
            let num = |v: Option<&str>| v.and_then(|v| v.parse::<u64>().ok()).ok_or_else(bad);
            let opt = |n: u64| (n != 0).then_some(n);
            match (key, value) {
                ("untrusted", None) => {
                    let keep = (p.read_only, p.read_write, p.require, p.user, p.keep_fds);
                    p = SandboxPolicy::untrusted();
                    (p.read_only, p.read_write, p.require, p.user, p.keep_fds) = keep;
                }
                ("none", None) => p = SandboxPolicy::none(),
                ("require", None) => p.require = true,
                ("mem", v) => p.limits.address_space = opt(size(v)?),
                ("fsize", v) => p.limits.file_size = opt(size(v)?),
                ("cpu", v) => p.limits.cpu_seconds = opt(num(v)?),
                ("wall", v) => p.limits.wall_seconds = opt(num(v)?),
                ("files", v) => p.limits.open_files = opt(num(v)?),
                ("procs", v) => p.limits.processes = opt(num(v)?),
                ("ro", Some(path)) if !path.is_empty() => p.read_only.push(path.into()),
                ("rw", Some(path)) if !path.is_empty() => p.read_write.push(path.into()),
                ("exec", None) => p.allow_exec = true,
                ("fork", None) => p.allow_fork = true,
                ("net", None) => p.deny_network = false,
                ("perf", None) => p.allow_perf = true,
                ("no-fs", None) => p.filesystem = false,
                ("no-syscalls", None) => p.syscalls = false,
                ("no-limits", None) => p.limits = ResourceLimits::default(),
                ("env", Some("clean")) => p.clean_env = true,
                ("env", Some("keep")) => p.clean_env = false,
                ("inherit-fds", None) => p.close_fds = false,
                ("user", Some(u)) if !u.is_empty() => {
                    p.user = Some(u.to_string());
                    p.drop_privileges = true;
                }
                ("keep-privileges", None) => p.drop_privileges = false,
                ("no-ns", None) => p.namespaces = false,
                ("minimal-root", None) => p.minimal_root = true,
                ("no-minimal-root", None) => p.minimal_root = false,
                _ => return Err(bad()),
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_build_policies() {
        let u = SandboxPolicy::parse("untrusted").unwrap();
        assert_eq!(u, SandboxPolicy::untrusted());
        let p = SandboxPolicy::parse("rw=/a,untrusted,mem=1G,wall=0,exec,net,ro=/b").unwrap();
        assert_eq!(p.read_write, [PathBuf::from("/a")]);
        assert_eq!(p.read_only, [PathBuf::from("/b")]);
        assert_eq!(p.limits.address_space, Some(1 << 30));
        assert_eq!(p.limits.wall_seconds, None);
        assert!(p.allow_exec && !p.deny_network && p.filesystem);
        assert!(SandboxPolicy::parse("").unwrap().is_none());
        assert!(SandboxPolicy::parse("untrusted,none").unwrap().is_none());
        let q = SandboxPolicy::parse("user=123:45,untrusted,env=keep,inherit-fds,no-ns").unwrap();
        assert_eq!(q.user.as_deref(), Some("123:45"));
        assert!(q.drop_privileges && !q.clean_env && !q.close_fds && !q.namespaces);
        assert!(
            !SandboxPolicy::parse("untrusted,keep-privileges")
                .unwrap()
                .drop_privileges
        );
        for bad in [
            "bogus",
            "mem=lots",
            "cpu",
            "ro=",
            "exec=1",
            "untrusted=1",
            "env=dirty",
            "user=",
        ] {
            let e = SandboxPolicy::parse(bad).unwrap_err().to_string();
            assert!(e.contains("invalid setting"), "{bad}: {e}");
        }
    }
}
