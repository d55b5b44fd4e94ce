//! Crash recovery (`run_as::enable_crash_recovery`): a fault in JIT'd code
//! ends only that call, with an error naming the signal and address, and
//! the process goes on. The "JIT'd code" here is machine code in a fresh
//! executable mapping, outside orc-rt's own code (faults there are never
//! recovered). Recovery is process-wide, so it has this test binary to
//! itself.

use orc_rt::services::run_as::{self, JitCrash, RunAsError};
use orc_rt::sys::mmap::{self, Prot};
use orc_rt::ExecutorAddr;

/// `code` in an executable page of its own.
fn jit(code: &[u8]) -> ExecutorAddr {
    let page = mmap::page_size();
    let base = mmap::map_anonymous_rw(page).unwrap();
    // SAFETY: our own fresh mapping, made executable (not writable) once
    // the code is in.
    unsafe {
        orc_rt::sys::mem::write(base, code).unwrap();
        mmap::protect(
            base,
            page,
            Prot {
                read: true,
                write: false,
                exec: true,
            },
        )
        .unwrap();
    }
    ExecutorAddr::new(base)
}

/// Runs the `int f(int)` JIT'd `f` with `arg`.
fn call(f: ExecutorAddr, arg: i32) -> Result<i32, RunAsError> {
    // SAFETY: every function made by `jit` here is an `int f(int)` or
    // faults before it returns.
    unsafe { run_as::run_as_int_function(f, arg) }
}

fn signal_of(r: Result<i32, RunAsError>) -> (i32, u64, u64) {
    match r {
        Err(RunAsError::Crashed(JitCrash::Signal { signo, addr, pc })) => (signo, addr, pc),
        other => panic!("expected a crash, got {other:?}"),
    }
}

#[test]
fn faults_in_jit_code_end_only_the_call() {
    run_as::enable_crash_recovery().unwrap();
    // lea eax, [rdi + 1]; ret
    let inc = jit(&[0x8d, 0x47, 0x01, 0xc3]);
    assert_eq!(call(inc, 41), Ok(42));

    // mov dword ptr [0], 1; ret
    let null_write = jit(&[0xc7, 0x04, 0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0xc3]);
    let (sig, addr, pc) = signal_of(call(null_write, 0));
    assert_eq!((sig, addr, pc), (libc::SIGSEGV, 0, null_write.value()));
    let msg = RunAsError::Crashed(JitCrash::Signal {
        signo: sig,
        addr,
        pc,
    })
    .to_string();
    assert!(msg.contains("SIGSEGV at address 0x0"), "{msg}");

    // xor ecx, ecx; mov eax, edi; cdq; idiv ecx; ret
    let div0 = jit(&[0x31, 0xc9, 0x89, 0xf8, 0x99, 0xf7, 0xf9, 0xc3]);
    assert_eq!(signal_of(call(div0, 7)).0, libc::SIGFPE);
    // ud2 (__builtin_trap)
    let trap = jit(&[0x0f, 0x0b]);
    assert_eq!(signal_of(call(trap, 0)).0, libc::SIGILL);
    // int3; ret
    let int3 = jit(&[0xcc, 0xc3]);
    assert_eq!(signal_of(call(int3, 0)).0, libc::SIGTRAP);

    // The thread goes on, also with calls that return normally, and with
    // crashes again (the handler stays installed).
    assert_eq!(call(inc, 1), Ok(2));
    assert_eq!(signal_of(call(null_write, 0)).0, libc::SIGSEGV);
}

#[test]
fn a_stack_overflow_in_jit_code_is_recovered_on_another_thread() {
    run_as::enable_crash_recovery().unwrap();
    // f: sub rsp, 4096; mov [rsp], rdi; call f   (recurses until it faults)
    let overflow = jit(&[
        0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, // sub rsp, 0x1000
        0x48, 0x89, 0x3c, 0x24, // mov [rsp], rdi
        0xe8, 0xf0, 0xff, 0xff, 0xff, // call f (rel32 -16)
        0xc3,
    ]);
    let r = std::thread::spawn(move || signal_of(call(overflow, 0)).0)
        .join()
        .unwrap();
    assert_eq!(r, libc::SIGSEGV);
}

#[test]
fn a_call_past_its_time_limit_is_interrupted() {
    run_as::enable_crash_recovery().unwrap();
    // jmp $ (loops forever)
    let spin = jit(&[0xeb, 0xfe]);
    run_as::set_call_time_limit(Some(std::time::Duration::from_millis(200)));
    let started = std::time::Instant::now();
    let r = call(spin, 0);
    run_as::set_call_time_limit(None);
    assert_eq!(
        r,
        Err(RunAsError::Crashed(JitCrash::Interrupted {
            by_time_limit: true
        }))
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(r.unwrap_err().to_string().contains("time limit"));
}
