//! Differential test of orc-rt's SPS against LLVM 22's own C++ SPS
//! implementation (`llvm/ExecutionEngine/Orc/Shared/*.h`).
//!
//! The C++ side is `tests/sps_diff/sps_diff.cpp`, compiled here against
//! `llvm-config-22`. Both sides share a catalogue of 49 SPS types (the type
//! id is the index) and a textual dump format for values.
//!
//! 1. Rust generates hand-picked edge cases and random values (fixed
//!    seed), encodes them, and C++ decodes, dumps and re-encodes each one and
//!    checks that strict prefixes are rejected. The dumps and bytes must
//!    match ours.
//! 2. C++ generates random values of every type; Rust decodes, dumps and
//!    re-encodes each one. Dumps and bytes must match.
//! 3. Invalid inputs: both sides must reject them, except for the documented
//!    places where orc-rt is deliberately stricter than LLVM.
//!
//! String-keyed maps are sent by LLVM in `StringMap` hash order, so for
//! types containing a map the bytes are compared modulo order (same length,
//! same decoded value) instead of byte for byte.
//!
//! LLVM 22 is part of what the test command installs, so the test fails when
//! `llvm-config-22` (or `$LLVM_CONFIG`) is missing or not LLVM 22. Where LLVM
//! 22 cannot be installed, `ORC_RT_ALLOW_NO_LLVM=1` turns that into a skip
//! that prints why.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::Command;

use orc_rt::sps::orc_types::*;
use orc_rt::sps::{
    deserialize_all, serialize_to_vec, SpsDeserialize, SpsError, SpsExpected, SpsResult,
    SpsSerialize,
};
use orc_rt::{ExecutorAddr, ExecutorAddrRange};

// ------------------------------------------------------------------ random

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

const ALPHABET: &[&str] = &[
    "a", "Z", "0", "_", " ", "\n", "\"", "\\", "\x7f", "é", "漢", "🦀", ".",
];

fn gen_string(r: &mut Rng) -> String {
    let max = if r.below(8) == 0 { 40 } else { 8 };
    let n = r.below(max);
    let mut s = String::new();
    for _ in 0..n {
        if r.below(20) == 0 {
            s.push('\0');
        } else {
            s.push_str(ALPHABET[r.below(ALPHABET.len() as u64) as usize]);
        }
    }
    s
}

fn gen_bytes(r: &mut Rng) -> Vec<u8> {
    let max = if r.below(10) == 0 { 300 } else { 10 };
    let n = r.below(max);
    (0..n).map(|_| r.next() as u8).collect()
}

fn gen_count(r: &mut Rng) -> usize {
    let max = if r.below(16) == 0 { 40 } else { 4 };
    r.below(max) as usize
}

fn gen_addr(r: &mut Rng) -> ExecutorAddr {
    ExecutorAddr(match r.below(5) {
        0 => 0,
        1 => u64::MAX,
        2 => 0x7f00_0000_0000 + (r.next() & 0xff_ffff_ffff),
        _ => r.next(),
    })
}

// -------------------------------------------------------------- dump + gen

/// A catalogue value: dumps in the shared text format, and can be generated.
trait Diff: Sized {
    fn dump(&self, o: &mut String);
    fn gen(r: &mut Rng) -> Self;
    fn dump_seq(items: &[Self], o: &mut String) {
        o.push('[');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            x.dump(o);
        }
        o.push(']');
    }
    fn gen_seq(r: &mut Rng) -> Vec<Self> {
        (0..gen_count(r)).map(|_| Self::gen(r)).collect()
    }
}

fn dump_hex(o: &mut String, b: &[u8]) {
    o.push('"');
    for x in b {
        let _ = write!(o, "{x:02x}");
    }
    o.push('"');
}

fn dump_addr(o: &mut String, a: ExecutorAddr) {
    let _ = write!(o, "@{:x}", a.0);
}

fn dump_of<T: Diff>(v: &T) -> String {
    let mut s = String::new();
    v.dump(&mut s);
    s
}

macro_rules! diff_int {
    ($($t:ty),*) => {$(
        impl Diff for $t {
            fn dump(&self, o: &mut String) {
                let _ = write!(o, "{}", self);
            }
            fn gen(r: &mut Rng) -> Self {
                match r.below(6) {
                    0 => 0,
                    1 => 1,
                    2 => <$t>::MAX,
                    3 => <$t>::MIN,
                    4 => (-1i64) as $t,
                    _ => r.next() as $t,
                }
            }
        }
    )*};
}
diff_int!(i8, i16, u16, i32, u32, i64, u64);

impl Diff for u8 {
    fn dump(&self, o: &mut String) {
        let _ = write!(o, "{self}");
    }
    fn gen(r: &mut Rng) -> Self {
        r.next() as u8
    }
    fn dump_seq(items: &[Self], o: &mut String) {
        dump_hex(o, items)
    }
    fn gen_seq(r: &mut Rng) -> Vec<Self> {
        gen_bytes(r)
    }
}

impl Diff for bool {
    fn dump(&self, o: &mut String) {
        o.push_str(if *self { "true" } else { "false" });
    }
    fn gen(r: &mut Rng) -> Self {
        r.below(2) == 1
    }
}

