//! POSIX shared memory objects (`shm_open`).
//!
//! The shared-memory mapper creates one object per reservation; the
//! controller opens the same name and writes segment content through its own
//! mapping, so only the executor's protections change here.
//!
//! ```
//! use orc_rt::sys::{mem, mmap, shm};
//!
//! let name = format!("/orc_rt_doc_shm_{}", std::process::id());
//! let page = mmap::page_size();
//! let base = shm::create_and_map(&name, page).unwrap();
//! // The name exists until it is unlinked: creating it again fails.
//! assert!(shm::create_and_map(&name, page).is_err());
//!
//! // Mapped with no access; grant some before use.
//! // SAFETY: our own mapping, holding no Rust objects.
//! unsafe { mmap::protect(base, page, mmap::read_write()) }.unwrap();
//! // SAFETY: our own fresh mapping.
//! unsafe { mem::write(base, b"shared") }.unwrap();
//!
//! shm::unlink(&name).unwrap();
//! assert!(shm::unlink(&name).is_err());
//! // SAFETY: as above; nothing uses the mapping afterwards.
//! unsafe { mmap::unmap(base, page) }.unwrap();
//! ```

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Mutex, OnceLock};

/// `prefix` followed by 32 random hex digits (128 bits from
/// `getrandom`): a name nobody can guess.
pub fn random_name(prefix: &str) -> io::Result<String> {
    let mut bytes = [0u8; 16];
    let mut filled = 0;
    while filled < bytes.len() {
        let rest = &mut bytes[filled..];
        // SAFETY: getrandom writes at most rest.len() bytes into rest.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        filled += n as usize;
    }
    let mut name = String::with_capacity(prefix.len() + 32);
    name.push_str(prefix);
    for b in bytes {
        name.push_str(&format!("{b:02x}"));
    }
    Ok(name)
}

/// Creates the shared memory object `name` (`O_RDWR | O_CREAT | O_EXCL`,
/// mode 0600: the owner only; through the broker if [`use_broker`] set
/// one), sizes it to `size` bytes, maps it shared with no access
/// rights and closes the descriptor. Returns the mapping's base address.
/// The name is not unlinked: the controller opens it by name.
pub fn create_and_map(name: &str, size: u64) -> io::Result<u64> {
    if let Some(broker) = BROKER.get() {
        let fd = request(&lock(broker), name, size)?;
        return super::mmap::map_shared_none(fd.as_raw_fd(), size);
    }
    let fd = create(name, size)?;
    let result = super::mmap::map_shared_none(fd.as_raw_fd(), size);
    if result.is_err() {
        // Nobody can use a half-made object; do not leave it behind.
        let _ = unlink(name);
    }
    result
}

/// Creates the shared memory object `name` (`O_RDWR | O_CREAT | O_EXCL`,
/// mode 0600) of `size` bytes; returns its descriptor.
pub fn create(name: &str, size: u64) -> io::Result<OwnedFd> {
    let cname = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in shm name"))?;
    let len = libc::off_t::try_from(size)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "shm size too large"))?;
    // SAFETY: cname is a valid NUL-terminated string.
    let fd = unsafe {
        libc::shm_open(
            cname.as_ptr(),
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
            0o600 as libc::mode_t,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: shm_open succeeded: the descriptor is ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: fd is open.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), len) } < 0 {
        let e = io::Error::last_os_error();
        let _ = unlink(name);
        return Err(e);
    }
    Ok(fd)
}

fn lock(m: &Mutex<OwnedFd>) -> std::sync::MutexGuard<'_, OwnedFd> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The broker's socket, once [`use_broker`] has set it.
static BROKER: OnceLock<Mutex<OwnedFd>> = OnceLock::new();

/// From now on [`create_and_map`] asks the process at the other end of
/// `socket` (a `SOCK_SEQPACKET` socket; see [`serve_request`]) to create
/// each object, and maps the descriptor it sends back. The sandbox uses
/// this when this process's `/dev/shm` is a private one: the broker, a
/// process outside, creates the object where the controller looks for it.
pub fn use_broker(socket: OwnedFd) {
    let _ = BROKER.set(Mutex::new(socket));
}

