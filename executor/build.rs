//! Build script of `orc-rt-executor`: exports the GDB JIT interface symbols
//! the binary defines (`orc_rt::gdb_jit_interface!`), because debuggers look
//! for them in the dynamic symbol table only.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for sym in ["__jit_debug_descriptor", "__jit_debug_register_code"] {
        println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol={sym}");
    }
}
