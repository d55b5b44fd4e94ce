//! Unit tests: exact bytes of LLVM 22 sessions (the examples of
//! `docs/protocol.md`, section 11) and the hardening rules.

use std::collections::{BTreeMap, HashMap};

use super::orc_types::*;
use super::*;
use crate::{ExecutorAddr, ExecutorAddrRange};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("test hex"))
        .collect()
}

fn roundtrip<T: SpsSerialize + SpsDeserialize + PartialEq + std::fmt::Debug>(v: &T, bytes: &[u8]) {
    assert_eq!(serialize_to_vec(v), bytes, "encoding of {v:?}");
    assert_eq!(v.size(), bytes.len());
    assert_eq!(&deserialize_all::<T>(bytes).expect("decode"), v);
}

#[test]
fn primitives() {
    roundtrip(&-5i32, &hex("fb ff ff ff"));
    roundtrip(&42i64, &hex("2a 00 00 00 00 00 00 00"));
    roundtrip(&0xBEEFu16, &hex("ef be"));
    roundtrip(&true, &[1]);
    roundtrip(&false, &[0]);
    roundtrip(&-1i8, &[0xff]);
    roundtrip(&0x7fu8, &[0x7f]);
    roundtrip(&u64::MAX, &[0xff; 8]);
    roundtrip(&i16::MIN, &hex("00 80"));
    roundtrip(&0x01020304u32, &hex("04 03 02 01"));
    roundtrip(&(), &[]);
}

#[test]
fn bool_rejects_other_bytes() {
    assert_eq!(deserialize_all::<bool>(&[2]), Err(SpsError::InvalidBool(2)));
    assert_eq!(
        deserialize_all::<Option<u8>>(&[0xff, 1]),
        Err(SpsError::InvalidBool(0xff))
    );
    assert_eq!(
        deserialize_all::<SpsResult>(&[7]),
        Err(SpsError::InvalidBool(7))
    );
    assert_eq!(
        deserialize_all::<SpsExpected<()>>(&[7]),
        Err(SpsError::InvalidBool(7))
    );
}

#[test]
fn strings_and_bytes() {
    roundtrip(
        &"printf".to_string(),
        &hex("06 00 00 00 00 00 00 00 70 72 69 6e 74 66"),
    );
    roundtrip(&String::new(), &[0; 8]);
    assert_eq!(
        serialize_to_vec("printf"),
        serialize_to_vec(&"printf".to_string())
    );
    roundtrip(&vec![1u8, 2, 3], &hex("03 00 00 00 00 00 00 00 01 02 03"));
    assert_eq!(
        serialize_to_vec(&[1u8, 2, 3][..]),
        hex("03 00 00 00 00 00 00 00 01 02 03")
    );
    assert_eq!(
        deserialize_all::<String>(&hex("02 00 00 00 00 00 00 00 c3 28")),
        Err(SpsError::InvalidUtf8 { valid_up_to: 0 })
    );
    // Non-UTF-8 bytes decode fine as a byte sequence.
    assert_eq!(
        deserialize_all::<Vec<u8>>(&hex("02 00 00 00 00 00 00 00 c3 28")),
        Ok(vec![0xc3, 0x28])
    );
}

#[test]
fn borrowed_bytes_are_zero_copy() {
    let data = hex("03 00 00 00 00 00 00 00 61 62 63 ff");
    let mut input = SpsInputBuffer::new(&data);
    let b = SpsBytes::deserialize_borrowed(&mut input).expect("decode");
    assert_eq!(b.0, b"abc");
    assert_eq!(b.0.as_ptr(), data[8..].as_ptr());
    assert_eq!(input.remaining(), 1);
    assert_eq!(serialize_to_vec(&b), data[..11]);
}

