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

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::error::SandboxError;
use super::policy::SandboxPolicy;

/// `PER_LINUX` (`<sys/personality.h>`).
const PER_LINUX: u64 = 0;
/// `SOCK_PACKET` (obsolete, still accepted for `AF_INET`).
const SOCK_PACKET: libc::c_int = 10;

#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;

fn seccomp_error(what: &str, e: impl std::fmt::Display) -> SandboxError {
    SandboxError::Seccomp(format!("{what}: {e}"))
}

/// The refused system calls: `None` refuses every call, `Some(rules)` the
/// calls that match one of the rules.
#[derive(Default)]
struct Refusals(BTreeMap<i64, Option<Vec<SeccompRule>>>);

impl Refusals {
    fn always(&mut self, nr: libc::c_long) {
        self.0.insert(nr, None);
    }

    /// Refuses `nr` when all of `conds` hold (each `(arg, op, value)` on
    /// the argument's low 32 bits, where every argument filtered here
    /// lives).
    fn when(
        &mut self,
        nr: libc::c_long,
        conds: &[(u8, SeccompCmpOp, u64)],
    ) -> Result<(), SandboxError> {
        let conds = conds
            .iter()
            .map(|(arg, op, v)| {
                SeccompCondition::new(*arg, SeccompCmpArgLen::Dword, op.clone(), *v)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| seccomp_error("condition", e))?;
        let rule = SeccompRule::new(conds).map_err(|e| seccomp_error("rule", e))?;
        // A call already refused outright stays so.
        if let Some(rules) = self.0.entry(nr).or_insert_with(|| Some(Vec::new())) {
            rules.push(rule);
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compiles a filter that allows all but these calls, which get
    /// `errno`.
    fn compile(self, errno: i32) -> Result<BpfProgram, SandboxError> {
        let rules = self
            .0
            .into_iter()
            .map(|(nr, r)| (nr, r.unwrap_or_default()))
            .collect();
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(errno as u32),
            ARCH,
        )
        .map_err(|e| seccomp_error("filter", e))?;
        filter
            .try_into()
            .map_err(|e: seccompiler::BackendError| seccomp_error("compiling the filter", e))
    }
}

/// The `EPERM` refusals of `policy`.
fn refusals(policy: &SandboxPolicy, own_pid: u32) -> Result<Refusals, SandboxError> {
    use SeccompCmpOp::{MaskedEq, Ne};
    let mut r = Refusals::default();
    if policy.syscalls {
        for nr in [
            libc::SYS_ptrace,
            libc::SYS_kcmp,
            libc::SYS_pidfd_getfd,
            libc::SYS_process_madvise,
            libc::SYS_kexec_load,
            libc::SYS_kexec_file_load,
            libc::SYS_init_module,
            libc::SYS_finit_module,
            libc::SYS_delete_module,
            libc::SYS_bpf,
            libc::SYS_reboot,
            libc::SYS_swapon,
            libc::SYS_swapoff,
            libc::SYS_acct,
            libc::SYS_syslog,
            libc::SYS_quotactl,
            libc::SYS_quotactl_fd,
            libc::SYS_vhangup,
            libc::SYS_sethostname,
            libc::SYS_setdomainname,
            libc::SYS_settimeofday,
            libc::SYS_clock_settime,
            libc::SYS_clock_adjtime,
            libc::SYS_adjtimex,
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_pivot_root,
            libc::SYS_chroot,
            libc::SYS_fsopen,
            libc::SYS_fsconfig,
            libc::SYS_fsmount,
            libc::SYS_fspick,
            libc::SYS_move_mount,
            libc::SYS_open_tree,
            libc::SYS_mount_setattr,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_request_key,
            libc::SYS_userfaultfd,
            libc::SYS_fanotify_init,
            libc::SYS_open_by_handle_at,
            libc::SYS_io_uring_setup,
        ] {
            r.always(nr);
        }
        #[cfg(target_arch = "x86_64")]
        for nr in [
            libc::SYS_iopl,
            libc::SYS_ioperm,
            libc::SYS_modify_ldt,
            libc::SYS_uselib,
            libc::SYS__sysctl,
        ] {
            r.always(nr);
        }
        if !policy.allow_perf {
            r.always(libc::SYS_perf_event_open);
        }
        // The limits: JIT'd code may lower or read them, never raise them
        // (with CAP_SYS_RESOURCE it could, hard limits included).
        if !policy.limits.is_none() {
            #[cfg(target_arch = "x86_64")]
            r.always(libc::SYS_setrlimit);
            r.when(libc::SYS_prlimit64, &[(2, Ne, 0)])?;
        }
        // Other processes' memory; our own stays open to sys::mem.
        let pid = u64::from(own_pid);
        r.when(libc::SYS_process_vm_readv, &[(0, Ne, pid)])?;
        r.when(libc::SYS_process_vm_writev, &[(0, Ne, pid)])?;
        // The query and PER_LINUX only.
        r.when(
            libc::SYS_personality,
            &[(0, Ne, 0xffff_ffff), (0, Ne, PER_LINUX)],
        )?;
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
            r.when(libc::SYS_clone, &[(0, MaskedEq(flag), flag)])?;
        }
        if policy.deny_network {
            refuse_non_tcp_sockets(&mut r)?;
        }
    }
    if !policy.allow_exec {
        r.always(libc::SYS_execve);
        r.always(libc::SYS_execveat);
    }
    if !policy.allow_fork {
        #[cfg(target_arch = "x86_64")]
        {
            r.always(libc::SYS_fork);
            r.always(libc::SYS_vfork);
        }
        let thread = libc::CLONE_THREAD as u64;
        r.when(libc::SYS_clone, &[(0, MaskedEq(thread), 0)])?;
    }
    Ok(r)
}

/// `socket(domain, type, protocol)`: only `AF_UNIX`, `AF_NETLINK` and TCP
/// over IPv4/IPv6.
fn refuse_non_tcp_sockets(r: &mut Refusals) -> Result<(), SandboxError> {
    use SeccompCmpOp::{Eq, MaskedEq, Ne};
    let nr = libc::SYS_socket;
    r.when(
        nr,
        &[
            (0, Ne, libc::AF_UNIX as u64),
            (0, Ne, libc::AF_NETLINK as u64),
            (0, Ne, libc::AF_INET as u64),
            (0, Ne, libc::AF_INET6 as u64),
        ],
    )?;
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
            r.when(nr, &[(0, Eq, d), (1, MaskedEq(TYPE_MASK), ty as u64)])?;
        }
        // SOCK_STREAM but not TCP (SCTP, MPTCP).
        r.when(
            nr,
            &[(0, Eq, d), (2, Ne, 0), (2, Ne, libc::IPPROTO_TCP as u64)],
        )?;
    }
    Ok(())
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

