//! One discipline for every handle handed to C.
//!
//! A C handle (`orc_rt_SessionRef`, `orc_rt_ErrorRef`, ...) never points at
//! Rust memory. It is a [`Handle`] (slot, generation and kind of an entry in
//! a [`HandleTable`]) dressed up as a pointer to an incomplete struct, so a
//! destroyed, consumed, forged or wrong-kind handle is refused every time:
//! even when the slot has been reused, or a new object lives at an address
//! C remembers. Nothing is ever dereferenced from a handle's value.
//!
//! Each opaque struct implements [`Castable`], naming what C's handle holds
//! and how C owns it (after rustls-ffi's `Castable`):
//!
//! - [`OwnershipBox`]: C holds the value itself. It is taken out exactly
//!   once, by a consuming function ([`consume`]) or a destroy ([`destroy`]);
//!   meanwhile it can be looked at in place ([`with`]).
//! - [`OwnershipArc`]: C holds one counted reference (`Arc`). Functions
//!   borrow by cloning it ([`clone_arc`]); `_dispose` drops C's reference
//!   ([`destroy`], or [`release`] to get it back), others may still hold
//!   theirs.
//!
//! All handles go through the helpers here ([`create`], [`with`],
//! [`clone_arc`], [`consume`], [`release`], [`destroy`]); no other file of
//! `ffi/` turns a handle into a pointer to a Rust object.

use std::sync::Arc;

use crate::error::report_unowned;
use crate::handle::{Handle, HandleTable};
use crate::Error;

// A handle is 64 bits and travels as a pointer; orc-rt targets LP64 only
// (see also the wrapper-function buffer's inline capacity).
const _: () = assert!(std::mem::size_of::<usize>() == std::mem::size_of::<u64>());

/// Ownership of a [`Castable`] handle: C owns the value; it is taken out
/// exactly once.
pub(crate) enum OwnershipBox {}

/// Ownership of a [`Castable`] handle: C owns one `Arc` reference.
pub(crate) enum OwnershipArc {}

/// Where the values behind one kind of handle live.
pub(crate) trait Store<V>: Sync + 'static {
    /// Stores `v` and names it.
    fn insert(&self, v: V) -> Handle;
    /// Runs `f` on the live value `h` names (briefly: a lock may be held).
    fn with<R>(&self, h: Handle, f: impl FnOnce(&mut V) -> R) -> Option<R>;
    /// Takes the value `h` names out; `h` is refused from now on.
    fn remove(&self, h: Handle) -> Option<V>;
}

impl<V: Send + 'static> Store<V> for HandleTable<V> {
    fn insert(&self, v: V) -> Handle {
        HandleTable::insert(self, v)
    }
    fn with<R>(&self, h: Handle, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        HandleTable::with(self, h, f)
    }
    fn remove(&self, h: Handle) -> Option<V> {
        HandleTable::remove(self, h)
    }
}

/// An opaque C struct whose pointers are handles to `Self::Value`.
pub(crate) trait Castable: Sized + 'static {
    /// [`OwnershipBox`] or [`OwnershipArc`].
    type Ownership;
    /// What a handle of this kind holds.
    type Value: Send + 'static;
    /// Where the values live.
    type Store: Store<Self::Value>;
    /// The C type name, for messages (`orc_rt_SessionRef`).
    const NAME: &'static str;

    /// The table of live values of this kind.
    fn store() -> &'static Self::Store;

    /// The C pointer for `h`.
    fn to_c(h: Handle) -> *mut Self {
        h.to_raw() as usize as *mut Self
    }

    /// The handle behind a C pointer (not yet checked).
    fn from_c(p: *mut Self) -> Handle {
        Handle::from_raw(p as usize as u64)
    }
}

/// The error for a NULL handle of kind `C`.
fn null_error<C: Castable>() -> Error {
    Error::msg(format!("invalid {}: NULL", C::NAME))
}

/// The error for a handle of kind `C` that names nothing live.
fn stale_error<C: Castable>(p: *mut C) -> Error {
    Error::msg(format!(
        "invalid or destroyed {} {p:p} (already destroyed or consumed, or never made by orc-rt)",
        C::NAME
    ))
}

/// Stores `v` and returns the C handle that owns it.
pub(crate) fn create<C: Castable>(v: C::Value) -> *mut C {
    C::to_c(C::store().insert(v))
}

/// Runs `f` on the value behind `p` in place. Errors for NULL and for a
/// handle that names nothing live. `f` runs under the table's lock: keep it
/// short and never call back into C or into this table from it.
pub(crate) fn with<C: Castable, R>(
    p: *mut C,
    f: impl FnOnce(&mut C::Value) -> R,
) -> Result<R, Error> {
    if p.is_null() {
        return Err(null_error::<C>());
    }
    C::store()
        .with(C::from_c(p), f)
        .ok_or_else(|| stale_error(p))
}