/// The broker's socket descriptor, if [`use_broker`] set one.
pub fn broker_fd() -> Option<std::os::fd::RawFd> {
    BROKER.get().map(|m| lock(m).as_raw_fd())
}

/// Longest name a broker accepts.
const MAX_NAME: usize = 128;

/// Sends a request (size, then name) and receives the descriptor.
fn request(socket: &OwnedFd, name: &str, size: u64) -> io::Result<OwnedFd> {
    let mut msg = size.to_ne_bytes().to_vec();
    msg.extend_from_slice(name.as_bytes());
    super::process::send_with_fd(socket, &msg, None)?;
    let mut reply = [0u8; 4];
    let (n, fd) = super::process::recv_with_fd(socket, &mut reply)?;
    let errno = i32::from_ne_bytes(reply);
    match fd {
        Some(fd) if n == 4 && errno == 0 => Ok(fd),
        _ if n == 4 && errno != 0 => Err(io::Error::from_raw_os_error(errno)),
        _ => Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "the shared-memory broker did not answer",
        )),
    }
}

/// What a broker created: the names it made in the host's `/dev/shm`, and
/// the byte budget for what they may hold at once.
///
/// A name the controller has opened is unlinked by it at once (LLVM's
/// shared-memory mapper does so), and its memory then lives only as long
/// as the mappings of the two processes, which their address-space limits
/// bound. A name nobody unlinked keeps its data past the session, so the
/// ledger counts what the names still present hold, refuses a request
/// that would take that over the budget, and removes them all at the end
/// ([`BrokerLedger::remove_all`]).
#[derive(Debug)]
pub struct BrokerLedger {
    budget: u64,
    names: Vec<String>,
}

impl BrokerLedger {
    /// A ledger allowing `budget` bytes in names at once.
    pub fn new(budget: u64) -> Self {
        BrokerLedger {
            budget,
            names: Vec::new(),
        }
    }

    /// Bytes held by the names still present (their allocated blocks, or
    /// their size if larger), forgetting the names that are gone.
    fn held(&mut self) -> u64 {
        let mut total = 0u64;
        self.names
            .retain(|name| match std::fs::metadata(host_path(name)) {
                Ok(m) => {
                    use std::os::unix::fs::MetadataExt;
                    total = total.saturating_add(m.len().max(m.blocks().saturating_mul(512)));
                    true
                }
                Err(_) => false,
            });
        total
    }

    /// Removes every name still present: nothing a session made outlives
    /// it. Returns how many were removed.
    pub fn remove_all(&mut self) -> usize {
        let n = self
            .names
            .drain(..)
            .filter(|name| unlink(name).is_ok())
            .count();
        n
    }
}

/// Where `name` lives in the host's `/dev/shm` (glibc's `shm_open` puts
/// `/NAME` there).
fn host_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new("/dev/shm").join(name.trim_start_matches('/'))
}