impl Diff for () {
    fn dump(&self, o: &mut String) {
        o.push('-');
    }
    fn gen(_: &mut Rng) -> Self {}
}

impl Diff for String {
    fn dump(&self, o: &mut String) {
        dump_hex(o, self.as_bytes())
    }
    fn gen(r: &mut Rng) -> Self {
        gen_string(r)
    }
}

impl<T: Diff> Diff for Vec<T> {
    fn dump(&self, o: &mut String) {
        T::dump_seq(self, o)
    }
    fn gen(r: &mut Rng) -> Self {
        T::gen_seq(r)
    }
}

impl<T: Diff> Diff for Option<T> {
    fn dump(&self, o: &mut String) {
        match self {
            None => o.push('N'),
            Some(x) => {
                o.push_str("S(");
                x.dump(o);
                o.push(')');
            }
        }
    }
    fn gen(r: &mut Rng) -> Self {
        if r.below(3) == 0 {
            None
        } else {
            Some(T::gen(r))
        }
    }
}

impl Diff for SpsResult {
    fn dump(&self, o: &mut String) {
        match self {
            Ok(()) => o.push_str("OK"),
            Err(m) => {
                o.push_str("ERR(");
                dump_hex(o, m.as_bytes());
                o.push(')');
            }
        }
    }
    fn gen(r: &mut Rng) -> Self {
        if r.below(2) == 1 {
            Ok(())
        } else {
            Err(gen_string(r))
        }
    }
}

impl<T: Diff> Diff for SpsExpected<T> {
    fn dump(&self, o: &mut String) {
        match &self.0 {
            Ok(v) => {
                o.push_str("V(");
                v.dump(o);
            }
            Err(m) => {
                o.push_str("E(");
                dump_hex(o, m.as_bytes());
            }
        }
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        if r.below(3) == 0 {
            SpsExpected::err(gen_string(r))
        } else {
            SpsExpected::ok(T::gen(r))
        }
    }
}

fn dump_map<'a, V: Diff + 'a>(o: &mut String, it: impl Iterator<Item = (&'a String, &'a V)>) {
    let mut entries: Vec<_> = it.collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    o.push('{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        dump_hex(o, k.as_bytes());
        o.push(':');
        v.dump(o);
    }
    o.push('}');
}

impl<V: Diff> Diff for BTreeMap<String, V> {
    fn dump(&self, o: &mut String) {
        dump_map(o, self.iter())
    }
    fn gen(r: &mut Rng) -> Self {
        (0..gen_count(r))
            .map(|_| (gen_string(r), V::gen(r)))
            .collect()
    }
}

impl<V: Diff> Diff for HashMap<String, V> {
    fn dump(&self, o: &mut String) {
        dump_map(o, self.iter())
    }
    fn gen(r: &mut Rng) -> Self {
        (0..gen_count(r))
            .map(|_| (gen_string(r), V::gen(r)))
            .collect()
    }
}

macro_rules! diff_tuple {
    ($($n:ident . $i:tt),+) => {
        impl<$($n: Diff),+> Diff for ($($n,)+) {
            fn dump(&self, o: &mut String) {
                o.push('(');
                $(
                    if $i > 0 { o.push(','); }
                    self.$i.dump(o);
                )+
                o.push(')');
            }
            fn gen(r: &mut Rng) -> Self {
                ($($n::gen(r),)+)
            }
        }
    };
}
diff_tuple!(A.0);
diff_tuple!(A.0, B.1);
diff_tuple!(A.0, B.1, C.2);
diff_tuple!(A.0, B.1, C.2, D.3, E.4, F.5);
diff_tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8);

impl Diff for ExecutorAddr {
    fn dump(&self, o: &mut String) {
        dump_addr(o, *self)
    }
    fn gen(r: &mut Rng) -> Self {
        gen_addr(r)
    }
}

impl Diff for ExecutorAddrRange {
    fn dump(&self, o: &mut String) {
        (self.start, self.end).dump(o)
    }
    fn gen(r: &mut Rng) -> Self {
        let start = gen_addr(r);
        ExecutorAddrRange::new(start, start + r.below(0x10000))
    }
}

impl Diff for ExecutorSymbolDef {
    fn dump(&self, o: &mut String) {
        (self.addr, self.flags, self.target_flags).dump(o)
    }
    fn gen(r: &mut Rng) -> Self {
        ExecutorSymbolDef {
            flags: r.next() as u8,
            target_flags: r.next() as u8,
            addr: gen_addr(r),
        }
    }
}

impl Diff for RemoteAllocGroup {
    fn dump(&self, o: &mut String) {
        let _ = write!(o, "g{}", self.bits());
    }
    fn gen(r: &mut Rng) -> Self {
        RemoteAllocGroup::from_bits(r.below(16) as u8).expect("valid bits")
    }
}

impl Diff for WrapperFunctionCall {
    fn dump(&self, o: &mut String) {
        o.push('(');
        dump_addr(o, self.fn_addr);
        o.push(',');
        dump_hex(o, &self.args);
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        let args = gen_bytes(r);
        WrapperFunctionCall {
            fn_addr: gen_addr(r),
            args,
        }
    }
}

