//! Dylib manager, run_as, memory access, EH-frame and GDB JIT actions,
//! shared-memory mapper and the bootstrap symbol table, through their
//! synchronous-ABI entry points.

mod common;

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::sync::Arc;

use common::*;
use orc_rt::sps::orc_types::{
    AllocActionCallPair, BufferWrite, ExecutorSymbolDef, PointerWrite, RemoteAllocGroup,
    RemoteSymbolLookupSetElement, SharedMemoryFinalizeRequest, SharedMemorySegFinalizeRequest,
    UIntWrite, WrapperFunctionCall,
};
use orc_rt::sps::{serialize_to_vec, SpsExpected, SpsResult};
use orc_rt::sps_ci::bootstrap::{add_bootstrap_services, BootstrapServices};
use orc_rt::sps_ci::{access, dylib, eh_frame, gdb_jit, run_as, shared_memory};
use orc_rt::{ExecutorAddr, ExecutorAddrRange};

fn instance(s: &BootstrapServices, name: &str) -> ExecutorAddr {
    s.symbols()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
        .addr
}

fn sym(name: &str, required: bool) -> RemoteSymbolLookupSetElement {
    RemoteSymbolLookupSetElement {
        name: name.to_string(),
        required,
    }
}

fn libc_addr(name: &str) -> u64 {
    let c = std::ffi::CString::new(name).unwrap();
    // SAFETY: RTLD_DEFAULT lookup of a valid C string.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) as u64 }
}

#[test]
fn dylib_open_process_and_resolve() {
    let s = BootstrapServices::create();
    let inst = instance(&s, dylib::INSTANCE_NAME);
    let r: SpsExpected<ExecutorAddr> = call(dylib::open_wrapper, &(inst, "", 0u64));
    let h = r.0.unwrap();

    let r: SpsExpected<Vec<Option<ExecutorSymbolDef>>> = call(
        dylib::resolve_wrapper,
        &(
            h,
            vec![
                sym("printf", true),
                sym("no_such_symbol_orc_rt_test", false),
                sym("no_such_symbol_orc_rt_test", true),
                sym("", false),
                sym("__cxa_throw", true),
                sym("_Unwind_Resume", true),
            ],
        ),
    );
    let v = r.0.unwrap();
    assert_eq!(v.len(), 6);
    let printf = v[0].unwrap();
    assert_eq!(printf.addr.0, libc_addr("printf"));
    assert_eq!((printf.flags, printf.target_flags), (0x10, 0));
    assert_eq!(
        v[1],
        Some(ExecutorSymbolDef {
            addr: ExecutorAddr(0),
            flags: 0x10,
            target_flags: 0
        })
    );
    assert_eq!(v[2], None);
    assert_eq!(v[3], None);
    // The C++ runtime is globally visible for JIT'd C++ code.
    assert_ne!(v[4].unwrap().addr.0, 0);
    assert_ne!(v[5].unwrap().addr.0, 0);

    // Byte-exact weak/required encoding, as the reference executor answers
    // tests/interop/probe.py.
    let bytes = call_raw(
        dylib::resolve_wrapper,
        &serialize_to_vec(&(
            h,
            vec![
                sym("no_such_symbol_orc_rt_test", false),
                sym("nope_orc", true),
            ],
        )),
    );
    assert_eq!(
        bytes.as_slice().unwrap(),
        &[1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0][..]
    );

    // Empty required name: error.
    let r: SpsExpected<Vec<Option<ExecutorSymbolDef>>> =
        call(dylib::resolve_wrapper, &(h, vec![sym("", true)]));
    assert_eq!(r.0.unwrap_err(), "Required address for empty symbol \"\"");
    // Unknown handle: error, not a dereference.
    let r: SpsExpected<Vec<Option<ExecutorSymbolDef>>> = call(
        dylib::resolve_wrapper,
        &(ExecutorAddr(0xdead_beef), vec![sym("printf", true)]),
    );
    assert!(r.0.unwrap_err().contains("is not a valid dylib handle"));
    // Handles die with their manager.
    drop(s);
    let r: SpsExpected<Vec<Option<ExecutorSymbolDef>>> =
        call(dylib::resolve_wrapper, &(h, vec![sym("printf", true)]));
    assert!(r.0.is_err());
}

