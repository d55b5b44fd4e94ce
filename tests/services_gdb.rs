//! `gdb_jit_interface!` defines the GDB JIT symbols in the invoking crate
//! and registrations go to them.

mod common;

use common::call;
use orc_rt::sps::SpsResult;
use orc_rt::sps_ci::gdb_jit;
use orc_rt::{ExecutorAddr, ExecutorAddrRange};

orc_rt::gdb_jit_interface!();

#[test]
fn registrations_reach_the_binary_descriptor() {
    install_gdb_jit_interface();
    // SAFETY: reading our own static; no registration runs concurrently.
    let d = unsafe { &*__jit_debug_descriptor.0.get() };
    assert_eq!(d.version, 1);
    assert!(d.first_entry.is_null());
    let obj = ExecutorAddrRange {
        start: ExecutorAddr(0x1000),
        end: ExecutorAddr(0x1800),
    };
    let r: SpsResult = call(gdb_jit::register_jit_loader_gdb_alloc_action, &(obj, true));
    assert_eq!(r, Ok(()));
    // SAFETY: as above, after the call returned.
    let d = unsafe { &*__jit_debug_descriptor.0.get() };
    assert_eq!(d.action_flag, orc_rt::services::gdb_jit::JIT_REGISTER_FN);
    assert!(!d.first_entry.is_null());
    // SAFETY: entries made by orc-rt are never freed.
    let e = unsafe { &*d.first_entry };
    assert_eq!((e.symfile_addr as u64, e.symfile_size), (0x1000, 0x800));
}