/// A new reference to the shared value behind `p` (C keeps its own).
pub(crate) fn clone_arc<C, T>(p: *mut C) -> Result<Arc<T>, Error>
where
    C: Castable<Ownership = OwnershipArc, Value = Arc<T>>,
    T: ?Sized,
{
    with(p, |a| a.clone())
}

/// Takes the value behind `p` out of C's hands: `p` is refused from now
/// on. `Ok(None)` for NULL (consuming functions accept NULL as "nothing").
pub(crate) fn consume<C>(p: *mut C) -> Result<Option<C::Value>, Error>
where
    C: Castable<Ownership = OwnershipBox>,
{
    take(p)
}

/// Takes C's reference behind `p` back: `p` is refused from now on (other
/// references stay valid). `Ok(None)` for NULL.
pub(crate) fn release<C>(p: *mut C) -> Result<Option<C::Value>, Error>
where
    C: Castable<Ownership = OwnershipArc>,
{
    take(p)
}

/// Releases C's value or reference behind `p`; NULL is a no-op. The value
/// is dropped after the table's lock is released (a drop may block or call
/// out). A handle that names nothing live is reported as an error of no
/// Session, prefixed with `fn_name`.
pub(crate) fn destroy<C: Castable>(p: *mut C, fn_name: &str) {
    if let Err(e) = take(p) {
        report(fn_name, e);
    }
}

fn take<C: Castable>(p: *mut C) -> Result<Option<C::Value>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    match C::store().remove(C::from_c(p)) {
        Some(v) => Ok(Some(v)),
        None => Err(stale_error(p)),
    }
}

/// Reports `e` (a refused handle, or another failure a function without a
/// result cannot return) as an error of no Session, prefixed with
/// `fn_name`.
pub(crate) fn report(fn_name: &str, e: Error) {
    report_unowned(Error::msg(format!("{fn_name}: {e}")));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::HandleKind;

    struct OpaqueThing;
    static THINGS: HandleTable<Arc<String>> = HandleTable::new(HandleKind::Test);
    impl Castable for OpaqueThing {
        type Ownership = OwnershipArc;
        type Value = Arc<String>;
        type Store = HandleTable<Arc<String>>;
        const NAME: &'static str = "ThingRef";
        fn store() -> &'static Self::Store {
            &THINGS
        }
    }

    struct OpaqueToken;
    static TOKENS: HandleTable<u32> = HandleTable::new(HandleKind::Test);
    impl Castable for OpaqueToken {
        type Ownership = OwnershipBox;
        type Value = u32;
        type Store = HandleTable<u32>;
        const NAME: &'static str = "TokenRef";
        fn store() -> &'static Self::Store {
            &TOKENS
        }
    }

    #[test]
    fn arc_handles_are_cloned_and_refused_after_destroy() {
        let p = create::<OpaqueThing>(Arc::new("a".into()));
        let a = clone_arc(p).unwrap();
        assert_eq!(*a, "a");
        destroy(p, "test");
        // Our clone outlives C's reference; the handle is dead.
        assert_eq!(*a, "a");
        let e = clone_arc(p).unwrap_err().to_string();
        assert!(e.contains("invalid or destroyed ThingRef"), "{e}");
        // A new entry reuses the slot: the old handle is still refused.
        let q = create::<OpaqueThing>(Arc::new("b".into()));
        assert_ne!(p, q);
        assert!(clone_arc(p).is_err());
        assert_eq!(*clone_arc(q).unwrap(), "b");
        destroy(p, "test (stale destroy, expected in this test)");
        assert_eq!(*clone_arc(q).unwrap(), "b");
        destroy(q, "test");
        let e = clone_arc::<OpaqueThing, String>(std::ptr::null_mut()).unwrap_err();
        assert!(e.to_string().contains("invalid ThingRef: NULL"), "{e}");
    }

    #[test]
    fn box_handles_are_consumed_once() {
        let p = create::<OpaqueToken>(7);
        assert_eq!(with(p, |v| *v).unwrap(), 7);
        assert_eq!(consume(p).unwrap(), Some(7));
        assert!(consume(p).is_err());
        assert!(with(p, |v| *v).is_err());
        assert_eq!(consume::<OpaqueToken>(std::ptr::null_mut()).unwrap(), None);
        // A forged value is refused (kinds are checked by HandleTable).
        assert!(consume(0x1000 as *mut OpaqueToken).is_err());
    }
}

/// A C context pointer carried into callbacks that may run on other
/// threads.
#[derive(Clone, Copy)]
pub(crate) struct CtxPtr(pub(crate) *mut std::os::raw::c_void);

// SAFETY: every C function taking a `Ctx` documents that it must be usable
// from any thread; the pointer itself is never dereferenced by Rust.
unsafe impl Send for CtxPtr {}
// SAFETY: as above.
unsafe impl Sync for CtxPtr {}
