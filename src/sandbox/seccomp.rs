//! seccomp: the system calls JIT'd code may not make.
//!
//! A filter that allows every system call but those below, which fail with
//! `EPERM` (so a program sees an ordinary error it can report). It is
//! compiled with `seccompiler` and installed on every thread of the
//! process (`SECCOMP_FILTER_FLAG_TSYNC`; on a kernel without it, on the
//! calling thread and what it starts), with `no_new_privs`. Nothing an
//! ordinary program or the JIT needs is touched: `mmap`/`mprotect`,
//! threads, signals, files (Landlock confines those), sockets.
//!
//! With [`SandboxPolicy::syscalls`]:
//!
//! - debugging and reading other processes: `ptrace`; `process_vm_readv`
//!   and `process_vm_writev` unless on our own pid (the executor's checked
//!   memory copies, `sys::mem`, use them on itself; in a process JIT'd
//!   code forks they fail and `sys::mem` falls back to plain copies);
//!   `kcmp`,
//!   `pidfd_getfd`, `process_madvise`;
//! - the kernel and the machine: `kexec_load`, `kexec_file_load`,
//!   `init_module`, `finit_module`, `delete_module`, `bpf`, `reboot`,
//!   `swapon`, `swapoff`, `acct`, `syslog`, `quotactl`, `quotactl_fd`,
//!   `vhangup`, `sethostname`, `setdomainname`, `settimeofday`,
//!   `clock_settime`, `clock_adjtime`, `adjtimex` (so also `ntp_gettime`),
//!   and on x86-64 `iopl`, `ioperm`, `modify_ldt`, `uselib`, `_sysctl`;
//!   `perf_event_open` unless [`SandboxPolicy::allow_perf`];
//! - mounts and namespaces: `mount`, `umount2`, `pivot_root`, `chroot`,
//!   the new mount API (`fsopen`, `fsconfig`, `fsmount`, `fspick`,
//!   `move_mount`, `open_tree`, `mount_setattr`), `unshare`, `setns`, and
//!   `clone` with any `CLONE_NEW*` flag;
//! - keyrings: `keyctl`, `add_key`, `request_key`;
//! - `setrlimit`, and `prlimit64` that sets a limit, when the policy has
//!   limits (JIT'd code with `CAP_SYS_RESOURCE` could raise them);
//! - `personality` except the query (`0xffffffff`) and `PER_LINUX` (0), so
//!   no `ADDR_NO_RANDOMIZE` or `READ_IMPLIES_EXEC`;
//! - `userfaultfd`, `fanotify_init`, `open_by_handle_at` (a way around
//!   path-based rules), and `io_uring_setup` (io_uring runs operations the
//!   filter never sees);
//! - with [`SandboxPolicy::deny_network`] too: sockets outside `AF_UNIX`,
//!   `AF_NETLINK`, `AF_INET` and `AF_INET6`, and in `AF_INET`/`AF_INET6`
//!   any but TCP (`SOCK_STREAM`, protocol 0 or `IPPROTO_TCP`): Landlock
//!   refuses TCP bind and connect, this refuses UDP, raw, SCTP, packet and
//!   vsock sockets.
//!
//! Without [`SandboxPolicy::allow_exec`]: `execve`, `execveat`.
//!
//! Without [`SandboxPolicy::allow_fork`]: `fork`, `vfork` (x86-64), and
//! `clone` without `CLONE_THREAD`. Threads keep working: `clone3`, whose
//! flags a filter cannot read (they are in memory), fails with `ENOSYS`, so
//! glibc's `pthread_create` falls back to `clone`, which the filter reads.
//! `clone3` fails so with [`SandboxPolicy::syscalls`] as well (its
//! namespace flags would be unseen).
//!
//! On x86-64 the x32 system calls (numbers with bit 30 set), which would
//! otherwise reach the same kernel functions under numbers the filter does
//! not list, fail with `ENOSYS`; and, as for any filter `seccompiler`
//! builds, a system call of another architecture (`int 0x80`) kills the
//! process.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use seccompiler::{BpfProgram, SeccompAction, SeccompCmpOp, SeccompFilter, TargetArch};

use super::error::SandboxError;
use super::policy::SandboxPolicy;