#[test]
fn sequences_and_tuples() {
    // release args: instance + one address, as an LLVM 22 session sends them
    let v = (
        ExecutorAddr(0x56152cc0ec20),
        vec![ExecutorAddr(0x7f107a8fa000)],
    );
    roundtrip(
        &v,
        &hex("20 ec c0 2c 15 56 00 00 01 00 00 00 00 00 00 00 00 a0 8f 7a 10 7f 00 00"),
    );
    // reserve args
    roundtrip(
        &(ExecutorAddr(0x56152cc0ec20), 4096u64),
        &hex("20 ec c0 2c 15 56 00 00 00 10 00 00 00 00 00 00"),
    );
    roundtrip(&Vec::<u32>::new(), &[0; 8]);
    // run_as_main args
    let args = (
        ExecutorAddr(0x7f8ca1a4e000),
        vec!["a".to_string(), "b".to_string(), "c".to_string()],
    );
    roundtrip(
        &args,
        &hex("00 e0 a4 a1 8c 7f 00 00 03 00 00 00 00 00 00 00 \
             01 00 00 00 00 00 00 00 61 01 00 00 00 00 00 00 00 62 01 00 00 00 00 00 00 00 63"),
    );
    // Borrowed encode matches owned.
    let names = ["a", "b", "c"];
    assert_eq!(
        serialize_to_vec(&(ExecutorAddr(0x7f8ca1a4e000), &names[..])),
        serialize_to_vec(&args)
    );
    roundtrip(
        &(
            1u8,
            2u16,
            3u32,
            4u64,
            -1i8,
            -2i16,
            -3i32,
            -4i64,
            true,
            (),
            b'x',
            String::from("z"),
        ),
        &hex(
            "01 02 00 03 00 00 00 04 00 00 00 00 00 00 00 ff fe ff fd ff ff ff \
             fc ff ff ff ff ff ff ff 01 78 01 00 00 00 00 00 00 00 7a",
        ),
    );
    roundtrip(&vec![(), (), ()], &hex("03 00 00 00 00 00 00 00"));
}

#[test]
fn optional() {
    roundtrip(&None::<u32>, &[0]);
    roundtrip(&Some(0x11223344u32), &hex("01 44 33 22 11"));
}

#[test]
fn error_and_expected_have_opposite_flags() {
    roundtrip(&SpsResult::Ok(()), &[0]);
    let msg = "controller is going away";
    let mut e = hex("01 18 00 00 00 00 00 00 00");
    e.extend_from_slice(msg.as_bytes());
    roundtrip(&SpsResult::Err(msg.to_string()), &e);

    roundtrip(&SpsExpected::<()>::ok(()), &[1]);
    roundtrip(
        &SpsExpected::ok(ExecutorAddr(0x7f106c000b70)),
        &hex("01 70 0b 00 6c 10 7f 00 00"),
    );
    let mut e = hex("00 03 00 00 00 00 00 00 00");
    e.extend_from_slice(b"bad");
    roundtrip(&SpsExpected::<ExecutorAddr>::err("bad"), &e);
    assert_eq!(
        SpsExpected::from_result(Err::<u8, _>(SpsError::TrailingBytes(3))),
        SpsExpected::err("3 trailing bytes after the value")
    );
}

#[test]
fn resolve_wrapper_example() {
    let args = (
        ExecutorAddr(0x7f106c000b70),
        vec![RemoteSymbolLookupSetElement {
            name: "printf".into(),
            required: false,
        }],
    );
    roundtrip(
        &args,
        &hex(
            "70 0b 00 6c 10 7f 00 00 01 00 00 00 00 00 00 00 06 00 00 00 00 00 00 00 \
             70 72 69 6e 74 66 00",
        ),
    );
    let result = SpsExpected::ok(vec![Some(ExecutorSymbolDef {
        addr: ExecutorAddr(0x7f1078e705b0),
        flags: jit_symbol_flags::EXPORTED,
        target_flags: 0,
    })]);
    roundtrip(
        &result,
        &hex("01 01 00 00 00 00 00 00 00 01 b0 05 e7 78 10 7f 00 00 10 00"),
    );
}

#[test]
fn initialize_example() {
    let range = ExecutorAddrRange {
        start: ExecutorAddr(0x7f107a8fa010),
        end: ExecutorAddr(0x7f107a8fa04c),
    };
    let range_bytes = serialize_to_vec(&range);
    assert_eq!(
        WrapperFunctionCall::with_args(ExecutorAddr(1), &range).args,
        range_bytes
    );
    assert!(WrapperFunctionCall::default().is_null());
    assert_eq!(
        range_bytes,
        hex("10 a0 8f 7a 10 7f 00 00 4c a0 8f 7a 10 7f 00 00")
    );
    let req = FinalizeRequest {
        segments: vec![
            SegFinalizeRequest {
                rag: RemoteAllocGroup::new(true, false, false, false),
                addr: ExecutorAddr(0x7f107a8fa000),
                size: 0x1000,
                content: b"hi".to_vec(),
            },
            SegFinalizeRequest {
                rag: RemoteAllocGroup::from_bits(5).expect("valid"),
                addr: ExecutorAddr(0x7f107a8fb000),
                size: 0x1000,
                content: vec![0x55, 0x48],
            },
        ],
        actions: vec![AllocActionCallPair {
            finalize: WrapperFunctionCall {
                fn_addr: ExecutorAddr(0x5615271bfc60),
                args: range_bytes.clone(),
            },
            dealloc: WrapperFunctionCall {
                fn_addr: ExecutorAddr(0x5615271bfd20),
                args: range_bytes,
            },
        }],
    };
    let bytes = hex("20 ec c0 2c 15 56 00 00 02 00 00 00 00 00 00 00 \
         01 00 a0 8f 7a 10 7f 00 00 00 10 00 00 00 00 00 00 02 00 00 00 00 00 00 00 68 69 \
         05 00 b0 8f 7a 10 7f 00 00 00 10 00 00 00 00 00 00 02 00 00 00 00 00 00 00 55 48 \
         01 00 00 00 00 00 00 00 \
         60 fc 1b 27 15 56 00 00 10 00 00 00 00 00 00 00 \
         10 a0 8f 7a 10 7f 00 00 4c a0 8f 7a 10 7f 00 00 \
         20 fd 1b 27 15 56 00 00 10 00 00 00 00 00 00 00 \
         10 a0 8f 7a 10 7f 00 00 4c a0 8f 7a 10 7f 00 00");
    roundtrip(&(ExecutorAddr(0x56152cc0ec20), req), &bytes);
}

