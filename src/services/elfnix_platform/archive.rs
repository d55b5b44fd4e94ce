//! Where the platform archive is: the static library of stubs the
//! controller JIT-links into its platform JITDylib.

use std::path::PathBuf;

/// File name of the platform archive for the target this crate is built
/// for: `liborc_rt_elfnix-x86_64.a` or `liborc_rt_elfnix-aarch64.a`
/// (`liborc_rt_elfnix-<arch>.a`, named by the build script; other
/// architectures have no archive, so [`archive_path`] finds none).
pub const ARCHIVE_NAME: &str = env!("ORC_RT_PLATFORM_ARCHIVE_NAME");

/// The absolute path of the platform archive that matches this build, if
/// it can be found: installed as `<prefix>/lib/orc-rt/<name>` beside
/// `<prefix>/bin/<exe>`, next to the executable, or where the build wrote it.
pub fn archive_path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let mut candidates = vec![
        dir.join("..").join("lib").join("orc-rt").join(ARCHIVE_NAME),
        dir.join(ARCHIVE_NAME),
    ];
    if let Some(built) = option_env!("ORC_RT_PLATFORM_ARCHIVE_BUILT") {
        candidates.push(PathBuf::from(built));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
}
