//! The process-wide layers: the supervisor, inherited descriptors, the
//! environment, namespaces (and the minimal root) and the identity.
//!
//! The supervisor is the process that called [`SandboxPolicy::apply`]:
//! it forks, the child goes on to be confined and run JIT'd code, and the
//! parent stays outside. As the wall-clock watchdog, when the limit passes
//! it kills the child and exits with [`WALL_LIMIT_EXIT_STATUS`]; when the
//! child ends first it ends the same way (its exit status, or its signal).
//! As the shared-memory broker (when the child's `/dev/shm` is a private,
//! size-capped tmpfs), it creates the segments the shared-memory manager
//! asks for in the host's `/dev/shm`, where the controller opens them by
//! name, within a byte budget, and passes their descriptors over a socket
//! (`sys::shm::serve_request`). JIT'd code could use that socket too, but
//! only within the same budget: the names still present may hold the
//! memory limit at most, and the supervisor removes them all when the
//! session ends. JIT'd code cannot stop the supervisor:
//! it is outside the Landlock domain (whose signal scope
//! refuses signals to it from ABI 6), under its original identity (a root
//! executor's child runs as another uid), and the child dies with it
//! (`PR_SET_PDEATHSIG`, which the seccomp filter stops JIT'd code from
//! clearing).
//!
//! The identity: a privileged executor (uid 0, or any capability) switches
//! to [`SandboxPolicy::user`] or a per-session uid/gid picked from
//! `0x7f000000..0x7fffffff` (derived from the pid, and not found in
//! `/etc/passwd` or `/etc/group`), so two sandboxed sessions cannot touch
//! each other's processes or files, and `RLIMIT_NPROC` binds (root is
//! exempt from it).

use std::os::unix::ffi::OsStrExt;

use super::error::SandboxError;
use super::limits::WALL_LIMIT_EXIT_STATUS;
use super::policy::SandboxPolicy;
use crate::sys::process::{self as sys, ChildEnd};

fn os(what: &'static str) -> impl FnOnce(std::io::Error) -> SandboxError {
    move |source| SandboxError::Os { what, source }
}

/// Closes every inherited descriptor but 0, 1, 2, the policy's
/// `keep_fds` and the shared-memory broker's socket.
pub fn close_fds(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    let mut keep = policy.keep_fds.clone();
    keep.extend(crate::sys::shm::broker_fd());
    sys::close_inherited(&keep).map_err(os("closing inherited descriptors"))
}

/// Whether the variable `name` survives `env=clean`.
fn kept_variable(name: &[u8], policy: &SandboxPolicy) -> bool {
    matches!(name, b"PATH" | b"LANG" | b"TZ" | b"LC_ALL")
        || name.starts_with(b"LC_")
        || name.starts_with(b"ORC_RT_")
        || (policy.allow_perf && name == b"JITDUMPDIR")
}

/// Clears the environment (see [`SandboxPolicy::clean_env`]). The process
/// must be single-threaded.
pub fn clean_env(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    let kept: Vec<_> = std::env::vars_os()
        .filter(|(k, _)| kept_variable(k.as_bytes(), policy))
        .collect();
    for (k, _) in std::env::vars_os() {
        std::env::remove_var(k);
    }
    for (k, v) in kept {
        std::env::set_var(k, v);
    }
    match policy.read_write.first() {
        Some(dir) => {
            std::env::set_var("HOME", dir);
            std::env::set_var("TMPDIR", dir);
        }
        None => std::env::set_var("HOME", "/"),
    }
    // SAFETY: every variable was removed and set again above (glibc's
    // setenv copies), so nothing refers to the initial block; the caller
    // has checked that no other thread runs.
    unsafe { sys::scrub_initial_environment() }.map_err(os("clearing the initial environment"))
}