#[test]
fn dylib_open_errors() {
    let s = BootstrapServices::create();
    let inst = instance(&s, dylib::INSTANCE_NAME);
    let r: SpsExpected<ExecutorAddr> = call(
        dylib::open_wrapper,
        &(inst, "/nonexistent/libnothing.so", 0u64),
    );
    assert_eq!(
        r.0.unwrap_err(),
        "/nonexistent/libnothing.so: cannot open shared object file: No such file or directory"
    );
    let r: SpsExpected<ExecutorAddr> = call(dylib::open_wrapper, &(inst, "", 1u64));
    assert_eq!(
        r.0.unwrap_err(),
        "open: non-zero mode bits not yet supported"
    );
    let r: SpsExpected<ExecutorAddr> = call(dylib::open_wrapper, &(ExecutorAddr(16), "", 0u64));
    assert!(r
        .0
        .unwrap_err()
        .contains("not a live SimpleExecutorDylibManager instance"));
    // A real library by name, and a symbol in it.
    let r: SpsExpected<ExecutorAddr> = call(dylib::open_wrapper, &(inst, "libm.so.6", 0u64));
    let h = r.0.unwrap();
    let r: SpsExpected<Vec<Option<ExecutorSymbolDef>>> =
        call(dylib::resolve_wrapper, &(h, vec![sym("cos", true)]));
    assert_eq!(r.0.unwrap()[0].unwrap().addr.0, libc_addr("cos"));
}

static SEEN_ARGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

extern "C" fn test_main(argc: c_int, argv: *mut *mut c_char) -> c_int {
    let mut seen = Vec::new();
    for i in 0..argc as usize {
        // SAFETY: run_as_main passes argc valid C strings.
        seen.push(
            unsafe { CStr::from_ptr(*argv.add(i)) }
                .to_string_lossy()
                .into_owned(),
        );
    }
    // SAFETY: argv[argc] must exist and be NULL.
    assert!(unsafe { *argv.add(argc as usize) }.is_null());
    *SEEN_ARGS.lock().unwrap() = seen;
    if argc == 2 {
        -3
    } else {
        argc
    }
}

#[test]
fn run_as_main_argv_and_results() {
    let main = fn_addr_of_main();
    let r: i64 = call(run_as::run_as_main_wrapper, &(main, vec!["a", "b", "c"]));
    assert_eq!(r, 3);
    assert_eq!(*SEEN_ARGS.lock().unwrap(), ["a", "b", "c"]);
    let r: i64 = call(run_as::run_as_main_wrapper, &(main, Vec::<String>::new()));
    assert_eq!(r, 0, "no -args: argc 0, no program name");
    // A negative int comes back sign-extended.
    let bytes = call_raw(
        run_as::run_as_main_wrapper,
        &serialize_to_vec(&(main, vec!["x", "y"])),
    );
    assert_eq!(bytes.as_slice().unwrap(), &(-3i64).to_le_bytes());
    // abs(-5) through run_as_int, as probe.py runs it on the reference.
    let r: i32 = call(
        run_as::run_as_int_function_wrapper,
        &(ExecutorAddr(libc_addr("abs")), -5i32),
    );
    assert_eq!(r, 5);
    // Address 0 is refused with an out-of-band error.
    assert!(call_oob(
        run_as::run_as_main_wrapper,
        &(ExecutorAddr(0), Vec::<String>::new())
    )
    .contains("address 0x0"));
    assert!(
        call_oob(run_as::run_as_void_function_wrapper, &(ExecutorAddr(0),)).contains("address 0x0")
    );
}

fn fn_addr_of_main() -> ExecutorAddr {
    let f: extern "C" fn(c_int, *mut *mut c_char) -> c_int = test_main;
    ExecutorAddr(f as usize as u64)
}

