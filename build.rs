//! Build script of the `orc-rt` crate. It names the ELF platform archive
//! for the target (`ORC_RT_PLATFORM_ARCHIVE_NAME`, read by
//! `services::elfnix_platform::ARCHIVE_NAME`) and, with the
//! `platform-archive` feature (which the executor binary turns on),
//! compiles the archive from its C and assembly stubs. Without the feature
//! it compiles nothing, so a Rust project that depends on the crate needs no
//! C compiler.
//!
//! The C library's header and link settings belong to the C library's own
//! build (`capi/build.rs`).

use std::env;
#[cfg(feature = "platform-archive")]
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    println!("cargo:rustc-env=ORC_RT_PLATFORM_ARCHIVE_NAME=liborc_rt_elfnix-{arch}.a");
    #[cfg(feature = "platform-archive")]
    build_platform_archive(&arch);
}

/// The archive's sources in `src/services/elfnix_platform/archive/` for a
/// Linux target of `arch`: the portable C stubs, then the thread-local
/// entry point and the lazy re-entry stub written for that architecture.
/// `None` where orc-rt has no platform archive.
#[cfg(feature = "platform-archive")]
fn archive_sources(arch: &str) -> Option<[&'static str; 3]> {
    match arch {
        "x86_64" => Some([
            "elfnix_stubs.c",
            "elfnix_tls.x86-64.S",
            "elfnix_reenter.x86-64.S",
        ]),
        "aarch64" => Some([
            "elfnix_stubs.c",
            "elfnix_tls.aarch64.S",
            "elfnix_reenter.aarch64.S",
        ]),
        _ => None,
    }
}

/// Builds the ELF platform archive (`liborc_rt_elfnix-<arch>.a`, see
/// `src/services/elfnix_platform/`) for x86-64 and AArch64 Linux targets.
/// The executor finds it through the path in `ORC_RT_PLATFORM_ARCHIVE_BUILT`
/// (or installed under `lib/orc-rt/`). The archive is written only below
/// `OUT_DIR`.
#[cfg(feature = "platform-archive")]
fn build_platform_archive(arch: &str) {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let Some(sources) = archive_sources(arch).filter(|_| os == "linux") else {
        return;
    };
    let dir = PathBuf::from("src/services/elfnix_platform/archive");
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
    }
    // Sources and what they include (the AArch64 register macros).
    println!("cargo:rerun-if-changed={}", dir.display());
    let lib = format!("orc_rt_elfnix-{arch}");
    build.compile(&lib);
    let archive = out_dir.join("elfnix").join(format!("lib{lib}.a"));
    println!(
        "cargo:rustc-env=ORC_RT_PLATFORM_ARCHIVE_BUILT={}",
        archive.display()
    );
}