/// Forks the supervisor (see the module doc): returns in the child only.
/// With `wall`, it is the wall-clock watchdog; with `shm_budget`, the
/// shared-memory broker too, creating up to that many bytes of segments
/// in the host's `/dev/shm` for this process (whose own `/dev/shm` is then
/// private). The process must be single-threaded.
pub fn start_supervisor(wall: Option<u64>, shm_budget: Option<u64>) -> Result<(), SandboxError> {
    let pair = match shm_budget {
        Some(_) => Some(sys::seqpacket_pair().map_err(os("the shared-memory broker's socket"))?),
        None => None,
    };
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the caller (apply) has checked that no other thread runs.
    match unsafe { sys::fork() }.map_err(os("forking the supervisor"))? {
        None => {
            sys::die_with_parent().map_err(os("PR_SET_PDEATHSIG"))?;
            // SAFETY: getppid has no preconditions.
            if unsafe { libc::getppid() } != parent {
                // The supervisor is already gone.
                crate::sys::rlimit::exit_now("", WALL_LIMIT_EXIT_STATUS);
            }
            if let Some((_, ours)) = pair {
                crate::sys::shm::use_broker(ours);
            }
            Ok(())
        }
        Some(child) => supervisor(child, wall, pair.map(|(theirs, _)| theirs), shm_budget),
    }
}

/// The supervisor's whole life.
fn supervisor(
    child: libc::pid_t,
    wall: Option<u64>,
    socket: Option<std::os::fd::OwnedFd>,
    budget: Option<u64>,
) -> ! {
    use std::os::fd::AsRawFd;
    // Only stdin, stdout, stderr and the broker's socket: the connection
    // must see EOF when the child closes it.
    let keep: Vec<_> = socket.iter().map(|s| s.as_raw_fd()).collect();
    let _ = sys::close_inherited(&keep);
    let mut ledger = crate::sys::shm::BrokerLedger::new(budget.unwrap_or(0));
    let mut serve = |s: &std::os::fd::OwnedFd| {
        matches!(crate::sys::shm::serve_request(s, &mut ledger), Ok(true))
    };
    let end = sys::supervise(child, wall, socket.as_ref(), &mut serve);
    // Whatever JIT'd code had the broker make and nobody unlinked goes with
    // the session.
    ledger.remove_all();
    match end {
        Ok(ChildEnd::Exited(status)) => crate::sys::rlimit::exit_now("", status),
        Ok(ChildEnd::Signaled(sig)) => sys::exit_as_signaled(sig),
        Ok(ChildEnd::TimedOut) => crate::sys::rlimit::exit_now(
            &format!(
                "orc-rt: sandbox: wall-clock limit of {} s exceeded; exiting with status \
                 {WALL_LIMIT_EXIT_STATUS}\n",
                wall.unwrap_or(0)
            ),
            WALL_LIMIT_EXIT_STATUS,
        ),
        Err(e) => {
            // SAFETY: kill takes integers; the child is not reaped.
            unsafe { libc::kill(child, libc::SIGKILL) };
            crate::sys::rlimit::exit_now(
                &format!("orc-rt: sandbox: the supervisor failed: {e}\n"),
                1,
            )
        }
    }
}

/// First uid/gid of the per-session range.
const SESSION_ID_BASE: u32 = 0x7f00_0000;
/// Size of the per-session range.
const SESSION_ID_SPAN: u32 = 0x00ff_ffff;

/// The ids listed in field 3 of `/etc/passwd`-like `text`.
fn listed_ids(text: &str) -> impl Iterator<Item = u32> + '_ {
    text.lines()
        .filter_map(|l| l.split(':').nth(2)?.parse::<u32>().ok())
}

/// A per-session uid/gid for process `pid` that neither `passwd` nor
/// `group` lists.
fn session_id(pid: u32, passwd: &str, group: &str) -> u32 {
    let taken: std::collections::BTreeSet<u32> =
        listed_ids(passwd).chain(listed_ids(group)).collect();
    let mut id = SESSION_ID_BASE + pid % SESSION_ID_SPAN;
    while taken.contains(&id) {
        id = SESSION_ID_BASE + (id - SESSION_ID_BASE + 1) % SESSION_ID_SPAN;
    }
    id
}

/// The uid/gid of `user=`: `UID[:GID]`, or a name of `passwd`.
fn named_id(user: &str, passwd: &str) -> Result<(u32, u32), SandboxError> {
    let bad = || SandboxError::BadSetting(format!("user={user}"));
    if user.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        let (u, g) = user.split_once(':').unwrap_or((user, user));
        return Ok((u.parse().map_err(|_| bad())?, g.parse().map_err(|_| bad())?));
    }
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&user))
        .and_then(|f| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
        .ok_or_else(|| SandboxError::Identity(format!("user={user}: no such user in /etc/passwd")))
}

/// The identity a privileged process of `policy` switches to.
pub fn target_identity(policy: &SandboxPolicy) -> Result<(u32, u32), SandboxError> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    match policy.user.as_deref() {
        Some(u) => named_id(u, &passwd),
        None => {
            let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
            let id = session_id(std::process::id(), &passwd, &group);
            Ok((id, id))
        }
    }
}

