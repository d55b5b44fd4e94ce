//! The ELF platform runtime driven the way LLVM 22's controller and the
//! archive's stubs drive it, in-process: the controller's calls go to the
//! synchronous-ABI entry points of `sps_ci::elfnix_platform`, JIT'd code's
//! calls to its C functions, and the controller's side of the two tags is an
//! in-process controller. "JIT'd code" here is Rust `extern "C"` functions.
//!
//! One test function: a process has one bootstrapped platform.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Arc, Mutex};

use orc_rt::controller_access::InProcessController;
use orc_rt::session::Session;
use orc_rt::sps::{deserialize_all, serialize_to_vec, SpsExpected, SpsResult};
use orc_rt::sps_ci::bootstrap::add_bootstrap_services;
use orc_rt::sps_ci::elfnix_platform as ep;
use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
use orc_rt::wrapper_function::sync_abi::call_sync;
use orc_rt::wrapper_function::{sps_handler, SyncWrapperFunction};
use orc_rt::{ExecutorAddr, ExecutorAddrRange};

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(s: impl Into<String>) {
    LOG.lock().unwrap().push(s.into());
}

fn take_log() -> Vec<String> {
    std::mem::take(&mut *LOG.lock().unwrap())
}

// The JITDylibs' headers (their `__dso_handle`s) and the archive's tags.
static PLATFORM_HEADER: u64 = 0;
static MAIN_HEADER: u64 = 0;
static LIB_HEADER: u64 = 0;
static PUSH_INITIALIZERS_TAG: u8 = 0;
static SYMBOL_LOOKUP_TAG: u8 = 0;

fn addr<T>(x: &'static T) -> ExecutorAddr {
    ExecutorAddr::from_ptr(x as *const T)
}

extern "C" fn init_a() {
    log("main init a");
}
extern "C" fn init_b() {
    log("main init b");
}
extern "C" fn lib_init() {
    log("lib init");
    // A library's constructor registers its destructor against its handle.
    ep::cxa_atexit(
        Some(lib_fini),
        std::ptr::null_mut(),
        &LIB_HEADER as *const u64 as *mut c_void,
    );
}
extern "C" fn lib_fini(_: *mut c_void) {
    log("lib fini");
}
extern "C" fn handler(arg: *mut c_void) {
    log(format!("handler {}", arg as usize));
}
extern "C" fn plain_handler() {
    log("atexit handler");
}
extern "C" fn lib_fn(x: c_int) -> c_int {
    x + 1
}

static MAIN_INITS: [extern "C" fn(); 2] = [init_a, init_b];
static LIB_INITS: [extern "C" fn(); 1] = [lib_init];

/// The program's `main`: registers handlers, uses the JIT'd dl* API.
extern "C" fn jit_main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: run_program passes argc C strings.
    let first = unsafe { CStr::from_ptr(*argv) }
        .to_string_lossy()
        .into_owned();
    log(format!("main {argc} {first}"));
    let main_dso = &MAIN_HEADER as *const u64 as *mut c_void;
    assert_eq!(
        ep::cxa_atexit(Some(handler), std::ptr::without_provenance_mut(1), main_dso),
        0
    );
    let platform_dso = &PLATFORM_HEADER as *const u64 as *mut c_void;
    assert_eq!(ep::atexit(Some(plain_handler), platform_dso), 0);
    assert_eq!(
        ep::cxa_atexit(Some(handler), std::ptr::without_provenance_mut(2), main_dso),
        0
    );

    // JIT'd dlopen of the library, already open as main's dependency.
    let h = ep::jit_dlopen(c"lib".as_ptr(), 1);
    assert_eq!(h as u64, addr(&LIB_HEADER).value());
    let f = ep::jit_dlsym(h, c"lib_fn".as_ptr());
    assert!(!f.is_null());
    // SAFETY: the lookup answers lib_fn for this name.
    let f: extern "C" fn(c_int) -> c_int = unsafe { std::mem::transmute(f) };
    log(format!("lib_fn(41) = {}", f(41)));
    assert!(ep::jit_dlsym(h, c"missing".as_ptr()).is_null());
    // SAFETY: dlerror returns NULL or a C string valid until the next call.
    let e = unsafe { CStr::from_ptr(ep::jit_dlerror()) }
        .to_string_lossy()
        .into_owned();
    assert!(e.contains("Symbols not found: missing"), "{e}");
    assert!(ep::jit_dlerror().is_null());
    assert_eq!(ep::jit_dlclose(h), 0);
    // Still open (main depends on it): nothing ran.
    argc + 40
}

/// Calls a synchronous-ABI entry point with SPS arguments; decodes `R`.
fn call<A: orc_rt::sps::SpsSerialize, R: orc_rt::sps::SpsDeserialize>(
    f: SyncWrapperFunction,
    args: &A,
) -> R {
    // SAFETY: every entry point used here has the synchronous ABI.
    let r = unsafe { call_sync(f, &serialize_to_vec(args)) };
    deserialize_all(r.as_slice().expect("an in-band result")).unwrap()
}

