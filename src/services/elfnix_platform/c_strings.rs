//! C strings to and from JIT'd code: its `dlopen` paths and program
//! arguments, read from its memory, and messages for its `dlerror`.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use crate::sys::mem;

/// Converts C strings from JIT'd code.
pub fn c_str_arg(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    mem::read_c_string(p as u64)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The argument vector of `run_program` called from JIT'd code.
pub fn c_args(argc: c_int, argv: *const *const c_char) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    if argv.is_null() {
        return v;
    }
    for i in 0..argc.max(0) as usize {
        let mut p = [0u8; 8];
        if mem::read(argv as u64 + 8 * i as u64, &mut p).is_err() {
            break;
        }
        let s = u64::from_le_bytes(p);
        if s == 0 {
            break;
        }
        match mem::read_c_string(s) {
            Ok(b) => v.push(b),
            Err(_) => break,
        }
    }
    v
}

/// A C string for `dlerror`.
pub fn to_c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}