/// `PER_LINUX` (`<sys/personality.h>`).
const PER_LINUX: u64 = 0;
/// `SOCK_PACKET` (obsolete, still accepted for `AF_INET`).
const SOCK_PACKET: libc::c_int = 10;
/// `FS_IOC_SETFLAGS`, `FS_IOC32_SETFLAGS` and `FS_IOC_FSSETXATTR`
/// (`<linux/fs.h>`): inode flags (`chattr`). These and the terminal
/// requests below are encoded alike on x86-64, aarch64 and riscv64.
const INODE_FLAG_IOCTLS: [u64; 3] = [0x4008_6602, 0x4004_6602, 0x401c_5820];
/// `TIOCSTI` (push input into a terminal) and `TIOCLINUX`.
const TERMINAL_IOCTLS: [u64; 2] = [0x5412, 0x541c];

/// The architecture this executor runs on.
#[cfg(target_arch = "x86_64")]
const HOST_ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const HOST_ARCH: TargetArch = TargetArch::aarch64;
#[cfg(target_arch = "riscv64")]
const HOST_ARCH: TargetArch = TargetArch::riscv64;

/// System calls only x86-64 has (the newer architectures have only the
/// `*at` forms): left out of the filter elsewhere.
const X86_64_ONLY: &[&str] = &[
    "iopl",
    "ioperm",
    "modify_ldt",
    "uselib",
    "_sysctl",
    "fork",
    "vfork",
    "chmod",
    "chown",
    "lchown",
    "utime",
    "utimes",
    "futimesat",
    "inotify_init",
    "mknod",
    "open",
    "creat",
];

/// Calls newer than `seccompiler`'s tables (Linux 6.13's xattr `*at`
/// family), by number: from 424 on every architecture but alpha and mips
/// numbers system calls alike.
const NEWER_CALLS: &[(&str, i64)] = &[
    ("setxattrat", 463),
    ("getxattrat", 464),
    ("listxattrat", 465),
    ("removexattrat", 466),
];

fn seccomp_error(what: &str, e: impl std::fmt::Display) -> SandboxError {
    SandboxError::Seccomp(format!("{what}: {e}"))
}

/// One condition: `(argument, op, value)` on the argument's low 32 bits,
/// where every argument filtered here lives.
type Cond = (u8, SeccompCmpOp, u64);