/// The broker's side: reads one request from `socket`, creates the
/// object if the ledger's budget allows and its name is `/` and up to 127
/// letters, digits or `_`, and sends back its descriptor or an errno.
/// Returns `Ok(false)` when the other end is gone. A malformed request
/// gets `EINVAL`, one over budget `ENOSPC`.
pub fn serve_request(socket: &OwnedFd, ledger: &mut BrokerLedger) -> io::Result<bool> {
    let mut buf = [0u8; 8 + MAX_NAME + 1];
    let (n, stray) = super::process::recv_with_fd(socket, &mut buf)?;
    drop(stray);
    if n == 0 {
        return Ok(false);
    }
    let answer = (|| {
        let (size_bytes, name) = buf
            .get(..n)
            .filter(|m| m.len() > 8)
            .map(|m| m.split_at(8))
            .ok_or(libc::EINVAL)?;
        let size = u64::from_ne_bytes(size_bytes.try_into().map_err(|_| libc::EINVAL)?);
        let name = std::str::from_utf8(name).map_err(|_| libc::EINVAL)?;
        let valid = name.len() > 1
            && name.len() <= MAX_NAME
            && name.starts_with('/')
            && name[1..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_');
        if !valid || size == 0 {
            return Err(libc::EINVAL);
        }
        if ledger.held().saturating_add(size) > ledger.budget {
            return Err(libc::ENOSPC);
        }
        let fd = create(name, size).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        ledger.names.push(name.to_string());
        Ok(fd)
    })();
    match answer {
        Ok(fd) => super::process::send_with_fd(socket, &0i32.to_ne_bytes(), Some(fd.as_raw_fd()))?,
        Err(errno) => super::process::send_with_fd(socket, &errno.to_ne_bytes(), None)?,
    }
    Ok(true)
}

/// Removes the name `name` (used by tests to clean up).
pub fn unlink(name: &str) -> io::Result<()> {
    let cname = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in shm name"))?;
    // SAFETY: cname is a valid NUL-terminated string.
    if unsafe { libc::shm_unlink(cname.as_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn names_are_random_and_objects_owner_only() {
        let a = random_name("/orc_rt_test_shm_").unwrap();
        let b = random_name("/orc_rt_test_shm_").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), "/orc_rt_test_shm_".len() + 32);
        assert!(a["/orc_rt_test_shm_".len()..]
            .bytes()
            .all(|c| c.is_ascii_hexdigit()));
        let page = crate::sys::mmap::page_size();
        let base = create_and_map(&a, page).unwrap();
        let mode = std::fs::metadata(format!("/dev/shm{a}"))
            .unwrap()
            .permissions()
            .mode();
        unlink(&a).unwrap();
        // SAFETY: the mapping made above, unused afterwards.
        unsafe { crate::sys::mmap::unmap(base, page) }.unwrap();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_broker_counts_the_names_present_and_removes_them_at_the_end() {
        let (ours, theirs) = crate::sys::process::seqpacket_pair().unwrap();
        let page = crate::sys::mmap::page_size();
        let server = std::thread::spawn(move || {
            let mut ledger = BrokerLedger::new(3 * page);
            while serve_request(&theirs, &mut ledger).unwrap() {}
            ledger
        });
        let good = random_name("/orc_rt_test_broker_").unwrap();
        let fd = request(&ours, &good, 2 * page).unwrap();
        // SAFETY: fstat writes one struct we own; fd is open.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
        assert_eq!(st.st_size as u64, 2 * page);
        assert_eq!(st.st_mode & 0o777, 0o600);
        let errno = |r: io::Result<OwnedFd>| r.unwrap_err().raw_os_error();
        assert_eq!(errno(request(&ours, "/../etc/x", page)), Some(libc::EINVAL));
        assert_eq!(errno(request(&ours, "no_slash", page)), Some(libc::EINVAL));
        assert_eq!(errno(request(&ours, "/ok", 0)), Some(libc::EINVAL));
        // The first name still holds 2 pages: 2 more would pass the budget.
        let second = random_name("/orc_rt_test_broker_").unwrap();
        assert_eq!(errno(request(&ours, &second, 2 * page)), Some(libc::ENOSPC));
        // Once the controller has unlinked it (as LLVM's mapper does after
        // opening), it no longer counts.
        unlink(&good).unwrap();
        let _second_fd = request(&ours, &second, 2 * page).unwrap();
        // A short message is refused, not misread.
        crate::sys::process::send_with_fd(&ours, b"abc", None).unwrap();
        let mut reply = [0u8; 4];
        crate::sys::process::recv_with_fd(&ours, &mut reply).unwrap();
        assert_eq!(i32::from_ne_bytes(reply), libc::EINVAL);
        drop(ours);
        // At the end, what nobody unlinked is removed.
        let mut ledger = server.join().unwrap();
        assert!(std::fs::metadata(host_path(&second)).is_ok());
        assert_eq!(ledger.remove_all(), 1);
        assert!(std::fs::metadata(host_path(&second)).is_err());
    }
}
