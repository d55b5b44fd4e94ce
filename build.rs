//! Generates `include/orc-rt.h` from the Rust sources with cbindgen and sets
//! the shared library's SONAME.
//!
//! The header is written to `OUT_DIR` and copied to `include/` only when its
//! contents changed, so an unchanged header keeps its timestamp. CI checks the
//! committed copy with `git diff --exit-code include/orc-rt.h`.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));

    // liborc_rt.so carries a versioned SONAME so hosts link against the ABI
    // major version, not the development symlink.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liborc_rt.so.0");
    // dlclose never unloads liborc_rt.so: its handle tables (src/handle.rs)
    // must outlive every handle a host may still hold, so that a handle kept
    // across a dlclose/dlopen cycle is refused instead of naming a new
    // object, and so that the tables' storage is never orphaned.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");

    // The executor binary defines the GDB JIT interface symbols (see
    // src/services/gdb_jit.rs); debuggers find them only in the dynamic symbol table.
    for sym in ["__jit_debug_descriptor", "__jit_debug_register_code"] {
        println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol={sym}");
    }

    build_platform_archive(&out_dir);

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=Cargo.toml");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml must parse");
    // The header's version macros come from the package version, like
    // orc_rt_getVersion (src/ffi/version.rs), so the two always agree.
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
    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(&generated);
        }
        Err(e) => {
            // A parse error in a half-written file must not hide the real
            // compiler error, so report it and keep the committed header.
            println!("cargo:warning=cbindgen failed, include/orc-rt.h not updated: {e}");
            return;
        }
    }
    let new = fs::read(&generated).expect("read generated header");
    let target = crate_dir.join("include").join("orc-rt.h");
    if fs::read(&target).ok().as_deref() != Some(&new[..]) {
        fs::create_dir_all(target.parent().unwrap()).expect("create include/");
        fs::write(&target, &new).expect("write include/orc-rt.h");
    }
}

/// Builds the ELF platform archive (`liborc_rt_elfnix-x86_64.a`, see
/// `src/services/elfnix_platform/`) from its C and assembly stubs, for x86-64
/// Linux targets. The executor finds it through the path in
/// `ORC_RT_PLATFORM_ARCHIVE_BUILT` (or installed under `lib/orc-rt/`); a copy
/// is put next to the binaries of the profile.
fn build_platform_archive(out_dir: &std::path::Path) {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if arch != "x86_64" || os != "linux" {
        return;
    }
    let dir = PathBuf::from("src/services/elfnix_platform/archive");
    let sources = ["elfnix_stubs.c", "elfnix_tls.S", "elfnix_reenter.S"];
    let mut build = cc::Build::new();
    build
        .cargo_metadata(false)
        .pic(true)
        .opt_level(2)
        .debug(false)
        .warnings(true)
        .flag_if_supported("-fno-stack-protector")
        .flag_if_supported("-fcf-protection=none")
        .flag_if_supported("-fno-asynchronous-unwind-tables")
        .out_dir(out_dir.join("elfnix"));
    for s in sources {
        build.file(dir.join(s));
        println!("cargo:rerun-if-changed={}", dir.join(s).display());
    }
    build.compile("orc_rt_elfnix-x86_64");
    let archive = out_dir.join("elfnix").join("liborc_rt_elfnix-x86_64.a");
    println!(
        "cargo:rustc-env=ORC_RT_PLATFORM_ARCHIVE_BUILT={}",
        archive.display()
    );
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    if let Some(profile_dir) = out_dir.ancestors().nth(3) {
        let _ = fs::copy(&archive, profile_dir.join("liborc_rt_elfnix-x86_64.a"));
    }
}
