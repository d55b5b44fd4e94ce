//! Robustness: concurrent use of one memory manager, and hostile argument
//! bytes (truncated, mutated, random) fed to the entry points that must
//! never crash. (run_as, the memory-access writes and EH-frame
//! registration are left out on purpose: jumping to, writing at, or
//! registering unwind tables at arbitrary addresses is their job, and a
//! mutated address could hit mapped memory of the test process.)

mod common;

use std::sync::Arc;

use common::*;
use orc_rt::sps::orc_types::{FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest};
use orc_rt::sps::{serialize_to_vec, SpsExpected, SpsResult};
use orc_rt::sps_ci::bootstrap::BootstrapServices;
use orc_rt::sps_ci::{access, dylib, eh_frame, memory as mm, shared_memory};
use orc_rt::wrapper_function::SyncWrapperFunction;
use orc_rt::ExecutorAddr;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn instance_of(s: &BootstrapServices, name: &str) -> ExecutorAddr {
    s.symbols()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
        .addr
}

#[test]
fn concurrent_reserve_initialize_release() {
    let s = Arc::new(BootstrapServices::create());
    let inst = instance_of(&s, mm::INSTANCE_NAME);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..50u32 {
                    let r: SpsExpected<ExecutorAddr> = call(mm::reserve_wrapper, &(inst, 8192u64));
                    let base = r.0.unwrap();
                    let req = FinalizeRequest {
                        segments: vec![
                            SegFinalizeRequest {
                                rag: RemoteAllocGroup::new(true, false, true, false),
                                addr: base,
                                size: 4096,
                                content: INC.to_vec(),
                            },
                            SegFinalizeRequest {
                                rag: RemoteAllocGroup::new(true, true, false, false),
                                addr: ExecutorAddr(base.0 + 4096),
                                size: 4096,
                                content: (t * 1000 + i).to_le_bytes().to_vec(),
                            },
                        ],
                        actions: vec![],
                    };
                    let r: SpsExpected<ExecutorAddr> = call(mm::initialize_wrapper, &(inst, &req));
                    let key = r.0.unwrap();
                    let v: i32 = call(
                        orc_rt::sps_ci::run_as::run_as_int_function_wrapper,
                        &(key, i as i32),
                    );
                    assert_eq!(v, i as i32 + 1);
                    let data: Vec<u32> = call(
                        access::read_uint32s_wrapper,
                        &vec![ExecutorAddr(base.0 + 4096)],
                    );
                    assert_eq!(data, [t * 1000 + i]);
                    if i % 2 == 0 {
                        let r: SpsResult = call(mm::deinitialize_wrapper, &(inst, vec![key]));
                        assert_eq!(r, Ok(()));
                    }
                    let r: SpsResult = call(mm::release_wrapper, &(inst, vec![base]));
                    assert_eq!(r, Ok(()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(s.memory.reservations().is_empty());
}

/// Feeds `input` to `f`: must return (bytes or an out-of-band error).
fn feed(f: SyncWrapperFunction, input: &[u8]) {
    let r = call_raw(f, input);
    let _ = r.as_slice();
}

#[test]
fn hostile_arguments_never_crash() {
    let s = BootstrapServices::create();
    let mem = instance_of(&s, mm::INSTANCE_NAME);
    let shm = instance_of(&s, shared_memory::INSTANCE_NAME);
    let dl = instance_of(&s, dylib::INSTANCE_NAME);
    let r: SpsExpected<ExecutorAddr> = call(mm::reserve_wrapper, &(mem, 4 * 4096u64));
    let base = r.0.unwrap();

    // Valid encodings to mutate (no allocation actions: mutating their
    // function address would jump to a random address, which is the
    // controller's right, not an error).
    let init = serialize_to_vec(&(
        mem,
        FinalizeRequest {
            segments: vec![SegFinalizeRequest {
                rag: RemoteAllocGroup::new(true, true, false, false),
                addr: base,
                size: 4096,
                content: b"some content".to_vec(),
            }],
            actions: vec![],
        },
    ));
    let seeds: Vec<(SyncWrapperFunction, Vec<u8>)> = vec![
        (mm::initialize_wrapper, init),
        (
            mm::deinitialize_wrapper,
            serialize_to_vec(&(mem, vec![base])),
        ),
        (
            shared_memory::initialize_wrapper,
            serialize_to_vec(&(shm, base, 0u64, 0u64)),
        ),
        (
            shared_memory::deinitialize_wrapper,
            serialize_to_vec(&(shm, vec![base])),
        ),
        (
            shared_memory::release_wrapper,
            serialize_to_vec(&(shm, vec![base])),
        ),
        (
            dylib::open_wrapper,
            serialize_to_vec(&(dl, "libm.so.6", 0u64)),
        ),
        (
            dylib::resolve_wrapper,
            serialize_to_vec(&(ExecutorAddr(1), vec![("cos", true)])),
        ),
        (
            eh_frame::deregister_eh_frame_alloc_action,
            serialize_to_vec(&(base, ExecutorAddr(base.0 + 64))),
        ),
        (access::read_uint64s_wrapper, serialize_to_vec(&vec![base])),
        (
            access::read_buffers_wrapper,
            serialize_to_vec(&vec![(base, ExecutorAddr(base.0 + 16))]),
        ),
        (access::read_strings_wrapper, serialize_to_vec(&vec![base])),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Reserve with mutated sizes, on a manager of its own that is dropped
    // (unmapping whatever it reserved) before the read wrappers run:
    // otherwise a mutated read range could legitimately copy gigabytes of
    // a huge fresh reservation.
    {
        let s2 = BootstrapServices::create();
        let mem2 = instance_of(&s2, mm::INSTANCE_NAME);
        let seed = serialize_to_vec(&(mem2, 4096u64));
        for _ in 0..300 {
            let mut m = seed.clone();
            let i = (rng.next() as usize) % m.len();
            m[i] = rng.next() as u8;
            feed(mm::reserve_wrapper, &m);
        }
    }
    for (f, seed) in &seeds {
        // Every truncation.
        for n in 0..seed.len() {
            feed(*f, &seed[..n]);
        }
        // Byte mutations.
        for _ in 0..300 {
            let mut m = seed.clone();
            for _ in 0..1 + rng.next() % 4 {
                let i = (rng.next() as usize) % m.len();
                m[i] = rng.next() as u8;
            }
            feed(*f, &m);
        }
        // Random garbage, including huge counts.
        for _ in 0..100 {
            let len = (rng.next() % 64) as usize;
            let g: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            feed(*f, &g);
        }
    }
    // The manager still works.
    let r: SpsResult = call(mm::release_wrapper, &(mem, vec![base]));
    assert_eq!(r, Ok(()));
}

#[test]
fn release_during_a_large_initialize_waits_or_refuses() {
    let s = BootstrapServices::create();
    let inst = instance_of(&s, mm::INSTANCE_NAME);
    const SIZE: u64 = 32 << 20;
    for round in 0..4u64 {
        let r: SpsExpected<ExecutorAddr> = call(mm::reserve_wrapper, &(inst, SIZE));
        let base = r.0.unwrap();
        let req = FinalizeRequest {
            segments: vec![SegFinalizeRequest {
                rag: RemoteAllocGroup::new(true, false, false, false),
                addr: base,
                size: SIZE,
                content: vec![0xa5; SIZE as usize],
            }],
            actions: vec![],
        };
        let init = std::thread::spawn(move || {
            let r: SpsExpected<ExecutorAddr> = call(mm::initialize_wrapper, &(inst, &req));
            r.0
        });
        std::thread::sleep(std::time::Duration::from_micros(200 * round));
        let rel: SpsResult = call(mm::release_wrapper, &(inst, vec![base]));
        assert_eq!(rel, Ok(()));
        match init.join().unwrap() {
            Ok(key) => assert_eq!(key, base),
            Err(e) => assert!(e.contains("not part of any reserved"), "{e}"),
        }
    }
    assert!(s.memory.reservations().is_empty());
}
