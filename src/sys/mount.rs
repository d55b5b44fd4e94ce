//! Mounts in a private mount namespace (the new mount API: `open_tree`,
//! `mount_setattr`, `move_mount`), and the user namespace an idmapped
//! mount needs.
//!
//! The sandbox uses them, in a mount namespace of its own, to put a path
//! back in place with `nosuid,nodev` and, for a root executor that drops
//! to another uid, idmapped so that the directory's owner appears as that
//! uid.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `struct mount_attr` (`<linux/mount.h>`).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;

fn check(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

/// Makes every mount of this (new) mount namespace private, so nothing
/// done here propagates back.
pub fn make_private() -> io::Result<()> {
    // SAFETY: "/" is a valid string; the other pointers may be NULL for
    // a propagation change.
    check(libc::c_long::from(unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    }))
    .map(drop)
}

/// Mounts a new tmpfs of at most `size` bytes over `path`
/// (`nosuid,nodev`, mode 1777).
pub fn private_tmpfs(path: &Path, size: u64) -> io::Result<()> {
    let c = cpath(path)?;
    let opts = CString::new(format!("size={size},mode=1777")).map_err(io::Error::other)?;
    // SAFETY: every pointer is a valid NUL-terminated string.
    check(libc::c_long::from(unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            c.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            opts.as_ptr().cast(),
        )
    }))
    .map(drop)
}

/// A detached, recursive copy of the mount tree at `c` (`open_tree` with
/// `OPEN_TREE_CLONE | AT_RECURSIVE`), following a final symlink.
fn open_tree_clone(c: &std::ffi::CStr) -> io::Result<OwnedFd> {
    // SAFETY: c is a valid string; open_tree returns a new descriptor.
    let tree = check(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | libc::AT_RECURSIVE as libc::c_uint,
        )
    })?;
    // SAFETY: open_tree succeeded: the descriptor is ours.
    Ok(unsafe { OwnedFd::from_raw_fd(tree as RawFd) })
}

/// Applies `attr` to the detached tree `tree` (`mount_setattr`), to its
/// whole subtree if `recursive`.
fn set_attr(tree: &OwnedFd, attr: &MountAttr, recursive: bool) -> io::Result<()> {
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: an empty path with AT_EMPTY_PATH names the tree descriptor;
    // attr is a valid mount_attr of the size passed.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr,
            std::mem::size_of::<MountAttr>(),
        )
    })?;
    Ok(())
}

/// A detached copy of the mount tree at `path` (`open_tree` with
/// `OPEN_TREE_CLONE | AT_RECURSIVE`), with `nosuid` (and `nodev` unless
/// `devices`, and read-only if `read_only`) set on it; following a final
/// symlink.
pub fn clone_tree(path: &Path, read_only: bool, devices: bool) -> io::Result<OwnedFd> {
    let c = cpath(path)?;
    let tree = open_tree_clone(&c)?;
    let mut set = MOUNT_ATTR_NOSUID;
    if !devices {
        set |= MOUNT_ATTR_NODEV;
    }
    if read_only {
        set |= MOUNT_ATTR_RDONLY;
    }
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    set_attr(&tree, &attr, true)?;
    Ok(tree)
}

/// Mounts the detached tree `tree` on `target`.
pub fn attach(tree: &OwnedFd, target: &Path) -> io::Result<()> {
    let c = cpath(target)?;
    // SAFETY: an empty source path with MOVE_MOUNT_F_EMPTY_PATH names the
    // tree descriptor; c is a valid string.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            c.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// Makes `new_root` (a mount point) the root of this mount namespace and
/// detaches the old root; the working directory becomes `/`.
pub fn pivot_to(new_root: &Path) -> io::Result<()> {
    let c = cpath(new_root)?;
    // SAFETY: c is a valid string.
    check(libc::c_long::from(unsafe { libc::chdir(c.as_ptr()) }))?;
    // SAFETY: "." twice: the old root is stacked under the new one.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) })?;
    // SAFETY: "." is the old root, stacked on top; detach it.
    check(libc::c_long::from(unsafe {
        libc::umount2(c".".as_ptr(), libc::MNT_DETACH)
    }))?;
    // SAFETY: "/" is a valid string.
    check(libc::c_long::from(unsafe { libc::chdir(c"/".as_ptr()) })).map(drop)
}

/// Makes the mount at `/` read-only (`nosuid,nodev` too).
pub fn root_read_only() -> io::Result<()> {
    // SAFETY: valid strings and NULLs for a remount.
    check(libc::c_long::from(unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
            std::ptr::null(),
        )
    }))
    .map(drop)
}