impl Diff for AllocActionCallPair {
    fn dump(&self, o: &mut String) {
        o.push('(');
        self.finalize.dump(o);
        o.push(',');
        self.dealloc.dump(o);
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        AllocActionCallPair {
            finalize: Diff::gen(r),
            dealloc: Diff::gen(r),
        }
    }
}

impl Diff for SegFinalizeRequest {
    fn dump(&self, o: &mut String) {
        o.push('(');
        self.rag.dump(o);
        o.push(',');
        dump_addr(o, self.addr);
        let _ = write!(o, ",{},", self.size);
        dump_hex(o, &self.content);
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        let content = gen_bytes(r);
        let rag = Diff::gen(r);
        let addr = gen_addr(r);
        SegFinalizeRequest {
            rag,
            addr,
            size: content.len() as u64 + r.below(0x2000),
            content,
        }
    }
}

impl Diff for FinalizeRequest {
    fn dump(&self, o: &mut String) {
        o.push('(');
        self.segments.dump(o);
        o.push(',');
        self.actions.dump(o);
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        FinalizeRequest {
            segments: Diff::gen(r),
            actions: Diff::gen(r),
        }
    }
}

impl Diff for SharedMemorySegFinalizeRequest {
    fn dump(&self, o: &mut String) {
        o.push('(');
        self.rag.dump(o);
        o.push(',');
        dump_addr(o, self.addr);
        let _ = write!(o, ",{})", self.size);
    }
    fn gen(r: &mut Rng) -> Self {
        SharedMemorySegFinalizeRequest {
            rag: Diff::gen(r),
            addr: gen_addr(r),
            size: r.next(),
        }
    }
}

impl Diff for SharedMemoryFinalizeRequest {
    fn dump(&self, o: &mut String) {
        o.push('(');
        self.segments.dump(o);
        o.push(',');
        self.actions.dump(o);
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        SharedMemoryFinalizeRequest {
            segments: Diff::gen(r),
            actions: Diff::gen(r),
        }
    }
}

impl<T: Diff + SpsSerialize + SpsDeserialize> Diff for UIntWrite<T> {
    fn dump(&self, o: &mut String) {
        o.push('(');
        dump_addr(o, self.addr);
        o.push(',');
        self.value.dump(o);
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        UIntWrite {
            addr: gen_addr(r),
            value: T::gen(r),
        }
    }
}

impl Diff for PointerWrite {
    fn dump(&self, o: &mut String) {
        (self.addr, self.value).dump(o)
    }
    fn gen(r: &mut Rng) -> Self {
        PointerWrite {
            addr: gen_addr(r),
            value: gen_addr(r),
        }
    }
}

impl Diff for BufferWrite {
    fn dump(&self, o: &mut String) {
        o.push('(');
        dump_addr(o, self.addr);
        o.push(',');
        dump_hex(o, &self.buffer);
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        let buffer = gen_bytes(r);
        BufferWrite {
            addr: gen_addr(r),
            buffer,
        }
    }
}

impl Diff for RemoteSymbolLookupSetElement {
    fn dump(&self, o: &mut String) {
        (&self.name, self.required).dump(o)
    }
    fn gen(r: &mut Rng) -> Self {
        RemoteSymbolLookupSetElement {
            name: gen_string(r),
            required: r.below(2) == 1,
        }
    }
}

impl<T: Diff> Diff for &T {
    fn dump(&self, o: &mut String) {
        (**self).dump(o)
    }
    fn gen(_: &mut Rng) -> Self {
        unreachable!("references are only dumped")
    }
}

impl Diff for RemoteSymbolLookup {
    fn dump(&self, o: &mut String) {
        (self.handle, &self.symbols).dump(o)
    }
    fn gen(r: &mut Rng) -> Self {
        RemoteSymbolLookup {
            handle: r.next(),
            symbols: Diff::gen(r),
        }
    }
}

impl Diff for SimpleRemoteEpcExecutorInfo {
    fn dump(&self, o: &mut String) {
        o.push('(');
        dump_hex(o, self.triple.as_bytes());
        let _ = write!(o, ",{},", self.page_size);
        dump_map(o, self.bootstrap_map.iter().map(|(k, v)| (k, v)));
        o.push(',');
        dump_map(o, self.bootstrap_symbols.iter().map(|(k, v)| (k, v)));
        o.push(')');
    }
    fn gen(r: &mut Rng) -> Self {
        fn unique<V>(v: Vec<(String, V)>) -> Vec<(String, V)> {
            let mut seen = std::collections::HashSet::new();
            v.into_iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .collect()
        }
        let triple = gen_string(r);
        let page_size = r.next();
        let bootstrap_map = unique(
            (0..gen_count(r))
                .map(|_| (gen_string(r), gen_bytes(r)))
                .collect(),
        );
        let bootstrap_symbols = unique(
            (0..gen_count(r))
                .map(|_| (gen_string(r), gen_addr(r)))
                .collect(),
        );
        SimpleRemoteEpcExecutorInfo {
            triple,
            page_size,
            bootstrap_map,
            bootstrap_symbols,
        }
    }
}

// --------------------------------------------------------------- catalogue

trait Case {
    fn name(&self) -> &'static str;
    fn has_map(&self) -> bool;
    fn gen(&self, r: &mut Rng) -> (Vec<u8>, String);
    fn decode(&self, bytes: &[u8]) -> Result<(Vec<u8>, String), SpsError>;
}