/// Installs `program` on every thread (TSYNC), or on this thread and its
/// future children where the kernel has no TSYNC.
fn install(program: &BpfProgram) -> Result<(), SandboxError> {
    match seccompiler::apply_filter_all_threads(program) {
        Ok(()) => Ok(()),
        Err(seccompiler::Error::Seccomp(e)) if e.raw_os_error() == Some(libc::EINVAL) => {
            seccompiler::apply_filter(program).map_err(|e| seccomp_error("installing", e))
        }
        Err(e) => Err(seccomp_error("installing on all threads", e)),
    }
}

/// Installs the filter of `policy` (with `no_new_privs`).
pub fn apply(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    let eperm = refusals(policy, std::process::id())?;
    let mut programs = Vec::new();
    #[cfg(target_arch = "x86_64")]
    programs.push(x32_guard());
    if policy.syscalls || !policy.allow_fork {
        let mut enosys = Refusals::default();
        enosys.always(libc::SYS_clone3);
        programs.push(enosys.compile(libc::ENOSYS)?);
    }
    if !eperm.is_empty() {
        programs.push(eperm.compile(libc::EPERM)?);
    }
    // Compiled all before installing any: a compile error changes nothing.
    for p in &programs {
        install(p)?;
    }
    Ok(())
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
        let parent = std::process::id() as libc::pid_t;
        let policy = syscalls_policy();
        probe::in_child(|| {
            apply(&policy).map_err(|e| e.to_string())?;
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
            // Sockets: UNIX and TCP may be created (Landlock decides on TCP
            // bind/connect), UDP, raw and SCTP not.
            probe::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0)
                .map_err(|e| format!("socket(AF_UNIX): {e}"))?;
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
        let policy = SandboxPolicy {
            allow_exec: true,
            allow_fork: true,
            allow_perf: true,
            ..syscalls_policy()
        };
        probe::in_child(|| {
            apply(&policy).map_err(|e| e.to_string())?;
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
        let policy = SandboxPolicy::none();
        assert!(!policy.syscalls && !policy.allow_exec && !policy.allow_fork);
        probe::in_child(|| {
            apply(&policy).map_err(|e| e.to_string())?;
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
            apply(&syscalls_policy()).map_err(|e| e.to_string())?;
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
            .unwrap()
            .compile(libc::EPERM)
            .unwrap();
        assert!(p.len() < 1024, "{} instructions", p.len());
    }
}