/// The refused system calls, by name: `None` refuses every call,
/// `Some(rules)` the calls that match one of the rules (each a list of
/// conditions that must all hold).
#[derive(Default)]
struct Refusals(BTreeMap<&'static str, Option<Vec<Vec<Cond>>>>);

impl Refusals {
    fn always(&mut self, name: &'static str) {
        self.0.insert(name, None);
    }

    /// Refuses `name` when all of `conds` hold.
    fn when(&mut self, name: &'static str, conds: &[Cond]) {
        // A call already refused outright stays so.
        if let Some(rules) = self.0.entry(name).or_insert_with(|| Some(Vec::new())) {
            rules.push(conds.to_vec());
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The filter in `seccompiler`'s JSON form, for `arch`.
    fn json(&self, arch: TargetArch, errno: i32) -> String {
        let mut rules = Vec::new();
        for (name, conds) in &self.0 {
            if arch != TargetArch::x86_64 && X86_64_ONLY.contains(name) {
                continue;
            }
            match conds {
                None => rules.push(format!(r#"{{"syscall":"{name}"}}"#)),
                Some(rs) => {
                    for r in rs {
                        let mut args = String::new();
                        for (i, (arg, op, v)) in r.iter().enumerate() {
                            let op = match op {
                                SeccompCmpOp::Eq => r#""eq""#.to_string(),
                                SeccompCmpOp::Ne => r#""ne""#.to_string(),
                                SeccompCmpOp::MaskedEq(m) => format!(r#"{{"masked_eq":{m}}}"#),
                                other => unreachable!("operator {other:?} is not used here"),
                            };
                            let sep = if i == 0 { "" } else { "," };
                            let _ = write!(
                                args,
                                r#"{sep}{{"index":{arg},"type":"dword","op":{op},"val":{v}}}"#
                            );
                        }
                        rules.push(format!(r#"{{"syscall":"{name}","args":[{args}]}}"#));
                    }
                }
            }
        }
        format!(
            r#"{{"main":{{"mismatch_action":"allow","match_action":{{"errno":{errno}}},"filter":[{}]}}}}"#,
            rules.join(",")
        )
    }

    /// Compiles a filter for `arch` that allows all but these calls, which
    /// get `errno`; the names are resolved by `seccompiler` for `arch`.
    fn compile(&self, arch: TargetArch, errno: i32) -> Result<BpfProgram, SandboxError> {
        let json = self.json(arch, errno);
        let mut map = seccompiler::compile_from_json(json.as_bytes(), arch)
            .map_err(|e| seccomp_error("compiling the filter", e))?;
        map.remove("main")
            .ok_or_else(|| seccomp_error("compiling the filter", "no program"))
    }
}

/// The `EPERM` refusals of `policy`.
fn refusals(policy: &SandboxPolicy, own_pid: u32) -> Refusals {
    use SeccompCmpOp::{Eq, MaskedEq, Ne};
    let mut r = Refusals::default();
    let pid = u64::from(own_pid);
    if policy.syscalls {
        for name in [
            "ptrace",
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "bpf",
            "reboot",
            "swapon",
            "swapoff",
            "acct",
            "syslog",
            "quotactl",
            "quotactl_fd",
            "vhangup",
            "sethostname",
            "setdomainname",
            "settimeofday",
            "clock_settime",
            "clock_adjtime",
            "adjtimex",
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "move_mount",
            "open_tree",
            "mount_setattr",
            "unshare",
            "setns",
            "keyctl",
            "add_key",
            "request_key",
            "userfaultfd",
            "io_uring_setup",
            "iopl",
            "ioperm",
            "modify_ldt",
            "uselib",
            "_sysctl",
            // File metadata: Landlock has no hook for these, so they are
            // refused on every path (a program may not chmod its own
            // files in rw= either).
            "chmod",
            "fchmod",
            "fchmodat",
            "fchmodat2",
            "chown",
            "fchown",
            "lchown",
            "fchownat",
            "setxattr",
            "lsetxattr",
            "fsetxattr",
            "removexattr",
            "lremovexattr",
            "fremovexattr",
            "getxattr",
            "lgetxattr",
            "fgetxattr",
            "listxattr",
            "llistxattr",
            "flistxattr",
            "utime",
            "utimes",
            "utimensat",
            "futimesat",
            // Watching files (names in directories outside the rules).
            "inotify_init",
            "inotify_init1",
            "fanotify_init",
            // Path-free opens.
            "name_to_handle_at",
            "open_by_handle_at",
            // SysV IPC.
            "shmget",
            "shmat",
            "shmdt",
            "shmctl",
            "msgget",
            "msgsnd",
            "msgrcv",
            "msgctl",
            "semget",
            "semop",
            "semtimedop",
            "semctl",
            // Scheduling: policies, real-time and I/O priorities.
            "sched_setscheduler",
            "sched_setparam",
            "sched_setattr",
            "ioprio_set",
            "mlockall",
        ] {
            r.always(name);
        }
        if !policy.allow_perf {
            r.always("perf_event_open");
        }
        // The limits: JIT'd code may lower or read them, never raise them
        // (with CAP_SYS_RESOURCE it could, hard limits included).
        if !policy.limits.is_none() {
            r.always("setrlimit");
            r.when("prlimit64", &[(2, Ne, 0)]);
        }
        // Other processes' memory; our own stays open to sys::mem.
        r.when("process_vm_readv", &[(0, Ne, pid)]);
        r.when("process_vm_writev", &[(0, Ne, pid)]);
        // Only this process's pidfd.
        r.when("pidfd_open", &[(0, Ne, pid)]);
        // Priority of this process only (PRIO_PROCESS, who 0 or our pid);
        // raising it needs a capability or RLIMIT_NICE, which are gone.
        r.when("setpriority", &[(0, Ne, libc::PRIO_PROCESS as u64)]);
        r.when("setpriority", &[(1, Ne, 0), (1, Ne, pid)]);
        // Affinity of this process (its main thread) only.
        r.when("sched_setaffinity", &[(0, Ne, 0), (0, Ne, pid)]);
        // The watchdog's hold on this process.
        r.when("prctl", &[(0, Eq, libc::PR_SET_PDEATHSIG as u64)]);
        // The query and PER_LINUX only.
        r.when("personality", &[(0, Ne, 0xffff_ffff), (0, Ne, PER_LINUX)]);
        // Devices (character and block nodes); FIFOs, sockets and regular
        // files are Landlock's.
        for dev in [libc::S_IFCHR, libc::S_IFBLK] {
            let m = MaskedEq(u64::from(libc::S_IFMT));
            r.when("mknod", &[(1, m.clone(), u64::from(dev))]);
            r.when("mknodat", &[(2, m, u64::from(dev))]);
        }
        // Set-user-ID and set-group-ID files made by open.
        for bit in [libc::S_ISUID, libc::S_ISGID] {
            let b = u64::from(bit);
            r.when("openat", &[(3, MaskedEq(b), b)]);
            r.when("open", &[(2, MaskedEq(b), b)]);
            r.when("creat", &[(1, MaskedEq(b), b)]);
        }
        // Terminal input injection and inode flags.
        for req in TERMINAL_IOCTLS.into_iter().chain(INODE_FLAG_IOCTLS) {
            r.when("ioctl", &[(1, Eq, req)]);
        }
        // New namespaces through clone (clone3 gets ENOSYS).
        for flag in [
            libc::CLONE_NEWNS,
            libc::CLONE_NEWCGROUP,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWPID,
            libc::CLONE_NEWNET,
        ] {
            let flag = flag as u32 as u64;
            r.when("clone", &[(0, MaskedEq(flag), flag)]);
        }
        if policy.deny_network {
            refuse_non_tcp_sockets(&mut r);
            // listen() on an unbound socket binds it to a port of its own,
            // which Landlock does not see.
            r.always("listen");
        }
    }
    if !policy.allow_exec {
        r.always("execve");
        r.always("execveat");
    }
    if !policy.allow_fork {
        r.always("fork");
        r.always("vfork");
        let thread = libc::CLONE_THREAD as u64;
        r.when("clone", &[(0, MaskedEq(thread), 0)]);
    }
    r
}

/// `socket(domain, type, protocol)`: only TCP over IPv4/IPv6 (Landlock
/// then decides on bind and connect). No netlink, and no `AF_UNIX`: below
/// Landlock ABI 9 a pathname UNIX socket outside the rules can be
/// connected to (`socketpair` still works).
fn refuse_non_tcp_sockets(r: &mut Refusals) {
    use SeccompCmpOp::{Eq, MaskedEq, Ne};
    let nr = "socket";
    r.when(
        nr,
        &[
            (0, Ne, libc::AF_INET as u64),
            (0, Ne, libc::AF_INET6 as u64),
        ],
    );
    // The socket type without SOCK_NONBLOCK and SOCK_CLOEXEC.
    const TYPE_MASK: u64 = 0xf;
    for domain in [libc::AF_INET, libc::AF_INET6] {
        let d = domain as u64;
        for ty in [
            libc::SOCK_DGRAM,
            libc::SOCK_RAW,
            libc::SOCK_RDM,
            libc::SOCK_SEQPACKET,
            libc::SOCK_DCCP,
            SOCK_PACKET,
        ] {
            r.when(nr, &[(0, Eq, d), (1, MaskedEq(TYPE_MASK), ty as u64)]);
        }
        // SOCK_STREAM but not TCP (SCTP, MPTCP).
        r.when(
            nr,
            &[(0, Eq, d), (2, Ne, 0), (2, Ne, libc::IPPROTO_TCP as u64)],
        );
    }
}

/// The calls [`NEWER_CALLS`] refused by number.
fn newer_calls_program(arch: TargetArch) -> Result<BpfProgram, SandboxError> {
    let rules = NEWER_CALLS
        .iter()
        .map(|&(_, nr)| (nr, Vec::new()))
        .collect();
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| seccomp_error("filter", e))?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| seccomp_error("compiling the filter", e))
}

/// Every program of `policy` for `arch`, in the order to install them.
fn programs(
    policy: &SandboxPolicy,
    own_pid: u32,
    arch: TargetArch,
) -> Result<Vec<BpfProgram>, SandboxError> {
    let mut programs = Vec::new();
    #[cfg(target_arch = "x86_64")]
    if arch == TargetArch::x86_64 {
        programs.push(x32_guard());
    }
    if policy.syscalls || !policy.allow_fork {
        // Calls whose arguments a filter cannot read (they are in memory):
        // glibc falls back to the older call, which the filter reads.
        let mut enosys = Refusals::default();
        enosys.always("clone3");
        if policy.syscalls {
            enosys.always("openat2");
        }
        programs.push(enosys.compile(arch, libc::ENOSYS)?);
    }
    if policy.syscalls {
        programs.push(newer_calls_program(arch)?);
    }
    let eperm = refusals(policy, own_pid);
    if !eperm.is_empty() {
        programs.push(eperm.compile(arch, libc::EPERM)?);
    }
    Ok(programs)
}

/// x86-64: x32 system calls (bit 30 of the number) fail with `ENOSYS`.
/// The filter `seccompiler` builds matches exact numbers, so without this
/// `ptrace` would be refused as 101 and allowed as `0x40000000 | 521`.
/// Other architectures pass through (the main filter kills them).
#[cfg(target_arch = "x86_64")]
fn x32_guard() -> BpfProgram {
    use seccompiler::sock_filter;
    /// `AUDIT_ARCH_X86_64` (`<linux/audit.h>`).
    const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    /// `__X32_SYSCALL_BIT`.
    const X32_BIT: u32 = 0x4000_0000;
    // Offsets in `struct seccomp_data`.
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    let code = |c: u32| c as u16;
    let stmt = |c: u32, k: u32| sock_filter {
        code: code(c),
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |c: u32, k: u32, jt: u8, jf: u8| sock_filter {
        code: code(c),
        jt,
        jf,
        k,
    };
    let allow = libc::SECCOMP_RET_ALLOW;
    let enosys = libc::SECCOMP_RET_ERRNO | (libc::ENOSYS as u32 & libc::SECCOMP_RET_DATA);
    vec![
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, ARCH),
        jump(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            AUDIT_ARCH_X86_64,
            0,
            3,
        ),
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, NR),
        jump(libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K, X32_BIT, 0, 1),
        stmt(libc::BPF_RET | libc::BPF_K, enosys),
        stmt(libc::BPF_RET | libc::BPF_K, allow),
    ]
}

/// Installs `program` on every thread (TSYNC), or, where the kernel has
/// no TSYNC and no other thread runs, on this thread.
fn install(program: &BpfProgram, threads: usize) -> Result<(), SandboxError> {
    match seccompiler::apply_filter_all_threads(program) {
        Ok(()) => Ok(()),
        Err(seccompiler::Error::Seccomp(e))
            if e.raw_os_error() == Some(libc::EINVAL) && threads <= 1 =>
        {
            seccompiler::apply_filter(program).map_err(|e| seccomp_error("installing", e))
        }
        Err(e) => Err(seccomp_error("installing on all threads", e)),
    }
}

/// Installs the filter of `policy` (with `no_new_privs`); `threads` is the
/// number of threads the process runs.
pub fn apply(policy: &SandboxPolicy, threads: usize) -> Result<(), SandboxError> {
    let programs = programs(policy, std::process::id(), HOST_ARCH)?;
    // Compiled all before installing any: a compile error changes nothing.
    for p in &programs {
        install(p, threads)?;
    }
    Ok(())
}

/// Tests: refuses exactly `names` with `EPERM` from now on.
#[cfg(test)]
pub(super) fn refuse_only(names: &[&'static str]) -> Result<(), SandboxError> {
    let mut r = Refusals::default();
    for n in names {
        r.always(n);
    }
    install(&r.compile(HOST_ARCH, libc::EPERM)?, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::probe;

    fn errno(e: &std::io::Error) -> i32 {
        e.raw_os_error().unwrap_or(0)
    }

    fn expect_errno(
        what: &str,
        r: std::io::Result<impl std::fmt::Debug>,
        want: i32,
    ) -> Result<(), String> {
        match r {
            Err(e) if errno(&e) == want => Ok(()),
            r => Err(format!(
                "{what}: {r:?}, expected {}",
                std::io::Error::from_raw_os_error(want)
            )),
        }
    }

    fn syscalls_policy() -> SandboxPolicy {
        SandboxPolicy {
            syscalls: true,
            deny_network: true,
            ..SandboxPolicy::none()
        }
    }

    #[test]
    fn the_deny_list_refuses_and_the_rest_works() {
        if !probe::test_needs(probe::seccomp_available(), "seccomp filters") {
            return;
        }
        let parent = std::process::id() as libc::pid_t;
        let policy = syscalls_policy();
        probe::in_child(|| {
            apply(&policy, 1).map_err(|e| e.to_string())?;
            expect_errno(
                "execve /bin/sh",
                Err::<(), _>(probe::execve_sh()),
                libc::EPERM,
            )?;
            expect_errno("fork", probe::fork_and_reap(), libc::EPERM)?;
            expect_errno("ptrace", probe::ptrace_traceme(), libc::EPERM)?;
            expect_errno(
                "personality(ADDR_NO_RANDOMIZE)",
                probe::personality(libc::ADDR_NO_RANDOMIZE as u32),
                libc::EPERM,
            )?;
            probe::personality(0xffff_ffff).map_err(|e| format!("personality query: {e}"))?;
            expect_errno("unshare", probe::unshare(libc::CLONE_NEWNS), libc::EPERM)?;
            expect_errno("clone3", Err::<(), _>(probe::clone3_null()), libc::ENOSYS)?;
            expect_errno(
                "perf_event_open",
                Err::<(), _>(probe::perf_event_open_null()),
                libc::EPERM,
            )?;
            // Threads start (pthread_create falls back from clone3 to clone).
            let t = std::thread::spawn(|| 7).join();
            if t.ok() != Some(7) {
                return Err("a thread did not start".into());
            }
            // Our own memory through process_vm_readv, not the parent's.
            let src = *b"sandbox";
            let mut buf = [0u8; 7];
            probe::process_vm_read(std::process::id() as i32, src.as_ptr() as usize, &mut buf)
                .map_err(|e| format!("process_vm_readv on self: {e}"))?;
            if buf != src {
                return Err(format!("process_vm_readv on self read {buf:?}"));
            }
            expect_errno(
                "process_vm_readv on the parent",
                probe::process_vm_read(parent, src.as_ptr() as usize, &mut buf),
                libc::EPERM,
            )?;
            // sys::mem goes through process_vm_readv and still faults cleanly.
            let mut word = [0u8; 4];
            if crate::sys::mem::read(0, &mut word).is_ok() {
                return Err("sys::mem::read(0) succeeded".into());
            }
            // Sockets: TCP may be created (Landlock decides on TCP
            // bind/connect), UNIX, netlink, UDP, raw and SCTP not.
            expect_errno(
                "socket(AF_UNIX)",
                probe::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0),
                libc::EPERM,
            )?;
            expect_errno(
                "socket(AF_NETLINK)",
                probe::socket(libc::AF_NETLINK, libc::SOCK_RAW, 0),
                libc::EPERM,
            )?;
            probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)
                .map_err(|e| format!("socket(AF_INET, SOCK_STREAM): {e}"))?;
            probe::socket(libc::AF_INET6, libc::SOCK_STREAM, libc::IPPROTO_TCP)
                .map_err(|e| format!("socket(AF_INET6, SOCK_STREAM, TCP): {e}"))?;
            expect_errno(
                "socket(AF_INET, SOCK_DGRAM)",
                probe::socket(libc::AF_INET, libc::SOCK_DGRAM, 0),
                libc::EPERM,
            )?;
            expect_errno(
                "socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK)",
                probe::socket(libc::AF_INET6, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK, 0),
                libc::EPERM,
            )?;
            expect_errno(
                "socket(AF_INET, SOCK_STREAM, SCTP)",
                probe::socket(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_SCTP),
                libc::EPERM,
            )?;
            expect_errno(
                "socket(AF_PACKET)",
                probe::socket(libc::AF_PACKET, libc::SOCK_RAW, 0),
                libc::EPERM,
            )?;
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn exec_and_fork_can_be_allowed() {
        if !probe::test_needs(probe::seccomp_available(), "seccomp filters") {
            return;
        }
        let policy = SandboxPolicy {
            allow_exec: true,
            allow_fork: true,
            allow_perf: true,
            ..syscalls_policy()
        };
        probe::in_child(|| {
            apply(&policy, 1).map_err(|e| e.to_string())?;
            probe::fork_and_reap().map_err(|e| format!("fork: {e}"))?;
            expect_errno(
                "perf_event_open(NULL)",
                Err::<(), _>(probe::perf_event_open_null()),
                libc::EFAULT,
            )?;
            expect_errno("ptrace", probe::ptrace_traceme(), libc::EPERM)?;
            // The filter is inherited across fork.
            probe::in_child(|| {
                expect_errno("ptrace in a child", probe::ptrace_traceme(), libc::EPERM)
            })?;
            // execve replaces the child, whose exit status (42) shows it ran.
            match probe::in_child(|| Err(probe::execve_sh().to_string())) {
                Err(m) if m.is_empty() => Ok(()),
                r => Err(format!("execve: {r:?}")),
            }
        })
        .unwrap();
    }

    #[test]
    fn exec_and_fork_alone_are_refused_without_the_deny_list() {
        if !probe::test_needs(probe::seccomp_available(), "seccomp filters") {
            return;
        }
        let policy = SandboxPolicy::none();
        assert!(!policy.syscalls && !policy.allow_exec && !policy.allow_fork);
        probe::in_child(|| {
            apply(&policy, 1).map_err(|e| e.to_string())?;
            expect_errno("execve", Err::<(), _>(probe::execve_sh()), libc::EPERM)?;
            expect_errno("fork", probe::fork_and_reap(), libc::EPERM)?;
            // Not on the list without `syscalls`.
            probe::personality(0xffff_ffff).map_err(|e| e.to_string())?;
            expect_errno("clone3", Err::<(), _>(probe::clone3_null()), libc::ENOSYS)?;
            std::thread::spawn(|| ())
                .join()
                .map_err(|_| "thread".to_string())
        })
        .unwrap();
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_numbers_are_refused() {
        probe::in_child(|| {
            apply(&syscalls_policy(), 1).map_err(|e| e.to_string())?;
            // getpid through the x32 numbering.
            expect_errno(
                "x32 getpid",
                Err::<(), _>(probe::raw_syscall0(0x4000_0000 | libc::SYS_getpid)),
                libc::ENOSYS,
            )
        })
        .unwrap();
    }

    #[test]
    fn the_filters_compile_small() {
        let everything = SandboxPolicy::untrusted();
        let p = refusals(&everything, 1)
            .compile(HOST_ARCH, libc::EPERM)
            .unwrap();
        assert!(p.len() < 1024, "{} instructions", p.len());
    }

    /// `AUDIT_ARCH_*` (`<linux/audit.h>`).
    const AUDIT_ARCH_AARCH64: u32 = 183 | 0x8000_0000 | 0x4000_0000;
    const AUDIT_ARCH_RISCV64: u32 = 243 | 0x8000_0000 | 0x4000_0000;

    /// Whether `p` compares the system call number with `nr` anywhere.
    fn compares(p: &BpfProgram, k: u32) -> bool {
        p.iter()
            .any(|i| i.code == (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16 && i.k == k)
    }

    #[test]
    fn the_filter_is_built_for_aarch64_and_riscv64_by_name() {
        let everything = SandboxPolicy::untrusted();
        // aarch64 numbers (asm-generic/unistd.h): fchmodat 53, ptrace 117,
        // execve 221, inotify_init1 26, shmget 194; riscv64 shares them.
        for (arch, audit) in [
            (TargetArch::aarch64, AUDIT_ARCH_AARCH64),
            (TargetArch::riscv64, AUDIT_ARCH_RISCV64),
        ] {
            let ps = programs(&everything, 1, arch).unwrap();
            assert!(
                ps.iter().all(|p| compares(p, audit)),
                "{arch:?}: arch check"
            );
            let eperm = ps.last().unwrap();
            for nr in [53, 117, 221, 26, 194] {
                assert!(compares(eperm, nr), "{arch:?}: no rule for {nr}");
            }
            // x86-64's chmod (90) is aarch64's shmctl (195 is shmat): no
            // x86-64 number may leak in; 90 is capget on aarch64, allowed.
            assert!(!compares(eperm, 90), "{arch:?}: x86-64 chmod number");
        }
        // The host's own filter names the same calls by its numbers.
        let host = programs(&everything, 1, HOST_ARCH).unwrap();
        assert!(compares(host.last().unwrap(), libc::SYS_fchmodat as u32));
        assert!(compares(host.last().unwrap(), libc::SYS_ptrace as u32));
    }

    #[test]
    fn every_named_call_exists_on_every_architecture() {
        // A name seccompiler does not know for an architecture fails the
        // compile: this holds for the whole list, x86-64-only names
        // included where they belong.
        let all = SandboxPolicy {
            allow_perf: false,
            ..SandboxPolicy::untrusted()
        };
        for arch in [TargetArch::x86_64, TargetArch::aarch64, TargetArch::riscv64] {
            refusals(&all, 1).compile(arch, libc::EPERM).unwrap();
        }
    }
}