fn range_of<T>(x: &'static [T]) -> ExecutorAddrRange {
    ExecutorAddrRange::from_start_and_size(
        ExecutorAddr::from_ptr(x.as_ptr()),
        std::mem::size_of_val(x) as u64,
    )
    .unwrap()
}

#[test]
fn platform_runs_a_program_like_a_loader() {
    let session = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(4).unwrap()));
    let controller = InProcessController::new();
    session.attach(controller.clone()).unwrap();
    add_bootstrap_services(&session).unwrap();

    // The controller's side of the tags: main depends on lib; symbols by name.
    let (main_h, lib_h) = (addr(&MAIN_HEADER), addr(&LIB_HEADER));
    controller.add_handler(
        addr(&PUSH_INITIALIZERS_TAG),
        sps_handler(move |(h,): (ExecutorAddr,)| {
            let mut map = vec![(lib_h, vec![])];
            if h == main_h {
                map.push((main_h, vec![lib_h]));
            }
            SpsExpected::ok(map)
        }),
    );
    controller.add_handler(
        addr(&SYMBOL_LOOKUP_TAG),
        sps_handler(move |(h, name): (ExecutorAddr, String)| {
            match (h == main_h, h == lib_h, name.as_str()) {
                (true, _, "main") => {
                    SpsExpected::ok(ExecutorAddr::from_fn_ptr(jit_main as *const ()))
                }
                (_, true, "lib_fn") => {
                    SpsExpected::ok(ExecutorAddr::from_fn_ptr(lib_fn as *const ()))
                }
                _ => SpsExpected::<ExecutorAddr>::err(format!("Symbols not found: {name}")),
            }
        }),
    );

    // Before bootstrap, JIT'd code's registrations fail.
    assert_eq!(
        ep::cxa_atexit(Some(handler), std::ptr::null_mut(), std::ptr::null_mut()),
        -1
    );

    // Bootstrap, as the archive's stub does it.
    let args = serialize_to_vec(&(addr(&PLATFORM_HEADER),));
    // SAFETY: arguments and tags as the stub passes them.
    let r = unsafe {
        ep::platform_bootstrap(
            args.as_ptr() as *const c_char,
            args.len(),
            &PUSH_INITIALIZERS_TAG as *const u8 as *const c_void,
            &SYMBOL_LOOKUP_TAG as *const u8 as *const c_void,
        )
    };
    // SAFETY: the entry point returns an owned buffer.
    let r = unsafe { orc_rt::wrapper_function::WrapperFunctionBuffer::from_raw(r) };
    assert_eq!(
        deserialize_all::<SpsResult>(r.as_slice().unwrap()).unwrap(),
        Ok(())
    );
    // Twice is refused.
    // SAFETY: as above.
    let again = unsafe {
        orc_rt::wrapper_function::WrapperFunctionBuffer::from_raw(ep::platform_bootstrap(
            args.as_ptr() as *const c_char,
            args.len(),
            std::ptr::null(),
            std::ptr::null(),
        ))
    };
    let again = deserialize_all::<SpsResult>(again.as_slice().unwrap()).unwrap();
    assert!(again.unwrap_err().contains("already bootstrapped"));

    for (name, h) in [
        ("Platform", addr(&PLATFORM_HEADER)),
        ("main", main_h),
        ("lib", lib_h),
    ] {
        let r: SpsResult = call(ep::register_jitdylib_wrapper, &(name, h));
        assert_eq!(r, Ok(()));
    }
    // A name or header registered twice is refused, in-band.
    let r: SpsResult = call(
        ep::register_jitdylib_wrapper,
        &("main", ExecutorAddr::new(0x1000)),
    );
    assert!(r.unwrap_err().contains("duplicate JITDylib registration"));
    let r: SpsResult = call(
        ep::register_init_sections_wrapper,
        &(main_h, vec![range_of(&MAIN_INITS)]),
    );
    assert_eq!(r, Ok(()));
    let r: SpsResult = call(
        ep::register_init_sections_wrapper,
        &(lib_h, vec![range_of(&LIB_INITS)]),
    );
    assert_eq!(r, Ok(()));
    // Unknown headers and malformed ranges are refused.
    let r: SpsResult = call(
        ep::register_init_sections_wrapper,
        &(ExecutorAddr::new(8), vec![range_of(&LIB_INITS)]),
    );
    assert!(r
        .unwrap_err()
        .contains("no registered JITDylib for header 0x8"));
    let odd = ExecutorAddrRange::new(main_h, main_h + 3);
    let r: SpsResult = call(ep::register_init_sections_wrapper, &(main_h, vec![odd]));
    assert!(r.unwrap_err().contains("invalid initializer range"));

    // The program run: initialisers (dependency first), main, then the
    // handlers newest first (the program's and the platform's atexit list
    // merged), then the dependency's.
    let rc: i64 = call(
        ep::run_program_wrapper_wrapper,
        &("main", "main", vec!["prog", "x"]),
    );
    assert_eq!(rc, 42);
    assert_eq!(
        take_log(),
        [
            "lib init",
            "main init a",
            "main init b",
            "main 2 prog",
            "lib_fn(41) = 42",
            "handler 2",
            "atexit handler",
            "handler 1",
            "lib fini",
        ]
    );

    // An unknown entry point: logged, -1, and the JITDylib is closed again.
    let rc: i64 = call(
        ep::run_program_wrapper_wrapper,
        &("main", "nomain", Vec::<String>::new()),
    );
    assert_eq!(rc, -1);
    take_log();

    // The controller's dlopen (LLJIT's initialize) runs the initialisers
    // again after the close; dlclose (deinitialize) runs the handlers.
    let h: ExecutorAddr = call(ep::jit_dlopen_wrapper_wrapper, &("main", 1i32));
    assert_eq!(h, main_h);
    assert_eq!(take_log(), ["lib init", "main init a", "main init b"]);
    let missing: ExecutorAddr = call(ep::jit_dlopen_wrapper_wrapper, &("nope", 1i32));
    assert!(missing.is_null());
    let rc: i32 = call(ep::jit_dlupdate_wrapper_wrapper, &(main_h,));
    assert_eq!(rc, 0);
    let rc: i32 = call(ep::jit_dlclose_wrapper_wrapper, &(main_h,));
    assert_eq!(rc, 0);
    assert_eq!(take_log(), ["lib fini"]);
    let rc: i32 = call(ep::jit_dlclose_wrapper_wrapper, &(main_h,));
    assert_eq!(rc, -1, "closing a JITDylib that is not open fails");

    // JIT'd dlopen of an unknown path: NULL, and dlerror says why, once.
    assert!(ep::jit_dlopen(c"nope".as_ptr(), 1).is_null());
    // SAFETY: dlerror returns a C string valid until the next call.
    let e = unsafe { CStr::from_ptr(ep::jit_dlerror()) }
        .to_string_lossy()
        .into_owned();
    assert_eq!(e, "no registered JITDylib for path nope");
    assert!(ep::jit_dlerror().is_null());

    // TLS: an image registered with the object's sections; each thread has
    // its own copy, initialised from the image.
    static TLS_IMAGE: [u64; 2] = [7, 9];
    let no_eh = ExecutorAddrRange::new(ExecutorAddr::new(0), ExecutorAddr::new(0));
    let r: SpsResult = call(
        ep::register_object_sections_wrapper,
        &(no_eh, range_of(&TLS_IMAGE)),
    );
    assert_eq!(r, Ok(()));
    let key: SpsExpected<u64> = call(ep::create_pthread_key_wrapper, &());
    let desc = [key.0.unwrap(), TLS_IMAGE.as_ptr() as u64 + 8];
    // SAFETY: a {key, address} descriptor as JITLink builds it.
    let mine = unsafe { ep::tls_get_addr_impl(desc.as_ptr()) } as *mut u64;
    // SAFETY: this thread's copy of the second variable.
    unsafe {
        assert_eq!(*mine, 9);
        *mine = 10;
    }
    let desc_addr = desc.as_ptr() as usize;
    let theirs = std::thread::spawn(move || {
        // SAFETY: as above, on another thread.
        let p = unsafe { ep::tls_get_addr_impl(desc_addr as *const u64) } as *mut u64;
        // SAFETY: that thread's copy.
        (p as usize, unsafe { *p })
    })
    .join()
    .unwrap();
    assert_ne!(theirs.0, mine as usize);
    assert_eq!(theirs.1, 9);
    assert_eq!(TLS_IMAGE[1], 9, "the image itself is never written");
    let r: SpsResult = call(
        ep::deregister_object_sections_wrapper,
        &(no_eh, range_of(&TLS_IMAGE)),
    );
    assert_eq!(r, Ok(()));

    // Handlers still pending run at platform shutdown; afterwards JIT'd
    // code's registrations fail.
    let dso = &MAIN_HEADER as *const u64 as *mut c_void;
    assert_eq!(ep::cxa_atexit(Some(handler), 3 as *mut c_void, dso), 0);
    let r: SpsResult = call(ep::platform_shutdown_wrapper, &());
    assert_eq!(r, Ok(()));
    assert_eq!(take_log(), ["handler 3"]);
    assert_eq!(ep::cxa_atexit(Some(handler), 4 as *mut c_void, dso), -1);

    session.shutdown_and_wait().unwrap();
}
