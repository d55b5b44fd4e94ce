//! Build script of the C library: sets the shared library's SONAME and
//! generates the C header from the `orc-rt` crate's `ffi` module with
//! cbindgen.
//!
//! The header is written to `OUT_DIR/orc-rt.h` only; this build never writes
//! into the source tree. `scripts/gen-header.sh` copies it to
//! `include/orc-rt.h` (the committed copy), and `scripts/gen-header.sh
//! --check`, a step of the test command, fails when the committed copy is
//! stale.

use std::env;
use std::path::PathBuf;

fn main() {
    let capi_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let core_dir = capi_dir.parent().expect("capi/ has a parent").to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));

    // liborc_rt.so carries a versioned SONAME so hosts link against the ABI
    // major version, not the development symlink.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liborc_rt.so.0");
    // dlclose never unloads liborc_rt.so: its handle tables must outlive
    // every handle a host may still hold, so that a handle kept across a
    // dlclose/dlopen cycle is refused instead of naming a new object, and so
    // that the tables' storage is never orphaned.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed={}", core_dir.join("src").display());
    println!(
        "cargo:rerun-if-changed={}",
        core_dir.join("Cargo.toml").display()
    );

    let mut config = cbindgen::Config::from_file(capi_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml must parse");
    // The header's version macros come from the package version, like
    // orc_rt_getVersion, so the two always agree.
    let pkg = |k: &str| env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
    let version_macros = format!(
        "/* Version of this header; orc_rt_getVersion gives the loaded library's. */\n\
         #define ORC_RT_VERSION_MAJOR {}\n\
         #define ORC_RT_VERSION_MINOR {}\n\
         #define ORC_RT_VERSION_PATCH {}\n\
         #define ORC_RT_VERSION_STRING \"{}\"\n",
        pkg("CARGO_PKG_VERSION_MAJOR"),
        pkg("CARGO_PKG_VERSION_MINOR"),
        pkg("CARGO_PKG_VERSION_PATCH"),
        pkg("CARGO_PKG_VERSION"),
    );
    config.after_includes = Some(config.after_includes.unwrap_or_default() + &version_macros);
    let generated = out_dir.join("orc-rt.h");
    // A header that cannot be generated fails the build: a stale header must
    // never pass for a fresh one.
    let bindings = cbindgen::Builder::new()
        .with_crate(&core_dir)
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen could not generate orc-rt.h: {e}"));
    bindings.write_to_file(&generated);
}