/// Drops every privilege: switches to `uid`/`gid` (if given), no groups,
/// no capabilities in any set, locked securebits, `no_new_privs`. Returns
/// what the report says.
pub fn drop_privileges(id: Option<(u32, u32)>) -> Result<String, SandboxError> {
    let fail = |what: &str, e: std::io::Error| SandboxError::Identity(format!("{what}: {e}"));
    sys::lock_securebits().map_err(|e| fail("locking the securebits", e))?;
    sys::drop_bounding_and_ambient().map_err(|e| fail("dropping the bounding set", e))?;
    if let Some((uid, gid)) = id {
        sys::set_identity(uid, gid).map_err(|e| fail("switching uid/gid", e))?;
    }
    sys::clear_capabilities().map_err(|e| fail("clearing the capabilities", e))?;
    sys::set_no_new_privs().map_err(|e| fail("no_new_privs", e))?;
    sys::set_dumpable().map_err(|e| fail("PR_SET_DUMPABLE", e))?;
    let (e, p, i) = sys::capabilities().map_err(|e| fail("reading the capabilities", e))?;
    let (ruid, euid, suid) = sys::uids();
    if e | p | i != 0 || id.is_some_and(|(uid, _)| (ruid, euid, suid) != (uid, uid, uid)) {
        return Err(SandboxError::Identity(format!(
            "still privileged after the drop: uids {ruid}/{euid}/{suid}, capabilities \
             {e:#x}/{p:#x}/{i:#x}"
        )));
    }
    // SAFETY: getgid has no preconditions.
    let gid = unsafe { libc::getgid() };
    Ok(format!("identity (uid {euid}, gid {gid}, no capabilities)"))
}

/// After an identity change: each `ro=` path must be readable and each
/// `rw=` directory writable by the new identity, or the policy could not
/// work as written.
pub fn check_paths_reachable(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    let uid = sys::uids().1;
    let want = policy
        .read_only
        .iter()
        .map(|p| (p, "ro", libc::R_OK))
        .chain(
            policy
                .read_write
                .iter()
                .map(|p| (p, "rw", libc::R_OK | libc::W_OK | libc::X_OK)),
        );
    for (path, kind, mode) in want {
        sys::access(path, mode).map_err(|e| {
            SandboxError::Identity(format!(
                "{kind}={}: {e} for the sandbox's uid {uid} (grant it access, or name an \
                 identity that has it with user=)",
                path.display()
            ))
        })?;
    }
    Ok(())
}

/// Whether `meta` lets anyone write and search it (like `/tmp`).
fn open_to_all(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o003 == 0o003
}