#[test]
fn memory_access_round_trips() {
    let mut buf = vec![0u8; 64];
    let b = buf.as_mut_ptr() as u64;
    let a = |o: u64| ExecutorAddr(b + o);
    let r = call_raw(
        access::write_uint8s_wrapper,
        &serialize_to_vec(&vec![UIntWrite {
            addr: a(0),
            value: 0xabu8,
        }]),
    );
    assert_eq!(
        r.as_slice().unwrap(),
        &[] as &[u8],
        "writes return SPSEmpty"
    );
    let _: () = call(
        access::write_uint16s_wrapper,
        &vec![UIntWrite {
            addr: a(2),
            value: 0xbeefu16,
        }],
    );
    let _: () = call(
        access::write_uint32s_wrapper,
        &vec![UIntWrite {
            addr: a(4),
            value: 0xdeadbeefu32,
        }],
    );
    let _: () = call(
        access::write_uint64s_wrapper,
        &vec![UIntWrite {
            addr: a(8),
            value: 0x0102030405060708u64,
        }],
    );
    let _: () = call(
        access::write_pointers_wrapper,
        &vec![PointerWrite {
            addr: a(16),
            value: a(0),
        }],
    );
    let _: () = call(
        access::write_buffers_wrapper,
        &vec![
            BufferWrite {
                addr: a(24),
                buffer: b"hello\0".to_vec(),
            },
            BufferWrite {
                addr: a(40),
                buffer: b"xyz\0".to_vec(),
            },
        ],
    );
    let v: Vec<u8> = call(access::read_uint8s_wrapper, &vec![a(0)]);
    assert_eq!(v, [0xab]);
    let v: Vec<u16> = call(access::read_uint16s_wrapper, &vec![a(2)]);
    assert_eq!(v, [0xbeef]);
    let v: Vec<u32> = call(access::read_uint32s_wrapper, &vec![a(4)]);
    assert_eq!(v, [0xdeadbeef]);
    let v: Vec<u64> = call(access::read_uint64s_wrapper, &vec![a(8)]);
    assert_eq!(v, [0x0102030405060708]);
    let v: Vec<ExecutorAddr> = call(access::read_pointers_wrapper, &vec![a(16)]);
    assert_eq!(v, [a(0)]);
    let v: Vec<Vec<u8>> = call(
        access::read_buffers_wrapper,
        &vec![ExecutorAddrRange {
            start: a(24),
            end: a(32),
        }],
    );
    assert_eq!(v, [b"hello\0\0\0".to_vec()]);
    let v: Vec<String> = call(access::read_strings_wrapper, &vec![a(24), a(40)]);
    assert_eq!(v, ["hello", "xyz"]);
    // Exact bytes of read_strings, as the reference answers probe.py.
    let r = call_raw(
        access::read_strings_wrapper,
        &serialize_to_vec(&vec![a(24), a(40)]),
    );
    let mut want = vec![2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0];
    want.extend_from_slice(b"hello");
    want.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]);
    want.extend_from_slice(b"xyz");
    assert_eq!(r.as_slice().unwrap(), &want[..]);

    // Bad addresses: out-of-band errors, no crash.
    assert!(call_oob(access::read_uint32s_wrapper, &vec![ExecutorAddr(8)]).contains("0x8"));
    assert!(!call_oob(
        access::write_uint64s_wrapper,
        &vec![UIntWrite {
            addr: ExecutorAddr(16),
            value: 1u64
        }]
    )
    .is_empty());
    // A huge bogus range fails without allocating it.
    call_oob(
        access::read_buffers_wrapper,
        &vec![ExecutorAddrRange {
            start: a(0),
            end: ExecutorAddr(u64::MAX),
        }],
    );
    call_oob(
        access::read_buffers_wrapper,
        &vec![ExecutorAddrRange {
            start: a(8),
            end: a(0),
        }],
    );
    // An oversized count in the arguments is refused at decoding.
    let mut bogus = u64::MAX.to_le_bytes().to_vec();
    bogus.extend_from_slice(&[0; 8]);
    assert!(call_raw(access::read_uint8s_wrapper, &bogus).is_out_of_band_error());
    drop(buf);
}

