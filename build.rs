//! Build script of the `orc-rt` crate: with the `platform-archive` feature
//! (which the executor binary turns on), compiles orc-rt's ELF platform
//! archive from its C and assembly stubs. Without it, it does nothing, so a
//! Rust project that depends on the crate needs no C compiler.
//!
//! The C library's header and link settings belong to the C library's own
//! build (`capi/build.rs`).

#[cfg(feature = "platform-archive")]
use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "platform-archive")]
    build_platform_archive();
}

/// Builds the ELF platform archive (`liborc_rt_elfnix-x86_64.a`, see
/// `src/services/elfnix_platform/`) from its C and assembly stubs, for x86-64
/// Linux targets. The executor finds it through the path in
/// `ORC_RT_PLATFORM_ARCHIVE_BUILT` (or installed under `lib/orc-rt/`). The
/// archive is written only below `OUT_DIR`.
#[cfg(feature = "platform-archive")]
fn build_platform_archive() {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
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
}