/// New namespaces: mount, IPC and network (unless the policy allows the
/// network); `user` adds a user namespace mapping the current uid/gid to
/// themselves (for an unprivileged process). In the mount namespace,
/// `/dev/shm` is a private tmpfs of `private_shm` bytes (if given; else
/// the host's, mounted again `nosuid,nodev`), and each `rw=` directory is
/// mounted again `nosuid,nodev`;
/// with `drop_to` (a root executor's coming identity), an `rw=`
/// directory that identity could not write is idmapped so that its owner
/// appears as that identity. Returns the report entry.
pub fn unshare(
    policy: &SandboxPolicy,
    user: bool,
    drop_to: Option<(u32, u32)>,
    private_shm: Option<u64>,
) -> Result<String, SandboxError> {
    let ns = |what: String| SandboxError::Namespaces(what);
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWIPC;
    let mut names = vec!["mount"];
    if policy.deny_network {
        flags |= libc::CLONE_NEWNET;
        names.push("net");
    }
    names.push("ipc");
    let (uid, gid) = (sys::uids().1, {
        // SAFETY: getegid has no preconditions.
        unsafe { libc::getegid() }
    });
    if user {
        flags |= libc::CLONE_NEWUSER;
        names.push("user");
    }
    // The idmapping namespaces first: they need the privileges of the
    // initial user namespace, and a fork.
    let mut idmaps = Vec::new();
    for dir in &policy.read_write {
        let meta = std::fs::metadata(dir).map_err(|e| ns(format!("rw={}: {e}", dir.display())))?;
        let idmap = match drop_to {
            Some((to_uid, to_gid)) if !open_to_all(&meta) => {
                use std::os::unix::fs::MetadataExt;
                // SAFETY: apply() has checked that no other thread runs.
                let fd = unsafe {
                    crate::sys::mount::user_namespace((meta.uid(), to_uid), (meta.gid(), to_gid))
                }
                .map_err(|e| {
                    ns(format!(
                        "a user namespace to idmap rw={}: {e}",
                        dir.display()
                    ))
                })?;
                Some(fd)
            }
            _ => None,
        };
        idmaps.push(idmap);
    }
    sys::unshare(flags).map_err(|e| ns(format!("unshare({}): {e}", names.join(", "))))?;
    // From here on the namespaces exist: a failure leaves them half set
    // up, which no report could describe, so it is always an error.
    let ns = |what: String| SandboxError::NamespacesPartial(what);
    if user {
        let map = |file: &str, text: String| {
            sys::write_proc_self(file, &text).map_err(|e| ns(format!("/proc/self/{file}: {e}")))
        };
        map("setgroups", "deny".into())?;
        map("uid_map", format!("{uid} {uid} 1"))?;
        map("gid_map", format!("{gid} {gid} 1"))?;
    }
    use crate::sys::mount::{self, Remount};
    mount::make_private().map_err(|e| ns(format!("making mounts private: {e}")))?;
    let shm = std::path::Path::new("/dev/shm");
    let shm_what = match private_shm {
        Some(size) if shm.is_dir() => {
            mount::private_tmpfs(shm, size).map_err(|e| ns(format!("a private /dev/shm: {e}")))?;
            "a private /dev/shm"
        }
        _ => {
            if shm.is_dir() {
                mount::remount(shm, Remount::default())
                    .map_err(|e| ns(format!("/dev/shm nosuid,nodev: {e}")))?;
            }
            "/dev/shm"
        }
    };
    let mut idmapped = 0;
    for (dir, idmap) in policy.read_write.iter().zip(&idmaps) {
        use std::os::fd::AsRawFd;
        let how = Remount {
            read_only: false,
            idmap: idmap.as_ref().map(|fd| fd.as_raw_fd()),
        };
        idmapped += usize::from(idmap.is_some());
        mount::remount(dir, how).map_err(|e| {
            let idm = if idmap.is_some() { " idmapped" } else { "" };
            ns(format!("rw={} nosuid,nodev{idm}: {e}", dir.display()))
        })?;
    }
    let minimal_root = policy.minimal_root && policy.filesystem;
    if minimal_root {
        build_minimal_root(policy).map_err(|e| ns(format!("the minimal root: {e}")))?;
    }
    let mut what = format!(
        "namespaces ({}; {shm_what} and rw= nosuid,nodev",
        names.join(", ")
    );
    if minimal_root {
        what.push_str(", a minimal root");
    }
    if idmapped > 0 {
        what.push_str(&format!(", {idmapped} rw= idmapped"));
    }
    what.push(')');
    Ok(what)
}

/// A path of the minimal root: bound read-only unless `writable`, with
/// device nodes usable if `devices`.
struct RootEntry {
    path: std::path::PathBuf,
    writable: bool,
    devices: bool,
}

/// What the minimal root holds, parents before children, nothing under a
/// directory already held.
fn minimal_root_entries(policy: &SandboxPolicy) -> Vec<RootEntry> {
    use std::path::Path;
    let entry = |p: &Path, writable: bool, devices: bool| RootEntry {
        path: p.to_path_buf(),
        writable,
        devices,
    };
    let mut v = Vec::new();
    for p in super::landlock::SYSTEM_READ_ONLY {
        let devices = p.starts_with("/dev/");
        if !p.starts_with("/proc/") {
            v.push(entry(Path::new(p), devices, devices));
        }
    }
    // The usual top-level links into /usr (merged /usr), so /bin/sh and
    // the like resolve; only links are taken (they expose nothing).
    for p in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
        if std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()) {
            v.push(entry(Path::new(p), false, false));
        }
    }
    v.push(entry(Path::new("/dev/null"), true, true));
    v.push(entry(Path::new("/dev/shm"), true, false));
    v.push(entry(Path::new("/proc"), true, false));
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok());
    if let Some(exe) = &exe {
        v.push(entry(exe, false, false));
    }
    if let Some(dir) = super::landlock::own_library_dir(exe.as_deref()) {
        v.push(entry(&dir, false, false));
    }
    v.extend(policy.read_only.iter().map(|p| entry(p, false, false)));
    v.extend(policy.read_write.iter().map(|p| entry(p, true, false)));
    v.retain(|e| e.path.is_absolute() && std::fs::symlink_metadata(&e.path).is_ok());
    v.sort_by(|a, b| a.path.cmp(&b.path));
    v.dedup_by(|a, b| a.path == b.path);
    let mut kept: Vec<RootEntry> = Vec::new();
    for e in v {
        let covered = kept.iter().any(|k| {
            e.path.starts_with(&k.path)
                && std::fs::symlink_metadata(&k.path).is_ok_and(|m| m.is_dir())
        });
        if !covered {
            kept.push(e);
        }
    }
    kept
}