#[test]
fn remote_alloc_group_rejects_unknown_bits() {
    assert_eq!(
        deserialize_all::<RemoteAllocGroup>(&[0x10]),
        Err(SpsError::InvalidAllocGroup(0x10))
    );
    let g = deserialize_all::<RemoteAllocGroup>(&[0x0b]).expect("valid");
    assert!(g.read() && g.write() && !g.exec() && g.finalize_lifetime());
}

#[test]
fn maps_reject_duplicate_keys() {
    let mut m = BTreeMap::new();
    m.insert("a".to_string(), 1u8);
    m.insert("b".to_string(), 2u8);
    let bytes =
        hex("02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 61 01 01 00 00 00 00 00 00 00 62 02");
    roundtrip(&m, &bytes);
    let hm: HashMap<String, u8> = m.clone().into_iter().collect();
    assert_eq!(
        deserialize_all::<HashMap<String, u8>>(&bytes),
        Ok(hm.clone())
    );
    assert_eq!(serialize_to_vec(&hm).len(), bytes.len());
    let dup =
        hex("02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 61 01 01 00 00 00 00 00 00 00 61 02");
    let e = Err(SpsError::DuplicateKey("a".into()));
    assert_eq!(deserialize_all::<BTreeMap<String, u8>>(&dup), e);
    assert_eq!(
        deserialize_all::<HashMap<String, u8>>(&dup),
        Err(SpsError::DuplicateKey("a".into()))
    );
    // A plain vector of pairs keeps duplicates.
    assert_eq!(
        deserialize_all::<Vec<(String, u8)>>(&dup).map(|v| v.len()),
        Ok(2)
    );
}

#[test]
fn executor_info_keeps_order_and_rejects_duplicates() {
    let info = SimpleRemoteEpcExecutorInfo {
        triple: "x86_64-unknown-linux-gnu".into(),
        page_size: 4096,
        bootstrap_map: vec![("z".into(), vec![1]), ("a".into(), vec![])],
        bootstrap_symbols: vec![("sym".into(), ExecutorAddr(0x1000))],
    };
    let bytes = serialize_to_vec(&info);
    assert_eq!(
        deserialize_all::<SimpleRemoteEpcExecutorInfo>(&bytes),
        Ok(info.clone())
    );
    let mut dup = info.clone();
    dup.bootstrap_symbols
        .push(("sym".into(), ExecutorAddr(0x2000)));
    assert_eq!(
        deserialize_all::<SimpleRemoteEpcExecutorInfo>(&serialize_to_vec(&dup)),
        Err(SpsError::DuplicateKey("sym".into()))
    );
}

#[test]
fn truncated_and_trailing_input() {
    assert_eq!(
        deserialize_all::<u32>(&[1, 2]),
        Err(SpsError::UnexpectedEnd {
            needed: 4,
            remaining: 2
        })
    );
    assert_eq!(
        deserialize_all::<u8>(&[1, 2]),
        Err(SpsError::TrailingBytes(1))
    );
    assert_eq!(deserialize_prefix::<u8>(&[1, 2]), Ok((1, 1)));
    // Empty result payload where an SPSError is expected (out-of-band case).
    assert_eq!(
        deserialize_all::<SpsResult>(&[]),
        Err(SpsError::UnexpectedEnd {
            needed: 1,
            remaining: 0
        })
    );
    // Every strict prefix of a valid encoding fails cleanly.
    let v = (
        "abc".to_string(),
        vec![Some(1u16), None],
        SpsExpected::<u8>::err("x"),
    );
    let bytes = serialize_to_vec(&v);
    for n in 0..bytes.len() {
        assert!(
            deserialize_all::<(String, Vec<Option<u16>>, SpsExpected<u8>)>(&bytes[..n]).is_err()
        );
    }
}