#[test]
fn eh_frame_register_and_deregister() {
    // A well-formed empty section: just the zero terminator.
    let sec = Box::new([0u8; 8]);
    let start = sec.as_ptr() as u64;
    let range = ExecutorAddrRange {
        start: ExecutorAddr(start),
        end: ExecutorAddr(start + 4),
    };
    let r: SpsResult = call(eh_frame::register_eh_frame_alloc_action, &(range,));
    assert_eq!(r, Ok(()));
    let r: SpsResult = call(eh_frame::register_eh_frame_alloc_action, &(range,));
    assert!(r.unwrap_err().contains("already registered"));
    let r: SpsResult = call(eh_frame::deregister_eh_frame_alloc_action, &(range,));
    assert_eq!(r, Ok(()));
    // Deregistering again would abort inside libgcc: refused instead.
    let r: SpsResult = call(eh_frame::deregister_eh_frame_alloc_action, &(range,));
    assert!(r.unwrap_err().contains("not registered"));
    // Bad ranges.
    let null = ExecutorAddrRange {
        start: ExecutorAddr(0),
        end: ExecutorAddr(16),
    };
    let r: SpsResult = call(eh_frame::register_eh_frame_alloc_action, &(null,));
    assert!(r.unwrap_err().contains("invalid range"));
    let unmapped = ExecutorAddrRange {
        start: ExecutorAddr(0x1000),
        end: ExecutorAddr(0x1010),
    };
    let r: SpsResult = call(eh_frame::register_eh_frame_alloc_action, &(unmapped,));
    assert!(r.unwrap_err().contains("0x1000"));
    // A record running past the end (no terminator).
    let bad = Box::new([0x20u8, 0, 0, 0, 0, 0, 0, 0]);
    let s = bad.as_ptr() as u64;
    let r: SpsResult = call(
        eh_frame::register_eh_frame_alloc_action,
        &(ExecutorAddrRange {
            start: ExecutorAddr(s),
            end: ExecutorAddr(s + 8),
        },),
    );
    assert!(r.unwrap_err().contains("malformed"));
    // Undecodable arguments.
    assert!(call_raw(eh_frame::register_eh_frame_alloc_action, &[1]).is_out_of_band_error());
}