/// How [`remount`] puts a path back.
#[derive(Clone, Copy, Debug, Default)]
pub struct Remount {
    /// Read-only.
    pub read_only: bool,
    /// Owners as the user namespace behind this descriptor maps them.
    pub idmap: Option<RawFd>,
}

/// Clones the mount tree at `path`, sets `nosuid,nodev` (and what `how`
/// asks) on the clone, and mounts it over `path`.
pub fn remount(path: &Path, how: Remount) -> io::Result<()> {
    let c = cpath(path)?;
    let tree = open_tree_clone(&c)?;
    let mut attr = MountAttr {
        attr_set: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    if how.read_only {
        attr.attr_set |= MOUNT_ATTR_RDONLY;
    }
    if let Some(fd) = how.idmap {
        attr.attr_set |= MOUNT_ATTR_IDMAP;
        attr.userns_fd = fd as u64;
    }
    set_attr(&tree, &attr, false)?;
    attach(&tree, path)
}

/// A user namespace whose uid and gid maps are `inside outside 1` each
/// (needs `CAP_SETUID`/`CAP_SETGID`): a forked child unshares it, this
/// process writes the maps and opens `/proc/<child>/ns/user`.
///
/// # Safety
///
/// The process must be single-threaded (it forks).
pub unsafe fn user_namespace(uid: (u32, u32), gid: (u32, u32)) -> io::Result<OwnedFd> {
    let mut ready = [0 as libc::c_int; 2];
    let mut done = [0 as libc::c_int; 2];
    // SAFETY: each array has room for the two descriptors pipe2 writes.
    check(libc::c_long::from(unsafe {
        libc::pipe2(ready.as_mut_ptr(), libc::O_CLOEXEC)
    }))?;
    // SAFETY: as above.
    if unsafe { libc::pipe2(done.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        let e = io::Error::last_os_error();
        // SAFETY: the first pipe's descriptors are ours.
        unsafe {
            libc::close(ready[0]);
            libc::close(ready[1]);
        }
        return Err(e);
    }
    // SAFETY: every descriptor below was made above and is ours.
    let (ready_r, ready_w, done_r, done_w) = unsafe {
        (
            OwnedFd::from_raw_fd(ready[0]),
            OwnedFd::from_raw_fd(ready[1]),
            OwnedFd::from_raw_fd(done[0]),
            OwnedFd::from_raw_fd(done[1]),
        )
    };
    // SAFETY: the caller promises a single-threaded process.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // The child: only async-signal-safe calls, then _exit.
        // SAFETY: unshare, write, read and _exit take integers and
        // buffers owned here.
        unsafe {
            // The parent's ends: with done_w open here, the read below
            // would never see the parent close it.
            libc::close(done_w.as_raw_fd());
            libc::close(ready_r.as_raw_fd());
            let ok: u8 = u8::from(libc::unshare(libc::CLONE_NEWUSER) == 0);
            libc::write(ready_w.as_raw_fd(), (&ok as *const u8).cast(), 1);
            let mut b = 0u8;
            libc::read(done_r.as_raw_fd(), (&mut b as *mut u8).cast(), 1);
            libc::_exit(0)
        }
    }
    if child < 0 {
        return Err(io::Error::last_os_error());
    }
    drop(ready_w);
    drop(done_r);
    let result = (|| {
        let mut ok = 0u8;
        // SAFETY: reads one byte into ok.
        let n = unsafe { libc::read(ready_r.as_raw_fd(), (&mut ok as *mut u8).cast(), 1) };
        if n != 1 || ok != 1 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the helper could not create a user namespace",
            ));
        }
        std::fs::write(
            format!("/proc/{child}/uid_map"),
            format!("{} {} 1", uid.0, uid.1),
        )?;
        std::fs::write(
            format!("/proc/{child}/gid_map"),
            format!("{} {} 1", gid.0, gid.1),
        )?;
        let ns = std::fs::File::open(format!("/proc/{child}/ns/user"))?;
        Ok(OwnedFd::from(ns))
    })();
    drop(done_w);
    // SAFETY: reaps our own child, which exits once done_w is closed.
    unsafe { libc::waitpid(child, std::ptr::null_mut(), 0) };
    result
}