struct C<T>(&'static str, bool, PhantomData<T>);

impl<T: Diff + SpsSerialize + SpsDeserialize> Case for C<T> {
    fn name(&self) -> &'static str {
        self.0
    }
    fn has_map(&self) -> bool {
        self.1
    }
    fn gen(&self, r: &mut Rng) -> (Vec<u8>, String) {
        let v = T::gen(r);
        (serialize_to_vec(&v), dump_of(&v))
    }
    fn decode(&self, bytes: &[u8]) -> Result<(Vec<u8>, String), SpsError> {
        let v: T = deserialize_all(bytes)?;
        Ok((serialize_to_vec(&v), dump_of(&v)))
    }
}

fn case<T: Diff + SpsSerialize + SpsDeserialize + 'static>(name: &'static str) -> Box<dyn Case> {
    Box::new(C::<T>(name, false, PhantomData))
}

fn map_case<T: Diff + SpsSerialize + SpsDeserialize + 'static>(
    name: &'static str,
) -> Box<dyn Case> {
    Box::new(C::<T>(name, true, PhantomData))
}

type Ints = (u8, i8, u8, i16, u16, i32, u32, i64, u64);
type Big = (
    u64,
    Vec<String>,
    Option<ExecutorAddrRange>,
    SpsExpected<Vec<(String, bool)>>,
    SpsResult,
    bool,
);
type MemWrites = (
    Vec<UIntWrite<u32>>,
    Vec<BufferWrite>,
    PointerWrite,
    UIntWrite<u8>,
    UIntWrite<u16>,
    UIntWrite<u64>,
);

/// Same order as `Catalogue` in sps_diff.cpp.
fn catalogue() -> Vec<Box<dyn Case>> {
    vec![
        case::<bool>("bool"),
        case::<Ints>("Tuple<char,i8..u64>"),
        case::<String>("SPSString"),
        case::<Vec<u8>>("Sequence<char>"),
        case::<Vec<u64>>("Sequence<u64>"),
        case::<Option<String>>("Optional<String>"),
        case::<SpsResult>("SPSError"),
        case::<SpsExpected<ExecutorAddr>>("Expected<ExecutorAddr>"),
        case::<SpsExpected<()>>("Expected<SPSEmpty>"),
        case::<Big>("Tuple<u64,Seq<String>,Opt<Range>,Expected<..>,Error,bool>"),
        map_case::<BTreeMap<String, u32>>("Map<u32>"),
        map_case::<HashMap<String, Vec<u8>>>("Map<Sequence<char>>"),
        case::<SpsExpected<Vec<Option<ExecutorSymbolDef>>>>("LookupResult"),
        case::<FinalizeRequest>("FinalizeRequest"),
        case::<SharedMemoryFinalizeRequest>("SharedMemoryFinalizeRequest"),
        map_case::<SimpleRemoteEpcExecutorInfo>("SimpleRemoteEPCExecutorInfo"),
        case::<(ExecutorAddr, Vec<RemoteSymbolLookupSetElement>)>("lookup args"),
        case::<Vec<Vec<Option<i16>>>>("Seq<Seq<Opt<i16>>>"),
        case::<((), u8, ())>("Tuple<Empty,u8,Empty>"),
        case::<Vec<()>>("Sequence<SPSEmpty>"),
        case::<Vec<ExecutorAddrRange>>("ExecutorAddrRangeSequence"),
        case::<MemWrites>("memory writes"),
        case::<RemoteSymbolLookup>("RemoteSymbolLookup"),
        case::<Vec<(String, ExecutorAddr)>>("Seq<Tuple<String,Addr>>"),
        map_case::<HashMap<String, SpsExpected<u64>>>("Map<Expected<u64>>"),
        case::<Option<Option<bool>>>("Opt<Opt<bool>>"),
        case::<Vec<SpsResult>>("Sequence<SPSError>"),
        case::<(i32,)>("Tuple<i32>"),
        case::<(ExecutorAddr, FinalizeRequest)>("finalize args"),
        case::<Vec<RemoteAllocGroup>>("Sequence<RemoteAllocGroup>"),
        // The executor services' argument lists and results.
        case::<(ExecutorAddr, u64)>("reserve args"),
        case::<SpsExpected<(ExecutorAddr, String)>>("shared memory reserve result"),
        case::<(ExecutorAddr, ExecutorAddr, SharedMemoryFinalizeRequest)>(
            "shared memory initialize args",
        ),
        case::<(ExecutorAddr, Vec<ExecutorAddr>)>("deinitialize/release args"),
        case::<(ExecutorAddr, Vec<Vec<u8>>)>("run_as_main args"),
        case::<(ExecutorAddr, Vec<u8>, u64)>("dylib open args"),
        case::<(Vec<PointerWrite>,)>("write pointers args"),
        case::<(Vec<BufferWrite>,)>("write buffers args"),
        case::<(Vec<ExecutorAddrRange>,)>("read buffers args"),
        case::<Vec<Vec<u8>>>("read buffers result (Sequence<Sequence<uint8_t>>)"),
        case::<Vec<String>>("read strings result"),
        case::<(ExecutorAddr, i32)>("run_as_int args"),
        case::<i64>("run_as_main result"),
        case::<i32>("run_as_int result"),
        case::<(Vec<UIntWrite<u8>>,)>("write uint8s args"),
        case::<(Vec<UIntWrite<u16>>,)>("write uint16s args"),
        case::<(Vec<UIntWrite<u64>>,)>("write uint64s args"),
        case::<(Vec<ExecutorAddr>,)>("read pointers args"),
        case::<Vec<ExecutorAddr>>("read pointers result"),
    ]
}