fn count_bytes(count: u64, tail: &[u8]) -> Vec<u8> {
    let mut v = count.to_le_bytes().to_vec();
    v.extend_from_slice(tail);
    v
}

#[test]
fn huge_counts_are_rejected_before_allocation() {
    let big = 1u64 << 62;
    let tail = [0u8; 16];
    let too_large = |r: Result<(), SpsError>| {
        assert_eq!(
            r,
            Err(SpsError::LengthTooLarge {
                count: big,
                remaining: 16
            })
        );
    };
    too_large(deserialize_all::<Vec<u8>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<String>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<Vec<u64>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<Vec<String>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<Vec<Vec<u8>>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<Vec<FinalizeRequest>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<BTreeMap<String, u8>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<HashMap<String, ()>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<Vec<()>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<Vec<((), ())>>(&count_bytes(big, &tail)).map(|_| ()));
    too_large(deserialize_all::<Vec<SpsBytesOwnedProbe>>(&count_bytes(big, &tail)).map(|_| ()));
    // u64::MAX too.
    assert!(matches!(
        deserialize_all::<Vec<u8>>(&count_bytes(u64::MAX, &[])),
        Err(SpsError::LengthTooLarge { .. })
    ));
    // The bound is exact: 16 bytes hold two u64 but not three.
    assert_eq!(
        deserialize_all::<Vec<u64>>(&count_bytes(2, &tail)),
        Ok(vec![0, 0])
    );
    assert_eq!(
        deserialize_all::<Vec<u64>>(&count_bytes(3, &tail)),
        Err(SpsError::LengthTooLarge {
            count: 3,
            remaining: 16
        })
    );
    // Elements of min size 9 (Option<u64> is 1..9 bytes): 16 bytes of
    // `None` flags hold 16 elements.
    assert_eq!(
        deserialize_all::<Vec<Option<u64>>>(&count_bytes(16, &tail)).map(|v| v.len()),
        Ok(16)
    );
}

/// A type whose min size is 0 but which is not `()`: a tuple of empties
/// inside a box.
type SpsBytesOwnedProbe = Box<((), ())>;

#[test]
fn zero_sized_sequences_still_work() {
    let v = deserialize_all::<Vec<()>>(&count_bytes(1000, &[])).expect("1000 empties");
    assert_eq!(v.len(), 1000);
    let n = MAX_ZERO_SIZED_COUNT as u64;
    assert_eq!(
        deserialize_all::<Vec<()>>(&count_bytes(n, &[])).map(|v| v.len()),
        Ok(MAX_ZERO_SIZED_COUNT)
    );
    assert_eq!(
        deserialize_all::<Vec<()>>(&count_bytes(n + 1, &[])),
        Err(SpsError::LengthTooLarge {
            count: n + 1,
            remaining: 0
        })
    );
}

#[test]
fn zero_sized_budget_is_per_input() {
    let half = (MAX_ZERO_SIZED_COUNT / 2 + 1) as u64;
    let mut b = count_bytes(2, &[]);
    b.extend(count_bytes(half, &[]));
    b.extend(count_bytes(half, &[]));
    assert_eq!(
        deserialize_all::<Vec<Vec<()>>>(&b),
        Err(SpsError::LengthTooLarge {
            count: half,
            remaining: 0
        })
    );
    let mut b = count_bytes(2, &[]);
    b.extend(count_bytes(half - 1, &[]));
    b.extend(count_bytes(half - 1, &[]));
    assert_eq!(deserialize_all::<Vec<Vec<()>>>(&b).map(|v| v.len()), Ok(2));
}

#[test]
fn nested_length_inside_sequence_is_checked() {
    // One string element claiming 2^62 bytes.
    let mut b = count_bytes(1, &[]);
    b.extend(count_bytes(1 << 62, b"xy"));
    assert_eq!(
        deserialize_all::<Vec<String>>(&b),
        Err(SpsError::LengthTooLarge {
            count: 1 << 62,
            remaining: 2
        })
    );
}

