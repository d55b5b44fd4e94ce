//! Crash recovery (`run_as::enable_crash_recovery`): a fault in JIT'd code
//! ends only that call, with an error naming the signal and address, and
//! the process goes on. The "JIT'd code" here is machine code in a fresh
//! executable mapping, outside orc-rt's own code (faults there are never
//! recovered). Recovery is process-wide, so it has this test binary to
//! itself.

use orc_rt::services::run_as::{self, JitCrash, RunAsError};
use orc_rt::sys::mmap::{self, Prot};
use orc_rt::ExecutorAddr;

/// The machine code the tests run, per architecture.
#[cfg(target_arch = "x86_64")]
mod code {
    /// `lea eax, [rdi + 1]; ret`
    pub const INC: &[u8] = &[0x8d, 0x47, 0x01, 0xc3];
    /// `mov dword ptr [0], 1; ret`
    pub const NULL_WRITE: &[u8] = &[0xc7, 0x04, 0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0xc3];
    /// Where in `NULL_WRITE` the faulting store is.
    pub const NULL_WRITE_STORE: u64 = 0;
    /// `xor ecx, ecx; mov eax, edi; cdq; idiv ecx; ret`
    pub const DIV0: &[u8] = &[0x31, 0xc9, 0x89, 0xf8, 0x99, 0xf7, 0xf9, 0xc3];
    /// `ud2` (`__builtin_trap`)
    pub const TRAP: &[u8] = &[0x0f, 0x0b];
    /// `int3; ret`
    pub const BREAKPOINT: &[u8] = &[0xcc, 0xc3];
    /// f: `sub rsp, 4096; mov [rsp], rdi; call f; ret` (recurses until it
    /// faults)
    pub const OVERFLOW: &[u8] = &[
        0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x89, 0x3c, 0x24, 0xe8, 0xf0, 0xff, 0xff,
        0xff, 0xc3,
    ];
    /// `jmp $` (loops forever)
    pub const SPIN: &[u8] = &[0xeb, 0xfe];
}

/// The machine code the tests run, per architecture.
#[cfg(target_arch = "aarch64")]
mod code {
    /// Little-endian bytes of A64 instruction words.
    const fn words<const N: usize, const B: usize>(w: [u32; N]) -> [u8; B] {
        let mut out = [0; B];
        let mut i = 0;
        while i < N {
            let b = w[i].to_le_bytes();
            out[4 * i] = b[0];
            out[4 * i + 1] = b[1];
            out[4 * i + 2] = b[2];
            out[4 * i + 3] = b[3];
            i += 1;
        }
        out
    }
    const RET: u32 = 0xd65f03c0;
    /// `add w0, w0, #1; ret`
    pub const INC: &[u8] = &words::<2, 8>([0x11000400, RET]);
    /// `mov x2, #0; mov w1, #1; str w1, [x2]; ret`
    pub const NULL_WRITE: &[u8] = &words::<4, 16>([0xd2800002, 0x52800021, 0xb9000041, RET]);
    /// Where in `NULL_WRITE` the faulting store is.
    pub const NULL_WRITE_STORE: u64 = 8;
    /// `mov w1, #0; sdiv w0, w0, w1; ret`: AArch64 has no divide trap (the
    /// quotient is 0).
    pub const DIV0: &[u8] = &words::<3, 12>([0x52800001, 0x1ac10c00, RET]);
    /// `udf #0` (`__builtin_trap` is `brk #1000`; udf raises SIGILL)
    pub const TRAP: &[u8] = &words::<1, 4>([0x00000000]);
    /// `brk #0; ret`
    pub const BREAKPOINT: &[u8] = &words::<2, 8>([0xd4200000, RET]);
    /// f: `sub sp, sp, #4096; str x0, [sp]; bl f; ret` (recurses until it
    /// faults)
    pub const OVERFLOW: &[u8] = &words::<4, 16>([0xd14007ff, 0xf90003e0, 0x97fffffe, RET]);
    /// `b .` (loops forever)
    pub const SPIN: &[u8] = &words::<1, 4>([0x14000000]);
}

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
    let inc = jit(code::INC);
    assert_eq!(call(inc, 41), Ok(42));

    let null_write = jit(code::NULL_WRITE);
    let (sig, addr, pc) = signal_of(call(null_write, 0));
    assert_eq!(
        (sig, addr, pc),
        (
            libc::SIGSEGV,
            0,
            null_write.value() + code::NULL_WRITE_STORE
        )
    );
    let msg = RunAsError::Crashed(JitCrash::Signal {
        signo: sig,
        addr,
        pc,
    })
    .to_string();
    assert!(msg.contains("SIGSEGV at address 0x0"), "{msg}");

    let div0 = jit(code::DIV0);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(signal_of(call(div0, 7)).0, libc::SIGFPE);
    } else {
        assert_eq!(call(div0, 7), Ok(0));
    }
    let trap = jit(code::TRAP);
    assert_eq!(signal_of(call(trap, 0)).0, libc::SIGILL);
    let breakpoint = jit(code::BREAKPOINT);
    assert_eq!(signal_of(call(breakpoint, 0)).0, libc::SIGTRAP);

    // The thread goes on, also with calls that return normally, and with
    // crashes again (the handler stays installed).
    assert_eq!(call(inc, 1), Ok(2));
    assert_eq!(signal_of(call(null_write, 0)).0, libc::SIGSEGV);
}

#[test]
fn a_stack_overflow_in_jit_code_is_recovered_on_another_thread() {
    run_as::enable_crash_recovery().unwrap();
    let overflow = jit(code::OVERFLOW);
    let r = std::thread::spawn(move || signal_of(call(overflow, 0)).0)
        .join()
        .unwrap();
    assert_eq!(r, libc::SIGSEGV);
}

#[test]
fn a_call_past_its_time_limit_is_interrupted() {
    run_as::enable_crash_recovery().unwrap();
    let spin = jit(code::SPIN);
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