static REGISTER_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
extern "C" fn test_register_code() {
    REGISTER_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

#[test]
fn gdb_jit_registration_links_entries() {
    let desc = Box::leak(Box::new(orc_rt::services::gdb_jit::JitDescriptor {
        version: 1,
        action_flag: 0,
        relevant_entry: std::ptr::null_mut(),
        first_entry: std::ptr::null_mut(),
    }));
    let dp: *mut orc_rt::services::gdb_jit::JitDescriptor = desc;
    // SAFETY: a leaked descriptor, used only by the gdb_jit module from now on.
    unsafe { orc_rt::services::gdb_jit::set_interface(dp, test_register_code) };
    let obj1 = ExecutorAddrRange {
        start: ExecutorAddr(0x10000),
        end: ExecutorAddr(0x10100),
    };
    let obj2 = ExecutorAddrRange {
        start: ExecutorAddr(0x20000),
        end: ExecutorAddr(0x20040),
    };
    let r: SpsResult = call(gdb_jit::register_jit_loader_gdb_alloc_action, &(obj1, true));
    assert_eq!(r, Ok(()));
    let r: SpsResult = call(
        gdb_jit::register_jit_loader_gdb_alloc_action,
        &(obj2, false),
    );
    assert_eq!(r, Ok(()));
    assert_eq!(REGISTER_CALLS.load(std::sync::atomic::Ordering::SeqCst), 1);
    // SAFETY: reading the descriptor after the calls returned.
    unsafe {
        let d = &*dp;
        assert_eq!(d.action_flag, orc_rt::services::gdb_jit::JIT_REGISTER_FN);
        let e2 = &*d.first_entry;
        assert_eq!(d.relevant_entry, d.first_entry);
        assert_eq!((e2.symfile_addr as u64, e2.symfile_size), (0x20000, 0x40));
        let e1 = &*e2.next_entry;
        assert_eq!((e1.symfile_addr as u64, e1.symfile_size), (0x10000, 0x100));
        assert_eq!(e1.prev_entry, d.first_entry);
        assert!(e1.next_entry.is_null());
    }
    let bad = ExecutorAddrRange {
        start: ExecutorAddr(2),
        end: ExecutorAddr(1),
    };
    let r: SpsResult = call(gdb_jit::register_jit_loader_gdb_alloc_action, &(bad, true));
    assert!(r.unwrap_err().contains("invalid range"));
}

#[test]
fn shared_memory_mapper_round_trip() {
    let s = BootstrapServices::create();
    let inst = instance(&s, shared_memory::INSTANCE_NAME);
    let r: SpsExpected<(ExecutorAddr, String)> =
        call(shared_memory::reserve_wrapper, &(inst, 2 * 4096u64));
    let (base, name) = r.0.unwrap();
    assert!(
        name.starts_with(&format!("/jitlink_{}_", std::process::id())),
        "{name}"
    );
    assert_perms(base.0, "---s");

    // Play the controller: open the object by name and write code into it.
    let cname = std::ffi::CString::new(name.clone()).unwrap();
    // SAFETY: plain POSIX calls on a name we were given; the mapping is ours.
    let ctl = unsafe {
        let fd = libc::shm_open(cname.as_ptr(), libc::O_RDWR, 0);
        assert!(fd >= 0);
        let p = libc::mmap(
            std::ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        );
        libc::close(fd);
        assert_ne!(p, libc::MAP_FAILED);
        std::ptr::copy_nonoverlapping(RET42.as_ptr(), p as *mut u8, RET42.len());
        p
    };
    let req = SharedMemoryFinalizeRequest {
        segments: vec![
            SharedMemorySegFinalizeRequest {
                rag: RemoteAllocGroup::new(true, false, true, false),
                addr: base,
                size: 4096,
            },
            SharedMemorySegFinalizeRequest {
                rag: RemoteAllocGroup::new(true, true, false, false),
                addr: ExecutorAddr(base.0 + 4096),
                size: 4096,
            },
        ],
        actions: vec![AllocActionCallPair {
            finalize: WrapperFunctionCall {
                fn_addr: fn_addr(record_action),
                args: b"shm:F".to_vec(),
            },
            dealloc: WrapperFunctionCall {
                fn_addr: fn_addr(record_action),
                args: b"shm:D".to_vec(),
            },
        }],
    };
    let r: SpsExpected<ExecutorAddr> = call(shared_memory::initialize_wrapper, &(inst, base, &req));
    let key = r.0.unwrap();
    assert_eq!(key, base);
    assert_perms(base.0, "r-xs");
    assert_perms(base.0 + 4096, "rw-s");
    assert_no_wx(base.0, base.0 + 8192);
    let v: i32 = call(run_as::run_as_int_function_wrapper, &(base, 0i32));
    assert_eq!(v, 42);
    assert_eq!(log_with_tag("shm:"), ["F"]);

    // Segments outside the reservation, or an unknown reservation: errors.
    let mut bad = req.clone();
    bad.segments[0].addr = ExecutorAddr(base.0 + 8192);
    let r: SpsExpected<ExecutorAddr> = call(shared_memory::initialize_wrapper, &(inst, base, &bad));
    assert!(r.0.unwrap_err().contains("not part of any reserved"));
    let r: SpsExpected<ExecutorAddr> = call(
        shared_memory::initialize_wrapper,
        &(inst, ExecutorAddr(0x5000), &req),
    );
    assert!(r.0.unwrap_err().contains("not part of any reserved"));

    let r: SpsResult = call(shared_memory::deinitialize_wrapper, &(inst, vec![key]));
    assert_eq!(r, Ok(()));
    assert_eq!(log_with_tag("shm:"), ["F", "D"]);
    let r: SpsResult = call(shared_memory::release_wrapper, &(inst, vec![base]));
    assert_eq!(r, Ok(()));
    let r: SpsResult = call(shared_memory::release_wrapper, &(inst, vec![base]));
    assert_eq!(
        r,
        Err(format!(
            "In release, {:#x} is not part of any reserved address range",
            base.0
        ))
    );
    // SAFETY: our own mapping of the object.
    unsafe { libc::munmap(ctl, 8192) };
    orc_rt::sys::shm::unlink(&name).unwrap();
}

#[test]
fn bootstrap_symbols_with_a_session() {
    let session = orc_rt::session::Session::new(Arc::new(
        orc_rt::task_dispatcher::InPlaceTaskDispatcher::new(),
    ));
    let syms = add_bootstrap_services(&session).unwrap();
    let mut names: Vec<&str> = syms.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    let mut want = vec![
        "__llvm_orc_bootstrap_run_as_main_wrapper",
        "__llvm_orc_bootstrap_run_as_void_function_wrapper",
        "__llvm_orc_bootstrap_run_as_int_function_wrapper",
        "__llvm_orc_SimpleExecutorDylibManager_Instance",
        "__llvm_orc_SimpleExecutorDylibManager_open_wrapper",
        "__llvm_orc_SimpleExecutorDylibManager_resolve_wrapper",
        "__llvm_orc_SimpleExecutorMemoryManager_Instance",
        "__llvm_orc_SimpleExecutorMemoryManager_reserve_wrapper",
        "__llvm_orc_SimpleExecutorMemoryManager_initialize_wrapper",
        "__llvm_orc_SimpleExecutorMemoryManager_release_wrapper",
        "__llvm_orc_SimpleExecutorMemoryManager_deinitialize_wrapper",
        "__llvm_orc_ExecutorSharedMemoryMapperService_Instance",
        "__llvm_orc_ExecutorSharedMemoryMapperService_Reserve",
        "__llvm_orc_ExecutorSharedMemoryMapperService_Initialize",
        "__llvm_orc_ExecutorSharedMemoryMapperService_Deinitialize",
        "__llvm_orc_ExecutorSharedMemoryMapperService_Release",
        "__llvm_orc_bootstrap_mem_write_uint8s_wrapper",
        "__llvm_orc_bootstrap_mem_write_uint16s_wrapper",
        "__llvm_orc_bootstrap_mem_write_uint32s_wrapper",
        "__llvm_orc_bootstrap_mem_write_uint64s_wrapper",
        "__llvm_orc_bootstrap_mem_write_pointers_wrapper",
        "__llvm_orc_bootstrap_mem_write_buffers_wrapper",
        "__llvm_orc_bootstrap_mem_read_uint8s_wrapper",
        "__llvm_orc_bootstrap_mem_read_uint16s_wrapper",
        "__llvm_orc_bootstrap_mem_read_uint32s_wrapper",
        "__llvm_orc_bootstrap_mem_read_uint64s_wrapper",
        "__llvm_orc_bootstrap_mem_read_buffers_wrapper",
        "__llvm_orc_bootstrap_mem_read_strings_wrapper",
        "__llvm_orc_bootstrap_mem_read_pointers_wrapper",
        "llvm_orc_registerEHFrameAllocAction",
        "llvm_orc_deregisterEHFrameAllocAction",
        "llvm_orc_registerJITLoaderGDBAllocAction",
    ];
    want.sort();
    assert_eq!(names, want);
    assert_eq!(names.len(), 32);
    // Leaf calls (run on the transport's reader thread): the memory-access
    // wrappers except the two whose results can be large, and reserve.
    let mut leaves: Vec<&str> = syms
        .iter()
        .filter(|s| s.leaf)
        .map(|s| s.name.as_str())
        .collect();
    leaves.sort();
    let mut want_leaves: Vec<&str> = want
        .iter()
        .copied()
        .filter(|n| {
            (n.contains("_mem_write_") || n.contains("_mem_read_"))
                && !n.ends_with("read_buffers_wrapper")
                && !n.ends_with("read_strings_wrapper")
        })
        .chain(["__llvm_orc_SimpleExecutorMemoryManager_reserve_wrapper"])
        .collect();
    want_leaves.sort();
    assert_eq!(leaves, want_leaves);
    // Leaf calls when every allocation action they would run is the
    // executor's own: the memory manager's initialize, deinitialize and
    // release.
    let mut conditional: Vec<&str> = syms
        .iter()
        .filter(|s| s.leaf_when.is_some())
        .map(|s| s.name.as_str())
        .collect();
    conditional.sort();
    assert_eq!(
        conditional,
        [
            "__llvm_orc_SimpleExecutorMemoryManager_deinitialize_wrapper",
            "__llvm_orc_SimpleExecutorMemoryManager_initialize_wrapper",
            "__llvm_orc_SimpleExecutorMemoryManager_release_wrapper",
        ]
    );

    // The memory manager's dealloc actions run at Session shutdown.
    let mm = syms
        .iter()
        .find(|s| s.name == orc_rt::sps_ci::memory::INSTANCE_NAME)
        .unwrap()
        .addr;
    let r: SpsExpected<ExecutorAddr> =
        call(orc_rt::sps_ci::memory::reserve_wrapper, &(mm, 4096u64));
    let base = r.0.unwrap();
    let req = orc_rt::sps::orc_types::FinalizeRequest {
        segments: vec![orc_rt::sps::orc_types::SegFinalizeRequest {
            rag: RemoteAllocGroup::new(true, true, false, false),
            addr: base,
            size: 4096,
            content: vec![],
        }],
        actions: vec![AllocActionCallPair {
            finalize: WrapperFunctionCall::default(),
            dealloc: WrapperFunctionCall {
                fn_addr: fn_addr(record_action),
                args: b"sess:dtor".to_vec(),
            },
        }],
    };
    let r: SpsExpected<ExecutorAddr> =
        call(orc_rt::sps_ci::memory::initialize_wrapper, &(mm, &req));
    r.0.unwrap();
    session.shutdown(None);
    session.wait_for_shutdown();
    assert_eq!(log_with_tag("sess:"), ["dtor"]);
    // (Not checking /proc/self/maps here: a parallel test may map the
    // freed range again at once.)
    drop(session);
    let r: SpsExpected<ExecutorAddr> =
        call(orc_rt::sps_ci::memory::reserve_wrapper, &(mm, 4096u64));
    assert!(r.0.is_err());
}

extern "C" {
    fn _Unwind_Find_FDE(
        pc: *mut std::ffi::c_void,
        bases: *mut [usize; 3],
    ) -> *const std::ffi::c_void;
}

/// A minimal `.eh_frame`: one CIE, one FDE covering `[pc, pc + 16)`, and
/// the zero terminator.
fn eh_frame_for(section_addr: u64, pc: u64) -> Vec<u8> {
    let mut s = Vec::new();
    // CIE: length 20, id 0, version 1, "zR", code align 1, data align -8,
    // RA register 16, aug data length 1, FDE encoding pcrel|sdata4,
    // def_cfa rsp+8, offset r16 at cfa-8, 2 nops.
    s.extend_from_slice(&20u32.to_le_bytes());
    s.extend_from_slice(&[0, 0, 0, 0, 1, b'z', b'R', 0, 1, 0x78, 0x10, 1, 0x1b]);
    s.extend_from_slice(&[0x0c, 0x07, 0x08, 0x90, 0x01, 0, 0]);
    assert_eq!(s.len(), 24);
    // FDE: length 16, CIE pointer (offset back to the CIE), pc_begin
    // (pc-relative), pc_range 16, aug data length 0, 3 nops.
    s.extend_from_slice(&16u32.to_le_bytes());
    s.extend_from_slice(&28u32.to_le_bytes());
    let field = section_addr + s.len() as u64;
    s.extend_from_slice(&((pc.wrapping_sub(field)) as u32).to_le_bytes());
    s.extend_from_slice(&16u32.to_le_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(s.len(), 44);
    s.extend_from_slice(&[0, 0, 0, 0]);
    s
}

#[test]
fn eh_frame_registration_is_visible_to_the_unwinder() {
    // The "code" covered by the FDE only needs an address, within 2 GiB of
    // the section (pc-relative 32-bit): put it right after the section.
    let mut sec = vec![0u8; 48 + 64];
    let sec_addr = sec.as_ptr() as u64;
    let pc = sec_addr + 64;
    sec[..48].copy_from_slice(&eh_frame_for(sec_addr, pc));
    let find = |p: u64| {
        let mut bases = [0usize; 3];
        // SAFETY: libgcc's lookup; pc is any address.
        unsafe { _Unwind_Find_FDE((p + 4) as *mut std::ffi::c_void, &mut bases) as u64 }
    };
    assert_eq!(find(pc), 0, "nothing covers the buffer before registration");
    let range = ExecutorAddrRange {
        start: ExecutorAddr(sec_addr),
        end: ExecutorAddr(sec_addr + 48),
    };
    let r: SpsResult = call(eh_frame::register_eh_frame_alloc_action, &(range,));
    assert_eq!(r, Ok(()));
    assert_eq!(find(pc), sec_addr + 24, "the unwinder finds our FDE");
    let r: SpsResult = call(eh_frame::deregister_eh_frame_alloc_action, &(range,));
    assert_eq!(r, Ok(()));
    assert_eq!(find(pc), 0, "gone after deregistration");
    drop(sec);
}