/// Builds the minimal root (see [`SandboxPolicy::minimal_root`]) and
/// pivots into it, in this process's own mount namespace.
fn build_minimal_root(policy: &SandboxPolicy) -> std::io::Result<()> {
    use crate::sys::mount;
    use std::path::{Path, PathBuf};
    enum Made {
        Tree(std::os::fd::OwnedFd, bool),
        Link(PathBuf),
    }
    // Everything is taken first: the staging mount may hide some of it.
    let mut made = Vec::new();
    for e in minimal_root_entries(policy) {
        let meta = std::fs::symlink_metadata(&e.path)?;
        let what = if meta.file_type().is_symlink() {
            Made::Link(std::fs::read_link(&e.path)?)
        } else {
            let tree = mount::clone_tree(&e.path, !e.writable, e.devices).map_err(|err| {
                std::io::Error::new(err.kind(), format!("{}: {err}", e.path.display()))
            })?;
            Made::Tree(tree, meta.is_dir())
        };
        made.push((e.path, what));
    }
    let staging = ["/tmp", "/mnt", "/dev"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_dir())
        .ok_or_else(|| std::io::Error::other("no directory to build the root in"))?;
    mount::private_tmpfs(staging, 1 << 20)?;
    for (path, what) in &made {
        let Ok(rel) = path.strip_prefix("/") else {
            continue;
        };
        let at = staging.join(rel);
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match what {
            Made::Link(target) => std::os::unix::fs::symlink(target, &at)?,
            Made::Tree(tree, is_dir) => {
                if *is_dir {
                    std::fs::create_dir_all(&at)?;
                } else {
                    std::fs::File::create(&at)?;
                }
                mount::attach(tree, &at).map_err(|err| {
                    std::io::Error::new(err.kind(), format!("{}: {err}", path.display()))
                })?;
            }
        }
    }
    mount::pivot_to(staging)?;
    mount::root_read_only()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_avoid_listed_ones() {
        let passwd = "root:x:0:0::/root:/bin/sh\nodd:x:2130706440:1::/:/bin/sh\n";
        let group = "g:x:2130706441:\n";
        assert_eq!(session_id(3, passwd, group), SESSION_ID_BASE + 3);
        assert_eq!(session_id(8, passwd, group), SESSION_ID_BASE + 10);
        // Wraps within the range.
        assert_eq!(
            session_id(SESSION_ID_SPAN - 1, "", ""),
            SESSION_ID_BASE + SESSION_ID_SPAN - 1
        );
    }

    #[test]
    fn named_ids() {
        let passwd = "nobody:x:65534:65533::/:/bin/false\n";
        assert_eq!(named_id("nobody", passwd).unwrap(), (65534, 65533));
        assert_eq!(named_id("1000", passwd).unwrap(), (1000, 1000));
        assert_eq!(named_id("1000:7", passwd).unwrap(), (1000, 7));
        assert!(named_id("ghost", passwd).is_err());
        assert!(named_id("12x", passwd).is_err());
    }

    #[test]
    fn kept_variables() {
        let p = SandboxPolicy::untrusted();
        for k in ["PATH", "LANG", "LC_CTYPE", "TZ", "ORC_RT_STACK_SIZE"] {
            assert!(kept_variable(k.as_bytes(), &p), "{k}");
        }
        for k in ["HOME", "SSH_AUTH_SOCK", "JITDUMPDIR", "LD_PRELOAD", "PATHX"] {
            assert!(!kept_variable(k.as_bytes(), &p), "{k}");
        }
        let perf = SandboxPolicy {
            allow_perf: true,
            ..p
        };
        assert!(kept_variable(b"JITDUMPDIR", &perf));
    }
}