// ------------------------------------------------------------- edge cases

/// What the C++ side must do with an input record.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// A valid value: decode, same dump, same bytes.
    Valid = 0,
    /// Invalid: both sides reject.
    Invalid = 1,
    /// orc-rt rejects, LLVM accepts (orc-rt is deliberately stricter).
    StricterThanLlvm = 2,
}

struct Record {
    kind: Kind,
    id: u32,
    bytes: Vec<u8>,
}

fn rec<T: SpsSerialize>(id: u32, v: T) -> Record {
    Record {
        kind: Kind::Valid,
        id,
        bytes: serialize_to_vec(&v),
    }
}

fn bad(kind: Kind, id: u32, bytes: Vec<u8>) -> Record {
    Record { kind, id, bytes }
}

fn hand_picked() -> Vec<Record> {
    let addr = ExecutorAddr(0x7f10_7a8f_a000);
    let range = ExecutorAddrRange::new(addr + 0x10, addr + 0x4c);
    let wfc = |a: u64, args: Vec<u8>| WrapperFunctionCall {
        fn_addr: ExecutorAddr(a),
        args,
    };
    let mut v = vec![
        rec(0, true),
        rec(0, false),
        rec(1, (0u8, 0i8, 0u8, 0i16, 0u16, 0i32, 0u32, 0i64, 0u64)),
        rec(
            1,
            (
                255u8,
                i8::MIN,
                u8::MAX,
                i16::MIN,
                u16::MAX,
                i32::MIN,
                u32::MAX,
                i64::MIN,
                u64::MAX,
            ),
        ),
        rec(
            1,
            (
                127u8,
                i8::MAX,
                1u8,
                i16::MAX,
                1u16,
                i32::MAX,
                1u32,
                i64::MAX,
                1u64,
            ),
        ),
        rec(2, String::new()),
        rec(2, "printf".to_string()),
        rec(2, "\0\0".to_string()),
        rec(2, "ünïcødé 漢字 🦀".to_string()),
        rec(2, "x".repeat(100_000)),
        rec(3, Vec::<u8>::new()),
        rec(3, (0..=255u8).collect::<Vec<u8>>()),
        rec(3, vec![0u8; 1 << 20]),
        rec(4, Vec::<u64>::new()),
        rec(
            4,
            (0..1000u64)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .collect::<Vec<_>>(),
        ),
        rec(5, None::<String>),
        rec(5, Some(String::new())),
        rec(6, SpsResult::Ok(())),
        rec(6, SpsResult::Err(String::new())),
        rec(6, SpsResult::Err("controller is going away".into())),
        rec(6, SpsResult::Err("line one\nline two".into())),
        rec(7, SpsExpected::ok(ExecutorAddr(0x7f10_6c00_0b70))),
        rec(
            7,
            SpsExpected::<ExecutorAddr>::err(
                "/nonexistent/libnothing.so: cannot open shared object file",
            ),
        ),
        rec(8, SpsExpected::ok(())),
        rec(8, SpsExpected::<()>::err("")),
        rec(
            9,
            (
                u64::MAX,
                vec![String::new(), "a".into()],
                Some(range),
                SpsExpected::ok(vec![("s".to_string(), true)]),
                SpsResult::Err("e".into()),
                true,
            ),
        ),
        rec(
            9,
            (
                0u64,
                Vec::<String>::new(),
                None::<ExecutorAddrRange>,
                SpsExpected::<Vec<(String, bool)>>::err(""),
                SpsResult::Ok(()),
                false,
            ),
        ),
        rec(10, BTreeMap::<String, u32>::new()),
        rec(
            10,
            [
                ("".to_string(), 0u32),
                ("a".into(), 1),
                ("b".into(), u32::MAX),
            ]
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        ),
        rec(
            11,
            (0..200)
                .map(|i| (format!("key{i}"), vec![i as u8; i % 7]))
                .collect::<BTreeMap<_, _>>(),
        ),
        rec(
            12,
            SpsExpected::ok(vec![
                Some(ExecutorSymbolDef {
                    addr: ExecutorAddr(0x7f10_78e7_05b0),
                    flags: jit_symbol_flags::EXPORTED,
                    target_flags: 0,
                }),
                None,
                Some(ExecutorSymbolDef {
                    addr: ExecutorAddr(0),
                    flags: 0xff,
                    target_flags: 0xff,
                }),
            ]),
        ),
        rec(13, FinalizeRequest::default()),
        rec(
            13,
            FinalizeRequest {
                segments: vec![
                    SegFinalizeRequest {
                        rag: RemoteAllocGroup::new(true, false, false, false),
                        addr,
                        size: 0x1000,
                        content: b"hello, world\n\0".to_vec(),
                    },
                    SegFinalizeRequest {
                        rag: RemoteAllocGroup::new(true, true, true, true),
                        addr: addr + 0x1000,
                        size: 0,
                        content: vec![],
                    },
                ],
                actions: vec![
                    AllocActionCallPair {
                        finalize: wfc(0x5615_271b_fc60, serialize_to_vec(&range)),
                        dealloc: wfc(0x5615_271b_fd20, serialize_to_vec(&range)),
                    },
                    AllocActionCallPair {
                        finalize: wfc(0, vec![]),
                        dealloc: wfc(0, vec![]),
                    },
                ],
            },
        ),
        rec(
            14,
            SharedMemoryFinalizeRequest {
                segments: vec![SharedMemorySegFinalizeRequest {
                    rag: RemoteAllocGroup::new(false, false, true, false),
                    addr,
                    size: u64::MAX,
                }],
                actions: vec![],
            },
        ),
        rec(
            15,
            SimpleRemoteEpcExecutorInfo {
                triple: "x86_64-unknown-linux-gnu".into(),
                page_size: 4096,
                bootstrap_map: vec![("__orc_rt_jit_dispatch_ctx".into(), serialize_to_vec(&addr))],
                bootstrap_symbols: vec![
                    (
                        "__llvm_orc_SimpleExecutorMemoryManager_Instance".into(),
                        addr,
                    ),
                    (
                        "__llvm_orc_bootstrap_mem_write_uint8s_wrapper".into(),
                        addr + 8,
                    ),
                ],
            },
        ),
        rec(15, SimpleRemoteEpcExecutorInfo::default()),
        rec(
            16,
            (
                ExecutorAddr(0x7f10_6c00_0b70),
                vec![
                    RemoteSymbolLookupSetElement {
                        name: "printf".into(),
                        required: false,
                    },
                    RemoteSymbolLookupSetElement {
                        name: String::new(),
                        required: true,
                    },
                ],
            ),
        ),
        rec(
            17,
            vec![Vec::<Option<i16>>::new(), vec![None, Some(i16::MIN)]],
        ),
        rec(18, ((), 0u8, ())),
        rec(19, Vec::<()>::new()),
        rec(19, vec![(); 100_000]),
        rec(20, vec![range, ExecutorAddrRange::default()]),
        rec(
            21,
            (
                vec![UIntWrite {
                    addr,
                    value: u32::MAX,
                }],
                vec![BufferWrite {
                    addr,
                    buffer: b"\0\xff".to_vec(),
                }],
                PointerWrite {
                    addr,
                    value: addr + 8,
                },
                UIntWrite {
                    addr,
                    value: 0xffu8,
                },
                UIntWrite {
                    addr,
                    value: 0xbeefu16,
                },
                UIntWrite {
                    addr,
                    value: u64::MAX,
                },
            ),
        ),
        rec(
            22,
            RemoteSymbolLookup {
                handle: u64::MAX,
                symbols: vec![],
            },
        ),
        rec(
            23,
            vec![("dup".to_string(), addr), ("dup".to_string(), addr)],
        ),
        rec(
            24,
            [
                ("ok".to_string(), SpsExpected::ok(7u64)),
                ("err".into(), SpsExpected::err("no")),
            ]
            .into_iter()
            .collect::<HashMap<_, _>>(),
        ),
        rec(25, None::<Option<bool>>),
        rec(25, Some(None::<bool>)),
        rec(25, Some(Some(true))),
        rec(26, vec![SpsResult::Ok(()), SpsResult::Err("x".into())]),
        rec(27, (i32::MIN,)),
        rec(27, (-5i32,)),
        rec(
            29,
            (0..16u8)
                .map(|b| RemoteAllocGroup::from_bits(b).expect("bits"))
                .collect::<Vec<_>>(),
        ),
    ];

    // Service calls as LLVM 22 sessions send them (docs/protocol.md).
    v.push(rec(30, (ExecutorAddr(0x5615_2cc0_ec20), 4096u64)));
    v.push(rec(33, (ExecutorAddr(0x5615_2cc0_ec20), vec![addr])));
    v.push(rec(
        34,
        (
            ExecutorAddr(0x7f8c_a1a4_e000),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
        ),
    ));
    v.push(rec(
        35,
        (addr, b"/nonexistent/libnothing.so".to_vec(), 0u64),
    ));
    v.push(rec(41, (addr, -5i32)));
    v.push(rec(42, 3i64));
    v.push(rec(43, i32::MIN));
    v.push(rec(
        31,
        SpsExpected::ok((addr, "/orc-shm-1234".to_string())),
    ));
    v.push(rec(39, vec![Vec::<u8>::new(), vec![0xff; 3]]));

    // Invalid for both: duplicate map keys.
    let dup_map = vec![("k".to_string(), 1u32), ("k".to_string(), 2u32)];
    v.push(bad(Kind::Invalid, 10, serialize_to_vec(&dup_map)));
    let dup_info = (
        "t".to_string(),
        4096u64,
        Vec::<(String, Vec<u8>)>::new(),
        vec![("s".to_string(), addr), ("s".to_string(), addr)],
    );
    v.push(bad(Kind::Invalid, 15, serialize_to_vec(&dup_info)));
    let dup_bootstrap = (
        "t".to_string(),
        4096u64,
        vec![("m".to_string(), vec![1u8]), ("m".to_string(), vec![])],
        Vec::<(String, ExecutorAddr)>::new(),
    );
    v.push(bad(Kind::Invalid, 15, serialize_to_vec(&dup_bootstrap)));
    // Invalid for both: counts larger than the input (moderate, since LLVM
    // reserves before it checks).
    let mut b = 100u64.to_le_bytes().to_vec();
    b.extend([0u8; 16]);
    v.push(bad(Kind::Invalid, 4, b.clone()));
    v.push(bad(Kind::Invalid, 3, b.clone()));
    v.push(bad(Kind::Invalid, 2, b));
    v.push(bad(Kind::Invalid, 6, vec![1, 9, 0, 0, 0, 0, 0, 0, 0, b'x']));
    v.push(bad(Kind::Invalid, 27, vec![1, 2, 3]));
    v.push(bad(Kind::Invalid, 0, vec![]));
    // orc-rt is stricter than LLVM here (documented in src/sps):
    // unknown RemoteAllocGroup bits, trailing bytes, invalid UTF-8 strings.
    v.push(bad(
        Kind::StricterThanLlvm,
        29,
        vec![1, 0, 0, 0, 0, 0, 0, 0, 0x10],
    ));
    v.push(bad(Kind::StricterThanLlvm, 27, vec![1, 2, 3, 4, 5]));
    v.push(bad(
        Kind::StricterThanLlvm,
        2,
        vec![2, 0, 0, 0, 0, 0, 0, 0, 0xc3, 0x28],
    ));
    v
}