#[test]
fn output_buffer_never_panics_on_overflow() {
    let mut small = [0u8; 3];
    let mut out = SpsOutputBuffer::new(&mut small);
    out.write_bytes(&[1, 2]);
    out.write_bytes(&[3, 4]);
    out.write_u8(5);
    assert!(out.overflowed());
    assert_eq!(out.position(), 3);
    assert_eq!(small, [1, 2, 5]);
}

/// Deterministic xorshift for the robustness tests below.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Decodes `bytes` as `T`; if that succeeds, re-encoding must give the same
/// bytes back (so decode accepts exactly the canonical encodings).
fn decode_is_canonical<T: SpsSerialize + SpsDeserialize>(bytes: &[u8]) -> bool {
    match deserialize_all::<T>(bytes) {
        Ok(v) => {
            assert_eq!(serialize_to_vec(&v), bytes, "non-canonical accept");
            true
        }
        Err(_) => false,
    }
}

type Mixed = (
    SpsExpected<Vec<Option<ExecutorSymbolDef>>>,
    SpsResult,
    Vec<(String, bool)>,
    Option<ExecutorAddrRange>,
);

#[test]
fn random_and_mutated_input_never_panics() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let seeds: Vec<Vec<u8>> = vec![
        serialize_to_vec(&(
            SpsExpected::ok(vec![Some(ExecutorSymbolDef::default()), None]),
            SpsResult::Err("e".into()),
            vec![("a".to_string(), true)],
            Some(ExecutorAddrRange::default()),
        )),
        serialize_to_vec(&(
            ExecutorAddr(1),
            FinalizeRequest {
                segments: vec![SegFinalizeRequest {
                    rag: RemoteAllocGroup::new(true, false, true, false),
                    addr: ExecutorAddr(2),
                    size: 3,
                    content: vec![1, 2, 3],
                }],
                actions: vec![AllocActionCallPair::default()],
            },
        )),
        serialize_to_vec(&SimpleRemoteEpcExecutorInfo {
            triple: "t".into(),
            page_size: 1,
            bootstrap_map: vec![("m".into(), vec![0])],
            bootstrap_symbols: vec![("s".into(), ExecutorAddr(9))],
        }),
    ];
    let mut accepted = 0;
    for i in 0..20_000 {
        let mut b = seeds[i % seeds.len()].clone();
        match rng.next() % 4 {
            // Pure noise.
            0 => {
                let n = (rng.next() % 64) as usize;
                b = (0..n).map(|_| rng.next() as u8).collect();
            }
            // Flip a byte.
            1 => {
                let k = (rng.next() as usize) % b.len();
                b[k] ^= 1 << (rng.next() % 8);
            }
            // Overwrite 8 bytes with a huge count.
            2 if b.len() >= 8 => {
                let k = (rng.next() as usize) % (b.len() - 7);
                b[k..k + 8].copy_from_slice(&(rng.next() | 1 << 62).to_le_bytes());
            }
            // Truncate.
            _ => b.truncate((rng.next() as usize) % b.len()),
        }
        accepted += decode_is_canonical::<Mixed>(&b) as usize;
        accepted += decode_is_canonical::<(ExecutorAddr, FinalizeRequest)>(&b) as usize;
        accepted += decode_is_canonical::<SimpleRemoteEpcExecutorInfo>(&b) as usize;
        accepted += decode_is_canonical::<Vec<Vec<()>>>(&b) as usize;
        accepted += decode_is_canonical::<Vec<(String, Vec<u8>)>>(&b) as usize;
        // Map order is not canonical; only require no panic.
        let _ = deserialize_all::<HashMap<String, Vec<u8>>>(&b);
        let _ = deserialize_all::<BTreeMap<String, SpsExpected<u64>>>(&b);
    }
    // Some mutations (e.g. flipped content bytes) stay valid.
    assert!(accepted > 0);
}

#[test]
fn fixed_size_types_encode_to_their_encoded_size() {
    fn check<T: SpsSerialize + SpsFixedSize>(v: T) {
        assert_eq!(serialize_to_vec(&v).len(), T::ENCODED_SIZE);
    }
    check(true);
    check(7u8);
    check(-3i16);
    check(u64::MAX);
    check(());
    check(ExecutorAddr::new(0x1000));
    check(ExecutorAddrRange::new(
        ExecutorAddr::new(1),
        ExecutorAddr::new(9),
    ));
    check(RemoteAllocGroup::new(true, false, true, false));
    check((7u8, ExecutorAddr::new(2), 3u64, 4u64));
    assert_eq!(<(u8, ExecutorAddr, u64, u64)>::ENCODED_SIZE, 25);
}