// -------------------------------------------------------------- harness

fn llvm_config() -> Option<String> {
    let cfg = std::env::var("LLVM_CONFIG").unwrap_or_else(|_| "llvm-config-22".into());
    let ok = Command::new(&cfg)
        .arg("--version")
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).starts_with("22."))
        .unwrap_or(false);
    ok.then_some(cfg)
}

fn run_cfg(cfg: &str, args: &[&str]) -> Vec<String> {
    let out = Command::new(cfg)
        .args(args)
        .output()
        .expect("llvm-config runs");
    assert!(out.status.success(), "llvm-config {args:?} failed");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Compiles sps_diff.cpp (when it is newer than the binary) and returns the
/// binary's path.
fn build_cpp(cfg: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sps_diff/sps_diff.cpp");
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sps_diff");
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(s), Some(e)) = (mtime(&src), mtime(&exe)) {
        if e > s {
            return exe;
        }
    }
    let bindir = run_cfg(cfg, &["--bindir"]).join("");
    // $CXX, then LLVM 22's own clang++, then whatever C++ compiler exists.
    let candidates = std::env::var("CXX").into_iter().chain([
        Path::new(&bindir).join("clang++").display().to_string(),
        "clang++-22".into(),
        "clang++".into(),
        "g++".into(),
        "c++".into(),
    ]);
    let works = |c: &String| {
        Command::new(c)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    let cxx = candidates
        .into_iter()
        .find(works)
        .expect("no C++ compiler found (set CXX)");
    let libdir = run_cfg(cfg, &["--libdir"]).join("");
    let mut cmd = Command::new(&cxx);
    cmd.args(["-O1", "-g0", "-o"])
        .arg(&exe)
        .args(run_cfg(cfg, &["--cxxflags"]))
        .arg(&src)
        .args(run_cfg(
            cfg,
            &["--ldflags", "--libs", "orcshared", "support"],
        ))
        .args(run_cfg(cfg, &["--system-libs"]))
        .arg(format!("-Wl,-rpath,{libdir}"));
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cxx}: {e}"));
    assert!(
        out.status.success(),
        "compiling sps_diff.cpp failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(self.0.len() >= n, "truncated sps_diff output");
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().expect("4 bytes"))
    }
    fn blob(&mut self) -> &'a [u8] {
        let n = u64::from_le_bytes(self.take(8).try_into().expect("8 bytes"));
        self.take(n as usize)
    }
}

fn run(exe: &Path, args: &[&str]) {
    let out = Command::new(exe)
        .args(args)
        .output()
        .expect("sps_diff runs");
    assert!(
        out.status.success(),
        "sps_diff {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const RANDOM_PER_TYPE: usize = 200;
const SEED: u64 = 0x5eed_0f0c;

#[test]
fn sps_matches_llvm_22() {
    let Some(cfg) = llvm_config() else {
        let allowed = std::env::var_os("ORC_RT_ALLOW_NO_LLVM").is_some_and(|v| v == "1");
        assert!(
            allowed,
            "llvm-config-22 (LLVM 22) not found: install LLVM 22 (scripts/deps.sh), \
             point LLVM_CONFIG at its llvm-config, or set ORC_RT_ALLOW_NO_LLVM=1 to skip"
        );
        eprintln!("SKIP sps_matches_llvm_22: LLVM 22 not found and ORC_RT_ALLOW_NO_LLVM=1");
        return;
    };
    let exe = build_cpp(&cfg);
    let cases = catalogue();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));

    // ---- Rust -> LLVM
    let mut records = hand_picked();
    let n_hand = records.len();
    let mut rng = Rng(SEED);
    let mut expected_dumps = Vec::new();
    for (id, c) in cases.iter().enumerate() {
        for _ in 0..RANDOM_PER_TYPE {
            let (bytes, _) = c.gen(&mut rng);
            records.push(Record {
                kind: Kind::Valid,
                id: id as u32,
                bytes,
            });
        }
    }
    let mut corpus = Vec::new();
    for r in &records {
        let c = &cases[r.id as usize];
        match r.kind {
            Kind::Valid => {
                let (re, dump) = c
                    .decode(&r.bytes)
                    .unwrap_or_else(|e| panic!("{}: own encoding does not decode: {e}", c.name()));
                if !c.has_map() {
                    assert_eq!(re, r.bytes, "{}: re-encoding differs", c.name());
                }
                expected_dumps.push(Some(dump));
            }
            _ => {
                assert!(
                    c.decode(&r.bytes).is_err(),
                    "{}: orc-rt accepted invalid record {:02x?}",
                    c.name(),
                    r.bytes
                );
                expected_dumps.push(None);
            }
        }
        corpus.push(r.kind as u8);
        corpus.extend(r.id.to_le_bytes());
        corpus.extend((r.bytes.len() as u64).to_le_bytes());
        corpus.extend(&r.bytes);
    }
    let cin = dir.join("sps_rust_corpus.bin");
    let cout = dir.join("sps_llvm_roundtrip.bin");
    std::fs::write(&cin, &corpus).expect("write corpus");
    run(
        &exe,
        &[
            "roundtrip",
            cin.to_str().expect("utf8 path"),
            cout.to_str().expect("utf8 path"),
        ],
    );
    let out = std::fs::read(&cout).expect("read roundtrip output");
    let mut cur = Cursor(&out);
    let mut stricter = 0;
    for (r, want) in records.iter().zip(&expected_dumps) {
        let c = &cases[r.id as usize];
        assert_eq!(cur.u32(), r.id);
        let status = cur.u8();
        let prefixes_accepted = cur.u32();
        let bytes = cur.blob();
        let dump = String::from_utf8(cur.blob().to_vec()).expect("utf8 dump");
        match r.kind {
            Kind::Valid => {
                assert_eq!(status, 0, "{}: LLVM rejected {:02x?}", c.name(), r.bytes);
                assert_eq!(
                    prefixes_accepted,
                    0,
                    "{}: LLVM accepted a strict prefix",
                    c.name()
                );
                assert_eq!(
                    Some(&dump),
                    want.as_ref(),
                    "{}: LLVM decoded another value",
                    c.name()
                );
                if c.has_map() {
                    assert_eq!(bytes.len(), r.bytes.len(), "{}: size differs", c.name());
                    let (_, d2) = c.decode(bytes).expect("LLVM re-encoding decodes");
                    assert_eq!(Some(&d2), want.as_ref());
                } else {
                    assert_eq!(
                        bytes,
                        &r.bytes[..],
                        "{}: LLVM re-encoding differs",
                        c.name()
                    );
                }
            }
            Kind::Invalid => {
                assert_eq!(
                    status,
                    1,
                    "{}: LLVM accepted invalid {:02x?}",
                    c.name(),
                    r.bytes
                )
            }
            Kind::StricterThanLlvm => {
                assert_ne!(
                    status,
                    1,
                    "{}: LLVM now rejects {:02x?}; update the docs",
                    c.name(),
                    r.bytes
                );
                stricter += 1;
            }
        }
    }
    assert!(cur.0.is_empty(), "extra sps_diff output");

    // ---- LLVM -> Rust
    let gout = dir.join("sps_llvm_generated.bin");
    let per_type = RANDOM_PER_TYPE.to_string();
    run(
        &exe,
        &[
            "generate",
            "42",
            &per_type,
            gout.to_str().expect("utf8 path"),
        ],
    );
    let gen = std::fs::read(&gout).expect("read generated");
    let mut cur = Cursor(&gen);
    let mut n_llvm = 0;
    let mut llvm_bytes = 0;
    while !cur.0.is_empty() {
        let id = cur.u32() as usize;
        let bytes = cur.blob();
        let dump = String::from_utf8(cur.blob().to_vec()).expect("utf8 dump");
        let c = &cases[id];
        let (re, ours) = c
            .decode(bytes)
            .unwrap_or_else(|e| panic!("{}: cannot decode LLVM bytes {bytes:02x?}: {e}", c.name()));
        assert_eq!(ours, dump, "{}: decoded another value", c.name());
        if c.has_map() {
            assert_eq!(re.len(), bytes.len());
            assert_eq!(c.decode(&re).expect("re-decode").1, dump);
        } else {
            assert_eq!(re, bytes, "{}: re-encoding differs", c.name());
        }
        n_llvm += 1;
        llvm_bytes += bytes.len();
    }
    assert_eq!(n_llvm, cases.len() * RANDOM_PER_TYPE);

    let rust_bytes: usize = records.iter().map(|r| r.bytes.len()).sum();
    println!(
        "SPS differential corpus: {} types; Rust->LLVM {} records ({} hand-picked, {} random, {} bytes, {} where orc-rt is stricter); LLVM->Rust {} random records ({} bytes)",
        cases.len(),
        records.len(),
        n_hand,
        records.len() - n_hand,
        rust_bytes,
        stricter,
        n_llvm,
        llvm_bytes
    );
}
